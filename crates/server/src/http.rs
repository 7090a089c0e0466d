//! The HTTP surface: the JSON API under `/api/v1/` and the built PWA from one process.

use std::path::Path;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::Router;
use chrono::Utc;
use tower_http::compression::CompressionLayer;
use tower_http::CompressionLevel;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::Config;
use crate::db::{Db, DEMO_SITE_ID};
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

pub fn router(state: AppState, config: &Config) -> Router {
    app(state, &config.static_dir)
}

/// The whole application: API (body limit, no-store) and PWA (index.html fallback, no-cache),
/// gzip and request logs on both.
pub fn app(state: AppState, static_dir: &Path) -> Router {
    let index = static_dir.join("index.html");
    // Unknown paths fall back to index.html so client-side routes survive a reload. The build
    // writes Zopfli `.gz` copies of the app's files (crates/precompress): sent as they are to
    // clients that accept gzip, smaller than what the compression layer would make per request.
    let pwa = ServeDir::new(static_dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(index).precompressed_gzip());
    // The worker and the page must always be revalidated, or a new version would never be seen.
    let pwa = Router::new().fallback_service(pwa).layer(SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    ));
    // API replies are made per request (a pull page, a push reply: hundreds of KB of JSON):
    // gzip's fastest level keeps most of the gain for a tablet on poor Wi-Fi at a fraction of
    // the server's time. The PWA's files are few and cached by the tablet: best ratio there.
    let api = crate::api::routes()
        .layer(DefaultBodyLimit::max(assiette_domain::sync::MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .with_state(state);
    let pwa = pwa.layer(CompressionLayer::new());
    // One INFO line per request (method, path, status, latency); bodies are never logged.
    let trace = TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    api.merge(pwa).layer(trace)
}

/// First-start duties: demo commune and canteen, the administrator from the environment.
pub async fn bootstrap(db: &Db, config: &Config) -> Result<(), String> {
    db.ensure_demo().await?;
    if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
        let email = crate::auth::normalize_email(email);
        if !crate::auth::valid_email(&email) {
            return Err(format!("ASSIETTE_ADMIN_EMAIL : adresse e-mail invalide « {email} »."));
        }
        crate::auth::check_password_strength(password).map_err(|e| format!("ASSIETTE_ADMIN_PASSWORD : {e}"))?;
        if db.admin_by_email(&email).await.map_err(|e| e.to_string())?.is_none() {
            let hash = crate::auth::hash_password(password)?;
            db.create_admin_if_missing(&email, &hash, Utc::now()).await.map_err(|e| e.to_string())?;
            println!("Compte administrateur créé : {email}.");
        }
    }
    Ok(())
}

/// A fresh one-time code for the demo canteen (or the one fixed by ASSIETTE_DEMO_ENROLMENT_CODE).
pub async fn demo_enrolment_code(db: &Db, config: &Config) -> Result<String, String> {
    let hours = 24 * 30;
    if let Some(code) = &config.demo_enrolment_code {
        let code = assiette_domain::sync::normalize_enrolment_code(code).map_err(|e| format!("ASSIETTE_DEMO_ENROLMENT_CODE : {e}"))?;
        let now = Utc::now();
        let hash = crate::auth::hash_secret(&code);
        return match db.create_enrolment_code(&hash, DEMO_SITE_ID, Some("Tablette de démonstration"), now, now + chrono::Duration::hours(hours)).await {
            // Already issued on an earlier start: it stays valid until used or expired.
            Ok(()) | Err(crate::store::StoreError::Exists) => Ok(code),
            Err(e) => Err(e.to_string()),
        };
    }
    crate::api::issue_code(db, DEMO_SITE_ID, Some("Tablette de démonstration"), hours as u32)
        .await
        .map(|c| c.code)
        .map_err(|e| e.message)
}

/// `assiette-server create-admin EMAIL`: creates the administrator or sets a new password.
pub async fn create_admin(database_url: &str, email: &str, password: &str) -> Result<String, String> {
    let email = crate::auth::normalize_email(email);
    if !crate::auth::valid_email(&email) {
        return Err(format!("adresse e-mail invalide « {email} »."));
    }
    crate::auth::check_password_strength(password)?;
    let db = Db::open(database_url).await?;
    db.ensure_demo().await?;
    let hash = crate::auth::hash_password(password)?;
    let created = db.upsert_admin(&email, &hash, Utc::now()).await.map_err(|e| e.to_string())?;
    db.close().await;
    Ok(if created {
        format!("Compte administrateur créé : {email}.")
    } else {
        format!("Mot de passe du compte administrateur {email} changé.")
    })
}

pub async fn serve(config: Config) -> Result<(), String> {
    let db = Db::open(&config.database_url).await?;
    bootstrap(&db, &config).await?;
    let demo_code = demo_enrolment_code(&db, &config).await?;
    let no_admin = db.admin_count().await.map_err(|e| e.to_string())? == 0;
    let app = router(AppState { db: db.clone() }, &config);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("impossible d'écouter sur {} : {e}", config.addr))?;
    let url = format!("http://{}/", listener.local_addr().map_err(|e| e.to_string())?);
    println!("Assiette est prêt : ouvrez {url} dans Chromium ou Chrome.");
    println!("Une commune de démonstration (« Commune de démonstration », cantine « École des Tilleuls ») est prête à essayer.");
    println!("Code d'enrôlement de la tablette de démonstration : {demo_code}");
    if no_admin {
        println!(
            "Aucun compte administrateur : définissez ASSIETTE_ADMIN_EMAIL et ASSIETTE_ADMIN_PASSWORD, ou lancez « assiette-server create-admin EMAIL »."
        );
    }
    println!("Base de données : {}. Ctrl-C pour arrêter.", crate::config::redact_database_url(&config.database_url));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
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
