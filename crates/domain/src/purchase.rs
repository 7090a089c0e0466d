//! A food purchase (invoice line) as the national platform "ma cantine" stores it.
//!
//! Origin, short chain and local are not separate fields on the platform: they are codes in
//! `caracteristiques` beside the EGalim labels (FRANCE / EUROPE, CIRCUIT_COURT, LOCAL). We keep
//! that representation so a purchase round-trips the national CSV exactly; accessors give the
//! separate views.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::number::format_fr_date;
use crate::record::RecordMeta;
use crate::validation::Validation;

/// Product family (`famille_produits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    ViandesVolailles,
    Charcuterie,
    ProduitsDeLaMer,
    FruitsEtLegumes,
    ProduitsLaitiers,
    Boulangerie,
    Boissons,
    Autres,
}
crate::code_enum!(Family { ViandesVolailles => "VIANDES_VOLAILLES", Charcuterie => "CHARCUTERIE", ProduitsDeLaMer => "PRODUITS_DE_LA_MER", FruitsEtLegumes => "FRUITS_ET_LEGUMES", ProduitsLaitiers => "PRODUITS_LAITIERS", Boulangerie => "BOULANGERIE", Boissons => "BOISSONS", Autres => "AUTRES" });

impl Family {
    /// In the national detailed-table order (`Diagnostic.APPRO_FAMILIES`).
    pub const ALL: [Family; 8] = [
        Family::ViandesVolailles,
        Family::ProduitsDeLaMer,
        Family::FruitsEtLegumes,
        Family::Charcuterie,
        Family::ProduitsLaitiers,
        Family::Boulangerie,
        Family::Boissons,
        Family::Autres,
    ];


    /// Lower-case code used in the `valeur_<famille>_<label>` names.
    pub fn key(self) -> &'static str {
        match self {
            Family::ViandesVolailles => "viandes_volailles",
            Family::Charcuterie => "charcuterie",
            Family::ProduitsDeLaMer => "produits_de_la_mer",
            Family::FruitsEtLegumes => "fruits_et_legumes",
            Family::ProduitsLaitiers => "produits_laitiers",
            Family::Boulangerie => "boulangerie",
            Family::Boissons => "boissons",
            Family::Autres => "autres",
        }
    }


    /// French label shown to users (the platform's).
    pub fn label_fr(self) -> &'static str {
        match self {
            Family::ViandesVolailles => "Viandes et volailles fraîches et surgelées",
            Family::Charcuterie => "Charcuterie",
            Family::ProduitsDeLaMer => "Poissons, produits de la mer et de l'aquaculture",
            Family::FruitsEtLegumes => "Fruits et légumes frais et surgelés",
            Family::ProduitsLaitiers => "BOF (Produits laitiers, beurre et œufs)",
            Family::Boulangerie => "Boulangerie/Pâtisserie fraîches et surgelées",
            Family::Boissons => "Boissons",
            Family::Autres => "Autres produits frais, surgelés et d'épicerie",
        }
    }

    /// Accepted codes, for error messages.
    pub fn codes_list() -> String {
        Family::ALL.iter().map(|f| f.code()).collect::<Vec<_>>().join(", ")
    }
}

/// A code of `caracteristiques`: EGalim labels, origin, short chain, local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Characteristic {
    Bio,
    LabelRouge,
    Aocaop,
    Igp,
    Stg,
    Hve,
    PecheDurable,
    Rup,
    CommerceEquitable,
    Fermier,
    Externalites,
    Performance,
    France,
    Europe,
    CircuitCourt,
    Local,
}
crate::code_enum!(Characteristic { Bio => "BIO", LabelRouge => "LABEL_ROUGE", Aocaop => "AOCAOP", Igp => "IGP", Stg => "STG", Hve => "HVE", PecheDurable => "PECHE_DURABLE", Rup => "RUP", CommerceEquitable => "COMMERCE_EQUITABLE", Fermier => "FERMIER", Externalites => "EXTERNALITES", Performance => "PERFORMANCE", France => "FRANCE", Europe => "EUROPE", CircuitCourt => "CIRCUIT_COURT", Local => "LOCAL" });

/// The EGalim group a purchase counts in (first that applies, no double counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EgalimGroup {
    Bio,
    Siqo,
    EgalimAutres,
    ExternalitesPerformance,
}
crate::code_enum!(EgalimGroup { Bio => "bio", Siqo => "siqo", EgalimAutres => "egalim_autres", ExternalitesPerformance => "externalites_performance" });

impl Characteristic {
    pub const ALL: [Characteristic; 16] = [
        Characteristic::Bio,
        Characteristic::LabelRouge,
        Characteristic::Aocaop,
        Characteristic::Igp,
        Characteristic::Stg,
        Characteristic::Hve,
        Characteristic::PecheDurable,
        Characteristic::Rup,
        Characteristic::CommerceEquitable,
        Characteristic::Fermier,
        Characteristic::Externalites,
        Characteristic::Performance,
        Characteristic::France,
        Characteristic::Europe,
        Characteristic::CircuitCourt,
        Characteristic::Local,
    ];

    /// The 12 codes allowed in the CSV column `categories_egalim`.
    pub const EGALIM: [Characteristic; 12] = [
        Characteristic::Bio,
        Characteristic::LabelRouge,
        Characteristic::Aocaop,
        Characteristic::Igp,
        Characteristic::Stg,
        Characteristic::Hve,
        Characteristic::PecheDurable,
        Characteristic::Rup,
        Characteristic::CommerceEquitable,
        Characteristic::Fermier,
        Characteristic::Externalites,
        Characteristic::Performance,
    ];



