//! Food-waste weighings, indicators, reference values and campaigns (ma cantine's
//! WasteMeasurement).
//!
//! Decisions, so that figures are comparable and never counted twice:
//! - A weighing whose surplus was re-served (`resservi`) or donated (`don`) still fed people:
//!   it is kept as "recovered" and is NOT counted as waste. Compost / methanisation and
//!   animal feed are treatments of food lost for people: counted as waste.
//! - Per-meal figures only use measured days: a (site, service date) with at least one weighing
//!   and a meal count. Weighings of a day without a count are left out and listed, so the app
//!   can ask for the missing count; days counted but not weighed are left out too.
//! - Shares are per-mille (tenths of a percent) by the largest-remainder method, so the shown
//!   shares always add up to exactly 100,0 %.
//! - A weighing without an edible/inedible split is assumed 15 % inedible (ma cantine's
//!   protocol), rounded half-up to the gram, and the result is flagged as an estimate.
//! - A weighing may be split by component or not (`component: None`, "non trié"): the
//!   per-component table has a bucket for it.
//! - Campaigns follow the national rules (start strictly before end, end not in the future,
//!   no overlap between a canteen's campaigns). Fewer than 5 measured service days (the 2026
//!   protocol for schools) only warns: the 20-consecutive-meals mode (Décret 2022-480) and
//!   four-day school weeks are legitimate, and the national platform accepts such periods.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::meals::SiteDay;
use crate::meals::{check_service_date, forecast_gap_ratio, meal_totals, DailyMealCount};
use crate::number::{format_fr_date, format_kg};
use crate::record::RecordMeta;
use crate::site::Site;
use crate::validation::{Validation, Warning};

/// A single weighing above this asks for confirmation (100 kg).
pub const WEIGHING_WARNING_GRAMS: u64 = 100_000;
/// A single weighing above this is refused as a unit error (10 t).
pub const WEIGHING_MAX_GRAMS: u64 = 10_000_000;
/// A day above this many grams of waste per meal asks for confirmation.
pub const PLAUSIBLE_MAX_GRAMS_PER_MEAL: u64 = 400;
/// Inedible share assumed for unsorted weighings (ma cantine protocol).
pub const UNSORTED_INEDIBLE_PERCENT: u64 = 15;
/// Minimum measured service days of a school campaign (ma cantine 2026 protocol).
pub const MIN_CAMPAIGN_SERVICE_DAYS: u32 = 5;

/// Where in the service the food was lost (EU 2019/1597, Décret 2022-480, ma cantine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Excédents de préparation / pertes en cuisine.
    Preparation,
    /// Excédents présentés non servis.
    Unserved,
    /// Restes assiettes / retours plateaux.
    Leftovers,
}
crate::code_enum!(Stage { Preparation => "preparation", Unserved => "unserved", Leftovers => "leftovers" });

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Preparation, Stage::Unserved, Stage::Leftovers];
    pub fn label(self) -> &'static str {
        match self {
            Stage::Preparation => "Excédents de préparation",
            Stage::Unserved => "Présentés non servis",
            Stage::Leftovers => "Restes assiettes",
        }
    }
}

/// Menu component (ADEME 2024 study categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    Entree,
    /// Viande, poisson, œuf.
    PlatProtidique,
    /// Légumes, féculents.
    Accompagnement,
    /// Fromage, laitage.
    ProduitLaitier,
    /// Dessert, fruit.
    Dessert,
    Pain,
}
crate::code_enum!(Component { Entree => "entree", PlatProtidique => "plat_protidique", Accompagnement => "accompagnement", ProduitLaitier => "produit_laitier", Dessert => "dessert", Pain => "pain" });

impl Component {
    pub const ALL: [Component; 6] = [
        Component::Entree,
        Component::PlatProtidique,
        Component::Accompagnement,
        Component::ProduitLaitier,
        Component::Dessert,
        Component::Pain,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Component::Entree => "Entrée",
            Component::PlatProtidique => "Plat protidique (viande, poisson, œuf)",
            Component::Accompagnement => "Accompagnement (légumes, féculents)",
            Component::ProduitLaitier => "Produit laitier (fromage, laitage)",
            Component::Dessert => "Dessert, fruit",
            Component::Pain => "Pain",
        }
    }
}

/// Label of an optional component; `None` is a weighing of all components together.
pub fn component_label(c: Option<Component>) -> &'static str {
    c.map_or("Non trié par composante", Component::label)
}

/// Where a surplus went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    /// Resservi / réutilisé (e.g. at the next service): not waste.
    Reused,
    /// Donné (association, personnel…): not waste.
    Donation,
    AnimalFeed,
    CompostMethanisation,
}
crate::code_enum!(Destination { Reused => "resservi", Donation => "don", AnimalFeed => "alimentation_animale", CompostMethanisation => "compost_methanisation" });

impl Destination {
    pub const ALL: [Destination; 4] = [
        Destination::Reused,
        Destination::Donation,
        Destination::AnimalFeed,
        Destination::CompostMethanisation,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Destination::Reused => "Resservi / réutilisé",
            Destination::Donation => "Don",
            Destination::AnimalFeed => "Alimentation animale",
            Destination::CompostMethanisation => "Compost / méthanisation",
        }
    }

    /// Food that still fed people: recorded, but not counted as waste.
    pub fn feeds_people(self) -> bool {
        matches!(self, Destination::Reused | Destination::Donation)
    }
}

