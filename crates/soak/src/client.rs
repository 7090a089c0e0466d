//! HTTP helpers and the metropolis administrator's client.

use reqwest::RequestBuilder;
use serde_json::{json, Value};
use uuid::Uuid;

/// The administrator the server creates at start (`ASSIETTE_ADMIN_EMAIL` / `_PASSWORD`).
pub const ADMIN_EMAIL: &str = "chargee@lehavre-metropole.fr";
pub const ADMIN_PASSWORD: &str = "un mot de passe assez long";

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(120)).build().unwrap()
}

/// Status and JSON body (Null when the body is not JSON). Status 0 when no whole reply came
/// back: the server is unreachable, or the connection broke before the body's end (a server
/// killed while answering): the tablet cannot tell that from a lost reply.
pub async fn send(req: RequestBuilder) -> (u16, Value) {
    let res = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_builder() => panic!("request: {e}"),
        Err(_) => return (0, Value::Null),
    };
    let status = res.status().as_u16();
    match res.text().await {
        Ok(text) => (status, serde_json::from_str(&text).unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null),
    }
}

/// The metropolis administrator, logged in once.
pub struct Admin {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl Admin {
    pub async fn login(base: &str) -> Admin {
        let client = http();
        let (s, body) = send(client.post(format!("{base}/api/v1/admin/login")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))).await;
        assert_eq!(s, 200, "{body}");
        Admin { base: base.to_owned(), token: body["token"].as_str().unwrap().to_owned(), client }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.token)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body)).await
    }

    /// Registers a commune (if new) and a site; returns the site's UUID.
    pub async fn create_site(&self, insee: &str, commune: &str, siret: &str, name: &str) -> Uuid {
        let (s, b) = self.post("/api/v1/admin/communes", json!({"insee_code": insee, "name": commune})).await;
        assert!(s == 201 || s == 409, "{b}");
        let (s, b) = self
            .post(
                "/api/v1/admin/sites",
                json!({"name": name, "siret": siret, "commune_insee": insee, "management_type": "direct",
                       "production_type": "site", "sectors": ["education_primaire"], "daily_meal_count": 150, "yearly_meal_count": 21000}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        Uuid::parse_str(b["id"].as_str().unwrap()).unwrap()
    }

    /// A one-time enrolment code for a tablet of `site`.
    pub async fn code(&self, site: Uuid) -> String {
        let (s, b) = self.post(&format!("/api/v1/admin/sites/{site}/enrolment-codes"), json!({"label": "Tablette cuisine"})).await;
        assert_eq!(s, 201, "{b}");
        b["code"].as_str().unwrap().to_owned()
    }

    pub async fn revoke(&self, device: Uuid) {
        let (s, b) = self.post(&format!("/api/v1/admin/devices/{device}/revoke"), json!({})).await;
        assert_eq!(s, 200, "{b}");
        assert!(b["revoked_at"].is_string());
    }
}
