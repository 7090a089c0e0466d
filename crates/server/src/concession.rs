//! A commune's delegated-management records (issue 14): `POST /api/v1/concession/push` and
//! `/pull`. The decisions are the domain's (`assiette_domain::concession::sync`); this module
//! authorises, locks, reads, writes and commits, with the same SQL on SQLite and PostgreSQL.
//!
//! Who: signed-in people only (a kitchen tablet's token: 403 `person_only`). A push naming a
//! commune outside the account's is refused whole, 403 `commune_forbidden`, whether that
//! commune exists or not (nothing is written, nothing about it is said); a commune manager's
//! follow-up note is refused whole, 403 `metropolis_only`. A pull returns the records of the
//! account's communes, and the follow-up notes to the metropolis only.

use assiette_domain::concession::sync::{
    check_pushed, decide, CommuneRecord, CommuneRecordKind, ConcessionChange, ConcessionPullRequest, ConcessionPullResponse,
    ConcessionPushRequest, ConcessionPushResponse, ConcessionStatus, DEFAULT_CONCESSION_PULL, MAX_CONCESSION_PULL, MAX_CONCESSION_PUSH,
};
use assiette_domain::concession::CateringContract;
use assiette_domain::sync::Cursor;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::{Person, SyncAuth};
use crate::db::Db;
use crate::error::{ApiError, JsonBody};
use crate::http::AppState;
use crate::store::{ts, StoreError, StoreResult};

/// The routes (merged into `api::routes`; listed in `api::ROUTES`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/concession/push", post(push)).route("/api/v1/concession/pull", post(pull))
}

fn person_only(auth: SyncAuth) -> Result<Person, ApiError> {
    match auth {
        SyncAuth::Person(p) => Ok(p),
        SyncAuth::Device(_) => Err(ApiError::forbidden(
            "person_only",
            "Le contrat et le parcours de la commune se saisissent avec un compte de la commune ou de la métropole, pas depuis une tablette de cuisine.",
        )),
    }
}

async fn push(State(st): State<AppState>, auth: SyncAuth, JsonBody(req): JsonBody<ConcessionPushRequest>) -> Result<Json<ConcessionPushResponse>, ApiError> {
    let person = person_only(auth)?;
    if req.records.len() > MAX_CONCESSION_PUSH {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("Trop d'enregistrements dans un envoi ({}) : {MAX_CONCESSION_PUSH} au plus.", req.records.len()),
        ));
    }
    // The whole push is refused before anything is read when one record is out of scope: the
    // app only writes for the communes of its session, so this is a stale session or a forgery.
    for r in &req.records {
        if !person.covers(r.commune_insee_code()) {
            return Err(ApiError::forbidden(
                "commune_forbidden",
                format!(
                    "Vous ne pouvez modifier que les communes de votre compte : {} de la commune {} est refusé, rien n'a été enregistré.",
                    r.kind().label_fr(),
                    assiette_domain::text::excerpt(r.commune_insee_code(), 10)
                ),
            ));
        }
        if r.kind().metropolis_only() && !person.is_metropolis() {
            return Err(ApiError::forbidden("metropolis_only", "La note de suivi est réservée aux comptes de la métropole : rien n'a été enregistré."));
        }
    }
    let now = st.clock.now();
    let results = push_records(&st.db, person.account_id, &req.records, now).await?;
    let applied = results.iter().filter(|r| matches!(r, ConcessionStatus::Applied { .. })).count();
    tracing::info!(account = %person.account_id, received = req.records.len(), applied, "concession push");
    Ok(Json(ConcessionPushResponse { results }))
}

