//! Backup of all the tablet's data to a JSON file, and its import: the browser's side (reading
//! the repository in one transaction, writing a plan, files). The file's format, its reading
//! and checking, and the import plan are pure and live in `assiette_tablet::backup` (with the
//! module's decisions), re-exported here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use wasm_bindgen::JsCast;

pub use assiette_tablet::backup::*;

use crate::context::SiteProfile;
use crate::storage::{stores, Batch, Repository, StorageError};

/// A backup file written by [`export`], with what the note says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The file's JSON: a [`Backup`] as [`parse`] reads it.
    pub json: String,
    /// Records of the three stores, tombstones included.
    pub records: usize,
    /// Records with a change the server has not acknowledged (each record once).
    pub unsent: usize,
}

/// The head of a backup file (everything but the stores), in [`Backup`]'s field order.
#[derive(Serialize)]
struct ExportHead<'a> {
    format: &'a str,
    version: u32,
    exported_at: DateTime<Utc>,
    app_version: &'a str,
    profile: Option<&'a SiteProfile>,
    settings: &'a BackupSettings,
}

/// Everything the repository holds that a backup carries, as a file: the JSON of a [`Backup`]
/// whose records and outbox entries are the stored objects as the browser holds them
/// (JSON.stringify), not read into their types to be written back.
/// Everything is read in one read transaction: a save made meanwhile is wholly in the file
/// (record and outbox entry) or wholly out of it.
pub async fn export(repo: &Repository, profile: Option<&SiteProfile>, now: DateTime<Utc>) -> Result<Exported, StorageError> {
    let parts = [("meal_counts", stores::MEAL_COUNTS), ("weighings", stores::WEIGHINGS), ("purchases", stores::PURCHASES), ("outbox", stores::OUTBOX)];
    let mut what: Vec<(&str, Option<&str>)> = parts.iter().map(|(_, store)| (*store, None)).collect();
    what.push((stores::KV, Some(crate::sync::LAST_SYNC_KEY)));
    let mut values = repo.read_together(&what).await?;
    let settings = BackupSettings { last_sync: values.pop().and_then(|v| v.as_string()) };
    let head = ExportHead { format: BACKUP_FORMAT, version: BACKUP_VERSION, exported_at: now, app_version: env!("CARGO_PKG_VERSION"), profile, settings: &settings };
    let mut json = serde_json::to_string(&head).map_err(|e| StorageError::Serialization(e.to_string()))?;
    json.pop(); // the head's closing brace: the stores follow
    let (mut records, mut unsent) = (0, 0);
    // Read before the outbox (`parts`' order): the records of its packed entries.
    let mut purchases = js_sys::Array::new();
    for ((key, store), all) in parts.into_iter().zip(values) {
        let mut all: js_sys::Array = all.unchecked_into();
        if store == stores::PURCHASES {
            purchases = all.clone();
        }
        if store == stores::OUTBOX {
            // An imported file's entries are stored packed: the backup lists each one.
            all = crate::storage::expand_outbox(&all, &purchases);
            // Entries, not changes: a record corrected twice offline is one entry to send, as
            // the header counts it.
            let ids: std::collections::HashSet<String> =
                all.iter().filter_map(|e| js_sys::Reflect::get(&e, &"record_id".into()).ok()?.as_string()).collect();
            unsent = ids.len();
        } else {
            records += all.length() as usize;
        }
        let text = js_sys::JSON::stringify(&all).ok().and_then(|t| t.as_string()).ok_or_else(|| StorageError::Serialization("valeur illisible".to_owned()))?;
        json.push_str(&format!(",\"{key}\":{text}"));
    }
    json.push('}');
    Ok(Exported { json, records, unsent })
}

/// The local state the plan compares against, read from the stored objects' `meta` and
/// `site_id` (not the whole records).
pub async fn local_state(repo: &Repository, profile: Option<SiteProfile>) -> Result<LocalState, StorageError> {
    let get = |v: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(v, &key.into()).unwrap_or_default();
    let uuid = |v: wasm_bindgen::JsValue| v.as_string().and_then(|s| Uuid::parse_str(&s).ok());
    let site = profile.as_ref().map(|p| p.site_id);
    let mut revisions = HashMap::new();
    let mut has_own_records = false;
    let names = [stores::MEAL_COUNTS, stores::WEIGHINGS, stores::PURCHASES];
    let all = repo.read_together(&names.map(|store| (store, None))).await?;
    for (store, records) in names.into_iter().zip(all) {
        for record in records.unchecked_into::<js_sys::Array>().iter() {
            let meta = get(&record, "meta");
            if let (Some(id), Some(revision)) = (uuid(get(&meta, "id")), get(&meta, "revision").as_f64()) {
                revisions.insert(id, revision as u64);
            }
            // Purchases have no site id (their SIRET is the commune's).
            has_own_records |= store != stores::PURCHASES && site.is_some() && uuid(get(&record, "site_id")) == site;
        }
    }
    Ok(LocalState { revisions, profile, has_own_records })
}

