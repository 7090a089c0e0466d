//! The sync protocol between kitchen tablets and the metropolis server (see `docs/sync.md`).
//!
//! Types are shared by the app (wasm32) and the server, so both sides read and write the same
//! JSON. The decisions are pure functions here too, so the server's HTTP and storage layers stay
//! thin and the rules can be tested without a network:
//! - [`check_mutation`]: may this device write this record at all (site scope, validation)?
//! - [`decide`]: given the server's current state of a record, apply, duplicate or conflict?
//! - [`plan_push`]: a whole batch against the stored state (what the server writes and replies).
//!
//! Rules in one place:
//! - Dedup key: `(device_id, seq)`; a replayed mutation is answered `duplicate`, never applied twice.
//! - Records are keyed by their UUID: two tablets weighing the same day make two records, both count.
//! - A correction or a deletion is a new revision of the same id: a higher revision wins; the same
//!   revision with the same content is a duplicate; the same revision with other content, or a
//!   lower one, is a conflict answered with the server's current record.
//! - The server stamps `server_updated_at` and gives every applied change a per-site change
//!   sequence; the pull cursor is that sequence, never a timestamp.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::meals::DailyMealCount;
use crate::number::format_fr_date;
use crate::purchase::Purchase;
use crate::record::RecordMeta;
use crate::site::normalize_siret;
use crate::time::Rfc3339;
use crate::validation::{FieldError, Validation};
use crate::waste::Weighing;

/// Every route of the JSON API lives under this prefix.
pub const API_PREFIX: &str = "/api/v1";
/// Largest request body the server accepts (bytes); a larger one gets 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most mutations in one push; the tablet sends its outbox in batches of at most this.
pub const MAX_PUSH_MUTATIONS: usize = 1000;
/// Changes per pull page when the request names no limit, and the most it may ask for.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
pub const MAX_PULL_LIMIT: u32 = 5000;
/// Numbers stored by the server are signed 64-bit: larger revisions or seqs are refused.
pub const MAX_STORED_NUMBER: u64 = i64::MAX as u64;
/// The largest integer every JSON reader reads exactly (2^53 − 1, JavaScript's
/// `Number.MAX_SAFE_INTEGER`): seqs, revisions and prices above it are refused.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// A pull page holds at most this many bytes of records (besides `limit`), unless its first
/// record alone is bigger.
pub const MAX_PULL_PAGE_BYTES: usize = 1024 * 1024;

/// The kinds of records a tablet syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    MealCount,
    Weighing,
    Purchase,
}
// The wire code (`kind`), also stored by the server.
crate::code_enum!(RecordKind { MealCount => "meal_count", Weighing => "weighing", Purchase => "purchase" });

impl RecordKind {
    pub const ALL: [RecordKind; 3] = [RecordKind::MealCount, RecordKind::Weighing, RecordKind::Purchase];

    pub fn label_fr(self) -> &'static str {
        match self {
            RecordKind::MealCount => "comptage de repas",
            RecordKind::Weighing => "pesée",
            RecordKind::Purchase => "achat",
        }
    }
}

/// One full domain record as it travels, tagged by `kind`:
/// `{"kind": "weighing", "meta": {...}, "site_id": "...", ...}`.
///
/// Serialised by serde's internally tagged representation (`kind` first). Deserialised by hand
/// (see [`RecordPayloadVisitor`]) to the same JSON shape: when `kind` comes first, as every
/// writer of this crate puts it, the rest of the object goes straight to the record's own
/// deserializer, instead of being buffered into serde's private `Content` tree and parsed again.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordPayload {
    MealCount(DailyMealCount),
    Weighing(Weighing),
    Purchase(Purchase),
}

impl<'de> Deserialize<'de> for RecordPayload {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordPayloadVisitor)
    }
}

/// Reads a `RecordPayload` object: `kind` first (no buffering), or anywhere (the other fields
/// are buffered as JSON values until `kind` is known, as serde's internally tagged enums do).
struct RecordPayloadVisitor;

/// An object key, without allocating when it is `kind`.
enum PayloadKey {
    Kind,
    Other(String),
}

impl<'de> Deserialize<'de> for PayloadKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = PayloadKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PayloadKey, E> {
                Ok(if v == "kind" { PayloadKey::Kind } else { PayloadKey::Other(v.to_owned()) })
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<PayloadKey, E> {
                Ok(if v == "kind" { PayloadKey::Kind } else { PayloadKey::Other(v) })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl RecordPayloadVisitor {
    /// The record of `kind` from any deserializer of its fields.
    fn record<'de, D: serde::Deserializer<'de>>(kind: RecordKind, fields: D) -> Result<RecordPayload, D::Error> {
        Ok(match kind {
            RecordKind::MealCount => RecordPayload::MealCount(DailyMealCount::deserialize(fields)?),
            RecordKind::Weighing => RecordPayload::Weighing(Weighing::deserialize(fields)?),
            RecordKind::Purchase => RecordPayload::Purchase(Purchase::deserialize(fields)?),
        })
    }
}

impl<'de> serde::de::Visitor<'de> for RecordPayloadVisitor {
    type Value = RecordPayload;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("internally tagged enum RecordPayload")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RecordPayload, A::Error> {
        use serde::de::Error;
        // Rare path (no writer of this crate puts `kind` after other fields): the entries before
        // `kind` and after it are written back as one JSON object, duplicates included, and read
        // with the record's `from_str`, the instantiation the app already carries for its storage
        // (a deserializer over a buffered tree would add a third copy of every record's reader).
        let mut object = String::from("{");
        let mut kind = None;
        while let Some(key) = map.next_key::<PayloadKey>()? {
            match key {
                PayloadKey::Kind if kind.is_some() => {
                    // A second `kind` is a field the record doesn't know: ignored, like any other.
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                PayloadKey::Kind => {
                    let k: RecordKind = map.next_value()?;
                    if object.len() == 1 {
                        // Fast path: the remaining entries are exactly the record's fields.
                        return Self::record(k, serde::de::value::MapAccessDeserializer::new(map));
                    }
                    kind = Some(k);
                }
                PayloadKey::Other(name) => {
                    if object.len() > 1 {
                        object.push(',');
                    }
                    json_string(&mut object, &name);
                    object.push(':');
                    map.next_value_seed(JsonText(&mut object))?;
                }
            }
        }
        let Some(kind) = kind else { return Err(A::Error::missing_field("kind")) };
        object.push('}');
        let mut fields = serde_json::Deserializer::from_str(&object);
        Self::record(kind, &mut fields).map_err(A::Error::custom)
    }
}

/// Appends `s` as a JSON string (quoted, escaped the standard way).
fn json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string always serialises"));
}

/// Appends whatever value the deserializer holds to a JSON text, as it came: a small buffer
/// for the entries that precede a record's `kind` (instead of a `serde_json::Value` tree).
struct JsonText<'a>(&'a mut String);

impl<'de> serde::de::DeserializeSeed<'de> for JsonText<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonText<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        use std::fmt::Write;
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        use std::fmt::Write;
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        // Rust's shortest round-trip form; JSON numbers are always finite.
        use std::fmt::Write;
        let _ = write!(self.0, "{v:?}");
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        json_string(self.0, v);
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.0.push_str("null");
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.push('[');
        let mut first = true;
        loop {
            let at = self.0.len();
            if !first {
                self.0.push(',');
            }
            if seq.next_element_seed(JsonText(self.0))?.is_none() {
                self.0.truncate(at);
                break;
            }
            first = false;
        }
        self.0.push(']');
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.push('{');
        let mut first = true;
        loop {
            let at = self.0.len();
            if !first {
                self.0.push(',');
            }
            if map.next_key_seed(JsonText(self.0))?.is_none() {
                self.0.truncate(at);
                break;
            }
            self.0.push(':');
            map.next_value_seed(JsonText(self.0))?;
            first = false;
        }
        self.0.push('}');
        Ok(())
    }
}

/// Which site a record says it belongs to: meal counts and weighings by the site's UUID,
/// purchases by its SIRET (the national purchase format has no other key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteRef<'a> {
    Id(Uuid),
    Siret(&'a str),
}

impl RecordPayload {
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordPayload::MealCount(_) => RecordKind::MealCount,
            RecordPayload::Weighing(_) => RecordKind::Weighing,
            RecordPayload::Purchase(_) => RecordKind::Purchase,
        }
    }

    pub fn meta(&self) -> &RecordMeta {
        match self {
            RecordPayload::MealCount(r) => &r.meta,
            RecordPayload::Weighing(r) => &r.meta,
            RecordPayload::Purchase(r) => &r.meta,
        }
    }

    pub fn meta_mut(&mut self) -> &mut RecordMeta {
        match self {
            RecordPayload::MealCount(r) => &mut r.meta,
            RecordPayload::Weighing(r) => &mut r.meta,
            RecordPayload::Purchase(r) => &mut r.meta,
        }
    }

    pub fn id(&self) -> Uuid {
        self.meta().id
    }

    pub fn revision(&self) -> u64 {
        self.meta().revision
    }

    pub fn is_deleted(&self) -> bool {
        self.meta().deleted
    }

    pub fn site_ref(&self) -> SiteRef<'_> {
        match self {
            RecordPayload::MealCount(r) => SiteRef::Id(r.site_id),
            RecordPayload::Weighing(r) => SiteRef::Id(r.site_id),
            RecordPayload::Purchase(r) => SiteRef::Siret(&r.siret),
        }
    }

    /// The domain's own validation of the record (errors refuse, warnings don't).
    pub fn validate(&self, today: NaiveDate) -> Validation {
        match self {
            RecordPayload::MealCount(r) => r.validate(today),
            RecordPayload::Weighing(r) => r.validate(today),
            RecordPayload::Purchase(r) => r.validate(today),
        }
    }

    /// The same record with the server's timestamp.
    pub fn with_server_updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.meta_mut().server_updated_at = Some(at);
        self
    }

    /// Equal as entered: ignores the two clocks (`modified_at` of the device, `server_updated_at`),
    /// so the same revision typed identically on two tablets, or replayed, is not a conflict.
    pub fn same_content(&self, other: &RecordPayload) -> bool {
        fn strip(r: &RecordPayload) -> RecordPayload {
            let mut r = r.clone();
            let m = r.meta_mut();
            m.server_updated_at = None;
            m.modified_at = DateTime::<Utc>::UNIX_EPOCH;
            r
        }
        strip(self) == strip(other)
    }

    /// The values a person typed, in French, to show two versions side by side, e.g.
    /// « Restes assiettes – Dessert, fruit : 0,5 kg ».
    pub fn values_fr(&self) -> String {
        match self {
            RecordPayload::MealCount(r) => format!(
                "{} prévus, {} servis aux enfants, {} aux adultes",
                r.planned, r.served_children, r.served_adults
            ),
            RecordPayload::Weighing(r) => {
                let mut text = format!(
                    "{} – {} : {}",
                    r.stage.label(),
                    crate::waste::component_label(r.component),
                    crate::number::format_kg(r.mass_grams)
                );
                if let Some(s) = r.sorted {
                    text.push_str(&format!(
                        " (comestible {}, non comestible {})",
                        crate::number::format_kg(s.edible_grams),
                        crate::number::format_kg(s.inedible_grams)
                    ));
                }
                if let Some(d) = r.destination {
                    text.push_str(&format!(", destination : {}", d.label()));
                }
                if r.meta.deleted {
                    text.push_str(" (supprimée)");
                }
                text
            }
            RecordPayload::Purchase(r) => {
                let desc: String = r.description.chars().filter(|c| !crate::text::is_forbidden(*c)).take(40).collect();
                format!("« {} », {} HT", desc, crate::number::format_euros(r.price_cents))
            }
        }
    }

    /// Short French description for messages, e.g. « pesée du 03/03/2026 ».
    pub fn describe_fr(&self) -> String {
        match self {
            RecordPayload::MealCount(r) => format!("comptage de repas du {}", format_fr_date(r.service_date)),
            RecordPayload::Weighing(r) => {
                format!("pesée « {} » du {}", r.stage.label(), format_fr_date(r.service_date))
            }
            RecordPayload::Purchase(r) => {
                let desc: String = r.description.chars().filter(|c| !crate::text::is_forbidden(*c)).take(40).collect();
                format!("achat « {} » du {}", desc, format_fr_date(r.date))
            }
        }
    }
}

