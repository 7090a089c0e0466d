//! The metropolis' territory view: every site and commune side by side.
//!
//! The server keeps per-site-day and per-site-year rollups in SQL; this module is the pure
//! recomputation those aggregates must equal, and the figures the overview shows. Every
//! formula is the domain's own: g per meal, reductions, warnings and factors from `waste`,
//! shares, objectives and missing euros from `egalim` and `dashboard`.
//!
//! Decisions:
//! - A day's figures count for g per meal only when the day is *measured* (at least one
//!   weighing and a positive meal count), as `WasteIndicators` does: weighings of a day
//!   without a count and counts of a day without weighings are left out.
//! - Missing data is `None`, never 0: no g per meal without meals, no share without purchases,
//!   no cost or CO2e without a measured day, no stage g per meal for a stage never weighed
//!   (many kitchens weigh only the plates); see `WastePeriod` for a stage's meals.
//! - Communes and the territory are sums of their sites' grams, meals and cents; their ratios
//!   are computed from the sums, never averaged from the sites' ratios.
//! - School days are Monday, Tuesday, Thursday and Friday outside the holidays given: the
//!   four-day week most primary schools keep. Entries on other days count as the last entry
//!   but not in the 30-school-day participation window (so it never exceeds 30).
//! - The participation window ends the day before `today`: today's service may not be
//!   entered yet.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dashboard::{share_gauges, ShareGauge};
use crate::egalim::{indicators, percent_hundredths, CostFlag, Indicators, Outcome, YearTotals};
use crate::meals::DailyMealCount;
use crate::site::{ManagementType, ProductionType, RegionGroup};
use crate::validation::Warning;
use crate::waste::{
    grams_per_meal_warning, per_meal, reduction, reference_value, DateRange, ReferenceValue, Stage, WasteFactors,
    Weighing,
};

/// Length of the participation window, in school days.
pub const PARTICIPATION_SCHOOL_DAYS: u32 = 30;
/// A site with no entry for this many school days (two weeks) is flagged.
pub const STOPPED_AFTER_SCHOOL_DAYS: u32 = 10;
/// The days of a four-day school week.
pub const SCHOOL_WEEKDAYS: [Weekday; 4] = [Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri];
/// The regional challenge's reference: RÉGAL « Défi Assiettes Vides », primary schools, latest
/// published edition in the domain's references. It weighs plates, so it is compared with the
/// leftovers stage.
pub const REGIONAL_REFERENCE_KEY: &str = "regal_2018_primaire";

/// One site and service day as the SQL rollup keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRollup {
    pub site_id: Uuid,
    #[serde(with = "crate::time::date")]
    pub date: NaiveDate,
    /// All covers of the day's live counts summed; `None` when no count was entered.
    pub meals_served: Option<u32>,
    /// Waste of the day's live weighings, in `Stage::ALL` order (re-served or donated surplus
    /// excluded, as in `Weighing::counts_as_waste`).
    pub grams_by_stage: [u64; 3],
    /// Live weighings of the day by stage, in `Stage::ALL` order, recovered surplus included
    /// (they are entries, and a stage whose surplus was all given away was weighed: 0 g).
    pub weighings_by_stage: [u32; 3],
}

impl DayRollup {
    pub fn grams(&self) -> u64 {
        self.grams_by_stage.iter().sum()
    }
    /// Live weighings of the day, every stage.
    pub fn weighings(&self) -> u32 {
        self.weighings_by_stage.iter().fold(0u32, |a, n| a.saturating_add(*n))
    }
    /// Weighed with a positive meal count: the days the per-meal figures use.
    pub fn is_measured(&self) -> bool {
        self.weighings() > 0 && self.meals_served.is_some_and(|m| m > 0)
    }
    /// Something was entered that day.
    pub fn has_entry(&self) -> bool {
        self.weighings() > 0 || self.meals_served.is_some()
    }
}

fn stage_index(s: Stage) -> usize {
    match s {
        Stage::Preparation => 0,
        Stage::Unserved => 1,
        Stage::Leftovers => 2,
    }
}

/// The per-site-day rollups of live records, in (site, date) order: what the SQL rollup must
/// hold after applying the same records.
pub fn day_rollups(meals: &[DailyMealCount], weighings: &[Weighing]) -> Vec<DayRollup> {
    type Days = BTreeMap<(Uuid, NaiveDate), DayRollup>;
    fn day(days: &mut Days, site_id: Uuid, date: NaiveDate) -> &mut DayRollup {
        days.entry((site_id, date)).or_insert(DayRollup {
            site_id,
            date,
            meals_served: None,
            grams_by_stage: [0; 3],
            weighings_by_stage: [0; 3],
        })
    }
    let mut days = Days::new();
    for c in meals.iter().filter(|c| !c.meta.deleted) {
        let d = day(&mut days, c.site_id, c.service_date);
        let sum = u64::from(d.meals_served.unwrap_or(0)) + c.served_total();
        d.meals_served = Some(u32::try_from(sum).unwrap_or(u32::MAX));
    }
    for w in weighings.iter().filter(|w| !w.meta.deleted) {
        let d = day(&mut days, w.site_id, w.service_date);
        d.weighings_by_stage[stage_index(w.stage)] += 1;
        if w.counts_as_waste() {
            d.grams_by_stage[stage_index(w.stage)] += w.mass_grams;
        }
    }
    days.into_values().collect()
}

