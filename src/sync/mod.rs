//! Client sync engine (protocol: docs/sync.md). `machine` decides when; `run_once` does one
//! sync (push the outbox in batches, then pull pages); `start` wires the browser's triggers
//! (start-up, saves, `online`, `visibilitychange`, a backoff timer) and one lock across tabs.

pub use assiette_tablet::machine;
pub mod transport;

use std::cell::RefCell;
use std::rc::Rc;

use assiette_domain::sync::{EnrolRequest, EnrolResponse, PullRequest, PushResponse, RecordKind, RecordPayload, SiteInfo, MAX_BODY_BYTES};
use assiette_tablet::outbox::plan_outbox;
use assiette_tablet::push::{mutation_len, plan_batches, push_body, Outgoing, PushQueue, Refusal};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::context::{AppContext, PROFILE_KEY};
use crate::storage::{js_of, stores, OutboxEntry, PulledRecord, Repository, StorageError, ToReview};
use machine::{Command, Event, Machine};
use transport::TransportError;

/// Settings key of the last successful sync (RFC 3339).
pub const LAST_SYNC_KEY: &str = "last_sync";
/// Settings key of the pull cursor (opaque, from the server).
pub const CURSOR_KEY: &str = "pull_cursor";
/// Settings key of the enrolment (device id, token, site).
pub const CREDENTIALS_KEY: &str = "sync_credentials";
/// Mutations per push (the server accepts up to 1000).
const PUSH_BATCH: u32 = 500;
const PULL_PAGE: u32 = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub device_id: Uuid,
    pub token: String,
    pub site: SiteInfo,
}

/// Who signs a sync run in the office bundle: the id its pushes carry (a tablet's `device_id`,
/// or a signed-in person's registered `client_id`) and its bearer token. A tablet pulls its own
/// site with `CURSOR_KEY`; a person pulls each site of `sites` with its own cursor key.
#[cfg(feature = "office")]
#[derive(Debug, Clone, PartialEq)]
pub struct Signer {
    pub device_id: Uuid,
    pub token: String,
    /// A person's session, not a tablet's enrolment: a 401 ends the session.
    pub person: bool,
    /// A person's sites and the settings key of each one's pull cursor (empty for a tablet).
    pub sites: Vec<(Uuid, String)>,
}

/// The kitchen bundle (built without `office`, see Cargo.toml) signs only as the tablet: its
/// engine is the tablet's alone, with none of the session code in its wasm.
#[cfg(not(feature = "office"))]
pub type Signer = Credentials;

#[cfg(feature = "office")]
impl Signer {
    pub fn device(creds: &Credentials) -> Signer {
        Signer { device_id: creds.device_id, token: creds.token.clone(), person: false, sites: Vec::new() }
    }
}

/// How the office bundle signs with a person's session: set once by the office app.
/// `signer` answers `None` when no one is signed in (the tablet's enrolment is used then);
/// `expired` is told of a 401 and returns the message to show.
#[cfg(feature = "office")]
pub trait PersonSync {
    fn signer(&self, repo: Repository) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Signer>>>>;
    fn expired(&self, repo: Repository) -> std::pin::Pin<Box<dyn std::future::Future<Output = String>>>;
}

#[cfg(feature = "office")]
thread_local! {
    static PERSON_SYNC: RefCell<Option<Rc<dyn PersonSync>>> = const { RefCell::new(None) };
}

/// Installs the office bundle's session signer (before the shell starts the engine).
#[cfg(feature = "office")]
pub fn set_person_sync(p: Rc<dyn PersonSync>) {
    PERSON_SYNC.with(|s| *s.borrow_mut() = Some(p));
}

#[cfg(feature = "office")]
fn person_sync() -> Option<Rc<dyn PersonSync>> {
    PERSON_SYNC.with(|s| s.borrow().clone())
}

/// The signer of the next run: a signed-in person's session first, else the enrolment.
#[cfg(feature = "office")]
async fn current_signer(repo: &Repository) -> Option<Signer> {
    if let Some(p) = person_sync() {
        if let Some(signer) = p.signer(repo.clone()).await {
            return Some(signer);
        }
    }
    let creds: Option<Credentials> = repo.setting(CREDENTIALS_KEY).await.ok().flatten();
    creds.as_ref().map(Signer::device)
}

