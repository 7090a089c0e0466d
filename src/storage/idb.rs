//! Thin futures over the raw IndexedDB API (web-sys). Kept small on purpose: the repository
//! above it decides what is stored; here we only turn requests and transactions into futures
//! and browser errors into [`StorageError`].

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

use super::StorageError;

#[wasm_bindgen(inline_js = r#"
// The outbox entries of an imported file are packed: one stored entry stands for up to a
// thousand records with consecutive seqs first_seq..=seq (its key is the last one, so the
// store's key generator has moved past them all), and holds their ids and revisions, not the
// records: those are in their own store. Writing 100,000 records and as many outbox entries
// each holding a copy of its record was two requests and two copies per line, most of an
// import's time; packed, it is one request and one copy per line. The sync reads the outbox
// through `unpack_outbox`, which turns the oldest ids of a packed entry into ordinary entries
// (the record as stored) under their own seqs before they are sent: everything that
// acknowledges, reviews or discards an entry only ever sees ordinary ones.

// Issues the puts of records[from..to) and of their packed outbox entries (one per `pack`
// records, counted from index 0, whose seq is firstSeq + index). Returns the last request.
export function put_import_batch(store, outbox, storeName, records, firstSeq, from, to, pack) {
  let last = null;
  if (store.keyPath === null) {
    for (let i = from; i < to; i++) last = store.put(records[i], records[i].meta.id);
  } else {
    for (let i = from; i < to; i++) last = store.put(records[i]);
  }
  for (let at = from; at < to; at += pack) {
    const end = Math.min(to, at + pack);
    const part = records.slice(at, end);
    last = outbox.put({
      seq: firstSeq + end - 1,
      store: storeName,
      first_seq: firstSeq + at,
      packed_ids: part.map((r) => r.meta.id),
      revisions: part.map((r) => r.meta.revision),
    });
  }
  return last;
}

// The ordinary entry of a packed record, `stored` being the record as stored now: none when
// it has been corrected or deleted since (a later revision, queued with its own entry, which
// carries it to the server instead).
function unpacked(p, i, stored) {
  if (!stored || !stored.meta || stored.meta.revision !== p.revisions[i]) return null;
  return { seq: p.first_seq + i, store: p.store, record_id: p.packed_ids[i], revision: p.revisions[i], record: stored };
}

// Turns the first `limit` records of the packed entry stored under `key` into ordinary
// entries (their own seqs), inside the caller's read-write transaction over the outbox and
// the records' store. The last one takes the packed entry's own key. Resolves with how many.
export function unpack_outbox(outbox, key, limit) {
  return new Promise((resolve, reject) => {
    const get = outbox.get(key);
    get.onerror = () => reject(get.error);
    get.onsuccess = () => {
      const p = get.result;
      if (!p || p.first_seq === undefined) { resolve(0); return; }
      const n = Math.min(Math.max(limit, 1), p.packed_ids.length);
      const store = outbox.transaction.objectStore(p.store);
      const reads = p.packed_ids.slice(0, n).map((id) => store.get(id));
      // Requests succeed in order: the last read done, all are.
      reads[n - 1].onerror = () => reject(reads[n - 1].error);
      reads[n - 1].onsuccess = () => {
        if (n === p.packed_ids.length) outbox.delete(key);
        for (let i = 0; i < n; i++) {
          const entry = unpacked(p, i, reads[i].result);
          if (entry) outbox.put(entry);
        }
        if (n < p.packed_ids.length) {
          p.packed_ids = p.packed_ids.slice(n);
          p.revisions = p.revisions.slice(n);
          p.first_seq += n;
          outbox.put(p);
        }
        resolve(n);
      };
    };
  });
}

// The ordinary entries a list of stored outbox values stands for, in seq order (packed ones
// expanded with their records as stored, `records`), for a reader that wants every entry as
// the sync will send it (a backup).
export function expand_outbox(values, records) {
  let byId = null;
  const out = [];
  for (const v of values) {
    if (v && v.first_seq !== undefined && Array.isArray(v.packed_ids)) {
      if (!byId) byId = new Map(records.map((r) => [r.meta.id, r]));
      v.packed_ids.forEach((id, i) => {
        const entry = unpacked(v, i, byId.get(id));
        if (entry) out.push(entry);
      });
    } else {
      out.push(v);
    }
  }
  return out;
}

