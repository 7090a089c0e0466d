//! The one IndexedDB repository of the app.
//!
//! Every record is written together with its outbox entry in one read-write transaction with
//! strict durability, and the call returns only once that transaction has committed: the screen
//! says "enregistré" for data that is on disk and queued for the server, never before.
//! Records are stored as plain JS objects: meal counts and weighings keyed by `meta.id` with a
//! date index, purchases under their id given apart (no index: faster bulk writes).

mod idb;

use std::cell::RefCell;
use std::rc::Rc;

use assiette_domain::record::RecordMeta;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbDatabase, IdbIndexParameters, IdbKeyRange, IdbObjectStoreParameters};

/// Name of the app's database.
pub const DB_NAME: &str = "assiette";
/// Current schema version. History: 1 = meal counts, weighings, outbox;
/// 2 = + purchases, key-value settings, outbox index by record;
/// 3 = + outbox index of packed entries (an imported file's, see `idb`);
/// purchases keyed out of line by their id, without an index (see [`put_record`]).
pub const DB_VERSION: u32 = 3;

/// Object stores of the schema.
pub mod stores {
    pub use assiette_tablet::stores::{MEAL_COUNTS, PURCHASES, WEIGHINGS};
    pub const OUTBOX: &str = "outbox";
    pub const KV: &str = "kv";
}

/// Key (settings store) of the digests of the national purchase files imported here.
pub const IMPORT_DIGESTS_KEY: &str = "purchase_import_digests";

/// What [`Repository::write_purchase_import`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportWrite {
    /// This many purchases were stored and queued for the server.
    Written(u32),
    /// The file's digest was already recorded: nothing was written.
    AlreadyImported,
}

/// Index on the service (or purchase) date of each record store.
const BY_DATE: &str = "by_date";
const BY_RECORD: &str = "by_record";
/// Index of the outbox's packed entries (on `first_seq`: one key per packed entry, so the
/// import adds a hundred index rows for 100,000 lines, not one per line).
const PACKED: &str = "packed";
/// Records per packed outbox entry of an import. The sync unpacks at most a push batch (500)
/// of them at a time, reading and rewriting one such entry.
const IMPORT_PACK: u32 = 1000;

/// Why storage failed. Every variant has a French message that tells the user what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// IndexedDB cannot be used at all (private mode, blocked by settings, too old).
    Unavailable(String),
    /// The disk or the site's quota is full.
    Full,
    /// Another tab opened a newer version of the app: this one must reload.
    VersionChanged,
    /// A value could not be converted (a bug, never the user's input).
    Serialization(String),
    /// Any other browser error, with its name and message.
    Other(String),
    /// Another tab of Assiette, on an older version, keeps the database open: this one waits.
    Blocked,
    /// The record changed since it was read (another window of this tablet, or a pull): the
    /// stored version's JSON, so the person can choose between the two. Nothing was written.
    Stale(String),
}

impl StorageError {
    pub fn from_js(value: JsValue) -> Self {
        let name = js_sys::Reflect::get(&value, &"name".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let message = js_sys::Reflect::get(&value, &"message".into())
            .ok()
            .and_then(|v| v.as_string())
            .or_else(|| value.as_string())
            .unwrap_or_default();
        match name.as_str() {
            "QuotaExceededError" => StorageError::Full,
            // Raised on a connection closed because another tab upgraded the schema.
            "InvalidStateError" => StorageError::VersionChanged,
            "SecurityError" | "InvalidAccessError" => StorageError::Unavailable(message),
            _ => StorageError::Other(format!("{name} {message}").trim().to_owned()),
        }
    }

    /// What the user sees: French, and says what to do.
    pub fn message_fr(&self) -> String {
        match self {
            StorageError::Unavailable(detail) => format!(
                "Stockage impossible sur cet appareil ({detail}). Rien n'a été enregistré : \
                 quittez la navigation privée ou autorisez le stockage du site, puis rechargez la page."
            ),
            StorageError::Full => "La mémoire de la tablette est pleine : rien n'a été enregistré. \
                                   Libérez de la place (photos, autres applications), puis réessayez : la saisie est conservée à l'écran."
                .to_owned(),
            StorageError::VersionChanged => "Une nouvelle version d'Assiette est ouverte dans un autre onglet. \
                                             Rechargez cette page pour continuer (la saisie en cours est à retaper si elle n'a pas été enregistrée)."
                .to_owned(),
            StorageError::Serialization(detail) => format!("Erreur interne de conversion ({detail}) : rien n'a été enregistré."),
            StorageError::Other(detail) => format!("L'enregistrement a échoué ({detail}). Rien n'a été enregistré : réessayez."),
            StorageError::Blocked => "Assiette est ouverte dans un autre onglet ou une autre fenêtre avec une version précédente : \
                                      fermez les autres onglets d'Assiette, et cette page s'ouvrira d'elle-même."
                .to_owned(),
            StorageError::Stale(_) => "Cette saisie a été modifiée entre-temps ailleurs : rien n'a été enregistré, choisissez la version à garder.".to_owned(),
        }
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_fr())
    }
}

/// A record type the repository stores, with its store and its date index key path.
pub trait StoredRecord: Serialize + DeserializeOwned + Clone + 'static {
    const STORE: &'static str;
    fn meta(&self) -> &RecordMeta;
}

pub use assiette_tablet::outbox::{OutboxEntry, RecordJson};

/// An outbox entry as the browser holds it (a JS object in IndexedDB).
pub trait EntryJs: Sized {
    fn record_js(&self) -> Result<JsValue, StorageError>;
    fn from_js_value(value: &JsValue) -> Result<Self, String>;
}

impl EntryJs for OutboxEntry {
    /// The entry's record as a JS object.
    fn record_js(&self) -> Result<JsValue, StorageError> {
        parse_js(self.record.get())
    }

