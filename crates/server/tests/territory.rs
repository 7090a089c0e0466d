//! The territory endpoints over real HTTP, SQLite and PostgreSQL.
//!
//! Property: after random pushes on three sites of two communes (meal counts, weighings and
//! purchases created, corrected — moved to another day, stage, price or year, given away —,
//! deleted, and batches replayed), the SQL day rollup equals `territory::day_rollups` of the
//! records a fresh tablet pulls, and the overview endpoint's rows, communes, territory and
//! statistics equal the domain's `overview` recomputed from those records. Rolled up again
//! from the records at start (the pending list of migration 0011), the answer is the same.
//!
//! Scopes: a commune manager sees their commune only; another commune's page is 403 with one
//! body whether it exists or not; tablets 403; no session 401. ETags: 304, then a new one
//! after a push. Parameters refused in French.

mod common;

use std::collections::BTreeMap;

use assiette_domain::egalim::yearly_totals;
use assiette_domain::meals::DailyMealCount;
use assiette_domain::purchase::Purchase;
use assiette_domain::sync::{server_today, RecordPayload};
use assiette_domain::territory::{
    canteen_statistics, comparable_median, day_rollups, overview, Flag, sort_rows, DayRollup, OverviewParams, PurchaseMonth, SiteSummary, SortKey,
};
use assiette_domain::territory_api::{CommuneResponse, OverviewResponse, PurchasesResponse, TrendsResponse};
use assiette_domain::territory_api::{calendar_source, school_closures};
use assiette_domain::waste::{DateRange, Destination, Stage, WasteFactors, Weighing};
use assiette_server::store::Store;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use assiette_soak::records::purchase;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

const A: &str = "76217";
const B: &str = "76540";

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

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A service day: mostly autumn 2025 (period and baseline), some among the last weeks
/// (participation window), never in the future.
fn random_day(rng: &mut Rng, today: NaiveDate) -> NaiveDate {
    match rng.below(4) {
        0 => today - Duration::days(1 + rng.below(40) as i64),
        _ => d(2025, 9, 1) + Duration::days(rng.below(75) as i64),
    }
}

/// One of the stages a site weighs.
fn random_stage(rng: &mut Rng, stages: &[Stage]) -> Stage {
    stages[rng.below(stages.len() as u64) as usize]
}

/// The stages each site of the world weighs: the plates only (as many kitchens), two of
/// them, every one; a stage never weighed must read as missing, not as 0 g.
const STAGES_OF_SITES: [&[Stage]; 3] = [&[Stage::Leftovers], &[Stage::Unserved, Stage::Leftovers], &Stage::ALL];

