//! The metropolis' school calendar: the data file checked, Easter and the public holidays, the
//! days without school, and the territory's participation counted with them.

use assiette_domain::school_calendar::{calendar, closures, easter_sunday, parse, public_holidays, Closures};
use assiette_domain::site::{ManagementType, ProductionType, RegionGroup};
use assiette_domain::territory::*;
use assiette_domain::territory_api::{calendar_source, participation_sources, school_closures};
use assiette_domain::waste::{DateRange, WasteFactors};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use proptest::prelude::*;
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn days_of(c: &Closures) -> Vec<NaiveDate> {
    c.days.iter().flat_map(|r| r.start.iter_days().take_while(move |x| *x <= r.end)).collect()
}

#[test]
fn the_data_file_is_ordered_sourced_and_inside_its_school_years() {
    let cal = calendar();
    assert_eq!(cal.zone, "B");
    assert!(!cal.public_holidays_source.trim().is_empty());
    let names: Vec<&str> = cal.years.iter().map(|y| y.school_year.as_str()).collect();
    assert_eq!(names, ["2024-2025", "2025-2026", "2026-2027"]);
    for (i, y) in cal.years.iter().enumerate() {
        assert!(y.source.contains("calendrier scolaire") && y.source.contains(&y.school_year), "{}: {}", y.school_year, y.source);
        // « 2026-2027 »: from September of the first year to July of the second.
        let first: i32 = y.school_year[..4].parse().unwrap();
        assert_eq!(y.school_year, format!("{first}-{}", first + 1));
        assert_eq!((y.first_day.year(), y.first_day.month()), (first, 9), "{}: rentrée in September", y.school_year);
        assert_eq!((y.summer_classes_end.year(), y.summer_classes_end.month()), (first + 1, 7), "{}", y.school_year);
        if let Some(next) = cal.years.get(i + 1) {
            assert_eq!(next.first_day.year(), first + 1, "consecutive years");
        }
        let mut previous_end = y.first_day;
        for b in &y.breaks {
            let off = b.days_off();
            assert!(off.start <= off.end, "{} {}: at least one day off", y.school_year, b.name);
            assert!(b.classes_end >= previous_end, "{} {}: ordered, not overlapping", y.school_year, b.name);
            assert!(y.first_day < off.start && off.end < y.summer_classes_end, "{} {}: inside its school year", y.school_year, b.name);
            // Classes resume on a Monday or, after Easter Monday, a Tuesday.
            assert!(matches!(b.classes_resume.weekday(), Weekday::Mon | Weekday::Tue), "{} {}", y.school_year, b.name);
            previous_end = b.classes_resume;
        }
        assert_eq!(y.breaks.len(), 5, "{}: Toussaint, Noël, hiver, printemps, pont de l'Ascension", y.school_year);
        // The pont de l'Ascension of each published year takes in the Friday after the computed
        // Ascension Thursday: the data and the Easter computation agree.
        let ascension = public_holidays(first + 1).into_iter().find(|(_, n)| *n == "Ascension").unwrap().0;
        let pont = y.breaks.iter().find(|b| b.name == "Pont de l'Ascension").unwrap().days_off();
        assert!(pont.contains(ascension + Duration::days(1)), "{}: {pont:?} vs {ascension}", y.school_year);
    }
    // The merged periods never overlap.
    let periods = cal.periods();
    for w in periods.windows(2) {
        assert!(w[0].days.end < w[1].days.start, "{:?} then {:?}", w[0], w[1]);
    }
}

#[test]
fn the_file_refuses_unknown_fields_and_bad_dates() {
    let good = r#"{"zone":"B","academie":"X","convention":"","public_holidays_source":"s","years":[]}"#;
    assert!(parse(good).is_ok());
    assert!(parse(&good.replace("\"years\"", "\"typo\":1,\"years\"")).is_err());
    let year = r#"{"zone":"B","academie":"X","convention":"","public_holidays_source":"s","years":[
        {"school_year":"2026-2027","source":"s","first_day":"2026-09-31","breaks":[],"summer_classes_end":"2027-07-03"}]}"#;
    assert!(parse(year).is_err(), "31 September");
}