async fn pull(State(st): State<AppState>, auth: SyncAuth, JsonBody(req): JsonBody<ConcessionPullRequest>) -> Result<Json<ConcessionPullResponse>, ApiError> {
    let person = person_only(auth)?;
    let after = Cursor::decode(req.cursor.as_deref()).map_err(|m| ApiError::bad_request("invalid_cursor", m))?;
    let limit = req.limit.unwrap_or(DEFAULT_CONCESSION_PULL).clamp(1, MAX_CONCESSION_PULL);
    let scope = if person.is_metropolis() { None } else { Some(person.account_id) };
    let rows = pull_rows(&st.db, scope, after.0, limit + 1).await?;
    let has_more = rows.len() > limit as usize;
    let mut changes = Vec::with_capacity(rows.len().min(limit as usize));
    for (seq, body) in rows.into_iter().take(limit as usize) {
        let record: CommuneRecord = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("commune_records {seq}: {e}")))?;
        changes.push(ConcessionChange { change_seq: seq, record });
    }
    let next = changes.last().map_or(after.0, |c| c.change_seq);
    Ok(Json(ConcessionPullResponse { changes, next_cursor: Cursor(next).encode(), has_more }))
}

async fn push_records(db: &Db, account: Uuid, records: &[CommuneRecord], now: DateTime<Utc>) -> StoreResult<Vec<ConcessionStatus>> {
    match db {
        Db::Sqlite(s) => sqlite::push(&s.pool, account, records, now).await,
        Db::Postgres(s) => postgres::push(&s.pool, account, records, now).await,
    }
}

async fn pull_rows(db: &Db, manager: Option<Uuid>, after: u64, limit: u32) -> StoreResult<Vec<(u64, String)>> {
    match db {
        Db::Sqlite(s) => sqlite::pull(&s.pool, manager, after, limit).await,
        Db::Postgres(s) => postgres::pull(&s.pool, manager, after, limit).await,
    }
}

/// The commune's catering contract as last pushed (deleted or not: the caller decides), or
/// `None` when none was ever pushed. Read by the territory's commune page for its deadlines.
pub async fn stored_contract(db: &Db, insee: &str) -> StoreResult<Option<CateringContract>> {
    let body = match db {
        Db::Sqlite(s) => sqlite::record_body(&s.pool, insee, CommuneRecordKind::CateringContract).await?,
        Db::Postgres(s) => postgres::record_body(&s.pool, insee, CommuneRecordKind::CateringContract).await?,
    };
    match body.as_deref().map(serde_json::from_str::<CommuneRecord>) {
        None => Ok(None),
        Some(Ok(CommuneRecord::CateringContract(c))) => Ok(Some(c)),
        Some(Ok(_)) => Err(StoreError::Corrupt(format!("commune_records {insee}: not a contract"))),
        Some(Err(e)) => Err(StoreError::Corrupt(format!("commune_records {insee}: {e}"))),
    }
}

