//! The commune page: the one-page summary the metropolis' officer and the
//! commune's elected official read, printed on A4 for a council meeting. Pure assembly from the
//! overview, the monthly trend and the commune's catering contracts: no figure is computed
//! here that the overview, `egalim` or `concession::deadline` do not already compute, so the
//! page and the overview cannot disagree.
//!
//! Decisions:
//! - Participation is the share of the school days of the window (the last 30 before today)
//!   with an entry, summed over the commune's *engaged or equipped* sites: a site that never
//!   joined the programme does not lower it; the sites that stopped entering are named.
//! - Deadlines: of every contract of the commune, those not past within
//!   [`DEADLINE_HORIZON_DAYS`] and the renewal's preparation however far (a council plans it a
//!   year and a half ahead); when a contract has none of these, its next one, so that the page
//!   always says what comes next. A commune with a site in delegated management and no contract
//!   stored is told so in words, never given made-up dates. Every commune gets the next
//!   declaration campaign on ma cantine (`concession::deadline::next_declaration`), listed
//!   once: a contract's own copy of it is left out.
//! - Missing data stays `None`: a commune without a weighed day has no g per meal, without
//!   purchases no shares.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::concession::deadline::{deadlines, next_declaration, Deadline, DeadlineKind};
use crate::concession::CateringContract;
use crate::dashboard::ShareGauge;
use crate::egalim::percent_hundredths;
use crate::number::{format_grams_per_meal, plain_spaces};
use crate::site::ManagementType;
use crate::territory::{Flag, GroupTotals, Overview, PurchaseFigures, SiteSummary, TrendLine};
use crate::waste::DateRange;

/// How far ahead the page lists deadlines (six months: two council cycles).
pub const DEADLINE_HORIZON_DAYS: i64 = 183;

/// A site of the commune as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageSite {
    pub name: String,
    pub siret: String,
    pub grams_per_meal: Option<f64>,
    pub days_with_entries: u32,
    pub school_days: u32,
    /// The overview's flags, in French.
    pub alerts: Vec<String>,
}

/// A contract and its next deadlines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractDeadlines {
    pub caterer_name: String,
    #[serde(with = "crate::time::date")]
    pub end_date: NaiveDate,
    /// The contract's own waste target (g per meal), beside the measured figure.
    pub waste_target_grams_per_meal: Option<u32>,
    pub deadlines: Vec<Deadline>,
}

/// What the commune works towards: its contracts' deadlines, or the words saying none is
/// stored, and the declaration campaign every commune makes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageDeadlines {
    /// The commune's live contracts, the soonest deadline first.
    pub contracts: Vec<ContractDeadlines>,
    /// A site in delegated management and no contract stored: « aucun contrat enregistré »
    /// and what to do about it. `None` otherwise.
    pub missing_contract: Option<String>,
    /// The next declaration campaign on ma cantine (its closing day, its corrections').
    pub declaration: Vec<Deadline>,
}

impl PageDeadlines {
    /// The first deadline not past of them all, with the caterer's name when it is a
    /// contract's.
    pub fn next(&self) -> Option<(Option<&str>, &Deadline)> {
        let contracts = self.contracts.iter().flat_map(|c| c.deadlines.iter().filter(|d| !d.past).map(move |d| (Some(c.caterer_name.as_str()), d)));
        let declaration = self.declaration.iter().filter(|d| !d.past).map(|d| (None, d));
        contracts.chain(declaration).min_by_key(|(_, d)| (d.date, d.kind))
    }
}

/// The sentence of a commune in delegated management without a stored contract.
pub const MISSING_CONTRACT_FR: &str = "Gestion concédée : aucun contrat enregistré, les échéances du contrat ne peuvent pas être calculées. \
     La commune ou la métropole le saisit dans le guide « Gestion concédée » du bureau.";

