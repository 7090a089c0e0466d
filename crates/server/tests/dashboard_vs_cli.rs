//! The dashboard's figures equal `assiette-server egalim`'s on the same lines, to the cent: the
//! command runs as a real process on national files, the dashboard reads the same files
//! imported with the domain's import (as the app does).

use std::path::{Path, PathBuf};
use std::process::Command;

use assiette_domain::dashboard::{Filter, PurchaseCube, SiteInfo};
use assiette_domain::egalim::percent_hundredths;
use assiette_domain::import::{import_purchases, ImportOptions};
use assiette_domain::site::RegionGroup;
use chrono::{DateTime, NaiveDate, Utc};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../domain/tests/fixtures/ma-cantine/achats").join(name)
}

fn cli_sites(path: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_assiette-server")).arg("egalim").arg(path).output().expect("binary runs");
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    v["sites"].as_array().expect("sites").clone()
}

fn cents(v: &serde_json::Value) -> i64 {
    let s = v.as_str().expect("an amount");
    let (euros, c) = s.split_once('.').expect("two decimals");
    euros.parse::<i64>().unwrap() * 100 + c.parse::<i64>().unwrap()
}

/// Every site and year the command prints, field for field; the commune (all sites) sums them.
fn check_same(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc);
    let mut opts = ImportOptions::new(today, now);
    opts.max_bytes = u64::MAX;
    let imported = import_purchases(&bytes, &opts, &mut uuid::Uuid::nil).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cube = PurchaseCube::from_purchases(&imported.purchases);
    let cli = cli_sites(path);
    assert!(!cli.is_empty());
    for site in &cli {
        let siret = site["siret"].as_str().unwrap().to_owned();
        let year = site["year"].as_i64().unwrap() as i32;
        let filter = Filter { sirets: vec![siret.clone()], ..Filter::year(year) };
        let info = SiteInfo { siret: siret.clone(), name: siret.clone(), yearly_meal_count: 0, region_group: RegionGroup::Mainland };
        let d = cube.dashboard(&filter, &[info], 5);
        assert_eq!(&serde_json::to_value(&d.totals).unwrap(), site, "{} {siret} {year}", path.display());
        let total = cents(&site["valeur_totale"]);
        let egalim: i64 = ["valeur_bio", "valeur_siqo", "valeur_egalim_autres", "valeur_externalites_performance"]
            .iter()
            .map(|k| cents(&site[*k]))
            .sum();
        assert_eq!(d.shares[0].percent_hundredths, percent_hundredths(cents(&site["valeur_bio"]), total));
        assert_eq!(d.shares[1].percent_hundredths, percent_hundredths(egalim, total));
        assert_eq!(d.curve[11].this_year.total_cents, total);
    }
    for year in cube.years() {
        let commune = cube.dashboard(&Filter::year(year), &[], 5);
        let sum: i64 = cli.iter().filter(|s| s["year"] == year).map(|s| cents(&s["valeur_totale"])).sum();
        assert_eq!(commune.totals.valeur_totale, sum, "{} {year}", path.display());
    }
}

#[test]
fn national_good_files() {
    for name in [
        "purchases_good.csv",
        "purchases_good.xlsx",
        "purchases_good_floating_number.csv",
        "purchases_good_id_caracteristics.csv",
        "purchases_good_local_vs_circuit_court.csv",
        "purchases_good_separator_semicolon.csv",
        "purchases_good_separator_tab.tsv",
        "purchases_good_siret_caracteristics.csv",
        "purchases_good_with_empty_columns.xlsx",
    ] {
        check_same(&fixture(name));
    }
}

/// 3 sites × 3 years (2024–2026, so the 2025 France rule and the 2026 Europe column) with every
/// family, labels, origins, local and prices with more than two decimals.
#[test]
fn generated_commune_file() {
    const FAMILIES: [&str; 8] = [
        "VIANDES_VOLAILLES", "CHARCUTERIE", "PRODUITS_DE_LA_MER", "FRUITS_ET_LEGUMES",
        "PRODUITS_LAITIERS", "BOULANGERIE", "BOISSONS", "AUTRES",
    ];
    const LABELS: [&str; 8] =
        ["", "BIO", "\"BIO,COMMERCE_EQUITABLE\"", "LABEL_ROUGE", "\"IGP,HVE\"", "PECHE_DURABLE", "PERFORMANCE", "\"COMMERCE_EQUITABLE,FERMIER\""];
    const ORIGINS: [&str; 3] = ["", "FRANCE", "EUROPE"];
    const LOCAL: [&str; 4] = [",,,", ",x,DEPARTEMENT,", "x,x,KM,40", "oui,non,,"];
    let sirets = ["21010034300016", "65449096241683", "21760351900019"];
    let mut s = String::from("siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km\n");
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for i in 0..3_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!(
            "{},Produit {i},Fournisseur {},{}-{:02}-{:02},{}.{:03},{},{},{},{}\n",
            sirets[(x % 3) as usize],
            x % 7,
            2024 + (x >> 8) % 3,
            1 + (x >> 12) % 11, // up to November: 2026 is not over on the test's day
            1 + (x >> 16) % 28,
            (x >> 20) % 3000,
            (x >> 32) % 1000,
            FAMILIES[((x >> 40) % 8) as usize],
            LABELS[((x >> 44) % 8) as usize],
            ORIGINS[((x >> 48) % 3) as usize],
            LOCAL[((x >> 52) % 4) as usize],
        ));
    }
    let path = std::env::temp_dir().join(format!("assiette-dashboard-{}.csv", std::process::id()));
    std::fs::write(&path, s).unwrap();
    check_same(&path);
    std::fs::remove_file(&path).ok();
}
