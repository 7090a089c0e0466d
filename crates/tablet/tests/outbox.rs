//! What a push reply does to the outbox.
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::{MutationResult, MutationStatus, PushResponse, RecordPayload};
use assiette_domain::waste::{Stage, Weighing};
use assiette_tablet::outbox::*;
use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

fn weighing(id: u128, revision: u64, grams: u64) -> RecordPayload {
    let mut meta = RecordMeta::new(Uuid::from_u128(id), Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap());
    meta.revision = revision;
    RecordPayload::Weighing(Weighing {
        meta,
        site_id: Uuid::from_u128(9),
        service_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        stage: Stage::Leftovers,
        component: None,
        mass_grams: grams,
        sorted: None,
        destination: None,
    })
}

#[test]
fn a_reply_deletes_stamps_reviews_and_retries() {
    let at = Utc.with_ymd_and_hms(2026, 3, 3, 8, 0, 0).unwrap();
    let resp = PushResponse {
        results: vec![
            MutationResult { seq: 1, status: MutationStatus::Applied { server_seq: 1, server_updated_at: at } },
            MutationResult { seq: 2, status: MutationStatus::Duplicate },
            MutationResult { seq: 3, status: MutationStatus::Rejected { reason: "r".into(), errors: vec![] } },
            MutationResult { seq: 4, status: MutationStatus::Conflict { current: weighing(1, 2, 1) } },
            MutationResult { seq: 99, status: MutationStatus::Duplicate },
            MutationResult { seq: 1, status: MutationStatus::Duplicate },
        ],
    };
    let p = plan_outbox(&[1, 2, 3, 4, 5, 5], &resp);
    assert_eq!(p.delete, vec![1, 2]);
    assert_eq!(p.stamped, vec![(1, at)]);
    assert_eq!(p.review.len(), 2);
    assert_eq!(p.review[0], (3, Review::Rejected { reason: "r".into(), errors: vec![] }));
    assert_eq!(p.review[1], (4, Review::Conflict { current: weighing(1, 2, 1) }));
    assert_eq!(p.retry, vec![5]);
}

#[test]
fn a_conflict_keeps_the_servers_version_and_says_which_it_is() {
    let current = weighing(1, 3, 2_500);
    let review = Review::Conflict { current: current.clone() };
    assert_eq!(review.current(), Some(&current));
    let reason = review.reason_fr();
    assert!(reason.starts_with("Conflit : une autre tablette (ou la métropole) a enregistré une autre version de cette "), "{reason}");
    assert!(reason.ends_with("(révision 3)."), "{reason}");
    let rejected = Review::Rejected { reason: "Saisissez la masse".into(), errors: vec![] };
    assert_eq!(rejected.current(), None);
    assert_eq!(rejected.reason_fr(), "Refusé par le serveur : Saisissez la masse");
}