/// A weighing sorted into edible (comestible) and inedible (bones, peels) parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdibleSplit {
    pub edible_grams: u64,
    pub inedible_grams: u64,
}

/// Inedible grams assumed for an unsorted mass: 15 %, rounded half-up to the gram.
pub fn estimated_inedible_grams(mass_grams: u64) -> u64 {
    ((u128::from(mass_grams) * u128::from(UNSORTED_INEDIBLE_PERCENT) + 50) / 100) as u64
}

/// One weighing of one stage (and optionally one component) of one service day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weighing {
    pub meta: RecordMeta,
    pub site_id: Uuid,
    #[serde(with = "crate::time::date")]
    pub service_date: NaiveDate,
    pub stage: Stage,
    /// `None`: all components in one bin.
    #[serde(default)]
    pub component: Option<Component>,
    /// Total mass weighed (edible + inedible).
    pub mass_grams: u64,
    /// `None`: not sorted, 15 % inedible assumed.
    #[serde(default)]
    pub sorted: Option<EdibleSplit>,
    #[serde(default)]
    pub destination: Option<Destination>,
}

impl Weighing {
    /// Live and not recovered for people: part of the waste figures.
    pub fn counts_as_waste(&self) -> bool {
        !self.meta.deleted && !self.destination.is_some_and(Destination::feeds_people)
    }

    /// (edible, inedible) grams; for an unsorted weighing, the 15 % estimate.
    pub fn edible_inedible(&self) -> (u64, u64) {
        match self.sorted {
            Some(s) => (s.edible_grams, s.inedible_grams),
            None => {
                let inedible = estimated_inedible_grams(self.mass_grams);
                (self.mass_grams - inedible, inedible)
            }
        }
    }

    /// Errors refuse the record; warnings ask for confirmation. `today` is the device's date.
    pub fn validate(&self, today: NaiveDate) -> Validation {
        let mut v = Validation::default();
        if self.site_id.is_nil() {
            v.error("site_id", "Choisissez le restaurant.");
        }
        check_service_date(&mut v, "service_date", self.service_date, today);
        if self.mass_grams == 0 {
            v.error(
                "mass_grams",
                "Saisissez la masse pesée, supérieure à 0 kg (par exemple 2,5).",
            );
        } else if self.mass_grams > WEIGHING_MAX_GRAMS {
            v.error(
                "mass_grams",
                format!(
                    "{} : masse impossible pour une pesée (plus de {}). Vérifiez l'unité : la masse se saisit en kg.",
                    format_kg(self.mass_grams),
                    format_kg(WEIGHING_MAX_GRAMS)
                ),
            );
        } else if self.mass_grams > WEIGHING_WARNING_GRAMS {
            v.warn(
                "mass_grams",
                "weighing_over_100_kg",
                format!(
                    "{} en une pesée, c'est plus de 100 kg : confirmez la masse (saisie en kg, pas en g).",
                    format_kg(self.mass_grams)
                ),
            );
        }
        if let Some(s) = self.sorted {
            let sum = u128::from(s.edible_grams) + u128::from(s.inedible_grams);
            if self.mass_grams > 0 && sum != u128::from(self.mass_grams) {
                v.error(
                    "sorted",
                    format!(
                        "Comestible ({}) + non comestible ({}) ne font pas la masse totale ({}) : corrigez l'une des trois masses.",
                        format_kg(s.edible_grams),
                        format_kg(s.inedible_grams),
                        format_kg(self.mass_grams)
                    ),
                );
            }
        }
        if let Some(d) = self.destination {
            if d.feeds_people() && self.stage == Stage::Leftovers {
                v.error(
                    "destination",
                    format!(
                        "Les restes d'assiettes ne peuvent pas être « {} » : choisissez compost / méthanisation, alimentation animale ou aucune destination.",
                        d.label()
                    ),
                );
            }
        }
        v
    }

    /// Checks against the canteen the weighing belongs to.
    pub fn validate_for_site(&self, site: &Site) -> Validation {
        let mut v = Validation::default();
        if self.site_id != site.meta.id {
            v.error(
                "site_id",
                format!(
                    "Cette pesée n'appartient pas au restaurant « {} ».",
                    site.name
                ),
            );
        }
        if self.stage == Stage::Preparation && !site.production_type.cooks_on_site() {
            v.warn(
                "stage",
                "preparation_at_satellite",
                format!(
                    "« {} » est un restaurant satellite : les excédents de préparation se pèsent d'habitude à la cuisine centrale. Confirmez l'étape.",
                    site.name
                ),
            );
        }
        v
    }
}

/// An inclusive period of service dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        Self { start, end }
    }
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }
    /// Inclusive periods sharing at least one day.
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}


/// Edible vs inedible waste.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdibleBreakdown {
    pub edible_grams: u64,
    pub inedible_grams: u64,
    /// Mass of the unsorted weighings, whose split is the 15 % assumption.
    pub estimated_from_grams: u64,
    /// True when any part of the split is assumed rather than weighed.
    pub is_estimate: bool,
}

/// One row of a breakdown: its grams, its share and its grams per meal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share<K> {
    pub key: K,
    pub grams: u64,
    /// Tenths of a percent; the rows of one table add up to exactly 1000 (0 when empty).
    pub per_mille: u32,
    pub grams_per_meal: Option<f64>,
}

