//! Waste weighings, indicators and campaigns: hand-computed cases and properties.

use assiette_domain::meals::DailyMealCount;
use assiette_domain::record::RecordMeta;
use assiette_domain::site::{ManagementType, ProductionType, RegionGroup, Sector, Site};
use assiette_domain::waste::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn meta(id: u128) -> RecordMeta {
    RecordMeta::new(
        Uuid::from_u128(id),
        DateTime::<Utc>::from_timestamp(1_772_000_000, 0).unwrap(),
    )
}

const SITE: u128 = 7;
const OTHER_SITE: u128 = 8;

fn today() -> NaiveDate {
    d(2026, 3, 20)
}

fn count(
    id: u128,
    site: u128,
    date: NaiveDate,
    planned: u32,
    children: u32,
    adults: u32,
) -> DailyMealCount {
    DailyMealCount {
        meta: meta(id),
        site_id: Uuid::from_u128(site),
        service_date: date,
        planned,
        served_children: children,
        served_adults: adults,
    }
}

fn weighing(
    id: u128,
    date: NaiveDate,
    stage: Stage,
    component: Option<Component>,
    grams: u64,
) -> Weighing {
    Weighing {
        meta: meta(id),
        site_id: Uuid::from_u128(SITE),
        service_date: date,
        stage,
        component,
        mass_grams: grams,
        sorted: None,
        destination: None,
    }
}

fn sorted(mut w: Weighing, edible: u64, inedible: u64) -> Weighing {
    w.sorted = Some(EdibleSplit {
        edible_grams: edible,
        inedible_grams: inedible,
    });
    w
}

/// Mon 02/03/2026 – Fri 06/03/2026: 200 planned, 180 children + 10 adults a day.
fn week_counts() -> Vec<DailyMealCount> {
    (0..5)
        .map(|i| {
            count(
                100 + i as u128,
                SITE,
                d(2026, 3, 2) + Duration::days(i),
                200,
                180,
                10,
            )
        })
        .collect()
}

fn week_weighings() -> Vec<Weighing> {
    use Component::*;
    use Stage::*;
    let mut deleted = weighing(90, d(2026, 3, 2), Leftovers, None, 50_000);
    deleted.meta = deleted.meta.deleted(deleted.meta.modified_at);
    let mut donated = weighing(7, d(2026, 3, 4), Unserved, Some(Dessert), 2_000);
    donated.destination = Some(Destination::Donation);
    let mut composted = weighing(9, d(2026, 3, 6), Leftovers, Some(Dessert), 4_000);
    composted.destination = Some(Destination::CompostMethanisation);
    let mut other_site = weighing(10, d(2026, 3, 5), Leftovers, None, 3_000);
    other_site.site_id = Uuid::from_u128(OTHER_SITE);
    vec![
        weighing(1, d(2026, 3, 2), Leftovers, None, 10_000),
        sorted(
            weighing(2, d(2026, 3, 2), Unserved, Some(Accompagnement), 5_000),
            4_500,
            500,
        ),
        sorted(
            weighing(3, d(2026, 3, 2), Preparation, Some(Entree), 1_000),
            800,
            200,
        ),
        weighing(4, d(2026, 3, 3), Leftovers, Some(Accompagnement), 8_000),
        weighing(5, d(2026, 3, 4), Leftovers, Some(PlatProtidique), 6_000),
        donated,
        sorted(
            weighing(8, d(2026, 3, 5), Leftovers, Some(Pain), 1_000),
            1_000,
            0,
        ),
        composted,
        weighing(11, d(2026, 3, 9), Leftovers, None, 99_000), // outside the week
        deleted,
        other_site,
    ]
}

fn week() -> DateRange {
    DateRange::new(d(2026, 3, 2), d(2026, 3, 6))
}

fn campaign(id: u128, site: u128, start: NaiveDate, end: NaiveDate) -> Campaign {
    Campaign {
        meta: meta(id),
        site_id: Uuid::from_u128(site),
        start_date: start,
        end_date: end,
        name: String::new(),
    }
}

// ---------- weighing validation ----------

#[test]
fn ordinary_weighing_is_valid() {
    let v = weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 12_500).validate(today());
    assert!(v.is_ok() && v.warnings.is_empty(), "{v:?}");
}

#[test]
fn weighing_in_the_future_is_refused() {
    let v = weighing(1, d(2026, 3, 21), Stage::Leftovers, None, 12_500).validate(today());
    assert_eq!(v.errors.len(), 1);
    assert_eq!(v.errors[0].field, "service_date");
    assert!(
        v.errors[0].message.contains("21/03/2026") && v.errors[0].message.contains("20/03/2026")
    );
}

#[test]
fn zero_mass_and_missing_site_are_refused() {
    let mut w = weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 0);
    w.site_id = Uuid::nil();
    let v = w.validate(today());
    let fields: Vec<_> = v.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["site_id", "mass_grams"]);
    assert!(v.errors[1].message.contains("supérieure à 0"));
}