fn random_changes(rng: &mut Rng, t: &mut Tablet, stages: &[Stage], steps: usize, today: NaiveDate) {
    for _ in 0..steps {
        let mut live: Vec<Uuid> = t.local.iter().filter(|(_, r)| !r.is_deleted()).map(|(id, _)| *id).collect();
        live.sort();
        match (rng.below(12), live.is_empty()) {
            (0..=2, _) | (_, true) => {
                let date = random_day(rng, today);
                t.meal_count(date, 50 + rng.below(200) as u32);
            }
            (3..=5, false) => {
                let date = random_day(rng, today);
                let stage = random_stage(rng, stages);
                t.weighing(date, stage, 100 + rng.below(30_000));
            }
            (6, false) => {
                let siret = t.site.siret.clone();
                let date = d(2024 + rng.below(2) as i32, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32);
                t.save(purchase(&siret, date, 100 + rng.below(100_000) as i64));
            }
            (7..=9, false) => {
                let id = live[rng.below(live.len() as u64) as usize];
                let mut seed = Rng(rng.next() | 1);
                t.correct(id, |r| match r {
                    RecordPayload::Weighing(w) => {
                        w.mass_grams = 50 + seed.below(20_000);
                        w.stage = random_stage(&mut seed, stages);
                        if seed.below(3) == 0 {
                            w.service_date = random_day(&mut seed, today);
                        }
                        // Surplus given away is not waste (plate leftovers cannot be given).
                        w.destination = (w.stage != Stage::Leftovers && seed.below(4) == 0).then_some(Destination::Donation);
                    }
                    RecordPayload::MealCount(c) => {
                        c.served_children = seed.below(300) as u32;
                        c.planned = c.served_children + 20;
                        if seed.below(3) == 0 {
                            c.service_date = random_day(&mut seed, today);
                        }
                    }
                    RecordPayload::Purchase(p) => {
                        p.price_cents = seed.below(200_000) as i64;
                        p.date = d(2024 + seed.below(2) as i32, 1 + seed.below(12) as u32, 1 + seed.below(28) as u32);
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

/// Pushes the outbox; now and then a batch is sent once more first, its reply lost (a replay).
async fn push_with_replays(rng: &mut Rng, t: &mut Tablet) {
    while !t.outbox.is_empty() {
        let batch = t.batch(t.push_batch);
        if rng.below(3) == 0 {
            let (s, _) = t.send_batch(&batch).await;
            assert_eq!(s, 200);
        }
        let o = t.push_once(t.push_batch).await;
        assert_eq!(o.http_status, 200);
        assert_eq!(o.review, 0, "every mutation applied: {:?}", t.review.values().map(|(r, why)| format!("{r:?} {why:?}")).collect::<Vec<_>>());
    }
}

/// The live records of a site as a fresh tablet pulls them.
async fn pulled(base: &str, admin: &Admin, site: Uuid) -> Vec<RecordPayload> {
    let mut fresh = Tablet::enrol(base, &admin.code(site).await).await;
    fresh.pull_all(500).await;
    // The fresh tablet is one more enrolled: revoked, so that it does not count.
    admin.revoke(fresh.device_id).await;
    fresh.local.into_values().collect()
}

fn split(records: &[RecordPayload]) -> (Vec<DailyMealCount>, Vec<Weighing>, Vec<Purchase>) {
    let (mut m, mut w, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for r in records {
        match r {
            RecordPayload::MealCount(c) => m.push(c.clone()),
            RecordPayload::Weighing(x) => w.push(x.clone()),
            RecordPayload::Purchase(x) => p.push(x.clone()),
        }
    }
    (m, w, p)
}

fn months_of(purchases: &[Purchase]) -> Vec<PurchaseMonth> {
    let mut by: BTreeMap<(String, i32, u32), u64> = BTreeMap::new();
    for p in purchases.iter().filter(|p| !p.meta.deleted) {
        *by.entry((p.siret.clone(), p.date.year(), p.date.month())).or_default() += 1;
    }
    by.into_iter().map(|((siret, year, month), lines)| PurchaseMonth { siret, year, month, lines }).collect()
}

struct World {
    server: TestServer,
    admin: Admin,
    sites: Vec<Uuid>,
    tablets: Vec<Tablet>,
}

async fn world(backend: &Backend) -> World {
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    let mut sites = Vec::new();
    let mut tablets = Vec::new();
    for (i, (insee, commune, s)) in
        [(A, "Dieppe", "2101003430001"), (A, "Dieppe", "6544909624168"), (B, "Fécamp", "3320211830009")].into_iter().enumerate()
    {
        let site = admin.create_site(insee, commune, &siret(s), &format!("École {i}")).await;
        sites.push(site);
        let mut t = Tablet::enrol(&server.base, &admin.code(site).await).await;
        t.push_batch = 9;
        tablets.push(t);
    }
    World { server, admin, sites, tablets }
}

const QUERY: &str = "from=2025-09-01&to=2025-10-15&baseline_from=2025-10-16&baseline_to=2025-11-14&year=2025&per_page=500";

/// The overview endpoint against the domain's overview of the pulled records, for a period
/// and a baseline (`query` asks for them, with `year` for the purchases).
async fn assert_overview_equals_domain(w: &World, query: &str, period: DateRange, baseline: DateRange, implausible_in_period: bool) {
    let today = server_today(Utc::now());
    let mut records = Vec::new();
    for site in &w.sites {
        records.extend(pulled(&w.server.base, &w.admin, *site).await);
    }
    let (s, reply) = w.admin.get(&format!("/api/v1/territory/overview?{query}")).await;
    assert_eq!(s, 200, "{reply}");
    let typed: OverviewResponse = serde_json::from_value(reply.clone()).expect("the answer reads back as the wire type");
    assert_eq!(serde_json::to_value(&typed).unwrap(), reply, "read back, it writes the same JSON");
    let (meals, weighings, purchases) = split(&records);
    let days = day_rollups(&meals, &weighings);
    assert!(days.iter().any(|d| d.is_measured()), "some measured days");

    // The SQL day rollup itself, every day of every site.
    let sql_days = w.server.db.territory_days(None, &[DateRange::new(d(2000, 1, 1), today)], Some(today)).await.unwrap();
    let mut want: Vec<DayRollup> = days.iter().copied().filter(|d| d.has_entry()).collect();
    want.sort_by_key(|d| (d.site_id, d.date));
    assert_eq!(sql_days, want, "SQL day rollup = territory::day_rollups of the records");

    let sites: Vec<SiteSummary> = w.server.db.territory_sites(None).await.unwrap();
    let ours: Vec<&SiteSummary> = sites.iter().filter(|s| w.sites.contains(&s.site_id)).collect();
    assert_eq!(ours.len(), 3);
    assert!(ours.iter().all(|s| s.tablets_enrolled == 1 && s.last_sync.is_some()), "{ours:?}");
    let params = OverviewParams {
        period,
        baseline: Some(baseline),
        purchase_year: 2025,
        today: assiette_server::territory::territory_today(Utc::now()),
        // The server counts school days with the metropolis' calendar.
        holidays: school_closures(assiette_server::territory::territory_today(Utc::now())).days,
        factors: WasteFactors::default(),
    };
    let mut expected = overview(&sites, &days, &yearly_totals(&purchases), &months_of(&purchases), &params);
    if implausible_in_period {
        assert!(
            expected.sites.iter().any(|r| r.flags.iter().any(|f| matches!(f, Flag::ImplausibleWaste { .. }))),
            "an implausible day is flagged"
        );
    }
    // The case of a stage never weighed is exercised: the plates-only site has no figure for
    // its preparation, beside figures for its plates.
    let plates_only = expected.sites.iter().find(|r| r.site.site_id == w.sites[0]).unwrap();
    let measured: Vec<_> = std::iter::once(&plates_only.waste).chain(&plates_only.baseline).filter(|p| p.measured_days > 0).collect();
    assert!(!measured.is_empty(), "{plates_only:?}");
    for p in measured {
        let stages = Stage::ALL.map(|s| p.stage_grams_per_meal(s).is_some());
        assert_eq!(stages, [false, false, true], "{p:?}");
    }
    sort_rows(&mut expected.sites, SortKey::Commune, false);
    let want_rows = serde_json::to_value(&expected.sites).unwrap();
    for (got, want) in reply["sites"].as_array().unwrap().iter().zip(want_rows.as_array().unwrap()) {
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&got[k], v, "site {} : {k}", want["site"]["name"]);
        }
    }
    assert_eq!(reply["sites"], want_rows, "site rows");
    assert_eq!(reply["communes"], serde_json::to_value(&expected.communes).unwrap(), "communes");
    assert_eq!(reply["territory"], serde_json::to_value(&expected.territory).unwrap(), "territory");
    assert_eq!(reply["statistics"], serde_json::to_value(canteen_statistics(&expected)).unwrap(), "statistics");
    assert_eq!(reply["total_sites"], json!(sites.len()));

    // The commune page's comparable medians (SQL sums of the period) equal the domain's.
    let (s, page) = w.admin.get(&format!("/api/v1/territory/communes/{A}?{}", &query[..query.find("&year").unwrap()])).await;
    assert_eq!(s, 200, "{page}");
    let want: Vec<Value> = expected
        .sites
        .iter()
        .filter(|r| r.site.commune_insee == A)
        .map(|r| serde_json::to_value(comparable_median(r, &expected.sites)).unwrap())
        .collect();
    let got: Vec<Value> = page["comparisons"].as_array().unwrap().iter().map(|c| c["median"].clone()).collect();
    assert_eq!(got, want, "comparable medians");
}

async fn property(backend: &Backend, seed: u64) {
    eprintln!("== territoire sur {} (graine {seed}) ==", backend.name);
    let mut w = world(backend).await;
    let today = server_today(Utc::now());
    let mut rng = Rng(seed);
    for round in 0..3 {
        for (i, (t, stages)) in w.tablets.iter_mut().zip(STAGES_OF_SITES).enumerate() {
            // The third site stopped entering four months ago: its last entry is older than
            // the participation window.
            let recent_end = if i == 2 { today - Duration::days(120) } else { today };
            random_changes(&mut rng, t, stages, 20 + round * 10, recent_end);
            push_with_replays(&mut rng, t).await;
        }
    }
    // An implausible day in the period (1 t for a few meals, whatever else that day holds).
    let t = &mut w.tablets[0];
    let day = d(2025, 9, 2) + Duration::days(rng.below(40) as i64);
    t.meal_count(day, 5);
    t.weighing(day, Stage::Leftovers, 1_000_000);
    push_with_replays(&mut rng, t).await;
    let autumn = DateRange::new(d(2025, 9, 1), d(2025, 10, 15));
    let baseline = DateRange::new(d(2025, 10, 16), d(2025, 11, 14));
    assert_overview_equals_domain(&w, QUERY, autumn, baseline, true).await;
    // A period among the last weeks: the participation window's days are counted in the same
    // read as the period's sums.
    let today = assiette_server::territory::territory_today(Utc::now());
    let recent = DateRange::new(today - Duration::days(20), today - Duration::days(2));
    let query = format!("from={}&to={}&baseline_from={}&baseline_to={}&year=2025&per_page=500", recent.start, recent.end, baseline.start, baseline.end);
    assert_overview_equals_domain(&w, &query, recent, baseline, false).await;

    // Rolled up again from the records, as for data stored before migration 0011.
    let (_, before) = w.admin.get(&format!("/api/v1/territory/overview?{QUERY}")).await;
    let wipe = ["DELETE FROM day_rollup", "DELETE FROM purchase_month_rollup", "INSERT INTO territory_rollup_pending (site_id) SELECT id FROM sites"];
    for sql in wipe {
        match &w.server.db {
            assiette_server::db::Db::Sqlite(st) => sqlx::query(sql).execute(&st.pool).await.map(|_| ()).unwrap(),
            assiette_server::db::Db::Postgres(st) => sqlx::query(sql).execute(&st.pool).await.map(|_| ()).unwrap(),
        }
    }
    let (_, wiped) = w.admin.get(&format!("/api/v1/territory/overview?{QUERY}")).await;
    assert_ne!(wiped["territory"], before["territory"], "the wipe took the rollups away");
    w.server.stop().await;
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    let (s, after) = admin.get(&format!("/api/v1/territory/overview?{QUERY}")).await;
    assert_eq!(s, 200);
    for k in ["sites", "communes", "territory", "statistics"] {
        assert_eq!(after[k], before[k], "{k} after the roll-up at start");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_equal_the_domains_recomputation_after_random_pushes() {
    for postgres in [false, true] {
        for seed in [0x2545F4914F6CDD1D, 0x9E3779B97F4A7C15] {
            let backend = if postgres {
                match postgres_backend().await {
                    Some(b) => b,
                    None => break,
                }
            } else {
                sqlite_backend()
            };
            property(&backend, seed).await;
        }
    }
}

const MANAGER_PASSWORD: &str = "le mot de passe du responsable";

async fn manager(admin: &Admin, email: &str, communes: &[&str]) -> Admin {
    let (s, b) = admin.post("/api/v1/admin/invitations", json!({"email": email, "communes": communes})).await;
    assert_eq!(s, 201, "{b}");
    let code = b["code"].as_str().unwrap();
    let (s, b) = send(http().post(format!("{}/api/v1/invitations/accept", admin.base)).json(&json!({"code": code, "password": MANAGER_PASSWORD}))).await;
    assert_eq!(s, 200, "{b}");
    Admin { base: admin.base.clone(), token: b["token"].as_str().unwrap().to_owned(), client: http() }
}

fn site_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["sites"].as_array().unwrap().iter().map(|r| r["site"]["site_id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

async fn get_with(base: &str, token: &str, path: &str, etag: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = http().get(format!("{base}{path}")).bearer_auth(token);
    if let Some(t) = etag {
        req = req.header("If-None-Match", t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let tag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
    let body = res.json().await.unwrap_or(Value::Null);
    (status, tag, body)
}

async fn scopes(backend: &Backend) {
    eprintln!("== périmètres sur {} ==", backend.name);
    let mut w = world(backend).await;
    let today = server_today(Utc::now());
    let mut rng = Rng(11);
    for t in w.tablets.iter_mut() {
        random_changes(&mut rng, t, &Stage::ALL, 25, today);
        assert!(t.push_all(50).await);
    }
    let base = w.server.base.clone();
    let m = manager(&w.admin, "maire@dieppe.example", &[A]).await;

    // The manager's overview: commune A's two sites only, its totals only.
    let (s, mine) = m.get(&format!("/api/v1/territory/overview?{QUERY}")).await;
    assert_eq!(s, 200, "{mine}");
    let mut a_ids: Vec<String> = w.sites[..2].iter().map(Uuid::to_string).collect();
    a_ids.sort();
    assert_eq!(site_ids(&mine), a_ids);
    assert_eq!(mine["communes"].as_array().unwrap().len(), 1);
    assert_eq!(mine["communes"][0]["commune_insee"], A);
    assert_eq!(mine["territory"]["sites"], 2);
    // The metropolis' filtered to A: the same rows.
    let (_, metro_a) = w.admin.get(&format!("/api/v1/territory/overview?{QUERY}&commune={A}")).await;
    assert_eq!(metro_a["sites"], mine["sites"]);
    let (_, metro) = w.admin.get(&format!("/api/v1/territory/overview?{QUERY}")).await;
    assert!(site_ids(&metro).contains(&w.sites[2].to_string()));

    // Commune B, or one that does not exist: the same 403, nothing of either.
    let (s1, b1) = m.get(&format!("/api/v1/territory/communes/{B}")).await;
    let (s2, b2) = m.get("/api/v1/territory/communes/99999").await;
    assert_error(&(s1, b1.clone()), 403, "commune_forbidden");
    assert_eq!((s1, &b1), (s2, &b2));
    assert!(!b1.to_string().contains("Fécamp") && !b1.to_string().contains(B));
    assert_error(&m.get(&format!("/api/v1/territory/overview?commune={B}")).await, 403, "commune_forbidden");
    assert_error(&m.get("/api/v1/territory/overview?commune=99999").await, 403, "commune_forbidden");
    // Trends and purchases: their communes only.
    let (s, trends) = m.get("/api/v1/territory/trends?from=2025-09-01&to=2025-11-30").await;
    assert_eq!(s, 200, "{trends}");
    let typed: TrendsResponse = serde_json::from_value(trends.clone()).unwrap();
    assert_eq!(typed.lines.iter().map(|l| l.commune_insee.as_str()).collect::<Vec<_>>(), vec!["", A]);
    assert_eq!(typed.comparisons.len(), 2);
    let (s, purchases) = m.get("/api/v1/territory/purchases?year=2025").await;
    assert_eq!(s, 200, "{purchases}");
    let typed: PurchasesResponse = serde_json::from_value(purchases).unwrap();
    assert!(typed.lines.iter().all(|l| l.commune_insee.is_empty() || l.commune_insee == A));

    // Their own commune page.
    let (s, page) = m.get(&format!("/api/v1/territory/communes/{A}?from=2025-09-01&to=2025-10-15")).await;
    assert_eq!(s, 200, "{page}");
    let typed: CommuneResponse = serde_json::from_value(page.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), page);
    assert_eq!((typed.commune_name.as_str(), typed.sites.len(), typed.totals.sites), ("Dieppe", 2, 2));
    assert_eq!(typed.trend.commune_insee, A);
    assert_eq!(typed.trend.points.len(), 13, "twelve months and the period's");
    // The metropolis: unknown commune 404, B's page 200.
    assert_error(&w.admin.get("/api/v1/territory/communes/99999").await, 404, "unknown_commune");
    let (s, bpage) = w.admin.get(&format!("/api/v1/territory/communes/{B}")).await;
    assert_eq!((s, bpage["commune_name"].as_str()), (200, Some("Fécamp")));

    // Tablets: 403; nobody signed in: 401.
    let tablet = &w.tablets[0];
    for path in ["/api/v1/territory/overview", "/api/v1/territory/trends", "/api/v1/territory/purchases", &format!("/api/v1/territory/communes/{A}")] {
        let (s, _, body) = get_with(&base, &tablet.token, path, None).await;
        assert_error(&(s, body), 403, "territory_forbidden");
        let (s, _) = send(http().get(format!("{base}{path}"))).await;
        assert_eq!(s, 401, "{path}");
    }

    // Parameters refused in French, with the parameter named.
    for (q, param) in [("from=2025-02-30", "from"), ("per_page=0", "per_page"), ("sort=x", "sort"), ("zzz=1", "zzz"), ("from=2025-10-01&to=2025-09-01", "from")] {
        let got = w.admin.get(&format!("/api/v1/territory/overview?{q}")).await;
        assert_error(&got, 422, "invalid_parameter");
        assert_eq!(got.1["errors"][0]["field"], param, "{q}");
    }
    assert_error(&w.admin.get("/api/v1/territory/communes/7621").await, 422, "invalid_parameter");
    assert_error(&w.admin.get("/api/v1/territory/purchases?year=20x5").await, 422, "invalid_parameter");

    // ETag: the same answer is a 304; a push makes a new one.
    let path = format!("/api/v1/territory/overview?{QUERY}");
    let (s, tag, _) = get_with(&base, &w.admin.token, &path, None).await;
    let tag = tag.expect("ETag");
    assert_eq!(s, 200);
    assert!(tag.starts_with('"') && !tag.starts_with("W/"), "strong: {tag}");
    let (s, again, body) = get_with(&base, &w.admin.token, &path, Some(&tag)).await;
    assert_eq!((s, again.as_deref(), body), (304, Some(tag.as_str()), Value::Null));
    // Another person (another scope) never shares it.
    let (_, mtag, _) = get_with(&base, &m.token, &path, None).await;
    assert_ne!(mtag.as_deref(), Some(tag.as_str()));
    let t = &mut w.tablets[2];
    t.weighing(d(2025, 9, 2), Stage::Leftovers, 1234);
    assert!(t.push_all(50).await);
    let (s, newer, _) = get_with(&base, &w.admin.token, &path, Some(&tag)).await;
    assert_eq!(s, 200);
    assert_ne!(newer.as_deref(), Some(tag.as_str()));

    // Exports: the domain's writers, as downloads (CSV text, XLSX workbook), scoped alike.
    for (path, kind, words) in [
        (format!("/api/v1/territory/overview?{QUERY}&format=csv"), "text/csv", "École 1"),
        (format!("/api/v1/territory/communes/{A}?format=csv"), "text/csv", "École 0"),
        ("/api/v1/territory/trends?format=csv&from=2025-09-01&to=2025-11-30".to_owned(), "text/csv", "Dieppe"),
        ("/api/v1/territory/purchases?year=2025&format=csv".to_owned(), "text/csv", "Le Havre Seine Métropole"),
        (format!("/api/v1/territory/overview?{QUERY}&format=xlsx"), "spreadsheetml", ""),
        ("/api/v1/territory/purchases?year=2025&format=xlsx".to_owned(), "spreadsheetml", ""),
    ] {
        let res = http().get(format!("{base}{path}")).bearer_auth(&w.admin.token).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.contains(kind), "{path}: {ct}");
        assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\""));
        let body = res.bytes().await.unwrap();
        if kind == "spreadsheetml" {
            assert_eq!(&body[..2], b"PK", "{path}: a zip (XLSX) workbook");
        } else {
            let text = String::from_utf8(body.to_vec()).unwrap();
            assert!(text.contains(words), "{path}: {text}");
        }
    }
    let res = http().get(format!("{base}/api/v1/territory/overview?{QUERY}&format=csv")).bearer_auth(&m.token).send().await.unwrap();
    let text = res.text().await.unwrap();
    assert!(text.contains("École 0") && !text.contains("École 2") && !text.contains("Fécamp"), "{text}");
    assert_error(&m.get(&format!("/api/v1/territory/communes/{B}?format=xlsx")).await, 403, "commune_forbidden");

    // Paging: two per page, pages cover every row once in order.
    let (_, all) = w.admin.get(&format!("/api/v1/territory/overview?{QUERY}&sort=name&desc=true")).await;
    let mut paged = Vec::new();
    for page in 1..=2 {
        let (_, p) = w.admin.get(&format!("/api/v1/territory/overview?{QUERY}&sort=name&desc=true&per_page=2&page={page}")).await;
        assert_eq!(p["pages"], 2);
        paged.extend(p["sites"].as_array().unwrap().iter().map(|r| r["site"]["name"].clone()));
    }
    let names: Vec<Value> = all["sites"].as_array().unwrap().iter().map(|r| r["site"]["name"].clone()).collect();
    assert_eq!(paged, names);
    assert_eq!(names.first().and_then(|n| n.as_str()), Some("École des Tilleuls"), "descending by name");
    w.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_etags_paging_and_parameters() {
    for backend in backends().await {
        scopes(&backend).await;
    }
}

/// The school days are counted with the metropolis' calendar over HTTP. A site last entered on
/// Friday 16/10/2026, before the Toussaint break (classes resumed on Monday 02/11), has two
/// school days without an entry on Thursday 05/11 (counting the break's weekdays would make
/// ten: flagged); ten, and the flag, on Thursday 19/11. The answers cite the calendar.
async fn school_calendar(backend: &Backend) {
    eprintln!("== calendrier scolaire sur {} ==", backend.name);
    use chrono::TimeZone;
    let (server, clock) = TestServer::start_clocked(&backend.url).await;
    // Noon in Le Havre (UTC+1 in November).
    let set_day = |day: NaiveDate| {
        let target = Utc.from_utc_datetime(&day.and_hms_opt(11, 0, 0).unwrap());
        clock.advance(target - clock.now());
    };
    set_day(d(2026, 11, 5));
    let admin = Admin::login(&server.base).await;
    let site = admin.create_site(A, "Dieppe", &siret("2101003430001"), "École du calendrier").await;
    let mut t = Tablet::enrol(&server.base, &admin.code(site).await).await;
    t.meal_count(d(2026, 10, 16), 120);
    t.weighing(d(2026, 10, 16), Stage::Leftovers, 6_000);
    assert!(t.push_all(50).await);

    let query = "from=2026-10-01&to=2026-10-31&year=2026&per_page=500";
    let row = |o: &OverviewResponse| o.sites.iter().find(|r| r.site.site_id == site).cloned().expect("the site's row");
    let stopped = |r: &assiette_domain::territory::SiteRow| r.flags.iter().any(|f| matches!(f, assiette_domain::territory::Flag::StoppedEntering { .. }));

    let (s, reply) = admin.get(&format!("/api/v1/territory/overview?{query}")).await;
    assert_eq!(s, 200, "{reply}");
    let o: OverviewResponse = serde_json::from_value(reply).unwrap();
    assert_eq!(o.today, d(2026, 11, 5));
    let r = row(&o);
    assert_eq!(r.participation.last_entry, Some(d(2026, 10, 16)));
    assert_eq!(r.participation.school_days_since_entry, Some(2), "the break is not school days");
    assert!(!stopped(&r), "{:?}", r.flags);
    assert_eq!(o.sources.last(), Some(&calendar_source(&school_closures(d(2026, 11, 5)))));
    assert!(o.sources.last().unwrap().source.contains("zone B"), "{:?}", o.sources);

    // The commune page cites it too.
    let (s, page) = admin.get(&format!("/api/v1/territory/communes/{A}?from=2026-10-01&to=2026-10-31")).await;
    assert_eq!(s, 200, "{page}");
    let page: CommuneResponse = serde_json::from_value(page).unwrap();
    assert_eq!(page.sources.last(), Some(&calendar_source(&school_closures(d(2026, 11, 5)))));

    // Two weeks of classes later: flagged (signed in again, the first session has idled out).
    set_day(d(2026, 11, 19));
    let admin = Admin::login(&server.base).await;
    let (s, reply) = admin.get(&format!("/api/v1/territory/overview?{query}")).await;
    assert_eq!(s, 200, "{reply}");
    let r = row(&serde_json::from_value(reply).unwrap());
    assert_eq!(r.participation.school_days_since_entry, Some(assiette_domain::territory::STOPPED_AFTER_SCHOOL_DAYS));
    assert!(stopped(&r), "{:?}", r.flags);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participation_counts_school_days_with_the_school_calendar() {
    for backend in backends().await {
        school_calendar(&backend).await;
    }
}