/// Shares in per-mille by the largest-remainder method: they add up to exactly 1000 when the
/// total is positive (ties go to the earlier row), all 0 otherwise.
pub fn shares_per_mille(values: &[u64]) -> Vec<u32> {
    let total: u128 = values.iter().map(|v| u128::from(*v)).sum();
    if total == 0 {
        return vec![0; values.len()];
    }
    let mut shares: Vec<u32> = values
        .iter()
        .map(|v| (u128::from(*v) * 1000 / total) as u32)
        .collect();
    let remainder = |i: usize| u128::from(values[i]) * 1000 % total;
    let mut bumped = vec![false; values.len()];
    // Fewer than one point per row is missing, so each row gets at most one. The rows are a
    // handful of stages or components: picking the largest remainder left, one at a time,
    // needs no sort (whose code the tablet would carry).
    for _ in shares.iter().sum::<u32>()..1000 {
        let mut best: Option<usize> = None;
        for i in (0..values.len()).filter(|i| !bumped[*i]) {
            if best.is_none_or(|b| remainder(i) > remainder(b)) {
                best = Some(i);
            }
        }
        let Some(i) = best else { break };
        bumped[i] = true;
        shares[i] += 1;
    }
    shares
}

pub(crate) fn per_meal(grams: u64, meals: u64) -> Option<f64> {
    (meals > 0).then(|| grams as f64 / meals as f64)
}

/// Per-stage sums used by the indicators and the national measurement.
#[derive(Debug, Clone, Copy, Default)]
struct StageAcc {
    total: u64,
    weighings: u32,
    unsorted_weighings: u32,
    edible: u64,
    inedible: u64,
    unsorted_mass: u64,
}

/// What the weighings of measured days add up to.
#[derive(Debug, Default)]
struct Aggregate {
    measured_days: BTreeSet<SiteDay>,
    days_without_count: BTreeSet<SiteDay>,
    meals: u64,
    children: u64,
    recovered: u64,
    stages: BTreeMap<Stage, StageAcc>,
    /// Measured days on which each stage was weighed (recovered surplus included).
    stage_days: BTreeMap<Stage, BTreeSet<SiteDay>>,
    /// Meals of those days.
    stage_meals: BTreeMap<Stage, u64>,
    components: BTreeMap<Option<Component>, u64>,
}

impl Aggregate {
    fn total(&self) -> u64 {
        self.stages.values().map(|s| s.total).sum()
    }

    /// Meals of the measured days on which `stage` was weighed; `None` when it never was.
    /// A stage's g per meal divides by these (see `territory::WastePeriod` for why).
    fn stage_meals(&self, stage: Stage) -> Option<u64> {
        self.stage_meals.get(&stage).copied()
    }

    fn build(
        meals: &[DailyMealCount],
        weighings: &[Weighing],
        range: DateRange,
        site: Option<Uuid>,
    ) -> Self {
        let in_scope = |s: Uuid, d: NaiveDate| range.contains(d) && site.is_none_or(|id| id == s);
        let mut served: BTreeMap<SiteDay, (u64, u64)> = BTreeMap::new();
        for c in meals
            .iter()
            .filter(|c| !c.meta.deleted && in_scope(c.site_id, c.service_date))
        {
            let e = served
                .entry(SiteDay {
                    site_id: c.site_id,
                    service_date: c.service_date,
                })
                .or_default();
            e.0 += c.served_total();
            e.1 += u64::from(c.served_children);
        }
        let mut agg = Aggregate::default();
        let live = weighings
            .iter()
            .filter(|w| !w.meta.deleted && in_scope(w.site_id, w.service_date));
        for w in live {
            let day = SiteDay {
                site_id: w.site_id,
                service_date: w.service_date,
            };
            match served.get(&day) {
                Some((total, _)) if *total > 0 => {
                    agg.measured_days.insert(day);
                    agg.stage_days.entry(w.stage).or_default().insert(day);
                }
                _ => {
                    agg.days_without_count.insert(day);
                    continue;
                }
            }
            if !w.counts_as_waste() {
                agg.recovered += w.mass_grams;
                continue;
            }
            let (edible, inedible) = w.edible_inedible();
            let s = agg.stages.entry(w.stage).or_default();
            s.total += w.mass_grams;
            s.weighings += 1;
            s.edible += edible;
            s.inedible += inedible;
            if w.sorted.is_none() {
                s.unsorted_weighings += 1;
                s.unsorted_mass += w.mass_grams;
            }
            *agg.components.entry(w.component).or_default() += w.mass_grams;
        }
        for day in &agg.measured_days {
            let (total, children) = served[day];
            agg.meals += total;
            agg.children += children;
        }
        for (stage, days) in &agg.stage_days {
            agg.stage_meals.insert(*stage, days.iter().map(|d| served[d].0).sum());
        }
        agg
    }
}

