//! Configuration read from the environment, with the defaults the README documents.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// `sqlite://PATH` (default: `data/assiette.sqlite3`) or `postgres://...`.
    pub database_url: String,
    /// Folder holding the built PWA (Trunk's `dist/`).
    pub static_dir: PathBuf,
    /// ASSIETTE_ADMIN_EMAIL / ASSIETTE_ADMIN_PASSWORD: the metropolis administrator created at
    /// first start (an existing account is left as is; `create-admin` changes its password).
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// ASSIETTE_DEMO_ENROLMENT_CODE: a fixed demo enrolment code (scripts, end-to-end tests);
    /// otherwise a fresh one is issued and printed at every start.
    pub demo_enrolment_code: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let port = match std::env::var("ASSIETTE_PORT") {
            Ok(p) => p
                .parse::<u16>()
                .map_err(|_| format!("ASSIETTE_PORT doit être un numéro de port (reçu « {p} »)"))?,
            Err(_) => 8080,
        };
        let database_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/assiette.sqlite3".to_owned());
        let static_dir = std::env::var("ASSIETTE_STATIC_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("dist"));
        Ok(Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            database_url,
            static_dir,
            admin_email: var("ASSIETTE_ADMIN_EMAIL"),
            admin_password: var("ASSIETTE_ADMIN_PASSWORD"),
            demo_enrolment_code: var("ASSIETTE_DEMO_ENROLMENT_CODE"),
        })
    }
}
