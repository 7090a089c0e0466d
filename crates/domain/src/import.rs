//! Import of the national purchase file of "ma cantine" (CSV or XLSX), pure and streaming.
//!
//! Behaves like the platform's import: exactly the national column set (header names
//! compared case-insensitively, spaces around them ignored), comma / semicolon / tab
//! separators sniffed from the header line, 10 MB maximum, prices rounded half-down to
//! cents, a file with any bad row rejected whole with every error listed by line and column,
//! a file already imported (same SHA-256 digest) refused. Registered sites and known digests
//! are inputs, so the caller (app, server, CLI) decides what is known.
//! Variant: files keyed by the platform's canteen id (`cantine_id` instead of `siret`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::purchase::{parse_price_cents, Characteristic, Family, LocalDefinition, Purchase, PurchaseFields};
use crate::record::RecordMeta;

/// 10 MB, the platform's `CSV_IMPORT_MAX_SIZE`.
pub const MAX_FILE_BYTES: u64 = 10_485_760;

/// The national columns, in order (`schemas/achats_siret.json`).
pub const COLUMNS: [&str; 12] = [
    "siret",
    "description",
    "fournisseur",
    "date",
    "prix_ht",
    "famille_produits",
    "categories_egalim",
    "origine",
    "est_circuit_court",
    "est_local",
    "definition_local",
    "definition_local_km",
];

/// First column of the id-keyed variant (`schemas/achats_id.json`).
pub const CANTEEN_ID_COLUMN: &str = "cantine_id";

/// How the file names the canteen of each purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyColumn {
    Siret,
    CantineId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Xlsx,
}

/// What the importer must know; all pure data.
#[derive(Debug, Clone)]
pub struct ImportOptions<'a> {
    /// Dates after this day are refused.
    pub today: NaiveDate,
    /// Clock for the new records' metadata.
    pub now: DateTime<Utc>,
    /// SHA-256 digests (lower-case hex) of files already imported.
    pub known_digests: Option<&'a HashSet<String>>,
    /// SIRETs of registered sites; `None` accepts any SIRET (the CLI).
    pub registered_sirets: Option<&'a HashSet<String>>,
    /// Canteen id → SIRET, for `cantine_id` files. `None`: the id is kept as the site key.
    pub canteen_ids: Option<&'a HashMap<String, String>>,
    /// Largest accepted file; `MAX_FILE_BYTES` (the platform's 10 MB) unless a caller needs more.
    pub max_bytes: u64,
    /// Whether to compute the file's digest (`StreamSummary::digest`, the duplicate check):
    /// true unless a caller never stores it (the `egalim` command, which only counts).
    pub digest: bool,
}

impl<'a> ImportOptions<'a> {
    pub fn new(today: NaiveDate, now: DateTime<Utc>) -> Self {
        ImportOptions { today, now, known_digests: None, registered_sirets: None, canteen_ids: None, max_bytes: MAX_FILE_BYTES, digest: true }
    }
}

/// One reason for rejecting a file. `line` is the line in the file (1 = header), `None` for
/// the whole file; `column` is the national column name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportError {
    pub line: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.column) {
            (Some(l), Some(c)) => write!(f, "Ligne {l}, colonne {c} : {}", self.message),
            (Some(l), None) => write!(f, "Ligne {l} : {}", self.message),
            (None, Some(c)) => write!(f, "Colonne {c} : {}", self.message),
            (None, None) => write!(f, "{}", self.message),
        }
    }
}

/// A refused file: nothing is imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportRejected {
    pub errors: Vec<ImportError>,
    /// Digest when the whole file was read.
    pub digest: Option<String>,
    /// The file was refused only because it was already imported.
    pub duplicate: bool,
}

impl fmt::Display for ImportRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Fichier refusé, aucun achat importé ({} erreur{}) :", self.errors.len(), if self.errors.len() > 1 { "s" } else { "" })?;
        for e in &self.errors {
            writeln!(f, "- {e}")?;
        }
        Ok(())
    }
}

/// An accepted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub purchases: Vec<Purchase>,
    /// SHA-256 of the file's bytes, lower-case hex: store it to refuse the same file later.
    pub digest: String,
    pub key_column: KeyColumn,
    pub format: FileFormat,
}

/// Summary of a streamed CSV import (purchases went to the sink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    pub count: u64,
    /// SHA-256 of the file, lower-case hex; empty when `ImportOptions::digest` was false
    /// (and no known digests were given).
    pub digest: String,
    pub key_column: KeyColumn,
}

fn file_error(message: impl Into<String>) -> ImportError {
    ImportError { line: None, column: None, message: message.into() }
}

fn too_big(max_bytes: u64) -> ImportError {
    file_error(format!(
        "Ce fichier est trop grand : utilisez un fichier de moins de {} Mo (découpez-le par année ou par site).",
        max_bytes.div_ceil(1_048_576)
    ))
}

fn duplicate_error() -> ImportError {
    file_error("Ce fichier a déjà été importé (contenu identique) : ses achats sont déjà enregistrés, rien n'a été ajouté.")
}

/// SHA-256 of bytes, lower-case hex.
pub fn digest_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// Imports a whole file held in memory: XLSX (by its signature) or CSV.
/// `new_id` makes the records' ids (UUID v7 on devices).
pub fn import_purchases(
    bytes: &[u8],
    opts: &ImportOptions<'_>,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<Imported, ImportRejected> {
    let reject = |errors, digest| ImportRejected { errors, digest, duplicate: false };
    if bytes.len() as u64 > opts.max_bytes {
        return Err(reject(vec![too_big(opts.max_bytes)], None));
    }
    let digest = digest_hex(bytes);
    if opts.known_digests.is_some_and(|k| k.contains(&digest)) {
        return Err(ImportRejected { errors: vec![duplicate_error()], digest: Some(digest), duplicate: true });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let (purchases, key_column) = read_xlsx(bytes, opts, new_id).map_err(|e| reject(e, Some(digest.clone())))?;
        return Ok(Imported { purchases, digest, key_column, format: FileFormat::Xlsx });
    }
    let mut purchases = Vec::new();
    // Digest already checked above; the stream recomputes it (cheap) and must agree.
    let no_digests = ImportOptions { known_digests: None, ..opts.clone() };
    let summary = import_csv_stream(bytes, &no_digests, new_id, &mut |p| purchases.push(p))?;
    Ok(Imported { purchases, digest: summary.digest, key_column: summary.key_column, format: FileFormat::Csv })
}

