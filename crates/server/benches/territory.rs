//! Territory benchmarks (release build): the overview and the commune page over HTTP, against a
//! generated territory, on SQLite and (with ASSIETTE_TEST_POSTGRES_URL) PostgreSQL; then the
//! ingest rate of 1,000-mutation pushes into that territory (the rollups kept in the push).
//!
//! The bulk loader: SITES sites (20 per commune) × YEARS years ending yesterday, each service
//! day (Monday, Tuesday, Thursday, Friday outside August) one meal count and five weighings,
//! PURCHASES purchase lines per site and year. The records are generated as the domain's types
//! and rolled up by the domain (`territory::day_rollups`, `egalim::yearly_totals`, the months
//! of the purchase lines), then the rollup rows written in bulk: what the push path leaves in
//! `day_rollup`, `purchase_month_rollup` and `egalim_rollup` for the same records (the HTTP
//! tests prove the push path's rollups equal those functions). The record bodies themselves
//! are not written (the reads measured never touch them): `records` stays as the pushes of
//! the ingest part leave it.
//!
//! Defaults: 1,000 sites × 10 years ≈ 1.8 M meal counts, 8.8 M weighings, 5 M purchase lines.
//! Run: `cargo bench -p assiette-server --bench territory`
//! (ASSIETTE_BENCH_SITES, ASSIETTE_BENCH_YEARS, ASSIETTE_BENCH_PURCHASES per site-year,
//! ASSIETTE_BENCH_RUNS requests per figure, ASSIETTE_BENCH_KEEP to keep the databases).

use std::collections::BTreeMap;
use std::time::Instant;

use assiette_domain::egalim::yearly_totals;
use assiette_domain::meals::DailyMealCount;
use assiette_domain::purchase::{Characteristic, Family, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_domain::site::{ManagementType, ProductionType, RegionGroup, Sector};
use assiette_domain::sync::{server_today, EnrolResponse, Mutation, PushRequest, PushResponse, RecordPayload, SiteDetails, SiteInfo};
use assiette_domain::territory::day_rollups;
use assiette_domain::waste::{Stage, Weighing};
use assiette_server::db::Db;
use assiette_server::http::{app, AppState};
use assiette_server::store::Store;
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use uuid::Uuid;

const EMAIL: &str = "bench@metropole.example";
const PASSWORD: &str = "un mot de passe de banc d'essai";

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

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs one statement on either backend (the loader's rows are numbers and generated ids:
/// written inline, one multi-row statement per thousand rows).
async fn exec(db: &Db, sql: String) {
    match db {
        Db::Sqlite(s) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&s.pool).await.map(|_| ()),
        Db::Postgres(s) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&s.pool).await.map(|_| ()),
    }
    .unwrap();
}

async fn insert_rows(db: &Db, head: &str, rows: &mut Vec<String>) {
    if rows.is_empty() {
        return;
    }
    exec(db, format!("{head} VALUES {}", rows.join(","))).await;
    rows.clear();
}

fn school_days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| [Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri].contains(&d.weekday()) && d.month() != 8)
        .collect()
}

