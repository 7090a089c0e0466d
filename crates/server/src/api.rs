//! Handlers of the JSON API under `/api/v1/`. Thin: parse, authorise, call the store (whose
//! sync decisions are the domain's pure planner), reply. Documented in `openapi.json`.

use assiette_domain::site::{normalize_siret, Commune, RegionGroup, Site};
use assiette_domain::record::RecordMeta;
use assiette_domain::territory_api::{normalize_insee, EngagedRequest, EngagedResponse};
use assiette_domain::sync::{
    normalize_enrolment_code, normalize_invitation_code, AcceptInvitationRequest, AccountInfo, ClientRequest, ClientResponse, Cursor,
    DeviceInfo, EnrolRequest, EnrolResponse, EnrolmentCodeRequest, EnrolmentCodeResponse, InvitationRequest, InvitationResponse,
    LoginRequest, LoginResponse, PasswordChangeRequest, PullRequest, PushRequest, Role, SiteDetails, SiteInfo, SiteRequest, SiteScope,
    DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_MUTATIONS,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::auth::{
    check_password_strength, hash_secret, new_enrolment_code, new_invitation_code, normalize_email, random_token, DeviceAuth,
    Metropolis, Person, SessionPolicy, SyncAuth, ADMIN_TOKEN_PREFIX, DEVICE_TOKEN_PREFIX,
};
use crate::error::{ApiError, JsonBody};
use crate::guard::ClientAddr;
use crate::http::AppState;
use crate::store::{Store, StoreError};

/// The hand-written OpenAPI 3 document (kept beside this file; a test checks it names every route).
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Every route (method, path): the OpenAPI test and the HTTP tests walk this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/health"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/enrol"),
    ("get", "/api/v1/device"),
    ("post", "/api/v1/sync/push"),
    ("post", "/api/v1/sync/pull"),
    ("post", "/api/v1/admin/login"),
    ("post", "/api/v1/admin/logout"),
    ("get", "/api/v1/account"),
    ("post", "/api/v1/account/password"),
    ("post", "/api/v1/account/clients"),
    ("post", "/api/v1/invitations/accept"),
    ("get", "/api/v1/admin/accounts"),
    ("post", "/api/v1/admin/accounts/{account_id}/disable"),
    ("post", "/api/v1/admin/invitations"),
    ("get", "/api/v1/admin/communes"),
    ("post", "/api/v1/admin/communes"),
    ("post", "/api/v1/admin/communes/{insee}/engaged"),
    ("get", "/api/v1/admin/sites"),
    ("post", "/api/v1/admin/sites"),
    ("post", "/api/v1/admin/sites/{site_id}/enrolment-codes"),
    ("get", "/api/v1/admin/sites/{site_id}/devices"),
    ("post", "/api/v1/admin/devices/{device_id}/revoke"),
    ("get", "/api/v1/communes/{insee}/egalim"),
    // The territory view (`crate::territory`).
    ("get", "/api/v1/territory/overview"),
    ("get", "/api/v1/territory/communes/{insee}"),
    ("get", "/api/v1/territory/trends"),
    ("get", "/api/v1/territory/purchases"),
    // A commune's contract, checklist and follow-up note (`crate::concession`).
    ("post", "/api/v1/concession/push"),
    ("post", "/api/v1/concession/pull"),
];

/// Invitations: default and longest validity.
pub const DEFAULT_INVITATION_HOURS: u32 = 7 * 24;
pub const MAX_INVITATION_HOURS: u32 = 720;
/// Enrolment codes: default and longest validity.
pub const DEFAULT_CODE_HOURS: u32 = 72;
pub const MAX_CODE_HOURS: u32 = 720;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/enrol", post(enrol))
        .route("/api/v1/device", get(device))
        .route("/api/v1/sync/push", post(push))
        .route("/api/v1/sync/pull", post(pull))
        .route("/api/v1/admin/login", post(login))
        .route("/api/v1/admin/logout", post(logout))
        .route("/api/v1/account", get(account))
        .route("/api/v1/account/password", post(change_password))
        .route("/api/v1/account/clients", post(register_client))
        .route("/api/v1/invitations/accept", post(accept_invitation))
        .route("/api/v1/admin/accounts", get(list_accounts))
        .route("/api/v1/admin/accounts/{account_id}/disable", post(disable_account))
        .route("/api/v1/admin/invitations", post(invite))
        .route("/api/v1/admin/communes", get(list_communes).post(create_commune))
        .route("/api/v1/admin/communes/{insee}/engaged", post(set_engaged))
        .route("/api/v1/admin/sites", get(list_sites).post(create_site))
        .route("/api/v1/admin/sites/{site_id}/enrolment-codes", post(create_code))
        .route("/api/v1/admin/sites/{site_id}/devices", get(list_devices))
        .route("/api/v1/admin/devices/{device_id}/revoke", post(revoke_device))
        .route("/api/v1/communes/{insee}/egalim", get(commune_egalim))
        .merge(crate::territory::routes())
        // A commune's contract, checklist and follow-up note (own module).
        .merge(crate::concession::routes())
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .route("/api", axum::routing::any(api_not_found))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn openapi() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