/// "29/11/2026 à 14:05" in the device's time zone, or the raw value if unreadable.
pub fn format_last_sync(rfc3339: &str) -> String {
    match assiette_domain::time::parse_rfc3339(rfc3339) {
        Some(t) => {
            // Built by hand: chrono's strftime machinery would add ~10 KB to the wasm.
            use chrono::Timelike;
            let local = t.with_timezone(&chrono::Local);
            let date = assiette_domain::number::format_fr_date(local.date_naive());
            format!("{date} à {:02}:{:02}", local.hour(), local.minute())
        }
        None => rfc3339.to_owned(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncError {
    Storage(StorageError),
    Transport(TransportError),
}

impl SyncError {
    pub fn message_fr(&self) -> String {
        match self {
            SyncError::Storage(e) => e.message_fr(),
            SyncError::Transport(e) => e.message_fr(),
        }
    }
}

impl From<StorageError> for SyncError {
    fn from(e: StorageError) -> Self {
        SyncError::Storage(e)
    }
}
impl From<TransportError> for SyncError {
    fn from(e: TransportError) -> Self {
        SyncError::Transport(e)
    }
}

/// The record store of each kind.
fn store_of(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::MealCount => stores::MEAL_COUNTS,
        RecordKind::Weighing => stores::WEIGHINGS,
        RecordKind::Purchase => stores::PURCHASES,
    }
}

/// A record's JSON read as its kind's type, with the storage's reader (a `kind` key in it is
/// ignored): one reader per type for the outbox, the pull and the push reply.
fn read_record(kind: RecordKind, json: &str) -> Option<RecordPayload> {
    use assiette_domain::{meals::DailyMealCount, purchase::Purchase, waste::Weighing};
    Some(match kind {
        RecordKind::MealCount => RecordPayload::MealCount(serde_json::from_str::<DailyMealCount>(json).ok()?),
        RecordKind::Weighing => RecordPayload::Weighing(serde_json::from_str::<Weighing>(json).ok()?),
        RecordKind::Purchase => RecordPayload::Purchase(serde_json::from_str::<Purchase>(json).ok()?),
    })
}

/// A record's JS object as the storage holds it (its own type's JSON, without `kind`).
fn stored_js(record: &RecordPayload) -> Result<JsValue, StorageError> {
    match record {
        RecordPayload::MealCount(r) => js_of(r),
        RecordPayload::Weighing(r) => js_of(r),
        RecordPayload::Purchase(r) => js_of(r),
    }
}

/// The seq (the device's sequence number) and kind of an outbox entry the server can read:
/// its record must read as its own type (with the same `from_str` as the storage), or the
/// server would refuse the whole batch for it.
fn sendable(entry: &OutboxEntry) -> Option<(u64, RecordKind)> {
    let kind = RecordKind::ALL.into_iter().find(|k| store_of(*k) == entry.store)?;
    read_record(kind, entry.record.get())?;
    Some((entry.seq?, kind))
}

/// A pull page as the tablet reads it (the JSON of the domain's `PullResponse`), parsed by the
/// browser's JSON: each record that reads as its type and passes `check_pulled` is stored as the
/// JS object the server's JSON gives; the others are skipped and reported.
#[derive(Debug)]
struct PullPage {
    records: Vec<PulledRecord>,
    /// Why each skipped change was skipped (French).
    skipped: Vec<String>,
    next_cursor: String,
    has_more: bool,
}

/// Reads a pull reply. A page without its changes, cursor or `has_more` is refused (nothing of
/// it is stored). A change whose record cannot be stored (its head, `server_seq`, `kind`,
/// `meta.id`, `meta.revision`, missing or malformed; the record unreadable as its type or
/// refused by the domain's validation) is skipped and reported, and the rest of the page is
/// stored: one bad record never stalls the site's pull nor breaks a screen.
fn read_pull_page(text: &str) -> Result<PullPage, String> {
    use js_sys::Array;
    let (get, is_object, whole) = (js_get, js_is_object, js_whole);
    let page = js_sys::JSON::parse(text).map_err(|_| "JSON invalide".to_owned())?;
    if !is_object(&page) {
        return Err("ce n'est pas une page de changements".to_owned());
    }
    let changes = get(&page, "changes");
    let next_cursor = get(&page, "next_cursor").as_string();
    let has_more = get(&page, "has_more").as_bool();
    let (Some(next_cursor), Some(has_more), true) = (next_cursor, has_more, Array::is_array(&changes)) else {
        return Err("changes, next_cursor ou has_more manquant".to_owned());
    };
    let changes: Array = changes.unchecked_into();
    let mut records = Vec::with_capacity(changes.length() as usize);
    let mut skipped = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let record = get(&change, "record");
        let meta = get(&record, "meta");
        let head = (
            whole(get(&change, "server_seq")),
            get(&record, "kind").as_string().and_then(|k| RecordKind::from_code(&k)),
            get(&meta, "id").as_string().and_then(|id| Uuid::parse_str(&id).ok()),
            whole(get(&meta, "revision")),
        );
        let (Some(_), Some(kind), Some(id), Some(revision), true, true) = (head.0, head.1, head.2, head.3, is_object(&record), is_object(&meta))
        else {
            skipped.push(format!("changement n° {} : server_seq, kind, meta.id ou meta.revision absent ou invalide", i + 1));
            continue;
        };
        let json = js_sys::JSON::stringify(&record).ok().and_then(|t| t.as_string()).unwrap_or_default();
        let checked = match read_record(kind, &json) {
            None => Err(format!("{} {id} : illisible", kind.label_fr())),
            Some(typed) if typed.id() != id || typed.revision() != revision => Err(format!("{} {id} : illisible", kind.label_fr())),
            Some(typed) => assiette_tablet::pull::check_pulled(&typed),
        };
        match checked {
            Ok(()) => records.push(PulledRecord { store: store_of(kind), id, revision, record }),
            Err(why) => skipped.push(why),
        }
    }
    Ok(PullPage { records, skipped, next_cursor, has_more })
}

/// `value[key]` (undefined when absent or when `value` is not an object).
fn js_get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or_default()
}

/// A JSON object (not an array, not null).
fn js_is_object(value: &JsValue) -> bool {
    value.is_object() && !js_sys::Array::is_array(value)
}

/// A JSON number that is a whole number a u64 holds.
fn js_whole(value: JsValue) -> Option<u64> {
    value.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u64::MAX as f64).map(|n| n as u64)
}