#[test]
fn over_100_kg_warns_and_over_10_t_is_refused() {
    let at = |g| weighing(1, d(2026, 3, 2), Stage::Leftovers, None, g).validate(today());
    assert!(at(100_000).warnings.is_empty(), "exactly 100 kg is fine");
    let v = at(100_001);
    assert!(v.is_ok());
    assert_eq!(v.warnings[0].code, "weighing_over_100_kg");
    assert_eq!(v.warnings[0].field, "mass_grams");
    let v = at(10_000_001);
    assert!(!v.is_ok());
    assert!(v.errors[0].message.contains("Vérifiez l'unité"));
    assert!(v.warnings.is_empty());
    assert!(at(10_000_000).is_ok());
}

#[test]
fn sorted_parts_must_add_up_to_the_total() {
    let w = sorted(
        weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 12_500),
        10_000,
        2_000,
    );
    let v = w.validate(today());
    assert_eq!(v.errors[0].field, "sorted");
    let plain = assiette_domain::number::plain_spaces(&v.errors[0].message);
    assert!(
        plain.contains("Comestible (10 kg) + non comestible (2 kg)") && plain.contains("(12,5 kg)"),
        "{plain}"
    );
    let w = sorted(
        weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 12_500),
        10_000,
        2_500,
    );
    assert!(w.validate(today()).is_ok());
    assert_eq!(w.edible_inedible(), (10_000, 2_500));
}

#[test]
fn leftovers_cannot_be_reserved_or_donated() {
    for (stage, dest, ok) in [
        (Stage::Leftovers, Destination::Reused, false),
        (Stage::Leftovers, Destination::Donation, false),
        (Stage::Leftovers, Destination::CompostMethanisation, true),
        (Stage::Leftovers, Destination::AnimalFeed, true),
        (Stage::Unserved, Destination::Donation, true),
        (Stage::Preparation, Destination::Reused, true),
    ] {
        let mut w = weighing(1, d(2026, 3, 2), stage, None, 2_000);
        w.destination = Some(dest);
        let v = w.validate(today());
        assert_eq!(v.is_ok(), ok, "{stage:?} {dest:?}");
        if !ok {
            assert_eq!(v.errors[0].field, "destination");
        }
    }
}

#[test]
fn unsorted_weighing_assumes_15_percent_inedible() {
    let w = weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 10_000);
    assert_eq!(w.edible_inedible(), (8_500, 1_500));
    // 15 % of 1 003 g = 150,45 → 150; of 1 010 g = 151,5 → 152 (half-up).
    assert_eq!(estimated_inedible_grams(1_003), 150);
    assert_eq!(estimated_inedible_grams(1_010), 152);
    assert_eq!(estimated_inedible_grams(0), 0);
}

#[test]
fn weighing_against_its_site() {
    let site = Site {
        meta: meta(SITE),
        name: "Satellite Jaurès".into(),
        siret: "21010034300016".into(),
        city_insee_code: "76351".into(),
        management_type: ManagementType::Conceded,
        production_type: ProductionType::SiteCookedElsewhere,
        sectors: vec![Sector::EducationPrimaire],
        daily_meal_count: 100,
        yearly_meal_count: 14_000,
        region_group: RegionGroup::Mainland,
        central_producer_siret: None,
    };
    let w = weighing(1, d(2026, 3, 2), Stage::Preparation, None, 1_000);
    let v = w.validate_for_site(&site);
    assert!(v.is_ok());
    assert_eq!(v.warnings[0].code, "preparation_at_satellite");
    assert!(weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 1_000)
        .validate_for_site(&site)
        .warnings
        .is_empty());
    let mut elsewhere = w.clone();
    elsewhere.site_id = Uuid::from_u128(OTHER_SITE);
    assert_eq!(
        elsewhere.validate_for_site(&site).errors[0].field,
        "site_id"
    );
}

#[test]
fn serde_codes() {
    assert_eq!(
        serde_json::to_value(Stage::Preparation).unwrap(),
        "preparation"
    );
    assert_eq!(serde_json::to_value(Stage::Unserved).unwrap(), "unserved");
    assert_eq!(serde_json::to_value(Stage::Leftovers).unwrap(), "leftovers");
    let comps: Vec<_> = Component::ALL
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    assert_eq!(
        comps,
        vec![
            json!("entree"),
            json!("plat_protidique"),
            json!("accompagnement"),
            json!("produit_laitier"),
            json!("dessert"),
            json!("pain")
        ]
    );
    let dests: Vec<_> = Destination::ALL
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    assert_eq!(
        dests,
        vec![
            json!("resservi"),
            json!("don"),
            json!("alimentation_animale"),
            json!("compost_methanisation")
        ]
    );
    let w = sorted(
        weighing(
            1,
            d(2026, 3, 2),
            Stage::Unserved,
            Some(Component::Pain),
            2_000,
        ),
        2_000,
        0,
    );
    let j = serde_json::to_value(&w).unwrap();
    assert_eq!(j["component"], "pain");
    assert_eq!(j["sorted"]["edible_grams"], 2_000);
    assert_eq!(serde_json::from_value::<Weighing>(j).unwrap(), w);
    // Optional fields may be absent in stored JSON.
    let mut j =
        serde_json::to_value(weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 5)).unwrap();
    let o = j.as_object_mut().unwrap();
    o.remove("component");
    o.remove("sorted");
    o.remove("destination");
    assert_eq!(serde_json::from_value::<Weighing>(j).unwrap().mass_grams, 5);
}

