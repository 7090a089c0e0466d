//! Exports in the national formats: the purchase CSV of "ma cantine" (re-importable there and
//! here: importing an export gives the same purchases) and the yearly `valeur_*` totals as JSON.

use std::io::Write;

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
