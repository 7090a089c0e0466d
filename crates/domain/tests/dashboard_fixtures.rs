//! The dashboard and the declaration on the national platform's good purchase files: the same
//! cents as the yearly totals the `egalim` command prints (the server's `dashboard_vs_cli` test
//! runs the command itself on the same files).

use assiette_domain::dashboard::{Filter, PurchaseCube, SiteInfo};
use assiette_domain::declaration::declaration;
use assiette_domain::egalim::yearly_totals;
use assiette_domain::import::{import_purchases, ImportOptions};
use assiette_domain::site::RegionGroup;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

const GOOD: [&str; 11] = [
    "purchases_good.csv",
    "purchases_good.xlsx",
    "purchases_good_floating_number.csv",
    "purchases_good_id.csv",
    "purchases_good_id_caracteristics.csv",
    "purchases_good_local_vs_circuit_court.csv",
    "purchases_good_separator_comma.csv",
    "purchases_good_separator_semicolon.csv",
    "purchases_good_separator_tab.tsv",
    "purchases_good_siret_caracteristics.csv",
    "purchases_good_with_empty_columns.xlsx",
];

fn file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/ma-cantine/achats/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_good_file_gives_the_egalim_totals() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc);
    for name in GOOD {
        let imported = import_purchases(&file(name), &ImportOptions::new(today, now), &mut Uuid::nil)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let cube = PurchaseCube::from_purchases(&imported.purchases);
        let per_site = yearly_totals(&imported.purchases);
        assert!(!per_site.is_empty(), "{name}");
        for t in &per_site {
            let f = Filter { sirets: vec![t.siret.clone()], ..Filter::year(t.year) };
            assert_eq!(&cube.year_totals(&f, t.year), t, "{name}");
            let site = SiteInfo { siret: t.siret.clone(), name: "Site".into(), yearly_meal_count: 1000, region_group: RegionGroup::Mainland };
            let d = cube.dashboard(&f, std::slice::from_ref(&site), 5);
            assert_eq!(&d.totals, t, "{name}");
            let dec = declaration(&cube, &site, t.year, today);
            assert_eq!(&dec.totals, t, "{name}");
            assert_eq!(dec.totals_json(), assiette_domain::export::totals_json(std::slice::from_ref(t)), "{name}");
        }
        // The whole file (every site) is the sum of its sites.
        for year in cube.years() {
            let all = cube.year_totals(&Filter::year(year), year);
            let sum: i64 = per_site.iter().filter(|t| t.year == year).map(|t| t.valeur_totale).sum();
            assert_eq!(all.valeur_totale, sum, "{name}");
        }
    }
}