// ---------- indicators ----------

#[test]
fn week_indicators_hand_computed() {
    let i = WasteIndicators::compute(&week_counts(), &week_weighings(), week());
    assert_eq!(i.measured_days, 5);
    assert_eq!((i.meals_served, i.children_served), (950, 900));
    // 10 000 + 5 000 + 1 000 + 8 000 + 6 000 + 1 000 + 4 000; the 2 kg donated are recovered.
    assert_eq!(i.total_grams, 35_000);
    assert_eq!(i.recovered_grams, 2_000);
    assert!((i.grams_per_meal.unwrap() - 35_000.0 / 950.0).abs() < 1e-9);
    assert!((i.grams_per_child_meal.unwrap() - 35_000.0 / 900.0).abs() < 1e-9);
    // The other site's day has weighings but no count.
    assert_eq!(
        i.days_without_count,
        vec![SiteDay {
            site_id: Uuid::from_u128(OTHER_SITE),
            service_date: d(2026, 3, 5)
        }]
    );
    // Planned 1 000, served 950.
    assert!((i.forecast_gap.unwrap() - 0.05).abs() < 1e-12);
}

#[test]
fn stage_shares_use_largest_remainder() {
    let i = WasteIndicators::compute(&week_counts(), &week_weighings(), week());
    let rows: Vec<_> = i
        .by_stage
        .iter()
        .map(|s| (s.key, s.grams, s.per_mille))
        .collect();
    // 1/35 = 28,57 ‰, 5/35 = 142,86 ‰, 29/35 = 828,57 ‰: floors 998, +1 to unserved (.857),
    // +1 to preparation (tie .571 with leftovers, earlier row wins).
    assert_eq!(
        rows,
        vec![
            (Stage::Preparation, 1_000, 29),
            (Stage::Unserved, 5_000, 143),
            (Stage::Leftovers, 29_000, 828)
        ]
    );
    assert!((i.by_stage[2].grams_per_meal.unwrap() - 29_000.0 / 950.0).abs() < 1e-9);
    // A stage divides by the meals of the measured days it was weighed on: preparation on
    // 2/3 only (190 meals), unserved on 2/3 and 4/3 (the 4/3 surplus donated: 0 g, weighed).
    assert!((i.by_stage[0].grams_per_meal.unwrap() - 1_000.0 / 190.0).abs() < 1e-9);
    assert!((i.by_stage[1].grams_per_meal.unwrap() - 5_000.0 / 380.0).abs() < 1e-9);
}

#[test]
fn component_shares_include_the_unsorted_bucket() {
    let i = WasteIndicators::compute(&week_counts(), &week_weighings(), week());
    let rows: Vec<_> = i
        .by_component
        .iter()
        .map(|s| (s.key, s.grams, s.per_mille))
        .collect();
    use Component::*;
    assert_eq!(
        rows,
        vec![
            (Some(Entree), 1_000, 29),
            (Some(PlatProtidique), 6_000, 171),
            (Some(Accompagnement), 13_000, 371),
            (Some(ProduitLaitier), 0, 0),
            (Some(Dessert), 4_000, 114),
            (Some(Pain), 1_000, 29),
            (None, 10_000, 286),
        ]
    );
    assert_eq!(component_label(None), "Non trié par composante");
}

#[test]
fn edible_breakdown_flags_the_estimate() {
    let i = WasteIndicators::compute(&week_counts(), &week_weighings(), week());
    // Sorted: 4 500 + 800 + 1 000 edible, 500 + 200 inedible; unsorted 28 000 g at 15 %.
    assert_eq!(
        i.edible,
        EdibleBreakdown {
            edible_grams: 30_100,
            inedible_grams: 4_900,
            estimated_from_grams: 28_000,
            is_estimate: true
        }
    );
    assert!((i.edible_grams_per_meal.unwrap() - 30_100.0 / 950.0).abs() < 1e-9);
    let only_sorted: Vec<_> = week_weighings()
        .into_iter()
        .filter(|w| w.sorted.is_some())
        .collect();
    let j = WasteIndicators::compute(&week_counts(), &only_sorted, week());
    assert!(!j.edible.is_estimate);
    assert_eq!(j.edible.estimated_from_grams, 0);
}

