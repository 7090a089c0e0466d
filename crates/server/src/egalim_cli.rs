//! `assiette-server egalim FILE`: yearly EGalim totals of a national purchase file, no server needed.
//!
//! A thin shell: file reading here, every rule in `assiette_domain` (import, totals, JSON).
//! Any SIRET is accepted (no registry). CSV is streamed into the totals; XLSX is read whole.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use assiette_domain::egalim::{TotalsBuilder, YearTotals};
use assiette_domain::export::totals_json;
use assiette_domain::import::{import_csv_stream, import_purchases, ImportOptions, ImportRejected, KeyColumn, MAX_FILE_BYTES};

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

fn totals_of_file(path: &Path) -> Result<(Vec<YearTotals>, KeyColumn), CliError> {
    let io = |e: std::io::Error| CliError::Io(format!("Impossible de lire le fichier « {} » : {e}", path.display()));
    let now = chrono::Utc::now();
    let opts = ImportOptions::new(chrono::Local::now().date_naive(), now);
    let mut new_id = uuid::Uuid::now_v7;
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(io)?;
    let is_xlsx = n == 4 && &magic == b"PK\x03\x04";
    let size = file.metadata().map_err(io)?.len();
    let file = File::open(path).map_err(io)?;
    if is_xlsx {
        let mut bytes = Vec::with_capacity(size.min(MAX_FILE_BYTES + 1) as usize);
        // Read one byte past the limit so the domain refuses an oversized file itself.
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
        let imported = import_purchases(&bytes, &opts, &mut new_id).map_err(CliError::Rejected)?;
        return Ok((assiette_domain::egalim::yearly_totals(&imported.purchases), imported.key_column));
    }
    let mut builder = TotalsBuilder::new();
    let summary = import_csv_stream(BufReader::new(file), &opts, &mut new_id, &mut |p| builder.add(&p))
        .map_err(CliError::Rejected)?;
    Ok((builder.finish(), summary.key_column))
}
