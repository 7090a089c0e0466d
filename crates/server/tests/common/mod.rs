//! Shared harness of the server's HTTP tests: databases (SQLite always, PostgreSQL when
//! ASSIETTE_TEST_POSTGRES_URL is set), an in-process server on 127.0.0.1:0; the admin client,
//! the simulated tablet (it syncs as the app does) and the record builders are the soak
//! tool's (`assiette-soak`), so the tests and the soak drive the server with one tablet.
#![allow(dead_code, unused_imports)]

use std::collections::HashMap;
use std::path::PathBuf;

use assiette_domain::sync::{MutationStatus, RecordPayload};
use assiette_server::db::Db;
use assiette_server::http::{app, AppState};
use assiette_server::store::Store;
use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

pub use assiette_soak::client::{http, send, Admin, ADMIN_EMAIL, ADMIN_PASSWORD};
pub use assiette_soak::records::{day, live_grams, meal_count, now, siret, weighing};
pub use assiette_soak::tablet::{PushOutcome, Tablet};

/// A fresh, empty database of one backend.
#[derive(Debug, Clone)]
pub struct Backend {
    pub name: &'static str,
    pub url: String,
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("assiette-{tag}-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn sqlite_backend() -> Backend {
    Backend { name: "SQLite", url: format!("sqlite://{}/assiette.sqlite3", temp_dir("sqlite").display()) }
}

/// A fresh database on the test PostgreSQL, or `None` (printed) when it is not configured.
pub async fn postgres_backend() -> Option<Backend> {
    let Ok(base) = std::env::var("ASSIETTE_TEST_POSTGRES_URL") else {
        eprintln!("PostgreSQL : IGNORÉ (ASSIETTE_TEST_POSTGRES_URL non défini ; `eval \"$(scripts/pg.sh start)\"` le définit)");
        return None;
    };
    let url = assiette_soak::postgres::fresh_database(&base, "assiette_t").await.expect("ASSIETTE_TEST_POSTGRES_URL");
    Some(Backend { name: "PostgreSQL", url })
}

/// SQLite, then PostgreSQL when configured.
pub async fn backends() -> Vec<Backend> {
    let mut v = vec![sqlite_backend()];
    if let Some(pg) = postgres_backend().await {
        v.push(pg);
    }
    v
}

/// Opens (migrates) the database and seeds the demo canteen and an admin.
pub async fn seeded_db(url: &str) -> Db {
    let db = Db::open(url).await.expect("open db");
    db.ensure_demo().await.unwrap();
    if db.account_by_email(ADMIN_EMAIL).await.unwrap().is_none() {
        let hash = assiette_server::auth::hash_password(ADMIN_PASSWORD).unwrap();
        db.create_admin_if_missing(ADMIN_EMAIL, &hash, Utc::now()).await.unwrap();
    }
    db
}

pub struct TestServer {
    pub base: String,
    pub db: Db,
    /// The PWA's folder this server serves (index.html only, unless a test adds files).
    pub static_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Opens (migrates) the database, seeds the demo and an admin, serves on 127.0.0.1:0.
    pub async fn start(url: &str) -> TestServer {
        Self::serve(seeded_db(url).await).await
    }

    pub async fn serve(db: Db) -> TestServer {
        let static_dir = temp_dir("static");
        std::fs::write(static_dir.join("index.html"), "<!doctype html><title>Assiette</title>").unwrap();
        Self::serve_dir(db, static_dir).await
    }

    /// Serves the PWA's folder `static_dir` as it is (index.html read when the app is built).
    pub async fn serve_dir(db: Db, static_dir: PathBuf) -> TestServer {
        Self::serve_with(db, static_dir, assiette_server::http::Limits::default()).await
    }

    /// The same with other timeouts and connection cap than the server's defaults.
    pub async fn serve_with(db: Db, static_dir: PathBuf, limits: assiette_server::http::Limits) -> TestServer {
        Self::serve_state(AppState::new(db), static_dir, limits).await
    }

    /// The same with other throttles than the server's defaults (`crate::guard`).
    pub async fn serve_guarded(db: Db, guards: assiette_server::guard::GuardSettings) -> TestServer {
        let static_dir = temp_dir("static");
        std::fs::write(static_dir.join("index.html"), "<!doctype html><title>Assiette</title>").unwrap();
        Self::serve_state(AppState::with_guards(db, guards), static_dir, assiette_server::http::Limits::default()).await
    }

