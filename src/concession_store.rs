//! The commune's delegated-management records on this device (office bundle): the contract,
//! the checklist progress and the metropolis' follow-up note of each commune, and their sync
//! with `/api/v1/concession/push` and `/pull` (docs/sync.md, « Commune records »).
//!
//! They are few and small (three per commune), so they live in one settings record of
//! IndexedDB (`concession_records`), held in memory once read: every change is made to the
//! in-memory copy (no await between reading and changing it) and the whole copy is then written
//! in one durable transaction, in the order the changes were made. A change is shown as saved
//! only once that transaction has committed, and stays marked « à envoyer » (`pending`) until
//! the server acknowledges that very revision. The server's decisions and the merge of a
//! checklist are the domain's (`assiette_domain::concession::sync`).

use std::cell::RefCell;
use std::collections::BTreeMap;

use assiette_domain::concession::sync::{
    after_reply, merge_pulled, pulled_supersedes, CommuneRecord, CommuneRecordKind, ConcessionPullResponse, ConcessionPushResponse,
    ConcessionStatus,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::session::{request, HttpError};
use crate::storage::{Repository, StorageError};

/// Settings key of every commune's records on this device.
pub const KEY: &str = "concession_records";

/// One record as this device holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub record: CommuneRecord,
    /// Saved here, not yet acknowledged by the server.
    pub pending: bool,
    /// Why the server did not take it (a refusal, or a version changed elsewhere): the person
    /// decides; it is not sent again until then.
    #[serde(default)]
    pub problem: Option<String>,
    /// The server's version, after a conflict.
    #[serde(default)]
    pub server: Option<CommuneRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Local {
    /// By commune INSEE code, then by kind code.
    #[serde(default)]
    pub communes: BTreeMap<String, BTreeMap<String, Slot>>,
    /// The pull cursor, and the account it belongs to (another account starts again).
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub account: Option<uuid::Uuid>,
}

impl Local {
    pub fn slot(&self, insee: &str, kind: CommuneRecordKind) -> Option<&Slot> {
        self.communes.get(insee).and_then(|c| c.get(kind.code()))
    }

    pub fn pending_count(&self) -> usize {
        self.communes.values().flat_map(|c| c.values()).filter(|s| s.pending).count()
    }
}

thread_local! {
    static CACHE: RefCell<Option<Local>> = const { RefCell::new(None) };
    // Reference-counted signals: owned by no page, so not disposed when a page is left.
    static VERSION: ArcRwSignal<u64> = ArcRwSignal::new(0);
    static SYNCING: RefCell<bool> = const { RefCell::new(false) };
    static LAST_ERROR: ArcRwSignal<Option<String>> = ArcRwSignal::new(None);
}

/// Bumped at every change: the pages re-read.
pub fn version() -> ArcRwSignal<u64> {
    VERSION.with(|v| v.clone())
}

/// The last sync's failure, in French (`None` once a sync went through).
pub fn last_error() -> ArcRwSignal<Option<String>> {
    LAST_ERROR.with(|v| v.clone())
}

/// The records on this device (read from IndexedDB the first time).
pub async fn load(repo: &Repository) -> Result<Local, StorageError> {
    if let Some(l) = CACHE.with(|c| c.borrow().clone()) {
        return Ok(l);
    }
    let stored: Local = repo.setting(KEY).await?.unwrap_or_default();
    // Another read may have filled it meanwhile: the first one wins (the same stored value).
    Ok(CACHE.with(|c| c.borrow_mut().get_or_insert(stored).clone()))
}

/// Changes the in-memory copy and writes it whole, durably. Resolves once committed.
async fn change<R>(repo: &Repository, f: impl FnOnce(&mut Local) -> R) -> Result<R, StorageError> {
    load(repo).await?;
    let (result, snapshot) = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let local = c.get_or_insert_with(Local::default);
        let r = f(local);
        (r, local.clone())
    });
    // Converted now and its transaction opened at the first poll, just below: writes are
    // ordered as the changes were.
    let written = repo.set_setting(KEY, &snapshot).await;
    version().update(|v| *v += 1);
    written.map(|_| result)
}