    pub fn label_fr(self) -> &'static str {
        match self {
            Characteristic::Bio => "Bio",
            Characteristic::LabelRouge => "Label rouge",
            Characteristic::Aocaop => "AOC / AOP",
            Characteristic::Igp => "Indication géographique protégée",
            Characteristic::Stg => "Spécialité traditionnelle garantie",
            Characteristic::Hve => "Haute valeur environnementale",
            Characteristic::PecheDurable => "Pêche durable",
            Characteristic::Rup => "Région ultrapériphérique",
            Characteristic::CommerceEquitable => "Commerce équitable",
            Characteristic::Fermier => "Fermier",
            Characteristic::Externalites => "Externalités environnementales",
            Characteristic::Performance => "Performance environnementale",
            Characteristic::France => "Origine France",
            Characteristic::Europe => "Origine Europe (hors France)",
            Characteristic::CircuitCourt => "Circuit court",
            Characteristic::Local => "Produit local",
        }
    }

    /// The EGalim group of this label alone; `None` for origin, short chain and local.
    pub fn group(self) -> Option<EgalimGroup> {
        use Characteristic::*;
        match self {
            Bio => Some(EgalimGroup::Bio),
            LabelRouge | Aocaop | Igp | Stg => Some(EgalimGroup::Siqo),
            Hve | PecheDurable | Rup | CommerceEquitable | Fermier => Some(EgalimGroup::EgalimAutres),
            Externalites | Performance => Some(EgalimGroup::ExternalitesPerformance),
            France | Europe | CircuitCourt | Local => None,
        }
    }

    pub fn is_egalim(self) -> bool {
        self.group().is_some()
    }

    /// This code's bit in a [`CharacteristicSet`].
    pub fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of characteristics as one bit per code (bit i = `Characteristic::ALL[i]`): what a
/// purchase's totals depend on, small enough to key the dashboard's aggregates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CharacteristicSet(pub u16);

impl CharacteristicSet {
    pub fn of(characteristics: &[Characteristic]) -> Self {
        CharacteristicSet(characteristics.iter().fold(0, |m, &c| m | c.bit()))
    }

    pub fn contains(self, c: Characteristic) -> bool {
        self.0 & c.bit() != 0
    }

    /// Whether any code of `other` is in this set.
    pub fn intersects(self, other: CharacteristicSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The codes in `Characteristic::ALL` order.
    pub fn iter(self) -> impl Iterator<Item = Characteristic> {
        Characteristic::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// The codes of one EGalim group.
    pub const fn group_mask(group: EgalimGroup) -> u16 {
        use Characteristic as C;
        match group {
            EgalimGroup::Bio => 1 << C::Bio as u16,
            EgalimGroup::Siqo => 1 << C::LabelRouge as u16 | 1 << C::Aocaop as u16 | 1 << C::Igp as u16 | 1 << C::Stg as u16,
            EgalimGroup::EgalimAutres => {
                1 << C::Hve as u16
                    | 1 << C::PecheDurable as u16
                    | 1 << C::Rup as u16
                    | 1 << C::CommerceEquitable as u16
                    | 1 << C::Fermier as u16
            }
            EgalimGroup::ExternalitesPerformance => 1 << C::Externalites as u16 | 1 << C::Performance as u16,
        }
    }

    /// The one EGalim group these codes count in: BIO > SIQO > other EGalim > externalités/performance.
    pub fn egalim_group(self) -> Option<EgalimGroup> {
        // Bit tests: the yearly totals ask this for every purchase line.
        [EgalimGroup::Bio, EgalimGroup::Siqo, EgalimGroup::EgalimAutres, EgalimGroup::ExternalitesPerformance]
            .into_iter()
            .find(|&g| self.0 & Self::group_mask(g) != 0)
    }
}

/// Origin (`origine`): one value at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    France,
    Europe,
}
crate::code_enum!(Origin { France => "FRANCE", Europe => "EUROPE" });

/// How "local" is defined for a local purchase (`definition_local`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalDefinition {
    Pat,
    Commune,
    Departement,
    Region,
    Km,
}
crate::code_enum!(LocalDefinition { Pat => "PAT", Commune => "COMMUNE", Departement => "DEPARTEMENT", Region => "REGION", Km => "KM" });

impl LocalDefinition {
    pub const ALL: [LocalDefinition; 5] =
        [LocalDefinition::Pat, LocalDefinition::Commune, LocalDefinition::Departement, LocalDefinition::Region, LocalDefinition::Km];


}

/// One purchase line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub meta: RecordMeta,
    /// SIRET of the site (canteen) that bought it.
    pub siret: String,
    pub description: String,
    #[serde(rename = "fournisseur")]
    pub supplier: String,
    #[serde(with = "crate::time::date")]
    pub date: NaiveDate,
    /// Price excluding VAT in cents (the national `prix_ht` in euros × 100).
    #[serde(rename = "prix_ht_cents")]
    pub price_cents: i64,
    #[serde(rename = "famille_produits")]
    pub family: Family,
    /// National storage order: EGalim labels, then origin, CIRCUIT_COURT, LOCAL.
    #[serde(rename = "caracteristiques")]
    pub characteristics: Vec<Characteristic>,
    #[serde(rename = "definition_local", default)]
    pub local_definition: Option<LocalDefinition>,
    #[serde(rename = "definition_local_km", default)]
    pub local_km: Option<u32>,
}

impl Purchase {
    pub fn has(&self, c: Characteristic) -> bool {
        self.characteristics.contains(&c)
    }