/// What the overview needs to know of a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSummary {
    pub site_id: Uuid,
    /// Key of its purchase totals.
    pub siret: String,
    pub commune_insee: String,
    pub commune_name: String,
    pub name: String,
    pub management: ManagementType,
    pub production_type: ProductionType,
    pub daily_meal_count: u32,
    /// Meals per year, for the cost per meal; 0 when unknown.
    pub yearly_meal_count: u32,
    pub region_group: RegionGroup,
    /// Engaged in the metropolis' programme.
    pub engaged: bool,
    pub tablets_enrolled: u32,
    pub last_sync: Option<DateTime<Utc>>,
}

/// Purchase lines of one site and month (coverage of the purchase data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseMonth {
    pub siret: String,
    pub year: i32,
    /// 1 = January.
    pub month: u32,
    pub lines: u64,
}

/// Grams and meals of the measured days of a period, by stage.
///
/// A stage's g per meal divides its grams by the meals of the measured days on which that
/// stage was weighed (`stage_meals`), not by every measured day's: ma cantine's measurement
/// divides each stage's mass by the covers of the days it was weighed (one period for all
/// stages), and a kitchen weighing its preparation one day a week would otherwise read five
/// times lower than it is. A stage never weighed has no figure (`None`), never 0 g.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WastePeriod {
    pub range: DateRange,
    pub measured_days: u32,
    pub meals: u64,
    pub grams_by_stage: [u64; 3],
    /// Measured days on which each stage was weighed, in `Stage::ALL` order.
    pub stage_days: [u32; 3],
    /// Meals of those days, per stage.
    pub stage_meals: [u64; 3],
}

impl WastePeriod {
    pub fn empty(range: DateRange) -> Self {
        WastePeriod { range, measured_days: 0, meals: 0, grams_by_stage: [0; 3], stage_days: [0; 3], stage_meals: [0; 3] }
    }

    /// Sums the measured days of `range` among `days` (every site given).
    pub fn of<'a>(days: impl IntoIterator<Item = &'a DayRollup>, range: DateRange) -> Self {
        let mut p = WastePeriod::empty(range);
        for d in days.into_iter().filter(|d| range.contains(d.date)) {
            p.add_day(d);
        }
        p
    }

    /// Adds a day if it is measured (its date is the caller's to check).
    pub fn add_day(&mut self, d: &DayRollup) {
        if !d.is_measured() {
            return;
        }
        let meals = u64::from(d.meals_served.unwrap_or(0));
        self.measured_days += 1;
        self.meals += meals;
        for (acc, g) in self.grams_by_stage.iter_mut().zip(d.grams_by_stage) {
            *acc += g;
        }
        for (i, n) in d.weighings_by_stage.iter().enumerate() {
            if *n > 0 {
                self.stage_days[i] += 1;
                self.stage_meals[i] += meals;
            }
        }
    }

    /// Adds another period's sums (a commune = its sites). The range stays this one's.
    pub fn add(&mut self, other: &WastePeriod) {
        self.measured_days += other.measured_days;
        self.meals += other.meals;
        for i in 0..3 {
            self.grams_by_stage[i] += other.grams_by_stage[i];
            self.stage_days[i] += other.stage_days[i];
            self.stage_meals[i] += other.stage_meals[i];
        }
    }

    pub fn grams(&self) -> u64 {
        self.grams_by_stage.iter().sum()
    }
    /// `None` when no meal was counted on a weighed day.
    pub fn grams_per_meal(&self) -> Option<f64> {
        per_meal(self.grams(), self.meals)
    }
    /// `None` when the stage was not weighed on any measured day (see the type's comment).
    pub fn stage_grams_per_meal(&self, stage: Stage) -> Option<f64> {
        let i = stage_index(stage);
        per_meal(self.grams_by_stage[i], self.stage_meals[i])
    }
    /// Cost of the waste measured; `None` when nothing was measured.
    pub fn cost_cents(&self, factors: &WasteFactors) -> Option<i64> {
        (self.measured_days > 0).then(|| factors.cost_cents(self.grams()))
    }
    pub fn co2e_grams(&self, factors: &WasteFactors) -> Option<u64> {
        (self.measured_days > 0).then(|| factors.co2e_grams(self.grams()))
    }
}

/// A site's g per meal against a published reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub reference: ReferenceValue,
    /// 1 − site ÷ reference: positive when the site wastes less.
    pub reduction: Option<f64>,
}

/// The ADEME 2024 school value that fits a production type: cooked on site (95 g), otherwise
/// the school value (100 g): the liaison (hot / cold) of delivered meals is not known.
pub fn ademe_reference(p: ProductionType) -> ReferenceValue {
    let key = match p {
        ProductionType::Site => "ademe_2024_cooked_on_site",
        ProductionType::SiteCookedElsewhere | ProductionType::Groupe => "ademe_2024_schools",
    };
    *reference_value(key).expect("reference values include ADEME 2024")
}

pub fn regional_reference() -> ReferenceValue {
    *reference_value(REGIONAL_REFERENCE_KEY).expect("reference values include RÉGAL")
}

/// Entries over the last school days, and purchase data coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participation {
    /// First and last of the last 30 school days before today.
    pub window: Option<DateRange>,
    pub school_days: u32,
    /// School days of the window with an entry (meal count or weighing).
    pub days_with_entries: u32,
    pub last_entry: Option<NaiveDate>,
    /// School days after the last entry, before today; `None` when nothing was ever entered.
    pub school_days_since_entry: Option<u32>,
    pub purchase_year: i32,
    /// Months of that year with purchase lines.
    pub purchase_months: u32,
}

/// The purchases of a year: totals, the platform's shares, and what each objective misses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseFigures {
    pub year: i32,
    pub totals: YearTotals,
    pub indicators: Indicators,
    /// bio, EGalim, meat and fish: share, threshold and euros missing (`egalim::missing_cents`).
    pub gauges: Vec<ShareGauge>,
}

