//! Fuzz targets: each takes any bytes, runs them through a reader that takes bytes from outside
//! the server or the tablet, and panics when the reader panics or breaks one of the invariants
//! checked below (what is read can be written and read back, a batch is never applied twice,
//! an accepted file gives valid purchases…). The AFL++ binaries (`src/bin/`) and the corpus
//! replay test (`tests/corpus.rs`) call these same functions.

use std::collections::HashMap;

use assiette_domain::import::{self, ImportOptions, KeyColumn};
use assiette_domain::meals::DailyMealCount;
use assiette_domain::number::{format_fr_date, group_thousands};
use assiette_domain::purchase::Purchase;
use assiette_domain::sync::{
    check_mutation, plan_push, server_today, AppliedKey, MutationStatus, PushRequest, PushResponse,
    SiteRef, SiteScope, StoredRecord,
};
use assiette_domain::time::{self, Rfc3339};
use assiette_domain::waste::Weighing;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// The server's and the tablet's clock in every target: fixed, so that a crash replays.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_445_600, 0).expect("2026-03-02T10:00:00Z") // 2026-03-02T10:00:00Z
}

/// `value` written by serde and read back by the domain's readers is `value` again.
fn reads_back<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, what: &str) {
    let text = serde_json::to_string(value).unwrap_or_else(|e| panic!("{what} does not serialise: {e}"));
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what} written as {text} does not read back: {e}"));
    assert_eq!(&back, value, "{what} written as {text} reads back otherwise");
}

/// Whether every timestamp of a record's meta can be written in RFC 3339's four-digit years.
fn meta_writable(meta: &assiette_domain::record::RecordMeta) -> bool {
    let ok = |t: DateTime<Utc>| (0..=9999).contains(&t.year());
    ok(meta.modified_at) && meta.server_updated_at.is_none_or(ok)
}

/// The body of `POST /api/v1/sync/push`, read as the server's `JsonBody<PushRequest>` reads it
/// (`serde_json::from_slice`), then planned as the store plans it, twice (the second time as a
/// replay against what the first one wrote).
pub fn push_body(data: &[u8]) {
    let Ok(req) = serde_json::from_slice::<PushRequest>(data) else { return };
    let now = now();
    let today = server_today(now);
    // The device's site: the first site the batch names, so that some mutations are in scope.
    let site_id = req.mutations.iter().find_map(|m| match m.record.site_ref() {
        SiteRef::Id(id) => Some(id),
        SiteRef::Siret(_) => None,
    });
    let siret = req.mutations.iter().find_map(|m| match m.record.site_ref() {
        SiteRef::Siret(s) => Some(assiette_domain::site::normalize_siret(s)),
        SiteRef::Id(_) => None,
    });
    let scope = SiteScope { site_id: site_id.unwrap_or(Uuid::nil()), siret: siret.unwrap_or_default(), name: "Fuzz".into() };
    let mut checked = Vec::with_capacity(req.mutations.len());
    for m in &req.mutations {
        // Texts for messages: never panic, whatever the record holds.
        let _ = (m.record.describe_fr(), m.record.values_fr());
        checked.push(check_mutation(m, &scope, today).is_ok());
    }

    let first = plan_push(&scope, today, now, 0, &req.mutations, &HashMap::new(), &HashMap::new());
    assert_eq!(first.results.len(), req.mutations.len());
    for ((m, r), ok) in req.mutations.iter().zip(&first.results).zip(&checked) {
        assert_eq!(r.seq, m.seq);
        if matches!(r.status, MutationStatus::Applied { .. }) {
            assert!(ok, "applied although check_mutation refuses it: {m:?}");
        }
    }
    // What the server stores is valid and reads back as stored (a stored row it cannot read
    // would refuse every later batch naming that id).
    for (_, record) in &first.records {
        assert!(record.validate(today).is_ok(), "stored an invalid record: {record:?}");
        assert!(time::timestamp_in_range(record.meta().modified_at), "stored a timestamp out of range: {record:?}");
        reads_back(record, "a stored record");
    }
    // The reply reads back as sent (the tablet reads it with the domain's hand-written visitor).
    reads_back(&PushResponse { results: first.results.clone() }, "a push reply");

    // The same batch replayed after it was committed: nothing is applied twice.
    let dedup: HashMap<u64, AppliedKey> = first.keys.iter().copied().collect();
    let stored: HashMap<Uuid, StoredRecord> =
        first.records.iter().map(|(_, r)| (r.id(), StoredRecord { site_id: scope.site_id, record: r.clone() })).collect();
    let replay = plan_push(&scope, today, now, first.last_change_seq, &req.mutations, &dedup, &stored);
    assert!(replay.records.is_empty(), "a replayed batch wrote again: {:?}", replay.records);
    assert_eq!(replay.last_change_seq, first.last_change_seq);
    for (a, b) in first.results.iter().zip(&replay.results) {
        if matches!(a.status, MutationStatus::Applied { .. } | MutationStatus::Duplicate) {
            assert_eq!(b.status, MutationStatus::Duplicate, "seq {} was {:?}, then {:?} on replay", a.seq, a.status, b.status);
        }
    }
}

