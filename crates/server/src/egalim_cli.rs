//! `assiette-server egalim FILE`: yearly EGalim totals of a national purchase file, no server needed.
//!
//! A thin shell: file reading here, every rule in `assiette_domain` (import, totals, JSON).
//! Any SIRET is accepted (no registry). Files of any size are read as a stream, CSV and XLSX
//! alike, straight into the totals; the platform's 10 MB upload cap is only a warning here.
//! A large CSV is read in two parts side by side, cut between two records: the measured budget
//! (ten times pandas on a million lines) is out of one core's reach; both parts go through the
//! same import, and their errors and totals are put together as one pass would give them.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use assiette_domain::egalim::{TotalsBuilder, YearTotals};
use assiette_domain::export::totals_json;
use assiette_domain::import::{
    import_csv_fields, import_xlsx_stream, CsvImport, ImportError, ImportOptions, ImportRejected, KeyColumn, RecordBoundaries,
    MAX_FILE_BYTES,
};

/// Printed on stderr for a file the national platform's upload would refuse (it is still read).
pub const TOO_BIG_FOR_THE_PLATFORM: &str = "Attention : le fichier ne passera pas l'envoi de ma cantine (10 Mo) ; découpez-le par année ou par site pour l'y importer.";

/// Runs the command; returns the process exit code (0 done, 1 file refused, 2 file unreadable).
pub fn run(path: &Path) -> i32 {
    match totals_of_file(path) {
        Ok((totals, key)) => {
            if key == KeyColumn::CantineId {
                eprintln!("Fichier identifié par cantine_id : le champ « siret » contient l'identifiant de cantine de ma cantine.");
            }
            println!("{}", totals_json(&totals));
            0
        }
        Err(CliError::Rejected(r)) => {
            eprint!("{r}");
            1
        }
        Err(CliError::Io(msg)) => {
            eprintln!("{msg}");
            2
        }
    }
}

enum CliError {
    Rejected(ImportRejected),
    Io(String),
}

fn rejected(errors: Vec<assiette_domain::import::ImportError>) -> CliError {
    CliError::Rejected(ImportRejected { errors, digest: None, duplicate: false })
}

fn totals_of_file(path: &Path) -> Result<(Vec<YearTotals>, KeyColumn), CliError> {
    let io = |e: std::io::Error| CliError::Io(format!("Impossible de lire le fichier « {} » : {e}", path.display()));
    let now = chrono::Utc::now();
    let mut opts = ImportOptions::new(chrono::Local::now().date_naive(), now);
    // The 10 MB rule is the platform's upload limit, not a reading limit.
    opts.max_bytes = u64::MAX;
    // Nothing is stored: no digest to compute.
    opts.digest = false;
    let mut file = File::open(path).map_err(io)?;
    if file.metadata().map_err(io)?.len() > MAX_FILE_BYTES {
        eprintln!("{TOO_BIG_FOR_THE_PLATFORM}");
    }
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(io)?;
    let is_xlsx = n == 4 && &magic == b"PK\x03\x04";
    let file = File::open(path).map_err(io)?;
    let mut builder = TotalsBuilder::new();
    if is_xlsx {
        let (_, key) = import_xlsx_stream(BufReader::with_capacity(256 * 1024, file), &opts, &mut uuid::Uuid::nil, &mut |p| {
            builder.add(&p)
        })
        .map_err(rejected)?;
        return Ok((builder.finish(), key));
    }
    let len = file.metadata().map_err(io)?.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if len >= PARALLEL_FROM_BYTES && cores >= 2 {
        let (builder, key) = csv_in_two_parts(path, len, &opts).map_err(|e| match e {
            PartError::Io(e) => io(e),
            PartError::Rejected(r) => CliError::Rejected(r),
        })?;
        return Ok((builder.finish(), key));
    }
    let summary = import_csv_fields(file, &opts, &mut |p| builder.add_fields(p))
        .map_err(CliError::Rejected)?;
    Ok((builder.finish(), summary.key_column))
}

