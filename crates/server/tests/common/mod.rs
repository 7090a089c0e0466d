//! Shared harness of the server's HTTP tests: databases (SQLite always, PostgreSQL when
//! ASSIETTE_TEST_POSTGRES_URL is set), an in-process server on 127.0.0.1:0, an admin client and
//! a simulated tablet that keeps an outbox and a local store with the domain's sync functions.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use assiette_domain::meals::DailyMealCount;
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::{
    pulled_supersedes, EnrolResponse, Mutation, MutationStatus, PullResponse, PushRequest, PushResponse, RecordPayload,
    SiteInfo,
};
use assiette_tablet::outbox::{plan_outbox, Review};
use assiette_domain::waste::{Stage, Weighing};
use assiette_server::db::Db;
use assiette_server::http::{app, AppState};
use assiette_server::store::Store;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "chargee@lehavre-metropole.fr";
pub const ADMIN_PASSWORD: &str = "un mot de passe assez long";

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
    let name = format!("assiette_t_{}", Uuid::now_v7().simple());
    let pool = sqlx::PgPool::connect(&base).await.expect("connexion à ASSIETTE_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
    pool.close().await;
    let (prefix, _) = base.rsplit_once('/').expect("URL postgres://.../base");
    Some(Backend { name: "PostgreSQL", url: format!("{prefix}/{name}") })
}

/// SQLite, then PostgreSQL when configured.
pub async fn backends() -> Vec<Backend> {
    let mut v = vec![sqlite_backend()];
    if let Some(pg) = postgres_backend().await {
        v.push(pg);
    }
    v
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
        let db = Db::open(url).await.expect("open db");
        db.ensure_demo().await.unwrap();
        if db.admin_by_email(ADMIN_EMAIL).await.unwrap().is_none() {
            let hash = assiette_server::auth::hash_password(ADMIN_PASSWORD).unwrap();
            db.create_admin_if_missing(ADMIN_EMAIL, &hash, Utc::now()).await.unwrap();
        }
        Self::serve(db).await
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app(AppState { db: db.clone() }, &static_dir);
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

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(120)).build().unwrap()
}

/// Status and JSON body (Null when the body is not JSON); status 0 when the server is unreachable.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() || e.is_request() => return (0, Value::Null),
        Err(e) => panic!("request: {e}"),
    };
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts a French JSON error with the given status and code.
pub fn assert_error(got: &(u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{:?}", got.1);
    assert_eq!(got.1["code"], code, "{:?}", got.1);
    let msg = got.1["error"].as_str().expect("error message");
    assert!(msg.chars().count() > 15, "message trop court : {msg}");
}

pub struct Admin {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl Admin {
    pub async fn login(base: &str) -> Admin {
        let client = http();
        let (s, body) = send(client.post(format!("{base}/api/v1/admin/login")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))).await;
        assert_eq!(s, 200, "{body}");
        Admin { base: base.to_owned(), token: body["token"].as_str().unwrap().to_owned(), client }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.token)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body)).await
    }

    /// Registers a commune (if new) and a site; returns the site's UUID.
    pub async fn create_site(&self, insee: &str, commune: &str, siret: &str, name: &str) -> Uuid {
        let (s, b) = self.post("/api/v1/admin/communes", json!({"insee_code": insee, "name": commune})).await;
        assert!(s == 201 || s == 409, "{b}");
        let (s, b) = self
            .post(
                "/api/v1/admin/sites",
                json!({"name": name, "siret": siret, "commune_insee": insee, "management_type": "direct",
                       "production_type": "site", "sectors": ["education_primaire"], "daily_meal_count": 150, "yearly_meal_count": 21000}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        Uuid::parse_str(b["id"].as_str().unwrap()).unwrap()
    }

    pub async fn code(&self, site: Uuid) -> String {
        let (s, b) = self.post(&format!("/api/v1/admin/sites/{site}/enrolment-codes"), json!({"label": "Tablette cuisine"})).await;
        assert_eq!(s, 201, "{b}");
        b["code"].as_str().unwrap().to_owned()
    }

    pub async fn revoke(&self, device: Uuid) {
        let (s, b) = self.post(&format!("/api/v1/admin/devices/{device}/revoke"), json!({})).await;
        assert_eq!(s, 200, "{b}");
        assert!(b["revoked_at"].is_string());
    }
}

/// Outcome of one push as the tablet sees it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PushOutcome {
    pub http_status: u16,
    pub acknowledged: usize,
    pub review: usize,
}