/// A national purchase file (CSV or XLSX, as the server's import and the CLI read it).
pub fn purchase_import(data: &[u8]) {
    let now = now();
    let today = now.date_naive();
    let opts = ImportOptions::new(today, now);
    let mut n = 0u128;
    let mut new_id = || {
        n += 1;
        Uuid::from_u128(n)
    };
    let imported = match import::import_purchases(data, &opts, &mut new_id) {
        Ok(i) => i,
        Err(rejected) => {
            assert!(!rejected.errors.is_empty(), "a refused file says why");
            let _ = rejected.to_string();
            return;
        }
    };
    assert_eq!(imported.digest, import::digest_hex(data));
    assert!(!imported.purchases.is_empty(), "an accepted file has purchases");
    for p in &imported.purchases {
        let mut v = p.validate(today);
        // A `cantine_id` file without the canteens' table keeps the id where the SIRET goes.
        v.errors.retain(|e| imported.key_column == KeyColumn::Siret || e.field != "siret");
        assert!(v.is_ok(), "imported an invalid purchase {p:?}: {v:?}");
        reads_back(p, "an imported purchase");
    }
    // The national CSV export of what was imported imports to the same purchases.
    if imported.key_column == KeyColumn::Siret {
        let csv = assiette_domain::export::purchases_csv(&imported.purchases);
        let mut m = 0u128;
        let again = import::import_purchases(csv.as_bytes(), &opts, &mut || {
            m += 1;
            Uuid::from_u128(m)
        })
        .unwrap_or_else(|e| panic!("the export of an import is refused: {e}\n{csv}"));
        assert_eq!(again.purchases, imported.purchases, "the export of an import reads otherwise:\n{csv}");
    }
}

/// The top level of a tablet backup, each part kept as raw JSON as the app's `backup::parse`
/// keeps it (the app crate is wasm-only: its profile and outbox readers are not built here).
#[derive(Deserialize)]
struct RawBackup<'a> {
    #[serde(borrow)]
    format: Option<&'a RawValue>,
    #[serde(borrow)]
    version: Option<&'a RawValue>,
    #[serde(borrow)]
    exported_at: Option<&'a RawValue>,
    #[serde(borrow)]
    meal_counts: Option<&'a RawValue>,
    #[serde(borrow)]
    weighings: Option<&'a RawValue>,
    #[serde(borrow)]
    purchases: Option<&'a RawValue>,
}

/// Each element of a backup's array, read on its own with the domain's reader, as the app does.
fn records_of<T: DeserializeOwned>(raw: Option<&RawValue>) -> Vec<T> {
    let Some(raw) = raw else { return Vec::new() };
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else { return Vec::new() };
    items.iter().filter_map(|item| serde_json::from_str(item.get()).ok()).collect()
}

/// A tablet backup file, through the domain readers and checks the app's `backup::parse` uses:
/// every record it reads and validates is written back (the next backup) and reads back equal.
pub fn backup_records(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(raw) = serde_json::from_str::<RawBackup>(text.trim_start_matches('\u{feff}')) else { return };
    let _ = (
        raw.format.and_then(|f| serde_json::from_str::<&str>(f.get()).ok()),
        raw.version.and_then(|v| serde_json::from_str::<u64>(v.get()).ok()),
    );
    if let Some(t) = raw.exported_at.and_then(|r| serde_json::from_str::<Rfc3339>(r.get()).ok()) {
        let _ = t.0.to_rfc3339();
    }
    let today = now().date_naive();
    let meal_counts: Vec<DailyMealCount> = records_of(raw.meal_counts);
    let weighings: Vec<Weighing> = records_of(raw.weighings);
    let purchases: Vec<Purchase> = records_of(raw.purchases);
    for c in &meal_counts {
        let _ = format_fr_date(c.service_date);
        if c.validate(today).is_ok() && meta_writable(&c.meta) {
            reads_back(c, "a backed-up meal count");
        }
    }
    for w in &weighings {
        let _ = (format_fr_date(w.service_date), w.edible_inedible(), w.counts_as_waste());
        if w.validate(today).is_ok() && meta_writable(&w.meta) {
            reads_back(w, "a backed-up weighing");
        }
    }
    for p in &purchases {
        let _ = (format_fr_date(p.date), p.egalim_group(), p.origin());
        if p.validate(today).is_ok() && meta_writable(&p.meta) {
            reads_back(p, "a backed-up purchase");
        }
    }
    let _ = group_thousands((meal_counts.len() + weighings.len() + purchases.len()) as u64);
}

/// The date and timestamp readers (`time::parse_rfc3339`, `time::parse_date`, and their serde
/// forms): what they accept, chrono accepts with the same value, and it writes back to itself.
pub fn timestamps(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(t) = time::parse_rfc3339(s) {
            assert_eq!(s.parse::<DateTime<Utc>>().ok(), Some(t), "read otherwise than chrono: {s:?}");
            if (0..=9999).contains(&t.year()) {
                assert_eq!(time::parse_rfc3339(&t.to_rfc3339()), Some(t), "{s:?}");
                let written = serde_json::to_string(&t).expect("a timestamp serialises");
                assert_eq!(serde_json::from_str::<Rfc3339>(&written).ok(), Some(Rfc3339(t)), "{s:?} written as {written}");
            }
            let _ = time::timestamp_in_range(t);
        }
        if let Some(d) = time::parse_date(s) {
            assert_eq!(s.parse::<NaiveDate>().ok(), Some(d), "read otherwise than chrono: {s:?}");
            assert_eq!(d.to_string(), s, "a date reads back to its text");
            let _ = format_fr_date(d);
        }
    }
    // The same bytes as a JSON value, through the serde readers of records' fields.
    if let Ok(t) = serde_json::from_slice::<Rfc3339>(data) {
        let s: String = serde_json::from_slice(data).expect("a timestamp was a JSON string");
        assert_eq!(time::parse_rfc3339(&s), Some(t.0));
    }
    #[derive(Deserialize)]
    struct Dated {
        #[serde(with = "assiette_domain::time::date")]
        d: NaiveDate,
        #[serde(default, with = "assiette_domain::time::rfc3339_option")]
        at: Option<DateTime<Utc>>,
    }
    if let Ok(v) = serde_json::from_slice::<Dated>(data) {
        let _ = (format_fr_date(v.d), v.at.map(time::timestamp_in_range));
    }
}