/// From this size on, a CSV is read in two parts (below, a second thread costs more than it gives).
pub const PARALLEL_FROM_BYTES: u64 = 8 * 1024 * 1024;
const CHUNK: usize = 256 * 1024;

enum PartError {
    Io(std::io::Error),
    Rejected(ImportRejected),
}

impl From<std::io::Error> for PartError {
    fn from(e: std::io::Error) -> Self {
        PartError::Io(e)
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Reads `file` from where it stands up to `end` (exclusive), chunk by chunk, into `import`.
fn feed_until(
    file: &mut File,
    pos: &mut u64,
    end: u64,
    buf: &mut [u8],
    import: &mut CsvImport<'_, '_>,
    builder: &mut TotalsBuilder,
) -> Result<(), PartError> {
    while *pos < end {
        let want = buf.len().min((end - *pos) as usize);
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        *pos += n as u64;
        import.feed_fields(&buf[..n], &mut |p| builder.add_fields(p)).map_err(PartError::Rejected)?;
    }
    Ok(())
}

/// The second part's result: how many lines come before it (to renumber its errors), and its
/// own reading (its header, then its records).
struct SecondPart {
    line_shift: u64,
    totals: TotalsBuilder,
    outcome: Result<(), ImportRejected>,
}

/// Totals of a CSV read in two parts at once. The second thread finds where to cut, just past
/// half of the file (a count of quotes and line feeds, much quicker than reading records),
/// then reads the header followed by the rest. The first part stops at the cut and checks that
/// a record ended there. Row errors of both parts are listed in file order
/// with their line numbers in the whole file.
fn csv_in_two_parts(path: &Path, len: u64, opts: &ImportOptions<'_>) -> Result<(TotalsBuilder, KeyColumn), PartError> {
    let mut first_file = File::open(path)?;
    let mut head = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < head.len() {
        let n = first_file.read(&mut head[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    head.truncate(got);
    first_file.seek(SeekFrom::Start(0))?;
    // The header: the first record (a header longer than 64 KB is read in one part).
    let Some(header_end) = RecordBoundaries::new(&head).feed(&head, 1) else {
        let mut builder = TotalsBuilder::new();
        let summary = import_csv_fields(first_file, opts, &mut |p| builder.add_fields(p)).map_err(PartError::Rejected)?;
        return Ok((builder, summary.key_column));
    };
    let header = &head[..header_end as usize];
    let header_last_line = 1 + newlines(header.trim_ascii_end());
    // About half each: the second part's scan for its start costs little. The first part
    // always holds a record after the header: its own count is never empty.
    let target = (len / 100 * 51).max(header_end + 1);
    let (split_tx, split_rx) = std::sync::mpsc::channel::<Option<u64>>();

    std::thread::scope(|scope| {
        let second = scope.spawn(move || -> Result<Option<SecondPart>, std::io::Error> {
            let mut file = File::open(path)?;
            let mut buf = vec![0u8; CHUNK];
            // The cut: the first line feed past the target after an even number of quotes (a
            // line feed inside a quoted cell follows an odd number). A stray quote inside an
            // unquoted cell can fool it: the first part checks the guess and, when wrong,
            // reads on alone.
            let (mut pos, mut quotes, mut lines, mut split) = (0u64, 0u64, 0u64, None);
            'scan: loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                if pos + (n as u64) < target {
                    quotes += chunk.iter().filter(|&&b| b == b'"').count() as u64;
                    lines += newlines(chunk);
                    pos += n as u64;
                    continue;
                }
                for (i, &b) in chunk.iter().enumerate() {
                    match b {
                        b'"' => quotes += 1,
                        b'\n' => {
                            lines += 1;
                            if pos + i as u64 >= target && quotes % 2 == 0 {
                                split = Some(pos + i as u64 + 1);
                                break 'scan;
                            }
                        }
                        _ => {}
                    }
                }
                pos += n as u64;
            }
            // Nothing after the cut: the first part reads it all.
            let split = split.filter(|&at| at < len);
            let _ = split_tx.send(split);
            let Some(at) = split else { return Ok(None) };
            let mut import = CsvImport::new(opts);
            let mut totals = TotalsBuilder::new();
            let mut read = || -> Result<(), PartError> {
                import.feed_fields(header, &mut |p| totals.add_fields(p)).map_err(PartError::Rejected)?;
                file.seek(SeekFrom::Start(at))?;
                let mut pos = at;
                feed_until(&mut file, &mut pos, u64::MAX, &mut buf, &mut import, &mut totals)
            };
            let outcome = match read() {
                Ok(()) => import.finish_fields(&mut |p| totals.add_fields(p)).map(drop),
                Err(PartError::Rejected(r)) => Err(r),
                Err(PartError::Io(e)) => return Err(e),
            };
            Ok(Some(SecondPart { line_shift: lines - newlines(header), totals, outcome }))
        });

        let mut import = CsvImport::new(opts);
        let mut totals = TotalsBuilder::new();
        let mut buf = vec![0u8; CHUNK];
        let mut pos = 0u64;
        // Whether the second part starts where a record does (else it is not used).
        let mut cut_right = true;
        let first = feed_until(&mut first_file, &mut pos, target, &mut buf, &mut import, &mut totals).and_then(|()| {
            let end = split_rx.recv().ok().flatten().unwrap_or(u64::MAX);
            feed_until(&mut first_file, &mut pos, end, &mut buf, &mut import, &mut totals)?;
            if end != u64::MAX && !import.between_records() {
                cut_right = false;
                feed_until(&mut first_file, &mut pos, u64::MAX, &mut buf, &mut import, &mut totals)?;
            }
            Ok(())
        });
        let second = second.join().expect("the second part's thread does not panic")?.filter(|_| cut_right);
        // A refusal of the file itself (too big, its header) is the first part's to say.
        if let Err(PartError::Rejected(r)) = first {
            return Err(PartError::Rejected(r));
        }
        first?;
        let first = import.finish_fields(&mut |p| totals.add_fields(p));
        let Some(second) = second else {
            return first.map(|s| (totals, s.key_column)).map_err(PartError::Rejected);
        };
        // The second part's row errors, renumbered; its file-wide ones (a header, no line at
        // all) are the first part's too, or do not apply to a part.
        let shifted: Vec<ImportError> = match second.outcome {
            Ok(()) => Vec::new(),
            Err(r) => r
                .errors
                .into_iter()
                .filter_map(|mut e| {
                    let line = e.line.filter(|&l| l > header_last_line)?;
                    e.line = Some(line + second.line_shift);
                    Some(e)
                })
                .collect(),
        };
        match first {
            Ok(summary) if shifted.is_empty() => {
                totals.merge(second.totals);
                Ok((totals, summary.key_column))
            }
            Ok(_) => Err(PartError::Rejected(ImportRejected { errors: shifted, digest: None, duplicate: false })),
            Err(mut r) => {
                r.errors.extend(shifted);
                Err(PartError::Rejected(r))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Read = Result<Vec<YearTotals>, Vec<String>>;

    fn opts() -> ImportOptions<'static> {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let mut o = ImportOptions::new(now.date_naive(), now);
        o.max_bytes = u64::MAX;
        o.digest = false;
        o
    }

    fn one_pass(path: &Path) -> Read {
        let mut b = TotalsBuilder::new();
        match import_csv_fields(File::open(path).unwrap(), &opts(), &mut |p| b.add_fields(p)) {
            Ok(_) => Ok(b.finish()),
            Err(r) => Err(r.errors.iter().map(ToString::to_string).collect()),
        }
    }

    fn two_parts(path: &Path) -> Read {
        let len = std::fs::metadata(path).unwrap().len();
        match csv_in_two_parts(path, len, &opts()) {
            Ok((b, _)) => Ok(b.finish()),
            Err(PartError::Rejected(r)) => Err(r.errors.iter().map(ToString::to_string).collect()),
            Err(PartError::Io(e)) => panic!("{e}"),
        }
    }

    const SIRETS: [&str; 3] = ["21010034300016", "65449096241683", "21010034311016"];

    /// One data row: valid, or with one error of a kind the import reports with its line.
    fn row(kind: u8, i: usize, sep: char, eol: &str) -> String {
        let siret = SIRETS[i % 3];
        // Descriptions with the separator, quotes and a line break inside quotes.
        let description = match i % 5 {
            0 => format!("Produit {i}"),
            1 => format!("\"Produit {i}{sep} lot\""),
            2 => format!("\"Produit \"\"{i}\"\"{eol}suite\""),
            3 => format!("\"Produit{eol}{i}{sep}\""),
            // A stray quote in a cell not quoted: read as a character; it fools a cut found by
            // counting quotes, which the first part must notice.
            _ => format!("Écran {i}\" pouces"),
        };
        let year = 2023 + (i % 3);
        let (siret, price, date) = match kind {
            0 => ("123", "12.50".to_owned(), format!("{year}-03-0{}", 1 + i % 9)),
            1 => (siret, "douze".to_owned(), format!("{year}-03-0{}", 1 + i % 9)),
            2 => (siret, "12.50".to_owned(), "2024-13-45".to_owned()),
            _ => (siret, format!("{}.{:02}", i % 997, i % 100), format!("{year}-0{}-1{}", 1 + i % 9, i % 10)),
        };
        let labels = ["", "BIO", "\"BIO,HVE\"", "LABEL_ROUGE"][i % 4];
        let family = ["AUTRES", "VIANDES_VOLAILLES", "PRODUITS_DE_LA_MER", "FRUITS_ET_LEGUMES"][(i / 4) % 4];
        [siret, &description, "Fournisseur", &date, &price, family, labels, "FRANCE", "oui", "non", "", ""].join(&sep.to_string())
    }

    fn file(rows: &[(u8, usize)], sep: char, crlf: bool, bom: bool) -> Vec<u8> {
        let eol = if crlf { "\r\n" } else { "\n" };
        let header = assiette_domain::import::COLUMNS.join(&sep.to_string());
        let mut text = String::new();
        if bom {
            text.push('\u{feff}');
        }
        text.push_str(&header);
        for &(kind, i) in rows {
            text.push_str(eol);
            text.push_str(&row(kind, i, sep, eol));
        }
        text.push_str(eol);
        text.into_bytes()
    }

    fn temp(bytes: &[u8]) -> std::path::PathBuf {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("assiette-egalim-{}-{n}.csv", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Wherever the cut falls (inside quotes, between CR and LF, on a bad row), the two
        /// parts give the one pass's totals, or its errors with the same lines, in order.
        #[test]
        fn two_parts_read_as_one_pass(
            kinds in prop::collection::vec(prop_oneof![8 => Just(3u8), 1 => 0u8..3], 1..120),
            sep in prop::sample::select(vec![',', ';', '\t']),
            crlf in any::<bool>(),
            bom in any::<bool>(),
        ) {
            let rows: Vec<(u8, usize)> = kinds.iter().enumerate().map(|(i, k)| (*k, i)).collect();
            let path = temp(&file(&rows, sep, crlf, bom));
            let (one, two) = (one_pass(&path), two_parts(&path));
            std::fs::remove_file(&path).unwrap();
            prop_assert_eq!(two, one);
        }
    }

    #[test]
    fn a_file_of_only_a_header_or_nothing_is_refused_alike() {
        for bytes in [&b""[..], b"siret,description\n", b"\n\n\n", b"\"unterminated"] {
            let path = temp(bytes);
            let (one, two) = (one_pass(&path), two_parts(&path));
            std::fs::remove_file(&path).unwrap();
            assert_eq!(two, one, "{:?}", String::from_utf8_lossy(bytes));
        }
    }
}