#[test]
fn official_dates_become_days_without_school() {
    let c = closures(DateRange::new(d(2026, 12, 1), d(2027, 1, 31)));
    // Noël 2026: fin des cours samedi 19/12, reprise lundi 04/01/2027; 25/12 and 01/01 inside.
    assert_eq!(c.days, vec![DateRange::new(d(2026, 12, 20), d(2027, 1, 3))]);
    assert!(c.unpublished.is_empty());
    // Printemps 2025, zone B: back on Tuesday 22/04, Easter Monday 21/04 joined to the break.
    let c = closures(DateRange::new(d(2025, 4, 1), d(2025, 4, 30)));
    assert_eq!(c.days, vec![DateRange::new(d(2025, 4, 6), d(2025, 4, 21))]);
    // Summer 2026: classes end after Saturday 04/07, resume Tuesday 01/09.
    let c = closures(DateRange::new(d(2026, 6, 29), d(2026, 9, 4)));
    assert_eq!(c.days, vec![DateRange::new(d(2026, 7, 5), d(2026, 8, 31))]);
    // May 2026: 1 May and 8 May (Fridays), the pont de l'Ascension Thursday 14 to Sunday 17,
    // Whit Monday 25 May.
    let c = closures(DateRange::new(d(2026, 5, 1), d(2026, 5, 31)));
    assert_eq!(
        c.days,
        vec![
            DateRange::new(d(2026, 5, 1), d(2026, 5, 1)),
            DateRange::new(d(2026, 5, 8), d(2026, 5, 8)),
            DateRange::new(d(2026, 5, 14), d(2026, 5, 17)),
            DateRange::new(d(2026, 5, 25), d(2026, 5, 25)),
        ]
    );
}

#[test]
fn outside_the_published_years_only_public_holidays_and_the_answer_says_so() {
    // The 2027 summer has no published end (the 2027-2028 calendar): from Sunday 04/07/2027
    // only the public holidays are known.
    let c = closures(DateRange::new(d(2027, 6, 1), d(2027, 9, 30)));
    assert_eq!(c.unpublished, vec![DateRange::new(d(2027, 7, 4), d(2027, 9, 30))]);
    assert_eq!(c.days, vec![DateRange::new(d(2027, 7, 14), d(2027, 7, 14)), DateRange::new(d(2027, 8, 15), d(2027, 8, 15))]);
    // Before the first published rentrée as well.
    let c = closures(DateRange::new(d(2024, 8, 1), d(2024, 9, 10)));
    assert_eq!(c.unpublished, vec![DateRange::new(d(2024, 8, 1), d(2024, 9, 1))]);
    assert_eq!(c.days, vec![DateRange::new(d(2024, 8, 15), d(2024, 8, 15))]);
    // The source of a territory answer names the calendar, and the unpublished days.
    let s = calendar_source(&c);
    assert!(s.source.contains("zone B") && s.source.contains("2024-2025 à 2026-2027"), "{}", s.source);
    assert!(s.source.contains("Du 01/08/2024 au 01/09/2024, le calendrier scolaire n'est pas publié"), "{}", s.source);
    let published = calendar_source(&closures(DateRange::new(d(2025, 12, 1), d(2026, 12, 1))));
    assert!(!published.source.contains("n'est pas publié"), "{}", published.source);
    let all = participation_sources(&WasteFactors::default(), &school_closures(d(2026, 12, 3)));
    assert_eq!(all.last(), Some(&calendar_source(&school_closures(d(2026, 12, 3)))));
}

#[test]
fn territory_closures_cover_the_year_before_today() {
    let c = school_closures(d(2027, 1, 5));
    assert!(c.unpublished.is_empty());
    let days = days_of(&c);
    // 366 days back: the last day of Noël 2025 (classes resumed on Monday 05/01/2026).
    assert_eq!(c.days.first(), Some(&DateRange::new(d(2026, 1, 4), d(2026, 1, 4))));
    assert!(days.contains(&d(2026, 2, 16)), "hiver 2026");
    assert!(days.contains(&d(2026, 12, 25)) && days.contains(&d(2027, 1, 1)));
    assert!(days.iter().all(|x| *x <= d(2027, 1, 5) && *x >= d(2026, 1, 4)));
}

#[test]
fn last_school_days_skip_the_christmas_break_2026() {
    let hol = school_closures(d(2027, 1, 7)).days;
    // Thursday 07/01/2027: Monday 4 and Tuesday 5, then back over the break to 14-18 December.
    assert_eq!(
        last_school_days(d(2027, 1, 7), 6, &hol),
        vec![d(2026, 12, 14), d(2026, 12, 15), d(2026, 12, 17), d(2026, 12, 18), d(2027, 1, 4), d(2027, 1, 5)]
    );
    // Without the calendar the break's weekdays count as school days.
    assert_eq!(last_school_days(d(2027, 1, 7), 3, &[]), vec![d(2027, 1, 1), d(2027, 1, 4), d(2027, 1, 5)]);
}

fn site(n: u128) -> SiteSummary {
    SiteSummary {
        site_id: Uuid::from_u128(n),
        siret: format!("siret-{n}"),
        commune_insee: "76351".into(),
        commune_name: "Le Havre".into(),
        name: format!("École {n}"),
        management: ManagementType::Direct,
        production_type: ProductionType::Site,
        daily_meal_count: 120,
        yearly_meal_count: 120 * 140,
        region_group: RegionGroup::Mainland,
        engaged: true,
        tablets_enrolled: 1,
        last_sync: None,
    }
}

