//! The yearly declaration helper: for one site and one calendar year, the values ma cantine's
//! declaration asks (each with the text to paste), the waste measurement of a chosen period in
//! the platform's `WasteMeasurement` shape, and the checks the platform applies, as French
//! warnings. Every amount comes from the dashboard's aggregates, so from `YearTotals`.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use crate::dashboard::{Filter, PurchaseCube, SiteInfo};
use crate::egalim::{indicators, CostFlag, DetailLabel, Indicators, YearTotals};
use crate::meals::DailyMealCount;
use crate::number::{format_euros as format_euros_fr, group_thousands, MONTHS_FR};
use crate::purchase::{format_euros, Family};
use crate::waste::{waste_measurement, DateRange, WasteMeasurement, Weighing};

/// The six values of the simple declaration, required from the 2025 data on.
pub const SIMPLE_DECLARATION: [&str; 6] = [
    "valeur_totale",
    "valeur_bio",
    "valeur_siqo",
    "valeur_egalim_autres",
    "valeur_viandes_volailles",
    "valeur_viandes_volailles_egalim",
];

/// One value of the declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclarationValue {
    /// The platform's field name (`valeur_bio`, `valeur_fruits_et_legumes_label_rouge`).
    pub name: String,
    pub label_fr: String,
    pub cents: i64,
    /// What to paste into the platform's field: euros with a point and two decimals ("1234.56").
    pub copy_text: String,
    /// As shown to the user ("1 234,56 €").
    pub display: String,
}

impl DeclarationValue {
    fn new(name: impl Into<String>, label_fr: impl Into<String>, cents: i64) -> Self {
        DeclarationValue {
            name: name.into(),
            label_fr: label_fr.into(),
            cents,
            copy_text: format_euros(cents),
            display: format_euros_fr(cents),
        }
    }
}

/// What the declaration of one site and year needs from the purchases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    pub siret: String,
    pub year: i32,
    /// The six values of the simple declaration, in [`SIMPLE_DECLARATION`] order.
    pub simple: Vec<DeclarationValue>,
    /// Every other yearly value: the rest of the 13 simple fields, then the detailed
    /// family × label table as `YearTotals::detailed_fields` lists it for that year.
    pub detailed: Vec<DeclarationValue>,
    pub indicators: Indicators,
    /// The platform's checks and what is missing, in French; empty when nothing stands out.
    pub warnings: Vec<String>,
    pub totals: YearTotals,
}

impl Declaration {
    /// The totals as JSON with the platform's names (`export::totals_json`).
    pub fn totals_json(&self) -> String {
        crate::export::totals_json(std::slice::from_ref(&self.totals))
    }
}

/// French name of one of the 13 simple fields.
pub fn simple_field_label(name: &str) -> &'static str {
    match name {
        "valeur_totale" => "Valeur totale des achats alimentaires",
        "valeur_bio" => "Produits bio ou en conversion",
        "valeur_bio_dont_commerce_equitable" => "dont bio et commerce équitable",
        "valeur_siqo" => "Produits sous signe de qualité (Label rouge, AOC/AOP, IGP, STG)",
        "valeur_egalim_autres" => "Autres produits EGalim (HVE, pêche durable, RUP, commerce équitable, fermier)",
        "valeur_egalim_autres_dont_commerce_equitable" => "dont commerce équitable",
        "valeur_externalites_performance" => "Externalités environnementales ou performance environnementale",
        "valeur_viandes_volailles" => "Viandes et volailles fraîches et surgelées",
        "valeur_viandes_volailles_egalim" => "dont viandes et volailles EGalim",
        "valeur_viandes_volailles_france" => "dont viandes et volailles d'origine France",
        "valeur_produits_de_la_mer" => "Poissons, produits de la mer et de l'aquaculture",
        "valeur_produits_de_la_mer_egalim" => "dont poissons et produits de la mer EGalim",
        "valeur_produits_de_la_mer_france" => "dont poissons et produits de la mer d'origine France",
        _ => "",
    }
}

/// French name of a detailed field `valeur_<famille>_<colonne>`.
fn detailed_field_label(name: &str) -> String {
    for f in Family::ALL {
        let Some(column) = name.strip_prefix("valeur_").and_then(|n| n.strip_prefix(f.key())).and_then(|n| n.strip_prefix('_'))
        else {
            continue;
        };
        let column_fr = match column {
            "bio_dont_commerce_equitable" => "bio et commerce équitable",
            "france" => "origine France",
            "europe" => "origine Europe",
            "circuit_court" => "circuit court",
            "local" => "local",
            other => match DetailLabel::ALL.iter().find(|l| l.key() == other) {
                Some(l) => l.label_fr(),
                None => continue,
            },
        };
        return format!("{} — {column_fr}", f.label_fr());
    }
    String::new()
}