/// Records written per transaction by [`apply`]: one durable commit per chunk instead of one
/// per record (a year of one site went from seconds to a fraction of one), and progress
/// between chunks.
const IMPORT_CHUNK: usize = 500;

/// Writes the plan: records first (each with its outbox entry, a chunk of records per
/// transaction), then the adopted profile. `progress(done, total)` is called after each chunk.
/// On a storage failure, the chunks already written stay and the same file can be imported
/// again to finish.
pub async fn apply(repo: &Repository, plan: &ImportPlan, progress: impl Fn(usize, usize)) -> Result<ImportReport, (StorageError, usize)> {
    let total = plan.record_count();
    let mut done = 0;
    // Only what the server has not acknowledged is queued: see the module's decisions.
    let queue = |id: &Uuid| plan.to_send.contains(id);
    let batches: Vec<Batch> = plan.meal_counts.chunks(IMPORT_CHUNK).map(|c| Batch::new(c, |r| queue(&r.meta.id)))
        .chain(plan.weighings.chunks(IMPORT_CHUNK).map(|c| Batch::new(c, |r| queue(&r.meta.id))))
        .chain(plan.purchases.chunks(IMPORT_CHUNK).map(|c| Batch::new(c, |r| queue(&r.meta.id))))
        .collect();
    for batch in batches {
        let len = batch.len();
        repo.write_batch(batch).await.map_err(|e| (e, done))?;
        done += len;
        progress(done, total);
    }
    let adopted = if let ProfileAction::Adopt(p) = &plan.profile {
        repo.set_setting(crate::context::PROFILE_KEY, p).await.map_err(|e| (e, done))?;
        true
    } else {
        false
    };
    Ok(ImportReport {
        meal_counts: plan.meal_counts.len(),
        weighings: plan.weighings.len(),
        purchases: plan.purchases.len(),
        already_present: plan.already_present,
        unsent: plan.unsent,
        profile_adopted: adopted,
    })
}

