//! Fault tests over real HTTP, each on SQLite and (when configured) PostgreSQL. Each one checks:
//! nothing lost, nothing doubled, the same final state on the server and on both tablets.

mod common;

use assiette_domain::sync::{MutationStatus, PushResponse, RecordPayload};
use assiette_tablet::outbox::Review;
use assiette_domain::waste::Stage;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

/// A server, an admin, a site of the demo commune and two enrolled tablets.
async fn setup(backend: &Backend) -> (TestServer, Admin, Uuid, Tablet, Tablet) {
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    let site = admin.create_site("76351", "Le Havre", &siret("2176035150011"), "École Saint-Exupéry").await;
    let a = Tablet::enrol(&server.base, &admin.code(site).await).await;
    let b = Tablet::enrol(&server.base, &admin.code(site).await).await;
    (server, admin, site, a, b)
}

async fn converge(server: &TestServer, site: Uuid, a: &mut Tablet, b: &mut Tablet) {
    a.sync().await;
    b.sync().await;
    a.pull_all(500).await;
    let s = server_state(&server.db, site).await;
    assert_eq!(a.state(), s, "tablette A ≠ serveur");
    assert_eq!(b.state(), s, "tablette B ≠ serveur");
}

fn statuses(body: &Value) -> Vec<String> {
    let r: PushResponse = serde_json::from_value(body.clone()).unwrap();
    r.results
        .iter()
        .map(|r| status_name(&r.status).to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_lost_after_commit_is_replayed_as_duplicate() {
    for backend in backends().await {
        let (server, _admin, site, mut a, mut b) = setup(&backend).await;
        for i in 0..40 {
            a.weighing(day(i / 4), Stage::Leftovers, 1_000 + i as u64);
        }
        let batch = a.batch(100);
        // The server commits, the reply is lost: the tablet's outbox is untouched.
        let (s, first) = a.send_batch(&batch).await;
        assert_eq!(s, 200);
        assert!(statuses(&first).iter().all(|s| s == "applied"));
        assert_eq!(a.outbox.len(), 40);
        let before = server_records(&server.db, site).await;
        // The tablet sends the same batch again: all duplicates, nothing doubled.
        let (s, second) = a.send_batch(&batch).await;
        assert_eq!(s, 200);
        assert!(statuses(&second).iter().all(|s| s == "duplicate"), "{second}");
        let reply: PushResponse = serde_json::from_value(second).unwrap();
        let o = a.apply_reply(&batch, &reply);
        assert_eq!((o.acknowledged, o.review), (40, 0));
        assert!(a.outbox.is_empty());
        let after = server_records(&server.db, site).await;
        assert_eq!(after, before, "a replay changes nothing, not even timestamps");
        assert_eq!(after.len(), 40);
        converge(&server, site, &mut a, &mut b).await;
        assert_eq!(live_grams(b.local.values()), (0..40).map(|i| 1_000 + i).sum::<u64>());
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restarted_mid_sync_loses_and_doubles_nothing() {
    // In process: the server is dropped and the same database reopened between batches, with one
    // batch committed whose reply never arrived. (tests/sync_kill.rs kills a real process mid-batch.)
    for backend in backends().await {
        let (server, admin, site, mut a, mut b) = setup(&backend).await;
        for i in 0..300 {
            a.meal_count(day(i), 100 + i as u32);
        }
        assert_eq!(a.push_once(100).await.acknowledged, 100);
        let lost = a.batch(100);
        let (s, _) = a.send_batch(&lost).await;
        assert_eq!(s, 200);
        let admin_token = admin.token.clone();
        server.stop().await;
        // While it is down, the push fails and the outbox is kept.
        assert_eq!(a.outbox.len(), 200);
        assert_eq!(a.push_once(10).await.http_status, 0, "server down: nothing acknowledged");
        assert_eq!(a.outbox.len(), 200);
        let server = TestServer::serve(assiette_server::db::Db::open(&backend.url).await.unwrap()).await;
        a.base = server.base.clone();
        b.base = server.base.clone();
        // Tokens and sessions survive the restart.
        let (s, _) = send(http().get(server.url("/api/v1/admin/sites")).bearer_auth(&admin_token)).await;
        assert_eq!(s, 200);
        converge(&server, site, &mut a, &mut b).await;
        let records = server_records(&server.db, site).await;
        assert_eq!(records.len(), 300);
        assert!(a.review.is_empty());
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_batches() {
    for backend in backends().await {
        let (server, _admin, site, mut a, mut b) = setup(&backend).await;
        let mut ids = Vec::new();
        for i in 0..60 {
            ids.push(a.weighing(day(i % 5), Stage::Unserved, 500 + i as u64));
        }
        let all = a.batch(100);
        let (first, second) = all.split_at(30);
        // Second half first, then the first half twice, then the second half again.
        for batch in [second, first, first, second] {
            let (s, body) = a.send_batch(batch).await;
            assert_eq!(s, 200, "{body}");
        }
        // A batch duplicated inside itself.
        let doubled: Vec<_> = first.iter().chain(first.iter()).cloned().collect();
        let (_, body) = a.send_batch(&doubled).await;
        assert!(statuses(&body).iter().all(|s| s == "duplicate"));
        assert_eq!(server_records(&server.db, site).await.len(), 60);
        // A correction and a later one arrive in reverse order: the highest revision wins.
        a.outbox.clear();
        let id = ids[0];
        a.correct(id, |r| if let RecordPayload::Weighing(w) = r { w.mass_grams = 700 });
        a.correct(id, |r| if let RecordPayload::Weighing(w) = r { w.mass_grams = 900 });
        let corr = a.batch(10);
        let (_, body) = a.send_batch(&corr[1..]).await;
        assert_eq!(statuses(&body), vec!["applied"]);
        let (_, body) = a.send_batch(&corr[..1]).await;
        assert_eq!(statuses(&body), vec!["conflict"], "a stale revision is a conflict");
        let reply: PushResponse = serde_json::from_value(body).unwrap();
        match &reply.results[0].status {
            MutationStatus::Conflict { current } => assert_eq!(current.revision(), 3),
            s => panic!("{s:?}"),
        }
        a.outbox.clear();
        let server_w = server_records(&server.db, site).await;
        match &server_w[&id] {
            RecordPayload::Weighing(w) => assert_eq!((w.meta.revision, w.mass_grams), (3, 900)),
            r => panic!("{r:?}"),
        }
        converge(&server, site, &mut a, &mut b).await;
        assert_eq!(live_grams(b.local.values()), (0..60).map(|i| 500 + i).sum::<u64>() - 500 + 900);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tablets_writing_the_same_day() {
    for backend in backends().await {
        let (server, _admin, site, mut a, mut b) = setup(&backend).await;
        // Both weigh leftovers of the same day and both count: two records, both kept.
        a.weighing(day(3), Stage::Leftovers, 4_000);
        b.weighing(day(3), Stage::Leftovers, 2_500);
        a.meal_count(day(3), 120);
        b.meal_count(day(3), 20); // a second service typed on the other tablet
        converge(&server, site, &mut a, &mut b).await;
        assert_eq!(live_grams(a.local.values()), 6_500);
        assert_eq!(a.local.len(), 4);
        // Both correct the same record at the same revision: first wins, second gets a conflict.
        let shared = a.local.values().find(|r| matches!(r, RecordPayload::Weighing(w) if w.mass_grams == 4_000)).unwrap().id();
        a.correct(shared, |r| if let RecordPayload::Weighing(w) = r { w.mass_grams = 4_200 });
        b.correct(shared, |r| if let RecordPayload::Weighing(w) = r { w.mass_grams = 3_900 });
        a.sync().await;
        assert!(b.push_all(100).await);
        assert_eq!(b.review.len(), 1, "B's correction waits « à vérifier »");
        let (_, (mine, why)) = b.review.iter().next().unwrap();
        let current = match why {
            Review::Conflict { current } => current.clone(),
            r => panic!("{r:?}"),
        };
        assert_eq!(current.revision(), 2);
        assert!(matches!(&current, RecordPayload::Weighing(w) if w.mass_grams == 4_200));
        assert!(matches!(mine, RecordPayload::Weighing(w) if w.mass_grams == 3_900));
        // The manager keeps B's value: saved again as a new revision on top of the server's.
        b.local.insert(shared, current);
        b.review.clear();
        b.correct(shared, |r| if let RecordPayload::Weighing(w) = r { w.mass_grams = 3_900 });
        converge(&server, site, &mut a, &mut b).await;
        assert!(matches!(&a.local[&shared], RecordPayload::Weighing(w) if w.mass_grams == 3_900 && w.meta.revision == 3));
        assert_eq!(live_grams(a.local.values()), 3_900 + 2_500);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_days_offline_with_5000_pending_entries() {
    for backend in backends().await {
        let (server, _admin, site, mut a, mut b) = setup(&backend).await;
        let mut grams = 0;
        for i in 0..5_000u64 {
            let d = day((i % 30) as i64);
            if i % 10 == 0 {
                a.meal_count(d, 100 + (i % 50) as u32);
            } else {
                let g = 100 + i;
                grams += g;
                a.weighing(d, [Stage::Preparation, Stage::Unserved, Stage::Leftovers][(i % 3) as usize], g);
            }
        }
        let started = std::time::Instant::now();
        assert!(a.push_all(500).await);
        eprintln!("{} : 5 000 entrées poussées en {:?}", backend.name, started.elapsed());
        assert!(a.outbox.is_empty() && a.review.is_empty());
        let pulled = b.pull_all(1_000).await;
        assert_eq!(pulled, 5_000);
        assert_eq!(live_grams(b.local.values()), grams);
        converge(&server, site, &mut a, &mut b).await;
        assert_eq!(server_records(&server.db, site).await.len(), 5_000);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_revoked_mid_sync() {
    for backend in backends().await {
        let (server, admin, site, mut a, mut b) = setup(&backend).await;
        for i in 0..50 {
            a.weighing(day(i % 5), Stage::Leftovers, 1_000 + i as u64);
        }
        assert_eq!(a.push_once(20).await.acknowledged, 20);
        admin.revoke(a.device_id).await;
        let before = server_records(&server.db, site).await;
        let o = a.push_once(20).await;
        assert_eq!(o.http_status, 401);
        assert!(a.needs_enrolment);
        assert_eq!(a.outbox.len(), 30, "the outbox is kept");
        let (s, body) = a.send_batch(&a.batch(5)).await;
        assert_error(&(s, body), 401, "device_revoked");
        let pull = send(a.client.post(server.url("/api/v1/sync/pull")).bearer_auth(&a.token).json(&json!({}))).await;
        assert_error(&pull, 401, "device_revoked");
        assert_eq!(server_records(&server.db, site).await, before, "nothing applied after revocation");
        // B is not affected; A re-enrols with a new code and finishes.
        assert!(b.push_all(100).await);
        a.re_enrol(&admin.code(site).await).await;
        converge(&server, site, &mut a, &mut b).await;
        assert_eq!(server_records(&server.db, site).await.len(), 50);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversized_and_hostile_payloads_change_nothing() {
    for backend in backends().await {
        let (server, admin, site, mut a, mut b) = setup(&backend).await;
        a.weighing(day(1), Stage::Leftovers, 2_000);
        a.sync().await;
        let before = server_records(&server.db, site).await;
        let push = server.url("/api/v1/sync/push");
        let c = http();
        let auth = |r: reqwest::RequestBuilder| r.bearer_auth(&a.token);
        let json_ct = |r: reqwest::RequestBuilder| r.header("content-type", "application/json");

        // Invalid JSON, wrong content type, no token, unknown token.
        assert_error(&send(json_ct(auth(c.post(&push))).body("{\"device_id\": ")).await, 400, "invalid_json");
        assert_error(&send(auth(c.post(&push)).body("{}")).await, 415, "content_type");
        assert_error(&send(c.post(&push).json(&json!({}))).await, 401, "enrolment_required");
        assert_error(&send(c.post(&push).bearer_auth("asd_0000").json(&json!({}))).await, 401, "invalid_token");
        // A person's session syncs only from a browser it registered, never as a tablet.
        let as_tablet = json!({"device_id": a.device_id, "mutations": []});
        assert_error(&send(c.post(&push).bearer_auth(&admin.token).json(&as_tablet)).await, 403, "device_mismatch");
        // Shape errors: missing fields, unknown kind, negative or huge numbers.
        let w = serde_json::to_value(weighing(site, day(1), Stage::Leftovers, 10)).unwrap();
        let mut bad_kind = w.clone();
        bad_kind["kind"] = json!("invoice");
        let mut negative = w.clone();
        negative["mass_grams"] = json!(-5);
        let mut huge = w.clone();
        huge["mass_grams"] = json!(1e30);
        let mut too_big_int = w.clone();
        too_big_int["mass_grams"] = serde_json::from_str("123456789012345678901234567890").unwrap();
        for (what, body) in [
            ("champ manquant", json!({"device_id": a.device_id})),
            ("type inconnu", json!({"device_id": a.device_id, "mutations": [{"seq": 1, "record": bad_kind}]})),
            ("masse négative", json!({"device_id": a.device_id, "mutations": [{"seq": 1, "record": negative}]})),
            ("masse 1e30", json!({"device_id": a.device_id, "mutations": [{"seq": 1, "record": huge}]})),
            ("entier géant", json!({"device_id": a.device_id, "mutations": [{"seq": 1, "record": too_big_int}]})),
            ("seq négatif", json!({"device_id": a.device_id, "mutations": [{"seq": -1, "record": w}]})),
            ("pas une liste", json!({"device_id": a.device_id, "mutations": "DROP TABLE records"})),
        ] {
            let got = send(auth(c.post(&push)).json(&body)).await;
            assert_error(&got, 422, "invalid_data");
            assert!(got.1["error"].as_str().unwrap().starts_with("Données refusées"), "{what}");
        }
        // Another device's id in the body.
        assert_error(&send(auth(c.post(&push)).json(&json!({"device_id": b.device_id, "mutations": []}))).await, 403, "device_mismatch");
        // Oversized body (3 MB) and too many mutations.
        let big = format!("{{\"device_id\": \"{}\", \"mutations\": [], \"pad\": \"{}\"}}", a.device_id, "x".repeat(3 * 1024 * 1024));
        let got = send(json_ct(auth(c.post(&push))).body(big)).await;
        assert_error(&got, 413, "payload_too_large");
        assert!(got.1["error"].as_str().unwrap().contains("trop volumineuse"));
        let many: Vec<Value> = (1..=1001).map(|i| json!({"seq": i, "record": w})).collect();
        assert_error(&send(auth(c.post(&push)).json(&json!({"device_id": a.device_id, "mutations": many}))).await, 413, "batch_too_large");
        // Tampered cursor.
        let pull = server.url("/api/v1/sync/pull");
        assert_error(&send(auth(c.post(&pull)).json(&json!({"cursor": "v1.-5"}))).await, 400, "invalid_cursor");
        assert_error(&send(auth(c.post(&pull)).json(&json!({"cursor": "' OR 1=1 --"}))).await, 400, "invalid_cursor");
        // Unknown API path: JSON 404, not the app's index.html.
        assert_error(&send(c.get(server.url("/api/v1/nope"))).await, 404, "not_found");
        assert_eq!(server_records(&server.db, site).await, before, "no state change");

        // Well-formed but refused mutations: per-mutation French reasons, nothing written.
        let other_site = admin.create_site("76351", "Le Havre", &siret("2176035150029"), "École Voltaire").await;
        let mut future = weighing(site, day(1), Stage::Leftovers, 10);
        if let RecordPayload::Weighing(w) = &mut future {
            w.service_date = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
        }
        let mut max_rev = weighing(site, day(1), Stage::Leftovers, 10);
        max_rev.meta_mut().revision = u64::MAX;
        let refused = [
            weighing(other_site, day(1), Stage::Leftovers, 10),
            meal_count(other_site, day(1), 10),
            weighing(site, day(1), Stage::Leftovers, 20_000_000),
            future,
            max_rev,
        ];
        let muts: Vec<Value> = refused.iter().enumerate().map(|(i, r)| json!({"seq": 1000 + i, "record": r})).collect();
        let (s, body) = send(auth(c.post(&push)).json(&json!({"device_id": a.device_id, "mutations": muts}))).await;
        assert_eq!(s, 200);
        let reply: PushResponse = serde_json::from_value(body).unwrap();
        for r in &reply.results {
            match &r.status {
                MutationStatus::Rejected { reason, .. } => assert!(reason.len() > 20, "{reason}"),
                s => panic!("expected rejected, got {s:?}"),
            }
        }
        let (s, body) = send(auth(c.post(&push)).json(&json!({"device_id": a.device_id, "mutations": [{"seq": u64::MAX, "record": w}]}))).await;
        assert_eq!(s, 200);
        assert_eq!(statuses(&body), vec!["rejected"]);
        assert_eq!(server_records(&server.db, site).await, before, "no state change");
        assert!(server_records(&server.db, other_site).await.is_empty(), "nothing written to the other site");

        // SQL-looking text is data: stored verbatim, the tables are intact.
        let sneaky = "Robert'); DROP TABLE records; --";
        let purchase: RecordPayload = serde_json::from_value(json!({
            "kind": "purchase",
            "meta": {"id": Uuid::now_v7(), "revision": 1, "modified_at": "2025-09-01T10:00:00Z"},
            "siret": a.site.siret, "description": sneaky, "fournisseur": "Ferme d'Octeville", "date": "2025-09-01",
            "prix_ht_cents": 12_50, "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": ["BIO"]
        }))
        .unwrap();
        a.save(purchase.clone());
        converge(&server, site, &mut a, &mut b).await;
        match &server_records(&server.db, site).await[&purchase.id()] {
            RecordPayload::Purchase(p) => assert_eq!(p.description, sneaky),
            r => panic!("{r:?}"),
        }
        assert_eq!(server_records(&server.db, site).await.len(), 2);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_never_reads_or_writes_another_site() {
    for backend in backends().await {
        let (server, admin, site, mut a, _b) = setup(&backend).await;
        let other = admin.create_site("76447", "Montivilliers", &siret("2176044710001"), "École Jules Ferry").await;
        let mut c = Tablet::enrol(&server.base, &admin.code(other).await).await;
        let secret = c.weighing(day(2), Stage::Leftovers, 7_777);
        c.sync().await;
        a.weighing(day(2), Stage::Leftovers, 1_111);
        a.sync().await;
        // A's pull never shows C's site; C's never shows A's.
        assert!(!a.local.contains_key(&secret));
        assert!(a.local.values().all(|r| matches!(r, RecordPayload::Weighing(w) if w.site_id == site)));
        assert_eq!(c.local.len(), 1);
        // A tries to overwrite C's record with a higher revision, stamped with either site.
        let mut stolen = c.local[&secret].clone();
        stolen.meta_mut().revision = 5;
        let mut relabelled = stolen.clone();
        if let RecordPayload::Weighing(w) = &mut relabelled {
            w.site_id = site;
            w.mass_grams = 1;
        }
        for (i, r) in [stolen, relabelled].into_iter().enumerate() {
            let (s, body) = a.send_batch(&[assiette_domain::sync::Mutation { seq: 900 + i as u64, record: r }]).await;
            assert_eq!(s, 200);
            let reply: PushResponse = serde_json::from_value(body).unwrap();
            match &reply.results[0].status {
                MutationStatus::Rejected { reason, .. } => assert!(!reason.contains("7"), "no leak: {reason}"),
                s => panic!("{s:?}"),
            }
        }
        let theirs = server_records(&server.db, other).await;
        assert!(matches!(&theirs[&secret], RecordPayload::Weighing(w) if w.mass_grams == 7_777 && w.meta.revision == 1));
        // A purchase for another SIRET is refused too.
        let purchase: RecordPayload = serde_json::from_value(json!({
            "kind": "purchase", "meta": {"id": Uuid::now_v7(), "revision": 1, "modified_at": "2025-09-01T10:00:00Z"},
            "siret": c.site.siret, "description": "Yaourts", "fournisseur": "Laiterie", "date": "2025-09-01",
            "prix_ht_cents": 900, "famille_produits": "PRODUITS_LAITIERS", "caracteristiques": []
        }))
        .unwrap();
        let (_, body) = a.send_batch(&[assiette_domain::sync::Mutation { seq: 950, record: purchase }]).await;
        assert_eq!(statuses(&body), vec!["rejected"]);
        assert_eq!(server_records(&server.db, other).await.len(), 1);
        // Device tokens don't open the admin API.
        let (s, _) = send(http().get(server.url("/api/v1/admin/sites")).bearer_auth(&a.token)).await;
        assert_eq!(s, 401);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_refusals_are_french_and_codes_expire() {
    let backend = sqlite_backend();
    let server = TestServer::start(&backend.url).await;
    let c = http();
    let bad = send(c.post(server.url("/api/v1/admin/login")).json(&json!({"email": ADMIN_EMAIL, "password": "mauvais mot de passe"}))).await;
    assert_error(&bad, 401, "login_refused");
    let unknown = send(c.post(server.url("/api/v1/admin/login")).json(&json!({"email": "x@y.fr", "password": ADMIN_PASSWORD}))).await;
    assert_error(&unknown, 401, "login_refused");
    assert_error(&send(c.get(server.url("/api/v1/admin/sites"))).await, 401, "admin_login_required");
    let admin = Admin::login(&server.base).await;
    assert_error(&admin.post("/api/v1/admin/communes", json!({"insee_code": "7635", "name": "X"})).await, 422, "invalid_commune");
    assert_error(&admin.post("/api/v1/admin/communes", json!({"insee_code": "76351", "name": "Le Havre"})).await, 409, "commune_exists");
    let site = json!({"name": "École", "siret": "12345678901234", "commune_insee": "76351", "management_type": "direct",
                      "production_type": "site", "sectors": ["education_primaire"], "daily_meal_count": 100, "yearly_meal_count": 14000});
    let got = admin.post("/api/v1/admin/sites", site.clone()).await;
    assert_error(&got, 422, "invalid_site");
    assert_eq!(got.1["errors"][0]["field"], "siret");
    let mut dup = site.clone();
    dup["siret"] = json!(assiette_server::db::DEMO_SITE_SIRET);
    assert_error(&admin.post("/api/v1/admin/sites", dup).await, 409, "site_exists");
    let mut no_commune = site.clone();
    no_commune["siret"] = json!(siret("2176099990001"));
    no_commune["commune_insee"] = json!("76999");
    assert_error(&admin.post("/api/v1/admin/sites", no_commune).await, 422, "unknown_commune");
    let demo = assiette_server::db::DEMO_SITE_ID;
    assert_error(
        &admin.post(&format!("/api/v1/admin/sites/{demo}/enrolment-codes"), json!({"valid_hours": 10_000})).await,
        422,
        "invalid_validity",
    );
    assert_error(&admin.post("/api/v1/admin/sites/pas-un-uuid/enrolment-codes", json!({})).await, 400, "invalid_id");
    assert_error(&admin.post(&format!("/api/v1/admin/sites/{}/enrolment-codes", Uuid::now_v7()), json!({})).await, 404, "unknown_site");
    assert_error(&admin.post(&format!("/api/v1/admin/devices/{}/revoke", Uuid::now_v7()), json!({})).await, 404, "unknown_device");
    // An expired code is refused; a mistyped one says what is wrong.
    let now = chrono::Utc::now();
    let code = "ABCD-EFGH";
    server
        .db
        .create_enrolment_code(&server.db.code_hash(code), demo, None, now - chrono::Duration::hours(2), now - chrono::Duration::hours(1))
        .await
        .unwrap();
    use assiette_server::store::Store;
    assert_error(&send(c.post(server.url("/api/v1/enrol")).json(&json!({"code": "abcd efgh"}))).await, 401, "enrolment_code_refused");
    assert_error(&send(c.post(server.url("/api/v1/enrol")).json(&json!({"code": "ABCD-EFG0"}))).await, 422, "invalid_enrolment_code");
    // Typed in lower case with spaces, a live code works.
    let live = admin.code(demo).await;
    let t = Tablet::enrol(&server.base, &live.to_lowercase().replace('-', " ")).await;
    assert_eq!(t.site.id, demo);
    assert_eq!(t.site.name, "École des Tilleuls");
    // Logout ends the session.
    let (s, _) = send(c.post(server.url("/api/v1/admin/logout")).bearer_auth(&admin.token)).await;
    assert_eq!(s, 204);
    assert_error(&admin.get("/api/v1/admin/sites").await, 401, "admin_session_expired");
    // The OpenAPI document and gzip.
    let res = c.get(server.url("/api/v1/openapi.json")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let (s, doc) = send(c.get(server.url("/api/v1/openapi.json"))).await;
    assert_eq!(s, 200);
    let paths: std::collections::BTreeSet<&str> = assiette_server::api::ROUTES.iter().map(|(_, p)| *p).collect();
    assert_eq!(doc["paths"].as_object().unwrap().len(), paths.len());
    // The app is still served, with its fallback.
    let res = c.get(server.url("/jour/2025-09-01")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Assiette"));
    server.stop().await;
}
