//! Sync benchmarks (release build).
//! 1. The hot path's CPU steps on one batch of 1000 mutations, no database: parsing a push body
//!    (`kind` first, as the app sends it; `kind` last, the buffering fallback; serde's derived
//!    internally tagged enum, as before, for comparison), planning it, writing the record bodies,
//!    the push reply and a pull page.
//! 2. Over real HTTP against an in-process server: ingest rate with durable commits, replay of
//!    an applied batch, pull paging. SQLite always; PostgreSQL too when ASSIETTE_TEST_POSTGRES_URL
//!    is set (`scripts/pg.sh start`).
//!
//! Run: `cargo bench -p assiette-server --bench sync` (ASSIETTE_BENCH_N changes the entry count).

use std::time::Instant;

use assiette_domain::record::RecordMeta;
use std::collections::HashMap;

use assiette_domain::sync::{
    plan_push, server_today, EnrolResponse, Mutation, PullResponse, PushRequest, PushResponse, RecordPayload, SiteScope,
};
use assiette_domain::waste::{Stage, Weighing};
use assiette_server::db::{Db, DEMO_SITE_ID};
use assiette_server::http::{app, AppState};
use chrono::{Duration, NaiveDate, Utc};
use uuid::Uuid;

/// `n` new purchases of the demo site (families, labels, two years), then `n` corrections of
/// them (another price, family and year): what moves the site's EGalim rollup.
fn purchase_mutations(n: usize) -> (Vec<Mutation>, Vec<Mutation>) {
    use assiette_domain::purchase::{Characteristic, Family, Purchase};
    let make = |i: usize, revision: u64, id: Uuid| {
        let mut meta = RecordMeta::new(id, Utc::now());
        meta.revision = revision;
        RecordPayload::Purchase(Purchase {
            meta,
            siret: "21760351500008".into(),
            description: format!("Produit {i}"),
            supplier: "Fournisseur".into(),
            date: NaiveDate::from_ymd_opt(2024 + ((i as u64 + revision) % 2) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32).unwrap(),
            price_cents: 100 + (i as i64 * 37 + revision as i64 * 11) % 100_000,
            family: Family::ALL[(i + revision as usize) % 8],
            characteristics: [vec![], vec![Characteristic::Bio], vec![Characteristic::LabelRouge, Characteristic::France], vec![Characteristic::Hve]]
                [(i + revision as usize) % 4]
                .clone(),
            local_definition: None,
            local_km: None,
        })
    };
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    let created = (0..n).map(|i| Mutation { seq: i as u64 + 1, record: make(i, 1, ids[i]) }).collect();
    let corrected = (0..n).map(|i| Mutation { seq: (n + i) as u64 + 1, record: make(i, 2, ids[i]) }).collect();
    (created, corrected)
}

fn mutations(site: Uuid, n: usize) -> Vec<Mutation> {
    let first = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    (0..n)
        .map(|i| Mutation {
            seq: i as u64 + 1,
            record: RecordPayload::Weighing(Weighing {
                meta: RecordMeta::new(Uuid::now_v7(), Utc::now()),
                site_id: site,
                service_date: first + Duration::days((i % 200) as i64),
                stage: [Stage::Preparation, Stage::Unserved, Stage::Leftovers][i % 3],
                component: None,
                mass_grams: 100 + i as u64,
                sorted: None,
                destination: None,
            }),
        })
        .collect()
}

async fn enrol(client: &reqwest::Client, base: &str, db: &Db) -> EnrolResponse {
    let code = assiette_server::api::issue_code(db, DEMO_SITE_ID, None, 1).await.unwrap().code;
    client.post(format!("{base}/api/v1/enrol")).json(&serde_json::json!({"code": code})).send().await.unwrap().json().await.unwrap()
}

