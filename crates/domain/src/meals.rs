//! Meal counts per canteen and service day.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::number::format_fr_date;
use crate::record::RecordMeta;
use crate::validation::Validation;

/// Above this a count for one canteen and day is a typing error (see `site::MAX_DAILY_MEAL_COUNT`).
pub const MAX_MEALS_PER_DAY: u32 = crate::site::MAX_DAILY_MEAL_COUNT;

/// Service dates before this are typing errors (year "0226" for "2026"); the loi AGEC's
/// baseline year is 2015, so real data never predates 2000.
pub fn earliest_service_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date")
}

/// Checks a service date: not in the future, not before 2000. Shared by every daily record.
pub(crate) fn check_service_date(
    v: &mut Validation,
    field: &str,
    date: NaiveDate,
    today: NaiveDate,
) {
    if date > today {
        v.error(
            field,
            format!(
                "La date du service ({}) est dans le futur : saisissez une date au plus tard le {}.",
                format_fr_date(date),
                format_fr_date(today)
            ),
        );
    } else if date < earliest_service_date() {
        v.error(
            field,
            format!(
                "La date du service ({}) est trop ancienne : vérifiez l'année.",
                format_fr_date(date)
            ),
        );
    }
}

/// The counts of one service day of one canteen. Several records for one day are summed by
/// the indicators (e.g. lunch and dinner of a boarding school); the app warns about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyMealCount {
    pub meta: RecordMeta,
    pub site_id: Uuid,
    #[serde(with = "crate::time::date")]
    pub service_date: NaiveDate,
    /// Planned / ordered meals (prévus, commandés); 0 when unknown.
    pub planned: u32,
    pub served_children: u32,
    pub served_adults: u32,
}

impl DailyMealCount {
    /// All covers served (children + adults): the divisor of g per meal.
    pub fn served_total(&self) -> u64 {
        u64::from(self.served_children) + u64::from(self.served_adults)
    }

    /// (planned − served) ÷ planned: positive when more was planned than served
    /// (over-ordering), negative when more was served. `None` when nothing was planned.
    pub fn forecast_gap(&self) -> Option<f64> {
        forecast_gap_ratio(u64::from(self.planned), self.served_total())
    }

    /// Errors refuse the record; warnings ask for confirmation. `today` is the device's date.
    pub fn validate(&self, today: NaiveDate) -> Validation {
        let mut v = Validation::default();
        if self.site_id.is_nil() {
            v.error("site_id", "Choisissez le restaurant.");
        }
        check_service_date(&mut v, "service_date", self.service_date, today);
        for (field, value, what) in [
            ("planned", self.planned, "repas prévus"),
            (
                "served_children",
                self.served_children,
                "repas servis aux enfants",
            ),
            (
                "served_adults",
                self.served_adults,
                "repas servis aux adultes",
            ),
        ] {
            if value > MAX_MEALS_PER_DAY {
                v.error(
                    field,
                    format!("{value} {what} : nombre impossible pour un jour (plus de {MAX_MEALS_PER_DAY}), vérifiez la saisie."),
                );
            }
        }
        let served = self.served_total();
        if self.planned == 0 && served == 0 {
            v.error(
                "served_children",
                "Saisissez le nombre de repas servis (enfants et adultes) ou prévus.",
            );
        }
        if !v.is_ok() {
            return v;
        }
        if self.planned > 0 && served > 2 * u64::from(self.planned) {
            v.warn(
                "served_children",
                "served_over_twice_planned",
                format!(
                    "{served} repas servis pour {} prévus : plus du double. Vérifiez les deux nombres.",
                    self.planned
                ),
            );
        }
        if self.planned > 0 && served == 0 {
            v.warn(
                "served_children",
                "nothing_served",
                format!(
                    "{} repas prévus mais aucun servi : le service a-t-il été annulé ?",
                    self.planned
                ),
            );
        }
        // Meals planned, adults served, no child: the children's count was most likely skipped.
        if self.planned > 0 && served > 0 && self.served_children == 0 {
            v.warn(
                "served_children",
                "no_children_served",
                format!(
                    "Aucun repas servi aux enfants pour {} prévus : confirmez, ou saisissez le nombre d'enfants servis.",
                    self.planned
                ),
            );
        }
        if self.planned == 0 && served > 0 {
            v.warn(
                "planned",
                "planned_missing",
                "Nombre de repas prévus non saisi : l'écart entre prévus et servis ne pourra pas être calculé.",
            );
        }
        if self.service_date.weekday() == Weekday::Sun {
            v.warn(
                "service_date",
                "service_on_sunday",
                format!(
                    "Le {} est un dimanche : vérifiez la date du service.",
                    format_fr_date(self.service_date)
                ),
            );
        }
        v
    }

