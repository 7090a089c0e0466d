//! Exports in the national formats: the purchase CSV of "ma cantine" (re-importable there and
//! here: importing an export gives the same purchases), the same columns as an XLSX workbook
//! (numbers and dates as such, for a spreadsheet; re-importable too) and the yearly `valeur_*`
//! totals as JSON.

use std::io::Write;

use chrono::Datelike;

use crate::egalim::YearTotals;
use crate::import::COLUMNS;
use crate::purchase::{format_euros, Characteristic, Purchase};

/// The national CSV row of a purchase, in `COLUMNS` order.
pub fn purchase_row(p: &Purchase) -> [String; 12] {
    let yes_no = |b: bool| if b { "oui" } else { "non" }.to_owned();
    let egalim: Vec<&str> = p.egalim_labels().map(Characteristic::code).collect();
    let origin = if p.has(Characteristic::France) {
        "FRANCE"
    } else if p.has(Characteristic::Europe) {
        "EUROPE"
    } else {
        ""
    };
    [
        p.siret.clone(),
        p.description.clone(),
        p.supplier.clone(),
        p.date.to_string(),
        format_euros(p.price_cents),
        p.family.code().to_owned(),
        egalim.join(","),
        origin.to_owned(),
        yes_no(p.is_short_chain()),
        yes_no(p.is_local()),
        p.local_definition.map(|d| d.code().to_owned()).unwrap_or_default(),
        p.local_km.map(|k| k.to_string()).unwrap_or_default(),
    ]
}

/// Writes the national purchase CSV (comma separator, UTF-8, header row). Deleted records
/// (tombstones) are left out.
pub fn write_purchases_csv<'a, W: Write>(out: W, purchases: impl IntoIterator<Item = &'a Purchase>) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(COLUMNS)?;
    for p in purchases {
        if !p.meta.deleted {
            w.write_record(purchase_row(p))?;
        }
    }
    w.flush()
}

/// The national purchase columns as an XLSX workbook: one sheet « Achats », the header row in
/// bold and frozen, the date as a date (shown dd/mm/yyyy), the price as a number of euros
/// (shown « 1 234,56 € » by a French spreadsheet), the SIRET as text (no lost leading zero).
/// Deleted records (tombstones) are left out.
pub fn purchases_xlsx<'a>(purchases: impl IntoIterator<Item = &'a Purchase>) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| format!("Le fichier Excel n'a pas pu être écrit : {e}");
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let euros = Format::new().set_num_format("#,##0.00\\ \"€\"");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Achats").map_err(fail)?;
    for (col, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold).map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    let widths = [16.0, 40.0, 24.0, 12.0, 12.0, 20.0, 24.0, 10.0, 10.0, 8.0, 14.0, 10.0];
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, *width).map_err(fail)?;
    }
    let mut row = 0u32;
    for p in purchases.into_iter().filter(|p| !p.meta.deleted) {
        row += 1;
        let cells = purchase_row(p);
        for (col, text) in cells.iter().enumerate() {
            let col = col as u16;
            match col {
                3 => {
                    let d = p.date;
                    let date = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).map_err(fail)?;
                    sheet.write_datetime_with_format(row, col, &date, &date_format).map_err(fail)?;
                }
                4 => {
                    // Cents to euros: exact to the cent once read back with two decimals.
                    sheet.write_number_with_format(row, col, p.price_cents as f64 / 100.0, &euros).map_err(fail)?;
                }
                11 if p.local_km.is_some() => {
                    sheet.write_number(row, col, f64::from(p.local_km.unwrap_or_default())).map_err(fail)?;
                }
                _ if text.is_empty() => {}
                _ => {
                    sheet.write_string(row, col, text).map_err(fail)?;
                }
            }
        }
    }
    if row > 0 {
        sheet.autofilter(0, 0, row, COLUMNS.len() as u16 - 1).map_err(fail)?;
    }
    workbook.save_to_buffer().map_err(fail)
}

