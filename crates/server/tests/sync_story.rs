//! The sync story over real HTTP, on SQLite and (when configured) PostgreSQL: the metropolis
//! registers a commune and a canteen, issues codes, two tablets enrol, push, pull, correct and
//! delete, and every party ends with the same records.

mod common;

use assiette_domain::sync::RecordPayload;
use assiette_domain::waste::Stage;
use common::*;
use serde_json::json;

async fn story(backend: &Backend) {
    eprintln!("== histoire de synchronisation sur {} ==", backend.name);
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;

    // The metropolis registers Montivilliers and its canteen, then issues two codes.
    let site_siret = siret("2176044710001");
    let site = admin.create_site("76447", "Montivilliers", &site_siret, "École Jules Ferry").await;
    let (s, sites) = admin.get("/api/v1/admin/sites").await;
    assert_eq!(s, 200);
    assert!(sites.as_array().unwrap().iter().any(|x| x["id"] == site.to_string() && x["commune_name"] == "Montivilliers"));
    let code_a = admin.code(site).await;
    let code_b = admin.code(site).await;
    assert_ne!(code_a, code_b);

    // Tablet A enrols: it learns the site's UUID, name and SIRET to stamp its records.
    let mut a = Tablet::enrol(&server.base, &code_a).await;
    assert_eq!(a.site.id, site);
    assert_eq!(a.site.siret, site_siret);
    assert_eq!(a.site.commune_insee, "76447");
    // A code is single-use.
    let again = send(http().post(server.url("/api/v1/enrol")).json(&json!({"code": code_a}))).await;
    assert_error(&again, 401, "enrolment_code_refused");

    // A records a day: a meal count and two weighings, then syncs.
    let count = a.meal_count(day(0), 118);
    let w1 = a.weighing(day(0), Stage::Leftovers, 6_250);
    let w2 = a.weighing(day(0), Stage::Unserved, 3_100);
    a.sync().await;
    assert!(a.outbox.is_empty() && a.review.is_empty());
    assert_eq!(server_state(&server.db, site).await, a.state());
    // The server stamped its timestamps, and the tablet holds them (its pull brought the server's copies).
    let on_server = server_records(&server.db, site).await;
    for id in [count, w1, w2] {
        assert!(on_server[&id].meta().server_updated_at.is_some());
        assert_eq!(on_server[&id].meta().server_updated_at, a.local[&id].meta().server_updated_at);
    }

    // Tablet B enrols and sees A's entries.
    let mut b = Tablet::enrol(&server.base, &code_b).await;
    assert_ne!(b.device_id, a.device_id);
    assert_eq!(b.pull_all(2).await, 3, "B pulls the 3 entries in pages of 2");
    assert_eq!(b.state(), a.state());
    assert_eq!(live_grams(b.local.values()), 9_350);

    // B weighs the same day (both count), A corrects its leftovers weighing (revision 2).
    let w3 = b.weighing(day(0), Stage::Leftovers, 1_000);
    b.sync().await;
    a.correct(w1, |r| {
        if let RecordPayload::Weighing(w) = r {
            w.mass_grams = 6_500;
        }
    });
    a.sync().await;
    b.sync().await;
    assert_eq!(a.state(), b.state());
    assert_eq!(server_state(&server.db, site).await, a.state());
    assert_eq!(live_grams(a.local.values()), 6_500 + 3_100 + 1_000);
    assert_eq!(b.local[&w1].revision(), 2);
    assert_eq!(b.local[&w3].revision(), 1);

    // B deletes A's unserved weighing: a tombstone revision travels to A.
    b.delete(w2);
    b.sync().await;
    a.sync().await;
    assert!(a.local[&w2].is_deleted() && a.local[&w2].revision() == 2);
    assert_eq!(a.state(), b.state());
    assert_eq!(server_state(&server.db, site).await, a.state());
    assert_eq!(live_grams(a.local.values()), 6_500 + 1_000);
    assert_eq!(live_grams(server_records(&server.db, site).await.values()), 6_500 + 1_000);

    // A pull with an up-to-date cursor returns nothing more.
    assert_eq!(a.pull_all(100).await, 0);

    // The administrator sees both tablets.
    let (s, devices) = admin.get(&format!("/api/v1/admin/sites/{site}/devices")).await;
    assert_eq!(s, 200);
    assert_eq!(devices.as_array().unwrap().len(), 2);
    assert!(devices.as_array().unwrap().iter().all(|d| d["last_seen_at"].is_string() && d["revoked_at"].is_null()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_story_on_every_database() {
    for backend in backends().await {
        story(&backend).await;
    }
}
