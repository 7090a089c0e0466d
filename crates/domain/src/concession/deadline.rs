//! The dates a contract sets, computed from the record alone (pure: `today` is given).
//!
//! - Renewal preparation: 18 months before the end date (a new diagnostic and procedure take
//!   that long). Same day of the month, or the month's last day when it has fewer days
//!   (31 August 2028 → 29 February 2027 is impossible, so 28 February 2027).
//! - The delegate's annual report (concession only): before 1 June of each year following a
//!   year the contract ran (Code de la commande publique, R. 3131-2).
//! - The declaration campaign on ma cantine for each year the contract covers, held January to
//!   April of the next year; dates the platform published are used as they are, the others
//!   are shown as estimated.
//! - The caterer's purchase files: one per reporting period the contract sets, due by the end
//!   of the month after the period (the invoices of its last days must come in); and the
//!   complete year by 31 March of the next (the first quarter, as the national guide asks),
//!   in time for the declaration.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{CateringContract, ContractType, ReportingFrequency};
use crate::number::format_fr_date;

/// Months before the end date when the renewal must start.
pub const RENEWAL_LEAD_MONTHS: u32 = 18;

/// A declaration campaign ma cantine published; (month, day) in the year after the data's.
struct Campaign {
    data_year: i32,
    opens: (u32, u32),
    closes: (u32, u32),
    corrections_close: (u32, u32),
}

const KNOWN_CAMPAIGNS: &[Campaign] = &[
    // 2025 data: 12 January – 15 April 2026, corrections 16–29 April 2026.
    Campaign { data_year: 2025, opens: (1, 12), closes: (4, 15), corrections_close: (4, 29) },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeadlineKind {
    /// Start preparing the next contract.
    RenewalPreparation,
    /// The delegate's yearly report (concession).
    AnnualReport,
    /// Declaring the year's figures on ma cantine (closing day).
    DeclarationCampaign,
    /// Last day to correct a declaration already sent.
    DeclarationCorrections,
    /// The caterer's purchase file for one reporting period.
    PeriodicReport,
    /// The caterer's complete purchase file for a calendar year.
    YearlyPurchaseFile,
    /// The contract's last day.
    ContractEnd,
}
crate::code_enum!(DeadlineKind { RenewalPreparation => "renewal_preparation", AnnualReport => "annual_report", DeclarationCampaign => "declaration_campaign", DeclarationCorrections => "declaration_corrections", PeriodicReport => "periodic_report", YearlyPurchaseFile => "yearly_purchase_file", ContractEnd => "contract_end" });

/// One dated obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// The last day (inclusive).
    #[serde(with = "crate::time::date")]
    pub date: NaiveDate,
    /// First day of a window (the campaign's opening), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::date_option")]
    pub opens: Option<NaiveDate>,
    /// French, with dates as dd/mm/yyyy.
    pub label: String,
    /// Days from today to `date`: 0 on the day, negative once past.
    pub days_left: i64,
    pub past: bool,
    /// The dates are the app's estimate (not yet published by ma cantine).
    #[serde(default)]
    pub estimated: bool,
}

impl Deadline {
    /// When, in words: « aujourd'hui », « dans 12 jours », « dépassée depuis 3 jours ».
    pub fn when_label(&self) -> String {
        match self.days_left {
            0 => "aujourd'hui".to_owned(),
            1 => "demain".to_owned(),
            -1 => "dépassée depuis 1 jour".to_owned(),
            n if n > 0 => format!("dans {n} jours"),
            n => format!("dépassée depuis {} jours", -n),
        }
    }

    /// One line for a list: « 15/04/2026 : Déclarer… (à partir du 12/01/2026), dans 45 jours »,
    /// « — date estimée » when ma cantine has not published it.
    pub fn line_fr(&self) -> String {
        let window = self.opens.map(|o| format!(" (à partir du {})", format_fr_date(o))).unwrap_or_default();
        let estimated = if self.estimated { " — date estimée" } else { "" };
        format!("{} : {}{window}, {}{estimated}", format_fr_date(self.date), self.label, self.when_label())
    }

