//! One error type for the JSON API: `{"error": "<French message>", "code": "<stable code>"}`,
//! plus the field errors of a refused record when there are some.

use assiette_domain::validation::FieldError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (`Retry-After`), for a throttled request.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), errors: Vec::new(), retry_after: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 429 with `Retry-After: retry_after_secs`.
    pub fn too_many_requests(code: &'static str, message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self { retry_after: Some(retry_after_secs.max(1)), ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message) }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "Requête trop volumineuse (plus de {} Mo) : envoyez moins d'entrées par lot.",
                assiette_domain::sync::MAX_BODY_BYTES / (1024 * 1024)
            ),
        )
    }

    pub fn revoked() -> Self {
        Self::unauthorized(
            "device_revoked",
            "Cette tablette a été révoquée : ses saisies restent sur la tablette ; demandez un nouveau code d'enrôlement à la métropole.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "Le serveur n'a pas pu accéder à sa base de données : rien n'a été enregistré, réessayez dans quelques instants.",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Revoked => ApiError::revoked(),
            StoreError::Exists => ApiError::conflict("already_exists", "Cet élément existe déjà."),
            StoreError::MissingReference => {
                ApiError::unprocessable("missing_reference", "Un élément référencé n'existe pas (commune ou restaurant).")
            }
            StoreError::Corrupt(_) | StoreError::Db(_) => {
                tracing::error!(error = %e, "storage error");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message, "code": self.code });
        if !self.errors.is_empty() {
            body["errors"] = serde_json::to_value(&self.errors).unwrap_or_default();
        }
        let mut res = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// `Json<T>` whose refusals are French JSON errors (400 syntax, 413 size, 415 type, 422 shape).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(content_type_error());
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(ApiError::too_large()),
            Err(_) => return Err(ApiError::bad_request("unreadable_body", "Le corps de la requête n'a pas pu être lu : renvoyez-la.")),
        };
        // Parsed without tracking the path of every value (axum's `Json` does, for its error
        // message): that is only done again, by axum, when the body is refused.
        match serde_json::from_slice::<T>(&bytes) {
            Ok(v) => Ok(JsonBody(v)),
            Err(_) => match Json::<T>::from_bytes(&bytes) {
                Ok(Json(v)) => Ok(JsonBody(v)),
                Err(rejection) => Err(json_rejection(rejection)),
            },
        }
    }
}

/// `application/json`, with parameters (`; charset=utf-8`) or as a `+json` suffix, as axum's
/// `Json` accepts it.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let Some(subtype) = essence.strip_prefix("application/") else { return false };
    !subtype.contains(['/', ' ']) && (subtype == "json" || (subtype.ends_with("+json") && subtype.len() > "+json".len()))
}

fn content_type_error() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "content_type",
        "Envoyez le corps en JSON avec l'en-tête « Content-Type: application/json ».",
    )
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::unprocessable(
            "invalid_data",
            format!(
                "Données refusées : leur forme ne correspond pas à ce qui est attendu (voir /api/v1/openapi.json). Détail : {}",
                detail(&e.body_text())
            ),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "invalid_json",
            format!("Le corps de la requête n'est pas du JSON valide ({}).", syntax_position(&e.body_text())),
        ),
        JsonRejection::MissingJsonContentType(_) => content_type_error(),
        r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(),
        _ => ApiError::bad_request("unreadable_body", "Le corps de la requête n'a pas pu être lu : renvoyez-la."),
    }
}

/// Where the JSON stops being JSON: « ligne L, colonne C » (serde's English message dropped).
fn syntax_position(text: &str) -> String {
    match text.rfind(" at line ").map(|i| &text[i + " at line ".len()..]).and_then(|p| p.split_once(" column ")) {
        Some((line, column)) => format!("erreur ligne {}, colonne {}", shown(line, 12), shown(column, 12)),
        None => "erreur de syntaxe".to_owned(),
    }
}

