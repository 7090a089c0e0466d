//! The territory overview: hand-computed figures and properties.

use assiette_domain::egalim::{indicators, YearTotals};
use assiette_domain::meals::DailyMealCount;
use assiette_domain::record::RecordMeta;
use assiette_domain::site::{ManagementType, ProductionType, RegionGroup};
use assiette_domain::territory::*;
use assiette_domain::waste::{DateRange, Destination, Stage, WasteFactors, WasteIndicators, Weighing};
use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn day(site: u128, date: NaiveDate, meals: Option<u32>, grams: [u64; 3], weighings: [u32; 3]) -> DayRollup {
    DayRollup { site_id: id(site), date, meals_served: meals, grams_by_stage: grams, weighings_by_stage: weighings }
}

#[allow(clippy::too_many_arguments)]
fn site(
    n: u128,
    commune: (&str, &str),
    production_type: ProductionType,
    management: ManagementType,
    daily: u32,
    engaged: bool,
    tablets: u32,
) -> SiteSummary {
    SiteSummary {
        site_id: id(n),
        siret: format!("siret-{n}"),
        commune_insee: commune.0.into(),
        commune_name: commune.1.into(),
        name: format!("Site {n}"),
        management,
        production_type,
        daily_meal_count: daily,
        yearly_meal_count: daily * 140,
        region_group: RegionGroup::Mainland,
        engaged,
        tablets_enrolled: tablets,
        last_sync: None,
    }
}

const ALPHA: (&str, &str) = ("76351", "Alpha");
const BETA: (&str, &str) = ("76217", "Beta");

fn params() -> OverviewParams {
    OverviewParams {
        period: DateRange::new(d(2026, 11, 2), d(2026, 11, 27)),
        baseline: Some(DateRange::new(d(2026, 9, 1), d(2026, 9, 30))),
        purchase_year: 2026,
        today: d(2026, 12, 3),
        // Toussaint holidays.
        holidays: vec![DateRange::new(d(2026, 10, 17), d(2026, 11, 1))],
        factors: WasteFactors::default(),
    }
}

fn totals(siret: &str, year: i32, total: i64, bio: i64, siqo: i64, autres: i64) -> YearTotals {
    let mut t = YearTotals::new(siret, year);
    t.valeur_totale = total;
    t.valeur_bio = bio;
    t.valeur_siqo = siqo;
    t.valeur_egalim_autres = autres;
    t
}