    fn dated(kind: DeadlineKind, date: NaiveDate, opens: Option<NaiveDate>, label: String, estimated: bool, today: NaiveDate) -> Deadline {
        let days_left = (date - today).num_days();
        Deadline { kind, date, opens, label, days_left, past: days_left < 0, estimated }
    }
}

/// `date` minus `months`, on the month's last day when the day does not exist there.
fn months_before(date: NaiveDate, months: u32) -> NaiveDate {
    // chrono clamps to the last day of the target month, which is the rule we want.
    date.checked_sub_months(Months::new(months)).unwrap_or(NaiveDate::MIN)
}

/// The day renewal preparation must start (see the module).
pub fn renewal_date(end_date: NaiveDate) -> NaiveDate {
    months_before(end_date, RENEWAL_LEAD_MONTHS)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a fixed calendar date")
}

/// Last day of the month `date` is in.
fn month_end(date: NaiveDate) -> NaiveDate {
    let first = ymd(date.year(), date.month(), 1);
    first.checked_add_months(Months::new(1)).map_or(NaiveDate::MAX, |d| d.pred_opt().unwrap_or(d))
}

const MONTHS_FR: [&str; 12] = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"];

fn period_name(frequency: ReportingFrequency, start: NaiveDate) -> String {
    let y = start.year();
    match frequency {
        ReportingFrequency::Monthly => format!("{} {y}", MONTHS_FR[start.month0() as usize]),
        ReportingFrequency::Quarterly => {
            let q = start.month0() / 3 + 1;
            let first = if q == 1 { "1er".to_owned() } else { format!("{q}e") };
            format!("{first} trimestre {y}")
        }
        ReportingFrequency::Yearly => format!("l'année {y}"),
    }
}

/// The declaration campaign on ma cantine for the figures of `data_year`, held January to
/// April of the next year: its closing day (the window's opening in `opens`), and the last day
/// of corrections when ma cantine published it. Every canteen declares, whatever its
/// management: the contract's deadlines and the commune page both read it here.
pub fn declaration_deadlines(data_year: i32, today: NaiveDate) -> Vec<Deadline> {
    let (year, next) = (data_year, data_year + 1);
    match KNOWN_CAMPAIGNS.iter().find(|c| c.data_year == year) {
        Some(&Campaign { opens: (om, od), closes: (cm, cd), corrections_close: (rm, rd), .. }) => {
            let (opens, closes) = (ymd(next, om, od), ymd(next, cm, cd));
            vec![
                Deadline::dated(
                    DeadlineKind::DeclarationCampaign,
                    closes,
                    Some(opens),
                    format!("Déclarer les achats {year} sur ma cantine : du {} au {}", format_fr_date(opens), format_fr_date(closes)),
                    false,
                    today,
                ),
                Deadline::dated(
                    DeadlineKind::DeclarationCorrections,
                    ymd(next, rm, rd),
                    Some(closes.succ_opt().unwrap_or(closes)),
                    format!("Corriger la déclaration {year} sur ma cantine : jusqu'au {}", format_fr_date(ymd(next, rm, rd))),
                    false,
                    today,
                ),
            ]
        }
        None => {
            let (opens, closes) = (ymd(next, 1, 1), ymd(next, 4, 30));
            vec![Deadline::dated(
                DeadlineKind::DeclarationCampaign,
                closes,
                Some(opens),
                format!("Déclarer les achats {year} sur ma cantine : de janvier à avril {next} (dates exactes à confirmer sur ma cantine)"),
                true,
                today,
            )]
        }
    }
}

/// The campaign a commune works towards on `today`: last year's figures' until its last day
/// (corrections included) has passed, then this year's.
pub fn next_declaration(today: NaiveDate) -> Vec<Deadline> {
    let last_year = declaration_deadlines(today.year() - 1, today);
    if last_year.iter().any(|d| !d.past) {
        last_year
    } else {
        declaration_deadlines(today.year(), today)
    }
}

