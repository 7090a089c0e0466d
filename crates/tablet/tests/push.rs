//! The push body, the batch plan and the split/isolate rules, against a simulated server.
use std::collections::{BTreeSet, HashSet};

use assiette_domain::purchase::Purchase;
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::{Mutation, PushRequest, RecordKind, RecordPayload, MAX_BODY_BYTES};
use assiette_domain::waste::{Stage, Weighing};
use assiette_tablet::push::*;
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

fn weighing(id: u128, revision: u64) -> RecordPayload {
    let mut meta = RecordMeta::new(Uuid::from_u128(id), Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap());
    meta.revision = revision;
    meta.server_updated_at = Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 1).unwrap());
    RecordPayload::Weighing(Weighing {
        meta,
        site_id: Uuid::from_u128(9),
        service_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        stage: Stage::Leftovers,
        component: None,
        mass_grams: 1_250,
        sorted: None,
        destination: None,
    })
}

fn purchase(id: u128) -> RecordPayload {
    let p: Purchase = serde_json::from_str(&format!(
        r#"{{"meta":{{"id":"{}","revision":4,"modified_at":"2026-03-02T10:00:00Z"}},"siret":"21760351500008",
        "description":"Pommes « bio » \"x\"","fournisseur":"Ferme","date":"2026-03-02","prix_ht_cents":1250,
        "famille_produits":"FRUITS_ET_LEGUMES","caracteristiques":["BIO"]}}"#,
        Uuid::from_u128(id)
    ))
    .unwrap();
    RecordPayload::Purchase(p)
}

/// The record's JSON as the tablet stores it: without `kind`.
fn stored_json(r: &RecordPayload) -> String {
    match r {
        RecordPayload::Weighing(w) => serde_json::to_string(w).unwrap(),
        RecordPayload::Purchase(p) => serde_json::to_string(p).unwrap(),
        RecordPayload::MealCount(c) => serde_json::to_string(c).unwrap(),
    }
}