    /// An entry from its JS object (as stored), read field by field
    /// as its serde form reads it (`seq` and `rejected` may be absent or null); the error names
    /// the first field missing or of the wrong type. (No serde reader for it in the wasm.)
    fn from_js_value(value: &JsValue) -> Result<OutboxEntry, String> {
        if !value.is_object() || js_sys::Array::is_array(value) {
            return Err("ce n'est pas un objet".to_owned());
        }
        let field = |key: &str| js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or_default();
        let bad = |key: &str| format!("champ « {key} » absent ou invalide");
        let whole = |v: JsValue| v.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u64::MAX as f64).map(|n| n as u64);
        let absent = |v: &JsValue| v.is_undefined() || v.is_null();
        let seq = field("seq");
        let seq = if absent(&seq) { None } else { Some(whole(seq).ok_or_else(|| bad("seq"))?) };
        let store = field("store").as_string().ok_or_else(|| bad("store"))?;
        let record_id = field("record_id").as_string().and_then(|id| Uuid::parse_str(&id).ok()).ok_or_else(|| bad("record_id"))?;
        let revision = whole(field("revision")).ok_or_else(|| bad("revision"))?;
        let json = |value: &JsValue| {
            js_sys::JSON::stringify(value)
                .ok()
                .and_then(|t| t.as_string())
                .filter(|_| !value.is_undefined())
                .and_then(|t| RecordJson::from_text(t).ok())
        };
        let record = json(&field("record")).ok_or_else(|| bad("record"))?;
        let rejected = field("rejected");
        let rejected = if absent(&rejected) { None } else { Some(rejected.as_string().ok_or_else(|| bad("rejected"))?) };
        let server = field("server");
        let server = if absent(&server) { None } else { Some(json(&server).ok_or_else(|| bad("server"))?) };
        Ok(OutboxEntry { seq, store, record_id, revision, record, rejected, server })
    }
}

/// Outbox entries from an array of their JS objects (an unreadable one fails the read).
fn entries_from_js(value: JsValue) -> Result<Vec<OutboxEntry>, StorageError> {
    let list: js_sys::Array = value.dyn_into().map_err(|_| StorageError::Serialization("valeur illisible".to_owned()))?;
    list.iter().map(|e| OutboxEntry::from_js_value(&e).map_err(StorageError::Serialization)).collect()
}

// Conversions go through JSON text (serde_json + the browser's JSON): one serializer for the
// whole app (sync and backup use serde_json too, so the wasm carries one copy of each
// record's (de)serializer), and reading thousands of records this way is faster than walking
// them field by field across the JS boundary.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, StorageError> {
    parse_js(&serde_json::to_string(value).map_err(|e| StorageError::Serialization(e.to_string()))?)
}

/// The JS object of any serialisable value, as the repository stores it.
pub fn js_of<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, StorageError> {
    to_js(value)
}

fn parse_js(json: &str) -> Result<JsValue, StorageError> {
    js_sys::JSON::parse(json).map_err(|e| StorageError::Serialization(js_error_text(&e)))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, StorageError> {
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| StorageError::Serialization("valeur illisible".to_owned()))?;
    serde_json::from_str(&text).map_err(|e| StorageError::Serialization(e.to_string()))
}

/// Puts a record into its store: under its id given apart for a store keyed out of line (the
/// purchases, since schema 3), or read from the record by the store's key path. A put into a
/// store keyed in line, or with an index, costs the browser a second copy of the value (it reads
/// the keys from a clone): 100,000 bare puts took about a third less time out of line.
fn put_record(store: &web_sys::IdbObjectStore, record: &JsValue, id: &JsValue) -> Result<web_sys::IdbRequest, JsValue> {
    if store.key_path()?.is_null() {
        store.put_with_key(record, id)
    } else {
        store.put(record)
    }
}

/// The id of a record's JS object (`meta.id`).
fn id_of(record: &JsValue) -> Result<JsValue, JsValue> {
    js_sys::Reflect::get(&js_sys::Reflect::get(record, &"meta".into())?, &"id".into())
}

/// Whether a stored outbox value is a packed entry (several records, see `idb`).
fn is_packed(value: &JsValue) -> bool {
    js_sys::Reflect::get(value, &"first_seq".into()).is_ok_and(|v| !v.is_undefined())
}

/// The stored outbox values with packed entries expanded into the ordinary entries they
/// stand for, in seq order, with their records from `purchases` (the store's values read in
/// the same transaction): what a backup carries.
pub fn expand_outbox(values: &js_sys::Array, purchases: &js_sys::Array) -> js_sys::Array {
    idb::expand_outbox(values, purchases)
}

fn js_error_text(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default()
}

/// `meta.revision` of the record stored under `id`, if there is one.
async fn stored_revision(store: &web_sys::IdbObjectStore, id: Uuid) -> Result<Option<u64>, StorageError> {
    let record = idb::request(&store.get(&JsValue::from_str(&id.to_string())).map_err(StorageError::from_js)?).await?;
    Ok(revision_of(&record))
}

/// `meta.revision` of a stored record's JS object (`None` for undefined or a bad object).
fn revision_of(record: &JsValue) -> Option<u64> {
    js_sys::Reflect::get(record, &"meta".into())
        .ok()
        .filter(|m| m.is_object())
        .and_then(|m| js_sys::Reflect::get(&m, &"revision".into()).ok())
        .and_then(|v| v.as_f64())
        .map(|v| v as u64)
}

/// Records of one store converted for [`Repository::write_batch`], with which of them to queue
/// for the server: the typed part of a bulk write, done when the batch is made.
pub struct Batch {
    store: &'static str,
    records: Result<js_sys::Array, StorageError>,
    /// (index in `records`, id, revision) of the records to queue, in order.
    queued: Vec<(usize, Uuid, u64)>,
    len: usize,
}

