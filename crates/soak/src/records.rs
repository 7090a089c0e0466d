//! Valid records as a tablet makes them.

use assiette_domain::meals::DailyMealCount;
use assiette_domain::purchase::{Family, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::RecordPayload;
use assiette_domain::waste::{Stage, Weighing};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

pub fn day(n: i64) -> NaiveDate {
    // A fixed Monday in the past, so dates are never "in the future".
    NaiveDate::from_ymd_opt(2025, 9, 1).unwrap() + Duration::days(n)
}

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

pub fn weighing(site: Uuid, date: NaiveDate, stage: Stage, grams: u64) -> RecordPayload {
    RecordPayload::Weighing(Weighing {
        meta: RecordMeta::new(Uuid::now_v7(), now()),
        site_id: site,
        service_date: date,
        stage,
        component: None,
        mass_grams: grams,
        sorted: None,
        destination: None,
    })
}

pub fn meal_count(site: Uuid, date: NaiveDate, served: u32) -> RecordPayload {
    RecordPayload::MealCount(DailyMealCount {
        meta: RecordMeta::new(Uuid::now_v7(), now()),
        site_id: site,
        service_date: date,
        planned: served + 10,
        served_children: served,
        served_adults: 5,
    })
}

/// A purchase of fruit and vegetables, without EGalim characteristics.
pub fn purchase(siret: &str, date: NaiveDate, price_cents: i64) -> RecordPayload {
    RecordPayload::Purchase(Purchase {
        meta: RecordMeta::new(Uuid::now_v7(), now()),
        siret: siret.to_owned(),
        description: "Pommes".to_owned(),
        supplier: "Ferme d'Octeville".to_owned(),
        date,
        price_cents,
        family: Family::FruitsEtLegumes,
        characteristics: Vec::new(),
        local_definition: None,
        local_km: None,
    })
}

/// Total grams of live weighings in a set of records.
pub fn live_grams<'a>(records: impl IntoIterator<Item = &'a RecordPayload>) -> u64 {
    records
        .into_iter()
        .filter_map(|r| match r {
            RecordPayload::Weighing(w) if !w.meta.deleted => Some(w.mass_grams),
            _ => None,
        })
        .sum()
}

/// A valid SIRET from 13 digits (the check digit the domain's rule accepts appended).
pub fn siret(first13: &str) -> String {
    assert_eq!(first13.len(), 13);
    (0..10)
        .map(|check| format!("{first13}{check}"))
        .find(|s| assiette_domain::site::siret_is_valid(s))
        .expect("one check digit makes a valid SIRET")
}