/// Creates the communes and sites and writes their rollups. Returns (sites, counts).
async fn load(db: &Db, n_sites: usize, years: usize, purchases_per_year: usize, today: NaiveDate) -> (Vec<SiteDetails>, [u64; 3]) {
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let end = today - Duration::days(1);
    let start = NaiveDate::from_ymd_opt(end.year() - years as i32 + 1, 1, 1).unwrap();
    let days = school_days(start, end);
    let mut sites = Vec::with_capacity(n_sites);
    for i in 0..n_sites {
        let commune = i / 20;
        let insee = format!("{:05}", 76000 + commune);
        if i % 20 == 0 {
            db.create_commune(&insee, &format!("Commune {commune:03}")).await.unwrap();
        }
        let details = SiteDetails {
            info: SiteInfo {
                id: Uuid::now_v7(),
                name: format!("École {i:04}"),
                siret: format!("{:014}", 10_000_000_000_000u64 + i as u64),
                commune_insee: insee.clone(),
                commune_name: format!("Commune {commune:03}"),
            },
            management_type: if i % 3 == 0 { ManagementType::Conceded } else { ManagementType::Direct },
            production_type: ProductionType::ALL[i % 3],
            sectors: vec![Sector::EducationPrimaire],
            daily_meal_count: 50 + (i as u32 * 37) % 900,
            yearly_meal_count: 20_000,
            region_group: RegionGroup::Mainland,
        };
        db.create_site(&details).await.unwrap();
        sites.push(details);
    }
    let now = Utc::now();
    let mut counts = [0u64; 3];
    let (mut day_rows, mut slot_rows, mut month_rows) = (Vec::new(), Vec::new(), Vec::new());
    let t = Instant::now();
    for (n, s) in sites.iter().enumerate() {
        let id = s.info.id;
        let mut meals = Vec::with_capacity(days.len());
        let mut weighings = Vec::with_capacity(days.len() * 5);
        for d in &days {
            let served = s.daily_meal_count.saturating_sub(rng.below(30) as u32);
            meals.push(DailyMealCount {
                meta: RecordMeta::new(Uuid::nil(), now),
                site_id: id,
                service_date: *d,
                planned: served + 10,
                served_children: served,
                served_adults: 0,
            });
            for k in 0..5 {
                weighings.push(Weighing {
                    meta: RecordMeta::new(Uuid::nil(), now),
                    site_id: id,
                    service_date: *d,
                    stage: Stage::ALL[k % 3],
                    component: None,
                    mass_grams: 500 + rng.below(u64::from(served) * 30 + 1),
                    sorted: None,
                    destination: None,
                });
            }
        }
        counts[0] += meals.len() as u64;
        counts[1] += weighings.len() as u64;
        for r in day_rollups(&meals, &weighings) {
            day_rows.push(format!(
                "('{id}','{}',1,{},{},{},{},{},{},{},{})",
                r.date,
                r.meals_served.unwrap_or(0),
                r.weighings(),
                r.grams_by_stage[0],
                r.grams_by_stage[1],
                r.grams_by_stage[2],
                r.weighings_by_stage[0],
                r.weighings_by_stage[1],
                r.weighings_by_stage[2]
            ));
            if day_rows.len() >= 1000 {
                insert_rows(db, DAY_ROLLUP_INSERT, &mut day_rows).await;
            }
        }
        let mut purchases = Vec::with_capacity(years * purchases_per_year);
        for y in 0..years {
            let year = start.year() + y as i32;
            for _ in 0..purchases_per_year {
                let mut characteristics = Vec::new();
                match rng.below(5) {
                    0 => characteristics.push(Characteristic::Bio),
                    1 => characteristics.push(Characteristic::LabelRouge),
                    _ => {}
                }
                purchases.push(Purchase {
                    meta: RecordMeta::new(Uuid::nil(), now),
                    siret: s.info.siret.clone(),
                    description: String::new(),
                    supplier: String::new(),
                    date: NaiveDate::from_ymd_opt(year, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32).unwrap(),
                    price_cents: 100 + rng.below(50_000) as i64,
                    family: Family::ALL[rng.below(8) as usize],
                    characteristics,
                    local_definition: None,
                    local_km: None,
                });
            }
        }
        counts[2] += purchases.len() as u64;
        for totals in yearly_totals(&purchases) {
            for (slot, cents) in totals.to_slots().iter().enumerate().filter(|(_, c)| **c != 0) {
                slot_rows.push(format!("('{id}',{},{slot},{cents})", totals.year));
            }
        }
        let mut months: BTreeMap<(i32, u32), u64> = BTreeMap::new();
        for p in &purchases {
            *months.entry((p.date.year(), p.date.month())).or_default() += 1;
        }
        for ((y, m), lines) in months {
            month_rows.push(format!("('{id}',{y},{m},{lines})"));
        }
        if slot_rows.len() >= 1000 {
            insert_rows(db, "INSERT INTO egalim_rollup (site_id, year, slot, cents)", &mut slot_rows).await;
        }
        if month_rows.len() >= 1000 {
            insert_rows(db, "INSERT INTO purchase_month_rollup (site_id, year, month, lines)", &mut month_rows).await;
        }
        if (n + 1) % 100 == 0 {
            eprintln!("  chargé {} restaurants en {:.0} s", n + 1, t.elapsed().as_secs_f64());
        }
    }
    insert_rows(db, DAY_ROLLUP_INSERT, &mut day_rows).await;
    insert_rows(db, "INSERT INTO egalim_rollup (site_id, year, slot, cents)", &mut slot_rows).await;
    insert_rows(db, "INSERT INTO purchase_month_rollup (site_id, year, month, lines)", &mut month_rows).await;
    // Statistics for the planner, as after any bulk load; on PostgreSQL the visibility map too
    // (index-only scans), which autovacuum would otherwise set in the middle of the timings.
    let after_load = match db {
        Db::Sqlite(_) => "ANALYZE",
        Db::Postgres(_) => "VACUUM ANALYZE",
    };
    exec(db, after_load.to_owned()).await;
    (sites, counts)
}

