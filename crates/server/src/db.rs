//! Database connection: embedded SQLite by default, PostgreSQL when `DATABASE_URL` says so.
//! Migrations live in `migrations/sqlite` and `migrations/postgres` and run at start.

use std::str::FromStr;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Fixed ids so the demo commune is the same on every fresh database.
pub const DEMO_COMMUNE_INSEE: &str = "76351";
pub const DEMO_SITE_SIRET: &str = "21760351500008";

impl Db {
    pub async fn open(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await
                .map_err(|e| format!("connexion PostgreSQL impossible ({url}) : {e}"))?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await.map_err(|e| format!("migration : {e}"))?;
            Ok(Db::Postgres(pool))
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| format!("dossier {} : {e}", parent.display()))?;
                }
            }
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
                .map_err(|e| e.to_string())?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit acknowledged to a tablet survives a power cut.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(|e| format!("ouverture SQLite impossible ({path}) : {e}"))?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(|e| format!("migration : {e}"))?;
            Ok(Db::Sqlite(pool))
        }
    }

    /// Creates the demo commune and its canteen once, so a new user can try at once.
    pub async fn ensure_demo(&self) -> Result<(), String> {
        let commune = "INSERT INTO communes (insee_code, name) VALUES ($1, $2) ON CONFLICT (insee_code) DO NOTHING";
        let site = "INSERT INTO sites (siret, commune_insee, name, management_type, production_type, daily_meal_count, yearly_meal_count) \
                    VALUES ($1, $2, $3, 'direct', 'site', 120, 16800) ON CONFLICT (siret) DO NOTHING";
        let name = "Commune de démonstration";
        let site_name = "École des Tilleuls";
        let r = match self {
            Db::Sqlite(p) => {
                match sqlx::query(commune).bind(DEMO_COMMUNE_INSEE).bind(name).execute(p).await {
                    Ok(_) => sqlx::query(site).bind(DEMO_SITE_SIRET).bind(DEMO_COMMUNE_INSEE).bind(site_name).execute(p).await.map(|_| ()),
                    Err(e) => Err(e),
                }
            }
            Db::Postgres(p) => {
                match sqlx::query(commune).bind(DEMO_COMMUNE_INSEE).bind(name).execute(p).await {
                    Ok(_) => sqlx::query(site).bind(DEMO_SITE_SIRET).bind(DEMO_COMMUNE_INSEE).bind(site_name).execute(p).await.map(|_| ()),
                    Err(e) => Err(e),
                }
            }
        };
        r.map_err(|e| format!("démo : {e}"))
    }
}

