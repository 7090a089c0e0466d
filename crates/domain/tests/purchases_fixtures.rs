//! Every file of the national platform's purchase-import tests, treated as the platform does
//! (see tests/fixtures/ma-cantine/README.md).

use std::collections::{HashMap, HashSet};

use assiette_domain::import::{import_purchases, ImportError, ImportOptions, ImportRejected, Imported, KeyColumn};
use assiette_domain::purchase::{Characteristic as C, Family, LocalDefinition, Purchase};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

const SIRET: &str = "21010034300016";

fn file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/ma-cantine/achats/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc)
}

fn ids() -> impl FnMut() -> Uuid {
    let mut n = 0u128;
    move || {
        n += 1;
        Uuid::from_u128(n)
    }
}

/// Import with the site 21010034300016 registered (as the platform's tests do).
fn import_registered(name: &str) -> Result<Imported, ImportRejected> {
    let registered: HashSet<String> = [SIRET.to_owned()].into();
    let mut opts = ImportOptions::new(today(), now());
    opts.registered_sirets = Some(&registered);
    import_purchases(&file(name), &opts, &mut ids())
}

fn ok(name: &str) -> Vec<Purchase> {
    match import_registered(name) {
        Ok(i) => i.purchases,
        Err(e) => panic!("{name} refused:\n{e}"),
    }
}

fn refused(name: &str) -> Vec<ImportError> {
    match import_registered(name) {
        Ok(i) => panic!("{name} accepted with {} purchases", i.purchases.len()),
        Err(e) => {
            assert!(!e.duplicate);
            assert!(e.errors.iter().all(|x| !x.message.is_empty()));
            e.errors
        }
    }
}

fn at(errors: &[ImportError]) -> Vec<(Option<u64>, Option<&str>)> {
    errors.iter().map(|e| (e.line, e.column.as_deref())).collect()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn purchases_good() {
    let ps = ok("purchases_good.csv");
    assert_eq!(ps.len(), 8);
    assert!(ps.iter().all(|p| p.siret == SIRET && p.supplier == "Le bon traiteur"));
    let by = |d: &str| ps.iter().find(|p| p.description == d).unwrap_or_else(|| panic!("{d}"));
    let p = by("Pommes, rouges, local");
    assert_eq!(p.price_cents, 9011);
    assert_eq!(p.date, date("2022-05-02"));
    assert_eq!(p.family, Family::ProduitsLaitiers);
    assert_eq!(p.characteristics, vec![C::Bio, C::Local]);
    assert_eq!(p.local_definition, Some(LocalDefinition::Departement));
    assert_eq!(p.local_km, None);
    let p = by("Pommes, vertes 1");
    assert_eq!((p.family, p.characteristics.as_slice(), p.price_cents), (Family::Autres, &[][..], 91011));
    assert_eq!(p.date, date("2022-05-03"));
    let p = by("Pommes, vertes 2");
    assert_eq!((p.family, p.characteristics.as_slice()), (Family::ProduitsLaitiers, &[C::Rup][..]));
    let p = by("Pommes, vertes 3");
    assert_eq!((p.family, p.characteristics.as_slice()), (Family::Boissons, &[C::Bio][..]));
    let p = by("Pommes, vertes 4");
    assert_eq!(p.characteristics, vec![C::Aocaop]);
    let p = by("Pommes, vertes 5");
    assert_eq!((p.characteristics.as_slice(), p.local_definition), (&[C::Local][..], Some(LocalDefinition::Commune)));
    let p = by("Pommes, vertes 6");
    assert_eq!((p.local_definition, p.local_km), (Some(LocalDefinition::Km), None));
    let p = by("Pommes, vertes 7");
    assert_eq!((p.local_definition, p.local_km), (Some(LocalDefinition::Km), Some(200)));
    // Fresh records with distinct ids.
    let ids: HashSet<Uuid> = ps.iter().map(|p| p.meta.id).collect();
    assert_eq!(ids.len(), 8);
    assert!(ps.iter().all(|p| p.meta.revision == 1 && !p.meta.deleted));
}

#[test]
fn purchases_good_imported_twice_is_refused() {
    let first = import_registered("purchases_good.csv").unwrap();
    assert_eq!(first.purchases.len(), 8);
    assert_eq!(first.digest.len(), 64);
    let known: HashSet<String> = [first.digest.clone()].into();
    let mut opts = ImportOptions::new(today(), now());
    opts.known_digests = Some(&known);
    let second = import_purchases(&file("purchases_good.csv"), &opts, &mut ids()).unwrap_err();
    assert!(second.duplicate);
    assert_eq!(second.errors.len(), 1);
    assert!(second.errors[0].message.contains("déjà été importé"), "{}", second.errors[0].message);
    // Another file is not a duplicate.
    assert!(import_purchases(&file("purchases_good_floating_number.csv"), &opts, &mut ids()).is_ok());
}

#[test]
fn purchases_good_floating_number() {
    let ps = ok("purchases_good_floating_number.csv");
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].price_cents, 9011);
}

