//! A short soak run in the test command (the long one is `assiette-soak`, see README): two
//! sites of two tablets, 40 rounds through lost replies, doubled and replayed batches and three
//! SIGKILLs of the real server process, then the audit (every tablet equals the server, every
//! record is the highest acknowledged revision, nothing applied twice). On SQLite, and on
//! PostgreSQL when ASSIETTE_TEST_POSTGRES_URL is set. It lives here because a test of this
//! package is the one place cargo builds the current `assiette-server` binary for.

mod common;

use std::path::PathBuf;

use assiette_soak::soak::{run, Config};
use common::*;

async fn short_soak(database: Option<String>, seed: u64) {
    let config = Config {
        rounds: 40,
        kills: 3,
        seed,
        sites: 2,
        tablets_per_site: 2,
        push_batch: 8,
        server_bin: PathBuf::from(env!("CARGO_BIN_EXE_assiette-server")),
        database,
        work_dir: temp_dir("soak"),
        progress_every: 0,
    };
    let report = run(&config).await.expect("the soak runs");
    eprintln!("{}", report.summary(seed));
    eprintln!("{:?}", report.figures);
    assert!(report.discrepancies.is_empty(), "{:#?}", report.discrepancies);
    let f = &report.figures;
    assert_eq!(f.kills, 3);
    // The faults did happen, and the tablets did work through them.
    assert!(f.lost_replies > 0 && f.duplicated_batches > 0 && f.replays > 0, "{f:?}");
    assert!(f.corrections > 0 && f.deletions > 0 && f.deleted > 0, "{f:?}");
    assert_eq!(f.records as u64, f.creations, "every entry created is on the server once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_through_lost_replies_replays_and_kills() {
    short_soak(None, 11).await;
    match std::env::var("ASSIETTE_TEST_POSTGRES_URL") {
        Ok(url) => short_soak(Some(url), 12).await,
        Err(_) => eprintln!("PostgreSQL : IGNORÉ (ASSIETTE_TEST_POSTGRES_URL non défini ; `eval \"$(scripts/pg.sh start)\"` le définit)"),
    }
}