/// A simulated tablet: local store, outbox numbered by its own seq, pull cursor.
pub struct Tablet {
    pub base: String,
    pub client: reqwest::Client,
    pub device_id: Uuid,
    pub token: String,
    pub site: SiteInfo,
    pub next_seq: u64,
    pub outbox: BTreeMap<u64, RecordPayload>,
    pub review: BTreeMap<u64, (RecordPayload, Review)>,
    pub local: HashMap<Uuid, RecordPayload>,
    pub cursor: Option<String>,
    pub needs_enrolment: bool,
}

impl Tablet {
    pub async fn enrol(base: &str, code: &str) -> Tablet {
        let client = http();
        let (s, b) = send(client.post(format!("{base}/api/v1/enrol")).json(&json!({"code": code, "label": "test"}))).await;
        assert_eq!(s, 200, "{b}");
        let e: EnrolResponse = serde_json::from_value(b).unwrap();
        Tablet {
            base: base.to_owned(),
            client,
            device_id: e.device_id,
            token: e.token,
            site: e.site,
            next_seq: 1,
            outbox: BTreeMap::new(),
            review: BTreeMap::new(),
            local: HashMap::new(),
            cursor: None,
            needs_enrolment: false,
        }
    }

    /// Re-enrols with a new code; the outbox and local data stay (a new device id and token).
    pub async fn re_enrol(&mut self, code: &str) {
        let (s, b) = send(self.client.post(format!("{}/api/v1/enrol", self.base)).json(&json!({"code": code}))).await;
        assert_eq!(s, 200, "{b}");
        let e: EnrolResponse = serde_json::from_value(b).unwrap();
        assert_eq!(e.site, self.site);
        self.device_id = e.device_id;
        self.token = e.token;
        self.needs_enrolment = false;
    }