#[test]
fn yearly_estimate_cost_and_co2e() {
    let i = WasteIndicators::compute(&week_counts(), &week_weighings(), week());
    // 35 000 g × 28 000 ÷ 950 = 1 031 578,9 g.
    assert_eq!(i.yearly_estimate_grams(28_000), Some(1_031_579));
    assert_eq!(yearly_estimate_grams(1_000, 0, 28_000), None);
    assert_eq!(yearly_estimate_grams(1, 2, 1), Some(1), "0,5 rounds up");
    let f = WasteFactors::default();
    assert_eq!(f.cost_per_kg.value, 2.4);
    assert_eq!(f.co2e_per_kg.value, 4.0);
    assert!(f.cost_per_kg.source.contains("ADEME 2016") && f.co2e_per_kg.source.contains("452 g"));
    assert!(f.validate().is_ok());
    // 35 kg × 2,4 €/kg = 84,00 €; 35 kg × 4 = 140 kg CO2e.
    assert_eq!(f.cost_cents(i.total_grams), 8_400);
    assert_eq!(f.co2e_grams(i.total_grams), 140_000);
    // 1,234 kg × 2,4 = 2,9616 € → 296 cents.
    assert_eq!(f.cost_cents(1_234), 296);
    let mut custom = f.clone();
    custom.cost_per_kg = Factor {
        value: 6.0,
        unit: "€/kg".into(),
        source: "Coût complet, étude métropole 2026".into(),
    };
    assert_eq!(custom.cost_cents(35_000), 21_000);
}

#[test]
fn factor_validation() {
    let bad = Factor {
        value: -1.0,
        unit: " ".into(),
        source: String::new(),
    };
    let v = bad.validate("cost_per_kg");
    assert_eq!(v.errors.len(), 3);
    assert!(
        Factor {
            value: f64::NAN,
            unit: "€/kg".into(),
            source: "x".into()
        }
        .validate("f")
        .errors
        .len()
            == 1
    );
    assert!(Factor {
        value: 5_000.0,
        unit: "€/kg".into(),
        source: "x".into()
    }
    .validate("f")
    .errors[0]
        .message
        .contains("unité"));
}

#[test]
fn reduction_against_baseline() {
    assert_eq!(reduction(100.0, 75.0), Some(0.25));
    assert_eq!(reduction(100.0, 120.0), Some(-0.19999999999999996));
    assert_eq!(reduction(0.0, 10.0), None);
    let current = WasteIndicators::compute(&week_counts(), &week_weighings(), week());
    // Baseline: 95 kg for 950 meals = 100 g/meal.
    let base_counts = week_counts()
        .into_iter()
        .map(|mut c| {
            c.service_date -= Duration::days(28);
            c
        })
        .collect::<Vec<_>>();
    let base_w: Vec<_> = (0..5)
        .map(|k| {
            weighing(
                50 + k as u128,
                d(2026, 2, 2) + Duration::days(k),
                Stage::Leftovers,
                None,
                19_000,
            )
        })
        .collect();
    let baseline = WasteIndicators::compute(
        &base_counts,
        &base_w,
        DateRange::new(d(2026, 2, 2), d(2026, 2, 6)),
    );
    assert_eq!(baseline.grams_per_meal, Some(100.0));
    let r = current.reduction_against(&baseline).unwrap();
    assert!((r - (1.0 - 35_000.0 / 950.0 / 100.0)).abs() < 1e-12);
    let empty = WasteIndicators::compute(&[], &[], week());
    assert_eq!(empty.reduction_against(&baseline), None);
    assert_eq!(empty.grams_per_meal, None);
    assert!(empty.by_stage.iter().all(|s| s.per_mille == 0));
}

#[test]
fn unweighed_and_uncounted_days_are_left_out() {
    let mut counts = week_counts();
    counts.push(count(200, SITE, d(2026, 3, 9), 200, 500, 0)); // counted, not weighed
    let w = vec![
        weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 19_000),
        weighing(2, d(2026, 3, 10), Stage::Leftovers, None, 5_000), // weighed, not counted
    ];
    let i = WasteIndicators::compute(&counts, &w, DateRange::new(d(2026, 3, 2), d(2026, 3, 10)));
    assert_eq!(
        (i.measured_days, i.meals_served, i.total_grams),
        (1, 190, 19_000)
    );
    assert_eq!(i.grams_per_meal, Some(100.0));
    assert_eq!(i.days_without_count.len(), 1);
    assert_eq!(i.days_without_count[0].service_date, d(2026, 3, 10));
}

