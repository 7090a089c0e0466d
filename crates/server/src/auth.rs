//! Secrets: argon2 password hashes of people's accounts; random bearer tokens, of which only a
//! SHA-256 hash is stored (256-bit random strings, not passwords); enrolment codes, of which
//! only a keyed hash (HMAC-SHA256) is stored, like invitation codes. The one guard of every
//! route a person uses ([`Person`], [`Metropolis`]) and the scope checks live here too.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use assiette_domain::sync::{enrolment_code_from_indices, ENROLMENT_CODE_ALPHABET, ENROLMENT_CODE_LEN};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::header;
use chrono::{DateTime, Utc};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::AppState;
use crate::store::Store;
use assiette_domain::sync::{Role, SiteDetails, SiteInfo};

/// Prefixes tell the two kinds of bearer tokens apart at a glance (logs, support).
pub const DEVICE_TOKEN_PREFIX: &str = "asd_";
pub const ADMIN_TOKEN_PREFIX: &str = "asa_";
/// ANSSI / CNIL recommend at least 12 characters for a password alone.
pub const MIN_PASSWORD_CHARS: usize = 12;

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 bytes from 64 hex digits.
pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim().as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// A new bearer token: prefix + 256 random bits in hex.
pub fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", hex(&b))
}

/// What is stored for a bearer token (256 random bits: a plain SHA-256 cannot be reversed).
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// What is stored for a (normalised) enrolment code: HMAC-SHA256 under the server's key
/// (`Db::code_hash`). A code has only about 40 bits: a plain hash would be reversed by trying them all.
pub fn hash_code(key: &[u8; 32], code: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(code.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// A fresh `XXXX-XXXX-XXXX-XXXX` invitation code (80 bits, one use, expiring).
pub fn new_invitation_code() -> String {
    use assiette_domain::sync::{normalize_invitation_code, INVITATION_CODE_LEN};
    let mut rng = rand::rngs::OsRng;
    let s: String = (0..INVITATION_CODE_LEN)
        .map(|_| ENROLMENT_CODE_ALPHABET[rng.gen_range(0..ENROLMENT_CODE_ALPHABET.len())] as char)
        .collect();
    normalize_invitation_code(&s).expect("the alphabet's characters")
}

/// A fresh `XXXX-XXXX` enrolment code (about 40 bits, one use, expiring).
pub fn new_enrolment_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut idx = [0usize; ENROLMENT_CODE_LEN];
    for i in idx.iter_mut() {
        *i = rng.gen_range(0..ENROLMENT_CODE_ALPHABET.len());
    }
    enrolment_code_from_indices(&idx)
}

pub fn check_password_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("Le mot de passe doit comporter au moins {MIN_PASSWORD_CHARS} caractères."));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// An argon2 hash of nothing anyone types, with the default parameters: what a login for an
/// unknown e-mail is checked against, so that it costs what a known one costs.
pub fn throwaway_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_token("")).expect("argon2 with default parameters"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Normalised administrator e-mail (trimmed, lower case).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    // 254 characters: the longest address SMTP carries.
    email.chars().count() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || assiette_domain::text::is_forbidden(c))
}

/// An e-mail as it may be logged (a refused login): its first 24 characters with anything
/// invisible written `U+XXXX` (no forged log line, no escape sequence, no megabyte of text),
/// and a short SHA-256 so that repeated attempts on one address can still be told apart.
pub fn loggable_email(email: &str) -> String {
    format!("{} #{}", assiette_domain::text::excerpt(email, 24), &hash_secret(email)[..12])
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// An enrolled, not revoked tablet, from `Authorization: Bearer asd_...`.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub device_id: Uuid,
    pub site: SiteInfo,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer(parts) else {
            return Err(ApiError::unauthorized(
                "enrolment_required",
                "Cette tablette n'est pas enrôlée : saisissez le code d'enrôlement donné par la métropole.",
            ));
        };
        if !token.starts_with(DEVICE_TOKEN_PREFIX) {
            return Err(ApiError::unauthorized("invalid_token", "Jeton de tablette invalide : enrôlez de nouveau la tablette."));
        }
        match state.db.device_by_token(&hash_secret(token)).await? {
            None => Err(ApiError::unauthorized("invalid_token", "Jeton de tablette inconnu : enrôlez de nouveau la tablette.")),
            Some(d) if d.revoked => Err(ApiError::revoked()),
            Some(d) => Ok(DeviceAuth { device_id: d.id, site: d.site }),
        }
    }
}

/// How long a session lasts, per role: it ends when unused for `idle` (each use moves that
/// forward) and, whatever the use, `cap` after sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: chrono::Duration,
    pub cap: chrono::Duration,
}

