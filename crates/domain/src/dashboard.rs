//! The EGalim dashboard of a site or of a commune's sites for one calendar year.
//!
//! One pass over the purchase lines sums their cents into a [`PurchaseCube`]: per (year, site,
//! month, family, set of codes), and per (year, site, family, set of codes, supplier). Every
//! figure is then computed from those sums through [`YearTotals::add_lines`], the one way the
//! domain totals purchases: every total is linear in the price once the family, the codes and
//! the year are fixed, so the dashboard's cents are the `egalim` command's cents. A filter
//! change (sites, year, families, codes) reads the sums, never the lines again.

use std::collections::BTreeMap;
use std::hash::Hash;

use rustc_hash::FxHashMap as HashMap;

use chrono::Datelike;
use serde::Serialize;

use crate::egalim::{
    family_index, indicators, missing_cents, outcome, percent_hundredths, DetailLabel, Indicators, Outcome, YearTotals,
    MEAT_FISH_FROM_YEAR, MEAT_FISH_PERCENT,
};
use crate::number::{format_euros, format_percent_hundredths};
use crate::purchase::{CharacteristicSet, Family, Purchase};
use crate::site::RegionGroup;

/// What the dashboard needs to know of a site besides its purchases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    pub siret: String,
    pub name: String,
    /// Meals per year (delivered meals included); 0 when unknown.
    pub yearly_meal_count: u32,
    pub region_group: RegionGroup,
}

/// Summed cents and line count of a group of purchases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Amount {
    cents: i64,
    lines: u64,
}

impl Amount {
    fn add(&mut self, cents: i64, sign: i64) {
        self.cents += sign * cents;
        // A removal always follows the addition of the same line.
        self.lines = self.lines.wrapping_add_signed(sign);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct MonthKey {
    site: u32,
    /// 0 = January.
    month: u8,
    /// Index in `Family::ALL`.
    family: u8,
    set: CharacteristicSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SupplierKey {
    site: u32,
    family: u8,
    set: CharacteristicSet,
    supplier: u32,
}

/// Sums by key, stored densely so that a filter reads them as a plain slice.
#[derive(Debug, Clone)]
struct Cells<K> {
    index: HashMap<K, u32>,
    rows: Vec<(K, Amount)>,
}

impl<K> Default for Cells<K> {
    fn default() -> Self {
        Cells { index: HashMap::default(), rows: Vec::new() }
    }
}

impl<K: Copy + Eq + Hash> Cells<K> {
    fn add(&mut self, key: K, cents: i64, sign: i64) {
        let rows = &mut self.rows;
        let i = *self.index.entry(key).or_insert_with(|| {
            rows.push((key, Amount::default()));
            (rows.len() - 1) as u32
        });
        rows[i as usize].1.add(cents, sign);
    }
}

#[derive(Debug, Clone, Default)]
struct YearCells {
    months: Cells<MonthKey>,
    suppliers: Cells<SupplierKey>,
}

/// The purchases of any number of sites and years, summed for the dashboard. Built in one pass
/// ([`PurchaseCube::from_purchases`]); kept up to date line by line ([`PurchaseCube::add`],
/// [`PurchaseCube::remove`]) when a purchase is typed, corrected or deleted.
#[derive(Debug, Clone, Default)]
pub struct PurchaseCube {
    sirets: Vec<String>,
    site_index: HashMap<String, u32>,
    /// Display name of each supplier: the first spelling met.
    supplier_names: Vec<String>,
    /// Exact spelling → supplier (the fast path: no allocation for a spelling already met).
    supplier_spelling: HashMap<String, u32>,
    /// Normalised name (trimmed, lower case, single spaces) → supplier.
    supplier_index: HashMap<String, u32>,
    years: BTreeMap<i32, YearCells>,
}

/// The supplier name two spellings share when they differ only by case and spaces.
fn supplier_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl PurchaseCube {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sums the live purchases (tombstones are skipped, as the yearly totals do).
    pub fn from_purchases<'a>(purchases: impl IntoIterator<Item = &'a Purchase>) -> Self {
        let mut cube = Self::new();
        for p in purchases {
            cube.add(p);
        }
        cube
    }

    /// Adds a live purchase (a tombstone adds nothing).
    pub fn add(&mut self, p: &Purchase) {
        if !p.meta.deleted {
            self.apply(p, 1);
        }
    }

    /// Takes back a purchase added earlier (its previous version when it is corrected or deleted).
    pub fn remove(&mut self, p: &Purchase) {
        if !p.meta.deleted {
            self.apply(p, -1);
        }
    }

    fn site(&mut self, siret: &str) -> u32 {
        if let Some(&i) = self.site_index.get(siret) {
            return i;
        }
        let i = self.sirets.len() as u32;
        self.sirets.push(siret.to_owned());
        self.site_index.insert(siret.to_owned(), i);
        i
    }

    fn supplier(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.supplier_spelling.get(name) {
            return i;
        }
        let key = supplier_key(name);
        let i = match self.supplier_index.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.supplier_names.len() as u32;
                self.supplier_names.push(name.trim().to_owned());
                self.supplier_index.insert(key, i);
                i
            }
        };
        self.supplier_spelling.insert(name.to_owned(), i);
        i
    }