/// Reads a push reply (the JSON of the domain's `PushResponse`) with the browser's JSON: the
/// same results as the domain's reader for every reply the server writes, without carrying its
/// generic reader in the wasm; a conflict's `current` record is read as its own type with the
/// storage's `from_str`. A result that is missing a field of its status, or has one of the wrong
/// type, refuses the reply (nothing of it is applied), as the domain's reader does.
fn read_push_reply(text: &str) -> Result<PushResponse, String> {
    use assiette_domain::sync::{MutationResult, MutationStatus};
    use assiette_domain::validation::FieldError;
    let reply = js_sys::JSON::parse(text).map_err(|_| "JSON invalide".to_owned())?;
    let results = js_get(&reply, "results");
    if !js_is_object(&reply) || !js_sys::Array::is_array(&results) {
        return Err("results manquant".to_owned());
    }
    let text_of = |v: &JsValue| js_sys::JSON::stringify(v).ok().and_then(|t| t.as_string()).unwrap_or_default();
    let record = |v: JsValue| -> Option<RecordPayload> {
        if !js_is_object(&v) {
            return None;
        }
        read_record(RecordKind::from_code(&js_get(&v, "kind").as_string()?)?, &text_of(&v))
    };
    let errors = |v: JsValue| -> Option<Vec<FieldError>> {
        if v.is_undefined() {
            return Some(Vec::new());
        }
        let list: js_sys::Array = v.dyn_into().ok()?;
        list.iter()
            .map(|e| Some(FieldError { field: js_get(&e, "field").as_string()?, message: js_get(&e, "message").as_string()? }))
            .collect()
    };
    let results: js_sys::Array = results.unchecked_into();
    let mut read = Vec::with_capacity(results.length() as usize);
    for (i, r) in results.iter().enumerate() {
        let field = |key: &str| js_get(&r, key);
        let status = match field("status").as_string().as_deref() {
            Some("applied") => js_whole(field("server_seq")).zip(
                field("server_updated_at").as_string().and_then(|t| assiette_domain::time::parse_rfc3339(&t)),
            )
            .map(|(server_seq, server_updated_at)| MutationStatus::Applied { server_seq, server_updated_at }),
            Some("duplicate") => Some(MutationStatus::Duplicate),
            Some("conflict") => record(field("current")).map(|current| MutationStatus::Conflict { current }),
            Some("rejected") => field("reason")
                .as_string()
                .zip(errors(field("errors")))
                .map(|(reason, errors)| MutationStatus::Rejected { reason, errors }),
            _ => None,
        };
        match (js_is_object(&r), js_whole(field("seq")), status) {
            (true, Some(seq), Some(status)) => read.push(MutationResult { seq, status }),
            _ => return Err(format!("résultat n° {} : seq, status ou un champ de son statut absent ou invalide", i + 1)),
        }
    }
    Ok(PushResponse { results: read })
}

/// Progress of a run, for the status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub sent: u32,
    pub pulled: u32,
    /// Pulled records that could not be stored (unreadable or invalid): skipped, reported.
    pub skipped: u32,
    /// Entries set aside « à vérifier » in this run.
    pub to_review: u32,
}

impl Progress {
    /// What the person is told after a run that skipped pulled records, in French.
    pub fn skipped_fr(&self) -> Option<String> {
        (self.skipped > 0).then(|| {
            let n = self.skipped;
            format!(
                "{n} enregistrement{s} reçu{s} du serveur {verb} illisible{s} ou invalide{s} : {ignored} (les autres sont à jour). \
                 Signalez-le à la métropole, qui peut les réparer (assiette-server repair-records).",
                s = if n > 1 { "s" } else { "" },
                verb = if n > 1 { "sont" } else { "est" },
                ignored = if n > 1 { "ils sont ignorés" } else { "il est ignoré" },
            )
        })
    }
}

const PUSH_PATH: &str = "/api/v1/sync/push";

/// One full sync: push every pending entry in batches, then pull every page. The pull runs even
/// when the push failed (other tablets' entries still arrive), and the push's failure is then
/// the run's result; a refused token stops at once (the pull would be refused too).
pub async fn run_once(repo: &Repository, creds: &Signer, on_progress: &dyn Fn(Progress)) -> Result<Progress, SyncError> {
    let mut progress = Progress::default();
    let pushed = push_outbox(repo, creds, &mut progress, on_progress).await;
    if let Err(SyncError::Transport(TransportError::Unauthorized)) = pushed {
        return Err(TransportError::Unauthorized.into());
    }
    let pulled = pull_all(repo, creds, &mut progress, on_progress).await;
    // A person's commune records (contract, pathway, follow-up note) go with each run; their
    // trouble is shown on their page, not as the run's.
    #[cfg(feature = "office")]
    if creds.person {
        if let Ok(Some(s)) = crate::session::load(repo).await {
            let _ = crate::concession_store::sync(repo, &creds.token, s.account.id).await;
        }
    }
    pushed?;
    pulled?;
    Ok(progress)
}