/// Streaming CSV import: rows are read and checked one by one, and each valid purchase goes
/// to `sink` while no error has been found. On `Err` the file is refused whole: the caller
/// must discard what its sink received. (A [`CsvImport`] fed from `input`.)
pub fn import_csv_stream<R: Read>(
    input: R,
    opts: &ImportOptions<'_>,
    new_id: &mut dyn FnMut() -> Uuid,
    sink: &mut dyn FnMut(Purchase),
) -> Result<StreamSummary, ImportRejected> {
    import_csv_fields(input, opts, &mut |f| sink(f.to_purchase(RecordMeta::new(new_id(), opts.now))))
}

/// [`import_csv_stream`] without records: each valid row's fields, borrowed for the call, go
/// to `sink` (no id, no clock, no allocation per row), for callers that only count, such as
/// the yearly totals of `assiette-server egalim`. Same reader, same rules, same errors.
pub fn import_csv_fields<R: Read>(
    mut input: R,
    opts: &ImportOptions<'_>,
    sink: &mut dyn FnMut(&PurchaseFields<'_>),
) -> Result<StreamSummary, ImportRejected> {
    let mut import = CsvImport::new(opts);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CsvImport::reject(vec![file_error(format!("Lecture du fichier impossible : {e}"))])),
        };
        import.feed_fields(&buf[..n], sink)?;
    }
    import.finish_fields(sink)
}

/// The national CSV import as a push parser: the caller hands it the file's bytes in chunks
/// of any size as they arrive ([`CsvImport::feed`]), then calls [`CsvImport::finish`]. So a
/// browser can read a file piece by piece and return to its event loop between pieces, with
/// the same rules, messages and line numbers as [`import_csv_stream`] (which is this, fed
/// from a reader). Each valid purchase goes to the sink while no error has been found; on
/// `Err` the file is refused whole and the caller must discard what its sink received.
pub struct CsvImport<'o, 'a> {
    opts: &'o ImportOptions<'a>,
    /// `None` when the caller neither stores the digest nor checks known ones.
    hasher: Option<Sha256>,
    bytes: u64,
    /// Bytes held until the first line is whole, to pick the separator from it.
    head: Vec<u8>,
    core: Option<csv_core::Reader>,
    /// The record being read: its fields' bytes and their ends, filled across chunks.
    fields: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    /// Line feeds read so far, and the last byte read: a record's line is found from them.
    newlines: u64,
    last_byte: u8,
    header: Option<Header>,
    errors: Vec<ImportError>,
    count: u64,
    /// Cells decoded one by one (header, Windows-1252 rows), reused from row to row.
    cells: Vec<String>,
    scratch: RowScratch,
}

/// Up to this many bytes of the first line are enough to pick the separator.
const SNIFF_BYTES: usize = 64 * 1024;

/// The signature of an Excel 97-2003 workbook (an OLE compound file).
const XLS_SIGNATURE: [u8; 4] = [0xD0, 0xCF, 0x11, 0xE0];

impl<'o, 'a> CsvImport<'o, 'a> {
    pub fn new(opts: &'o ImportOptions<'a>) -> Self {
        CsvImport {
            opts,
            hasher: (opts.digest || opts.known_digests.is_some()).then(Sha256::new),
            bytes: 0,
            head: Vec::new(),
            core: None,
            fields: vec![0; 1024],
            ends: vec![0; 16],
            out_len: 0,
            ends_len: 0,
            newlines: 0,
            last_byte: 0,
            header: None,
            errors: Vec::new(),
            count: 0,
            cells: Vec::with_capacity(16),
            scratch: RowScratch::default(),
        }
    }

    /// Bytes fed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Purchases found valid so far (sent to the sink).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Errors found so far (the file will be refused when there is one).
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// Whether the bytes fed so far end between two records (after a line feed that ends a
    /// record, or an empty line): a caller that cut the file there guessed right. False before
    /// the header is read, and inside a record (a quoted cell holding the line feed).
    pub fn between_records(&self) -> bool {
        self.core.is_some() && self.out_len == 0 && self.ends_len == 0 && self.last_byte == b'\n'
    }

    fn reject(errors: Vec<ImportError>) -> ImportRejected {
        ImportRejected { errors, digest: None, duplicate: false }
    }

    /// The next chunk of the file, each valid purchase made a record with an id from `new_id`.
    /// An `Err` refuses the file at once (too big, a bad header): feed nothing more. Row
    /// errors are gathered and reported by [`CsvImport::finish`].
    pub fn feed(&mut self, chunk: &[u8], new_id: &mut dyn FnMut() -> Uuid, sink: &mut dyn FnMut(Purchase)) -> Result<(), ImportRejected> {
        let now = self.opts.now;
        self.feed_fields(chunk, &mut |f| sink(f.to_purchase(RecordMeta::new(new_id(), now))))
    }

    /// The end of the file: the last record, then the verdict on the whole file.
    pub fn finish(self, new_id: &mut dyn FnMut() -> Uuid, sink: &mut dyn FnMut(Purchase)) -> Result<StreamSummary, ImportRejected> {
        let now = self.opts.now;
        self.finish_fields(&mut |f| sink(f.to_purchase(RecordMeta::new(new_id(), now))))
    }

