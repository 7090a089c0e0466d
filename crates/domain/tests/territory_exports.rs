//! The territory's exports: every table written as CSV and XLSX is
//! read back (the csv crate, calamine) and compared with the domain's figures; the two files of
//! a table hold the same values, numbers as number cells, missing values as empty cells.

use std::io::Cursor;

use assiette_domain::egalim::{yearly_totals, YearTotals};
use assiette_domain::export::*;
use assiette_domain::purchase::{Characteristic as C, Family, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_domain::signal::supplier_signal;
use assiette_domain::site::{ManagementType, ProductionType, RegionGroup};
use assiette_domain::territory::*;
use assiette_domain::waste::{DateRange, WasteFactors};
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn site(n: u128, commune: (&str, &str), production_type: ProductionType, daily: u32, tablets: u32) -> SiteSummary {
    SiteSummary {
        site_id: Uuid::from_u128(n),
        siret: format!("2101003430001{n}"),
        commune_insee: commune.0.into(),
        commune_name: commune.1.into(),
        name: format!("École {n}"),
        management: if n == 2 { ManagementType::Conceded } else { ManagementType::Direct },
        production_type,
        daily_meal_count: daily,
        yearly_meal_count: daily * 140,
        region_group: RegionGroup::Mainland,
        engaged: n != 2,
        tablets_enrolled: tablets,
        last_sync: (n == 1).then(|| DateTime::parse_from_rfc3339("2026-12-02T16:45:30Z").unwrap().with_timezone(&Utc)),
    }
}

fn buy(siret: &str, family: Family, labels: &[C], cents: i64) -> Purchase {
    Purchase {
        meta: RecordMeta::new(Uuid::nil(), DateTime::<Utc>::MIN_UTC),
        siret: siret.into(),
        description: "x".into(),
        supplier: String::new(),
        date: d(2026, 3, 2),
        price_cents: cents,
        family,
        characteristics: labels.to_vec(),
        local_definition: None,
        local_km: None,
    }
}

/// Site 1 (Alpha): weighed and counted, with purchases; site 2 (Alpha): nothing at all;
/// site 3 (Beta): weighed on one day without a meal count (no g per meal).
fn fixture() -> (Vec<SiteSummary>, Vec<DayRollup>, Vec<YearTotals>) {
    let sites = vec![
        site(1, ("76351", "Alpha"), ProductionType::Site, 250, 1),
        site(2, ("76351", "Alpha"), ProductionType::SiteCookedElsewhere, 80, 0),
        site(3, ("76217", "Beta"), ProductionType::Groupe, 1200, 1),
    ];
    let day = |n: u128, date, meals, grams: [u64; 3], weighings| DayRollup {
        site_id: Uuid::from_u128(n),
        date,
        meals_served: meals,
        grams_by_stage: grams,
        weighings_by_stage: weighings,
    };
    let days = vec![
        day(1, d(2026, 9, 7), Some(100), [0, 0, 10_000], [0, 0, 1]),
        day(1, d(2026, 11, 2), Some(200), [1_000, 3_000, 16_000], [1, 1, 1]),
        day(1, d(2026, 11, 3), Some(100), [0, 0, 5_000], [0, 0, 1]),
        day(3, d(2026, 11, 10), None, [0, 0, 5_000], [0, 0, 1]),
    ];
    let s1 = &sites[0].siret;
    let purchases = [
        buy(s1, Family::ViandesVolailles, &[C::LabelRouge, C::France], 40_000),
        buy(s1, Family::ViandesVolailles, &[C::France], 60_000),
        buy(s1, Family::FruitsEtLegumes, &[C::Bio, C::Local], 25_000),
        buy(s1, Family::FruitsEtLegumes, &[C::CircuitCourt], 35_055),
        buy(s1, Family::Autres, &[], 90_000),
    ];
    (sites, days, yearly_totals(&purchases))
}

fn params() -> OverviewParams {
    OverviewParams {
        period: DateRange::new(d(2026, 11, 2), d(2026, 11, 27)),
        baseline: Some(DateRange::new(d(2026, 9, 1), d(2026, 9, 30))),
        purchase_year: 2026,
        today: d(2026, 12, 3),
        holidays: vec![DateRange::new(d(2026, 10, 17), d(2026, 11, 1))],
        factors: WasteFactors::default(),
    }
}

fn overview_fixture() -> Overview {
    let (sites, days, totals) = fixture();
    overview(&sites, &days, &totals, &[], &params())
}

/// Every CSV record, read as the csv crate reads it (records of different lengths allowed).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// The first sheet of a workbook, as calamine reads it.
fn xlsx_sheet(bytes: &[u8]) -> (String, calamine::Range<Data>) {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    (name, range)
}

fn cell(range: &calamine::Range<Data>, row: usize, col: usize) -> Data {
    range.get_value((row as u32, col as u32)).cloned().unwrap_or(Data::Empty)
}

/// Days from Excel's epoch (1899-12-30) to a date: what a date cell holds.
fn excel_serial(date: NaiveDate) -> f64 {
    (date - d(1899, 12, 30)).num_days() as f64
}

/// The CSV and the XLSX of a table say the same thing: the title and notes, the header, and
/// each cell: empty in both, the same text, or the same number (a number cell, not text),
/// dates as date cells.
fn assert_same_table(table: &Table, csv_text: &str, xlsx: &[u8]) {
    let records = csv_records(csv_text);
    let head = table.csv_header_index();
    assert_eq!(records[0], vec![table.title.clone()]);
    for (i, (k, v)) in table.notes.iter().enumerate() {
        assert_eq!(records[1 + i], vec![k.clone(), v.clone()]);
    }
    assert_eq!(records[head], table.headers);
    assert_eq!(records.len(), head + 1 + table.rows.len());

    let (name, range) = xlsx_sheet(xlsx);
    assert_eq!(name, table.sheet);
    assert_eq!(cell(&range, 0, 0), Data::String(table.title.clone()));
    for (i, (k, v)) in table.notes.iter().enumerate() {
        assert_eq!((cell(&range, 1 + i, 0), cell(&range, 1 + i, 1)), (Data::String(k.clone()), Data::String(v.clone())));
    }
    // A blank row between the notes and the header in the sheet.
    let xhead = head + 1;
    for (c, h) in table.headers.iter().enumerate() {
        assert_eq!(cell(&range, xhead, c), Data::String(h.clone()));
    }
    for (r, row) in table.rows.iter().enumerate() {
        let csv_row = &records[head + 1 + r];
        assert_eq!(csv_row.len(), table.headers.len(), "row {r} has one cell per column");
        for (c, value) in row.iter().enumerate() {
            let text = &csv_row[c];
            let x = cell(&range, xhead + 1 + r, c);
            let at = format!("row {r}, column « {} »: CSV {text:?}, XLSX {x:?}", table.headers[c]);
            match value {
                Cell::Empty => assert!(text.is_empty() && x == Data::Empty, "{at}"),
                Cell::Text(s) if s.is_empty() => assert!(text.is_empty() && x == Data::Empty, "{at}"),
                Cell::Text(s) => assert!(*text == *s && x == Data::String(s.clone()), "{at}"),
                Cell::Int(_) | Cell::Fixed { .. } | Cell::Float { .. } => {
                    let from_csv: f64 = text.parse().unwrap_or_else(|_| panic!("{at}: not a number"));
                    match x {
                        Data::Float(v) => assert!((v - from_csv).abs() < 1e-9, "{at}"),
                        Data::Int(v) => assert_eq!(v as f64, from_csv, "{at}"),
                        _ => panic!("{at}: not a number cell"),
                    }
                }
                Cell::Date(date) => {
                    assert_eq!(*text, date.format("%Y-%m-%d").to_string(), "{at}");
                    match x {
                        Data::DateTime(t) => assert_eq!(t.as_f64(), excel_serial(*date), "{at}"),
                        _ => panic!("{at}: not a date cell"),
                    }
                }
                Cell::DateTime(t) => {
                    assert_eq!(*text, t.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "{at}");
                    match x {
                        Data::DateTime(v) => {
                            let secs = (t.naive_utc() - d(1899, 12, 30).and_hms_opt(0, 0, 0).unwrap()).num_seconds() as f64;
                            assert!((v.as_f64() - secs / 86_400.0).abs() < 1e-6, "{at}");
                        }
                        _ => panic!("{at}: not a date cell"),
                    }
                }
            }
        }
    }
}

fn column(table: &Table, header: &str) -> usize {
    table.headers.iter().position(|h| h == header).unwrap_or_else(|| panic!("no column « {header} »"))
}

/// Euros written as "1234.56" back to cents, exactly.
fn cents(text: &str) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    let (int, frac) = text.split_once('.').expect("two decimals");
    assert_eq!(frac.len(), 2, "{text}");
    let sign = if int.starts_with('-') { -1 } else { 1 };
    Some(sign * (int.trim_start_matches('-').parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()))
}

