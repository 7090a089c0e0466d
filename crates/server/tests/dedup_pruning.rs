//! Issue 11, item 15: the dedup table keeps per device only what a retry can still need (the keys
//! at or above its last batch's smallest seq): a retry is acknowledged from them, and a late copy
//! of a batch whose keys were pruned applies nothing twice.

mod common;

use assiette_domain::sync::{PushResponse, RecordPayload};
use assiette_domain::waste::Stage;
use assiette_server::db::Db;
use common::*;
use uuid::Uuid;

async fn scalar(db: &Db, sql: &'static str, id: Uuid) -> i64 {
    match db {
        Db::Sqlite(s) => sqlx::query_scalar(sql).bind(id.to_string()).fetch_one(&s.pool).await.unwrap(),
        Db::Postgres(s) => sqlx::query_scalar(sql).bind(id.to_string()).fetch_one(&s.pool).await.unwrap(),
    }
}

async fn keys_of(db: &Db, device: Uuid) -> i64 {
    scalar(db, "SELECT COUNT(*) FROM applied_mutations WHERE device_id = $1", device).await
}

async fn site_counter(db: &Db, site: Uuid) -> i64 {
    scalar(db, "SELECT change_seq FROM sites WHERE id = $1", site).await
}

fn statuses(body: serde_json::Value) -> Vec<&'static str> {
    let reply: PushResponse = serde_json::from_value(body).unwrap();
    reply.results.iter().map(|r| status_name(&r.status)).collect()
}

fn set_grams(r: &mut RecordPayload, grams: u64) {
    if let RecordPayload::Weighing(w) = r {
        w.mass_grams = grams;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_keys_are_pruned_and_late_copies_never_apply_twice() {
    for backend in backends().await {
        let name = backend.name;
        let server = TestServer::start(&backend.url).await;
        let admin = Admin::login(&server.base).await;
        let site = admin.create_site("76351", "Le Havre", &siret("2176035150011"), "École Saint-Exupéry").await;
        let mut t = Tablet::enrol(&server.base, &admin.code(site).await).await;

        // Batch A: three weighings and a correction of the first one (seqs 1 to 4).
        let x = t.weighing(day(1), Stage::Leftovers, 100);
        t.weighing(day(1), Stage::Unserved, 200);
        t.weighing(day(2), Stage::Leftovers, 300);
        t.correct(x, |r| set_grams(r, 150));
        let batch_a = t.batch(500);
        assert_eq!(t.push_once(500).await.acknowledged, 4, "{name}");
        assert_eq!(keys_of(&server.db, t.device_id).await, 4, "{name}");

        // Round after round, the device keeps the keys of its last batch only.
        for round in 0..5 {
            t.weighing(day(3 + round), Stage::Leftovers, 10);
            t.weighing(day(3 + round), Stage::Unserved, 20);
            assert_eq!(t.push_once(500).await.acknowledged, 2, "{name}");
        }
        assert_eq!(keys_of(&server.db, t.device_id).await, 2, "{name}: keys of the last batch only");
        t.pull_all(500).await;

        // A retry of what the tablet still holds (its last batch, reply lost) is answered from
        // the keys that were kept: acknowledged, nothing applied again.
        let y = t.weighing(day(9), Stage::Leftovers, 40);
        t.correct(y, |r| set_grams(r, 45));
        let lost = t.batch(500);
        let (s, body) = t.send_batch(&lost).await;
        assert_eq!(statuses(body), vec!["applied"; 2], "{name}");
        let records = server_records(&server.db, site).await;
        let counter = site_counter(&server.db, site).await;
        assert_eq!(s, 200);
        let got = t.push_once(500).await;
        assert_eq!((got.acknowledged, got.review), (2, 0), "{name}: the retry is acknowledged");
        assert_eq!(server_records(&server.db, site).await, records, "{name}: nothing written twice");
        assert_eq!(site_counter(&server.db, site).await, counter, "{name}: no change numbered twice");

        // A late copy of batch A (another window's request, read before its reply and sent
        // now): its keys are gone, yet nothing is applied twice. The unchanged records are
        // acknowledged; the first revision of x, superseded since, is a conflict with nothing
        // written (that window's tablet no longer holds the entry).
        let (s, body) = t.send_batch(&batch_a).await;
        assert_eq!(s, 200, "{name} {body}");
        assert_eq!(statuses(body), vec!["conflict", "duplicate", "duplicate", "duplicate"], "{name}");
        assert_eq!(server_records(&server.db, site).await, records, "{name}: nothing written");
        assert_eq!(site_counter(&server.db, site).await, counter, "{name}: no change numbered");
        t.weighing(day(10), Stage::Leftovers, 50);
        assert_eq!(t.push_once(500).await.acknowledged, 1, "{name}");
        assert_eq!(keys_of(&server.db, t.device_id).await, 1, "{name}: the late copy's keys went with the next push");

        let mut other = Tablet::enrol(&server.base, &admin.code(site).await).await;
        other.weighing(day(11), Stage::Leftovers, 60);
        other.sync().await;
        // A revoked tablet never pushes again: its keys go.
        assert!(keys_of(&server.db, other.device_id).await > 0);
        admin.revoke(other.device_id).await;
        assert_eq!(keys_of(&server.db, other.device_id).await, 0, "{name}");
        server.stop().await;
    }
}
