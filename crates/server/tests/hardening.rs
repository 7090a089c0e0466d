//! Issue 11's server holes, each closed and proven over real HTTP on SQLite and (when
//! configured) PostgreSQL: what a clumsy or hostile tablet sends is refused per mutation, with a
//! French reason, and never stalls the rest of a batch.

mod common;

use assiette_domain::sync::{MutationStatus, PushResponse, RecordPayload};
use assiette_domain::waste::Stage;
use assiette_server::db::Db;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

/// A server, a site of Le Havre and one enrolled tablet.
async fn setup(backend: &Backend) -> (TestServer, Admin, Uuid, Tablet) {
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    let site = admin.create_site("76351", "Le Havre", &siret("2176035150011"), "École Saint-Exupéry").await;
    let a = Tablet::enrol(&server.base, &admin.code(site).await).await;
    (server, admin, site, a)
}

/// Pushes raw JSON mutations (what a tablet's serde would never write); the reply's results.
async fn push_raw(a: &Tablet, mutations: Vec<Value>) -> Vec<MutationStatus> {
    let (s, body) = send(
        a.client
            .post(format!("{}/api/v1/sync/push", a.base))
            .bearer_auth(&a.token)
            .json(&json!({"device_id": a.device_id, "mutations": mutations})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let reply: PushResponse = serde_json::from_value(body).unwrap();
    assert_eq!(reply.results.len(), mutations.len());
    reply.results.into_iter().map(|r| r.status).collect()
}

fn rejected_reason(status: &MutationStatus) -> &str {
    match status {
        MutationStatus::Rejected { reason, .. } => reason,
        s => panic!("expected rejected, got {s:?}"),
    }
}

fn value(r: &RecordPayload) -> Value {
    serde_json::to_value(r).unwrap()
}

/// Writes a row straight into `records`, as an older server version could have stored it.
async fn insert_raw_record(db: &Db, kind: &str, id: Uuid, site: Uuid, revision: i64, change_seq: i64, body: &str) {
    let sql = format!(
        "INSERT INTO records (id, site_id, kind, revision, deleted, change_seq, server_updated_at, device_id, body) \
         VALUES ($1, $2, '{kind}', $3, $4, $5, '2026-01-01T00:00:00.000000Z', 'old-server', $6)"
    );
    match db {
        Db::Sqlite(s) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(site.to_string())
            .bind(revision)
            .bind(false)
            .bind(change_seq)
            .bind(body)
            .execute(&s.pool)
            .await
            .map(|_| ()),
        Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(site.to_string())
            .bind(revision)
            .bind(false)
            .bind(change_seq)
            .bind(body)
            .execute(&p.pool)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

/// Item 1: a timestamp or a date far from today is refused at the door, deletions included;
/// a stored row that cannot be read refuses only its own mutations, never the whole batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_timestamps_are_refused_and_an_unreadable_row_refuses_only_its_mutations() {
    for backend in backends().await {
        eprintln!("== {} ==", backend.name);
        let (server, _admin, site, a) = setup(&backend).await;
        let mut mutations = Vec::new();
        let far = ["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59", "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z"];
        for (i, at) in far.iter().enumerate() {
            let mut w = value(&weighing(site, day(1), Stage::Leftovers, 1_000));
            w["meta"]["modified_at"] = json!(at);
            let mut tomb = w.clone();
            tomb["meta"]["id"] = json!(Uuid::now_v7());
            tomb["meta"]["deleted"] = json!(true);
            tomb["meta"]["revision"] = json!(2);
            mutations.push(json!({"seq": 1 + i, "record": w}));
            mutations.push(json!({"seq": 11 + i, "record": tomb}));
        }
        // Dates in year 0: a purchase, a meal count.
        let purchase = json!({
            "kind": "purchase", "meta": {"id": Uuid::now_v7(), "revision": 1, "modified_at": "2025-09-01T10:00:00Z"},
            "siret": a.site.siret, "description": "Pommes", "fournisseur": "Ferme", "date": "0000-01-01",
            "prix_ht_cents": 1250, "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": []
        });
        let mut count = value(&meal_count(site, day(1), 100));
        count["service_date"] = json!("0000-01-01");
        mutations.push(json!({"seq": 21, "record": purchase}));
        mutations.push(json!({"seq": 22, "record": count}));
        let results = push_raw(&a, mutations).await;
        for (i, r) in results.iter().enumerate() {
            let reason = rejected_reason(r);
            if i < 8 {
                assert!(reason.contains("Réglez la date et l'heure de la tablette"), "{reason}");
                assert!(reason.contains("entre 2000 et 2100"), "{reason}");
            } else {
                assert!(reason.contains("trop ancienne"), "{reason}");
            }
        }
        assert!(server_records(&server.db, site).await.is_empty(), "nothing stored");

        // A row stored by an older version with a timestamp its reader refuses.
        let poisoned = Uuid::now_v7();
        let mut body = value(&weighing(site, day(2), Stage::Leftovers, 3_000));
        body["meta"]["id"] = json!(poisoned);
        body["meta"]["modified_at"] = json!("-0001-12-31T23:00:00Z");
        insert_raw_record(&server.db, "weighing", poisoned, site, 1, 1_000_000, &body.to_string()).await;
        let mut correction = value(&weighing(site, day(2), Stage::Leftovers, 2_500));
        correction["meta"]["id"] = json!(poisoned);
        correction["meta"]["revision"] = json!(2);
        let mut deletion = correction.clone();
        deletion["meta"]["revision"] = json!(3);
        deletion["meta"]["deleted"] = json!(true);
        let before = weighing(site, day(2), Stage::Unserved, 1_200);
        let after = weighing(site, day(3), Stage::Unserved, 800);
        let results = push_raw(
            &a,
            vec![
                json!({"seq": 31, "record": value(&before)}),
                json!({"seq": 32, "record": correction}),
                json!({"seq": 33, "record": deletion}),
                json!({"seq": 34, "record": value(&after)}),
            ],
        )
        .await;
        assert!(matches!(results[0], MutationStatus::Applied { .. }), "{:?}", results[0]);
        assert!(matches!(results[3], MutationStatus::Applied { .. }), "{:?}", results[3]);
        for r in &results[1..3] {
            let reason = rejected_reason(r);
            assert!(reason.contains("illisible") && reason.contains(&poisoned.to_string()), "{reason}");
        }
        // The metropolis repairs it (`assiette-server repair-records --apply`); the tablet's
        // correction and deletion, sent again, then go through.
        let listed = assiette_server::repair::repair_records(&server.db, false).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, poisoned.to_string());
        assert!(listed[0].repaired.is_ok());
        assert_eq!(assiette_server::repair::repair_records(&server.db, true).await.unwrap().len(), 1);
        assert!(assiette_server::repair::repair_records(&server.db, false).await.unwrap().is_empty());
        let mut correction = value(&weighing(site, day(2), Stage::Leftovers, 2_500));
        correction["meta"]["id"] = json!(poisoned);
        correction["meta"]["revision"] = json!(2);
        let results = push_raw(&a, vec![json!({"seq": 35, "record": correction})]).await;
        assert!(matches!(results[0], MutationStatus::Applied { .. }), "{:?}", results[0]);
        assert_eq!(server_records(&server.db, site).await.len(), 3);
        server.stop().await;
    }
}

/// Item 5: a deletion stores only what a deletion needs. Over a stored record, the tombstone's
/// meta goes on the stored (validated) content, whatever else it carries; a tombstone of an id
/// the server never had is validated like any record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_keep_only_what_a_deletion_needs() {
    for backend in backends().await {
        eprintln!("== {} ==", backend.name);
        let (server, _admin, site, mut a) = setup(&backend).await;
        let w = a.weighing(day(1), Stage::Leftovers, 2_000);
        let purchase: RecordPayload = serde_json::from_value(json!({
            "kind": "purchase", "meta": {"id": Uuid::now_v7(), "revision": 1, "modified_at": "2025-09-01T10:00:00Z"},
            "siret": a.site.siret, "description": "Pommes", "fournisseur": "Ferme d'Octeville", "date": "2025-09-01",
            "prix_ht_cents": 1250, "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": ["BIO"]
        }))
        .unwrap();
        a.save(purchase.clone());
        a.sync().await;
        let stored = server_records(&server.db, site).await;

        // Deletions carrying hostile content: an absurd mass, a huge text, a negative price, year 0.
        let mut w_tomb = value(&stored[&w]);
        w_tomb["meta"]["revision"] = json!(2);
        w_tomb["meta"]["deleted"] = json!(true);
        w_tomb["mass_grams"] = json!(u64::MAX);
        w_tomb["service_date"] = json!("0000-01-01");
        let mut p_tomb = value(&stored[&purchase.id()]);
        p_tomb["meta"]["revision"] = json!(2);
        p_tomb["meta"]["deleted"] = json!(true);
        p_tomb["description"] = json!("x".repeat(200_000));
        p_tomb["prix_ht_cents"] = json!(-5);
        p_tomb["date"] = json!("0000-01-01");
        // Tombstones of ids never seen: invalid content refused, valid content stored.
        let mut unknown_bad = value(&weighing(site, day(2), Stage::Leftovers, 1_000));
        unknown_bad["meta"]["revision"] = json!(2);
        unknown_bad["meta"]["deleted"] = json!(true);
        unknown_bad["mass_grams"] = json!(u64::MAX);
        let mut unknown_ok = value(&weighing(site, day(2), Stage::Leftovers, 1_000));
        unknown_ok["meta"]["revision"] = json!(2);
        unknown_ok["meta"]["deleted"] = json!(true);
        let results = push_raw(
            &a,
            vec![
                json!({"seq": 101, "record": w_tomb}),
                json!({"seq": 102, "record": p_tomb}),
                json!({"seq": 103, "record": unknown_bad}),
                json!({"seq": 104, "record": unknown_ok.clone()}),
            ],
        )
        .await;
        assert!(matches!(results[0], MutationStatus::Applied { .. }), "{:?}", results[0]);
        assert!(matches!(results[1], MutationStatus::Applied { .. }), "{:?}", results[1]);
        assert!(rejected_reason(&results[2]).contains("masse impossible"), "{:?}", results[2]);
        assert!(matches!(results[3], MutationStatus::Applied { .. }), "{:?}", results[3]);

        let after = server_records(&server.db, site).await;
        match (&after[&w], &stored[&w]) {
            (RecordPayload::Weighing(t), RecordPayload::Weighing(s)) => {
                assert!(t.meta.deleted && t.meta.revision == 2);
                assert_eq!((t.mass_grams, t.service_date), (s.mass_grams, s.service_date), "the stored content, not the sent one");
            }
            r => panic!("{r:?}"),
        }
        match (&after[&purchase.id()], &stored[&purchase.id()]) {
            (RecordPayload::Purchase(t), RecordPayload::Purchase(s)) => {
                assert!(t.meta.deleted && t.meta.revision == 2);
                assert_eq!((&t.description, t.price_cents, t.date), (&s.description, s.price_cents, s.date));
            }
            r => panic!("{r:?}"),
        }
        assert_eq!(after.len(), 3, "the refused tombstone is not stored");
        // The same deletion sent again (any content) is a duplicate, not a conflict.
        let mut again = value(&stored[&w]);
        again["meta"]["revision"] = json!(2);
        again["meta"]["deleted"] = json!(true);
        again["mass_grams"] = json!(7);
        let results = push_raw(&a, vec![json!({"seq": 105, "record": again})]).await;
        assert_eq!(results, vec![MutationStatus::Duplicate]);
        // Tablets pull the deletions as the server keeps them.
        a.pull_all(500).await;
        assert_eq!(a.state(), server_state(&server.db, site).await);
        server.stop().await;
    }
}

fn purchase_json(siret: &str, f: impl FnOnce(&mut Value)) -> Value {
    let mut p = json!({
        "kind": "purchase", "meta": {"id": Uuid::now_v7(), "revision": 1, "modified_at": "2025-09-01T10:00:00Z"},
        "siret": siret, "description": "Pommes", "fournisseur": "Ferme d'Octeville", "date": "2025-09-01",
        "prix_ht_cents": 1250, "famille_produits": "FRUITS_ET_LEGUMES", "caracteristiques": []
    });
    f(&mut p);
    p
}

/// Items 7 and 4: texts that should never be stored (controls, escapes, bidi overrides, line
/// separators, unbounded lengths), a SIRET that is not 14 digits, numbers beyond what every
/// JSON reader reads exactly: refused with French messages saying what to fix. Pull pages are
/// bounded by bytes as well as rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_texts_and_numbers_are_refused_and_pages_are_bounded_by_bytes() {
    for backend in backends().await {
        eprintln!("== {} ==", backend.name);
        let (server, admin, site, a) = setup(&backend).await;
        let site_siret = a.site.siret.clone();
        let safe_max = (1u64 << 53) - 1;
        let cases: Vec<(Value, &str)> = vec![
            (purchase_json(&site_siret, |p| p["description"] = json!("Pommes\u{0}")), "caractère nul, U+0000"),
            (purchase_json(&site_siret, |p| p["description"] = json!("Pommes\u{1b}[2J")), "caractère d'échappement, U+001B"),
            (purchase_json(&site_siret, |p| p["description"] = json!("Pommes \u{202e}oib")), "U+202E"),
            (purchase_json(&site_siret, |p| p["description"] = json!("Pommes\u{2066}bio\u{2069}")), "U+2066"),
            (purchase_json(&site_siret, |p| p["description"] = json!("Pommes\u{2028}bio")), "séparateur de ligne, U+2028"),
            (purchase_json(&site_siret, |p| p["description"] = json!("Pommes\nbio")), "retour à la ligne"),
            (purchase_json(&site_siret, |p| p["description"] = json!("é".repeat(501))), "501 caractères : 500 au plus"),
            (purchase_json(&site_siret, |p| p["fournisseur"] = json!("Ferme\u{9b}31m")), "U+009B"),
            (purchase_json(&site_siret, |p| p["fournisseur"] = json!("y".repeat(201))), "201 caractères : 200 au plus"),
            (purchase_json(&site_siret, |p| p["siret"] = json!(format!("{}\t{}", &site_siret[..7], &site_siret[7..]))), "exactement 14 chiffres"),
            (purchase_json(&site_siret, |p| p["prix_ht_cents"] = json!(1u64 << 53)), "Prix HT impossible"),
            (purchase_json(&site_siret, |p| p["date"] = json!("0000-01-01")), "trop ancienne"),
            (purchase_json(&site_siret, |p| p["meta"]["revision"] = json!(1u64 << 53)), "Révision"),
        ];
        let mut mutations: Vec<Value> = cases.iter().enumerate().map(|(i, (r, _))| json!({"seq": 1 + i, "record": r})).collect();
        mutations.push(json!({"seq": 1u64 << 53, "record": purchase_json(&site_siret, |_| {})}));
        let results = push_raw(&a, mutations).await;
        for (i, (_, expected)) in cases.iter().enumerate() {
            let reason = rejected_reason(&results[i]);
            assert!(reason.contains(expected), "case {i}: {reason}");
            assert!(!reason.contains('\u{1b}') && !reason.contains('\u{202e}') && !reason.contains('\u{0}'), "{reason}");
        }
        assert!(rejected_reason(&results[cases.len()]).contains("séquence"));
        assert!(server_records(&server.db, site).await.is_empty(), "nothing stored");
        // At the limits, accents and typographic spaces: stored.
        let fine = [
            purchase_json(&site_siret, |p| {
                p["description"] = json!(format!("Crème fraîche « bio »\u{a0}35\u{202f}% {}", "é".repeat(470)));
                p["fournisseur"] = json!("ü".repeat(200));
                p["prix_ht_cents"] = json!(safe_max);
                p["meta"]["revision"] = json!(safe_max);
            }),
        ];
        let results = push_raw(&a, vec![json!({"seq": safe_max, "record": fine[0]})]).await;
        assert!(matches!(results[0], MutationStatus::Applied { .. }), "{:?}", results[0]);

        // Commune and canteen names, tablet labels: the same rules through the admin API.
        let got = admin.post("/api/v1/admin/communes", json!({"insee_code": "76447", "name": "Montivilliers\u{1b}[31m"})).await;
        assert_error(&got, 422, "invalid_commune");
        assert!(got.1["error"].as_str().unwrap().contains("U+001B"), "{}", got.1);
        assert_error(&admin.post("/api/v1/admin/communes", json!({"insee_code": "76447", "name": "M".repeat(101)})).await, 422, "invalid_commune");
        let got = admin
            .post(
                "/api/v1/admin/sites",
                json!({"name": "École \u{202e}yrref", "siret": siret("2176035150029"), "commune_insee": "76351", "management_type": "direct",
                       "production_type": "site", "sectors": ["education_primaire"], "daily_meal_count": 100, "yearly_meal_count": 14000}),
            )
            .await;
        assert_error(&got, 422, "invalid_site");
        let code_path = format!("/api/v1/admin/sites/{site}/enrolment-codes");
        assert_error(&admin.post(&code_path, json!({"label": "Tablette\u{2028}cuisine"})).await, 422, "invalid_label");
        let code = admin.code(site).await;
        let got = send(http().post(server.url("/api/v1/enrol")).json(&json!({"code": code, "label": "Cuisine\u{202e}"}))).await;
        assert_error(&got, 422, "invalid_label");

        // Pull pages: rows stored before these limits (three of 300 KB, one of 1.5 MB, ten small).
        let other = admin.create_site("76447", "Montivilliers", &siret("2176044710001"), "École Jules Ferry").await;
        let c = Tablet::enrol(&server.base, &admin.code(other).await).await;
        let sizes: Vec<usize> = [300_000, 300_000, 300_000, 1_500_000].into_iter().chain(std::iter::repeat_n(10, 10)).collect();
        let mut ids = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let body = purchase_json(&c.site.siret, |p| p["description"] = json!("d".repeat(*size)));
            let id = Uuid::parse_str(body["meta"]["id"].as_str().unwrap()).unwrap();
            ids.push(id);
            insert_raw_record(&server.db, "purchase", id, other, 1, 1 + i as i64, &body.to_string()).await;
        }
        let (mut cursor, mut pages, mut seen) = (Value::Null, Vec::new(), Vec::new());
        loop {
            let res = http()
                .post(server.url("/api/v1/sync/pull"))
                .bearer_auth(&c.token)
                .json(&json!({"cursor": cursor, "limit": 5000}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let bytes = res.bytes().await.unwrap();
            let page: Value = serde_json::from_slice(&bytes).unwrap();
            let changes = page["changes"].as_array().unwrap();
            assert!(changes.len() == 1 || bytes.len() <= 1024 * 1024 + 200, "page of {} bytes, {} changes", bytes.len(), changes.len());
            pages.push(changes.len());
            seen.extend(changes.iter().map(|ch| Uuid::parse_str(ch["record"]["meta"]["id"].as_str().unwrap()).unwrap()));
            cursor = page["next_cursor"].clone();
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
        }
        assert_eq!(pages, vec![3, 1, 10]);
        assert_eq!(seen, ids, "every change once, in order");
        server.stop().await;
    }
}