/// Every deadline of the contract, sorted by date (then kind), past ones flagged.
pub fn deadlines(contract: &CateringContract, today: NaiveDate) -> Vec<Deadline> {
    let (start, end) = (contract.start_date, contract.end_date);
    let mut out = Vec::new();
    // The campaigns of the contract's years, added once `push` is done with `out`.
    let mut campaigns = Vec::new();
    let mut push = |kind, date: NaiveDate, opens, label: String, estimated| out.push(Deadline::dated(kind, date, opens, label, estimated, today));
    if end < start {
        // An invalid record (validation refuses it): nothing sensible to compute.
        return Vec::new();
    }
    let renewal = renewal_date(end);
    push(
        DeadlineKind::RenewalPreparation,
        renewal,
        None,
        format!("Préparer le renouvellement du contrat (18 mois avant sa fin le {}) : diagnostic, bilan et choix de la procédure", format_fr_date(end)),
        false,
    );
    push(DeadlineKind::ContractEnd, end, None, format!("Fin du contrat avec {}", contract.caterer_name.trim()), false);

    for year in start.year()..=end.year() {
        let next = year + 1;
        if contract.contract_type == ContractType::Concession {
            push(
                DeadlineKind::AnnualReport,
                ymd(next, 5, 31),
                None,
                format!("Rapport annuel du délégataire sur l'année {year} : à remettre avant le 1er juin {next}, puis à présenter au conseil municipal"),
                false,
            );
        }
        campaigns.extend(declaration_deadlines(year, today));
        push(
            DeadlineKind::YearlyPurchaseFile,
            ymd(next, 3, 31),
            None,
            format!("Le prestataire remet le fichier complet des achats {year}, restaurant par restaurant, au plus tard le {}", format_fr_date(ymd(next, 3, 31))),
            false,
        );
    }

    let frequency = contract.targets.reporting_frequency;
    if frequency != ReportingFrequency::Yearly {
        let months = frequency.months();
        // Periods are aligned on the calendar (months, quarters from January).
        let mut period = ymd(start.year(), (start.month0() / months) * months + 1, 1);
        while period <= end {
            let next_period = period.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX);
            let due = month_end(next_period);
            push(
                DeadlineKind::PeriodicReport,
                due,
                None,
                format!("Le prestataire transmet les achats de {}, restaurant par restaurant, au plus tard le {}", period_name(frequency, period), format_fr_date(due)),
                false,
            );
            period = next_period;
        }
    }
    out.extend(campaigns);
    out.sort_by(|a, b| (a.date, a.kind, &a.label).cmp(&(b.date, b.kind, &b.label)));
    out
}

/// The first deadline not past (what the commune's page and the metropolis' overview show).
pub fn next_deadline(contract: &CateringContract, today: NaiveDate) -> Option<Deadline> {
    deadlines(contract, today).into_iter().find(|d| !d.past)
}

