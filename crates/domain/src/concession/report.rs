//! The caterer's reporting against the contract: what the contract promised (its EGalim and
//! organic targets) beside what the purchase lines imported for the contract's sites show, and
//! how complete those lines are (months covered per site, sites with no line, the last file's
//! date, quarters with no line once their file is due). Pure: the lines and `today` are given.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use super::CateringContract;
use crate::egalim::{indicators, YearTotals};
use crate::purchase::Purchase;
use crate::meals::DailyMealCount;
use crate::site::RegionGroup;
use crate::territory::{day_rollups, WastePeriod};
use crate::waste::{DateRange, Weighing};
use uuid::Uuid;

/// One site's lines in the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteCoverage {
    pub siret: String,
    /// Months (1–12) of the year with at least one line.
    pub months: Vec<u32>,
    pub lines: usize,
    pub last_line: Option<NaiveDate>,
}

/// Promised against measured, for one share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promise {
    /// The contract's target, whole percent (`None`: the contract sets none).
    pub target_percent: Option<u32>,
    /// The share the lines show, hundredths of a percent (`None`: no line).
    pub actual_hundredths: Option<i64>,
}

impl Promise {
    /// Kept (`Some(true)`), missed (`Some(false)`), or nothing to compare.
    pub fn kept(&self) -> Option<bool> {
        Some(self.actual_hundredths? >= i64::from(self.target_percent?) * 100)
    }
}

/// A quarter whose file is due and for which some sites have no line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingQuarter {
    pub year: i32,
    /// 1–4.
    pub quarter: u32,
    /// The day its file was due (end of the month after the quarter).
    pub due: NaiveDate,
    pub sirets: Vec<String>,
}