impl PurchaseFigures {
    /// `None` when the year has no purchase value.
    pub fn new(totals: YearTotals, group: RegionGroup, yearly_meal_count: Option<u64>) -> Option<Self> {
        if totals.valeur_totale <= 0 {
            return None;
        }
        let ind = indicators(&totals, group, yearly_meal_count);
        Some(PurchaseFigures { year: totals.year, gauges: share_gauges(&totals, &ind), indicators: ind, totals })
    }

    pub fn gauge(&self, code: &str) -> Option<&ShareGauge> {
        self.gauges.iter().find(|g| g.code == code)
    }
}

/// Why a site needs the officer's attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Flag {
    /// Engaged or equipped, but nothing entered for `STOPPED_AFTER_SCHOOL_DAYS` school days
    /// (`school_days: None`: never anything).
    StoppedEntering { last_entry: Option<NaiveDate>, school_days: Option<u32> },
    /// Days of the period above 400 g per meal (`waste::grams_per_meal_warning`).
    ImplausibleWaste { days: u32, first: Warning },
    /// Food cost per meal the platform treats as aberrant.
    ImplausibleCost { flag: CostFlag },
}

/// One site of the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    pub site: SiteSummary,
    pub participation: Participation,
    pub waste: WastePeriod,
    pub baseline: Option<WastePeriod>,
    /// 1 − period ÷ baseline g per meal (`waste::reduction`).
    pub change_vs_baseline: Option<f64>,
    pub ademe: Comparison,
    /// Leftovers g per meal against the regional challenge.
    pub regional: Comparison,
    pub cost_cents: Option<i64>,
    pub co2e_grams: Option<u64>,
    /// The purchase year's figures from its simple totals (`YearTotals::simple_totals`: the
    /// family × label table is the signal's, not the overview's).
    pub purchases: Option<PurchaseFigures>,
    pub flags: Vec<Flag>,
}

impl SiteRow {
    pub fn grams_per_meal(&self) -> Option<f64> {
        self.waste.grams_per_meal()
    }
}

/// Sums of a group of sites (a commune, or the territory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupTotals {
    /// INSEE code of the commune; empty for the territory.
    pub commune_insee: String,
    pub commune_name: String,
    pub sites: u32,
    pub engaged_sites: u32,
    pub sites_with_tablet: u32,
    /// Sum of the sites' ordinary daily meal counts.
    pub daily_meals: u64,
    pub waste: WastePeriod,
    pub baseline: Option<WastePeriod>,
    pub change_vs_baseline: Option<f64>,
    pub cost_cents: Option<i64>,
    pub co2e_grams: Option<u64>,
    /// Summed yearly totals of the sites with purchases (mainland thresholds unless every site
    /// shares another region group).
    pub purchases: Option<PurchaseFigures>,
    pub flagged_sites: u32,
}

impl GroupTotals {
    /// Meals counted on weighed days.
    pub fn weighed_meals(&self) -> u64 {
        self.waste.meals
    }
    pub fn grams_per_meal(&self) -> Option<f64> {
        self.waste.grams_per_meal()
    }
}

/// What the overview is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewParams {
    pub period: DateRange,
    pub baseline: Option<DateRange>,
    /// The year of the purchase figures.
    pub purchase_year: i32,
    pub today: NaiveDate,
    /// School holidays (and other days without school), left out of the school days.
    pub holidays: Vec<DateRange>,
    pub factors: WasteFactors,
}

/// The officer's table: sites, communes (by name) and the territory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub period: DateRange,
    pub baseline: Option<DateRange>,
    pub purchase_year: i32,
    pub sites: Vec<SiteRow>,
    pub communes: Vec<GroupTotals>,
    pub territory: GroupTotals,
    /// Factors used for cost and CO2e, with their sources.
    pub factors: WasteFactors,
}

/// Whether a day is a school day (four-day week, outside holidays).
pub fn is_school_day(d: NaiveDate, holidays: &[DateRange]) -> bool {
    SCHOOL_WEEKDAYS.contains(&d.weekday()) && !holidays.iter().any(|h| h.contains(d))
}

/// The last `n` school days strictly before `today`, oldest first.
pub fn last_school_days(today: NaiveDate, n: u32, holidays: &[DateRange]) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(n as usize);
    let mut d = today;
    // Bounded so that a holiday list covering everything cannot loop for ever: ten years.
    let floor = today - Duration::days(3660);
    while out.len() < n as usize {
        d -= Duration::days(1);
        if d < floor {
            break;
        }
        if is_school_day(d, holidays) {
            out.push(d);
        }
    }
    out.reverse();
    out
}

/// School days strictly between `after` and `today`.
fn school_days_between(after: NaiveDate, today: NaiveDate, holidays: &[DateRange]) -> u32 {
    after
        .succ_opt()
        .into_iter()
        .flat_map(|s| s.iter_days())
        .take_while(|d| *d < today)
        .filter(|d| is_school_day(*d, holidays))
        .count() as u32
}

/// What the overview reads of one site's days: sums a database computes from its day
/// rollups as [`site_days`] does from the rows themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteDays {
    pub site_id: Uuid,
    /// The period's measured days.
    pub waste: WastePeriod,
    /// The baseline's measured days, when a baseline is asked for.
    pub baseline: Option<WastePeriod>,
    /// Days of the participation window ([`last_school_days`]) with an entry.
    pub window_days_with_entries: u32,
    /// The last day with an entry before `today`.
    pub last_entry: Option<NaiveDate>,
    /// The period's measured days above the plausible grams per meal
    /// ([`grams_per_meal_warning`]), oldest first.
    pub implausible_days: Vec<DayRollup>,
}

