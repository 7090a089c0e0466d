//! The repository's bulk and conversion paths in headless Chromium (real IndexedDB).

use super::*;
use assiette_domain::waste::{Component, Destination, EdibleSplit, Stage, Weighing};
use chrono::{NaiveDate, TimeZone, Utc};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn unique_db(name: &str) -> String {
    format!("unit-{name}-{}", Uuid::now_v7())
}

fn weighing(site: Uuid, day: u32, grams: u64) -> Weighing {
    Weighing {
        meta: RecordMeta::new(Uuid::now_v7(), Utc.with_ymd_and_hms(2026, 3, 2, 13, 30, 0).unwrap()),
        site_id: site,
        service_date: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
        stage: Stage::Leftovers,
        component: Some(Component::Dessert),
        mass_grams: grams,
        sorted: None,
        destination: None,
    }
}

#[wasm_bindgen_test]
async fn a_saved_record_and_its_outbox_entry_hold_the_same_json() {
    let repo = Repository::open_named(&unique_db("same-json")).await.unwrap();
    let mut w = weighing(Uuid::now_v7(), 4, 2_500);
    w.sorted = Some(EdibleSplit { edible_grams: 2_000, inedible_grams: 500 });
    w.destination = Some(Destination::CompostMethanisation);
    let seq = repo.save(&w).await.unwrap();
    let back: Weighing = repo.get(w.meta.id).await.unwrap().unwrap();
    assert_eq!(back, w);
    let entries = repo.outbox_batch(10).await.unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!((e.seq, e.store.as_str(), e.record_id, e.revision), (Some(seq), stores::WEIGHINGS, w.meta.id, 1));
    assert_eq!(serde_json::from_str::<Weighing>(e.record.get()).unwrap(), w);
    assert_eq!(e.record, RecordJson::of(&w).unwrap(), "the record's own JSON, as serde writes it");
    assert_eq!(e.rejected, None);
}

#[wasm_bindgen_test]
async fn save_many_writes_every_record_and_queues_only_the_flagged_ones_in_order() {
    let repo = Repository::open_named(&unique_db("many")).await.unwrap();
    let site = Uuid::now_v7();
    let records: Vec<Weighing> = (0..7).map(|i| weighing(site, 2 + i % 3, 1_000 + i as u64)).collect();
    // Queue the records with an odd mass: 1001, 1003, 1005.
    let queued = repo.save_many(&records, |w| w.mass_grams % 2 == 1).await.unwrap();
    assert_eq!(queued, 3);
    let mut all: Vec<Weighing> = repo.all().await.unwrap().rows;
    all.sort_by_key(|w| w.mass_grams);
    assert_eq!(all, records);
    let on_third: Vec<Weighing> = repo.between_dates(NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(), NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()).await.unwrap().rows;
    let mut grams: Vec<u64> = on_third.iter().map(|w| w.mass_grams).collect();
    grams.sort();
    assert_eq!(grams, vec![1_001, 1_004]);
    let entries = repo.outbox_batch(10).await.unwrap();
    let queued_ids: Vec<(Uuid, u64)> =
        entries.iter().map(|e| (e.record_id, serde_json::from_str::<Weighing>(e.record.get()).unwrap().mass_grams)).collect();
    assert_eq!(queued_ids, vec![(records[1].meta.id, 1_001), (records[3].meta.id, 1_003), (records[5].meta.id, 1_005)]);
    assert!(entries.windows(2).all(|p| p[0].seq < p[1].seq));
    assert_eq!(entries[0].record, RecordJson::of(&records[1]).unwrap());
    // Nothing to write: no transaction, nothing queued.
    assert_eq!(repo.save_many::<Weighing>(&[], |_| true).await.unwrap(), 0);
    assert_eq!(repo.outbox_len().await.unwrap(), 3);
}