fn row_on(today: NaiveDate, holidays: Vec<DateRange>) -> SiteRow {
    let days = vec![DayRollup { site_id: Uuid::from_u128(1), date: d(2026, 12, 18), meals_served: Some(110), grams_by_stage: [0, 0, 6_000], weighings_by_stage: [0, 0, 1] }];
    let p = OverviewParams {
        period: DateRange::new(d(2026, 12, 1), d(2026, 12, 31)),
        baseline: None,
        purchase_year: 2026,
        today,
        holidays,
        factors: WasteFactors::default(),
    };
    overview(&[site(1)], &days, &[], &[], &p).sites.remove(0)
}

fn stopped(r: &SiteRow) -> bool {
    r.flags.iter().any(|f| matches!(f, Flag::StoppedEntering { .. }))
}

#[test]
fn a_site_last_entered_before_christmas_is_not_flagged_after_the_break() {
    // Last entry Friday 18/12/2026. On Tuesday 05/01/2027 one school day has passed (Monday 4);
    // without the calendar nine (21, 22, 24, 25, 28, 29, 31/12, 01/01, 04/01): one short of the
    // threshold. On Thursday 07/01 two against ten: flagged without the calendar only.
    let with = row_on(d(2027, 1, 5), school_closures(d(2027, 1, 5)).days);
    let without = row_on(d(2027, 1, 5), Vec::new());
    assert_eq!(with.participation.school_days_since_entry, Some(1));
    assert_eq!(without.participation.school_days_since_entry, Some(9));

    let with = row_on(d(2027, 1, 7), school_closures(d(2027, 1, 7)).days);
    let without = row_on(d(2027, 1, 7), Vec::new());
    assert_eq!(with.participation.school_days_since_entry, Some(2));
    assert!(!stopped(&with), "{:?}", with.flags);
    assert_eq!(without.participation.school_days_since_entry, Some(STOPPED_AFTER_SCHOOL_DAYS));
    assert!(stopped(&without), "{:?}", without.flags);
    // The window of 30 school days reaches back over the break to the end of the Toussaint
    // break (classes resumed on Monday 02/11/2026; 11/11 is a Wednesday).
    let w = with.participation.window.unwrap();
    assert_eq!((w.start, w.end), (d(2026, 11, 2), d(2027, 1, 5)));
    assert_eq!((with.participation.school_days, with.participation.days_with_entries), (30, 1));

    // Ten school days after the break it is flagged with the calendar too: Wednesday 20/01.
    let late = row_on(d(2027, 1, 20), school_closures(d(2027, 1, 20)).days);
    assert_eq!(late.participation.school_days_since_entry, Some(STOPPED_AFTER_SCHOOL_DAYS));
    assert!(stopped(&late));
    let before = row_on(d(2027, 1, 19), school_closures(d(2027, 1, 19)).days);
    assert!(!stopped(&before), "{:?}", before.flags);
}

proptest! {
    #[test]
    fn easter_is_a_sunday_between_22_march_and_25_april(year in 1583i32..=4099) {
        let e = easter_sunday(year);
        prop_assert_eq!(e.weekday(), Weekday::Sun);
        prop_assert_eq!(e.year(), year);
        prop_assert!(e >= d(year, 3, 22) && e <= d(year, 4, 25), "{}", e);
    }

    #[test]
    fn no_school_day_inside_a_closure(start in 0i64..1500, len in 0i64..800) {
        let from = d(2024, 1, 1) + Duration::days(start);
        let range = DateRange::new(from, from + Duration::days(len));
        let c = closures(range);
        // Sorted, apart, inside the range asked.
        for w in c.days.windows(2) {
            prop_assert!(w[0].end + Duration::days(1) < w[1].start, "{:?}", c.days);
        }
        for r in c.days.iter().chain(&c.unpublished) {
            prop_assert!(r.start <= r.end && range.contains(r.start) && range.contains(r.end), "{:?}", r);
        }
        let off = days_of(&c);
        let periods = calendar().periods();
        for x in range.start.iter_days().take_while(|x| *x <= range.end) {
            let holiday = public_holidays(x.year()).iter().any(|(h, _)| *h == x);
            let published_break = periods.iter().any(|p| p.days.contains(x));
            // Every public holiday and published break day is off, and nothing else.
            prop_assert_eq!(off.contains(&x), holiday || published_break, "{}", x);
            if off.contains(&x) {
                prop_assert!(!is_school_day(x, &c.days), "{}", x);
            }
            // A day outside the published years is reported as such.
            let published = calendar().published().unwrap().contains(x);
            prop_assert_eq!(c.unpublished.iter().any(|u| u.contains(x)), !published, "{}", x);
        }
    }
}
