//! Replays the committed corpus (`corpus/<target>/`, minimised by `cargo afl cmin`) through
//! the fuzz targets without AFL: the test command's short fuzz run. A panic is a target's
//! invariant broken by an input that once passed, i.e. a regression.

use std::path::{Path, PathBuf};

/// The target's committed corpus, or the inputs in `$FUZZ_INPUTS/<target>` when that is set
/// (e.g. `FUZZ_INPUTS=out/push_body/default cargo test push_body` with `crashes` renamed to the
/// target's name: what AFL found, replayed with a readable panic message).
fn inputs(target: &str) -> Vec<PathBuf> {
    let base = std::env::var_os("FUZZ_INPUTS").map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), PathBuf::from);
    let dir = base.join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.txt"))
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8]), at_least: usize) {
    let files = inputs(target);
    let at_least = if std::env::var_os("FUZZ_INPUTS").is_some() { 1 } else { at_least };
    assert!(files.len() >= at_least, "{target}: {} inputs, expected at least {at_least}", files.len());
    for file in &files {
        let data = std::fs::read(file).expect("corpus input");
        // The file's name says which input broke the target.
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} breaks the target", file.display());
    }
}

#[test]
fn push_body_corpus() {
    replay("push_body", assiette_fuzz::push_body, 2);
}

#[test]
fn purchase_import_corpus() {
    replay("purchase_import", assiette_fuzz::purchase_import, 2);
}

#[test]
fn backup_records_corpus() {
    replay("backup_records", assiette_fuzz::backup_records, 2);
}

#[test]
fn timestamps_corpus() {
    replay("timestamps", assiette_fuzz::timestamps, 2);
}

/// The seeds themselves must get past the readers (else the fuzzers start from nothing): a
/// valid push is applied, a good national file imported, a backup's records read.
#[test]
fn seeds_reach_the_checks() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let push = std::fs::read(seeds.join("push_body/valid_batch.json")).unwrap();
    let req: assiette_domain::sync::PushRequest = serde_json::from_slice(&push).unwrap();
    let now = assiette_fuzz::now();
    let today = assiette_domain::sync::server_today(now);
    let site = match req.mutations[0].record.site_ref() {
        assiette_domain::sync::SiteRef::Id(id) => id,
        other => panic!("{other:?}"),
    };
    let scope = assiette_domain::sync::SiteScope { site_id: site, siret: "21760351500008".into(), name: "Fuzz".into() };
    let plan = assiette_domain::sync::plan_push(&scope, today, now, 0, &req.mutations, &Default::default(), &Default::default());
    assert_eq!(plan.last_change_seq, req.mutations.len() as u64, "{:?}", plan.results);
    let file = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/domain/tests/fixtures/ma-cantine/achats/purchases_good.csv")).unwrap();
    let opts = assiette_domain::import::ImportOptions::new(now.date_naive(), now);
    let imported = assiette_domain::import::import_purchases(&file, &opts, &mut uuid::Uuid::nil).unwrap();
    assert!(!imported.purchases.is_empty());
}
