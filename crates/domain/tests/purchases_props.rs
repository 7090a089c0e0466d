//! Property tests: EGalim groups never exceed the total, a purchase counts in at most one
//! group, and importing an export gives back the same purchases.

use assiette_domain::egalim::{yearly_totals, DetailLabel, YearTotals};
use assiette_domain::export::{purchases_csv, purchases_xlsx};
use assiette_domain::import::{import_purchases, ImportOptions};
use assiette_domain::purchase::{Characteristic, Family, LocalDefinition, Purchase};
use assiette_domain::record::RecordMeta;
use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc)
}

fn text() -> impl Strategy<Value = String> {
    // Printable text with separators, quotes and accents, no spaces at the ends (import trims).
    // No tab or line break: a record never holds one (crate::text), an import turns them into spaces.
    "[A-Za-zéèçà0-9,;\"' -]{0,20}".prop_map(|s| s.trim().to_owned())
}

prop_compose! {
    fn purchase()(
        siret in prop::sample::select(vec!["21010034300016", "65449096241683", "11111111111111"]),
        description in text().prop_filter("required", |s| !s.is_empty()),
        supplier in text(),
        day in 0i64..3000,
        price_cents in 0i64..10_000_000,
        family in prop::sample::select(Family::ALL.to_vec()),
        egalim in prop::sample::subsequence(Characteristic::EGALIM.to_vec(), 0..=4).prop_shuffle(),
        origin in prop::option::of(prop::sample::select(vec![Characteristic::France, Characteristic::Europe])),
        short_chain in any::<bool>(),
        local in prop::option::of((prop::option::of(prop::sample::select(LocalDefinition::ALL.to_vec())), 0u32..500)),
    ) -> Purchase {
        let mut characteristics = egalim;
        characteristics.extend(origin);
        if short_chain { characteristics.push(Characteristic::CircuitCourt); }
        let (local_definition, local_km) = match local {
            Some((def, km)) => {
                characteristics.push(Characteristic::Local);
                (def, if def == Some(LocalDefinition::Km) { Some(km) } else { None })
            }
            None => (None, None),
        };
        Purchase {
            meta: RecordMeta::new(Uuid::nil(), now()),
            siret: siret.to_owned(),
            description,
            supplier,
            date: NaiveDate::from_ymd_opt(2018, 1, 1).unwrap() + chrono::Duration::days(day),
            price_cents,
            family,
            characteristics,
            local_definition,
            local_km,
        }
    }
}

fn group_sum(t: &YearTotals) -> i64 {
    t.valeur_bio + t.valeur_siqo + t.valeur_egalim_autres + t.valeur_externalites_performance
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn groups_never_exceed_total(ps in prop::collection::vec(purchase(), 0..40)) {
        for t in yearly_totals(&ps) {
            prop_assert!(group_sum(&t) <= t.valeur_totale);
            prop_assert!(t.valeur_bio_dont_commerce_equitable <= t.valeur_bio);
            prop_assert!(t.valeur_egalim_autres_dont_commerce_equitable <= t.valeur_egalim_autres);
            prop_assert!(t.valeur_viandes_volailles_egalim <= t.valeur_viandes_volailles);
            prop_assert!(t.valeur_viandes_volailles_france <= t.valeur_viandes_volailles);
            prop_assert!(t.valeur_produits_de_la_mer_egalim <= t.valeur_produits_de_la_mer);
            prop_assert!(t.valeur_produits_de_la_mer_france <= t.valeur_produits_de_la_mer);
            prop_assert!(t.valeur_viandes_volailles_egalim + t.valeur_produits_de_la_mer_egalim <= group_sum(&t));
            // The detailed table partitions the total; its EGalim columns add up to the groups.
            let detail: i64 = t.families.iter().flat_map(|f| f.labels.iter()).sum();
            prop_assert_eq!(detail, t.valeur_totale);
            let egalim_detail: i64 = t.families.iter().map(|f| f.labels.iter().sum::<i64>() - f.label(DetailLabel::NonEgalim)).sum();
            prop_assert_eq!(egalim_detail, group_sum(&t));
        }
    }

    #[test]
    fn a_purchase_counts_in_at_most_one_group(p in purchase()) {
        let t = &yearly_totals([&p])[0];
        let in_groups = [t.valeur_bio, t.valeur_siqo, t.valeur_egalim_autres, t.valeur_externalites_performance]
            .iter().filter(|&&v| v != 0).count();
        prop_assert!(in_groups <= 1);
        prop_assert!(group_sum(t) <= p.price_cents);
        prop_assert_eq!(group_sum(t) == p.price_cents && p.price_cents > 0, p.egalim_group().is_some() && p.price_cents > 0);
        let columns = t.families.iter().flat_map(|f| f.labels.iter()).filter(|&&v| v != 0).count();
        prop_assert!(columns <= 1);
    }

    #[test]
    fn import_of_export_gives_the_same_purchases(ps in prop::collection::vec(purchase(), 1..30)) {
        let csv = purchases_csv(&ps);
        let opts = ImportOptions::new(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(), now());
        let imported = import_purchases(csv.as_bytes(), &opts, &mut Uuid::nil)
            .unwrap_or_else(|e| panic!("{e}\n{csv}"));
        prop_assert_eq!(imported.purchases, ps);
    }
}

proptest! {
    // A workbook per case: fewer cases than the CSV's.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn import_of_xlsx_export_gives_the_same_purchases(ps in prop::collection::vec(purchase(), 1..30)) {
        let bytes = purchases_xlsx(&ps).unwrap();
        let opts = ImportOptions::new(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(), now());
        let imported = import_purchases(&bytes, &opts, &mut Uuid::nil).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(imported.purchases, ps);
    }
}
