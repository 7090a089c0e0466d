//! Exports in the national formats: the purchase CSV of "ma cantine" (re-importable there and
//! here: importing an export gives the same purchases), the same columns as an XLSX workbook
//! (numbers and dates as such, for a spreadsheet; re-importable too) and the yearly `valeur_*`
//! totals as JSON; and the territory's tables (issue 13): the overview, the signal to
//! suppliers, the monthly trend and ma cantine's statistics fields, each as CSV and as XLSX
//! from one `Table` (see the section below `totals_json`).

use std::io::Write;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

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

// ---------------------------------------------------------------------------------------------
// The territory's tables (issue 13, items 4 and 5): the overview, the signal to suppliers, the
// monthly trend lines and ma cantine's statistics fields, each as CSV and as XLSX.
//
// Every table is first built as a `Table` (title, notes, French headers, typed cells), then
// written by one CSV writer and one XLSX writer, so both files hold the same figures:
// - numbers are numbers: XLSX number cells (not text), CSV with a decimal point (no thousands
//   separator), as the national purchase CSV writes prices;
// - units are in the headers (« (€ HT) », « (%) », « (g/repas) », « (kg) »); a percentage is
//   written as its number of percent (23.45, not 0.2345), so the header's unit reads true;
// - missing values are empty cells, never 0;
// - the period and the source of the figures are in the notes above the header (first rows of
//   the CSV, first rows of the sheet).
// The CSV follows the existing export's choice (`write_purchases_csv`): comma-separated UTF-8
// without a byte order mark, read by the csv crate, pandas and ma cantine alike; the XLSX is the
// file for a French spreadsheet.
// ---------------------------------------------------------------------------------------------

use crate::purchase::Family;
use crate::signal::{SignalRow, SupplierSignal};
use crate::territory::{CanteenStatistics, Flag, GroupTotals, Overview, PurchaseFigures, SiteRow, TrendLine, WastePeriod};
use crate::waste::{DateRange, Stage};

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Missing data: an empty cell, never 0.
    Empty,
    Text(String),
    Int(i64),
    /// An exact decimal: `units` of 10^-`decimals` (cents with 2, hundredths of a percent with
    /// 2, grams as kilograms with 3), written without going through a float in the CSV.
    Fixed { units: i64, decimals: u8 },
    /// A measured ratio (g per meal, a change in percent), rounded to `decimals` in both files.
    Float { value: f64, decimals: u8 },
    Date(NaiveDate),
    /// A moment, in UTC (said in the header).
    DateTime(DateTime<Utc>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    /// Euros from cents; empty when missing.
    pub fn euros(cents: Option<i64>) -> Cell {
        cents.map_or(Cell::Empty, |units| Cell::Fixed { units, decimals: 2 })
    }
    /// Percent from hundredths of a percent (2345 → 23.45); empty when missing.
    pub fn percent(hundredths: Option<i64>) -> Cell {
        hundredths.map_or(Cell::Empty, |units| Cell::Fixed { units, decimals: 2 })
    }
    /// Kilograms from grams (3 decimals, exact); empty when missing.
    pub fn kg(grams: Option<u64>) -> Cell {
        grams.map_or(Cell::Empty, |g| Cell::Fixed { units: i64::try_from(g).unwrap_or(i64::MAX), decimals: 3 })
    }
    /// A ratio with `decimals` decimals; empty when missing or not finite.
    pub fn float(value: Option<f64>, decimals: u8) -> Cell {
        value.filter(|v| v.is_finite()).map_or(Cell::Empty, |value| Cell::Float { value, decimals })
    }
    /// A share of 1 (a reduction, 0.25) as percent with one decimal (25.0).
    pub fn ratio_percent(ratio: Option<f64>) -> Cell {
        Cell::float(ratio.map(|r| r * 100.0), 1)
    }
    pub fn int(v: Option<i64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Int)
    }

    /// The CSV text of the cell: decimal point, no grouping, ISO dates.
    pub fn csv_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Fixed { units, decimals } => fixed_text(*units, *decimals),
            Cell::Float { value, decimals } => format!("{:.*}", usize::from(*decimals), value),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::DateTime(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }

    /// The number an XLSX cell holds: the same value the CSV writes.
    fn number(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Fixed { units, decimals } => Some(*units as f64 / 10f64.powi(i32::from(*decimals))),
            // Through the CSV text, so that the workbook holds the rounded figure the CSV shows.
            Cell::Float { .. } => self.csv_text().parse().ok(),
            _ => None,
        }
    }
}