impl Batch {
    pub fn new<T: StoredRecord>(records: &[T], queue: impl Fn(&T) -> bool) -> Batch {
        let queued = records
            .iter()
            .enumerate()
            .filter(|(_, r)| queue(r))
            .map(|(i, r)| (i, r.meta().id, r.meta().revision))
            .collect();
        let converted = if records.is_empty() { Ok(js_sys::Array::new()) } else { to_js(records).map(JsCast::unchecked_into) };
        Batch { store: T::STORE, records: converted, queued, len: records.len() }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The outbox entry of a record revision, built around the record's JS object (already
/// converted once for its own store; IndexedDB copies it into each store).
fn outbox_entry_js(store: &str, id: Uuid, revision: u64, record_js: &JsValue) -> JsValue {
    let entry = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = js_sys::Reflect::set(&entry, &JsValue::from_str(k), v);
    };
    set("store", &JsValue::from_str(store));
    set("record_id", &JsValue::from_str(&id.to_string()));
    set("revision", &JsValue::from_f64(revision as f64));
    set("record", record_js);
    entry.into()
}

/// Creates or upgrades the schema from `old_version` to [`DB_VERSION`], step by step.
fn upgrade(db: &IdbDatabase, tx: &web_sys::IdbTransaction, old_version: u32) -> Result<(), JsValue> {
    let record_store = |name: &str, date_path: &str| -> Result<(), JsValue> {
        let params = IdbObjectStoreParameters::new();
        params.set_key_path(&"meta.id".into());
        let store = db.create_object_store_with_optional_parameters(name, &params)?;
        store.create_index_with_str_and_optional_parameters(BY_DATE, date_path, &IdbIndexParameters::new())?;
        Ok(())
    };
    if old_version < 1 {
        record_store(stores::MEAL_COUNTS, "service_date")?;
        record_store(stores::WEIGHINGS, "service_date")?;
        let params = IdbObjectStoreParameters::new();
        params.set_key_path(&"seq".into());
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(stores::OUTBOX, &params)?;
    }
    if old_version < 2 {
        db.create_object_store(stores::PURCHASES)?;
        db.create_object_store(stores::KV)?;
        tx.object_store(stores::OUTBOX)?
            .create_index_with_str_and_optional_parameters(BY_RECORD, "record_id", &IdbIndexParameters::new())?;
    }
    if old_version < 3 {
        tx.object_store(stores::OUTBOX)?.create_index_with_str_and_optional_parameters(PACKED, "first_seq", &IdbIndexParameters::new())?;
        if old_version == 2 {
            // Schema 2 keyed purchases in line (`meta.id`) with a date index: copied over.
            idb::purchases_out_of_line(db, tx, stores::PURCHASES)?;
        }
    }
    Ok(())
}

/// Handle on the open database. Cheap to clone; all clones share one connection.
#[derive(Clone)]
pub struct Repository {
    db: IdbDatabase,
    version_changed: Rc<RefCell<bool>>,
}

impl Repository {
    /// Opens the app's database; `on_blocked` is called (with [`StorageError::Blocked`]) if
    /// another tab keeps an older version open, while this one waits for it to close.
    pub async fn open(on_blocked: impl FnOnce(StorageError) + 'static) -> Result<Self, StorageError> {
        Self::open_named_reporting(DB_NAME, on_blocked).await
    }

    /// Opens a database by name (tests use their own names).
    pub async fn open_named(name: &str) -> Result<Self, StorageError> {
        Self::open_named_reporting(name, |_| {}).await
    }

