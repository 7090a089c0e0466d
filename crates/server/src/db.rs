//! Database connection: embedded SQLite by default, PostgreSQL when `DATABASE_URL` says so.
//! Migrations live in `migrations/sqlite` and `migrations/postgres` and run at start.

use std::str::FromStr;

use assiette_domain::sync::{AccountInfo, DeviceInfo, Mutation, MutationResult, RecordPayload, SiteDetails, SiteInfo, SiteScope};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

use crate::config::{redact_database_url, scrub_secrets};
use crate::store::{AccountRow, DeviceRow, InvitationRow, PgStore, SessionRow, SqliteStore, Store, StoreResult};
use crate::wire::PullPage;

/// The configured backend; implements [`Store`] by delegating to it.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Fixed ids so the demo commune is the same on every fresh database.
pub const DEMO_COMMUNE_INSEE: &str = "76351";
pub const DEMO_SITE_SIRET: &str = "21760351500008";
/// The demo canteen's UUID (also set by migration 0002 on databases created before it).
pub const DEMO_SITE_ID: Uuid = Uuid::from_u128(0x01900000_7635_7000_8000_021760351500);
pub const DEMO_SITE_NAME: &str = "École des Tilleuls";
pub const DEMO_COMMUNE_NAME: &str = "Commune de démonstration";
/// The label of the demo tablet's codes (one live at a time: a new one ends the others).
pub const DEMO_CODE_LABEL: &str = "Tablette de démonstration";
/// The demo commune's manager, invited at each start until the invitation is accepted.
pub const DEMO_MANAGER_EMAIL: &str = "gestionnaire@demo.assiette.invalid";
/// Who invites the demo manager: a metropolis account whose password nobody knows.
pub const DEMO_METROPOLIS_EMAIL: &str = "metropole@demo.assiette.invalid";

impl Db {
    /// Opens and migrates the database. Errors never show the password of `url` (they are
    /// printed at start and by `create-admin`).
    pub async fn open(url: &str) -> Result<Self, String> {
        // Whatever the driver quotes (the address, its password) is scrubbed before it is shown.
        let shown = |message: String| scrub_secrets(&message, url);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| shown(format!("adresse PostgreSQL invalide ({}) : {e}", redact_database_url(url))))?
                // Every query here reads by key, or a key range in index order (a pull page).
                // Bitmap scans only win on wrong row estimates (a table not analysed yet after
                // a bulk load), and then a pull page read and sorted every change after the
                // cursor: 13 ms instead of 2 for 1000 of 10,000 changes, worse as sites grow.
                // The rollups' pages are in memory or on SSD: a random read costs about what a
                // sequential one does (the default 4 assumes spinning disks). With 4, a
                // territory's two months of day rows (38,000 of 1.9 M, one index range per site)
                // were read by a parallel scan of the whole table: 310 ms instead of 65.
                .options([("enable_bitmapscan", "off"), ("random_page_cost", "1.1")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(|e| shown(format!("connexion PostgreSQL impossible ({}) : {e}", redact_database_url(url))))?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await.map_err(|e| shown(format!("migration : {e}")))?;
            let store = PgStore::new(pool);
            store.load_code_key().await.map_err(|e| shown(e.to_string()))?;
            store.roll_up_pending_sites().await.map_err(|e| shown(format!("totaux EGalim : {e}")))?;
            store.roll_up_pending_territory().await.map_err(|e| shown(format!("cumuls du territoire : {e}")))?;
            Ok(Db::Postgres(store))
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
                // (In WAL mode FULL syncs the WAL at every commit; NORMAL would not, and a
                // power cut could then lose a batch already answered `applied`.)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(10))
                // Checkpoints (copying the WAL into the database file) run in the background
                // after commits (see `SqliteStore::spawn_checkpointer`), not inside the commit
                // of whichever push crosses the WAL threshold. Durability is the WAL's fsync.
                .pragma("wal_autocheckpoint", "0")
                // 16 MB page cache per connection (default 2 MB; 8 connections: 128 MB at most):
                // a pull page or a push batch reads its pages from memory, not through the file.
                .pragma("cache_size", "-16384")
                // Rows of a read (a batch's stored records, up to 1000) cross from SQLite's
                // thread in one go instead of waking the reader every 50 rows.
                .row_buffer_size(1024);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(|e| format!("ouverture SQLite impossible ({path}) : {e}"))?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(|e| format!("migration : {e}"))?;
            let store = SqliteStore::new(pool);
            store.load_code_key().await.map_err(|e| e.to_string())?;
            store.roll_up_pending_sites().await.map_err(|e| format!("totaux EGalim : {e}"))?;
            store.roll_up_pending_territory().await.map_err(|e| format!("cumuls du territoire : {e}"))?;
            Ok(Db::Sqlite(store))
        }
    }