#[wasm_bindgen_test]
async fn save_many_writes_nothing_when_one_write_fails() {
    // An outbox without auto-increment refuses entries without a key: the whole batch must
    // roll back, records included.
    let name = unique_db("many-failure");
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let req = factory.open_with_u32(&name, DB_VERSION).unwrap();
    let upgrade_req = req.clone();
    let on_upgrade = Closure::once_into_js(move |_e: web_sys::Event| {
        let db: IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
        for store in [stores::MEAL_COUNTS, stores::WEIGHINGS, stores::PURCHASES] {
            let params = IdbObjectStoreParameters::new();
            params.set_key_path(&"meta.id".into());
            let s = db.create_object_store_with_optional_parameters(store, &params).unwrap();
            s.create_index_with_str(BY_DATE, "service_date").unwrap();
        }
        let params = IdbObjectStoreParameters::new();
        params.set_key_path(&"seq".into());
        db.create_object_store_with_optional_parameters(stores::OUTBOX, &params).unwrap();
        db.create_object_store(stores::KV).unwrap();
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db: IdbDatabase = idb::request(&req).await.unwrap().unchecked_into();
    db.close();

    let repo = Repository::open_named(&name).await.unwrap();
    let site = Uuid::now_v7();
    let records: Vec<Weighing> = (0..4).map(|i| weighing(site, 5, 500 + i)).collect();
    let err = repo.save_many(&records, |w| w.mass_grams == 502).await.unwrap_err();
    assert!(!err.message_fr().is_empty());
    let all: Vec<Weighing> = repo.all().await.unwrap().rows;
    assert!(all.is_empty(), "nothing written: {all:?}");
}

#[wasm_bindgen_test]
async fn settings_of_every_shape_read_back() {
    let repo = Repository::open_named(&unique_db("settings")).await.unwrap();
    repo.set_setting("none", &None::<String>).await.unwrap();
    repo.set_setting("text", &"Tablette « cuisine »\n").await.unwrap();
    repo.set_setting("json", &serde_json::json!({"a": [1, 2.5, null], "b": "x"})).await.unwrap();
    assert_eq!(repo.setting::<Option<String>>("none").await.unwrap(), Some(None));
    assert_eq!(repo.setting::<String>("text").await.unwrap().as_deref(), Some("Tablette « cuisine »\n"));
    assert_eq!(repo.setting::<serde_json::Value>("json").await.unwrap(), Some(serde_json::json!({"a": [1, 2.5, null], "b": "x"})));
    assert_eq!(repo.setting::<String>("missing").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn a_refused_entry_is_requeued_above_the_local_revision_in_one_step() {
    let repo = Repository::open_named(&unique_db("requeue")).await.unwrap();
    let mine = weighing(Uuid::now_v7(), 4, 1_500);
    let refused_seq = repo.save(&mine).await.unwrap();
    repo.acknowledge(&[], &[ToReview::new(refused_seq, "Conflit : le serveur a une autre version.")], &[]).await.unwrap();
    // Meanwhile the server's version (revision 2, 3 kg) was pulled into the store.
    let theirs = Weighing { meta: mine.meta.revised(Utc::now()), mass_grams: 3_000, ..mine.clone() };
    let pulled = PulledRecord { store: stores::WEIGHINGS, id: theirs.meta.id, revision: 2, record: to_js(&theirs).unwrap() };
    repo.apply_pull(&[pulled], &[]).await.unwrap();
    let refused = repo.outbox_to_review().await.unwrap();
    assert_eq!(refused.len(), 1);

    let now = Utc.with_ymd_and_hms(2026, 3, 5, 9, 0, 0).unwrap();
    assert_eq!(repo.requeue(&refused[0], now).await.unwrap(), 3);
    let stored: Weighing = repo.get(mine.meta.id).await.unwrap().unwrap();
    assert_eq!((stored.meta.revision, stored.mass_grams, stored.meta.modified_at), (3, 1_500, now));
    assert!(repo.outbox_to_review().await.unwrap().is_empty());
    let entries = repo.outbox_batch(10).await.unwrap();
    assert_eq!(entries.len(), 1, "the refused entry is replaced, not kept beside the new one");
    assert!(entries[0].seq > Some(refused_seq));
    assert_eq!((entries[0].revision, entries[0].rejected.as_deref()), (3, None));
    assert_eq!(entries[0].record, RecordJson::of(&stored).unwrap());
}

#[wasm_bindgen_test]
async fn rebinding_restamps_the_provisional_site_in_records_and_outbox_only() {
    let repo = Repository::open_named(&unique_db("rebind")).await.unwrap();
    let (provisional, other, server) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mine = weighing(provisional, 4, 1_000);
    let theirs = weighing(other, 4, 2_000);
    repo.save(&mine).await.unwrap();
    repo.save(&theirs).await.unwrap();
    let count = assiette_domain::meals::DailyMealCount {
        meta: RecordMeta::new(Uuid::now_v7(), Utc.with_ymd_and_hms(2026, 3, 2, 13, 30, 0).unwrap()),
        site_id: provisional,
        service_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        planned: 120,
        served_children: 110,
        served_adults: 6,
    };
    repo.save(&count).await.unwrap();
    repo.acknowledge(&[], &[ToReview::new(1, "Refusé par le serveur : non")], &[]).await.unwrap();

    assert_eq!(repo.rebind_site(provisional, server).await.unwrap(), 2);
    let w: Weighing = repo.get(mine.meta.id).await.unwrap().unwrap();
    assert_eq!(w, Weighing { site_id: server, ..mine.clone() });
    assert_eq!(repo.get::<Weighing>(theirs.meta.id).await.unwrap().unwrap(), theirs);
    let c: assiette_domain::meals::DailyMealCount = repo.get(count.meta.id).await.unwrap().unwrap();
    assert_eq!(c.site_id, server);
    let entries = repo.outbox_batch(10).await.unwrap();
    let sites: Vec<Uuid> = entries
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e.record.get()).unwrap()["site_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(sites, vec![server, other, server]);
    // The rest of each entry is kept: its seq, its refusal.
    assert_eq!(entries.iter().map(|e| (e.seq, e.rejected.is_some())).collect::<Vec<_>>(), vec![(Some(1), true), (Some(2), false), (Some(3), false)]);
    // Nothing left to restamp; the same id: nothing to do.
    assert_eq!(repo.rebind_site(provisional, server).await.unwrap(), 0);
    assert_eq!(repo.rebind_site(server, server).await.unwrap(), 0);
}

#[wasm_bindgen_test]
async fn a_pull_stores_its_records_and_the_cursor_together() {
    let repo = Repository::open_named(&unique_db("pull")).await.unwrap();
    let w = weighing(Uuid::now_v7(), 4, 1_000);
    // As the server sends it: the record with the protocol's `kind` tag, which is not stored.
    let json = serde_json::to_string(&assiette_domain::sync::RecordPayload::Weighing(w.clone())).unwrap();
    assert!(json.starts_with(r#"{"kind":"weighing","#));
    let pulled = PulledRecord { store: stores::WEIGHINGS, id: w.meta.id, revision: 1, record: parse_js(&json).unwrap() };
    assert_eq!(repo.apply_pull(&[pulled], &[("pull_cursor", "v1.42")]).await.unwrap(), 1);
    let stored = repo.read(stores::WEIGHINGS, Read::Key(&w.meta.id.to_string())).await.unwrap();
    assert_eq!(js_sys::JSON::stringify(&stored).unwrap().as_string().unwrap(), serde_json::to_string(&w).unwrap());
    assert_eq!(repo.get::<Weighing>(w.meta.id).await.unwrap(), Some(w));
    assert_eq!(repo.setting::<Option<String>>("pull_cursor").await.unwrap(), Some(Some("v1.42".to_owned())));
    repo.set_setting("pull_cursor", &None::<String>).await.unwrap();
    assert_eq!(repo.setting::<Option<String>>("pull_cursor").await.unwrap(), Some(None));
}

#[wasm_bindgen_test]
fn outbox_entries_read_from_js_like_their_serde_form() {
    let id = "01900000-0000-7000-8000-000000000001";
    let record = r#"{"meta":{"id":"01900000-0000-7000-8000-000000000001","revision":2},"mass_grams":5,"s":"é\"\n"}"#;
    let texts = [
        format!(r#"{{"seq":7,"store":"weighings","record_id":"{id}","revision":2,"record":{record}}}"#),
        format!(r#"{{"store":"weighings","record_id":"{id}","revision":2,"record":{record},"rejected":"Refusé : non"}}"#),
        format!(r#"{{"seq":null,"store":"weighings","record_id":"{id}","revision":2,"record":[1,null],"rejected":null,"x":1}}"#),
        format!(r#"{{"record":5,"revision":0,"record_id":"{id}","store":"","seq":9007199254740991}}"#),
        // Refused: each field missing or of the wrong type, not an object.
        format!(r#"{{"seq":"7","store":"weighings","record_id":"{id}","revision":2,"record":{{}}}}"#),
        format!(r#"{{"seq":-1,"store":"weighings","record_id":"{id}","revision":2,"record":{{}}}}"#),
        format!(r#"{{"seq":1.5,"store":"weighings","record_id":"{id}","revision":2,"record":{{}}}}"#),
        format!(r#"{{"record_id":"{id}","revision":2,"record":{{}}}}"#),
        format!(r#"{{"store":3,"record_id":"{id}","revision":2,"record":{{}}}}"#),
        r#"{"store":"weighings","record_id":"x","revision":2,"record":{}}"#.to_owned(),
        r#"{"store":"weighings","revision":2,"record":{}}"#.to_owned(),
        format!(r#"{{"store":"weighings","record_id":"{id}","record":{{}}}}"#),
        format!(r#"{{"store":"weighings","record_id":"{id}","revision":null,"record":{{}}}}"#),
        format!(r#"{{"store":"weighings","record_id":"{id}","revision":2}}"#),
        format!(r#"{{"store":"weighings","record_id":"{id}","revision":2,"record":{{}},"rejected":false}}"#),
        r#"[1]"#.to_owned(),
        "null".to_owned(),
    ];
    for text in texts {
        let ours = OutboxEntry::from_js_value(&parse_js(&text).unwrap());
        let theirs = serde_json::from_str::<OutboxEntry>(&text);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(e), Err(_)) => assert!(!e.is_empty()),
            _ => panic!("{text}: {ours:?} / {theirs:?}"),
        }
    }
    let e = OutboxEntry::from_js_value(&parse_js(r#"{"store":"weighings","revision":2,"record":{}}"#).unwrap()).unwrap_err();
    assert_eq!(e, "champ « record_id » absent ou invalide");
}

/// Resolves after `ms` milliseconds (a browser timer).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Writes `value` as it is into `store` (bypassing the repository's types).
async fn put_raw(repo: &Repository, store: &str, value: &JsValue) {
    let tx = idb::transaction(&repo.db, &[store], true).unwrap();
    let done = idb::completion(&tx);
    tx.object_store(store).unwrap().put(value).unwrap();
    done.await.unwrap();
}

#[wasm_bindgen_test]
async fn giving_up_a_conflicting_entry_writes_the_servers_version_kept_with_it() {
    let repo = Repository::open_named(&unique_db("discard")).await.unwrap();
    let mine = weighing(Uuid::now_v7(), 4, 1_500);
    let seq = repo.save(&mine).await.unwrap();
    // The server kept another tablet's version of the same revision.
    let mut theirs = Weighing { mass_grams: 3_000, ..mine.clone() };
    theirs.meta.server_updated_at = Some(Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap());
    let review = ToReview { seq, reason: "Conflit".to_owned(), server: Some(to_js(&theirs).unwrap()) };
    repo.acknowledge(&[], &[review], &[]).await.unwrap();
    let entry = repo.outbox_to_review().await.unwrap().remove(0);
    assert_eq!(entry.server, Some(RecordJson::of(&theirs).unwrap()), "the server's version is kept with the entry");
    assert_eq!(repo.get::<Weighing>(mine.meta.id).await.unwrap().unwrap().mass_grams, 1_500);

    repo.discard(&entry).await.unwrap();
    assert_eq!(repo.get::<Weighing>(mine.meta.id).await.unwrap(), Some(theirs), "the tablet ends with the server's version");
    assert_eq!(repo.outbox_len().await.unwrap(), 0);
}

#[wasm_bindgen_test]
async fn giving_up_every_own_version_leaves_the_servers_even_below_the_local_revision() {
    // Two corrections made offline: the first conflicts with the server's revision 2, the
    // second (revision 3) is refused. Once both are given up, the tablet holds the server's
    // revision 2, not its own revision 3 that the server will never have.
    let repo = Repository::open_named(&unique_db("discard-both")).await.unwrap();
    let first = weighing(Uuid::now_v7(), 4, 1_000);
    let s1 = repo.save(&first).await.unwrap();
    repo.acknowledge(&[s1], &[], &[]).await.unwrap();
    let a2 = Weighing { meta: first.meta.revised(Utc::now()), mass_grams: 1_500, ..first.clone() };
    let a3 = Weighing { meta: a2.meta.revised(Utc::now()), mass_grams: 0, ..first.clone() };
    let (s2, s3) = (repo.save(&a2).await.unwrap(), repo.save(&a3).await.unwrap());
    let mut b2 = Weighing { meta: first.meta.revised(Utc::now()), mass_grams: 3_000, ..first.clone() };
    b2.meta.server_updated_at = Some(Utc::now());
    let marks = [ToReview { seq: s2, reason: "Conflit".into(), server: Some(to_js(&b2).unwrap()) }, ToReview::new(s3, "Refusé")];
    repo.acknowledge(&[], &marks, &[]).await.unwrap();
    let review = repo.outbox_to_review().await.unwrap();
    // The conflict given up first: the refused revision 3 still waits for a person, so the
    // server's version is written already (revision 3's content stays in its own entry).
    repo.discard(&review[0]).await.unwrap();
    assert_eq!(repo.get::<Weighing>(first.meta.id).await.unwrap(), Some(b2.clone()));
    repo.discard(&review[1]).await.unwrap();
    assert_eq!(repo.get::<Weighing>(first.meta.id).await.unwrap(), Some(b2.clone()));
    assert_eq!(repo.outbox_len().await.unwrap(), 0);

    // A correction still to be sent is never overwritten by an older server version.
    let a3 = Weighing { meta: b2.meta.revised(Utc::now()), mass_grams: 2_000, ..first.clone() };
    let s4 = repo.save(&a3).await.unwrap();
    let a4 = Weighing { meta: a3.meta.revised(Utc::now()), mass_grams: 2_500, ..first.clone() };
    repo.save(&a4).await.unwrap();
    let mut b3 = Weighing { meta: b2.meta.revised(Utc::now()), mass_grams: 4_000, ..first.clone() };
    b3.meta.server_updated_at = Some(Utc::now());
    repo.acknowledge(&[], &[ToReview { seq: s4, reason: "Conflit".into(), server: Some(to_js(&b3).unwrap()) }], &[]).await.unwrap();
    repo.discard(&repo.outbox_to_review().await.unwrap()[0]).await.unwrap();
    assert_eq!(repo.get::<Weighing>(first.meta.id).await.unwrap(), Some(a4), "the pending revision 4 stays");
}

#[wasm_bindgen_test]
async fn an_unreadable_row_is_skipped_and_counted_and_the_others_listed() {
    let repo = Repository::open_named(&unique_db("unreadable")).await.unwrap();
    let site = Uuid::now_v7();
    let good: Vec<Weighing> = (0..3).map(|i| weighing(site, 4, 1_000 + i)).collect();
    repo.save_many(&good, |_| false).await.unwrap();
    // A row written by hand or by an older version: its mass is text.
    let bad = parse_js(&format!(
        r#"{{"meta":{{"id":"{}","revision":1,"modified_at":"2026-03-02T13:30:00Z"}},"site_id":"{site}","service_date":"2026-03-04","stage":"leftovers","mass_grams":"lourd"}}"#,
        Uuid::now_v7()
    ))
    .unwrap();
    put_raw(&repo, stores::WEIGHINGS, &bad).await;
    let all = repo.all::<Weighing>().await.unwrap();
    assert_eq!(all.unreadable, 1);
    let mut grams: Vec<u64> = all.rows.iter().map(|w| w.mass_grams).collect();
    grams.sort();
    assert_eq!(grams, vec![1_000, 1_001, 1_002]);
    let day = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
    let on_day = repo.between_dates::<Weighing>(day, day).await.unwrap();
    assert_eq!((on_day.rows.len(), on_day.unreadable), (3, 1));
    // The day as Today reads it: its weighings, and the count to report.
    let loaded = crate::day::DayData::load(&repo, site, day).await.unwrap();
    assert_eq!((loaded.weighings.len(), loaded.unreadable), (3, 1));
}

#[wasm_bindgen_test]
async fn a_failed_acknowledgement_writes_nothing() {
    // An outbox whose entries cannot be written back (out-of-line keys): marking one fails
    // after the deletion of another was issued, and that deletion must not commit.
    let name = unique_db("ack-failure");
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let req = factory.open_with_u32(&name, DB_VERSION).unwrap();
    let upgrade_req = req.clone();
    let on_upgrade = Closure::once_into_js(move |_e: web_sys::Event| {
        let db: IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
        for store in [stores::MEAL_COUNTS, stores::WEIGHINGS, stores::PURCHASES] {
            let params = IdbObjectStoreParameters::new();
            params.set_key_path(&"meta.id".into());
            db.create_object_store_with_optional_parameters(store, &params).unwrap();
        }
        let outbox = db.create_object_store(stores::OUTBOX).unwrap();
        outbox.create_index_with_str(BY_RECORD, "record_id").unwrap();
        db.create_object_store(stores::KV).unwrap();
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db: IdbDatabase = idb::request(&req).await.unwrap().unchecked_into();
    let w = weighing(Uuid::now_v7(), 4, 1_000);
    let tx = db.transaction_with_str_and_mode(stores::OUTBOX, web_sys::IdbTransactionMode::Readwrite).unwrap();
    let done = idb::completion(&tx);
    for seq in [1u32, 2] {
        let entry = outbox_entry_js(stores::WEIGHINGS, w.meta.id, 1, &to_js(&w).unwrap());
        tx.object_store(stores::OUTBOX).unwrap().put_with_key(&entry, &JsValue::from(seq)).unwrap();
    }
    done.await.unwrap();
    db.close();

    let repo = Repository::open_named(&name).await.unwrap();
    let err = repo.acknowledge(&[1], &[ToReview::new(2, "Refusé")], &[("pull_cursor", "v1.9")]).await;
    assert!(err.is_err());
    let left: js_sys::Array = repo.read(stores::OUTBOX, Read::All).await.unwrap().unchecked_into();
    assert_eq!(left.length(), 2, "the deletion issued before the failure is rolled back");
    assert_eq!(repo.setting::<String>("pull_cursor").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn an_enrolment_is_written_whole_or_not_at_all() {
    let repo = Repository::open_named(&unique_db("enrolment")).await.unwrap();
    let (provisional, server) = (Uuid::now_v7(), Uuid::now_v7());
    let w = weighing(provisional, 4, 1_000);
    repo.save(&w).await.unwrap();
    // A value the browser cannot store (a function) as the last setting: nothing is written,
    // the records are not restamped either.
    let unstorable: JsValue = js_sys::Function::new_no_args("return 1").into();
    let settings = [("site_profile", JsValue::from_str("profil")), ("sync_credentials", unstorable)];
    assert!(repo.write_enrolment(Some((provisional, server)), &settings).await.is_err());
    assert_eq!(repo.get::<Weighing>(w.meta.id).await.unwrap().unwrap().site_id, provisional);
    assert_eq!(repo.setting::<String>("site_profile").await.unwrap(), None);

    let settings = [("site_profile", JsValue::from_str("profil")), ("sync_credentials", JsValue::from_str("jeton"))];
    repo.write_enrolment(Some((provisional, server)), &settings).await.unwrap();
    assert_eq!(repo.get::<Weighing>(w.meta.id).await.unwrap().unwrap().site_id, server);
    let entries = repo.outbox_batch(10).await.unwrap();
    assert_eq!(serde_json::from_str::<Weighing>(entries[0].record.get()).unwrap().site_id, server);
    assert_eq!(repo.setting::<String>("site_profile").await.unwrap().as_deref(), Some("profil"));
    assert_eq!(repo.setting::<String>("sync_credentials").await.unwrap().as_deref(), Some("jeton"));
}

#[wasm_bindgen_test]
async fn an_open_held_back_by_another_tab_says_to_close_it_then_completes() {
    let name = unique_db("blocked");
    // Another tab on an older schema, which does not close when asked.
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let req = factory.open_with_u32(&name, 1).unwrap();
    let upgrade_req = req.clone();
    // The first schema, as version 1 of the app made it.
    let on_upgrade = Closure::once_into_js(move |_e: web_sys::Event| {
        let db: IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
        for store in [stores::MEAL_COUNTS, stores::WEIGHINGS] {
            let params = IdbObjectStoreParameters::new();
            params.set_key_path(&"meta.id".into());
            db.create_object_store_with_optional_parameters(store, &params).unwrap().create_index_with_str(BY_DATE, "service_date").unwrap();
        }
        let params = IdbObjectStoreParameters::new();
        params.set_key_path(&"seq".into());
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(stores::OUTBOX, &params).unwrap();
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let old: IdbDatabase = idb::request(&req).await.unwrap().unchecked_into();
    let told = Rc::new(RefCell::new(None::<StorageError>));
    let opened = Rc::new(RefCell::new(None::<Result<Repository, StorageError>>));
    let (t, o) = (told.clone(), opened.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let r = Repository::open_named_reporting(&name, move |e| *t.borrow_mut() = Some(e)).await;
        *o.borrow_mut() = Some(r);
    });
    for _ in 0..100 {
        if told.borrow().is_some() {
            break;
        }
        sleep(20).await;
    }
    let message = told.borrow().clone().expect("told that another tab holds the database").message_fr();
    assert!(message.contains("fermez les autres onglets d'Assiette"), "{message}");
    assert!(opened.borrow().is_none(), "still waiting");
    old.close();
    for _ in 0..100 {
        if opened.borrow().is_some() {
            break;
        }
        sleep(20).await;
    }
    let repo = opened.borrow_mut().take().expect("opened once the other tab closed").unwrap();
    assert_eq!(repo.outbox_len().await.unwrap(), 0);
}
