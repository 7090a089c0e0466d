//! The metropolis' view of every commune in delegated management: where each stands on the
//! pathway, its next deadline and how complete the caterer's data is, sortable. By default the
//! communes with a deadline in the next 90 days come first (soonest first), then the others.

use std::cmp::Ordering;

use chrono::NaiveDate;

use super::deadline::{next_deadline, Deadline};
use super::guide::guide;
use super::progress::ChecklistProgress;
use super::report::caterer_report;
use super::CateringContract;
use crate::purchase::Purchase;

/// Days ahead that put a commune first.
pub const SOON_DAYS: i64 = 90;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewRow {
    pub insee: String,
    pub name: String,
    /// Number and title of the first applicable step not complete; `None`: all done.
    pub step: Option<(u32, String)>,
    pub steps_done: usize,
    pub steps_total: usize,
    pub next_deadline: Option<Deadline>,
    /// Contract sites with at least one line this year, out of the contract's sites.
    pub sites_with_data: usize,
    pub sites_total: usize,
    /// Quarters flagged missing this year.
    pub missing_quarters: usize,
}

impl OverviewRow {
    pub fn build(insee: &str, name: &str, contract: &CateringContract, progress: &ChecklistProgress, meals_per_day: u32, purchases: &[Purchase], today: NaiveDate) -> OverviewRow {
        use chrono::Datelike;
        let steps = guide().applicable_steps(contract.contract_type, meals_per_day);
        let steps_done = steps.iter().filter(|s| progress.step_count(s).is_complete()).count();
        let step = progress.current_step(&steps).map(|s| (s.step.number, s.step.title.clone()));
        let report = caterer_report(contract, purchases, today.year(), today);
        OverviewRow {
            insee: insee.to_owned(),
            name: name.to_owned(),
            step,
            steps_done,
            steps_total: steps.len(),
            next_deadline: next_deadline(contract, today),
            sites_with_data: report.sites.len() - report.sites_without_data.len(),
            sites_total: report.sites.len(),
            missing_quarters: report.missing_quarters.len(),
        }
    }

    fn soon(&self) -> Option<i64> {
        self.next_deadline.as_ref().map(|d| d.days_left).filter(|d| *d <= SOON_DAYS)
    }

