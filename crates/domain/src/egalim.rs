//! EGalim yearly totals exactly as the national platform computes them from purchases
//! (`Purchase.canteen_summary_for_year` in ma cantine), percentages, objectives, cost per meal.
//!
//! All amounts are integer cents. A purchase counts once in the simple groups
//! (BIO > SIQO > other EGalim > externalités/performance) and once in the detailed
//! family × label table (first label in the national label order).

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::purchase::{format_euros, Characteristic, CharacteristicSet, EgalimGroup, Family, Purchase, PurchaseFields};
use crate::site::RegionGroup;

/// Column of the detailed table, in the national order used for no double counting
/// (`Diagnostic.APPRO_LABELS_EGALIM` then `non_egalim`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetailLabel {
    Bio,
    LabelRouge,
    AocaopIgpStg,
    Hve,
    PecheDurable,
    Rup,
    CommerceEquitable,
    Fermier,
    Externalites,
    Performance,
    NonEgalim,
}

impl DetailLabel {
    pub const ALL: [DetailLabel; 11] = [
        DetailLabel::Bio,
        DetailLabel::LabelRouge,
        DetailLabel::AocaopIgpStg,
        DetailLabel::Hve,
        DetailLabel::PecheDurable,
        DetailLabel::Rup,
        DetailLabel::CommerceEquitable,
        DetailLabel::Fermier,
        DetailLabel::Externalites,
        DetailLabel::Performance,
        DetailLabel::NonEgalim,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DetailLabel::Bio => "bio",
            DetailLabel::LabelRouge => "label_rouge",
            DetailLabel::AocaopIgpStg => "aocaop_igp_stg",
            DetailLabel::Hve => "hve",
            DetailLabel::PecheDurable => "peche_durable",
            DetailLabel::Rup => "rup",
            DetailLabel::CommerceEquitable => "commerce_equitable",
            DetailLabel::Fermier => "fermier",
            DetailLabel::Externalites => "externalites",
            DetailLabel::Performance => "performance",
            DetailLabel::NonEgalim => "non_egalim",
        }
    }

    /// The codes that put a purchase in this column (none for `non_egalim`).
    const fn mask(self) -> u16 {
        use Characteristic as C;
        const fn bit(c: Characteristic) -> u16 {
            1 << c as u16
        }
        match self {
            DetailLabel::Bio => bit(C::Bio),
            DetailLabel::LabelRouge => bit(C::LabelRouge),
            DetailLabel::AocaopIgpStg => bit(C::Aocaop) | bit(C::Igp) | bit(C::Stg),
            DetailLabel::Hve => bit(C::Hve),
            DetailLabel::PecheDurable => bit(C::PecheDurable),
            DetailLabel::Rup => bit(C::Rup),
            DetailLabel::CommerceEquitable => bit(C::CommerceEquitable),
            DetailLabel::Fermier => bit(C::Fermier),
            DetailLabel::Externalites => bit(C::Externalites),
            DetailLabel::Performance => bit(C::Performance),
            DetailLabel::NonEgalim => 0,
        }
    }

    #[cfg(test)]
    fn matches(self, c: Characteristic) -> bool {
        use Characteristic as C;
        match self {
            DetailLabel::Bio => c == C::Bio,
            DetailLabel::LabelRouge => c == C::LabelRouge,
            DetailLabel::AocaopIgpStg => matches!(c, C::Aocaop | C::Igp | C::Stg),
            DetailLabel::Hve => c == C::Hve,
            DetailLabel::PecheDurable => c == C::PecheDurable,
            DetailLabel::Rup => c == C::Rup,
            DetailLabel::CommerceEquitable => c == C::CommerceEquitable,
            DetailLabel::Fermier => c == C::Fermier,
            DetailLabel::Externalites => c == C::Externalites,
            DetailLabel::Performance => c == C::Performance,
            DetailLabel::NonEgalim => false,
        }
    }

    /// The one column a purchase counts in: its first label in national order, else `non_egalim`.
    pub fn of(p: &Purchase) -> DetailLabel {
        DetailLabel::of_set(p.characteristic_set())
    }

    /// The column of a purchase with these codes.
    pub fn of_set(set: CharacteristicSet) -> DetailLabel {
        DetailLabel::ALL[..10].iter().copied().find(|l| set.0 & l.mask() != 0).unwrap_or(DetailLabel::NonEgalim)
    }

    /// The EGalim group of this column (`None` for `non_egalim`): the national label order
    /// lists the groups in their order of precedence, so a purchase's column and its group agree.
    pub fn group(self) -> Option<EgalimGroup> {
        use DetailLabel as L;
        match self {
            L::Bio => Some(EgalimGroup::Bio),
            L::LabelRouge | L::AocaopIgpStg => Some(EgalimGroup::Siqo),
            L::Hve | L::PecheDurable | L::Rup | L::CommerceEquitable | L::Fermier => Some(EgalimGroup::EgalimAutres),
            L::Externalites | L::Performance => Some(EgalimGroup::ExternalitesPerformance),
            L::NonEgalim => None,
        }
    }

    /// French name of the column, for the dashboard's family × label table.
    pub fn label_fr(self) -> &'static str {
        use DetailLabel as L;
        match self {
            L::Bio => "Bio",
            L::LabelRouge => "Label rouge",
            L::AocaopIgpStg => "AOC/AOP, IGP, STG",
            L::Hve => "HVE",
            L::PecheDurable => "Pêche durable",
            L::Rup => "RUP",
            L::CommerceEquitable => "Commerce équitable",
            L::Fermier => "Fermier",
            L::Externalites => "Externalités environnementales",
            L::Performance => "Performance environnementale",
            L::NonEgalim => "Non EGalim",
        }
    }
}

/// One family's row of the detailed table (cents).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyTotals {
    /// Indexed like `DetailLabel::ALL`; each purchase counts in exactly one column.
    pub labels: [i64; 11],
    /// BIO and COMMERCE_EQUITABLE together (outside the no-double-counting order).
    pub bio_dont_commerce_equitable: i64,
    /// Origin France; for the year 2025 the platform also counts short chain and local as France.
    pub france: i64,
    /// Origin Europe (declared from 2026 on).
    pub europe: i64,
    pub circuit_court: i64,
    pub local: i64,
}

impl FamilyTotals {
    pub fn label(&self, l: DetailLabel) -> i64 {
        self.labels[l as usize]
    }
}