/// serde's detail, in French and without Rust's type names: where (the field's path, the
/// line and column) and what was wrong. axum's text is
/// `Failed to deserialize…: <path>: <serde message> at line L column C`.
fn detail(text: &str) -> String {
    let t = text.split_once(": ").map(|(_, rest)| rest).unwrap_or(text);
    let (t, position) = match t.rfind(" at line ") {
        Some(i) => (&t[..i], Some(&t[i + " at line ".len()..])),
        None => (t, None),
    };
    // A path has no space (`mutations[0].record.mass_grams`); serde's message does.
    let (path, message) = match t.split_once(": ") {
        Some((p, m)) if !p.contains(' ') => (Some(p), m),
        _ => (None, t),
    };
    let mut out = String::new();
    if let Some(p) = path.filter(|p| *p != ".") {
        out.push_str(&format!("champ « {} » : ", shown(p, 120)));
    }
    out.push_str(&french(message));
    if let Some((line, column)) = position.and_then(|p| p.split_once(" column ")) {
        out.push_str(&format!(" (ligne {}, colonne {})", shown(line, 12), shown(column, 12)));
    }
    out
}

/// A piece of the request quoted back: at most `max` characters, control characters escaped.
fn shown(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).flat_map(|c| if c.is_control() { c.escape_debug().collect::<Vec<_>>() } else { vec![c] }).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// Between the first two backquotes (serde quotes names and values so).
fn quoted(s: &str) -> &str {
    s.split('`').nth(1).unwrap_or("")
}

/// serde_json's messages, said in French. What a Rust type would be named becomes what the
/// JSON should hold; an unknown message is only « forme inattendue ».
fn french(m: &str) -> String {
    if m.starts_with("missing field `") {
        format!("le champ « {} » manque", shown(quoted(m), 60))
    } else if m.starts_with("duplicate field `") {
        format!("le champ « {} » est en double", shown(quoted(m), 60))
    } else if m.starts_with("unknown variant `") {
        // The expected codes are wire codes (`weighing`, `BIO`...), never type names.
        let expected = m.split_once("expected one of ").map(|(_, e)| e.replace('`', ""));
        match expected {
            Some(e) => format!("valeur « {} » inconnue (valeurs possibles : {})", shown(quoted(m), 60), shown(&e, 400)),
            None => format!("valeur « {} » inconnue", shown(quoted(m), 60)),
        }
    } else if let Some(rest) = m.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        format!("{} au lieu de {}", found_fr(found), expected_fr(expected))
    } else if let Some(rest) = m.strip_prefix("invalid value: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        format!("{} refusé(e), il faut {}", found_fr(found), expected_fr(expected))
    } else if m.starts_with("invalid length") {
        "nombre d'éléments inattendu".to_owned()
    } else if m.contains("number out of range") {
        "nombre hors des limites".to_owned()
    } else {
        "forme inattendue".to_owned()
    }
}

/// serde's `Unexpected` (`integer `-5``, `string "x"`, `map`...) in French.
fn found_fr(found: &str) -> String {
    let value = found.split_once(' ').map(|(_, v)| v.trim_matches(['`', '"'])).unwrap_or("");
    let value = shown(value, 60);
    match found.split(' ').next().unwrap_or("") {
        "integer" => format!("le nombre entier {value}"),
        "floating" => format!("le nombre {}", shown(value.trim_start_matches("point "), 60)),
        "string" => format!("le texte « {value} »"),
        "boolean" => format!("la valeur {value}"),
        "null" => "null".to_owned(),
        "map" => "un objet".to_owned(),
        "sequence" => "une liste".to_owned(),
        "char" => format!("le caractère « {value} »"),
        _ => "une valeur".to_owned(),
    }
}