    /// The EGalim labels only (the CSV column `categories_egalim`), in stored order.
    pub fn egalim_labels(&self) -> impl Iterator<Item = Characteristic> + '_ {
        self.characteristics.iter().copied().filter(|c| c.is_egalim())
    }

    /// FRANCE or EUROPE (the platform takes the first in that order if both were stored).
    pub fn origin(&self) -> Option<Origin> {
        if self.has(Characteristic::Europe) {
            Some(Origin::Europe)
        } else if self.has(Characteristic::France) {
            Some(Origin::France)
        } else {
            None
        }
    }

    pub fn is_short_chain(&self) -> bool {
        self.has(Characteristic::CircuitCourt)
    }

    pub fn is_local(&self) -> bool {
        self.has(Characteristic::Local)
    }

    /// The one EGalim group this purchase counts in: BIO > SIQO > other EGalim > externalités/performance.
    pub fn egalim_group(&self) -> Option<EgalimGroup> {
        self.characteristic_set().egalim_group()
    }

    pub fn characteristic_set(&self) -> CharacteristicSet {
        CharacteristicSet::of(&self.characteristics)
    }

    /// Rules of the national model; `today` is the user's date (dates after it are refused).
    pub fn validate(&self, today: NaiveDate) -> Validation {
        self.fields().validate(today)
    }

    /// The purchase's fields, borrowed.
    pub fn fields(&self) -> PurchaseFields<'_> {
        PurchaseFields {
            siret: &self.siret,
            description: &self.description,
            supplier: &self.supplier,
            date: self.date,
            price_cents: self.price_cents,
            family: self.family,
            characteristics: &self.characteristics,
            local_definition: self.local_definition,
            local_km: self.local_km,
        }
    }
}

/// A purchase's fields without its record metadata, borrowed: an import row checked and
/// counted without allocating, and the one place the national model's rules live (a
/// [`Purchase`] is validated and counted through it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseFields<'a> {
    pub siret: &'a str,
    pub description: &'a str,
    pub supplier: &'a str,
    pub date: NaiveDate,
    pub price_cents: i64,
    pub family: Family,
    pub characteristics: &'a [Characteristic],
    pub local_definition: Option<LocalDefinition>,
    pub local_km: Option<u32>,
}

impl PurchaseFields<'_> {
    pub fn has(&self, c: Characteristic) -> bool {
        self.characteristics.contains(&c)
    }

    pub fn is_local(&self) -> bool {
        self.has(Characteristic::Local)
    }

    /// See [`Purchase::egalim_group`].
    pub fn egalim_group(&self) -> Option<EgalimGroup> {
        self.characteristic_set().egalim_group()
    }

    pub fn characteristic_set(&self) -> CharacteristicSet {
        CharacteristicSet::of(self.characteristics)
    }

    /// The record these fields make, with `meta`.
    pub fn to_purchase(&self, meta: RecordMeta) -> Purchase {
        Purchase {
            meta,
            siret: self.siret.to_owned(),
            description: self.description.to_owned(),
            supplier: self.supplier.to_owned(),
            date: self.date,
            price_cents: self.price_cents,
            family: self.family,
            characteristics: self.characteristics.to_vec(),
            local_definition: self.local_definition,
            local_km: self.local_km,
        }
    }

    /// Rules of the national model (see [`Purchase::validate`]); `today` is the user's date (dates after it are refused).
    pub fn validate(&self, today: NaiveDate) -> Validation {
        let mut v = Validation::default();
        // Exactly 14 digits as stored: a space, a tab or a dot inside would be exported as is.
        if self.siret.trim().is_empty() {
            v.error("siret", "Le SIRET de l'établissement est obligatoire.");
        } else if self.siret.len() != 14 || !self.siret.bytes().all(|b| b.is_ascii_digit()) {
            v.error(
                "siret",
                format!(
                    "Le SIRET « {} » doit comporter exactement 14 chiffres, sans espace ni autre caractère.",
                    crate::text::excerpt(&self.siret, 40)
                ),
            );
        }
        if self.description.trim().is_empty() {
            v.error("description", "La description du produit est obligatoire.");
        }
        crate::text::check_text(&mut v, "description", &self.description, "La description", crate::text::MAX_DESCRIPTION_CHARS);
        crate::text::check_text(&mut v, "fournisseur", &self.supplier, "Le nom du fournisseur", crate::text::MAX_SUPPLIER_CHARS);
        if self.date > today {
            v.error(
                "date",
                format!(
                    "La date du {} est dans le futur : indiquez une date jusqu'au {} au plus tard.",
                    format_fr_date(self.date),
                    format_fr_date(today)
                ),
            );
        } else if self.date < crate::meals::earliest_service_date() {
            v.error(
                "date",
                format!("La date d'achat du {} est trop ancienne : vérifiez l'année (2000 au plus tôt).", format_fr_date(self.date)),
            );
        }
        if self.price_cents < 0 {
            v.error("prix_ht", "Le prix HT ne peut pas être négatif : indiquez un montant positif ou nul.");
        } else if self.price_cents as u64 > crate::sync::MAX_SAFE_INTEGER {
            // Beyond 2^53 a browser reads the number wrong.
            v.error(
                "prix_ht",
                format!("Prix HT impossible ({} €) : vérifiez le montant.", format_euros(self.price_cents)),
            );
        }
        if self.has(Characteristic::France) && self.has(Characteristic::Europe) {
            v.error(
                "origine",
                "Les origines FRANCE et EUROPE ne peuvent pas être sélectionnées en même temps : gardez-en une seule.",
            );
        }
        // A bit per characteristic: no allocation for the usual purchase.
        let mut seen = 0u64;
        for c in self.characteristics {
            let bit = 1u64 << (*c as u32);
            if seen & bit != 0 {
                v.error("caracteristiques", format!("La caractéristique {} est indiquée deux fois.", c.code()));
            }
            seen |= bit;
        }
        if self.is_local() {
            if self.local_definition != Some(LocalDefinition::Km) && self.local_km.is_some() {
                v.error(
                    "definition_local_km",
                    "La distance en km doit être vide lorsque la définition de local n'est pas KM.",
                );
            }
        } else {
            if self.local_definition.is_some() {
                v.error(
                    "definition_local",
                    "Le produit n'est pas indiqué comme local (est_local) : laissez la définition de local vide, ou cochez local.",
                );
            }
            if self.local_km.is_some() {
                v.error(
                    "definition_local_km",
                    "Le produit n'est pas indiqué comme local (est_local) : laissez la distance en km vide, ou cochez local.",
                );
            }
        }
        v
    }
}

