//! A commune's yearly EGalim totals (`GET /api/v1/communes/{insee}/egalim`) come from the
//! per-site rollup the push keeps; after random creations, corrections (price, family,
//! labels, year) and deletions on two sites, over several batches, they equal the domain's
//! `yearly_totals` recomputed from the records a fresh tablet pulls, to the cent. SQLite and
//! PostgreSQL; several seeds each.

mod common;

use assiette_domain::egalim::{yearly_totals, YearTotals};
use assiette_domain::purchase::{Characteristic, Family, LocalDefinition, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::RecordPayload;
use chrono::NaiveDate;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

const INSEE: &str = "76217";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A valid purchase of `siret` with random family, labels, origin, local, price and date.
fn random_fields(rng: &mut Rng, p: &mut Purchase) {
    p.family = Family::ALL[rng.below(8) as usize];
    p.price_cents = rng.below(500_000) as i64;
    p.date = NaiveDate::from_ymd_opt(2024 + rng.below(2) as i32, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32).unwrap();
    let labels = rng.next();
    p.characteristics = Characteristic::EGALIM.iter().copied().filter(|c| labels >> (*c as u32) & 1 == 1).collect();
    match rng.below(3) {
        0 => p.characteristics.push(Characteristic::France),
        1 => p.characteristics.push(Characteristic::Europe),
        _ => {}
    }
    if rng.below(2) == 0 {
        p.characteristics.push(Characteristic::CircuitCourt);
    }
    if rng.below(2) == 0 {
        p.characteristics.push(Characteristic::Local);
        p.local_definition = Some(LocalDefinition::Departement);
    } else {
        p.local_definition = None;
    }
}

fn new_purchase(rng: &mut Rng, siret: &str) -> RecordPayload {
    let mut p = Purchase {
        meta: RecordMeta::new(Uuid::now_v7(), now()),
        siret: siret.to_owned(),
        description: "Produit".to_owned(),
        supplier: "Fournisseur".to_owned(),
        date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        price_cents: 0,
        family: Family::Autres,
        characteristics: Vec::new(),
        local_definition: None,
        local_km: None,
    };
    random_fields(rng, &mut p);
    RecordPayload::Purchase(p)
}

/// Random creations, corrections and deletions on a tablet, `steps` of them.
fn random_changes(rng: &mut Rng, t: &mut Tablet, steps: usize) {
    for _ in 0..steps {
        let live: Vec<Uuid> = {
            let mut v: Vec<Uuid> = t.local.iter().filter(|(_, r)| !r.is_deleted()).map(|(id, _)| *id).collect();
            v.sort();
            v
        };
        match (rng.below(10), live.is_empty()) {
            (0..=4, _) | (_, true) => {
                let siret = t.site.siret.clone();
                t.save(new_purchase(rng, &siret));
            }
            (5..=7, false) => {
                let id = live[rng.below(live.len() as u64) as usize];
                let mut seed = Rng(rng.next() | 1);
                t.correct(id, |r| {
                    if let RecordPayload::Purchase(p) = r {
                        random_fields(&mut seed, p);
                    }
                });
            }
            _ => {
                let id = live[rng.below(live.len() as u64) as usize];
                t.delete(id);
            }
        }
    }
}

/// The endpoint's totals JSON for each expected site-year, and the commune's sum.
fn assert_equal(reply: &Value, year: i32, expected: &[(String, Option<YearTotals>)]) {
    let sites = reply["sites"].as_array().unwrap();
    let mut commune = YearTotals::new(String::new(), year);
    for (siret, totals) in expected {
        let got = sites.iter().find(|s| s["siret"] == siret.as_str()).unwrap_or_else(|| panic!("site {siret} missing"));
        let want = totals.clone().unwrap_or_else(|| YearTotals::new(siret.clone(), year));
        assert_eq!(got["totals"], serde_json::to_value(&want).unwrap(), "site {siret}, {year}");
        assert_eq!(got["indicators"]["egalim_percent_hundredths"], json!(assiette_domain::egalim::percent_hundredths(want.valeur_egalim(), want.valeur_totale)));
        commune.add_totals(&want);
    }
    let mut want = serde_json::to_value(&commune).unwrap();
    want.as_object_mut().unwrap().remove("siret");
    assert_eq!(reply["commune"]["totals"], want, "commune, {year}");
}

async fn story(backend: &Backend, seed: u64) {
    eprintln!("== cumul EGalim sur {} (graine {seed}) ==", backend.name);
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    let sirets = [siret("2101003430001"), siret("6544909624168")];
    let mut sites = Vec::new();
    let mut tablets = Vec::new();
    for (i, s) in sirets.iter().enumerate() {
        let site = admin.create_site(INSEE, "Dieppe", s, &format!("École {i}")).await;
        sites.push(site);
        let mut t = Tablet::enrol(&server.base, &admin.code(site).await).await;
        t.push_batch = 7; // several batches, some records written twice in one
        tablets.push(t);
    }
    let mut rng = Rng(seed);
    for round in 0..4 {
        for t in tablets.iter_mut() {
            random_changes(&mut rng, t, 15 + round * 5);
            assert!(t.push_all(t.push_batch).await, "every mutation applied");
        }
    }

    for year in [2024, 2025] {
        let (status, reply) = admin.get(&format!("/api/v1/communes/{INSEE}/egalim?year={year}")).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["year"], year);
        assert_eq!(reply["commune_name"], "Dieppe");
        let mut expected = Vec::new();
        for (i, site) in sites.iter().enumerate() {
            // What a fresh tablet of the site pulls, recomputed by the domain.
            let mut fresh = Tablet::enrol(&server.base, &admin.code(*site).await).await;
            fresh.pull_all(100).await;
            let purchases: Vec<Purchase> = fresh
                .local
                .values()
                .filter_map(|r| match r {
                    RecordPayload::Purchase(p) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            assert!(!purchases.is_empty());
            let totals = yearly_totals(&purchases).into_iter().find(|t| t.year == year);
            expected.push((sirets[i].clone(), totals));
        }
        assert_equal(&reply, year, &expected);
    }

    // Another commune's request names no site of this one; an unknown commune is a 404.
    let (s, other) = admin.get("/api/v1/communes/76351/egalim?year=2025").await;
    assert_eq!(s, 200, "{other}");
    assert!(other["sites"].as_array().unwrap().iter().all(|x| !sirets.iter().any(|s| x["siret"] == s.as_str())));
    assert_error(&admin.get("/api/v1/communes/99999/egalim?year=2025").await, 404, "unknown_commune");
    assert_error(&admin.get(&format!("/api/v1/communes/{INSEE}/egalim?year=25")).await, 422, "invalid_year");
    // Without a session: refused.
    let (s, _) = send(http().get(server.url(&format!("/api/v1/communes/{INSEE}/egalim?year=2025")))).await;
    assert_eq!(s, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commune_totals_equal_the_domains_after_random_changes() {
    for postgres in [false, true] {
        for seed in [0x2545F4914F6CDD1D, 0x9E3779B97F4A7C15, 0xD1B54A32D192ED03] {
            // A fresh database for each seed.
            let backend = if postgres {
                match postgres_backend().await {
                    Some(b) => b,
                    None => break,
                }
            } else {
                sqlite_backend()
            };
            story(&backend, seed).await;
        }
    }
}

/// Purchases stored before the rollup existed are rolled up when the server next opens the
/// database (the migration lists their sites as pending).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_stored_before_the_rollup_are_rolled_up_at_start() {
    for backend in backends().await {
        let server = TestServer::start(&backend.url).await;
        let admin = Admin::login(&server.base).await;
        let s = siret("2101003430001");
        let site = admin.create_site(INSEE, "Dieppe", &s, "École").await;
        let mut t = Tablet::enrol(&server.base, &admin.code(site).await).await;
        let mut rng = Rng(7);
        random_changes(&mut rng, &mut t, 30);
        assert!(t.push_all(100).await);
        let (_, before) = admin.get(&format!("/api/v1/communes/{INSEE}/egalim?year=2025")).await;
        // As if the rollup had never been kept: emptied, the site listed as pending.
        let db = server.db.clone();
        match &db {
            assiette_server::db::Db::Sqlite(st) => {
                sqlx::query("DELETE FROM egalim_rollup").execute(&st.pool).await.unwrap();
                sqlx::query("INSERT INTO egalim_rollup_pending (site_id) VALUES ($1)").bind(site.to_string()).execute(&st.pool).await.unwrap();
            }
            assiette_server::db::Db::Postgres(st) => {
                sqlx::query("DELETE FROM egalim_rollup").execute(&st.pool).await.unwrap();
                sqlx::query("INSERT INTO egalim_rollup_pending (site_id) VALUES ($1)").bind(site.to_string()).execute(&st.pool).await.unwrap();
            }
        }
        server.stop().await;
        let server = TestServer::start(&backend.url).await;
        let admin = Admin::login(&server.base).await;
        let (s, after) = admin.get(&format!("/api/v1/communes/{INSEE}/egalim?year=2025")).await;
        assert_eq!(s, 200);
        assert_eq!(after, before);
        assert_ne!(after["commune"]["totals"]["valeur_totale"], "0.00");
        server.stop().await;
    }
}