/// What serde expected, in French: JSON kinds, never Rust types.
fn expected_fr(expected: &str) -> &'static str {
    let e = expected.trim();
    let unsigned = ["u8", "u16", "u32", "u64", "u128", "usize"];
    let signed = ["i8", "i16", "i32", "i64", "i128", "isize"];
    if unsigned.iter().any(|t| e == *t || e.ends_with(&format!(" {t}"))) {
        "un nombre entier positif ou nul"
    } else if signed.iter().any(|t| e == *t || e.ends_with(&format!(" {t}"))) {
        "un nombre entier"
    } else if e == "f64" || e == "f32" {
        "un nombre"
    } else if e.starts_with("a date (") {
        "une date AAAA-MM-JJ (par exemple 2026-03-02)"
    } else if e.starts_with("an RFC 3339") {
        "une date et heure RFC 3339 (par exemple 2026-03-02T10:00:00Z)"
    } else if e.contains("UUID") || e.contains("uuid") {
        "un identifiant UUID"
    } else if e.contains("string") || e.contains("identifier") {
        "un texte"
    } else if e == "a boolean" {
        "true ou false"
    } else if e.contains("sequence") || e.starts_with("a Vec") {
        "une liste"
    } else if e.contains("struct") || e.contains("map") || e.contains("enum") {
        "un objet"
    } else {
        "une autre valeur"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(t: &str) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(t).unwrap());
        h
    }

    #[test]
    fn json_content_types_as_axum_accepts_them() {
        for ok in ["application/json", "application/json; charset=utf-8", "application/json;charset=utf-8", "Application/JSON", "application/cloudevents+json"] {
            assert!(json_content_type(&with_type(ok)), "{ok}");
        }
        for bad in ["text/json", "application/jsonx", "application/+json", "text/plain", "json", "application/x-www-form-urlencoded"] {
            assert!(!json_content_type(&with_type(bad)), "{bad}");
        }
        assert!(!json_content_type(&axum::http::HeaderMap::new()));
    }

    /// Refused bodies are described in French: the field, what was wrong, never a Rust type.
    #[test]
    fn refusals_never_name_rust_types() {
        use assiette_domain::sync::{PullRequest, PushRequest};
        let w = r#"{"kind":"weighing","meta":{"id":"0190a000-0000-7000-8000-000000000001","revision":1,"modified_at":"2026-03-02T10:00:00Z"},"site_id":"0190a000-0000-7000-8000-000000000002","service_date":"2026-03-02","stage":"leftovers","mass_grams":1000}"#;
        let device = r#""device_id":"0190a000-0000-7000-8000-000000000003""#;
        let bodies = [
            format!("{{{device}}}"),
            format!("{{{device},\"mutations\":\"DROP\"}}"),
            format!("{{{device},\"mutations\":[{{\"seq\":-1,\"record\":{w}}}]}}"),
            format!("{{{device},\"mutations\":[{{\"seq\":1.5,\"record\":{w}}}]}}"),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("weighing", "invoice")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("1000", "1e30")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("1000", "123456789012345678901234567890")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("2026-03-02\"", "hier\"")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("T10:00:00Z", "")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("0190a000-0000-7000-8000-000000000001", "x")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("\"mass_grams\":1000", "\"mass_grams\":null")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("\"stage\":\"leftovers\",", "")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":[1,2]}}]}}"),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("\"kind\":\"weighing\",", "")),
            format!("{{{device},\"mutations\":[{{\"seq\":1,\"record\":{}}}]}}", w.replace("\"revision\":1", "\"revision\":true")),
            "[]".to_owned(),
            "{\"device_id\":5}".to_owned(),
        ];
        let rust = ["struct", "enum", "u64", "u32", "i64", "f64", "Uuid", "RecordPayload", "PushRequest", "Mutation", "NaiveDate", "DateTime", "Option", "Vec", "expected", "invalid"];
        for body in &bodies {
            let err = match Json::<PushRequest>::from_bytes(body.as_bytes()) {
                Err(r) => json_rejection(r),
                Ok(_) => panic!("accepted: {body}"),
            };
            assert_eq!(err.code, "invalid_data", "{body}: {}", err.message);
            assert!(err.message.starts_with("Données refusées"), "{}", err.message);
            for word in rust {
                assert!(!err.message.contains(word), "« {word} » in: {}", err.message);
            }
        }
        let missing = json_rejection(Json::<PushRequest>::from_bytes(format!("{{{device}}}").as_bytes()).err().unwrap());
        assert!(missing.message.contains("le champ « mutations » manque"), "{}", missing.message);
        let negative = json_rejection(Json::<PushRequest>::from_bytes(bodies[2].as_bytes()).err().unwrap());
        assert!(negative.message.contains("mutations[0].seq") && negative.message.contains("-1"), "{}", negative.message);
        let syntax = json_rejection(Json::<PullRequest>::from_bytes(b"{\"cursor\": ").err().unwrap());
        assert_eq!(syntax.code, "invalid_json");
        assert!(syntax.message.contains("ligne 1, colonne"), "{}", syntax.message);
    }
}