impl MissingQuarter {
    /// « 2e trimestre 2026 ».
    pub fn label(&self) -> String {
        let first = if self.quarter == 1 { "1er".to_owned() } else { format!("{}e", self.quarter) };
        format!("{first} trimestre {}", self.year)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatererReport {
    pub year: i32,
    pub egalim: Promise,
    pub organic: Promise,
    /// Sum excluding tax of the year's lines at the contract's sites, cents.
    pub total_cents: i64,
    pub sites: Vec<SiteCoverage>,
    /// Contract sites with no line in the year.
    pub sites_without_data: Vec<String>,
    /// When the latest line at the contract's sites was written on this device (its file's
    /// import), whatever the year.
    pub last_file_at: Option<DateTime<Utc>>,
    pub missing_quarters: Vec<MissingQuarter>,
}

/// Last day of the month after the quarter `q` (1–4) of `year`: when its file is due.
pub fn quarter_due(year: i32, q: u32) -> NaiveDate {
    let first_after = NaiveDate::from_ymd_opt(year, 3 * q, 1).expect("a quarter's last month") + Months::new(2);
    first_after.pred_opt().expect("a day before")
}

/// The report of `year` for the contract, from every purchase stored (the contract's sites are
/// picked here; deleted lines are left out).
pub fn caterer_report(contract: &CateringContract, purchases: &[Purchase], year: i32, today: NaiveDate) -> CatererReport {
    let in_contract = |p: &&Purchase| !p.meta.deleted && contract.site_sirets.contains(&p.siret);
    let mut totals = YearTotals::new("", year);
    let mut sites: Vec<SiteCoverage> =
        contract.site_sirets.iter().map(|s| SiteCoverage { siret: s.clone(), months: Vec::new(), lines: 0, last_line: None }).collect();
    let mut last_file_at: Option<DateTime<Utc>> = None;
    for p in purchases.iter().filter(in_contract) {
        last_file_at = last_file_at.max(Some(p.meta.modified_at));
        if p.date.year() != year {
            continue;
        }
        totals.add(p);
        if let Some(s) = sites.iter_mut().find(|s| s.siret == p.siret) {
            s.lines += 1;
            if !s.months.contains(&p.date.month()) {
                s.months.push(p.date.month());
            }
            s.last_line = s.last_line.max(Some(p.date));
        }
    }
    for s in &mut sites {
        s.months.sort_unstable();
    }
    let group = RegionGroup::for_insee_code(&contract.commune_insee_code).unwrap_or_default();
    let ind = indicators(&totals, group, None);
    let sites_without_data = sites.iter().filter(|s| s.lines == 0).map(|s| s.siret.clone()).collect();
    let mut missing_quarters = Vec::new();
    for q in 1..=4u32 {
        let first = NaiveDate::from_ymd_opt(year, 3 * q - 2, 1).expect("a quarter's first month");
        let last = (first + Months::new(3)).pred_opt().expect("a day before");
        let due = quarter_due(year, q);
        // Only quarters the contract ran in, and whose file is due by now.
        if last < contract.start_date || first > contract.end_date || due >= today {
            continue;
        }
        let months = 3 * q - 2..=3 * q;
        let sirets: Vec<String> = sites.iter().filter(|s| !s.months.iter().any(|m| months.contains(m))).map(|s| s.siret.clone()).collect();
        if !sirets.is_empty() {
            missing_quarters.push(MissingQuarter { year, quarter: q, due, sirets });
        }
    }
    CatererReport {
        year,
        egalim: Promise { target_percent: contract.targets.egalim_percent, actual_hundredths: ind.egalim_percent_hundredths },
        organic: Promise { target_percent: contract.targets.organic_percent, actual_hundredths: ind.bio_percent_hundredths },
        total_cents: totals.valeur_totale,
        sites,
        sites_without_data,
        last_file_at,
        missing_quarters,
    }
}

/// The waste the caterer's sites measured beside the contract's waste target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WastePromise {
    /// The contract's target, g per meal (`None`: the contract sets none).
    pub target_grams_per_meal: Option<u32>,
    /// The measured days of the report's period at the contract's sites (the territory's sums).
    pub measured: WastePeriod,
}

impl WastePromise {
    /// g per meal measured; `None` when no weighed day has a meal count (« non renseigné »).
    pub fn grams_per_meal(&self) -> Option<f64> {
        self.measured.grams_per_meal()
    }
    /// At or under the target (`Some(true)`), over it, or nothing to compare. Compared on the
    /// figure as shown (rounded to the gram), so the page never says « 80 g » is over 80.
    pub fn kept(&self) -> Option<bool> {
        Some(self.grams_per_meal()?.round() <= f64::from(self.target_grams_per_meal?))
    }
}

/// The report's period for `year`: the calendar year within the contract's dates (`None` when
/// the contract did not run that year).
pub fn report_range(contract: &CateringContract, year: i32) -> Option<DateRange> {
    let start = NaiveDate::from_ymd_opt(year, 1, 1)?.max(contract.start_date);
    let end = NaiveDate::from_ymd_opt(year, 12, 31)?.min(contract.end_date);
    (start <= end).then(|| DateRange::new(start, end))
}

/// The waste of `year` at the contract's sites (`site_ids`: their ids, from their SIRETs),
/// from every meal count and weighing stored (others' sites and deleted records left out),
/// summed as the territory view does (`day_rollups`, `WastePeriod`: weighed days with a meal
/// count only).
pub fn waste_against_target(contract: &CateringContract, site_ids: &[Uuid], meals: &[DailyMealCount], weighings: &[Weighing], year: i32) -> WastePromise {
    let target_grams_per_meal = contract.targets.waste_grams_per_meal;
    let Some(range) = report_range(contract, year) else {
        let empty = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(contract.start_date);
        return WastePromise { target_grams_per_meal, measured: WastePeriod::empty(DateRange::new(empty, empty)) };
    };
    let meals: Vec<DailyMealCount> = meals.iter().filter(|m| site_ids.contains(&m.site_id)).cloned().collect();
    let weighings: Vec<Weighing> = weighings.iter().filter(|w| site_ids.contains(&w.site_id)).cloned().collect();
    let days = day_rollups(&meals, &weighings);
    WastePromise { target_grams_per_meal, measured: WastePeriod::of(&days, range) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::tests::{contract, date};
    use crate::purchase::{Characteristic, Family};
    use crate::record::RecordMeta;
    use uuid::Uuid;

    fn line(siret: &str, d: NaiveDate, cents: i64, labels: &[Characteristic], written: i64) -> Purchase {
        Purchase {
            meta: RecordMeta::new(Uuid::from_u128(written as u128 + 1), DateTime::<Utc>::from_timestamp(1_780_000_000 + written, 0).unwrap()),
            siret: siret.into(),
            description: "Yaourts".into(),
            supplier: "Laiterie".into(),
            date: d,
            price_cents: cents,
            family: Family::ProduitsLaitiers,
            characteristics: labels.to_vec(),
            local_definition: None,
            local_km: None,
        }
    }

    #[test]
    fn promised_against_measured_with_coverage_and_a_missing_quarter() {
        let c = contract(); // sites 21010034300016 and 73282932000074, targets 55 % / 25 %, from 01/09/2024
        let (a, b) = ("21010034300016", "73282932000074");
        let lines = vec![
            line(a, date(2026, 1, 15), 10_000, &[Characteristic::Bio], 0),
            line(a, date(2026, 2, 3), 10_000, &[Characteristic::LabelRouge], 10),
            line(a, date(2026, 7, 1), 20_000, &[], 20),
            line(b, date(2026, 5, 20), 10_000, &[], 30),
            line(b, date(2025, 12, 1), 99_999, &[Characteristic::Bio], 40), // another year
            line("35600000000048", date(2026, 1, 1), 50_000, &[Characteristic::Bio], 50), // not the contract's
        ];
        let r = caterer_report(&c, &lines, 2026, date(2026, 11, 2));
        assert_eq!(r.total_cents, 50_000);
        // Bio 100 € of 500 €: 20 %; EGalim (bio + Label rouge) 200 € of 500 €: 40 %.
        assert_eq!(r.organic, Promise { target_percent: Some(25), actual_hundredths: Some(2000) });
        assert_eq!(r.egalim.actual_hundredths, Some(4000));
        assert_eq!(r.egalim.kept(), Some(false));
        assert_eq!(r.sites[0].months, vec![1, 2, 7]);
        assert_eq!(r.sites[0].last_line, Some(date(2026, 7, 1)));
        assert_eq!(r.sites[1].months, vec![5]);
        assert!(r.sites_without_data.is_empty());
        assert_eq!(r.last_file_at, Some(DateTime::<Utc>::from_timestamp(1_780_000_040, 0).unwrap()), "the latest written line of the contract's sites");
        // Q1 due 30/04, Q2 31/07, Q3 31/10 are due on 02/11; Q4 is not.
        let q: Vec<(u32, Vec<&str>)> = r.missing_quarters.iter().map(|m| (m.quarter, m.sirets.iter().map(String::as_str).collect())).collect();
        assert_eq!(q, vec![(1, vec![b]), (2, vec![a]), (3, vec![b])]);
        assert_eq!(r.missing_quarters[0].label(), "1er trimestre 2026");
        assert_eq!(r.missing_quarters[2].due, date(2026, 10, 31));
        // The day a quarter's file is due, it is not late yet.
        assert_eq!(caterer_report(&c, &lines, 2026, date(2026, 10, 31)).missing_quarters.len(), 2);
    }

    #[test]
    fn no_line_is_no_share_and_quarters_outside_the_contract_are_not_asked() {
        let c = contract(); // 01/09/2024 – 31/08/2028
        let r = caterer_report(&c, &[], 2024, date(2026, 1, 1));
        assert_eq!(r.egalim.actual_hundredths, None);
        assert_eq!(r.egalim.kept(), None);
        assert_eq!(r.sites_without_data.len(), 2);
        // 2024: only Q3 (September) and Q4 ran under the contract.
        assert_eq!(r.missing_quarters.iter().map(|m| m.quarter).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(quarter_due(2024, 4), date(2025, 1, 31));
        assert_eq!(quarter_due(2024, 1), date(2024, 4, 30));
        let mut met = c.clone();
        met.targets.egalim_percent = None;
        assert_eq!(caterer_report(&met, &[], 2026, date(2026, 1, 1)).egalim.kept(), None, "no target: nothing to compare");
        let promise = Promise { target_percent: Some(50), actual_hundredths: Some(5000) };
        assert_eq!(promise.kept(), Some(true));
    }

    /// A fresh record meta (a distinct id each time; the domain has no clock).
    fn meta() -> RecordMeta {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1_000);
        RecordMeta::new(Uuid::from_u128(u128::from(NEXT.fetch_add(1, Ordering::Relaxed))), DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap())
    }

    fn count(site: u128, d: NaiveDate, served: u32) -> DailyMealCount {
        DailyMealCount { meta: meta(), site_id: Uuid::from_u128(site), service_date: d, planned: 0, served_children: served, served_adults: 0 }
    }

    fn weighed(site: u128, d: NaiveDate, grams: u64) -> Weighing {
        Weighing {
            meta: meta(),
            site_id: Uuid::from_u128(site),
            service_date: d,
            stage: crate::waste::Stage::Leftovers,
            component: None,
            mass_grams: grams,
            sorted: None,
            destination: None,
        }
    }

    #[test]
    fn measured_waste_beside_the_target_over_the_contracts_year() {
        let c = contract(); // waste target 80 g/meal, 01/09/2024 – 31/08/2028
        let sites = [Uuid::from_u128(1), Uuid::from_u128(2)];
        let mut gone = weighed(1, date(2026, 3, 2), 50_000);
        gone.meta = gone.meta.deleted(DateTime::<Utc>::from_timestamp(1_780_000_100, 0).unwrap());
        let meals = vec![count(1, date(2026, 3, 2), 100), count(1, date(2026, 3, 5), 50), count(3, date(2026, 3, 2), 10), count(1, date(2025, 12, 1), 100)];
        let weighings = vec![
            weighed(1, date(2026, 3, 2), 6_000),
            weighed(1, date(2026, 3, 2), 2_000),
            weighed(1, date(2026, 3, 5), 9_000),
            weighed(2, date(2026, 3, 3), 5_000), // no meal count that day: not a measured day
            weighed(3, date(2026, 3, 2), 90_000), // not the contract's site
            weighed(1, date(2025, 12, 1), 40_000), // another year
            gone,
        ];
        let w = waste_against_target(&c, &sites, &meals, &weighings, 2026);
        assert_eq!((w.measured.measured_days, w.measured.meals, w.measured.grams()), (2, 150, 17_000));
        // 17 000 g ÷ 150 meals ≈ 113 g, over the 80 g promised.
        assert_eq!(w.grams_per_meal().map(|g| g.round()), Some(113.0));
        assert_eq!(w.kept(), Some(false));
        assert_eq!(w.measured.range, DateRange::new(date(2026, 1, 1), date(2026, 12, 31)));
        // The same sums as the territory view's for those records.
        let ours: Vec<_> = meals.iter().filter(|m| sites.contains(&m.site_id)).cloned().collect();
        let theirs: Vec<_> = weighings.iter().filter(|w| sites.contains(&w.site_id)).cloned().collect();
        assert_eq!(w.measured, WastePeriod::of(&day_rollups(&ours, &theirs), DateRange::new(date(2026, 1, 1), date(2026, 12, 31))));
        // The first year runs from the contract's start: December 2025 is in 2025's report.
        assert_eq!(report_range(&c, 2024), Some(DateRange::new(date(2024, 9, 1), date(2024, 12, 31))));
        assert_eq!(waste_against_target(&c, &sites, &meals, &weighings, 2025).grams_per_meal(), Some(400.0));
        assert_eq!(report_range(&c, 2023), None);
        // At the target, rounded as shown, is kept.
        let at = waste_against_target(&c, &sites, &[count(1, date(2026, 3, 2), 3)], &[weighed(1, date(2026, 3, 2), 241)], 2026);
        assert_eq!((at.grams_per_meal().map(|g| g.round()), at.kept()), (Some(80.0), Some(true)));
    }

    #[test]
    fn no_meal_count_is_not_informed_and_no_target_compares_nothing() {
        let mut c = contract();
        let sites = [Uuid::from_u128(1)];
        let w = waste_against_target(&c, &sites, &[], &[weighed(1, date(2026, 3, 2), 6_000)], 2026);
        assert_eq!((w.grams_per_meal(), w.kept()), (None, None), "weighed without meals: « non renseigné »");
        assert_eq!(waste_against_target(&c, &sites, &[], &[], 2023).measured.measured_days, 0, "a year outside the contract");
        c.targets.waste_grams_per_meal = None;
        let w = waste_against_target(&c, &sites, &[count(1, date(2026, 3, 2), 100)], &[weighed(1, date(2026, 3, 2), 6_000)], 2026);
        assert_eq!((w.grams_per_meal(), w.kept()), (Some(60.0), None));
    }
}