/// The deadlines of commune `insee` on `today`: `sites` are the commune's (a site in delegated
/// management makes a missing contract worth saying), `contracts` may hold other communes'.
pub fn page_deadlines<'a>(insee: &str, sites: impl IntoIterator<Item = &'a SiteSummary>, contracts: &[CateringContract], today: NaiveDate) -> PageDeadlines {
    let declaration = next_declaration(today);
    let is_declaration = |d: &Deadline| {
        matches!(d.kind, DeadlineKind::DeclarationCampaign | DeadlineKind::DeclarationCorrections) && declaration.iter().any(|x| x.kind == d.kind && x.date == d.date)
    };
    let mut contracts: Vec<ContractDeadlines> = contracts
        .iter()
        .filter(|c| c.commune_insee_code.eq_ignore_ascii_case(insee) && !c.meta.deleted)
        .map(|c| {
            let all = deadlines(c, today);
            let kept = |d: &&Deadline| !d.past && !is_declaration(d);
            let mut list: Vec<Deadline> = all.iter().filter(kept).filter(|d| d.days_left <= DEADLINE_HORIZON_DAYS).cloned().collect();
            if list.is_empty() {
                list.extend(all.iter().find(kept).cloned());
            }
            for d in all.iter().filter(kept).filter(|d| d.kind == DeadlineKind::RenewalPreparation) {
                if !list.contains(d) {
                    list.push(d.clone());
                }
            }
            ContractDeadlines {
                caterer_name: c.caterer_name.clone(),
                end_date: c.end_date,
                waste_target_grams_per_meal: c.targets.waste_grams_per_meal,
                deadlines: list,
            }
        })
        .collect();
    contracts.sort_by_key(|c| c.deadlines.first().map(|d| d.date));
    let delegated = sites.into_iter().any(|s| s.commune_insee.eq_ignore_ascii_case(insee) && s.management == ManagementType::Conceded);
    let missing_contract = (delegated && contracts.is_empty()).then(|| MISSING_CONTRACT_FR.to_owned());
    PageDeadlines { contracts, missing_contract, declaration }
}

/// Everything the printed page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunePage {
    pub commune_insee: String,
    pub commune_name: String,
    pub period: DateRange,
    pub baseline: Option<DateRange>,
    pub purchase_year: i32,
    /// The commune's line of the overview (waste, cost, CO2e, purchases, participation counts).
    pub totals: GroupTotals,
    /// The commune's monthly g per meal, when the trend was given for it.
    pub trend: Option<TrendLine>,
    /// The organic, EGalim, meat and fish gauges: share, threshold, euros missing.
    pub gauges: Vec<ShareGauge>,
    /// School days with an entry over school days, engaged or equipped sites summed.
    pub entry_days: u32,
    pub school_days: u32,
    pub entry_percent: Option<i64>,
    pub sites: Vec<PageSite>,
    pub deadlines: PageDeadlines,
}

fn alert_fr(f: &Flag) -> String {
    match f {
        Flag::StoppedEntering { last_entry: None, .. } => "aucune saisie".to_owned(),
        Flag::StoppedEntering { last_entry: Some(d), .. } => {
            format!("plus de saisie depuis le {}", d.format("%d/%m/%Y"))
        }
        Flag::ImplausibleWaste { days, .. } => format!("{days} jour(s) de pesée invraisemblable"),
        Flag::ImplausibleCost { .. } => "coût des denrées par repas invraisemblable".to_owned(),
    }
}

/// The page of commune `insee`, or `None` when the overview has no such commune. `trend` is
/// `monthly_trend`'s lines (the commune's is picked); `contracts` may hold other communes'
/// (only this commune's are read).
pub fn commune_page(
    o: &Overview,
    insee: &str,
    trend: &[TrendLine],
    contracts: &[CateringContract],
    today: NaiveDate,
) -> Option<CommunePage> {
    let totals = o.communes.iter().find(|g| g.commune_insee == insee)?.clone();
    let rows: Vec<_> = o.sites.iter().filter(|r| r.site.commune_insee == insee).collect();
    let joined = || rows.iter().filter(|r| r.site.engaged || r.site.tablets_enrolled > 0);
    let entry_days: u32 = joined().map(|r| r.participation.days_with_entries).sum();
    let school_days: u32 = joined().map(|r| r.participation.school_days).sum();
    let sites = rows
        .iter()
        .map(|r| PageSite {
            name: r.site.name.clone(),
            siret: r.site.siret.clone(),
            grams_per_meal: r.grams_per_meal(),
            days_with_entries: r.participation.days_with_entries,
            school_days: r.participation.school_days,
            alerts: r.flags.iter().map(alert_fr).collect(),
        })
        .collect();
    let deadlines = page_deadlines(insee, rows.iter().map(|r| &r.site), contracts, today);
    Some(CommunePage {
        commune_insee: totals.commune_insee.clone(),
        commune_name: totals.commune_name.clone(),
        period: o.period,
        baseline: o.baseline,
        purchase_year: o.purchase_year,
        trend: trend.iter().find(|l| l.commune_insee == insee).cloned(),
        gauges: totals.purchases.as_ref().map(|p: &PurchaseFigures| p.gauges.clone()).unwrap_or_default(),
        entry_days,
        school_days,
        entry_percent: percent_hundredths(i64::from(entry_days), i64::from(school_days)),
        sites,
        deadlines,
        totals,
    })
}

