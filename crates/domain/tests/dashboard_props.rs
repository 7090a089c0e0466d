//! Property tests of the dashboard: every figure computed from the aggregates equals the same
//! figure computed line by line from the filtered purchases, the family × label table and the
//! cumulative curve add up to the total, and the missing euros are 0 exactly when a share
//! reaches its threshold.

use assiette_domain::dashboard::{Filter, PurchaseCube, SiteInfo};
use assiette_domain::egalim::{missing_cents, outcome, percent_hundredths, yearly_totals, Outcome, YearTotals};
use assiette_domain::purchase::{Characteristic, CharacteristicSet, Family, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_domain::site::RegionGroup;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use proptest::prelude::*;
use uuid::Uuid;

const SIRETS: [&str; 3] = ["21010034300016", "65449096241683", "11111111111111"];
const SUPPLIERS: [&str; 5] = ["Metro", "METRO ", "Pomona", "", "La ferme  du Val"];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().with_timezone(&Utc)
}

prop_compose! {
    fn purchase()(
        siret in prop::sample::select(SIRETS.to_vec()),
        supplier in prop::sample::select(SUPPLIERS.to_vec()),
        // 2023-01-01 to 2026-01-05: three years and the edges of 2024 and 2025.
        day in 0i64..1100,
        price_cents in 0i64..5_000_000,
        family in prop::sample::select(Family::ALL.to_vec()),
        egalim in prop::sample::subsequence(Characteristic::EGALIM.to_vec(), 0..=3).prop_shuffle(),
        origin in prop::option::of(prop::sample::select(vec![Characteristic::France, Characteristic::Europe])),
        short_chain in any::<bool>(),
        local in any::<bool>(),
        deleted in prop::bool::weighted(0.05),
    ) -> Purchase {
        let mut characteristics = egalim;
        characteristics.extend(origin);
        if short_chain { characteristics.push(Characteristic::CircuitCourt); }
        if local { characteristics.push(Characteristic::Local); }
        let mut meta = RecordMeta::new(Uuid::nil(), now());
        if deleted {
            meta = meta.deleted(now());
        }
        Purchase {
            meta,
            siret: siret.to_owned(),
            description: "x".into(),
            supplier: supplier.to_owned(),
            date: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap() + chrono::Duration::days(day),
            price_cents,
            family,
            characteristics,
            local_definition: None,
            local_km: None,
        }
    }
}

prop_compose! {
    fn filter()(
        year in 2023i32..=2026,
        sirets in prop::sample::subsequence(SIRETS.to_vec(), 0..=3),
        families in prop::sample::subsequence(Family::ALL.to_vec(), 0..=8),
        characteristics in prop::sample::subsequence(Characteristic::ALL.to_vec(), 0..=2),
    ) -> Filter {
        Filter {
            year,
            sirets: sirets.into_iter().map(str::to_owned).collect(),
            families,
            characteristics: CharacteristicSet::of(&characteristics),
        }
    }
}

/// The reference: the filtered lines of `year`, one by one through `YearTotals::add`.
fn line_by_line(ps: &[Purchase], f: &Filter, year: i32, siret: &str) -> YearTotals {
    let mut t = YearTotals::new(siret, year);
    for p in ps.iter().filter(|p| !p.meta.deleted && p.date.year() == year && f.keeps(p)) {
        t.add(p);
    }
    t
}

