//! Import rules on hand-written files: one test per rule, with the expected line and column.

use std::collections::HashSet;

use assiette_domain::import::{import_csv_stream, import_purchases, ImportError, ImportOptions, MAX_FILE_BYTES};
use assiette_domain::purchase::{Characteristic as C, Purchase};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

const HEADER: &str = "siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km";

fn opts() -> ImportOptions<'static> {
    ImportOptions::new(
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc),
    )
}

fn nil() -> Uuid {
    Uuid::nil()
}

fn csv(rows: &[&str]) -> String {
    let mut s = HEADER.to_owned();
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

fn good(text: &str) -> Vec<Purchase> {
    match import_purchases(text.as_bytes(), &opts(), &mut nil) {
        Ok(i) => i.purchases,
        Err(e) => panic!("refused:\n{e}"),
    }
}

fn bad(text: &str) -> Vec<ImportError> {
    match import_purchases(text.as_bytes(), &opts(), &mut nil) {
        Ok(i) => panic!("accepted {} purchases", i.purchases.len()),
        Err(e) => e.errors,
    }
}

fn one_error(text: &str) -> (Option<u64>, Option<String>, String) {
    let e = bad(text);
    assert_eq!(e.len(), 1, "{e:?}");
    (e[0].line, e[0].column.clone(), e[0].message.clone())
}

const OK_ROW: &str = "21010034300016,Pommes,Fournisseur,2026-01-05,12.50,FRUITS_ET_LEGUMES,,,,,,";

#[test]
fn minimal_row() {
    let ps = good(&csv(&[OK_ROW]));
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].price_cents, 1250);
    assert!(ps[0].characteristics.is_empty());
}