    fn apply(&mut self, p: &Purchase, sign: i64) {
        let site = self.site(&p.siret);
        let supplier = self.supplier(&p.supplier);
        let family = family_index(p.family) as u8;
        let set = p.characteristic_set();
        let cells = self.years.entry(p.date.year()).or_default();
        let month = p.date.month0() as u8;
        cells.months.add(MonthKey { site, month, family, set }, p.price_cents, sign);
        cells.suppliers.add(SupplierKey { site, family, set, supplier }, p.price_cents, sign);
    }

    /// Every SIRET met, in the order first met.
    pub fn sirets(&self) -> &[String] {
        &self.sirets
    }

    /// Years with purchases, oldest first.
    pub fn years(&self) -> Vec<i32> {
        self.years
            .iter()
            .filter(|(_, c)| c.months.rows.iter().any(|(_, a)| a.lines > 0))
            .map(|(y, _)| *y)
            .collect()
    }

    /// The yearly totals of the purchases the filter keeps, for `year` (the filter's year is
    /// ignored). `siret` of the result: the site's when the filter keeps exactly one, else empty.
    pub fn year_totals(&self, filter: &Filter, year: i32) -> YearTotals {
        let sel = Selection::new(self, filter);
        let mut t = YearTotals::new(sel.siret_label(self), year);
        if let Some(cells) = self.years.get(&year) {
            for (k, a) in &cells.months.rows {
                if sel.keeps(k.site, k.family, k.set) {
                    t.add_lines(Family::ALL[k.family as usize], k.set, a.cents, a.lines);
                }
            }
        }
        t
    }

    /// The totals of each month of `year` (January first) for the purchases the filter keeps.
    pub fn month_totals(&self, filter: &Filter, year: i32) -> Vec<YearTotals> {
        let sel = Selection::new(self, filter);
        let label = sel.siret_label(self);
        let mut months: Vec<YearTotals> = (0..12).map(|_| YearTotals::new(label.clone(), year)).collect();
        if let Some(cells) = self.years.get(&year) {
            for (k, a) in &cells.months.rows {
                if sel.keeps(k.site, k.family, k.set) {
                    months[k.month as usize].add_lines(Family::ALL[k.family as usize], k.set, a.cents, a.lines);
                }
            }
        }
        months
    }