fn sites() -> Vec<SiteInfo> {
    SIRETS
        .iter()
        .enumerate()
        .map(|(i, s)| SiteInfo {
            siret: (*s).to_owned(),
            name: format!("Site {i}"),
            yearly_meal_count: 10_000 * (i as u32 + 1),
            region_group: RegionGroup::Mainland,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn aggregates_equal_the_filtered_lines(ps in prop::collection::vec(purchase(), 0..80), f in filter()) {
        let cube = PurchaseCube::from_purchases(&ps);
        let t = cube.year_totals(&f, f.year);
        prop_assert_eq!(&t, &line_by_line(&ps, &f, f.year, &t.siret));
        // Each month, and the previous year the curve draws beside it.
        for (m, mt) in cube.month_totals(&f, f.year).iter().enumerate() {
            let month: Vec<Purchase> = ps.iter().filter(|p| p.date.month0() as usize == m).cloned().collect();
            prop_assert_eq!(mt, &line_by_line(&month, &f, f.year, &mt.siret));
        }
    }

    #[test]
    fn one_site_equals_the_egalim_command(ps in prop::collection::vec(purchase(), 0..80)) {
        // `assiette-server egalim` prints `yearly_totals`: one object per site and year.
        let cube = PurchaseCube::from_purchases(&ps);
        for t in yearly_totals(&ps) {
            let f = Filter { sirets: vec![t.siret.clone()], ..Filter::year(t.year) };
            prop_assert_eq!(&cube.year_totals(&f, t.year), &t);
            prop_assert_eq!(serde_json::to_value(cube.year_totals(&f, t.year)).unwrap(), serde_json::to_value(&t).unwrap());
        }
    }

    #[test]
    fn grid_and_curve_add_up_to_the_total(ps in prop::collection::vec(purchase(), 0..80), f in filter()) {
        let cube = PurchaseCube::from_purchases(&ps);
        let d = cube.dashboard(&f, &sites(), 3);
        let grid: i64 = d.grid().iter().flat_map(|(_, row)| row.iter()).sum();
        prop_assert_eq!(grid, d.totals.valeur_totale);
        prop_assert_eq!(d.curve.len(), 12);
        let end = d.curve[11].this_year;
        prop_assert_eq!(end.total_cents, d.totals.valeur_totale);
        prop_assert_eq!(end.egalim_cents, d.totals.valeur_egalim());
        prop_assert_eq!(end.bio_cents, d.totals.valeur_bio);
        let last = cube.year_totals(&f, f.year - 1);
        prop_assert_eq!(d.curve[11].last_year.total_cents, last.valeur_totale);
        prop_assert_eq!(d.curve[11].last_year.egalim_cents, last.valeur_egalim());
        for w in d.curve.windows(2) {
            prop_assert!(w[0].this_year.total_cents <= w[1].this_year.total_cents);
        }
        // Suppliers: all of them add up to the total; the top 3 are the largest.
        let all = cube.top_suppliers(&f, usize::MAX);
        prop_assert_eq!(all.iter().map(|s| s.total_cents).sum::<i64>(), d.totals.valeur_totale);
        prop_assert_eq!(all.iter().map(|s| s.lines).sum::<u64>(), d.totals.purchase_count);
        prop_assert_eq!(all.iter().map(|s| s.egalim_cents).sum::<i64>(), d.totals.valeur_egalim());
        prop_assert_eq!(&d.suppliers[..], &all[..all.len().min(3)]);
        for w in all.windows(2) {
            prop_assert!(w[0].total_cents >= w[1].total_cents);
        }
        // The shares are the indicators' and their missing euros agree with their outcome.
        for g in &d.shares {
            if g.outcome != Outcome::NotApplicable {
                prop_assert_eq!(g.missing_cents == Some(0), g.outcome == Outcome::Reached);
            }
        }
    }

    #[test]
    fn removing_lines_undoes_adding_them(a in prop::collection::vec(purchase(), 0..40), b in prop::collection::vec(purchase(), 0..40), f in filter()) {
        let mut cube = PurchaseCube::from_purchases(a.iter().chain(&b));
        for p in &b {
            cube.remove(p);
        }
        let only_a = PurchaseCube::from_purchases(&a);
        let mut got = cube.year_totals(&f, f.year);
        let want = only_a.year_totals(&f, f.year);
        // The site named on the totals depends on the sites met, which removal does not forget.
        got.siret = want.siret.clone();
        prop_assert_eq!(got, want);
        let strip = |v: Vec<assiette_domain::dashboard::SupplierRow>| v.into_iter().map(|s| (s.total_cents, s.lines)).collect::<Vec<_>>();
        prop_assert_eq!(strip(cube.top_suppliers(&f, usize::MAX)), strip(only_a.top_suppliers(&f, usize::MAX)));
    }

    #[test]
    fn missing_euros_are_the_least_that_reach_the_threshold(
        total in 1i64..100_000_000_000,
        part_ratio in 0.0f64..=1.0,
        threshold in prop::sample::select(vec![2i64, 5, 10, 20, 30, 50, 60, 100]),
    ) {
        let part = ((total as f64) * part_ratio) as i64;
        let part = part.min(total);
        let m = missing_cents(part, total, threshold).unwrap();
        let reached = outcome(percent_hundredths(part, total), threshold) == Outcome::Reached;
        prop_assert_eq!(m == 0, reached);
        prop_assert!(part + m <= total);
        prop_assert_eq!(outcome(percent_hundredths(part + m, total), threshold), Outcome::Reached);
        if m > 0 {
            prop_assert_eq!(outcome(percent_hundredths(part + m - 1, total), threshold), Outcome::NotReached);
        }
    }
}