async fn push_all(client: &reqwest::Client, base: &str, dev: &EnrolResponse, muts: &[Mutation], batch: usize) -> (f64, usize, usize) {
    let t = Instant::now();
    let (mut applied, mut duplicate) = (0, 0);
    for chunk in muts.chunks(batch) {
        let req = PushRequest { device_id: dev.device_id, mutations: chunk.to_vec() };
        let res = client.post(format!("{base}/api/v1/sync/push")).bearer_auth(&dev.token).json(&req).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let r: PushResponse = res.json().await.unwrap();
        for m in r.results {
            match m.status {
                assiette_domain::sync::MutationStatus::Applied { .. } => applied += 1,
                assiette_domain::sync::MutationStatus::Duplicate => duplicate += 1,
                s => panic!("{s:?}"),
            }
        }
    }
    (t.elapsed().as_secs_f64(), applied, duplicate)
}

async fn pull_all(client: &reqwest::Client, base: &str, dev: &EnrolResponse, limit: u32) -> (f64, usize, usize) {
    let t = Instant::now();
    let (mut cursor, mut n, mut pages) = (None::<String>, 0, 0);
    loop {
        let res = client
            .post(format!("{base}/api/v1/sync/pull"))
            .bearer_auth(&dev.token)
            .json(&serde_json::json!({"cursor": cursor, "limit": limit}))
            .send()
            .await
            .unwrap();
        let page: PullResponse = res.json().await.unwrap();
        n += page.changes.len();
        pages += 1;
        cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    (t.elapsed().as_secs_f64(), n, pages)
}

async fn bench(name: &str, url: &str, n: usize) {
    let db = Db::open(url).await.unwrap();
    db.ensure_demo().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(db.clone()), &std::env::temp_dir());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();

    for batch in [1000usize, 100] {
        let dev = enrol(&client, &base, &db).await;
        let muts = mutations(DEMO_SITE_ID, n);
        let (secs, applied, _) = push_all(&client, &base, &dev, &muts, batch).await;
        assert_eq!(applied, n);
        println!(
            "{name:10} ingest      {n} mutations, lots de {batch:4} : {secs:6.2} s = {:8.0} mutations/s ({} commits durables)",
            n as f64 / secs,
            n.div_ceil(batch)
        );
        if batch == 1000 {
            let (secs, _, duplicate) = push_all(&client, &base, &dev, &muts, batch).await;
            assert_eq!(duplicate, n);
            println!("{name:10} replay      {n} mutations déjà appliquées     : {secs:6.2} s = {:8.0} mutations/s", n as f64 / secs);
        }
    }
    let reader = enrol(&client, &base, &db).await;
    for limit in [1000u32, 500] {
        let (secs, got, pages) = pull_all(&client, &base, &reader, limit).await;
        assert_eq!(got, 2 * n);
        println!(
            "{name:10} pull        {got} changements, pages de {limit:4} : {secs:6.2} s ({pages} pages, {:8.0} changements/s, {:5.3} s par 10 000)",
            got as f64 / secs,
            secs * 10_000.0 / got as f64
        );
    }
    // Purchases: each applied one also moves the site's yearly EGalim rollup.
    let dev = enrol(&client, &base, &db).await;
    let (created, corrected) = purchase_mutations(n);
    for (what, muts) in [("achats", &created), ("corrections", &corrected)] {
        let (secs, applied, _) = push_all(&client, &base, &dev, muts, 1000).await;
        assert_eq!(applied, n);
        println!("{name:10} ingest      {n} {what:11}, lots de 1000 : {secs:6.2} s = {:8.0} mutations/s", n as f64 / secs);
    }
    db.close().await;
}