    pub async fn serve_state(state: AppState, static_dir: PathBuf, limits: assiette_server::http::Limits) -> TestServer {
        let db = state.db.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app(state, &static_dir);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            // The server's own connection loop (timeouts, connection cap), as `serve` runs it.
            assiette_server::http::serve_app(listener, router, limits, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer { base, db, static_dir, shutdown: Some(tx), handle: Some(handle) }
    }

    /// Serves with a clock the test moves (sessions, invitations) and login and code throttles
    /// wide enough for a story that signs in many times.
    pub async fn start_clocked(url: &str) -> (TestServer, assiette_server::http::Clock) {
        let wide = quota(1000, std::time::Duration::from_millis(10));
        let guards = assiette_server::guard::GuardSettings {
            login_per_address: wide,
            login_per_account: wide,
            enrol_per_address: wide,
            enrol_overall: wide,
            ..Default::default()
        };
        let state = AppState::with_guards(seeded_db(url).await, guards);
        let clock = state.clock.clone();
        let static_dir = temp_dir("static");
        std::fs::write(static_dir.join("index.html"), "<!doctype html><title>Assiette</title>").unwrap();
        (Self::serve_state(state, static_dir, assiette_server::http::Limits::default()).await, clock)
    }

    /// Stops serving and closes the database (its file can then be reopened).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        self.db.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

// Throttled doors (logins, enrolment codes).

/// A client whose connections leave from `ip` (any 127.0.0.0/8 address reaches the server).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap()
}

/// Status, JSON body and `Retry-After` (seconds) of a request.
pub async fn send_timed(req: reqwest::RequestBuilder) -> (u16, Value, Option<u64>) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().expect("Retry-After in seconds"));
    (status, res.json().await.unwrap_or(Value::Null), retry)
}

pub async fn login(c: &reqwest::Client, base: &str, email: &str, password: &str) -> (u16, Value, Option<u64>) {
    send_timed(c.post(format!("{base}/api/v1/admin/login")).json(&json!({"email": email, "password": password}))).await
}

pub fn quota(burst: u32, one_per: std::time::Duration) -> governor::Quota {
    governor::Quota::with_period(one_per).unwrap().allow_burst(std::num::NonZeroU32::new(burst).unwrap())
}

/// A throttled reply: 429, its code, a French message saying when to retry, `Retry-After`.
pub fn assert_throttled(got: &(u16, Value, Option<u64>), code: &str) -> u64 {
    assert_eq!(got.0, 429, "{:?}", got.1);
    assert_eq!(got.1["code"], code, "{:?}", got.1);
    let msg = got.1["error"].as_str().unwrap();
    assert!(msg.contains("réessayez dans"), "{msg}");
    let wait = got.2.expect("Retry-After");
    assert!(wait >= 1, "Retry-After: {wait}");
    wait
}

/// Asserts a French JSON error with the given status and code.
pub fn assert_error(got: &(u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{:?}", got.1);
    assert_eq!(got.1["code"], code, "{:?}", got.1);
    let msg = got.1["error"].as_str().expect("error message");
    assert!(msg.chars().count() > 15, "message trop court : {msg}");
}

/// The server's records of a site as (id, revision, deleted), sorted.
pub async fn server_state(db: &Db, site: Uuid) -> Vec<(Uuid, u64, bool)> {
    let mut v: Vec<_> = db.site_records(site).await.unwrap().iter().map(|r| (r.id(), r.revision(), r.is_deleted())).collect();
    v.sort();
    v
}

/// Full server records of a site keyed by id.
pub async fn server_records(db: &Db, site: Uuid) -> HashMap<Uuid, RecordPayload> {
    db.site_records(site).await.unwrap().into_iter().map(|r| (r.id(), r)).collect()
}

/// The wire name of a push status ("applied", "duplicate", "conflict", "rejected").
pub fn status_name(status: &MutationStatus) -> &'static str {
    match status {
        MutationStatus::Applied { .. } => "applied",
        MutationStatus::Duplicate => "duplicate",
        MutationStatus::Conflict { .. } => "conflict",
        MutationStatus::Rejected { .. } => "rejected",
    }
}