#[test]
fn grams_per_meal_plausibility_per_day() {
    let counts = week_counts(); // 190 meals a day
    let w = vec![
        weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 76_000), // exactly 400 g/meal
        weighing(2, d(2026, 3, 3), Stage::Leftovers, None, 50_000),
        weighing(3, d(2026, 3, 3), Stage::Unserved, None, 26_001), // 76 001 g: 400,005 g/meal
        weighing(4, d(2026, 3, 12), Stage::Leftovers, None, 90_000), // no count: no ratio
    ];
    let warnings = grams_per_meal_warnings(&counts, &w);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].day.service_date, d(2026, 3, 3));
    assert_eq!(warnings[0].warning.code, "grams_per_meal_over_400");
    let plain = assiette_domain::number::plain_spaces(&warnings[0].warning.message);
    assert!(
        plain.starts_with("Le 03/03/2026 : 76,001 kg pour 190 repas, soit 400 g par repas"),
        "{plain}"
    );
    assert!(grams_per_meal_warning(401, 1, d(2026, 3, 2)).is_some());
    assert!(grams_per_meal_warning(400, 1, d(2026, 3, 2)).is_none());
    assert!(grams_per_meal_warning(400, 0, d(2026, 3, 2)).is_none());
}

#[test]
fn daily_series_for_the_trend_chart() {
    let pts = daily_series(&week_counts(), &week_weighings(), week());
    let rows: Vec<_> = pts
        .iter()
        .map(|p| (p.day.service_date, p.meals, p.grams))
        .collect();
    // 04/03: 6 kg wasted, the 2 kg donated are not waste; the other site has no count.
    assert_eq!(
        rows,
        vec![
            (d(2026, 3, 2), 190, 16_000),
            (d(2026, 3, 3), 190, 8_000),
            (d(2026, 3, 4), 190, 6_000),
            (d(2026, 3, 5), 190, 1_000),
            (d(2026, 3, 6), 190, 4_000),
        ]
    );
    assert!((pts[0].grams_per_meal - 16_000.0 / 190.0).abs() < 1e-9);
    let total: u64 = pts.iter().map(|p| p.grams).sum();
    assert_eq!(
        total,
        WasteIndicators::compute(&week_counts(), &week_weighings(), week()).total_grams
    );
}

#[test]
fn reference_values_carry_sources() {
    let r = reference_value("ademe_2024_schools").unwrap();
    assert_eq!((r.grams_per_meal, r.edible_only), (100, true));
    assert!(r.source.contains("ADEME 2024"));
    assert_eq!(
        reference_value("ademe_2020_conceded")
            .unwrap()
            .grams_per_meal,
        144
    );
    assert_eq!(
        reference_value("ademe_2018_college")
            .unwrap()
            .grams_per_meal,
        115
    );
    assert_eq!(
        reference_value("regal_2018_primaire")
            .unwrap()
            .grams_per_meal,
        54
    );
    assert!(reference_value("nope").is_none());
    assert!(REFERENCE_VALUES
        .iter()
        .all(|r| !r.source.is_empty() && !r.label.is_empty()));
    let mut keys: Vec<_> = REFERENCE_VALUES.iter().map(|r| r.key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), REFERENCE_VALUES.len(), "keys are unique");
    assert_eq!(
        REFERENCE_COMPONENT_PERCENT
            .iter()
            .map(|(_, p)| p)
            .sum::<u32>(),
        100
    );
    assert_eq!(
        REFERENCE_STAGE_PERCENT.iter().map(|(_, p)| p).sum::<u32>(),
        99
    );
}

// ---------- campaigns ----------

#[test]
fn campaign_dates_follow_the_national_rules() {
    let ok = campaign(1, SITE, d(2026, 3, 2), d(2026, 3, 6));
    assert!(ok.validate(today(), &[]).is_ok());
    let same_day = campaign(1, SITE, d(2026, 3, 2), d(2026, 3, 2));
    assert_eq!(same_day.validate(today(), &[]).errors[0].field, "end_date");
    let reversed = campaign(1, SITE, d(2026, 3, 6), d(2026, 3, 2));
    assert!(reversed.validate(today(), &[]).errors[0]
        .message
        .contains("après la date de début"));
    let future = campaign(1, SITE, d(2026, 3, 16), d(2026, 3, 21));
    let v = future.validate(today(), &[]);
    assert_eq!(v.errors.len(), 1);
    assert!(v.errors[0].message.contains("21/03/2026") && v.errors[0].message.contains("futur"));
    assert!(campaign(1, SITE, d(2026, 3, 16), today())
        .validate(today(), &[])
        .is_ok());
}

