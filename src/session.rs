//! A person's session in the office bundle (commune managers, the metropolis): sign-in,
//! invitation, sign-out, and the sync signer that pushes and pulls with the session token.
//! The session is one record of the settings store (IndexedDB), so a manager who syncs once a
//! week stays signed in offline across reloads. Only the office bundle calls this module: the
//! kitchen's wasm carries none of it.


use assiette_domain::sync::{AcceptInvitationRequest, AccountInfo, ClientRequest, ClientResponse, LoginRequest, LoginResponse};
use assiette_domain::site::RegionGroup;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::storage::{Repository, StorageError};
#[cfg(feature = "office")]
use crate::sync::{PersonSync, Signer};

/// Settings key of the session (one record).
pub const SESSION_KEY: &str = "person_session";
/// Settings key of this browser's registered sync client (kept across sessions of one account:
/// its outbox seqs are the dedup keys the server holds for it).
pub const CLIENT_KEY: &str = "person_client";
/// A request that takes longer than this is abandoned (counted as offline).
const TIMEOUT_MS: i32 = 30_000;

/// What the office keeps of a signed-in person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    /// Who, with the role and the communes in scope.
    pub account: AccountInfo,
    /// The sites of the scope (SIRET, name, commune, meals), as the server listed them at sign-in.
    pub sites: Vec<SessionSite>,
    /// When the server ends the session if unused (each sync moves it forward).
    #[serde(with = "assiette_domain::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// The server answered 401: sign in again (everything unsent is kept).
    #[serde(default)]
    pub expired: bool,
}

/// A site of the scope, read from `GET /api/v1/admin/sites` (the fields the office uses; a
/// flat type: serde's `flatten` of the domain's `SiteDetails` costs the wasm a generic reader).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSite {
    pub id: Uuid,
    pub siret: String,
    pub name: String,
    pub commune_insee: String,
    pub commune_name: String,
    #[serde(default)]
    pub yearly_meal_count: u32,
    /// Meals on an ordinary day (the delegated-management guide's size thresholds read it).
    #[serde(default)]
    pub daily_meal_count: u32,
    #[serde(default)]
    pub region_group: RegionGroup,
}

/// This browser's sync client id, and the account it was registered for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRegistration {
    pub account_id: Uuid,
    pub client_id: Uuid,
}

/// The session as the office screens see it.
#[derive(Clone, Copy)]
pub struct SessionState {
    pub session: RwSignal<Option<Session>>,
    /// The stored session has been read (until then, nothing is shown as signed out).
    pub loaded: RwSignal<bool>,
}

impl SessionState {
    pub fn new() -> Self {
        SessionState { session: RwSignal::new(None), loaded: RwSignal::new(false) }
    }
}

impl Default for SessionState {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a request to the server failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// No answer (no network, server down, timeout).
    Offline,
    /// The server's French `error`, its `code`, and a 429's `Retry-After` (seconds).
    Refused { status: u16, code: String, message: String, retry_after: Option<u64> },
}

