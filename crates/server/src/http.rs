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
use crate::db::{Db, DEMO_CODE_LABEL, DEMO_SITE_ID};
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Throttles and the password gate (`crate::guard`), shared by every request.
    pub guards: std::sync::Arc<crate::guard::Guards>,
    /// What sessions and invitations are timed by.
    pub clock: Clock,
}

impl AppState {
    /// The default throttles and password gate.
    pub fn new(db: Db) -> Self {
        Self::with_guards(db, crate::guard::GuardSettings::default())
    }

    pub fn with_guards(db: Db, settings: crate::guard::GuardSettings) -> Self {
        AppState { db, guards: std::sync::Arc::new(crate::guard::Guards::new(settings)), clock: Clock::default() }
    }
}

/// The system clock, moved forward by tests (a week of idleness, an expired invitation) without
/// waiting: every clone shares the offset.
#[derive(Clone, Default)]
pub struct Clock {
    offset_seconds: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_seconds.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds.fetch_add(by.num_seconds(), std::sync::atomic::Ordering::Relaxed);
    }
}

pub fn router(state: AppState, config: &Config) -> Router {
    app(state, &config.static_dir)
}

/// The Content-Security-Policy of every response, with `script_hashes` (`'sha256-…'`) for the
/// inline scripts of index.html. The app's own files come from this origin, its wasm needs
/// `'wasm-unsafe-eval'` (compiling WebAssembly), nothing inline runs but those hashed scripts,
/// and no other site may frame the app or be sent a form or a referrer.
pub fn content_security_policy(script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for h in script_hashes {
        script_src.push(' ');
        script_src.push_str(h);
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// `'sha256-…'` of every inline `<script>` of an HTML page (Trunk 0.21 writes one that loads
/// the wasm), so the policy allows exactly those scripts and no other inline code.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut hashes = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| at + i) {
        let Some(open_end) = lower[start..].find('>').map(|i| start + i + 1) else { break };
        let Some(close) = lower[open_end..].find("</script").map(|i| open_end + i) else { break };
        let tag = &lower[start..open_end];
        if !tag.contains(" src=") && !tag.contains("\tsrc=") && !tag.contains("\nsrc=") {
            // Same offsets in `html`: ASCII lowering keeps every byte in place.
            let digest = Sha256::digest(&html.as_bytes()[open_end..close]);
            hashes.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        }
        at = close;
    }
    hashes
}

/// Serves nothing that is hidden or outside the PWA's folder: a path with a segment starting
/// with `.` (`.env`, `.git/`), or one that resolves, through a symbolic link, outside the
/// folder (its `.gz` copy and a folder's index.html included), gets a 404. `ServeDir` already
/// refuses `..`; it follows symbolic links.
async fn guard_static(root: std::sync::Arc<std::path::PathBuf>, req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let not_found = || (axum::http::StatusCode::NOT_FOUND, "Fichier introuvable.").into_response();
    let decoded = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy().into_owned();
    let segments: Vec<&str> = decoded.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| s.starts_with('.')) {
        return not_found();
    }
    let path = segments.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    for candidate in [path.clone(), path.with_extension(gz_extension(&path)), path.join("index.html"), path.join("index.html.gz")] {
        if let Ok(real) = tokio::fs::canonicalize(&candidate).await {
            if !real.starts_with(root.as_path()) {
                tracing::warn!(path = %req.uri().path(), "static file outside the app's folder refused");
                return not_found();
            }
        }
    }
    next.run(req).await
}

/// The extension of `path`'s `.gz` copy (`app.js` → `js.gz`).
fn gz_extension(path: &Path) -> String {
    match path.extension() {
        Some(e) => format!("{}.gz", e.to_string_lossy()),
        None => "gz".to_owned(),
    }
}

