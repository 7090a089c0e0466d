//! The IndexedDB repository in headless Chromium: real IndexedDB, no mocks.
#![cfg(target_arch = "wasm32")]

use assiette::storage::{stores, Repository, StorageError, ToReview, DB_VERSION};
use assiette_domain::meals::DailyMealCount;
use assiette_domain::record::RecordMeta;
use assiette_domain::waste::{Stage, Weighing};
use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn unique_db(name: &str) -> String {
    format!("test-{name}-{}", Uuid::now_v7())
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn meal_count(site: Uuid, date: NaiveDate, served: u32) -> DailyMealCount {
    DailyMealCount {
        meta: RecordMeta::new(Uuid::now_v7(), Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap()),
        site_id: site,
        service_date: date,
        planned: 120,
        served_children: served,
        served_adults: 8,
    }
}

fn weighing(site: Uuid, date: NaiveDate, grams: u64) -> Weighing {
    Weighing {
        meta: RecordMeta::new(Uuid::now_v7(), Utc.with_ymd_and_hms(2026, 3, 2, 13, 30, 0).unwrap()),
        site_id: site,
        service_date: date,
        stage: Stage::Leftovers,
        component: None,
        mass_grams: grams,
        sorted: None,
        destination: None,
    }
}

#[wasm_bindgen_test]
async fn a_saved_record_reads_back_after_reopening() {
    let name = unique_db("roundtrip");
    let site = Uuid::now_v7();
    let record = meal_count(site, day(2), 112);
    {
        let repo = Repository::open_named(&name).await.unwrap();
        repo.save(&record).await.unwrap();
        repo.close();
    }
    let repo = Repository::open_named(&name).await.unwrap();
    let back: Option<DailyMealCount> = repo.get(record.meta.id).await.unwrap();
    assert_eq!(back, Some(record.clone()));
    let all: Vec<DailyMealCount> = repo.all().await.unwrap().rows;
    assert_eq!(all, vec![record]);
}

#[wasm_bindgen_test]
async fn every_save_queues_one_outbox_entry_with_the_revision() {
    let repo = Repository::open_named(&unique_db("outbox")).await.unwrap();
    let site = Uuid::now_v7();
    let mut w = weighing(site, day(3), 12_500);
    let first_seq = repo.save(&w).await.unwrap();
    w.meta = w.meta.revised(Utc::now());
    w.mass_grams = 12_000;
    let second_seq = repo.save(&w).await.unwrap();
    assert!(second_seq > first_seq, "sequence numbers increase: {first_seq} then {second_seq}");
    // Two changes of one record: one entry to send, as a person counts it.
    assert_eq!(repo.outbox_len().await.unwrap(), 1);
    repo.save(&weighing(site, day(3), 500)).await.unwrap();
    assert_eq!(repo.outbox_len().await.unwrap(), 2);
    let batch = repo.outbox_batch(10).await.unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(batch[0].store, stores::WEIGHINGS);
    assert_eq!((batch[0].revision, batch[1].revision), (1, 2));
    let queued: Weighing = serde_json::from_str(batch[1].record.get()).unwrap();
    assert_eq!(queued.mass_grams, 12_000);
    // The record store holds the latest revision only.
    let back: Weighing = repo.get(w.meta.id).await.unwrap().unwrap();
    assert_eq!(back.mass_grams, 12_000);

    // Acknowledging the first removes it; rejecting the second keeps it, marked.
    repo.acknowledge(&[first_seq], &[ToReview::new(second_seq, "refusé")], &[("pull_cursor", "42")])
        .await
        .unwrap();
    let left = repo.outbox_batch(10).await.unwrap();
    assert_eq!(left.len(), 2, "the rejected entry and the other record's");
    assert_eq!(left[0].seq, Some(second_seq));
    assert_eq!(left[0].rejected.as_deref(), Some("refusé"));
    assert_eq!(repo.setting::<String>("pull_cursor").await.unwrap().as_deref(), Some("42"));
}

#[wasm_bindgen_test]
async fn records_are_found_by_service_date() {
    let repo = Repository::open_named(&unique_db("dates")).await.unwrap();
    let site = Uuid::now_v7();
    for (d, g) in [(2, 1000), (3, 2000), (3, 3000), (9, 4000)] {
        repo.save(&weighing(site, day(d), g)).await.unwrap();
    }
    let on_third: Vec<Weighing> = repo.between_dates(day(3), day(3)).await.unwrap().rows;
    let mut grams: Vec<u64> = on_third.iter().map(|w| w.mass_grams).collect();
    grams.sort();
    assert_eq!(grams, vec![2000, 3000]);
    let week: Vec<Weighing> = repo.between_dates(day(2), day(8)).await.unwrap().rows;
    assert_eq!(week.len(), 3);
}

/// Builds a database as schema version 1 left it (meal counts, weighings, outbox), with data.
async fn create_version_1(name: &str, record: &DailyMealCount) {
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let req = factory.open_with_u32(name, 1).unwrap();
    let upgrade_req = req.clone();
    let on_upgrade = wasm_bindgen::closure::Closure::once_into_js(move |_e: web_sys::Event| {
        let db: web_sys::IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
        for store in [stores::MEAL_COUNTS, stores::WEIGHINGS] {
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&"meta.id".into());
            let s = db.create_object_store_with_optional_parameters(store, &params).unwrap();
            s.create_index_with_str("by_date", "service_date").unwrap();
        }
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_key_path(&"seq".into());
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(stores::OUTBOX, &params).unwrap();
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db: web_sys::IdbDatabase = wait(&req).await.unchecked_into();
    let tx = db.transaction_with_str_and_mode(stores::MEAL_COUNTS, web_sys::IdbTransactionMode::Readwrite).unwrap();
    let value = serde_wasm_bindgen::to_value(record).unwrap();
    let put = tx.object_store(stores::MEAL_COUNTS).unwrap().put(&value).unwrap();
    wait(&put).await;
    db.close();
}

async fn wait(req: &web_sys::IdbRequest) -> wasm_bindgen::JsValue {
    let req = req.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let r = req.clone();
        let ok = wasm_bindgen::closure::Closure::once_into_js(move || {
            resolve.call1(&wasm_bindgen::JsValue::NULL, &r.result().unwrap()).unwrap();
        });
        let ko = wasm_bindgen::closure::Closure::once_into_js(move || {
            reject.call0(&wasm_bindgen::JsValue::NULL).unwrap();
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(ko.unchecked_ref()));
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap()
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_1_keeps_the_data_and_adds_the_new_stores_and_indexes() {
    let name = unique_db("upgrade");
    let record = meal_count(Uuid::now_v7(), day(4), 99);
    create_version_1(&name, &record).await;
    let repo = Repository::open_named(&name).await.unwrap();
    let back: Option<DailyMealCount> = repo.get(record.meta.id).await.unwrap();
    assert_eq!(back, Some(record));
    // Version 2's stores work.
    repo.set_setting("device_name", &"Tablette cuisine").await.unwrap();
    assert_eq!(repo.setting::<String>("device_name").await.unwrap().as_deref(), Some("Tablette cuisine"));
    // Version 3's outbox index of packed records (the count reads it).
    assert_eq!(repo.outbox_len().await.unwrap(), 0);
    assert_eq!(DB_VERSION, 3);
}

#[wasm_bindgen_test]
async fn another_tab_upgrading_closes_this_connection_with_a_french_message() {
    let name = unique_db("versionchange");
    let repo = Repository::open_named(&name).await.unwrap();
    // Another tab opens a newer version: ours must let it through, then refuse to write.
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let newer = factory.open_with_u32(&name, DB_VERSION + 1).unwrap();
    let db: web_sys::IdbDatabase = wait(&newer).await.unchecked_into();
    db.close();
    let err = repo.save(&meal_count(Uuid::now_v7(), day(5), 100)).await.unwrap_err();
    assert_eq!(err, StorageError::VersionChanged);
    assert!(err.message_fr().contains("Rechargez"), "{}", err.message_fr());
}

#[wasm_bindgen_test]
async fn a_failed_outbox_write_rolls_the_record_back_and_is_reported() {
    // A damaged database whose outbox cannot take new entries (no auto-increment key):
    // the save must fail as a whole, never leave the record saved but unqueued.
    let name = unique_db("failure");
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let req = factory.open_with_u32(&name, DB_VERSION).unwrap();
    let upgrade_req = req.clone();
    let on_upgrade = wasm_bindgen::closure::Closure::once_into_js(move |_e: web_sys::Event| {
        let db: web_sys::IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
        for store in [stores::MEAL_COUNTS, stores::WEIGHINGS, stores::PURCHASES] {
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&"meta.id".into());
            let s = db.create_object_store_with_optional_parameters(store, &params).unwrap();
            s.create_index_with_str("by_date", "service_date").unwrap();
        }
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_key_path(&"seq".into());
        db.create_object_store_with_optional_parameters(stores::OUTBOX, &params).unwrap();
        db.create_object_store(stores::KV).unwrap();
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db: web_sys::IdbDatabase = wait(&req).await.unchecked_into();
    db.close();

    let repo = Repository::open_named(&name).await.unwrap();
    let w = weighing(Uuid::now_v7(), day(6), 5_000);
    let err = repo.save(&w).await.unwrap_err();
    assert!(matches!(err, StorageError::Other(_)), "{err:?}");
    assert!(err.message_fr().contains("Rien n'a été enregistré"), "{}", err.message_fr());
    let stored: Option<Weighing> = repo.get(w.meta.id).await.unwrap();
    assert_eq!(stored, None, "the record must be rolled back with its outbox entry");
}

#[wasm_bindgen_test]
async fn a_revision_made_from_an_older_copy_is_refused_with_the_stored_one_and_nothing_written() {
    let repo = Repository::open_named(&unique_db("stale")).await.unwrap();
    let site = Uuid::now_v7();
    let original = weighing(site, day(4), 400);
    repo.save(&original).await.unwrap();
    // Two windows open revision 1; the first saves 0,5 kg as revision 2.
    let mut first = original.clone();
    first.meta = original.meta.revised(Utc::now());
    first.mass_grams = 500;
    repo.save(&first).await.unwrap();
    // The second, still on revision 1, saves 0,6 kg: refused, the stored version handed back.
    let mut second = original.clone();
    second.meta = original.meta.revised(Utc::now());
    second.mass_grams = 600;
    let Err(StorageError::Stale(json)) = repo.save(&second).await else { panic!("a stale revision must be refused") };
    let stored: Weighing = serde_json::from_str(&json).unwrap();
    assert_eq!(stored, first);
    assert_eq!(repo.get::<Weighing>(original.meta.id).await.unwrap(), Some(first.clone()), "nothing overwritten");
    assert_eq!(repo.outbox_batch(10).await.unwrap().len(), 2, "nothing queued");
    // Keeping one's own version is a revision above the stored one.
    second.meta = first.meta.revised(Utc::now());
    repo.save(&second).await.unwrap();
    assert_eq!(repo.get::<Weighing>(original.meta.id).await.unwrap().map(|w| (w.mass_grams, w.meta.revision)), Some((600, 3)));
}