const DAY_ROLLUP_INSERT: &str = "INSERT INTO day_rollup (site_id, service_date, meal_counts, meals, weighings, grams_preparation, \
     grams_unserved, grams_leftovers, weighings_preparation, weighings_unserved, weighings_leftovers)";

fn p50_p95(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (at(0.5), at(0.95))
}

/// One request's time (ms) and its JSON's size (bytes, not compressed: the client asks for none).
async fn timed(client: &reqwest::Client, url: &str, token: &str) -> (f64, usize) {
    let t = Instant::now();
    let res = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    let body = res.bytes().await.unwrap();
    assert!(body.len() > 100);
    (t.elapsed().as_secs_f64() * 1000.0, body.len())
}

fn weighings(site: Uuid, n: usize, today: NaiveDate, first_seq: u64) -> Vec<Mutation> {
    (0..n)
        .map(|i| Mutation {
            seq: first_seq + i as u64,
            record: RecordPayload::Weighing(Weighing {
                meta: RecordMeta::new(Uuid::now_v7(), Utc::now()),
                site_id: site,
                service_date: today - Duration::days(1 + (i % 200) as i64),
                stage: Stage::ALL[i % 3],
                component: None,
                mass_grams: 100 + i as u64,
                sorted: None,
                destination: None,
            }),
        })
        .collect()
}

