//! The sync replies are written by hand (push) and joined by the database around the stored
//! record JSON (pull). Over real HTTP, on SQLite and (when configured) PostgreSQL: every reply
//! is byte for byte what serde writes for the domain's `PushResponse` / `PullResponse`, pages
//! stop at their limit with the right cursor and `has_more`, and nothing is lost or repeated.

mod common;

use assiette_domain::sync::{Mutation, MutationStatus, PullResponse, PushRequest, PushResponse, RecordPayload};
use assiette_domain::waste::{Component, Destination, EdibleSplit, Stage};
use common::*;
use serde_json::json;

/// Raw body of a request (status 200 asserted).
async fn raw(req: reqwest::RequestBuilder) -> Vec<u8> {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    bytes
}

fn assert_serde_shape<T: serde::de::DeserializeOwned + serde::Serialize>(bytes: &[u8]) -> T {
    let parsed: T = serde_json::from_slice(bytes).expect("reply is the domain's type");
    assert_eq!(
        String::from_utf8(bytes.to_vec()).unwrap(),
        serde_json::to_string(&parsed).unwrap(),
        "reply differs from serde's serialisation"
    );
    parsed
}

async fn wire(backend: &Backend) {
    eprintln!("== réponses de synchronisation octet pour octet sur {} ==", backend.name);
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    let site_siret = siret("2176035150002");
    let site = admin.create_site("76351", "Le Havre", &site_siret, "Cantine « Les Goélands »").await;
    let mut a = Tablet::enrol(&server.base, &admin.code(site).await).await;

    // Every kind, optional fields set, text that needs escaping (quotes, backslash, accents,
    // emoji, and the head of a pull element; a newline is refused), a correction and a tombstone.
    let mut full = weighing(site, day(0), Stage::Unserved, 6_250);
    if let RecordPayload::Weighing(w) = &mut full {
        w.component = Some(Component::PlatProtidique);
        w.sorted = Some(EdibleSplit { edible_grams: 5_000, inedible_grams: 1_250 });
        w.destination = Some(Destination::Donation);
    }
    let w1 = full.id();
    a.save(full);
    let m1 = a.meal_count(day(0), 118);
    let purchase: assiette_domain::purchase::Purchase = serde_json::from_value(json!({
        "meta": {"id": uuid::Uuid::now_v7(), "revision": 1, "modified_at": "2026-03-02T10:00:00.123Z"},
        "siret": site_siret, "description": "Pommes \"bio\" \\ du verger Épinettes 🍎 {\"server_seq\":1,\"record\":",
        "fournisseur": "Ferme d'Étretat", "date": "2025-09-01", "prix_ht_cents": 1250,
        "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": ["BIO"]
    }))
    .unwrap();
    a.save(RecordPayload::Purchase(purchase));
    for i in 0..6 {
        a.weighing(day(i % 3), Stage::Unserved, 100 + i as u64);
    }
    a.correct(m1, |r| {
        if let RecordPayload::MealCount(m) = r {
            m.served_adults = 7;
        }
    });
    a.delete(w1);
    let mut batch = a.batch(1000);
    // One refused (no mass), one conflicting (same revision as stored, other content, sent after).
    batch.push(Mutation { seq: 500, record: weighing(site, day(1), Stage::Preparation, 0) });
    let mut other = batch[3].record.clone();
    if let RecordPayload::Weighing(w) = &mut other {
        w.mass_grams += 1;
    }
    batch.push(Mutation { seq: 501, record: other });
    // The same entry twice (its seq again): the second is a duplicate.
    batch.push(batch[4].clone());

    let req = PushRequest { device_id: a.device_id, mutations: batch.clone() };
    let url = server.url("/api/v1/sync/push");
    let bytes = raw(a.client.post(&url).bearer_auth(&a.token).json(&req)).await;
    let reply: PushResponse = assert_serde_shape(&bytes);
    let statuses: Vec<&str> = reply
        .results
        .iter()
        .map(|r| status_name(&r.status))
        .collect();
    let mut expected = vec!["applied"; batch.len() - 3];
    expected.extend(["rejected", "conflict", "duplicate"]);
    assert_eq!(statuses, expected);
    let applied = batch.len() - 3;
    // The whole batch again: every entry answered, the applied ones as duplicates.
    let again: PushResponse = assert_serde_shape(&raw(a.client.post(&url).bearer_auth(&a.token).json(&req)).await);
    assert!(again.results[..applied].iter().all(|r| r.status == MutationStatus::Duplicate));

    // Pulls by every page size: same changes, ascending, each page serde's bytes, and the
    // cursor/has_more of a page that ends exactly at the last change is right.
    let stored = server_records(&server.db, site).await;
    // w1 twice (its tombstone), m1 twice (correction): both once on the server.
    assert_eq!(stored.len(), applied - 2);
    let mut reader = Tablet::enrol(&server.base, &admin.code(site).await).await;
    for limit in [1u32, 2, 3, stored.len() as u32, stored.len() as u32 + 5] {
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let body = json!({"cursor": cursor, "limit": limit});
            let bytes = raw(reader.client.post(server.url("/api/v1/sync/pull")).bearer_auth(&reader.token).json(&body)).await;
            let page: PullResponse = assert_serde_shape(&bytes);
            pages += 1;
            assert!(page.changes.len() <= limit as usize);
            let last = page.changes.last().map(|c| c.server_seq);
            if let Some(last) = last {
                assert_eq!(page.next_cursor, format!("v1.{last}"));
            } else {
                assert_eq!(page.next_cursor, cursor.clone().unwrap_or_else(|| "v1.0".into()));
            }
            seen.extend(page.changes.iter().map(|c| (c.server_seq, c.record.clone())));
            cursor = Some(page.next_cursor);
            if !page.has_more {
                break;
            }
            assert_eq!(page.changes.len(), limit as usize, "a page with more after it is full");
        }
        assert_eq!(pages, stored.len().div_ceil(limit as usize).max(1), "limit {limit}");
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "ascending");
        assert_eq!(seen.len(), stored.len());
        for (_, r) in &seen {
            assert_eq!(&stored[&r.id()], r, "pulled record = stored record");
        }
    }
    // Past the end: an empty page keeps the cursor.
    let end = json!({"cursor": format!("v1.{}", 1_000_000), "limit": 10});
    let page: PullResponse =
        assert_serde_shape(&raw(reader.client.post(server.url("/api/v1/sync/pull")).bearer_auth(&reader.token).json(&end)).await);
    assert!(page.changes.is_empty() && !page.has_more && page.next_cursor == "v1.1000000");
    reader.pull_all(4).await;
    assert_eq!(reader.state(), server_state(&server.db, site).await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_replies_are_serde_bytes_on_every_database() {
    for backend in backends().await {
        wire(&backend).await;
    }
}