#[test]
fn future_date_refused_today_accepted() {
    let (line, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-11-30,1,AUTRES,,,,,,"]));
    assert_eq!((line, col.as_deref()), (Some(2), Some("date")));
    assert!(msg.contains("30/11/2026") && msg.contains("futur"), "{msg}");
    assert_eq!(good(&csv(&["21010034300016,Pommes,,2026-11-29,1,AUTRES,,,,,,"])).len(), 1);
}

#[test]
fn negative_price_refused() {
    let (line, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,-3.20,AUTRES,,,,,,"]));
    assert_eq!((line, col.as_deref()), (Some(2), Some("prix_ht")));
    assert!(msg.contains("négatif"), "{msg}");
    // -0.004 rounds to 0.00, which is allowed (as Decimal quantize does).
    assert_eq!(good(&csv(&["21010034300016,Pommes,,2026-01-05,-0.004,AUTRES,,,,,,"]))[0].price_cents, 0);
}

/// Found by fuzzing: a price past 2^53 cents (what every JSON reader reads exactly) was
/// imported, a purchase the domain's own validation refuses.
#[test]
fn price_beyond_what_json_readers_agree_on_refused() {
    let (line, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,91000000000000,AUTRES,,,,,,"]));
    assert_eq!((line, col.as_deref()), (Some(2), Some("prix_ht")));
    assert!(msg.contains("91000000000000") && msg.contains("trop grand"), "{msg}");
    // The largest accepted: 2^53 − 1 cents.
    let ps = good(&csv(&["21010034300016,Pommes,,2026-01-05,90071992547409.91,AUTRES,,,,,,"]));
    assert_eq!(ps[0].price_cents, (1 << 53) - 1);
    let (_, col, _) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,90071992547409.92,AUTRES,,,,,,"]));
    assert_eq!(col.as_deref(), Some("prix_ht"));
}

/// Found by fuzzing: a purchase dated before 2000 was imported (the validation's rule was
/// skipped), a purchase the domain's own validation refuses.
#[test]
fn date_before_2000_refused() {
    let (line, col, msg) = one_error(&csv(&["21010034300016,Pommes,,1022-05-03,9.10,AUTRES,,,,,,"]));
    assert_eq!((line, col.as_deref()), (Some(2), Some("date")));
    assert!(msg.contains("03/05/1022") && msg.contains("2000"), "{msg}");
    assert_eq!(good(&csv(&["21010034300016,Pommes,,2000-01-01,9.10,AUTRES,,,,,,"])).len(), 1);
}

/// Found by fuzzing: a workbook whose cell names a shared string past the table made calamine
/// panic (an index out of bounds) instead of refusing the file.
#[test]
fn workbook_naming_a_missing_shared_string_refused() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fuzz/shared_string_past_the_table.xlsx");
    let e = import_purchases(&std::fs::read(path).unwrap(), &opts(), &mut nil).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    assert!(e.errors[0].message.contains("classeur Excel n'est pas lisible"), "{e}");
}

#[test]
fn decimal_comma_says_use_a_point() {
    let (_, col, msg) = one_error(&csv(&["21010034300016;Pommes;;2026-01-05;12,5;AUTRES;;;;;;"]).replace(',', ";").replace("12;5", "12,5"));
    assert_eq!(col.as_deref(), Some("prix_ht"));
    assert!(msg.contains("point") && msg.contains("12.5"), "{msg}");
}

/// The three prices the national platform's users write: « 12.5 » is read, « 1 234,56 » and
/// « 12,500 » are refused as the platform refuses them, each error on its line with what to
/// write instead (both readings when a comma before three digits may be either).
#[test]
fn prices_as_the_platform_reads_them_in_a_file() {
    let semicolons = |rows: &[&str]| csv(rows).replace(',', ";");
    let text = semicolons(&[
        "21010034300016,a,,2026-01-05,12.5,AUTRES,,,,,,",
        "21010034300016,b,,2026-01-05,1 234|56,AUTRES,,,,,,",
        "21010034300016,c,,2026-01-05,12|500,AUTRES,,,,,,",
        "21010034300016,d,,2026-01-05,012.50,AUTRES,,,,,,",
        "21010034300016,e,,2026-01-05,1_234.5,AUTRES,,,,,,",
    ])
    .replace('|', ",");
    let e = bad(&text);
    let at: Vec<_> = e.iter().map(|x| (x.line, x.column.as_deref())).collect();
    assert_eq!(at, vec![(Some(3), Some("prix_ht")), (Some(4), Some("prix_ht")), (Some(5), Some("prix_ht"))], "{e:?}");
    assert!(e[0].message.ends_with("écrivez 1234.56."), "{}", e[0].message);
    assert!(e[1].message.contains("écrivez 12.500 si la virgule sépare les centimes, ou 12500 si elle sépare les milliers"), "{}", e[1].message);
    assert!(e[2].message.contains("retirez le zéro au début (écrivez 12.50)"), "{}", e[2].message);
    let ps = good(&semicolons(&["21010034300016,a,,2026-01-05,12.5,AUTRES,,,,,,", "21010034300016,e,,2026-01-05,1_234.5,AUTRES,,,,,,"]));
    assert_eq!(ps.iter().map(|p| p.price_cents).collect::<Vec<_>>(), vec![1250, 123_450]);
}

#[test]
fn price_rounded_half_down() {
    let ps = good(&csv(&[
        "21010034300016,a,,2026-01-05,1.005,AUTRES,,,,,,",
        "21010034300016,b,,2026-01-05,1.0051,AUTRES,,,,,,",
        "21010034300016,c,,2026-01-05,2.999,AUTRES,,,,,,",
    ]));
    assert_eq!(ps.iter().map(|p| p.price_cents).collect::<Vec<_>>(), vec![100, 101, 300]);
}

#[test]
fn mangled_siret_is_explained() {
    let (_, col, msg) = one_error(&csv(&["2.10100343E+13,Pommes,,2026-01-05,1,AUTRES,,,,,,"]));
    assert_eq!(col.as_deref(), Some("siret"));
    assert!(msg.contains("format texte"), "{msg}");
    let (_, _, msg) = one_error(&csv(&["2101003430001,Pommes,,2026-01-05,1,AUTRES,,,,,,"]));
    assert!(msg.contains("14 chiffres"), "{msg}");
    // Spaces inside a SIRET are removed, as the platform does.
    assert_eq!(good(&csv(&["210 100 343 00016,Pommes,,2026-01-05,1,AUTRES,,,,,,"]))[0].siret, "21010034300016");
}

#[test]
fn unknown_siret_only_with_a_registry() {
    let row = "12345678901234,Pommes,,2026-01-05,1,AUTRES,,,,,,";
    assert_eq!(good(&csv(&[row]))[0].siret, "12345678901234");
    let registered: HashSet<String> = ["21010034300016".to_owned()].into();
    let mut o = opts();
    o.registered_sirets = Some(&registered);
    let e = import_purchases(csv(&[row, OK_ROW]).as_bytes(), &o, &mut nil).unwrap_err();
    assert_eq!(e.errors.len(), 1);
    assert_eq!((e.errors[0].line, e.errors[0].column.as_deref()), (Some(2), Some("siret")));
}

#[test]
fn local_definition_without_local_refused() {
    let (line, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,,,PAT,"]));
    assert_eq!((line, col.as_deref()), (Some(2), Some("definition_local")));
    assert!(msg.contains("local"), "{msg}");
}

#[test]
fn km_rules() {
    // km with a definition other than KM
    let (_, col, _) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,,x,REGION,30"]));
    assert_eq!(col.as_deref(), Some("definition_local_km"));
    // km not an integer
    let (_, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,,x,KM,12.5"]));
    assert_eq!(col.as_deref(), Some("definition_local_km"));
    assert!(msg.contains("entier"), "{msg}");
    // negative km
    let (_, col, _) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,,x,KM,-4"]));
    assert_eq!(col.as_deref(), Some("definition_local_km"));
    // km without LOCAL
    let (_, col, _) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,,,,10"]));
    assert_eq!(col.as_deref(), Some("definition_local_km"));
    let p = &good(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,,oui,KM,80"]))[0];
    assert_eq!((p.local_km, p.characteristics.as_slice()), (Some(80), &[C::Local][..]));
}

#[test]
fn origin_values() {
    let (_, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,FRANCE EUROPE,,,,"]));
    assert_eq!(col.as_deref(), Some("origine"));
    assert!(msg.contains("FRANCE, EUROPE"), "{msg}");
    // Origin in the EGalim column is pointed to its own column.
    let (_, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,\"BIO,FRANCE\",,,,,"]));
    assert_eq!(col.as_deref(), Some("categories_egalim"));
    assert!(msg.contains("colonne origine"), "{msg}");
    let p = &good(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,\" IGP , BIO \", EUROPE ,,,,"]))[0];
    assert_eq!(p.characteristics, vec![C::Igp, C::Bio, C::Europe]);
}

#[test]
fn yes_no_cells() {
    let p = &good(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,OUI,NON,,"]))[0];
    assert_eq!(p.characteristics, vec![C::CircuitCourt]);
    let (_, col, msg) = one_error(&csv(&["21010034300016,Pommes,,2026-01-05,1,AUTRES,,,yes,,,"]));
    assert_eq!(col.as_deref(), Some("est_circuit_court"));
    assert!(msg.contains("oui"), "{msg}");
}

#[test]
fn one_row_with_several_errors_lists_each_column() {
    let e = bad(&csv(&[OK_ROW, ",,,31/01/2022,abc,FRUITS,BIO;IGP,,,,,"]));
    let cols: Vec<(Option<u64>, Option<&str>)> = e.iter().map(|x| (x.line, x.column.as_deref())).collect();
    assert_eq!(
        cols,
        vec![
            (Some(3), Some("siret")),
            (Some(3), Some("description")),
            (Some(3), Some("date")),
            (Some(3), Some("prix_ht")),
            (Some(3), Some("famille_produits")),
            (Some(3), Some("categories_egalim")),
        ]
    );
    assert!(e[2].message.contains("2022-01-31"), "{}", e[2].message);
}

#[test]
fn header_case_spaces_bom_and_crlf() {
    let text = format!("\u{feff}{}\r\n{OK_ROW}\r\n", HEADER.to_uppercase().replace(",", " , "));
    assert_eq!(good(&text).len(), 1);
}

#[test]
fn windows_1252_file() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n21010034300016;P\xe2t\xe9;Caf\xe9;2026-01-05;1;AUTRES;;;;;;\n".as_slice());
    let text: Vec<u8> = bytes.iter().map(|&b| if b == b',' { b';' } else { b }).collect();
    let i = import_purchases(&text, &opts(), &mut nil).unwrap();
    assert_eq!((i.purchases[0].description.as_str(), i.purchases[0].supplier.as_str()), ("Pâté", "Café"));
}

#[test]
fn multi_line_quoted_description_keeps_line_numbers() {
    let e = bad(&csv(&["21010034300016,\"Pommes\nrouges\",,2026-01-05,1,AUTRES,,,,,,", "21010034300016,Poires,,2026-01-05,x,AUTRES,,,,,,"]));
    assert_eq!((e[0].line, e[0].column.as_deref()), (Some(4), Some("prix_ht")));
}

#[test]
fn trailing_empty_cells_are_tolerated_but_not_data() {
    assert_eq!(good(&csv(&[&format!("{OK_ROW},,")])).len(), 1);
    let (line, col, msg) = one_error(&csv(&[&format!("{OK_ROW},oops")]));
    assert_eq!((line, col), (Some(2), None));
    assert!(msg.contains("13 cellules"), "{msg}");
}

#[test]
fn empty_file_and_header_only() {
    let (line, _, msg) = one_error("");
    assert_eq!(line, None);
    assert!(msg.contains("vide"), "{msg}");
    let (_, _, msg) = one_error(&format!("{HEADER}\n"));
    assert!(msg.contains("aucun achat"), "{msg}");
}

#[test]
fn too_big_file_refused() {
    let row = format!("{OK_ROW}\n");
    let mut text = format!("{HEADER}\n");
    while text.len() as u64 <= MAX_FILE_BYTES {
        text.push_str(&row);
    }
    let (line, _, msg) = one_error(&text);
    assert_eq!(line, None);
    assert!(msg.contains("10 Mo"), "{msg}");
    // The streaming reader refuses it too, without a size known in advance.
    let e = import_csv_stream(text.as_bytes(), &opts(), &mut nil, &mut |_| {}).unwrap_err();
    assert!(e.errors[0].message.contains("10 Mo"));
}

#[test]
fn xls_97_refused_with_advice() {
    let e = import_purchases(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0], &opts(), &mut nil).unwrap_err();
    assert!(e.errors[0].message.contains(".xlsx"));
}

#[test]
fn stream_sink_sees_purchases_and_digest_matches() {
    let text = csv(&[OK_ROW, OK_ROW]);
    let mut seen = 0;
    let s = import_csv_stream(text.as_bytes(), &opts(), &mut nil, &mut |_| seen += 1).unwrap();
    assert_eq!((s.count, seen), (2, 2));
    assert_eq!(s.digest, assiette_domain::import::digest_hex(text.as_bytes()));
    let known: HashSet<String> = [s.digest.clone()].into();
    let mut o = opts();
    o.known_digests = Some(&known);
    let e = import_csv_stream(text.as_bytes(), &o, &mut nil, &mut |_| {}).unwrap_err();
    assert!(e.duplicate);
}

#[test]
fn errors_display_in_french_with_line_and_column() {
    let e = import_purchases(csv(&["21010034300016,Pommes,,2026-01-05,abc,AUTRES,,,,,,"]).as_bytes(), &opts(), &mut nil).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("Fichier refusé, aucun achat importé (1 erreur) :"), "{text}");
    assert!(text.contains("- Ligne 2, colonne prix_ht : « abc »"), "{text}");
}