/// Yearly totals of one site, under the national `valeur_*` names (cents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearTotals {
    pub siret: String,
    pub year: i32,
    pub valeur_totale: i64,
    pub valeur_bio: i64,
    pub valeur_bio_dont_commerce_equitable: i64,
    pub valeur_siqo: i64,
    pub valeur_egalim_autres: i64,
    pub valeur_egalim_autres_dont_commerce_equitable: i64,
    pub valeur_externalites_performance: i64,
    pub valeur_viandes_volailles: i64,
    pub valeur_viandes_volailles_egalim: i64,
    pub valeur_viandes_volailles_france: i64,
    pub valeur_produits_de_la_mer: i64,
    pub valeur_produits_de_la_mer_egalim: i64,
    pub valeur_produits_de_la_mer_france: i64,
    /// Detailed table, indexed like `Family::ALL`.
    pub families: [FamilyTotals; 8],
    /// Number of purchases counted.
    pub purchase_count: u64,
}

/// Number of amounts of [`YearTotals::to_slots`].
pub const SLOT_COUNT: usize = 13 + 8 * 16 + 1;

/// The 13 simple yearly fields, in the national order.
pub const SIMPLE_FIELDS: [&str; 13] = [
    "valeur_totale",
    "valeur_bio",
    "valeur_bio_dont_commerce_equitable",
    "valeur_siqo",
    "valeur_egalim_autres",
    "valeur_egalim_autres_dont_commerce_equitable",
    "valeur_externalites_performance",
    "valeur_viandes_volailles",
    "valeur_viandes_volailles_egalim",
    "valeur_viandes_volailles_france",
    "valeur_produits_de_la_mer",
    "valeur_produits_de_la_mer_egalim",
    "valeur_produits_de_la_mer_france",
];

/// Position of a family in `Family::ALL` (the detailed table's row).
pub fn family_index(f: Family) -> usize {
    match f {
        Family::ViandesVolailles => 0,
        Family::ProduitsDeLaMer => 1,
        Family::FruitsEtLegumes => 2,
        Family::Charcuterie => 3,
        Family::ProduitsLaitiers => 4,
        Family::Boulangerie => 5,
        Family::Boissons => 6,
        Family::Autres => 7,
    }
}

impl YearTotals {
    pub fn new(siret: impl Into<String>, year: i32) -> Self {
        YearTotals {
            siret: siret.into(),
            year,
            valeur_totale: 0,
            valeur_bio: 0,
            valeur_bio_dont_commerce_equitable: 0,
            valeur_siqo: 0,
            valeur_egalim_autres: 0,
            valeur_egalim_autres_dont_commerce_equitable: 0,
            valeur_externalites_performance: 0,
            valeur_viandes_volailles: 0,
            valeur_viandes_volailles_egalim: 0,
            valeur_viandes_volailles_france: 0,
            valeur_produits_de_la_mer: 0,
            valeur_produits_de_la_mer_egalim: 0,
            valeur_produits_de_la_mer_france: 0,
            families: Default::default(),
            purchase_count: 0,
        }
    }

    /// Adds one purchase (the caller makes sure it belongs to this site and year).
    pub fn add(&mut self, p: &Purchase) {
        self.add_lines(p.family, p.characteristic_set(), p.price_cents, 1);
    }

    /// Adds one purchase's borrowed fields (the CLI's path: no record is built).
    pub fn add_fields(&mut self, p: &PurchaseFields<'_>) {
        self.add_lines(p.family, p.characteristic_set(), p.price_cents, 1);
    }

    /// Adds `count` purchases of one family and one set of codes costing `cents` together.
    /// Every total is linear in the price for a given family, codes and year, so adding lines
    /// one by one or their sum at once gives the same cents: the dashboard's aggregates rely on it.
    pub fn add_lines(&mut self, family: Family, set: CharacteristicSet, cents: i64, count: u64) {
        use Characteristic as C;
        let price = cents;
        let has = |c| set.contains(c);
        self.purchase_count += count;
        self.valeur_totale += price;
        let fair = has(C::CommerceEquitable);
        let group = set.egalim_group();
        match group {
            Some(EgalimGroup::Bio) => {
                self.valeur_bio += price;
                if fair {
                    self.valeur_bio_dont_commerce_equitable += price;
                }
            }
            Some(EgalimGroup::Siqo) => self.valeur_siqo += price,
            Some(EgalimGroup::EgalimAutres) => {
                self.valeur_egalim_autres += price;
                if fair {
                    self.valeur_egalim_autres_dont_commerce_equitable += price;
                }
            }
            Some(EgalimGroup::ExternalitesPerformance) => self.valeur_externalites_performance += price,
            None => {}
        }
        let egalim = group.is_some();
        let france = has(C::France);
        // In 2025 the platform counted short chain and local as France in the detailed table.
        let france_detail =
            if self.year == 2025 { france || has(C::CircuitCourt) || has(C::Local) } else { france };
        match family {
            Family::ViandesVolailles => {
                self.valeur_viandes_volailles += price;
                if egalim {
                    self.valeur_viandes_volailles_egalim += price;
                }
                // The platform's meat total is FRANCE only, whatever the year (it overrides the table).
                if france {
                    self.valeur_viandes_volailles_france += price;
                }
            }
            Family::ProduitsDeLaMer => {
                self.valeur_produits_de_la_mer += price;
                if egalim {
                    self.valeur_produits_de_la_mer_egalim += price;
                }
                if france_detail {
                    self.valeur_produits_de_la_mer_france += price;
                }
            }
            _ => {}
        }
        let row = &mut self.families[family_index(family)];
        row.labels[DetailLabel::of_set(set) as usize] += price;
        if has(C::Bio) && fair {
            row.bio_dont_commerce_equitable += price;
        }
        if family == Family::ViandesVolailles {
            if france {
                row.france += price;
            }
        } else if france_detail {
            row.france += price;
        }
        if has(C::Europe) {
            row.europe += price;
        }
        if has(C::CircuitCourt) {
            row.circuit_court += price;
        }
        if has(C::Local) {
            row.local += price;
        }
    }

    /// Every amount in a fixed order: the 13 simple fields, then per family (in `Family::ALL`
    /// order) its 11 label columns, `bio_dont_commerce_equitable`, `france`, `europe`,
    /// `circuit_court`, `local`, and last the purchase count. Each is a sum over the year's
    /// purchases, so slots add and subtract: a rollup kept per site and year (the server's)
    /// stores them, and a purchase's own slots are what it adds or, corrected or deleted, takes away.
    pub fn to_slots(&self) -> [i64; SLOT_COUNT] {
        let mut s = [0i64; SLOT_COUNT];
        for (i, (_, v)) in self.simple_fields().iter().enumerate() {
            s[i] = *v;
        }
        for (f, row) in self.families.iter().enumerate() {
            let base = 13 + f * 16;
            s[base..base + 11].copy_from_slice(&row.labels);
            s[base + 11] = row.bio_dont_commerce_equitable;
            s[base + 12] = row.france;
            s[base + 13] = row.europe;
            s[base + 14] = row.circuit_court;
            s[base + 15] = row.local;
        }
        s[SLOT_COUNT - 1] = self.purchase_count as i64;
        s
    }

