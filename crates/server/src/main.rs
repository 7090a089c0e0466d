use std::path::PathBuf;
use std::process::ExitCode;

use assiette_server::{config::Config, egalim_cli, http};

const USAGE: &str = "Utilisation :
  assiette-server [serve]      démarre le serveur (app + API) sur 127.0.0.1:8080
  assiette-server egalim FILE  totaux EGalim annuels d'un fichier d'achats national (CSV ou XLSX)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("egalim") => match args.get(1) {
            Some(file) => ExitCode::from(egalim_cli::run(&PathBuf::from(file)) as u8),
            None => {
                eprintln!("Il manque le fichier.\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("Commande inconnue « {other} ».\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(http::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Erreur : {e}");
            ExitCode::FAILURE
        }
    }
}