fn fixed_text(units: i64, decimals: u8) -> String {
    if decimals == 0 {
        return units.to_string();
    }
    let sign = if units < 0 { "-" } else { "" };
    let scale = 10u64.pow(u32::from(decimals));
    let a = units.unsigned_abs();
    format!("{sign}{}.{:0w$}", a / scale, a % scale, w = usize::from(decimals))
}

/// A table ready to be written as CSV or as one sheet of a workbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Sheet name (31 characters at most, none of `[]:*?/\`).
    pub sheet: String,
    pub title: String,
    /// (label, text) lines above the header: period, source, method, what an empty cell means.
    pub notes: Vec<(String, String)>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// Index of the header among the CSV records (the title, then the notes before it).
    pub fn csv_header_index(&self) -> usize {
        1 + self.notes.len()
    }
}

/// What an empty cell means, in every table's notes.
pub const EMPTY_CELL_NOTE: &str = "Une cellule vide est une donnée manquante (jamais un zéro).";

fn date_fr(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn range_fr(r: &DateRange) -> String {
    format!("du {} au {}", date_fr(r.start), date_fr(r.end))
}

/// Writes a table as CSV: the title, the notes (two fields each), the header, the rows.
/// Records have different lengths (the csv writer's `flexible` mode).
pub fn write_table_csv<W: Write>(out: W, table: &Table) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    w.write_record([table.title.as_str()])?;
    for (k, v) in &table.notes {
        w.write_record([k.as_str(), v.as_str()])?;
    }
    w.write_record(&table.headers)?;
    for row in &table.rows {
        w.write_record(row.iter().map(Cell::csv_text))?;
    }
    w.flush()
}

/// A table as CSV text.
pub fn table_csv(table: &Table) -> String {
    let mut buf = Vec::new();
    write_table_csv(&mut buf, table).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("every cell is UTF-8")
}

/// Tables as one workbook, a sheet each: the title in bold, the notes, a blank row, the header
/// (bold, wrapped, frozen, with a filter), then the rows; numbers as number cells with two or
/// three decimals shown, dates as dates (dd/mm/yyyy), missing values as empty cells.
pub fn tables_xlsx(tables: &[Table]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| format!("Le fichier Excel n'a pas pu être écrit : {e}");
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Top);
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let datetime_format = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    let number_formats: Vec<Format> =
        ["0", "0.0", "0.00", "0.000"].iter().map(|f| Format::new().set_num_format(*f)).collect();
    let grouped: Vec<Format> = ["#,##0", "#,##0.0", "#,##0.00", "#,##0.000"]
        .iter()
        .map(|f| Format::new().set_num_format(*f))
        .collect();
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(&table.sheet).map_err(fail)?;
        sheet.write_string_with_format(0, 0, &table.title, &bold).map_err(fail)?;
        for (i, (k, v)) in table.notes.iter().enumerate() {
            let row = 1 + i as u32;
            sheet.write_string_with_format(row, 0, k, &bold).map_err(fail)?;
            sheet.write_string(row, 1, v).map_err(fail)?;
        }
        let head = 2 + table.notes.len() as u32;
        for (col, name) in table.headers.iter().enumerate() {
            sheet.write_string_with_format(head, col as u16, name, &header).map_err(fail)?;
            sheet.set_column_width(col as u16, if col == 0 { 28.0 } else { 16.0 }).map_err(fail)?;
        }
        sheet.set_freeze_panes(head + 1, 0).map_err(fail)?;
        for (i, cells) in table.rows.iter().enumerate() {
            let row = head + 1 + i as u32;
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) if s.is_empty() => {}
                    Cell::Text(s) => {
                        sheet.write_string(row, col, s).map_err(fail)?;
                    }
                    Cell::Date(d) => {
                        let x = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).map_err(fail)?;
                        sheet.write_datetime_with_format(row, col, &x, &date_format).map_err(fail)?;
                    }
                    Cell::DateTime(t) => {
                        let x = ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
                            .and_then(|x| x.and_hms(t.hour() as u16, t.minute() as u8, t.second()))
                            .map_err(fail)?;
                        sheet.write_datetime_with_format(row, col, &x, &datetime_format).map_err(fail)?;
                    }
                    Cell::Int(_) | Cell::Fixed { .. } | Cell::Float { .. } => {
                        let Some(v) = cell.number() else { continue };
                        let format = match cell {
                            // Years and counts: no separator (« 2 025 » would read oddly).
                            Cell::Int(_) => &number_formats[0],
                            Cell::Fixed { decimals, .. } => &grouped[usize::from(*decimals).min(3)],
                            Cell::Float { decimals, .. } => &number_formats[usize::from(*decimals).min(3)],
                            _ => unreachable!("matched above"),
                        };
                        sheet.write_number_with_format(row, col, v, format).map_err(fail)?;
                    }
                }
            }
        }
        if !table.rows.is_empty() && !table.headers.is_empty() {
            sheet
                .autofilter(head, 0, head + table.rows.len() as u32, table.headers.len() as u16 - 1)
                .map_err(fail)?;
        }
    }
    workbook.save_to_buffer().map_err(fail)
}