    /// [`CsvImport::feed`] handing each valid row's fields, borrowed for the call.
    pub fn feed_fields(&mut self, chunk: &[u8], sink: &mut dyn FnMut(&PurchaseFields<'_>)) -> Result<(), ImportRejected> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.bytes += chunk.len() as u64;
        if self.bytes > self.opts.max_bytes {
            return Err(Self::reject(vec![too_big(self.opts.max_bytes)]));
        }
        if let Some(h) = &mut self.hasher {
            h.update(chunk);
        }
        if self.core.is_some() {
            return self.parse(chunk, sink);
        }
        self.head.extend_from_slice(chunk);
        if self.head.len() < SNIFF_BYTES && !first_line_complete(&self.head) {
            return Ok(());
        }
        self.start(sink)
    }

    /// Picks the separator from the held first line and parses what was held.
    fn start(&mut self, sink: &mut dyn FnMut(&PurchaseFields<'_>)) -> Result<(), ImportRejected> {
        if self.head.starts_with(&XLS_SIGNATURE) {
            return Err(Self::reject(vec![file_error(
                "Ce classeur est au format Excel 97-2003 (.xls) : enregistrez-le au format .xlsx ou .csv puis réessayez.",
            )]));
        }
        let delimiter = sniff_delimiter(&self.head);
        self.core = Some(csv_core::ReaderBuilder::new().delimiter(delimiter).build());
        let head = std::mem::take(&mut self.head);
        self.parse(&head, sink)
    }

    /// Runs the CSV reader over `input` (never empty: an empty input means the end to it).
    fn parse(&mut self, mut input: &[u8], sink: &mut dyn FnMut(&PurchaseFields<'_>)) -> Result<(), ImportRejected> {
        while !input.is_empty() {
            if self.read_one(&mut input)? {
                self.row(sink)?;
            }
        }
        Ok(())
    }

    /// Reads from `input` until a record ends (true) or the input is used up (false).
    fn read_one(&mut self, input: &mut &[u8]) -> Result<bool, ImportRejected> {
        use csv_core::ReadRecordResult::*;
        let core = self.core.as_mut().expect("reader started");
        loop {
            let (result, read, written, ends) = core.read_record(input, &mut self.fields[self.out_len..], &mut self.ends[self.ends_len..]);
            if read > 0 {
                self.newlines += newline_count(&input[..read]);
                self.last_byte = input[read - 1];
            }
            *input = &input[read..];
            self.out_len += written;
            self.ends_len += ends;
            match result {
                InputEmpty => return Ok(false),
                OutputFull => {
                    let n = self.fields.len();
                    self.fields.resize(n * 2, 0);
                }
                OutputEndsFull => {
                    let n = self.ends.len();
                    self.ends.resize(n * 2, 0);
                }
                Record => return Ok(true),
                End => return Ok(false),
            }
        }
    }

    /// Checks the record just read (the header or a purchase), then readies the next one.
    fn row(&mut self, sink: &mut dyn FnMut(&PurchaseFields<'_>)) -> Result<(), ImportRejected> {
        // The line of the record's first byte: the line breaks read so far, less those inside
        // its quoted cells (kept in its fields) and its own final LF. (csv_core's own count
        // lags by one after a CR LF, whose LF it reads with the next record.)
        let (out_len, ends_len) = (self.out_len, self.ends_len);
        let own = newline_count(&self.fields[..out_len]) + u64::from(self.last_byte == b'\n');
        let line = 1 + self.newlines - own;
        self.out_len = 0;
        self.ends_len = 0;
        // A data row in UTF-8 (the usual case): validated once as a whole, its cells are
        // slices of it. A cell boundary inside a character (bytes split by a separator) falls
        // back to decoding cell by cell.
        if let (Some(h), true) = (&self.header, ends_len <= 16) {
            if let Ok(text) = std::str::from_utf8(&self.fields[..out_len]) {
                let mut slices = [""; 16];
                let mut whole = true;
                let mut start = 0;
                for (slot, &end) in slices.iter_mut().zip(&self.ends[..ends_len]) {
                    match text.get(start..end) {
                        Some(cell) => *slot = cell,
                        None => whole = false,
                    }
                    start = end;
                }
                if whole {
                    if let Some(fields) = check_row(&slices[..ends_len], line, h, self.opts, &mut self.errors, &mut self.scratch) {
                        if self.errors.is_empty() {
                            sink(&fields);
                            self.count += 1;
                        }
                    }
                    return Ok(());
                }
            }
        }
        // Otherwise each cell decoded on its own (UTF-8, or Windows-1252), into buffers reused
        // from row to row.
        self.cells.resize_with(ends_len, String::new);
        let mut start = 0;
        for (cell, &end) in self.cells.iter_mut().zip(&self.ends[..ends_len]) {
            cell.clear();
            decode_into(&self.fields[start..end], cell);
            start = end;
        }
        match &self.header {
            None => {
                if let Some(first) = self.cells.first_mut() {
                    if let Some(stripped) = first.strip_prefix('\u{feff}') {
                        *first = stripped.to_owned();
                    }
                }
                self.header = Some(check_header(&self.cells, line).map_err(Self::reject)?);
            }
            Some(h) => {
                if let Some(fields) = check_row(&self.cells, line, h, self.opts, &mut self.errors, &mut self.scratch) {
                    if self.errors.is_empty() {
                        sink(&fields);
                        self.count += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// [`CsvImport::finish`] handing each valid row's fields, borrowed for the call.
    pub fn finish_fields(mut self, sink: &mut dyn FnMut(&PurchaseFields<'_>)) -> Result<StreamSummary, ImportRejected> {
        if self.core.is_none() {
            self.start(sink)?;
        }
        // An empty input tells the reader the file ended: it gives the last record if the file
        // does not end with a line break, then `End`.
        loop {
            let mut empty: &[u8] = &[];
            if !self.read_one(&mut empty)? {
                break;
            }
            self.row(sink)?;
        }
        let Some(h) = self.header else {
            return Err(Self::reject(vec![file_error(
                "Le fichier est vide : il doit contenir la ligne d'en-tête des colonnes nationales puis une ligne par achat.",
            )]));
        };
        let digest = self.hasher.map(|h| hex(&h.finalize())).unwrap_or_default();
        if self.opts.known_digests.is_some_and(|k| k.contains(&digest)) {
            return Err(ImportRejected { errors: vec![duplicate_error()], digest: Some(digest), duplicate: true });
        }
        if !self.errors.is_empty() {
            return Err(ImportRejected { errors: self.errors, digest: Some(digest), duplicate: false });
        }
        if self.count == 0 {
            return Err(ImportRejected {
                errors: vec![file_error("Le fichier ne contient aucun achat : ajoutez une ligne par achat sous l'en-tête.")],
                digest: Some(digest),
                duplicate: false,
            });
        }
        Ok(StreamSummary { count: self.count, digest, key_column: h.key })
    }
}

/// Whether `buf` holds a whole first line (a line break outside quotes).
fn first_line_complete(buf: &[u8]) -> bool {
    let mut in_quotes = false;
    for &b in buf {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => return true,
            _ => {}
        }
    }
    false
}

/// Where the records of a national CSV end, with the import's own reader settings (the same
/// separator picked from the first line, the same quoting), without checking any cell: lets a
/// caller cut a large file between two records and read the parts side by side.
pub struct RecordBoundaries {
    core: csv_core::Reader,
    /// Bytes consumed so far.
    offset: u64,
    /// The last byte consumed (a record ending on CR may still have its LF to come).
    last: u8,
    /// A record found ending on CR at the end of the previous chunk: its end, LF not yet seen.
    after_cr: Option<u64>,
    scratch: Vec<u8>,
    ends: Vec<usize>,
}

impl RecordBoundaries {
    /// `head`: the file's first bytes (up to its first line end, or 64 KB), to pick the
    /// separator as [`CsvImport`] does. Feed the file from its first byte.
    pub fn new(head: &[u8]) -> Self {
        let head = &head[..head.len().min(SNIFF_BYTES)];
        RecordBoundaries {
            core: csv_core::ReaderBuilder::new().delimiter(sniff_delimiter(head)).build(),
            offset: 0,
            last: 0,
            after_cr: None,
            scratch: vec![0; 64 * 1024],
            ends: vec![0; 64],
        }
    }

    /// Reads `chunk` (the bytes after those fed before) and returns the file offset just after
    /// the first record ending at or after `target`, once known. A record's end includes its
    /// whole line break (CR LF too): what follows is the next record's first byte, and a part
    /// cut there starts on a line of its own.
    pub fn feed(&mut self, mut chunk: &[u8], target: u64) -> Option<u64> {
        use csv_core::ReadRecordResult::*;
        if let Some(end) = self.after_cr.take() {
            return Some(if chunk.first() == Some(&b'\n') { end + 1 } else { end });
        }
        while !chunk.is_empty() {
            let (result, read, _, _) = self.core.read_record(chunk, &mut self.scratch, &mut self.ends);
            if read > 0 {
                self.last = chunk[read - 1];
            }
            chunk = &chunk[read..];
            self.offset += read as u64;
            match result {
                Record if self.offset >= target => {
                    if self.last != b'\r' {
                        return Some(self.offset);
                    }
                    return match chunk.first() {
                        Some(b'\n') => Some(self.offset + 1),
                        Some(_) => Some(self.offset),
                        None => {
                            self.after_cr = Some(self.offset);
                            None
                        }
                    };
                }
                InputEmpty | Record | OutputFull | OutputEndsFull | End => {}
            }
        }
        None
    }
}

fn newline_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Picks the separator that occurs most often outside quotes on the first line (comma on ties).
fn sniff_delimiter(buf: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    for &b in buf {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => break,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let seps = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    seps[best]
}

/// UTF-8, or Windows-1252 (spreadsheets on French Windows) when the bytes are not UTF-8.
fn decode_into(bytes: &[u8], out: &mut String) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.extend(bytes.iter().map(|&b| cp1252(b))),
    }
}

#[cfg(test)]
fn decode_cell(bytes: &[u8]) -> String {
    let mut s = String::new();
    decode_into(bytes, &mut s);
    s
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’', '“',
        '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

#[derive(Debug, Clone)]
struct Header {
    key: KeyColumn,
}

fn expected_columns(key: KeyColumn) -> [&'static str; 12] {
    let mut cols = COLUMNS;
    if key == KeyColumn::CantineId {
        cols[0] = CANTEEN_ID_COLUMN;
    }
    cols
}

fn header_list(key: KeyColumn) -> String {
    expected_columns(key).join(", ")
}

fn looks_like_data(cells: &[String]) -> bool {
    let first = cells.first().map(|c| c.trim()).unwrap_or("");
    (!first.is_empty() && first.chars().all(|c| c.is_ascii_digit() || c == ' '))
        || cells.iter().any(|c| parse_iso_date(c.trim()).is_ok())
}

fn check_header(cells: &[String], line: u64) -> Result<Header, Vec<ImportError>> {
    let norm: Vec<String> = cells.iter().map(|c| c.trim().to_lowercase()).collect();
    let key = if norm.first().map(String::as_str) == Some(CANTEEN_ID_COLUMN) { KeyColumn::CantineId } else { KeyColumn::Siret };
    let expected = expected_columns(key);
    let at = |column: Option<&str>, message: String| ImportError { line: Some(line), column: column.map(str::to_owned), message };
    if looks_like_data(cells) {
        return Err(vec![at(
            None,
            format!(
                "La première ligne doit être l'en-tête des colonnes, or elle contient déjà un achat. Ajoutez au-dessus une ligne avec, dans cet ordre : {}.",
                header_list(key)
            ),
        )]);
    }
    // Trailing empty header cells are harmless (spreadsheets add them); anything else beyond 12 is not.
    let mut width = norm.len();
    while width > expected.len() && norm[width - 1].is_empty() {
        width -= 1;
    }
    if width > expected.len() {
        let extra = norm.len() - expected.len();
        let mut errs = vec![at(
            None,
            format!(
                "{extra} colonne{s} supplémentaire{s} : supprimez les {extra} colonne{s} en trop après « {} » et toutes leurs données (un espace ou un symbole invisible peut suffire ; en cas de doute, copiez les données dans un nouveau document).",
                expected[11],
                s = if extra > 1 { "s" } else { "" }
            ),
        )];
        errs.extend(column_mismatches(&norm, &expected, line));
        return Err(errs);
    }
    if width < expected.len() {
        let missing: Vec<&str> = expected.iter().copied().filter(|e| !norm.iter().any(|n| n == e)).collect();
        let detail = if missing.is_empty() || norm.len() <= 1 {
            String::new()
        } else {
            format!(" Colonne{} manquante{} : {}.", if missing.len() > 1 { "s" } else { "" }, if missing.len() > 1 { "s" } else { "" }, missing.join(", "))
        };
        return Err(vec![at(
            None,
            format!(
                "Première ligne du fichier incorrecte : {} colonne{} trouvée{} au lieu de 12. Elle doit contenir les noms de colonnes, dans cet ordre : {}.{detail}",
                norm.len(),
                if norm.len() > 1 { "s" } else { "" },
                if norm.len() > 1 { "s" } else { "" },
                header_list(key)
            ),
        )]);
    }
    let errs = column_mismatches(&norm, &expected, line);
    if errs.is_empty() {
        Ok(Header { key })
    } else {
        Err(errs)
    }
}

fn column_mismatches(norm: &[String], expected: &[&str; 12], line: u64) -> Vec<ImportError> {
    expected
        .iter()
        .enumerate()
        .filter(|(i, e)| norm.get(*i).map(String::as_str) != Some(**e))
        .map(|(i, e)| ImportError {
            line: Some(line),
            column: Some((*e).to_owned()),
            message: format!(
                "Colonne {} de l'en-tête : vous avez écrit « {} » au lieu de « {e} ».",
                i + 1,
                norm.get(i).map(String::as_str).unwrap_or("")
            ),
        })
        .collect()
}

/// Buffers a row's owned fields are written into, reused from row to row: checking a row
/// allocates nothing in steady state.
#[derive(Debug, Default)]
struct RowScratch {
    siret: String,
    description: String,
    supplier: String,
    characteristics: Vec<Characteristic>,
}

#[derive(Debug, PartialEq, Eq)]
enum DateError {
    Format,
    Impossible,
}

/// `YYYY-MM-DD` as the schema's `%Y-%m-%d` (one- or two-digit month and day accepted).
fn parse_iso_date(s: &str) -> Result<NaiveDate, DateError> {
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(DateError::Format);
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) || !digits(y) || !digits(m) || !digits(d) {
        return Err(DateError::Format);
    }
    let (y, m, d) = (y.parse().unwrap_or(0), m.parse().unwrap_or(0), d.parse().unwrap_or(0));
    NaiveDate::from_ymd_opt(y, m, d).ok_or(DateError::Impossible)
}

fn parse_bool(s: &str) -> Option<bool> {
    // The platform lower-cases (Unicode) before comparing; only ASCII letters can lower-case
    // to these words, so an ASCII comparison reads the same cells without allocating.
    let s = s.trim();
    if s.eq_ignore_ascii_case("oui") || s.eq_ignore_ascii_case("x") {
        Some(true)
    } else if s.is_empty() || s.eq_ignore_ascii_case("non") {
        Some(false)
    } else {
        None
    }
}

/// `str::trim`, without its character-by-character look when the cell starts and ends with a
/// printable ASCII character (most cells).
fn trim_cell(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&f), Some(&l)) if (0x21..0x80).contains(&f) && (0x21..0x80).contains(&l) => s,
        _ => s.trim(),
    }
}

/// Checks one data row; pushes its errors and returns the purchase's fields when it has none
/// (borrowed from the cells and from `scratch`).
fn check_row<'r, S: AsRef<str>>(
    cells: &'r [S],
    line: u64,
    header: &Header,
    opts: &ImportOptions<'_>,
    errors: &mut Vec<ImportError>,
    scratch: &'r mut RowScratch,
) -> Option<PurchaseFields<'r>> {
    if cells.iter().all(|c| c.as_ref().trim().is_empty()) {
        errors.push(ImportError {
            line: Some(line),
            column: None,
            message: "Ligne vide : supprimez-la (ou complétez-la avec un achat).".to_owned(),
        });
        return None;
    }
    // Extra trailing cells are tolerated only when empty (spreadsheets pad rows).
    let extra_empty = cells.len() > 12 && cells[12..].iter().all(|c| c.as_ref().trim().is_empty());
    if cells.len() != 12 && !extra_empty {
        errors.push(ImportError {
            line: Some(line),
            column: None,
            message: format!(
                "La ligne a {} cellule{} alors que l'en-tête en a 12 : vérifiez les séparateurs et les guillemets (une description contenant le séparateur doit être entre guillemets).",
                cells.len(),
                if cells.len() > 1 { "s" } else { "" }
            ),
        });
        return None;
    }
    let mut row_errors: Vec<ImportError> = Vec::new();
    let mut err = |column: &str, message: String| {
        row_errors.push(ImportError { line: Some(line), column: Some(column.to_owned()), message });
    };
    // Each cell trimmed once.
    let trimmed: [&str; 12] = std::array::from_fn(|i| trim_cell(cells[i].as_ref()));
    let c = |i: usize| trimmed[i];
    let key_col = expected_columns(header.key)[0];

    // Site
    let RowScratch { siret, description, supplier, characteristics } = scratch;
    siret.clear();
    description.clear();
    supplier.clear();
    characteristics.clear();
    // The key without its spaces, in the SIRET buffer (kept there when it is the site's key).
    if c(0).bytes().any(|b| b == b' ' || b == 0xC2) {
        siret.extend(c(0).chars().filter(|ch| *ch != ' ' && *ch != '\u{a0}'));
    } else {
        siret.push_str(c(0));
    }
    let raw_key = siret.as_str();
    let mut mapped: Option<&String> = None;
    if raw_key.is_empty() {
        err(
            key_col,
            if header.key == KeyColumn::Siret {
                "Le SIRET de l'établissement est obligatoire (14 chiffres).".to_owned()
            } else {
                "L'identifiant de la cantine est obligatoire.".to_owned()
            },
        );
    } else if header.key == KeyColumn::Siret {
        if raw_key.len() != 14 || !raw_key.bytes().all(|b| b.is_ascii_digit()) {
            let mangled = raw_key.to_lowercase().contains("e+");
            err(
                key_col,
                if mangled {
                    format!("« {} » : le tableur a transformé le SIRET en nombre. Mettez la colonne siret au format texte et saisissez les 14 chiffres.", c(0))
                } else {
                    format!("« {} » n'est pas un SIRET : il doit comporter exactement 14 chiffres.", c(0))
                },
            );
        } else if opts.registered_sirets.is_some_and(|s| !s.contains(raw_key)) {
            err(key_col, format!("Aucun établissement avec le SIRET « {raw_key} » n'est enregistré : enregistrez le site d'abord, ou corrigez le SIRET."));
        }
    } else if let Some(map) = opts.canteen_ids {
        match map.get(raw_key) {
            Some(s) => {
                if opts.registered_sirets.is_some_and(|r| !r.contains(s)) {
                    err(key_col, format!("La cantine « {raw_key} » (SIRET {s}) n'est pas enregistrée : enregistrez le site d'abord."));
                } else {
                    mapped = Some(s);
                }
            }
            None => err(key_col, format!("Aucune cantine avec l'identifiant « {raw_key} » n'est enregistrée : corrigez l'identifiant ou utilisez la colonne siret.")),
        }
    }
    if let Some(s) = mapped {
        siret.clear();
        siret.push_str(s);
    }

    // Line breaks inside a cell become spaces; other invisible characters are refused (the
    // description here, the supplier by the record's validation below).
    crate::text::breaks_to_spaces_into(c(1), description);
    let description = description.trim();
    if description.is_empty() {
        err("description", "La description du produit est obligatoire (par exemple « Pommes de terre »).".to_owned());
    } else {
        let mut v = crate::validation::Validation::default();
        crate::text::check_text(&mut v, "description", description, "La description", crate::text::MAX_DESCRIPTION_CHARS);
        for e in v.errors {
            err("description", e.message);
        }
    }
    crate::text::breaks_to_spaces_into(c(2), supplier);
    let supplier = supplier.trim();

    let date = match parse_iso_date(c(3)) {
        _ if c(3).is_empty() => {
            err("date", "La date d'achat est obligatoire, sous la forme aaaa-mm-jj (par exemple 2022-01-30).".to_owned());
            None
        }
        Ok(d) => {
            if d > opts.today {
                err("date", format!("La date du {} est dans le futur : indiquez une date jusqu'au {} au plus tard.", crate::number::format_fr_date(d), crate::number::format_fr_date(opts.today)));
            }
            Some(d)
        }
        Err(DateError::Impossible) => {
            err("date", format!("« {} » : cette date n'existe pas ; vérifiez le jour et le mois (aaaa-mm-jj).", c(3)));
            None
        }
        Err(DateError::Format) => {
            let hint = french_date_hint(c(3)).map(|iso| format!(" : écrivez {iso}")).unwrap_or_default();
            err("date", format!("« {} » : la date doit être écrite sous la forme aaaa-mm-jj (par exemple 2022-01-30){hint}.", c(3)));
            None
        }
    };

    let price = match parse_price_cents(c(4)) {
        Ok(p) if p < 0 => {
            err("prix_ht", format!("« {} » : le prix HT ne peut pas être négatif ; indiquez un montant positif ou nul.", c(4)));
            None
        }
        Ok(p) => Some(p),
        Err(e) => {
            err("prix_ht", e.message(c(4)));
            None
        }
    };

    let family = if c(5).is_empty() {
        err("famille_produits", format!("La famille de produits est obligatoire ; valeurs possibles : {}.", Family::codes_list()));
        None
    } else {
        let f = Family::from_code(c(5));
        if f.is_none() {
            err("famille_produits", format!("« {} » n'est pas une famille de produits ; valeurs possibles : {}.", c(5), Family::codes_list()));
        }
        f
    };

    if !c(6).is_empty() {
        for code in c(6).split(',') {
            let code = code.trim();
            match Characteristic::from_code(code) {
                Some(ch) if ch.is_egalim() => {
                    if !characteristics.contains(&ch) {
                        characteristics.push(ch);
                    }
                }
                Some(ch) => err(
                    "categories_egalim",
                    format!(
                        "« {} » : {} n'est pas une catégorie EGalim ; indiquez-le dans la colonne {}.",
                        c(6),
                        ch.code(),
                        match ch {
                            Characteristic::France | Characteristic::Europe => "origine",
                            Characteristic::CircuitCourt => "est_circuit_court",
                            _ => "est_local",
                        }
                    ),
                ),
                None => err(
                    "categories_egalim",
                    format!(
                        "« {} » : {} n'est pas une catégorie EGalim ; codes acceptés, séparés par des virgules : {}.",
                        c(6),
                        if code.is_empty() { "une catégorie vide" } else { code },
                        Characteristic::EGALIM.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
                    ),
                ),
            }
        }
    }
    match c(7) {
        "" => {}
        "FRANCE" => characteristics.push(Characteristic::France),
        "EUROPE" => characteristics.push(Characteristic::Europe),
        other => err("origine", format!("« {other} » : l'origine doit être FRANCE, EUROPE (hors France) ou vide.")),
    }
    for (i, col, ch) in [(8, "est_circuit_court", Characteristic::CircuitCourt), (9, "est_local", Characteristic::Local)] {
        match parse_bool(c(i)) {
            Some(true) => characteristics.push(ch),
            Some(false) => {}
            None => err(col, format!("« {} » : indiquez oui (ou x) pour oui, non ou vide pour non.", c(i))),
        }
    }
    let local_definition = if c(10).is_empty() {
        None
    } else {
        let d = LocalDefinition::from_code(c(10));
        if d.is_none() {
            err("definition_local", format!("« {} » : la définition de local doit être PAT, COMMUNE, DEPARTEMENT, REGION ou KM.", c(10)));
        }
        d
    };
    let local_km = if c(11).is_empty() {
        None
    } else {
        match c(11).parse::<u32>() {
            Ok(k) => Some(k),
            Err(_) => {
                err("definition_local_km", format!("« {} » : la distance doit être un nombre entier de kilomètres, positif (par exemple 50).", c(11)));
                None
            }
        }
    };

    if !row_errors.is_empty() {
        errors.append(&mut row_errors);
        return None;
    }
    let fields = PurchaseFields {
        siret: siret.as_str(),
        description,
        supplier,
        date: date?,
        price_cents: price?,
        family: family?,
        characteristics: characteristics.as_slice(),
        local_definition,
        local_km,
    };
    // The domain's rules on the whole purchase (ranges, local definition, km, origins): the row
    // has no error of its own here, so none of these repeats one already listed.
    let mut ok = true;
    for e in fields.validate(opts.today).errors {
        let column = match e.field.as_str() {
            // Checked above, against the registry when there is one (a canteen id is no SIRET).
            "siret" => continue,
            "caracteristiques" => "categories_egalim",
            other => other,
        };
        ok = false;
        errors.push(ImportError { line: Some(line), column: Some(column.to_owned()), message: e.message });
    }
    ok.then_some(fields)
}

/// `31/01/2022` → `2022-01-31`, to show users what to write.
fn french_date_hint(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(['/', '.']).collect();
    if parts.len() == 3 && parts[2].len() == 4 {
        let (d, m, y) = (parts[0].parse::<u32>().ok()?, parts[1].parse::<u32>().ok()?, parts[2].parse::<i32>().ok()?);
        return NaiveDate::from_ymd_opt(y, m, d).map(|x| x.to_string());
    }
    if parts.len() == 3 && parts[0].len() == 4 {
        let (y, m, d) = (parts[0].parse::<i32>().ok()?, parts[1].parse::<u32>().ok()?, parts[2].parse::<u32>().ok()?);
        return NaiveDate::from_ymd_opt(y, m, d).map(|x| x.to_string());
    }
    None
}

/// XLSX held in memory: every purchase collected (see [`import_xlsx_stream`]).
fn read_xlsx(
    bytes: &[u8],
    opts: &ImportOptions<'_>,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<(Vec<Purchase>, KeyColumn), Vec<ImportError>> {
    let mut purchases = Vec::new();
    let (_, key) = import_xlsx_stream(std::io::Cursor::new(bytes), opts, new_id, &mut |p| purchases.push(p))?;
    Ok((purchases, key))
}

/// Streaming XLSX import: the first worksheet, same columns and rules as CSV; lines are the
/// sheet's row numbers. The sheet's cells are read one by one from the archive (only the
/// workbook's shared-string table is held whole), so a workbook of any size is read in
/// bounded memory. Each valid purchase goes to `sink` while no error has been found; on
/// `Err` the file is refused whole and the caller must discard what its sink received.
/// Returns the number of purchases and the key column.
pub fn import_xlsx_stream<R: Read + std::io::Seek>(
    input: R,
    opts: &ImportOptions<'_>,
    new_id: &mut dyn FnMut() -> Uuid,
    sink: &mut dyn FnMut(Purchase),
) -> Result<(u64, KeyColumn), Vec<ImportError>> {
    let unreadable = |e: String| vec![file_error(format!("Ce classeur Excel n'est pas lisible ({e}) : enregistrez-le de nouveau au format .xlsx ou .csv."))];
    // calamine panics on some malformed workbooks (a cell naming a shared string past the
    // table): such a file is refused as unreadable, like those calamine refuses itself.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_xlsx_cells(input, opts, new_id, sink)));
    match read {
        Ok(Ok(r)) => r,
        Ok(Err(XlsxRead::Unreadable(e))) => Err(unreadable(e)),
        Ok(Err(XlsxRead::Empty)) => Err(vec![file_error(
            "La première feuille du classeur est vide : elle doit contenir l'en-tête des colonnes nationales puis une ligne par achat.",
        )]),
        Err(_) => Err(unreadable("contenu incohérent".to_owned())),
    }
}

enum XlsxRead {
    Unreadable(String),
    Empty,
}

type XlsxResult = Result<(u64, KeyColumn), Vec<ImportError>>;

fn read_xlsx_cells<R: Read + std::io::Seek>(
    input: R,
    opts: &ImportOptions<'_>,
    new_id: &mut dyn FnMut() -> Uuid,
    sink: &mut dyn FnMut(Purchase),
) -> Result<XlsxResult, XlsxRead> {
    use calamine::{Reader, Xlsx, XlsxError};
    let mut book: Xlsx<_> = Xlsx::new(input).map_err(|e| XlsxRead::Unreadable(e.to_string()))?;
    let Some(first) = book.sheet_names().into_iter().next() else {
        return Err(XlsxRead::Empty);
    };
    let mut cells_reader = match book.worksheet_cells_reader(&first) {
        Ok(r) => r,
        Err(XlsxError::NotAWorksheet(_)) => return Err(XlsxRead::Empty),
        Err(e) => return Err(XlsxRead::Unreadable(e.to_string())),
    };
    let mut rows = XlsxRows { opts, new_id, sink, errors: Vec::new(), header: None, count: 0, pending_blank: Vec::new(), scratch: RowScratch::default() };
    let mut cells: Vec<String> = Vec::with_capacity(16);
    let mut current: Option<u32> = None;
    let mut row_has_content = false;
    while let Some(cell) = cells_reader.next_cell().map_err(|e| XlsxRead::Unreadable(e.to_string()))? {
        let (row, col) = cell.get_position();
        if current != Some(row) {
            if let Some(r) = current {
                if row < r {
                    return Err(XlsxRead::Unreadable("lignes dans le désordre".to_owned()));
                }
                if row_has_content {
                    if let Some(done) = rows.row(&mut cells, u64::from(r) + 1) {
                        return Ok(Err(done));
                    }
                }
                rows.blank_rows_between(r, row, row_has_content);
            }
            current = Some(row);
            row_has_content = false;
            cells.clear();
        }
        let col = col as usize;
        // Columns keep their place from A; a far cell in a malformed sheet would not be a
        // purchase column anyway.
        if col > 4096 {
            return Err(XlsxRead::Unreadable("colonne hors limites".to_owned()));
        }
        if cells.len() <= col {
            cells.resize_with(col + 1, String::new);
        }
        xlsx_cell_into(cell.get_value(), &mut cells[col]);
        row_has_content |= !cells[col].trim().is_empty();
    }
    if let Some(r) = current {
        if row_has_content {
            if let Some(done) = rows.row(&mut cells, u64::from(r) + 1) {
                return Ok(Err(done));
            }
        }
    }
    Ok(rows.finish())
}

/// The row-by-row state of an XLSX import.
struct XlsxRows<'o, 'a, 'f> {
    opts: &'o ImportOptions<'a>,
    new_id: &'f mut dyn FnMut() -> Uuid,
    sink: &'f mut dyn FnMut(Purchase),
    errors: Vec<ImportError>,
    header: Option<Header>,
    count: u64,
    /// Blank rows after the header: errors only when data follows them (Excel keeps
    /// formatted blank rows at the end of the used range).
    pending_blank: Vec<u64>,
    scratch: RowScratch,
}

impl XlsxRows<'_, '_, '_> {
    /// Rows strictly between `from` and `to` (0-based) had no cell; `from` itself is blank
    /// when it had no content.
    fn blank_rows_between(&mut self, from: u32, to: u32, from_had_content: bool) {
        if self.header.is_none() {
            return;
        }
        let first = if from_had_content { from + 1 } else { from };
        for r in first..to {
            // Bounded: a sheet claiming millions of empty rows lists at most a page of them.
            if self.pending_blank.len() < 1000 {
                self.pending_blank.push(u64::from(r) + 1);
            }
        }
    }

    /// A row with content at sheet line `line`. `Some(errors)` ends the import (bad header).
    fn row(&mut self, cells: &mut Vec<String>, line: u64) -> Option<Vec<ImportError>> {
        while cells.len() > 12 && cells.last().is_some_and(|c| c.trim().is_empty()) {
            cells.pop();
        }
        match &self.header {
            None => match check_header(cells, line) {
                Ok(h) => self.header = Some(h),
                Err(e) => return Some(e),
            },
            Some(h) => {
                if cells.len() < 12 {
                    cells.resize_with(12, String::new);
                }
                for blank in self.pending_blank.drain(..) {
                    self.errors.push(ImportError {
                        line: Some(blank),
                        column: None,
                        message: "Ligne vide : supprimez-la (ou complétez-la avec un achat).".to_owned(),
                    });
                }
                if let Some(fields) = check_row(cells, line, h, self.opts, &mut self.errors, &mut self.scratch) {
                    if self.errors.is_empty() {
                        (self.sink)(fields.to_purchase(RecordMeta::new((self.new_id)(), self.opts.now)));
                        self.count += 1;
                    }
                }
            }
        }
        None
    }

    fn finish(self) -> XlsxResult {
        let Some(h) = self.header else {
            return Err(vec![file_error(
                "La première feuille du classeur est vide : elle doit contenir l'en-tête des colonnes nationales puis une ligne par achat.",
            )]);
        };
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        if self.count == 0 {
            return Err(vec![file_error("Le fichier ne contient aucun achat : ajoutez une ligne par achat sous l'en-tête.")]);
        }
        Ok((self.count, h.key))
    }
}

fn xlsx_cell_into(d: &calamine::DataRef<'_>, out: &mut String) {
    use calamine::DataRef;
    use std::fmt::Write;
    match d {
        DataRef::Empty => {}
        DataRef::String(s) => out.push_str(s),
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // Integral floats (SIRET, km, round prices) without ".0"; others in shortest form.
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            let _ = write!(out, "{}", *f as i64);
        }
        DataRef::Float(f) => {
            let _ = write!(out, "{f}");
        }
        DataRef::Bool(b) => out.push_str(if *b { "oui" } else { "non" }),
        DataRef::DateTime(dt) => {
            let (y, m, day, ..) = dt.to_ymd_hms_milli();
            let _ = write!(out, "{y:04}-{m:02}-{day:02}");
        }
        DataRef::DateTimeIso(s) => out.push_str(s.get(..10).unwrap_or(s)),
        DataRef::DurationIso(s) => out.push_str(s),
        DataRef::Error(e) => {
            let _ = write!(out, "#{e:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_alike_with_lf_and_cr_lf() {
        let opts = ImportOptions::new(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(), DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc));
        let rows = [
            "21010034300016,A,F,2024-01-02,1.00,AUTRES,,,,,,",
            "21010034300016,\"Deux\nlignes\",F,2024-01-02,1.00,AUTRES,,,,,,",
            "123,B,F,2024-01-02,1.00,AUTRES,,,,,,",
            "21010034300016,C,F,2024-01-02,douze,AUTRES,,,,,,",
        ];
        for eol in ["\n", "\r\n"] {
            let text = format!("{}{eol}{}{eol}", COLUMNS.join(","), rows.join(eol));
            let refused = import_purchases(text.as_bytes(), &opts, &mut Uuid::nil).unwrap_err();
            let lines: Vec<Option<u64>> = refused.errors.iter().map(|e| e.line).collect();
            // The header is line 1; the second row spans lines 3 and 4.
            assert_eq!(lines, [Some(5), Some(6)], "{eol:?}: {refused}");
        }
    }

    #[test]
    fn sniffs_separators() {
        assert_eq!(sniff_delimiter(b"a,b,c\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,2;3"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter(b"abc"), b',');
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_iso_date("2022-05-02"), Ok(NaiveDate::from_ymd_opt(2022, 5, 2).unwrap()));
        assert_eq!(parse_iso_date("2022-5-2"), Ok(NaiveDate::from_ymd_opt(2022, 5, 2).unwrap()));
        assert_eq!(parse_iso_date("2022-02-31"), Err(DateError::Impossible));
        assert_eq!(parse_iso_date("2022/03/01"), Err(DateError::Format));
        assert_eq!(parse_iso_date("22-03-01"), Err(DateError::Format));
        assert_eq!(french_date_hint("01/03/2022").as_deref(), Some("2022-03-01"));
        assert_eq!(french_date_hint("2022/03/01").as_deref(), Some("2022-03-01"));
    }

    #[test]
    fn booleans_like_the_platform() {
        for t in ["oui", "OUI", "x", "X", " Oui "] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["non", "NON", ""] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn windows_1252_cells() {
        assert_eq!(decode_cell(b"caf\xe9 \x80"), "café €");
        assert_eq!(decode_cell("café".as_bytes()), "café");
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(digest_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