/// The declaration values and checks of one site for one year. `today` decides whether the
/// year is over and which months should already have purchases.
pub fn declaration(cube: &PurchaseCube, site: &SiteInfo, year: i32, today: NaiveDate) -> Declaration {
    let filter = Filter { sirets: vec![site.siret.clone()], ..Filter::year(year) };
    let mut totals = cube.year_totals(&filter, year);
    totals.siret = site.siret.clone();
    let meals = (site.yearly_meal_count > 0).then_some(u64::from(site.yearly_meal_count));
    let ind = indicators(&totals, site.region_group, meals);
    let simple_all = totals.simple_fields();
    let simple = SIMPLE_DECLARATION
        .iter()
        .map(|name| {
            let cents = simple_all.iter().find(|(n, _)| n == name).expect("a simple field").1;
            DeclarationValue::new(*name, simple_field_label(name), cents)
        })
        .collect();
    let detailed = simple_all
        .iter()
        .filter(|(n, _)| !SIMPLE_DECLARATION.contains(n))
        .map(|(n, c)| DeclarationValue::new(*n, simple_field_label(n), *c))
        .chain(totals.detailed_fields().into_iter().map(|(n, c)| {
            let label = detailed_field_label(&n);
            DeclarationValue::new(n, label, c)
        }))
        .collect();
    let warnings = checks(cube, &filter, site, &totals, &ind, today);
    Declaration { siret: site.siret.clone(), year, simple, detailed, indicators: ind, warnings, totals }
}

fn checks(
    cube: &PurchaseCube,
    filter: &Filter,
    site: &SiteInfo,
    totals: &YearTotals,
    ind: &Indicators,
    today: NaiveDate,
) -> Vec<String> {
    let year = totals.year;
    let mut out = Vec::new();
    if totals.purchase_count == 0 {
        out.push(format!(
            "Aucun achat pour {} en {year} : saisissez ou importez les achats de l'année avant de déclarer.",
            site.name
        ));
        return out;
    }
    if year >= today.year() {
        out.push(format!(
            "L'année {year} n'est pas terminée : les valeurs ne comptent que les achats saisis jusqu'ici. La déclaration se fait de janvier à avril {}.",
            year + 1
        ));
    }
    // Months that should have purchases: all of a past year, up to the current month otherwise.
    let last_month = if year < today.year() { 12 } else { today.month() as usize };
    let months = cube.month_totals(filter, year);
    let empty: Vec<&str> = (0..last_month).filter(|&m| months[m].purchase_count == 0).map(|m| MONTHS_FR[m]).collect();
    if !empty.is_empty() {
        out.push(format!(
            "Aucun achat en {} {year} : vérifiez qu'il ne manque pas de factures (vacances ou fermeture, sinon importez-les).",
            join_fr(&empty)
        ));
    }
    match (ind.cost_per_meal_cents, ind.cost_flag) {
        (None, _) => out.push(format!(
            "Le nombre de repas par an de {} n'est pas renseigné : le coût des denrées par repas ne peut pas être vérifié. Renseignez-le dans la fiche du site.",
            site.name
        )),
        (Some(cost), Some(flag)) => {
            let (what, limit) = match flag {
                CostFlag::AboveTwentyEuros => ("au-dessus de", "20,00 €"),
                CostFlag::BelowTenCents => ("en dessous de", "0,10 €"),
            };
            out.push(format!(
                "Coût des denrées par repas de {} ({} d'achats pour {} repas par an) : la plateforme considère un coût {what} {limit} comme une valeur aberrante. Vérifiez le nombre de repas par an du site et les achats de l'année.",
                format_euros_fr(cost),
                format_euros_fr(totals.valeur_totale),
                group_thousands(u64::from(site.yearly_meal_count)),
            ));
        }
        (Some(_), None) => {}
    }
    out
}

/// "a", "a et b", "a, b et c".
fn join_fr(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} et {last}", rest.join(", ")),
    }
}

