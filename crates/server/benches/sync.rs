//! Sync benchmarks over real HTTP against an in-process server (release build):
//! ingest rate with durable commits, replay of an applied batch, pull paging of 10,000 changes.
//! SQLite always; PostgreSQL too when ASSIETTE_TEST_POSTGRES_URL is set (`scripts/pg.sh start`).
//! Run: `cargo bench -p assiette-server --bench sync` (ASSIETTE_BENCH_N changes the entry count).

use std::time::Instant;

use assiette_domain::record::RecordMeta;
use assiette_domain::sync::{EnrolResponse, Mutation, PullResponse, PushRequest, PushResponse, RecordPayload};
use assiette_domain::waste::{Stage, Weighing};
use assiette_server::db::{Db, DEMO_SITE_ID};
use assiette_server::http::{app, AppState};
use chrono::{Duration, NaiveDate, Utc};
use uuid::Uuid;

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
    let router = app(AppState { db: db.clone() }, &std::env::temp_dir());
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
    db.close().await;
}

fn main() {
    // `cargo bench` passes --bench; ignore arguments.
    let n: usize = std::env::var("ASSIETTE_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
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