/// Saves a record made here (a new revision, or a checklist with new ticks): on the device
/// first, then sent when possible.
pub async fn save(repo: &Repository, record: CommuneRecord) -> Result<(), StorageError> {
    let insee = record.commune_insee_code().to_owned();
    let kind = record.kind().code();
    change(repo, move |l| {
        l.communes.entry(insee).or_default().insert(kind.to_owned(), Slot { record, pending: true, problem: None, server: None });
    })
    .await
}

/// After a conflict: the person keeps their version (sent as the revision after the server's).
pub async fn keep_mine(repo: &Repository, insee: &str, kind: CommuneRecordKind) -> Result<(), StorageError> {
    change(repo, |l| {
        if let Some(slot) = l.communes.get_mut(insee).and_then(|c| c.get_mut(kind.code())) {
            let above = slot.server.as_ref().map_or(0, |s| s.meta().revision).max(slot.record.meta().revision);
            let meta = slot.record.meta_mut();
            meta.revision = above + 1;
            meta.modified_at = chrono::Utc::now();
            meta.server_updated_at = None;
            slot.pending = true;
            slot.problem = None;
            slot.server = None;
        }
    })
    .await
}

/// After a conflict or a refusal: the person gives their version up (the server's is kept, if
/// there is one).
pub async fn give_up_mine(repo: &Repository, insee: &str, kind: CommuneRecordKind) -> Result<(), StorageError> {
    change(repo, |l| {
        if let Some(c) = l.communes.get_mut(insee) {
            match c.get(kind.code()).and_then(|s| s.server.clone()) {
                Some(server) => {
                    c.insert(kind.code().to_owned(), Slot { record: server, pending: false, problem: None, server: None });
                }
                None => {
                    c.remove(kind.code());
                }
            }
        }
    })
    .await
}

/// Pushes what waits, then pulls what changed, with the person's session token. One run at a
/// time; a run asked for during another is skipped (the running one, or the next, sends it).
/// `Err`: the French reason (offline, session expired…), also kept in [`last_error`].
pub async fn sync(repo: &Repository, token: &str, account: uuid::Uuid) -> Result<(), String> {
    if SYNCING.with(|s| std::mem::replace(&mut *s.borrow_mut(), true)) {
        return Ok(());
    }
    let result = run(repo, token, account).await;
    SYNCING.with(|s| *s.borrow_mut() = false);
    last_error().set(result.as_ref().err().cloned());
    result
}

fn http_fr(e: HttpError) -> String {
    e.message_fr()
}

async fn run(repo: &Repository, token: &str, account: uuid::Uuid) -> Result<(), String> {
    let local = load(repo).await.map_err(|e| e.message_fr())?;
    // Push: the latest version of every record waiting, not set aside.
    let sent: Vec<CommuneRecord> =
        local.communes.values().flat_map(|c| c.values()).filter(|s| s.pending && s.problem.is_none()).map(|s| s.record.clone()).collect();
    if !sent.is_empty() {
        let body = serde_json::json!({ "records": sent }).to_string();
        match request("POST", "/api/v1/concession/push", Some(token), Some(body)).await {
            Ok(text) => {
                let reply: ConcessionPushResponse = serde_json::from_str(&text).map_err(|e| format!("Réponse du serveur illisible : {e}"))?;
                change(repo, |l| {
                    for (s, status) in sent.iter().zip(&reply.results) {
                        apply_reply(l, s, status);
                    }
                })
                .await
                .map_err(|e| e.message_fr())?;
            }
            Err(HttpError::Refused { status: 403, message, .. }) => {
                // Out of the account's scope (a commune taken away since): kept, shown.
                change(repo, |l| {
                    for s in &sent {
                        if let Some(slot) = l.communes.get_mut(s.commune_insee_code()).and_then(|c| c.get_mut(s.kind().code())) {
                            slot.problem = Some(message.clone());
                        }
                    }
                })
                .await
                .map_err(|e| e.message_fr())?;
            }
            Err(e) => return Err(http_fr(e)),
        }
    }
    // Pull, page after page, from the account's cursor.
    let mut cursor = if local.account == Some(account) { local.cursor.clone() } else { None };
    loop {
        let body = serde_json::json!({ "cursor": cursor, "limit": 200 }).to_string();
        let text = request("POST", "/api/v1/concession/pull", Some(token), Some(body)).await.map_err(http_fr)?;
        let page: ConcessionPullResponse = serde_json::from_str(&text).map_err(|e| format!("Réponse du serveur illisible : {e}"))?;
        let next = page.next_cursor.clone();
        change(repo, |l| {
            for c in page.changes {
                apply_pulled(l, c.record);
            }
            l.cursor = Some(next.clone());
            l.account = Some(account);
        })
        .await
        .map_err(|e| e.message_fr())?;
        cursor = Some(next);
        if !page.has_more {
            return Ok(());
        }
    }
}