// The same SQL on both backends; only the pool type and SQLite's `BEGIN IMMEDIATE` (take the
// write lock at once, so two pushes never deadlock upgrading a read lock) differ.
macro_rules! backend {
    ($module:ident, $pool:ty, $begin:literal) => {
        mod $module {
            use super::*;

            pub async fn push(pool: &$pool, account: Uuid, records: &[CommuneRecord], now: DateTime<Utc>) -> StoreResult<Vec<ConcessionStatus>> {
                let mut tx = pool.begin_with($begin).await?;
                // One counter for every commune: pushes are serialised on it, so change
                // sequences become visible in commit order. Pushes are a few a day per commune.
                let mut last: i64 = sqlx::query_scalar("UPDATE commune_records_counter SET change_seq = change_seq WHERE id = 1 RETURNING change_seq")
                    .fetch_one(&mut *tx)
                    .await?;
                let start = last;
                let at = ts(now);
                let mut results = Vec::with_capacity(records.len());
                for r in records {
                    if let Err(rejected) = check_pushed(r, now) {
                        results.push(rejected);
                        continue;
                    }
                    let insee = r.commune_insee_code().trim().to_uppercase();
                    let kind = r.kind().code();
                    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM communes WHERE insee_code = $1").bind(&insee).fetch_one(&mut *tx).await?;
                    if exists == 0 {
                        // Only the metropolis gets here (a manager's communes exist).
                        results.push(ConcessionStatus::Rejected { reason: format!("Commune inconnue : {insee}."), errors: Vec::new() });
                        continue;
                    }
                    let stored: Option<String> = sqlx::query_scalar("SELECT body FROM commune_records WHERE commune_insee = $1 AND kind = $2")
                        .bind(&insee)
                        .bind(kind)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let current = match stored.as_deref().map(serde_json::from_str::<CommuneRecord>) {
                        None => None,
                        Some(Ok(c)) => Some(c),
                        Some(Err(e)) => {
                            tracing::error!(commune = %insee, kind, error = %e, "stored commune record unreadable");
                            results.push(ConcessionStatus::Rejected {
                                reason: format!("La version gardée par le serveur pour {} est illisible : la métropole doit la réparer.", r.kind().label_fr()),
                                errors: Vec::new(),
                            });
                            continue;
                        }
                    };
                    // Stored under the code as the key writes it, whatever case was sent.
                    let mut incoming = r.clone();
                    match &mut incoming {
                        CommuneRecord::CateringContract(c) => c.commune_insee_code = insee.clone(),
                        CommuneRecord::Checklist(c) => c.commune_insee_code = insee.clone(),
                        CommuneRecord::FollowUpNote(n) => n.commune_insee_code = insee.clone(),
                    }
                    let (status, write) = decide(current.as_ref(), &incoming, now);
                    if let Some(w) = write {
                        last += 1;
                        let body = serde_json::to_string(&w).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        sqlx::query(
                            "INSERT INTO commune_records (commune_insee, kind, id, revision, body, change_seq, server_updated_at, updated_by) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                             ON CONFLICT (commune_insee, kind) DO UPDATE SET id = excluded.id, revision = excluded.revision, body = excluded.body, \
                             change_seq = excluded.change_seq, server_updated_at = excluded.server_updated_at, updated_by = excluded.updated_by",
                        )
                        .bind(&insee)
                        .bind(kind)
                        .bind(w.meta().id.to_string())
                        .bind(w.meta().revision as i64)
                        .bind(body)
                        .bind(last)
                        .bind(&at)
                        .bind(account.to_string())
                        .execute(&mut *tx)
                        .await?;
                    }
                    results.push(status);
                }
                if last != start {
                    sqlx::query("UPDATE commune_records_counter SET change_seq = $1 WHERE id = 1").bind(last).execute(&mut *tx).await?;
                }
                // Durable before the reply (SQLite synchronous=FULL, PostgreSQL fsync on commit).
                tx.commit().await?;
                Ok(results)
            }

            /// The stored body of the commune's record of `kind`.
            pub async fn record_body(pool: &$pool, insee: &str, kind: CommuneRecordKind) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT body FROM commune_records WHERE commune_insee = $1 AND kind = $2")
                    .bind(insee)
                    .bind(kind.code())
                    .fetch_optional(pool)
                    .await?)
            }

            /// Changes after `after` in sequence order: every commune's for the metropolis
            /// (`manager` None), else the manager's communes' without the follow-up notes.
            pub async fn pull(pool: &$pool, manager: Option<Uuid>, after: u64, limit: u32) -> StoreResult<Vec<(u64, String)>> {
                let rows: Vec<(i64, String)> = match manager {
                    None => sqlx::query_as("SELECT change_seq, body FROM commune_records WHERE change_seq > $1 ORDER BY change_seq LIMIT $2")
                        .bind(after as i64)
                        .bind(i64::from(limit))
                        .fetch_all(pool)
                        .await?,
                    Some(account) => sqlx::query_as(
                        "SELECT change_seq, body FROM commune_records WHERE change_seq > $1 AND kind <> $3 \
                         AND commune_insee IN (SELECT commune_insee FROM account_communes WHERE account_id = $4) ORDER BY change_seq LIMIT $2",
                    )
                    .bind(after as i64)
                    .bind(i64::from(limit))
                    .bind(CommuneRecordKind::FollowUpNote.code())
                    .bind(account.to_string())
                    .fetch_all(pool)
                    .await?,
                };
                Ok(rows.into_iter().map(|(s, b)| (s.max(0) as u64, b)).collect())
            }
        }
    };
}

backend!(sqlite, sqlx::SqlitePool, "BEGIN IMMEDIATE");
backend!(postgres, sqlx::PgPool, "BEGIN");