    /// Warns when another live record already counts this canteen and day (a second service
    /// is possible, a duplicate entry more likely).
    pub fn check_duplicate(&self, existing: &[DailyMealCount]) -> Validation {
        let mut v = Validation::default();
        let dup = existing.iter().any(|c| {
            !c.meta.deleted
                && c.meta.id != self.meta.id
                && c.site_id == self.site_id
                && c.service_date == self.service_date
        });
        if dup {
            v.warn(
                "service_date",
                "count_already_exists_for_day",
                format!(
                    "Un comptage existe déjà pour le {} : s'il s'agit d'un second service, confirmez ; sinon corrigez le comptage existant.",
                    format_fr_date(self.service_date)
                ),
            );
        }
        v
    }
}

/// (planned − served) ÷ planned as a signed ratio; `None` when planned is 0.
pub fn forecast_gap_ratio(planned: u64, served: u64) -> Option<f64> {
    if planned == 0 {
        None
    } else {
        Some((planned as f64 - served as f64) / planned as f64)
    }
}

/// Totals of live (not deleted) counts; the forecast gap only uses days with a planned count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MealTotals {
    /// Distinct (site, day) pairs counted.
    pub service_days: u32,
    pub served_children: u64,
    pub served_adults: u64,
    /// Planned meals, on days where a planned count was entered.
    pub planned: u64,
    /// Served meals on those same days, so the gap compares like with like.
    pub served_on_planned_days: u64,
}

impl MealTotals {
    pub fn served_total(&self) -> u64 {
        self.served_children + self.served_adults
    }

    /// Forecast gap over the period: Σ(planned − served) ÷ Σ planned, days without a
    /// planned count left out.
    pub fn forecast_gap(&self) -> Option<f64> {
        forecast_gap_ratio(self.planned, self.served_on_planned_days)
    }
}

/// A canteen and one of its service days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SiteDay {
    pub site_id: Uuid,
    #[serde(with = "crate::time::date")]
    pub service_date: NaiveDate,
}

