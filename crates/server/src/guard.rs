//! What keeps the server's guessable doors (sign-in, tablet enrolment, invitations) from
//! being worn down: keyed throttles of attempts per client address, per account and overall
//! (governor), and a gate that bounds the work and memory of password verification.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// How much of each door a client may use. Quotas are GCRA cells: a burst, then one more
/// attempt per period.
#[derive(Debug, Clone)]
pub struct GuardSettings {
    /// Admin logins per client address.
    pub login_per_address: Quota,
    /// Admin logins per (normalised) e-mail, whichever address they come from.
    pub login_per_account: Quota,
    /// Enrolment attempts per client address.
    pub enrol_per_address: Quota,
    /// Enrolment attempts from everywhere together (a guesser with many addresses).
    pub enrol_overall: Quota,
    /// Password verifications running at once; beyond, a login is answered 429 at once.
    pub password_workers: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed (ASSIETTE_TRUSTED_PROXIES).
    pub trusted_proxies: Vec<IpAddr>,
}

fn quota(burst: u32, one_per: Duration) -> Quota {
    Quota::with_period(one_per).expect("a non-zero period").allow_burst(NonZeroU32::new(burst.max(1)).expect("non-zero"))
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            // An administrator mistyping a few times is never held back; a guesser gets 10 a
            // minute per address and 5 a minute on one account.
            login_per_address: quota(10, Duration::from_secs(6)),
            login_per_account: quota(5, Duration::from_secs(12)),
            // A site enrolling its tablets one after the other stays well inside; a guesser
            // gets 10 a minute per address and 60 a minute in all: with 100 live codes among
            // 31^8, about one chance in 4,000 in 30 days of trying.
            enrol_per_address: quota(20, Duration::from_secs(6)),
            enrol_overall: quota(60, Duration::from_secs(1)),
            password_workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            trusted_proxies: Vec::new(),
        }
    }
}

/// A keyed limiter that forgets idle keys now and then (keys are client addresses and
/// e-mails: without it, every address ever seen would be kept).
struct Keyed<K: std::hash::Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
}

impl<K: std::hash::Hash + Eq + Clone> Keyed<K> {
    fn new(q: Quota) -> Self {
        Keyed { limiter: DefaultKeyedRateLimiter::keyed(q), checks: AtomicU64::new(0) }
    }