/// The server's answer for `sent`, applied to what the device holds now.
fn apply_reply(l: &mut Local, sent: &CommuneRecord, status: &ConcessionStatus) {
    let Some(slot) = l.communes.get_mut(sent.commune_insee_code()).and_then(|c| c.get_mut(sent.kind().code())) else { return };
    match status {
        ConcessionStatus::Conflict { current } => {
            if slot.record.meta().revision == sent.meta().revision {
                slot.problem = Some("Modifié entre-temps sur un autre appareil : choisissez la version à garder.".to_owned());
                slot.server = Some(current.clone());
            }
        }
        ConcessionStatus::Rejected { reason, .. } => {
            if slot.record.meta().revision == sent.meta().revision {
                slot.problem = Some(format!("Refusé par le serveur : {reason}"));
            }
        }
        _ => {
            if let Some((record, pending)) = after_reply(sent, &slot.record, status) {
                slot.record = record;
                slot.pending = pending;
            }
        }
    }
}

/// A pulled record: a checklist is merged; another kind replaces the copy here unless this
/// device has a change still to send (the push then meets the server's version and the person
/// chooses).
fn apply_pulled(l: &mut Local, pulled: CommuneRecord) {
    let commune = l.communes.entry(pulled.commune_insee_code().to_owned()).or_default();
    let kind = pulled.kind().code().to_owned();
    match (commune.get_mut(&kind), pulled) {
        (Some(slot), CommuneRecord::Checklist(p)) => {
            if let CommuneRecord::Checklist(mine) = &slot.record {
                let (merged, pending) = merge_pulled(mine, &p);
                slot.pending = pending;
                slot.record = CommuneRecord::Checklist(merged);
            }
        }
        (Some(slot), pulled) => {
            if !slot.pending && pulled_supersedes(slot.record.meta(), pulled.meta()) {
                slot.record = pulled;
            }
        }
        (None, pulled) => {
            commune.insert(kind, Slot { record: pulled, pending: false, problem: None, server: None });
        }
    }
}