/// Reads a chosen file as text, refusing files too large to be a backup.
pub async fn read_file(file: &web_sys::File) -> Result<String, String> {
    if file.size() > MAX_BACKUP_BYTES {
        return Err(format!(
            "Import impossible, rien n'a été modifié : le fichier « {} » est trop gros pour une sauvegarde Assiette (plus de 50 Mo).",
            file.name()
        ));
    }
    let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.map_err(|_| {
        format!("Import impossible, rien n'a été modifié : le fichier « {} » n'a pas pu être lu. Choisissez-le de nouveau.", file.name())
    })?;
    text.as_string().ok_or_else(|| "Import impossible, rien n'a été modifié : le fichier n'est pas un texte.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_domain::purchase::Purchase;
    use assiette_domain::waste::Weighing;
    use assiette_tablet::backup::fixtures::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    async fn applying_writes_every_record_and_queues_only_the_unsent_ones() {
        let repo = Repository::open_named(&format!("unit-import-{}", Uuid::now_v7())).await.unwrap();
        let local = LocalState { revisions: HashMap::new(), profile: None, has_own_records: false };
        let p = plan(&sample(), &local).unwrap();
        let report = apply(&repo, &p, |_, _| {}).await.unwrap();
        assert_eq!((report.meal_counts, report.weighings, report.unsent), (1, 2, 1));
        assert_eq!(repo.all::<Weighing>().await.unwrap().rows.len(), 2);
        let queued: Vec<Uuid> = repo.outbox_batch(10).await.unwrap().iter().map(|e| e.record_id).collect();
        assert_eq!(queued, vec![Uuid::from_u128(11)]);
    }

    fn purchase(id: u128) -> Purchase {
        serde_json::from_str(&format!(
            r#"{{"meta":{{"id":"{}","revision":2,"modified_at":"2026-03-02T10:00:00Z"}},"siret":"21760351500008",
            "description":"Pommes « bio »","fournisseur":"Ferme","date":"2026-03-02","prix_ht_cents":1250,
            "famille_produits":"FRUITS_ET_LEGUMES","caracteristiques":["BIO"]}}"#,
            Uuid::from_u128(id)
        ))
        .unwrap()
    }

    /// A repository holding a meal count, two weighings (one unsent, refused) and a purchase.
    async fn filled_repo() -> Repository {
        let repo = Repository::open_named(&format!("unit-export-{}", Uuid::now_v7())).await.unwrap();
        let (w1, w2) = (weighing(11, 1, 2, 4_500), weighing(12, 1, 1, 3_000));
        repo.save_many(&[w1.clone(), w2], |w| w.meta.id == w1.meta.id).await.unwrap();
        repo.save_many(&[count(10, 1, 1)], |_| false).await.unwrap();
        repo.save_many(&[purchase(13)], |_| false).await.unwrap();
        repo.acknowledge(&[], &[crate::storage::ToReview::new(1, "Refusé par le serveur : non")], &[]).await.unwrap();
        repo.set_setting(crate::sync::LAST_SYNC_KEY, &"2026-03-19T16:00:00Z").await.unwrap();
        repo
    }

    #[wasm_bindgen_test]
    async fn an_export_is_a_backup_of_every_store_that_reads_back() {
        let repo = filled_repo().await;
        let profile = profile(1, "École Jean-Jaurès");
        let exported = export(&repo, Some(&profile), now()).await.unwrap();
        assert_eq!((exported.records, exported.unsent), (4, 1));
        let outbox = repo.outbox_batch(10).await.unwrap();
        assert_eq!(outbox[0].rejected.as_deref(), Some("Refusé par le serveur : non"));
        let expected = Backup::new(
            env!("CARGO_PKG_VERSION"),
            now(),
            Some(profile),
            BackupSettings { last_sync: Some("2026-03-19T16:00:00Z".to_owned()) },
            vec![count(10, 1, 1)],
            vec![weighing(11, 1, 2, 4_500), weighing(12, 1, 1, 3_000)],
            vec![purchase(13)],
            outbox,
        );
        assert_eq!(parse(&exported.json, today()).unwrap(), Parsed { backup: expected.clone(), left_out: vec![] });
        // The JSON the typed backup writes, but for the order of each outbox entry's keys.
        assert!(exported.json.starts_with(&serde_json::to_string(&expected).unwrap()[..120]), "{}", exported.json);
        let as_value = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
        assert_eq!(as_value(&exported.json), as_value(&expected.to_json()));
        // An empty tablet: empty lists, no profile, no settings.
        let empty = Repository::open_named(&format!("unit-export-empty-{}", Uuid::now_v7())).await.unwrap();
        let exported = export(&empty, None, now()).await.unwrap();
        let nothing = Backup::new(env!("CARGO_PKG_VERSION"), now(), None, BackupSettings::default(), vec![], vec![], vec![], vec![]);
        assert_eq!(exported.json, nothing.to_json());
        assert_eq!((exported.records, exported.unsent), (0, 0));
    }

    #[wasm_bindgen_test]
    async fn an_export_is_one_snapshot_that_a_save_started_meanwhile_is_wholly_out_of() {
        let repo = filled_repo().await;
        let exporting = export(&repo, None, now());
        let late = weighing(40, 1, 1, 900);
        let saved = std::rc::Rc::new(std::cell::Cell::new(false));
        let (r, w, flag) = (repo.clone(), late.clone(), saved.clone());
        // Starts once the export has begun reading (it is polled first, below).
        wasm_bindgen_futures::spawn_local(async move {
            r.save(&w).await.unwrap();
            flag.set(true);
        });
        let exported = exporting.await.unwrap();
        let parsed = parse(&exported.json, today()).unwrap();
        assert_eq!(parsed.left_out, Vec::<String>::new());
        assert!(!parsed.backup.weighings.iter().any(|x| x.meta.id == late.meta.id), "the save is not half in the file");
        assert!(!parsed.backup.outbox.iter().any(|e| e.record_id == late.meta.id));
        assert_eq!((exported.records, exported.unsent), (4, 1));
        for _ in 0..200 {
            if saved.get() {
                break;
            }
            let tick = js_sys::Promise::new(&mut |resolve, _| {
                let _ = web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10);
            });
            let _ = wasm_bindgen_futures::JsFuture::from(tick).await;
        }
        assert_eq!(repo.get::<Weighing>(late.meta.id).await.unwrap(), Some(late));
    }

    #[wasm_bindgen_test]
    async fn the_local_state_holds_every_revision_and_whether_the_site_has_entries() {
        let repo = filled_repo().await;
        let local = local_state(&repo, Some(profile(1, "École Jean-Jaurès"))).await.unwrap();
        let expected: HashMap<Uuid, u64> = [(10, 1), (11, 2), (12, 1), (13, 2)].into_iter().map(|(id, r)| (Uuid::from_u128(id), r)).collect();
        assert_eq!(local.revisions, expected);
        assert!(local.has_own_records);
        assert_eq!(local.profile.as_ref().map(|p| p.site_id), Some(Uuid::from_u128(1)));
        // Another site's profile, or none: no own entries (purchases carry no site id).
        assert!(!local_state(&repo, Some(profile(5, "Les Tilleuls"))).await.unwrap().has_own_records);
        let none = local_state(&repo, None).await.unwrap();
        assert!(!none.has_own_records && none.revisions.len() == 4);
    }
}
