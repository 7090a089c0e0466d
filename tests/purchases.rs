//! The purchase store in headless Chromium (real IndexedDB): entry, correction, filters,
//! deletion and undo through the outbox, and the national file import read by slices and
//! written in one transaction (or not at all).
#![cfg(target_arch = "wasm32")]

use std::collections::HashSet;

use assiette::purchase_import::{read_file, Outcome, Ready};
use assiette::storage::{stores, ImportWrite, Repository};
use assiette_domain::purchase::{Characteristic, Family, Purchase};
use assiette_tablet::purchases::{self as rules, Filter, PurchaseForm, Scope, ScopeSite};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SIRET: &str = "21010034300016";
const GOOD: &[u8] = include_bytes!("../crates/domain/tests/fixtures/ma-cantine/achats/purchases_good.csv");
const BAD: &[u8] = include_bytes!("../crates/domain/tests/fixtures/ma-cantine/achats/purchases_bad.csv");
const GOOD_XLSX: &[u8] = include_bytes!("../crates/domain/tests/fixtures/ma-cantine/achats/purchases_good.xlsx");

fn unique_db(name: &str) -> String {
    format!("test-purchases-{name}-{}", Uuid::now_v7())
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn scope(siret: &str) -> Scope {
    Scope { sites: vec![ScopeSite { siret: siret.into(), name: "École des Tilleuls".into() }] }
}

fn blob(bytes: &[u8]) -> web_sys::Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap()
}

fn typed(description: &str, supplier: &str, date: &str, price: &str, family: Family) -> Purchase {
    let form = PurchaseForm {
        siret: SIRET.into(),
        date: date.into(),
        description: description.into(),
        supplier: supplier.into(),
        family: family.code().into(),
        price: price.into(),
        labels: vec![Characteristic::Bio],
        ..Default::default()
    };
    form.to_purchase(None, Uuid::now_v7(), now(), today()).unwrap()
}

async fn live(repo: &Repository) -> Vec<Purchase> {
    repo.all::<Purchase>().await.unwrap().rows.into_iter().filter(|p| !p.meta.deleted).collect()
}

async fn read(bytes: &[u8], scope: &Scope, known: &HashSet<String>) -> Outcome {
    read_file(&blob(bytes), scope, known, today(), now(), &|_, _| {}).await.unwrap()
}

fn ready(o: Outcome) -> Ready {
    match o {
        Outcome::Ready(r) => r,
        Outcome::Refused(e) => panic!("refused: {e}"),
    }
}

#[wasm_bindgen_test]
async fn typed_purchases_are_stored_queued_filtered_and_summed() {
    let repo = Repository::open_named(&unique_db("typed")).await.unwrap();
    let a = typed("Pommes golden", "Vergers de Caux", "02/03/2026", "12,50", Family::FruitsEtLegumes);
    let b = typed("Poulet fermier", "Volailles Normandes", "10/05/2026", "1 234,50", Family::ViandesVolailles);
    let c = typed("Pommes de terre", "Vergers de Caux", "31/12/2025", "80", Family::FruitsEtLegumes);
    for p in [&a, &b, &c] {
        repo.save(p).await.unwrap();
    }
    let all = repo.all::<Purchase>().await.unwrap().rows;
    assert_eq!(all.len(), 3);
    let s = scope(SIRET);
    let l = rules::list(&all, &Filter { year: Some(2026), ..Default::default() }, &s);
    assert_eq!((l.rows.len(), l.total_cents), (2, 1_250 + 123_450));
    let l = rules::list(&all, &Filter { query: "caux".into(), ..Default::default() }, &s);
    assert_eq!((l.rows.len(), l.total_cents), (2, 1_250 + 8_000));
    // Each purchase is one outbox entry of kind purchase, its record as stored.
    let entries = repo.outbox_batch(10).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.store.as_str()).collect::<Vec<_>>(), vec![stores::PURCHASES; 3]);
    assert_eq!(serde_json::from_str::<Purchase>(entries[1].record.get()).unwrap(), b);
    // A correction is the next revision; a stale one (from the first version) is refused.
    let fixed = PurchaseForm { price: "13".into(), ..PurchaseForm::from_purchase(&a) }.to_purchase(Some(&a), Uuid::nil(), now(), today()).unwrap();
    repo.save(&fixed).await.unwrap();
    assert_eq!(repo.get::<Purchase>(a.meta.id).await.unwrap().unwrap().price_cents, 1_300);
    let stale = PurchaseForm { price: "14".into(), ..PurchaseForm::from_purchase(&a) }.to_purchase(Some(&a), Uuid::nil(), now(), today()).unwrap();
    assert!(matches!(repo.save(&stale).await, Err(assiette::storage::StorageError::Stale(_))));
}