    /// Suppliers by spend (largest first, then by name), `limit` of them, with their totals.
    pub fn top_suppliers(&self, filter: &Filter, limit: usize) -> Vec<SupplierRow> {
        let sel = Selection::new(self, filter);
        let Some(cells) = self.years.get(&filter.year) else { return Vec::new() };
        // Dense by supplier number: a filter change reads the cells once more, no hashing.
        let mut spend = vec![Amount::default(); self.supplier_names.len()];
        for (k, a) in &cells.suppliers.rows {
            if sel.keeps(k.site, k.family, k.set) {
                let e = &mut spend[k.supplier as usize];
                e.cents += a.cents;
                e.lines += a.lines;
            }
        }
        let mut ranked: Vec<(u32, Amount)> =
            spend.into_iter().enumerate().filter(|(_, a)| a.lines > 0).map(|(s, a)| (s as u32, a)).collect();
        ranked.sort_by(|a, b| {
            b.1.cents
                .cmp(&a.1.cents)
                .then_with(|| self.supplier_names[a.0 as usize].cmp(&self.supplier_names[b.0 as usize]))
        });
        ranked.truncate(limit);
        let mut totals: Vec<YearTotals> = ranked.iter().map(|_| YearTotals::new(String::new(), filter.year)).collect();
        let mut rank = vec![u32::MAX; self.supplier_names.len()];
        for (i, (s, _)) in ranked.iter().enumerate() {
            rank[*s as usize] = i as u32;
        }
        for (k, a) in &cells.suppliers.rows {
            let i = rank[k.supplier as usize];
            if i != u32::MAX && sel.keeps(k.site, k.family, k.set) {
                totals[i as usize].add_lines(Family::ALL[k.family as usize], k.set, a.cents, a.lines);
            }
        }
        ranked
            .iter()
            .zip(totals)
            .map(|((s, _), t)| SupplierRow {
                name: self.supplier_names[*s as usize].clone(),
                lines: t.purchase_count,
                total_cents: t.valeur_totale,
                egalim_cents: t.valeur_egalim(),
                bio_cents: t.valeur_bio,
                egalim_percent_hundredths: percent_hundredths(t.valeur_egalim(), t.valeur_totale),
            })
            .collect()
    }

    /// The whole dashboard for the filter, thresholds and meals from `sites`.
    pub fn dashboard(&self, filter: &Filter, sites: &[SiteInfo], top_suppliers: usize) -> Dashboard {
        let year = filter.year;
        let totals = self.year_totals(filter, year);
        let selected = self.selected_sites(filter, sites);
        let mut notes = Vec::new();
        let groups: Vec<RegionGroup> = selected.iter().filter_map(|s| s.info.map(|i| i.region_group)).collect();
        let region_group = match groups.first() {
            Some(&g) if groups.iter().all(|&x| x == g) => g,
            Some(_) => {
                notes.push(
                    "Les sites choisis n'ont pas les mêmes seuils (outre-mer et métropole) : les seuils de la métropole sont appliqués ; choisissez un seul site pour ses seuils."
                        .to_owned(),
                );
                RegionGroup::Mainland
            }
            None => RegionGroup::Mainland,
        };
        let without_meals: Vec<&str> = selected
            .iter()
            .filter(|s| s.info.is_none_or(|i| i.yearly_meal_count == 0))
            .map(|s| s.info.map_or(s.siret.as_str(), |i| i.name.as_str()))
            .collect();
        let yearly_meal_count = if selected.is_empty() || !without_meals.is_empty() {
            None
        } else {
            Some(selected.iter().filter_map(|s| s.info).map(|i| u64::from(i.yearly_meal_count)).sum())
        };
        if !without_meals.is_empty() && totals.valeur_totale > 0 {
            notes.push(format!(
                "Nombre de repas par an non renseigné pour {} : le coût par repas ne peut pas être calculé. Renseignez-le dans la fiche du site.",
                without_meals.join(", ")
            ));
        }
        let ind = indicators(&totals, region_group, yearly_meal_count);
        let shares = share_gauges(&totals, &ind);
        let this = cumulative(&self.month_totals(filter, year));
        let last = cumulative(&self.month_totals(filter, year - 1));
        let curve = (0..12)
            .map(|m| CurvePoint { month: m as u8 + 1, this_year: this[m], last_year: last[m] })
            .collect();
        Dashboard {
            year,
            sirets: selected.iter().map(|s| s.siret.clone()).collect(),
            region_group,
            yearly_meal_count,
            shares,
            curve,
            suppliers: self.top_suppliers(filter, top_suppliers),
            notes,
            indicators: ind,
            totals,
        }
    }

    /// The sites the filter keeps: those with purchases and those described in `sites`.
    fn selected_sites<'a>(&'a self, filter: &Filter, sites: &'a [SiteInfo]) -> Vec<Selected<'a>> {
        let mut out: Vec<Selected<'a>> = Vec::new();
        let known = |siret: &str| sites.iter().find(|s| s.siret == siret);
        let wanted = |siret: &str| filter.sirets.is_empty() || filter.sirets.iter().any(|s| s == siret);
        for s in sites.iter().filter(|s| wanted(&s.siret)) {
            out.push(Selected { siret: s.siret.clone(), info: Some(s) });
        }
        for siret in self.sirets.iter().filter(|s| wanted(s) && known(s).is_none()) {
            out.push(Selected { siret: siret.clone(), info: None });
        }
        out
    }
}