    /// [`Repository::open_named`], telling `on_blocked` when another connection holds it back.
    pub async fn open_named_reporting(name: &str, on_blocked: impl FnOnce(StorageError) + 'static) -> Result<Self, StorageError> {
        let db = idb::open(name, DB_VERSION, upgrade, move || on_blocked(StorageError::Blocked)).await?;
        let version_changed = Rc::new(RefCell::new(false));
        // Another tab wants a newer schema: close at once so it is not blocked, and make every
        // later call fail with VersionChanged (the UI asks to reload).
        let flag = version_changed.clone();
        let db_for_close = db.clone();
        let on_version_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            *flag.borrow_mut() = true;
            db_for_close.close();
            if let Some(w) = web_sys::window() {
                let _ = w.dispatch_event(&web_sys::Event::new("assiette-versionchange").expect("event"));
            }
        });
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        on_version_change.forget();
        Ok(Self { db, version_changed })
    }

    pub fn close(&self) {
        self.db.close();
    }

    fn check_open(&self) -> Result<(), StorageError> {
        if *self.version_changed.borrow() {
            Err(StorageError::VersionChanged)
        } else {
            Ok(())
        }
    }

    /// Saves a record revision and queues it for the server, atomically and durably.
    /// Returns the outbox sequence number once the transaction has committed.
    /// (The typed part is done at the call; the transaction is one future for every type.)
    pub fn save<T: StoredRecord>(&self, record: &T) -> impl std::future::Future<Output = Result<u64, StorageError>> + '_ {
        // One conversion: the outbox entry holds the same JS object as the record store.
        let converted = to_js(record).map(|record_js| {
            let entry_js = outbox_entry_js(T::STORE, record.meta().id, record.meta().revision, &record_js);
            (record_js, entry_js)
        });
        self.save_js(T::STORE, converted, record.meta().id, record.meta().revision)
    }

    async fn save_js(&self, store: &'static str, converted: Result<(JsValue, JsValue), StorageError>, id: Uuid, revision: u64) -> Result<u64, StorageError> {
        self.check_open()?;
        let (record_js, entry_js) = converted?;
        let tx = idb::transaction(&self.db, &[store, stores::OUTBOX], true)?;
        let done = idb::completion(&tx);
        // A revision at or below the stored one was made from an older copy (another window
        // saved first, or a pull brought a newer one): writing it would silently replace the
        // other version. The stored copy is read by the transaction's first request; the
        // writes are issued at once behind it (the commit then waits for one turn of the page,
        // not two), and a stale revision aborts the whole transaction, writes included, before
        // it can commit. The stored version is handed back.
        let records = tx.object_store(store).map_err(StorageError::from_js)?;
        let get = records.get(&JsValue::from_str(&id.to_string())).map_err(StorageError::from_js);
        let put = put_record(&records, &record_js, &JsValue::from_str(&id.to_string())).map_err(StorageError::from_js);
        let add = tx.object_store(stores::OUTBOX).and_then(|s| s.add(&entry_js)).map_err(StorageError::from_js);
        let (get, put, add) = match (get, put, add) {
            (Ok(g), Ok(p), Ok(a)) => (g, p, a),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        let stored = match idb::request(&get).await {
            Ok(stored) => stored,
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        if revision_of(&stored).is_some_and(|r| r >= revision) {
            let _ = tx.abort();
            let json = js_sys::JSON::stringify(&stored).ok().and_then(|t| t.as_string()).unwrap_or_default();
            return Err(StorageError::Stale(json));
        }
        // Wait for the commit itself: the requests' success alone is not durability.
        done.await.map_err(StorageError::from_js)?;
        drop(put);
        // Settled by now: the transaction has committed.
        let seq = idb::request(&add).await?.as_f64().unwrap_or_default() as u64;
        Ok(seq)
    }

    /// Saves many records of one store in one durable transaction (all or none), each record
    /// for which `queue` answers true together with its outbox entry, in slice order.
    /// Returns the number of outbox entries added, once the transaction has committed.
    /// For bulk writes (a backup import): one commit instead of one per record.
    pub fn save_many<T: StoredRecord>(&self, records: &[T], queue: impl Fn(&T) -> bool) -> impl std::future::Future<Output = Result<usize, StorageError>> + '_ {
        self.write_batch(Batch::new(records, queue))
    }

    /// Writes a [`Batch`] as [`Repository::save_many`] does (one future for every record type).
    pub async fn write_batch(&self, batch: Batch) -> Result<usize, StorageError> {
        self.check_open()?;
        if batch.len == 0 {
            return Ok(0);
        }
        let converted = batch.records?;
        let tx = idb::transaction(&self.db, &[batch.store, stores::OUTBOX], true)?;
        let done = idb::completion(&tx);
        let issued = (|| -> Result<(), JsValue> {
            let store = tx.object_store(batch.store)?;
            let outbox = tx.object_store(stores::OUTBOX)?;
            let mut queued = batch.queued.iter().peekable();
            for (i, record_js) in converted.iter().enumerate() {
                put_record(&store, &record_js, &id_of(&record_js)?)?;
                if let Some((_, id, revision)) = queued.next_if(|(at, _, _)| *at == i) {
                    outbox.add(&outbox_entry_js(batch.store, *id, *revision, &record_js))?;
                }
            }
            Ok(())
        })();
        if let Err(e) = issued {
            let _ = tx.abort();
            return Err(StorageError::from_js(e));
        }
        done.await.map_err(StorageError::from_js)?;
        Ok(batch.queued.len())
    }

    /// Digests (SHA-256, hex) of the national purchase files imported on this device.
    pub async fn import_digests(&self) -> Result<std::collections::HashSet<String>, StorageError> {
        Ok(self.setting::<Vec<String>>(IMPORT_DIGESTS_KEY).await?.unwrap_or_default().into_iter().collect())
    }

    /// Writes a national file's purchases (their JS objects, as [`js_of`] makes them), their
    /// outbox entries and the file's digest, in one durable transaction: all or nothing. When
    /// the digest is already recorded (the same file imported meanwhile, in another window),
    /// nothing is written. The outbox entries are packed, a thousand records to a stored
    /// entry under seqs reserved from the store's key generator (see `idb`): one request per
    /// record instead of two. The requests are issued about `batch` records at a time, the
    /// next batch while the browser stores the one before, and `on_progress` is told how many
    /// records are stored after each batch.
    pub async fn write_purchase_import(
        &self,
        records: &js_sys::Array,
        digest: &str,
        batch: u32,
        on_progress: &dyn Fn(u32),
    ) -> Result<ImportWrite, StorageError> {
        self.check_open()?;
        let tx = idb::transaction(&self.db, &[stores::PURCHASES, stores::OUTBOX, stores::KV], true)?;
        let done = idb::completion(&tx);
        let key = JsValue::from_str(IMPORT_DIGESTS_KEY);
        let outcome: Result<bool, StorageError> = async {
            let kv = tx.object_store(stores::KV).map_err(StorageError::from_js)?;
            let store = tx.object_store(stores::PURCHASES).map_err(StorageError::from_js)?;
            let outbox = tx.object_store(stores::OUTBOX).map_err(StorageError::from_js)?;
            let known = kv.get(&key).map_err(StorageError::from_js)?;
            // The next seq of the key generator: a placeholder takes it and is deleted below,
            // in this transaction; the packed entries then use it and the seqs after it.
            let placeholder = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&placeholder, &"store".into(), &JsValue::from_str(stores::PURCHASES));
            let reserve = outbox.add(&placeholder).map_err(StorageError::from_js)?;
            let known = idb::request(&known).await?;
            let mut digests: Vec<String> = if known.is_undefined() { Vec::new() } else { from_js(known)? };
            if digests.iter().any(|d| d == digest) {
                return Ok(false);
            }
            let first = idb::request(&reserve).await?;
            let first_seq = first.as_f64().ok_or_else(|| StorageError::Serialization("numéro d'envoi illisible".to_owned()))?;
            outbox.delete(&first).map_err(StorageError::from_js)?;
            digests.push(digest.to_owned());
            kv.put_with_key(&to_js(&digests)?, &key).map_err(StorageError::from_js)?;
            let total = records.length();
            // Whole packs per batch, so each packed entry is issued by one batch.
            let batch = batch.max(1).div_ceil(IMPORT_PACK) * IMPORT_PACK;
            // The last request of the batch before, and how many records it completes.
            let mut previous: Option<(web_sys::IdbRequest, u32)> = None;
            let mut at = 0;
            while at < total {
                let end = (at + batch).min(total);
                let last = idb::put_import_batch(&store, &outbox, stores::PURCHASES, records, first_seq, at, end, IMPORT_PACK)
                    .map_err(StorageError::from_js)?;
                // Requests end in order: the earlier batch's last one done means it is stored.
                if let Some((request, n)) = previous.take() {
                    idb::request(&request).await?;
                    on_progress(n);
                }
                previous = Some((last, end));
                at = end;
            }
            if let Some((request, n)) = previous {
                idb::request(&request).await?;
                on_progress(n);
            }
            Ok(true)
        }
        .await;
        match outcome {
            Ok(true) => {
                done.await.map_err(StorageError::from_js)?;
                Ok(ImportWrite::Written(records.length()))
            }
            Ok(false) => {
                let _ = tx.abort();
                Ok(ImportWrite::AlreadyImported)
            }
            Err(e) => {
                let _ = tx.abort();
                Err(e)
            }
        }
    }

    /// Reads one record by id.
    pub async fn get<T: StoredRecord>(&self, id: Uuid) -> Result<Option<T>, StorageError> {
        let value = self.read(T::STORE, Read::Key(&id.to_string())).await?;
        if value.is_undefined() {
            Ok(None)
        } else {
            from_js(value).map(Some)
        }
    }

    /// Every record of a store, deleted ones (tombstones) included; a row that does not read
    /// as its type is skipped and counted.
    pub async fn all<T: StoredRecord>(&self) -> Result<Listed<T>, StorageError> {
        listed(self.read(T::STORE, Read::All).await?)
    }


    /// Records whose date (service date, or purchase date) lies in `[from, to]` (ISO dates).
    /// A row that does not read as its type is skipped and counted.
    pub async fn between_dates<T: StoredRecord>(&self, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Listed<T>, StorageError> {
        listed(self.read(T::STORE, Read::Dates(from, to)).await?)
    }

    /// Reads several stores (every value, or one key's) in one read transaction: a consistent
    /// snapshot, which a write started meanwhile is wholly in or wholly out of.
    pub async fn read_together(&self, what: &[(&str, Option<&str>)]) -> Result<Vec<JsValue>, StorageError> {
        self.check_open()?;
        let mut names: Vec<&str> = what.iter().map(|(store, _)| *store).collect();
        names.sort_unstable();
        names.dedup();
        let tx = idb::transaction(&self.db, &names, false)?;
        let requests = what
            .iter()
            .map(|(store, key)| {
                let store = tx.object_store(store)?;
                match key {
                    Some(key) => store.get(&JsValue::from_str(key)),
                    None => store.get_all(),
                }
            })
            .collect::<Result<Vec<_>, JsValue>>()
            .map_err(StorageError::from_js)?;
        let mut values = Vec::with_capacity(requests.len());
        for request in &requests {
            values.push(idb::request(request).await?);
        }
        Ok(values)
    }

    /// One read-only request, untyped: the typed readers above share this one future instead
    /// of each carrying its own copy per record type.
    async fn read(&self, store: &str, what: Read<'_>) -> Result<JsValue, StorageError> {
        self.check_open()?;
        let tx = idb::transaction(&self.db, &[store], false)?;
        let store = tx.object_store(store).map_err(StorageError::from_js)?;
        let req = match what {
            Read::Key(key) => store.get(&JsValue::from_str(key)),
            Read::All => store.get_all(),
            Read::Dates(from, to) => IdbKeyRange::bound(&JsValue::from_str(&from.to_string()), &JsValue::from_str(&to.to_string()))
                .and_then(|range| store.index(BY_DATE).and_then(|i| i.get_all_with_key(&range))),
        }
        .map_err(StorageError::from_js)?;
        idb::request(&req).await
    }

    /// Number of entries (records) with a change waiting for the server, rejected ones
    /// included (they wait for a person). A record corrected three times offline is one entry:
    /// the unit a person counts, the same everywhere (header, backup, sync page).
    pub async fn outbox_len(&self) -> Result<u32, StorageError> {
        self.check_open()?;
        let tx = idb::transaction(&self.db, &[stores::OUTBOX], false)?;
        let outbox = tx.object_store(stores::OUTBOX).map_err(StorageError::from_js)?;
        let n = wasm_bindgen_futures::JsFuture::from(idb::count_outbox(&outbox).map_err(StorageError::from_js)?).await.map_err(StorageError::from_js)?;
        Ok(n.as_f64().unwrap_or_default() as u32)
    }

    /// The oldest `limit` outbox entries, in sequence order.
    pub async fn outbox_batch(&self, limit: u32) -> Result<Vec<OutboxEntry>, StorageError> {
        self.outbox_after(0, limit).await
    }

    /// Removes acknowledged entries and marks the ones set aside for a person, in one durable
    /// transaction, together with text settings (such as the sync cursor) that must move with
    /// them. An error means nothing was written (the transaction is aborted, never left to
    /// commit what was issued before the failure).
    pub async fn acknowledge(&self, acknowledged: &[u64], review: &[ToReview], settings: &[(&str, &str)]) -> Result<(), StorageError> {
        self.check_open()?;
        let tx = idb::transaction(&self.db, &[stores::OUTBOX, stores::KV], true)?;
        let done = idb::completion(&tx);
        let outcome: Result<(), StorageError> = async {
            let outbox = tx.object_store(stores::OUTBOX).map_err(StorageError::from_js)?;
            let kv = tx.object_store(stores::KV).map_err(StorageError::from_js)?;
            let issued = (|| -> Result<Vec<web_sys::IdbRequest>, JsValue> {
                // Entries to mark are read first; the reason is then set on each JS object.
                let reads = review.iter().map(|r| outbox.get(&JsValue::from_f64(r.seq as f64))).collect::<Result<Vec<_>, _>>()?;
                for seq in acknowledged {
                    outbox.delete(&JsValue::from_f64(*seq as f64))?;
                }
                for (key, value) in settings {
                    kv.put_with_key(&JsValue::from_str(value), &JsValue::from_str(key))?;
                }
                Ok(reads)
            })()
            .map_err(StorageError::from_js)?;
            for (r, read) in review.iter().zip(&issued) {
                let entry = idb::request(read).await?;
                if !entry.is_object() {
                    continue;
                }
                js_sys::Reflect::set(&entry, &"rejected".into(), &JsValue::from_str(&r.reason)).map_err(StorageError::from_js)?;
                if let Some(server) = &r.server {
                    js_sys::Reflect::set(&entry, &"server".into(), server).map_err(StorageError::from_js)?;
                }
                outbox.put(&entry).map_err(StorageError::from_js)?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            let _ = tx.abort();
            return Err(e);
        }
        done.await.map_err(StorageError::from_js)?;
        Ok(())
    }

    /// A small setting or sync state value.
    pub async fn setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let value = self.read(stores::KV, Read::Key(key)).await?;
        if value.is_undefined() {
            Ok(None)
        } else {
            from_js(value).map(Some)
        }
    }

    /// Writes a setting durably. (The typed part is done at the call; the transaction is one
    /// future for every type.)
    pub fn set_setting<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> impl std::future::Future<Output = Result<(), StorageError>> + '_ {
        self.put_setting(JsValue::from_str(key), to_js(value))
    }

    /// Removes a setting durably (absent afterwards, as if never written).
    pub async fn remove_setting(&self, key: &str) -> Result<(), StorageError> {
        self.check_open()?;
        let tx = idb::transaction(&self.db, &[stores::KV], true)?;
        let done = idb::completion(&tx);
        tx.object_store(stores::KV).and_then(|s| s.delete(&JsValue::from_str(key))).map_err(StorageError::from_js)?;
        done.await.map_err(StorageError::from_js)?;
        Ok(())
    }

    async fn put_setting(&self, key: JsValue, value: Result<JsValue, StorageError>) -> Result<(), StorageError> {
        self.check_open()?;
        let value = value?;
        let tx = idb::transaction(&self.db, &[stores::KV], true)?;
        let done = idb::completion(&tx);
        tx.object_store(stores::KV)
            .and_then(|s| s.put_with_key(&value, &key))
            .map_err(StorageError::from_js)?;
        done.await.map_err(StorageError::from_js)?;
        Ok(())
    }
}