/// The whole application: API (body limit, no-store) and PWA (index.html fallback, no-cache),
/// gzip and request logs on both, security headers on every response.
pub fn app(state: AppState, static_dir: &Path) -> Router {
    // The kitchen bundle's shell, the office bundle's under /bureau/ and the territory's under
    // /territoire/ (see the app's
    // `app::Bundle`): each path falls back to the shell of the bundle that routes it.
    let index = static_dir.join("index.html");
    let office_dir = static_dir.join("bureau");
    let office_index = office_dir.join("index.html");
    let territory_dir = static_dir.join("territoire");
    let territory_index = territory_dir.join("index.html");
    // Hashed once at start: a rebuilt app is served by a restarted server (scripts/run.sh).
    let hashes: Vec<String> = [&index, &office_index, &territory_index]
        .into_iter()
        .filter_map(|page| std::fs::read_to_string(page).ok())
        .flat_map(|html| inline_script_hashes(&html))
        .collect();
    let csp = HeaderValue::from_str(&content_security_policy(&hashes)).expect("the policy is ASCII");
    let root = std::fs::canonicalize(static_dir).or_else(|_| std::path::absolute(static_dir)).unwrap_or_else(|_| static_dir.to_path_buf());
    let root = std::sync::Arc::new(root);
    // Unknown paths fall back to their bundle's index.html so client-side routes survive a
    // reload. The build writes Zopfli `.gz` copies of the app's files (crates/precompress):
    // sent as they are to clients that accept gzip, smaller than what the compression layer
    // would make per request.
    let office = ServeDir::new(&office_dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(office_index).precompressed_gzip());
    let territory = ServeDir::new(&territory_dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(territory_index).precompressed_gzip());
    let kitchen = ServeDir::new(static_dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(index).precompressed_gzip());
    let pwa = Router::new().nest_service("/bureau", office).nest_service("/territoire", territory).fallback_service(kitchen);
    // The worker and the page must always be revalidated, or a new version would never be seen.
    let pwa = pwa.layer(SetResponseHeaderLayer::overriding(
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
    let pwa = pwa
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(move |req, next| guard_static(root.clone(), req, next)));
    // One INFO line per request (method, path, status, latency); bodies are never logged.
    let trace = TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    // On every response (the API's JSON too), unless a handler set its own.
    api.merge(pwa)
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(trace)
}

/// First-start duties: the demo commune and canteen when asked for (ASSIETTE_DEMO=1), the
/// administrator from the environment.
pub async fn bootstrap(db: &Db, config: &Config) -> Result<(), String> {
    if config.demo {
        db.ensure_demo().await?;
    }
    if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
        let email = crate::auth::normalize_email(email);
        if !crate::auth::valid_email(&email) {
            return Err(format!("ASSIETTE_ADMIN_EMAIL : adresse e-mail invalide « {email} »."));
        }
        crate::auth::check_password_strength(password).map_err(|e| format!("ASSIETTE_ADMIN_PASSWORD : {e}"))?;
        if db.account_by_email(&email).await.map_err(|e| e.to_string())?.is_none() {
            let hash = crate::auth::hash_password(password)?;
            db.create_admin_if_missing(&email, &hash, Utc::now()).await.map_err(|e| e.to_string())?;
            println!("Compte administrateur créé : {email}.");
        }
    }
    Ok(())
}

/// A fresh one-time code for the demo canteen (or the one fixed by ASSIETTE_DEMO_ENROLMENT_CODE);
/// the demo tablet's earlier unused codes end (each start would otherwise add a live 30-day code).
pub async fn demo_enrolment_code(db: &Db, config: &Config) -> Result<String, String> {
    let hours = 24 * 30;
    let now = Utc::now();
    let code = match &config.demo_enrolment_code {
        Some(code) => {
            let code = assiette_domain::sync::normalize_enrolment_code(code).map_err(|e| format!("ASSIETTE_DEMO_ENROLMENT_CODE : {e}"))?;
            match db.create_enrolment_code(&db.code_hash(&code), DEMO_SITE_ID, Some(DEMO_CODE_LABEL), now, now + chrono::Duration::hours(hours)).await {
                // Already issued on an earlier start: it stays valid until used or expired.
                Ok(()) | Err(crate::store::StoreError::Exists) => code,
                Err(e) => return Err(e.to_string()),
            }
        }
        None => crate::api::issue_code(db, DEMO_SITE_ID, Some(DEMO_CODE_LABEL), hours as u32).await.map(|c| c.code).map_err(|e| e.message)?,
    };
    db.cancel_unused_codes(DEMO_SITE_ID, DEMO_CODE_LABEL, &db.code_hash(&code), now).await.map_err(|e| e.to_string())?;
    Ok(code)
}

/// The demo commune's manager: while its account does not exist, a fresh one-time invitation
/// at each start (the earlier one ends), sent by a demo metropolis account nobody can sign in
/// to. `None` once the manager has accepted (they sign in with their own password).
pub async fn demo_manager_invitation(db: &Db) -> Result<Option<String>, String> {
    use crate::db::{DEMO_COMMUNE_INSEE, DEMO_MANAGER_EMAIL, DEMO_METROPOLIS_EMAIL};
    let fail = |e: crate::store::StoreError| format!("démo : {e}");
    if db.account_by_email(DEMO_MANAGER_EMAIL).await.map_err(fail)?.is_some() {
        return Ok(None);
    }
    let now = Utc::now();
    if db.account_by_email(DEMO_METROPOLIS_EMAIL).await.map_err(fail)?.is_none() {
        let unknown = crate::auth::hash_password(&crate::auth::random_token(""))?;
        db.create_admin_if_missing(DEMO_METROPOLIS_EMAIL, &unknown, now).await.map_err(fail)?;
    }
    let inviter = db.account_by_email(DEMO_METROPOLIS_EMAIL).await.map_err(fail)?.ok_or("démo : compte de la métropole absent")?;
    let code = crate::auth::new_invitation_code();
    let expires_at = now + chrono::Duration::hours(i64::from(crate::api::DEFAULT_INVITATION_HOURS));
    db.create_invitation(&db.code_hash(&code), DEMO_MANAGER_EMAIL, &[DEMO_COMMUNE_INSEE.to_owned()], inviter.id, now, expires_at)
        .await
        .map_err(fail)?;
    Ok(Some(code))
}