/// Pushes the outbox in batches that fit the server's limits (`assiette_tablet::push`): a batch
/// refused whole as too large is split, one the server cannot read is bisected until the
/// unreadable entry is alone, and a single entry refused that way is set aside « à vérifier ».
async fn push_outbox(repo: &Repository, creds: &Signer, progress: &mut Progress, on_progress: &dyn Fn(Progress)) -> Result<(), SyncError> {
    let mut after = 0u64;
    loop {
        let entries = repo.outbox_after(after, PUSH_BATCH).await?;
        let Some(last) = entries.last().and_then(|e| e.seq) else { break };
        after = last;
        let mut outgoing = Vec::new();
        let mut unreadable = Vec::new();
        for e in entries.iter().filter(|e| e.rejected.is_none()) {
            match sendable(e) {
                Some((seq, kind)) => outgoing.push(Outgoing { seq, kind, record: e.record.get() }),
                None => unreadable.extend(e.seq.map(|s| ToReview::new(s, "Saisie illisible pour le serveur : à vérifier."))),
            }
        }
        if !unreadable.is_empty() {
            repo.acknowledge(&[], &unreadable, &[]).await?;
            progress.to_review += unreadable.len() as u32;
        }
        let sizes: Vec<(u64, usize)> = outgoing.iter().map(|m| (m.seq, mutation_len(m))).collect();
        let mut queue = PushQueue::new(plan_batches(&sizes, PUSH_BATCH as usize, MAX_BODY_BYTES));
        while let Some(batch) = queue.next_batch() {
            // A batch is a run of consecutive entries of `outgoing` (which is in seq order).
            let start = outgoing.partition_point(|m| m.seq < batch[0]);
            let mutations = &outgoing[start..start + batch.len()];
            let body = push_body(creds.device_id, mutations);
            let refusal = match transport::post_reading(PUSH_PATH, Some(&creds.token), body, read_push_reply).await {
                Ok(response) => {
                    let plan = plan_outbox(&batch, &response);
                    let mut review = Vec::with_capacity(plan.review.len());
                    for (seq, r) in &plan.review {
                        // The server's version goes with the entry: giving up the tablet's
                        // version writes it locally.
                        let server = r.current().map(stored_js).transpose()?;
                        review.push(ToReview { seq: *seq, reason: r.reason_fr(), server });
                    }
                    repo.acknowledge(&plan.delete, &review, &[]).await?;
                    progress.sent += plan.delete.len() as u32;
                    progress.to_review += review.len() as u32;
                    on_progress(*progress);
                    if !plan.retry.is_empty() {
                        // The server answered only part of the batch: the rest goes next run.
                        return Err(SyncError::Transport(TransportError::Network));
                    }
                    continue;
                }
                Err(TransportError::Refused { status: 413, .. }) => Refusal::TooLarge,
                Err(TransportError::Refused { status: 422, message }) => Refusal::Unreadable(message),
                Err(e) => return Err(e.into()),
            };
            if let Some((seq, reason)) = queue.refused(batch, &refusal) {
                repo.acknowledge(&[], &[ToReview::new(seq, reason)], &[]).await?;
                progress.to_review += 1;
                on_progress(*progress);
            }
        }
    }
    Ok(())
}

/// Pulls every page from the stored cursor, each page's storable records and the next cursor
/// in one transaction (`Repository::apply_pull`): a tablet its own site, a person each site of
/// the session.
#[cfg(feature = "office")]
async fn pull_all(repo: &Repository, creds: &Signer, progress: &mut Progress, on_progress: &dyn Fn(Progress)) -> Result<(), SyncError> {
    if creds.person {
        for (site_id, cursor_key) in &creds.sites {
            pull_site(repo, creds, Some(*site_id), cursor_key, progress, on_progress).await?;
        }
        return Ok(());
    }
    pull_site(repo, creds, None, CURSOR_KEY, progress, on_progress).await
}

/// The kitchen's: the tablet's own site (no future of its own around `pull_site`).
#[cfg(not(feature = "office"))]
fn pull_all<'a>(
    repo: &'a Repository,
    creds: &'a Signer,
    progress: &'a mut Progress,
    on_progress: &'a dyn Fn(Progress),
) -> impl std::future::Future<Output = Result<(), SyncError>> + 'a {
    pull_site(repo, creds, progress, on_progress)
}

/// Every page of one site from its stored cursor.
async fn pull_site(
    repo: &Repository,
    creds: &Signer,
    #[cfg(feature = "office")] site_id: Option<Uuid>,
    #[cfg(feature = "office")] cursor_key: &str,
    progress: &mut Progress,
    on_progress: &dyn Fn(Progress),
) -> Result<(), SyncError> {
    // The kitchen's tablet names no site and has one cursor (its wasm then carries no code to
    // write a site id).
    #[cfg(not(feature = "office"))]
    let (site_id, cursor_key) = (None, CURSOR_KEY);
    // Null after a new enrolment: start from the beginning of the site's log.
    let mut cursor: Option<String> = repo.setting::<Option<String>>(cursor_key).await?.flatten();
    loop {
        let request = PullRequest { cursor: cursor.clone(), limit: Some(PULL_PAGE), site_id };
        let request = serde_json::to_string(&request).map_err(|e| TransportError::Refused { status: 0, message: e.to_string() })?;
        let page = transport::post_reading("/api/v1/sync/pull", Some(&creds.token), request, read_pull_page).await?;
        repo.apply_pull(&page.records, &[(cursor_key, &page.next_cursor)]).await?;
        progress.pulled += page.records.len() as u32;
        progress.skipped += page.skipped.len() as u32;
        for why in &page.skipped {
            web_sys::console::warn_1(&format!("Enregistrement reçu ignoré : {why}").into());
        }
        on_progress(*progress);
        cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    Ok(())
}

/// Enrols the tablet with a one-time code; restamps records made before with the server's site id.
pub async fn enrol(ctx: AppContext, code: &str, label: &str) -> Result<SiteInfo, String> {
    let repo = ctx.repo().ok_or("Stockage indisponible.")?;
    let request = EnrolRequest { code: code.trim().to_owned(), label: Some(label.trim().to_owned()).filter(|l| !l.is_empty()) };
    let response: EnrolResponse = transport::post("/api/v1/enrol", None, &request).await.map_err(|e| match e {
        TransportError::Refused { message, .. } => message,
        TransportError::Unauthorized => "Code d'enrôlement refusé : vérifiez-le ou demandez-en un nouveau.".to_owned(),
        other => other.message_fr(),
    })?;
    let creds = Credentials { device_id: response.device_id, token: response.token, site: response.site.clone() };
    let mut profile = ctx.profile.get_untracked().unwrap_or_else(crate::context::SiteProfile::new_local);
    let previous: Option<Credentials> = repo.setting(CREDENTIALS_KEY).await.map_err(|e| e.message_fr())?;
    let mut rebind = None;
    match previous {
        // First enrolment: what was typed before belongs to this canteen.
        None => rebind = Some((profile.site_id, creds.site.id)),
        // Another canteen: the entries of the previous one stay its own (never restamped), and
        // none may be left unsent, or they would be pushed with the new canteen's token.
        Some(old) if old.site.id != creds.site.id => {
            let unsent = repo.outbox_len().await.map_err(|e| e.message_fr())?;
            if unsent > 0 {
                return Err(format!(
                    "Ce code est celui de « {} », mais cette tablette a encore {} de « {} » à envoyer : rien n'a changé. \
                     Envoyez-les d'abord (Synchroniser maintenant, ou ré-enrôlez la tablette pour « {} »), puis demandez un nouveau code.",
                    creds.site.name,
                    if unsent == 1 { "1 saisie".to_owned() } else { format!("{unsent} saisies") },
                    old.site.name,
                    old.site.name
                ));
            }
        }
        Some(_) => {}
    }
    profile.site_id = creds.site.id;
    profile.name = creds.site.name.clone();
    profile.siret = creds.site.siret.clone();
    // All of it in one transaction (restamped records, profile, cursor, token): a crash or a
    // failure in the middle never leaves the code used up and no token stored. A new enrolment
    // starts the pull from the beginning of the site's log.
    let settings = [(PROFILE_KEY, js_of(&profile)), (CURSOR_KEY, js_of(&None::<String>)), (CREDENTIALS_KEY, js_of(&creds))];
    let settings: Vec<(&str, JsValue)> =
        settings.into_iter().map(|(k, v)| v.map(|v| (k, v))).collect::<Result<_, _>>().map_err(|e| e.message_fr())?;
    repo.write_enrolment(rebind, &settings).await.map_err(|e| e.message_fr())?;
    ctx.profile.set(Some(profile));
    ctx.after_write();
    dispatch(Event::Enrolled);
    Ok(creds.site)
}

/// Sync state shown by the UI.
#[derive(Clone, Copy)]
pub struct SyncState {
    pub running: RwSignal<bool>,
    pub progress: RwSignal<Progress>,
    pub last_error: RwSignal<Option<String>>,
    pub needs_enrolment: RwSignal<bool>,
    pub connection: RwSignal<Connection>,
}

/// What the tablet knows of its link to the server, shown beside the pending count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Online,
    /// The browser says there is no network.
    Offline,
    /// A network is there but the last attempt did not reach the server.
    Unreachable,
}

