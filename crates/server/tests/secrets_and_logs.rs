//! Issue 11, item 8: the database password is never printed (start-up line, connection
//! errors, create-admin), a refused login never logs the raw e-mail, and error messages never
//! name Rust types. Its own test binary: it installs a global log subscriber to read the logs.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;

const SECRET: &str = "Sup3rS3cret";

/// Everything the server logs, as the `serve` command would print it.
fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(buf.clone());
    tracing_subscriber::fmt().with_ansi(false).with_max_level(tracing::Level::INFO).with_writer(move || writer.clone()).init();
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_logs_and_errors_leak_nothing() {
    let logs = capture_logs();
    let server = TestServer::start(&sqlite_backend().url).await;
    let c = http();
    // A refused login whose e-mail forges a log line, carries an escape sequence and weighs 1 MB.
    let forged = format!("x@y.fr\n2026-12-02T00:00:00.000000Z  INFO assiette_server: admin logged in\u{1b}[2J{}", "z".repeat(1_000_000));
    let got = send(c.post(server.url("/api/v1/admin/login")).json(&json!({"email": forged, "password": "mauvais mot de passe"}))).await;
    assert_error(&got, 401, "login_refused");
    let got = send(c.post(server.url("/api/v1/admin/login")).json(&json!({"email": ADMIN_EMAIL, "password": "mauvais mot de passe"}))).await;
    assert_error(&got, 401, "login_refused");
    // Refused bodies: French, the field named, no Rust type.
    let w = serde_json::to_value(weighing(uuid::Uuid::now_v7(), day(1), assiette_domain::waste::Stage::Leftovers, 10)).unwrap();
    let admin = Admin::login(&server.base).await;
    let site = admin.create_site("76351", "Le Havre", &siret("2176035150011"), "École Saint-Exupéry").await;
    let a = Tablet::enrol(&server.base, &admin.code(site).await).await;
    let mut negative = w.clone();
    negative["mass_grams"] = json!(-5);
    for body in [
        json!({"device_id": a.device_id}),
        json!({"device_id": a.device_id, "mutations": [{"seq": 1, "record": negative}]}),
        json!({"device_id": a.device_id, "mutations": [{"seq": 1.5, "record": w}]}),
        json!({"device_id": "pas un uuid", "mutations": []}),
    ] {
        let got = send(c.post(server.url("/api/v1/sync/push")).bearer_auth(&a.token).json(&body)).await;
        assert_error(&got, 422, "invalid_data");
        let msg = got.1["error"].as_str().unwrap();
        for rust in ["struct", "enum", "u64", "i64", "Uuid", "PushRequest", "RecordPayload", "Mutation", "expected", "invalid"] {
            assert!(!msg.contains(rust), "« {rust} » in: {msg}");
        }
    }
    server.stop().await;

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    // (The other tests of this binary log too, concurrently: only what these logins wrote counts.)
    let refused: Vec<&str> = text.lines().filter(|l| l.contains("admin login refused")).collect();
    assert!(refused.iter().any(|l| l.contains("email=x@y.frU+000A")), "{text}");
    assert!(refused.iter().any(|l| l.contains("email=chargee@lehavre-metropol… #")), "{text}");
    assert!(refused.iter().all(|l| l.len() < 400), "{text}");
    assert!(!text.contains('\u{1b}'), "an escape sequence reached the log");
    assert!(!text.lines().any(|l| l.starts_with("2026-12-02T00:00:00.000000Z")), "a forged line");
    assert!(text.len() < 200_000, "{} bytes of log", text.len());
}

