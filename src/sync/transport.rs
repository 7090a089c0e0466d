//! The thin HTTP side of sync: JSON over `fetch`, with a timeout, classified errors.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response};

/// A request that takes longer than this is abandoned and counted as a network failure.
const TIMEOUT_MS: i32 = 30_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No answer: offline, server down, timeout. Retry later.
    Network,
    /// 401: the token is unknown or revoked. Keep everything, ask to re-enrol.
    Unauthorized,
    /// Any other refusal, with the server's French message.
    Refused { status: u16, message: String },
}

impl TransportError {
    pub fn message_fr(&self) -> String {
        match self {
            TransportError::Network => "Serveur injoignable : les saisies restent sur la tablette et partiront dès le retour du réseau.".into(),
            TransportError::Unauthorized => "Cette tablette n'est plus autorisée : demandez un nouveau code d'enrôlement à la métropole. Les saisies sont conservées.".into(),
            TransportError::Refused { status, message } => format!("Le serveur a refusé la demande ({status}) : {message}"),
        }
    }
}

/// POSTs `body` as JSON to `path` (same origin) and reads the JSON reply.
pub async fn post<B: Serialize, R: DeserializeOwned>(path: &str, token: Option<&str>, body: &B) -> Result<R, TransportError> {
    let json = serde_json::to_string(body).map_err(|e| TransportError::Refused { status: 0, message: e.to_string() })?;
    post_reading(path, token, json, |text| serde_json::from_str(text).map_err(|e| e.to_string())).await
}

/// POSTs the JSON text `json` to `path` and reads a successful reply's text with `read` (its
/// error becomes « réponse illisible : … »).
pub async fn post_reading<R>(
    path: &str,
    token: Option<&str>,
    json: String,
    read: impl FnOnce(&str) -> Result<R, String>,
) -> Result<R, TransportError> {
    let (status, text) = exchange(path, token, json).await?;
    read(&text).map_err(|e| TransportError::Refused { status, message: format!("réponse illisible : {e}") })
}

/// The request itself, the same code for every body and reply type: the status and text of a
/// successful (2xx) reply, or the classified failure.
async fn exchange(path: &str, token: Option<&str>, json: String) -> Result<(u16, String), TransportError> {
    let window = web_sys::window().ok_or(TransportError::Network)?;
    let headers = Headers::new().map_err(|_| TransportError::Network)?;
    let _ = headers.set("Content-Type", "application/json");
    if let Some(t) = token {
        let _ = headers.set("Authorization", &format!("Bearer {t}"));
    }
    let controller = AbortController::new().map_err(|_| TransportError::Network)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&json.into());
    init.set_signal(Some(&controller.signal()));
    let abort = controller.clone();
    let timer = wasm_bindgen::closure::Closure::once_into_js(move || abort.abort());
    let timer_id = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(timer.unchecked_ref(), TIMEOUT_MS)
        .unwrap_or(0);
    let result = JsFuture::from(window.fetch_with_str_and_init(path, &init)).await;
    window.clear_timeout_with_handle(timer_id);
    let response: Response = result.map_err(|_| TransportError::Network)?.unchecked_into();
    let status = response.status();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    match status {
        200..=299 => Ok((status, text)),
        401 => Err(TransportError::Unauthorized),
        // The server or a proxy in trouble: like a network failure, retry later.
        500..=599 | 0 => Err(TransportError::Network),
        _ => Err(TransportError::Refused { status, message: refusal_message(text) }),
    }
}

/// The French message of a refusal: the server's `{"error": "..."}`, or the body as it is.
/// Read by the browser's JSON (the wasm carries no JSON tree for it).
fn refusal_message(body: String) -> String {
    js_sys::JSON::parse(&body)
        .ok()
        .filter(|v| v.is_object())
        .and_then(|v| js_sys::Reflect::get(&v, &"error".into()).ok())
        .and_then(|e| e.as_string())
        .unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::refusal_message;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn refusals_show_the_servers_message_or_the_body() {
        let m = |s: &str| refusal_message(s.to_owned());
        assert_eq!(m(r#"{"error":"Code d'enrôlement expiré : demandez-en un nouveau.","code":"expired"}"#), "Code d'enrôlement expiré : demandez-en un nouveau.");
        assert_eq!(m(r#"{"code":1,"error":"a \"b\"\n"}"#), "a \"b\"\n");
        // No string `error`, not an object, not JSON: the body as it is.
        for body in [r#"{"error":5}"#, r#"{"message":"x"}"#, r#"["error"]"#, r#""error""#, "null", "Bad Gateway", ""] {
            assert_eq!(m(body), body);
        }
    }
}
