//! What every synced record carries so revisions can be ordered and deletions travel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identity and revision of a record. The id is a UUID v7 made on the device that created
/// the record (time-ordered, no coordination needed); a correction keeps the id and bumps
/// `revision`; a deletion is a revision with `deleted = true` (a tombstone) so it syncs too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    pub id: Uuid,
    /// 1 at creation, +1 at every correction or deletion made on a device.
    pub revision: u64,
    #[serde(default)]
    pub deleted: bool,
    /// When the device last changed it (device clock: informative only).
    #[serde(with = "crate::time::rfc3339")]
    pub modified_at: DateTime<Utc>,
    /// Set by the server when it applies the revision; the authoritative timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::rfc3339_option")]
    pub server_updated_at: Option<DateTime<Utc>>,
}

impl RecordMeta {
    /// A new record's metadata; the caller supplies the id (UUID v7 from the device) and clock.
    pub fn new(id: Uuid, now: DateTime<Utc>) -> Self {
        Self { id, revision: 1, deleted: false, modified_at: now, server_updated_at: None }
    }

    /// The next revision after a correction.
    pub fn revised(&self, now: DateTime<Utc>) -> Self {
        Self { id: self.id, revision: self.revision + 1, deleted: self.deleted, modified_at: now, server_updated_at: None }
    }

    /// The tombstone revision that deletes the record.
    pub fn deleted(&self, now: DateTime<Utc>) -> Self {
        Self { deleted: true, ..self.revised(now) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_increase_and_keep_the_id() {
        let now = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        let m = RecordMeta::new(Uuid::nil(), now);
        let r = m.revised(now);
        let d = r.deleted(now);
        assert_eq!((m.revision, r.revision, d.revision), (1, 2, 3));
        assert!(!r.deleted && d.deleted);
        assert_eq!(d.id, m.id);
    }
}