#[test]
fn overlapping_campaigns_are_refused_with_dates() {
    let existing = vec![campaign(1, SITE, d(2026, 3, 2), d(2026, 3, 6))];
    let touching = campaign(2, SITE, d(2026, 3, 6), d(2026, 3, 10));
    let msg = check_no_overlap(&touching, &existing).unwrap_err();
    assert_eq!(
        msg,
        "Cette campagne (06/03/2026 au 10/03/2026) chevauche la campagne du 02/03/2026 au 06/03/2026 de ce restaurant : modifiez les dates ou la campagne existante."
    );
    assert_eq!(touching.validate(today(), &existing).errors[0].message, msg);
    // Inside and around are refused too.
    assert!(check_no_overlap(&campaign(2, SITE, d(2026, 3, 3), d(2026, 3, 4)), &existing).is_err());
    assert!(
        check_no_overlap(&campaign(2, SITE, d(2026, 2, 1), d(2026, 3, 31)), &existing).is_err()
    );
    // Next day, other site, the campaign itself, a deleted one: accepted.
    assert!(check_no_overlap(&campaign(2, SITE, d(2026, 3, 7), d(2026, 3, 10)), &existing).is_ok());
    assert!(check_no_overlap(
        &campaign(2, OTHER_SITE, d(2026, 3, 2), d(2026, 3, 6)),
        &existing
    )
    .is_ok());
    assert!(check_no_overlap(&campaign(1, SITE, d(2026, 3, 3), d(2026, 3, 9)), &existing).is_ok());
    let mut gone = existing[0].clone();
    gone.meta = gone.meta.deleted(gone.meta.modified_at);
    assert!(check_no_overlap(&touching, &[gone]).is_ok());
    // The earliest clash is named.
    let two = vec![
        campaign(5, SITE, d(2026, 3, 9), d(2026, 3, 13)),
        existing[0].clone(),
    ];
    assert!(
        check_no_overlap(&campaign(2, SITE, d(2026, 3, 1), d(2026, 3, 31)), &two)
            .unwrap_err()
            .contains("du 02/03/2026 au 06/03/2026")
    );
}

#[test]
fn campaign_to_waste_measurement_hand_computed() {
    let c = campaign(1, SITE, d(2026, 3, 2), d(2026, 3, 6));
    let check = c.check_data(&week_counts(), &week_weighings());
    assert!(check.is_ok(), "{check:?}");
    // Preparation and unserved were weighed on some days only: the one meal count of the
    // national measurement would understate them, so the kitchen is told.
    let codes: Vec<_> = check.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, vec!["stage_not_weighed_every_day"], "{check:?}");
    assert!(check.warnings[0].message.contains("excédents de préparation : 1 jour(s) sur 5 ; présentés non servis : 2 jour(s) sur 5"), "{check:?}");
    let m = c
        .to_waste_measurement(&week_counts(), &week_weighings())
        .unwrap();
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(
        j,
        json!({
            "period_start_date": "2026-03-02",
            "period_end_date": "2026-03-06",
            "meal_count": 950,
            "total_mass": 35.0,
            "is_sorted_by_source": true,
            "preparation_total_mass": 1.0,
            "preparation_is_sorted": true,
            "preparation_edible_mass": 0.8,
            "preparation_inedible_mass": 0.2,
            "unserved_total_mass": 5.0,
            "unserved_is_sorted": true,
            "unserved_edible_mass": 4.5,
            "unserved_inedible_mass": 0.5,
            "leftovers_total_mass": 29.0,
            "leftovers_is_sorted": false,
            "leftovers_edible_mass": null,
            "leftovers_inedible_mass": null
        })
    );
    let text = m.to_json();
    assert!(text.contains("\"total_mass\": 35.0"));
    assert_eq!(serde_json::from_str::<WasteMeasurement>(&text).unwrap(), m);
    // The campaign's indicators agree with the measurement.
    let i = c.indicators(&week_counts(), &week_weighings());
    assert_eq!(
        (i.meals_served, i.total_grams, i.measured_days),
        (950, 35_000, 5)
    );
    assert!(
        i.days_without_count.is_empty(),
        "the other site is not the campaign's"
    );
}

#[test]
fn measurement_masses_round_to_10_g_and_missing_stages_are_null() {
    let c = campaign(1, SITE, d(2026, 3, 2), d(2026, 3, 6));
    let w = vec![
        weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 12_345),
        weighing(2, d(2026, 3, 3), Stage::Leftovers, None, 1_004),
    ];
    let m = c.to_waste_measurement(&week_counts(), &w).unwrap();
    assert_eq!(m.total_mass, 13.35); // 13 349 g
    assert_eq!(m.leftovers_total_mass, Some(13.35));
    assert_eq!(m.preparation_total_mass, None);
    assert_eq!(m.preparation_is_sorted, None);
    assert_eq!(m.unserved_total_mass, None);
    assert_eq!(m.meal_count, 380, "only the two weighed days count");
    // The kitchen's indicators agree: a stage never weighed has no g per meal, not 0 g.
    let i = c.indicators(&week_counts(), &w);
    let gpm: Vec<_> = i.by_stage.iter().map(|s| (s.key, s.grams_per_meal.is_some())).collect();
    assert_eq!(gpm, vec![(Stage::Preparation, false), (Stage::Unserved, false), (Stage::Leftovers, true)]);
    assert!(c.check_data(&week_counts(), &w).warnings.iter().all(|w| w.code != "stage_not_weighed_every_day"));
    assert_eq!(kg_2dp(12_345), 12.35);
    assert_eq!(kg_2dp(12_344), 12.34);
    assert_eq!(kg_2dp(4), 0.0);
}

