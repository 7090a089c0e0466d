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
export function count_unique_keys(index) {
  return new Promise((resolve, reject) => {
    let n = 0;
    const req = index.openKeyCursor(null, "nextunique");
    req.onsuccess = () => { const c = req.result; if (c) { n++; c.continue(); } else { resolve(n); } };
    req.onerror = () => reject(req.error);
  });
}
"#)]
extern "C" {
    /// Number of distinct keys of an index (a key cursor skipping duplicates: no values read).
    pub fn count_unique_keys(index: &web_sys::IdbIndex) -> Promise;
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