/// Why a price text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceError {
    Empty,
    /// Written the French (or a spreadsheet's) way: decimal comma, grouped thousands, a unit,
    /// e.g. `1 234,56`, `12,500`, `12 €`. The platform refuses these; the message says what to
    /// write instead.
    Localized,
    /// `012.5`, `00`: the platform's table-schema check refuses a number with a leading zero.
    LeadingZero,
    NotANumber,
    TooLarge,
}

impl PriceError {
    /// French message saying what to write.
    pub fn message(&self, raw: &str) -> String {
        const RULE: &str = "ma cantine lit le prix HT en euros avec le point comme séparateur décimal, sans espace, séparateur de milliers ni symbole";
        let shown = raw.trim();
        match self {
            PriceError::Empty => "Le prix HT est obligatoire (par exemple 1234.99).".to_owned(),
            PriceError::Localized | PriceError::NotANumber => match price_suggestions(raw).as_slice() {
                [one] => format!("« {shown} » : {RULE} ; écrivez {one}."),
                [decimal, thousands] => format!(
                    "« {shown} » : {RULE} ; écrivez {decimal} si la virgule sépare les centimes, ou {thousands} si elle sépare les milliers."
                ),
                _ => format!(
                    "« {shown} » n'est pas un prix : la valeur ne doit comporter que des chiffres et le point comme séparateur décimal, par exemple 1234.99."
                ),
            },
            PriceError::LeadingZero => {
                let fixed = strip_leading_zeros(shown);
                format!("« {shown} » : retirez le zéro au début (écrivez {fixed}) ; ma cantine refuse un nombre qui commence par 0, sauf 0 et 0.xx.")
            }
            PriceError::TooLarge => format!("« {shown} » est un montant trop grand : vérifiez le prix HT, en euros (par exemple 1234.99)."),
        }
    }
}

fn strip_leading_zeros(s: &str) -> String {
    let t = s.trim_start_matches('0');
    if t.is_empty() || t.starts_with(['e', 'E']) {
        "0".to_owned()
    } else if t.starts_with('.') {
        format!("0{t}")
    } else {
        t.to_owned()
    }
}

