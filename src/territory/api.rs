//! The territory endpoints, read with the session's token and kept for offline reading: the
//! last answer of each URL is one record of the settings store (`territory_cache:` + the URL),
//! with its ETag and when it was received. A request sends `If-None-Match`; a 304 reuses the
//! stored answer (now confirmed current); no network shows the stored one and says how old it
//! is. Exports (`format=csv|xlsx`) are asked from the server and offered as files.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::session::{HttpError, Session};
use crate::storage::Repository;

/// Settings key prefix of a stored answer.
pub const CACHE_PREFIX: &str = "territory_cache:";
const TIMEOUT_MS: i32 = 30_000;

/// One stored answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedAnswer {
    pub etag: Option<String>,
    /// When the server last sent or confirmed it.
    #[serde(with = "assiette_domain::time::rfc3339")]
    pub received_at: DateTime<Utc>,
    /// The JSON as received (read again at each use: one copy, the server's).
    pub body: String,
}

/// An answer and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    pub value: T,
    pub received_at: DateTime<Utc>,
    /// Read from this device's copy because the server could not be reached (or refused the
    /// session): the page says « données du … ».
    pub stale: Option<String>,
}

/// The stored answer's key.
pub fn cache_key(url: &str) -> String {
    format!("{CACHE_PREFIX}{url}")
}

/// A raw reply.
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub bytes: Vec<u8>,
}

/// One GET to the server (same origin) with the bearer token and extra headers.
pub async fn get(url: &str, token: &str, if_none_match: Option<&str>) -> Result<Reply, HttpError> {
    let window = web_sys::window().ok_or(HttpError::Offline)?;
    let headers = web_sys::Headers::new().map_err(|_| HttpError::Offline)?;
    let _ = headers.set("Authorization", &format!("Bearer {token}"));
    if let Some(tag) = if_none_match {
        let _ = headers.set("If-None-Match", tag);
    }
    let controller = web_sys::AbortController::new().map_err(|_| HttpError::Offline)?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    let abort = controller.clone();
    let timer = wasm_bindgen::closure::Closure::once_into_js(move || abort.abort());
    let timer_id = window.set_timeout_with_callback_and_timeout_and_arguments_0(timer.unchecked_ref(), TIMEOUT_MS).unwrap_or(0);
    let result = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await;
    let response: Result<web_sys::Response, HttpError> = result.map(|r| r.unchecked_into()).map_err(|_| HttpError::Offline);
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            window.clear_timeout_with_handle(timer_id);
            return Err(e);
        }
    };
    let status = response.status();
    let etag = response.headers().get("etag").ok().flatten();
    let bytes = match response.array_buffer() {
        Ok(p) => JsFuture::from(p).await.map(|b| js_sys::Uint8Array::new(&b).to_vec()).map_err(|_| HttpError::Offline)?,
        Err(_) => Vec::new(),
    };
    window.clear_timeout_with_handle(timer_id);
    if status == 0 {
        return Err(HttpError::Offline);
    }
    if (200..300).contains(&status) || status == 304 {
        return Ok(Reply { status, etag, bytes });
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let reply = js_sys::JSON::parse(&text).ok().filter(|v| v.is_object());
    let field = |name: &str| reply.as_ref().and_then(|v| js_sys::Reflect::get(v, &name.into()).ok()).and_then(|e| e.as_string());
    let message = field("error").unwrap_or_else(|| format!("Le serveur a refusé la demande ({status})."));
    Err(HttpError::Refused { status, code: field("code").unwrap_or_default(), message, retry_after: None })
}

fn read<T: DeserializeOwned>(body: &str) -> Result<T, String> {
    serde_json::from_str(body).map_err(|e| format!("Réponse du serveur illisible : {e}."))
}

/// What a stored answer is shown with when the server was not reached.
pub fn stale_reason(e: &HttpError) -> String {
    match e {
        HttpError::Offline => "Hors ligne".to_owned(),
        HttpError::Refused { status: 401, .. } => "Session expirée : reconnectez-vous pour mettre à jour".to_owned(),
        e => e.message_fr(),
    }
}

