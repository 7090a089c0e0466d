//! The real `assiette-server` process killed (SIGKILL) in the middle of pushes, restarted on the
//! same database, three times: every entry ends on the server exactly once and both tablets agree.
//! Also checks what `serve` prints (URL, demo enrolment code) and that SIGTERM stops it cleanly.

mod common;

use std::time::Duration;

use assiette_domain::waste::Stage;
use assiette_soak::process::ServerProcess;
use common::*;

const DEMO_CODE: &str = "TEST-2345";

fn start(db_url: &str) -> ServerProcess {
    let p = ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_assiette-server")),
        db_url,
        &temp_dir("kill-static"),
        &temp_dir("kill-log").join("server.log"),
        // The tablets enrol into the demo canteen, which only ASSIETTE_DEMO=1 creates.
        &[("ASSIETTE_DEMO", "1"), ("ASSIETTE_DEMO_ENROLMENT_CODE", DEMO_CODE)],
    )
    .expect("start assiette-server");
    // The demo code line follows the URL.
    let code_line = p.lines.recv_timeout(Duration::from_secs(10)).unwrap();
    let code_line = if code_line.contains("Code d'enrôlement") { code_line } else { p.lines.recv_timeout(Duration::from_secs(10)).unwrap() };
    assert_eq!(code_line, format!("Code d'enrôlement de la tablette de démonstration : {DEMO_CODE}"));
    p
}

async fn killed_mid_batch(backend: &Backend) {
    eprintln!("== serveur tué en plein lot sur {} ==", backend.name);
    let p = start(&backend.url);
    let mut a = Tablet::enrol(&p.base, DEMO_CODE).await;
    let admin = Admin::login(&p.base).await;
    let mut b = Tablet::enrol(&p.base, &admin.code(a.site.id).await).await;
    let mut grams = 0;
    for i in 0..3_000u64 {
        grams += 100 + i;
        a.weighing(day((i % 20) as i64), Stage::Leftovers, 100 + i);
    }
    let mut p = Some(p);
    for round in 0..3u64 {
        // Push in the background; kill the process after a while, whatever it is doing.
        let mut tablet = a;
        let pusher = tokio::spawn(async move {
            let ok = tablet.push_all(250).await;
            (tablet, ok)
        });
        tokio::time::sleep(Duration::from_millis(150 + 200 * round)).await;
        p.take().unwrap().kill();
        let (tablet, finished) = pusher.await.unwrap();
        a = tablet;
        eprintln!("tour {round} : {} en attente (tout envoyé avant l'arrêt : {finished})", a.outbox.len());
        let restarted = start(&backend.url);
        a.base = restarted.base.clone();
        b.base = restarted.base.clone();
        p = Some(restarted);
    }
    // Back up: the outbox drains, the replayed batch is answered duplicate, nothing doubled.
    a.sync().await;
    b.sync().await;
    a.pull_all(1000).await;
    assert!(a.outbox.is_empty() && a.review.is_empty(), "nothing left « à vérifier »: {:?}", a.review.len());
    assert_eq!(a.state(), b.state());
    assert_eq!(b.local.len(), 3_000);
    assert_eq!(live_grams(b.local.values()), grams);

    // SIGTERM stops it cleanly.
    let (clean, rest) = p.take().unwrap().terminate();
    assert!(clean, "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("arrêté proprement")), "{rest:?}");

    // The server's own records agree with the tablets.
    let db = assiette_server::db::Db::open(&backend.url).await.unwrap();
    assert_eq!(server_state(&db, a.site.id).await, a.state());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_process_killed_mid_batch_and_restarted() {
    for backend in backends().await {
        killed_mid_batch(&backend).await;
    }
}