/// One change typed on a tablet, numbered by the tablet's own outbox sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    /// The device's sequence number (strictly increasing per device; the dedup key with `device_id`).
    pub seq: u64,
    pub record: RecordPayload,
}

/// `POST /api/v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The id the server gave the device at enrolment (must match the bearer token).
    pub device_id: Uuid,
    pub mutations: Vec<Mutation>,
}

/// What the server did with one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MutationStatus {
    /// Written and committed; `server_seq` is its place in the site's change log.
    Applied {
        server_seq: u64,
        #[serde(with = "crate::time::rfc3339")]
        server_updated_at: DateTime<Utc>,
    },
    /// Already on the server (same dedup key, or the very same revision): nothing written.
    Duplicate,
    /// The server holds another state of this record (same revision with other content, or a
    /// newer revision): nothing written; here is the current record.
    Conflict { current: RecordPayload },
    /// Refused (outside the device's site, invalid record...): nothing written. `reason` is French.
    Rejected {
        reason: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        errors: Vec<FieldError>,
    },
}

/// One line of a push reply: `{"seq": 4, "status": "applied", "server_seq": 9, ...}`.
///
/// Serialised by serde (the status flattened into the object). Deserialised by hand (see
/// [`MutationResultVisitor`]) to the same JSON: serde's `flatten` of an internally tagged enum
/// would buffer every result into its private `Content` tree and parse it a second time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MutationResult {
    pub seq: u64,
    #[serde(flatten)]
    pub status: MutationStatus,
}

impl<'de> Deserialize<'de> for MutationResult {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MutationResultVisitor)
    }
}

/// The `status` codes, in [`MutationStatus`]'s order.
const STATUS_CODES: &[&str] = &["applied", "duplicate", "conflict", "rejected"];

/// Which [`MutationStatus`] a result has, before its fields are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusCode {
    Applied,
    Duplicate,
    Conflict,
    Rejected,
}

impl StatusCode {
    const ALL: [StatusCode; 4] = [StatusCode::Applied, StatusCode::Duplicate, StatusCode::Conflict, StatusCode::Rejected];
}

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;
        impl serde::de::Visitor<'_> for CodeVisitor {
            type Value = StatusCode;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("variant identifier")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StatusCode, E> {
                match STATUS_CODES.iter().position(|c| *c == v) {
                    Some(i) => Ok(StatusCode::ALL[i]),
                    None => Err(E::unknown_variant(v, STATUS_CODES)),
                }
            }
            // Serde's derived enums also take the variant's index.
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<StatusCode, E> {
                if v < 4 {
                    Ok(StatusCode::ALL[v as usize])
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Unsigned(v), &"variant index 0 <= i < 4"))
                }
            }
        }
        // Any value, not just a string: a derived tag read through serde's buffer takes the index too.
        deserializer.deserialize_any(CodeVisitor)
    }
}

/// A key of a result object: the fields of every status; any other key is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResultKey {
    Seq,
    Status,
    ServerSeq,
    ServerUpdatedAt,
    Current,
    Reason,
    Errors,
    Other,
}

const RESULT_KEYS: [(&str, ResultKey); 7] = [
    ("seq", ResultKey::Seq),
    ("status", ResultKey::Status),
    ("server_seq", ResultKey::ServerSeq),
    ("server_updated_at", ResultKey::ServerUpdatedAt),
    ("current", ResultKey::Current),
    ("reason", ResultKey::Reason),
    ("errors", ResultKey::Errors),
];

impl ResultKey {
    fn name(self) -> &'static str {
        RESULT_KEYS.iter().find(|(_, k)| *k == self).map_or("", |(n, _)| n)
    }

    /// The status whose field this is (`None`: not a status field).
    fn status(self) -> Option<StatusCode> {
        match self {
            ResultKey::ServerSeq | ResultKey::ServerUpdatedAt => Some(StatusCode::Applied),
            ResultKey::Current => Some(StatusCode::Conflict),
            ResultKey::Reason | ResultKey::Errors => Some(StatusCode::Rejected),
            ResultKey::Seq | ResultKey::Status | ResultKey::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for ResultKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = ResultKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ResultKey, E> {
                Ok(RESULT_KEYS.iter().find(|(n, _)| *n == v).map_or(ResultKey::Other, |(_, k)| *k))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Reads a [`MutationResult`] in one pass, keys in any order, as serde's derive reads it:
/// unknown keys are ignored, and so are the fields of the other statuses (when `status` comes
/// first, as every writer of this crate puts it, they are skipped unread; a field that comes
/// before `status` is read as its own status reads it, so a malformed value there is refused
/// where the derive ignored it: no writer sends the fields of another status).
struct MutationResultVisitor;

/// The fields read so far, and which status fields came twice.
#[derive(Default)]
struct ResultFields {
    seq: Option<u64>,
    status: Option<StatusCode>,
    server_seq: Option<u64>,
    server_updated_at: Option<DateTime<Utc>>,
    current: Option<RecordPayload>,
    reason: Option<String>,
    errors: Option<Vec<FieldError>>,
    twice: Vec<ResultKey>,
}

impl<'de> serde::de::Visitor<'de> for MutationResultVisitor {
    type Value = MutationResult;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("struct MutationResult")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<MutationResult, A::Error> {
        use serde::de::Error;
        let mut f = ResultFields::default();
        while let Some(key) = map.next_key::<ResultKey>()? {
            // A field of another status than the one already read: skipped, as the derive does.
            let wanted = match (key.status(), f.status) {
                (None, _) => key != ResultKey::Other,
                (Some(owner), Some(status)) => owner == status,
                (Some(_), None) => true,
            };
            if !wanted {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let seen = match key {
                ResultKey::Seq => {
                    if f.seq.is_some() {
                        return Err(A::Error::duplicate_field("seq"));
                    }
                    f.seq = Some(map.next_value()?);
                    false
                }
                // The first `status` decides which fields are read (a second one is an error).
                ResultKey::Status if f.status.is_some() => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    true
                }
                ResultKey::Status => {
                    f.status = Some(map.next_value()?);
                    false
                }
                ResultKey::ServerSeq => f.server_seq.replace(map.next_value()?).is_some(),
                ResultKey::ServerUpdatedAt => f.server_updated_at.replace(map.next_value::<Rfc3339>()?.0).is_some(),
                ResultKey::Current => f.current.replace(map.next_value()?).is_some(),
                ResultKey::Reason => f.reason.replace(map.next_value()?).is_some(),
                ResultKey::Errors => f.errors.replace(map.next_value()?).is_some(),
                ResultKey::Other => false,
            };
            if seen {
                f.twice.push(key);
            }
        }
        f.into_result()
    }
}

impl ResultFields {
    /// The result, or serde's error for what is missing or given twice (the derive's order:
    /// `seq`, then `status`, then the status's own fields).
    fn into_result<E: serde::de::Error>(self) -> Result<MutationResult, E> {
        let seq = self.seq.ok_or_else(|| E::missing_field("seq"))?;
        let status = self.status.ok_or_else(|| E::missing_field("status"))?;
        if let Some(key) = self.twice.iter().find(|k| **k == ResultKey::Status || k.status() == Some(status)) {
            return Err(E::duplicate_field(key.name()));
        }
        let status = match status {
            StatusCode::Applied => MutationStatus::Applied {
                server_seq: self.server_seq.ok_or_else(|| E::missing_field("server_seq"))?,
                server_updated_at: self.server_updated_at.ok_or_else(|| E::missing_field("server_updated_at"))?,
            },
            StatusCode::Duplicate => MutationStatus::Duplicate,
            StatusCode::Conflict => MutationStatus::Conflict { current: self.current.ok_or_else(|| E::missing_field("current"))? },
            StatusCode::Rejected => MutationStatus::Rejected {
                reason: self.reason.ok_or_else(|| E::missing_field("reason"))?,
                errors: self.errors.unwrap_or_default(),
            },
        };
        Ok(MutationResult { seq, status })
    }
}

/// Reply to a push: one result per mutation, in the request's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

/// `POST /api/v1/sync/pull`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The `next_cursor` of the previous page; absent or null for the first pull.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Changes per page (default [`DEFAULT_PULL_LIMIT`], at most [`MAX_PULL_LIMIT`]).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The site to pull, for a signed-in person (one cursor per site): required with a session
    /// token, checked against the account's communes. A tablet pulls its own site and may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<Uuid>,
}

/// The current state of a record that changed after the cursor (tombstones included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub server_seq: u64,
    pub record: RecordPayload,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Ordered by `server_seq`.
    pub changes: Vec<Change>,
    /// Store it with the applied changes, in the same transaction; send it at the next pull.
    pub next_cursor: String,
    /// More changes wait: pull again at once with `next_cursor`.
    pub has_more: bool,
}

/// The pull cursor: the last change-log sequence the device has. Opaque to the tablet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor(pub u64);

impl Cursor {
    pub fn encode(self) -> String {
        format!("v1.{}", self.0)
    }

    /// `None` (absent) is the start of the log. An unreadable cursor is an error (French message).
    pub fn decode(s: Option<&str>) -> Result<Cursor, String> {
        let Some(s) = s else { return Ok(Cursor(0)) };
        if s.is_empty() {
            return Ok(Cursor(0));
        }
        s.strip_prefix("v1.")
            .and_then(|n| if n.bytes().all(|b| b.is_ascii_digit()) { n.parse::<u64>().ok() } else { None })
            .filter(|n| *n <= MAX_STORED_NUMBER)
            .map(Cursor)
            .ok_or_else(|| {
                "Curseur de synchronisation illisible : reprenez la synchronisation depuis le début (sans curseur).".to_owned()
            })
    }
}

/// The site a tablet is enrolled for, as the server returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Stamp it as `site_id` on meal counts and weighings.
    pub id: Uuid,
    pub name: String,
    /// Stamp it as `siret` on purchases.
    pub siret: String,
    pub commune_insee: String,
    pub commune_name: String,
}