#[test]
fn purchases_good_separator_comma() {
    let ps = ok("purchases_good_separator_comma.csv");
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].description, "Pommes, rouges");
    assert_eq!(ps[0].characteristics, vec![C::Bio, C::Local]);
}

#[test]
fn purchases_good_separator_semicolon() {
    let ps = ok("purchases_good_separator_semicolon.csv");
    assert_eq!(ps.len(), 1);
    assert_eq!((ps[0].description.as_str(), ps[0].supplier.as_str()), ("Pommes vertes", "Le bon traiteur"));
    assert_eq!(ps[0].local_definition, Some(LocalDefinition::Departement));
}

#[test]
fn purchases_good_separator_tab() {
    let ps = ok("purchases_good_separator_tab.tsv");
    assert_eq!(ps.len(), 1);
    assert_eq!((ps[0].family, ps[0].price_cents), (Family::ProduitsLaitiers, 9011));
}

#[test]
fn purchases_good_local_vs_circuit_court() {
    let ps = ok("purchases_good_local_vs_circuit_court.csv");
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].description, "Only local");
    assert_eq!(ps[0].characteristics, vec![C::Local]);
    assert_eq!(ps[0].local_definition, Some(LocalDefinition::Departement));
    assert!(ps[0].is_local() && !ps[0].is_short_chain());
    assert_eq!(ps[1].description, "Only circuit court");
    assert_eq!(ps[1].characteristics, vec![C::CircuitCourt]);
    assert_eq!(ps[1].local_definition, None);
    assert_eq!(ps.iter().map(|p| p.price_cents).collect::<Vec<_>>(), vec![10000, 10000]);
}

#[test]
fn purchases_good_siret_caracteristics() {
    let ps = ok("purchases_good_siret_caracteristics.csv");
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].characteristics, vec![C::Bio, C::CommerceEquitable, C::France, C::CircuitCourt, C::Local]);
    assert_eq!(ps[0].local_definition, Some(LocalDefinition::Region));
    assert_eq!(ps[0].price_cents, 10000);
    assert_eq!(ps[1].characteristics, vec![C::Bio, C::CommerceEquitable, C::Europe]);
    assert_eq!(ps[1].local_definition, None);
    assert_eq!(ps[1].price_cents, 20000);
    assert!(ps.iter().all(|p| p.date == date("2026-06-22") && p.family == Family::Autres));
}

#[test]
fn purchases_good_xlsx() {
    let i = import_registered("purchases_good.xlsx").unwrap();
    assert_eq!(i.format, assiette_domain::import::FileFormat::Xlsx);
    assert_eq!(i.purchases.len(), 1);
    let p = &i.purchases[0];
    assert_eq!((p.siret.as_str(), p.description.as_str(), p.price_cents), (SIRET, "Pommes, rouges, local", 9011));
    assert_eq!(p.characteristics, vec![C::Bio, C::Local]);
    assert_eq!(p.local_definition, Some(LocalDefinition::Departement));
    assert_eq!(p.family, Family::ProduitsLaitiers);
    assert_eq!(p.date, date("2022-05-02"));
}

#[test]
fn purchases_good_with_empty_columns_xlsx() {
    // Unlike the README says, this workbook uses the SIRET 65449096241683 (a number cell)
    // and Excel date serials; it is refused until that site is registered.
    let e = refused("purchases_good_with_empty_columns.xlsx");
    assert_eq!(at(&e), vec![(Some(2), Some("siret")), (Some(3), Some("siret"))]);
    let registered: HashSet<String> = ["65449096241683".to_owned()].into();
    let mut opts = ImportOptions::new(today(), now());
    opts.registered_sirets = Some(&registered);
    let ps = import_purchases(&file("purchases_good_with_empty_columns.xlsx"), &opts, &mut ids()).unwrap().purchases;
    assert_eq!(ps.len(), 2);
    assert_eq!(ps.iter().map(|p| p.price_cents).collect::<Vec<_>>(), vec![9011, 91011]);
    assert_eq!(ps.iter().map(|p| p.date).collect::<Vec<_>>(), vec![date("2022-05-02"), date("2022-05-03")]);
    assert_eq!(ps.iter().map(|p| p.description.as_str()).collect::<Vec<_>>(), vec!["Pommes, rouges", "Pommes, vertes"]);
    assert!(ps.iter().all(|p| p.siret == "65449096241683"));
    assert!(ps.iter().all(|p| p.characteristics.is_empty() && p.family == Family::ProduitsLaitiers));
    assert!(ps.iter().all(|p| p.local_definition.is_none() && p.supplier == "Le bon traiteur"));
}