struct Selected<'a> {
    siret: String,
    info: Option<&'a SiteInfo>,
}

/// Which purchases a dashboard reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub year: i32,
    /// The sites; empty: every site.
    pub sirets: Vec<String>,
    /// The families; empty: every family.
    pub families: Vec<Family>,
    /// Keeps the lines having at least one of these codes; empty: every line.
    pub characteristics: CharacteristicSet,
}

impl Filter {
    pub fn year(year: i32) -> Self {
        Filter { year, ..Filter::default() }
    }

    /// Whether a purchase passes the filter (whatever its year): the same rule the aggregates apply.
    pub fn keeps(&self, p: &Purchase) -> bool {
        (self.sirets.is_empty() || self.sirets.contains(&p.siret))
            && (self.families.is_empty() || self.families.contains(&p.family))
            && (self.characteristics.0 == 0 || p.characteristic_set().intersects(self.characteristics))
    }
}

/// A filter resolved against a cube's site numbers.
struct Selection {
    /// Indexed by site number; `None`: every site.
    sites: Option<Vec<bool>>,
    families: u8,
    characteristics: CharacteristicSet,
}

impl Selection {
    fn new(cube: &PurchaseCube, f: &Filter) -> Self {
        let sites = (!f.sirets.is_empty()).then(|| cube.sirets.iter().map(|s| f.sirets.contains(s)).collect());
        let families = if f.families.is_empty() {
            u8::MAX
        } else {
            f.families.iter().fold(0u8, |m, &x| m | 1 << family_index(x))
        };
        Selection { sites, families, characteristics: f.characteristics }
    }

    fn keeps(&self, site: u32, family: u8, set: CharacteristicSet) -> bool {
        self.sites.as_ref().is_none_or(|s| s[site as usize])
            && self.families & (1 << family) != 0
            && (self.characteristics.0 == 0 || set.intersects(self.characteristics))
    }

    /// The SIRET to name totals with: the one site kept, else empty.
    fn siret_label(&self, cube: &PurchaseCube) -> String {
        match &self.sites {
            Some(s) if s.iter().filter(|k| **k).count() == 1 => {
                cube.sirets[s.iter().position(|k| *k).expect("one kept")].clone()
            }
            None if cube.sirets.len() == 1 => cube.sirets[0].clone(),
            _ => String::new(),
        }
    }
}

/// One share the law sets, against its threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareGauge {
    /// `bio`, `egalim`, `viandes_volailles_egalim`, `produits_de_la_mer_egalim`.
    pub code: &'static str,
    pub label_fr: &'static str,
    /// Cents of the part (e.g. bio purchases) and of its base (all purchases, or the family's).
    pub part_cents: i64,
    pub base_cents: i64,
    /// Rounded to two decimals half-even, as the platform does.
    pub percent_hundredths: Option<i64>,
    pub threshold_percent: i64,
    pub outcome: Outcome,
    /// Cents of purchases that would have to move into the part, the base staying as it is,
    /// for the share to reach the threshold as the platform rounds it (two decimals, half-even:
    /// 19,995 % counts as 20,00 %): 0 exactly when it is reached; `None` without a base or
    /// before the rule applies. See `egalim::missing_cents`.
    pub missing_cents: Option<i64>,
}

impl ShareGauge {
    /// What the purchases of the part are, after « d'achats ».
    fn kind_fr(&self) -> &'static str {
        match self.code {
            "bio" => "bio",
            "viandes_volailles_egalim" => "de viandes et volailles EGalim",
            "produits_de_la_mer_egalim" => "de poissons et produits de la mer EGalim",
            _ => "EGalim",
        }
    }

    /// One French sentence: the share, the threshold, and what is missing.
    pub fn summary_fr(&self) -> String {
        let label = self.label_fr;
        let th = self.threshold_percent;
        let Some(p) = self.percent_hundredths.map(format_percent_hundredths) else {
            return format!("{label} : aucun achat concerné cette année (objectif {th} %).");
        };
        match (self.outcome, self.missing_cents) {
            (Outcome::Reached, _) => format!("{label} : {p}, objectif de {th} % atteint."),
            (Outcome::NotReached, Some(m)) => format!(
                "{label} : {p}, objectif {th} % non atteint : il manque {} d'achats {} (à montant total égal).",
                format_euros(m),
                self.kind_fr()
            ),
            _ => format!("{label} : {p} (objectif de {th} % à partir de {MEAT_FISH_FROM_YEAR})."),
        }
    }
}