    /// The totals whose [`YearTotals::to_slots`] are `slots` (missing slots are zero).
    pub fn from_slots(siret: impl Into<String>, year: i32, slots: &[i64]) -> YearTotals {
        let at = |i: usize| slots.get(i).copied().unwrap_or(0);
        let mut t = YearTotals::new(siret, year);
        let simple = [
            &mut t.valeur_totale,
            &mut t.valeur_bio,
            &mut t.valeur_bio_dont_commerce_equitable,
            &mut t.valeur_siqo,
            &mut t.valeur_egalim_autres,
            &mut t.valeur_egalim_autres_dont_commerce_equitable,
            &mut t.valeur_externalites_performance,
            &mut t.valeur_viandes_volailles,
            &mut t.valeur_viandes_volailles_egalim,
            &mut t.valeur_viandes_volailles_france,
            &mut t.valeur_produits_de_la_mer,
            &mut t.valeur_produits_de_la_mer_egalim,
            &mut t.valeur_produits_de_la_mer_france,
        ];
        for (i, v) in simple.into_iter().enumerate() {
            *v = at(i);
        }
        for (f, row) in t.families.iter_mut().enumerate() {
            let base = 13 + f * 16;
            for (l, v) in row.labels.iter_mut().enumerate() {
                *v = at(base + l);
            }
            row.bio_dont_commerce_equitable = at(base + 11);
            row.france = at(base + 12);
            row.europe = at(base + 13);
            row.circuit_court = at(base + 14);
            row.local = at(base + 15);
        }
        t.purchase_count = at(SLOT_COUNT - 1).max(0) as u64;
        t
    }

    /// The 13 simple fields and the purchase count, the family × label table left empty: what
    /// the shares, gauges and cost per meal read (`indicators`), without the detail only the
    /// tables by family show. Its slots are those below [`SIMPLE_FIELDS`]`.len()` and the last.
    pub fn simple_totals(&self) -> YearTotals {
        YearTotals { families: Default::default(), ..self.clone() }
    }

    /// Adds another site's totals of the same year (a commune's totals are its sites' sum).
    pub fn add_totals(&mut self, other: &YearTotals) {
        let (a, b) = (self.to_slots(), other.to_slots());
        let mut sum = [0i64; SLOT_COUNT];
        for i in 0..SLOT_COUNT {
            sum[i] = a[i] + b[i];
        }
        *self = YearTotals::from_slots(std::mem::take(&mut self.siret), self.year, &sum);
    }

    pub fn family(&self, f: Family) -> &FamilyTotals {
        &self.families[family_index(f)]
    }

    /// EGalim total: bio + SIQO + other EGalim + externalités/performance.
    pub fn valeur_egalim(&self) -> i64 {
        self.valeur_bio + self.valeur_siqo + self.valeur_egalim_autres + self.valeur_externalites_performance
    }

    /// The 13 simple fields as (national name, cents), in national order.
    pub fn simple_fields(&self) -> [(&'static str, i64); 13] {
        let v = [
            self.valeur_totale,
            self.valeur_bio,
            self.valeur_bio_dont_commerce_equitable,
            self.valeur_siqo,
            self.valeur_egalim_autres,
            self.valeur_egalim_autres_dont_commerce_equitable,
            self.valeur_externalites_performance,
            self.valeur_viandes_volailles,
            self.valeur_viandes_volailles_egalim,
            self.valeur_viandes_volailles_france,
            self.valeur_produits_de_la_mer,
            self.valeur_produits_de_la_mer_egalim,
            self.valeur_produits_de_la_mer_france,
        ];
        let mut out = [("", 0); 13];
        for (i, name) in SIMPLE_FIELDS.iter().enumerate() {
            out[i] = (name, v[i]);
        }
        out
    }

    /// The detailed fields `valeur_<famille>_<label>` as the platform returns them for this year:
    /// per family the labels in national order, `non_egalim`, `bio_dont_commerce_equitable`,
    /// then `france`, `europe` (from 2026), `circuit_court`, `local`. Names already among the
    /// simple fields (meat and fish `_france`) are not repeated.
    pub fn detailed_fields(&self) -> Vec<(String, i64)> {
        let mut out = Vec::with_capacity(8 * 16);
        for (i, f) in Family::ALL.iter().enumerate() {
            let row = &self.families[i];
            let k = f.key();
            for l in DetailLabel::ALL {
                out.push((format!("valeur_{k}_{}", l.key()), row.label(l)));
            }
            out.push((format!("valeur_{k}_bio_dont_commerce_equitable"), row.bio_dont_commerce_equitable));
            if !matches!(f, Family::ViandesVolailles | Family::ProduitsDeLaMer) {
                out.push((format!("valeur_{k}_france"), row.france));
            }
            if self.year >= 2026 {
                out.push((format!("valeur_{k}_europe"), row.europe));
            }
            out.push((format!("valeur_{k}_circuit_court"), row.circuit_court));
            out.push((format!("valeur_{k}_local"), row.local));
        }
        out
    }
}

/// JSON as the national platform names it: `siret`, `year`, then every `valeur_*` as a euro
/// string with two decimals ("1234.56"), simple fields first then the detailed table. A table
/// whose every cell is zero is left out: totals read without it (the territory's overview reads
/// the simple fields only) say nothing of the families rather than zeros, and its ~120 fields
/// per site are not written. Totals of purchases always have one (each price counts in a cell).
impl Serialize for YearTotals {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let empty = self.families.iter().all(|f| *f == FamilyTotals::default());
        let detailed = if empty { Vec::new() } else { self.detailed_fields() };
        let mut m = s.serialize_map(Some(2 + 13 + detailed.len()))?;
        m.serialize_entry("siret", &self.siret)?;
        m.serialize_entry("year", &self.year)?;
        for (k, v) in self.simple_fields() {
            m.serialize_entry(k, &format_euros(v))?;
        }
        for (k, v) in detailed {
            m.serialize_entry(&k, &format_euros(v))?;
        }
        m.end()
    }
}

/// Accumulates purchases into totals per (SIRET, calendar year), sorted by SIRET then year.
#[derive(Debug, Clone, Default)]
pub struct TotalsBuilder {
    // Keyed by SIRET then year so a purchase finds its totals by `&str`, without a key to build.
    by_site: BTreeMap<String, BTreeMap<i32, YearTotals>>,
}