/// Waste indicators of a period, over the records given (one canteen, or several to compare
/// a commune or the metropolis as a whole).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WasteIndicators {
    pub range: DateRange,
    /// (site, day) pairs with weighings and a meal count.
    pub measured_days: u32,
    /// All covers (children + adults) of the measured days.
    pub meals_served: u64,
    pub children_served: u64,
    /// Waste of the measured days (recovered surplus excluded).
    pub total_grams: u64,
    /// Surplus re-served or donated on the measured days: not waste.
    pub recovered_grams: u64,
    pub grams_per_meal: Option<f64>,
    /// Waste divided by children's meals only.
    pub grams_per_child_meal: Option<f64>,
    /// Edible waste per meal (the ADEME 2024 references are edible only).
    pub edible_grams_per_meal: Option<f64>,
    /// Every stage, in `Stage::ALL` order.
    pub by_stage: Vec<Share<Stage>>,
    /// Every component in `Component::ALL` order, then the unsorted bucket (`None`).
    pub by_component: Vec<Share<Option<Component>>>,
    pub edible: EdibleBreakdown,
    /// Forecast gap of every count in the period (days with a planned count).
    pub forecast_gap: Option<f64>,
    /// Days with weighings but no meal count: left out of every figure above.
    pub days_without_count: Vec<SiteDay>,
}

impl WasteIndicators {
    /// Computes the indicators of the live records dated within `range` (all sites given).
    pub fn compute(meals: &[DailyMealCount], weighings: &[Weighing], range: DateRange) -> Self {
        Self::from_aggregate(
            Aggregate::build(meals, weighings, range, None),
            meals,
            range,
            None,
        )
    }

    fn from_aggregate(
        agg: Aggregate,
        meals: &[DailyMealCount],
        range: DateRange,
        site: Option<Uuid>,
    ) -> Self {
        let total = agg.total();
        let m = agg.meals;
        let stage_grams: Vec<u64> = Stage::ALL
            .iter()
            .map(|s| agg.stages.get(s).map_or(0, |a| a.total))
            .collect();
        let by_stage = Stage::ALL
            .iter()
            .zip(shares_per_mille(&stage_grams))
            .zip(&stage_grams)
            .map(|((k, pm), g)| Share {
                key: *k,
                grams: *g,
                per_mille: pm,
                grams_per_meal: agg.stage_meals(*k).and_then(|meals| per_meal(*g, meals)),
            })
            .collect();
        let keys: Vec<Option<Component>> = Component::ALL
            .iter()
            .map(|c| Some(*c))
            .chain([None])
            .collect();
        let comp_grams: Vec<u64> = keys
            .iter()
            .map(|k| agg.components.get(k).copied().unwrap_or(0))
            .collect();
        let by_component = keys
            .iter()
            .zip(shares_per_mille(&comp_grams))
            .zip(&comp_grams)
            .map(|((k, pm), g)| Share {
                key: *k,
                grams: *g,
                per_mille: pm,
                grams_per_meal: per_meal(*g, m),
            })
            .collect();
        let edible = EdibleBreakdown {
            edible_grams: agg.stages.values().map(|s| s.edible).sum(),
            inedible_grams: agg.stages.values().map(|s| s.inedible).sum(),
            estimated_from_grams: agg.stages.values().map(|s| s.unsorted_mass).sum(),
            is_estimate: agg.stages.values().any(|s| s.unsorted_weighings > 0),
        };
        let counts: Vec<DailyMealCount>;
        let meal_slice = match site {
            Some(id) => {
                counts = meals.iter().filter(|c| c.site_id == id).cloned().collect();
                &counts[..]
            }
            None => meals,
        };
        let totals = meal_totals(meal_slice, range.start, range.end);
        WasteIndicators {
            range,
            measured_days: agg.measured_days.len() as u32,
            meals_served: m,
            children_served: agg.children,
            total_grams: total,
            recovered_grams: agg.recovered,
            grams_per_meal: per_meal(total, m),
            grams_per_child_meal: per_meal(total, agg.children),
            edible_grams_per_meal: per_meal(edible.edible_grams, m),
            by_stage,
            by_component,
            edible,
            forecast_gap: forecast_gap_ratio(totals.planned, totals.served_on_planned_days),
            days_without_count: agg.days_without_count.into_iter().collect(),
        }
    }

    /// Waste over a year: grams ÷ meals of the period × yearly meals.
    pub fn yearly_estimate_grams(&self, yearly_meal_count: u32) -> Option<u64> {
        yearly_estimate_grams(self.total_grams, self.meals_served, yearly_meal_count)
    }

    /// Reduction of g per meal against a baseline period: 1 − current ÷ baseline.
    pub fn reduction_against(&self, baseline: &WasteIndicators) -> Option<f64> {
        reduction(baseline.grams_per_meal?, self.grams_per_meal?)
    }
}

/// grams ÷ meals × yearly meals, rounded half-up to the gram; `None` without meals.
pub fn yearly_estimate_grams(grams: u64, meals: u64, yearly_meal_count: u32) -> Option<u64> {
    if meals == 0 {
        return None;
    }
    let num = u128::from(grams) * u128::from(yearly_meal_count);
    let m = u128::from(meals);
    u64::try_from((num * 2 + m) / (2 * m)).ok()
}

/// 1 − current ÷ baseline (0.25 = waste down by 25 %; negative when it grew). `None` when
/// the baseline is not positive.
pub fn reduction(baseline: f64, current: f64) -> Option<f64> {
    (baseline > 0.0 && baseline.is_finite() && current.is_finite())
        .then(|| 1.0 - current / baseline)
}

/// A conversion factor the metropolis may change, always shown with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    pub value: f64,
    pub unit: String,
    pub source: String,
}