/// `POST /api/v1/enrol`: a one-time code given by the metropolis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    /// Shown to the administrator, e.g. « Tablette cuisine ».
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// Send it in every push.
    pub device_id: Uuid,
    /// Send it as `Authorization: Bearer <token>`; shown once, the server keeps only a hash.
    pub token: String,
    pub site: SiteInfo,
}

/// A tablet as the administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: Uuid,
    pub site_id: Uuid,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(default, with = "crate::time::rfc3339_option")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::time::rfc3339_option")]
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/admin/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Send it as `Authorization: Bearer <token>` on `/api/v1/admin/...`, `/api/v1/account...`
    /// and (a person's browser) `/api/v1/sync/...`.
    pub token: String,
    /// When the session ends if it is not used before (each use moves it forward, up to its cap).
    #[serde(with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// Who signed in, with the communes in scope.
    #[serde(default)]
    pub account: Option<AccountInfo>,
}

/// What an account may see: `metropolis` every commune, `commune_manager` the communes listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Metropolis,
    CommuneManager,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Metropolis => "metropolis",
            Role::CommuneManager => "commune_manager",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        match code {
            "metropolis" => Some(Role::Metropolis),
            "commune_manager" => Some(Role::CommuneManager),
            _ => None,
        }
    }
}

/// A person's account (`GET /api/v1/account`, the login reply, the metropolis' list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    /// The communes in scope (empty for `metropolis`: every commune).
    pub communes: Vec<crate::site::Commune>,
    #[serde(default, with = "crate::time::rfc3339_option")]
    pub disabled_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/admin/invitations` (metropolis): invite a commune manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRequest {
    pub email: String,
    /// INSEE codes of the communes the manager will serve (at least one).
    pub communes: Vec<String>,
    /// Hours before the code expires (default 168, at most 720).
    #[serde(default)]
    pub valid_hours: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationResponse {
    /// Shown once (the server keeps a keyed hash): `XXXX-XXXX-XXXX-XXXX`.
    pub code: String,
    pub email: String,
    pub communes: Vec<String>,
    #[serde(with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/v1/invitations/accept`: the invitee chooses a password and is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptInvitationRequest {
    pub code: String,
    pub password: String,
}

/// `POST /api/v1/account/password`: ends every other session of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/v1/account/clients`: a browser of a signed-in person that will push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    /// e.g. « Portable de la mairie ».
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientResponse {
    /// Send it as `device_id` in every push of this browser (its outbox seqs are its own).
    pub client_id: Uuid,
}

/// `POST /api/v1/admin/sites`: a canteen of a registered commune (ma cantine codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRequest {
    pub name: String,
    pub siret: String,
    pub commune_insee: String,
    pub management_type: crate::site::ManagementType,
    pub production_type: crate::site::ProductionType,
    pub sectors: Vec<crate::site::Sector>,
    pub daily_meal_count: u32,
    pub yearly_meal_count: u32,
}

/// A registered canteen with its attributes, as the administrator lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDetails {
    #[serde(flatten)]
    pub info: SiteInfo,
    pub management_type: crate::site::ManagementType,
    pub production_type: crate::site::ProductionType,
    pub sectors: Vec<crate::site::Sector>,
    pub daily_meal_count: u32,
    pub yearly_meal_count: u32,
    /// From the commune's INSEE code: which EGalim thresholds apply.
    #[serde(default)]
    pub region_group: crate::site::RegionGroup,
}

/// `POST /api/v1/admin/sites/{site_id}/enrolment-codes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCodeRequest {
    /// e.g. « Tablette cuisine » (given to the device at enrolment unless the tablet names itself).
    #[serde(default)]
    pub label: Option<String>,
    /// Hours before the code expires (default 72, at most 720).
    #[serde(default)]
    pub valid_hours: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCodeResponse {
    /// Shown once (the server keeps a hash): `XXXX-XXXX`.
    pub code: String,
    pub site_id: Uuid,
    #[serde(with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// Characters of enrolment codes: no 0/O, 1/I/L, so they can be read aloud and typed.
pub const ENROLMENT_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in a code, shown as two groups of four: `ABCD-EF23`.
pub const ENROLMENT_CODE_LEN: usize = 8;

/// Normalises a typed code (case, spaces, dashes) to `XXXX-XXXX`, or says what is wrong.
pub fn normalize_enrolment_code(input: &str) -> Result<String, String> {
    let chars: Vec<char> = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{2010}' && *c != '\u{2011}')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != ENROLMENT_CODE_LEN {
        return Err(format!(
            "Le code d'enrôlement comporte {ENROLMENT_CODE_LEN} caractères (par exemple ABCD-EF23) : vérifiez la saisie."
        ));
    }
    if let Some(bad) = chars.iter().find(|c| !c.is_ascii() || !ENROLMENT_CODE_ALPHABET.contains(&(**c as u8))) {
        return Err(format!(
            "Le caractère « {bad} » n'existe pas dans les codes d'enrôlement (ni 0, O, 1, I ni L) : vérifiez la saisie."
        ));
    }
    let s: String = chars.into_iter().collect();
    Ok(format!("{}-{}", &s[..4], &s[4..]))
}

/// Characters in an invitation code (80 bits), shown as four groups of four.
pub const INVITATION_CODE_LEN: usize = 16;

/// Normalises a typed invitation code (case, spaces, dashes) to `XXXX-XXXX-XXXX-XXXX`, or says
/// what is wrong. Same alphabet as enrolment codes.
pub fn normalize_invitation_code(input: &str) -> Result<String, String> {
    let chars: Vec<char> = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{2010}' && *c != '\u{2011}')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != INVITATION_CODE_LEN {
        return Err(format!(
            "Le code d'invitation comporte {INVITATION_CODE_LEN} caractères (par exemple ABCD-EF23-GH45-JK67) : recopiez-le depuis l'invitation."
        ));
    }
    if let Some(bad) = chars.iter().find(|c| !c.is_ascii() || !ENROLMENT_CODE_ALPHABET.contains(&(**c as u8))) {
        return Err(format!(
            "Le caractère « {bad} » n'existe pas dans les codes d'invitation (ni 0, O, 1, I ni L) : recopiez le code depuis l'invitation."
        ));
    }
    Ok(chars.chunks(4).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
}

/// Formats `ENROLMENT_CODE_LEN` alphabet indices (from the server's random source) as a code.
pub fn enrolment_code_from_indices(indices: &[usize; ENROLMENT_CODE_LEN]) -> String {
    let s: String = indices
        .iter()
        .map(|i| ENROLMENT_CODE_ALPHABET[i % ENROLMENT_CODE_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &s[..4], &s[4..])
}

/// The site a device may write and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteScope {
    pub site_id: Uuid,
    pub siret: String,
    pub name: String,
}

/// Which of `scopes` (the sites a signed-in person may write) each mutation belongs to, by its
/// record's `site_id` or purchase SIRET; a record of any other site is refused with the same
/// words whether that site exists or not (nothing about other communes is revealed).
pub fn assign_sites(mutations: &[Mutation], scopes: &[SiteScope]) -> Vec<Result<usize, Rejection>> {
    let by_id: HashMap<Uuid, usize> = scopes.iter().enumerate().map(|(i, s)| (s.site_id, i)).collect();
    let by_siret: HashMap<&str, usize> = scopes.iter().enumerate().map(|(i, s)| (s.siret.as_str(), i)).collect();
    mutations
        .iter()
        .map(|m| {
            let found = match m.record.site_ref() {
                SiteRef::Id(id) => by_id.get(&id).copied(),
                SiteRef::Siret(s) => by_siret.get(normalize_siret(s).as_str()).copied(),
            };
            found.ok_or_else(|| {
                let which = match m.record.site_ref() {
                    SiteRef::Siret(s) => format!(" (SIRET {})", crate::text::excerpt(s, 20)),
                    SiteRef::Id(_) => String::new(),
                };
                Rejection::new(format!(
                    "Le restaurant de cette entrée{which} n'est pas dans les communes de votre compte : {} n'a pas été enregistré(e). Vérifiez le restaurant choisi.",
                    m.record.describe_fr()
                ))
            })
        })
        .collect()
}

/// The server's "today" for validating dates: the date in the most advanced time zone (UTC+14),
/// so that an entry made just after midnight on a tablet in France (or overseas) is never
/// refused as "in the future" by a server running on UTC.
pub fn server_today(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(14)).date_naive()
}

/// Why a mutation is refused: a French reason and, when they come from validation, the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: String,
    pub errors: Vec<FieldError>,
}

impl Rejection {
    fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), errors: Vec::new() }
    }

    pub fn into_status(self) -> MutationStatus {
        MutationStatus::Rejected { reason: self.reason, errors: self.errors }
    }
}