#[wasm_bindgen_test]
async fn deleting_several_lines_is_one_write_of_tombstones_and_undo_writes_them_back() {
    let repo = Repository::open_named(&unique_db("undo")).await.unwrap();
    let lines: Vec<Purchase> = (1..=4).map(|i| typed(&format!("Produit {i}"), "F", "02/03/2026", &format!("{i},00"), Family::Autres)).collect();
    repo.save_many(&lines, |_| true).await.unwrap();
    let chosen = vec![lines[1].clone(), lines[3].clone()];
    let tombstones: Vec<Purchase> = chosen.iter().map(|p| rules::tombstone(p, now())).collect();
    repo.save_many(&tombstones, |_| true).await.unwrap();
    let mut left: Vec<String> = live(&repo).await.into_iter().map(|p| p.description).collect();
    left.sort();
    assert_eq!(left, vec!["Produit 1", "Produit 3"]);
    // The tombstones travel: revision 2, deleted, in the outbox after the four creations.
    let entries = repo.outbox_batch(20).await.unwrap();
    assert_eq!(entries.len(), 6);
    let gone: Purchase = serde_json::from_str(entries[4].record.get()).unwrap();
    assert!(gone.meta.deleted && gone.meta.revision == 2);
    // Undo: the versions before, as revision 3, live again (and queued).
    let restored: Vec<Purchase> = chosen.iter().zip(&tombstones).map(|(b, t)| rules::restore(b, t, now())).collect();
    repo.save_many(&restored, |_| true).await.unwrap();
    let back = live(&repo).await;
    assert_eq!(back.len(), 4);
    let p2 = repo.get::<Purchase>(lines[1].meta.id).await.unwrap().unwrap();
    assert_eq!((p2.meta.revision, p2.meta.deleted, p2.price_cents), (3, false, 200));
    assert_eq!(repo.outbox_batch(20).await.unwrap().len(), 8);
    assert_eq!(repo.outbox_len().await.unwrap(), 4, "one entry per purchase for a person");
}

#[wasm_bindgen_test]
async fn a_good_file_is_written_in_one_go_and_the_same_file_again_adds_nothing() {
    let repo = Repository::open_named(&unique_db("import")).await.unwrap();
    let s = scope(SIRET);
    let r = ready(read(GOOD, &s, &repo.import_digests().await.unwrap()).await);
    assert_eq!(r.preview.lines, 8);
    assert_eq!(r.records.length(), 8);
    assert_eq!(r.preview.sites.iter().collect::<Vec<_>>(), vec![SIRET]);
    assert_eq!(r.digest, assiette_domain::import::digest_hex(GOOD));
    let w = repo.write_purchase_import(&r.records, &r.digest, 1, &|_| {}).await.unwrap();
    assert_eq!(w, ImportWrite::Written(8));
    let stored = live(&repo).await;
    assert_eq!(stored.len(), 8);
    assert_eq!(stored.iter().map(|p| p.price_cents).sum::<i64>(), r.preview.total_cents);
    assert_eq!(repo.outbox_batch(20).await.unwrap().len(), 8);
    // Read again: refused as already imported, and said so.
    let known = repo.import_digests().await.unwrap();
    assert!(known.contains(&r.digest));
    match read(GOOD, &s, &known).await {
        Outcome::Refused(e) => {
            assert!(e.duplicate);
            assert!(e.errors[0].message.contains("déjà été importé"), "{}", e.errors[0].message);
        }
        Outcome::Ready(_) => panic!("the same file twice"),
    }
    // Written twice (two windows that read it before either wrote): the second adds nothing.
    let again = ready(read(GOOD, &s, &HashSet::new()).await);
    assert_eq!(repo.write_purchase_import(&again.records, &again.digest, 1, &|_| {}).await.unwrap(), ImportWrite::AlreadyImported);
    assert_eq!(repo.all::<Purchase>().await.unwrap().rows.len(), 8);
    assert_eq!(repo.outbox_batch(20).await.unwrap().len(), 8);
}