/// A: Alpha, cooked on site, engaged; B: Alpha, satellite, not engaged, nothing entered;
/// C: Beta, central kitchen, engaged, stopped on 10/11 after an implausible day.
fn fixture() -> (Vec<SiteSummary>, Vec<DayRollup>, Vec<YearTotals>, Vec<PurchaseMonth>) {
    let sites = vec![
        site(1, ALPHA, ProductionType::Site, ManagementType::Direct, 250, true, 1),
        site(2, ALPHA, ProductionType::SiteCookedElsewhere, ManagementType::Conceded, 80, false, 0),
        site(3, BETA, ProductionType::Groupe, ManagementType::Conceded, 1200, true, 1),
    ];
    let days = vec![
        day(1, d(2026, 9, 7), Some(100), [0, 0, 10_000], [0, 0, 1]),
        day(1, d(2026, 11, 2), Some(200), [1_000, 3_000, 16_000], [1, 1, 1]),
        day(1, d(2026, 11, 3), Some(100), [0, 0, 5_000], [0, 0, 1]),
        // Counted, not weighed (a Wednesday: an entry, not a school day).
        day(1, d(2026, 11, 4), Some(150), [0, 0, 0], [0; 3]),
        // Weighed, not counted: left out of g per meal.
        day(1, d(2026, 11, 5), None, [0, 0, 4_000], [0, 0, 2]),
        day(1, d(2026, 12, 1), Some(240), [0, 0, 0], [0; 3]),
        day(3, d(2026, 11, 10), Some(10), [0, 0, 5_000], [0, 0, 1]),
    ];
    let mut a = totals("siret-1", 2026, 10_000_000, 1_500_000, 2_000_000, 500_000);
    a.valeur_viandes_volailles = 3_000_000;
    a.valeur_viandes_volailles_egalim = 1_200_000;
    a.valeur_produits_de_la_mer = 1_000_000;
    a.valeur_produits_de_la_mer_egalim = 800_000;
    let totals = vec![
        a,
        totals("siret-1", 2025, 9_000_000, 0, 0, 0),
        totals("siret-3", 2026, 5_000_000, 1_500_000, 1_500_000, 0),
    ];
    let month = |m: u32, year: i32, lines: u64| PurchaseMonth { siret: "siret-1".into(), year, month: m, lines };
    let months = vec![month(1, 2026, 4), month(2, 2026, 1), month(3, 2026, 9), month(4, 2026, 0), month(12, 2025, 3)];
    (sites, days, totals, months)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn site_rows_hand_computed() {
    let (sites, days, totals, months) = fixture();
    let o = overview(&sites, &days, &totals, &months, &params());
    let a = &o.sites[0];
    // 25 kg for 300 meals on the two measured days.
    assert_eq!((a.waste.measured_days, a.waste.meals, a.waste.grams()), (2, 300, 25_000));
    assert!(close(a.grams_per_meal(), 25_000.0 / 300.0));
    assert!(close(a.waste.stage_grams_per_meal(Stage::Leftovers), 70.0));
    // Preparation and unserved were weighed on 2/11 only: divided by that day's 200 meals.
    assert!(close(a.waste.stage_grams_per_meal(Stage::Preparation), 1_000.0 / 200.0));
    assert!(close(a.waste.stage_grams_per_meal(Stage::Unserved), 3_000.0 / 200.0));
    assert_eq!((a.waste.stage_days, a.waste.stage_meals), ([1, 1, 2], [200, 200, 300]));
    assert_eq!(a.waste.range, params().period);
    // Baseline 100 g per meal: down by a sixth.
    assert!(close(a.change_vs_baseline, 1.0 / 6.0));
    assert_eq!(a.baseline.unwrap().range, params().baseline.unwrap());
    // ADEME 2024, cooked on site: 95 g; the regional challenge (plates): 54 g.
    assert_eq!(a.ademe.reference.grams_per_meal, 95);
    assert!(close(a.ademe.reduction, 1.0 - (250.0 / 3.0) / 95.0));
    assert_eq!(a.regional.reference.grams_per_meal, 54);
    assert!(close(a.regional.reduction, 1.0 - 70.0 / 54.0));
    // 25 kg × 2,4 €/kg = 60 €; × 4 kg CO2e/kg = 100 kg.
    assert_eq!((a.cost_cents, a.co2e_grams), (Some(6_000), Some(100_000)));
    // Window: 30 school days back from 1/12, Wednesdays and the Toussaint holidays left out.
    let p = &a.participation;
    assert_eq!(p.window, Some(DateRange::new(d(2026, 9, 28), d(2026, 12, 1))));
    assert_eq!((p.school_days, p.days_with_entries), (30, 4));
    assert_eq!((p.last_entry, p.school_days_since_entry), (Some(d(2026, 12, 1)), Some(0)));
    assert_eq!((p.purchase_year, p.purchase_months), (2026, 3));
    // Purchases: 15 % bio, 40 % EGalim; meat 40 %, fish 80 %.
    let pf = a.purchases.as_ref().unwrap();
    assert_eq!(pf.year, 2026);
    assert_eq!(pf.indicators.bio_percent_hundredths, Some(1_500));
    assert_eq!(pf.indicators.egalim_percent_hundredths, Some(4_000));
    // 19,995 % rounds to 20,00 % as the platform does: 4 995 € of bio still missing.
    assert_eq!(pf.gauge("bio").unwrap().missing_cents, Some(499_500));
    assert_eq!(pf.gauge("egalim").unwrap().missing_cents, Some(999_500));
    assert_eq!(pf.gauge("viandes_volailles_egalim").unwrap().missing_cents, Some(599_850));
    assert_eq!(pf.gauge("produits_de_la_mer_egalim").unwrap().missing_cents, Some(0));
    assert!(a.flags.is_empty(), "{:?}", a.flags);

    // B: nothing at all, shown as missing, not as zero; not engaged, so not chased.
    let b = &o.sites[1];
    assert_eq!(b.grams_per_meal(), None);
    assert_eq!((b.cost_cents, b.co2e_grams, b.change_vs_baseline), (None, None, None));
    assert_eq!((b.ademe.reduction, b.regional.reduction), (None, None));
    assert_eq!(b.ademe.reference.grams_per_meal, 100);
    assert!(b.purchases.is_none());
    assert_eq!((b.participation.last_entry, b.participation.school_days_since_entry), (None, None));
    assert!(b.flags.is_empty());

    // C: 500 g per meal on 10/11, then 12 school days without an entry.
    let c = &o.sites[2];
    assert!(close(c.grams_per_meal(), 500.0));
    assert_eq!(c.flags.len(), 2, "{:?}", c.flags);
    assert_eq!(c.flags[0], Flag::StoppedEntering { last_entry: Some(d(2026, 11, 10)), school_days: Some(12) });
    match &c.flags[1] {
        Flag::ImplausibleWaste { days, first } => {
            assert_eq!(*days, 1);
            assert_eq!(first.code, "grams_per_meal_over_400");
        }
        f => panic!("unexpected flag {f:?}"),
    }
}

#[test]
fn communes_and_territory_are_sums() {
    let (sites, days, totals, months) = fixture();
    let o = overview(&sites, &days, &totals, &months, &params());
    assert_eq!(o.communes.len(), 2);
    let alpha = &o.communes[0];
    assert_eq!((alpha.commune_insee.as_str(), alpha.commune_name.as_str()), ALPHA);
    assert_eq!((alpha.sites, alpha.engaged_sites, alpha.sites_with_tablet, alpha.daily_meals), (2, 1, 1, 330));
    assert!(close(alpha.grams_per_meal(), 25_000.0 / 300.0));
    assert_eq!(alpha.flagged_sites, 0);
    let beta = &o.communes[1];
    assert_eq!(beta.flagged_sites, 1);
    let t = &o.territory;
    assert_eq!((t.sites, t.daily_meals, t.weighed_meals(), t.waste.grams()), (3, 1_530, 310, 30_000));
    // 30 kg for 310 meals: 96,8 g, not the mean of 83,3 and 500.
    assert!(close(t.grams_per_meal(), 30_000.0 / 310.0));
    assert_eq!((t.cost_cents, t.co2e_grams), (Some(7_200), Some(120_000)));
    // Baseline: only A measured in September.
    assert!(close(t.change_vs_baseline, 1.0 - (30_000.0 / 310.0) / 100.0));
    let p = t.purchases.as_ref().unwrap();
    assert_eq!(p.totals.valeur_totale, 15_000_000);
    assert_eq!(p.indicators.bio_percent_hundredths, Some(2_000));
    // 70 000 € of 150 000 €: 46,666… % → 46,67 %.
    assert_eq!(p.indicators.egalim_percent_hundredths, Some(4_667));

    let s = canteen_statistics(&o);
    assert_eq!((s.year, s.canteen_count, s.declarations_count), (2026, 3, 2));
    assert_eq!(s.management_types.get("direct"), Some(&1));
    assert_eq!(s.management_types.get("conceded"), Some(&2));
    assert_eq!(s.production_types.get("groupe"), Some(&1));
    assert_eq!((s.bio_percent, s.egalim_percent, s.sustainable_percent), (Some(2_000), Some(4_667), Some(2_667)));
    assert_eq!((s.meat_egalim_percent, s.fish_egalim_percent), (Some(4_000), Some(8_000)));
    // A misses both objectives, C reaches both.
    assert_eq!(s.appro_percent, Some(5_000));
}

#[test]
fn filters_sorting_and_comparisons() {
    let (sites, days, totals, months) = fixture();
    let mut o = overview(&sites, &days, &totals, &months, &params());
    let f = RowFilter { management: Some(ManagementType::Conceded), ..Default::default() };
    assert_eq!(filter_rows(&o.sites, &f).iter().map(|r| r.site.site_id).collect::<Vec<_>>(), vec![id(2), id(3)]);
    let f = RowFilter { commune_insee: Some("76351".into()), engaged: Some(true), ..Default::default() };
    assert_eq!(filter_rows(&o.sites, &f).len(), 1);
    let f = RowFilter { production_type: Some(ProductionType::Groupe), ..Default::default() };
    assert_eq!(filter_rows(&o.sites, &f)[0].site.site_id, id(3));

    // Missing g per meal (B) stays last in both directions.
    sort_rows(&mut o.sites, SortKey::GramsPerMeal, true);
    assert_eq!(o.sites.iter().map(|r| r.site.site_id).collect::<Vec<_>>(), vec![id(3), id(1), id(2)]);
    sort_rows(&mut o.sites, SortKey::GramsPerMeal, false);
    assert_eq!(o.sites.iter().map(|r| r.site.site_id).collect::<Vec<_>>(), vec![id(1), id(3), id(2)]);
    sort_rows(&mut o.sites, SortKey::MissingEgalimCents, true);
    assert_eq!(o.sites.iter().map(|r| r.site.site_id).collect::<Vec<_>>(), vec![id(1), id(3), id(2)]);

    let ba = before_after(id(1), &days, DateRange::new(d(2026, 11, 2), d(2026, 11, 6)), params().baseline.unwrap());
    assert!(close(ba.before.grams_per_meal(), 100.0));
    assert!(close(ba.campaign.grams_per_meal(), 250.0 / 3.0));
    assert!(close(ba.reduction, 1.0 / 6.0));
    let none = before_after(id(2), &days, params().period, params().baseline.unwrap());
    assert_eq!((none.before.grams_per_meal(), none.reduction), (None, None));
}

#[test]
fn comparable_median_same_type_and_band() {
    assert_eq!(
        [0, 99, 100, 299, 300, 999, 1_000].map(SizeBand::of),
        [
            SizeBand::Small,
            SizeBand::Small,
            SizeBand::Medium,
            SizeBand::Medium,
            SizeBand::Large,
            SizeBand::Large,
            SizeBand::VeryLarge
        ]
    );
    let mk = |n: u128, p: ProductionType, daily: u32| site(n, ALPHA, p, ManagementType::Direct, daily, true, 1);
    let sites = vec![
        mk(1, ProductionType::Site, 250),
        mk(2, ProductionType::Site, 120),
        mk(3, ProductionType::Site, 299),
        mk(4, ProductionType::Site, 300),
        mk(5, ProductionType::Groupe, 200),
        mk(6, ProductionType::Site, 150),
    ];
    let on = d(2026, 11, 2);
    let days = vec![
        day(1, on, Some(100), [0, 0, 1_000], [0, 0, 1]),
        day(2, on, Some(100), [0, 0, 6_000], [0, 0, 1]),
        day(3, on, Some(100), [0, 0, 9_000], [0, 0, 1]),
        day(4, on, Some(100), [0, 0, 1_000], [0, 0, 1]),
        day(5, on, Some(100), [0, 0, 1_000], [0, 0, 1]),
        // Weighed without a count: no g per meal, not a peer value.
        day(6, on, None, [0, 0, 1_000], [0, 0, 1]),
    ];
    let o = overview(&sites, &days, &[], &[], &params());
    let m = comparable_median(&o.sites[0], &o.sites);
    assert_eq!((m.band, m.production_type, m.peers), (SizeBand::Medium, ProductionType::Site, 2));
    assert!(close(m.median_grams_per_meal, 75.0));
    assert_eq!(m.range, params().period);
    let alone = comparable_median(&o.sites[4], &o.sites);
    assert_eq!((alone.peers, alone.median_grams_per_meal), (0, None));
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
}

#[test]
fn school_days_skip_wednesdays_weekends_and_holidays() {
    let hol = [DateRange::new(d(2026, 12, 19), d(2027, 1, 3))];
    // Thursday 7/1/2027: back over the Christmas holidays to Friday 18/12.
    assert_eq!(last_school_days(d(2027, 1, 7), 3, &hol), vec![d(2026, 12, 18), d(2027, 1, 4), d(2027, 1, 5)]);
    assert!(!is_school_day(d(2026, 12, 2), &[]), "Wednesday");
    assert!(is_school_day(d(2026, 12, 3), &[]));
}

#[test]
fn rollups_of_records_hand_computed() {
    let at = DateTime::<Utc>::from_timestamp(1_772_000_000, 0).unwrap();
    let meta = |n: u128| RecordMeta::new(id(n), at);
    let on = d(2026, 11, 2);
    let count = |n: u128, children: u32| DailyMealCount {
        meta: meta(n),
        site_id: id(1),
        service_date: on,
        planned: 0,
        served_children: children,
        served_adults: 5,
    };
    let weighing = |n: u128, stage: Stage, grams: u64, destination: Option<Destination>| Weighing {
        meta: meta(n),
        site_id: id(1),
        service_date: on,
        stage,
        component: None,
        mass_grams: grams,
        sorted: None,
        destination,
    };
    let mut deleted = count(12, 1_000);
    deleted.meta.deleted = true;
    let r = day_rollups(
        &[count(10, 95), count(11, 45), deleted],
        &[
            weighing(20, Stage::Leftovers, 3_000, None),
            weighing(21, Stage::Unserved, 2_000, Some(Destination::Donation)),
            weighing(22, Stage::Preparation, 500, Some(Destination::CompostMethanisation)),
        ],
    );
    assert_eq!(r, vec![day(1, on, Some(150), [500, 0, 3_000], [1, 1, 1])]);
}

#[test]
fn monthly_trend_hand_computed() {
    let (sites, days, _, _) = fixture();
    let range = DateRange::new(d(2026, 9, 5), d(2026, 11, 30));
    assert_eq!(
        months_of(range),
        vec![
            DateRange::new(d(2026, 9, 5), d(2026, 9, 30)),
            DateRange::new(d(2026, 10, 1), d(2026, 10, 31)),
            DateRange::new(d(2026, 11, 1), d(2026, 11, 30)),
        ]
    );
    assert_eq!(months_of(DateRange::new(d(2026, 12, 30), d(2027, 1, 2))).len(), 2);
    let lines = monthly_trend(&sites, &days, range);
    let names: Vec<&str> = lines.iter().map(|l| l.commune_name.as_str()).collect();
    assert_eq!(names, vec!["", "Alpha", "Beta"]);
    let gpm = |l: &TrendLine| l.points.iter().map(|p| p.waste.grams_per_meal()).collect::<Vec<_>>();
    // The territory: 100 g in September, nothing measured in October (None, not 0), then
    // 30 kg for 310 meals in November.
    assert_eq!(gpm(&lines[0]), vec![Some(100.0), None, Some(30_000.0 / 310.0)]);
    assert_eq!(gpm(&lines[1]), vec![Some(100.0), None, Some(25_000.0 / 300.0)]);
    assert_eq!(gpm(&lines[2]), vec![None, None, Some(500.0)]);
    assert_eq!((lines[0].points[2].year, lines[0].points[2].month), (2026, 11));
}

#[test]
fn yearly_purchases_by_commune_hand_computed() {
    let (sites, _, totals, _) = fixture();
    let y = yearly_purchases(&sites, &totals);
    let keys: Vec<(&str, i32, u32)> = y.iter().map(|r| (r.commune_name.as_str(), r.year, r.sites_with_purchases)).collect();
    assert_eq!(keys, vec![("", 2025, 1), ("", 2026, 2), ("Alpha", 2025, 1), ("Alpha", 2026, 1), ("Beta", 2026, 1)]);
    let egalim = |r: &YearPurchases| r.purchases.as_ref().and_then(|p| p.indicators.egalim_percent_hundredths);
    assert_eq!(y.iter().map(egalim).collect::<Vec<_>>(), vec![Some(0), Some(4_667), Some(0), Some(4_000), Some(6_000)]);
    assert_eq!(y[2].commune_insee, "76351");
}

#[test]
fn overview_json_says_periods_and_missing_values() {
    let (sites, days, totals, months) = fixture();
    let o = overview(&sites, &days, &totals, &months, &params());
    let v = serde_json::to_value(&o).unwrap();
    assert_eq!(v["period"]["start"], "2026-11-02");
    assert_eq!(v["sites"][0]["waste"]["range"]["end"], "2026-11-27");
    assert_eq!(v["sites"][0]["participation"]["purchase_year"], 2026);
    // Missing is null, never 0.
    assert!(v["sites"][1]["cost_cents"].is_null());
    assert!(v["sites"][1]["purchases"].is_null());
    assert_eq!(v["sites"][2]["flags"][0]["kind"], "stopped_entering");
    assert_eq!(v["sites"][0]["ademe"]["reference"]["source"].as_str().map(|s| s.starts_with("ADEME 2024")), Some(true));
}

// ---------------------------------------------------------------- properties

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generated(seed: u64, n_sites: usize) -> (Vec<SiteSummary>, Vec<DayRollup>, Vec<YearTotals>) {
    let mut r = Rng(seed | 1);
    let communes = [ALPHA, BETA, ("76498", "Gamma")];
    let mut sites = Vec::new();
    let mut days = Vec::new();
    let mut totals = Vec::new();
    for n in 0..n_sites {
        let sn = 100 + n as u128;
        let mut s = site(
            sn,
            communes[r.below(3) as usize],
            ProductionType::ALL[r.below(3) as usize],
            ManagementType::ALL[r.below(2) as usize],
            r.below(1_500) as u32,
            r.below(2) == 0,
            r.below(3) as u32,
        );
        // Duplicate names so that the tie-breaks are exercised.
        s.name = format!("Site {}", r.below(3));
        sites.push(s);
        // The stages the site weighs: often the plates only, sometimes none or every one.
        let weighs: [bool; 3] = match r.below(4) {
            0 => [false, false, true],
            1 => [r.below(2) == 0, r.below(2) == 0, r.below(2) == 0],
            _ => [true; 3],
        };
        for k in 0..r.below(25) {
            let date = d(2026, 9, 1) + chrono::Duration::days(k as i64 * 3 + r.below(3) as i64);
            let meals = match r.below(4) {
                0 => None,
                1 => Some(0),
                _ => Some(r.below(600) as u32),
            };
            let mut weighings = [0u32; 3];
            let mut grams = [0u64; 3];
            for s in 0..3 {
                weighings[s] = if weighs[s] { r.below(3) as u32 } else { 0 };
                // A weighing may weigh 0 g of waste: its surplus was given away.
                grams[s] = if weighings[s] == 0 { 0 } else { r.below(40_000) };
            }
            days.push(DayRollup { site_id: id(sn), date, meals_served: meals, grams_by_stage: grams, weighings_by_stage: weighings });
        }
        if r.below(3) > 0 {
            let total = r.below(50_000_000) as i64;
            let part = |r: &mut Rng| if total == 0 { 0 } else { r.below(total as u64 / 4 + 1) as i64 };
            let mut t = totals_of(&format!("siret-{sn}"), total, part(&mut r), part(&mut r), part(&mut r));
            t.valeur_viandes_volailles = part(&mut r);
            t.valeur_viandes_volailles_egalim = t.valeur_viandes_volailles / 2;
            totals.push(t);
        }
    }
    (sites, days, totals)
}

fn totals_of(siret: &str, total: i64, bio: i64, siqo: i64, autres: i64) -> YearTotals {
    totals(siret, 2026, total, bio, siqo, autres)
}

fn random_params(r: &mut Rng) -> OverviewParams {
    let start = d(2026, 9, 1) + chrono::Duration::days(r.below(40) as i64);
    let end = start + chrono::Duration::days(r.below(60) as i64);
    let mut p = params();
    p.period = DateRange::new(start, end);
    p.baseline = (r.below(2) == 0).then(|| DateRange::new(d(2026, 9, 1), d(2026, 9, 1) + chrono::Duration::days(r.below(30) as i64)));
    p.today = d(2026, 10, 1) + chrono::Duration::days(r.below(60) as i64);
    p
}

proptest! {
    /// Commune and territory figures are the sums of their sites' grams and meals, and the
    /// same as summing the measured days directly; g per meal is None exactly without meals.
    #[test]
    fn groups_are_sums_of_their_sites(seed in any::<u64>(), n in 0usize..12) {
        let (sites, days, totals) = generated(seed, n);
        let p = random_params(&mut Rng(seed.rotate_left(17) | 1));
        let o = overview(&sites, &days, &totals, &[], &p);
        prop_assert_eq!(o.sites.len(), sites.len());
        let mut commune_sites = 0;
        for c in &o.communes {
            let rows: Vec<&SiteRow> = o.sites.iter().filter(|r| r.site.commune_insee == c.commune_insee).collect();
            commune_sites += rows.len() as u32;
            prop_assert_eq!(c.sites as usize, rows.len());
            prop_assert_eq!(c.waste.meals, rows.iter().map(|r| r.waste.meals).sum::<u64>());
            for s in 0..3 {
                prop_assert_eq!(c.waste.grams_by_stage[s], rows.iter().map(|r| r.waste.grams_by_stage[s]).sum::<u64>());
            }
            prop_assert_eq!(c.daily_meals, rows.iter().map(|r| u64::from(r.site.daily_meal_count)).sum::<u64>());
            prop_assert_eq!(c.grams_per_meal().is_none(), c.waste.meals == 0);
            prop_assert_eq!(c.waste.range, p.period);
            let mut sum = WastePeriod::empty(p.period);
            rows.iter().for_each(|r| sum.add(&r.waste));
            prop_assert_eq!(c.waste, sum, "a commune's period is the sum of its sites'");
        }
        // A stage's g per meal is missing exactly when it was never weighed on a measured day.
        for r in o.sites.iter().map(|r| &r.waste).chain(o.communes.iter().map(|c| &c.waste)).chain([&o.territory.waste]) {
            for (i, s) in Stage::ALL.iter().enumerate() {
                match r.stage_grams_per_meal(*s) {
                    None => prop_assert_eq!(r.stage_days[i], 0),
                    Some(g) => prop_assert!(r.stage_days[i] > 0 && g.is_finite() && g >= 0.0),
                }
            }
        }
        for i in 0..3 {
            let weighed = days.iter().filter(|d| p.period.contains(d.date) && d.is_measured() && d.weighings_by_stage[i] > 0);
            prop_assert_eq!(o.territory.waste.stage_days[i] as usize, weighed.count());
        }
        for row in &o.sites {
            let site_days: Vec<&DayRollup> = days.iter().filter(|d| d.site_id == row.site.site_id && p.period.contains(d.date) && d.is_measured()).collect();
            for (i, s) in Stage::ALL.iter().enumerate() {
                let weighed: Vec<&&DayRollup> = site_days.iter().filter(|d| d.weighings_by_stage[i] > 0).collect();
                prop_assert_eq!(row.waste.stage_grams_per_meal(*s).is_none(), weighed.is_empty());
                let meals: u64 = weighed.iter().map(|d| u64::from(d.meals_served.unwrap_or(0))).sum();
                prop_assert_eq!(row.waste.stage_meals[i], meals);
            }
        }
        prop_assert_eq!(commune_sites, o.territory.sites);
        let t = &o.territory;
        let direct = WastePeriod::of(&days, p.period);
        prop_assert_eq!(t.waste, direct);
        prop_assert_eq!(t.waste.meals, o.communes.iter().map(|c| c.waste.meals).sum::<u64>());
        prop_assert_eq!(t.waste.grams(), o.communes.iter().map(|c| c.waste.grams()).sum::<u64>());
        prop_assert_eq!(t.grams_per_meal().is_none(), t.waste.meals == 0);
        prop_assert_eq!(t.cost_cents.is_none(), t.waste.measured_days == 0);
        for r in &o.sites {
            prop_assert_eq!(r.grams_per_meal().is_none(), r.waste.meals == 0);
            if let Some(g) = r.grams_per_meal() {
                prop_assert!(g.is_finite() && g >= 0.0);
            }
            prop_assert!(r.participation.days_with_entries <= r.participation.school_days);
        }
    }

    /// Shares, objectives and missing euros are egalim.rs's own on the same totals: per site,
    /// and for the territory on the summed totals.
    #[test]
    fn shares_are_egalim_indicators(seed in any::<u64>(), n in 0usize..12) {
        let (sites, days, totals) = generated(seed, n);
        let o = overview(&sites, &days, &totals, &[], &params());
        let mut sum = YearTotals::new("", 2026);
        let mut yearly = 0u64;
        for r in &o.sites {
            let t = totals.iter().find(|t| t.siret == r.site.siret && t.valeur_totale > 0);
            prop_assert_eq!(r.purchases.is_some(), t.is_some());
            if let (Some(pf), Some(t)) = (&r.purchases, t) {
                let yc = (r.site.yearly_meal_count > 0).then_some(u64::from(r.site.yearly_meal_count));
                prop_assert_eq!(&pf.indicators, &indicators(t, RegionGroup::Mainland, yc));
                sum.add_totals(t);
                yearly += u64::from(r.site.yearly_meal_count);
                let bio = pf.gauge("bio").unwrap();
                prop_assert_eq!(bio.missing_cents, assiette_domain::egalim::missing_cents(t.valeur_bio, t.valeur_totale, 20));
            }
        }
        match &o.territory.purchases {
            None => prop_assert_eq!(sum.valeur_totale, 0),
            Some(pf) => {
                prop_assert_eq!(&pf.totals.simple_fields(), &sum.simple_fields());
                prop_assert_eq!(&pf.indicators, &indicators(&sum, RegionGroup::Mainland, (yearly > 0).then_some(yearly)));
                let s = canteen_statistics(&o);
                prop_assert_eq!(s.bio_percent, pf.indicators.bio_percent_hundredths);
                prop_assert_eq!(s.egalim_percent, pf.indicators.egalim_percent_hundredths);
            }
        }
    }

    /// Sorting is a permutation, ordered by the comparison, with missing values last, and total:
    /// any input order gives the same result.
    #[test]
    fn sorting_is_stable_and_total(seed in any::<u64>(), n in 0usize..14, key in 0usize..10, desc in any::<bool>()) {
        let keys = [
            SortKey::Commune, SortKey::Name, SortKey::DailyMeals, SortKey::DaysWithEntries, SortKey::LastSync,
            SortKey::GramsPerMeal, SortKey::ChangeVsBaseline, SortKey::EgalimShare, SortKey::BioShare,
            SortKey::MissingEgalimCents,
        ];
        let key = keys[key];
        let (sites, days, totals) = generated(seed, n);
        let o = overview(&sites, &days, &totals, &[], &params());
        let mut a = o.sites.clone();
        sort_rows(&mut a, key, desc);
        let mut b = o.sites.clone();
        b.reverse();
        sort_rows(&mut b, key, desc);
        let ids = |v: &[SiteRow]| v.iter().map(|r| r.site.site_id).collect::<Vec<_>>();
        prop_assert_eq!(ids(&a), ids(&b));
        let mut sorted_ids = ids(&a);
        sorted_ids.sort();
        let mut orig = ids(&o.sites);
        orig.sort();
        prop_assert_eq!(sorted_ids, orig);
        for w in a.windows(2) {
            prop_assert_eq!(compare_rows(&w[0], &w[1], key, desc), std::cmp::Ordering::Less);
            prop_assert_eq!(compare_rows(&w[1], &w[0], key, desc), std::cmp::Ordering::Greater);
        }
        if key == SortKey::GramsPerMeal {
            let first_none = a.iter().position(|r| r.grams_per_meal().is_none()).unwrap_or(a.len());
            prop_assert!(a[first_none..].iter().all(|r| r.grams_per_meal().is_none()));
        }
    }

    /// The rollups of records give WasteIndicators' own figures: the SQL rollup can be checked
    /// against `day_rollups`, and the overview against the per-site indicators.
    #[test]
    fn rollups_agree_with_waste_indicators(seed in any::<u64>(), n in 0usize..60) {
        let mut r = Rng(seed | 1);
        let at = DateTime::<Utc>::from_timestamp(1_772_000_000, 0).unwrap();
        let mut meals = Vec::new();
        let mut weighings = Vec::new();
        for k in 0..n as u128 {
            let site_id = id(1 + u128::from(r.below(2)));
            let date = d(2026, 11, 2) + chrono::Duration::days(r.below(10) as i64);
            let mut meta = RecordMeta::new(id(1_000 + k), at);
            meta.deleted = r.below(8) == 0;
            if r.below(3) == 0 {
                meals.push(DailyMealCount { meta, site_id, service_date: date, planned: 0, served_children: r.below(300) as u32, served_adults: r.below(3) as u32 });
            } else {
                let destination = match r.below(5) { 0 => Some(Destination::Reused), 1 => Some(Destination::AnimalFeed), _ => None };
                weighings.push(Weighing { meta, site_id, service_date: date, stage: Stage::ALL[r.below(3) as usize], component: None, mass_grams: r.below(30_000), sorted: None, destination });
            }
        }
        let range = DateRange::new(d(2026, 11, 3), d(2026, 11, 3) + chrono::Duration::days(r.below(8) as i64));
        let rollups = day_rollups(&meals, &weighings);
        for s in [id(1), id(2)] {
            let wi = WasteIndicators::compute(
                &meals.iter().filter(|m| m.site_id == s).cloned().collect::<Vec<_>>(),
                &weighings.iter().filter(|w| w.site_id == s).cloned().collect::<Vec<_>>(),
                range,
            );
            let p = WastePeriod::of(rollups.iter().filter(|d| d.site_id == s), range);
            prop_assert_eq!((p.measured_days, p.meals, p.grams()), (wi.measured_days, wi.meals_served, wi.total_grams));
            prop_assert_eq!(p.grams_per_meal(), wi.grams_per_meal);
            for share in &wi.by_stage {
                prop_assert_eq!(p.stage_grams_per_meal(share.key), share.grams_per_meal);
                // Missing exactly when no live weighing of the stage fell on a measured day.
                let weighed = weighings.iter().any(|w| {
                    !w.meta.deleted && w.site_id == s && w.stage == share.key && range.contains(w.service_date)
                        && meals.iter().filter(|c| !c.meta.deleted && c.site_id == s && c.service_date == w.service_date).map(|c| c.served_total()).sum::<u64>() > 0
                });
                prop_assert_eq!(share.grams_per_meal.is_some(), weighed);
            }
        }
    }
    /// Monthly points add up to the whole range, for the territory and for the communes.
    #[test]
    fn monthly_trend_adds_up(seed in any::<u64>(), n in 0usize..10) {
        let (sites, days, totals) = generated(seed, n);
        let p = random_params(&mut Rng(seed.rotate_left(7) | 1));
        let lines = monthly_trend(&sites, &days, p.period);
        prop_assert_eq!(lines.len(), 1 + sites.iter().map(|s| &s.commune_insee).collect::<std::collections::BTreeSet<_>>().len());
        let sum = |l: &TrendLine| l.points.iter().fold(WastePeriod::empty(p.period), |mut acc, m| { acc.add(&m.waste); acc });
        let whole = WastePeriod::of(&days, p.period);
        let t = sum(&lines[0]);
        prop_assert_eq!(t, whole);
        let communes = lines[1..].iter().map(sum).fold(WastePeriod::empty(p.period), |mut acc, w| { acc.add(&w); acc });
        prop_assert_eq!((communes.meals, communes.grams_by_stage, communes.stage_days, communes.stage_meals), (whole.meals, whole.grams_by_stage, whole.stage_days, whole.stage_meals));
        for l in &lines {
            for m in &l.points {
                prop_assert_eq!(m.waste.grams_per_meal().is_none(), m.waste.meals == 0);
            }
        }
        // Yearly purchases: the territory's euros are the communes' euros.
        let y = yearly_purchases(&sites, &totals);
        let cents = |terr: bool| y.iter().filter(|r| r.commune_insee.is_empty() == terr).filter_map(|r| r.purchases.as_ref()).map(|p| p.totals.valeur_egalim()).sum::<i64>();
        prop_assert_eq!(cents(true), cents(false));
    }
}