/// Sums the live counts whose date is within `start..=end` (all sites given).
pub fn meal_totals(counts: &[DailyMealCount], start: NaiveDate, end: NaiveDate) -> MealTotals {
    let mut t = MealTotals::default();
    // A set, not a sorted vector: the indicators already use this set type, the tablet carries
    // one copy of its code instead of one more sort.
    let mut days: BTreeSet<SiteDay> = BTreeSet::new();
    for c in counts
        .iter()
        .filter(|c| !c.meta.deleted && c.service_date >= start && c.service_date <= end)
    {
        days.insert(SiteDay { site_id: c.site_id, service_date: c.service_date });
        t.served_children += u64::from(c.served_children);
        t.served_adults += u64::from(c.served_adults);
        if c.planned > 0 {
            t.planned += u64::from(c.planned);
            t.served_on_planned_days += c.served_total();
        }
    }
    t.service_days = days.len() as u32;
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn count(
        id: u128,
        date: NaiveDate,
        planned: u32,
        children: u32,
        adults: u32,
    ) -> DailyMealCount {
        DailyMealCount {
            meta: RecordMeta::new(
                Uuid::from_u128(id),
                DateTime::<Utc>::from_timestamp(1_772_000_000, 0).unwrap(),
            ),
            site_id: Uuid::from_u128(7),
            service_date: date,
            planned,
            served_children: children,
            served_adults: adults,
        }
    }

    fn today() -> NaiveDate {
        d(2026, 3, 5)
    }

    #[test]
    fn ordinary_day_is_valid_without_warning() {
        let v = count(1, d(2026, 3, 2), 200, 180, 10).validate(today());
        assert!(v.is_ok() && v.warnings.is_empty(), "{v:?}");
        let v = count(1, today(), 200, 180, 10).validate(today());
        assert!(v.is_ok(), "today is allowed");
    }

    #[test]
    fn future_and_ancient_dates_are_refused() {
        let v = count(1, d(2026, 3, 6), 200, 180, 10).validate(today());
        assert_eq!(v.errors[0].field, "service_date");
        assert_eq!(
            v.errors[0].message,
            "La date du service (06/03/2026) est dans le futur : saisissez une date au plus tard le 05/03/2026."
        );
        let v = count(1, d(226, 3, 2), 200, 180, 10).validate(today());
        assert!(v.errors[0].message.contains("trop ancienne"));
        assert!(count(1, d(2000, 1, 1), 1, 1, 0).validate(today()).is_ok());
    }

    #[test]
    fn missing_site_and_empty_counts_are_refused() {
        let mut c = count(1, d(2026, 3, 2), 0, 0, 0);
        c.site_id = Uuid::nil();
        let v = c.validate(today());
        let fields: Vec<_> = v.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["site_id", "served_children"]);
    }

    #[test]
    fn impossible_counts_are_refused() {
        let v = count(1, d(2026, 3, 2), 100_001, 100_001, 100_001).validate(today());
        let fields: Vec<_> = v.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["planned", "served_children", "served_adults"]);
        assert!(v.errors[0].message.starts_with("100001 repas prévus"));
        assert!(count(1, d(2026, 3, 2), 100_000, 100_000, 0)
            .validate(today())
            .is_ok());
    }

    #[test]
    fn served_over_twice_planned_warns() {
        // 201 > 2 × 100: warning; 200 is exactly twice: no warning.
        let v = count(1, d(2026, 3, 2), 100, 190, 11).validate(today());
        assert!(v.is_ok());
        assert_eq!(v.warnings.len(), 1);
        assert_eq!(v.warnings[0].code, "served_over_twice_planned");
        assert!(v.warnings[0]
            .message
            .starts_with("201 repas servis pour 100 prévus"));
        assert!(count(1, d(2026, 3, 2), 100, 190, 10)
            .validate(today())
            .warnings
            .is_empty());
    }

    #[test]
    fn other_plausibility_warnings() {
        let codes = |c: DailyMealCount| {
            c.validate(today())
                .warnings
                .into_iter()
                .map(|w| w.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(count(1, d(2026, 3, 2), 120, 0, 0)),
            vec!["nothing_served"]
        );
        assert_eq!(
            codes(count(1, d(2026, 3, 2), 0, 120, 0)),
            vec!["planned_missing"]
        );
        assert_eq!(
            codes(count(1, d(2026, 3, 2), 120, 0, 8)),
            vec!["no_children_served"]
        );
        // 01/03/2026 is a Sunday.
        assert_eq!(
            codes(count(1, d(2026, 3, 1), 120, 110, 0)),
            vec!["service_on_sunday"]
        );
    }

    #[test]
    fn served_total_and_forecast_gap() {
        let c = count(1, d(2026, 3, 2), 200, 170, 10);
        assert_eq!(c.served_total(), 180);
        assert_eq!(c.forecast_gap(), Some(0.1));
        assert_eq!(
            count(1, d(2026, 3, 2), 100, 110, 0).forecast_gap(),
            Some(-0.1)
        );
        assert_eq!(count(1, d(2026, 3, 2), 0, 110, 0).forecast_gap(), None);
        assert_eq!(
            count(1, d(2026, 3, 2), u32::MAX, u32::MAX, u32::MAX).served_total(),
            2 * u64::from(u32::MAX)
        );
    }

    #[test]
    fn duplicates_of_a_day_warn() {
        let a = count(1, d(2026, 3, 2), 200, 170, 10);
        let b = count(2, d(2026, 3, 2), 200, 170, 10);
        assert!(
            a.check_duplicate(std::slice::from_ref(&a))
                .warnings
                .is_empty(),
            "a record is not its own duplicate"
        );
        assert_eq!(
            a.check_duplicate(&[a.clone(), b.clone()]).warnings[0].code,
            "count_already_exists_for_day"
        );
        let mut deleted = b.clone();
        deleted.meta = deleted.meta.deleted(deleted.meta.modified_at);
        assert!(a.check_duplicate(&[deleted]).warnings.is_empty());
        let mut other_site = b;
        other_site.site_id = Uuid::from_u128(8);
        assert!(a.check_duplicate(&[other_site]).warnings.is_empty());
    }

    #[test]
    fn totals_over_a_period() {
        let mut deleted = count(4, d(2026, 3, 3), 500, 500, 0);
        deleted.meta = deleted.meta.deleted(deleted.meta.modified_at);
        let counts = vec![
            count(1, d(2026, 3, 2), 200, 170, 10),
            count(2, d(2026, 3, 3), 0, 150, 5),
            count(3, d(2026, 3, 3), 50, 40, 0), // second service the same day
            deleted,
            count(5, d(2026, 3, 9), 200, 200, 0), // outside the period
        ];
        let t = meal_totals(&counts, d(2026, 3, 2), d(2026, 3, 6));
        assert_eq!(t.service_days, 2);
        assert_eq!(
            (t.served_children, t.served_adults, t.served_total()),
            (360, 15, 375)
        );
        assert_eq!((t.planned, t.served_on_planned_days), (250, 220));
        // (250 − 220) ÷ 250 = 0.12
        assert!((t.forecast_gap().unwrap() - 0.12).abs() < 1e-12);
        assert_eq!(
            meal_totals(&counts, d(2026, 4, 1), d(2026, 4, 30)).forecast_gap(),
            None
        );
    }

    #[test]
    fn serde_round_trip() {
        let c = count(1, d(2026, 3, 2), 200, 170, 10);
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["service_date"], "2026-03-02");
        assert_eq!(j["served_children"], 170);
        assert_eq!(serde_json::from_value::<DailyMealCount>(j).unwrap(), c);
    }

    proptest! {
        #[test]
        fn gap_is_at_most_one_and_zero_when_exact(planned in 1u32..10_000, children in 0u32..20_000, adults in 0u32..1_000) {
            let c = count(1, d(2026, 3, 2), planned, children, adults);
            let gap = c.forecast_gap().unwrap();
            prop_assert!(gap <= 1.0);
            prop_assert_eq!(gap == 0.0, c.served_total() == u64::from(planned));
            prop_assert_eq!(gap > 0.0, c.served_total() < u64::from(planned));
        }

        #[test]
        fn totals_equal_sum_of_days(days in proptest::collection::vec((0u32..500, 0u32..500, 0u32..50), 0..30)) {
            let counts: Vec<_> = days.iter().enumerate()
                .map(|(i, (p, c, a))| count(i as u128 + 1, d(2026, 1, 1) + chrono::Duration::days(i as i64), *p, *c, *a))
                .collect();
            let t = meal_totals(&counts, d(2026, 1, 1), d(2026, 12, 31));
            prop_assert_eq!(t.served_total(), counts.iter().map(|c| c.served_total()).sum::<u64>());
            prop_assert_eq!(t.service_days as usize, counts.len());
        }
    }
}
