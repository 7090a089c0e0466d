//! Fuzz targets: each takes any bytes, runs them through a reader that takes bytes from outside
//! the server or the tablet, and panics when the reader panics or breaks one of the invariants
//! checked below (what is read can be written and read back, a batch is never applied twice,
//! an accepted file gives valid purchases…). The AFL++ binaries (`src/bin/`) and the corpus
//! replay test (`tests/corpus.rs`) call these same functions.

use std::collections::HashMap;

use assiette_domain::import::{self, ImportOptions, KeyColumn};
use assiette_tablet::backup;
use assiette_domain::number::format_fr_date;
use assiette_domain::sync::{
    check_mutation, plan_push, server_today, AppliedKey, MutationStatus, PushRequest, PushResponse,
    SiteRef, SiteScope, StoredRecord,
};
use assiette_domain::time::{self, Rfc3339};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
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

/// A tablet backup file through the app's own reader and planner (`assiette_tablet::backup`):
/// what `parse` keeps validates, has its timestamps in the server's years, each id once, every
/// outbox entry a revision of a kept record; written back (the next backup) it reads back to
/// itself with nothing left out; planned on an empty tablet it imports everything, and planned
/// again once imported it imports nothing.
pub fn backup_records(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let today = now().date_naive();
    let Ok(parsed) = backup::parse(text, today) else { return };
    let _ = parsed.left_out_fr();
    let b = &parsed.backup;
    let mut ids = std::collections::HashSet::new();
    let mut check = |meta: &assiette_domain::record::RecordMeta, valid: bool, what: &str| {
        assert!(valid, "{what} kept though invalid");
        assert!(time::timestamp_in_range(meta.modified_at) && meta.server_updated_at.is_none_or(time::timestamp_in_range), "{what} kept with {meta:?}");
        assert!(ids.insert(meta.id), "{what} kept twice: {}", meta.id);
        reads_back(meta, what);
    };
    for c in &b.meal_counts {
        check(&c.meta, c.validate(today).is_ok(), "a meal count");
        let _ = format_fr_date(c.service_date);
    }
    for w in &b.weighings {
        check(&w.meta, w.validate(today).is_ok(), "a weighing");
        let _ = (w.edible_inedible(), w.counts_as_waste());
    }
    for p in &b.purchases {
        check(&p.meta, p.validate(today).is_ok(), "a purchase");
        let _ = (p.egalim_group(), p.origin());
    }
    for e in &b.outbox {
        assert!(ids.contains(&e.record_id), "an outbox entry kept for a record left out: {}", e.record_id);
    }
    let again = backup::parse(&b.to_json(), today).unwrap_or_else(|e| panic!("a backup's valid part does not read back: {e:?}"));
    assert_eq!(&again, &backup::Parsed { backup: b.clone(), left_out: vec![] }, "a backup's valid part reads back otherwise");
    let empty = backup::LocalState::default();
    let Ok(first) = backup::plan(b, &empty) else { panic!("a backup refused by an empty tablet") };
    assert_eq!(first.record_count(), b.record_count(), "an empty tablet imports every kept record");
    let after = backup::LocalState {
        revisions: b.meal_counts.iter().map(|c| (c.meta.id, c.meta.revision))
            .chain(b.weighings.iter().map(|w| (w.meta.id, w.meta.revision)))
            .chain(b.purchases.iter().map(|p| (p.meta.id, p.meta.revision)))
            .collect(),
        profile: b.profile.clone(),
        has_own_records: true,
    };
    let second = backup::plan(b, &after).expect("the same file on the tablet it was imported to");
    assert_eq!((second.record_count(), second.already_present), (0, b.record_count()), "importing again imports nothing");
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
