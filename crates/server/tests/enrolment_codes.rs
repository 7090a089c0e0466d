//! Issue 11, item 3: wrong enrolment codes are throttled per client address and overall (429
//! with `Retry-After`), a wrong code never takes SQLite's write lock, codes are stored as a keyed
//! hash, a new demo code ends the earlier ones, and the demo canteen exists only when asked for.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use assiette_server::db::{Db, DEMO_SITE_ID};
use assiette_server::guard::GuardSettings;
use assiette_server::store::Store;
use common::*;
use serde_json::json;

async fn enrol(c: &reqwest::Client, base: &str, code: &str) -> (u16, serde_json::Value, Option<u64>) {
    send_timed(c.post(format!("{base}/api/v1/enrol")).json(&json!({"code": code}))).await
}

/// A code of the right shape that was never issued (31^8 codes: it is not the live one).
const WRONG: &str = "ABCD-EFGH";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_throttled_per_address_and_overall() {
    let guards = GuardSettings {
        enrol_per_address: quota(3, Duration::from_secs(60)),
        enrol_overall: quota(6, Duration::from_secs(60)),
        ..GuardSettings::default()
    };
    let server = TestServer::serve_guarded(seeded_db(&sqlite_backend().url).await, guards).await;
    let base = &server.base;
    let admin = Admin::login(base).await;

    // One address: three wrong codes, then 429, even for the right code.
    let one = client_from("127.0.0.2");
    for _ in 0..3 {
        let got = enrol(&one, base, WRONG).await;
        assert_eq!(got.0, 401, "{:?}", got.1);
    }
    assert!(assert_throttled(&enrol(&one, base, WRONG).await, "too_many_attempts") > 2);
    let live = admin.code(DEMO_SITE_ID).await;
    assert_throttled(&enrol(&one, base, &live).await, "too_many_attempts");
    // Another address enrols (three attempts counted overall so far: this is the fourth).
    let (s, b, _) = enrol(&client_from("127.0.0.3"), base, &live).await;
    assert_eq!(s, 200, "{b}");

    // From everywhere together: wrong codes from new addresses spend what is left overall...
    let mut throttled = false;
    for i in 4..10 {
        let got = enrol(&client_from(&format!("127.0.0.{i}")), base, WRONG).await;
        if got.0 == 429 {
            assert_throttled(&got, "too_many_attempts");
            throttled = true;
            break;
        }
        assert_eq!(got.0, 401, "{:?}", got.1);
    }
    assert!(throttled, "never throttled overall");
    // ...and then a right code from a fresh address waits too.
    let live = admin.code(DEMO_SITE_ID).await;
    assert_throttled(&enrol(&client_from("127.0.0.20"), base, &live).await, "too_many_attempts");
    server.stop().await;
}

/// A wrong code is answered from a read: while another connection holds SQLite's write lock
/// (a long push, a checkpoint), a guess is refused at once instead of queueing for the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_never_takes_the_write_lock() {
    use sqlx::Connection;
    let backend = sqlite_backend();
    let server = TestServer::serve(seeded_db(&backend.url).await).await;
    let mut writer = sqlx::SqliteConnection::connect(&backend.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut writer).await.unwrap();
    // The server waits up to 10 s for a busy lock: 5 s tells a read from a wait.
    let c = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let got = send(c.post(server.url("/api/v1/enrol")).json(&json!({"code": WRONG}))).await;
    assert_error(&got, 401, "enrolment_code_refused");
    sqlx::query("ROLLBACK").execute(&mut writer).await.unwrap();
    writer.close().await.unwrap();
    server.stop().await;
}