async fn api_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found("not_found", format!("Adresse inconnue de l'API : {} (voir /api/v1/openapi.json).", uri.path()))
}

fn parse_id(s: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::bad_request("invalid_id", format!("Identifiant de {what} invalide : « {s} ».")))
}

/// A tablet's label: trimmed, checked like every free text of the domain (length, no control,
/// bidi or separator character).
fn clean_label(label: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(l) = label else { return Ok(None) };
    let l = l.trim().to_owned();
    if l.is_empty() {
        return Ok(None);
    }
    let mut v = assiette_domain::validation::Validation::default();
    assiette_domain::text::check_text(&mut v, "label", &l, "Le nom de la tablette", assiette_domain::text::MAX_DEVICE_LABEL_CHARS);
    if !v.is_ok() {
        let msg = v.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ");
        return Err(ApiError::unprocessable("invalid_label", msg).with_errors(v.errors));
    }
    Ok(Some(l))
}

async fn enrol(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(req): JsonBody<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ApiError> {
    st.guards.enrol_attempt(client)?;
    let code = normalize_enrolment_code(&req.code).map_err(|m| ApiError::unprocessable("invalid_enrolment_code", m))?;
    let label = clean_label(req.label)?;
    let token = random_token(DEVICE_TOKEN_PREFIX);
    let device_id = Uuid::now_v7();
    let site = st.db.enrol(&st.db.code_hash(&code), device_id, &hash_secret(&token), label.as_deref(), Utc::now()).await?;
    match site {
        Some(site) => {
            tracing::info!(%device_id, site = %site.id, "tablet enrolled");
            Ok(Json(EnrolResponse { device_id, token, site }))
        }
        None => {
            tracing::warn!(%client, "enrolment code refused");
            Err(ApiError::unauthorized(
            "enrolment_code_refused",
            format!("Le code {code} est inconnu, déjà utilisé ou expiré : demandez un nouveau code d'enrôlement à la métropole."),
            ))
        }
    }
}

#[derive(serde::Serialize)]
struct DeviceMe {
    device_id: Uuid,
    site: SiteInfo,
}

async fn device(auth: DeviceAuth) -> Json<DeviceMe> {
    Json(DeviceMe { device_id: auth.device_id, site: auth.site })
}

fn scope(site: &SiteInfo) -> SiteScope {
    SiteScope { site_id: site.id, siret: site.siret.clone(), name: site.name.clone() }
}

/// A JSON body written by hand (`crate::wire`), byte for byte what serde writes for the domain's types.
pub struct RawJson(pub Vec<u8>);

impl IntoResponse for RawJson {
    fn into_response(self) -> axum::response::Response {
        ([(axum::http::header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

fn check_batch_size(req: &PushRequest) -> Result<(), ApiError> {
    if req.mutations.len() > MAX_PUSH_MUTATIONS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("Lot de {} entrées : {MAX_PUSH_MUTATIONS} au plus par envoi, envoyez-les en plusieurs lots.", req.mutations.len()),
        ));
    }
    Ok(())
}

/// The sites a person may write, as the planner scopes them.
fn site_scopes(sites: &[SiteDetails]) -> Vec<SiteScope> {
    sites.iter().map(|s| scope(&s.info)).collect()
}

async fn push(State(st): State<AppState>, auth: SyncAuth, JsonBody(req): JsonBody<PushRequest>) -> Result<RawJson, ApiError> {
    let results = match auth {
        SyncAuth::Device(auth) => {
            if req.device_id != auth.device_id {
                return Err(ApiError::forbidden(
                    "device_mismatch",
                    "Cet envoi porte l'identifiant d'une autre tablette que celle du jeton : enrôlez de nouveau la tablette.",
                ));
            }
            check_batch_size(&req)?;
            let results = st.db.push(auth.device_id, &scope(&auth.site), &req.mutations, Utc::now()).await?;
            let applied = results.iter().filter(|r| matches!(r.status, assiette_domain::sync::MutationStatus::Applied { .. })).count();
            tracing::info!(device = %auth.device_id, received = req.mutations.len(), applied, "push");
            results
        }
        SyncAuth::Person(person) => {
            // The browser's id must be one this account registered (`POST /api/v1/account/clients`).
            if st.db.client_account(req.device_id).await? != Some(person.account_id) {
                return Err(ApiError::forbidden(
                    "device_mismatch",
                    "Cet envoi porte l'identifiant d'un appareil qui n'est pas enregistré pour votre compte : enregistrez de nouveau cet appareil.",
                ));
            }
            check_batch_size(&req)?;
            let scopes = site_scopes(&person.sites(&st.db).await?);
            let results = st.db.push_scoped(req.device_id, &scopes, &req.mutations, Utc::now()).await?;
            let applied = results.iter().filter(|r| matches!(r.status, assiette_domain::sync::MutationStatus::Applied { .. })).count();
            tracing::info!(client = %req.device_id, account = %person.account_id, received = req.mutations.len(), applied, "push");
            results
        }
    };
    // The domain's `PushResponse`, serialised by `wire::push_reply`.
    Ok(RawJson(crate::wire::push_reply(&results)))
}

async fn pull(State(st): State<AppState>, auth: SyncAuth, JsonBody(req): JsonBody<PullRequest>) -> Result<RawJson, ApiError> {
    let unknown_site = || ApiError::not_found("unknown_site", "Restaurant inconnu.");
    let site_id = match auth {
        SyncAuth::Device(auth) => match req.site_id {
            Some(id) if id != auth.site.id => return Err(unknown_site()),
            _ => auth.site.id,
        },
        SyncAuth::Person(person) => {
            let Some(id) = req.site_id else {
                return Err(ApiError::unprocessable(
                    "site_required",
                    "Indiquez le restaurant à recevoir (site_id) : un compte reçoit les saisies restaurant par restaurant, chacun avec son curseur.",
                ));
            };
            person.site(&st.db, id).await?.info.id
        }
    };
    let cursor = Cursor::decode(req.cursor.as_deref()).map_err(|m| ApiError::bad_request("invalid_cursor", m))?;
    let limit = req.limit.unwrap_or(DEFAULT_PULL_LIMIT).clamp(1, MAX_PULL_LIMIT);
    let page = st.db.pull(site_id, cursor.0, limit).await?;
    let next = page.last_seq.map(Cursor).unwrap_or(cursor);
    // The domain's `PullResponse`, with every record's stored JSON copied as it is.
    Ok(RawJson(crate::wire::pull_reply(&page.changes_json, &next.encode(), page.has_more)))
}

/// The account as its owner and the metropolis see it (communes named).
async fn account_info(db: &crate::db::Db, id: Uuid, email: &str, role: Role, communes: &[String]) -> Result<AccountInfo, ApiError> {
    let communes = if role == Role::Metropolis {
        Vec::new()
    } else {
        db.list_communes()
            .await?
            .into_iter()
            .filter(|(code, _)| communes.contains(code))
            .map(|(insee_code, name)| Commune { insee_code, name })
            .collect()
    };
    Ok(AccountInfo { id, email: email.to_owned(), role, communes, disabled_at: None })
}

/// Sign-in of every account (metropolis and commune managers).
async fn login(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = normalize_email(&req.email);
    // An address no account can have is neither looked up (it may be megabytes long) nor
    // throttled per account (every such address would be a new key).
    let valid = crate::auth::valid_email(&email);
    st.guards.login_attempt(client, valid.then_some(email.as_str()))?;
    let account = if valid { st.db.account_by_email(&email).await? } else { None };
    // Verify even for an unknown e-mail (against a throwaway hash of the same cost) so timing
    // tells nothing.
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let ok = st.guards.verify_password(req.password, hash).await?;
    let Some(account) = account.filter(|_| ok) else {
        // Never the raw e-mail: it is whatever the client sent (newlines, escapes, megabytes).
        // The words stay those that log watchers already match, whatever the role.
        tracing::warn!(email = %crate::auth::loggable_email(&email), %client, "admin login refused");
        return Err(ApiError::unauthorized("login_refused", "Adresse e-mail ou mot de passe incorrect."));
    };
    if account.disabled {
        return Err(ApiError::unauthorized("account_disabled", "Ce compte a été désactivé par la métropole : demandez-lui une nouvelle invitation."));
    }
    let token = random_token(ADMIN_TOKEN_PREFIX);
    let now = st.clock.now();
    let (idle_expires_at, expires_at) = SessionPolicy::of(account.role).expiries(now);
    st.db.create_session(&hash_secret(&token), account.id, now, idle_expires_at, expires_at).await?;
    tracing::info!(email = %account.email, role = account.role.code(), "signed in");
    let communes = st.db.list_accounts().await?.into_iter().find(|a| a.id == account.id).map(|a| a.communes).unwrap_or_default();
    let codes: Vec<String> = communes.into_iter().map(|c| c.insee_code).collect();
    let info = account_info(&st.db, account.id, &account.email, account.role, &codes).await?;
    Ok(Json(LoginResponse { token, expires_at: idle_expires_at, account: Some(info) }))
}

async fn logout(State(st): State<AppState>, person: Person) -> Result<StatusCode, ApiError> {
    st.db.delete_session(&person.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize)]
struct Me {
    #[serde(flatten)]
    account: AccountInfo,
    /// When this session ends if unused from now on.
    #[serde(with = "assiette_domain::time::rfc3339")]
    session_expires_at: chrono::DateTime<Utc>,
}

async fn account(State(st): State<AppState>, person: Person) -> Result<Json<Me>, ApiError> {
    let account = account_info(&st.db, person.account_id, &person.email, person.role, &person.communes).await?;
    Ok(Json(Me { account, session_expires_at: person.idle_expires_at }))
}

fn weak_password(message: String) -> ApiError {
    ApiError::unprocessable("weak_password", message)
}

/// A new password (the current one checked like a sign-in, behind the same throttles); every
/// other session of the account ends.
async fn change_password(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    person: Person,
    JsonBody(req): JsonBody<PasswordChangeRequest>,
) -> Result<StatusCode, ApiError> {
    st.guards.login_attempt(client, Some(&person.email))?;
    check_password_strength(&req.new_password).map_err(weak_password)?;
    let hash = st.db.account_by_email(&person.email).await?.map(|a| a.password_hash);
    if !st.guards.verify_password(req.current_password, hash).await? {
        return Err(ApiError::forbidden("wrong_password", "Mot de passe actuel incorrect : rien n'a été changé."));
    }
    let new_hash = st.guards.hash_password(req.new_password).await?;
    st.db.set_password(person.account_id, &new_hash, &person.token_hash).await?;
    tracing::info!(email = %person.email, "password changed");
    Ok(StatusCode::NO_CONTENT)
}

async fn register_client(
    State(st): State<AppState>,
    person: Person,
    JsonBody(req): JsonBody<ClientRequest>,
) -> Result<(StatusCode, Json<ClientResponse>), ApiError> {
    let label = clean_label(req.label)?;
    let client_id = Uuid::now_v7();
    st.db.create_client(client_id, person.account_id, label.as_deref(), Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(ClientResponse { client_id })))
}

async fn invite(
    State(st): State<AppState>,
    Metropolis(person): Metropolis,
    JsonBody(req): JsonBody<InvitationRequest>,
) -> Result<(StatusCode, Json<InvitationResponse>), ApiError> {
    let email = normalize_email(&req.email);
    if !crate::auth::valid_email(&email) {
        return Err(ApiError::unprocessable(
            "invalid_email",
            format!("Adresse e-mail invalide « {} » : vérifiez la saisie.", assiette_domain::text::excerpt(&email, 60)),
        ));
    }
    let mut communes: Vec<String> = req.communes.iter().map(|c| c.trim().to_uppercase()).collect();
    communes.sort();
    communes.dedup();
    if communes.is_empty() {
        return Err(ApiError::unprocessable("invalid_communes", "Choisissez au moins une commune pour ce responsable."));
    }
    let known = st.db.list_communes().await?;
    if let Some(missing) = communes.iter().find(|c| !known.iter().any(|(code, _)| code == *c)) {
        return Err(ApiError::unprocessable(
            "unknown_commune",
            format!("La commune de code INSEE {} n'est pas enregistrée : ajoutez-la d'abord.", assiette_domain::text::excerpt(missing, 10)),
        ));
    }
    let hours = req.valid_hours.unwrap_or(DEFAULT_INVITATION_HOURS);
    if hours == 0 || hours > MAX_INVITATION_HOURS {
        return Err(ApiError::unprocessable(
            "invalid_validity",
            format!("Durée de validité de l'invitation : entre 1 et {MAX_INVITATION_HOURS} heures."),
        ));
    }
    if st.db.account_by_email(&email).await?.is_some() {
        return Err(ApiError::conflict("account_exists", format!("Un compte existe déjà pour {email}.")));
    }
    let now = st.clock.now();
    let expires_at = now + Duration::hours(i64::from(hours));
    for _ in 0..5 {
        let code = new_invitation_code();
        match st.db.create_invitation(&st.db.code_hash(&code), &email, &communes, person.account_id, now, expires_at).await {
            Ok(()) => {
                tracing::info!(%email, communes = ?communes, "manager invited");
                return Ok((StatusCode::CREATED, Json(InvitationResponse { code, email, communes, expires_at })));
            }
            Err(StoreError::Exists) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::internal())
}

/// The invitee's password: the account is created and signed in.
async fn accept_invitation(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(req): JsonBody<AcceptInvitationRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    st.guards.invitation_attempt(client)?;
    let code = normalize_invitation_code(&req.code).map_err(|m| ApiError::unprocessable("invalid_invitation_code", m))?;
    check_password_strength(&req.password).map_err(weak_password)?;
    let refused = || {
        ApiError::unauthorized(
            "invitation_refused",
            "Ce code d'invitation est inconnu, déjà utilisé ou expiré : demandez une nouvelle invitation à la métropole.",
        )
    };
    let now = st.clock.now();
    let code_hash = st.db.code_hash(&code);
    // A wrong code is answered from a read, before any password is hashed.
    let Some(invitation) = st.db.live_invitation(&code_hash, now).await? else {
        tracing::warn!(%client, "invitation code refused");
        return Err(refused());
    };
    let password_hash = st.guards.hash_password(req.password).await?;
    let token = random_token(ADMIN_TOKEN_PREFIX);
    let (idle_expires_at, expires_at) = SessionPolicy::of(Role::CommuneManager).expiries(now);
    let account_id = Uuid::now_v7();
    match st.db.accept_invitation(&code_hash, account_id, &password_hash, &hash_secret(&token), now, idle_expires_at, expires_at).await {
        Ok(Some(account)) => {
            tracing::info!(email = %account.email, "invitation accepted");
            let info = account_info(&st.db, account.id, &account.email, account.role, &invitation.communes).await?;
            Ok(Json(LoginResponse { token, expires_at: idle_expires_at, account: Some(info) }))
        }
        Ok(None) => Err(refused()),
        Err(StoreError::Exists) => Err(ApiError::conflict(
            "account_exists",
            format!("Un compte existe déjà pour {} : connectez-vous avec son mot de passe.", invitation.email),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn list_accounts(State(st): State<AppState>, _m: Metropolis) -> Result<Json<Vec<AccountInfo>>, ApiError> {
    Ok(Json(st.db.list_accounts().await?))
}

async fn disable_account(State(st): State<AppState>, Metropolis(person): Metropolis, Path(id): Path<String>) -> Result<Json<AccountInfo>, ApiError> {
    let id = parse_id(&id, "compte")?;
    if id == person.account_id {
        return Err(ApiError::conflict("own_account", "Vous ne pouvez pas désactiver votre propre compte."));
    }
    match st.db.disable_account(id, st.clock.now()).await? {
        Some(a) => {
            tracing::info!(account = %id, "account disabled");
            Ok(Json(a))
        }
        None => Err(ApiError::not_found("unknown_account", "Compte inconnu.")),
    }
}

async fn list_communes(State(st): State<AppState>, person: Person) -> Result<Json<Vec<Commune>>, ApiError> {
    let list = st.db.list_communes().await?;
    Ok(Json(list.into_iter().filter(|(code, _)| person.covers(code)).map(|(insee_code, name)| Commune { insee_code, name }).collect()))
}

async fn create_commune(
    State(st): State<AppState>,
    _m: Metropolis,
    JsonBody(c): JsonBody<Commune>,
) -> Result<(StatusCode, Json<Commune>), ApiError> {
    let c = Commune { insee_code: c.insee_code.trim().to_uppercase(), name: c.name.trim().to_owned() };
    let v = c.validate();
    if !v.is_ok() {
        let msg = v.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ");
        return Err(ApiError::unprocessable("invalid_commune", msg).with_errors(v.errors));
    }
    match st.db.create_commune(&c.insee_code, &c.name).await {
        Err(StoreError::Exists) => Err(ApiError::conflict(
            "commune_exists",
            format!("La commune de code INSEE {} est déjà enregistrée.", c.insee_code),
        )),
        r => r.map(|_| (StatusCode::CREATED, Json(c))).map_err(ApiError::from),
    }
}

/// Whether a commune takes part in the metropolis' programme (the territory's « engagée »):
/// the metropolis' alone. A tablet is refused by its role (403), not asked to sign in.
async fn set_engaged(
    State(st): State<AppState>,
    auth: SyncAuth,
    Path(insee): Path<String>,
    JsonBody(req): JsonBody<EngagedRequest>,
) -> Result<Json<EngagedResponse>, ApiError> {
    let person = match auth {
        SyncAuth::Person(p) => p,
        SyncAuth::Device(_) => {
            return Err(ApiError::forbidden(
                "person_only",
                "Une tablette de cuisine ne peut pas changer l'engagement d'une commune : connectez-vous avec un compte de la métropole.",
            ))
        }
    };
    person.require_metropolis()?;
    let insee = normalize_insee(&insee).map_err(|m| ApiError::bad_request("invalid_insee", m))?;
    match st.db.set_commune_engaged(&insee, req.engaged).await? {
        Some((name, engaged)) => {
            tracing::info!(commune = %insee, engaged, "commune engagement set");
            Ok(Json(EngagedResponse { insee_code: insee, name, engaged }))
        }
        None => Err(ApiError::not_found("unknown_commune", format!("Aucune commune de code INSEE {insee} n'est enregistrée : ajoutez-la d'abord."))),
    }
}

async fn list_sites(State(st): State<AppState>, person: Person) -> Result<Json<Vec<SiteDetails>>, ApiError> {
    Ok(Json(person.sites(&st.db).await?))
}

async fn create_site(
    State(st): State<AppState>,
    _m: Metropolis,
    JsonBody(req): JsonBody<SiteRequest>,
) -> Result<(StatusCode, Json<SiteDetails>), ApiError> {
    let id = Uuid::now_v7();
    let insee = req.commune_insee.trim().to_uppercase();
    let site = Site {
        meta: RecordMeta::new(id, Utc::now()),
        name: req.name.trim().to_owned(),
        siret: normalize_siret(&req.siret),
        city_insee_code: insee.clone(),
        management_type: req.management_type,
        production_type: req.production_type,
        sectors: req.sectors.clone(),
        daily_meal_count: req.daily_meal_count,
        yearly_meal_count: req.yearly_meal_count,
        region_group: RegionGroup::for_insee_code(&insee).unwrap_or_default(),
        central_producer_siret: None,
    };
    let v = site.validate();
    if !v.is_ok() {
        let msg = v.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ");
        return Err(ApiError::unprocessable("invalid_site", msg).with_errors(v.errors));
    }
    let Some((_, commune_name)) = st.db.list_communes().await?.into_iter().find(|(code, _)| *code == insee) else {
        return Err(ApiError::unprocessable(
            "unknown_commune",
            format!("La commune de code INSEE {insee} n'est pas enregistrée : ajoutez-la d'abord."),
        ));
    };
    let details = SiteDetails {
        info: SiteInfo { id, name: site.name, siret: site.siret.clone(), commune_insee: insee, commune_name },
        management_type: site.management_type,
        production_type: site.production_type,
        sectors: site.sectors,
        daily_meal_count: site.daily_meal_count,
        yearly_meal_count: site.yearly_meal_count,
        region_group: site.region_group,
    };
    match st.db.create_site(&details).await {
        Err(StoreError::Exists) => Err(ApiError::conflict(
            "site_exists",
            format!("Un restaurant de SIRET {} est déjà enregistré.", site.siret),
        )),
        r => r.map(|_| (StatusCode::CREATED, Json(details))).map_err(ApiError::from),
    }
}

/// Issues a one-time enrolment code for a site (stored hashed; returned once).
pub async fn issue_code(db: &crate::db::Db, site_id: Uuid, label: Option<&str>, hours: u32) -> Result<EnrolmentCodeResponse, ApiError> {
    let now = Utc::now();
    let expires_at = now + Duration::hours(i64::from(hours));
    for _ in 0..5 {
        let code = new_enrolment_code();
        match db.create_enrolment_code(&db.code_hash(&code), site_id, label, now, expires_at).await {
            Ok(()) => return Ok(EnrolmentCodeResponse { code, site_id, expires_at }),
            Err(StoreError::Exists) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::internal())
}

async fn create_code(
    State(st): State<AppState>,
    person: Person,
    Path(site_id): Path<String>,
    JsonBody(req): JsonBody<EnrolmentCodeRequest>,
) -> Result<(StatusCode, Json<EnrolmentCodeResponse>), ApiError> {
    let site_id = parse_id(&site_id, "restaurant")?;
    person.site(&st.db, site_id).await?;
    let hours = req.valid_hours.unwrap_or(DEFAULT_CODE_HOURS);
    if hours == 0 || hours > MAX_CODE_HOURS {
        return Err(ApiError::unprocessable(
            "invalid_validity",
            format!("Durée de validité du code : entre 1 et {MAX_CODE_HOURS} heures."),
        ));
    }
    let label = clean_label(req.label)?;
    let code = issue_code(&st.db, site_id, label.as_deref(), hours).await?;
    Ok((StatusCode::CREATED, Json(code)))
}

async fn list_devices(State(st): State<AppState>, person: Person, Path(site_id): Path<String>) -> Result<Json<Vec<DeviceInfo>>, ApiError> {
    let site_id = parse_id(&site_id, "restaurant")?;
    person.site(&st.db, site_id).await?;
    Ok(Json(st.db.list_devices(site_id).await?))
}

async fn revoke_device(State(st): State<AppState>, person: Person, Path(device_id): Path<String>) -> Result<Json<DeviceInfo>, ApiError> {
    let device_id = parse_id(&device_id, "tablette")?;
    let unknown = || ApiError::not_found("unknown_device", "Tablette inconnue.");
    // A tablet of a site outside the scope is as unknown as a tablet that does not exist.
    let Some(device) = st.db.device(device_id).await? else { return Err(unknown()) };
    person.site(&st.db, device.site_id).await.map_err(|_| unknown())?;
    match st.db.revoke_device(device_id, Utc::now()).await? {
        Some(d) => {
            tracing::info!(%device_id, "device revoked");
            Ok(Json(d))
        }
        None => Err(ApiError::not_found("unknown_device", "Tablette inconnue.")),
    }
}

/// `GET /api/v1/communes/{insee}/egalim?year=YYYY` (the current year by default): the
/// commune's yearly EGalim totals and indicators, per site and for the whole commune, read
/// from the per-site rollup the push keeps (never from every purchase).
async fn commune_egalim(
    State(st): State<AppState>,
    Path(insee): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    person: Person,
) -> Result<Json<serde_json::Value>, ApiError> {
    use assiette_domain::egalim::{indicators, YearTotals};
    use chrono::Datelike;
    let year = match query.get("year").map(|y| y.trim()) {
        None | Some("") => Utc::now().year(),
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => y,
            _ => return Err(ApiError::unprocessable("invalid_year", format!("« {y} » n'est pas une année : indiquez-la sur quatre chiffres, par exemple year=2025."))),
        },
    };
    let insee = insee.trim().to_uppercase();
    // Another commune than the person's is answered as an unknown one: nothing leaks.
    person.check_commune(&insee)?;
    let Some((_, commune_name)) = st.db.list_communes().await?.into_iter().find(|(code, _)| *code == insee) else {
        return Err(ApiError::not_found("unknown_commune", format!("Aucune commune de code INSEE {insee} n'est enregistrée.")));
    };
    let group = RegionGroup::for_insee_code(&insee).unwrap_or_default();
    let slots = st.db.commune_egalim_slots(&insee, year).await?;
    let mut commune = YearTotals::new(String::new(), year);
    let mut commune_meals: u64 = 0;
    let mut sites = Vec::new();
    for s in st.db.list_sites().await?.into_iter().filter(|s| s.info.commune_insee == insee) {
        let totals = YearTotals::from_slots(s.info.siret.clone(), year, slots.get(&s.info.id).map(Vec::as_slice).unwrap_or(&[]));
        let meals = u64::from(s.yearly_meal_count);
        commune.add_totals(&totals);
        commune_meals += meals;
        sites.push(serde_json::json!({
            "site_id": s.info.id,
            "name": s.info.name,
            "siret": s.info.siret,
            "yearly_meal_count": s.yearly_meal_count,
            "totals": totals,
            "indicators": indicators(&totals, group, (meals > 0).then_some(meals)),
        }));
    }
    let mut commune_totals = serde_json::to_value(&commune).map_err(|e| ApiError::from(StoreError::Corrupt(e.to_string())))?;
    if let Some(m) = commune_totals.as_object_mut() {
        m.remove("siret");
    }
    Ok(Json(serde_json::json!({
        "commune_insee": insee,
        "commune_name": commune_name,
        "year": year,
        "region_group": group,
        "sites": sites,
        "commune": {
            "yearly_meal_count": commune_meals,
            "totals": commune_totals,
            "indicators": indicators(&commune, group, (commune_meals > 0).then_some(commune_meals)),
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_documents_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        let mut documented = Vec::new();
        for (path, item) in paths {
            for method in ["get", "post", "put", "delete", "patch"] {
                if item.get(method).is_some() {
                    documented.push((method.to_owned(), path.clone()));
                }
            }
        }
        documented.sort();
        let mut expected: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        expected.sort();
        assert_eq!(documented, expected);
        // Every $ref points to a defined schema.
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let text = OPENAPI_JSON;
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(schemas.contains_key(name), "missing schema {name}");
        }
    }

    fn enum_values(doc: &serde_json::Value, schema: &str, prop: &str) -> Vec<String> {
        let p = &doc["components"]["schemas"][schema]["properties"][prop];
        let list = if p["enum"].is_array() { &p["enum"] } else { &p["items"]["enum"] };
        list.as_array().unwrap_or_else(|| panic!("{schema}.{prop}")).iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    }

    fn codes<T: serde::Serialize>(all: &[T]) -> Vec<String> {
        all.iter().map(|v| serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()).collect()
    }

    /// The enums written by hand in openapi.json are exactly the domain's serde codes.
    #[test]
    fn openapi_enums_match_the_domain() {
        use assiette_domain::purchase::{Characteristic, Family, LocalDefinition};
        use assiette_domain::site::{ManagementType, ProductionType, Sector};
        use assiette_domain::waste::{Component, Stage};
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert_eq!(enum_values(&doc, "WeighingRecord", "component"), codes(&Component::ALL));
        assert_eq!(enum_values(&doc, "WeighingRecord", "stage"), codes(&Stage::ALL));
        let mut fam = enum_values(&doc, "PurchaseRecord", "famille_produits");
        let mut fam_domain = codes(&Family::ALL);
        fam.sort();
        fam_domain.sort();
        assert_eq!(fam, fam_domain);
        assert_eq!(enum_values(&doc, "PurchaseRecord", "caracteristiques"), codes(&Characteristic::ALL));
        assert_eq!(enum_values(&doc, "PurchaseRecord", "definition_local"), codes(&LocalDefinition::ALL));
        assert_eq!(enum_values(&doc, "SiteRequest", "management_type"), codes(&ManagementType::ALL));
        assert_eq!(enum_values(&doc, "SiteRequest", "production_type"), codes(&ProductionType::ALL));
        assert_eq!(enum_values(&doc, "SiteRequest", "sectors"), codes(&Sector::ALL));
        assert_eq!(enum_values(&doc, "MutationResult", "status"), vec!["applied", "duplicate", "conflict", "rejected"]);
    }
}