// Schema 3 keys the purchases out of line (their id given apart) and drops their date index,
// which made every put read the keys from a second copy of the record: inside the upgrade's
// transaction, the store keyed in line is renamed, a new one made, and every record copied.
export function purchases_out_of_line(db, tx, name) {
  const old = tx.objectStore(name);
  old.name = name + "_v2";
  const store = db.createObjectStore(name);
  const all = old.getAll();
  all.onsuccess = () => {
    for (const r of all.result) store.put(r, r.meta.id);
    db.deleteObjectStore(name + "_v2");
  };
}

// Records with a change waiting in the outbox, each counted once however many of its
// revisions wait: the distinct ids of ordinary entries, plus those of packed entries (read
// through the `packed` index, one key per packed entry) that have no ordinary entry too.
export function count_outbox(outbox) {
  return new Promise((resolve, reject) => {
    const ids = new Set();
    const req = outbox.index("by_record").openKeyCursor(null, "nextunique");
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const c = req.result;
      if (c) { ids.add(c.key); c.continue(); return; }
      const packed = outbox.index("packed").getAll();
      packed.onerror = () => reject(packed.error);
      packed.onsuccess = () => {
        let n = ids.size;
        for (const p of packed.result) for (const id of p.packed_ids) if (!ids.has(id)) n++;
        resolve(n);
      };
    };
  });
}

// Whether a packed entry still holds the record `id` (a revision of it not sent yet).
export function packed_holds(outbox, id) {
  return new Promise((resolve, reject) => {
    const packed = outbox.index("packed").getAll();
    packed.onerror = () => reject(packed.error);
    packed.onsuccess = () => resolve(packed.result.some((p) => p.packed_ids.includes(id)));
  });
}
"#)]
extern "C" {
    /// Fails (nothing more issued) when IndexedDB refuses a record, e.g. one without its key.
    #[wasm_bindgen(catch)]
    pub fn put_import_batch(
        store: &web_sys::IdbObjectStore,
        outbox: &web_sys::IdbObjectStore,
        store_name: &str,
        records: &Array,
        first_seq: f64,
        from: u32,
        to: u32,
        pack: u32,
    ) -> Result<IdbRequest, JsValue>;
    #[wasm_bindgen(catch)]
    pub fn unpack_outbox(outbox: &web_sys::IdbObjectStore, key: &JsValue, limit: u32) -> Result<Promise, JsValue>;
    pub fn expand_outbox(values: &Array, records: &Array) -> Array;
    #[wasm_bindgen(catch)]
    pub fn purchases_out_of_line(db: &web_sys::IdbDatabase, tx: &web_sys::IdbTransaction, name: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch)]
    pub fn count_outbox(outbox: &web_sys::IdbObjectStore) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub fn packed_holds(outbox: &web_sys::IdbObjectStore, id: &JsValue) -> Result<Promise, JsValue>;
}

/// Resolves with the request's result, or fails with its error.
pub async fn request(req: &IdbRequest) -> Result<JsValue, StorageError> {
    // Already settled (e.g. read after its transaction completed): its events have fired.
    if req.ready_state() == web_sys::IdbRequestReadyState::Done {
        return match req.error() {
            Ok(Some(e)) => Err(StorageError::from_js(e.into())),
            _ => req.result().map_err(StorageError::from_js),
        };
    }
    let req = req.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let ok_req = req.clone();
        let on_success = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok_req.result().unwrap_or(JsValue::UNDEFINED));
        });
        let err_req = req.clone();
        let on_error = Closure::once_into_js(move |_e: web_sys::Event| {
            let err = err_req.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::NULL);
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        req.set_onsuccess(Some(on_success.unchecked_ref()));
        req.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(StorageError::from_js)
}