/// Median time of `runs` calls of `f`, in microseconds.
fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// The record enum as serde derives it (internally tagged, buffered through `Content`): what
/// `RecordPayload` used before its own deserializer, kept here to measure the difference.
#[derive(serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(dead_code)]
enum DerivedPayload {
    MealCount(assiette_domain::meals::DailyMealCount),
    Weighing(Weighing),
    Purchase(assiette_domain::purchase::Purchase),
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct DerivedPush {
    device_id: Uuid,
    mutations: Vec<DerivedMutation>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct DerivedMutation {
    seq: u64,
    record: DerivedPayload,
}

fn micro() {
    const RUNS: usize = 51;
    let muts = mutations(DEMO_SITE_ID, 1000);
    let req = PushRequest { device_id: Uuid::now_v7(), mutations: muts.clone() };
    let body = serde_json::to_vec(&req).unwrap();
    // The same batch with `kind` moved to the end of every record.
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    for m in v["mutations"].as_array_mut().unwrap() {
        let rec = m["record"].as_object_mut().unwrap();
        let kind = rec.remove("kind").unwrap();
        rec.insert("kind".into(), kind);
    }
    let body_kind_last = serde_json::to_vec(&v).unwrap();
    let kb = body.len() as f64 / 1024.0;
    println!("Étapes CPU d'un lot de 1000 mutations ({kb:.0} Ko de JSON), médiane de {RUNS} :");
    let line = |what: &str, us: f64| println!("  {what:58} {us:9.0} µs");
    line("lecture du lot (kind en tête, sans tampon)", median_us(RUNS, || {
        std::hint::black_box(serde_json::from_slice::<PushRequest>(&body).unwrap());
    }));
    line("lecture du lot (kind en dernier, avec tampon)", median_us(RUNS, || {
        std::hint::black_box(serde_json::from_slice::<PushRequest>(&body_kind_last).unwrap());
    }));
    line("lecture du lot (enum « internally tagged » de serde, avant)", median_us(RUNS, || {
        std::hint::black_box(serde_json::from_slice::<DerivedPush>(&body).unwrap());
    }));
    let scope = SiteScope { site_id: DEMO_SITE_ID, siret: "21760351500008".into(), name: "École des Tilleuls".into() };
    let now = Utc::now();
    let (dedup, current) = (HashMap::new(), HashMap::new());
    let plan = plan_push(&scope, server_today(now), now, 0, &muts, &dedup, &current);
    line("plan_push (contrôles, validation, décisions)", median_us(RUNS, || {
        std::hint::black_box(plan_push(&scope, server_today(now), now, 0, &muts, &dedup, &current));
    }));
    line("corps JSON des enregistrements à écrire", median_us(RUNS, || {
        for (_, r) in &plan.records {
            std::hint::black_box(serde_json::to_string(r).unwrap());
        }
    }));
    line("réponse de l'envoi (wire::push_reply)", median_us(RUNS, || {
        std::hint::black_box(assiette_server::wire::push_reply(&plan.results));
    }));
    line("réponse de l'envoi (serde, pour comparaison)", median_us(RUNS, || {
        std::hint::black_box(serde_json::to_vec(&PushResponse { results: plan.results.clone() }).unwrap());
    }));
    let joined: String = plan
        .records
        .iter()
        .map(|(seq, r)| assiette_server::wire::change_element(*seq, &serde_json::to_string(r).unwrap()))
        .collect::<Vec<_>>()
        .join(",");
    line("page de lecture (PullPage::from_joined + wire::pull_reply)", median_us(RUNS, || {
        let page = assiette_server::wire::PullPage::from_joined(joined.clone(), 1000).unwrap();
        std::hint::black_box(assiette_server::wire::pull_reply(&page.changes_json, "v1.1000", true));
    }));
    line("page de lecture (analyse + sérialisation serde, avant)", median_us(RUNS, || {
        let changes: Vec<assiette_domain::sync::Change> =
            serde_json::from_str(&format!("[{joined}]")).unwrap();
        std::hint::black_box(serde_json::to_vec(&PullResponse { changes, next_cursor: "v1.1000".into(), has_more: true }).unwrap());
    }));
}

fn main() {
    // `cargo bench` passes --bench; ignore arguments.
    let n: usize = std::env::var("ASSIETTE_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    micro();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("assiette-bench-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        bench("SQLite", &format!("sqlite://{}/bench.sqlite3", dir.display()), n).await;
        match std::env::var("ASSIETTE_TEST_POSTGRES_URL") {
            Ok(base) => {
                let name = format!("assiette_bench_{}", Uuid::now_v7().simple());
                let pool = sqlx::PgPool::connect(&base).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
                pool.close().await;
                let (prefix, _) = base.rsplit_once('/').unwrap();
                bench("PostgreSQL", &format!("{prefix}/{name}"), n).await;
            }
            Err(_) => println!("PostgreSQL : ignoré (ASSIETTE_TEST_POSTGRES_URL non défini)"),
        }
    });
}