/// Source of the waste figures, in the notes.
pub const WASTE_SOURCE_FR: &str = "Pesées et nombres de repas saisis sur les tablettes des cantines (Assiette) ; \
seuls comptent les jours pesés avec un nombre de repas.";

fn flag_fr(f: &Flag) -> String {
    match f {
        Flag::StoppedEntering { last_entry: None, .. } => "Aucune saisie".to_owned(),
        Flag::StoppedEntering { last_entry: Some(d), school_days } => format!(
            "Plus de saisie depuis {} jours d'école (dernière le {})",
            school_days.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            date_fr(*d)
        ),
        Flag::ImplausibleWaste { days, .. } => {
            format!("Gaspillage invraisemblable (plus de 400 g par repas) : {days} jour(s)")
        }
        Flag::ImplausibleCost { flag } => match flag {
            crate::egalim::CostFlag::AboveTwentyEuros => "Coût des denrées par repas supérieur à 20 €".to_owned(),
            crate::egalim::CostFlag::BelowTenCents => "Coût des denrées par repas inférieur à 0,10 €".to_owned(),
        },
    }
}

const OVERVIEW_HEADERS: [&str; 41] = [
    "Niveau",
    "Commune",
    "Code INSEE",
    "Site",
    "SIRET",
    "Mode de gestion",
    "Type de production",
    "Engagé",
    "Tablettes",
    "Dernière synchronisation (UTC)",
    "Repas par jour",
    "Jours d'école avec saisie (sur 30)",
    "Dernière saisie",
    "Mois avec des achats",
    "Sites",
    "Sites engagés",
    "Sites avec tablette",
    "Jours pesés",
    "Repas des jours pesés",
    "Gaspillage (kg)",
    "Gaspillage (g/repas)",
    "Préparation (g/repas)",
    "Non servi (g/repas)",
    "Restes assiettes (g/repas)",
    "Baisse par rapport à la période de référence (%)",
    "Référence ADEME 2024 (g/repas)",
    "Sous la référence ADEME (%)",
    "Restes sous la moyenne du Défi Assiettes Vides (%)",
    "Coût estimé du gaspillage (€)",
    "Émissions estimées (kg CO2e)",
    "Achats de l'année (€ HT)",
    "Part bio (%)",
    "Part EGalim (%)",
    "Part viandes et volailles EGalim (%)",
    "Part poissons et produits de la mer EGalim (%)",
    "Manque pour le bio (€ HT)",
    "Manque pour EGalim (€ HT)",
    "Manque viandes et volailles (€ HT)",
    "Manque poissons (€ HT)",
    "Coût des denrées par repas (€)",
    "Alertes",
];