impl SiteDays {
    /// A site without any entry.
    pub fn empty(site_id: Uuid, period: DateRange, baseline: Option<DateRange>) -> Self {
        SiteDays {
            site_id,
            waste: WastePeriod::empty(period),
            baseline: baseline.map(WastePeriod::empty),
            window_days_with_entries: 0,
            last_entry: None,
            implausible_days: Vec::new(),
        }
    }
}

/// Whether a measured day's grams per meal is above the plausible maximum.
pub fn is_implausible(d: &DayRollup) -> bool {
    d.is_measured() && grams_per_meal_warning(d.grams(), u64::from(d.meals_served.unwrap_or(0)), d.date).is_some()
}

/// One site's [`SiteDays`] from its day rollups (which must cover the period, the baseline,
/// the participation window and the last day with an entry).
pub fn site_days(site_id: Uuid, days: &[&DayRollup], params: &OverviewParams) -> SiteDays {
    let window: BTreeSet<NaiveDate> =
        last_school_days(params.today, PARTICIPATION_SCHOOL_DAYS, &params.holidays).into_iter().collect();
    let entered = || days.iter().filter(|d| d.has_entry() && d.date < params.today).map(|d| d.date);
    let mut implausible_days: Vec<DayRollup> =
        days.iter().filter(|d| params.period.contains(d.date) && is_implausible(d)).map(|d| **d).collect();
    implausible_days.sort_by_key(|d| d.date);
    SiteDays {
        site_id,
        waste: WastePeriod::of(days.iter().copied(), params.period),
        baseline: params.baseline.map(|b| WastePeriod::of(days.iter().copied(), b)),
        window_days_with_entries: entered().filter(|d| window.contains(d)).collect::<BTreeSet<_>>().len() as u32,
        last_entry: entered().max(),
        implausible_days,
    }
}

fn participation(days: &SiteDays, purchase_months: u32, params: &OverviewParams) -> Participation {
    let window_days = last_school_days(params.today, PARTICIPATION_SCHOOL_DAYS, &params.holidays);
    Participation {
        window: window_days.first().zip(window_days.last()).map(|(s, e)| DateRange::new(*s, *e)),
        school_days: window_days.len() as u32,
        days_with_entries: days.window_days_with_entries,
        last_entry: days.last_entry,
        school_days_since_entry: days.last_entry.map(|l| school_days_between(l, params.today, &params.holidays)),
        purchase_year: params.purchase_year,
        purchase_months,
    }
}

fn site_row(
    site: &SiteSummary,
    days: &SiteDays,
    totals: Option<&YearTotals>,
    purchase_months: u32,
    params: &OverviewParams,
) -> SiteRow {
    let waste = days.waste;
    let baseline = days.baseline;
    let change_vs_baseline = baseline.and_then(|b| reduction(b.grams_per_meal()?, waste.grams_per_meal()?));
    let ademe_ref = ademe_reference(site.production_type);
    let regal = regional_reference();
    let yearly = (site.yearly_meal_count > 0).then_some(u64::from(site.yearly_meal_count));
    let purchases = totals.and_then(|t| PurchaseFigures::new(t.simple_totals(), site.region_group, yearly));
    let participation = participation(days, purchase_months, params);

    let mut flags = Vec::new();
    if (site.engaged || site.tablets_enrolled > 0)
        && participation.school_days_since_entry.is_none_or(|n| n >= STOPPED_AFTER_SCHOOL_DAYS)
    {
        flags.push(Flag::StoppedEntering {
            last_entry: participation.last_entry,
            school_days: participation.school_days_since_entry,
        });
    }
    let mut implausible = days
        .implausible_days
        .iter()
        .filter_map(|d| grams_per_meal_warning(d.grams(), u64::from(d.meals_served.unwrap_or(0)), d.date));
    if let Some(first) = implausible.next() {
        flags.push(Flag::ImplausibleWaste { days: 1 + implausible.count() as u32, first });
    }
    if let Some(flag) = purchases.as_ref().and_then(|p| p.indicators.cost_flag) {
        flags.push(Flag::ImplausibleCost { flag });
    }

    SiteRow {
        site: site.clone(),
        participation,
        change_vs_baseline,
        ademe: Comparison { reference: ademe_ref, reduction: waste.grams_per_meal().and_then(|g| reduction(f64::from(ademe_ref.grams_per_meal), g)) },
        regional: Comparison {
            reference: regal,
            reduction: waste
                .stage_grams_per_meal(Stage::Leftovers)
                .and_then(|g| reduction(f64::from(regal.grams_per_meal), g)),
        },
        cost_cents: waste.cost_cents(&params.factors),
        co2e_grams: waste.co2e_grams(&params.factors),
        waste,
        baseline,
        purchases,
        flags,
    }
}