    /// Data coverage in per mille (sites with data over contract sites), for sorting.
    fn coverage(&self) -> u64 {
        if self.sites_total == 0 {
            0
        } else {
            (self.sites_with_data as u64 * 1000) / self.sites_total as u64
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// A deadline in the next 90 days first, soonest first; then the rest by date.
    Deadline,
    Commune,
    /// The least advanced first.
    Step,
    /// The least covered first.
    Coverage,
}

impl SortBy {
    pub const ALL: [SortBy; 4] = [SortBy::Deadline, SortBy::Commune, SortBy::Step, SortBy::Coverage];

    pub fn code(self) -> &'static str {
        match self {
            SortBy::Deadline => "deadline",
            SortBy::Commune => "commune",
            SortBy::Step => "step",
            SortBy::Coverage => "coverage",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortBy::Deadline => "Échéance (les 90 prochains jours d'abord)",
            SortBy::Commune => "Commune",
            SortBy::Step => "Étape (la moins avancée d'abord)",
            SortBy::Coverage => "Couverture des données (la plus faible d'abord)",
        }
    }

    pub fn from_code(code: &str) -> Option<SortBy> {
        SortBy::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// Sorts the rows; ties are broken by commune name then INSEE code, so the order is total.
pub fn sort_rows(rows: &mut [OverviewRow], by: SortBy) {
    let name = |a: &OverviewRow, b: &OverviewRow| a.name.cmp(&b.name).then_with(|| a.insee.cmp(&b.insee));
    rows.sort_by(|a, b| {
        let first: Ordering = match by {
            SortBy::Deadline => {
                let key = |r: &OverviewRow| (r.soon().is_none(), r.next_deadline.as_ref().map_or(NaiveDate::MAX, |d| d.date));
                key(a).cmp(&key(b))
            }
            SortBy::Commune => Ordering::Equal,
            SortBy::Step => a.step.as_ref().map_or(u32::MAX, |s| s.0).cmp(&b.step.as_ref().map_or(u32::MAX, |s| s.0)),
            SortBy::Coverage => a.coverage().cmp(&b.coverage()),
        };
        first.then_with(|| name(a, b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::tests::{contract, date};
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    fn row(insee: &str, name: &str, end: NaiveDate, today: NaiveDate, progress: &ChecklistProgress) -> OverviewRow {
        let mut c = contract();
        c.commune_insee_code = insee.into();
        c.end_date = end;
        OverviewRow::build(insee, name, &c, progress, 150, &[], today)
    }

    #[test]
    fn communes_with_a_deadline_within_90_days_come_first() {
        let today = date(2026, 12, 3);
        let empty = ChecklistProgress::default();
        let mut done_first = ChecklistProgress::default();
        for s in guide().applicable_steps(contract().contract_type, 150).iter().take(1) {
            for c in &s.checkpoints {
                done_first.set_tick(&s.step.id, &c.id, true, DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap(), Uuid::nil());
            }
        }
        // Renewal starts 18 months before the end: ending 31/05/2028 puts it on 30/11/2026 (past),
        // and the contract's next deadlines are its quarterly files and yearly dates.
        let mut rows = vec![
            row("76001", "Bréauté", date(2030, 8, 31), today, &empty),
            row("76002", "Angerville", date(2028, 8, 31), today, &done_first),
            row("76003", "Cauville", date(2028, 7, 31), today, &empty),
        ];
        for r in &rows {
            assert!(r.next_deadline.is_some(), "{}", r.name);
        }
        // Give one commune no deadline within 90 days: a contract ended long ago.
        rows.push(row("76004", "Épretot", date(2025, 1, 31), today, &empty));
        assert!(rows[3].soon().is_none());
        sort_rows(&mut rows, SortBy::Deadline);
        assert_eq!(rows.last().unwrap().name, "Épretot", "no deadline soon: last");
        let dates: Vec<NaiveDate> = rows[..3].iter().map(|r| r.next_deadline.as_ref().unwrap().date).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "soonest first: {dates:?}");
        sort_rows(&mut rows, SortBy::Commune);
        assert_eq!(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Angerville", "Bréauté", "Cauville", "Épretot"]);
        sort_rows(&mut rows, SortBy::Step);
        assert_eq!(rows.last().unwrap().name, "Angerville", "the most advanced last");
        assert_eq!(rows.iter().find(|r| r.name == "Angerville").unwrap().step.as_ref().unwrap().0, 2);
        assert_eq!(rows[0].steps_done, 0);
        assert_eq!(SortBy::from_code("coverage"), Some(SortBy::Coverage));
    }

    #[test]
    fn coverage_counts_contract_sites_with_lines_this_year() {
        use crate::purchase::Family;
        use crate::record::RecordMeta;
        let today = date(2026, 12, 3);
        let c = contract();
        let line = |siret: &str| Purchase {
            meta: RecordMeta::new(Uuid::from_u128(1), DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap()),
            siret: siret.into(),
            description: "Pain".into(),
            supplier: "Boulangerie".into(),
            date: date(2026, 3, 2),
            price_cents: 1000,
            family: Family::Boulangerie,
            characteristics: vec![],
            local_definition: None,
            local_km: None,
        };
        let r = OverviewRow::build("76351", "Démo", &c, &ChecklistProgress::default(), 150, &[line("21010034300016")], today);
        assert_eq!((r.sites_with_data, r.sites_total), (1, 2));
        assert_eq!(r.coverage(), 500);
        assert!(r.missing_quarters >= 3, "{r:?}");
    }
}