#[test]
fn purchases_good_id_with_canteen_map() {
    let ids_map: HashMap<String, String> = [("949".to_owned(), SIRET.to_owned())].into();
    let registered: HashSet<String> = [SIRET.to_owned()].into();
    let mut opts = ImportOptions::new(today(), now());
    opts.canteen_ids = Some(&ids_map);
    opts.registered_sirets = Some(&registered);
    let i = import_purchases(&file("purchases_good_id.csv"), &opts, &mut ids()).unwrap();
    assert_eq!(i.key_column, KeyColumn::CantineId);
    assert_eq!(i.purchases.len(), 1);
    assert_eq!(i.purchases[0].siret, SIRET);
    assert_eq!(i.purchases[0].characteristics, vec![C::Bio, C::Local]);
}

#[test]
fn purchases_good_id_without_map_keeps_the_id() {
    let opts = ImportOptions::new(today(), now());
    let i = import_purchases(&file("purchases_good_id.csv"), &opts, &mut ids()).unwrap();
    assert_eq!(i.key_column, KeyColumn::CantineId);
    assert_eq!(i.purchases[0].siret, "949");
}

#[test]
fn purchases_good_id_unknown_canteen() {
    let ids_map: HashMap<String, String> = [("950".to_owned(), SIRET.to_owned())].into();
    let mut opts = ImportOptions::new(today(), now());
    opts.canteen_ids = Some(&ids_map);
    let e = import_purchases(&file("purchases_good_id.csv"), &opts, &mut ids()).unwrap_err();
    assert_eq!(at(&e.errors), vec![(Some(2), Some("cantine_id"))]);
    assert!(e.errors[0].message.contains("949"));
}

#[test]
fn purchases_good_id_caracteristics() {
    let ids_map: HashMap<String, String> = [("949".to_owned(), SIRET.to_owned())].into();
    let mut opts = ImportOptions::new(today(), now());
    opts.canteen_ids = Some(&ids_map);
    let ps = import_purchases(&file("purchases_good_id_caracteristics.csv"), &opts, &mut ids()).unwrap().purchases;
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].characteristics, vec![C::Bio, C::CommerceEquitable, C::France, C::CircuitCourt, C::Local]);
    assert_eq!(ps[1].characteristics, vec![C::Bio, C::CommerceEquitable, C::Europe]);
    assert!(ps.iter().all(|p| p.siret == SIRET));
}

#[test]
fn purchases_bad_lists_every_error() {
    let e = refused("purchases_bad.csv");
    assert_eq!(
        at(&e),
        vec![
            (Some(2), Some("siret")),
            (Some(3), Some("siret")), // not registered
            (Some(4), Some("siret")), // not registered
            (Some(5), Some("description")),
            (Some(6), Some("famille_produits")),
            (Some(7), Some("date")),
            (Some(8), Some("date")),
            (Some(9), Some("date")),
            (Some(10), Some("prix_ht")),
            (Some(11), Some("prix_ht")),
            (Some(12), Some("famille_produits")),
            (Some(13), Some("categories_egalim")),
            (Some(15), None), // one cell missing
        ]
    );
    assert!(e[1].message.contains("86180597100897"));
    assert!(e[6].message.contains("2022-02-31") && e[6].message.contains("n'existe pas"));
    assert!(e[7].message.contains("aaaa-mm-jj") && e[7].message.contains("2022-03-01"));
    assert!(e[9].message.contains("A price"));
    assert!(e[10].message.contains("NOPE") && e[10].message.contains("VIANDES_VOLAILLES"));
    assert!(e[11].message.contains("NOPE") && e[11].message.contains("LABEL_ROUGE"));
    assert!(e[12].message.contains("11 cellules"));
}

#[test]
fn purchases_bad_without_registry_has_the_platforms_eleven_format_errors() {
    let opts = ImportOptions::new(today(), now());
    let e = import_purchases(&file("purchases_bad.csv"), &opts, &mut ids()).unwrap_err();
    assert_eq!(e.errors.len(), 11);
    assert_eq!(e.errors.iter().filter(|x| x.line == Some(3) || x.line == Some(4)).count(), 0);
}

#[test]
fn purchases_bad_one_error() {
    let e = refused("purchases_bad_one_error.csv");
    assert_eq!(at(&e), vec![(Some(3), Some("prix_ht"))]);
    assert!(e[0].message.contains("A bad price") && e[0].message.contains("point"));
}