/// The waste measurement of one site over a chosen period, from the tablet's weighings and meal
/// counts, with the warnings to read before declaring it; or the errors that prevent it. As on
/// the platform, the period must end after it starts and not after `today`.
pub fn declaration_waste(
    site_id: Uuid,
    range: DateRange,
    meals: &[DailyMealCount],
    weighings: &[Weighing],
    today: NaiveDate,
) -> Result<(WasteMeasurement, Vec<String>), Vec<String>> {
    use crate::number::format_fr_date;
    let mut period_errors = Vec::new();
    if range.end < range.start {
        period_errors.push(format!(
            "La fin de la période ({}) est avant son début ({}) : corrigez les dates.",
            format_fr_date(range.end),
            format_fr_date(range.start)
        ));
    }
    if range.end > today {
        period_errors.push(format!(
            "La période finit le {}, dans le futur : ma cantine n'accepte qu'une mesure terminée, choisissez une fin au plus tard le {}.",
            format_fr_date(range.end),
            format_fr_date(today)
        ));
    }
    if !period_errors.is_empty() {
        return Err(period_errors);
    }
    let check = crate::waste::check_period_data(site_id, range, meals, weighings);
    let warnings = check.warnings.iter().map(|w| w.message.clone()).collect();
    match waste_measurement(site_id, range, meals, weighings) {
        Ok(m) => Ok((m, warnings)),
        Err(v) => Err(v.errors.into_iter().map(|e| e.message).collect()),
    }
}

/// One field of the waste measurement as the helper shows it, with the text to paste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeasurementValue {
    /// The platform's field name (`total_mass`, `leftovers_edible_mass`).
    pub name: &'static str,
    pub label_fr: String,
    /// As shown: « 12,5 kg », « 02/03/2026 », « oui », or « non mesuré ».
    pub display: String,
    /// What to paste: a point for decimals (« 12.5 »), the date as dd/mm/yyyy; empty when the
    /// field stays empty on the platform.
    pub copy_text: String,
}