impl TotalsBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, p: &Purchase) {
        self.add_fields(&p.fields());
    }

    /// Adds one purchase's fields; allocates only for a site or year not seen yet.
    pub fn add_fields(&mut self, p: &PurchaseFields<'_>) {
        use chrono::Datelike;
        let year = p.date.year();
        let years = match self.by_site.get_mut(p.siret) {
            Some(y) => y,
            None => self.by_site.entry(p.siret.to_owned()).or_default(),
        };
        years.entry(year).or_insert_with(|| YearTotals::new(p.siret, year)).add_fields(p);
    }

    pub fn finish(self) -> Vec<YearTotals> {
        self.by_site.into_values().flat_map(BTreeMap::into_values).collect()
    }

    /// Adds what `other` counted (another part of the same lines).
    pub fn merge(&mut self, other: TotalsBuilder) {
        for (siret, years) in other.by_site {
            let mine = self.by_site.entry(siret).or_default();
            for (year, totals) in years {
                match mine.get_mut(&year) {
                    Some(t) => t.add_totals(&totals),
                    None => {
                        mine.insert(year, totals);
                    }
                }
            }
        }
    }
}

/// Yearly totals of every site and year found in `purchases`, sorted by SIRET then year.
/// Deleted records (tombstones) are skipped.
pub fn yearly_totals<'a>(purchases: impl IntoIterator<Item = &'a Purchase>) -> Vec<YearTotals> {
    let mut b = TotalsBuilder::new();
    for p in purchases {
        if !p.meta.deleted {
            b.add(p);
        }
    }
    b.finish()
}

/// What storing purchase records does to their site's yearly rollup: for each change, the
/// stored purchase `old` (absent, deleted or not a purchase: `None`) is replaced by `new`
/// (likewise). Returns the non-zero deltas per (year, slot of [`YearTotals::to_slots`]), in
/// order; applied to the rollup they keep it equal to [`yearly_totals`] of the live purchases.
pub fn rollup_deltas<'a>(changes: impl IntoIterator<Item = (Option<&'a Purchase>, Option<&'a Purchase>)>) -> Vec<(i32, usize, i64)> {
    use chrono::Datelike;
    let mut deltas: BTreeMap<(i32, usize), i64> = BTreeMap::new();
    let mut apply = |p: &Purchase, sign: i64| {
        let year = p.date.year();
        let mut own = YearTotals::new(String::new(), year);
        own.add(p);
        for (slot, v) in own.to_slots().into_iter().enumerate() {
            if v != 0 {
                *deltas.entry((year, slot)).or_insert(0) += sign * v;
            }
        }
    };
    for (old, new) in changes {
        if let Some(p) = old.filter(|p| !p.meta.deleted) {
            apply(p, -1);
        }
        if let Some(p) = new.filter(|p| !p.meta.deleted) {
            apply(p, 1);
        }
    }
    deltas.into_iter().filter(|(_, v)| *v != 0).map(|((y, s), v)| (y, s, v)).collect()
}

/// The JSON document `{"sites": [...]}` of the `egalim` command and of exports.
pub fn totals_json(totals: &[YearTotals]) -> serde_json::Value {
    serde_json::json!({ "sites": totals })
}

/// A share in hundredths of a percent (2000 = 20.00 %), rounded to two decimals half-even
/// like the platform's `round(100 * part / total, 2)` on decimals.
pub fn percent_hundredths(part: i64, total: i64) -> Option<i64> {
    if total <= 0 {
        return None;
    }
    Some(div_round_half_even(part as i128 * 10_000, total as i128) as i64)
}

/// Cents of `part` still missing for its share of `total` to reach `threshold_percent`, the
/// total staying as it is (purchases moved from non-EGalim to EGalim, not added): the smallest
/// `x ≥ 0` with `percent_hundredths(part + x, total) ≥ threshold_percent × 100`, the share
/// rounded to two decimals half-even as the platform does. 0 exactly when the objective is
/// reached; `None` without a total.
pub fn missing_cents(part: i64, total: i64, threshold_percent: i64) -> Option<i64> {
    if total <= 0 {
        return None;
    }
    // The rounded share reaches t = threshold × 100 hundredths when the exact share is at least
    // t − ½: a tie rounds to the even neighbour, and t is even. So 20000 × (part + x) must be
    // at least (2t − 1) × total.
    let t = i128::from(threshold_percent) * 100;
    let need = ((2 * t - 1) * i128::from(total)).div_euclid(20_000)
        + i128::from(((2 * t - 1) * i128::from(total)).rem_euclid(20_000) != 0);
    Some((need - i128::from(part)).max(0) as i64)
}

fn div_round_half_even(num: i128, den: i128) -> i128 {
    let q = num.div_euclid(den);
    let r = num.rem_euclid(den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => {
            if q % 2 == 0 {
                q
            } else {
                q + 1
            }
        }
    }
}

/// Outcome of one objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Reached,
    NotReached,
    /// Nothing to measure (no purchases in the base) or the rule does not apply that year.
    NotApplicable,
}

/// One objective with its measured share and threshold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Objective {
    /// `bio`, `egalim`, `viandes_poissons_egalim`.
    pub code: &'static str,
    pub label_fr: &'static str,
    pub percent_hundredths: Option<i64>,
    pub threshold_percent: i64,
    pub outcome: Outcome,
}

/// Flag on the cost per meal (the platform treats these values as aberrant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostFlag {
    /// More than 20 € of food per meal.
    AboveTwentyEuros,
    /// Less than 0.10 € of food per meal.
    BelowTenCents,
}

/// Indicators of one site and year.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Indicators {
    pub bio_percent_hundredths: Option<i64>,
    pub siqo_percent_hundredths: Option<i64>,
    pub egalim_autres_percent_hundredths: Option<i64>,
    pub externalites_performance_percent_hundredths: Option<i64>,
    pub egalim_percent_hundredths: Option<i64>,
    /// EGalim share of meat (VIANDES_VOLAILLES) and fish together.
    pub viandes_poissons_egalim_percent_hundredths: Option<i64>,
    pub viandes_volailles_egalim_percent_hundredths: Option<i64>,
    pub viandes_volailles_france_percent_hundredths: Option<i64>,
    pub produits_de_la_mer_egalim_percent_hundredths: Option<i64>,
    pub produits_de_la_mer_france_percent_hundredths: Option<i64>,
    pub objectives: Vec<Objective>,
    /// valeur_totale ÷ yearly_meal_count, in cents rounded half-even (`cout_repas`).
    pub cost_per_meal_cents: Option<i64>,
    pub cost_flag: Option<CostFlag>,
}

/// First year the meat + fish objective (≥ 60 % EGalim) applies.
pub const MEAT_FISH_FROM_YEAR: i32 = 2024;
pub const MEAT_FISH_PERCENT: i64 = 60;

/// Reached when the share, rounded like the platform's, is at least the threshold.
pub fn outcome(percent: Option<i64>, threshold_percent: i64) -> Outcome {
    match percent {
        None => Outcome::NotApplicable,
        Some(p) if p >= threshold_percent * 100 => Outcome::Reached,
        Some(_) => Outcome::NotReached,
    }
}

