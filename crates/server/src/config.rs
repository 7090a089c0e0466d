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
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let port = match std::env::var("ASSIETTE_PORT") {
            Ok(p) => p
                .parse::<u16>()
                .map_err(|_| format!("ASSIETTE_PORT doit être un numéro de port (reçu « {p} »)"))?,
            Err(_) => 8080,
        };
        let database_url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "sqlite://data/assiette.sqlite3".to_owned());
        let static_dir = std::env::var("ASSIETTE_STATIC_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("dist"));
        Ok(Self { addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)), database_url, static_dir })
    }
}