impl Connection {
    /// From the browser's own view (`navigator.onLine`).
    pub fn from_browser() -> Self {
        if web_sys::window().is_none_or(|w| w.navigator().on_line()) {
            Connection::Online
        } else {
            Connection::Offline
        }
    }

    /// Text and symbol: the state is never told by colour alone.
    pub fn label_fr(self) -> &'static str {
        match self {
            Connection::Online => "● En ligne",
            Connection::Offline => "○ Hors ligne",
            Connection::Unreachable => "⚠ Serveur injoignable",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Connection::Online => "online",
            Connection::Offline => "offline",
            Connection::Unreachable => "unreachable",
        }
    }
}

thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

struct Engine {
    ctx: AppContext,
    state: SyncState,
    machine: RefCell<Machine>,
    timer: RefCell<Option<i32>>,
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Feeds an event to the engine (no-op before `start`).
pub fn dispatch(event: Event) {
    let engine = ENGINE.with(|e| e.borrow().clone());
    if let Some(engine) = engine {
        engine.handle(event);
    }
}

impl Engine {
    fn handle(self: &Rc<Self>, event: Event) {
        let command = self.machine.borrow_mut().handle(event, now_ms(), js_sys::Math::random());
        self.state.needs_enrolment.set(self.machine.borrow().phase == machine::Phase::NeedsEnrolment);
        match command {
            Command::Idle => {}
            Command::Schedule { due_ms } => self.arm(due_ms),
            Command::Run => {
                let engine = self.clone();
                leptos::task::spawn_local(async move { engine.run().await });
            }
        }
    }

    fn arm(self: &Rc<Self>, due_ms: u64) {
        let Some(window) = web_sys::window() else { return };
        if let Some(id) = self.timer.borrow_mut().take() {
            window.clear_timeout_with_handle(id);
        }
        let engine = self.clone();
        let fire = Closure::once_into_js(move || {
            engine.timer.borrow_mut().take();
            engine.handle(Event::TimerFired);
        });
        let delay = due_ms.saturating_sub(now_ms()).min(i32::MAX as u64) as i32;
        if let Ok(id) = window.set_timeout_with_callback_and_timeout_and_arguments_0(fire.unchecked_ref(), delay) {
            *self.timer.borrow_mut() = Some(id);
        }
    }