/// The national purchase CSV as a string.
pub fn purchases_csv<'a>(purchases: impl IntoIterator<Item = &'a Purchase>) -> String {
    let mut buf = Vec::new();
    write_purchases_csv(&mut buf, purchases).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("every cell is UTF-8")
}

/// `{"sites": [{"siret": "...", "year": 2025, "valeur_totale": "1234.56", ...}]}`, amounts as
/// euro strings with two decimals, one object per site and year in the given order.
pub fn totals_json(totals: &[YearTotals]) -> String {
    serde_json::to_string_pretty(&crate::egalim::totals_json(totals)).expect("totals serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::{Family, LocalDefinition};
    use crate::record::RecordMeta;
    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;

    fn p() -> Purchase {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        Purchase {
            meta: RecordMeta::new(Uuid::nil(), now),
            siret: "21010034300016".into(),
            description: "Pommes, rouges".into(),
            supplier: "Le \"bon\" traiteur".into(),
            date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            price_cents: 9011,
            family: Family::ProduitsLaitiers,
            characteristics: vec![Characteristic::Bio, Characteristic::Igp, Characteristic::France, Characteristic::Local],
            local_definition: Some(LocalDefinition::Km),
            local_km: Some(40),
        }
    }

    #[test]
    fn csv_has_national_header_and_quoting() {
        let csv = purchases_csv([&p()]);
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        assert_eq!(
            lines.next().unwrap(),
            "21010034300016,\"Pommes, rouges\",\"Le \"\"bon\"\" traiteur\",2026-01-05,90.11,PRODUITS_LAITIERS,\"BIO,IGP\",FRANCE,non,oui,KM,40"
        );
        assert!(lines.next().is_none());
    }

    #[test]
    fn xlsx_reads_back_as_the_same_purchases() {
        use crate::import::{import_purchases, ImportOptions};
        let mut other = p();
        other.siret = "00010034300016".into();
        other.price_cents = 123_456_789;
        other.characteristics = vec![Characteristic::LabelRouge];
        other.local_definition = None;
        other.local_km = None;
        let mut gone = p();
        gone.meta = gone.meta.deleted(gone.meta.modified_at);
        let bytes = purchases_xlsx([&p(), &other, &gone]).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        let opts = ImportOptions::new(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(), p().meta.modified_at);
        let imported = import_purchases(&bytes, &opts, &mut Uuid::nil).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(imported.purchases, vec![p(), other]);
    }

    #[test]
    fn xlsx_of_nothing_is_a_header() {
        let bytes = purchases_xlsx(std::iter::empty()).unwrap();
        let opts = crate::import::ImportOptions::new(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(), p().meta.modified_at);
        // The importer reads the header (a wrong one is another error) and finds no line.
        let refused = crate::import::import_purchases(&bytes, &opts, &mut Uuid::nil).unwrap_err();
        assert_eq!(refused.errors.len(), 1, "{refused}");
        assert!(refused.errors[0].message.contains("aucun achat"), "{refused}");
    }

    #[test]
    fn tombstones_are_not_exported() {
        let mut d = p();
        d.meta = d.meta.deleted(d.meta.modified_at);
        assert_eq!(purchases_csv([&d]).lines().count(), 1);
    }

    #[test]
    fn totals_as_euro_strings() {
        let mut t = YearTotals::new("21010034300016", 2026);
        t.add(&p());
        let v: serde_json::Value = serde_json::from_str(&totals_json(&[t])).unwrap();
        let site = &v["sites"][0];
        assert_eq!(site["siret"], "21010034300016");
        assert_eq!(site["year"], 2026);
        assert_eq!(site["valeur_totale"], "90.11");
        assert_eq!(site["valeur_bio"], "90.11");
        assert_eq!(site["valeur_siqo"], "0.00");
        assert_eq!(site["valeur_produits_laitiers_bio"], "90.11");
        assert_eq!(site["valeur_produits_laitiers_france"], "90.11");
        assert_eq!(site["valeur_produits_laitiers_local"], "90.11");
    }
}