impl Factor {
    pub fn validate(&self, field: &str) -> Validation {
        let mut v = Validation::default();
        if !self.value.is_finite() || self.value < 0.0 {
            v.error(field, "Le facteur doit être un nombre positif ou nul.");
        } else if self.value > 1_000.0 {
            v.error(
                field,
                "Facteur impossible (plus de 1 000 par kg) : vérifiez l'unité.",
            );
        }
        if self.unit.trim().is_empty() {
            v.error(field, "Indiquez l'unité du facteur.");
        }
        if self.source.trim().is_empty() {
            v.error(field, "Indiquez la source du facteur (étude, année) : elle est affichée à côté du résultat.");
        }
        v
    }
}

/// The factors turning waste into money and greenhouse gases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WasteFactors {
    /// Euros of food per kg wasted.
    pub cost_per_kg: Factor,
    /// kg CO2e per kg wasted.
    pub co2e_per_kg: Factor,
}

impl Default for WasteFactors {
    fn default() -> Self {
        WasteFactors {
            cost_per_kg: Factor {
                value: 2.4,
                unit: "€/kg".into(),
                source: "ADEME 2016, « Pertes et gaspillages alimentaires : l'état des lieux et leur gestion par étapes de la chaîne alimentaire » : 0,27 € de denrées par repas pour 113 g perdus, soit environ 2,4 €/kg (coût complet avec main-d'œuvre et traitement : 0,68 € par repas).".into(),
            },
            co2e_per_kg: Factor {
                value: 4.0,
                unit: "kg CO2e/kg".into(),
                source: "ADEME 2016, même étude : 452 g CO2e de pertes par repas pour 113 g perdus, soit environ 4 kg CO2e par kg.".into(),
            },
        }
    }
}

impl WasteFactors {
    /// Cost in cents: kg × €/kg, rounded half away from zero to the cent.
    pub fn cost_cents(&self, grams: u64) -> i64 {
        (grams as f64 * self.cost_per_kg.value / 10.0).round() as i64
    }
    /// Grams of CO2e: kg × kg CO2e/kg, rounded to the gram.
    pub fn co2e_grams(&self, grams: u64) -> u64 {
        (grams as f64 * self.co2e_per_kg.value).round() as u64
    }
    pub fn validate(&self) -> Validation {
        let mut v = self.cost_per_kg.validate("cost_per_kg");
        v.merge(self.co2e_per_kg.validate("co2e_per_kg"));
        v
    }
}

/// A published reference of waste per meal and per diner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReferenceValue {
    pub key: &'static str,
    pub label: &'static str,
    pub grams_per_meal: u32,
    /// True when the figure counts the edible part only (ADEME 2024).
    pub edible_only: bool,
    pub source: &'static str,
}

const ADEME_2024: &str = "ADEME 2024, étude sur le gaspillage alimentaire en restauration collective (partie comestible)";
const ADEME_2020: &str =
    "ADEME 2020, étude sur le gaspillage alimentaire en restauration collective";
const ADEME_2018: &str =
    "ADEME 2018, guide « Réduire le gaspillage alimentaire en restauration collective »";
const REGAL: &str = "RÉGAL Normandie, Défi Assiettes Vides, écoles primaires";

/// Reference values, g per meal per diner, with their sources.
pub const REFERENCE_VALUES: &[ReferenceValue] = &[
    ReferenceValue {
        key: "ademe_2024_schools",
        label: "Scolaire",
        grams_per_meal: 100,
        edible_only: true,
        source: ADEME_2024,
    },
    ReferenceValue {
        key: "ademe_2024_direct",
        label: "Scolaire, gestion directe",
        grams_per_meal: 110,
        edible_only: true,
        source: ADEME_2024,
    },
    ReferenceValue {
        key: "ademe_2024_conceded",
        label: "Scolaire, gestion concédée",
        grams_per_meal: 100,
        edible_only: true,
        source: ADEME_2024,
    },
    ReferenceValue {
        key: "ademe_2024_cooked_on_site",
        label: "Cuisine sur place",
        grams_per_meal: 95,
        edible_only: true,
        source: ADEME_2024,
    },
    ReferenceValue {
        key: "ademe_2024_hot_delivery",
        label: "Liaison chaude",
        grams_per_meal: 120,
        edible_only: true,
        source: ADEME_2024,
    },
    ReferenceValue {
        key: "ademe_2024_cold_delivery",
        label: "Liaison froide",
        grams_per_meal: 130,
        edible_only: true,
        source: ADEME_2024,
    },
    ReferenceValue {
        key: "ademe_2020_schools",
        label: "Scolaire",
        grams_per_meal: 110,
        edible_only: false,
        source: ADEME_2020,
    },
    ReferenceValue {
        key: "ademe_2020_conceded",
        label: "Scolaire, gestion concédée",
        grams_per_meal: 144,
        edible_only: false,
        source: ADEME_2020,
    },
    ReferenceValue {
        key: "ademe_2020_direct",
        label: "Scolaire, gestion directe",
        grams_per_meal: 116,
        edible_only: false,
        source: ADEME_2020,
    },
    ReferenceValue {
        key: "ademe_2018_elementaire",
        label: "École élémentaire",
        grams_per_meal: 120,
        edible_only: false,
        source: ADEME_2018,
    },
    ReferenceValue {
        key: "ademe_2018_college",
        label: "Collège",
        grams_per_meal: 115,
        edible_only: false,
        source: ADEME_2018,
    },
    ReferenceValue {
        key: "ademe_2018_lycee",
        label: "Lycée",
        grams_per_meal: 100,
        edible_only: false,
        source: ADEME_2018,
    },
    ReferenceValue {
        key: "regal_2017_primaire",
        label: "Écoles primaires, défi 2017",
        grams_per_meal: 41,
        edible_only: false,
        source: REGAL,
    },
    ReferenceValue {
        key: "regal_2018_primaire",
        label: "Écoles primaires, défi 2018",
        grams_per_meal: 54,
        edible_only: false,
        source: REGAL,
    },
];