#[test]
fn signal_csv_and_xlsx_read_back_to_the_signal() {
    let (_, _, totals) = fixture();
    let s = supplier_signal(&totals[0], RegionGroup::Mainland);
    let table = signal_table(&s, "Le Havre Seine Métropole");
    let csv_text = signal_csv(&s, "Le Havre Seine Métropole");
    let xlsx = signal_xlsx(&s, "Le Havre Seine Métropole").unwrap();
    assert_same_table(&table, &csv_text, &xlsx);

    let records = csv_records(&csv_text);
    let rows = &records[table.csv_header_index() + 1..];
    assert_eq!(rows.len(), 9, "8 families and the territory");
    let col = |h: &str| column(&table, h);
    for (row, sig) in rows.iter().zip(s.families.iter().chain([&s.territory])) {
        assert_eq!(cents(&row[col("Achats (€ HT)")]), Some(sig.total_cents));
        assert_eq!(cents(&row[col("Part EGalim (%)")]), sig.egalim_percent);
        assert_eq!(cents(&row[col("Part bio (%)")]), sig.bio_percent);
        assert_eq!(cents(&row[col("Part local (%)")]), sig.local_percent);
        assert_eq!(cents(&row[col("Label rouge (€ HT)")]), Some(sig.labels_cents[1]));
        assert_eq!(cents(&row[col("À basculer vers le bio pour 20 % (€ HT)")]), sig.to_bio_cents);
        assert_eq!(cents(&row[col("À basculer vers EGalim pour 50 % (€ HT)")]), sig.to_egalim_cents);
        assert_eq!(cents(&row[col("À basculer pour les 60 % EGalim des viandes ou des poissons (€ HT)")]), sig.to_family_target_cents);
        assert_eq!(cents(&row[col("À basculer vers EGalim pour tous les objectifs (€ HT)")]), sig.to_move_cents);
    }
    // Hand-checked: 2 500,55 € in all; bread bought nothing: its shares are empty, not 0.
    let total = &rows[8];
    assert_eq!(total[0], "Total du territoire");
    assert_eq!(total[col("Achats (€ HT)")], "2500.55");
    let bread = &rows[5];
    assert_eq!(bread[1], "BOULANGERIE");
    assert_eq!((bread[col("Achats (€ HT)")].as_str(), bread[col("Part EGalim (%)")].as_str()), ("0.00", ""));
    // Charcuterie has no 60 % objective of its own: empty.
    assert_eq!(rows[3][col("À basculer pour les 60 % EGalim des viandes ou des poissons (€ HT)")], "");
    // Meat: 400 € of 1 000 € label rouge = 40 %; it needs 59,995 % = 599,95 €: 199,95 € missing.
    assert_eq!(rows[0][col("Part EGalim (%)")], "40.00");
    assert_eq!(rows[0][col("À basculer pour les 60 % EGalim des viandes ou des poissons (€ HT)")], "199.95");

    // The workbook's numbers, in euros.
    let (_, range) = xlsx_sheet(&xlsx);
    let first = table.csv_header_index() + 2;
    assert_eq!(cell(&range, first + 8, col("Achats (€ HT)")), Data::Float(2500.55));
    assert_eq!(cell(&range, first, col("À basculer pour les 60 % EGalim des viandes ou des poissons (€ HT)")), Data::Float(199.95));
    assert_eq!(cell(&range, first + 5, col("Part EGalim (%)")), Data::Empty);
    // The notes say the period, the source and each gauge in words.
    assert!(table.notes.iter().any(|(k, v)| k == "Période" && v.contains("01/01/2026 au 31/12/2026")));
    assert!(table.notes.iter().any(|(k, _)| k == "Source"));
    assert!(table.notes.iter().any(|(k, v)| k == "Produits bio" && v.contains("il manque")));
}

