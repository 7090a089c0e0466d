//! Configuration read from the environment, with the defaults the README documents.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

#[derive(Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// `sqlite://PATH` (default: `data/assiette.sqlite3`) or `postgres://...`.
    pub database_url: String,
    /// Folder holding the built PWA (Trunk's `dist/`).
    pub static_dir: PathBuf,
    /// ASSIETTE_ADMIN_EMAIL / ASSIETTE_ADMIN_PASSWORD: the metropolis administrator created at
    /// first start (an existing account is left as is; `create-admin` changes its password).
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// ASSIETTE_DEMO=1: create the demo commune and canteen and print a code for its tablet
    /// (`scripts/run.sh` sets it); a plain `serve` on a real database never creates them.
    pub demo: bool,
    /// ASSIETTE_DEMO_ENROLMENT_CODE: a fixed demo enrolment code (scripts, end-to-end tests);
    /// otherwise a fresh one is issued and printed at every start.
    pub demo_enrolment_code: Option<String>,
    /// ASSIETTE_TRUSTED_PROXIES: addresses of reverse proxies (comma-separated) whose
    /// `X-Forwarded-For` names the client; otherwise the throttles see the proxy's address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let port = match std::env::var("ASSIETTE_PORT") {
            Ok(p) => p
                .parse::<u16>()
                .map_err(|_| format!("ASSIETTE_PORT doit être un numéro de port (reçu « {p} »)"))?,
            Err(_) => 8080,
        };
        let database_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/assiette.sqlite3".to_owned());
        let trusted_proxies = match var("ASSIETTE_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|a| {
                    a.trim().parse::<std::net::IpAddr>().map_err(|_| {
                        format!("ASSIETTE_TRUSTED_PROXIES : « {} » n'est pas une adresse IP (liste séparée par des virgules)", a.trim())
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let demo = match var("ASSIETTE_DEMO").as_deref().map(str::trim) {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => return Err(format!("ASSIETTE_DEMO vaut 1 (démonstration) ou 0 (reçu « {other} »)")),
        };
        let demo_enrolment_code = var("ASSIETTE_DEMO_ENROLMENT_CODE");
        if demo_enrolment_code.is_some() && !demo {
            return Err("ASSIETTE_DEMO_ENROLMENT_CODE fixe le code de la tablette de démonstration : ajoutez ASSIETTE_DEMO=1".into());
        }
        let static_dir = std::env::var("ASSIETTE_STATIC_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("dist"));
        Ok(Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            database_url,
            static_dir,
            admin_email: var("ASSIETTE_ADMIN_EMAIL"),
            admin_password: var("ASSIETTE_ADMIN_PASSWORD"),
            demo,
            demo_enrolment_code,
            trusted_proxies,
        })
    }
}

// Written by hand so that a `{:?}` never prints the database password or the admin's.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database_url", &redact_database_url(&self.database_url))
            .field("static_dir", &self.static_dir)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "***"))
            .field("demo", &self.demo)
            .field("demo_enrolment_code", &self.demo_enrolment_code.as_ref().map(|_| "***"))
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// `DATABASE_URL` as it may be shown (start-up line, errors): its password, in the address
/// or in a `password=` parameter, replaced by `***`. Parsed by the `url` crate (already in the
/// tree through sqlx); an address it cannot parse loses everything before its last `@`.
pub fn redact_database_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return match raw.split_once("://") {
            Some((scheme, rest)) if rest.contains('@') => {
                format!("{scheme}://***@{}", rest.rsplit_once('@').map_or("", |(_, host)| host))
            }
            _ => raw.to_owned(),
        };
    };
    let mut changed = false;
    if url.password().is_some() {
        changed |= url.set_password(Some("***")).is_ok();
    }
    if url.query_pairs().any(|(k, _)| k.eq_ignore_ascii_case("password")) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") { "***".to_owned() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed { url.to_string() } else { raw.to_owned() }
}

/// `text` (an error from the database driver, say) with every form of the password of
/// `database_url` replaced by `***`: drivers may quote the address they were given.
pub fn scrub_secrets(text: &str, database_url: &str) -> String {
    let mut secrets: Vec<String> = Vec::new();
    match url::Url::parse(database_url) {
        Ok(url) => {
            if let Some(p) = url.password() {
                secrets.push(p.to_owned());
                secrets.push(percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
            }
            for (k, v) in url.query_pairs() {
                if k.eq_ignore_ascii_case("password") {
                    secrets.push(v.into_owned());
                }
            }
        }
        Err(_) => {
            if let Some((_, rest)) = database_url.split_once("://") {
                if let Some((userinfo, _)) = rest.rsplit_once('@') {
                    if let Some((_, p)) = userinfo.split_once(':') {
                        secrets.push(p.to_owned());
                    }
                }
            }
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    secrets.retain(|s| !s.is_empty());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for s in &secrets {
        out = out.replace(s.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_never_shown() {
        for (raw, shown) in [
            ("postgres://assiette:s3cr%C3%A9t@db.local:5432/assiette", "postgres://assiette:***@db.local:5432/assiette"),
            ("postgresql://u:p4ss@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"),
            ("postgres://u@h/db?password=p4ss&sslmode=disable", "postgres://u@h/db?password=***&sslmode=disable"),
            ("postgres://u:p4ss@[bad/db", "postgres://***@[bad/db"),
            ("sqlite://data/assiette.sqlite3", "sqlite://data/assiette.sqlite3"),
            ("postgres://u@h/db", "postgres://u@h/db"),
        ] {
            assert_eq!(redact_database_url(raw), shown, "{raw}");
        }
        let url = "postgres://assiette:s3cr%C3%A9t@db.local/assiette";
        let err = "password authentication failed for s3crét (s3cr%C3%A9t)";
        assert_eq!(scrub_secrets(err, url), "password authentication failed for *** (***)");
        assert_eq!(scrub_secrets("no secret here", "sqlite://x"), "no secret here");
        let mut config = Config::from_env().unwrap();
        config.database_url = url.into();
        config.admin_password = Some("mot de passe admin".into());
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cr") && !debug.contains("mot de passe admin"), "{debug}");
    }
}
