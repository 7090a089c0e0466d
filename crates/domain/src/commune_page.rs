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
//!   [`DEADLINE_HORIZON_DAYS`]; when a contract has none that close, its next one, so that the
//!   page always says what comes next.
//! - Missing data stays `None`: a commune without a weighed day has no g per meal, without
//!   purchases no shares.

use chrono::NaiveDate;
use serde::Serialize;

use crate::concession::deadline::{next_deadline, upcoming, Deadline};
use crate::concession::CateringContract;
use crate::dashboard::ShareGauge;
use crate::egalim::percent_hundredths;
use crate::number::{format_grams_per_meal, plain_spaces};
use crate::territory::{Flag, GroupTotals, Overview, PurchaseFigures, TrendLine};
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractDeadlines {
    pub caterer_name: String,
    #[serde(with = "crate::time::date")]
    pub end_date: NaiveDate,
    /// The contract's own waste target (g per meal), beside the measured figure.
    pub waste_target_grams_per_meal: Option<u32>,
    pub deadlines: Vec<Deadline>,
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
    pub contracts: Vec<ContractDeadlines>,
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
    let mut contracts: Vec<ContractDeadlines> = contracts
        .iter()
        .filter(|c| c.commune_insee_code == insee && !c.meta.deleted)
        .map(|c| {
            let mut deadlines = upcoming(c, today, DEADLINE_HORIZON_DAYS);
            if deadlines.is_empty() {
                deadlines.extend(next_deadline(c, today));
            }
            ContractDeadlines {
                caterer_name: c.caterer_name.clone(),
                end_date: c.end_date,
                waste_target_grams_per_meal: c.targets.waste_grams_per_meal,
                deadlines,
            }
        })
        .collect();
    contracts.sort_by_key(|c| c.deadlines.first().map(|d| d.date));
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
        contracts,
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
        let next = self.contracts.iter().flat_map(|c| c.deadlines.first().map(|d| (c, d))).min_by_key(|(_, d)| d.date);
        if let Some((c, d)) = next {
            out.push(format!("Prochaine échéance ({}) : {} ({}).", c.caterer_name, d.label, d.when_label()));
        }
        out.into_iter().map(|s| plain_spaces(&s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::tests::{contract, date};
    use crate::egalim::YearTotals;
    use crate::site::{ManagementType, ProductionType, RegionGroup};
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
        // Only the commune's contract; its deadlines within six months, not past, in order.
        assert_eq!(page.contracts.len(), 1);
        let ds = &page.contracts[0].deadlines;
        assert!(!ds.is_empty());
        assert!(ds.iter().all(|d| !d.past && d.days_left <= DEADLINE_HORIZON_DAYS));
        assert!(ds.windows(2).all(|w| w[0].date <= w[1].date));
        assert_eq!(ds, &upcoming(&contract(), today, DEADLINE_HORIZON_DAYS));
        assert_eq!(page.contracts[0].waste_target_grams_per_meal, Some(80));

        let text = page.summary_fr();
        assert_eq!(text[0].split(" ; ").next().unwrap(), "Gaspillage : 80 g/repas du 02/11/2026 au 27/11/2026, en baisse de 33,3 % par rapport à la période du 01/09/2026 au 30/09/2026");
        assert!(text.iter().any(|s| s.contains("il manque 99,95 € d'achats EGalim")), "{text:?}");
        assert!(text.iter().any(|s| s == "Participation : 2 jours d'école avec saisie sur 30 (6,67 %), sites engagés ou équipés."), "{text:?}");
        assert!(text.last().unwrap().starts_with("Prochaine échéance (Restauration Normande SAS) : "), "{text:?}");
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
        assert!(!text.iter().any(|s| s.starts_with("Prochaine échéance")));
        assert!(commune_page(&o, "99999", &trend, &[], date(2026, 11, 21)).is_none());
        // A contract whose next deadline is beyond six months still shows that one.
        let mut far = contract();
        far.start_date = date(2030, 1, 1);
        far.end_date = date(2034, 12, 31);
        let page = commune_page(&o, "76351", &trend, &[far.clone()], date(2026, 11, 21)).unwrap();
        let ds = &page.contracts[0].deadlines;
        assert_eq!(ds.len(), 1, "{ds:?}");
        assert_eq!(Some(&ds[0]), next_deadline(&far, date(2026, 11, 21)).as_ref());
        assert!(ds[0].days_left > DEADLINE_HORIZON_DAYS);
    }
}
