//! `assiette-server egalim FILE`: yearly EGalim totals of a national purchase file, no server needed.
//!
//! A thin shell: file reading here, every rule in `assiette_domain` (import, totals, JSON).
//! Any SIRET is accepted (no registry). Files of any size are read as a stream, CSV and XLSX
//! alike, straight into the totals; the platform's 10 MB upload cap is only a warning here.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use assiette_domain::egalim::{TotalsBuilder, YearTotals};
use assiette_domain::export::totals_json;
use assiette_domain::import::{
    import_csv_fields, import_xlsx_stream, ImportOptions, ImportRejected, KeyColumn, MAX_FILE_BYTES,
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
    let summary = import_csv_fields(file, &opts, &mut |p| builder.add_fields(p))
        .map_err(CliError::Rejected)?;
    Ok((builder.finish(), summary.key_column))
}