async fn bench(name: &str, url: &str) {
    let (n_sites, years, per_year, runs) =
        (env("ASSIETTE_BENCH_SITES", 1000), env("ASSIETTE_BENCH_YEARS", 10), env("ASSIETTE_BENCH_PURCHASES", 500), env("ASSIETTE_BENCH_RUNS", 40));
    let db = Db::open(url).await.unwrap();
    let today = server_today(Utc::now());
    let t = Instant::now();
    let (sites, counts) = load(&db, n_sites, years, per_year, today).await;
    println!(
        "{name:10} chargement  {n_sites} restaurants × {years} ans : {} comptages, {} pesées, {} lignes d'achat cumulés en {:.0} s",
        counts[0],
        counts[1],
        counts[2],
        t.elapsed().as_secs_f64()
    );
    let hash = assiette_server::auth::hash_password(PASSWORD).unwrap();
    db.create_admin_if_missing(EMAIL, &hash, Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(db.clone()), &std::env::temp_dir());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/admin/login"))
        .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();

    // Each request computes its answer (no If-None-Match): the budgets' case.
    let yesterday = today - Duration::days(1);
    let baseline = format!("baseline_from={}&baseline_to={}", yesterday - Duration::days(394), yesterday - Duration::days(365));
    for (what, query) in [
        ("vue d'ensemble, 30 jours, page de 100", "per_page=100".to_owned()),
        ("vue d'ensemble, 30 jours + référence", format!("per_page=100&sort=grams_per_meal&{baseline}")),
    ] {
        let (_, bytes) = timed(&client, &format!("{base}/api/v1/territory/overview?{query}"), &token).await;
        let mut ms = Vec::with_capacity(runs);
        for _ in 0..runs {
            ms.push(timed(&client, &format!("{base}/api/v1/territory/overview?{query}"), &token).await.0);
        }
        let (p50, p95) = p50_p95(ms);
        println!("{name:10} {what:42} : médiane {p50:6.1} ms, p95 {p95:6.1} ms ({runs} requêtes, {} Ko de JSON)", bytes / 1000);
    }
    let communes = n_sites.div_ceil(20);
    let mut ms = Vec::with_capacity(runs);
    let mut bytes = 0;
    for i in 0..runs {
        let insee = format!("{:05}", 76000 + (i * 7) % communes);
        let (t, b) = timed(&client, &format!("{base}/api/v1/territory/communes/{insee}"), &token).await;
        ms.push(t);
        bytes = b;
    }
    let (p50, p95) = p50_p95(ms);
    println!("{name:10} {:42} : médiane {p50:6.1} ms, p95 {p95:6.1} ms ({runs} requêtes, {} Ko de JSON)", "page d'une commune (20 restaurants)", bytes / 1000);

    // Ingest: lots of 1,000 new weighings into one site of the loaded territory.
    let site = sites[n_sites / 2].info.id;
    let code = assiette_server::api::issue_code(&db, site, None, 1).await.unwrap().code;
    let dev: EnrolResponse =
        client.post(format!("{base}/api/v1/enrol")).json(&serde_json::json!({"code": code})).send().await.unwrap().json().await.unwrap();
    let mut rates = Vec::new();
    for b in 0..8u64 {
        let muts = weighings(site, 1000, today, 1 + b * 1000);
        let req = PushRequest { device_id: dev.device_id, mutations: muts };
        let t = Instant::now();
        let res = client.post(format!("{base}/api/v1/sync/push")).bearer_auth(&dev.token).json(&req).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let r: PushResponse = res.json().await.unwrap();
        assert_eq!(r.results.len(), 1000);
        rates.push(1000.0 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!("{name:10} {:42} : médiane {:8.0} mutations/s (8 lots)", "envoi de 1000 pesées (cumuls tenus)", rates[rates.len() / 2]);
    db.close().await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // ASSIETTE_BENCH_KEEP=1 keeps both databases (for EXPLAIN on the generated territory).
        let keep = std::env::var("ASSIETTE_BENCH_KEEP").is_ok();
        let dir = std::env::temp_dir().join(format!("assiette-bench-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        if std::env::var("ASSIETTE_BENCH_SKIP_SQLITE").is_err() {
            bench("SQLite", &format!("sqlite://{}/territory.sqlite3", dir.display())).await;
        }
        match std::env::var("ASSIETTE_TEST_POSTGRES_URL") {
            Ok(base) => {
                let name = format!("assiette_bench_{}", Uuid::now_v7().simple());
                let pool = sqlx::PgPool::connect(&base).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
                let (prefix, _) = base.rsplit_once('/').unwrap();
                bench("PostgreSQL", &format!("{prefix}/{name}")).await;
                if keep {
                    println!("PostgreSQL : base gardée, {prefix}/{name}");
                } else {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&pool).await.unwrap();
                }
                pool.close().await;
            }
            Err(_) => println!("PostgreSQL : ignoré (ASSIETTE_TEST_POSTGRES_URL non défini)"),
        }
        if keep {
            println!("SQLite : base gardée, {}", dir.join("territory.sqlite3").display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
    });
}