/// What a user probably meant by a price the platform refuses, written as it accepts it:
/// one reading, two when a single comma followed by three digits may separate cents or
/// thousands (`12,500`), none when the text is not a number written some usual way.
pub fn price_suggestions(raw: &str) -> Vec<String> {
    let mut s: String = raw.trim().to_owned();
    for unit in ["€", "EUR", "eur", "euros", "Euros", "HT", "ht"] {
        if let Some(rest) = s.strip_suffix(unit) {
            s = rest.trim_end().to_owned();
        }
    }
    if let Some(rest) = s.strip_prefix('€') {
        s = rest.trim_start().to_owned();
    }
    let grouped_by_spaces = s.chars().any(|c| c == ' ' || c == '\u{a0}' || c == '\u{202f}' || c == '\'');
    // Spaces and apostrophes only ever group thousands: groups of three digits after the first.
    let mut groups = s.split([' ', '\u{a0}', '\u{202f}', '\'']).filter(|g| !g.is_empty());
    let mut joined = String::new();
    if let Some(first) = groups.next() {
        joined.push_str(first);
        for g in groups {
            if g.bytes().take_while(u8::is_ascii_digit).count() < 3 {
                return Vec::new();
            }
            joined.push_str(g);
        }
    }
    let s = joined;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b',' || b == b'.') || !s.bytes().any(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let commas = s.matches(',').count();
    let points = s.matches('.').count();
    let candidates: Vec<String> = match (commas, points) {
        (0, 0) | (0, 1) => vec![s.clone()],
        (1, 0) => {
            let (int, frac) = s.split_once(',').unwrap_or((&s, ""));
            if frac.len() == 3 && !int.is_empty() && !grouped_by_spaces && int.len() <= 3 {
                vec![format!("{int}.{frac}"), format!("{int}{frac}")]
            } else {
                vec![format!("{int}.{frac}")]
            }
        }
        // Several of one mark: thousands grouping (1,234,567 / 1.234.567).
        (_, 0) | (0, _) => vec![s.replace([',', '.'], "")],
        // Both: the last one is the decimal separator.
        _ => {
            let last = s.rfind([',', '.']).unwrap_or(0);
            let (int, frac) = s.split_at(last);
            vec![format!("{}.{}", int.replace([',', '.'], ""), &frac[1..])]
        }
    };
    let mut out: Vec<String> = Vec::new();
    for c in candidates {
        let c = strip_leading_zeros(&c);
        let c = if c.starts_with('.') { format!("0{c}") } else { c };
        let c = c.strip_suffix('.').map(str::to_owned).unwrap_or(c);
        if parse_price_cents(&c).is_ok() && c != raw.trim() && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Parses `prix_ht` as the national platform does, into cents.
///
/// The platform first checks the cell against its table schema (`"type": "number"`, read by
/// frictionless: a number with a leading zero other than `0` and `0.…` is refused), then reads
/// it with Python's `Decimal(prix_ht).quantize(Decimal(".01"), rounding=ROUND_HALF_DOWN)`:
/// spaces around it ignored, underscores ignored, optional sign, decimal point, optional
/// exponent; a decimal comma, a space inside, a unit or any other character refused. Rounded
/// half-down (ties towards zero). Exact arithmetic on the digits, never a float, no allocation.
/// A negative price is returned negative (the caller refuses it, as the platform's minimum
/// does); beyond 2^53 cents (what every JSON reader reads exactly) it is refused as too large.
pub fn parse_price_cents(raw: &str) -> Result<i64, PriceError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(PriceError::Empty);
    }
    let b = s.as_bytes();
    // The schema check sees the cell before Decimal does, underscores included.
    if b[0] == b'0' && b.len() > 1 && b[1] != b'.' {
        return Err(if looks_localized(b) { PriceError::Localized } else { PriceError::LeadingZero });
    }
    let refuse = || if looks_localized(b) { PriceError::Localized } else { PriceError::NotANumber };
    // Pass 1: syntax, digit counts, exponent.
    let mut i = 0;
    let skip_underscores = |i: &mut usize| {
        while *i < b.len() && b[*i] == b'_' {
            *i += 1;
        }
    };
    skip_underscores(&mut i);
    let negative = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mantissa_start = i;
    let (mut int_len, mut frac_len, mut seen_point) = (0i64, 0i64, false);
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' if seen_point => frac_len += 1,
            b'0'..=b'9' => int_len += 1,
            b'.' if !seen_point => seen_point = true,
            b'_' => {}
            _ => break,
        }
        i += 1;
    }
    let mantissa_end = i;
    if int_len + frac_len == 0 {
        return Err(refuse());
    }
    let mut exponent: i64 = 0;
    if i < b.len() {
        if b[i] != b'e' && b[i] != b'E' {
            return Err(refuse());
        }
        i += 1;
        skip_underscores(&mut i);
        let exp_negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut exp_digits = 0;
        while i < b.len() {
            match b[i] {
                d @ b'0'..=b'9' => {
                    // Saturates: anything past a billion is either zero or too large anyway.
                    exponent = (exponent * 10 + i64::from(d - b'0')).min(1_000_000_000);
                    exp_digits += 1;
                }
                b'_' => {}
                _ => return Err(refuse()),
            }
            i += 1;
        }
        if exp_digits == 0 {
            return Err(refuse());
        }
        if exp_negative {
            exponent = -exponent;
        }
    }
    // Pass 2: the first `cut` digits are the cents, the rest decides the rounding.
    let cut = int_len + exponent + 2;
    let mut cents: u64 = 0;
    let mut position: i64 = 0;
    let (mut first_rest, mut rest_nonzero) = (None::<u8>, false);
    for &c in &b[mantissa_start..mantissa_end] {
        if !c.is_ascii_digit() {
            continue;
        }
        let d = c - b'0';
        if position < cut {
            cents = cents.checked_mul(10).and_then(|v| v.checked_add(u64::from(d))).ok_or(PriceError::TooLarge)?;
            if cents > crate::sync::MAX_SAFE_INTEGER {
                return Err(PriceError::TooLarge);
            }
        } else if position == cut {
            first_rest = Some(d);
        } else if d != 0 {
            rest_nonzero = true;
        }
        position += 1;
    }
    // Fewer digits than the cents need: shift (only a non-zero value can overflow).
    if cents != 0 {
        for _ in position..cut {
            cents = cents.checked_mul(10).filter(|v| *v <= crate::sync::MAX_SAFE_INTEGER).ok_or(PriceError::TooLarge)?;
        }
    }
    // Half-down: up only when the rest is strictly more than one half.
    let round_up = match first_rest {
        Some(d) if d > 5 => true,
        Some(5) => rest_nonzero,
        _ => false,
    };
    if round_up {
        cents += 1;
    }
    if cents > crate::sync::MAX_SAFE_INTEGER {
        return Err(PriceError::TooLarge);
    }
    Ok(if negative { -(cents as i64) } else { cents as i64 })
}

/// A number written the French or a spreadsheet's way (digits with a comma, spaces, €).
fn looks_localized(b: &[u8]) -> bool {
    let s = std::str::from_utf8(b).unwrap_or("");
    (s.contains(',') || s.contains(['€', ' ', '\u{a0}', '\u{202f}', '\'']) || s.matches('.').count() > 1)
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_digit() || ",. \u{a0}\u{202f}'€-+".contains(c) || "EURHTeurosht".contains(c))
}