/// Resolves when the transaction has committed (`complete`), fails when it aborts or errors.
/// Callers register this before issuing requests' awaits so no event is missed.
pub fn completion(tx: &IdbTransaction) -> JsFuture {
    let tx = tx.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let abort_tx = tx.clone();
        let reject2 = reject.clone();
        let on_abort = Closure::once_into_js(move |_e: web_sys::Event| {
            let err = abort_tx.error().map(JsValue::from).unwrap_or_else(|| JsValue::from_str("AbortError"));
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        let err_tx = tx.clone();
        let on_error = Closure::once_into_js(move |_e: web_sys::Event| {
            let err = err_tx.error().map(JsValue::from).unwrap_or_else(|| JsValue::from_str("UnknownError"));
            let _ = reject2.call1(&JsValue::NULL, &err);
        });
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onabort(Some(on_abort.unchecked_ref()));
        tx.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// Opens a transaction. Read-write transactions ask for `strict` durability: the browser
/// flushes to disk before `complete`, so "enregistré" is only shown for data that survives
/// a power cut. (Called through JS because web-sys marks the options argument unstable.)
pub fn transaction(db: &IdbDatabase, stores: &[&str], write: bool) -> Result<IdbTransaction, StorageError> {
    let names = Array::new();
    for s in stores {
        names.push(&JsValue::from_str(s));
    }
    if !write {
        return db
            .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readonly)
            .map_err(StorageError::from_js);
    }
    let options = Object::new();
    let _ = Reflect::set(&options, &"durability".into(), &"strict".into());
    let f: Function = Reflect::get(db, &"transaction".into()).map_err(StorageError::from_js)?.unchecked_into();
    f.call3(db, &names, &"readwrite".into(), &options)
        .map(|t| t.unchecked_into())
        .map_err(StorageError::from_js)
}

/// Opens (and upgrades) a database. `upgrade` runs inside the version-change transaction
/// with the old version number; `on_blocked` runs if another connection (a tab still on an
/// older version) does not close when asked, while the open waits for it.
pub async fn open(
    name: &str,
    version: u32,
    upgrade: impl FnOnce(&IdbDatabase, &IdbTransaction, u32) -> Result<(), JsValue> + 'static,
    on_blocked: impl FnOnce() + 'static,
) -> Result<IdbDatabase, StorageError> {
    let window = web_sys::window().ok_or(StorageError::Unavailable("pas de fenêtre".into()))?;
    let factory = window
        .indexed_db()
        .map_err(|_| StorageError::Unavailable("IndexedDB refusé par le navigateur".into()))?
        .ok_or(StorageError::Unavailable("IndexedDB absent".into()))?;
    let open_req: IdbOpenDbRequest = factory.open_with_u32(name, version).map_err(StorageError::from_js)?;

    let upgrade_req = open_req.clone();
    let upgrade_failed = std::rc::Rc::new(std::cell::RefCell::new(None::<JsValue>));
    let failed = upgrade_failed.clone();
    let on_upgrade = Closure::once_into_js(move |e: web_sys::IdbVersionChangeEvent| {
        let db: IdbDatabase = upgrade_req.result().expect("upgrade result").unchecked_into();
        let tx = upgrade_req.transaction().expect("version-change transaction");
        if let Err(err) = upgrade(&db, &tx, e.old_version() as u32) {
            *failed.borrow_mut() = Some(err);
            let _ = tx.abort();
        }
    });
    open_req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    // Another tab still holds the old version: it is asked to close (versionchange) and the
    // open completes once it has. If it does not (an older Assiette without the handler, or a
    // page frozen in the background), the person is told what to close.
    let on_blocked = Closure::once_into_js(on_blocked);
    open_req.set_onblocked(Some(on_blocked.unchecked_ref()));
    let result = request(&open_req).await;
    open_req.set_onblocked(None);
    if let Some(err) = upgrade_failed.borrow_mut().take() {
        return Err(StorageError::from_js(err));
    }
    Ok(result?.unchecked_into())
}