fn waste_cells(w: &WastePeriod) -> [Cell; 7] {
    let measured = w.measured_days > 0;
    [
        Cell::Int(i64::from(w.measured_days)),
        // Meals of weighed days: 0 is a real count when nothing was weighed.
        Cell::Int(i64::try_from(w.meals).unwrap_or(i64::MAX)),
        Cell::kg(measured.then(|| w.grams())),
        Cell::float(w.grams_per_meal(), 1),
        Cell::float(w.stage_grams_per_meal(Stage::Preparation), 1),
        Cell::float(w.stage_grams_per_meal(Stage::Unserved), 1),
        Cell::float(w.stage_grams_per_meal(Stage::Leftovers), 1),
    ]
}

fn purchase_cells(p: Option<&PurchaseFigures>) -> [Cell; 10] {
    let ind = p.map(|p| &p.indicators);
    let missing = |code: &str| p.and_then(|p| p.gauge(code)).and_then(|g| g.missing_cents);
    [
        Cell::euros(p.map(|p| p.totals.valeur_totale)),
        Cell::percent(ind.and_then(|i| i.bio_percent_hundredths)),
        Cell::percent(ind.and_then(|i| i.egalim_percent_hundredths)),
        Cell::percent(ind.and_then(|i| i.viandes_volailles_egalim_percent_hundredths)),
        Cell::percent(ind.and_then(|i| i.produits_de_la_mer_egalim_percent_hundredths)),
        Cell::euros(missing("bio")),
        Cell::euros(missing("egalim")),
        Cell::euros(missing("viandes_volailles_egalim")),
        Cell::euros(missing("produits_de_la_mer_egalim")),
        Cell::euros(ind.and_then(|i| i.cost_per_meal_cents)),
    ]
}

fn site_cells(r: &SiteRow) -> Vec<Cell> {
    let s = &r.site;
    let mut row = vec![
        Cell::text("Site"),
        Cell::text(&s.commune_name),
        Cell::text(&s.commune_insee),
        Cell::text(&s.name),
        Cell::text(&s.siret),
        Cell::text(s.management.label()),
        Cell::text(s.production_type.label()),
        Cell::text(if s.engaged { "oui" } else { "non" }),
        Cell::Int(i64::from(s.tablets_enrolled)),
        s.last_sync.map_or(Cell::Empty, Cell::DateTime),
        Cell::Int(i64::from(s.daily_meal_count)),
        Cell::Int(i64::from(r.participation.days_with_entries)),
        r.participation.last_entry.map_or(Cell::Empty, Cell::Date),
        Cell::Int(i64::from(r.participation.purchase_months)),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ];
    row.extend(waste_cells(&r.waste));
    row.extend([
        Cell::ratio_percent(r.change_vs_baseline),
        Cell::Int(i64::from(r.ademe.reference.grams_per_meal)),
        Cell::ratio_percent(r.ademe.reduction),
        Cell::ratio_percent(r.regional.reduction),
        Cell::euros(r.cost_cents),
        Cell::kg(r.co2e_grams),
    ]);
    row.extend(purchase_cells(r.purchases.as_ref()));
    row.push(Cell::Text(r.flags.iter().map(flag_fr).collect::<Vec<_>>().join(" ; ")));
    row
}

fn group_cells(g: &GroupTotals) -> Vec<Cell> {
    let territory = g.commune_insee.is_empty();
    let mut row = vec![
        Cell::text(if territory { "Territoire" } else { "Commune" }),
        Cell::text(if territory { "Toutes les communes" } else { g.commune_name.as_str() }),
        Cell::text(&g.commune_insee),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Int(i64::try_from(g.daily_meals).unwrap_or(i64::MAX)),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Int(i64::from(g.sites)),
        Cell::Int(i64::from(g.engaged_sites)),
        Cell::Int(i64::from(g.sites_with_tablet)),
    ];
    row.extend(waste_cells(&g.waste));
    row.extend([
        Cell::ratio_percent(g.change_vs_baseline),
        // The ADEME reference depends on each site's production type: per site only.
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::euros(g.cost_cents),
        Cell::kg(g.co2e_grams),
    ]);
    row.extend(purchase_cells(g.purchases.as_ref()));
    row.push(Cell::Text(match g.flagged_sites {
        0 => String::new(),
        1 => "1 site signalé".to_owned(),
        n => format!("{n} sites signalés"),
    }));
    row
}