impl CommunePage {
    /// The page's key sentences in French (plain spaces, for print and for files): waste,
    /// its change and cost, each purchase gauge, participation, the next deadline.
    pub fn summary_fr(&self) -> Vec<String> {
        let mut out = Vec::new();
        let range = |r: &DateRange| format!("du {} au {}", r.start.format("%d/%m/%Y"), r.end.format("%d/%m/%Y"));
        match self.totals.grams_per_meal() {
            Some(g) => {
                let mut s = format!("Gaspillage : {} {}", format_grams_per_meal(g), range(&self.period));
                if let (Some(c), Some(b)) = (self.totals.change_vs_baseline, self.baseline) {
                    let pct = format!("{:.1}", (c * 100.0).abs()).replace('.', ",");
                    let dir = if c >= 0.0 { "en baisse" } else { "en hausse" };
                    s.push_str(&format!(", {dir} de {pct} % par rapport à la période {}", range(&b)));
                }
                if let Some(cost) = self.totals.cost_cents {
                    s.push_str(&format!(" ; coût estimé {}", crate::number::format_euros(cost)));
                }
                out.push(s + ".");
            }
            None => out.push(format!("Gaspillage : aucune pesée avec un nombre de repas {}.", range(&self.period))),
        }
        if self.gauges.is_empty() {
            out.push(format!("Achats {} : aucun achat enregistré.", self.purchase_year));
        }
        out.extend(self.gauges.iter().map(ShareGauge::summary_fr));
        match self.entry_percent {
            Some(p) => out.push(format!(
                "Participation : {} jours d'école avec saisie sur {} ({}), sites engagés ou équipés.",
                self.entry_days,
                self.school_days,
                crate::number::format_percent_hundredths(p)
            )),
            None => out.push("Participation : aucun site engagé ou équipé d'une tablette.".to_owned()),
        }
        if let Some(m) = &self.deadlines.missing_contract {
            out.push(m.clone());
        }
        match self.deadlines.next() {
            Some((Some(caterer), d)) => out.push(format!("Prochaine échéance ({caterer}) : {} ({}).", d.label, d.when_label())),
            Some((None, d)) => out.push(format!("Prochaine échéance : {} ({}).", d.label, d.when_label())),
            None => {}
        }
        out.into_iter().map(|s| plain_spaces(&s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::deadline::next_deadline;
    use crate::concession::tests::{contract, date};
    use crate::egalim::YearTotals;
    use crate::site::{ProductionType, RegionGroup};
    use crate::territory::{monthly_trend, overview, DayRollup, OverviewParams, SiteSummary};
    use crate::waste::WasteFactors;
    use uuid::Uuid;

    fn site(n: u128, insee: &str, name: &str, engaged: bool, tablets: u32) -> SiteSummary {
        SiteSummary {
            site_id: Uuid::from_u128(n),
            siret: format!("siret-{n}"),
            commune_insee: insee.into(),
            commune_name: name.into(),
            name: format!("École {n}"),
            management: ManagementType::Conceded,
            production_type: ProductionType::Site,
            daily_meal_count: 100,
            yearly_meal_count: 14_000,
            region_group: RegionGroup::Mainland,
            engaged,
            tablets_enrolled: tablets,
            last_sync: None,
        }
    }

    fn day(n: u128, date: NaiveDate, meals: u32, grams: u64) -> DayRollup {
        DayRollup { site_id: Uuid::from_u128(n), date, meals_served: Some(meals), grams_by_stage: [0, 0, grams], weighings_by_stage: [0, 0, 1] }
    }

    fn fixture() -> (Overview, Vec<TrendLine>) {
        let sites = vec![
            site(1, "76351", "Le Havre", true, 1),
            site(2, "76351", "Le Havre", false, 0),
            site(3, "76217", "Gonfreville-l'Orcher", true, 1),
        ];
        // Monday to Friday, 16–20 November 2026 (school days: Mon, Tue, Thu, Fri).
        let days = vec![
            day(1, date(2026, 9, 7), 100, 12_000),
            day(1, date(2026, 11, 16), 100, 9_000),
            day(1, date(2026, 11, 17), 100, 7_000),
            day(3, date(2026, 11, 19), 50, 2_000),
        ];
        let mut t = YearTotals::new("siret-1", 2026);
        t.valeur_totale = 100_000;
        t.valeur_bio = 10_000;
        t.valeur_siqo = 30_000;
        let params = OverviewParams {
            period: DateRange::new(date(2026, 11, 2), date(2026, 11, 27)),
            baseline: Some(DateRange::new(date(2026, 9, 1), date(2026, 9, 30))),
            purchase_year: 2026,
            today: date(2026, 11, 21),
            holidays: vec![DateRange::new(date(2026, 10, 17), date(2026, 11, 1))],
            factors: WasteFactors::default(),
        };
        let o = overview(&sites, &days, &[t], &[], &params);
        let trend = monthly_trend(&sites, &days, DateRange::new(date(2026, 9, 1), date(2026, 11, 30)));
        (o, trend)
    }

    #[test]
    fn le_havre_hand_computed() {
        let (o, trend) = fixture();
        let mut other = contract();
        other.commune_insee_code = "76217".into();
        let today = date(2026, 11, 21);
        let page = commune_page(&o, "76351", &trend, &[contract(), other], today).unwrap();
        assert_eq!(page.commune_name, "Le Havre");
        assert_eq!(page.totals, o.communes.iter().find(|g| g.commune_insee == "76351").unwrap().clone());
        // 16 kg for 200 meals: 80 g per meal; 120 g in September: down by a third.
        assert_eq!(page.totals.grams_per_meal(), Some(80.0));
        assert!((page.totals.change_vs_baseline.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        // Only site 1 is engaged or equipped: 2 of its 30 school days have entries.
        assert_eq!((page.entry_days, page.school_days, page.entry_percent), (2, 30, Some(667)));
        assert_eq!(page.sites.len(), 2);
        assert_eq!(page.sites[1].grams_per_meal, None);
        // 40 % EGalim of 1 000 €: 99,95 € missing for 50 % (as the dashboard says).
        let egalim = page.gauges.iter().find(|g| g.code == "egalim").unwrap();
        assert_eq!(egalim.missing_cents, Some(9_995));
        assert_eq!(page.trend.as_ref().unwrap().commune_name, "Le Havre");
        // Only the commune's contract (a services contract from 01/09/2024 to 31/08/2028,
        // quarterly files); its deadlines within six months (to 23/05/2027), not past, in order,
        // the renewal's preparation among them; the declaration campaign once, apart.
        assert_eq!(page.deadlines.contracts.len(), 1);
        assert_eq!(page.deadlines.missing_contract, None);
        let c = &page.deadlines.contracts[0];
        let got: Vec<(DeadlineKind, NaiveDate)> = c.deadlines.iter().map(|d| (d.kind, d.date)).collect();
        assert_eq!(
            got,
            vec![
                (DeadlineKind::PeriodicReport, date(2027, 1, 31)),
                (DeadlineKind::RenewalPreparation, date(2027, 2, 28)),
                (DeadlineKind::YearlyPurchaseFile, date(2027, 3, 31)),
                (DeadlineKind::PeriodicReport, date(2027, 4, 30)),
            ]
        );
        assert_eq!(c.deadlines[1].days_left, 99);
        assert!(c.deadlines[0].label.contains("4e trimestre 2026") && c.deadlines[0].label.contains("31/01/2027"), "{}", c.deadlines[0].label);
        assert_eq!((c.caterer_name.as_str(), c.end_date, c.waste_target_grams_per_meal), ("Restauration Normande SAS", date(2028, 8, 31), Some(80)));
        let decl: Vec<(DeadlineKind, NaiveDate, bool)> = page.deadlines.declaration.iter().map(|d| (d.kind, d.date, d.estimated)).collect();
        assert_eq!(decl, vec![(DeadlineKind::DeclarationCampaign, date(2027, 4, 30), true)], "the 2026 figures' campaign");
        assert_eq!(page.deadlines.next().map(|(who, d)| (who, d.date)), Some((Some("Restauration Normande SAS"), date(2027, 1, 31))));
        // A concession owes its report before 1 June: 31/05/2027 is past the six months (183
        // days: to 23/05/2027), so not listed; on 1 December it is.
        let mut dsp = contract();
        dsp.contract_type = crate::concession::ContractType::Concession;
        let later = commune_page(&o, "76351", &trend, &[dsp], date(2026, 12, 1)).unwrap();
        let kinds: Vec<DeadlineKind> = later.deadlines.contracts[0].deadlines.iter().map(|d| d.kind).collect();
        assert!(kinds.contains(&DeadlineKind::AnnualReport), "{kinds:?}");
        let report = later.deadlines.contracts[0].deadlines.iter().find(|d| d.kind == DeadlineKind::AnnualReport).unwrap();
        assert_eq!((report.date, report.days_left), (date(2027, 5, 31), 181));
        let page_21 = commune_page(&o, "76351", &trend, &[{ let mut c = contract(); c.contract_type = crate::concession::ContractType::Concession; c }], today).unwrap();
        assert!(!page_21.deadlines.contracts[0].deadlines.iter().any(|d| d.kind == DeadlineKind::AnnualReport));

        let text = page.summary_fr();
        assert_eq!(text[0].split(" ; ").next().unwrap(), "Gaspillage : 80 g/repas du 02/11/2026 au 27/11/2026, en baisse de 33,3 % par rapport à la période du 01/09/2026 au 30/09/2026");
        assert!(text.iter().any(|s| s.contains("il manque 99,95 € d'achats EGalim")), "{text:?}");
        assert!(text.iter().any(|s| s == "Participation : 2 jours d'école avec saisie sur 30 (6,67 %), sites engagés ou équipés."), "{text:?}");
        assert!(text.last().unwrap().starts_with("Prochaine échéance (Restauration Normande SAS) : "), "{text:?}");
    }

    proptest::proptest! {
        /// Whatever the contract and the day: the page lists only the contract's own deadlines,
        /// none past, the campaign never twice, the renewal's preparation whenever it is ahead,
        /// and something whenever the contract has anything ahead.
        #[test]
        fn the_page_lists_the_contract_s_own_deadlines_ahead(
            start_days in 0i64..(80 * 365),
            length in 1i64..(12 * 366),
            today_days in 0i64..(90 * 365),
            frequency in 0usize..3,
            concession in proptest::bool::ANY,
        ) {
            use crate::concession::{ContractType, ReportingFrequency};
            let mut c = contract();
            c.start_date = date(2000, 1, 1) + chrono::Duration::days(start_days);
            c.end_date = c.start_date + chrono::Duration::days(length);
            c.targets.reporting_frequency = ReportingFrequency::ALL[frequency];
            c.contract_type = if concession { ContractType::Concession } else { ContractType::ServicesContract };
            let today = date(2000, 1, 1) + chrono::Duration::days(today_days);
            let p = page_deadlines(&c.commune_insee_code.clone(), std::iter::empty(), &[c.clone()], today);
            let all = deadlines(&c, today);
            let listed = &p.contracts[0].deadlines;
            proptest::prop_assert!(listed.iter().all(|d| all.contains(d) && !d.past));
            proptest::prop_assert!(listed.iter().all(|d| !p.declaration.iter().any(|x| x.kind == d.kind && x.date == d.date)));
            proptest::prop_assert_eq!(p.missing_contract, None);
            let renewal = all.iter().find(|d| d.kind == DeadlineKind::RenewalPreparation).unwrap();
            proptest::prop_assert_eq!(listed.contains(renewal), !renewal.past);
            let ahead = all.iter().any(|d| !d.past && !p.declaration.iter().any(|x| x.kind == d.kind && x.date == d.date));
            proptest::prop_assert_eq!(listed.is_empty(), !ahead);
            proptest::prop_assert!(!p.declaration.is_empty());
        }
    }

    #[test]
    fn missing_data_and_far_deadlines() {
        let (o, trend) = fixture();
        // Gonfreville: no purchases, no baseline day; its page says so rather than 0.
        let page = commune_page(&o, "76217", &trend, &[], date(2026, 11, 21)).unwrap();
        assert!(page.gauges.is_empty());
        assert_eq!(page.totals.change_vs_baseline, None);
        let text = page.summary_fr();
        assert!(text.contains(&"Achats 2026 : aucun achat enregistré.".to_owned()), "{text:?}");
        // Its site is in delegated management and no contract is stored: said in words, no
        // contract date made up; the declaration campaign is still the next deadline.
        assert_eq!(page.deadlines.missing_contract.as_deref(), Some(MISSING_CONTRACT_FR));
        assert!(MISSING_CONTRACT_FR.contains("aucun contrat enregistré"));
        assert!(page.deadlines.contracts.is_empty());
        assert!(text.contains(&plain_spaces(MISSING_CONTRACT_FR)), "{text:?}");
        assert_eq!(
            text.last().unwrap(),
            "Prochaine échéance : Déclarer les achats 2026 sur ma cantine : de janvier à avril 2027 (dates exactes à confirmer sur ma cantine) (dans 160 jours)."
        );
        // Another commune's contract, or a deleted one, is no contract of this commune.
        let mut other = contract();
        other.commune_insee_code = "76351".into();
        let mut deleted = contract();
        deleted.commune_insee_code = "76217".into();
        deleted.meta.deleted = true;
        let page = commune_page(&o, "76217", &trend, &[other, deleted], date(2026, 11, 21)).unwrap();
        assert!(page.deadlines.missing_contract.is_some());
        // A commune whose sites all cook themselves needs no contract: nothing is said of one.
        let mut direct = o.clone();
        for r in direct.sites.iter_mut() {
            r.site.management = ManagementType::Direct;
        }
        let page = commune_page(&direct, "76217", &trend, &[], date(2026, 11, 21)).unwrap();
        assert_eq!(page.deadlines.missing_contract, None);
        assert_eq!(page.deadlines.declaration.len(), 1);
        assert!(commune_page(&o, "99999", &trend, &[], date(2026, 11, 21)).is_none());
        // A contract whose next deadline is beyond six months still shows that one, and its
        // renewal's preparation however far.
        let mut far = contract();
        far.start_date = date(2030, 1, 1);
        far.end_date = date(2034, 12, 31);
        let page = commune_page(&o, "76351", &trend, &[far.clone()], date(2026, 11, 21)).unwrap();
        let ds = &page.deadlines.contracts[0].deadlines;
        assert_eq!(ds.len(), 2, "{ds:?}");
        assert_eq!(Some(&ds[0]), next_deadline(&far, date(2026, 11, 21)).as_ref());
        assert_eq!((ds[0].kind, ds[0].date), (DeadlineKind::PeriodicReport, date(2030, 4, 30)));
        assert_eq!((ds[1].kind, ds[1].date), (DeadlineKind::RenewalPreparation, date(2033, 6, 30)));
        assert!(ds.iter().all(|d| d.days_left > DEADLINE_HORIZON_DAYS));
        // A contract over: nothing left to list, the campaign stays.
        let mut over = contract();
        over.start_date = date(2015, 1, 1);
        over.end_date = date(2019, 12, 31);
        let page = commune_page(&o, "76351", &trend, &[over], date(2026, 11, 21)).unwrap();
        assert!(page.deadlines.contracts[0].deadlines.is_empty());
        assert_eq!(page.deadlines.next().map(|(who, d)| (who, d.kind)), Some((None, DeadlineKind::DeclarationCampaign)));
    }
}
