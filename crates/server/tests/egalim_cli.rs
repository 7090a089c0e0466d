//! `assiette-server egalim FILE` run as a real process on national files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../domain/tests/fixtures/ma-cantine/achats").join(name)
}

fn egalim(path: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assiette-server")).arg("egalim").arg(path).output().expect("binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("assiette-egalim-{}-{name}", std::process::id()));
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn national_good_file_totals() {
    let v = json(&egalim(&fixture("purchases_good.csv")));
    let sites = v["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1);
    let s = &sites[0];
    assert_eq!(s["siret"], "21010034300016");
    assert_eq!(s["year"], 2022);
    // 90.11 + 7 × 910.11
    assert_eq!(s["valeur_totale"], "6460.88");
    // BIO: 90.11 (dairy) + 910.11 (drinks)
    assert_eq!(s["valeur_bio"], "1000.22");
    assert_eq!(s["valeur_bio_dont_commerce_equitable"], "0.00");
    assert_eq!(s["valeur_siqo"], "910.11");
    assert_eq!(s["valeur_egalim_autres"], "910.11");
    assert_eq!(s["valeur_egalim_autres_dont_commerce_equitable"], "0.00");
    assert_eq!(s["valeur_externalites_performance"], "0.00");
    for k in ["valeur_viandes_volailles", "valeur_viandes_volailles_egalim", "valeur_viandes_volailles_france",
              "valeur_produits_de_la_mer", "valeur_produits_de_la_mer_egalim", "valeur_produits_de_la_mer_france"] {
        assert_eq!(s[k], "0.00", "{k}");
    }
    assert_eq!(s["valeur_produits_laitiers_bio"], "90.11");
    assert_eq!(s["valeur_produits_laitiers_rup"], "910.11");
    assert_eq!(s["valeur_autres_non_egalim"], "3640.44");
    assert_eq!(s["valeur_autres_local"], "2730.33");
}

#[test]
fn sites_and_years_sorted_with_every_total() {
    let csv = "siret;description;fournisseur;date;prix_ht;famille_produits;categories_egalim;origine;est_circuit_court;est_local;definition_local;definition_local_km
65449096241683;Poulet;F;2025-03-01;100.004;VIANDES_VOLAILLES;LABEL_ROUGE;FRANCE;;;;
21010034300016;Colin;F;2025-12-31;50.005;PRODUITS_DE_LA_MER;PECHE_DURABLE;;x;;;
21010034300016;Pain;F;2024-01-01;10;BOULANGERIE;BIO,COMMERCE_EQUITABLE;;;;;
65449096241683;Steak;F;2024-06-01;20.5;VIANDES_VOLAILLES;;FRANCE;;;;
";
    let path = temp_file("multi.csv", csv);
    let v = json(&egalim(&path));
    std::fs::remove_file(&path).ok();
    let keys: Vec<(String, i64)> = v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["siret"].as_str().unwrap().to_owned(), s["year"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("21010034300016".into(), 2024),
            ("21010034300016".into(), 2025),
            ("65449096241683".into(), 2024),
            ("65449096241683".into(), 2025)
        ]
    );
    let s = &v["sites"];
    assert_eq!(s[0]["valeur_bio_dont_commerce_equitable"], "10.00");
    // 50.005 rounds half-down to 50.00; short chain counts as France for fish in 2025.
    assert_eq!(s[1]["valeur_produits_de_la_mer"], "50.00");
    assert_eq!(s[1]["valeur_produits_de_la_mer_egalim"], "50.00");
    assert_eq!(s[1]["valeur_produits_de_la_mer_france"], "50.00");
    assert_eq!(s[2]["valeur_viandes_volailles_france"], "20.50");
    assert_eq!(s[2]["valeur_viandes_volailles_egalim"], "0.00");
    assert_eq!(s[3]["valeur_siqo"], "100.00");
    assert_eq!(s[3]["valeur_viandes_volailles_egalim"], "100.00");
    for site in s.as_array().unwrap() {
        for name in assiette_domain::egalim::SIMPLE_FIELDS {
            let amount = site[name].as_str().unwrap_or_else(|| panic!("{name} missing"));
            let (euros, cents) = amount.split_once('.').unwrap();
            assert!(euros.parse::<u64>().is_ok() && cents.len() == 2, "{name}: {amount}");
        }
    }
}

#[test]
fn xlsx_file() {
    let v = json(&egalim(&fixture("purchases_good.xlsx")));
    assert_eq!(v["sites"][0]["valeur_totale"], "90.11");
    let v = json(&egalim(&fixture("purchases_good_with_empty_columns.xlsx")));
    assert_eq!(v["sites"][0]["siret"], "65449096241683");
    assert_eq!(v["sites"][0]["valeur_totale"], "1000.22");
}

#[test]
fn bad_file_lists_french_errors_and_fails() {
    let out = egalim(&fixture("purchases_bad.csv"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("Fichier refusé, aucun achat importé (11 erreurs)"), "{err}");
    assert!(err.contains("Ligne 11, colonne prix_ht : « A price »"), "{err}");
    assert!(err.contains("Ligne 15 : La ligne a 11 cellules"), "{err}");
    let out = egalim(&fixture("purchases_bad_wrong_header.csv"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("« prix ht » au lieu de « prix_ht »"));
}

#[test]
fn missing_file_fails() {
    let out = egalim(&PathBuf::from("/nonexistent/achats.csv"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("Impossible de lire le fichier"));
}

/// The platform's 10 MB upload cap is a warning here: a larger file is read whole, streamed,
/// and its totals printed (it was refused before).
#[test]
fn file_over_ten_megabytes_is_read_with_a_warning() {
    let header = "siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km\n";
    let line = "21010034300016,\"Pommes, lot\",Fournisseur,2024-03-01,1.25,FRUITS_ET_LEGUMES,BIO,FRANCE,,,,\n";
    let lines = 10_485_760 / line.len() + 1_000;
    let mut csv = String::with_capacity(header.len() + lines * line.len());
    csv.push_str(header);
    for _ in 0..lines {
        csv.push_str(line);
    }
    assert!(csv.len() > 10_485_760);
    let path = temp_file("big.csv", &csv);
    let out = egalim(&path);
    std::fs::remove_file(&path).ok();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("le fichier ne passera pas l'envoi de ma cantine (10 Mo)"), "{err}");
    let v = json(&out);
    let total_cents = lines as u64 * 125;
    assert_eq!(v["sites"][0]["valeur_totale"], format!("{}.{:02}", total_cents / 100, total_cents % 100));
    assert_eq!(v["sites"][0]["valeur_bio"], v["sites"][0]["valeur_totale"]);
}

#[test]
fn a_file_with_errors_far_apart_is_refused_with_every_error() {
    let header = "siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km\n";
    let good = "21010034300016,Pain,F,2024-03-01,2.5,BOULANGERIE,,,,,,\n";
    let mut csv = header.to_owned();
    for i in 0..50_000 {
        csv.push_str(match i {
            10 => "21010034300016,Pain,F,2024-03-01,\"1 234,56\",BOULANGERIE,,,,,,\n",
            49_990 => "21010034300016,Pain,F,2024-03-01,12.5,BOULANGERIES,,,,,,\n",
            _ => good,
        });
    }
    let path = temp_file("errors.csv", &csv);
    let out = egalim(&path);
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("Fichier refusé, aucun achat importé (2 erreurs)"), "{err}");
    assert!(err.contains("Ligne 12, colonne prix_ht : « 1 234,56 »") && err.contains("écrivez 1234.56"), "{err}");
    assert!(err.contains("Ligne 49992, colonne famille_produits"), "{err}");
}