/// The answer of `url`: fresh from the server (stored), the stored one confirmed by a 304, or
/// the stored one when the server cannot be reached. An error only when nothing is stored.
pub async fn load<T: DeserializeOwned>(repo: &Repository, session: Option<&Session>, url: &str) -> Result<Loaded<T>, String> {
    let key = cache_key(url);
    let cached: Option<CachedAnswer> = repo.setting(&key).await.ok().flatten();
    let token = session.filter(|s| !s.expired).map(|s| s.token.clone());
    let outcome = match &token {
        Some(t) => get(url, t, cached.as_ref().and_then(|c| c.etag.as_deref())).await,
        None => Err(HttpError::Refused { status: 401, code: String::new(), message: "Connectez-vous.".into(), retry_after: None }),
    };
    match outcome {
        Ok(reply) if reply.status == 304 => {
            let Some(mut c) = cached else { return Err("Réponse 304 sans copie sur cet appareil : rechargez la page.".to_owned()) };
            c.received_at = Utc::now();
            // Failing to note the time changes nothing shown now.
            let _ = repo.set_setting(&key, &c).await;
            Ok(Loaded { value: read(&c.body)?, received_at: c.received_at, stale: None })
        }
        Ok(reply) => {
            let body = String::from_utf8(reply.bytes).map_err(|_| "Réponse du serveur illisible (UTF-8).".to_owned())?;
            let value = read(&body)?;
            let c = CachedAnswer { etag: reply.etag, received_at: Utc::now(), body };
            repo.set_setting(&key, &c).await.map_err(|e| e.message_fr())?;
            Ok(Loaded { value, received_at: c.received_at, stale: None })
        }
        Err(e) => match cached {
            Some(c) => Ok(Loaded { value: read(&c.body)?, received_at: c.received_at, stale: Some(stale_reason(&e)) }),
            None => Err(match e {
                HttpError::Offline => "Hors ligne, et ces chiffres n'ont jamais été chargés sur cet appareil : reconnectez-vous au réseau.".to_owned(),
                HttpError::Refused { status: 401, .. } => "Connectez-vous pour voir les chiffres du territoire.".to_owned(),
                e => e.message_fr(),
            }),
        },
    }
}

/// « données du 03/12/2026 à 14:05 » in the device's time zone.
pub fn received_fr(at: DateTime<Utc>) -> String {
    format!("données du {}", crate::sync::format_last_sync(&at.to_rfc3339()))
}

/// Asks the server for `url` (with `format=csv|xlsx`) and offers the file.
pub async fn download(session: Option<&Session>, url: &str, file_name: &str, kind: crate::download::FileKind) -> Result<(), String> {
    let Some(s) = session.filter(|s| !s.expired) else { return Err("Connectez-vous pour télécharger.".to_owned()) };
    match get(url, &s.token, None).await {
        Ok(reply) => crate::download::offer(file_name, kind, &reply.bytes),
        Err(HttpError::Offline) => Err("Téléchargement impossible hors ligne : le fichier est préparé par le serveur. Réessayez une fois en ligne.".to_owned()),
        Err(e) => Err(e.message_fr()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Figures {
        grams: u32,
    }

    /// Without a usable session (signed out, or expired) the stored answer is shown, marked
    /// stale with the time it was received; with nothing stored, a French error and no figure.
    #[wasm_bindgen_test]
    async fn the_stored_answer_is_shown_when_the_server_cannot_be_asked() {
        let repo = Repository::open_named(&format!("unit-territory-cache-{}", uuid::Uuid::now_v7())).await.unwrap();
        let url = "/api/v1/territory/overview?from=2026-11-01&to=2026-11-30";
        let err = load::<Figures>(&repo, None, url).await.unwrap_err();
        assert!(err.starts_with("Connectez-vous"), "{err}");
        let at = assiette_domain::time::parse_rfc3339("2026-12-01T08:30:00Z").unwrap();
        let stored = CachedAnswer { etag: Some("\"abc\"".into()), received_at: at, body: r#"{"grams":60}"#.into() };
        repo.set_setting(&cache_key(url), &stored).await.unwrap();
        let got = load::<Figures>(&repo, None, url).await.unwrap();
        assert_eq!(got.value, Figures { grams: 60 });
        assert_eq!(got.received_at, at);
        assert!(got.stale.is_some());
        // Another URL (another period) has its own copy: none.
        assert!(load::<Figures>(&repo, None, "/api/v1/territory/overview?from=2026-10-01&to=2026-10-31").await.is_err());
    }

    #[wasm_bindgen_test]
    fn the_age_of_a_stored_answer_is_told_in_french() {
        let at = assiette_domain::time::parse_rfc3339("2026-12-03T09:05:00Z").unwrap();
        let text = received_fr(at);
        assert!(text.starts_with("données du 03/12/2026 à "), "{text}");
        assert_eq!(stale_reason(&HttpError::Offline), "Hors ligne");
    }
}
