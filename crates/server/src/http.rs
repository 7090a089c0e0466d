//! The HTTP surface: the JSON API under `/api/v1/` and the built PWA from one process.

use axum::{http::header, routing::get, Json, Router};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

pub fn router(state: AppState, config: &Config) -> Router {
    let index = config.static_dir.join("index.html");
    // Unknown paths fall back to index.html so client-side routes survive a reload.
    let pwa = ServeDir::new(&config.static_dir).fallback(ServeFile::new(index));
    // The worker and the page must always be revalidated, or a new version would never be seen.
    let pwa = Router::new().fallback_service(pwa).layer(SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    ));
    Router::new()
        .route("/api/v1/health", get(health))
        .with_state(state)
        .merge(pwa)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn serve(config: Config) -> Result<(), String> {
    let db = Db::open(&config.database_url).await?;
    db.ensure_demo().await?;
    let app = router(AppState { db }, &config);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("impossible d'écouter sur {} : {e}", config.addr))?;
    let url = format!("http://{}/", listener.local_addr().map_err(|e| e.to_string())?);
    println!("Assiette est prêt : ouvrez {url} dans Chromium ou Chrome.");
    println!("Une commune de démonstration (« Commune de démonstration », cantine « École des Tilleuls ») est prête à essayer.");
    println!("Base de données : {}. Ctrl-C pour arrêter.", config.database_url);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    println!("Assiette arrêté proprement.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
