//! A fresh database on a PostgreSQL server (for a soak run or a test), so runs never share rows.

use uuid::Uuid;

/// Creates the database `{prefix}_{uuid}` on the server of `base` (a `postgres://.../db` URL
/// whose user may create databases); returns its URL.
pub async fn fresh_database(base: &str, prefix: &str) -> Result<String, String> {
    let name = format!("{prefix}_{}", Uuid::now_v7().simple());
    let pool = sqlx::PgPool::connect(base).await.map_err(|e| format!("connexion à PostgreSQL impossible : {e}"))?;
    let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await;
    pool.close().await;
    created.map_err(|e| format!("CREATE DATABASE {name} : {e}"))?;
    let (prefix, _) = base.rsplit_once('/').ok_or("l'adresse PostgreSQL doit finir par /base")?;
    Ok(format!("{prefix}/{name}"))
}

/// Whether a database URL names PostgreSQL (else SQLite).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