/// Sets the server's site id `to` on every record of the two site-bound stores, and every
/// outbox entry's record, that holds the provisional one `from`, inside `tx`. Returns the
/// number of records (not outbox entries) changed.
async fn restamp_site(tx: &web_sys::IdbTransaction, from: Uuid, to: Uuid) -> Result<u32, StorageError> {
    let from_s = from.to_string();
    let to_js_id = JsValue::from_str(&to.to_string());
    let site_id = JsValue::from_str("site_id");
    let restamp = |record: &JsValue| -> Result<bool, StorageError> {
        let current = js_sys::Reflect::get(record, &site_id).ok().and_then(|v| v.as_string());
        if current.as_deref() != Some(from_s.as_str()) {
            return Ok(false);
        }
        js_sys::Reflect::set(record, &site_id, &to_js_id).map_err(StorageError::from_js)
    };
    let mut changed = 0;
    for name in [stores::MEAL_COUNTS, stores::WEIGHINGS, stores::OUTBOX] {
        let store = tx.object_store(name).map_err(StorageError::from_js)?;
        let all: js_sys::Array = idb::request(&store.get_all().map_err(StorageError::from_js)?).await?.unchecked_into();
        for value in all.iter() {
            // An outbox entry holds its record under `record`.
            let record =
                if name == stores::OUTBOX { js_sys::Reflect::get(&value, &"record".into()).map_err(StorageError::from_js)? } else { value.clone() };
            if record.is_object() && restamp(&record)? {
                store.put(&value).map_err(StorageError::from_js)?;
                changed += u32::from(name != stores::OUTBOX);
            }
        }
    }
    Ok(changed)
}

