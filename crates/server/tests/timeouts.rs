//! Issue 11, item 6: a client that sends nothing, headers a byte at a time, or a body a byte at
//! a time, never holds a connection for long, and idle sockets never starve real requests.

mod common;

use std::time::{Duration, Instant};

use assiette_server::http::Limits;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: Limits = Limits { header_timeout: Duration::from_secs(1), request_timeout: Duration::from_secs(2), max_connections: 8 };

async fn server() -> TestServer {
    let db = assiette_server::db::Db::open(&sqlite_backend().url).await.unwrap();
    db.ensure_demo().await.unwrap();
    let dir = temp_dir("static");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>Assiette</title>").unwrap();
    TestServer::serve_with(db, dir, LIMITS).await
}

/// Reads until the server closes the connection (or `limit` passes); what it sent, and when.
async fn until_closed(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after {limit:?}"),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off() {
    let server = server().await;
    let addr = server.base.trim_start_matches("http://").to_owned();

    // Connected, nothing sent.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    let (_, after) = until_closed(&mut idle, Duration::from_secs(10)).await;
    assert!(after < Duration::from_secs(4), "idle socket closed after {after:?}");

    // Headers a line at a time, never finished.
    let mut partial = TcpStream::connect(&addr).await.unwrap();
    let start = Instant::now();
    partial.write_all(b"POST /api/v1/sync/pull HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if partial.write_all(b"X-A: b\r\n").await.is_err() {
                break;
            }
        }
    };
    trickle.await;
    assert!(start.elapsed() < Duration::from_secs(8));
    let (_, _) = until_closed(&mut partial, Duration::from_secs(5)).await;

    // Full headers, then a body a byte every 300 ms: 408 once the request has taken 2 s.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let start = Instant::now();
    slow.write_all(b"POST /api/v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{").await.unwrap();
    let (mut reader, mut writer) = slow.into_split();
    let feeder = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf)).await.expect("a reply").unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let reply = String::from_utf8_lossy(&got);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    feeder.abort();

    // Fifty idle sockets against a cap of eight: a real request still gets its answer, once the
    // idle ones have been cut off (they never pile up past the cap).
    let mut idle: Vec<TcpStream> = Vec::new();
    for _ in 0..50 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    let start = Instant::now();
    let (s, body) = send(http().get(server.url("/api/v1/health"))).await;
    assert_eq!(s, 200, "{body}");
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());
    // A normal exchange is untouched by the limits.
    let (s, _) = send(http().get(server.url("/api/v1/health"))).await;
    assert_eq!(s, 200);
    drop(idle);
    server.stop().await;
}

/// The connection loop gives handlers the client's address, as axum::serve's connect-info
/// service does (what per-address throttles need).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_the_client_address() {
    use axum::extract::ConnectInfo;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/ip", get(|ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>| async move { addr.ip().to_string() }));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(assiette_server::http::serve_app(listener, app, Limits::default(), async {
        let _ = rx.await;
    }));
    let res = http().get(format!("{base}/ip")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "127.0.0.1");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}