    /// What is stored for an enrolment code (normalised): its HMAC-SHA256 under this
    /// database's key, so that the codes table alone (a dump, an export) does not give the
    /// codes away by a search of their 31^8 values.
    pub fn code_hash(&self, code: &str) -> String {
        let key = match self {
            Db::Sqlite(s) => s.code_key(),
            Db::Postgres(s) => s.code_key(),
        };
        crate::auth::hash_code(key, code)
    }

    /// Closes the pool (waits for connections to return), e.g. before reopening the same file.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(s) => s.close().await,
            Db::Postgres(s) => s.pool.close().await,
        }
    }

    /// Every stored record as (id, site, applied at, body), for `repair-records`.
    pub async fn raw_records(&self) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
        let sql = "SELECT id, site_id, server_updated_at, body FROM records ORDER BY site_id, change_seq";
        match self {
            Db::Sqlite(s) => sqlx::query_as(sql).fetch_all(&s.pool).await,
            Db::Postgres(s) => sqlx::query_as(sql).fetch_all(&s.pool).await,
        }
    }

    /// Replaces a record's body if it is still `old` (a push may have replaced it meanwhile).
    /// A repaired record was left out of its site's rollups (EGalim, territory): the site is
    /// rolled up again when the server next opens the database.
    pub async fn rewrite_record_body(&self, id: &str, old: &str, new: &str) -> Result<(), sqlx::Error> {
        let sql = "UPDATE records SET body = $1 WHERE id = $2 AND body = $3";
        let pending = "INSERT INTO egalim_rollup_pending (site_id) SELECT site_id FROM records WHERE id = $1 AND kind = 'purchase' \
                       ON CONFLICT (site_id) DO NOTHING";
        // Its day or purchase month too (territory rollups, 0011).
        let territory = "INSERT INTO territory_rollup_pending (site_id) SELECT site_id FROM records WHERE id = $1 \
                       ON CONFLICT (site_id) DO NOTHING";
        match self {
            Db::Sqlite(s) => {
                sqlx::query(sql).bind(new).bind(id).bind(old).execute(&s.pool).await?;
                sqlx::query(pending).bind(id).execute(&s.pool).await?;
                sqlx::query(territory).bind(id).execute(&s.pool).await.map(|_| ())
            }
            Db::Postgres(s) => {
                sqlx::query(sql).bind(new).bind(id).bind(old).execute(&s.pool).await?;
                sqlx::query(pending).bind(id).execute(&s.pool).await?;
                sqlx::query(territory).bind(id).execute(&s.pool).await.map(|_| ())
            }
        }
    }

    /// Creates the demo commune and its canteen once, so a new user can try at once.
    pub async fn ensure_demo(&self) -> Result<(), String> {
        use assiette_domain::site::{ManagementType, ProductionType, Sector};
        let r: StoreResult<()> = async {
            if !self.list_communes().await?.iter().any(|(code, _)| code == DEMO_COMMUNE_INSEE) {
                self.create_commune(DEMO_COMMUNE_INSEE, DEMO_COMMUNE_NAME).await?;
            }
            if self.site_by_siret(DEMO_SITE_SIRET).await?.is_none() {
                self.create_site(&SiteDetails {
                    info: SiteInfo {
                        id: DEMO_SITE_ID,
                        name: DEMO_SITE_NAME.into(),
                        siret: DEMO_SITE_SIRET.into(),
                        commune_insee: DEMO_COMMUNE_INSEE.into(),
                        commune_name: DEMO_COMMUNE_NAME.into(),
                    },
                    management_type: ManagementType::Direct,
                    production_type: ProductionType::Site,
                    sectors: vec![Sector::EducationPrimaire],
                    daily_meal_count: 120,
                    yearly_meal_count: 16800,
                    region_group: assiette_domain::site::RegionGroup::Mainland,
                })
                .await?;
            }
            Ok(())
        }
        .await;
        r.map_err(|e| format!("démo : {e}"))
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Db::Sqlite($s) => $e,
            Db::Postgres($s) => $e,
        }
    };
}

