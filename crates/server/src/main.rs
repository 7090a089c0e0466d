use std::path::PathBuf;
use std::process::ExitCode;

use assiette_server::{config::Config, egalim_cli, http};

const USAGE: &str = "Utilisation :
  assiette-server [serve]      démarre le serveur (app + API) sur 127.0.0.1:8080
  assiette-server egalim FILE  totaux EGalim annuels d'un fichier d'achats national (CSV ou XLSX)
  assiette-server repair-records [--apply]
                               liste les enregistrements que le serveur ne peut plus relire et,
                               avec --apply, répare ceux dont seules les dates sont en cause
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
        Some("repair-records") => repair_records(args.get(1).is_some_and(|a| a == "--apply")),
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

/// The configuration from the environment; a bad variable is said on stderr (exit code 2).
fn config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })
}

fn serve() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        // Colours only on a terminal: piped into a file or a journal, logs stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
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
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
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

fn repair_records(apply: bool) -> ExitCode {
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async {
        let db = assiette_server::db::Db::open(&config.database_url).await?;
        let found = assiette_server::repair::repair_records(&db, apply).await;
        db.close().await;
        found
    });
    match result {
        Ok(found) if found.is_empty() => {
            println!("Tous les enregistrements se relisent : rien à réparer.");
            ExitCode::SUCCESS
        }
        Ok(found) => {
            let mut manual = 0;
            for u in &found {
                match &u.repaired {
                    Ok(_) if apply => println!("{} (restaurant {}) : dates illisibles remplacées par la date d'application.", u.id, u.site_id),
                    Ok(_) => println!("{} (restaurant {}) : réparable (dates illisibles), relancez avec --apply.", u.id, u.site_id),
                    Err(why) => {
                        manual += 1;
                        println!("{} (restaurant {}) : {why}.", u.id, u.site_id);
                    }
                }
            }
            println!("{} enregistrement(s) illisible(s), dont {manual} à corriger à la main.", found.len());
            if manual > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(e) => {
            eprintln!("Erreur : {e}");
            ExitCode::FAILURE
        }
    }
}