/// Sums the given site rows into one group.
pub fn group_totals<'a>(
    commune_insee: &str,
    commune_name: &str,
    rows: impl IntoIterator<Item = &'a SiteRow>,
    period: DateRange,
    baseline: Option<DateRange>,
    purchase_year: i32,
    factors: &WasteFactors,
) -> GroupTotals {
    let mut g = GroupTotals {
        commune_insee: commune_insee.to_string(),
        commune_name: commune_name.to_string(),
        sites: 0,
        engaged_sites: 0,
        sites_with_tablet: 0,
        daily_meals: 0,
        waste: WastePeriod::empty(period),
        baseline: baseline.map(WastePeriod::empty),
        change_vs_baseline: None,
        cost_cents: None,
        co2e_grams: None,
        purchases: None,
        flagged_sites: 0,
    };
    let mut totals: Option<YearTotals> = None;
    let mut groups: BTreeSet<&'static str> = BTreeSet::new();
    let mut group = RegionGroup::Mainland;
    let mut yearly: u64 = 0;
    for r in rows {
        g.sites += 1;
        g.engaged_sites += u32::from(r.site.engaged);
        g.sites_with_tablet += u32::from(r.site.tablets_enrolled > 0);
        g.daily_meals += u64::from(r.site.daily_meal_count);
        g.flagged_sites += u32::from(!r.flags.is_empty());
        g.waste.add(&r.waste);
        if let (Some(acc), Some(b)) = (g.baseline.as_mut(), r.baseline.as_ref()) {
            acc.add(b);
        }
        if let Some(p) = &r.purchases {
            totals.get_or_insert_with(|| YearTotals::new("", purchase_year)).add_totals(&p.totals);
            groups.insert(r.site.region_group.code());
            group = r.site.region_group;
            yearly += u64::from(r.site.yearly_meal_count);
        }
    }
    if groups.len() > 1 {
        group = RegionGroup::Mainland;
    }
    g.change_vs_baseline = g.baseline.and_then(|b| reduction(b.grams_per_meal()?, g.waste.grams_per_meal()?));
    g.cost_cents = g.waste.cost_cents(factors);
    g.co2e_grams = g.waste.co2e_grams(factors);
    g.purchases = totals.and_then(|t| PurchaseFigures::new(t, group, (yearly > 0).then_some(yearly)));
    g
}

/// The overview of every site given. `days` must cover the period, the baseline, the last
/// 30 school days and each site's last day with an entry; `totals` are per site-year (only
/// `purchase_year`'s are read), `months` per site-month.
pub fn overview(
    sites: &[SiteSummary],
    days: &[DayRollup],
    totals: &[YearTotals],
    months: &[PurchaseMonth],
    params: &OverviewParams,
) -> Overview {
    let mut by_site: BTreeMap<Uuid, Vec<&DayRollup>> = BTreeMap::new();
    for d in days {
        by_site.entry(d.site_id).or_default().push(d);
    }
    let site_days: Vec<SiteDays> = by_site.iter().map(|(id, ds)| site_days(*id, ds, params)).collect();
    overview_of_sums(sites, &site_days, totals, &purchase_month_counts(months, params.purchase_year), params)
}

/// Months of `year` with purchase lines, by SIRET.
pub fn purchase_month_counts(months: &[PurchaseMonth], year: i32) -> BTreeMap<String, u32> {
    let mut by_siret: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for m in months.iter().filter(|m| m.year == year && m.lines > 0) {
        by_siret.entry(m.siret.as_str()).or_default().insert(m.month);
    }
    by_siret.into_iter().map(|(s, ms)| (s.to_owned(), ms.len() as u32)).collect()
}

/// The overview from each site's sums ([`SiteDays`], a site missing there has no entry),
/// its year totals and its months with purchases (by SIRET): what the server reads from its
/// rollups. [`overview`] is the same from the rows.
pub fn overview_of_sums(
    sites: &[SiteSummary],
    days: &[SiteDays],
    totals: &[YearTotals],
    purchase_months: &BTreeMap<String, u32>,
    params: &OverviewParams,
) -> Overview {
    let by_site: BTreeMap<Uuid, &SiteDays> = days.iter().map(|d| (d.site_id, d)).collect();
    let year_totals: BTreeMap<&str, &YearTotals> =
        totals.iter().filter(|t| t.year == params.purchase_year).map(|t| (t.siret.as_str(), t)).collect();
    let rows: Vec<SiteRow> = sites
        .iter()
        .map(|s| {
            let empty;
            let d = match by_site.get(&s.site_id) {
                Some(d) => *d,
                None => {
                    empty = SiteDays::empty(s.site_id, params.period, params.baseline);
                    &empty
                }
            };
            site_row(
                s,
                d,
                year_totals.get(s.siret.as_str()).copied(),
                purchase_months.get(s.siret.as_str()).copied().unwrap_or(0),
                params,
            )
        })
        .collect();
    let mut communes: BTreeMap<(&str, &str), Vec<&SiteRow>> = BTreeMap::new();
    for r in &rows {
        communes.entry((r.site.commune_name.as_str(), r.site.commune_insee.as_str())).or_default().push(r);
    }
    let group = |insee: &str, name: &str, rs: &[&SiteRow]| {
        group_totals(insee, name, rs.iter().copied(), params.period, params.baseline, params.purchase_year, &params.factors)
    };
    let communes = communes.iter().map(|((name, insee), rs)| group(insee, name, rs)).collect();
    let all: Vec<&SiteRow> = rows.iter().collect();
    let territory = group("", "", &all);
    Overview {
        period: params.period,
        baseline: params.baseline,
        purchase_year: params.purchase_year,
        sites: rows,
        communes,
        territory,
        factors: params.factors.clone(),
    }
}

/// Columns the site table sorts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Commune,
    Name,
    DailyMeals,
    DaysWithEntries,
    LastSync,
    GramsPerMeal,
    ChangeVsBaseline,
    EgalimShare,
    BioShare,
    MissingEgalimCents,
}

fn gauge_missing(r: &SiteRow, code: &str) -> Option<i64> {
    r.purchases.as_ref()?.gauge(code)?.missing_cents
}