pub(crate) fn share_gauges(t: &YearTotals, ind: &Indicators) -> Vec<ShareGauge> {
    let mut out: Vec<ShareGauge> = Vec::with_capacity(4);
    for (o, part) in ind.objectives.iter().zip([t.valeur_bio, t.valeur_egalim()]) {
        out.push(ShareGauge {
            code: o.code,
            label_fr: o.label_fr,
            part_cents: part,
            base_cents: t.valeur_totale,
            percent_hundredths: o.percent_hundredths,
            threshold_percent: o.threshold_percent,
            outcome: o.outcome,
            missing_cents: missing_cents(part, t.valeur_totale, o.threshold_percent),
        });
    }
    let applies = t.year >= MEAT_FISH_FROM_YEAR;
    for (code, label_fr, part, base, percent) in [
        (
            "viandes_volailles_egalim",
            "Viandes et volailles EGalim",
            t.valeur_viandes_volailles_egalim,
            t.valeur_viandes_volailles,
            ind.viandes_volailles_egalim_percent_hundredths,
        ),
        (
            "produits_de_la_mer_egalim",
            "Poissons et produits de la mer EGalim",
            t.valeur_produits_de_la_mer_egalim,
            t.valeur_produits_de_la_mer,
            ind.produits_de_la_mer_egalim_percent_hundredths,
        ),
    ] {
        out.push(ShareGauge {
            code,
            label_fr,
            part_cents: part,
            base_cents: base,
            percent_hundredths: percent,
            threshold_percent: MEAT_FISH_PERCENT,
            outcome: if applies { outcome(percent, MEAT_FISH_PERCENT) } else { Outcome::NotApplicable },
            missing_cents: if applies { missing_cents(part, base, MEAT_FISH_PERCENT) } else { None },
        });
    }
    out
}

/// Cumulative cents from January to the end of a month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Cumulative {
    pub total_cents: i64,
    pub egalim_cents: i64,
    pub bio_cents: i64,
}

impl Cumulative {
    /// The EGalim share of the year so far.
    pub fn egalim_percent_hundredths(&self) -> Option<i64> {
        percent_hundredths(self.egalim_cents, self.total_cents)
    }

    pub fn bio_percent_hundredths(&self) -> Option<i64> {
        percent_hundredths(self.bio_cents, self.total_cents)
    }
}

fn cumulative(months: &[YearTotals]) -> Vec<Cumulative> {
    let mut acc = Cumulative::default();
    months
        .iter()
        .map(|m| {
            acc.total_cents += m.valeur_totale;
            acc.egalim_cents += m.valeur_egalim();
            acc.bio_cents += m.valeur_bio;
            acc
        })
        .collect()
}

/// One month of the cumulative curve, with the previous year's same month beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CurvePoint {
    /// 1 = January.
    pub month: u8,
    pub this_year: Cumulative,
    pub last_year: Cumulative,
}

/// A supplier's spend over the filtered purchases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplierRow {
    /// As first written (suppliers differing only by case and spaces are one).
    pub name: String,
    pub lines: u64,
    pub total_cents: i64,
    pub egalim_cents: i64,
    pub bio_cents: i64,
    pub egalim_percent_hundredths: Option<i64>,
}

/// Everything the dashboard draws for one filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub year: i32,
    /// The sites read (given or with purchases), in the order of `sites` then of the purchases.
    pub sirets: Vec<String>,
    pub region_group: RegionGroup,
    /// Meals per year of the sites read; `None` when one of them has none.
    pub yearly_meal_count: Option<u64>,
    /// The year's totals: the family × label table is `totals.families` (see [`Dashboard::grid`]).
    pub totals: YearTotals,
    /// Shares, objectives and cost per meal (`indicators.cost_per_meal_cents`).
    pub indicators: Indicators,
    /// Bio, EGalim, meat and poultry, fish: each against its threshold.
    pub shares: Vec<ShareGauge>,
    /// January to December.
    pub curve: Vec<CurvePoint>,
    pub suppliers: Vec<SupplierRow>,
    /// French notes on what the figures could not take into account.
    pub notes: Vec<String>,
}