/// An outbox entry set aside for a person (« à vérifier »).
#[derive(Debug, Clone)]
pub struct ToReview {
    pub seq: u64,
    /// Why, in French.
    pub reason: String,
    /// The server's version of the record (its JS object, without `kind`), when it said which
    /// one it keeps (a conflict).
    pub server: Option<JsValue>,
}

impl ToReview {
    pub fn new(seq: u64, reason: impl Into<String>) -> Self {
        ToReview { seq, reason: reason.into(), server: None }
    }
}

/// Records read from a store: those that read as their type, and how many rows did not (they
/// are skipped: one unreadable row never hides the others).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub unreadable: u32,
}

fn listed<T: DeserializeOwned>(value: JsValue) -> Result<Listed<T>, StorageError> {
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| StorageError::Serialization("valeur illisible".to_owned()))?;
    let rows: Vec<&RawValue> = serde_json::from_str(&text).map_err(|e| StorageError::Serialization(e.to_string()))?;
    let mut list = Listed { rows: Vec::with_capacity(rows.len()), unreadable: 0 };
    for row in rows {
        match serde_json::from_str::<T>(row.get()) {
            Ok(record) => list.rows.push(record),
            Err(_) => list.unreadable += 1,
        }
    }
    Ok(list)
}

/// What [`Repository::read`] fetches from one store.
enum Read<'a> {
    Key(&'a str),
    All,
    /// Records whose date lies in `[from, to]`, through the by-date index.
    Dates(chrono::NaiveDate, chrono::NaiveDate),
}

/// A change pulled from the server, ready to store: its record store, id and revision, and
/// the record's JS object as the server's JSON gives it (the protocol's `kind` tag, if there,
/// is not stored).
#[derive(Debug, Clone)]
pub struct PulledRecord {
    pub store: &'static str,
    pub id: Uuid,
    pub revision: u64,
    pub record: JsValue,
}

