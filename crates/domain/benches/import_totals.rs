//! Import + yearly totals of a generated 1,000,000-line national purchase CSV (in memory).
//! Run: cargo bench -p assiette-domain --bench import_totals -- --sample-size 10

use assiette_domain::egalim::TotalsBuilder;
use assiette_domain::import::{import_csv_stream, import_purchases, ImportOptions};
use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use uuid::Uuid;

const LINES: usize = 1_000_000;

/// A realistic mix: 20 sites, 3 years, every family, labels, origins, local definitions,
/// quoted descriptions, prices with more than two decimals.
fn generate() -> Vec<u8> {
    const FAMILIES: [&str; 8] = [
        "VIANDES_VOLAILLES", "CHARCUTERIE", "PRODUITS_DE_LA_MER", "FRUITS_ET_LEGUMES",
        "PRODUITS_LAITIERS", "BOULANGERIE", "BOISSONS", "AUTRES",
    ];
    const LABELS: [&str; 7] = ["", "BIO", "\"BIO,COMMERCE_EQUITABLE\"", "LABEL_ROUGE", "\"IGP,HVE\"", "PECHE_DURABLE", "PERFORMANCE"];
    const ORIGINS: [&str; 3] = ["", "FRANCE", "EUROPE"];
    const LOCAL: [&str; 4] = [",,,", ",x,DEPARTEMENT,", "x,x,KM,40", "oui,non,,"];
    let mut s = String::with_capacity(LINES * 110);
    s.push_str("siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km\n");
    let mut x: u64 = 0x2545F4914F6CDD1D;
    for i in 0..LINES {
        // xorshift: deterministic pseudo-random choices
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let site = 21010034300016u64 + (x % 20) * 1000;
        let year = 2023 + (x >> 8) % 3;
        let month = 1 + (x >> 12) % 12;
        let day = 1 + (x >> 16) % 28;
        let euros = (x >> 20) % 5000;
        let cents = (x >> 32) % 100000;
        s.push_str(&format!(
            "{site},\"Produit {i}, lot {}\",Fournisseur {},{year}-{month:02}-{day:02},{euros}.{cents:05},{},{},{},{}\n",
            x % 97,
            x % 13,
            FAMILIES[((x >> 40) % 8) as usize],
            LABELS[((x >> 44) % 7) as usize],
            ORIGINS[((x >> 48) % 3) as usize],
            LOCAL[((x >> 52) % 4) as usize],
        ));
    }
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let file = generate();
    let mut opts = ImportOptions::new(
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc),
    );
    opts.max_bytes = u64::MAX; // the 10 MB rule is the platform's upload limit, not a reading limit
    let mut group = c.benchmark_group("import_totals");
    group.throughput(Throughput::Elements(LINES as u64));
    group.bench_function("stream_csv_1m_lines_into_totals", |b| {
        b.iter(|| {
            let mut totals = TotalsBuilder::new();
            let s = import_csv_stream(&file[..], &opts, &mut Uuid::nil, &mut |p| totals.add(&p)).unwrap();
            assert_eq!(s.count, LINES as u64);
            let t = totals.finish();
            assert_eq!(t.len(), 60);
            t
        })
    });
    group.bench_function("import_1m_lines_then_totals", |b| {
        b.iter(|| {
            let imported = import_purchases(&file, &opts, &mut Uuid::nil).unwrap();
            assert_eq!(imported.purchases.len(), LINES);
            assiette_domain::egalim::yearly_totals(&imported.purchases)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