impl Dashboard {
    /// Spend by family (rows, national order) × label (columns, `DetailLabel::ALL`), in cents.
    /// Each purchase is in exactly one cell: the cells add up to `totals.valeur_totale`.
    pub fn grid(&self) -> Vec<(Family, [i64; 11])> {
        Family::ALL.iter().map(|&f| (f, self.totals.family(f).labels)).collect()
    }

    /// The columns of [`Dashboard::grid`].
    pub fn grid_labels() -> [DetailLabel; 11] {
        DetailLabel::ALL
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egalim::yearly_totals;
    use crate::purchase::Characteristic as C;
    use crate::record::RecordMeta;
    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;

    const A: &str = "21010034300016";
    const B: &str = "65449096241683";

    fn buy(siret: &str, date: &str, supplier: &str, family: Family, chars: &[C], cents: i64) -> Purchase {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        Purchase {
            meta: RecordMeta::new(Uuid::nil(), now),
            siret: siret.into(),
            description: "x".into(),
            supplier: supplier.into(),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            price_cents: cents,
            family,
            characteristics: chars.to_vec(),
            local_definition: None,
            local_km: None,
        }
    }

    fn site(siret: &str, meals: u32, region_group: RegionGroup) -> SiteInfo {
        SiteInfo { siret: siret.into(), name: format!("École {}", &siret[..3]), yearly_meal_count: meals, region_group }
    }

    /// Site A 2025: 1 000 € of which 150 € bio, 250 € Label rouge; meat 200 € of which 100 € EGalim;
    /// fish 100 € all EGalim. Site B 2025: 1 000 €, nothing EGalim. 2024: 300 € at site A.
    fn lines() -> Vec<Purchase> {
        let a = Family::Autres;
        vec![
            buy(A, "2025-01-10", "Metro", a, &[C::Bio, C::France], 15_000),
            buy(A, "2025-03-05", "METRO", Family::ViandesVolailles, &[C::LabelRouge], 10_000),
            buy(A, "2025-03-20", "Boucherie", Family::ViandesVolailles, &[C::France], 10_000),
            buy(A, "2025-06-01", "Marée", Family::ProduitsDeLaMer, &[C::PecheDurable], 10_000),
            buy(A, "2025-06-02", "Pomona", Family::FruitsEtLegumes, &[C::LabelRouge, C::Bio], 0),
            buy(A, "2025-11-30", "Pomona", Family::FruitsEtLegumes, &[C::LabelRouge], 15_000),
            buy(A, "2025-12-31", " pomona ", a, &[C::Local, C::CircuitCourt], 40_000),
            buy(B, "2025-05-05", "Metro", a, &[], 100_000),
            buy(A, "2024-02-01", "Metro", a, &[C::Bio], 30_000),
        ]
    }

    #[test]
    fn one_site_shares_missing_euros_curve_suppliers_and_cost() {
        let cube = PurchaseCube::from_purchases(&lines());
        let sites = [site(A, 4_000, RegionGroup::Mainland), site(B, 5_000, RegionGroup::Mainland)];
        let d = cube.dashboard(&Filter { sirets: vec![A.into()], ..Filter::year(2025) }, &sites, 2);
        assert_eq!(d.sirets, vec![A.to_owned()]);
        assert_eq!(d.totals.siret, A);
        assert_eq!(d.totals.valeur_totale, 100_000);
        assert_eq!(d.totals.purchase_count, 7);
        let g: Vec<(&str, Option<i64>, Outcome, Option<i64>)> =
            d.shares.iter().map(|s| (s.code, s.percent_hundredths, s.outcome, s.missing_cents)).collect();
        assert_eq!(
            g,
            vec![
                // 150 € of 1 000 €: 15 %. 199,95 € rounds to 20,00 % (half-even, as the
                // platform): 49,95 € short.
                ("bio", Some(1500), Outcome::NotReached, Some(4_995)),
                // 150 + 250 (Label rouge) + 100 (pêche durable) = 500 €: 50 % exactly.
                ("egalim", Some(5000), Outcome::Reached, Some(0)),
                // 100 € of 200 €: 50 %; 119,99 € of 200 € rounds to 60,00 %: 19,99 € short.
                ("viandes_volailles_egalim", Some(5000), Outcome::NotReached, Some(1_999)),
                ("produits_de_la_mer_egalim", Some(10000), Outcome::Reached, Some(0)),
            ]
        );
        // 1 000 € for 4 000 meals: 0.25 €.
        assert_eq!(d.yearly_meal_count, Some(4_000));
        assert_eq!(d.indicators.cost_per_meal_cents, Some(25));
        // Cumulative curve: January 150 €, March 350 €, June 450 €, November 600 €, December 1 000 €;
        // last year 300 € from February on.
        let totals: Vec<i64> = d.curve.iter().map(|p| p.this_year.total_cents).collect();
        assert_eq!(
            totals,
            vec![15_000, 15_000, 35_000, 35_000, 35_000, 45_000, 45_000, 45_000, 45_000, 45_000, 60_000, 100_000]
        );
        assert_eq!(d.curve[2].this_year.egalim_cents, 25_000);
        assert_eq!(d.curve[2].this_year.egalim_percent_hundredths(), Some(7143));
        assert_eq!(d.curve[0].last_year.total_cents, 0);
        assert_eq!(d.curve[1].last_year, Cumulative { total_cents: 30_000, egalim_cents: 30_000, bio_cents: 30_000 });
        // Suppliers: "Pomona" and " pomona " are one (550 €), "Metro" and "METRO" are one (250 €).
        let s: Vec<(&str, i64, i64, u64)> =
            d.suppliers.iter().map(|r| (r.name.as_str(), r.total_cents, r.egalim_cents, r.lines)).collect();
        assert_eq!(s, vec![("Pomona", 55_000, 15_000, 3), ("Metro", 25_000, 25_000, 2)]);
        // Family × label: Label rouge and bio on one line count once, in the bio column.
        let grid = d.grid();
        let fl = grid.iter().find(|(f, _)| *f == Family::FruitsEtLegumes).unwrap().1;
        assert_eq!(fl[DetailLabel::LabelRouge as usize], 15_000);
        assert_eq!(fl[DetailLabel::Bio as usize], 0);
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    #[test]
    fn gauge_sentences() {
        let cube = PurchaseCube::from_purchases(&lines());
        let d = cube.dashboard(&Filter { sirets: vec![A.into()], ..Filter::year(2025) }, &[], 2);
        let s: Vec<String> = d.shares.iter().map(ShareGauge::summary_fr).collect();
        assert_eq!(s[0], "Produits bio : 15,00\u{202F}%, objectif 20 % non atteint : il manque 49,95\u{202F}€ d'achats bio (à montant total égal).");
        assert_eq!(s[1], "Produits durables et de qualité (EGalim, bio compris) : 50,00\u{202F}%, objectif de 50 % atteint.");
        assert!(s[2].ends_with("il manque 19,99\u{202F}€ d'achats de viandes et volailles EGalim (à montant total égal)."), "{}", s[2]);
        let ps = [buy(A, "2023-04-01", "F", Family::ViandesVolailles, &[], 1_000)];
        let d = PurchaseCube::from_purchases(&ps).dashboard(&Filter::year(2023), &[], 5);
        assert_eq!(d.shares[2].summary_fr(), "Viandes et volailles EGalim : 0,00\u{202F}% (objectif de 60 % à partir de 2024).");
        assert_eq!(d.shares[3].summary_fr(), "Poissons et produits de la mer EGalim : aucun achat concerné cette année (objectif 60 %).");
    }

    #[test]
    fn commune_sums_its_sites_and_their_meals() {
        let cube = PurchaseCube::from_purchases(&lines());
        let sites = [site(A, 4_000, RegionGroup::Mainland), site(B, 6_000, RegionGroup::Mainland)];
        let d = cube.dashboard(&Filter::year(2025), &sites, 10);
        assert_eq!(d.totals.siret, "");
        assert_eq!(d.totals.valeur_totale, 200_000);
        assert_eq!(d.sirets, vec![A.to_owned(), B.to_owned()]);
        // 2 000 € for 10 000 meals.
        assert_eq!(d.indicators.cost_per_meal_cents, Some(20));
        // EGalim 500 € of 2 000 € = 25 %: 999,90 € is 49,995 %, which rounds to 50,00 %.
        assert_eq!(d.shares[1].percent_hundredths, Some(2500));
        assert_eq!(d.shares[1].missing_cents, Some(49_990));
        // Metro at both sites: 250 € + 1 000 €.
        assert_eq!(d.suppliers[0].name, "Metro");
        assert_eq!(d.suppliers[0].total_cents, 125_000);
        // The commune's totals are the sum of the `egalim` command's per-site totals.
        let per_site = yearly_totals(&lines());
        let sum: i64 = per_site.iter().filter(|t| t.year == 2025).map(|t| t.valeur_totale).sum();
        assert_eq!(d.totals.valeur_totale, sum);
    }

    #[test]
    fn overseas_thresholds_and_sites_without_meals() {
        let cube = PurchaseCube::from_purchases(&lines());
        // Site A in Mayotte: bio 2 %, EGalim 5 %.
        let sites = [site(A, 0, RegionGroup::Mayotte), site(B, 5_000, RegionGroup::Mainland)];
        let d = cube.dashboard(&Filter { sirets: vec![A.into()], ..Filter::year(2025) }, &sites, 5);
        assert_eq!(d.region_group, RegionGroup::Mayotte);
        assert_eq!((d.shares[0].threshold_percent, d.shares[0].outcome), (2, Outcome::Reached));
        assert_eq!(d.shares[0].missing_cents, Some(0));
        assert_eq!(d.yearly_meal_count, None);
        assert_eq!(d.indicators.cost_per_meal_cents, None);
        assert!(d.notes[0].contains("École 210"), "{:?}", d.notes);
        // Mixed regions: the mainland's thresholds, said in a note.
        let d = cube.dashboard(&Filter::year(2025), &sites, 5);
        assert_eq!(d.region_group, RegionGroup::Mainland);
        assert_eq!(d.shares[0].threshold_percent, 20);
        assert!(d.notes.iter().any(|n| n.contains("mêmes seuils")));
    }

    #[test]
    fn meat_and_fish_rule_before_2024_does_not_apply() {
        let ps = [buy(A, "2023-04-01", "F", Family::ViandesVolailles, &[], 1_000)];
        let d = PurchaseCube::from_purchases(&ps).dashboard(&Filter::year(2023), &[], 5);
        assert_eq!(d.shares[2].outcome, Outcome::NotApplicable);
        assert_eq!(d.shares[2].missing_cents, None);
        assert_eq!(d.shares[2].percent_hundredths, Some(0));
    }

    #[test]
    fn filters_on_families_and_codes() {
        let cube = PurchaseCube::from_purchases(&lines());
        let f = Filter { families: vec![Family::ViandesVolailles], ..Filter::year(2025) };
        assert_eq!(cube.year_totals(&f, 2025).valeur_totale, 20_000);
        let f = Filter { characteristics: CharacteristicSet::of(&[C::Local, C::PecheDurable]), ..Filter::year(2025) };
        assert_eq!(cube.year_totals(&f, 2025).valeur_totale, 50_000);
        assert_eq!(cube.years(), vec![2024, 2025]);
    }

    #[test]
    fn a_corrected_line_moves_its_cents() {
        let ps = lines();
        let mut cube = PurchaseCube::from_purchases(&ps);
        let mut fixed = ps[7].clone();
        fixed.characteristics = vec![C::Bio];
        cube.remove(&ps[7]);
        cube.add(&fixed);
        let f = Filter { sirets: vec![B.into()], ..Filter::year(2025) };
        assert_eq!(cube.year_totals(&f, 2025).valeur_bio, 100_000);
        assert_eq!(cube.year_totals(&f, 2025).purchase_count, 1);
        // A deleted line goes: its tombstone adds nothing.
        cube.remove(&fixed);
        cube.add(&fixed.clone().tap_delete());
        assert_eq!(cube.year_totals(&f, 2025).purchase_count, 0);
        assert!(cube.top_suppliers(&f, 5).is_empty());
    }

    trait TapDelete {
        fn tap_delete(self) -> Self;
    }
    impl TapDelete for Purchase {
        fn tap_delete(mut self) -> Self {
            self.meta = self.meta.deleted(self.meta.modified_at);
            self
        }
    }
}