#[test]
fn overview_csv_and_xlsx_read_back_with_missing_values_empty() {
    let o = overview_fixture();
    let table = overview_table(&o);
    let csv_text = overview_csv(&o);
    assert_same_table(&table, &csv_text, &overview_xlsx(&o).unwrap());
    let records = csv_records(&csv_text);
    let rows = &records[table.csv_header_index() + 1..];
    // 3 sites, 2 communes, the territory.
    let levels: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(levels, ["Site", "Site", "Site", "Commune", "Commune", "Territoire"]);
    let col = |h: &str| column(&table, h);
    let gpm = col("Gaspillage (g/repas)");
    // Site 1: 25 kg for 300 meals = 83,3 g/repas; down by a sixth against 100 g in September.
    assert_eq!(rows[0][gpm], "83.3");
    assert_eq!(rows[0][col("Gaspillage (kg)")], "25.000");
    assert_eq!(rows[0][col("Baisse par rapport à la période de référence (%)")], "16.7");
    assert_eq!(rows[0][col("Dernière synchronisation (UTC)")], "2026-12-02T16:45:30Z");
    let p = o.sites[0].purchases.as_ref().unwrap();
    assert_eq!(cents(&rows[0][col("Part EGalim (%)")]), p.indicators.egalim_percent_hundredths);
    assert_eq!(cents(&rows[0][col("Manque pour EGalim (€ HT)")]), p.gauge("egalim").unwrap().missing_cents);
    // By stage: preparation and unserved weighed on 2/11 only, divided by that day's meals.
    let stages = ["Préparation (g/repas)", "Non servi (g/repas)", "Restes assiettes (g/repas)"];
    assert_eq!(stages.map(|h| rows[0][col(h)].clone()), ["5.0", "15.0", "70.0"]);
    // Without 2/11, site 1 weighed its plates only: its other stages are empty, not 0.
    let (sites, mut days, totals) = fixture();
    days.retain(|x| x.date != d(2026, 11, 2));
    let plates = overview(&sites, &days, &totals, &[], &params());
    let text = overview_csv(&plates);
    let plate_rows = csv_records(&text);
    let site1 = &plate_rows[overview_table(&plates).csv_header_index() + 1];
    assert_eq!(stages.map(|h| site1[col(h)].clone()), ["", "", "50.0"]);
    // Site 2: nothing entered, no purchases: every figure empty, never 0; no sync date.
    for h in ["Gaspillage (g/repas)", "Gaspillage (kg)", "Coût estimé du gaspillage (€)", "Part EGalim (%)", "Manque pour EGalim (€ HT)", "Dernière synchronisation (UTC)", "Dernière saisie"] {
        assert_eq!(rows[1][col(h)], "", "{h}");
    }
    assert_eq!(rows[1][col("Jours pesés")], "0");
    // Site 3: weighed without a meal count: no g per meal rather than a division by zero.
    assert_eq!(rows[2][gpm], "");
    assert!(rows[2][col("Alertes")].contains("Plus de saisie"), "{:?}", rows[2][col("Alertes")]);
    // The territory's g per meal is from the summed grams and meals: site 1's alone here.
    assert_eq!(rows[5][gpm], "83.3");
    assert_eq!(rows[5][col("Sites")], "3");
    assert_eq!(rows[5][col("Repas par jour")], "1530");
    assert!(table.notes.iter().any(|(k, v)| k == "Période du gaspillage" && v == "du 02/11/2026 au 27/11/2026"));
    assert!(table.notes.iter().any(|(k, v)| k == "Coût estimé" && v.contains("ADEME")));
}