/// Syncs now in the background with the stored session, if someone is signed in.
pub fn sync_soon(repo: Repository) {
    leptos::task::spawn_local(async move {
        if let Ok(Some(s)) = crate::session::load(&repo).await {
            if !s.expired {
                let _ = sync(&repo, &s.token, s.account.id).await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_domain::concession::progress::ChecklistProgress;
    use assiette_domain::concession::sync::CommuneChecklist;
    use assiette_domain::record::RecordMeta;
    use chrono::{TimeDelta, Utc};
    use uuid::Uuid;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn checklist(ticks: &[(&str, &str)], revision: u64) -> CommuneChecklist {
        let mut progress = ChecklistProgress::default();
        for (i, (s, c)) in ticks.iter().enumerate() {
            progress.set_tick(s, c, true, Utc::now() - TimeDelta::seconds(100 - i as i64), Uuid::from_u128(1));
        }
        CommuneChecklist { meta: RecordMeta { revision, ..RecordMeta::new(Uuid::from_u128(9), Utc::now()) }, commune_insee_code: "76447".into(), progress }
    }

    /// A tick is on disk (read back by a fresh reader) and waits for the server; the server's
    /// merged reply, arriving after another tick was made, keeps both and leaves it waiting;
    /// a pulled copy from someone else is merged, never replacing local ticks.
    #[wasm_bindgen_test]
    async fn ticks_are_on_disk_before_they_are_sent_and_survive_replies_and_pulls() {
        let name = format!("assiette-concession-{}", Uuid::now_v7());
        let repo = Repository::open_named(&name).await.unwrap();
        CACHE.with(|c| *c.borrow_mut() = None);
        let first = CommuneRecord::Checklist(checklist(&[("diagnostic", "liste-restaurants")], 1));
        save(&repo, first.clone()).await.unwrap();
        let on_disk: Local = repo.setting(KEY).await.unwrap().unwrap();
        let slot = on_disk.slot("76447", CommuneRecordKind::Checklist).unwrap();
        assert!(slot.pending && slot.record == first, "written before the save resolves");
        assert_eq!(on_disk.pending_count(), 1);

        // Another tick while the push travels; then the server's merge (with someone's tick) comes back.
        let second = CommuneRecord::Checklist(checklist(&[("diagnostic", "liste-restaurants"), ("menus", "menu-vegetarien")], 1));
        save(&repo, second).await.unwrap();
        let server = CommuneRecord::Checklist(checklist(&[("diagnostic", "liste-restaurants"), ("suivi", "commission-menus")], 2));
        change(&repo, |l| apply_reply(l, &first, &ConcessionStatus::Applied { current: server.clone() })).await.unwrap();
        CACHE.with(|c| *c.borrow_mut() = None);
        let l = load(&repo).await.unwrap();
        let slot = l.slot("76447", CommuneRecordKind::Checklist).unwrap();
        let CommuneRecord::Checklist(c) = &slot.record else { panic!() };
        assert!(slot.pending, "the tick made meanwhile still waits");
        for (s, cp) in [("diagnostic", "liste-restaurants"), ("menus", "menu-vegetarien"), ("suivi", "commission-menus")] {
            assert!(c.progress.is_ticked(s, cp), "{cp}");
        }

        // A conflict on the contract is kept with the server's version, not sent again.
        use assiette_domain::concession::{CateringContract, ContractTargets, ContractType, ReportingFrequency};
        let contract = CateringContract {
            meta: RecordMeta::new(Uuid::from_u128(7), Utc::now()),
            commune_insee_code: "76447".into(),
            caterer_name: "Restauration Normande SAS".into(),
            caterer_siren: "732829320".into(),
            contract_type: ContractType::ServicesContract,
            start_date: chrono::NaiveDate::from_ymd_opt(2024, 9, 1).unwrap(),
            end_date: chrono::NaiveDate::from_ymd_opt(2028, 8, 31).unwrap(),
            site_sirets: vec!["21010034300016".into()],
            targets: ContractTargets { egalim_percent: Some(55), organic_percent: None, waste_grams_per_meal: None, reporting_frequency: ReportingFrequency::Quarterly },
            committee: vec![],
        };
        let mine = CommuneRecord::CateringContract(contract.clone());
        save(&repo, mine.clone()).await.unwrap();
        let mut theirs = contract.clone();
        theirs.caterer_name = "Cuisine Centrale".into();
        change(&repo, |l| apply_reply(l, &mine, &ConcessionStatus::Conflict { current: CommuneRecord::CateringContract(theirs.clone()) })).await.unwrap();
        let l = load(&repo).await.unwrap();
        let slot = l.slot("76447", CommuneRecordKind::CateringContract).unwrap();
        assert!(slot.problem.is_some() && slot.server.is_some() && slot.pending);
        // A pull of the server's version does not replace a version waiting to be sent.
        change(&repo, |l| apply_pulled(l, CommuneRecord::CateringContract(theirs.clone()))).await.unwrap();
        assert_eq!(load(&repo).await.unwrap().slot("76447", CommuneRecordKind::CateringContract).unwrap().record, mine);
        // « Garder ma version »: the revision after the server's, sent again.
        keep_mine(&repo, "76447", CommuneRecordKind::CateringContract).await.unwrap();
        let slot = load(&repo).await.unwrap().slot("76447", CommuneRecordKind::CateringContract).cloned().unwrap();
        assert_eq!(slot.record.meta().revision, 2);
        assert!(slot.pending && slot.problem.is_none());
        repo.close();
        CACHE.with(|c| *c.borrow_mut() = None);
    }
}
