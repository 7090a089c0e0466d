//! The path `assiette-server egalim` takes (rows' borrowed fields straight into the totals,
//! `import_csv_fields` + `TotalsBuilder::add_fields`) gives exactly what the record path gives
//! (`import_purchases` then `yearly_totals`): the same totals for every good file, the same
//! errors for every bad one, on every national fixture and on generated files.

use assiette_domain::egalim::{yearly_totals, TotalsBuilder, YearTotals};
use assiette_domain::import::{import_csv_fields, import_purchases, import_xlsx_stream, ImportError, ImportOptions};
use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use uuid::Uuid;

fn opts() -> ImportOptions<'static> {
    let mut o = ImportOptions::new(
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc),
    );
    o.max_bytes = u64::MAX;
    o
}

/// Totals or errors by the record path.
fn by_records(bytes: &[u8]) -> Result<Vec<YearTotals>, Vec<ImportError>> {
    import_purchases(bytes, &opts(), &mut Uuid::nil).map(|i| yearly_totals(&i.purchases)).map_err(|e| e.errors)
}

/// Totals or errors by the CLI's path (CSV: borrowed fields; XLSX: the streamed sheet).
fn by_fields(bytes: &[u8]) -> Result<Vec<YearTotals>, Vec<ImportError>> {
    let mut b = TotalsBuilder::new();
    if bytes.starts_with(b"PK\x03\x04") {
        import_xlsx_stream(std::io::Cursor::new(bytes), &opts(), &mut Uuid::nil, &mut |p| b.add(&p))?;
    } else {
        import_csv_fields(bytes, &opts(), &mut |f| b.add_fields(f)).map_err(|e| e.errors)?;
    }
    Ok(b.finish())
}

#[test]
fn every_national_fixture_reads_the_same_both_ways() {
    let dir = format!("{}/tests/fixtures/ma-cantine/achats", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(by_fields(&bytes), by_records(&bytes), "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 20, "{seen} fixtures");
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-z0-9 ,.;éà\"_-]{0,12}",
        prop::sample::select(vec![
            "21010034300016", "65449096241683", "2022-05-02", "2024-13-01", "12.5", "1 234,56", "012.5", "1e3",
            "BIO", "BIO,IGP", "NOPE", "FRANCE", "EUROPE", "x", "oui", "non", "DEPARTEMENT", "KM", "40",
            "VIANDES_VOLAILLES", "PRODUITS_DE_LA_MER", "AUTRES",
        ])
        .prop_map(str::to_owned),
    ]
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Files of mostly good rows with random cells: same totals or same errors.
    #[test]
    fn generated_files_read_the_same_both_ways(rows in prop::collection::vec((any::<bool>(), prop::collection::vec(cell(), 12)), 1..30)) {
        let mut csv = String::from("siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km\n");
        for (good, cells) in rows {
            let line: Vec<String> = if good {
                let mut c = vec!["21010034300016".to_owned(), cells[1].clone(), cells[2].clone(), "2025-03-01".to_owned(), "12.5".to_owned(), "AUTRES".to_owned()];
                c.extend(["BIO", "FRANCE", "x", "", "", ""].map(str::to_owned));
                c[1] = format!("Produit {}", cells[1].replace(['"', ',', ';'], ""));
                c
            } else {
                cells
            };
            csv.push_str(&line.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(","));
            csv.push('\n');
        }
        prop_assert_eq!(by_fields(csv.as_bytes()), by_records(csv.as_bytes()));
    }
}
