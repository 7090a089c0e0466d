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
        let mut seen = Vec::new();
        for c in &self.characteristics {
            if seen.contains(c) {
                v.error("caracteristiques", format!("La caractéristique {} est indiquée deux fois.", c.code()));
            }
            seen.push(*c);
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
    /// Decimal comma, e.g. `90,11`.
    DecimalComma,
    NotANumber,
    TooLarge,
}

impl PriceError {
    /// French message saying what is expected.
    pub fn message(&self, raw: &str) -> String {
        match self {
            PriceError::Empty => "Le prix HT est obligatoire (par exemple 1234.99).".to_owned(),
            PriceError::DecimalComma => format!(
                "« {raw} » : utilisez le point comme séparateur décimal, par exemple {}.",
                raw.trim().replace(',', ".")
            ),
            PriceError::NotANumber => format!(
                "« {raw} » n'est pas un prix : la valeur ne doit comporter que des chiffres et le point comme séparateur décimal, par exemple 1234.99."
            ),
            PriceError::TooLarge => format!("« {raw} » est un montant trop grand : vérifiez le prix HT, en euros (par exemple 1234.99)."),
        }
    }
}

/// Parses a price in euros (`prix_ht`, decimal point, optional sign and exponent) into cents,
/// rounding half-down (ties towards zero) as the national import does with
/// `Decimal(prix_ht).quantize(Decimal(".01"), rounding=ROUND_HALF_DOWN)`. Exact decimal
/// arithmetic on the digits; never a float.
pub fn parse_price_cents(raw: &str) -> Result<i64, PriceError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(PriceError::Empty);
    }
    let (negative, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => {
            let e: i64 = body[i + 1..].parse().map_err(|_| PriceError::NotANumber)?;
            (&body[..i], e)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits_ok(int_part) || !digits_ok(frac_part) {
        let looks_comma = s.contains(',')
            && s.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '-' || c == '+' || c == ' ' || c == '.');
        return Err(if looks_comma { PriceError::DecimalComma } else { PriceError::NotANumber });
    }
    if exponent.abs() > 400 {
        // Either astronomically large or rounds to zero; refuse the large, accept tiny as 0.
        if exponent > 0 && (int_part.bytes().chain(frac_part.bytes()).any(|b| b != b'0')) {
            return Err(PriceError::TooLarge);
        }
        return Ok(0);
    }
    // All digits, with the decimal point after `point` digits (shifted by the exponent).
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).map(|b| b - b'0').collect();
    let point = int_part.len() as i64 + exponent;
    // cents = digits up to position point+2; the rest decides rounding.
    let cut = point + 2;
    let mut cents: i64 = 0;
    for i in 0..cut.max(0) as usize {
        let d = digits.get(i).copied().unwrap_or(0);
        cents = cents.checked_mul(10).and_then(|c| c.checked_add(d as i64)).ok_or(PriceError::TooLarge)?;
    }
    if cut < 0 {
        // Below a tenth of a cent: always rounds to zero.
        return Ok(0);
    }
    let rest: &[u8] = if (cut as usize) < digits.len() { &digits[cut as usize..] } else { &[] };
    // Half-down: round up only when the rest is strictly more than one half.
    let round_up = match rest.first() {
        Some(&d) if d > 5 => true,
        Some(&5) => rest[1..].iter().any(|&d| d != 0),
        _ => false,
    };
    if round_up {
        cents = cents.checked_add(1).ok_or(PriceError::TooLarge)?;
    }
    // Beyond 2^53 cents a browser reads the number wrong (and `Purchase::validate` refuses it).
    if cents as u64 > crate::sync::MAX_SAFE_INTEGER {
        return Err(PriceError::TooLarge);
    }
    Ok(if negative { -cents } else { cents })
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
        assert_eq!(parse_price_cents("90,11"), Err(PriceError::DecimalComma));
        assert_eq!(parse_price_cents("A price"), Err(PriceError::NotANumber));
        assert_eq!(parse_price_cents("1 234.5"), Err(PriceError::NotANumber));
        assert_eq!(parse_price_cents("."), Err(PriceError::NotANumber));
        assert_eq!(parse_price_cents("12€"), Err(PriceError::NotANumber));
        assert_eq!(parse_price_cents("99999999999999999999"), Err(PriceError::TooLarge));
        assert_eq!(parse_price_cents("1e500"), Err(PriceError::TooLarge));
        assert_eq!(parse_price_cents("90071992547409.91"), Ok((1 << 53) - 1));
        assert_eq!(parse_price_cents("90071992547409.92"), Err(PriceError::TooLarge));
        assert_eq!(parse_price_cents("-90071992547409.92"), Err(PriceError::TooLarge));
        assert!(PriceError::DecimalComma.message("90,11").contains("90.11"));
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