/// Compares two rows on one column; missing values after present ones whatever the direction,
/// then commune, name and id so that the order is total.
pub fn compare_rows(a: &SiteRow, b: &SiteRow, key: SortKey, descending: bool) -> Ordering {
    fn opt<T, F: Fn(&T, &T) -> Ordering>(a: Option<T>, b: Option<T>, desc: bool, cmp: F) -> Ordering {
        match (a, b) {
            (Some(x), Some(y)) => {
                let o = cmp(&x, &y);
                if desc { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let f = |a: Option<f64>, b: Option<f64>| opt(a, b, descending, |x: &f64, y: &f64| x.total_cmp(y));
    let i = |a: Option<i64>, b: Option<i64>| opt(a, b, descending, |x: &i64, y: &i64| x.cmp(y));
    let text = |a: &str, b: &str| opt(Some(a), Some(b), descending, |x: &&str, y: &&str| x.cmp(y));
    let egalim = |r: &SiteRow| r.purchases.as_ref().and_then(|p| p.indicators.egalim_percent_hundredths);
    let bio = |r: &SiteRow| r.purchases.as_ref().and_then(|p| p.indicators.bio_percent_hundredths);
    let primary = match key {
        SortKey::Commune => text(&a.site.commune_name, &b.site.commune_name),
        SortKey::Name => text(&a.site.name, &b.site.name),
        SortKey::DailyMeals => i(Some(a.site.daily_meal_count.into()), Some(b.site.daily_meal_count.into())),
        SortKey::DaysWithEntries => i(
            Some(a.participation.days_with_entries.into()),
            Some(b.participation.days_with_entries.into()),
        ),
        SortKey::LastSync => i(a.site.last_sync.map(|t| t.timestamp_millis()), b.site.last_sync.map(|t| t.timestamp_millis())),
        SortKey::GramsPerMeal => f(a.grams_per_meal(), b.grams_per_meal()),
        SortKey::ChangeVsBaseline => f(a.change_vs_baseline, b.change_vs_baseline),
        SortKey::EgalimShare => i(egalim(a), egalim(b)),
        SortKey::BioShare => i(bio(a), bio(b)),
        SortKey::MissingEgalimCents => i(gauge_missing(a, "egalim"), gauge_missing(b, "egalim")),
    };
    primary
        .then_with(|| a.site.commune_name.cmp(&b.site.commune_name))
        .then_with(|| a.site.name.cmp(&b.site.name))
        .then_with(|| a.site.site_id.cmp(&b.site.site_id))
}

/// Sorts the rows in place (stable; total thanks to the id tie-break).
pub fn sort_rows(rows: &mut [SiteRow], key: SortKey, descending: bool) {
    rows.sort_by(|a, b| compare_rows(a, b, key, descending));
}

/// The overview's filters; `None` keeps every site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFilter {
    pub commune_insee: Option<String>,
    pub management: Option<ManagementType>,
    pub production_type: Option<ProductionType>,
    pub engaged: Option<bool>,
}

impl RowFilter {
    pub fn keeps(&self, s: &SiteSummary) -> bool {
        self.commune_insee.as_ref().is_none_or(|c| *c == s.commune_insee)
            && self.management.is_none_or(|m| m == s.management)
            && self.production_type.is_none_or(|p| p == s.production_type)
            && self.engaged.is_none_or(|e| e == s.engaged)
    }
}

/// The rows a filter keeps, in their order.
pub fn filter_rows<'a>(rows: &'a [SiteRow], filter: &RowFilter) -> Vec<&'a SiteRow> {
    rows.iter().filter(|r| filter.keeps(&r.site)).collect()
}

/// Size of a site by its ordinary daily meals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeBand {
    /// Fewer than 100 meals a day.
    Small,
    /// 100 to 299.
    Medium,
    /// 300 to 999.
    Large,
    /// 1,000 or more.
    VeryLarge,
}

impl SizeBand {
    pub fn of(daily_meal_count: u32) -> SizeBand {
        match daily_meal_count {
            0..=99 => SizeBand::Small,
            100..=299 => SizeBand::Medium,
            300..=999 => SizeBand::Large,
            _ => SizeBand::VeryLarge,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SizeBand::Small => "Moins de 100 repas par jour",
            SizeBand::Medium => "De 100 à 299 repas par jour",
            SizeBand::Large => "De 300 à 999 repas par jour",
            SizeBand::VeryLarge => "1 000 repas par jour ou plus",
        }
    }
}

/// The median g per meal of a site's comparable sites (same production type and size band,
/// the site itself left out, sites without g per meal left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparableMedian {
    pub range: DateRange,
    pub production_type: ProductionType,
    pub band: SizeBand,
    pub peers: u32,
    pub median_grams_per_meal: Option<f64>,
}

/// Median of the values (mean of the two middle ones for an even count); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

pub fn comparable_median(site: &SiteRow, rows: &[SiteRow]) -> ComparableMedian {
    let band = SizeBand::of(site.site.daily_meal_count);
    let mut values: Vec<f64> = rows
        .iter()
        .filter(|r| {
            r.site.site_id != site.site.site_id
                && r.site.production_type == site.site.production_type
                && SizeBand::of(r.site.daily_meal_count) == band
        })
        .filter_map(SiteRow::grams_per_meal)
        .collect();
    ComparableMedian {
        range: site.waste.range,
        production_type: site.site.production_type,
        band,
        peers: values.len() as u32,
        median_grams_per_meal: median(&mut values),
    }
}