/// The deadlines not past within `days` days (the metropolis' overview puts the communes
/// with one in the next 90 days first).
pub fn upcoming(contract: &CateringContract, today: NaiveDate, days: i64) -> Vec<Deadline> {
    deadlines(contract, today).into_iter().filter(|d| !d.past && d.days_left <= days).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::tests::{contract, date};
    use proptest::prelude::*;

    fn kinds_on(list: &[Deadline], kind: DeadlineKind) -> Vec<NaiveDate> {
        list.iter().filter(|d| d.kind == kind).map(|d| d.date).collect()
    }

    #[test]
    fn renewal_is_18_months_before_or_the_month_end() {
        assert_eq!(renewal_date(date(2028, 8, 31)), date(2027, 2, 28));
        assert_eq!(renewal_date(date(2029, 8, 31)), date(2028, 2, 29), "leap year");
        assert_eq!(renewal_date(date(2028, 2, 29)), date(2026, 8, 29));
        assert_eq!(renewal_date(date(2027, 12, 31)), date(2026, 6, 30));
        assert_eq!(renewal_date(date(2027, 7, 15)), date(2026, 1, 15));
    }

    #[test]
    fn a_services_contract_s_deadlines() {
        let c = contract(); // 01/09/2024 – 31/08/2028, quarterly
        let today = date(2026, 3, 1);
        let list = deadlines(&c, today);
        assert!(kinds_on(&list, DeadlineKind::AnnualReport).is_empty(), "no annual report outside a concession");
        assert_eq!(kinds_on(&list, DeadlineKind::RenewalPreparation), vec![date(2027, 2, 28)]);
        assert_eq!(kinds_on(&list, DeadlineKind::ContractEnd), vec![date(2028, 8, 31)]);
        // 2024 to 2028 data.
        assert_eq!(kinds_on(&list, DeadlineKind::DeclarationCampaign), vec![date(2025, 4, 30), date(2026, 4, 15), date(2027, 4, 30), date(2028, 4, 30), date(2029, 4, 30)]);
        let campaign_2025 = list.iter().find(|d| d.kind == DeadlineKind::DeclarationCampaign && d.date.year() == 2026).unwrap();
        assert_eq!(campaign_2025.opens, Some(date(2026, 1, 12)));
        assert!(!campaign_2025.estimated);
        assert_eq!(campaign_2025.label, "Déclarer les achats 2025 sur ma cantine : du 12/01/2026 au 15/04/2026");
        assert_eq!(campaign_2025.days_left, 45);
        assert!(list.iter().any(|d| d.kind == DeadlineKind::DeclarationCampaign && d.estimated));
        assert_eq!(kinds_on(&list, DeadlineKind::DeclarationCorrections), vec![date(2026, 4, 29)]);
        // Q3 2024 (contract starts in September) to Q3 2028: 17 quarters, each due a month after.
        let quarters = kinds_on(&list, DeadlineKind::PeriodicReport);
        assert_eq!(quarters.len(), 17);
        assert_eq!(quarters[0], date(2024, 10, 31));
        assert_eq!(quarters[1], date(2025, 1, 31));
        assert_eq!(*quarters.last().unwrap(), date(2028, 10, 31));
        let first = list.iter().find(|d| d.kind == DeadlineKind::PeriodicReport).unwrap();
        assert!(first.label.contains("3e trimestre 2024") && first.label.contains("31/10/2024"), "{}", first.label);
        assert!(first.past && first.days_left < 0);
        let next = next_deadline(&c, today).unwrap();
        assert_eq!((next.kind, next.date), (DeadlineKind::YearlyPurchaseFile, date(2026, 3, 31)));
    }

    #[test]
    fn a_concession_owes_a_report_before_each_1_june() {
        let mut c = contract();
        c.contract_type = ContractType::Concession;
        c.targets.reporting_frequency = ReportingFrequency::Yearly;
        let list = deadlines(&c, date(2026, 6, 1));
        assert_eq!(kinds_on(&list, DeadlineKind::AnnualReport), vec![date(2025, 5, 31), date(2026, 5, 31), date(2027, 5, 31), date(2028, 5, 31), date(2029, 5, 31)]);
        let report_2025 = list.iter().find(|d| d.kind == DeadlineKind::AnnualReport && d.date.year() == 2026).unwrap();
        assert!(report_2025.past && report_2025.days_left == -1, "{report_2025:?}");
        assert!(report_2025.label.contains("avant le 1er juin 2026"));
        assert!(kinds_on(&list, DeadlineKind::PeriodicReport).is_empty(), "yearly: the year's file only");
        assert_eq!(kinds_on(&list, DeadlineKind::YearlyPurchaseFile).len(), 5);
    }

    #[test]
    fn monthly_reporting_and_the_day_itself() {
        let mut c = contract();
        c.start_date = date(2026, 1, 15);
        c.end_date = date(2026, 3, 31);
        c.targets.reporting_frequency = ReportingFrequency::Monthly;
        let list = deadlines(&c, date(2026, 2, 28));
        assert_eq!(kinds_on(&list, DeadlineKind::PeriodicReport), vec![date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]);
        let due_today = list.iter().find(|d| d.date == date(2026, 2, 28)).unwrap();
        assert_eq!((due_today.days_left, due_today.past), (0, false));
        assert!(due_today.label.contains("janvier 2026"), "{}", due_today.label);
    }

    #[test]
    fn upcoming_within_90_days_and_when_labels() {
        let c = contract();
        let list = upcoming(&c, date(2026, 3, 1), 90);
        let dates: Vec<_> = list.iter().map(|d| (d.kind, d.date)).collect();
        assert_eq!(
            dates,
            vec![
                (DeadlineKind::YearlyPurchaseFile, date(2026, 3, 31)),
                (DeadlineKind::DeclarationCampaign, date(2026, 4, 15)),
                (DeadlineKind::DeclarationCorrections, date(2026, 4, 29)),
                (DeadlineKind::PeriodicReport, date(2026, 4, 30)),
            ]
        );
        assert_eq!(list[0].when_label(), "dans 30 jours");
        let mut d = list[0].clone();
        for (days, label) in [(0, "aujourd'hui"), (1, "demain"), (-1, "dépassée depuis 1 jour"), (-12, "dépassée depuis 12 jours")] {
            d.days_left = days;
            assert_eq!(d.when_label(), label);
        }
    }

    #[test]
    fn contract_in_the_past_has_only_past_deadlines() {
        let mut c = contract();
        c.start_date = date(2015, 1, 1);
        c.end_date = date(2019, 12, 31);
        let today = date(2026, 3, 1);
        let list = deadlines(&c, today);
        assert!(list.iter().all(|d| d.past));
        assert_eq!(next_deadline(&c, today), None);
    }

    #[test]
    fn the_next_declaration_campaign_of_any_commune() {
        // Until 29/04/2026 (corrections included): the 2025 figures' campaign, as published.
        let list = next_declaration(date(2026, 4, 29));
        assert_eq!(list.iter().map(|d| (d.kind, d.date)).collect::<Vec<_>>(), vec![
            (DeadlineKind::DeclarationCampaign, date(2026, 4, 15)),
            (DeadlineKind::DeclarationCorrections, date(2026, 4, 29)),
        ]);
        assert_eq!(list[1].days_left, 0);
        assert_eq!(list[0].line_fr(), "15/04/2026 : Déclarer les achats 2025 sur ma cantine : du 12/01/2026 au 15/04/2026 (à partir du 12/01/2026), dépassée depuis 14 jours");
        // The day after: the 2026 figures', estimated (ma cantine has not published it).
        let list = next_declaration(date(2026, 4, 30));
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].date, list[0].opens, list[0].estimated), (date(2027, 4, 30), Some(date(2027, 1, 1)), true));
        assert!(list[0].line_fr().starts_with("30/04/2027 : Déclarer les achats 2026 sur ma cantine : de janvier à avril 2027"), "{}", list[0].line_fr());
        assert!(list[0].line_fr().ends_with("dans 365 jours — date estimée"), "{}", list[0].line_fr());
        // A contract's campaigns are these very deadlines.
        let c = contract();
        let today = date(2026, 3, 1);
        let of_contract: Vec<Deadline> =
            deadlines(&c, today).into_iter().filter(|d| matches!(d.kind, DeadlineKind::DeclarationCampaign | DeadlineKind::DeclarationCorrections)).collect();
        let mut expected: Vec<Deadline> = (2024..=2028).flat_map(|y| declaration_deadlines(y, today)).collect();
        expected.sort_by_key(|d| (d.date, d.kind));
        assert_eq!(of_contract, expected);
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (2000i32..2100, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
            // Day 29–31 clamped to the month's length: ends of months are the cases that matter.
            (0..=3).find_map(|back| NaiveDate::from_ymd_opt(y, m, d - back.min(d - 1))).unwrap()
        })
    }

    fn any_frequency() -> impl Strategy<Value = ReportingFrequency> {
        prop_oneof![Just(ReportingFrequency::Monthly), Just(ReportingFrequency::Quarterly), Just(ReportingFrequency::Yearly)]
    }

    proptest! {
        #[test]
        fn the_next_campaign_is_ahead_and_within_the_coming_year_and_a_half(today in any_date()) {
            let list = next_declaration(today);
            let campaign = list.iter().find(|d| d.kind == DeadlineKind::DeclarationCampaign).unwrap();
            prop_assert!(list.iter().any(|d| !d.past));
            // January to April of the next year at the latest: 16 months.
            prop_assert!(campaign.date <= ymd(today.year() + 1, 4, 30));
            prop_assert!(list.iter().all(|d| d.date.year() == campaign.date.year()));
            // Last year's figures' until it is over, then this year's.
            let data_year = campaign.date.year() - 1;
            prop_assert!(data_year == today.year() - 1 || declaration_deadlines(today.year() - 1, today).iter().all(|d| d.past));
        }

        #[test]
        fn renewal_is_never_after_the_end_and_exactly_18_months(end in any_date()) {
            let r = renewal_date(end);
            prop_assert!(r < end);
            let months = (end.year() - r.year()) * 12 + end.month() as i32 - r.month() as i32;
            prop_assert_eq!(months, 18);
            if r.day() != end.day() {
                // Clamped: the end's day does not exist 18 months earlier.
                prop_assert!(r.day() < end.day());
                prop_assert_eq!(r, month_end(r));
            }
        }

        #[test]
        fn contracts_ending_on_29_february(year in (2001i32..2100).prop_filter("leap", |y| NaiveDate::from_ymd_opt(*y, 2, 29).is_some()), years in 1i32..8) {
            let end = date(year, 2, 29);
            prop_assert_eq!(renewal_date(end), date(year - 2, 8, 29));
            let mut c = contract();
            c.start_date = date(year - years, 3, 1);
            c.end_date = end;
            let list = deadlines(&c, end);
            prop_assert!(list.iter().any(|d| d.kind == DeadlineKind::ContractEnd && d.date == end && d.days_left == 0));
        }

        #[test]
        fn deadlines_are_sorted_flagged_and_bounded(start in any_date(), days in 1i64..(12 * 366), today in any_date(), frequency in any_frequency(), concession in any::<bool>()) {
            let mut c = contract();
            c.start_date = start;
            c.end_date = start + chrono::Duration::days(days);
            c.targets.reporting_frequency = frequency;
            c.contract_type = if concession { ContractType::Concession } else { ContractType::ServicesContract };
            let list = deadlines(&c, today);
            prop_assert!(list.windows(2).all(|w| w[0].date <= w[1].date));
            for d in &list {
                prop_assert_eq!(d.days_left, (d.date - today).num_days());
                prop_assert_eq!(d.past, d.date < today);
                prop_assert!(!d.label.is_empty());
                if let Some(opens) = d.opens {
                    prop_assert!(opens <= d.date);
                }
            }
            let renewal: Vec<_> = kinds_on(&list, DeadlineKind::RenewalPreparation);
            prop_assert_eq!(renewal.len(), 1);
            prop_assert!(renewal[0] <= c.end_date);
            prop_assert_eq!(kinds_on(&list, DeadlineKind::AnnualReport).is_empty(), !concession);
            let years = (c.end_date.year() - start.year() + 1) as usize;
            prop_assert_eq!(kinds_on(&list, DeadlineKind::DeclarationCampaign).len(), years);
            let periods = kinds_on(&list, DeadlineKind::PeriodicReport);
            if frequency == ReportingFrequency::Yearly {
                prop_assert!(periods.is_empty());
            } else {
                // Every period due within two (monthly) or four (quarterly) months of the end.
                prop_assert!(!periods.is_empty());
                prop_assert!(periods.iter().all(|&p| p > start && p <= month_end(c.end_date.checked_add_months(Months::new(frequency.months() + 1)).unwrap())));
            }
            prop_assert_eq!(next_deadline(&c, today).map(|d| d.date), list.iter().map(|d| d.date).find(|&d| d >= today));
        }
    }
}