/// Every stored enrolment code hash of a database.
async fn stored_code_hashes(db: &Db) -> Vec<String> {
    let sql = "SELECT code_hash FROM enrolment_codes";
    match db {
        Db::Sqlite(s) => sqlx::query_scalar(sql).fetch_all(&s.pool).await.unwrap(),
        Db::Postgres(s) => sqlx::query_scalar(sql).fetch_all(&s.pool).await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_stored_keyed_and_demo_codes_replace_each_other() {
    for backend in backends().await {
        let server = TestServer::start(&backend.url).await;
        let admin = Admin::login(&server.base).await;
        let code = admin.code(DEMO_SITE_ID).await;
        let stored = stored_code_hashes(&server.db).await;
        assert_eq!(stored.len(), 1, "{}", backend.name);
        // Not a plain SHA-256 of the code (reversed by trying the 31^8 codes), not the code.
        assert_ne!(stored[0], assiette_server::auth::hash_secret(&code), "{}", backend.name);
        assert!(!stored[0].contains(&code));
        assert_eq!(stored[0], server.db.code_hash(&code));

        // Each start's demo code ends the demo tablet's earlier unused ones, and no other code.
        let mut config = assiette_server::config::Config::from_env().unwrap();
        config.demo = true;
        config.demo_enrolment_code = None;
        let first = assiette_server::http::demo_enrolment_code(&server.db, &config).await.unwrap();
        let second = assiette_server::http::demo_enrolment_code(&server.db, &config).await.unwrap();
        assert_ne!(first, second);
        let c = http();
        assert_error(&send(c.post(server.url("/api/v1/enrol")).json(&json!({"code": first}))).await, 401, "enrolment_code_refused");
        let (s, b) = send(c.post(server.url("/api/v1/enrol")).json(&json!({"code": second}))).await;
        assert_eq!(s, 200, "{} {b}", backend.name);

        // The key is the database's: the admin's code still enrols after a restart.
        let url = backend.url.clone();
        server.stop().await;
        let server = TestServer::serve(Db::open(&url).await.unwrap()).await;
        let (s, b) = send(c.post(server.url("/api/v1/enrol")).json(&json!({"code": code}))).await;
        assert_eq!(s, 200, "{} {b}", backend.name);
        server.stop().await;
    }
}

/// Starts the real binary on `database_url` with `env`, returns what it printed up to its
/// « Base de données » line, then stops it.
fn start_lines(database_url: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_assiette-server"));
    cmd.arg("serve")
        .env("DATABASE_URL", database_url)
        .env("ASSIETTE_PORT", "0")
        .env("ASSIETTE_STATIC_DIR", temp_dir("static"))
        .env_remove("ASSIETTE_DEMO")
        .env_remove("ASSIETTE_DEMO_ENROLMENT_CODE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Base de données");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    lines.push(String::from_utf8_lossy(&out.stderr).into_owned());
    lines.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_canteen_is_opt_in() {
    for backend in backends().await {
        // A plain `serve`: no demo commune, canteen or code.
        let out = start_lines(&backend.url, &[]);
        assert!(out.contains("Assiette est prêt"), "{out}");
        assert!(!out.contains("démonstration"), "{out}");
        let db = Db::open(&backend.url).await.unwrap();
        assert!(db.list_sites().await.unwrap().is_empty(), "{}", backend.name);
        assert!(db.list_communes().await.unwrap().is_empty(), "{}", backend.name);
        assert!(stored_code_hashes(&db).await.is_empty());
        db.close().await;
        // Asked for: the demo canteen and its tablet's code.
        let out = start_lines(&backend.url, &[("ASSIETTE_DEMO", "1")]);
        assert!(out.contains("Code d'enrôlement de la tablette de démonstration : "), "{out}");
        let db = Db::open(&backend.url).await.unwrap();
        assert_eq!(db.site(DEMO_SITE_ID).await.unwrap().unwrap().info.name, "École des Tilleuls");
        db.close().await;
        // The demo commune's manager: a one-time invitation to its commune, a new one at each
        // start (the earlier one ends) until it is accepted; then only the address to sign in.
        let invitation = |out: &str| -> String {
            let line = out.lines().find(|l| l.starts_with("Invitation du gestionnaire de la commune de démonstration")).unwrap_or_else(|| panic!("{out}"));
            let code = line.split("invitation=").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or_else(|| panic!("{line}"));
            code.to_owned()
        };
        let first = invitation(&out);
        // The demo's inviter is nobody's account: the server still says no administrator exists.
        assert!(out.contains("Aucun compte administrateur"), "{out}");
        let second = invitation(&start_lines(&backend.url, &[("ASSIETTE_DEMO", "1")]));
        assert_ne!(first, second);
        let db = Db::open(&backend.url).await.unwrap();
        let now = chrono::Utc::now();
        assert!(db.live_invitation(&db.code_hash(&first), now).await.unwrap().is_none(), "{}: the earlier invitation ends", backend.name);
        let live = db.live_invitation(&db.code_hash(&second), now).await.unwrap().expect("the last invitation is live");
        assert_eq!((live.email.as_str(), live.communes.as_slice()), ("gestionnaire@demo.assiette.invalid", &["76351".to_owned()][..]));
        let later = now + chrono::Duration::days(30);
        db.accept_invitation(&db.code_hash(&second), uuid::Uuid::now_v7(), "hash", "token-hash", now, later, later).await.unwrap().expect("accepted");
        db.close().await;
        let out = start_lines(&backend.url, &[("ASSIETTE_DEMO", "1")]);
        assert!(!out.contains("Invitation du gestionnaire"), "{out}");
        assert!(out.contains("Gestionnaire de la commune de démonstration : connectez-vous sur http://127.0.0.1:"), "{out}");
        assert!(out.contains("bureau/connexion avec gestionnaire@demo.assiette.invalid."), "{out}");
    }
    // A fixed demo code without the demo is a mistake said at start.
    let out = Command::new(env!("CARGO_BIN_EXE_assiette-server"))
        .arg("serve")
        .env("DATABASE_URL", sqlite_backend().url)
        .env_remove("ASSIETTE_DEMO")
        .env("ASSIETTE_DEMO_ENROLMENT_CODE", "TEST-DEMX")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ASSIETTE_DEMO=1"));
}