/// A campaign period against the period before it, for one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeforeAfter {
    pub site_id: Uuid,
    pub before: WastePeriod,
    pub campaign: WastePeriod,
    /// 1 − campaign ÷ before g per meal.
    pub reduction: Option<f64>,
}

pub fn before_after(site_id: Uuid, days: &[DayRollup], campaign: DateRange, before: DateRange) -> BeforeAfter {
    let site_days = || days.iter().filter(|d| d.site_id == site_id);
    let before = WastePeriod::of(site_days(), before);
    let campaign = WastePeriod::of(site_days(), campaign);
    BeforeAfter {
        site_id,
        reduction: before.grams_per_meal().zip(campaign.grams_per_meal()).and_then(|(b, c)| reduction(b, c)),
        before,
        campaign,
    }
}

/// The territory's figures under the names of ma cantine's statistics
/// (`canteenStatistics`), so that both can be set side by side. Shares are in hundredths of a
/// percent, computed from the summed euros like the platform's; `None` without purchases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanteenStatistics {
    pub year: i32,
    pub canteen_count: u32,
    /// Sites with purchase figures that year (the platform counts declarations).
    pub declarations_count: u32,
    pub management_types: BTreeMap<&'static str, u32>,
    pub production_types: BTreeMap<&'static str, u32>,
    pub bio_percent: Option<i64>,
    /// EGalim outside organic (SIQO, other EGalim labels, externalities / performance).
    pub sustainable_percent: Option<i64>,
    pub egalim_percent: Option<i64>,
    pub meat_egalim_percent: Option<i64>,
    pub meat_france_percent: Option<i64>,
    pub fish_egalim_percent: Option<i64>,
    pub fish_france_percent: Option<i64>,
    /// Share of the sites with purchases reaching both the organic and the EGalim objectives.
    pub appro_percent: Option<i64>,
}

pub fn canteen_statistics(o: &Overview) -> CanteenStatistics {
    let mut management_types = BTreeMap::new();
    let mut production_types = BTreeMap::new();
    for r in &o.sites {
        *management_types.entry(r.site.management.code()).or_insert(0) += 1;
        *production_types.entry(r.site.production_type.code()).or_insert(0) += 1;
    }
    let declared: Vec<&PurchaseFigures> = o.sites.iter().filter_map(|r| r.purchases.as_ref()).collect();
    let reaching = declared
        .iter()
        .filter(|p| p.indicators.objectives.iter().filter(|ob| ob.code != "viandes_poissons_egalim").all(|ob| ob.outcome == Outcome::Reached))
        .count();
    let p = o.territory.purchases.as_ref();
    let t = p.map(|p| &p.totals);
    let ind = p.map(|p| &p.indicators);
    CanteenStatistics {
        year: o.purchase_year,
        canteen_count: o.sites.len() as u32,
        declarations_count: declared.len() as u32,
        management_types,
        production_types,
        bio_percent: ind.and_then(|i| i.bio_percent_hundredths),
        sustainable_percent: t.and_then(|t| percent_hundredths(t.valeur_egalim() - t.valeur_bio, t.valeur_totale)),
        egalim_percent: ind.and_then(|i| i.egalim_percent_hundredths),
        meat_egalim_percent: ind.and_then(|i| i.viandes_volailles_egalim_percent_hundredths),
        meat_france_percent: ind.and_then(|i| i.viandes_volailles_france_percent_hundredths),
        fish_egalim_percent: ind.and_then(|i| i.produits_de_la_mer_egalim_percent_hundredths),
        fish_france_percent: ind.and_then(|i| i.produits_de_la_mer_france_percent_hundredths),
        appro_percent: percent_hundredths(reaching as i64, declared.len() as i64),
    }
}

/// One month of a trend line; its waste's range is the month within the asked range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonthPoint {
    pub year: i32,
    /// 1 = January.
    pub month: u32,
    pub waste: WastePeriod,
}

/// g per meal by month of the territory (empty INSEE code) or of one commune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendLine {
    pub commune_insee: String,
    pub commune_name: String,
    /// Every month of the range, in order; a month without a measured day has an empty waste
    /// (its g per meal is `None`).
    pub points: Vec<MonthPoint>,
}

/// The months of a range, each clipped to it.
pub fn months_of(range: DateRange) -> Vec<DateRange> {
    let mut out = Vec::new();
    let mut start = range.start;
    while start <= range.end {
        let next = NaiveDate::from_ymd_opt(start.year() + i32::from(start.month() == 12), start.month() % 12 + 1, 1);
        let Some(next) = next else { break };
        let end = next.pred_opt().map_or(range.end, |e| e.min(range.end));
        out.push(DateRange::new(start, end));
        start = next;
    }
    out
}

/// The territory's line first, then each commune's (by name), from one pass over the days.
pub fn monthly_trend(sites: &[SiteSummary], days: &[DayRollup], range: DateRange) -> Vec<TrendLine> {
    let months = months_of(range);
    // Lines in output order: the territory, then the communes by name.
    let communes: BTreeSet<(&str, &str)> =
        sites.iter().map(|s| (s.commune_name.as_str(), s.commune_insee.as_str())).collect();
    let order: Vec<(&str, &str)> = std::iter::once(("", "")).chain(communes.iter().copied()).collect();
    let line_of_site: BTreeMap<Uuid, usize> = sites
        .iter()
        .map(|s| {
            let key = (s.commune_name.as_str(), s.commune_insee.as_str());
            (s.site_id, 1 + communes.range(..key).count())
        })
        .collect();
    let mut lines: Vec<Vec<WastePeriod>> =
        order.iter().map(|_| months.iter().map(|m| WastePeriod::empty(*m)).collect()).collect();
    for d in days.iter().filter(|d| range.contains(d.date)) {
        let Some(line) = line_of_site.get(&d.site_id) else { continue };
        let m = months.partition_point(|m| m.end < d.date);
        lines[0][m].add_day(d);
        lines[*line][m].add_day(d);
    }
    order
        .into_iter()
        .zip(lines)
        .map(|((name, insee), points)| TrendLine {
            commune_insee: insee.to_string(),
            commune_name: name.to_string(),
            points: points
                .into_iter()
                .map(|w| MonthPoint { year: w.range.start.year(), month: w.range.start.month(), waste: w })
                .collect(),
        })
        .collect()
}