/// "45 s", "2 min", "2 min 5 s".
pub fn wait_fr(seconds: u64) -> String {
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

impl HttpError {
    pub fn message_fr(&self) -> String {
        match self {
            HttpError::Offline => "Connexion impossible hors ligne : vérifiez le réseau, puis réessayez. Vos saisies restent sur cet appareil.".into(),
            // Every password check busy (not the person's doing): the server's words.
            HttpError::Refused { status: 429, code, message, .. } if code == "server_busy" => message.clone(),
            HttpError::Refused { status: 429, retry_after, .. } => format!(
                "Trop d'essais : réessayez dans {}. Rien n'a été envoyé.",
                wait_fr(retry_after.unwrap_or(60))
            ),
            HttpError::Refused { status, .. } if *status >= 500 => {
                format!("Le serveur ne répond pas correctement ({status}) : réessayez dans un moment. Vos saisies restent sur cet appareil.")
            }
            HttpError::Refused { message, .. } => message.clone(),
        }
    }
}

/// One JSON request to the server (same origin): the reply's text, or why it failed (the
/// server's French `error`, and `Retry-After` of a 429).
pub async fn request(method: &str, path: &str, token: Option<&str>, body: Option<String>) -> Result<String, HttpError> {
    let window = web_sys::window().ok_or(HttpError::Offline)?;
    let headers = web_sys::Headers::new().map_err(|_| HttpError::Offline)?;
    let _ = headers.set("Content-Type", "application/json");
    if let Some(t) = token {
        let _ = headers.set("Authorization", &format!("Bearer {t}"));
    }
    let controller = web_sys::AbortController::new().map_err(|_| HttpError::Offline)?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers);
    if let Some(b) = body {
        init.set_body(&b.into());
    }
    init.set_signal(Some(&controller.signal()));
    let abort = controller.clone();
    let timer = wasm_bindgen::closure::Closure::once_into_js(move || abort.abort());
    let timer_id = window.set_timeout_with_callback_and_timeout_and_arguments_0(timer.unchecked_ref(), TIMEOUT_MS).unwrap_or(0);
    let result = JsFuture::from(window.fetch_with_str_and_init(path, &init)).await;
    window.clear_timeout_with_handle(timer_id);
    let response: web_sys::Response = result.map_err(|_| HttpError::Offline)?.unchecked_into();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok());
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    if (200..300).contains(&status) {
        return Ok(text);
    }
    // A service worker answering for an unreachable server, or a proxy's page: offline.
    if status == 0 {
        return Err(HttpError::Offline);
    }
    // Read by the browser's JSON: the wasm carries no JSON tree for it.
    let reply = js_sys::JSON::parse(&text).ok().filter(|v| v.is_object());
    let field = |name: &str| reply.as_ref().and_then(|v| js_sys::Reflect::get(v, &name.into()).ok()).and_then(|e| e.as_string());
    let message = field("error").unwrap_or_else(|| format!("Le serveur a refusé la demande ({status})."));
    Err(HttpError::Refused { status, code: field("code").unwrap_or_default(), message, retry_after })
}

fn json_of<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn read_reply<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("Réponse du serveur illisible : {e}."))
}

/// The stored session, if any.
pub async fn load(repo: &Repository) -> Result<Option<Session>, StorageError> {
    repo.setting::<Session>(SESSION_KEY).await
}

/// Stores the session (one record).
pub async fn store(repo: &Repository, session: &Session) -> Result<(), StorageError> {
    repo.set_setting(SESSION_KEY, session).await
}

/// This browser's client id for the account: the stored one, or a new one registered now.
async fn ensure_client(repo: &Repository, account_id: Uuid, token: &str) -> Result<Uuid, String> {
    if let Some(c) = repo.setting::<ClientRegistration>(CLIENT_KEY).await.map_err(|e| e.message_fr())? {
        if c.account_id == account_id {
            return Ok(c.client_id);
        }
    }
    let body = json_of(&ClientRequest { label: Some("Navigateur du bureau".to_owned()) });
    let reply: ClientResponse = read_reply(&request("POST", "/api/v1/account/clients", Some(token), Some(body)).await.map_err(|e| e.message_fr())?)?;
    repo.set_setting(CLIENT_KEY, &ClientRegistration { account_id, client_id: reply.client_id }).await.map_err(|e| e.message_fr())?;
    Ok(reply.client_id)
}

/// Refuses a sign-in as another account while the one signed in before has unsent entries on
/// this device: they would be sent under someone else's account.
async fn check_other_account(repo: &Repository, email: Option<&str>) -> Result<(), String> {
    let Some(previous) = load(repo).await.map_err(|e| e.message_fr())? else { return Ok(()) };
    if email.is_some_and(|e| e.trim().eq_ignore_ascii_case(&previous.account.email)) {
        return Ok(());
    }
    let unsent = repo.outbox_len().await.map_err(|e| e.message_fr())?;
    if unsent == 0 {
        return Ok(());
    }
    Err(format!(
        "Cet appareil a encore {} de {} : reconnectez-vous avec ce compte pour les envoyer, puis déconnectez-vous.",
        unsent_fr(unsent),
        previous.account.email
    ))
}