#[test]
fn a_stage_whose_surplus_was_all_given_away_was_weighed_at_0_kg() {
    let c = campaign(1, SITE, d(2026, 3, 2), d(2026, 3, 6));
    let mut donated = weighing(2, d(2026, 3, 2), Stage::Unserved, None, 3_000);
    donated.destination = Some(Destination::Donation);
    let w = vec![weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 9_500), donated];
    let m = c.to_waste_measurement(&week_counts(), &w).unwrap();
    assert_eq!((m.unserved_total_mass, m.unserved_is_sorted), (Some(0.0), Some(true)));
    assert_eq!((m.unserved_edible_mass, m.unserved_inedible_mass), (Some(0.0), Some(0.0)));
    assert_eq!(m.preparation_total_mass, None, "never weighed");
    let i = c.indicators(&week_counts(), &w);
    assert_eq!(i.by_stage[1].grams_per_meal, Some(0.0));
    assert_eq!(i.by_stage[0].grams_per_meal, None);
    assert_eq!(i.by_stage[2].grams_per_meal, Some(50.0));
}

#[test]
fn campaign_data_warnings_and_errors() {
    let c = campaign(1, SITE, d(2026, 3, 2), d(2026, 3, 6));
    let err = c.to_waste_measurement(&week_counts(), &[]).unwrap_err();
    assert!(
        err.errors[0].message.contains("Aucune pesée")
            && err.errors[0].message.contains("02/03/2026")
    );
    let w = vec![
        weighing(1, d(2026, 3, 2), Stage::Leftovers, None, 10_000),
        weighing(2, d(2026, 3, 3), Stage::Leftovers, None, 10_000),
    ];
    let counts: Vec<_> = week_counts()
        .into_iter()
        .filter(|c| c.service_date != d(2026, 3, 3))
        .collect();
    let v = c.check_data(&counts, &w);
    assert!(v.is_ok());
    let codes: Vec<_> = v.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(
        codes,
        vec![
            "campaign_under_5_service_days",
            "weighing_days_without_count",
            "service_days_not_weighed"
        ]
    );
    assert!(v.warnings[0].message.starts_with("1 jour(s)"));
    assert!(v.warnings[1].message.contains("03/03/2026"));
    assert!(v.warnings[2]
        .message
        .contains("04/03/2026, 05/03/2026, 06/03/2026"));
    // Warnings do not prevent the export.
    assert_eq!(c.to_waste_measurement(&counts, &w).unwrap().meal_count, 190);
}

// ---------- properties ----------

fn arb_weighing() -> impl Strategy<Value = Weighing> {
    (
        0i64..10,
        0usize..3,
        proptest::option::of(0usize..6),
        1u64..200_000,
        any::<bool>(),
        0u64..=100,
        0usize..5,
    )
        .prop_map(|(day, stage, comp, grams, is_sorted, edible_pct, dest)| {
            let mut w = weighing(
                0,
                d(2026, 3, 2) + Duration::days(day),
                Stage::ALL[stage],
                comp.map(|c| Component::ALL[c]),
                grams,
            );
            if is_sorted {
                let edible = grams * edible_pct / 100;
                w.sorted = Some(EdibleSplit {
                    edible_grams: edible,
                    inedible_grams: grams - edible,
                });
            }
            w.destination = match dest {
                0 if w.stage != Stage::Leftovers => Some(Destination::Donation),
                1 => Some(Destination::CompostMethanisation),
                _ => None,
            };
            w
        })
}

/// The largest-remainder method as written with a stable sort: the reference.
fn shares_by_sorting(values: &[u64]) -> Vec<u32> {
    let total: u128 = values.iter().map(|v| u128::from(*v)).sum();
    if total == 0 {
        return vec![0; values.len()];
    }
    let mut shares: Vec<u32> = values.iter().map(|v| (u128::from(*v) * 1000 / total) as u32).collect();
    let given: u32 = shares.iter().sum();
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(u128::from(values[i]) * 1000 % total));
    for &i in order.iter().take((1000 - given) as usize) {
        shares[i] += 1;
    }
    shares
}

#[test]
fn shares_break_ties_towards_the_earlier_row() {
    assert_eq!(shares_per_mille(&[1, 1, 1]), vec![334, 333, 333]);
    assert_eq!(shares_per_mille(&[0, 1, 1, 1]), vec![0, 334, 333, 333]);
    assert_eq!(shares_per_mille(&[2, 1, 1, 2]), vec![333, 167, 167, 333]);
    assert_eq!(shares_per_mille(&[1, 2, 2, 1]), vec![167, 333, 333, 167]);
    assert_eq!(shares_per_mille(&[0, 0]), vec![0, 0]);
    assert_eq!(shares_per_mille(&[]), Vec::<u32>::new());
}

