//! The test command's short fuzz run, without AFL: the committed corpus (`corpus/<target>/`,
//! minimised by `cargo afl cmin`) replayed through the fuzz targets, then a few thousand seeded
//! random mutations of it per target. A panic is a target's invariant broken: by a corpus input,
//! a regression; by a mutation, a new finding (the input is written to `out/smoke/`).

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

/// Mutations per target in the test command (`FUZZ_MUTATIONS` to change), from a fixed seed
/// (`FUZZ_SEED`): the same inputs every run, so a failure replays.
fn mutations() -> (usize, u64) {
    let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    (var("FUZZ_MUTATIONS", 4000) as usize, var("FUZZ_SEED", 11))
}

/// One of AFL's havoc moves, blind: flip, set, insert, delete or duplicate bytes, or splice in
/// a piece of another input or a token of the target's dictionary.
fn mutate(rng: &mut fastrand::Rng, input: &mut Vec<u8>, other: &[u8], tokens: &[Vec<u8>]) {
    for _ in 0..rng.usize(1..=4) {
        let at = rng.usize(0..=input.len());
        match rng.u8(0..7) {
            0 if !input.is_empty() => {
                let i = rng.usize(0..input.len());
                input[i] ^= 1 << rng.u8(0..8);
            }
            1 if !input.is_empty() => {
                let i = rng.usize(0..input.len());
                input[i] = [0, 0x7f, 0xff, b'"', b'\\', b'-', b'9', b',', b'\n'][rng.usize(0..9)];
            }
            2 => input.insert(at, rng.u8(..)),
            3 if !input.is_empty() => {
                let end = (at + rng.usize(1..=16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            4 if !other.is_empty() => {
                let from = rng.usize(0..other.len());
                let end = (from + rng.usize(1..=64)).min(other.len());
                input.splice(at..at, other[from..end].iter().copied());
            }
            5 if !tokens.is_empty() => {
                let token = &tokens[rng.usize(0..tokens.len())];
                input.splice(at..at, token.iter().copied());
            }
            _ if !input.is_empty() => {
                let from = rng.usize(0..input.len());
                let end = (from + rng.usize(1..=32)).min(input.len());
                let piece = input[from..end].to_vec();
                input.splice(at..at, piece);
            }
            _ => input.push(rng.u8(..)),
        }
    }
}

/// The tokens of an AFL dictionary (`name="value"` lines, `\xNN` escapes).
fn tokens(dict: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("dict").join(dict)).expect("dictionary");
    text.lines()
        .filter_map(|l| l.split_once('=').map(|(_, v)| v.trim().trim_matches('"').to_owned()))
        .map(|v| {
            let (mut out, b) = (Vec::new(), v.as_bytes());
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
                    out.push(u8::from_str_radix(&v[i + 2..i + 4], 16).expect("hex escape"));
                    i += 4;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            out
        })
        .collect()
}

fn mutate_corpus(target: &str, run: fn(&[u8]), dict: &str) {
    let corpus: Vec<Vec<u8>> = inputs(target).iter().map(|f| std::fs::read(f).expect("corpus input")).collect();
    let tokens = tokens(dict);
    let (count, seed) = mutations();
    let mut rng = fastrand::Rng::with_seed(seed);
    // A mutation that breaks a target stops the run with the input saved, not thousands of
    // panic messages.
    for n in 0..count {
        let mut input = corpus[rng.usize(0..corpus.len())].clone();
        let other = &corpus[rng.usize(0..corpus.len())];
        mutate(&mut rng, &mut input, other, &tokens);
        if std::panic::catch_unwind(|| run(&input)).is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/smoke").join(target);
            std::fs::create_dir_all(&dir).expect("out/smoke");
            let file = dir.join(format!("seed-{seed}-mutation-{n}"));
            std::fs::write(&file, &input).expect("saved input");
            panic!("{target}: mutation {n} of seed {seed} breaks the target; input saved as {}", file.display());
        }
    }
}

#[test]
fn push_body_mutations() {
    mutate_corpus("push_body", assiette_fuzz::push_body, "sync.dict");
}

#[test]
fn purchase_import_mutations() {
    mutate_corpus("purchase_import", assiette_fuzz::purchase_import, "csv.dict");
}

#[test]
fn backup_records_mutations() {
    mutate_corpus("backup_records", assiette_fuzz::backup_records, "sync.dict");
}

#[test]
fn timestamps_mutations() {
    mutate_corpus("timestamps", assiette_fuzz::timestamps, "time.dict");
}