impl SessionPolicy {
    /// A commune manager works offline and may sync once a week: 30 days idle, 90 at most.
    /// The metropolis works at its desk: 12 hours idle, 7 days at most.
    pub fn of(role: Role) -> SessionPolicy {
        match role {
            Role::CommuneManager => SessionPolicy { idle: chrono::Duration::days(30), cap: chrono::Duration::days(90) },
            Role::Metropolis => SessionPolicy { idle: chrono::Duration::hours(12), cap: chrono::Duration::days(7) },
        }
    }

    /// (idle expiry, absolute expiry) of a session opened at `now`.
    pub fn expiries(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        (now + self.idle, now + self.cap)
    }

    /// The session's new idle expiry when it is used at `now`, or `None` when the stored one is
    /// recent enough (moved at most once an hour: no write on every request).
    pub fn renewal(self, now: DateTime<Utc>, idle_expires_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let step = (self.idle / 10).min(chrono::Duration::hours(1));
        let renewed = (now + self.idle).min(expires_at);
        (renewed - idle_expires_at >= step).then_some(renewed)
    }
}

/// A signed-in person (metropolis or commune manager), from `Authorization: Bearer asa_...`:
/// the one guard of every route a person uses. Metropolis-only routes take [`Metropolis`]; the
/// others check what they touch with [`Person::check_commune`], [`Person::site`] or
/// [`Person::sites`], which answer 404 for anything outside the account's communes exactly as
/// for what does not exist (nothing of another commune is revealed, not even that it exists).
#[derive(Debug, Clone)]
pub struct Person {
    pub account_id: Uuid,
    pub email: String,
    pub role: Role,
    /// INSEE codes in scope (empty for the metropolis: every commune).
    pub communes: Vec<String>,
    pub token_hash: String,
    /// When the session ends if unused from now on.
    pub idle_expires_at: DateTime<Utc>,
}

impl FromRequestParts<AppState> for Person {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).filter(|t| t.starts_with(ADMIN_TOKEN_PREFIX)).ok_or_else(login_required)?;
        Person::from_token(state, token).await
    }
}

fn login_required() -> ApiError {
    ApiError::unauthorized("admin_login_required", "Connectez-vous avec votre compte (métropole ou commune).")
}

impl Person {
    async fn from_token(state: &AppState, token: &str) -> Result<Person, ApiError> {
        let token_hash = hash_secret(token);
        let expired = || ApiError::unauthorized("admin_session_expired", "Session inconnue ou expirée : reconnectez-vous. Vos saisies non envoyées restent sur cet appareil.");
        let Some(session) = state.db.session(&token_hash).await? else { return Err(expired()) };
        let now = state.clock.now();
        if session.account.disabled {
            state.db.delete_session(&token_hash).await?;
            return Err(ApiError::unauthorized("account_disabled", "Ce compte a été désactivé par la métropole : demandez-lui une nouvelle invitation."));
        }
        if now >= session.expires_at || now >= session.idle_expires_at {
            state.db.delete_session(&token_hash).await?;
            return Err(expired());
        }
        let policy = SessionPolicy::of(session.account.role);
        let mut idle_expires_at = session.idle_expires_at;
        if let Some(renewed) = policy.renewal(now, session.idle_expires_at, session.expires_at) {
            state.db.touch_session(&token_hash, renewed).await?;
            idle_expires_at = renewed;
        }
        Ok(Person {
            account_id: session.account.id,
            email: session.account.email,
            role: session.account.role,
            communes: session.communes,
            token_hash,
            idle_expires_at,
        })
    }

    pub fn is_metropolis(&self) -> bool {
        self.role == Role::Metropolis
    }

    /// 403 for a commune manager: the route is the metropolis' (roles are no secret).
    pub fn require_metropolis(&self) -> Result<(), ApiError> {
        if self.is_metropolis() {
            Ok(())
        } else {
            Err(ApiError::forbidden("metropolis_only", "Réservé aux comptes de la métropole : votre compte gère les restaurants de sa commune."))
        }
    }

    /// Whether the commune (INSEE code) is in the account's scope.
    pub fn covers(&self, commune_insee: &str) -> bool {
        self.is_metropolis() || self.communes.iter().any(|c| c.eq_ignore_ascii_case(commune_insee.trim()))
    }

    /// 404 `unknown_commune` for a commune outside the scope (the words a missing commune gets).
    /// A route on a commune starts with it.
    pub fn check_commune(&self, commune_insee: &str) -> Result<(), ApiError> {
        if self.covers(commune_insee) {
            Ok(())
        } else {
            Err(unknown_commune(commune_insee))
        }
    }

