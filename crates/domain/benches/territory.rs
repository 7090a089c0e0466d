//! The territory overview recomputed in memory for 1,000 sites × one school year of
//! per-site-day rollups (≈ 140,000 days) and one year of purchase totals: the pure
//! recomputation the server's SQL answers are checked against, and the app's cost of redoing
//! the communes and totals from cached site rows. Also the monthly trend over the same days.
//! Run: cargo bench -p assiette-domain --bench territory

use assiette_domain::egalim::YearTotals;
use assiette_domain::site::{ManagementType, ProductionType, RegionGroup};
use assiette_domain::territory::{monthly_trend, overview, DayRollup, OverviewParams, SiteSummary};
use assiette_domain::waste::{DateRange, WasteFactors};
use chrono::{Datelike, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion};
use uuid::Uuid;

const SITES: u32 = 1_000;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn generate() -> (Vec<SiteSummary>, Vec<DayRollup>, Vec<YearTotals>) {
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut sites = Vec::new();
    let mut days = Vec::new();
    let mut totals = Vec::new();
    for s in 0..SITES {
        let daily = 50 + (next() % 900) as u32;
        let site_id = Uuid::from_u128(u128::from(s) + 1);
        let commune = s % 54;
        sites.push(SiteSummary {
            site_id,
            siret: format!("{}", 21010034300016u64 + u64::from(s) * 1000),
            commune_insee: format!("76{:03}", commune),
            commune_name: format!("Commune {commune}"),
            name: format!("Restaurant {s}"),
            management: ManagementType::ALL[(next() % 2) as usize],
            production_type: ProductionType::ALL[(next() % 3) as usize],
            daily_meal_count: daily,
            yearly_meal_count: daily * 140,
            region_group: RegionGroup::Mainland,
            engaged: next() % 2 == 0,
            tablets_enrolled: (next() % 2) as u32,
            last_sync: None,
        });
        let mut date = d(2025, 9, 1);
        while date <= d(2026, 6, 30) {
            if !matches!(date.weekday(), chrono::Weekday::Wed | chrono::Weekday::Sat | chrono::Weekday::Sun) {
                let weighed = next() % 4 == 0;
                days.push(DayRollup {
                    site_id,
                    date,
                    meals_served: Some(daily - (next() % 20) as u32),
                    grams_by_stage: if weighed { [next() % 2_000, next() % 8_000, next() % 20_000] } else { [0; 3] },
                    weighings_by_stage: if weighed { [1; 3] } else { [0; 3] },
                });
            }
            date = date.succ_opt().unwrap();
        }
        let mut t = YearTotals::new(sites[s as usize].siret.clone(), 2026);
        t.valeur_totale = (next() % 50_000_000) as i64 + 1;
        t.valeur_bio = t.valeur_totale / 5;
        t.valeur_siqo = t.valeur_totale / 7;
        totals.push(t);
    }
    (sites, days, totals)
}

fn bench(c: &mut Criterion) {
    let (sites, days, totals) = generate();
    let params = OverviewParams {
        period: DateRange::new(d(2025, 9, 1), d(2026, 6, 30)),
        baseline: Some(DateRange::new(d(2025, 9, 1), d(2025, 10, 17))),
        purchase_year: 2026,
        today: d(2026, 6, 15),
        holidays: vec![DateRange::new(d(2026, 4, 18), d(2026, 5, 3))],
        factors: WasteFactors::default(),
    };
    let mut g = c.benchmark_group("territory");
    g.sample_size(10);
    g.bench_function("overview 1000 sites x 1 school year", |b| b.iter(|| overview(&sites, &days, &totals, &[], &params)));
    g.bench_function("monthly trend 1000 sites x 1 school year", |b| b.iter(|| monthly_trend(&sites, &days, params.period)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
