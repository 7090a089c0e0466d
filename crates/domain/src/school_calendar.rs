//! The school calendar of the metropolis (Le Havre, académie de Normandie, zone B): the days
//! without school that the territory's participation figures leave out.
//!
//! Decisions:
//! - The school holidays are data, kept in `data/school_calendar_zone_b.json` and compiled in
//!   (`include_str!`): a JSON file because serde_json is already a dependency and a year is
//!   added by copying five lines from the Ministry's calendar, each year with its source. The
//!   file keeps the official wording (« fin des cours », « reprise des cours »); the days
//!   without school are the days strictly between the two ([`Break::days_off`]).
//! - Public holidays are computed ([`public_holidays`], Easter by [`easter_sunday`]), for any
//!   year. Whit Monday is one of them: schools are closed, the teachers' solidarity day is
//!   held outside class time. The Friday after Ascension (« pont de l'Ascension ») is not a
//!   public holiday: it comes from each published calendar, never assumed.
//! - Outside the published school years only the public holidays are known: [`closures`]
//!   says which part of the range asked is in that case ([`Closures::unpublished`]) rather
//!   than pretending the weeks there are all school weeks.

use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use crate::waste::DateRange;

/// The compiled-in calendar file.
const CALENDAR_JSON: &str = include_str!("../data/school_calendar_zone_b.json");

/// The published school calendar of one zone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolCalendar {
    pub zone: String,
    pub academie: String,
    /// How the file's dates read.
    pub convention: String,
    /// Where the public holidays and the lundi de Pentecôte rule come from.
    pub public_holidays_source: String,
    /// Oldest first, consecutive.
    pub years: Vec<SchoolYear>,
}

/// One published school year.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolYear {
    /// « 2026-2027 ».
    pub school_year: String,
    /// The text (arrêté, Ministry calendar, data set) the dates were read in.
    pub source: String,
    /// The pupils' first day (« rentrée des élèves »).
    #[serde(with = "crate::time::date")]
    pub first_day: NaiveDate,
    pub breaks: Vec<Break>,
    /// « Début des vacances d'été » : classes end after this day.
    #[serde(with = "crate::time::date")]
    pub summer_classes_end: NaiveDate,
}

/// A break as the official calendar writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Break {
    pub name: String,
    /// « Fin des cours » : the break starts after this day's classes.
    #[serde(with = "crate::time::date")]
    pub classes_end: NaiveDate,
    /// « Reprise des cours » : classes start again this morning.
    #[serde(with = "crate::time::date")]
    pub classes_resume: NaiveDate,
    /// How the source writes it, when it differs from the usual form.
    #[serde(default)]
    pub note: Option<String>,
}

impl Break {
    /// The days without school: strictly between the end and the resumption of classes.
    pub fn days_off(&self) -> DateRange {
        DateRange::new(self.classes_end + Duration::days(1), self.classes_resume - Duration::days(1))
    }
}

/// A named period without school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub name: String,
    pub days: DateRange,
}

impl SchoolCalendar {
    /// Every published break and summer holiday, in order. The summer after the last
    /// published year is left out: its end (the next rentrée) is not published.
    pub fn periods(&self) -> Vec<Closure> {
        let mut out = Vec::new();
        for (i, y) in self.years.iter().enumerate() {
            out.extend(y.breaks.iter().map(|b| Closure { name: b.name.clone(), days: b.days_off() }));
            if let Some(next) = self.years.get(i + 1) {
                out.push(Closure {
                    name: "Vacances d'été".to_owned(),
                    days: DateRange::new(y.summer_classes_end + Duration::days(1), next.first_day - Duration::days(1)),
                });
            }
        }
        out
    }

    /// The days whose school or holiday status is published: from the first year's rentrée to
    /// the last year's last day before the summer.
    pub fn published(&self) -> Option<DateRange> {
        Some(DateRange::new(self.years.first()?.first_day, self.years.last()?.summer_classes_end))
    }

    /// « 2024-2025 à 2026-2027 ».
    pub fn published_years(&self) -> String {
        match (self.years.first(), self.years.last()) {
            (Some(f), Some(l)) if f != l => format!("{} à {}", f.school_year, l.school_year),
            (Some(f), _) => f.school_year.clone(),
            _ => String::new(),
        }
    }

    /// The days without school of `range` (see [`closures`]).
    pub fn closures(&self, range: DateRange) -> Closures {
        let mut days: Vec<DateRange> = self.periods().into_iter().map(|c| c.days).collect();
        for y in range.start.year()..=range.end.year() {
            days.extend(public_holidays(y).into_iter().map(|(d, _)| DateRange::new(d, d)));
        }
        let days = merge(days.into_iter().filter_map(|d| clip(d, range)).collect());
        let unpublished = match self.published() {
            None => vec![range],
            Some(p) => {
                let mut v = Vec::new();
                if range.start < p.start {
                    v.extend(clip(DateRange::new(range.start, p.start - Duration::days(1)), range));
                }
                if range.end > p.end {
                    v.extend(clip(DateRange::new(p.end + Duration::days(1), range.end), range));
                }
                v
            }
        };
        Closures { days, unpublished }
    }
}

/// The days without school of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closures {
    /// Sorted, neither overlapping nor touching, inside the range asked.
    pub days: Vec<DateRange>,
    /// Parts of the range outside the published school years: only the public holidays are
    /// among `days` there.
    pub unpublished: Vec<DateRange>,
}