/// ADEME 2024 share of each stage, in percent (rounded by the study: they add up to 99).
pub const REFERENCE_STAGE_PERCENT: &[(Stage, u32)] = &[
    (Stage::Leftovers, 60),
    (Stage::Unserved, 34),
    (Stage::Preparation, 5),
];

/// ADEME 2024 share of each component, in percent.
pub const REFERENCE_COMPONENT_PERCENT: &[(Component, u32)] = &[
    (Component::Accompagnement, 35),
    (Component::PlatProtidique, 25),
    (Component::Entree, 16),
    (Component::Dessert, 12),
    (Component::Pain, 8),
    (Component::ProduitLaitier, 4),
];

/// Source of the two share tables above.
pub const REFERENCE_SHARES_SOURCE: &str = ADEME_2024;

/// Looks a reference value up by key.
pub fn reference_value(key: &str) -> Option<&'static ReferenceValue> {
    REFERENCE_VALUES.iter().find(|r| r.key == key)
}

/// The warning for a day whose waste exceeds 400 g per meal, if it does.
pub fn grams_per_meal_warning(
    day_waste_grams: u64,
    day_meals: u64,
    service_date: NaiveDate,
) -> Option<Warning> {
    if day_meals == 0
        || u128::from(day_waste_grams)
            <= u128::from(day_meals) * u128::from(PLAUSIBLE_MAX_GRAMS_PER_MEAL)
    {
        return None;
    }
    let gpm = (day_waste_grams as f64 / day_meals as f64).round() as u64;
    Some(Warning {
        field: "mass_grams".into(),
        code: "grams_per_meal_over_400".into(),
        message: format!(
            "Le {} : {} pour {} repas, soit {} g par repas (plus de {} g). Vérifiez les masses et le nombre de repas.",
            format_fr_date(service_date),
            format_kg(day_waste_grams),
            day_meals,
            gpm,
            PLAUSIBLE_MAX_GRAMS_PER_MEAL
        ),
    })
}

/// A warning about one canteen's service day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayWarning {
    pub day: SiteDay,
    pub warning: Warning,
}

/// The days (live records) whose waste per meal exceeds 400 g, in (site, date) order.
pub fn grams_per_meal_warnings(
    meals: &[DailyMealCount],
    weighings: &[Weighing],
) -> Vec<DayWarning> {
    let mut served: BTreeMap<SiteDay, u64> = BTreeMap::new();
    for c in meals.iter().filter(|c| !c.meta.deleted) {
        *served
            .entry(SiteDay {
                site_id: c.site_id,
                service_date: c.service_date,
            })
            .or_default() += c.served_total();
    }
    let mut waste: BTreeMap<SiteDay, u64> = BTreeMap::new();
    for w in weighings.iter().filter(|w| w.counts_as_waste()) {
        *waste
            .entry(SiteDay {
                site_id: w.site_id,
                service_date: w.service_date,
            })
            .or_default() += w.mass_grams;
    }
    waste
        .into_iter()
        .filter_map(|(day, grams)| {
            let meals = served.get(&day).copied().unwrap_or(0);
            grams_per_meal_warning(grams, meals, day.service_date)
                .map(|warning| DayWarning { day, warning })
        })
        .collect()
}

/// One measured day of a trend chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPoint {
    pub day: SiteDay,
    /// All covers served that day.
    pub meals: u64,
    /// Waste of the day (recovered surplus excluded).
    pub grams: u64,
    pub grams_per_meal: f64,
}

/// Waste per meal of every measured day (weighings and a count) within `range`, in
/// (site, date) order: the series behind the waste trend chart.
pub fn daily_series(
    meals: &[DailyMealCount],
    weighings: &[Weighing],
    range: DateRange,
) -> Vec<DayPoint> {
    let mut served: BTreeMap<SiteDay, u64> = BTreeMap::new();
    for c in meals
        .iter()
        .filter(|c| !c.meta.deleted && range.contains(c.service_date))
    {
        *served
            .entry(SiteDay {
                site_id: c.site_id,
                service_date: c.service_date,
            })
            .or_default() += c.served_total();
    }
    let mut waste: BTreeMap<SiteDay, u64> = BTreeMap::new();
    for w in weighings
        .iter()
        .filter(|w| !w.meta.deleted && range.contains(w.service_date))
    {
        let g = waste
            .entry(SiteDay {
                site_id: w.site_id,
                service_date: w.service_date,
            })
            .or_default();
        if w.counts_as_waste() {
            *g += w.mass_grams;
        }
    }
    waste
        .into_iter()
        .filter_map(|(day, grams)| {
            let meals = served.get(&day).copied().filter(|m| *m > 0)?;
            Some(DayPoint {
                day,
                meals,
                grams,
                grams_per_meal: grams as f64 / meals as f64,
            })
        })
        .collect()
}