/// The lines shown: every site gives the overview's own table; a filter keeps its sites in
/// the caller's order and sums the commune and territory lines over them alone.
#[test]
fn overview_of_the_lines_shown() {
    let o = overview_fixture();
    let all: Vec<&SiteRow> = o.sites.iter().collect();
    assert_eq!(overview_table_of(&o, &all), overview_table(&o));
    let mut rows = o.sites.clone();
    sort_rows(&mut rows, SortKey::DailyMeals, true);
    let shown = filter_rows(&rows, &RowFilter { engaged: Some(true), ..RowFilter::default() });
    let table = overview_table_of(&o, &shown);
    assert_same_table(&table, &table_csv(&table), &tables_xlsx(std::slice::from_ref(&table)).unwrap());
    let records = csv_records(&table_csv(&table));
    let lines = &records[table.csv_header_index() + 1..];
    let names: Vec<(&str, &str)> = lines.iter().map(|r| (r[0].as_str(), r[3].as_str())).collect();
    assert_eq!(names, [("Site", "École 3"), ("Site", "École 1"), ("Commune", ""), ("Commune", ""), ("Territoire", "")]);
    let col = |h: &str| column(&table, h);
    // Alpha without its not-engaged site 2: one site, 250 meals a day; the territory 1 450.
    assert_eq!((lines[2][1].as_str(), lines[2][col("Sites")].as_str(), lines[2][col("Repas par jour")].as_str()), ("Alpha", "1", "250"));
    assert_eq!(lines[4][col("Repas par jour")], "1450");
    assert_eq!(table.notes[0], ("Sites".to_owned(), "2 sites sur 3 (filtre de la vue)".to_owned()));
}

