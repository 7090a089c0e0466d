//! Reading a national purchase file on the device with the domain's import (the same rules as
//! the server's command line). A CSV or TSV is read in slices of the file (`Blob.slice`) fed to
//! the domain's push parser, returning to the browser between slices so the page can show the
//! progress; a workbook (XLSX) is read whole, as the format requires. Purchases are turned
//! into the JS objects the repository stores as they come, a few thousand at a time, so the
//! file is never held as text and the purchases never twice.

use std::collections::{HashMap, HashSet};

use assiette_domain::import::{import_purchases, CsvImport, ImportOptions, ImportRejected};
use assiette_domain::purchase::Purchase;
use assiette_tablet::purchases::{Preview, Scope};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::storage::{js_of, StorageError};

/// Bytes read per slice: about 4,500 national lines, a few tens of milliseconds of checking
/// (the bar moves well within half a second on a busy tablet too).
const SLICE_BYTES: f64 = 512.0 * 1024.0;
/// Purchases turned into JS objects at a time.
const FLUSH_EVERY: usize = 4096;
/// The largest file read here. The national platform takes 10 MB at most; a bigger file is
/// read (with a warning), up to what a tablet's memory comfortably holds.
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// A file that passed every check, ready to be written in one transaction.
pub struct Ready {
    /// The purchases as the repository stores them.
    pub records: js_sys::Array,
    pub preview: Preview,
    pub digest: String,
    pub bytes: u64,
}

pub enum Outcome {
    Ready(Ready),
    Refused(ImportRejected),
}

/// Purchases waiting to become JS objects.
struct Pending {
    buffer: Vec<Purchase>,
    records: js_sys::Array,
    preview: Preview,
    failed: Option<StorageError>,
}

impl Pending {
    fn push(&mut self, p: Purchase) {
        self.preview.add(&p);
        self.buffer.push(p);
        if self.buffer.len() >= FLUSH_EVERY {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.buffer.is_empty() || self.failed.is_some() {
            self.buffer.clear();
            return;
        }
        match js_of(&self.buffer) {
            Ok(list) => {
                let list: js_sys::Array = list.unchecked_into();
                for item in list.iter() {
                    self.records.push(&item);
                }
            }
            Err(e) => self.failed = Some(e),
        }
        self.buffer.clear();
    }
}

/// Resolves after the browser has had a turn (rendering included).
pub async fn next_turn() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

async fn bytes_of(blob: &web_sys::Blob) -> Result<Vec<u8>, StorageError> {
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|e| StorageError::Other(format!("lecture du fichier impossible ({e:?})")))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Reads and checks a national file. `scope`: lines for another SIRET are errors; `known`:
/// digests of the files already imported here (the same file again is refused, and said so).
/// `on_progress(read, total)` is told the bytes read after every slice.
pub async fn read_file(
    blob: &web_sys::Blob,
    scope: &Scope,
    known: &HashSet<String>,
    today: NaiveDate,
    now: DateTime<Utc>,
    on_progress: &dyn Fn(u64, u64),
) -> Result<Outcome, StorageError> {
    let total = blob.size() as u64;
    let sirets = scope.sirets();
    // No canteen id is known on the device: a file keyed by `cantine_id` names its lines'
    // canteens with ids outside the scope, each line an error that says to use `siret`.
    let no_canteen_ids = HashMap::new();
    let mut opts = ImportOptions::new(today, now);
    opts.known_digests = Some(known);
    opts.registered_sirets = Some(&sirets);
    opts.canteen_ids = Some(&no_canteen_ids);
    opts.max_bytes = MAX_BYTES;
    let mut new_id = Uuid::now_v7;
    let mut pending = Pending { buffer: Vec::new(), records: js_sys::Array::new(), preview: Preview::default(), failed: None };

    let head = bytes_of(&blob.slice_with_f64_and_f64(0.0, 4.0).map_err(StorageError::from_js)?).await?;
    // A workbook (zip) or an old Excel file: read whole by the domain (which says what to do
    // with an .xls).
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        if total > MAX_BYTES {
            let e = ImportRejected { errors: vec![too_big()], digest: None, duplicate: false };
            return Ok(Outcome::Refused(e));
        }
        on_progress(0, total);
        next_turn().await;
        let bytes = bytes_of(blob).await?;
        on_progress(total / 2, total);
        next_turn().await;
        let imported = match import_purchases(&bytes, &opts, &mut new_id) {
            Ok(i) => i,
            Err(e) => return Ok(Outcome::Refused(e)),
        };
        drop(bytes);
        for p in imported.purchases {
            pending.push(p);
        }
        pending.flush();
        on_progress(total, total);
        return finish(pending, imported.digest, total);
    }

    let mut import = CsvImport::new(&opts);
    let mut at = 0.0;
    let size = total as f64;
    while at < size {
        let end = (at + SLICE_BYTES).min(size);
        let slice = bytes_of(&blob.slice_with_f64_and_f64(at, end).map_err(StorageError::from_js)?).await?;
        at = end;
        if let Err(e) = import.feed(&slice, &mut new_id, &mut |p| pending.push(p)) {
            return Ok(Outcome::Refused(e));
        }
        if pending.failed.is_some() {
            break;
        }
        on_progress(at as u64, total);
        next_turn().await;
    }
    let summary = match import.finish(&mut new_id, &mut |p| pending.push(p)) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::Refused(e)),
    };
    pending.flush();
    finish(pending, summary.digest, total)
}

fn too_big() -> assiette_domain::import::ImportError {
    assiette_domain::import::ImportError {
        line: None,
        column: None,
        message: format!("Ce fichier est trop grand pour être lu sur l'appareil : découpez-le (par année ou par site) en fichiers de moins de {} Mo.", MAX_BYTES / 1_048_576),
    }
}

fn finish(pending: Pending, digest: String, bytes: u64) -> Result<Outcome, StorageError> {
    if let Some(e) = pending.failed {
        return Err(e);
    }
    Ok(Outcome::Ready(Ready { records: pending.records, preview: pending.preview, digest, bytes }))
}
