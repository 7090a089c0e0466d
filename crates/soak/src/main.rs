//! `assiette-soak`: simulated tablets sync with a real `assiette-server` process through lost
//! replies, doubled and replayed batches and SIGKILLs, then every site is audited.
//!
//!   cargo build --release -p assiette-server -p assiette-soak
//!   target/release/assiette-soak --rounds 1000 --kills 30 --seed 7 [--database URL]
//!
//! Exit code 0 when the audit finds nothing, 1 when it finds a discrepancy, 2 when the run
//! could not happen (server, database).

use std::path::PathBuf;
use std::process::ExitCode;

use assiette_soak::process::default_server_bin;
use assiette_soak::soak::{run, Config, Report};
use clap::Parser;

/// Endurance test of the sync: tablets create, correct and delete entries through lost
/// replies, doubled and replayed batches and server crashes (SIGKILL), then every tablet is
/// compared with the server.
#[derive(Parser, Debug)]
#[command(name = "assiette-soak", version)]
struct Args {
    /// Rounds (each tablet makes a few entries and syncs in most of them).
    #[arg(long, default_value_t = 200)]
    rounds: u32,
    /// Server processes killed with SIGKILL during a round's syncs, then restarted.
    #[arg(long, default_value_t = 5)]
    kills: u32,
    /// Seed of every choice (the same seed makes the same choices).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sites (canteens).
    #[arg(long, default_value_t = 3)]
    sites: usize,
    /// Tablets per site.
    #[arg(long, default_value_t = 3)]
    tablets: usize,
    /// Mutations per push (the app sends 500).
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Database: a PostgreSQL URL (a new database is created on that server for the run) or a
    /// SQLite URL; by default DATABASE_URL, else a new SQLite file in the scratch folder.
    #[arg(long, env = "DATABASE_URL")]
    database: Option<String>,
    /// The server binary [default: ASSIETTE_SERVER_BIN, else assiette-server beside this program].
    #[arg(long)]
    server: Option<PathBuf>,
    /// Scratch folder (SQLite file, server log) [default: a new folder in the temporary folder].
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let server_bin = args.server.unwrap_or_else(default_server_bin);
    if !server_bin.is_file() {
        eprintln!(
            "Serveur introuvable : {}. Construisez-le (cargo build --release -p assiette-server) ou indiquez-le avec --server ou ASSIETTE_SERVER_BIN.",
            server_bin.display()
        );
        return ExitCode::from(2);
    }
    let work_dir = args
        .work_dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("assiette-soak-{}", uuid::Uuid::now_v7().simple())));
    let config = Config {
        rounds: args.rounds,
        kills: args.kills,
        seed: args.seed,
        sites: args.sites,
        tablets_per_site: args.tablets,
        push_batch: args.batch.max(1),
        server_bin,
        database: args.database.filter(|d| !d.trim().is_empty()),
        work_dir,
        progress_every: (args.rounds / 10).max(1),
    };
    eprintln!("Serveur : {} ; dossier de travail : {}", config.server_bin.display(), config.work_dir.display());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(&config)) {
        Ok(report) => {
            print_report(&config, &report);
            if report.discrepancies.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("Le test d'endurance n'a pas pu tourner : {e}");
            ExitCode::from(2)
        }
    }
}

fn print_report(config: &Config, report: &Report) {
    let f = &report.figures;
    println!("{}", report.summary(config.seed));
    println!(
        "  saisies : {} créations, {} corrections, {} suppressions, {} renvois ; {} abandons",
        f.creations, f.corrections, f.deletions, f.resends, f.discards
    );
    println!(
        "  réseau : {} envois, {} réponses perdues, {} lots doublés, {} lots rejoués, {} sans réponse (serveur arrêté), autres statuts {:?}",
        f.pushes, f.lost_replies, f.duplicated_batches, f.replays, f.unreachable, f.push_errors
    );
    println!(
        "  serveur à la fin : {} enregistrements dont {} supprimés, {} g de pesées ; {} conflits reçus, {} refus",
        f.records, f.deleted, f.live_grams, f.conflicts, f.rejections
    );
    println!("  base : {}", report.database_url_redacted());
    if report.discrepancies.is_empty() {
        println!("Aucun écart : chaque tablette a les enregistrements du serveur, rien de perdu, rien d'appliqué deux fois.");
    } else {
        println!("{} écart(s) :", report.discrepancies.len());
        for d in &report.discrepancies {
            println!("  - {d}");
        }
    }
}