/// Checks one mutation on its own: numbers the server can store, the record belongs to the
/// device's site, and (unless it is a tombstone) the domain validation has no error.
/// Tombstones skip content validation so a record that became invalid can still be deleted.
pub fn check_mutation(m: &Mutation, scope: &SiteScope, today: NaiveDate) -> Result<(), Rejection> {
    let r = &m.record;
    // The description is only written into refusals (built on those paths alone: hot loop).
    let what = || r.describe_fr();
    if m.seq == 0 || m.seq > MAX_SAFE_INTEGER {
        return Err(Rejection::new(format!(
            "Numéro de séquence {} invalide ({}) : il doit être compris entre 1 et {MAX_SAFE_INTEGER}.",
            m.seq,
            what()
        )));
    }
    let meta = r.meta();
    if meta.id.is_nil() {
        return Err(Rejection::new(format!(
            "Identifiant manquant ({}) : enregistrez de nouveau l'entrée sur la tablette.",
            what()
        )));
    }
    if meta.revision == 0 || meta.revision > MAX_SAFE_INTEGER {
        return Err(Rejection::new(format!(
            "Révision {} invalide ({}) : elle doit être comprise entre 1 et {MAX_SAFE_INTEGER}.",
            meta.revision,
            what()
        )));
    }
    // Outside these years the tablet's clock is wrong, and a year beyond 0000–9999 (after the
    // offset) could not even be read back once stored: refused at the door.
    if !crate::time::timestamp_in_range(meta.modified_at) {
        return Err(Rejection::new(format!(
            "Date de modification {} impossible ({}) : elle doit tomber entre {} et {}. Réglez la date et l'heure de la tablette, puis enregistrez de nouveau l'entrée.",
            meta.modified_at.to_rfc3339(),
            what(),
            crate::time::EARLIEST_TIMESTAMP_YEAR,
            crate::time::LATEST_TIMESTAMP_YEAR
        )));
    }
    let in_scope = match r.site_ref() {
        SiteRef::Id(id) => id == scope.site_id,
        SiteRef::Siret(s) => normalize_siret(s) == scope.siret,
    };
    if !in_scope {
        return Err(Rejection::new(format!(
            "Cette entrée ({}) appartient à un autre restaurant : cette tablette n'enregistre que pour « {} ».",
            what(),
            scope.name
        )));
    }
    if !meta.deleted {
        check_content(r, today)?;
    }
    Ok(())
}

/// The domain validation of a record's content: a rejection listing its errors, if any.
fn check_content(r: &RecordPayload, today: NaiveDate) -> Result<(), Rejection> {
    let v = r.validate(today);
    if v.is_ok() {
        return Ok(());
    }
    let details: Vec<&str> = v.errors.iter().map(|e| e.message.as_str()).collect();
    let mut what = r.describe_fr();
    if let Some(first) = what.get(..1) {
        what = first.to_uppercase() + &what[1..];
    }
    let refused = if r.kind() == RecordKind::Weighing { "refusée" } else { "refusé" };
    Err(Rejection { reason: format!("{what} {refused} : {}", details.join(" ")), errors: v.errors })
}

/// A deletion as the server keeps it: the tombstone's meta (id, revision, deleted, device
/// clock) over the content stored before it, which was validated when it was written. What
/// the tablet sent beside its meta is never stored.
fn tombstone_over(stored: &RecordPayload, tombstone: &RecordPayload) -> RecordPayload {
    let mut kept = stored.clone();
    *kept.meta_mut() = tombstone.meta().clone();
    kept
}

/// What to do with a revision given the server's current state of the same record id.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Apply,
    Duplicate,
    Conflict,
    Reject(String),
}

/// The conflict rule. `current` is the server's record with the same id, if any (already
/// known to belong to the same site).
pub fn decide(current: Option<&RecordPayload>, incoming: &RecordPayload) -> Decision {
    let Some(current) = current else { return Decision::Apply };
    if current.kind() != incoming.kind() {
        return Decision::Reject(format!(
            "L'identifiant de cette entrée ({}) est déjà celui d'un(e) {} : enregistrez-la de nouveau sur la tablette.",
            incoming.describe_fr(),
            current.kind().label_fr()
        ));
    }
    use std::cmp::Ordering::*;
    match incoming.revision().cmp(&current.revision()) {
        Greater => Decision::Apply,
        Equal if incoming.same_content(current) => Decision::Duplicate,
        Equal | Less => Decision::Conflict,
    }
}

/// The server's state of a record, as the planner needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub site_id: Uuid,
    pub record: RecordPayload,
}

/// A recorded dedup key `(device, seq)` and what it applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedKey {
    pub record_id: Uuid,
    pub revision: u64,
}

/// What the server must write, in one transaction, then reply.
#[derive(Debug, Clone, PartialEq)]
pub struct PushPlan {
    pub results: Vec<MutationResult>,
    /// Final state of each written record with its change sequence, ascending by sequence
    /// (a record written twice in one batch appears once, with its last sequence).
    pub records: Vec<(u64, RecordPayload)>,
    /// New dedup keys to record.
    pub keys: Vec<(u64, AppliedKey)>,
    /// The site's change sequence after the batch.
    pub last_change_seq: u64,
}

/// Plans a batch against the stored state. `dedup` holds the device's recorded keys for the
/// batch's seqs, `current` the stored records for the batch's ids (any site), `last_change_seq`
/// the site's counter. Mutations are taken in order: a later one sees the earlier ones' effects.
pub fn plan_push(
    scope: &SiteScope,
    today: NaiveDate,
    now: DateTime<Utc>,
    last_change_seq: u64,
    mutations: &[Mutation],
    dedup: &HashMap<u64, AppliedKey>,
    current: &HashMap<Uuid, StoredRecord>,
) -> PushPlan {
    let mut planner = Planner {
        scope,
        today,
        now,
        dedup,
        current,
        batch_keys: HashMap::with_capacity(mutations.len()),
        written: Vec::with_capacity(mutations.len()),
        written_index: HashMap::with_capacity(mutations.len()),
        keys: Vec::with_capacity(mutations.len()),
        seq_counter: last_change_seq,
    };
    let results = mutations.iter().map(|m| MutationResult { seq: m.seq, status: planner.plan_one(m) }).collect();
    let Planner { mut written, keys, seq_counter, .. } = planner;
    // A record written twice in the batch kept its first slot with its last sequence.
    written.sort_by_key(|(s, _)| *s);
    PushPlan { results, records: written, keys, last_change_seq: seq_counter }
}

/// The batch's effects layered over the stored state (read-only), so nothing stored is copied.
struct Planner<'a> {
    scope: &'a SiteScope,
    today: NaiveDate,
    now: DateTime<Utc>,
    dedup: &'a HashMap<u64, AppliedKey>,
    current: &'a HashMap<Uuid, StoredRecord>,
    /// Dedup keys recorded by earlier mutations of this batch.
    batch_keys: HashMap<u64, AppliedKey>,
    /// Records written by this batch (final state, change sequence), and where each id is.
    written: Vec<(u64, RecordPayload)>,
    written_index: HashMap<Uuid, usize>,
    keys: Vec<(u64, AppliedKey)>,
    seq_counter: u64,
}

impl Planner<'_> {
    /// The record's state as this batch sees it: written earlier in the batch, else stored.
    fn state(&self, id: &Uuid) -> Option<(Uuid, &RecordPayload)> {
        match self.written_index.get(id) {
            Some(&i) => Some((self.scope.site_id, &self.written[i].1)),
            None => self.current.get(id).map(|s| (s.site_id, &s.record)),
        }
    }

    fn record_key(&mut self, seq: u64, key: AppliedKey) {
        self.batch_keys.insert(seq, key);
        self.keys.push((seq, key));
    }

    fn plan_one(&mut self, m: &Mutation) -> MutationStatus {
        if let Err(r) = check_mutation(m, self.scope, self.today) {
            return r.into_status();
        }
        let key = AppliedKey { record_id: m.record.id(), revision: m.record.revision() };
        if let Some(k) = self.batch_keys.get(&m.seq).or_else(|| self.dedup.get(&m.seq)) {
            return if *k == key {
                MutationStatus::Duplicate
            } else {
                // Never answer "duplicate" for another entry: it would be deleted from the outbox unsent.
                Rejection::new(format!(
                    "Le numéro de séquence {} a déjà servi pour une autre entrée : cette entrée ({}) n'a pas été enregistrée, renvoyez-la.",
                    m.seq,
                    m.record.describe_fr()
                ))
                .into_status()
            };
        }
        let stored = self.state(&key.record_id);
        if let Some((site_id, _)) = stored {
            if site_id != self.scope.site_id {
                // Don't tell anything about another site's record.
                return Rejection::new(format!(
                    "L'identifiant de cette entrée ({}) est déjà utilisé : enregistrez-la de nouveau sur la tablette.",
                    m.record.describe_fr()
                ))
                .into_status();
            }
        }
        let stored = stored.map(|(_, r)| r);
        // A deletion keeps only what a deletion needs: over a stored record of the same kind,
        // its meta on the stored content; for an id the server never had, its content is
        // checked like any record's before it is stored (tombstones skip that check only
        // because the record they delete may have become invalid).
        let tombstone;
        let incoming = match stored {
            Some(s) if m.record.is_deleted() && s.kind() == m.record.kind() => {
                tombstone = tombstone_over(s, &m.record);
                &tombstone
            }
            None if m.record.is_deleted() => {
                if let Err(r) = check_content(&m.record, self.today) {
                    return r.into_status();
                }
                &m.record
            }
            _ => &m.record,
        };
        match decide(stored, incoming) {
            Decision::Reject(reason) => Rejection::new(reason).into_status(),
            Decision::Conflict => MutationStatus::Conflict { current: stored.expect("conflict needs a stored record").clone() },
            Decision::Duplicate => {
                self.record_key(m.seq, key);
                MutationStatus::Duplicate
            }
            Decision::Apply => {
                self.seq_counter += 1;
                let change = (self.seq_counter, incoming.clone().with_server_updated_at(self.now));
                match self.written_index.get(&key.record_id) {
                    Some(&i) => self.written[i] = change,
                    None => {
                        self.written_index.insert(key.record_id, self.written.len());
                        self.written.push(change);
                    }
                }
                self.record_key(m.seq, key);
                MutationStatus::Applied { server_seq: self.seq_counter, server_updated_at: self.now }
            }
        }
    }
}

