//! The dashboard of a commune of 6 sites × 3 years × 20,000 lines a site and year (360,000
//! purchases; and 20,000 lines in all, the budget's other reading): the first draw (one pass
//! into the aggregates, then every figure) and a filter change (every figure again from the
//! aggregates).
//! Run: cargo bench -p assiette-domain --bench dashboard

use assiette_domain::dashboard::{Filter, PurchaseCube, SiteInfo};
use assiette_domain::purchase::{Characteristic as C, CharacteristicSet, Family, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_domain::site::RegionGroup;
use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use uuid::Uuid;

const SITES: u64 = 6;
const YEARS: i32 = 3;

fn sirets() -> Vec<String> {
    (0..SITES).map(|i| format!("{}", 21010034300016u64 + i * 1000)).collect()
}

/// A realistic mix: 60 suppliers (spelled two ways), every family, labels, origins, local.
fn generate(lines_per_site_year: u64) -> Vec<Purchase> {
    let labels: [&[C]; 9] = [
        &[],
        &[C::Bio],
        &[C::Bio, C::CommerceEquitable],
        &[C::LabelRouge],
        &[C::Igp, C::Hve],
        &[C::PecheDurable],
        &[C::Performance],
        &[C::Fermier],
        &[C::Aocaop],
    ];
    let extras: [&[C]; 5] = [&[], &[C::France], &[C::Europe], &[C::France, C::Local], &[C::CircuitCourt]];
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc);
    let sirets = sirets();
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut out = Vec::with_capacity((SITES * YEARS as u64 * lines_per_site_year) as usize);
    for (s, siret) in sirets.iter().enumerate() {
        for y in 0..YEARS {
            for i in 0..lines_per_site_year {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let mut characteristics = labels[(x % 9) as usize].to_vec();
                characteristics.extend_from_slice(extras[((x >> 8) % 5) as usize]);
                let supplier = (x >> 16) % 60;
                out.push(Purchase {
                    meta: RecordMeta::new(Uuid::from_u128(((s as u128) << 64) | ((y as u128) << 32) | i as u128), now),
                    siret: siret.clone(),
                    description: format!("Produit {i}"),
                    supplier: if supplier % 2 == 0 { format!("Fournisseur {supplier}") } else { format!("FOURNISSEUR {supplier} ") },
                    date: NaiveDate::from_ymd_opt(2024 + y, 1 + ((x >> 24) % 12) as u32, 1 + ((x >> 28) % 28) as u32).unwrap(),
                    price_cents: ((x >> 32) % 200_000) as i64,
                    family: Family::ALL[((x >> 40) % 8) as usize],
                    characteristics,
                    local_definition: None,
                    local_km: None,
                });
            }
        }
    }
    out
}

fn sites() -> Vec<SiteInfo> {
    sirets()
        .into_iter()
        .enumerate()
        .map(|(i, siret)| SiteInfo { siret, name: format!("École {i}"), yearly_meal_count: 30_000, region_group: RegionGroup::Mainland })
        .collect()
}

/// This process's CPU time (user + system) in seconds, from /proc (Linux): on a machine shared
/// with other builds, it says what the work costs apart from waiting for a core.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and stime are the 12th
    // and 13th, in clock ticks (100 a second on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
}

fn bench(c: &mut Criterion) {
    let sites = sites();
    let commune = Filter::year(2026);
    for (name, per_site_year) in [("360k_lines", 20_000u64), ("20k_lines", 1_111)] {
        let purchases = generate(per_site_year);
        let cube = PurchaseCube::from_purchases(&purchases);
        // CPU time per first draw and per filter change, beside criterion's wall-clock times.
        let runs = if per_site_year > 10_000 { 10 } else { 200 };
        let (c0, t0) = (cpu_seconds(), std::time::Instant::now());
        for _ in 0..runs {
            criterion::black_box(PurchaseCube::from_purchases(&purchases).dashboard(&commune, &sites, 10));
        }
        let (c1, t1) = (cpu_seconds(), std::time::Instant::now());
        for _ in 0..runs * 10 {
            criterion::black_box(cube.dashboard(&Filter::year(2025), &sites, 10));
        }
        let (c2, t2) = (cpu_seconds(), std::time::Instant::now());
        if let (Some(c0), Some(c1), Some(c2)) = (c0, c1, c2) {
            println!(
                "{name}: first draw {:.1} ms CPU ({:.1} ms wall), filter change {:.2} ms CPU ({:.2} ms wall)",
                (c1 - c0) * 1000.0 / runs as f64,
                (t1 - t0).as_secs_f64() * 1000.0 / runs as f64,
                (c2 - c1) * 1000.0 / (runs * 10) as f64,
                (t2 - t1).as_secs_f64() * 1000.0 / (runs * 10) as f64,
            );
        }
        let mut group = c.benchmark_group(format!("dashboard_6_sites_3_years_{name}"));
        group.sample_size(20);
        group.bench_function("first_draw_aggregate_and_compute", |b| {
            b.iter(|| {
                let cube = PurchaseCube::from_purchases(&purchases);
                let d = cube.dashboard(&commune, &sites, 10);
                assert_eq!(d.totals.purchase_count, SITES * per_site_year);
                d
            })
        });
        group.bench_function("filter_change_one_site", |b| {
            let f = Filter { sirets: vec![sites[2].siret.clone()], ..Filter::year(2026) };
            b.iter(|| cube.dashboard(&f, &sites, 10))
        });
        group.bench_function("filter_change_year", |b| b.iter(|| cube.dashboard(&Filter::year(2025), &sites, 10)));
        group.bench_function("filter_change_families_and_codes", |b| {
            let f = Filter {
                families: vec![Family::ViandesVolailles, Family::ProduitsDeLaMer],
                characteristics: CharacteristicSet::of(&[C::France]),
                ..Filter::year(2026)
            };
            b.iter(|| cube.dashboard(&f, &sites, 10))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