#[wasm_bindgen_test]
async fn a_workbook_is_read_with_the_same_rules() {
    let r = ready(read(GOOD_XLSX, &scope(SIRET), &HashSet::new()).await);
    assert!(r.preview.lines > 0);
    assert_eq!(r.records.length() as u64, r.preview.lines);
}

#[wasm_bindgen_test]
async fn a_bad_file_or_a_siret_outside_the_scope_is_refused_whole_with_its_lines() {
    let repo = Repository::open_named(&unique_db("bad")).await.unwrap();
    match read(BAD, &scope(SIRET), &HashSet::new()).await {
        Outcome::Refused(e) => {
            assert!(!e.duplicate);
            assert!(e.errors.len() > 1);
            assert!(e.errors.iter().all(|e| e.line.is_some() || e.column.is_none()));
        }
        Outcome::Ready(_) => panic!("bad file accepted"),
    }
    match read(GOOD, &scope("21010034300024"), &HashSet::new()).await {
        Outcome::Refused(e) => {
            assert_eq!(e.errors.len(), 8, "one per line: {e}");
            assert!(e.errors.iter().all(|x| x.column.as_deref() == Some("siret") && x.message.contains(SIRET)), "{e}");
        }
        Outcome::Ready(_) => panic!("a SIRET outside the scope accepted"),
    }
    // Nothing was written by either.
    assert!(repo.all::<Purchase>().await.unwrap().rows.is_empty());
    assert!(repo.outbox_batch(10).await.unwrap().is_empty());
    assert!(repo.import_digests().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn an_import_that_fails_while_writing_leaves_nothing() {
    let repo = Repository::open_named(&unique_db("atomic")).await.unwrap();
    let r = ready(read(GOOD, &scope(SIRET), &HashSet::new()).await);
    // A last record IndexedDB refuses (no key): the whole transaction is given up.
    r.records.push(&js_sys::Object::new());
    assert!(repo.write_purchase_import(&r.records, &r.digest, 1, &|_| {}).await.is_err());
    assert!(repo.all::<Purchase>().await.unwrap().rows.is_empty());
    assert!(repo.outbox_batch(10).await.unwrap().is_empty());
    assert!(repo.import_digests().await.unwrap().is_empty(), "the digest is not kept either: the file can be imported again");
}

#[wasm_bindgen_test]
async fn a_large_file_is_read_by_slices_with_progress() {
    let mut text = String::from("siret;description;fournisseur;date;prix_ht;famille_produits;categories_egalim;origine;est_circuit_court;est_local;definition_local;definition_local_km\n");
    let mut n = 0;
    while text.len() < 2_500_000 {
        n += 1;
        text.push_str(&format!("{SIRET};Produit {n};Fournisseur {};2026-0{}-1{};{}.{:02};AUTRES;BIO,HVE;FRANCE;oui;;;\n", n % 7, 1 + n % 9, n % 10, n % 500, n % 100));
    }
    let calls = std::cell::RefCell::new(Vec::new());
    let outcome = read_file(&blob(text.as_bytes()), &scope(SIRET), &HashSet::new(), today(), now(), &|read, total| calls.borrow_mut().push((read, total)))
        .await
        .unwrap();
    let r = ready(outcome);
    assert_eq!(r.preview.lines, n);
    assert_eq!(r.records.length() as u64, n);
    let calls = calls.into_inner();
    assert!(calls.len() >= 3, "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(calls.last().copied(), Some((text.len() as u64, text.len() as u64)));
    // The JS objects are what the repository stores.
    let first: Purchase = serde_json::from_str(&js_sys::JSON::stringify(&r.records.get(0)).unwrap().as_string().unwrap()).unwrap();
    assert_eq!((first.description.as_str(), first.meta.revision), ("Produit 1", 1));
}

/// A national file of `n` lines for the SIRET in scope; `bad` (1-based line after the
/// header) has a price the national rules refuse.
fn national(n: usize, bad: Option<usize>) -> String {
    let mut text = String::from("siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km\n");
    for i in 1..=n {
        let price = if bad == Some(i) { "12 €".to_owned() } else { format!("{}.{:02}", 1 + i % 700, i % 100) };
        text.push_str(&format!("{SIRET},Produit {i},Fournisseur {},2026-0{}-1{},{price},AUTRES,\"BIO\",FRANCE,,,,\n", i % 13, 1 + i % 9, i % 10));
    }
    text
}

#[wasm_bindgen_test]
async fn every_imported_line_is_stored_and_reaches_the_outbox_once_under_its_own_seq() {
    const N: usize = 5_000;
    let repo = Repository::open_named(&unique_db("lines")).await.unwrap();
    let s = scope(SIRET);
    // A purchase typed before: the import's seqs come after its own.
    let before = typed("Avant", "F", "02/03/2026", "1,00", Family::Autres);
    let before_seq = repo.save(&before).await.unwrap();
    let text = national(N, None);
    let r = ready(read(text.as_bytes(), &s, &repo.import_digests().await.unwrap()).await);
    assert_eq!(r.records.length() as usize, N);
    let progress = std::cell::RefCell::new(Vec::new());
    let w = repo.write_purchase_import(&r.records, &r.digest, 1500, &|n| progress.borrow_mut().push(n)).await.unwrap();
    assert_eq!(w, ImportWrite::Written(N as u32));
    // Progress after each batch (rounded up to whole packs of the outbox), up to every line.
    assert_eq!(progress.into_inner(), vec![2000, 4000, 5000]);
    let stored = live(&repo).await;
    assert_eq!(stored.len(), N + 1);
    let imported: HashSet<Uuid> = stored.iter().filter(|p| p.meta.id != before.meta.id).map(|p| p.meta.id).collect();
    assert_eq!(imported.len(), N);
    assert_eq!(repo.outbox_len().await.unwrap() as usize, N + 1);
    // A line corrected before it was sent is still one record waiting: N + 1.
    let first: Purchase = stored.iter().find(|p| p.description == "Produit 1").unwrap().clone();
    let fixed = PurchaseForm { price: "99".into(), ..PurchaseForm::from_purchase(&first) }.to_purchase(Some(&first), Uuid::nil(), now(), today()).unwrap();
    let fixed_seq = repo.save(&fixed).await.unwrap();
    assert_eq!(repo.outbox_len().await.unwrap() as usize, N + 1);
    // A backup lists every entry, packed or not, but the corrected line's first version: its
    // correction, queued after, carries it.
    let exported = assiette::backup::export(&repo, None, now()).await.unwrap();
    assert_eq!(exported.unsent, N + 1);
    let json: serde_json::Value = serde_json::from_str(&exported.json).unwrap();
    assert_eq!(json["outbox"].as_array().unwrap().len(), N + 1);

    // The same file again adds nothing.
    let again = ready(read(text.as_bytes(), &s, &HashSet::new()).await);
    assert_eq!(repo.write_purchase_import(&again.records, &again.digest, 5000, &|_| {}).await.unwrap(), ImportWrite::AlreadyImported);
    assert_eq!(repo.all::<Purchase>().await.unwrap().rows.len(), N + 1);
    assert_eq!(repo.outbox_len().await.unwrap() as usize, N + 1);

    // Read as the sync reads it: batches of 500 after the last seq sent, each acknowledged.
    let mut after = 0;
    let mut seqs = Vec::new();
    let mut sent: HashSet<Uuid> = HashSet::new();
    loop {
        let entries = repo.outbox_after(after, 500).await.unwrap();
        let Some(last) = entries.last() else { break };
        after = last.seq.unwrap();
        for e in &entries {
            let p: Purchase = serde_json::from_str(e.record.get()).unwrap();
            assert_eq!((e.store.as_str(), e.record_id, e.revision), (stores::PURCHASES, p.meta.id, p.meta.revision));
            if e.seq != Some(before_seq) {
                assert!(sent.insert(p.meta.id), "{} sent twice", p.meta.id);
                assert_eq!(p.meta.revision, if e.seq == Some(fixed_seq) { 2 } else { 1 });
            }
            seqs.push(e.seq.unwrap());
        }
        let acked: Vec<u64> = entries.iter().map(|e| e.seq.unwrap()).collect();
        repo.acknowledge(&acked, &[], &[]).await.unwrap();
        if seqs.len() == 500 {
            // The first batch: the purchase typed before and 499 imported lines (the corrected
            // one's first version is not sent; its correction, still waiting, is).
            assert_eq!(repo.outbox_len().await.unwrap() as usize, N + 1 - 500, "the line corrected is still waiting");
            assert!(!sent.contains(&first.meta.id));
        }
    }
    assert_eq!(seqs.len(), N + 1);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seqs increase");
    assert_eq!((seqs[0], *seqs.last().unwrap()), (before_seq, fixed_seq), "the import's seqs lie between the saves around it");
    assert_eq!(sent, imported);
    assert_eq!(repo.outbox_len().await.unwrap(), 0);
    assert!(repo.outbox_batch(10).await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn a_large_file_with_one_bad_line_writes_nothing() {
    let repo = Repository::open_named(&unique_db("one-bad")).await.unwrap();
    match read(national(5_000, Some(2_500)).as_bytes(), &scope(SIRET), &HashSet::new()).await {
        Outcome::Refused(e) => {
            assert!(!e.duplicate);
            assert_eq!(e.errors.len(), 1, "{e}");
            assert_eq!(e.errors[0].line, Some(2_501), "{e}");
        }
        Outcome::Ready(_) => panic!("a file with a bad line accepted"),
    }
    assert!(repo.all::<Purchase>().await.unwrap().rows.is_empty());
    assert_eq!(repo.outbox_len().await.unwrap(), 0);
    assert!(repo.outbox_batch(10).await.unwrap().is_empty());
    assert!(repo.import_digests().await.unwrap().is_empty());
}

async fn wait(req: &web_sys::IdbRequest) -> wasm_bindgen::JsValue {
    use wasm_bindgen::JsCast;
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

/// A database at schema 2 (purchases keyed in line by `meta.id`, with a date index) holding
/// `purchases`, the first one queued.
async fn create_version_2(name: &str, purchases: &[Purchase]) {
    use wasm_bindgen::JsCast;
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let req = factory.open_with_u32(name, 2).unwrap();
    let upgrade_req = req.clone();
    let on_upgrade = wasm_bindgen::closure::Closure::once_into_js(move |_e: web_sys::Event| {
        let db: web_sys::IdbDatabase = upgrade_req.result().unwrap().unchecked_into();
        for (store, date) in [(stores::MEAL_COUNTS, "service_date"), (stores::WEIGHINGS, "service_date"), (stores::PURCHASES, "date")] {
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&"meta.id".into());
            let s = db.create_object_store_with_optional_parameters(store, &params).unwrap();
            s.create_index_with_str("by_date", date).unwrap();
        }
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_key_path(&"seq".into());
        params.set_auto_increment(true);
        let outbox = db.create_object_store_with_optional_parameters(stores::OUTBOX, &params).unwrap();
        outbox.create_index_with_str("by_record", "record_id").unwrap();
        db.create_object_store(stores::KV).unwrap();
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db: web_sys::IdbDatabase = wait(&req).await.unchecked_into();
    let names = js_sys::Array::of2(&stores::PURCHASES.into(), &stores::OUTBOX.into());
    let tx = db.transaction_with_str_sequence_and_mode(&names, web_sys::IdbTransactionMode::Readwrite).unwrap();
    let mut last = None;
    for (i, p) in purchases.iter().enumerate() {
        let value = assiette::storage::js_of(p).unwrap();
        last = Some(tx.object_store(stores::PURCHASES).unwrap().put(&value).unwrap());
        if i == 0 {
            let entry = js_sys::Object::new();
            for (k, v) in [("store", stores::PURCHASES.into()), ("record_id", p.meta.id.to_string().into()), ("revision", 1.0.into()), ("record", value)] {
                js_sys::Reflect::set(&entry, &k.into(), &v).unwrap();
            }
            last = Some(tx.object_store(stores::OUTBOX).unwrap().add(&entry).unwrap());
        }
    }
    wait(&last.unwrap()).await;
    db.close();
}

#[wasm_bindgen_test]
async fn purchases_stored_at_schema_2_are_kept_and_written_as_before_after_the_upgrade() {
    let name = unique_db("upgrade-2");
    let a = typed("Pommes golden", "Vergers de Caux", "02/03/2026", "12,50", Family::FruitsEtLegumes);
    let b = typed("Poulet fermier", "Volailles Normandes", "10/05/2026", "30", Family::ViandesVolailles);
    create_version_2(&name, &[a.clone(), b.clone()]).await;
    let repo = Repository::open_named(&name).await.unwrap();
    let mut all = repo.all::<Purchase>().await.unwrap().rows;
    all.sort_by_key(|p| p.description.clone());
    assert_eq!(all, vec![a.clone(), b.clone()]);
    assert_eq!(repo.get::<Purchase>(b.meta.id).await.unwrap(), Some(b.clone()));
    assert_eq!(repo.outbox_len().await.unwrap(), 1);
    // A correction replaces the stored copy (one record, not two); a stale one is refused.
    let fixed = PurchaseForm { price: "31".into(), ..PurchaseForm::from_purchase(&b) }.to_purchase(Some(&b), Uuid::nil(), now(), today()).unwrap();
    repo.save(&fixed).await.unwrap();
    assert!(matches!(repo.save(&b).await, Err(assiette::storage::StorageError::Stale(_))));
    assert_eq!(repo.all::<Purchase>().await.unwrap().rows.len(), 2);
    assert_eq!(repo.get::<Purchase>(b.meta.id).await.unwrap().unwrap().price_cents, 3_100);
    let entries = repo.outbox_batch(10).await.unwrap();
    assert_eq!(entries.iter().map(|e| (e.record_id, e.revision)).collect::<Vec<_>>(), vec![(a.meta.id, 1), (b.meta.id, 2)]);
    assert_eq!(repo.outbox_len().await.unwrap(), 2);
    // Keyed out of line now, without an index (a put no longer reads keys from a clone).
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let db: web_sys::IdbDatabase = wasm_bindgen::JsCast::unchecked_into(wait(&factory.open(&name).unwrap()).await);
    let store = db.transaction_with_str(stores::PURCHASES).unwrap().object_store(stores::PURCHASES).unwrap();
    assert!(store.key_path().unwrap().is_null());
    assert_eq!(store.index_names().length(), 0);
    assert!(!db.object_store_names().contains("purchases_v2"));
    db.close();
}