/// Cents as a euro amount with two decimals and a point: 123456 → "1234.56".
pub fn format_euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use proptest::prop_assume;
    use uuid::Uuid;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn sample() -> Purchase {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        Purchase {
            meta: RecordMeta::new(Uuid::nil(), now),
            siret: "21010034300016".into(),
            description: "Pommes".into(),
            supplier: "Le bon traiteur".into(),
            date: d("2026-03-01"),
            price_cents: 9011,
            family: Family::FruitsEtLegumes,
            characteristics: vec![Characteristic::Bio],
            local_definition: None,
            local_km: None,
        }
    }

    #[test]
    fn price_half_down_to_cents() {
        assert_eq!(parse_price_cents("90.11"), Ok(9011));
        assert_eq!(parse_price_cents("90.11000000002"), Ok(9011));
        assert_eq!(parse_price_cents("90.115"), Ok(9011)); // tie goes down
        assert_eq!(parse_price_cents("90.1150001"), Ok(9012));
        assert_eq!(parse_price_cents("90.116"), Ok(9012));
        assert_eq!(parse_price_cents("0.005"), Ok(0));
        assert_eq!(parse_price_cents("0.0051"), Ok(1));
        assert_eq!(parse_price_cents("100"), Ok(10000));
        assert_eq!(parse_price_cents(" 100. "), Ok(10000));
        assert_eq!(parse_price_cents(".5"), Ok(50));
        assert_eq!(parse_price_cents("1e3"), Ok(100000));
        assert_eq!(parse_price_cents("1.2345E2"), Ok(12345));
        assert_eq!(parse_price_cents("12345e-4"), Ok(123)); // 1.2345 → 1.23
        assert_eq!(parse_price_cents("125e-4"), Ok(1)); // 0.0125 → 0.01
        assert_eq!(parse_price_cents("5e-3"), Ok(0)); // 0.005 tie → 0.00
        assert_eq!(parse_price_cents("-2.555"), Ok(-255)); // ties towards zero
        assert_eq!(parse_price_cents("-0.004"), Ok(0));
        assert_eq!(parse_price_cents("1e-500"), Ok(0));
    }

    #[test]
    fn price_errors() {
        assert_eq!(parse_price_cents(""), Err(PriceError::Empty));
        assert_eq!(parse_price_cents("  "), Err(PriceError::Empty));
        assert_eq!(parse_price_cents("90,11"), Err(PriceError::Localized));
        assert_eq!(parse_price_cents("A price"), Err(PriceError::NotANumber));
        assert_eq!(parse_price_cents("1 234.5"), Err(PriceError::Localized));
        assert_eq!(parse_price_cents("."), Err(PriceError::NotANumber));
        assert_eq!(parse_price_cents("12€"), Err(PriceError::Localized));
        assert_eq!(parse_price_cents("99999999999999999999"), Err(PriceError::TooLarge));
        assert_eq!(parse_price_cents("1e500"), Err(PriceError::TooLarge));
        assert_eq!(parse_price_cents("1e99999999999999999999"), Err(PriceError::TooLarge));
        assert_eq!(parse_price_cents("90071992547409.91"), Ok((1 << 53) - 1));
        assert_eq!(parse_price_cents("90071992547409.92"), Err(PriceError::TooLarge));
        assert_eq!(parse_price_cents("-90071992547409.92"), Err(PriceError::TooLarge));
        assert!(PriceError::Localized.message("90,11").contains("écrivez 90.11."));
    }

    /// What the platform accepts beyond plain digits and a point: Python's `Decimal` reading
    /// (underscores ignored, sign, exponent, spaces around) after the schema's leading-zero rule.
    #[test]
    fn prices_read_as_the_platform_reads_them() {
        assert_eq!(parse_price_cents("12.5"), Ok(1250));
        assert_eq!(parse_price_cents("1_234.56"), Ok(123_456));
        assert_eq!(parse_price_cents("_1__2_"), Ok(1200));
        assert_eq!(parse_price_cents("+12"), Ok(1200));
        assert_eq!(parse_price_cents("+012"), Ok(1200)); // the schema rule looks at the first character only
        assert_eq!(parse_price_cents("\u{a0}12.5\u{202f}"), Ok(1250));
        assert_eq!(parse_price_cents("0"), Ok(0));
        assert_eq!(parse_price_cents("0.5"), Ok(50));
        assert_eq!(parse_price_cents("1e1_0"), Ok(1_000_000_000_000));
        assert_eq!(parse_price_cents("012.5"), Err(PriceError::LeadingZero));
        assert_eq!(parse_price_cents("00"), Err(PriceError::LeadingZero));
        assert_eq!(parse_price_cents("0e5"), Err(PriceError::LeadingZero));
        assert_eq!(parse_price_cents("0_1"), Err(PriceError::LeadingZero));
        for refused in ["Infinity", "NaN", "0x10", "1.2.3", "1e", "e5", "1e5.5", "12 345", "12,500", "1 234,56", "12.5 €", "12 .5"] {
            assert!(parse_price_cents(refused).is_err(), "{refused}");
        }
    }

    /// Exact by division, apart from the parser's digit walk: cents of `digits` × 10^`shift`
    /// (shift in hundredths), half-down.
    fn oracle_cents(digits: u128, shift: i32) -> u128 {
        if shift >= 0 {
            digits * 10u128.pow(shift as u32)
        } else {
            let unit = 10u128.pow((-shift) as u32);
            let (q, r) = (digits / unit, digits % unit);
            q + u128::from(2 * r > unit)
        }
    }

    proptest::proptest! {
        #[test]
        fn decimal_texts_read_like_python_decimal(
            int in "[1-9][0-9]{0,8}|0",
            frac in proptest::option::of("[0-9]{0,8}"),
            exp in proptest::option::of(-12i32..6),
            underscores in proptest::collection::vec(0usize..30, 0..3),
            plus in proptest::bool::ANY,
            upper_e in proptest::bool::ANY,
            pad in "[ \t\u{a0}]{0,2}",
        ) {
            let mut text = int.clone();
            if let Some(f) = &frac {
                text.push('.');
                text.push_str(f);
            }
            if let Some(e) = exp {
                text.push(if upper_e { 'E' } else { 'e' });
                text.push_str(&e.to_string());
            }
            // Underscores anywhere but first (the schema's rule looks at the first character).
            for u in underscores {
                let at = 1 + u % text.len();
                if text.is_char_boundary(at) { text.insert(at, '_'); }
            }
            // The schema's rule: "0" then anything but a point is refused (a sign hides it).
            let leading_zero = !plus && text.starts_with('0') && text.len() > 1 && !text.starts_with("0.");
            if plus { text.insert(0, '+'); }
            let text = format!("{pad}{text}{pad}");
            let f = frac.clone().unwrap_or_default();
            let digits: u128 = format!("{int}{f}").parse().unwrap();
            let shift = exp.unwrap_or(0) - f.len() as i32 + 2;
            let expected = oracle_cents(digits, shift);
            let got = parse_price_cents(&text);
            if leading_zero {
                proptest::prop_assert_eq!(got, Err(PriceError::LeadingZero), "{}", text);
            } else if expected > crate::sync::MAX_SAFE_INTEGER as u128 {
                proptest::prop_assert_eq!(got, Err(PriceError::TooLarge), "{}", text);
            } else {
                proptest::prop_assert_eq!(got, Ok(expected as i64), "{}", text);
            }
        }

        #[test]
        fn french_amounts_are_refused_with_their_point_form(cents in 0i64..10_000_000_000) {
            let fr = crate::number::format_euros(cents);
            for text in [fr.clone(), crate::number::plain_spaces(&fr), fr.trim_end_matches('€').trim_end_matches('\u{202f}').to_owned()] {
                let e = parse_price_cents(&text).unwrap_err();
                proptest::prop_assert_eq!(&e, &PriceError::Localized, "{}", text);
                let s = price_suggestions(&text);
                proptest::prop_assert!(!s.is_empty(), "{}", text);
                proptest::prop_assert_eq!(parse_price_cents(&s[0]), Ok(cents), "{} → {:?}", text, s);
                let wanted = format!("écrivez {}", s[0]);
                proptest::prop_assert!(e.message(&text).contains(&wanted), "{}", text);
            }
        }

        #[test]
        fn a_comma_before_three_digits_offers_both_readings(int in 1u32..1000, frac in 0u32..1000) {
            let text = format!("{int},{frac:03}");
            let s = price_suggestions(&text);
            proptest::prop_assert_eq!(s.len(), 2, "{}", text);
            proptest::prop_assert_eq!(parse_price_cents(&s[0]), Ok(i64::from(int) * 100 + i64::from(frac) / 10 + i64::from(frac % 10 > 5)));
            proptest::prop_assert_eq!(parse_price_cents(&s[1]), Ok((i64::from(int) * 1000 + i64::from(frac)) * 100));
        }

        #[test]
        fn a_leading_zero_is_refused(rest in "[0-9_][0-9.]{0,6}") {
            let text = format!("0{rest}");
            prop_assume!(!text.starts_with("0."));
            proptest::prop_assert!(parse_price_cents(&text).is_err(), "{}", text);
        }

        #[test]
        fn any_text_is_read_or_refused_without_panic(text in "\\PC{0,24}") {
            if let Ok(c) = parse_price_cents(&text) {
                proptest::prop_assert!(c.unsigned_abs() <= crate::sync::MAX_SAFE_INTEGER);
            } else {
                let _ = parse_price_cents(&text).unwrap_err().message(&text);
            }
        }
    }

    #[test]
    fn refused_prices_say_what_to_write() {
        let m = |s: &str| parse_price_cents(s).unwrap_err().message(s);
        assert_eq!(
            m("1 234,56"),
            "« 1 234,56 » : ma cantine lit le prix HT en euros avec le point comme séparateur décimal, sans espace, séparateur de milliers ni symbole ; écrivez 1234.56."
        );
        assert!(m("12,500").ends_with("écrivez 12.500 si la virgule sépare les centimes, ou 12500 si elle sépare les milliers."), "{}", m("12,500"));
        assert!(m("1234,500").ends_with("écrivez 1234.500."));
        assert!(m("12,5").ends_with("écrivez 12.5."));
        assert!(m("1.234,56").ends_with("écrivez 1234.56."));
        assert!(m("1,234.56").ends_with("écrivez 1234.56."));
        assert!(m("1.234.567").ends_with("écrivez 1234567."));
        assert!(m("12,50 €").ends_with("écrivez 12.50."));
        assert!(m("12 €").ends_with("écrivez 12."));
        assert!(m("1 234.5").ends_with("écrivez 1234.5."));
        assert!(m("0,75").ends_with("écrivez 0.75."));
        assert!(m("012.50").starts_with("« 012.50 » : retirez le zéro au début (écrivez 12.50)"));
        assert!(m("00").contains("(écrivez 0)"));
        assert!(m("douze").starts_with("« douze » n'est pas un prix"));
        assert!(m("1 23,5").starts_with("« 1 23,5 » n'est pas un prix"));
    }

    #[test]
    fn euros_format() {
        assert_eq!(format_euros(123456), "1234.56");
        assert_eq!(format_euros(5), "0.05");
        assert_eq!(format_euros(0), "0.00");
        assert_eq!(format_euros(-150), "-1.50");
    }

    #[test]
    fn group_order_bio_siqo_autres_perf() {
        let mut p = sample();
        p.characteristics = vec![Characteristic::Performance, Characteristic::Hve, Characteristic::Igp, Characteristic::Bio];
        assert_eq!(p.egalim_group(), Some(EgalimGroup::Bio));
        p.characteristics = vec![Characteristic::Performance, Characteristic::Hve, Characteristic::Igp];
        assert_eq!(p.egalim_group(), Some(EgalimGroup::Siqo));
        p.characteristics = vec![Characteristic::Performance, Characteristic::CommerceEquitable];
        assert_eq!(p.egalim_group(), Some(EgalimGroup::EgalimAutres));
        p.characteristics = vec![Characteristic::Externalites, Characteristic::France];
        assert_eq!(p.egalim_group(), Some(EgalimGroup::ExternalitesPerformance));
        p.characteristics = vec![Characteristic::France, Characteristic::Local, Characteristic::CircuitCourt];
        assert_eq!(p.egalim_group(), None);
    }

    #[test]
    fn characteristic_set_bits_and_group() {
        for (i, c) in Characteristic::ALL.iter().enumerate() {
            assert_eq!(c.bit(), 1 << i, "{c:?}");
        }
        let set = CharacteristicSet::of(&[Characteristic::Local, Characteristic::Hve, Characteristic::Igp]);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![Characteristic::Igp, Characteristic::Hve, Characteristic::Local]);
        assert_eq!(set.egalim_group(), Some(EgalimGroup::Siqo));
        assert!(set.intersects(CharacteristicSet::of(&[Characteristic::Local])));
        assert!(!set.intersects(CharacteristicSet::of(&[Characteristic::Bio])));
        assert_eq!(CharacteristicSet::of(&[Characteristic::France]).egalim_group(), None);
        // Every set's group is the smallest group of its codes.
        for m in 0..=u16::MAX {
            let set = CharacteristicSet(m);
            assert_eq!(set.egalim_group(), set.iter().filter_map(Characteristic::group).min());
        }
    }

    #[test]
    fn accessors() {
        let mut p = sample();
        p.characteristics = vec![Characteristic::Bio, Characteristic::France, Characteristic::CircuitCourt];
        assert_eq!(p.origin(), Some(Origin::France));
        assert!(p.is_short_chain() && !p.is_local());
        assert_eq!(p.egalim_labels().collect::<Vec<_>>(), vec![Characteristic::Bio]);
    }

    #[test]
    fn valid_sample_passes() {
        assert!(sample().validate(d("2026-03-02")).is_ok());
    }

    #[test]
    fn future_date_refused_today_accepted() {
        let p = sample();
        assert!(p.validate(d("2026-03-01")).is_ok());
        let v = p.validate(d("2026-02-28"));
        assert_eq!(v.errors.len(), 1);
        assert_eq!(v.errors[0].field, "date");
        assert!(v.errors[0].message.contains("01/03/2026"));
    }

    #[test]
    fn negative_price_refused() {
        let mut p = sample();
        p.price_cents = -1;
        assert_eq!(p.validate(d("2026-03-02")).errors_for("prix_ht").count(), 1);
        p.price_cents = 0;
        assert!(p.validate(d("2026-03-02")).is_ok());
    }

    #[test]
    fn missing_required_fields() {
        let mut p = sample();
        p.siret = " ".into();
        p.description = "  ".into();
        let v = p.validate(d("2026-03-02"));
        assert_eq!(v.errors_for("siret").count(), 1);
        assert_eq!(v.errors_for("description").count(), 1);
        p.siret = "2101003430001".into();
        p.description = "x".into();
        let v = p.validate(d("2026-03-02"));
        assert!(v.errors[0].message.contains("14 chiffres"));
    }

    #[test]
    fn france_and_europe_together_refused() {
        let mut p = sample();
        p.characteristics = vec![Characteristic::France, Characteristic::Europe];
        let v = p.validate(d("2026-03-02"));
        assert_eq!(v.errors.len(), 1);
        assert_eq!(v.errors[0].field, "origine");
    }

    #[test]
    fn duplicate_characteristic_refused() {
        let mut p = sample();
        p.characteristics = vec![Characteristic::Bio, Characteristic::Bio];
        assert_eq!(p.validate(d("2026-03-02")).errors_for("caracteristiques").count(), 1);
    }

    #[test]
    fn local_definition_rules() {
        let today = d("2026-03-02");
        let mut p = sample();
        // definition without LOCAL
        p.local_definition = Some(LocalDefinition::Departement);
        assert_eq!(p.validate(today).errors_for("definition_local").count(), 1);
        // km without LOCAL
        p.local_definition = None;
        p.local_km = Some(30);
        assert_eq!(p.validate(today).errors_for("definition_local_km").count(), 1);
        // LOCAL without definition: allowed
        p.characteristics.push(Characteristic::Local);
        p.local_km = None;
        assert!(p.validate(today).is_ok());
        // LOCAL + KM without km: allowed; with km: allowed
        p.local_definition = Some(LocalDefinition::Km);
        assert!(p.validate(today).is_ok());
        p.local_km = Some(200);
        assert!(p.validate(today).is_ok());
        // km with a non-KM definition: refused
        p.local_definition = Some(LocalDefinition::Region);
        assert_eq!(p.validate(today).errors_for("definition_local_km").count(), 1);
    }

    #[test]
    fn serde_uses_national_codes() {
        let mut p = sample();
        p.family = Family::ViandesVolailles;
        p.characteristics = vec![Characteristic::LabelRouge, Characteristic::Local];
        p.local_definition = Some(LocalDefinition::Pat);
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["famille_produits"], "VIANDES_VOLAILLES");
        assert_eq!(j["caracteristiques"][0], "LABEL_ROUGE");
        assert_eq!(j["definition_local"], "PAT");
        assert_eq!(j["fournisseur"], "Le bon traiteur");
        let back: Purchase = serde_json::from_value(j).unwrap();
        assert_eq!(back, p);
        for f in Family::ALL {
            assert_eq!(serde_json::to_value(f).unwrap(), f.code());
            assert_eq!(Family::from_code(f.code()), Some(f));
        }
        for c in Characteristic::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.code());
            assert_eq!(Characteristic::from_code(c.code()), Some(c));
        }
    }
}