/// "1 achat non envoyé", "3 achats non envoyés".
pub fn unsent_fr(n: u32) -> String {
    if n == 1 {
        "1 achat non envoyé".to_owned()
    } else {
        format!("{n} achats non envoyés")
    }
}

/// After the server's sign-in reply: the sites of the scope, this browser's client id, and the
/// session stored. The session is stored only once all of it is known.
async fn open_session(repo: &Repository, reply: LoginResponse) -> Result<Session, String> {
    let account = reply.account.ok_or("Réponse du serveur sans compte : réessayez.")?;
    let sites: Vec<SessionSite> = read_reply(&request("GET", "/api/v1/admin/sites", Some(&reply.token), None).await.map_err(|e| e.message_fr())?)?;
    ensure_client(repo, account.id, &reply.token).await?;
    let session = Session { token: reply.token, account, sites, expires_at: reply.expires_at, expired: false };
    store(repo, &session).await.map_err(|e| e.message_fr())?;
    Ok(session)
}

/// Signs in with an e-mail and a password.
pub async fn sign_in(repo: &Repository, email: &str, password: &str) -> Result<Session, String> {
    if email.trim().is_empty() || password.is_empty() {
        return Err("Saisissez votre adresse e-mail et votre mot de passe.".to_owned());
    }
    check_other_account(repo, Some(email)).await?;
    let body = json_of(&LoginRequest { email: email.trim().to_owned(), password: password.to_owned() });
    let reply: LoginResponse = read_reply(&request("POST", "/api/v1/admin/login", None, Some(body)).await.map_err(|e| e.message_fr())?)?;
    open_session(repo, reply).await
}

/// Accepts an invitation: the password chosen, the account created and signed in.
pub async fn accept_invitation(repo: &Repository, code: &str, password: &str, confirmation: &str) -> Result<Session, String> {
    if code.trim().is_empty() {
        return Err("Saisissez le code d'invitation reçu de la métropole.".to_owned());
    }
    if password.chars().count() < 12 {
        return Err("Le mot de passe doit comporter au moins 12 caractères.".to_owned());
    }
    if password != confirmation {
        return Err("Les deux mots de passe diffèrent : saisissez le même deux fois.".to_owned());
    }
    check_other_account(repo, None).await?;
    let body = json_of(&AcceptInvitationRequest { code: code.trim().to_owned(), password: password.to_owned() });
    let reply: LoginResponse =
        read_reply(&request("POST", "/api/v1/invitations/accept", None, Some(body)).await.map_err(|e| e.message_fr())?)?;
    open_session(repo, reply).await
}

/// Signs out: refused while entries wait for the server (they would wait for a sign-in), and
/// offline (the server must end the session). The client id and the entries stay.
pub async fn sign_out(repo: &Repository, session: &Session) -> Result<(), String> {
    let unsent = repo.outbox_len().await.map_err(|e| e.message_fr())?;
    if unsent > 0 {
        return Err(format!(
            "Déconnexion refusée : {} sur cet appareil. Synchronisez-les d'abord (en ligne) ; ils sont conservés.",
            if unsent == 1 { "1 achat n'est pas encore envoyé".to_owned() } else { format!("{unsent} achats ne sont pas encore envoyés") }
        ));
    }
    if !session.expired {
        match request("POST", "/api/v1/admin/logout", Some(&session.token), None).await {
            Ok(_) => {}
            // Already ended on the server.
            Err(HttpError::Refused { status: 401, .. }) => {}
            Err(HttpError::Offline) => {
                return Err("Déconnexion impossible hors ligne : le serveur doit clore la session. Réessayez une fois en ligne.".to_owned())
            }
            Err(e) => return Err(e.message_fr()),
        }
    }
    repo.remove_setting(SESSION_KEY).await.map_err(|e| e.message_fr())
}