/// Whether a pulled record replaces the tablet's copy: a higher or equal revision does (equal:
/// the server's copy carries the authoritative timestamp). A local copy with a higher revision
/// is a pending correction that the next push will send.
pub fn pulled_supersedes(local: &RecordMeta, pulled: &RecordMeta) -> bool {
    pulled.revision >= local.revision
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waste::Stage;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    const SITE: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    const OTHER: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);

    fn scope() -> SiteScope {
        SiteScope { site_id: SITE, siret: "21760351500008".into(), name: "École des Tilleuls".into() }
    }
    fn weighing(id: u128, rev: u64, grams: u64) -> RecordPayload {
        let mut meta = RecordMeta::new(Uuid::from_u128(id), t("2026-03-02T10:00:00Z"));
        meta.revision = rev;
        RecordPayload::Weighing(Weighing {
            meta,
            site_id: SITE,
            service_date: d(2026, 3, 2),
            stage: Stage::Leftovers,
            component: None,
            mass_grams: grams,
            sorted: None,
            destination: None,
        })
    }
    fn meal(id: u128, site: Uuid) -> RecordPayload {
        RecordPayload::MealCount(DailyMealCount {
            meta: RecordMeta::new(Uuid::from_u128(id), t("2026-03-02T10:00:00Z")),
            site_id: site,
            service_date: d(2026, 3, 2),
            planned: 120,
            served_children: 110,
            served_adults: 6,
        })
    }
    fn m(seq: u64, record: RecordPayload) -> Mutation {
        Mutation { seq, record }
    }
    const TODAY: fn() -> NaiveDate = || d(2026, 3, 3);

    #[test]
    fn payload_json_is_tagged_by_kind_and_round_trips() {
        let w = weighing(7, 1, 2500);
        let j = serde_json::to_value(&w).unwrap();
        assert_eq!(j["kind"], "weighing");
        assert_eq!(j["mass_grams"], 2500);
        assert_eq!(j["stage"], "leftovers");
        let back: RecordPayload = serde_json::from_value(j).unwrap();
        assert_eq!(back, w);
        let unknown = serde_json::json!({"kind": "invoice", "meta": j_meta()});
        assert!(serde_json::from_value::<RecordPayload>(unknown).is_err());
    }
    fn j_meta() -> serde_json::Value {
        serde_json::to_value(RecordMeta::new(Uuid::from_u128(1), t("2026-03-02T10:00:00Z"))).unwrap()
    }

    /// The record enum as serde derives it (what `RecordPayload` was before its own
    /// deserializer): the hand-written one must accept and refuse exactly the same inputs.
    #[derive(Debug, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum DerivedPayload {
        MealCount(DailyMealCount),
        Weighing(Weighing),
        Purchase(Purchase),
    }

    impl From<DerivedPayload> for RecordPayload {
        fn from(d: DerivedPayload) -> Self {
            match d {
                DerivedPayload::MealCount(r) => RecordPayload::MealCount(r),
                DerivedPayload::Weighing(r) => RecordPayload::Weighing(r),
                DerivedPayload::Purchase(r) => RecordPayload::Purchase(r),
            }
        }
    }

    /// The object's entries written in the given order (`kind` moved to `kind_at`).
    fn json_with_kind_at(record: &RecordPayload, kind_at: usize) -> String {
        let serde_json::Value::Object(map) = serde_json::to_value(record).unwrap() else { panic!("object") };
        let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().filter(|(k, _)| k != "kind").collect();
        entries.insert(kind_at.min(entries.len()), ("kind".into(), serde_json::Value::String(record.kind().code().into())));
        let body: Vec<String> = entries.iter().map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v)).collect();
        format!("{{{}}}", body.join(","))
    }

    fn purchase_record() -> RecordPayload {
        RecordPayload::Purchase(
            serde_json::from_value(serde_json::json!({
                "meta": j_meta(), "siret": "21760351500008", "description": "Pommes \"bio\" \\ 🍎", "fournisseur": "Ferme",
                "date": "2026-03-02", "prix_ht_cents": 1250, "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": ["BIO"],
                "definition_local": "DEPARTEMENT"
            }))
            .unwrap(),
        )
    }

    #[test]
    fn payload_reads_kind_anywhere_in_the_object() {
        let mut w = weighing(7, 3, 2500);
        if let RecordPayload::Weighing(x) = &mut w {
            x.component = Some(crate::waste::Component::Dessert);
            x.sorted = Some(crate::waste::EdibleSplit { edible_grams: 2000, inedible_grams: 500 });
        }
        w.meta_mut().server_updated_at = Some(t("2026-03-02T10:00:01.5Z"));
        for record in [w, meal(2, SITE), purchase_record()] {
            let fields = serde_json::to_value(&record).unwrap().as_object().unwrap().len();
            for at in 0..fields {
                let text = json_with_kind_at(&record, at);
                assert_eq!(serde_json::from_str::<RecordPayload>(&text).unwrap(), record, "kind at {at}: {text}");
                // As the app reads it: from a `Value` (keys in alphabetical order).
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(serde_json::from_value::<RecordPayload>(value).unwrap(), record);
            }
            // Inside the structures that carry records.
            let m = Mutation { seq: 4, record: record.clone() };
            assert_eq!(serde_json::from_str::<Mutation>(&serde_json::to_string(&m).unwrap()).unwrap(), m);
        }
    }

    #[test]
    fn payload_refusals_match_serde_tagged_enums() {
        let cases = [
            // No kind, unknown kind, kind of another type, not an object.
            r#"{"meta":{"id":"00000000-0000-0000-0000-000000000001","revision":1,"modified_at":"2026-03-02T10:00:00Z"}}"#.to_owned(),
            r#"{"kind":"invoice","meta":{}}"#.to_owned(),
            r#"{"meta":{},"kind":"invoice"}"#.to_owned(),
            r#"{"kind":3}"#.to_owned(),
            r#"["weighing"]"#.to_owned(),
            r#""weighing""#.to_owned(),
            "null".to_owned(),
            // A record's own field refused, with kind first and kind last.
            json_with_kind_at(&weighing(1, 1, 5), 0).replace("\"mass_grams\":5", "\"mass_grams\":\"5 kg\""),
            json_with_kind_at(&weighing(1, 1, 5), 99).replace("\"mass_grams\":5", "\"mass_grams\":-5"),
            json_with_kind_at(&weighing(1, 1, 5), 0).replace("\"mass_grams\":5,", ""),
            json_with_kind_at(&meal(1, SITE), 2).replace("\"planned\":120", "\"planned\":-1"),
            // Truncated.
            json_with_kind_at(&weighing(1, 1, 5), 0)[..40].to_owned(),
        ];
        for text in cases {
            let ours = serde_json::from_str::<RecordPayload>(&text);
            let derived = serde_json::from_str::<DerivedPayload>(&text).map(RecordPayload::from);
            assert_eq!(ours.is_ok(), derived.is_ok(), "{text}: {ours:?} / {derived:?}");
            assert!(ours.is_err(), "{text}");
        }
        let e = serde_json::from_str::<RecordPayload>(r#"{"meta":{}}"#).unwrap_err().to_string();
        assert!(e.contains("missing field `kind`"), "{e}");
        let e = serde_json::from_str::<RecordPayload>(r#"{"kind":"invoice"}"#).unwrap_err().to_string();
        assert!(e.contains("unknown variant `invoice`"), "{e}");
        // A second `kind` is an unknown field, ignored like any other.
        let text = json_with_kind_at(&weighing(1, 1, 5), 0).replacen('}', r#"},"kind":"purchase""#, 1);
        assert_eq!(serde_json::from_str::<RecordPayload>(&text).unwrap(), weighing(1, 1, 5));
    }

    #[test]
    fn a_batch_sees_its_own_writes() {
        // Record 1 applied at revision 2, then its revision 1 (stale) and another revision 2
        // in the same batch: conflicts against the state written just before, not the store.
        let muts = [m(1, weighing(1, 2, 100)), m(2, weighing(1, 1, 100)), m(3, weighing(1, 2, 150)), m(4, weighing(1, 2, 100))];
        let p = plan(&muts, &HashMap::new(), &HashMap::new(), 7);
        let at = t("2026-03-03T08:00:00Z");
        let written = weighing(1, 2, 100).with_server_updated_at(at);
        assert_eq!(p.results[0].status, MutationStatus::Applied { server_seq: 8, server_updated_at: at });
        assert_eq!(p.results[1].status, MutationStatus::Conflict { current: written.clone() });
        assert_eq!(p.results[2].status, MutationStatus::Conflict { current: written.clone() });
        // Same content as written under a new seq: a duplicate whose key is recorded.
        assert_eq!(p.results[3].status, MutationStatus::Duplicate);
        assert_eq!(p.records, vec![(8, written)]);
        assert_eq!(p.keys.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![1, 4]);
        // A record written twice keeps its first place with its last state and sequence.
        let p = plan(&[m(1, weighing(1, 1, 100)), m(2, weighing(2, 1, 100)), m(3, weighing(1, 2, 300))], &HashMap::new(), &HashMap::new(), 0);
        let order: Vec<(u64, Uuid, u64)> = p.records.iter().map(|(s, r)| (*s, r.id(), r.revision())).collect();
        assert_eq!(order, vec![(2, Uuid::from_u128(2), 1), (3, Uuid::from_u128(1), 2)]);
    }

    /// The push result as serde derives it (what `MutationResult` was before its own
    /// deserializer): the hand-written one must read the same values and refuse the same inputs.
    #[derive(Debug, Deserialize)]
    struct DerivedResult {
        seq: u64,
        #[serde(flatten)]
        status: MutationStatus,
    }

    fn derived_result(text: &str) -> Result<MutationResult, String> {
        serde_json::from_str::<DerivedResult>(text)
            .map(|d| MutationResult { seq: d.seq, status: d.status })
            .map_err(|e| e.to_string())
    }

    fn our_result(text: &str) -> Result<MutationResult, String> {
        serde_json::from_str::<MutationResult>(text).map_err(|e| e.to_string())
    }

    /// A JSON object from its entries in the given order.
    fn object(entries: &[(String, serde_json::Value)]) -> String {
        let body: Vec<String> = entries.iter().map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v)).collect();
        format!("{{{}}}", body.join(","))
    }

    fn entries(value: &impl Serialize) -> Vec<(String, serde_json::Value)> {
        let serde_json::Value::Object(map) = serde_json::to_value(value).unwrap() else { panic!("object") };
        map.into_iter().collect()
    }

    #[test]
    fn results_read_like_serdes_flattened_tagged_enum() {
        let at = t("2026-03-02T10:00:00.25+01:00");
        let results = [
            MutationResult { seq: 1, status: MutationStatus::Applied { server_seq: 9, server_updated_at: at } },
            MutationResult { seq: 2, status: MutationStatus::Duplicate },
            MutationResult { seq: 3, status: MutationStatus::Conflict { current: purchase_record() } },
            MutationResult {
                seq: 4,
                status: MutationStatus::Rejected {
                    reason: "Pesée « x » refusée : \"masse\"".into(),
                    errors: vec![FieldError { field: "mass_grams".into(), message: "Saisissez la masse".into() }],
                },
            },
            MutationResult { seq: 5, status: MutationStatus::Rejected { reason: "non".into(), errors: vec![] } },
        ];
        for r in &results {
            let e = entries(r);
            // Every order of the entries (at most 4: all permutations).
            let mut orders = vec![e.clone()];
            for i in 0..e.len() {
                for j in 0..e.len() {
                    let mut o = e.clone();
                    o.swap(i, j);
                    orders.push(o.clone());
                    o.reverse();
                    orders.push(o);
                }
            }
            for o in orders {
                let text = object(&o);
                assert_eq!(our_result(&text), Ok(r.clone()), "{text}");
                assert_eq!(derived_result(&text), Ok(r.clone()), "{text}");
                // From a `Value` too (keys in alphabetical order: `current` before `status`).
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(serde_json::from_value::<MutationResult>(value).unwrap(), *r);
            }
            // Through the reply that carries them.
            let reply = PushResponse { results: vec![r.clone(), r.clone()] };
            assert_eq!(serde_json::from_str::<PushResponse>(&serde_json::to_string(&reply).unwrap()).unwrap(), reply);
        }
    }

    #[test]
    fn result_refusals_match_the_derive() {
        let applied = r#""status":"applied","server_seq":9,"server_updated_at":"2026-03-02T10:00:00Z""#;
        let cases = [
            // Missing fields: the same message, in the derive's order.
            "{}".to_owned(),
            r#"{"status":"duplicate"}"#.to_owned(),
            r#"{"seq":1}"#.to_owned(),
            r#"{"status":"applied"}"#.to_owned(),
            r#"{"seq":1,"status":"applied","server_seq":9}"#.to_owned(),
            r#"{"server_updated_at":"2026-03-02T10:00:00Z","seq":1,"status":"applied"}"#.to_owned(),
            r#"{"seq":1,"status":"conflict"}"#.to_owned(),
            r#"{"seq":1,"status":"rejected","errors":[]}"#.to_owned(),
            // Unknown status, wrong types, duplicates.
            r#"{"seq":1,"status":"lost"}"#.to_owned(),
            r#"{"seq":1,"status":null}"#.to_owned(),
            r#"{"seq":1,"status":9}"#.to_owned(),
            r#"{"seq":-1,"status":"duplicate"}"#.to_owned(),
            r#"{"seq":"1","status":"duplicate"}"#.to_owned(),
            r#"{"seq":1,"seq":2,"status":"duplicate"}"#.to_owned(),
            r#"{"seq":1,"status":"duplicate","status":"duplicate"}"#.to_owned(),
            format!(r#"{{"seq":1,{applied},"server_seq":10}}"#),
            format!(r#"{{"seq":1,{applied}}}"#).replace("10:00:00Z", "10:00:00"),
            format!(r#"{{"seq":1,{applied}}}"#).replace("9,", "9.5,"),
            r#"{"seq":1,"status":"rejected","reason":"non","errors":null}"#.to_owned(),
            r#"{"seq":1,"status":"rejected","reason":"non","errors":[{"field":"x"}]}"#.to_owned(),
            r#"{"seq":1,"status":"conflict","current":{"kind":"invoice"}}"#.to_owned(),
            // Not an object, truncated.
            "[1,\"duplicate\"]".to_owned(),
            "null".to_owned(),
            format!(r#"{{"seq":1,{applied}"#),
        ];
        for text in cases {
            let (ours, derived) = (our_result(&text), derived_result(&text));
            assert!(ours.is_err() && derived.is_err(), "{text}: {ours:?} / {derived:?}");
            // The same message for what is missing or unknown (an unknown status is seen as it
            // is read, the derive sees it once the object is buffered: another column).
            let message = |r: Result<MutationResult, String>| r.unwrap_err().split(" at line ").next().unwrap().to_owned();
            let (ours, derived) = (message(ours), message(derived));
            if derived.contains("missing field") || derived.contains("unknown variant") {
                assert_eq!(ours, derived, "{text}");
            }
        }
        assert_eq!(our_result(r#"{"status":"applied"}"#).unwrap_err(), "missing field `seq` at line 1 column 20");
        assert!(our_result(r#"{"seq":1,"status":"lost"}"#).unwrap_err().starts_with(
            "unknown variant `lost`, expected one of `applied`, `duplicate`, `conflict`, `rejected`"
        ));
    }

    #[test]
    fn result_keys_the_derive_ignores_are_ignored() {
        let accepted = [
            // Unknown keys anywhere, of any shape.
            (r#"{"x":{"a":[1,{"b":null}]},"seq":2,"status":"duplicate","y":1.5}"#, MutationStatus::Duplicate),
            // The fields of another status, after `status` (even malformed) or before it.
            (r#"{"seq":2,"status":"duplicate","current":{"kind":"invoice"},"server_seq":"x"}"#, MutationStatus::Duplicate),
            (r#"{"reason":"r","seq":2,"errors":[],"status":"duplicate"}"#, MutationStatus::Duplicate),
            (r#"{"seq":2,"status":"rejected","reason":"r","server_seq":[],"server_seq":1}"#, MutationStatus::Rejected { reason: "r".into(), errors: vec![] }),
            // The derive takes the variant's index as well as its name.
            (r#"{"seq":2,"status":1}"#, MutationStatus::Duplicate),
        ];
        for (text, status) in accepted {
            let want = MutationResult { seq: 2, status };
            assert_eq!(our_result(text), Ok(want.clone()), "{text}");
            assert_eq!(derived_result(text), Ok(want), "{text}");
        }
        // The one documented difference: a malformed field of another status, before `status`.
        let text = r#"{"seq":2,"server_seq":"x","status":"duplicate"}"#;
        assert!(derived_result(text).is_ok());
        assert!(our_result(text).is_err());
    }

    #[test]
    fn buffered_record_fields_of_any_shape_read_back() {
        // Fields the record doesn't know, before `kind`, with every kind of JSON value.
        let record = weighing(3, 2, 750);
        let mut e = entries(&record);
        let extra: serde_json::Value = serde_json::from_str(
            r#"{"a":[1,-2,3.5,1e300,-0.0,null,true,false,"é\"\\\n\u0001🍎"],"b":{},"c":[],"d":{"e":{"f":[[]]}},"g":18446744073709551615}"#,
        )
        .unwrap();
        e.insert(0, ("extra".into(), extra));
        let kind = e.iter().position(|(k, _)| k == "kind").unwrap();
        let k = e.remove(kind);
        e.push(k);
        let text = object(&e);
        assert_eq!(serde_json::from_str::<RecordPayload>(&text).unwrap(), record);
        assert_eq!(serde_json::from_str::<DerivedPayload>(&text).map(RecordPayload::from).unwrap(), record);
        // A field the record knows, buffered with all its escapes.
        let p = purchase_record();
        let text = json_with_kind_at(&p, 99);
        assert_eq!(serde_json::from_str::<RecordPayload>(&text).unwrap(), p);
    }

    #[test]
    fn status_json_shapes() {
        let r = MutationResult { seq: 4, status: MutationStatus::Applied { server_seq: 9, server_updated_at: t("2026-03-02T10:00:00Z") } };
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j, serde_json::json!({"seq": 4, "status": "applied", "server_seq": 9, "server_updated_at": "2026-03-02T10:00:00Z"}));
        let r = MutationResult { seq: 5, status: MutationStatus::Duplicate };
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({"seq": 5, "status": "duplicate"}));
        let back: MutationResult = serde_json::from_value(serde_json::json!({"seq": 6, "status": "rejected", "reason": "non"})).unwrap();
        assert_eq!(back.status, MutationStatus::Rejected { reason: "non".into(), errors: vec![] });
        let c = MutationResult { seq: 7, status: MutationStatus::Conflict { current: weighing(3, 2, 100) } };
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["current"]["kind"], "weighing");
        assert_eq!(serde_json::from_value::<MutationResult>(j).unwrap(), c);
    }

    #[test]
    fn cursor_round_trip_and_refusals() {
        assert_eq!(Cursor::decode(None), Ok(Cursor(0)));
        assert_eq!(Cursor::decode(Some("")), Ok(Cursor(0)));
        assert_eq!(Cursor::decode(Some(&Cursor(42).encode())), Ok(Cursor(42)));
        for bad in ["42", "v1.", "v1.-1", "v1.+3", "v1.1e3", "v2.4", "v1.99999999999999999999", "v1.9223372036854775808"] {
            assert!(Cursor::decode(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn enrolment_codes_normalise_and_refuse_ambiguous_characters() {
        assert_eq!(normalize_enrolment_code(" abcd-ef23 ").unwrap(), "ABCD-EF23");
        assert_eq!(normalize_enrolment_code("ABCDEF23").unwrap(), "ABCD-EF23");
        assert_eq!(normalize_enrolment_code("ab cd ef 23").unwrap(), "ABCD-EF23");
        assert!(normalize_enrolment_code("ABCD-EF2").unwrap_err().contains("8 caractères"));
        assert!(normalize_enrolment_code("ABCD-EF20").unwrap_err().contains("« 0 »"));
        assert!(normalize_enrolment_code("ABCD-EFÉ2").is_err());
        assert_eq!(enrolment_code_from_indices(&[0, 1, 2, 3, 30, 29, 22, 23]), "ABCD-98Z2");
    }

    #[test]
    fn server_today_is_ahead_of_utc() {
        assert_eq!(server_today(t("2026-03-02T09:00:00Z")), d(2026, 3, 2));
        assert_eq!(server_today(t("2026-03-02T23:30:00Z")), d(2026, 3, 3));
        assert_eq!(server_today(t("2026-03-02T10:00:00Z")), d(2026, 3, 3));
    }

    #[test]
    fn check_mutation_scope_numbers_and_validation() {
        let s = scope();
        assert!(check_mutation(&m(1, weighing(1, 1, 100)), &s, TODAY()).is_ok());
        let e = check_mutation(&m(1, meal(1, OTHER)), &s, TODAY()).unwrap_err();
        assert!(e.reason.contains("autre restaurant") && e.reason.contains("École des Tilleuls"), "{}", e.reason);
        assert!(check_mutation(&m(0, weighing(1, 1, 100)), &s, TODAY()).unwrap_err().reason.contains("séquence"));
        assert!(check_mutation(&m(u64::MAX, weighing(1, 1, 100)), &s, TODAY()).is_err());
        assert!(check_mutation(&m(1, weighing(1, 0, 100)), &s, TODAY()).unwrap_err().reason.contains("Révision"));
        assert!(check_mutation(&m(1, weighing(1, u64::MAX, 100)), &s, TODAY()).is_err());
        assert!(check_mutation(&m(1, weighing(0, 1, 100)), &s, TODAY()).unwrap_err().reason.contains("Identifiant"));
        // Validation errors carry the domain's French messages and fields.
        let e = check_mutation(&m(1, weighing(1, 1, 0)), &s, TODAY()).unwrap_err();
        assert!(e.reason.starts_with("Pesée « Restes assiettes » du 02/03/2026 refusée : Saisissez la masse"), "{}", e.reason);
        assert_eq!(e.errors[0].field, "mass_grams");
        // The date check uses the given today: 02/03 is in the future on 01/03.
        assert!(check_mutation(&m(1, weighing(1, 1, 100)), &s, d(2026, 3, 1)).unwrap_err().reason.contains("futur"));
        // A tombstone of an invalid record can still be deleted, but not in another site.
        let mut tomb = weighing(1, 2, 0);
        tomb.meta_mut().deleted = true;
        assert!(check_mutation(&m(1, tomb), &s, TODAY()).is_ok());
        let mut tomb = meal(1, OTHER);
        tomb.meta_mut().deleted = true;
        assert!(check_mutation(&m(1, tomb), &s, TODAY()).is_err());
    }

    #[test]
    fn purchases_are_scoped_by_siret_of_14_digits() {
        let p: Purchase = serde_json::from_value(serde_json::json!({
            "meta": j_meta(), "siret": "21760351500008", "description": "Pommes", "fournisseur": "Ferme",
            "date": "2026-03-02", "prix_ht_cents": 1250, "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": ["BIO"]
        }))
        .unwrap();
        let rec = RecordPayload::Purchase(p.clone());
        assert!(check_mutation(&m(1, rec), &scope(), TODAY()).is_ok());
        // Stored as exported: spaces, a tab, dots are refused, not ignored.
        for siret in ["217 603 515 00008", "2176035\t1500008", "217.603.515.00008"] {
            let mut spaced = p.clone();
            spaced.siret = siret.into();
            let e = check_mutation(&m(1, RecordPayload::Purchase(spaced)), &scope(), TODAY()).unwrap_err();
            assert!(e.reason.contains("exactement 14 chiffres"), "{}", e.reason);
        }
        let mut other = p;
        other.siret = "21760351500016".into();
        let e = check_mutation(&m(1, RecordPayload::Purchase(other)), &scope(), TODAY()).unwrap_err();
        assert!(e.reason.contains("autre restaurant"));
    }

    /// A person's batch: each record goes to the site of the scope it names, by id or SIRET;
    /// another site's is refused with the same words whether it exists or not.
    #[test]
    fn a_persons_mutations_go_to_the_sites_in_scope() {
        let scopes = [scope(), SiteScope { site_id: OTHER, siret: "21760351500016".into(), name: "Autre".into() }];
        let RecordPayload::Purchase(p) = purchase_record() else { unreachable!() };
        let mut p_other = p.clone();
        p_other.siret = "21760351500016".into();
        let mut p_out = p.clone();
        p_out.siret = "21760351500024".into();
        let third = Uuid::from_u128(3);
        let batch = [
            m(1, RecordPayload::Purchase(p)),
            m(2, RecordPayload::Purchase(p_other)),
            m(3, meal(9, OTHER)),
            m(4, RecordPayload::Purchase(p_out)),
            m(5, meal(10, third)),
        ];
        let got = assign_sites(&batch, &scopes);
        assert_eq!(got[..3].iter().map(|r| *r.as_ref().unwrap()).collect::<Vec<_>>(), vec![0, 1, 1]);
        let out = got[3].as_ref().unwrap_err();
        assert!(out.reason.contains("SIRET 21760351500024") && out.reason.contains("pas dans les communes de votre compte"), "{}", out.reason);
        let unknown = got[4].as_ref().unwrap_err();
        assert!(unknown.reason.contains("pas dans les communes de votre compte") && !unknown.reason.contains(&third.to_string()), "{}", unknown.reason);
        assert!(assign_sites(&batch, &[]).iter().all(|r| r.is_err()));
    }

    #[test]
    fn invitation_codes_are_normalised() {
        assert_eq!(normalize_invitation_code(" abcd efgh-jkmn\u{2011}pqrs ").unwrap(), "ABCD-EFGH-JKMN-PQRS");
        assert!(normalize_invitation_code("ABCD-EFGH").unwrap_err().contains("16 caractères"));
        assert!(normalize_invitation_code("ABCD-EFGH-JKMN-PQR0").unwrap_err().contains("« 0 »"));
    }

    #[test]
    fn values_fr_shows_what_was_typed() {
        assert_eq!(weighing(1, 2, 500).values_fr(), "Restes assiettes – Non trié par composante : 0,5\u{202f}kg");
        let RecordPayload::Weighing(mut w) = weighing(1, 2, 1_200) else { unreachable!() };
        w.sorted = Some(crate::waste::EdibleSplit { edible_grams: 1_000, inedible_grams: 200 });
        w.destination = Some(crate::waste::Destination::CompostMethanisation);
        assert_eq!(
            RecordPayload::Weighing(w).values_fr(),
            "Restes assiettes – Non trié par composante : 1,2\u{202f}kg (comestible 1\u{202f}kg, non comestible 0,2\u{202f}kg), destination : Compost / méthanisation"
        );
        let RecordPayload::MealCount(m) = meal(1, SITE) else { unreachable!() };
        assert_eq!(
            RecordPayload::MealCount(m.clone()).values_fr(),
            format!("{} prévus, {} servis aux enfants, {} aux adultes", m.planned, m.served_children, m.served_adults)
        );
    }

    #[test]
    fn conflict_rule() {
        let cur = weighing(1, 2, 100);
        assert_eq!(decide(None, &cur), Decision::Apply);
        assert_eq!(decide(Some(&cur), &weighing(1, 3, 150)), Decision::Apply);
        assert_eq!(decide(Some(&cur), &weighing(1, 2, 100)), Decision::Duplicate);
        assert_eq!(decide(Some(&cur), &weighing(1, 2, 150)), Decision::Conflict);
        assert_eq!(decide(Some(&cur), &weighing(1, 1, 100)), Decision::Conflict);
        // Clocks don't make a conflict.
        let mut same = weighing(1, 2, 100);
        same.meta_mut().modified_at = t("2026-03-02T12:00:00Z");
        same.meta_mut().server_updated_at = Some(t("2026-03-02T12:00:01Z"));
        assert_eq!(decide(Some(&cur), &same), Decision::Duplicate);
        // Same id, other kind: refused.
        assert!(matches!(decide(Some(&meal(1, SITE)), &weighing(1, 5, 100)), Decision::Reject(_)));
    }

    fn plan(muts: &[Mutation], dedup: &HashMap<u64, AppliedKey>, cur: &HashMap<Uuid, StoredRecord>, last: u64) -> PushPlan {
        plan_push(&scope(), TODAY(), t("2026-03-03T08:00:00Z"), last, muts, dedup, cur)
    }

    #[test]
    fn plan_applies_in_order_and_numbers_changes() {
        let muts = [m(1, weighing(1, 1, 100)), m(2, weighing(2, 1, 200)), m(3, weighing(1, 2, 150))];
        let p = plan(&muts, &HashMap::new(), &HashMap::new(), 10);
        let st: Vec<_> = p.results.iter().map(|r| (r.seq, r.status.clone())).collect();
        let at = t("2026-03-03T08:00:00Z");
        assert_eq!(
            st,
            vec![
                (1, MutationStatus::Applied { server_seq: 11, server_updated_at: at }),
                (2, MutationStatus::Applied { server_seq: 12, server_updated_at: at }),
                (3, MutationStatus::Applied { server_seq: 13, server_updated_at: at }),
            ]
        );
        assert_eq!(p.last_change_seq, 13);
        // Record 1 is written once, in its last state and sequence; ascending order.
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[0].0, 12);
        assert_eq!(p.records[1].0, 13);
        assert_eq!(p.records[1].1.revision(), 2);
        assert_eq!(p.records[1].1.meta().server_updated_at, Some(at));
        assert_eq!(p.keys.len(), 3);
    }

    #[test]
    fn plan_replay_is_duplicate_and_writes_nothing() {
        let muts = [m(1, weighing(1, 1, 100)), m(2, weighing(2, 1, 200))];
        let first = plan(&muts, &HashMap::new(), &HashMap::new(), 0);
        let dedup: HashMap<u64, AppliedKey> = first.keys.iter().copied().collect();
        let cur: HashMap<Uuid, StoredRecord> =
            first.records.iter().map(|(_, r)| (r.id(), StoredRecord { site_id: SITE, record: r.clone() })).collect();
        let again = plan(&muts, &dedup, &cur, first.last_change_seq);
        assert!(again.results.iter().all(|r| r.status == MutationStatus::Duplicate));
        assert!(again.records.is_empty() && again.keys.is_empty());
        assert_eq!(again.last_change_seq, 2);
        // Same content under another dedup key (e.g. after re-enrolment): duplicate, key recorded.
        let other_key = plan(&[m(9, weighing(1, 1, 100))], &dedup, &cur, 2);
        assert_eq!(other_key.results[0].status, MutationStatus::Duplicate);
        assert_eq!(other_key.keys, vec![(9, AppliedKey { record_id: Uuid::from_u128(1), revision: 1 })]);
        // A seq already used for another record is refused, never called a duplicate.
        let reused = plan(&[m(1, weighing(5, 1, 100))], &dedup, &cur, 2);
        assert!(matches!(&reused.results[0].status, MutationStatus::Rejected { reason, .. } if reason.contains("séquence 1")));
        assert!(reused.records.is_empty());
    }

    #[test]
    fn plan_duplicate_seq_inside_one_batch() {
        let muts = [m(1, weighing(1, 1, 100)), m(1, weighing(1, 1, 100))];
        let p = plan(&muts, &HashMap::new(), &HashMap::new(), 0);
        assert!(matches!(p.results[0].status, MutationStatus::Applied { .. }));
        assert_eq!(p.results[1].status, MutationStatus::Duplicate);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.keys.len(), 1);
    }

    #[test]
    fn plan_conflicts_and_foreign_ids() {
        let stored = weighing(1, 2, 100);
        let mut cur = HashMap::new();
        cur.insert(Uuid::from_u128(1), StoredRecord { site_id: SITE, record: stored.clone() });
        cur.insert(Uuid::from_u128(2), StoredRecord { site_id: OTHER, record: weighing(2, 1, 5) });
        let p = plan(&[m(1, weighing(1, 2, 999)), m(2, weighing(1, 1, 100)), m(3, weighing(2, 2, 5))], &HashMap::new(), &cur, 5);
        assert_eq!(p.results[0].status, MutationStatus::Conflict { current: stored.clone() });
        assert_eq!(p.results[1].status, MutationStatus::Conflict { current: stored });
        match &p.results[2].status {
            MutationStatus::Rejected { reason, .. } => assert!(reason.contains("déjà utilisé") && !reason.contains("5")),
            s => panic!("{s:?}"),
        }
        assert!(p.records.is_empty() && p.keys.is_empty());
        assert_eq!(p.last_change_seq, 5);
    }

    #[test]
    fn plan_rejections_dont_block_the_rest() {
        let p = plan(&[m(1, weighing(1, 1, 0)), m(2, meal(2, OTHER)), m(3, weighing(3, 1, 100))], &HashMap::new(), &HashMap::new(), 0);
        assert!(matches!(p.results[0].status, MutationStatus::Rejected { .. }));
        assert!(matches!(p.results[1].status, MutationStatus::Rejected { .. }));
        assert!(matches!(p.results[2].status, MutationStatus::Applied { server_seq: 1, .. }));
    }

    #[test]
    fn pulled_revision_rule() {
        let a = RecordMeta::new(Uuid::from_u128(1), t("2026-03-02T10:00:00Z"));
        let b = a.revised(t("2026-03-02T11:00:00Z"));
        assert!(pulled_supersedes(&a, &b));
        assert!(pulled_supersedes(&a, &a));
        assert!(!pulled_supersedes(&b, &a));
    }

    /// Applies `muts` in chunks, carrying the stored state between chunks like the server does.
    fn apply_chunks(muts: &[Mutation], chunk: usize) -> (HashMap<Uuid, StoredRecord>, HashMap<u64, AppliedKey>, u64, usize) {
        let (mut cur, mut dedup, mut last, mut applied) = (HashMap::new(), HashMap::new(), 0u64, 0usize);
        for c in muts.chunks(chunk.max(1)) {
            let p = plan(c, &dedup, &cur, last);
            applied += p.results.iter().filter(|r| matches!(r.status, MutationStatus::Applied { .. })).count();
            for (_, r) in p.records {
                cur.insert(r.id(), StoredRecord { site_id: SITE, record: r });
            }
            dedup.extend(p.keys);
            last = p.last_change_seq;
        }
        (cur, dedup, last, applied)
    }

    proptest::proptest! {
        /// Any weighing, with `kind` at any place: the hand-written deserializer gives what
        /// serde's tagged enum gives.
        #[test]
        fn payload_reads_like_serdes_tagged_enum(
            id in 1u128..u128::MAX, rev in 1u64..1000, grams in 0u64..10_000_000, day in 0i64..400,
            stage in 0usize..3, component in proptest::option::of(0usize..5), kind_at in 0usize..12,
        ) {
            let mut meta = RecordMeta::new(Uuid::from_u128(id), t("2026-03-02T10:00:00Z"));
            meta.revision = rev;
            let record = RecordPayload::Weighing(Weighing {
                meta,
                site_id: SITE,
                service_date: d(2025, 1, 1) + Duration::days(day),
                stage: [Stage::Preparation, Stage::Unserved, Stage::Leftovers][stage],
                component: component.map(|c| crate::waste::Component::ALL[c % crate::waste::Component::ALL.len()]),
                mass_grams: grams,
                sorted: None,
                destination: None,
            });
            let text = json_with_kind_at(&record, kind_at);
            let ours = serde_json::from_str::<RecordPayload>(&text).unwrap();
            let derived: RecordPayload = serde_json::from_str::<DerivedPayload>(&text).unwrap().into();
            proptest::prop_assert_eq!(&ours, &derived);
            proptest::prop_assert_eq!(ours, record);
        }

        /// Any result, its keys in any order, with unknown keys and other statuses' fields
        /// after `status`: read like the derive reads it; without one of its fields, refused
        /// like the derive refuses it.
        #[test]
        fn results_read_like_the_derive_in_any_key_order(
            seq in 0u64..u64::MAX, status in 0usize..4, server_seq in 0u64..u64::MAX,
            secs in 0i64..4_000_000_000, nanos in 0u32..1_000_000_000, offset_min in -900i32..900,
            reason in "\\PC{0,20}", errors in 0usize..3, grams in 1u64..100_000,
            order in proptest::collection::vec(0u32..1000, 12), extras in 0usize..3, drop in proptest::option::of(0usize..8),
        ) {
            let at = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap();
            let status = match status {
                0 => MutationStatus::Applied { server_seq, server_updated_at: at },
                1 => MutationStatus::Duplicate,
                2 => MutationStatus::Conflict { current: weighing(7, 2, grams) },
                _ => MutationStatus::Rejected {
                    reason: reason.clone(),
                    errors: (0..errors).map(|i| FieldError { field: format!("f{i}"), message: reason.clone() }).collect(),
                },
            };
            let result = MutationResult { seq, status };
            let mut e = entries(&result);
            if let MutationStatus::Applied { .. } = result.status {
                // Any offset, as another writer could put it.
                let offset = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
                let local = at.with_timezone(&offset).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
                e.iter_mut().find(|(k, _)| k == "server_updated_at").unwrap().1 = serde_json::Value::String(local);
            }
            let others: [(&str, serde_json::Value); 4] = [
                ("unknown", serde_json::json!({"a": [1, 2.5, null]})),
                ("reason", serde_json::json!(7)),
                ("current", serde_json::json!("not a record")),
                ("server_seq", serde_json::json!(-1)),
            ];
            let own: Vec<String> = e.iter().map(|(k, _)| k.clone()).collect();
            let mut extra: Vec<(String, serde_json::Value)> = others.iter()
                .filter(|(k, _)| !own.iter().any(|o| o == k))
                .take(extras)
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let dropped = drop.filter(|i| *i < e.len()).map(|i| e.remove(i));
            if dropped.as_ref().is_some_and(|(k, _)| k == "status") {
                // Other statuses' fields are only skipped once `status` is known (see the visitor).
                extra.retain(|(k, _)| k == "unknown");
            }
            // Shuffle the result's own entries; the extras go after `status`.
            let mut keyed: Vec<(u32, (String, serde_json::Value))> = e.into_iter().enumerate().map(|(i, x)| (order[i], x)).collect();
            keyed.sort_by_key(|(k, _)| *k);
            let mut all: Vec<(String, serde_json::Value)> = keyed.into_iter().map(|(_, x)| x).collect();
            let after = all.iter().position(|(k, _)| k == "status").map_or(all.len(), |i| i + 1);
            for (i, x) in extra.drain(..).enumerate() {
                all.insert((after + i).min(all.len()), x);
            }
            let text = object(&all);
            let (ours, derived) = (our_result(&text), derived_result(&text));
            proptest::prop_assert_eq!(&ours, &derived, "{}", text);
            if dropped.is_none() {
                proptest::prop_assert_eq!(ours, Ok(result));
            }
        }

        /// Whatever the batching and however often a batch is replayed, the final state is the
        /// same, every record holds its highest revision, and nothing is applied twice.
        #[test]
        fn batching_and_replay_never_change_the_outcome(
            ops in proptest::collection::vec((0u128..4, 1u64..4, 1u64..5), 1..40),
            chunk in 1usize..10,
        ) {
            let muts: Vec<Mutation> = ops.iter().enumerate()
                .map(|(i, (id, rev, g))| m(i as u64 + 1, weighing(id + 1, *rev, g * 100)))
                .collect();
            let (one, _, _, _) = apply_chunks(&muts, muts.len());
            let (many, dedup, last, applied) = apply_chunks(&muts, chunk);
            let strip = |c: &HashMap<Uuid, StoredRecord>| -> Vec<(Uuid, u64, bool)> {
                let mut v: Vec<_> = c.values().map(|s| (s.record.id(), s.record.revision(), s.record.is_deleted())).collect();
                v.sort();
                v
            };
            proptest::prop_assert_eq!(strip(&one), strip(&many));
            for (id, s) in &many {
                let max = muts.iter().filter(|m| m.record.id() == *id).map(|m| m.record.revision()).max().unwrap();
                proptest::prop_assert_eq!(s.record.revision(), max);
                proptest::prop_assert!(one[id].record.same_content(&s.record));
            }
            proptest::prop_assert_eq!(last as usize, applied);
            // Replaying everything: no new change, no applied mutation.
            let again = plan(&muts, &dedup, &many, last);
            proptest::prop_assert!(again.records.is_empty());
            let reapplied = again.results.iter().filter(|r| matches!(r.status, MutationStatus::Applied { .. })).count();
            proptest::prop_assert_eq!(reapplied, 0);
        }
    }
}