    /// The site, when it exists and its commune is in scope; 404 `unknown_site` otherwise, the
    /// same answer for both.
    pub async fn site(&self, db: &crate::db::Db, site_id: Uuid) -> Result<SiteDetails, ApiError> {
        match db.site(site_id).await? {
            Some(site) if self.covers(&site.info.commune_insee) => Ok(site),
            _ => Err(ApiError::not_found("unknown_site", "Restaurant inconnu.")),
        }
    }

    /// Every site in scope.
    pub async fn sites(&self, db: &crate::db::Db) -> Result<Vec<SiteDetails>, ApiError> {
        Ok(db.list_sites().await?.into_iter().filter(|s| self.covers(&s.info.commune_insee)).collect())
    }
}

/// The answer for a commune that does not exist or is outside the scope.
pub fn unknown_commune(commune_insee: &str) -> ApiError {
    ApiError::not_found(
        "unknown_commune",
        format!("Commune {} inconnue : vérifiez le code INSEE.", assiette_domain::text::excerpt(commune_insee, 10)),
    )
}

/// A signed-in metropolis account: the guard of metropolis-only routes (403 `metropolis_only`
/// for a commune manager).
#[derive(Debug, Clone)]
pub struct Metropolis(pub Person);

impl FromRequestParts<AppState> for Metropolis {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let person = Person::from_request_parts(parts, state).await?;
        person.require_metropolis()?;
        Ok(Metropolis(person))
    }
}

/// Metropolis-only routes written with the administrator's name.
pub type AdminAuth = Metropolis;

/// Who signs a sync request: an enrolled tablet (`asd_...`) or a person's browser (`asa_...`).
#[derive(Debug, Clone)]
pub enum SyncAuth {
    Device(DeviceAuth),
    Person(Person),
}

impl FromRequestParts<AppState> for SyncAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts) {
            Some(token) if token.starts_with(ADMIN_TOKEN_PREFIX) => {
                let token = token.to_owned();
                Ok(SyncAuth::Person(Person::from_token(state, &token).await?))
            }
            _ => Ok(SyncAuth::Device(DeviceAuth::from_request_parts(parts, state).await?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes() {
        let a = random_token(DEVICE_TOKEN_PREFIX);
        let b = random_token(DEVICE_TOKEN_PREFIX);
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let c = new_enrolment_code();
        assert_eq!(assiette_domain::sync::normalize_enrolment_code(&c).unwrap(), c);
        let i = new_invitation_code();
        assert_eq!(i.len(), 19);
        assert_eq!(assiette_domain::sync::normalize_invitation_code(&i.to_lowercase().replace('-', " ")).unwrap(), i);
    }

    #[test]
    fn sessions_slide_at_most_once_an_hour_and_never_past_their_cap() {
        use chrono::Duration;
        let p = SessionPolicy::of(Role::CommuneManager);
        let t0 = Utc::now();
        let (idle, cap) = p.expiries(t0);
        assert_eq!((idle - t0, cap - t0), (Duration::days(30), Duration::days(90)));
        assert_eq!(p.renewal(t0 + Duration::minutes(30), idle, cap), None, "used again within the hour: no write");
        assert_eq!(p.renewal(t0 + Duration::hours(2), idle, cap), Some(t0 + Duration::hours(2) + Duration::days(30)));
        let late = t0 + Duration::days(80);
        assert_eq!(p.renewal(late, late + Duration::days(1), cap), Some(cap), "never past the cap");
        assert_eq!(p.renewal(late, cap, cap), None);
        let m = SessionPolicy::of(Role::Metropolis);
        assert_eq!((m.idle, m.cap), (Duration::hours(12), Duration::days(7)));
    }

    #[test]
    fn passwords() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password_strength("court").is_err());
        assert!(check_password_strength("assez long pour passer").is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(normalize_email("  Chargee@LeHavre.fr "), "chargee@lehavre.fr");
        assert!(valid_email("a@b.fr"));
        for bad in ["", "a", "a@b", "@b.fr", "a@.fr", "a b@c.fr", "a@b.fr.", "a\u{1b}[31m@b.fr", "a\u{202e}@b.fr"] {
            assert!(!valid_email(bad), "{bad}");
        }
        assert!(!valid_email(&format!("{}@b.fr", "a".repeat(250))));
        let logged = loggable_email(&format!("x@y.fr\n2026-12-02T00:00:00Z  INFO forged\u{1b}[31m{}", "z".repeat(1_000_000)));
        assert!(logged.starts_with("x@y.frU+000A2026-12-02T00:00:… #"), "{logged}");
        assert!(logged.len() < 60 && !logged.contains('\n') && !logged.contains('\u{1b}'), "{logged}");
    }
}