    async fn run(self: Rc<Self>) {
        let ctx = self.ctx;
        let Some(repo) = ctx.repo() else {
            self.handle(Event::Failed);
            return;
        };
        #[cfg(feature = "office")]
        let creds = current_signer(&repo).await;
        // The kitchen's: the tablet's enrolment.
        #[cfg(not(feature = "office"))]
        let creds: Option<Credentials> = repo.setting(CREDENTIALS_KEY).await.ok().flatten();
        let Some(creds) = creds else {
            self.handle(Event::Unauthorized);
            return;
        };
        self.state.running.set(true);
        self.state.progress.set(Progress::default());
        let state = self.state;
        #[cfg(feature = "office")]
        let (person, lock_repo) = (creds.person, repo.clone());
        #[cfg(not(feature = "office"))]
        let lock_repo = repo;
        let outcome = with_lock("assiette-sync", async move {
            run_once(&lock_repo, &creds, &|p| state.progress.set(p)).await
        })
        .await;
        self.state.running.set(false);
        ctx.refresh_outbox().await;
        ctx.data_version.update(|v| *v += 1);
        match outcome {
            // Another tab holds the lock and does the work.
            None => self.handle(Event::Succeeded),
            Some(Ok(progress)) => {
                self.state.connection.set(Connection::Online);
                let at = chrono::Utc::now().to_rfc3339();
                if let Some(repo) = ctx.repo() {
                    let _ = repo.set_setting(LAST_SYNC_KEY, &at).await;
                }
                ctx.last_sync.set(Some(at));
                self.state.last_error.set(progress.skipped_fr());
                self.handle(Event::Succeeded);
            }
            Some(Err(SyncError::Transport(TransportError::Unauthorized))) => {
                // A person's session ended: every unsent entry stays, the office asks to sign in.
                #[cfg(feature = "office")]
                let message = match person_sync().filter(|_| person) {
                    Some(p) => p.expired(repo).await,
                    None => TransportError::Unauthorized.message_fr(),
                };
                #[cfg(not(feature = "office"))]
                let message = TransportError::Unauthorized.message_fr();
                self.state.last_error.set(Some(message));
                self.handle(Event::Unauthorized);
            }
            Some(Err(e)) => {
                if let SyncError::Storage(s) = &e {
                    ctx.report(s.clone());
                }
                if matches!(e, SyncError::Transport(TransportError::Network)) {
                    self.state.connection.set(match Connection::from_browser() {
                        Connection::Offline => Connection::Offline,
                        _ => Connection::Unreachable,
                    });
                }
                self.state.last_error.set(Some(e.message_fr()));
                self.handle(Event::Failed);
            }
        }
    }
}

#[wasm_bindgen(inline_js = r#"
export function request_lock(name, run) {
  if (!(navigator.locks && navigator.locks.request)) return run(true);
  return navigator.locks.request(name, { ifAvailable: true }, (lock) => run(!!lock));
}
"#)]
extern "C" {
    fn request_lock(name: &str, run: &js_sys::Function) -> js_sys::Promise;
}

/// Runs `work` while holding the named Web Lock, so one tab syncs at a time; `None` if another
/// tab holds it.
async fn with_lock<T: 'static>(name: &str, work: impl std::future::Future<Output = T> + 'static) -> Option<T> {
    let result: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
    let slot = result.clone();
    let work = RefCell::new(Some(work));
    let run = Closure::once_into_js(move |acquired: bool| -> js_sys::Promise {
        let work = work.borrow_mut().take();
        wasm_bindgen_futures::future_to_promise(async move {
            if acquired {
                if let Some(w) = work {
                    *slot.borrow_mut() = Some(w.await);
                }
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let _ = wasm_bindgen_futures::JsFuture::from(request_lock(name, run.unchecked_ref())).await;
    let value = result.borrow_mut().take();
    value
}

/// Starts the engine once the repository is open: wires the triggers and syncs at start-up.
pub async fn start(ctx: AppContext, state: SyncState) {
    let Some(repo) = ctx.repo() else { return };
    #[cfg(feature = "office")]
    let enrolled = current_signer(&repo).await.is_some();
    #[cfg(not(feature = "office"))]
    let enrolled = matches!(repo.setting::<Credentials>(CREDENTIALS_KEY).await, Ok(Some(_)));
    let online = web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true);
    let engine = Rc::new(Engine { ctx, state, machine: RefCell::new(Machine::new(enrolled, online)), timer: RefCell::new(None) });
    ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
    state.needs_enrolment.set(!enrolled);
    if let Some(window) = web_sys::window() {
        for (name, event, connection) in [("online", Event::Online, Connection::Online), ("offline", Event::Offline, Connection::Offline)] {
            let cb = Closure::<dyn FnMut()>::new(move || {
                state.connection.set(connection);
                dispatch(event);
            });
            let _ = window.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            cb.forget();
        }
        if let Some(document) = window.document() {
            let doc = document.clone();
            let cb = Closure::<dyn FnMut()>::new(move || {
                if doc.visibility_state() == web_sys::VisibilityState::Visible {
                    dispatch(Event::Visible);
                }
            });
            let _ = document.add_event_listener_with_callback("visibilitychange", cb.as_ref().unchecked_ref());
            cb.forget();
        }
    }
    engine.handle(Event::Started);
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_domain::purchase::Purchase;
    use assiette_domain::record::RecordMeta;
    use assiette_domain::sync::{Change, PullResponse, RecordPayload};
    use assiette_domain::waste::{Stage, Weighing};
    use chrono::{NaiveDate, TimeZone, Utc};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn weighing(id: u128, revision: u64) -> RecordPayload {
        let mut meta = RecordMeta::new(Uuid::from_u128(id), Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap());
        meta.revision = revision;
        meta.server_updated_at = Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 1).unwrap());
        RecordPayload::Weighing(Weighing {
            meta,
            site_id: Uuid::from_u128(9),
            service_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            stage: Stage::Leftovers,
            component: None,
            mass_grams: 1_250,
            sorted: None,
            destination: None,
        })
    }

    fn purchase(id: u128) -> RecordPayload {
        let p: Purchase = serde_json::from_str(&format!(
            r#"{{"meta":{{"id":"{}","revision":4,"modified_at":"2026-03-02T10:00:00Z"}},"siret":"21760351500008",
            "description":"Pommes « bio » \"x\"","fournisseur":"Ferme","date":"2026-03-02","prix_ht_cents":1250,
            "famille_produits":"FRUITS_ET_LEGUMES","caracteristiques":["BIO"]}}"#,
            Uuid::from_u128(id)
        ))
        .unwrap();
        RecordPayload::Purchase(p)
    }

    fn entry(seq: u64, store: &str, record: &impl serde::Serialize) -> OutboxEntry {
        OutboxEntry {
            seq: Some(seq),
            store: store.to_owned(),
            record_id: Uuid::nil(),
            revision: 1,
            record: crate::storage::RecordJson::of(record).unwrap(),
            rejected: None,
            server: None,
        }
    }

    #[wasm_bindgen_test]
    fn unreadable_outbox_records_are_not_sent() {
        let RecordPayload::Weighing(w) = weighing(1, 1) else { unreachable!() };
        assert_eq!(sendable(&entry(3, stores::WEIGHINGS, &w)), Some((3, RecordKind::Weighing)));
        // Another store's type, an unknown store, a record missing a field, no seq.
        assert_eq!(sendable(&entry(3, stores::MEAL_COUNTS, &w)), None);
        assert_eq!(sendable(&entry(3, "autre", &w)), None);
        let mut broken = serde_json::to_value(&w).unwrap();
        broken.as_object_mut().unwrap().remove("mass_grams");
        assert_eq!(sendable(&entry(3, stores::WEIGHINGS, &broken)), None);
        assert_eq!(sendable(&OutboxEntry { seq: None, ..entry(3, stores::WEIGHINGS, &w) }), None);
    }

    /// A reply as the server writes it (serde's PushResponse), and as the domain's reader reads it.
    #[wasm_bindgen_test]
    fn push_replies_read_like_the_domains_reader() {
        use assiette_domain::sync::{MutationResult, MutationStatus};
        use assiette_domain::validation::FieldError;
        let at = |s: &str| assiette_domain::time::parse_rfc3339(s).unwrap();
        let reply = PushResponse {
            results: vec![
                MutationResult { seq: 1, status: MutationStatus::Applied { server_seq: 41, server_updated_at: at("2026-03-02T10:00:00.123456789Z") } },
                MutationResult { seq: 2, status: MutationStatus::Duplicate },
                MutationResult { seq: 3, status: MutationStatus::Conflict { current: weighing(7, 3) } },
                MutationResult { seq: 4, status: MutationStatus::Conflict { current: purchase(8) } },
                MutationResult {
                    seq: 5,
                    status: MutationStatus::Rejected {
                        reason: "Pesée « x » refusée : \"masse\"\n".into(),
                        errors: vec![FieldError { field: "mass_grams".into(), message: "Saisissez la masse".into() }],
                    },
                },
                MutationResult { seq: 9_007_199_254_740_991, status: MutationStatus::Rejected { reason: "non".into(), errors: vec![] } },
            ],
        };
        let text = serde_json::to_string(&reply).unwrap();
        assert_eq!(read_push_reply(&text), Ok(reply.clone()));
        assert_eq!(serde_json::from_str::<PushResponse>(&text).unwrap(), reply);
        // Keys in another order, unknown keys, other statuses' fields: ignored by both.
        let texts = [
            r#"{"results":[{"status":"applied","server_updated_at":"2026-03-02T11:00:00+01:00","x":[1],"server_seq":4,"seq":1}],"more":true}"#,
            r#"{"results":[{"seq":2,"status":"duplicate","reason":"r","current":5}]}"#,
            r#"{"results":[{"seq":2,"status":"rejected","reason":"r","errors":[{"message":"m","field":"f","x":1}]}]}"#,
            r#"{"results":[]}"#,
        ];
        for text in texts {
            let theirs = serde_json::from_str::<PushResponse>(text).unwrap();
            assert_eq!(read_push_reply(text), Ok(theirs), "{text}");
        }
        // What the domain's reader refuses, this one refuses too (the whole reply).
        let conflict = serde_json::to_string(&reply.results[2]).unwrap();
        let refused = [
            r#"{"results":[{"seq":1,"status":"applied","server_seq":4}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"applied","server_seq":4,"server_updated_at":"hier"}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"applied","server_seq":-4,"server_updated_at":"2026-03-02T10:00:00Z"}]}"#.to_owned(),
            r#"{"results":[{"status":"duplicate"}]}"#.to_owned(),
            r#"{"results":[{"seq":"1","status":"duplicate"}]}"#.to_owned(),
            r#"{"results":[{"seq":1.5,"status":"duplicate"}]}"#.to_owned(),
            r#"{"results":[{"seq":1}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"lost"}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"rejected"}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"rejected","reason":"r","errors":null}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"rejected","reason":"r","errors":[{"field":"f"}]}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"conflict"}]}"#.to_owned(),
            r#"{"results":[{"seq":1,"status":"conflict","current":{"kind":"invoice"}}]}"#.to_owned(),
            conflict.replace("\"mass_grams\":1250", "\"mass_grams\":\"1 kg\""),
            conflict.replace("\"kind\":\"weighing\",", ""),
            format!(r#"{{"results":[{{"seq":2,"status":"duplicate"}},{conflict},[]]}}"#),
            r#"{"results":{}}"#.to_owned(),
            r#"{}"#.to_owned(),
            "[]".to_owned(),
            "{".to_owned(),
        ];
        for text in refused {
            assert!(serde_json::from_str::<PushResponse>(&text).is_err(), "{text}");
            assert!(read_push_reply(&text).is_err(), "{text}");
        }
        let e = read_push_reply(r#"{"results":[{"seq":2,"status":"duplicate"},{"seq":3}]}"#).unwrap_err();
        assert!(e.starts_with("résultat n° 2 : "), "{e}");
    }

    #[wasm_bindgen_test]
    fn a_pull_page_keeps_each_record_as_the_server_sent_it() {
        let records = [weighing(1, 2), purchase(2), weighing(3, 1)];
        let response = PullResponse {
            changes: records.iter().enumerate().map(|(i, r)| Change { server_seq: 10 + i as u64, record: r.clone() }).collect(),
            next_cursor: "v1.12".into(),
            has_more: true,
        };
        let page = read_pull_page(&serde_json::to_string(&response).unwrap()).unwrap();
        assert_eq!((page.next_cursor.as_str(), page.has_more, page.records.len()), ("v1.12", true, 3));
        for (r, record) in page.records.iter().zip(&records) {
            let store = match record.kind() {
                RecordKind::MealCount => stores::MEAL_COUNTS,
                RecordKind::Weighing => stores::WEIGHINGS,
                RecordKind::Purchase => stores::PURCHASES,
            };
            assert_eq!((r.store, r.id, r.revision), (store, record.id(), record.revision()));
            // The JS object of the server's JSON, `kind` included (the storage drops it).
            assert_eq!(js_sys::JSON::stringify(&r.record).unwrap().as_string().unwrap(), serde_json::to_string(record).unwrap());
        }
        // The head is read wherever `kind` and `meta` are, and whatever follows them.
        let text = r#"{"changes":[{"record":{"site_id":"00000000-0000-0000-0000-000000000009","service_date":"2026-03-02","planned":0,"served_children":0,"served_adults":0,"meta":{"deleted":true,"revision":7,"modified_at":"2026-03-02T10:00:00Z","id":"00000000-0000-0000-0000-000000000005"},"kind":"meal_count"},"server_seq":1}],"has_more":false,"next_cursor":"v1.1"}"#;
        let page = read_pull_page(text).unwrap();
        let r = &page.records[0];
        assert_eq!((r.store, r.id, r.revision), (stores::MEAL_COUNTS, Uuid::from_u128(5), 7));
    }

    #[wasm_bindgen_test]
    fn a_record_that_cannot_be_stored_is_skipped_and_the_rest_of_the_page_kept() {
        let meta = r#""meta":{"id":"00000000-0000-0000-0000-000000000005","revision":1}"#;
        let bad = [
            r#"{"kind":"weighing","meta":{"id":"00000000-0000-0000-0000-000000000005","revision":1.5}}"#.to_owned(),
            r#"{"kind":"weighing","meta":["00000000-0000-0000-0000-000000000005",1]}"#.to_owned(),
            format!(r#"{{"kind":"Weighing",{meta}}}"#),
            format!(r#"{{{meta}}}"#),
            format!(r#"{{"kind":"invoice",{meta}}}"#),
            format!(r#"{{"kind":3,{meta}}}"#),
            r#"{"kind":"weighing"}"#.to_owned(),
            r#"{"kind":"weighing","meta":{"id":"5","revision":1}}"#.to_owned(),
            r#"{"kind":"weighing","meta":{"revision":1}}"#.to_owned(),
            r#"{"kind":"weighing","meta":{"id":"00000000-0000-0000-0000-000000000005","revision":-1}}"#.to_owned(),
            r#"{"kind":"weighing","meta":{"id":"00000000-0000-0000-0000-000000000005","revision":"1"}}"#.to_owned(),
            r#"{"kind":"weighing","meta":null}"#.to_owned(),
            r#"["weighing"]"#.to_owned(),
            "null".to_owned(),
            // A good head, but not a weighing the domain reads.
            format!(r#"{{"kind":"weighing",{meta}}}"#),
        ];
        let good = serde_json::to_string(&weighing(1, 2)).unwrap();
        // A weighing that reads but that the domain's validation refuses (no mass).
        let invalid = good.replace("\"mass_grams\":1250", "\"mass_grams\":0");
        assert_ne!(invalid, good);
        for record in bad.iter().chain([&invalid]) {
            let text = format!(
                r#"{{"changes":[{{"server_seq":1,"record":{good}}},{{"server_seq":2,"record":{record}}}],"next_cursor":"v1.2","has_more":false}}"#
            );
            let page = read_pull_page(&text).unwrap();
            assert_eq!(page.records.len(), 1, "{text}");
            assert_eq!(page.records[0].id, Uuid::from_u128(1));
            assert_eq!(page.skipped.len(), 1, "{text}");
            assert_eq!((page.next_cursor.as_str(), page.has_more), ("v1.2", false));
        }
        let text = format!(r#"{{"changes":[{{"server_seq":1,"record":{invalid}}}],"next_cursor":"v1.2","has_more":false}}"#);
        let why = &read_pull_page(&text).unwrap().skipped[0];
        assert!(why.contains("00000000-0000-0000-0000-000000000001") && why.contains("masse"), "{why}");
        // A change without its sequence: skipped too.
        let page = |changes: &str| format!(r#"{{"changes":[{changes}],"next_cursor":"v1.1","has_more":false}}"#);
        let p = read_pull_page(&page(&format!(r#"{{"server_seq":1,"record":{good}}},{{"record":{good}}}"#))).unwrap();
        assert_eq!((p.records.len(), p.skipped.len()), (1, 1));
        assert!(p.skipped[0].starts_with("changement n° 2 : "), "{:?}", p.skipped);
        // A page without its cursor, its flag or its list: refused whole.
        for text in [r#"{"changes":[],"has_more":false}"#, r#"{"changes":{},"next_cursor":"v1.1","has_more":false}"#, r#"{"changes":[],"next_cursor":"v1.1","has_more":"no"}"#, "[]", "null", "{"] {
            assert!(read_pull_page(text).is_err(), "{text}");
        }
    }

    #[wasm_bindgen_test]
    fn skipped_records_are_told_in_french() {
        assert_eq!(Progress::default().skipped_fr(), None);
        let one = Progress { skipped: 1, ..Default::default() }.skipped_fr().unwrap();
        assert!(one.starts_with("1 enregistrement reçu du serveur est illisible ou invalide : il est ignoré"), "{one}");
        let two = Progress { skipped: 2, ..Default::default() }.skipped_fr().unwrap();
        assert!(two.starts_with("2 enregistrements reçus du serveur sont illisibles ou invalides : ils sont ignorés"), "{two}");
    }
}
