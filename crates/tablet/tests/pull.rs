//! Which pulled records the tablet stores.
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::RecordPayload;
use assiette_domain::waste::{Stage, Weighing};
use assiette_tablet::pull::check_pulled;
use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

fn weighing(grams: u64, date: NaiveDate) -> Weighing {
    Weighing {
        meta: RecordMeta::new(Uuid::from_u128(5), Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()),
        site_id: Uuid::from_u128(9),
        service_date: date,
        stage: Stage::Leftovers,
        component: None,
        mass_grams: grams,
        sorted: None,
        destination: None,
    }
}

#[test]
fn a_valid_record_is_kept_whatever_the_tablets_clock() {
    let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    assert_eq!(check_pulled(&RecordPayload::Weighing(weighing(1_250, d))), Ok(()));
    // Dated after the tablet's today (its clock is behind the server's): still kept.
    let later = NaiveDate::from_ymd_opt(2099, 1, 1).unwrap();
    assert_eq!(check_pulled(&RecordPayload::Weighing(weighing(1_250, later))), Ok(()));
}

#[test]
fn an_invalid_record_is_refused_with_a_french_reason_but_a_tombstone_is_kept() {
    let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let bad = RecordPayload::Weighing(weighing(0, d));
    let e = check_pulled(&bad).unwrap_err();
    assert!(e.contains("00000000-0000-0000-0000-000000000005") && e.contains("masse"), "{e}");
    let mut tomb = weighing(0, d);
    tomb.meta.deleted = true;
    assert_eq!(check_pulled(&RecordPayload::Weighing(tomb)), Ok(()));
}