impl Repository {
    /// Outbox entries after `after_seq` (exclusive), oldest first, at most `limit`.
    /// A packed entry among them (an imported file's) is first unpacked, as far as needed,
    /// into ordinary entries under the seqs it reserved: what is returned, and so everything
    /// the sync acknowledges or sets aside, is an ordinary entry.
    pub async fn outbox_after(&self, after_seq: u64, limit: u32) -> Result<Vec<OutboxEntry>, StorageError> {
        self.check_open()?;
        let range = IdbKeyRange::lower_bound_with_open(&JsValue::from_f64(after_seq as f64), true).map_err(StorageError::from_js)?;
        loop {
            let tx = idb::transaction(&self.db, &[stores::OUTBOX], false)?;
            let req = tx
                .object_store(stores::OUTBOX)
                .and_then(|s| s.get_all_with_key_and_limit(&range, limit))
                .map_err(StorageError::from_js)?;
            let values: js_sys::Array = idb::request(&req).await?.unchecked_into();
            let Some(at) = values.iter().position(|v| is_packed(&v)) else {
                return entries_from_js(values.into());
            };
            let key = js_sys::Reflect::get(&values.get(at as u32), &"seq".into()).map_err(StorageError::from_js)?;
            self.unpack(&key, limit - at as u32).await?;
        }
    }