/// Percentages, objectives and cost per meal of yearly totals.
/// Thresholds come from the site's region group (`site::RegionGroup::thresholds`).
pub fn indicators(t: &YearTotals, group: RegionGroup, yearly_meal_count: Option<u64>) -> Indicators {
    let total = t.valeur_totale;
    let th = group.thresholds();
    let (bio_th, egalim_th) = (i64::from(th.bio_percent), i64::from(th.egalim_percent));
    let bio = percent_hundredths(t.valeur_bio, total);
    let egalim = percent_hundredths(t.valeur_egalim(), total);
    let meat_fish_total = t.valeur_viandes_volailles + t.valeur_produits_de_la_mer;
    let meat_fish = percent_hundredths(t.valeur_viandes_volailles_egalim + t.valeur_produits_de_la_mer_egalim, meat_fish_total);
    let mut objectives = vec![
        Objective {
            code: "bio",
            label_fr: "Produits bio",
            percent_hundredths: bio,
            threshold_percent: bio_th,
            outcome: outcome(bio, bio_th),
        },
        Objective {
            code: "egalim",
            label_fr: "Produits durables et de qualité (EGalim, bio compris)",
            percent_hundredths: egalim,
            threshold_percent: egalim_th,
            outcome: outcome(egalim, egalim_th),
        },
    ];
    objectives.push(Objective {
        code: "viandes_poissons_egalim",
        label_fr: "Viandes et poissons EGalim",
        percent_hundredths: meat_fish,
        threshold_percent: MEAT_FISH_PERCENT,
        outcome: if t.year < MEAT_FISH_FROM_YEAR { Outcome::NotApplicable } else { outcome(meat_fish, MEAT_FISH_PERCENT) },
    });
    let cost = match yearly_meal_count {
        Some(n) if n > 0 && total > 0 => Some(div_round_half_even(total as i128, n as i128) as i64),
        _ => None,
    };
    let cost_flag = cost.and_then(|c| {
        if c > 2000 {
            Some(CostFlag::AboveTwentyEuros)
        } else if c < 10 {
            Some(CostFlag::BelowTenCents)
        } else {
            None
        }
    });
    Indicators {
        bio_percent_hundredths: bio,
        siqo_percent_hundredths: percent_hundredths(t.valeur_siqo, total),
        egalim_autres_percent_hundredths: percent_hundredths(t.valeur_egalim_autres, total),
        externalites_performance_percent_hundredths: percent_hundredths(t.valeur_externalites_performance, total),
        egalim_percent_hundredths: egalim,
        viandes_poissons_egalim_percent_hundredths: meat_fish,
        viandes_volailles_egalim_percent_hundredths: percent_hundredths(t.valeur_viandes_volailles_egalim, t.valeur_viandes_volailles),
        viandes_volailles_france_percent_hundredths: percent_hundredths(t.valeur_viandes_volailles_france, t.valeur_viandes_volailles),
        produits_de_la_mer_egalim_percent_hundredths: percent_hundredths(t.valeur_produits_de_la_mer_egalim, t.valeur_produits_de_la_mer),
        produits_de_la_mer_france_percent_hundredths: percent_hundredths(t.valeur_produits_de_la_mer_france, t.valeur_produits_de_la_mer),
        objectives,
        cost_per_meal_cents: cost,
        cost_flag,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn rollup_deltas_move_a_corrected_purchase_and_drop_a_deleted_one() {
        let now = chrono::DateTime::<chrono::Utc>::MIN_UTC;
        let p = |year: i32, cents: i64, deleted: bool| {
            let mut meta = crate::record::RecordMeta::new(uuid::Uuid::nil(), now);
            meta.deleted = deleted;
            Purchase {
                meta,
                siret: "21010034300016".into(),
                description: "x".into(),
                supplier: String::new(),
                date: chrono::NaiveDate::from_ymd_opt(year, 3, 1).unwrap(),
                price_cents: cents,
                family: Family::Boulangerie,
                characteristics: vec![Characteristic::Bio],
                local_definition: None,
                local_km: None,
            }
        };
        let (a, b, gone) = (p(2024, 1000, false), p(2025, 1200, false), p(2025, 1200, true));
        let moved = rollup_deltas([(Some(&a), Some(&b))]);
        let total = |d: &[(i32, usize, i64)], y: i32| d.iter().find(|(yy, s, _)| *yy == y && *s == 0).map(|x| x.2);
        assert_eq!((total(&moved, 2024), total(&moved, 2025)), (Some(-1000), Some(1200)));
        assert!(moved.iter().any(|&(y, s, v)| y == 2024 && s == SLOT_COUNT - 1 && v == -1));
        // Deleting: the stored version out, nothing in; a tombstone over nothing changes nothing.
        assert_eq!(total(&rollup_deltas([(Some(&b), Some(&gone))]), 2025), Some(-1200));
        assert!(rollup_deltas([(None, Some(&gone))]).is_empty());
        // The same content again (a duplicate revision) changes nothing.
        assert!(rollup_deltas([(Some(&b), Some(&b))]).is_empty());
    }

    proptest::proptest! {
        /// Slots round-trip, and a site-year's slots are the sum of its purchases' own slots
        /// (what the server's rollup relies on to add, correct and delete exactly).
        #[test]
        fn slots_add_up_purchase_by_purchase(seed in 0u64..u64::MAX, n in 0usize..40, year in 2023i32..2027) {
            let mut x = seed | 1;
            let mut next = move || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x };
            let mut whole = YearTotals::new("21010034300016", year);
            let mut summed = [0i64; SLOT_COUNT];
            for _ in 0..n {
                let r = next();
                let mut characteristics: Vec<Characteristic> = Characteristic::ALL.iter().copied().filter(|c| (r >> (*c as u32)) & 1 == 1 && *c != Characteristic::Europe).collect();
                if r >> 40 & 1 == 1 { characteristics.retain(|c| *c != Characteristic::France); }
                let p = crate::purchase::Purchase {
                    meta: crate::record::RecordMeta::new(uuid::Uuid::nil(), chrono::DateTime::<chrono::Utc>::MIN_UTC),
                    siret: "21010034300016".into(),
                    description: "x".into(),
                    supplier: String::new(),
                    date: chrono::NaiveDate::from_ymd_opt(year, 1 + (r >> 20) as u32 % 12, 1).unwrap(),
                    price_cents: (r >> 24) as i64 % 1_000_000,
                    family: Family::ALL[(r >> 50) as usize % 8],
                    characteristics,
                    local_definition: None,
                    local_km: None,
                };
                whole.add(&p);
                let mut own = YearTotals::new("", year);
                own.add(&p);
                for (s, v) in summed.iter_mut().zip(own.to_slots()) { *s += v; }
            }
            proptest::prop_assert_eq!(whole.to_slots(), summed);
            proptest::prop_assert_eq!(YearTotals::from_slots("21010034300016", year, &summed), whole.clone());
            // The simple totals keep exactly the simple slots and the count, and the same shares.
            let simple = whole.simple_totals().to_slots();
            for (i, (kept, all)) in simple.iter().zip(whole.to_slots()).enumerate() {
                let is_simple = i < SIMPLE_FIELDS.len() || i == SLOT_COUNT - 1;
                proptest::prop_assert_eq!(*kept, if is_simple { all } else { 0 });
            }
            for (group, meals) in [(RegionGroup::Mainland, None), (RegionGroup::Mainland, Some(n as u64 * 100 + 1))] {
                proptest::prop_assert_eq!(indicators(&whole.simple_totals(), group, meals), indicators(&whole, group, meals));
            }
            let mut twice = whole.clone();
            twice.add_totals(&whole);
            proptest::prop_assert_eq!(twice.valeur_totale, 2 * whole.valeur_totale);
            proptest::prop_assert_eq!(twice.purchase_count, 2 * whole.purchase_count);
        }
    }
    use super::*;
    use crate::purchase::Characteristic as C;
    use crate::record::RecordMeta;
    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;

    fn buy(date: &str, family: Family, chars: &[C], euros: i64) -> Purchase {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        Purchase {
            meta: RecordMeta::new(Uuid::nil(), now),
            siret: "21010034300016".into(),
            description: "x".into(),
            supplier: String::new(),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            price_cents: euros * 100,
            family,
            characteristics: chars.to_vec(),
            local_definition: None,
            local_km: None,
        }
    }

    fn one(ps: &[Purchase]) -> YearTotals {
        let mut v = yearly_totals(ps);
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    /// ma cantine's `test_purchase_total_summary` (CONVERSION_BIO is no longer a code: BIO here).
    #[test]
    fn national_total_summary_case() {
        let a = Family::Autres;
        let ps = vec![
            buy("2020-01-01", a, &[C::Bio, C::LabelRouge], 50),
            buy("2020-08-01", a, &[C::Bio, C::Igp], 150),
            buy("2020-01-01", a, &[C::Bio, C::CommerceEquitable], 20),
            buy("2020-01-01", a, &[C::Hve], 2),
            buy("2020-01-01", a, &[C::Hve], 8),
            buy("2020-01-01", a, &[C::LabelRouge], 12),
            buy("2020-01-01", a, &[C::LabelRouge], 8),
            buy("2020-01-01", a, &[C::Aocaop, C::Igp], 22),
            buy("2020-01-01", a, &[C::Igp], 4),
            buy("2020-01-01", a, &[C::Igp, C::Hve], 4),
            buy("2020-01-01", a, &[C::Externalites, C::Performance], 30),
            buy("2020-01-01", a, &[C::Performance], 15),
            buy("2020-01-08", a, &[C::PecheDurable], 240),
            buy("2020-01-15", a, &[C::CommerceEquitable], 10),
            buy("2020-01-01", a, &[], 500),
        ];
        let t = one(&ps);
        assert_eq!((t.siret.as_str(), t.year), ("21010034300016", 2020));
        assert_eq!(t.valeur_totale, 107500);
        assert_eq!(t.valeur_bio, 22000);
        assert_eq!(t.valeur_bio_dont_commerce_equitable, 2000);
        assert_eq!(t.valeur_siqo, 5000);
        assert_eq!(t.valeur_egalim_autres, 26000);
        assert_eq!(t.valeur_egalim_autres_dont_commerce_equitable, 1000);
        assert_eq!(t.valeur_externalites_performance, 4500);
        assert_eq!(t.valeur_egalim(), 22000 + 5000 + 26000 + 4500);
    }

    /// ma cantine's `test_complex_purchase_total_summary`.
    #[test]
    fn national_detailed_table_case() {
        let d = "2020-03-01";
        let ps = vec![
            buy(d, Family::FruitsEtLegumes, &[C::Bio, C::Aocaop], 120),
            buy(d, Family::FruitsEtLegumes, &[C::Bio, C::CommerceEquitable], 80),
            buy(d, Family::ViandesVolailles, &[C::Bio, C::CircuitCourt, C::Local], 10),
            buy(d, Family::FruitsEtLegumes, &[C::Aocaop], 20),
            buy(d, Family::FruitsEtLegumes, &[C::Stg, C::CommerceEquitable], 60),
            buy(d, Family::Autres, &[C::Local], 50),
            buy(d, Family::Autres, &[C::Local], 50),
            buy(d, Family::ViandesVolailles, &[C::CircuitCourt], 90),
            buy(d, Family::Autres, &[], 110),
            buy("2019-01-01", Family::Autres, &[C::Bio], 666),
        ];
        let all = yearly_totals(&ps);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].year, 2019);
        let t = &all[1];
        let fl = t.family(Family::FruitsEtLegumes);
        let vv = t.family(Family::ViandesVolailles);
        let au = t.family(Family::Autres);
        assert_eq!(t.valeur_totale, 59000);
        assert_eq!(fl.label(DetailLabel::Bio), 20000);
        assert_eq!(vv.label(DetailLabel::Bio), 1000);
        assert_eq!(fl.bio_dont_commerce_equitable, 8000);
        assert_eq!(vv.bio_dont_commerce_equitable, 0);
        assert_eq!(fl.label(DetailLabel::AocaopIgpStg), 8000);
        assert_eq!(fl.label(DetailLabel::CommerceEquitable), 0);
        assert_eq!(au.local, 10000);
        assert_eq!(vv.circuit_court, 10000);
        assert_eq!(vv.local, 1000);
        assert_eq!(au.label(DetailLabel::NonEgalim), 21000);
        assert_eq!(vv.label(DetailLabel::NonEgalim), 9000);
        assert_eq!(t.valeur_externalites_performance, 0);
        // The detailed table sums to the total: each purchase is in exactly one column.
        let sum: i64 = t.families.iter().flat_map(|f| f.labels.iter()).sum();
        assert_eq!(sum, t.valeur_totale);
    }

    /// ma cantine's `test_purchase_meat_totals`: EGalim once, France = FRANCE code.
    #[test]
    fn meat_totals() {
        let v = Family::ViandesVolailles;
        let ps = vec![
            buy("2020-01-01", v, &[C::Bio, C::LabelRouge, C::France], 50),
            buy("2020-01-01", v, &[C::Bio], 40),
            buy("2020-01-01", v, &[C::LabelRouge], 30),
            buy("2020-01-01", v, &[], 20),
            buy("2020-01-01", v, &[C::France], 15),
            buy("2020-01-01", Family::Charcuterie, &[C::Bio, C::France], 1000),
        ];
        let t = one(&ps);
        assert_eq!(t.valeur_viandes_volailles, 15500);
        assert_eq!(t.valeur_viandes_volailles_egalim, 12000);
        assert_eq!(t.valeur_viandes_volailles_france, 6500);
        assert_eq!(t.family(Family::ViandesVolailles).local, 0);
    }

    #[test]
    fn fish_totals_and_externalities_count_as_egalim() {
        let f = Family::ProduitsDeLaMer;
        let ps = vec![
            buy("2020-01-01", f, &[C::Bio, C::LabelRouge, C::France], 55),
            buy("2020-01-01", f, &[C::PecheDurable], 40),
            buy("2020-01-01", f, &[C::Performance], 30),
            buy("2020-01-01", f, &[C::France, C::Local], 20),
            buy("2020-01-01", f, &[C::CircuitCourt], 15),
        ];
        let t = one(&ps);
        assert_eq!(t.valeur_produits_de_la_mer, 16000);
        assert_eq!(t.valeur_produits_de_la_mer_egalim, 12500);
        assert_eq!(t.valeur_produits_de_la_mer_france, 7500);
    }

    /// For 2025 the platform counted short chain and local as France in the detailed table
    /// (and so in the fish total), but the meat total stays FRANCE only.
    #[test]
    fn year_2025_france_includes_short_chain_and_local_except_meat_total() {
        let ps = vec![
            buy("2025-02-01", Family::ProduitsDeLaMer, &[C::CircuitCourt], 10),
            buy("2025-02-01", Family::ProduitsDeLaMer, &[C::France], 5),
            buy("2025-02-01", Family::ViandesVolailles, &[C::Local], 7),
            buy("2025-02-01", Family::Autres, &[C::Local, C::CircuitCourt], 3),
        ];
        let t = one(&ps);
        assert_eq!(t.valeur_produits_de_la_mer_france, 1500);
        assert_eq!(t.valeur_viandes_volailles_france, 0);
        assert_eq!(t.family(Family::Autres).france, 300);
        let mut ps2 = ps.clone();
        for p in &mut ps2 {
            p.date = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        }
        let t = one(&ps2);
        assert_eq!(t.valeur_produits_de_la_mer_france, 500);
        assert_eq!(t.family(Family::Autres).france, 0);
    }

    #[test]
    fn commerce_equitable_dont_totals() {
        let a = Family::Autres;
        let t = one(&[
            buy("2024-01-01", a, &[C::Bio, C::CommerceEquitable], 10),
            buy("2024-01-01", a, &[C::Igp, C::CommerceEquitable], 20), // SIQO: in neither "dont"
            buy("2024-01-01", a, &[C::Hve, C::CommerceEquitable], 30),
            buy("2024-01-01", a, &[C::CommerceEquitable, C::Fermier], 40),
        ]);
        assert_eq!(t.valeur_bio_dont_commerce_equitable, 1000);
        assert_eq!(t.valeur_siqo, 2000);
        assert_eq!(t.valeur_egalim_autres, 7000);
        assert_eq!(t.valeur_egalim_autres_dont_commerce_equitable, 7000);
        let row = t.family(a);
        // Detailed order: hve before commerce_equitable before fermier.
        assert_eq!(row.label(DetailLabel::Hve), 3000);
        assert_eq!(row.label(DetailLabel::CommerceEquitable), 4000);
        assert_eq!(row.label(DetailLabel::Fermier), 0);
        assert_eq!(row.label(DetailLabel::AocaopIgpStg), 2000);
        assert_eq!(row.bio_dont_commerce_equitable, 1000);
    }

    #[test]
    fn detail_masks_and_family_rows() {
        for l in DetailLabel::ALL {
            for c in Characteristic::ALL {
                assert_eq!(l.mask() & c.bit() != 0, l.matches(c), "{l:?} {c:?}");
            }
        }
        for (i, f) in Family::ALL.iter().enumerate() {
            assert_eq!(family_index(*f), i);
        }
    }

    #[test]
    fn detail_column_and_group_agree() {
        for m in 0..=u16::MAX {
            let set = CharacteristicSet(m);
            assert_eq!(DetailLabel::of_set(set).group(), set.egalim_group(), "{set:?}");
        }
    }

    #[test]
    fn missing_cents_hand_computed() {
        // 150 € bio of 1 000 €: 199,95 € is 19,995 %, which rounds (half-even) to 20,00 %.
        assert_eq!(missing_cents(15_000, 100_000, 20), Some(4_995));
        assert_eq!(percent_hundredths(19_995, 100_000), Some(2000));
        assert_eq!(percent_hundredths(19_994, 100_000), Some(1999));
        assert_eq!(missing_cents(19_995, 100_000, 20), Some(0));
        assert_eq!(missing_cents(50_000, 100_000, 50), Some(0));
        // 3 cents: 1 cent is 33,33 %, 2 cents 66,67 %.
        assert_eq!(missing_cents(0, 3, 50), Some(2));
        assert_eq!(missing_cents(0, 0, 20), None);
        assert_eq!(missing_cents(0, 1, 100), Some(1));
    }

    #[test]
    fn detail_label_order() {
        let a = Family::Autres;
        assert_eq!(DetailLabel::of(&buy("2024-01-01", a, &[C::Igp, C::LabelRouge], 1)), DetailLabel::LabelRouge);
        assert_eq!(DetailLabel::of(&buy("2024-01-01", a, &[C::Performance, C::Externalites], 1)), DetailLabel::Externalites);
        assert_eq!(DetailLabel::of(&buy("2024-01-01", a, &[C::Fermier, C::Rup], 1)), DetailLabel::Rup);
        assert_eq!(DetailLabel::of(&buy("2024-01-01", a, &[C::France, C::Local], 1)), DetailLabel::NonEgalim);
    }

    #[test]
    fn totals_split_by_site_and_year_sorted() {
        let mut a = buy("2024-12-31", Family::Autres, &[], 1);
        a.siret = "B".into();
        let b = buy("2025-01-01", Family::Autres, &[], 2);
        let mut c = buy("2024-06-01", Family::Autres, &[], 4);
        c.siret = "A".into();
        let mut deleted = buy("2024-06-01", Family::Autres, &[], 8);
        deleted.siret = "A".into();
        deleted.meta = deleted.meta.deleted(deleted.meta.modified_at);
        let v = yearly_totals(&[a, b, c, deleted]);
        let keys: Vec<(String, i32, i64)> = v.iter().map(|t| (t.siret.clone(), t.year, t.valeur_totale)).collect();
        assert_eq!(
            keys,
            vec![("21010034300016".into(), 2025, 200), ("A".into(), 2024, 400), ("B".into(), 2024, 100)]
        );
    }

    #[test]
    fn percentages_round_half_even_to_hundredths() {
        assert_eq!(percent_hundredths(1, 3), Some(3333));
        assert_eq!(percent_hundredths(2, 3), Some(6667));
        assert_eq!(percent_hundredths(1, 8), Some(1250));
        // 12.345 % exactly: tie → even (12.34); 12.355 % → 12.36
        assert_eq!(percent_hundredths(12345, 100000), Some(1234));
        assert_eq!(percent_hundredths(12355, 100000), Some(1236));
        assert_eq!(percent_hundredths(5, 0), None);
    }

    #[test]
    fn objectives_mainland_and_overseas() {
        let a = Family::Autres;
        // 20 % bio, 30 % SIQO → 50 % EGalim: both reached in mainland.
        let t = one(&[
            buy("2023-01-01", a, &[C::Bio], 20),
            buy("2023-01-01", a, &[C::LabelRouge], 30),
            buy("2023-01-01", a, &[C::France, C::Local], 50),
        ]);
        let i = indicators(&t, RegionGroup::Mainland, Some(1000));
        assert_eq!(i.bio_percent_hundredths, Some(2000));
        assert_eq!(i.egalim_percent_hundredths, Some(5000));
        assert_eq!(i.objectives[0].outcome, Outcome::Reached);
        assert_eq!(i.objectives[1].outcome, Outcome::Reached);
        // Meat/fish rule does not apply before 2024.
        assert_eq!(i.objectives[2].outcome, Outcome::NotApplicable);
        // 100 € / 1000 meals = 0.10 €: not flagged.
        assert_eq!(i.cost_per_meal_cents, Some(10));
        assert_eq!(i.cost_flag, None);

        // 19.99 % bio fails in mainland, passes in the overseas groups.
        let t = one(&[buy("2023-01-01", a, &[C::Bio], 1999), buy("2023-01-01", a, &[], 8001)]);
        let i = indicators(&t, RegionGroup::Mainland, None);
        assert_eq!(i.objectives[0].outcome, Outcome::NotReached);
        assert_eq!(i.cost_per_meal_cents, None);
        let i = indicators(&t, RegionGroup::Mayotte, None);
        assert_eq!((i.objectives[0].threshold_percent, i.objectives[0].outcome), (2, Outcome::Reached));
        assert_eq!((i.objectives[1].threshold_percent, i.objectives[1].outcome), (5, Outcome::Reached));
        let i = indicators(&t, RegionGroup::SaintPierreEtMiquelon, None);
        assert_eq!(i.objectives[1].threshold_percent, 30);
        assert_eq!(i.objectives[1].outcome, Outcome::NotReached);
        let i = indicators(&t, RegionGroup::AntillesGuyaneReunionSaintMartin, None);
        assert_eq!((i.objectives[0].threshold_percent, i.objectives[1].threshold_percent), (5, 20));
    }

    #[test]
    fn meat_and_fish_sixty_percent_from_2024() {
        let t = one(&[
            buy("2024-05-01", Family::ViandesVolailles, &[C::LabelRouge], 40),
            buy("2024-05-01", Family::ProduitsDeLaMer, &[C::PecheDurable], 20),
            buy("2024-05-01", Family::ViandesVolailles, &[C::France], 40),
            buy("2024-05-01", Family::Charcuterie, &[], 1000), // not meat for EGalim
        ]);
        let i = indicators(&t, RegionGroup::Mainland, None);
        let o = &i.objectives[2];
        assert_eq!(o.code, "viandes_poissons_egalim");
        assert_eq!(o.percent_hundredths, Some(6000));
        assert_eq!(o.outcome, Outcome::Reached);
        assert_eq!(i.viandes_volailles_egalim_percent_hundredths, Some(5000));
        assert_eq!(i.produits_de_la_mer_egalim_percent_hundredths, Some(10000));
        let t = one(&[
            buy("2024-05-01", Family::ViandesVolailles, &[C::LabelRouge], 59),
            buy("2024-05-01", Family::ViandesVolailles, &[], 41),
        ]);
        assert_eq!(indicators(&t, RegionGroup::Mainland, None).objectives[2].outcome, Outcome::NotReached);
        let t = one(&[buy("2024-05-01", Family::Autres, &[], 41)]);
        assert_eq!(indicators(&t, RegionGroup::Mainland, None).objectives[2].outcome, Outcome::NotApplicable);
    }

    #[test]
    fn cost_per_meal_flags() {
        let t = one(&[buy("2024-05-01", Family::Autres, &[], 2001)]);
        let i = indicators(&t, RegionGroup::Mainland, Some(100));
        assert_eq!(i.cost_per_meal_cents, Some(2001));
        assert_eq!(i.cost_flag, Some(CostFlag::AboveTwentyEuros));
        let i = indicators(&t, RegionGroup::Mainland, Some(100_050)); // 200100 / 100050 = 2.0 cents
        assert_eq!(i.cost_per_meal_cents, Some(2));
        assert_eq!(i.cost_flag, Some(CostFlag::BelowTenCents));
        let t = one(&[buy("2024-05-01", Family::Autres, &[], 20)]);
        assert_eq!(indicators(&t, RegionGroup::Mainland, Some(100)).cost_flag, None); // exactly 20 €
        assert_eq!(indicators(&t, RegionGroup::Mainland, Some(0)).cost_per_meal_cents, None);
        // 25 cents over 2 meals = 12.5 → 12 (half-even)
        let mut p = buy("2024-05-01", Family::Autres, &[], 0);
        p.price_cents = 25;
        let t = one(&[p]);
        assert_eq!(indicators(&t, RegionGroup::Mainland, Some(2)).cost_per_meal_cents, Some(12));
    }

    #[test]
    fn json_field_names_and_order() {
        let t = one(&[buy("2026-01-02", Family::ProduitsDeLaMer, &[C::Bio, C::Europe], 12)]);
        let s = serde_json::to_string(&t).unwrap();
        assert!(s.starts_with("{\"siret\":\"21010034300016\",\"year\":2026,\"valeur_totale\":\"12.00\",\"valeur_bio\":\"12.00\""));
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        for name in SIMPLE_FIELDS {
            assert!(v.get(name).is_some(), "{name}");
        }
        assert_eq!(v["valeur_produits_de_la_mer_bio"], "12.00");
        assert_eq!(v["valeur_produits_de_la_mer_europe"], "12.00");
        assert_eq!(v["valeur_produits_de_la_mer_non_egalim"], "0.00");
        // 2 + 13 + 8 families × (11 labels + dont + europe + circuit_court + local) + 6 other france.
        assert_eq!(v.as_object().unwrap().len(), 2 + 13 + 8 * 15 + 6);
        // Before 2026 there is no europe column.
        let t = one(&[buy("2024-01-02", Family::Autres, &[], 1)]);
        let v = serde_json::to_value(&t).unwrap();
        assert!(v.get("valeur_autres_europe").is_none());
        assert!(v.get("valeur_autres_france").is_some());
    }
}
