//! The manager's purchase screens' rules: scope, filters and sums, the form, undo, import lists.

use assiette_domain::import::ImportError;
use assiette_domain::purchase::{Characteristic as C, Family, LocalDefinition, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_tablet::purchases::*;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

const A: &str = "21010034300016";
const B: &str = "21010034300024";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn p(id: u128, siret: &str, date: &str, description: &str, supplier: &str, cents: i64, family: Family, ch: &[C]) -> Purchase {
    Purchase {
        meta: RecordMeta::new(Uuid::from_u128(id), now()),
        siret: siret.into(),
        description: description.into(),
        supplier: supplier.into(),
        date: d(date),
        price_cents: cents,
        family,
        characteristics: ch.to_vec(),
        local_definition: None,
        local_km: None,
    }
}

fn scope(sirets: &[&str]) -> Scope {
    Scope { sites: sirets.iter().map(|s| ScopeSite { siret: (*s).into(), name: format!("École {s}") }).collect() }
}

fn sample() -> Vec<Purchase> {
    vec![
        p(1, A, "2026-03-02", "Pommes golden", "Vergers de Caux", 12_50, Family::FruitsEtLegumes, &[C::Bio, C::France]),
        p(2, A, "2026-05-10", "Poulet fermier", "Volailles Normandes", 1_234_50, Family::ViandesVolailles, &[C::LabelRouge]),
        p(3, B, "2026-05-11", "Crème fraîche", "Laiterie du Havre", 45_00, Family::ProduitsLaitiers, &[]),
        p(4, A, "2025-12-31", "Pommes de terre", "Vergers de Caux", 80_00, Family::FruitsEtLegumes, &[C::Hve]),
        p(5, "99999999999999", "2026-05-12", "Hors périmètre", "X", 1_000_00, Family::Autres, &[]),
    ]
}

fn ids(l: &Listing<'_>) -> Vec<u128> {
    l.rows.iter().map(|p| p.meta.id.as_u128()).collect()
}

#[test]
fn list_keeps_the_scope_newest_first_and_sums_what_it_shows() {
    let all = sample();
    let l = list(&all, &Filter::default(), &scope(&[A, B]));
    assert_eq!(ids(&l), vec![3, 2, 1, 4]);
    assert_eq!(l.total_cents, 12_50 + 1_234_50 + 45_00 + 80_00);
    let l = list(&all, &Filter::default(), &scope(&[B]));
    assert_eq!((ids(&l), l.total_cents), (vec![3], 45_00));
    assert_eq!(years(&all, &scope(&[A, B])), vec![2026, 2025]);
}

#[test]
fn each_filter_narrows_the_lines_and_the_sum() {
    let all = sample();
    let s = scope(&[A, B]);
    let check = |f: Filter, want: Vec<u128>| {
        let l = list(&all, &f, &s);
        let sum: i64 = all.iter().filter(|p| want.contains(&p.meta.id.as_u128())).map(|p| p.price_cents).sum();
        assert_eq!((ids(&l), l.total_cents), (want, sum), "{f:?}");
    };
    check(Filter { site: Some(A.into()), ..Default::default() }, vec![2, 1, 4]);
    check(Filter { year: Some(2026), ..Default::default() }, vec![3, 2, 1]);
    check(Filter { family: Some(Family::FruitsEtLegumes), ..Default::default() }, vec![1, 4]);
    check(Filter { label: Some(C::Bio), ..Default::default() }, vec![1]);
    check(Filter { from: Some(d("2026-03-02")), to: Some(d("2026-05-10")), ..Default::default() }, vec![2, 1]);
    // Search: description or supplier, case and accents ignored, every word.
    check(Filter { query: "CREME".into(), ..Default::default() }, vec![3]);
    check(Filter { query: "caux pommes".into(), ..Default::default() }, vec![1, 4]);
    check(Filter { query: "caux terre".into(), ..Default::default() }, vec![4]);
    check(Filter { query: "volailles".into(), year: Some(2025), ..Default::default() }, vec![]);
}

#[test]
fn deleted_lines_are_not_listed_nor_suggested() {
    let mut all = sample();
    all[1] = tombstone(&all[1], now());
    let l = list(&all, &Filter::default(), &scope(&[A, B]));
    assert_eq!(ids(&l), vec![3, 1, 4]);
    let suppliers = suggestions(&all, |p| p.supplier.as_str(), 10);
    assert_eq!(suppliers, vec!["Vergers de Caux", "Laiterie du Havre", "X"]);
}

#[test]
fn suggestions_are_distinct_most_used_first() {
    let mut all = sample();
    all.push(p(6, A, "2026-01-01", "pommes golden", "vergers de caux", 1, Family::Autres, &[]));
    let d = suggestions(&all, |p| p.description.as_str(), 2);
    assert_eq!(d, vec!["Pommes golden".to_owned(), "Crème fraîche".to_owned()]);
}

#[test]
fn form_reads_french_prices_and_dates_and_builds_the_national_codes() {
    let f = PurchaseForm {
        siret: A.into(),
        date: "02/03/2026".into(),
        description: " Pommes ".into(),
        supplier: "Vergers".into(),
        family: "FRUITS_ET_LEGUMES".into(),
        price: "1 234,50 €".into(),
        labels: vec![C::Hve, C::Bio],
        origin: "FRANCE".into(),
        short_chain: true,
        local: true,
        local_definition: "KM".into(),
        local_km: "50".into(),
    };
    let got = f.to_purchase(None, Uuid::from_u128(9), now(), today()).unwrap();
    assert_eq!(got.price_cents, 1_234_50);
    assert_eq!(got.date, d("2026-03-02"));
    assert_eq!(got.description, "Pommes");
    assert_eq!(got.characteristics, vec![C::Bio, C::Hve, C::France, C::CircuitCourt, C::Local]);
    assert_eq!((got.local_definition, got.local_km), (Some(LocalDefinition::Km), Some(50)));
    assert_eq!((got.meta.id, got.meta.revision), (Uuid::from_u128(9), 1));
    // Back to the form as it would be shown, and again to the same purchase.
    let again = PurchaseForm::from_purchase(&got);
    assert_eq!(again.price, "1\u{202F}234,50");
    assert_eq!(again.date, "02/03/2026");
    assert_eq!(again.to_purchase(None, Uuid::from_u128(9), now(), today()).unwrap(), got);
    // A correction is the next revision of the same record.
    let fixed = PurchaseForm { price: "12.5".into(), ..again }.to_purchase(Some(&got), Uuid::nil(), now(), today()).unwrap();
    assert_eq!((fixed.meta.id, fixed.meta.revision, fixed.price_cents), (got.meta.id, 2, 12_50));
    // A date picker's ISO value is read too.
    let iso = PurchaseForm { date: "2026-03-02".into(), ..PurchaseForm::from_purchase(&got) };
    assert_eq!(iso.to_purchase(None, Uuid::nil(), now(), today()).unwrap().date, d("2026-03-02"));
}

#[test]
fn form_errors_name_their_field_in_french() {
    let fields = |f: &PurchaseForm| -> Vec<String> {
        let mut v: Vec<String> = f.to_purchase(None, Uuid::nil(), now(), today()).unwrap_err().into_iter().map(|e| e.field).collect();
        v.sort();
        v
    };
    let empty = PurchaseForm::new(A, today());
    assert_eq!(fields(&PurchaseForm { date: String::new(), ..empty.clone() }), vec!["date", "family", "price"]);
    let mut ok = PurchaseForm { description: "Pain".into(), family: "BOULANGERIE".into(), price: "3,20".into(), ..empty };
    assert!(ok.to_purchase(None, Uuid::nil(), now(), today()).is_ok());
    ok.price = "12,3,4".into();
    let e = ok.to_purchase(None, Uuid::nil(), now(), today()).unwrap_err();
    assert_eq!((e[0].field.as_str(), e[0].message.contains("une seule virgule")), ("price", true));
    ok.price = "3,20".into();
    // The domain's rules: future date, no description, a definition without « local ».
    ok.date = "30/11/2026".into();
    ok.description = " ".into();
    ok.local_definition = "REGION".into();
    assert_eq!(fields(&ok), vec!["date", "description", "local_definition"]);
    let e = ok.to_purchase(None, Uuid::nil(), now(), today()).unwrap_err();
    assert!(e.iter().any(|e| e.field == "date" && e.message.contains("30/11/2026")), "{e:?}");
    ok = PurchaseForm { date: "31/02/2026".into(), description: "Pain".into(), local_definition: String::new(), local_km: "beaucoup".into(), ..ok };
    assert_eq!(fields(&ok), vec!["date", "local_km"]);
}

#[test]
fn duplicate_delete_and_undo_are_revisions() {
    let all = sample();
    let copy = duplicate(&all[0], Uuid::from_u128(42), now());
    assert_eq!((copy.meta.id, copy.meta.revision, &copy.description), (Uuid::from_u128(42), 1, &all[0].description));
    let gone = tombstone(&all[0], now());
    assert_eq!((gone.meta.revision, gone.meta.deleted), (2, true));
    let back = restore(&all[0], &gone, now());
    assert_eq!((back.meta.revision, back.meta.deleted, back.meta.id), (3, false, all[0].meta.id));
    assert_eq!(Purchase { meta: all[0].meta.clone(), ..back }, all[0]);
}

#[test]
fn preview_counts_lines_sites_years_and_total() {
    let mut pv = Preview::default();
    for x in sample() {
        pv.add(&x);
    }
    assert_eq!(pv.lines, 5);
    assert_eq!(pv.sites.len(), 3);
    assert_eq!(pv.years.iter().copied().collect::<Vec<_>>(), vec![2025, 2026]);
    assert_eq!(pv.total_cents, 12_50 + 1_234_50 + 45_00 + 80_00 + 1_000_00);
}

#[test]
fn error_list_is_cut_with_the_count_of_the_rest() {
    let errors: Vec<ImportError> =
        (2..=1204).map(|l| ImportError { line: Some(l), column: Some("prix_ht".into()), message: "« x » n'est pas un prix.".into() }).collect();
    let (shown, more) = error_lines(&errors, ERRORS_SHOWN);
    assert_eq!(shown.len(), ERRORS_SHOWN);
    assert_eq!(shown[0], "Ligne 2, colonne prix_ht : « x » n'est pas un prix.");
    assert_eq!(more.as_deref(), Some("… et 1\u{202F}153 autres erreurs"));
    assert_eq!(error_lines(&errors[..51], 50).1.as_deref(), Some("… et 1 autre erreur"));
    assert_eq!(error_lines(&errors[..50], 50).1, None);
    assert_eq!((percent(0, 0), percent(5, 10), percent(11, 10)), (100, 50, 100));
}