#[test]
fn trend_csv_and_xlsx_read_back() {
    let (sites, days, _) = fixture();
    let lines = monthly_trend(&sites, &days, DateRange::new(d(2026, 9, 1), d(2026, 11, 30)));
    let table = trend_table(&lines);
    let csv_text = trend_csv(&lines);
    assert_same_table(&table, &csv_text, &trend_xlsx(&lines).unwrap());
    let records = csv_records(&csv_text);
    let rows = &records[table.csv_header_index() + 1..];
    // Territory, Alpha, Beta × September, October, November.
    assert_eq!(rows.len(), 9);
    let col = |h: &str| column(&table, h);
    let gpm = col("Gaspillage (g/repas)");
    assert_eq!((rows[0][0].as_str(), rows[0][col("Mois")].as_str(), rows[0][gpm].as_str()), ("Territoire", "9", "100.0"));
    // October: nothing weighed: empty, not 0.
    assert_eq!((rows[1][col("Mois")].as_str(), rows[1][gpm].as_str(), rows[1][col("Gaspillage (kg)")].as_str()), ("10", "", ""));
    assert_eq!(rows[2][gpm], "83.3");
    assert_eq!((rows[3][0].as_str(), rows[3][1].as_str()), ("Alpha", "76351"));
    // Beta weighed in November without counting meals: no g per meal.
    assert_eq!((rows[8][0].as_str(), rows[8][gpm].as_str()), ("Beta", ""));
    assert_eq!((rows[2][col("Du")].as_str(), rows[2][col("Au")].as_str()), ("2026-11-01", "2026-11-30"));
    assert!(table.notes.iter().any(|(k, v)| k == "Période" && v == "du 01/09/2026 au 30/11/2026"));
}

#[test]
fn statistics_csv_and_xlsx_read_back() {
    let o = overview_fixture();
    let stats = canteen_statistics(&o);
    let table = statistics_table(&stats, "Le Havre Seine Métropole");
    let csv_text = statistics_csv(&stats, "Le Havre Seine Métropole");
    assert_same_table(&table, &csv_text, &statistics_xlsx(&stats, "Le Havre Seine Métropole").unwrap());
    let records = csv_records(&csv_text);
    let rows = &records[table.csv_header_index() + 1..];
    let field = |name: &str| rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(field("canteen_count")[2], "3");
    assert_eq!(field("declarations_count")[2], "1");
    assert_eq!(field("management_types.conceded")[2], "1");
    assert_eq!(field("production_types.groupe")[2], "1");
    assert_eq!(cents(&field("egalim_percent")[2]), stats.egalim_percent);
    assert_eq!(cents(&field("bio_percent")[2]), stats.bio_percent);
    assert_eq!(field("bio_percent")[3], "%");
    // No fish bought: no share, an empty cell.
    assert_eq!(stats.fish_egalim_percent, None);
    assert_eq!(field("fish_egalim_percent")[2], "");

    // Without any purchase every share is empty.
    let (sites, days, _) = fixture();
    let empty = canteen_statistics(&overview(&sites, &days, &[], &[], &params()));
    let records = csv_records(&statistics_csv(&empty, "x"));
    let shares: Vec<&Vec<String>> = records.iter().filter(|r| r.len() == 4 && r[3] == "%").collect();
    assert_eq!(shares.len(), 8);
    assert!(shares.iter().all(|r| r[2].is_empty()));
}
