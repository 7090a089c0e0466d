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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), errors: Vec::new() }
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
            format!("Le corps de la requête n'est pas du JSON valide. Détail : {}", detail(&e.body_text())),
        ),
        JsonRejection::MissingJsonContentType(_) => content_type_error(),
        r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(),
        _ => ApiError::bad_request("unreadable_body", "Le corps de la requête n'a pas pu être lu : renvoyez-la."),
    }
}

/// serde's technical detail, without axum's English preamble, shortened.
fn detail(text: &str) -> String {
    let t = text.split_once(": ").map(|(_, rest)| rest).unwrap_or(text);
    t.chars().take(300).collect()
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
}