/// Runs the real binary; its stdout and stderr joined.
fn run(args: &[&str], database_url: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_assiette-server"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("ASSIETTE_ADMIN_PASSWORD", "un mot de passe assez long")
        .env("ASSIETTE_PORT", "0")
        .output()
        .unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_password_is_never_printed() {
    // An address the driver cannot parse, at start and in create-admin.
    let bad = format!("postgres://assiette:{SECRET}@[::1/assiette");
    for args in [&["serve"][..], &["create-admin", "chargee@lehavre-metropole.fr"]] {
        let out = run(args, &bad);
        assert!(out.contains("PostgreSQL") && out.contains("***"), "{out}");
        assert!(!out.contains(SECRET), "{out}");
    }
    assert!(
        assiette_server::db::Db::open(&format!("postgres://u:{SECRET}@[::1/x")).await.err().is_some_and(|e| !e.contains(SECRET)),
        "in-process error"
    );
    // A real start on PostgreSQL with a password in the address (the test server trusts
    // loopback, so any password connects): the start-up lines show it as ***.
    let Some(pg) = postgres_backend().await else { return };
    let url = pg.url.replacen("postgres@", &format!("postgres:{SECRET}@"), 1);
    assert_ne!(url, pg.url);
    let static_dir = temp_dir("static");
    let mut child = Command::new(env!("CARGO_BIN_EXE_assiette-server"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("ASSIETTE_PORT", "0")
        .env("ASSIETTE_STATIC_DIR", &static_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Base de données");
        lines.push(line);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = lines.join("\n");
    assert!(out.contains("Base de données : postgres://postgres:***@127.0.0.1"), "{out}");
    assert!(!out.contains(SECRET), "{out}");
    // create-admin on that database: its messages don't show it either.
    let out = run(&["create-admin", "chargee@lehavre-metropole.fr"], &url);
    assert!(out.contains("Compte administrateur"), "{out}");
    assert!(!out.contains(SECRET), "{out}");
}

/// A password changed (`create-admin` on an existing account) ends the sessions opened with
/// the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_ends_the_old_sessions() {
    for backend in backends().await {
        let server = TestServer::start(&backend.url).await;
        let before = Admin::login(&server.base).await;
        assert_eq!(before.get("/api/v1/admin/sites").await.0, 200);
        let msg = assiette_server::http::create_admin(&backend.url, ADMIN_EMAIL, "un tout nouveau mot de passe").await.unwrap();
        assert!(msg.contains("changé"), "{msg}");
        assert_error(&before.get("/api/v1/admin/sites").await, 401, "admin_session_expired");
        let got = send(http().post(server.url("/api/v1/admin/login")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))).await;
        assert_error(&got, 401, "login_refused");
        let (s, _) = send(http().post(server.url("/api/v1/admin/login")).json(&json!({"email": ADMIN_EMAIL, "password": "un tout nouveau mot de passe"}))).await;
        assert_eq!(s, 200);
        server.stop().await;
    }
}

/// Logs piped to a file or a journal are plain text: no terminal colour codes.
#[test]
fn piped_logs_carry_no_colour_codes() {
    use std::io::Write;
    use std::time::Duration;
    let dir = temp_dir("plain-logs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_assiette-server"))
        .arg("serve")
        .env("DATABASE_URL", format!("sqlite://{}", dir.join("assiette.sqlite3").display()))
        .env("ASSIETTE_PORT", "0")
        .env("ASSIETTE_STATIC_DIR", &dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(60));
    let mut lines = Vec::new();
    // The start-up line gives the port; a wrong enrolment code then writes a warning.
    let first = next().expect("the start-up line");
    let port = first.split("127.0.0.1:").nth(1).and_then(|r| r.split('/').next()).and_then(|p| p.parse::<u16>().ok()).expect(&first);
    lines.push(first);
    let body = r#"{"code":"ZZZZ-2222","label":"x"}"#;
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(socket, "POST /api/v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    std::io::Read::read_to_end(&mut socket, &mut Vec::new()).unwrap();
    while let Ok(line) = next() {
        let logged = line.contains("WARN");
        lines.push(line);
        if logged {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = lines.join("\n");
    assert!(out.contains("WARN") && out.contains("enrolment code refused"), "a log line was written: {out}");
    assert!(!out.contains('\x1b'), "{out:?}");
}