/// Marks the stored session expired (a 401): kept, so the screens still show its sites.
pub async fn mark_expired(repo: &Repository) -> Result<Option<Session>, StorageError> {
    let Some(mut s) = load(repo).await? else { return Ok(None) };
    s.expired = true;
    store(repo, &s).await?;
    Ok(Some(s))
}

/// What the office says when the session has ended.
pub fn expired_fr(unsent: u32) -> String {
    match unsent {
        0 => "Votre session a expiré : reconnectez-vous.".to_owned(),
        1 => "Votre session a expiré : reconnectez-vous ; votre achat non envoyé est conservé.".to_owned(),
        n => format!("Votre session a expiré : reconnectez-vous ; vos {n} achats non envoyés sont conservés."),
    }
}

/// The pull cursor key of one site of a person's sync.
pub fn cursor_key(site_id: Uuid) -> String {
    format!("pull_cursor:{site_id}")
}

/// The sync signer of the office: the session's token and client id, each site of the scope
/// pulled with its own cursor.
#[cfg(feature = "office")]
pub struct OfficeSync {
    pub state: SessionState,
}

#[cfg(feature = "office")]
impl PersonSync for OfficeSync {
    fn signer(&self, repo: Repository) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Signer>>>> {
        Box::pin(async move {
            let session = load(&repo).await.ok().flatten().filter(|s| !s.expired)?;
            let client_id = ensure_client(&repo, session.account.id, &session.token).await.ok()?;
            Some(Signer {
                device_id: client_id,
                token: session.token,
                person: true,
                sites: session.sites.iter().map(|s| (s.id, cursor_key(s.id))).collect(),
            })
        })
    }

    fn expired(&self, repo: Repository) -> std::pin::Pin<Box<dyn std::future::Future<Output = String>>> {
        let state = self.state;
        Box::pin(async move {
            if let Ok(Some(s)) = mark_expired(&repo).await {
                state.session.set(Some(s));
            }
            expired_fr(repo.outbox_len().await.unwrap_or(0))
        })
    }
}

/// Provides the session to the office screens, reads it once storage is open, and makes the
/// sync engine sign with it. Called by the office app before the shell starts the engine.
pub fn provide(ctx: crate::context::AppContext) -> SessionState {
    let state = SessionState::new();
    provide_context(state);
    #[cfg(feature = "office")]
    crate::sync::set_person_sync(std::rc::Rc::new(OfficeSync { state }));
    Effect::new(move |_| {
        let Some(repo) = ctx.repo.get() else { return };
        leptos::task::spawn_local(async move {
            match load(&repo).await {
                Ok(s) => state.session.set(s),
                Err(e) => ctx.report(e),
            }
            state.loaded.set(true);
        });
    });
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn refusals_are_told_in_french_with_the_wait() {
        let refused = |status: u16, code: &str, retry_after: Option<u64>| HttpError::Refused {
            status,
            code: code.into(),
            message: "Adresse e-mail ou mot de passe incorrect.".into(),
            retry_after,
        };
        assert_eq!(refused(401, "login_refused", None).message_fr(), "Adresse e-mail ou mot de passe incorrect.");
        assert_eq!(refused(429, "too_many_attempts", Some(12)).message_fr(), "Trop d'essais : réessayez dans 12 s. Rien n'a été envoyé.");
        assert_eq!(refused(429, "too_many_attempts", Some(125)).message_fr(), "Trop d'essais : réessayez dans 2 min 5 s. Rien n'a été envoyé.");
        assert_eq!(refused(429, "too_many_attempts", Some(120)).message_fr(), "Trop d'essais : réessayez dans 2 min. Rien n'a été envoyé.");
        assert!(HttpError::Offline.message_fr().starts_with("Connexion impossible hors ligne : "));
        assert!(refused(503, "", None).message_fr().contains("(503)"));
    }
}