/// The metropolis' calendar (zone B), read once from the compiled-in file.
pub fn calendar() -> &'static SchoolCalendar {
    static CALENDAR: OnceLock<SchoolCalendar> = OnceLock::new();
    CALENDAR.get_or_init(|| parse(CALENDAR_JSON).expect("the compiled-in school calendar is valid (tested)"))
}

/// Reads a calendar file.
pub fn parse(json: &str) -> Result<SchoolCalendar, serde_json::Error> {
    serde_json::from_str(json)
}

/// The days without school within `range` in the metropolis: its published school holidays
/// and the public holidays, and the parts of `range` where no school calendar is published.
pub fn closures(range: DateRange) -> Closures {
    calendar().closures(range)
}

/// Easter Sunday of the Gregorian `year` (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // Always 22 March to 25 April (property-tested): a valid date for every year chrono knows.
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or(NaiveDate::MIN)
}

/// The public holidays of mainland France in `year` (code du travail, art. L3133-1), in
/// date order, with their French names.
pub fn public_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let easter = easter_sunday(year);
    let fixed = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
    let mut v: Vec<(NaiveDate, &'static str)> = [
        (fixed(1, 1), "Jour de l'an"),
        (Some(easter + Duration::days(1)), "Lundi de Pâques"),
        (fixed(5, 1), "Fête du travail"),
        (fixed(5, 8), "Victoire 1945"),
        (Some(easter + Duration::days(39)), "Ascension"),
        (Some(easter + Duration::days(50)), "Lundi de Pentecôte"),
        (fixed(7, 14), "Fête nationale"),
        (fixed(8, 15), "Assomption"),
        (fixed(11, 1), "Toussaint"),
        (fixed(11, 11), "Armistice 1918"),
        (fixed(12, 25), "Noël"),
    ]
    .into_iter()
    .filter_map(|(d, n)| Some((d?, n)))
    .collect();
    v.sort_by_key(|(d, _)| *d);
    v
}

/// `d` cut to `range`, if they share a day.
fn clip(d: DateRange, range: DateRange) -> Option<DateRange> {
    (d.start <= d.end && d.overlaps(&range)).then(|| DateRange::new(d.start.max(range.start), d.end.min(range.end)))
}

/// Sorted, with overlapping or touching ranges joined.
fn merge(mut v: Vec<DateRange>) -> Vec<DateRange> {
    v.sort_by_key(|d| (d.start, d.end));
    let mut out: Vec<DateRange> = Vec::with_capacity(v.len());
    for d in v {
        match out.last_mut() {
            Some(last) if d.start <= last.end + Duration::days(1) => last.end = last.end.max(d.end),
            _ => out.push(d),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_break_is_the_days_between_the_end_and_the_resumption_of_classes() {
        // Noël 2026: « fin des cours samedi 19 décembre 2026, reprise lundi 4 janvier 2027 ».
        let b = Break { name: "Vacances de Noël".into(), classes_end: d(2026, 12, 19), classes_resume: d(2027, 1, 4), note: None };
        assert_eq!(b.days_off(), DateRange::new(d(2026, 12, 20), d(2027, 1, 3)));
        assert!(!b.days_off().contains(d(2026, 12, 19)), "classes on the day they end");
        assert!(!b.days_off().contains(d(2027, 1, 4)), "classes on the day they resume");
        // Printemps 2025 (zone B): reprise on Tuesday 22 April, after Easter Monday.
        let b = Break { name: "Vacances de printemps".into(), classes_end: d(2025, 4, 5), classes_resume: d(2025, 4, 22), note: None };
        assert_eq!(b.days_off(), DateRange::new(d(2025, 4, 6), d(2025, 4, 21)));
    }

    #[test]
    fn easter_of_known_years() {
        for (y, m, day) in [
            (1818, 3, 22), // earliest possible
            (1943, 4, 25), // latest possible
            (2000, 4, 23),
            (2008, 3, 23),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(y), d(y, m, day), "{y}");
        }
    }

    #[test]
    fn public_holidays_of_2027() {
        let got: Vec<NaiveDate> = public_holidays(2027).into_iter().map(|(d, _)| d).collect();
        assert_eq!(
            got,
            vec![
                d(2027, 1, 1),
                d(2027, 3, 29),
                d(2027, 5, 1),
                d(2027, 5, 6),
                d(2027, 5, 8),
                d(2027, 5, 17),
                d(2027, 7, 14),
                d(2027, 8, 15),
                d(2027, 11, 1),
                d(2027, 11, 11),
                d(2027, 12, 25),
            ]
        );
    }

    #[test]
    fn ranges_are_merged_and_clipped() {
        let r = DateRange::new(d(2026, 1, 1), d(2026, 1, 31));
        let v = vec![
            DateRange::new(d(2026, 1, 10), d(2026, 1, 12)),
            DateRange::new(d(2025, 12, 20), d(2026, 1, 4)),
            DateRange::new(d(2026, 1, 13), d(2026, 1, 13)),
            DateRange::new(d(2026, 1, 11), d(2026, 1, 11)),
            DateRange::new(d(2026, 2, 1), d(2026, 2, 2)),
        ];
        let got = merge(v.into_iter().filter_map(|x| clip(x, r)).collect());
        assert_eq!(got, vec![DateRange::new(d(2026, 1, 1), d(2026, 1, 4)), DateRange::new(d(2026, 1, 10), d(2026, 1, 13))]);
    }
}