/// The territory overview as one table: a line per site (in the overview's order), then a line
/// per commune, then the territory's. Columns that do not apply to a line are empty.
pub fn overview_table(o: &Overview) -> Table {
    overview_table_with(o, o.sites.iter().collect(), o.communes.clone(), o.territory.clone())
}

/// The overview's table of the lines shown (sorted and filtered by the caller): those sites in
/// that order, and the commune and territory lines summed over them alone (`group_totals`), so
/// that the totals printed are those of the sites listed. The notes say how many sites of the
/// overview are listed.
pub fn overview_table_of(o: &Overview, rows: &[&SiteRow]) -> Table {
    use std::collections::BTreeMap;
    let group = |insee: &str, name: &str, rs: &[&SiteRow]| {
        crate::territory::group_totals(insee, name, rs.iter().copied(), o.period, o.baseline, o.purchase_year, &o.factors)
    };
    let mut communes: BTreeMap<(&str, &str), Vec<&SiteRow>> = BTreeMap::new();
    for r in rows {
        communes.entry((r.site.commune_name.as_str(), r.site.commune_insee.as_str())).or_default().push(r);
    }
    let communes = communes.iter().map(|((name, insee), rs)| group(insee, name, rs)).collect();
    let mut t = overview_table_with(o, rows.to_vec(), communes, group("", "", rows));
    if rows.len() != o.sites.len() {
        t.notes.insert(0, ("Sites".to_owned(), format!("{} sites sur {} (filtre de la vue)", rows.len(), o.sites.len())));
    }
    t
}