/// The fields of a waste measurement in the platform's order: period, meals, total, then each
/// stage's total, whether it was sorted, edible and inedible masses.
pub fn measurement_values(m: &WasteMeasurement) -> Vec<MeasurementValue> {
    use crate::number::{format_fr_date, format_kg};
    use crate::waste::Stage;
    let grams = |kg: f64| (kg * 1000.0).round().max(0.0) as u64;
    let mass = |name: &'static str, label: String, kg: Option<f64>| match kg {
        Some(kg) => MeasurementValue { name, label_fr: label, display: format_kg(grams(kg)), copy_text: format!("{}", grams(kg) as f64 / 1000.0) },
        None => MeasurementValue { name, label_fr: label, display: "non mesuré".to_owned(), copy_text: String::new() },
    };
    let yes_no = |name: &'static str, label: String, b: Option<bool>| MeasurementValue {
        name,
        label_fr: label,
        display: match b {
            Some(true) => "oui",
            Some(false) => "non",
            None => "non mesuré",
        }
        .to_owned(),
        copy_text: String::new(),
    };
    let date = |name: &'static str, label: &str, d: NaiveDate| MeasurementValue {
        name,
        label_fr: label.to_owned(),
        display: format_fr_date(d),
        copy_text: format_fr_date(d),
    };
    let mut out = vec![
        date("period_start_date", "Début de la période mesurée", m.period_start_date),
        date("period_end_date", "Fin de la période mesurée", m.period_end_date),
        MeasurementValue {
            name: "meal_count",
            label_fr: "Nombre de couverts sur la période".to_owned(),
            display: group_thousands(m.meal_count),
            copy_text: m.meal_count.to_string(),
        },
        mass("total_mass", "Masse totale gaspillée".to_owned(), Some(m.total_mass)),
    ];
    let stages = [
        (Stage::Preparation, ["preparation_total_mass", "preparation_is_sorted", "preparation_edible_mass", "preparation_inedible_mass"],
            (m.preparation_total_mass, m.preparation_is_sorted, m.preparation_edible_mass, m.preparation_inedible_mass)),
        (Stage::Unserved, ["unserved_total_mass", "unserved_is_sorted", "unserved_edible_mass", "unserved_inedible_mass"],
            (m.unserved_total_mass, m.unserved_is_sorted, m.unserved_edible_mass, m.unserved_inedible_mass)),
        (Stage::Leftovers, ["leftovers_total_mass", "leftovers_is_sorted", "leftovers_edible_mass", "leftovers_inedible_mass"],
            (m.leftovers_total_mass, m.leftovers_is_sorted, m.leftovers_edible_mass, m.leftovers_inedible_mass)),
    ];
    for (stage, [total, sorted, edible, inedible], (t, s, e, i)) in stages {
        let l = stage.label();
        out.push(mass(total, format!("{l} : masse totale"), t));
        out.push(yes_no(sorted, format!("{l} : trié comestible / non comestible"), s));
        out.push(mass(edible, format!("{l} : part comestible"), e));
        out.push(mass(inedible, format!("{l} : part non comestible"), i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::{Characteristic as C, Purchase};
    use crate::record::RecordMeta;
    use crate::site::RegionGroup;
    use chrono::{DateTime, Utc};

    const A: &str = "21010034300016";

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn buy(date: &str, family: Family, chars: &[C], cents: i64) -> Purchase {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        Purchase {
            meta: RecordMeta::new(Uuid::nil(), now),
            siret: A.into(),
            description: "x".into(),
            supplier: "F".into(),
            date: d(date),
            price_cents: cents,
            family,
            characteristics: chars.to_vec(),
            local_definition: None,
            local_km: None,
        }
    }

    fn site(meals: u32) -> SiteInfo {
        SiteInfo { siret: A.into(), name: "École Jules Ferry".into(), yearly_meal_count: meals, region_group: RegionGroup::Mainland }
    }

    /// One purchase a month of 2025 except August: 11 lines.
    fn year_2025() -> Vec<Purchase> {
        let mut ps: Vec<Purchase> = (1..=12)
            .filter(|m| *m != 8)
            .map(|m| buy(&format!("2025-{m:02}-15"), Family::Autres, &[], 10_000))
            .collect();
        ps[0] = buy("2025-01-15", Family::ViandesVolailles, &[C::LabelRouge, C::France], 123_456);
        ps[1] = buy("2025-02-15", Family::ViandesVolailles, &[C::France], 10_001);
        ps[2] = buy("2025-03-15", Family::FruitsEtLegumes, &[C::Bio, C::CommerceEquitable], 5_005);
        ps[3] = buy("2025-04-15", Family::ProduitsLaitiers, &[C::Hve, C::CommerceEquitable], 700);
        ps
    }

    #[test]
    fn measurement_values_in_the_platforms_order() {
        let m = WasteMeasurement {
            period_start_date: d("2026-03-02"),
            period_end_date: d("2026-03-06"),
            meal_count: 1_240,
            total_mass: 62.5,
            is_sorted_by_source: Some(false),
            preparation_total_mass: None,
            preparation_is_sorted: None,
            preparation_edible_mass: None,
            preparation_inedible_mass: None,
            unserved_total_mass: Some(20.25),
            unserved_is_sorted: Some(true),
            unserved_edible_mass: Some(18.0),
            unserved_inedible_mass: Some(2.25),
            leftovers_total_mass: Some(42.25),
            leftovers_is_sorted: Some(false),
            leftovers_edible_mass: None,
            leftovers_inedible_mass: None,
        };
        let v = measurement_values(&m);
        let names: Vec<&str> = v.iter().map(|x| x.name).collect();
        assert_eq!(names[..4], ["period_start_date", "period_end_date", "meal_count", "total_mass"]);
        assert_eq!(names.len(), 16);
        // Every field of the platform's object (but the source-sorting flag) is listed once.
        let json: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        for key in json.as_object().unwrap().keys().filter(|k| *k != "is_sorted_by_source") {
            assert_eq!(names.iter().filter(|n| *n == key).count(), 1, "{key}");
        }
        let get = |n: &str| v.iter().find(|x| x.name == n).unwrap();
        assert_eq!((get("period_start_date").display.as_str(), get("period_start_date").copy_text.as_str()), ("02/03/2026", "02/03/2026"));
        assert_eq!((get("meal_count").display.as_str(), get("meal_count").copy_text.as_str()), ("1\u{202F}240", "1240"));
        assert_eq!((get("total_mass").display.as_str(), get("total_mass").copy_text.as_str()), ("62,5\u{202F}kg", "62.5"));
        assert_eq!((get("unserved_inedible_mass").display.as_str(), get("unserved_inedible_mass").copy_text.as_str()), ("2,25\u{202F}kg", "2.25"));
        assert_eq!((get("preparation_total_mass").display.as_str(), get("preparation_total_mass").copy_text.as_str()), ("non mesuré", ""));
        assert_eq!(get("unserved_is_sorted").display, "oui");
        assert_eq!(get("leftovers_is_sorted").display, "non");
        assert_eq!(get("leftovers_total_mass").label_fr, "Restes assiettes : masse totale");
    }

    #[test]
    fn simple_values_with_their_copy_text() {
        let cube = PurchaseCube::from_purchases(&year_2025());
        let dec = declaration(&cube, &site(20_000), 2025, d("2026-02-01"));
        let v: Vec<(&str, i64, &str)> = dec.simple.iter().map(|v| (v.name.as_str(), v.cents, v.copy_text.as_str())).collect();
        // 1 234,56 + 100,01 + 50,05 + 7,00 + 7 × 100 €
        assert_eq!(
            v,
            vec![
                ("valeur_totale", 209_162, "2091.62"),
                ("valeur_bio", 5_005, "50.05"),
                ("valeur_siqo", 123_456, "1234.56"),
                ("valeur_egalim_autres", 700, "7.00"),
                ("valeur_viandes_volailles", 133_457, "1334.57"),
                ("valeur_viandes_volailles_egalim", 123_456, "1234.56"),
            ]
        );
        assert_eq!(dec.simple[0].display, "2\u{202F}091,62\u{202F}€");
        assert_eq!(dec.simple[0].label_fr, "Valeur totale des achats alimentaires");
        let get = |n: &str| dec.detailed.iter().find(|v| v.name == n).unwrap_or_else(|| panic!("{n}"));
        assert_eq!(get("valeur_bio_dont_commerce_equitable").cents, 5_005);
        assert_eq!(get("valeur_egalim_autres_dont_commerce_equitable").cents, 700);
        assert_eq!(get("valeur_viandes_volailles_france").cents, 133_457);
        assert_eq!(get("valeur_fruits_et_legumes_bio").copy_text, "50.05");
        assert_eq!(get("valeur_viandes_volailles_label_rouge").label_fr, "Viandes et volailles fraîches et surgelées — Label rouge");
        assert_eq!(get("valeur_autres_non_egalim").cents, 70_000);
        assert_eq!(get("valeur_produits_laitiers_circuit_court").label_fr, "BOF (Produits laitiers, beurre et œufs) — circuit court");
        // Every simple and detailed field once, each labelled, as the totals' JSON has them.
        let json: serde_json::Value = serde_json::from_str(&dec.totals_json()).unwrap();
        let obj = json["sites"][0].as_object().unwrap();
        assert_eq!(dec.simple.len() + dec.detailed.len(), obj.len() - 2);
        for v in dec.simple.iter().chain(&dec.detailed) {
            assert!(!v.label_fr.is_empty(), "{}", v.name);
            assert_eq!(obj[&v.name], v.copy_text.as_str(), "{}", v.name);
        }
    }

    #[test]
    fn checks_months_without_purchases_and_cost_per_meal() {
        let cube = PurchaseCube::from_purchases(&year_2025());
        // 2 091,62 € for 20 000 meals: 0,10 €, not flagged; only August is missing.
        let dec = declaration(&cube, &site(20_000), 2025, d("2026-02-01"));
        assert_eq!(dec.indicators.cost_per_meal_cents, Some(10));
        assert_eq!(dec.warnings.len(), 1, "{:?}", dec.warnings);
        assert!(dec.warnings[0].starts_with("Aucun achat en août 2025 :"), "{}", dec.warnings[0]);
        // 30 000 meals: 0,07 €, flagged.
        let dec = declaration(&cube, &site(30_000), 2025, d("2026-02-01"));
        assert!(dec.warnings[1].contains("0,07\u{202F}€") && dec.warnings[1].contains("en dessous de 0,10 €"), "{:?}", dec.warnings);
        assert!(dec.warnings[1].contains("30\u{202F}000 repas"), "{}", dec.warnings[1]);
        // 100 meals: 20,92 €, flagged above 20 €.
        let dec = declaration(&cube, &site(100), 2025, d("2026-02-01"));
        assert!(dec.warnings[1].contains("au-dessus de 20,00 €"), "{:?}", dec.warnings);
        // No meal count: said.
        let dec = declaration(&cube, &site(0), 2025, d("2026-02-01"));
        assert!(dec.warnings[1].contains("nombre de repas par an de École Jules Ferry n'est pas renseigné"), "{:?}", dec.warnings);
    }

    #[test]
    fn checks_a_year_not_over_and_a_year_without_purchases() {
        let mut ps = year_2025();
        ps.retain(|p| p.date.month() <= 3);
        ps.remove(1);
        let cube = PurchaseCube::from_purchases(&ps);
        // On 20 May 2025 the year is not over; February, April and May have no purchase yet.
        let dec = declaration(&cube, &site(20_000), 2025, d("2025-05-20"));
        assert!(dec.warnings[0].starts_with("L'année 2025 n'est pas terminée"), "{:?}", dec.warnings);
        assert!(dec.warnings[1].starts_with("Aucun achat en février, avril et mai 2025"), "{:?}", dec.warnings);
        let dec = declaration(&cube, &site(20_000), 2024, d("2025-05-20"));
        assert_eq!(dec.warnings, vec!["Aucun achat pour École Jules Ferry en 2024 : saisissez ou importez les achats de l'année avant de déclarer.".to_owned()]);
        assert!(dec.simple.iter().all(|v| v.cents == 0 && v.copy_text == "0.00"));
    }

    #[test]
    fn waste_measurement_of_a_chosen_period() {
        use crate::waste::{EdibleSplit, Stage};
        let site_id = Uuid::from_u128(7);
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-09T10:00:00Z").unwrap().with_timezone(&Utc);
        let count = |i: u128, day: &str, children: u32| DailyMealCount {
            meta: RecordMeta::new(Uuid::from_u128(100 + i), now),
            site_id,
            service_date: d(day),
            planned: 0,
            served_children: children,
            served_adults: 10,
        };
        let weigh = |i: u128, day: &str, stage: Stage, grams: u64, split: Option<(u64, u64)>| Weighing {
            meta: RecordMeta::new(Uuid::from_u128(200 + i), now),
            site_id,
            service_date: d(day),
            stage,
            component: None,
            mass_grams: grams,
            sorted: split.map(|(e, i)| EdibleSplit { edible_grams: e, inedible_grams: i }),
            destination: None,
        };
        let meals = vec![count(1, "2026-03-02", 190), count(2, "2026-03-03", 140), count(3, "2026-03-04", 90)];
        let weighings = vec![
            weigh(1, "2026-03-02", Stage::Leftovers, 12_345, None),
            weigh(2, "2026-03-03", Stage::Leftovers, 8_000, None),
            weigh(3, "2026-03-03", Stage::Preparation, 1_000, Some((800, 200))),
            // Outside the period: left out.
            weigh(4, "2026-03-04", Stage::Leftovers, 50_000, None),
        ];
        let (m, warnings) =
            declaration_waste(site_id, DateRange::new(d("2026-03-02"), d("2026-03-03")), &meals, &weighings, d("2026-03-03")).unwrap();
        let j = serde_json::to_value(&m).unwrap();
        assert_eq!(j["period_start_date"], "2026-03-02");
        assert_eq!(j["period_end_date"], "2026-03-03");
        assert_eq!(j["meal_count"], 350);
        assert_eq!(j["total_mass"], 21.35);
        assert_eq!(j["leftovers_total_mass"], 20.35);
        assert_eq!(j["leftovers_is_sorted"], false);
        assert_eq!(j["leftovers_edible_mass"], serde_json::Value::Null);
        assert_eq!(j["preparation_is_sorted"], true);
        assert_eq!(j["preparation_edible_mass"], 0.8);
        assert_eq!(j["unserved_total_mass"], serde_json::Value::Null);
        // Two service days: fewer than the protocol's five; preparation weighed on one of them.
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("2 jour(s) de service pesé(s)"), "{}", warnings[0]);
        assert!(warnings[1].contains("excédents de préparation : 1 jour(s) sur 2"), "{}", warnings[1]);
        let errors = declaration_waste(site_id, DateRange::new(d("2026-03-05"), d("2026-03-06")), &meals, &weighings, d("2026-03-10")).unwrap_err();
        assert!(errors[0].starts_with("Aucune pesée avec son comptage de repas entre le 05/03/2026 et le 06/03/2026"), "{errors:?}");
        // A period backwards, or ending after today: refused before anything is counted.
        let errors = declaration_waste(site_id, DateRange::new(d("2026-03-03"), d("2026-03-02")), &meals, &weighings, d("2026-03-10")).unwrap_err();
        assert_eq!(errors, ["La fin de la période (02/03/2026) est avant son début (03/03/2026) : corrigez les dates."]);
        let errors = declaration_waste(site_id, DateRange::new(d("2026-03-02"), d("2026-03-04")), &meals, &weighings, d("2026-03-03")).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("finit le 04/03/2026, dans le futur") && errors[0].contains("au plus tard le 03/03/2026"), "{errors:?}");
    }
}
