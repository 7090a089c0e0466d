use std::path::PathBuf;
use std::process::ExitCode;

use assiette_server::{config::Config, egalim_cli, http};

const USAGE: &str = "Utilisation :
  assiette-server [serve]      démarre le serveur (app + API) sur 127.0.0.1:8080
  assiette-server egalim FILE  totaux EGalim annuels d'un fichier d'achats national (CSV ou XLSX)
  assiette-server create-admin EMAIL
                               crée le compte administrateur de la métropole (ou change son mot de passe) ;
                               mot de passe lu dans ASSIETTE_ADMIN_PASSWORD ou sur l'entrée standard";

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
        Some("create-admin") => match args.get(1) {
            Some(email) => create_admin(email),
            None => {
                eprintln!("Il manque l'adresse e-mail.\n{USAGE}");
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

fn create_admin(email: &str) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let password = match config.admin_password.clone() {
        Some(p) => p,
        None => {
            eprintln!("Mot de passe (au moins {} caractères), puis Entrée :", assiette_server::auth::MIN_PASSWORD_CHARS);
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).is_err() {
                eprintln!("Lecture du mot de passe impossible.");
                return ExitCode::from(2);
            }
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(assiette_server::http::create_admin(&config.database_url, email, &password)) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Erreur : {e}");
            ExitCode::from(2)
        }
    }
}