/// One commune's (or the territory's, empty INSEE code) purchases of one year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearPurchases {
    pub commune_insee: String,
    pub commune_name: String,
    pub year: i32,
    pub sites_with_purchases: u32,
    pub purchases: Option<PurchaseFigures>,
}

/// EGalim shares by year: the territory's years first, then each commune's (by name), years in
/// order. Sums of the sites' euros, with the sites' summed yearly meals for the cost per meal.
pub fn yearly_purchases(sites: &[SiteSummary], totals: &[YearTotals]) -> Vec<YearPurchases> {
    let site_of: BTreeMap<&str, &SiteSummary> = sites.iter().map(|s| (s.siret.as_str(), s)).collect();
    struct Acc {
        totals: YearTotals,
        sites: u32,
        yearly: u64,
        groups: BTreeSet<&'static str>,
        group: RegionGroup,
    }
    let mut acc: BTreeMap<((&str, &str), i32), Acc> = BTreeMap::new();
    for t in totals.iter().filter(|t| t.valeur_totale > 0) {
        let Some(s) = site_of.get(t.siret.as_str()) else { continue };
        for key in [("", ""), (s.commune_name.as_str(), s.commune_insee.as_str())] {
            let a = acc.entry((key, t.year)).or_insert_with(|| Acc {
                totals: YearTotals::new("", t.year),
                sites: 0,
                yearly: 0,
                groups: BTreeSet::new(),
                group: s.region_group,
            });
            a.totals.add_totals(t);
            a.sites += 1;
            a.yearly += u64::from(s.yearly_meal_count);
            a.groups.insert(s.region_group.code());
        }
    }
    acc.into_iter()
        .map(|(((name, insee), year), a)| {
            let group = if a.groups.len() > 1 { RegionGroup::Mainland } else { a.group };
            YearPurchases {
                commune_insee: insee.to_string(),
                commune_name: name.to_string(),
                year,
                sites_with_purchases: a.sites,
                purchases: PurchaseFigures::new(a.totals, group, (a.yearly > 0).then_some(a.yearly)),
            }
        })
        .collect()
}

/// How storing records moves their site's per-day counters: what the server adds to a
/// `day_rollup` row (a stored version leaving counts negative, the new one positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayDelta {
    /// Live meal counts of the day.
    pub meal_counts: i64,
    /// Their covers summed.
    pub meals: i64,
    /// Live weighings by stage, recovered surplus included (`DayRollup::weighings_by_stage`).
    pub weighings_by_stage: [i64; 3],
    pub grams_by_stage: [i64; 3],
}

impl DayDelta {
    /// Weighings of every stage (the day's `weighings` counter).
    pub fn weighings(&self) -> i64 {
        self.weighings_by_stage.iter().sum()
    }
    pub fn is_zero(&self) -> bool {
        *self == DayDelta::default()
    }
}

/// A purchase month (year, month from 1) and how many live lines it gains (or loses).
pub type MonthMove = ((i32, u32), i64);

/// The day and month moves of a batch of changes (each record's stored version, then its new
/// one; `None` when absent), per service day and per purchase month (year, month) with the
/// change of live purchase lines. Deleted versions count for nothing, as in `day_rollups`.
/// Zero moves are left out; both lists are in date order.
pub fn rollup_moves<'a>(
    changes: impl IntoIterator<Item = (Option<&'a crate::sync::RecordPayload>, Option<&'a crate::sync::RecordPayload>)>,
) -> (Vec<(NaiveDate, DayDelta)>, Vec<MonthMove>) {
    use crate::sync::RecordPayload;
    let mut days: BTreeMap<NaiveDate, DayDelta> = BTreeMap::new();
    let mut months: BTreeMap<(i32, u32), i64> = BTreeMap::new();
    let mut apply = |r: &RecordPayload, sign: i64| match r {
        RecordPayload::MealCount(c) if !c.meta.deleted => {
            let d = days.entry(c.service_date).or_default();
            d.meal_counts += sign;
            d.meals += sign * i64::try_from(c.served_total()).unwrap_or(i64::MAX);
        }
        RecordPayload::Weighing(w) if !w.meta.deleted => {
            let d = days.entry(w.service_date).or_default();
            d.weighings_by_stage[stage_index(w.stage)] += sign;
            if w.counts_as_waste() {
                d.grams_by_stage[stage_index(w.stage)] += sign * i64::try_from(w.mass_grams).unwrap_or(i64::MAX);
            }
        }
        RecordPayload::Purchase(p) if !p.meta.deleted => {
            *months.entry((p.date.year(), p.date.month())).or_default() += sign;
        }
        _ => {}
    };
    for (old, new) in changes {
        if let Some(o) = old {
            apply(o, -1);
        }
        if let Some(n) = new {
            apply(n, 1);
        }
    }
    (
        days.into_iter().filter(|(_, d)| !d.is_zero()).collect(),
        months.into_iter().filter(|(_, n)| *n != 0).collect(),
    )
}