    /// Turns the first `limit` records of the packed entry under `key` into ordinary entries,
    /// in one durable transaction.
    async fn unpack(&self, key: &JsValue, limit: u32) -> Result<(), StorageError> {
        // Packed entries are only written by a purchase import.
        let tx = idb::transaction(&self.db, &[stores::OUTBOX, stores::PURCHASES], true)?;
        let done = idb::completion(&tx);
        let outbox = tx.object_store(stores::OUTBOX).map_err(StorageError::from_js)?;
        let issued = match idb::unpack_outbox(&outbox, key, limit) {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise).await,
            Err(e) => Err(e),
        };
        if let Err(e) = issued {
            let _ = tx.abort();
            return Err(StorageError::from_js(e));
        }
        done.await.map(drop).map_err(StorageError::from_js)
    }

    /// Stores pulled records and the new pull cursor in one durable transaction, so the cursor
    /// never moves past changes that are not stored. A local copy with a higher revision (a
    /// correction not yet pushed) is kept.
    pub async fn apply_pull(&self, records: &[PulledRecord], settings: &[(&str, &str)]) -> Result<u32, StorageError> {
        self.check_open()?;
        let all_stores = [stores::MEAL_COUNTS, stores::WEIGHINGS, stores::PURCHASES, stores::KV];
        let tx = idb::transaction(&self.db, &all_stores, true)?;
        let done = idb::completion(&tx);
        let mut written = 0;
        let outcome: Result<(), StorageError> = async {
            for r in records {
                let store = tx.object_store(r.store).map_err(StorageError::from_js)?;
                if stored_revision(&store, r.id).await?.is_none_or(|l| r.revision >= l) {
                    js_sys::Reflect::delete_property(r.record.unchecked_ref::<js_sys::Object>(), &"kind".into())
                        .map_err(StorageError::from_js)?;
                    put_record(&store, &r.record, &JsValue::from_str(&r.id.to_string())).map_err(StorageError::from_js)?;
                    written += 1;
                }
            }
            let kv = tx.object_store(stores::KV).map_err(StorageError::from_js)?;
            for (key, value) in settings {
                kv.put_with_key(&JsValue::from_str(value), &JsValue::from_str(key)).map_err(StorageError::from_js)?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            let _ = tx.abort();
            return Err(e);
        }
        done.await.map_err(StorageError::from_js)?;
        Ok(written)
    }

    /// Restamps records made before enrolment (with the tablet's provisional site id) with the
    /// server's site id, in the record stores and in the outbox, in one transaction.
    pub async fn rebind_site(&self, from: Uuid, to: Uuid) -> Result<u32, StorageError> {
        self.check_open()?;
        if from == to {
            return Ok(0);
        }
        let tx = idb::transaction(&self.db, &[stores::MEAL_COUNTS, stores::WEIGHINGS, stores::OUTBOX], true)?;
        let done = idb::completion(&tx);
        let changed = match restamp_site(&tx, from, to).await {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        done.await.map_err(StorageError::from_js)?;
        Ok(changed)
    }

    /// Writes an enrolment in one durable transaction: the records made before it restamped
    /// from the provisional site id to the server's (`rebind`), and the settings (profile,
    /// cursor, credentials). A failure writes none of it: the tablet is never left with the
    /// code used up and no token, or a profile of one canteen and the token of another.
    pub async fn write_enrolment(&self, rebind: Option<(Uuid, Uuid)>, settings: &[(&str, JsValue)]) -> Result<(), StorageError> {
        self.check_open()?;
        let tx = idb::transaction(&self.db, &[stores::MEAL_COUNTS, stores::WEIGHINGS, stores::OUTBOX, stores::KV], true)?;
        let done = idb::completion(&tx);
        let outcome: Result<(), StorageError> = async {
            if let Some((from, to)) = rebind.filter(|(from, to)| from != to) {
                restamp_site(&tx, from, to).await?;
            }
            let kv = tx.object_store(stores::KV).map_err(StorageError::from_js)?;
            for (key, value) in settings {
                kv.put_with_key(value, &JsValue::from_str(key)).map_err(StorageError::from_js)?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            let _ = tx.abort();
            return Err(e);
        }
        done.await.map(drop).map_err(StorageError::from_js)
    }

    /// Gives up an entry set aside for a person: the entry is removed and, when the server said
    /// which version it keeps (a conflict), that version is written locally, in one durable
    /// transaction, when the local copy is not newer than it or is one of the tablet's own
    /// versions that nothing left in the outbox will send (an abandoned or refused correction).
    /// A newer pulled copy, or a correction still waiting to be sent, is kept. So the tablet
    /// never keeps a version of its own that the server will never have.
    pub async fn discard(&self, entry: &OutboxEntry) -> Result<(), StorageError> {
        self.check_open()?;
        let seq = entry.seq.ok_or_else(|| StorageError::Serialization("saisie sans numéro d'envoi".to_owned()))?;
        let server = entry.server.as_ref().map(|s| parse_js(s.get())).transpose()?;
        let names = [entry.store.as_str(), stores::OUTBOX];
        let tx = idb::transaction(&self.db, if server.is_some() { &names } else { &names[1..] }, true)?;
        let done = idb::completion(&tx);
        let outcome: Result<(), StorageError> = async {
            let outbox = tx.object_store(stores::OUTBOX).map_err(StorageError::from_js)?;
            let Some(server) = server else {
                return outbox.delete(&JsValue::from_f64(seq as f64)).map(drop).map_err(StorageError::from_js);
            };
            let revision = revision_of(&server).ok_or_else(|| StorageError::Serialization("version du serveur sans révision".to_owned()))?;
            let id = JsValue::from_str(&entry.record_id.to_string());
            let others = outbox.index(BY_RECORD).and_then(|i| i.get_all_with_key(&id)).map_err(StorageError::from_js)?;
            // A revision of it still packed (an imported line not sent yet) is one to send too.
            let packed = idb::packed_holds(&outbox, &id).map_err(StorageError::from_js)?;
            let others = entries_from_js(idb::request(&others).await?)?;
            let packed = wasm_bindgen_futures::JsFuture::from(packed).await.map_err(StorageError::from_js)?.is_truthy();
            outbox.delete(&JsValue::from_f64(seq as f64)).map_err(StorageError::from_js)?;
            // The tablet's own revisions of the record still in the outbox, this one included,
            // and whether one of them is still to be sent.
            let own_max = others.iter().map(|e| e.revision).max().unwrap_or(entry.revision).max(entry.revision);
            let pending = packed || others.iter().any(|e| e.seq != Some(seq) && e.rejected.is_none());
            let store = tx.object_store(&entry.store).map_err(StorageError::from_js)?;
            let write = match stored_revision(&store, entry.record_id).await? {
                None => true,
                Some(local) => revision >= local || (local <= own_max && !pending),
            };
            if write {
                put_record(&store, &server, &id).map_err(StorageError::from_js)?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            let _ = tx.abort();
            return Err(e);
        }
        done.await.map(drop).map_err(StorageError::from_js)
    }

    /// Sends a refused entry again as a new revision, above both its own and the local
    /// record's (which may be the server's version, pulled since): the record and a fresh
    /// outbox entry are written and the refused entry removed, in one durable transaction.
    /// Returns the new revision.
    pub async fn requeue(&self, entry: &OutboxEntry, now: chrono::DateTime<chrono::Utc>) -> Result<u64, StorageError> {
        self.check_open()?;
        let seq = entry.seq.ok_or_else(|| StorageError::Serialization("saisie sans numéro d'envoi".to_owned()))?;
        let tx = idb::transaction(&self.db, &[entry.store.as_str(), stores::OUTBOX], true)?;
        let done = idb::completion(&tx);
        let outcome: Result<u64, StorageError> = async {
            let store = tx.object_store(&entry.store).map_err(StorageError::from_js)?;
            let revision = stored_revision(&store, entry.record_id).await?.unwrap_or(0).max(entry.revision) + 1;
            // The entry's record as stored, with a new revision stamped on its JS object.
            let record_js = entry.record_js()?;
            let meta_js = js_sys::Reflect::get(&record_js, &"meta".into()).map_err(StorageError::from_js)?;
            if !meta_js.is_object() {
                return Err(StorageError::Serialization("saisie sans métadonnées".to_owned()));
            }
            let modified_at = serde_json::to_string(&now).map_err(|e| StorageError::Serialization(e.to_string()))?;
            let meta_obj: &js_sys::Object = meta_js.unchecked_ref();
            js_sys::Reflect::set(meta_obj, &"revision".into(), &JsValue::from_f64(revision as f64)).map_err(StorageError::from_js)?;
            js_sys::Reflect::set(meta_obj, &"modified_at".into(), &JsValue::from_str(modified_at.trim_matches('"'))).map_err(StorageError::from_js)?;
            js_sys::Reflect::delete_property(meta_obj, &"server_updated_at".into()).map_err(StorageError::from_js)?;
            put_record(&store, &record_js, &JsValue::from_str(&entry.record_id.to_string())).map_err(StorageError::from_js)?;
            let outbox = tx.object_store(stores::OUTBOX).map_err(StorageError::from_js)?;
            outbox.add(&outbox_entry_js(&entry.store, entry.record_id, revision, &record_js)).map_err(StorageError::from_js)?;
            outbox.delete(&JsValue::from_f64(seq as f64)).map_err(StorageError::from_js)?;
            Ok(revision)
        }
        .await;
        match outcome {
            Ok(revision) => {
                done.await.map_err(StorageError::from_js)?;
                Ok(revision)
            }
            Err(e) => {
                let _ = tx.abort();
                Err(e)
            }
        }
    }

    /// Entries the server refused or answered with a conflict: they wait for a person.
    pub async fn outbox_to_review(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        self.check_open()?;
        let tx = idb::transaction(&self.db, &[stores::OUTBOX], false)?;
        let req = tx.object_store(stores::OUTBOX).and_then(|s| s.get_all()).map_err(StorageError::from_js)?;
        // Packed entries (never sent yet) are never under review.
        let all: js_sys::Array = idb::request(&req).await?.unchecked_into();
        let ordinary: js_sys::Array = all.iter().filter(|v| !is_packed(v)).collect();
        let all = entries_from_js(ordinary.into())?;
        Ok(all.into_iter().filter(|e| e.rejected.is_some()).collect())
    }
}

/// Asks the browser to keep our data under storage pressure; returns whether it is persistent.
pub async fn request_persistence() -> bool {
    let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else { return false };
    if let Ok(p) = storage.persisted() {
        if let Ok(v) = wasm_bindgen_futures::JsFuture::from(p).await {
            if v.as_bool() == Some(true) {
                return true;
            }
        }
    }
    match storage.persist() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p).await.ok().and_then(|v| v.as_bool()).unwrap_or(false),
        Err(_) => false,
    }
}

impl StoredRecord for assiette_domain::meals::DailyMealCount {
    const STORE: &'static str = stores::MEAL_COUNTS;
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

impl StoredRecord for assiette_domain::waste::Weighing {
    const STORE: &'static str = stores::WEIGHINGS;
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

impl StoredRecord for assiette_domain::purchase::Purchase {
    const STORE: &'static str = stores::PURCHASES;
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

#[cfg(test)]
mod tests;