/// `assiette-server create-admin EMAIL`: creates the metropolis account or sets a new password
/// (which ends its sessions).
pub async fn create_admin(database_url: &str, email: &str, password: &str) -> Result<String, String> {
    let email = crate::auth::normalize_email(email);
    if !crate::auth::valid_email(&email) {
        return Err(format!("adresse e-mail invalide « {email} »."));
    }
    crate::auth::check_password_strength(password)?;
    let db = Db::open(database_url).await?;
    let hash = crate::auth::hash_password(password)?;
    let created = match db.upsert_admin(&email, &hash, Utc::now()).await {
        Err(crate::store::StoreError::Exists) => {
            db.close().await;
            return Err(format!("{email} est le compte d'un responsable de commune : choisissez une autre adresse pour le compte de la métropole."));
        }
        r => r.map_err(|e| e.to_string())?,
    };
    db.close().await;
    Ok(if created {
        format!("Compte administrateur créé : {email}.")
    } else {
        format!("Mot de passe du compte administrateur {email} changé.")
    })
}

/// What one client may hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the moment a connection waits for a request (new or kept alive) to its last header
    /// line: a client that sends nothing, or headers a byte at a time, is disconnected.
    pub header_timeout: std::time::Duration,
    /// A whole request, body included, from its headers to its reply (408 beyond): a body
    /// trickled a byte at a time no longer holds a connection for ever. A tablet's largest
    /// push (2 MB) takes 20 s at 100 kB/s.
    pub request_timeout: std::time::Duration,
    /// Connections served at once; beyond, new ones wait in the kernel's queue until one ends
    /// (the process never runs out of file descriptors on idle sockets).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: std::time::Duration::from_secs(15),
            request_timeout: std::time::Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in flight end:
/// `axum::serve`'s loop over hyper's HTTP/1.1 connections, with hyper's header timer set, a
/// whole-request timeout (tower-http) and a cap on connections (a semaphore).
pub async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let app = app.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    // Dropped at shutdown: every connection task then shuts its connection down gracefully;
    // each holds a receiver, so `closed()` tells when the last one ended.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let (done_tx, done_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors, a connection reset before accept...: try again shortly.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // The client's address, as axum::serve's `into_make_service_with_connect_info` gives
        // it (`ConnectInfo<SocketAddr>`): what a per-address throttle reads.
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(remote));
                req
            },
        ));
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            // HTTP/1.1 only: hyper-util's auto builder first reads a connection's first bytes
            // to tell HTTP/2 apart, with no timer, so a client that sends nothing would be held
            // for ever. (A reverse proxy in front may speak HTTP/2 to the tablets.) The header
            // timer also runs while a kept-alive connection waits for its next request.
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let mut conn = std::pin::pin!(builder.serve_connection(TokioIo::new(stream), service));
            let mut stopping = false;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    // Resolves (with an error) once, when the server stops: no value is ever sent.
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop((slot, done));
        });
    }
    drop(stop_tx);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}

pub async fn serve(config: Config) -> Result<(), String> {
    let db = Db::open(&config.database_url).await?;
    bootstrap(&db, &config).await?;
    let demo_code = if config.demo { Some(demo_enrolment_code(&db, &config).await?) } else { None };
    let demo_invitation = if config.demo { demo_manager_invitation(&db).await? } else { None };
    // The demo's inviter is nobody's account: it does not count as an administrator.
    let demo_inviter = db.account_by_email(crate::db::DEMO_METROPOLIS_EMAIL).await.map_err(|e| e.to_string())?.is_some();
    let no_admin = db.admin_count().await.map_err(|e| e.to_string())? - i64::from(demo_inviter) == 0;
    let guards = crate::guard::GuardSettings { trusted_proxies: config.trusted_proxies.clone(), ..Default::default() };
    let app = router(AppState::with_guards(db.clone(), guards), &config);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("impossible d'écouter sur {} : {e}", config.addr))?;
    let url = format!("http://{}/", listener.local_addr().map_err(|e| e.to_string())?);
    println!("Assiette est prêt : ouvrez {url} dans Chromium ou Chrome.");
    if let Some(demo_code) = demo_code {
        println!("Une commune de démonstration (« Commune de démonstration », cantine « École des Tilleuls ») est prête à essayer.");
        println!("Code d'enrôlement de la tablette de démonstration : {demo_code}");
        let manager = crate::db::DEMO_MANAGER_EMAIL;
        match &demo_invitation {
            Some(code) => println!(
                "Invitation du gestionnaire de la commune de démonstration ({manager}) : ouvrez {url}bureau/connexion?invitation={code} et choisissez un mot de passe."
            ),
            None => println!("Gestionnaire de la commune de démonstration : connectez-vous sur {url}bureau/connexion avec {manager}."),
        }
    }
    if no_admin {
        println!(
            "Aucun compte administrateur : définissez ASSIETTE_ADMIN_EMAIL et ASSIETTE_ADMIN_PASSWORD, ou lancez « assiette-server create-admin EMAIL »."
        );
    }
    println!("Base de données : {}. Ctrl-C pour arrêter.", crate::config::redact_database_url(&config.database_url));
    serve_app(listener, app, Limits::default(), shutdown_signal()).await.map_err(|e| e.to_string())?;
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
