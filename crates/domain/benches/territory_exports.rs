//! The territory's exports for 1,000 sites: the overview (1,000 site lines,
//! 54 communes, the territory) as CSV and as XLSX, the monthly trend (the territory and 54
//! communes × 10 months) as XLSX, and the supplier signal of the summed yearly totals (the sum
//! included) as XLSX. What an export request costs the server or the app beyond the figures.
//! Run: cargo bench -p assiette-domain --bench territory_exports

use assiette_domain::egalim::YearTotals;
use assiette_domain::export::{overview_csv, overview_xlsx, signal_xlsx, trend_xlsx};
use assiette_domain::purchase::{CharacteristicSet, Family};
use assiette_domain::signal::supplier_signal;
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
    let (mut sites, mut days, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    for s in 0..SITES {
        let daily = 50 + (next() % 900) as u32;
        let site_id = Uuid::from_u128(u128::from(s) + 1);
        let commune = s % 54;
        sites.push(SiteSummary {
            site_id,
            siret: format!("{}", 21010034300016u64 + u64::from(s) * 1000),
            commune_insee: format!("76{commune:03}"),
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
        // One weighed week a month, September to June.
        for month in [9, 10, 11, 12, 1, 2, 3, 4, 5, 6] {
            let year = if month >= 9 { 2025 } else { 2026 };
            for day in 8..13 {
                let date = d(year, month, day);
                if date.weekday() == chrono::Weekday::Wed || date.weekday().number_from_monday() > 5 {
                    continue;
                }
                days.push(DayRollup {
                    site_id,
                    date,
                    meals_served: Some(daily - (next() % 20) as u32),
                    grams_by_stage: [next() % 2_000, next() % 8_000, next() % 20_000],
                    weighings_by_stage: [1; 3],
                });
            }
        }
        let mut t = YearTotals::new(sites[s as usize].siret.clone(), 2026);
        for _ in 0..40 {
            let family = Family::ALL[(next() % 8) as usize];
            t.add_lines(family, CharacteristicSet((next() % (1 << 15)) as u16 & next() as u16), (next() % 500_000) as i64, 1);
        }
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
    let o = overview(&sites, &days, &totals, &[], &params);
    let trend = monthly_trend(&sites, &days, params.period);
    let sum = || {
        let mut all = YearTotals::new("", 2026);
        for t in &totals {
            all.add_totals(t);
        }
        all
    };
    eprintln!(
        "sizes: overview CSV {} bytes, XLSX {} bytes; trend XLSX {} bytes; signal XLSX {} bytes",
        overview_csv(&o).len(),
        overview_xlsx(&o).unwrap().len(),
        trend_xlsx(&trend).unwrap().len(),
        signal_xlsx(&supplier_signal(&sum(), RegionGroup::Mainland), "Territoire").unwrap().len()
    );
    let mut g = c.benchmark_group("territory_exports");
    g.sample_size(10);
    g.bench_function("overview CSV 1000 sites", |b| b.iter(|| overview_csv(&o)));
    g.bench_function("overview XLSX 1000 sites", |b| b.iter(|| overview_xlsx(&o).unwrap()));
    g.bench_function("trend XLSX 55 lines x 10 months", |b| b.iter(|| trend_xlsx(&trend).unwrap()));
    g.bench_function("signal of 1000 site-years summed, XLSX", |b| {
        b.iter(|| signal_xlsx(&supplier_signal(&sum(), RegionGroup::Mainland), "Territoire").unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