/// A weighing campaign of one canteen: the service days whose data are declared together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub meta: RecordMeta,
    pub site_id: Uuid,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Free label, e.g. "Défi Assiettes Vides mai 2026".
    #[serde(default)]
    pub name: String,
}

/// Refuses a campaign overlapping another live campaign of the same canteen. The message
/// names the other campaign's dates.
pub fn check_no_overlap(candidate: &Campaign, existing: &[Campaign]) -> Result<(), String> {
    let mut clashes: Vec<&Campaign> = existing
        .iter()
        .filter(|c| {
            !c.meta.deleted
                && c.meta.id != candidate.meta.id
                && c.site_id == candidate.site_id
                && c.range().overlaps(&candidate.range())
        })
        .collect();
    clashes.sort_by_key(|c| (c.start_date, c.end_date));
    match clashes.first() {
        None => Ok(()),
        Some(c) => Err(format!(
            "Cette campagne ({} au {}) chevauche la campagne du {} au {} de ce restaurant : modifiez les dates ou la campagne existante.",
            format_fr_date(candidate.start_date),
            format_fr_date(candidate.end_date),
            format_fr_date(c.start_date),
            format_fr_date(c.end_date)
        )),
    }
}

impl Campaign {
    pub fn range(&self) -> DateRange {
        DateRange::new(self.start_date, self.end_date)
    }

    /// Dates and overlap with the canteen's other campaigns (as the national platform does).
    pub fn validate(&self, today: NaiveDate, others: &[Campaign]) -> Validation {
        let mut v = Validation::default();
        if self.site_id.is_nil() {
            v.error("site_id", "Choisissez le restaurant.");
        }
        if self.start_date >= self.end_date {
            v.error(
                "end_date",
                format!(
                    "La date de fin ({}) doit être après la date de début ({}).",
                    format_fr_date(self.end_date),
                    format_fr_date(self.start_date)
                ),
            );
        }
        if self.end_date > today {
            v.error(
                "end_date",
                format!(
                    "La date de fin ({}) est dans le futur : déclarez la campagne une fois terminée (au plus tard le {}).",
                    format_fr_date(self.end_date),
                    format_fr_date(today)
                ),
            );
        }
        if self.start_date < crate::meals::earliest_service_date() {
            v.error(
                "start_date",
                format!(
                    "La date de début ({}) est trop ancienne : vérifiez l'année.",
                    format_fr_date(self.start_date)
                ),
            );
        }
        if let Err(msg) = check_no_overlap(self, others) {
            v.error("start_date", msg);
        }
        v
    }

    /// The indicators of the canteen over the campaign.
    pub fn indicators(&self, meals: &[DailyMealCount], weighings: &[Weighing]) -> WasteIndicators {
        let agg = Aggregate::build(meals, weighings, self.range(), Some(self.site_id));
        WasteIndicators::from_aggregate(agg, meals, self.range(), Some(self.site_id))
    }

    /// Whether the data are enough to declare: see [`check_period_data`].
    pub fn check_data(&self, meals: &[DailyMealCount], weighings: &[Weighing]) -> Validation {
        check_period_data(self.site_id, self.range(), meals, weighings)
    }

    /// The national WasteMeasurement of the campaign: see [`waste_measurement`].
    pub fn to_waste_measurement(
        &self,
        meals: &[DailyMealCount],
        weighings: &[Weighing],
    ) -> Result<WasteMeasurement, Validation> {
        waste_measurement(self.site_id, self.range(), meals, weighings)
    }
}

/// Whether the data of one canteen over a period are enough to declare: an error without any
/// measured day; warnings for fewer than 5 measured days, weighed days without a count,
/// counted days not weighed.
pub fn check_period_data(site_id: Uuid, range: DateRange, meals: &[DailyMealCount], weighings: &[Weighing]) -> Validation {
    let mut v = Validation::default();
    let agg = Aggregate::build(meals, weighings, range, Some(site_id));
    let period = format!(
        "entre le {} et le {}",
        format_fr_date(range.start),
        format_fr_date(range.end)
    );
    if agg.measured_days.is_empty() {
        v.error("start_date", format!("Aucune pesée avec son comptage de repas {period} : saisissez les pesées et les repas servis."));
        return v;
    }
    let n = agg.measured_days.len() as u32;
    if n < MIN_CAMPAIGN_SERVICE_DAYS {
        v.warn(
            "end_date",
            "campaign_under_5_service_days",
            format!(
                "{n} jour(s) de service pesé(s) {period} : le protocole national demande au moins {MIN_CAMPAIGN_SERVICE_DAYS} jours de service consécutifs pour une école."
            ),
        );
    }
    if !agg.days_without_count.is_empty() {
        let days: Vec<String> = agg
            .days_without_count
            .iter()
            .map(|d| format_fr_date(d.service_date))
            .collect();
        v.warn(
            "meal_count",
            "weighing_days_without_count",
            format!("Pesées sans nombre de repas servis le {} : saisissez les repas, sinon ces pesées ne comptent pas.", days.join(", ")),
        );
    }
    let not_weighed: Vec<String> = meals
        .iter()
        .filter(|c| {
            !c.meta.deleted
                && c.site_id == site_id
                && range.contains(c.service_date)
                && c.served_total() > 0
        })
        .map(|c| SiteDay {
            site_id: c.site_id,
            service_date: c.service_date,
        })
        .filter(|d| !agg.measured_days.contains(d))
        .collect::<BTreeSet<_>>()
        .iter()
        .map(|d| format_fr_date(d.service_date))
        .collect();
    if !not_weighed.is_empty() {
        v.warn(
            "start_date",
            "service_days_not_weighed",
            format!(
                "Jours de service sans pesée dans la période : {}. Ils ne comptent pas ; la mesure doit couvrir des jours consécutifs.",
                not_weighed.join(", ")
            ),
        );
    }
    // The national measurement has one meal count for every stage: a stage weighed on some
    // measured days only would be divided by the meals of days it was not weighed.
    let partial: Vec<String> = Stage::ALL
        .iter()
        .filter_map(|s| {
            let days = agg.stage_days.get(s).map_or(0, BTreeSet::len) as u32;
            (days > 0 && days < n).then(|| format!("{} : {days} jour(s) sur {n}", s.label().to_lowercase()))
        })
        .collect();
    if !partial.is_empty() {
        v.warn(
            "stage",
            "stage_not_weighed_every_day",
            format!(
                "Étapes pesées certains jours seulement ({}). La déclaration nationale divise chaque masse par les repas de tous les jours pesés : pesez chaque étape tous les jours de la période.",
                partial.join(" ; ")
            ),
        );
    }
    v
}