    /// `Err(wait)` when `key` has no attempt left.
    fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The throttles and the password gate of one server.
pub struct Guards {
    login_per_address: Keyed<IpAddr>,
    login_per_account: Keyed<String>,
    enrol_per_address: Keyed<IpAddr>,
    enrol_overall: DefaultDirectRateLimiter,
    passwords: PasswordGate,
    trusted_proxies: Vec<IpAddr>,
}

/// What a throttled client is told: wait this long (`Retry-After`, whole seconds, at least 1).
fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// « 1 seconde », « 12 secondes », « 3 minutes ».
pub fn wait_fr(seconds: u64) -> String {
    match seconds {
        0 | 1 => "1 seconde".to_owned(),
        s if s < 120 => format!("{s} secondes"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

impl Guards {
    pub fn new(settings: GuardSettings) -> Self {
        Guards {
            login_per_address: Keyed::new(settings.login_per_address),
            login_per_account: Keyed::new(settings.login_per_account),
            enrol_per_address: Keyed::new(settings.enrol_per_address),
            enrol_overall: DefaultDirectRateLimiter::direct(settings.enrol_overall),
            passwords: PasswordGate::new(settings.password_workers),
            trusted_proxies: settings.trusted_proxies,
        }
    }

    /// One admin login attempt from `client` on `account` (`None`: an address no account can
    /// have). Every attempt counts, successful or not: governor cannot look at a key without
    /// counting, and an administrator logs in a few times a day.
    pub fn login_attempt(&self, client: IpAddr, account: Option<&str>) -> Result<(), ApiError> {
        let throttled = |wait: Duration| {
            let s = retry_after(wait);
            ApiError::too_many_requests(
                "too_many_attempts",
                format!("Trop de tentatives de connexion : réessayez dans {}, avec la bonne adresse et le bon mot de passe.", wait_fr(s)),
                s,
            )
        };
        self.login_per_address.check(&client).map_err(throttled)?;
        if let Some(account) = account {
            self.login_per_account.check(&account.to_owned()).map_err(throttled)?;
        }
        Ok(())
    }

    /// One enrolment attempt from `client` (every attempt counts, as for logins).
    pub fn enrol_attempt(&self, client: IpAddr) -> Result<(), ApiError> {
        self.code_attempt(client, "Trop de codes d'enrôlement essayés", "en recopiant le code donné par la métropole")
    }

    /// One invitation code tried from `client`: the enrolment door's throttles (per address and
    /// overall), which both kinds of one-time codes share.
    pub fn invitation_attempt(&self, client: IpAddr) -> Result<(), ApiError> {
        self.code_attempt(client, "Trop de codes d'invitation essayés", "en recopiant le code de votre invitation")
    }

    fn code_attempt(&self, client: IpAddr, what: &str, how: &str) -> Result<(), ApiError> {
        let throttled = |wait: Duration| {
            let s = retry_after(wait);
            ApiError::too_many_requests("too_many_attempts", format!("{what} : réessayez dans {}, {how}.", wait_fr(s)), s)
        };
        self.enrol_per_address.check(&client).map_err(throttled)?;
        self.enrol_overall.check().map_err(|n| throttled(n.wait_time_from(DefaultClock::default().now())))
    }

    /// Checks `password` against the PHC string `hash` (`None`: an unknown account, checked
    /// against `auth::throwaway_hash` at the same cost) on one of the gate's workers.
    pub async fn verify_password(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        self.passwords.verify(password, hash).await
    }

    /// The argon2 hash of a new password, on one of the same workers (a password set is as
    /// costly as one checked).
    pub async fn hash_password(&self, password: String) -> Result<String, ApiError> {
        self.passwords.hash(password).await
    }

    /// The client's address: the peer's, or, when the peer is a trusted reverse proxy, the
    /// last address of `X-Forwarded-For` that is not one of the trusted proxies.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let Some(list) = forwarded_for else { return peer };
        list.rsplit(',')
            .map(|a| a.trim().parse::<IpAddr>().map(|a| a.to_canonical()))
            .map_while(Result::ok)
            .find(|a| !self.trusted_proxies.contains(a))
            .unwrap_or(peer)
    }
}

/// The address a throttle keys on: IPv4 as is, IPv6 by its /64 (one subscriber's block holds
/// 2^64 addresses).
pub fn throttle_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The client's address as the throttles see it (see `Guards::client_address`). Behind a
/// reverse proxy that is not listed in ASSIETTE_TRUSTED_PROXIES, it is the proxy's.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<crate::http::AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &crate::http::AppState) -> Result<Self, ApiError> {
        // Set by the server's connection loop (`http::serve_app`); a router served some other
        // way counts every client as one.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        Ok(ClientAddr(throttle_key(state.guards.client_address(peer, forwarded))))
    }
}

/// Password verification on at most `workers` blocking threads at once, each reusing one
/// argon2 memory buffer (19 MiB with the default parameters): however many logins arrive, the
/// server holds `workers` buffers, and a login beyond them is answered 429 at once instead of
/// waiting (a queue of argon2 runs is what an attacker wants).
struct PasswordGate {
    permits: Arc<tokio::sync::Semaphore>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl PasswordGate {
    fn new(workers: usize) -> Self {
        PasswordGate { permits: Arc::new(tokio::sync::Semaphore::new(workers.max(1))), buffers: Arc::new(Mutex::new(Vec::new())) }
    }

    fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            ApiError::too_many_requests("server_busy", "Le serveur vérifie déjà d'autres mots de passe : réessayez dans 1 seconde.", 1)
        })
    }

    async fn hash(&self, password: String) -> Result<String, ApiError> {
        let permit = self.permit()?;
        tokio::task::spawn_blocking(move || {
            let hash = crate::auth::hash_password(&password);
            drop(permit);
            hash
        })
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "argon2 hash failed");
            ApiError::internal()
        })
    }

    async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let permit = self.permit()?;
        let buffers = self.buffers.clone();
        let ok = tokio::task::spawn_blocking(move || {
            let mut memory = buffers.lock().map(|mut b| b.pop()).unwrap_or(None).unwrap_or_default();
            let hash: &str = match &hash {
                Some(h) => h,
                None => crate::auth::throwaway_hash(),
            };
            let ok = verify_with_memory(password.as_bytes(), hash, &mut memory);
            if let Ok(mut b) = buffers.lock() {
                b.push(memory);
            }
            drop(permit);
            ok
        })
        .await
        .unwrap_or(false);
        Ok(ok)
    }
}

/// Largest argon2 memory a stored hash may ask for (256 MiB): a hash is written by this
/// server, but a row edited by hand must not make every login allocate gigabytes.
const MAX_BLOCKS: usize = 256 * 1024;

/// `PasswordVerifier::verify_password` of the argon2 crate, with the caller's memory instead
/// of a fresh allocation per call (grown when a hash asks for more).
fn verify_with_memory(password: &[u8], phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else { return false };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version.unwrap_or_default(), params);
    if argon.hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks]).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|out| out == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_verification_matches_the_crate() {
        let hash = crate::auth::hash_password("correct horse battery").unwrap();
        let mut memory = Vec::new();
        assert!(verify_with_memory(b"correct horse battery", &hash, &mut memory));
        assert_eq!(memory.len(), Params::DEFAULT.block_count());
        assert!(!verify_with_memory(b"correct horse batterz", &hash, &mut memory));
        assert!(verify_with_memory(b"correct horse battery", &hash, &mut memory), "memory reused");
        assert!(!verify_with_memory(b"x", "not a hash", &mut memory));
    }

    #[test]
    fn client_addresses() {
        let g = Guards::new(GuardSettings { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..GuardSettings::default() });
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(g.client_address(other, Some("203.0.113.9")), other, "an untrusted peer's header is ignored");
        assert_eq!(g.client_address(proxy, Some("198.51.100.1, 203.0.113.9")), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(g.client_address(proxy, Some("203.0.113.9, 127.0.0.1")), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(g.client_address(proxy, Some("garbage")), proxy);
        assert_eq!(g.client_address(proxy, None), proxy);
        assert_eq!(throttle_key("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_eq!(throttle_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(wait_fr(1), "1 seconde");
        assert_eq!(wait_fr(12), "12 secondes");
        assert_eq!(wait_fr(600), "10 minutes");
    }
}
