//! Client sync engine (see docs/sync.md).

/// Settings key of the last successful sync (RFC 3339, server time).
pub const LAST_SYNC_KEY: &str = "last_sync";

/// "29/11/2026 à 14:05" in the device's time zone, or the raw value if unreadable.
pub fn format_last_sync(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.with_timezone(&chrono::Local).format("%d/%m/%Y à %H:%M").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}