/// The national WasteMeasurement of one canteen over a period (a campaign, or any period the
/// declaration helper is asked for), or the errors that prevent it.
pub fn waste_measurement(
    site_id: Uuid,
    range: DateRange,
    meals: &[DailyMealCount],
    weighings: &[Weighing],
) -> Result<WasteMeasurement, Validation> {
    let check = check_period_data(site_id, range, meals, weighings);
    if !check.is_ok() {
        return Err(check);
    }
    let agg = Aggregate::build(meals, weighings, range, Some(site_id));
    // A stage is null only when it was not weighed on a measured day: one whose surplus was
    // all given away was weighed, its waste is 0 kg (the rule of `WasteIndicators::by_stage`).
    let stage = |s: Stage| -> StageMeasure {
        match agg.stage_meals(s).map(|_| agg.stages.get(&s).copied().unwrap_or_default()) {
            None => StageMeasure::default(),
            Some(a) => {
                let sorted = a.unsorted_weighings == 0;
                StageMeasure {
                    total_mass: Some(kg_2dp(a.total)),
                    is_sorted: Some(sorted),
                    edible_mass: sorted.then(|| kg_2dp(a.edible)),
                    inedible_mass: sorted.then(|| kg_2dp(a.inedible)),
                }
            }
        }
    };
    let (p, u, l) = (
        stage(Stage::Preparation),
        stage(Stage::Unserved),
        stage(Stage::Leftovers),
    );
    Ok(WasteMeasurement {
        period_start_date: range.start,
        period_end_date: range.end,
        meal_count: agg.meals,
        total_mass: kg_2dp(agg.total()),
        is_sorted_by_source: Some(true),
        preparation_total_mass: p.total_mass,
        preparation_is_sorted: p.is_sorted,
        preparation_edible_mass: p.edible_mass,
        preparation_inedible_mass: p.inedible_mass,
        unserved_total_mass: u.total_mass,
        unserved_is_sorted: u.is_sorted,
        unserved_edible_mass: u.edible_mass,
        unserved_inedible_mass: u.inedible_mass,
        leftovers_total_mass: l.total_mass,
        leftovers_is_sorted: l.is_sorted,
        leftovers_edible_mass: l.edible_mass,
        leftovers_inedible_mass: l.inedible_mass,
    })
}

#[derive(Default)]
struct StageMeasure {
    total_mass: Option<f64>,
    is_sorted: Option<bool>,
    edible_mass: Option<f64>,
    inedible_mass: Option<f64>,
}

/// Grams as kg with 2 decimals (the national decimal fields), rounded half-up to 10 g.
pub fn kg_2dp(grams: u64) -> f64 {
    ((grams + 5) / 10) as f64 / 100.0
}

/// ma cantine's WasteMeasurement, field for field. Masses in kg with 2 decimals; a stage
/// without any weighing is null; `*_is_sorted` is true only when every weighing of the stage
/// was split edible/inedible, and the edible/inedible masses are null otherwise (the platform
/// applies its own 15 % assumption). `meal_count` is all covers of the measured days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WasteMeasurement {
    pub period_start_date: NaiveDate,
    pub period_end_date: NaiveDate,
    pub meal_count: u64,
    pub total_mass: f64,
    pub is_sorted_by_source: Option<bool>,
    pub preparation_total_mass: Option<f64>,
    pub preparation_is_sorted: Option<bool>,
    pub preparation_edible_mass: Option<f64>,
    pub preparation_inedible_mass: Option<f64>,
    pub unserved_total_mass: Option<f64>,
    pub unserved_is_sorted: Option<bool>,
    pub unserved_edible_mass: Option<f64>,
    pub unserved_inedible_mass: Option<f64>,
    pub leftovers_total_mass: Option<f64>,
    pub leftovers_is_sorted: Option<bool>,
    pub leftovers_edible_mass: Option<f64>,
    pub leftovers_inedible_mass: Option<f64>,
}

impl WasteMeasurement {
    /// The JSON object the national platform takes (dates as YYYY-MM-DD, masses as numbers).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain struct serializes")
    }
}