fn overview_table_with(o: &Overview, sites: Vec<&SiteRow>, communes: Vec<GroupTotals>, territory: GroupTotals) -> Table {
    let ademe = crate::territory::ademe_reference(crate::site::ProductionType::Groupe);
    let regal = crate::territory::regional_reference();
    let notes = vec![
        ("Période du gaspillage".to_owned(), range_fr(&o.period)),
        (
            "Période de référence".to_owned(),
            o.baseline.as_ref().map_or_else(|| "aucune (pas de baisse calculée)".to_owned(), range_fr),
        ),
        ("Achats".to_owned(), format!("année civile {} (du 01/01/{0} au 31/12/{0}), hors taxes", o.purchase_year)),
        (
            "Participation".to_owned(),
            "jours d'école avec une saisie parmi les 30 derniers (lundi, mardi, jeudi, vendredi hors vacances) \
             jusqu'à la veille du calcul ; mois de l'année d'achats avec au moins une ligne."
                .to_owned(),
        ),
        ("Source du gaspillage".to_owned(), WASTE_SOURCE_FR.to_owned()),
        ("Source des achats".to_owned(), crate::signal::SOURCE_FR.to_owned()),
        (
            "Références".to_owned(),
            format!(
                "{} ({} g/repas pour les écoles, 95 g/repas en cuisine sur place) ; {} ({} g par assiette, comparé aux restes).",
                ademe.source, ademe.grams_per_meal, regal.source, regal.grams_per_meal
            ),
        ),
        (
            "Coût estimé".to_owned(),
            format!("{} {} — {}", o.factors.cost_per_kg.value, o.factors.cost_per_kg.unit, o.factors.cost_per_kg.source),
        ),
        (
            "Émissions estimées".to_owned(),
            format!("{} {} — {}", o.factors.co2e_per_kg.value, o.factors.co2e_per_kg.unit, o.factors.co2e_per_kg.source),
        ),
        ("Cellules vides".to_owned(), EMPTY_CELL_NOTE.to_owned()),
    ];
    let mut rows: Vec<Vec<Cell>> = sites.into_iter().map(site_cells).collect();
    rows.extend(communes.iter().map(group_cells));
    rows.push(group_cells(&territory));
    Table {
        sheet: "Vue du territoire".to_owned(),
        title: format!("Vue du territoire — gaspillage {}, achats {}", range_fr(&o.period), o.purchase_year),
        notes,
        headers: OVERVIEW_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

pub fn overview_csv(o: &Overview) -> String {
    table_csv(&overview_table(o))
}

pub fn overview_xlsx(o: &Overview) -> Result<Vec<u8>, String> {
    tables_xlsx(&[overview_table(o)])
}

/// The signal to suppliers as one table: a line per family (national order), then the
/// territory's. `scope` names the territory (« Le Havre Seine Métropole »).
pub fn signal_table(s: &SupplierSignal, scope: &str) -> Table {
    use crate::egalim::{DetailLabel, MEAT_FISH_FROM_YEAR, MEAT_FISH_PERCENT};
    let th = s.region_group.thresholds();
    let mut headers: Vec<String> =
        vec!["Famille de produits".into(), "Code famille".into(), "Achats (€ HT)".into(), "Part des achats (%)".into()];
    headers.extend(DetailLabel::ALL.iter().map(|l| format!("{} (€ HT)", l.label_fr())));
    headers.extend(
        [
            "EGalim, bio compris (€ HT)",
            "Part EGalim (%)",
            "Part bio (%)",
            "Origine France (€ HT)",
            "Part origine France (%)",
            "Circuit court (€ HT)",
            "Part circuit court (%)",
            "Local (€ HT)",
            "Part local (%)",
        ]
        .map(String::from),
    );
    headers.push(format!("À basculer vers le bio pour {} % (€ HT)", th.bio_percent));
    headers.push(format!("À basculer vers EGalim pour {} % (€ HT)", th.egalim_percent));
    headers.push(format!("À basculer pour les {MEAT_FISH_PERCENT} % EGalim des viandes ou des poissons (€ HT)"));
    headers.push("À basculer vers EGalim pour tous les objectifs (€ HT)".into());

    let line = |r: &SignalRow| -> Vec<Cell> {
        let mut row = vec![
            Cell::text(r.family.map_or("Total du territoire", Family::label_fr)),
            Cell::text(r.family.map_or("", Family::code)),
            Cell::euros(Some(r.total_cents)),
            Cell::percent(r.spend_percent),
        ];
        row.extend(r.labels_cents.iter().map(|c| Cell::euros(Some(*c))));
        row.extend([
            Cell::euros(Some(r.egalim_cents)),
            Cell::percent(r.egalim_percent),
            Cell::percent(r.bio_percent),
            Cell::euros(Some(r.france_cents)),
            Cell::percent(r.france_percent),
            Cell::euros(Some(r.circuit_court_cents)),
            Cell::percent(r.circuit_court_percent),
            Cell::euros(Some(r.local_cents)),
            Cell::percent(r.local_percent),
            Cell::euros(r.to_bio_cents),
            Cell::euros(r.to_egalim_cents),
            Cell::euros(r.to_family_target_cents),
            Cell::euros(r.to_move_cents),
        ]);
        row
    };
    let mut notes = vec![
        ("Territoire".to_owned(), scope.to_owned()),
        ("Période".to_owned(), format!("année civile {} (du 01/01/{0} au 31/12/{0})", s.year)),
        ("Lignes d'achat".to_owned(), s.purchase_count.to_string()),
        (
            "Objectifs".to_owned(),
            format!(
                "{} : bio {} %, EGalim (bio compris) {} % des achats ; à partir de {MEAT_FISH_FROM_YEAR}, {MEAT_FISH_PERCENT} % EGalim \
                 pour les viandes et volailles et pour les poissons.",
                s.region_group.label(),
                th.bio_percent,
                th.egalim_percent
            ),
        ),
        ("Source".to_owned(), crate::signal::SOURCE_FR.to_owned()),
        ("Méthode".to_owned(), crate::signal::METHOD_FR.to_owned()),
    ];
    for g in &s.gauges {
        notes.push((g.label_fr.to_owned(), crate::number::plain_spaces(&g.summary_fr())));
    }
    notes.push(("Cellules vides".to_owned(), EMPTY_CELL_NOTE.to_owned()));
    let mut rows: Vec<Vec<Cell>> = s.families.iter().map(line).collect();
    rows.push(line(&s.territory));
    Table {
        sheet: "Signal fournisseurs".to_owned(),
        title: format!("Signal collectif aux fournisseurs — {scope}, achats {}", s.year),
        notes,
        headers,
        rows,
    }
}

pub fn signal_csv(s: &SupplierSignal, scope: &str) -> String {
    table_csv(&signal_table(s, scope))
}

pub fn signal_xlsx(s: &SupplierSignal, scope: &str) -> Result<Vec<u8>, String> {
    tables_xlsx(&[signal_table(s, scope)])
}

/// The monthly trend lines as one long table: a line per (territory or commune, month), so a
/// spreadsheet can filter or pivot it. A month without a weighed day has empty figures.
pub fn trend_table(lines: &[TrendLine]) -> Table {
    let headers = [
        "Courbe",
        "Code INSEE",
        "Année",
        "Mois",
        "Du",
        "Au",
        "Jours pesés",
        "Repas des jours pesés",
        "Gaspillage (kg)",
        "Gaspillage (g/repas)",
        "Préparation (g/repas)",
        "Non servi (g/repas)",
        "Restes assiettes (g/repas)",
    ];
    let mut rows = Vec::new();
    for line in lines {
        let name = if line.commune_insee.is_empty() { "Territoire" } else { line.commune_name.as_str() };
        for p in &line.points {
            let mut row = vec![
                Cell::text(name),
                Cell::text(&line.commune_insee),
                Cell::Int(i64::from(p.year)),
                Cell::Int(i64::from(p.month)),
                Cell::Date(p.waste.range.start),
                Cell::Date(p.waste.range.end),
            ];
            row.extend(waste_cells(&p.waste));
            rows.push(row);
        }
    }
    let first = lines.iter().flat_map(|l| l.points.first()).map(|p| p.waste.range.start).min();
    let last = lines.iter().flat_map(|l| l.points.last()).map(|p| p.waste.range.end).max();
    let period = first.zip(last).map(|(s, e)| range_fr(&DateRange::new(s, e)));
    Table {
        sheet: "Tendance mensuelle".to_owned(),
        title: format!("Gaspillage par mois{}", period.as_ref().map_or(String::new(), |p| format!(" — {p}"))),
        notes: vec![
            ("Période".to_owned(), period.unwrap_or_else(|| "aucune".to_owned())),
            ("Source".to_owned(), WASTE_SOURCE_FR.to_owned()),
            (
                "Calcul".to_owned(),
                "g/repas = grammes des jours pesés ÷ repas de ces jours, sommés sur les sites (jamais une moyenne de moyennes)."
                    .to_owned(),
            ),
            ("Cellules vides".to_owned(), EMPTY_CELL_NOTE.to_owned()),
        ],
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

pub fn trend_csv(lines: &[TrendLine]) -> String {
    table_csv(&trend_table(lines))
}

pub fn trend_xlsx(lines: &[TrendLine]) -> Result<Vec<u8>, String> {
    tables_xlsx(&[trend_table(lines)])
}

/// ma cantine's statistics fields (`canteenStatistics`) as a table of (field, label, value,
/// unit), one field a line, so that each can be set beside the platform's figure.
pub fn statistics_table(s: &CanteenStatistics, scope: &str) -> Table {
    let count = |field: String, label: String, n: u32| vec![Cell::Text(field), Cell::Text(label), Cell::Int(i64::from(n)), Cell::text("nombre")];
    let percent = |field: &str, label: &str, v: Option<i64>| {
        vec![Cell::text(field), Cell::text(label), Cell::percent(v), Cell::text("%")]
    };
    let mut rows = vec![
        count("canteen_count".into(), "Cantines (sites)".into(), s.canteen_count),
        count(
            "declarations_count".into(),
            "Sites avec des achats dans l'année (la plateforme compte les télédéclarations)".into(),
            s.declarations_count,
        ),
    ];
    for m in crate::site::ManagementType::ALL {
        let n = s.management_types.get(m.code()).copied().unwrap_or(0);
        rows.push(count(format!("management_types.{}", m.code()), format!("Mode de gestion : {}", m.label()), n));
    }
    for p in crate::site::ProductionType::ALL {
        let n = s.production_types.get(p.code()).copied().unwrap_or(0);
        rows.push(count(format!("production_types.{}", p.code()), format!("Type de production : {}", p.label()), n));
    }
    rows.extend([
        percent("bio_percent", "Part bio des achats", s.bio_percent),
        percent("sustainable_percent", "Part EGalim hors bio des achats", s.sustainable_percent),
        percent("egalim_percent", "Part EGalim (bio compris) des achats", s.egalim_percent),
        percent("meat_egalim_percent", "Part EGalim des viandes et volailles", s.meat_egalim_percent),
        percent("meat_france_percent", "Part origine France des viandes et volailles", s.meat_france_percent),
        percent("fish_egalim_percent", "Part EGalim des poissons et produits de la mer", s.fish_egalim_percent),
        percent("fish_france_percent", "Part origine France des poissons et produits de la mer", s.fish_france_percent),
        percent(
            "appro_percent",
            "Part des sites avec achats atteignant les objectifs bio et EGalim",
            s.appro_percent,
        ),
    ]);
    Table {
        sheet: "Statistiques ma cantine".to_owned(),
        title: format!("Statistiques au format de ma cantine — {scope}, {}", s.year),
        notes: vec![
            ("Territoire".to_owned(), scope.to_owned()),
            ("Période".to_owned(), format!("année civile {} (du 01/01/{0} au 31/12/{0})", s.year)),
            (
                "Source".to_owned(),
                "Sites et achats du territoire dans Assiette (données saisies au fil de l'année, non télédéclarées) ; \
                 parts calculées sur les euros sommés, arrondies à deux décimales comme la plateforme."
                    .to_owned(),
            ),
            (
                "Comparaison".to_owned(),
                format!(
                    "ma cantine publie ces champs pour un EPCI : GET /api/v1/canteenStatistics/?year={}&epci=<SIREN> \
                     (télédéclarations seulement, parts masquées jusqu'au rapport au Parlement).",
                    s.year
                ),
            ),
            ("Cellules vides".to_owned(), EMPTY_CELL_NOTE.to_owned()),
        ],
        headers: ["Champ ma cantine", "Libellé", "Valeur", "Unité"].iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

pub fn statistics_csv(s: &CanteenStatistics, scope: &str) -> String {
    table_csv(&statistics_table(s, scope))
}

pub fn statistics_xlsx(s: &CanteenStatistics, scope: &str) -> Result<Vec<u8>, String> {
    tables_xlsx(&[statistics_table(s, scope)])
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
    fn cells_as_csv_text() {
        assert_eq!(Cell::euros(Some(-5)).csv_text(), "-0.05");
        assert_eq!(Cell::euros(Some(123_456)).csv_text(), "1234.56");
        assert_eq!(Cell::percent(Some(2000)).csv_text(), "20.00");
        assert_eq!(Cell::kg(Some(1_005)).csv_text(), "1.005");
        assert_eq!(Cell::Fixed { units: 42, decimals: 0 }.csv_text(), "42");
        assert_eq!(Cell::ratio_percent(Some(1.0 / 6.0)).csv_text(), "16.7");
        assert_eq!(Cell::float(Some(f64::NAN), 1), Cell::Empty);
        assert_eq!(Cell::euros(None).csv_text(), "");
        assert_eq!(Cell::Date(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).csv_text(), "2026-01-05");
    }

    #[test]
    fn a_table_without_rows_is_its_title_notes_and_header() {
        let t = Table {
            sheet: "Vide".into(),
            title: "Titre".into(),
            notes: vec![("Période".into(), "du 01/01/2026 au 31/12/2026".into())],
            headers: vec!["A (€ HT)".into(), "B".into()],
            rows: vec![],
        };
        assert_eq!(table_csv(&t), "Titre\nPériode,du 01/01/2026 au 31/12/2026\nA (€ HT),B\n");
        assert!(tables_xlsx(&[t]).unwrap().starts_with(b"PK\x03\x04"));
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