#[test]
fn purchases_bad_no_header() {
    let e = refused("purchases_bad_no_header.csv");
    assert_eq!(at(&e), vec![(Some(1), None)]);
    assert!(e[0].message.contains("en-tête") && e[0].message.contains("siret, description, fournisseur"));
}

#[test]
fn purchases_bad_wrong_header() {
    let e = refused("purchases_bad_wrong_header.csv");
    assert_eq!(
        at(&e),
        vec![
            (Some(1), Some("siret")),
            (Some(1), Some("prix_ht")),
            (Some(1), Some("famille_produits")),
            (Some(1), Some("definition_local")),
            (Some(1), Some("definition_local_km")),
        ]
    );
    assert!(e[0].message.contains("« canteen siret » au lieu de « siret »"), "{}", e[0].message);
}

#[test]
fn purchases_bad_wrong_header_typo() {
    let e = refused("purchases_bad_wrong_header_typo.csv");
    // Header case is ignored ("Origine" is accepted); the 11 other names are wrong.
    let cols: Vec<&str> = e.iter().map(|x| x.column.as_deref().unwrap()).collect();
    assert_eq!(
        cols,
        vec![
            "siret",
            "description",
            "fournisseur",
            "date",
            "prix_ht",
            "famille_produits",
            "categories_egalim",
            "est_circuit_court",
            "est_local",
            "definition_local",
            "definition_local_km"
        ]
    );
    assert!(e.iter().all(|x| x.line == Some(1)));
    assert!(e[6].message.contains("« catégories egalim » au lieu de « categories_egalim »"), "{}", e[6].message);
}

#[test]
fn purchases_bad_partial_header() {
    let e = refused("purchases_bad_partial_header.csv");
    assert_eq!(at(&e), vec![(Some(1), None)]);
    assert!(e[0].message.contains("10 colonnes"), "{}", e[0].message);
    assert!(e[0].message.contains("definition_local, definition_local_km"), "{}", e[0].message);
}

#[test]
fn purchases_bad_extra_columns() {
    let e = refused("purchases_bad_extra_columns.csv");
    assert_eq!(at(&e), vec![(Some(1), None)]);
    assert!(e[0].message.starts_with("4 colonnes supplémentaires"), "{}", e[0].message);
}

#[test]
fn purchases_bad_empty_rows() {
    let e = refused("purchases_bad_empty_rows.csv");
    assert_eq!(at(&e), vec![(Some(4), None), (Some(5), None)]);
    assert!(e.iter().all(|x| x.message.starts_with("Ligne vide")));
}

#[test]
fn purchases_bad_corrupt() {
    let e = refused("purchases_bad_corrupt.csv");
    assert_eq!(at(&e), vec![(Some(1), None)]);
    assert!(e[0].message.starts_with("Première ligne du fichier incorrecte"), "{}", e[0].message);
}

#[test]
fn every_fixture_file_is_covered() {
    // A new fixture file must get its own test above.
    let dir = format!("{}/tests/fixtures/ma-cantine/achats", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let src = include_str!("purchases_fixtures.rs");
    for n in names {
        assert!(src.contains(&format!("\"{n}\"")), "no test for {n}");
    }
}

/// The push parser fed in chunks of any size (a browser reading a file piece by piece) gives
/// exactly what the whole-file import gives: purchases, errors with their lines, digest.
#[test]
fn chunked_feed_equals_whole_file() {
    use assiette_domain::import::CsvImport;
    let dir = format!("{}/tests/fixtures/ma-cantine/achats", env!("CARGO_MANIFEST_DIR"));
    let registered: HashSet<String> = [SIRET.to_owned()].into();
    let mut opts = ImportOptions::new(today(), now());
    opts.registered_sirets = Some(&registered);
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let mut checked = 0;
    for name in names.iter().filter(|n| n.ends_with(".csv") || n.ends_with(".tsv")) {
        let bytes = file(name);
        let whole = import_purchases(&bytes, &opts, &mut ids());
        for size in [1, 2, 3, 7, 64, 1000, bytes.len().max(1)] {
            let mut got = Vec::new();
            let mut import = CsvImport::new(&opts);
            let mut new_id = ids();
            let fed = bytes.chunks(size).try_for_each(|c| import.feed(c, &mut new_id, &mut |p| got.push(p)));
            let outcome = fed.and_then(|()| import.finish(&mut new_id, &mut |p| got.push(p)));
            match (&whole, outcome) {
                (Ok(w), Ok(s)) => {
                    assert_eq!((&w.purchases, &w.digest, w.key_column), (&got, &s.digest, s.key_column), "{name} by {size}");
                }
                (Err(w), Err(e)) => assert_eq!(w.errors, e.errors, "{name} by {size}"),
                (w, e) => panic!("{name} by {size}: whole {w:?}, chunked {e:?}"),
            }
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked} files");
}