    /// Saves a record locally and queues it.
    pub fn save(&mut self, r: RecordPayload) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.local.insert(r.id(), r.clone());
        self.outbox.insert(seq, r);
        seq
    }

    pub fn weighing(&mut self, date: NaiveDate, stage: Stage, grams: u64) -> Uuid {
        let r = weighing(self.site.id, date, stage, grams);
        let id = r.id();
        self.save(r);
        id
    }

    pub fn meal_count(&mut self, date: NaiveDate, served: u32) -> Uuid {
        let r = meal_count(self.site.id, date, served);
        let id = r.id();
        self.save(r);
        id
    }

    /// A correction: the next revision of a local record, changed by `f`.
    pub fn correct(&mut self, id: Uuid, f: impl FnOnce(&mut RecordPayload)) {
        let mut r = self.local[&id].clone();
        let meta = r.meta().revised(Utc::now());
        *r.meta_mut() = meta;
        f(&mut r);
        self.save(r);
    }

    pub fn delete(&mut self, id: Uuid) {
        let mut r = self.local[&id].clone();
        let meta = r.meta().deleted(Utc::now());
        *r.meta_mut() = meta;
        self.save(r);
    }

    pub fn batch(&self, max: usize) -> Vec<Mutation> {
        self.outbox.iter().take(max).map(|(seq, r)| Mutation { seq: *seq, record: r.clone() }).collect()
    }

    /// Sends a batch and returns the raw reply (the tablet's state is not touched: "response lost").
    pub async fn send_batch(&self, batch: &[Mutation]) -> (u16, Value) {
        let req = PushRequest { device_id: self.device_id, mutations: batch.to_vec() };
        send(self.client.post(format!("{}/api/v1/sync/push", self.base)).bearer_auth(&self.token).json(&req)).await
    }

    /// Applies a reply to the outbox with the domain's plan (what the app does).
    pub fn apply_reply(&mut self, batch: &[Mutation], reply: &PushResponse) -> PushOutcome {
        let sent: Vec<u64> = batch.iter().map(|m| m.seq).collect();
        let plan = plan_outbox(&sent, reply);
        for (seq, at) in &plan.stamped {
            if let Some(r) = self.outbox.get(seq) {
                let id = r.id();
                if let Some(l) = self.local.get_mut(&id) {
                    if l.revision() == r.revision() {
                        l.meta_mut().server_updated_at = Some(*at);
                    }
                }
            }
        }
        for seq in &plan.delete {
            self.outbox.remove(seq);
        }
        for (seq, why) in &plan.review {
            if let Some(r) = self.outbox.remove(seq) {
                self.review.insert(*seq, (r, why.clone()));
            }
        }
        PushOutcome { http_status: 200, acknowledged: plan.delete.len(), review: plan.review.len() }
    }

    /// One push of at most `max` entries; on 401 the outbox is kept and re-enrolment requested.
    pub async fn push_once(&mut self, max: usize) -> PushOutcome {
        let batch = self.batch(max);
        let (s, body) = self.send_batch(&batch).await;
        if s == 401 {
            self.needs_enrolment = true;
        }
        if s != 200 {
            return PushOutcome { http_status: s, ..Default::default() };
        }
        let reply: PushResponse = serde_json::from_value(body).unwrap();
        self.apply_reply(&batch, &reply)
    }

    /// Pushes the whole outbox in batches. Returns false if a push failed.
    pub async fn push_all(&mut self, max: usize) -> bool {
        while !self.outbox.is_empty() {
            let o = self.push_once(max).await;
            if o.http_status != 200 {
                return false;
            }
        }
        true
    }

    /// Pulls every page; pulled records replace local ones unless a newer local revision waits.
    pub async fn pull_all(&mut self, limit: u32) -> usize {
        let mut n = 0;
        loop {
            let (s, b) = send(
                self.client
                    .post(format!("{}/api/v1/sync/pull", self.base))
                    .bearer_auth(&self.token)
                    .json(&json!({"cursor": self.cursor, "limit": limit})),
            )
            .await;
            assert_eq!(s, 200, "{b}");
            let page: PullResponse = serde_json::from_value(b).unwrap();
            let mut last = 0;
            for c in &page.changes {
                assert!(c.server_seq > last, "changes must be ascending");
                last = c.server_seq;
                let id = c.record.id();
                let replace = self.local.get(&id).is_none_or(|l| pulled_supersedes(l.meta(), c.record.meta()));
                if replace {
                    self.local.insert(id, c.record.clone());
                }
            }
            n += page.changes.len();
            self.cursor = Some(page.next_cursor);
            if !page.has_more {
                return n;
            }
        }
    }

    pub async fn sync(&mut self) {
        assert!(self.push_all(500).await, "push failed");
        self.pull_all(500).await;
    }

    /// Local records as (id, revision, deleted), sorted: compared with the server's.
    pub fn state(&self) -> Vec<(Uuid, u64, bool)> {
        let mut v: Vec<_> = self.local.values().map(|r| (r.id(), r.revision(), r.is_deleted())).collect();
        v.sort();
        v
    }
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

pub fn day(n: i64) -> NaiveDate {
    // A fixed Monday in the past, so dates are never "in the future".
    NaiveDate::from_ymd_opt(2025, 9, 1).unwrap() + Duration::days(n)
}

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

pub fn weighing(site: Uuid, date: NaiveDate, stage: Stage, grams: u64) -> RecordPayload {
    RecordPayload::Weighing(Weighing {
        meta: RecordMeta::new(Uuid::now_v7(), now()),
        site_id: site,
        service_date: date,
        stage,
        component: None,
        mass_grams: grams,
        sorted: None,
        destination: None,
    })
}

pub fn meal_count(site: Uuid, date: NaiveDate, served: u32) -> RecordPayload {
    RecordPayload::MealCount(DailyMealCount {
        meta: RecordMeta::new(Uuid::now_v7(), now()),
        site_id: site,
        service_date: date,
        planned: served + 10,
        served_children: served,
        served_adults: 5,
    })
}

/// Total grams of live weighings in a set of records.
pub fn live_grams<'a>(records: impl IntoIterator<Item = &'a RecordPayload>) -> u64 {
    records
        .into_iter()
        .filter_map(|r| match r {
            RecordPayload::Weighing(w) if !w.meta.deleted => Some(w.mass_grams),
            _ => None,
        })
        .sum()
}

/// A Luhn-valid SIRET from 13 digits (appends the check digit).
pub fn siret(first13: &str) -> String {
    assert_eq!(first13.len(), 13);
    for check in 0..10u32 {
        let s = format!("{first13}{check}");
        let sum: u32 = s
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 1 {
                    let x = d * 2;
                    if x > 9 { x - 9 } else { x }
                } else {
                    d
                }
            })
            .sum();
        if sum.is_multiple_of(10) {
            return s;
        }
    }
    unreachable!()
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