impl Store for Db {
    async fn admin_count(&self) -> StoreResult<i64> {
        delegate!(self, s => s.admin_count().await)
    }
    async fn upsert_admin(&self, email: &str, password_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        delegate!(self, s => s.upsert_admin(email, password_hash, now).await)
    }
    async fn create_admin_if_missing(&self, email: &str, password_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        delegate!(self, s => s.create_admin_if_missing(email, password_hash, now).await)
    }
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountRow>> {
        delegate!(self, s => s.account_by_email(email).await)
    }
    async fn create_session(&self, token_hash: &str, account_id: Uuid, now: DateTime<Utc>, idle_expires_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<()> {
        delegate!(self, s => s.create_session(token_hash, account_id, now, idle_expires_at, expires_at).await)
    }
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
        delegate!(self, s => s.session(token_hash).await)
    }
    async fn touch_session(&self, token_hash: &str, idle_expires_at: DateTime<Utc>) -> StoreResult<()> {
        delegate!(self, s => s.touch_session(token_hash, idle_expires_at).await)
    }
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        delegate!(self, s => s.delete_session(token_hash).await)
    }
    async fn set_password(&self, account_id: Uuid, password_hash: &str, keep_token_hash: &str) -> StoreResult<()> {
        delegate!(self, s => s.set_password(account_id, password_hash, keep_token_hash).await)
    }
    async fn list_accounts(&self) -> StoreResult<Vec<AccountInfo>> {
        delegate!(self, s => s.list_accounts().await)
    }
    async fn disable_account(&self, account_id: Uuid, now: DateTime<Utc>) -> StoreResult<Option<AccountInfo>> {
        delegate!(self, s => s.disable_account(account_id, now).await)
    }
    async fn create_invitation(&self, code_hash: &str, email: &str, communes: &[String], invited_by: Uuid, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<()> {
        delegate!(self, s => s.create_invitation(code_hash, email, communes, invited_by, now, expires_at).await)
    }
    async fn live_invitation(&self, code_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<InvitationRow>> {
        delegate!(self, s => s.live_invitation(code_hash, now).await)
    }
    async fn accept_invitation(&self, code_hash: &str, account_id: Uuid, password_hash: &str, token_hash: &str, now: DateTime<Utc>, idle_expires_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<Option<AccountRow>> {
        delegate!(self, s => s.accept_invitation(code_hash, account_id, password_hash, token_hash, now, idle_expires_at, expires_at).await)
    }
    async fn create_client(&self, client_id: Uuid, account_id: Uuid, label: Option<&str>, now: DateTime<Utc>) -> StoreResult<()> {
        delegate!(self, s => s.create_client(client_id, account_id, label, now).await)
    }
    async fn client_account(&self, client_id: Uuid) -> StoreResult<Option<Uuid>> {
        delegate!(self, s => s.client_account(client_id).await)
    }
    async fn create_commune(&self, insee_code: &str, name: &str) -> StoreResult<()> {
        delegate!(self, s => s.create_commune(insee_code, name).await)
    }
    async fn list_communes(&self) -> StoreResult<Vec<(String, String)>> {
        delegate!(self, s => s.list_communes().await)
    }
    async fn commune_engagement(&self, insee_code: &str) -> StoreResult<Option<(String, bool)>> {
        delegate!(self, s => s.commune_engagement(insee_code).await)
    }
    async fn set_commune_engaged(&self, insee_code: &str, engaged: bool) -> StoreResult<Option<(String, bool)>> {
        delegate!(self, s => s.set_commune_engaged(insee_code, engaged).await)
    }
    async fn create_site(&self, site: &SiteDetails) -> StoreResult<()> {
        delegate!(self, s => s.create_site(site).await)
    }
    async fn list_sites(&self) -> StoreResult<Vec<SiteDetails>> {
        delegate!(self, s => s.list_sites().await)
    }
    async fn site(&self, id: Uuid) -> StoreResult<Option<SiteDetails>> {
        delegate!(self, s => s.site(id).await)
    }
    async fn site_by_siret(&self, siret: &str) -> StoreResult<Option<SiteDetails>> {
        delegate!(self, s => s.site_by_siret(siret).await)
    }
    async fn create_enrolment_code(&self, code_hash: &str, site_id: Uuid, label: Option<&str>, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<()> {
        delegate!(self, s => s.create_enrolment_code(code_hash, site_id, label, now, expires_at).await)
    }
    async fn cancel_unused_codes(&self, site_id: Uuid, label: &str, keep_hash: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        delegate!(self, s => s.cancel_unused_codes(site_id, label, keep_hash, now).await)
    }
    async fn enrol(&self, code_hash: &str, device_id: Uuid, token_hash: &str, label: Option<&str>, now: DateTime<Utc>) -> StoreResult<Option<SiteInfo>> {
        delegate!(self, s => s.enrol(code_hash, device_id, token_hash, label, now).await)
    }
    async fn device_by_token(&self, token_hash: &str) -> StoreResult<Option<DeviceRow>> {
        delegate!(self, s => s.device_by_token(token_hash).await)
    }
    async fn device(&self, device_id: Uuid) -> StoreResult<Option<DeviceInfo>> {
        delegate!(self, s => s.device(device_id).await)
    }
    async fn list_devices(&self, site_id: Uuid) -> StoreResult<Vec<DeviceInfo>> {
        delegate!(self, s => s.list_devices(site_id).await)
    }
    async fn revoke_device(&self, device_id: Uuid, now: DateTime<Utc>) -> StoreResult<Option<DeviceInfo>> {
        delegate!(self, s => s.revoke_device(device_id, now).await)
    }
    async fn push(&self, device_id: Uuid, scope: &SiteScope, mutations: &[Mutation], now: DateTime<Utc>) -> StoreResult<Vec<MutationResult>> {
        delegate!(self, s => s.push(device_id, scope, mutations, now).await)
    }
    async fn push_scoped(&self, client_id: Uuid, scopes: &[SiteScope], mutations: &[Mutation], now: DateTime<Utc>) -> StoreResult<Vec<MutationResult>> {
        delegate!(self, s => s.push_scoped(client_id, scopes, mutations, now).await)
    }
    async fn pull(&self, site_id: Uuid, after: u64, limit: u32) -> StoreResult<PullPage> {
        delegate!(self, s => s.pull(site_id, after, limit).await)
    }
    async fn site_records(&self, site_id: Uuid) -> StoreResult<Vec<RecordPayload>> {
        delegate!(self, s => s.site_records(site_id).await)
    }
    async fn commune_egalim_slots(&self, commune_insee: &str, year: i32) -> StoreResult<std::collections::HashMap<Uuid, Vec<i64>>> {
        delegate!(self, s => s.commune_egalim_slots(commune_insee, year).await)
    }
    async fn roll_up_pending_sites(&self) -> StoreResult<u64> {
        delegate!(self, s => s.roll_up_pending_sites().await)
    }
    async fn roll_up_pending_territory(&self) -> StoreResult<u64> {
        delegate!(self, s => s.roll_up_pending_territory().await)
    }
    async fn territory_sites(&self, commune: Option<&str>) -> StoreResult<Vec<assiette_domain::territory::SiteSummary>> {
        delegate!(self, s => s.territory_sites(commune).await)
    }
    async fn territory_days(&self, commune: Option<&str>, ranges: &[assiette_domain::waste::DateRange], last_before: Option<chrono::NaiveDate>) -> StoreResult<Vec<assiette_domain::territory::DayRollup>> {
        delegate!(self, s => s.territory_days(commune, ranges, last_before).await)
    }
    async fn territory_period_sums(&self, commune: Option<&str>, range: assiette_domain::waste::DateRange) -> StoreResult<Vec<assiette_domain::territory::SiteDays>> {
        delegate!(self, s => s.territory_period_sums(commune, range).await)
    }
    async fn territory_year_totals(&self, commune: Option<&str>, year: Option<i32>, detail: crate::store::Detail) -> StoreResult<Vec<assiette_domain::egalim::YearTotals>> {
        delegate!(self, s => s.territory_year_totals(commune, year, detail).await)
    }
    async fn territory_site_days(
        &self,
        commune: Option<&str>,
        period: assiette_domain::waste::DateRange,
        baseline: Option<assiette_domain::waste::DateRange>,
        window: &[chrono::NaiveDate],
        today: chrono::NaiveDate,
    ) -> StoreResult<Vec<assiette_domain::territory::SiteDays>> {
        delegate!(self, s => s.territory_site_days(commune, period, baseline, window, today).await)
    }
    async fn territory_purchase_month_counts(&self, commune: Option<&str>, year: i32) -> StoreResult<std::collections::BTreeMap<String, u32>> {
        delegate!(self, s => s.territory_purchase_month_counts(commune, year).await)
    }
    async fn territory_purchase_months(&self, commune: Option<&str>, year: i32) -> StoreResult<Vec<assiette_domain::territory::PurchaseMonth>> {
        delegate!(self, s => s.territory_purchase_months(commune, year).await)
    }
    async fn territory_version(&self) -> StoreResult<String> {
        delegate!(self, s => s.territory_version().await)
    }
}