#[test]
fn the_push_body_is_the_domains_push_request_as_serde_writes_it() {
    let records = [weighing(1, 2), purchase(2), weighing(3, 1)];
    let texts: Vec<String> = records.iter().map(stored_json).collect();
    let outgoing: Vec<Outgoing> =
        records.iter().zip(&texts).enumerate().map(|(i, (r, t))| Outgoing { seq: i as u64 + 5, kind: r.kind(), record: t }).collect();
    let device = Uuid::from_u128(77);
    let body = push_body(device, &outgoing);
    let typed = PushRequest {
        device_id: device,
        mutations: records.iter().enumerate().map(|(i, r)| Mutation { seq: i as u64 + 5, record: r.clone() }).collect(),
    };
    assert_eq!(body, serde_json::to_string(&typed).unwrap());
    assert_eq!(serde_json::from_str::<PushRequest>(&body).unwrap(), typed);
    let empty = push_body(device, &[]);
    assert_eq!(empty, serde_json::to_string(&PushRequest { device_id: device, mutations: vec![] }).unwrap());
    assert_eq!(empty.len(), BODY_OVERHEAD);
    // What each mutation adds, exactly.
    assert_eq!(body.len(), BODY_OVERHEAD + outgoing.iter().map(mutation_len).sum::<usize>() + outgoing.len() - 1);
    // A record with no field, and one with spaces around it.
    for (record, seq) in [("{}", 0), ("  { \"a\" : 1 }  ", 9_007_199_254_740_991), ("{ }", 10)] {
        let m = Outgoing { seq, kind: RecordKind::MealCount, record };
        let body = push_body(device, &[m]);
        assert_eq!(body.len(), BODY_OVERHEAD + mutation_len(&m), "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap();
    }
}

#[test]
fn batches_respect_the_count_and_the_bytes() {
    let entries: Vec<(u64, usize)> = (1..=7).map(|s| (s, 100)).collect();
    assert_eq!(plan_batches(&entries, 3, usize::MAX), vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
    // Two mutations of 100 bytes and their comma fit in 201 bytes after the overhead, not three.
    assert_eq!(plan_batches(&entries[..5], 10, BODY_OVERHEAD + 201), vec![vec![1, 2], vec![3, 4], vec![5]]);
    // A mutation larger than any body goes alone; the others around it are batched as usual.
    let big = [(1, 10), (2, MAX_BODY_BYTES), (3, 10), (4, 10)];
    assert_eq!(plan_batches(&big, 500, MAX_BODY_BYTES), vec![vec![1], vec![2], vec![3, 4]]);
    assert!(plan_batches(&[], 500, MAX_BODY_BYTES).is_empty());
}

#[test]
fn a_refused_batch_is_halved_and_a_single_entry_set_aside_with_a_french_reason() {
    let mut q = PushQueue::new(vec![vec![1, 2, 3, 4, 5], vec![6]]);
    let first = q.next_batch().unwrap();
    assert_eq!(q.refused(first, &Refusal::TooLarge), None);
    assert_eq!(q.next_batch(), Some(vec![1, 2]));
    assert_eq!(q.next_batch(), Some(vec![3, 4, 5]));
    assert_eq!(q.next_batch(), Some(vec![6]));
    assert_eq!(q.next_batch(), None);
    let (seq, reason) = q.refused(vec![4], &Refusal::TooLarge).unwrap();
    assert_eq!(seq, 4);
    assert!(reason.starts_with("Trop volumineuse : le serveur refuse de la recevoir."), "{reason}");
    let (_, reason) = q.refused(vec![4], &Refusal::Unreadable("Données refusées : champ « x ».".into())).unwrap();
    assert_eq!(reason, "Refusée par le serveur, qui ne peut pas la lire : Données refusées : champ « x ».");
    assert_eq!(q.next_batch(), None, "a single entry is never sent again in the same run");
}

/// What a server with a body limit, and records it cannot read, does with one push.
enum Answer {
    Accepted,
    Refused(Refusal),
}

fn serve(batch: &[u64], sizes: &[(u64, usize)], unreadable: &HashSet<u64>, limit: usize) -> Answer {
    let len = |s: u64| sizes.iter().find(|(q, _)| *q == s).unwrap().1;
    let body = BODY_OVERHEAD + batch.iter().map(|s| len(*s)).sum::<usize>() + batch.len().saturating_sub(1);
    if body > limit {
        Answer::Refused(Refusal::TooLarge)
    } else if batch.iter().any(|s| unreadable.contains(s)) {
        Answer::Refused(Refusal::Unreadable("illisible".into()))
    } else {
        Answer::Accepted
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The batches are the outbox, in order, cut within the limits.
    #[test]
    fn batches_are_the_outbox_in_order_within_the_limits(
        lens in prop::collection::vec(1usize..400, 0..120),
        max_count in 1usize..20,
        max_bytes in BODY_OVERHEAD..BODY_OVERHEAD + 2_000,
    ) {
        let entries: Vec<(u64, usize)> = lens.iter().enumerate().map(|(i, l)| (i as u64 + 1, *l)).collect();
        let batches = plan_batches(&entries, max_count, max_bytes);
        let flat: Vec<u64> = batches.iter().flatten().copied().collect();
        prop_assert_eq!(flat, entries.iter().map(|e| e.0).collect::<Vec<_>>());
        for b in &batches {
            prop_assert!(!b.is_empty() && b.len() <= max_count);
            let bytes = BODY_OVERHEAD + b.iter().map(|s| entries[*s as usize - 1].1).sum::<usize>() + b.len() - 1;
            prop_assert!(b.len() == 1 || bytes <= max_bytes, "{:?}: {} bytes", b, bytes);
        }
    }

    /// Against a server that refuses bodies over its limit (413) and batches holding a record it
    /// cannot read (422): every entry ends sent once or set aside; exactly the entries the server
    /// can never take are set aside; what is sent keeps the outbox order; the number of requests
    /// stays near one per batch plus a bisection per refused entry.
    #[test]
    fn split_and_isolate_set_aside_exactly_what_the_server_can_never_take(
        lens in prop::collection::vec(1usize..600, 1..150),
        bad in prop::collection::vec(0usize..150, 0..6),
        limit in BODY_OVERHEAD + 300..BODY_OVERHEAD + 3_000,
        max_count in 1usize..64,
    ) {
        let sizes: Vec<(u64, usize)> = lens.iter().enumerate().map(|(i, l)| (i as u64 + 1, *l)).collect();
        let unreadable: HashSet<u64> = bad.iter().filter(|b| **b < lens.len()).map(|b| *b as u64 + 1).collect();
        // The planner does not know the server's limit (a proxy may have a lower one).
        let mut queue = PushQueue::new(plan_batches(&sizes, max_count, usize::MAX));
        let (mut sent, mut aside, mut requests) = (Vec::new(), BTreeSet::new(), 0usize);
        while let Some(batch) = queue.next_batch() {
            requests += 1;
            prop_assert!(requests < 10_000);
            match serve(&batch, &sizes, &unreadable, limit) {
                Answer::Accepted => sent.extend(batch),
                Answer::Refused(r) => {
                    if let Some((seq, reason)) = queue.refused(batch, &r) {
                        prop_assert!(!reason.is_empty());
                        prop_assert!(aside.insert(seq));
                    }
                }
            }
        }
        let never: BTreeSet<u64> =
            sizes.iter().filter(|(s, l)| unreadable.contains(s) || BODY_OVERHEAD + l > limit).map(|(s, _)| *s).collect();
        prop_assert_eq!(&aside, &never);
        let expected: Vec<u64> = sizes.iter().map(|(s, _)| *s).filter(|s| !never.contains(s)).collect();
        prop_assert_eq!(sent, expected);
        // Bounded work: each refusal halves a batch, so no request is repeated unchanged.
        let n = sizes.len();
        let log = usize::BITS as usize - n.leading_zeros() as usize;
        prop_assert!(requests <= 2 * n + 1 + 2 * log * n.min(never.len() + 1), "{} requests for {} entries", requests, n);
    }
}
