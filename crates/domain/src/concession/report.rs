//! The caterer's reporting against the contract: what the contract promised (its EGalim and
//! organic targets) beside what the purchase lines imported for the contract's sites show, and
//! how complete those lines are (months covered per site, sites with no line, the last file's
//! date, quarters with no line once their file is due). Pure: the lines and `today` are given.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use super::CateringContract;
use crate::egalim::{indicators, YearTotals};
use crate::purchase::Purchase;
use crate::site::RegionGroup;

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
}