proptest! {
    #[test]
    fn shares_are_the_largest_remainder_method(values in proptest::collection::vec(0u64..1_000, 0..12)) {
        // Small values: many equal remainders, so the tie rule is exercised.
        prop_assert_eq!(shares_per_mille(&values), shares_by_sorting(&values));
    }

    #[test]
    fn shares_always_sum_to_1000(values in proptest::collection::vec(0u64..1_000_000_000, 1..10)) {
        let shares = shares_per_mille(&values);
        let total: u64 = values.iter().sum();
        if total == 0 {
            prop_assert!(shares.iter().all(|s| *s == 0));
        } else {
            prop_assert_eq!(shares.iter().sum::<u32>(), 1000);
            for (v, s) in values.iter().zip(&shares) {
                let exact = *v as f64 * 1000.0 / total as f64;
                prop_assert!((f64::from(*s) - exact).abs() < 1.0, "{} vs {}", s, exact);
            }
        }
    }

    #[test]
    fn indicator_tables_add_up(ws in proptest::collection::vec(arb_weighing(), 0..40)) {
        let counts: Vec<_> = (0..10).map(|i| count(100 + i as u128, SITE, d(2026, 3, 2) + Duration::days(i), 100, 90, 5)).collect();
        let i = WasteIndicators::compute(&counts, &ws, DateRange::new(d(2026, 3, 2), d(2026, 3, 11)));
        prop_assert_eq!(i.by_stage.iter().map(|s| s.grams).sum::<u64>(), i.total_grams);
        prop_assert_eq!(i.by_component.iter().map(|s| s.grams).sum::<u64>(), i.total_grams);
        prop_assert_eq!(i.edible.edible_grams + i.edible.inedible_grams, i.total_grams);
        prop_assert_eq!(i.total_grams + i.recovered_grams, ws.iter().map(|w| w.mass_grams).sum::<u64>());
        if i.total_grams > 0 {
            prop_assert_eq!(i.by_stage.iter().map(|s| s.per_mille).sum::<u32>(), 1000);
            prop_assert_eq!(i.by_component.iter().map(|s| s.per_mille).sum::<u32>(), 1000);
        }
        prop_assert_eq!(i.edible.is_estimate, ws.iter().any(|w| w.counts_as_waste() && w.sorted.is_none()));
    }

    #[test]
    fn edible_plus_inedible_is_the_mass(w in arb_weighing()) {
        let (e, n) = w.edible_inedible();
        prop_assert_eq!(e + n, w.mass_grams);
        prop_assert!(w.validate(d(2026, 12, 31)).errors.iter().all(|e| e.field != "sorted"));
    }

    #[test]
    fn overlap_is_symmetric(a in 0i64..60, la in 1i64..20, b in 0i64..60, lb in 1i64..20) {
        let base = d(2026, 1, 5);
        let x = campaign(1, SITE, base + Duration::days(a), base + Duration::days(a + la));
        let y = campaign(2, SITE, base + Duration::days(b), base + Duration::days(b + lb));
        let xy = check_no_overlap(&x, std::slice::from_ref(&y)).is_err();
        prop_assert_eq!(xy, check_no_overlap(&y, std::slice::from_ref(&x)).is_err());
        // Overlap iff some day belongs to both.
        let shared = (0..=la).any(|k| y.range().contains(x.start_date + Duration::days(k)));
        prop_assert_eq!(xy, shared);
    }

    #[test]
    fn yearly_estimate_scales(grams in 0u64..10_000_000, meals in 1u64..100_000) {
        prop_assert_eq!(yearly_estimate_grams(grams, meals, meals as u32), Some(grams));
        let twice = yearly_estimate_grams(grams, meals, 2 * meals as u32).unwrap();
        prop_assert_eq!(twice, 2 * grams);
    }

    #[test]
    fn kg_2dp_is_within_5_g(g in 0u64..100_000_000_000) {
        // Checked on whole tens of grams: at 10^10 g a tolerance on the f64 product would be
        // below the float's own resolution (a fixed 1e-6 failed once at 33 595 208 985 g).
        let tens = (kg_2dp(g) * 100.0).round() as u64;
        prop_assert_eq!(kg_2dp(g), tens as f64 / 100.0);
        prop_assert!(tens * 10 + 5 >= g && tens * 10 <= g + 5, "{} g → {} kg", g, kg_2dp(g));
    }
}

#[test]
fn kg_2dp_rounds_half_up_on_tens_of_grams_even_for_huge_masses() {
    assert_eq!(kg_2dp(33_595_208_985), 33_595_208.99);
    assert_eq!(kg_2dp(1_234), 1.23);
    assert_eq!(kg_2dp(1_235), 1.24);
    assert_eq!(kg_2dp(0), 0.0);
}
