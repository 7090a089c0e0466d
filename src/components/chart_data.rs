//! What the charts show, prepared from the stored records by the domain's functions.
//! Pure (no browser): the drawing code only draws, and the French text alternatives are
//! computed here from the same figures, so the picture and its text never disagree.

use std::collections::BTreeMap;

use assiette_domain::meals::{earliest_service_date, DailyMealCount};
use assiette_domain::number::{format_fr_date, format_grams_per_meal, format_kg, format_per_mille, format_percent, group_thousands};
use assiette_domain::waste::{
    component_label, daily_series, reference_value, DateRange, DayPoint, ReferenceValue, Stage, WasteIndicators, Weighing,
    REFERENCE_COMPONENT_PERCENT, REFERENCE_STAGE_PERCENT,
};
use chrono::{Datelike, Duration, NaiveDate};
use uuid::Uuid;

/// Key of the ADEME 2024 school reference drawn on the trend chart.
pub const ADEME_SCHOOL_KEY: &str = "ademe_2024_schools";

/// The periods a manager can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Last30Days,
    SchoolYear,
    All,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Last30Days, Period::SchoolYear, Period::All];

    pub fn label(self) -> &'static str {
        match self {
            Period::Last30Days => "30 derniers jours",
            Period::SchoolYear => "Cette année scolaire",
            Period::All => "Tout",
        }
    }

    /// Stable code for attributes and tests.
    pub fn code(self) -> &'static str {
        match self {
            Period::Last30Days => "30j",
            Period::SchoolYear => "annee-scolaire",
            Period::All => "tout",
        }
    }

    /// The service dates shown, ending today. `All` starts at the first record (`first`), or
    /// today when there is none.
    pub fn range(self, today: NaiveDate, first: Option<NaiveDate>) -> DateRange {
        let start = match self {
            Period::Last30Days => today - Duration::days(29),
            Period::SchoolYear => school_year_start(today),
            Period::All => first.unwrap_or(today).clamp(earliest_service_date(), today),
        };
        DateRange::new(start, today)
    }
}

/// The records a period needs: those dated from this day on (`None`: all of them).
pub fn earliest_needed(period: Period, today: NaiveDate) -> Option<NaiveDate> {
    match period {
        Period::All => None,
        _ => Some(period.range(today, None).start),
    }
}

/// Whether records read from `loaded` on (`None`: all) cover what `needed` asks for.
pub fn covers(loaded: Option<NaiveDate>, needed: Option<NaiveDate>) -> bool {
    match (loaded, needed) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(l), Some(n)) => l <= n,
    }
}

/// First day of the school year containing `today`: 1 September (the summer holidays belong
/// to the year that ends).
pub fn school_year_start(today: NaiveDate) -> NaiveDate {
    let year = if today.month() >= 9 { today.year() } else { today.year() - 1 };
    NaiveDate::from_ymd_opt(year, 9, 1).expect("1 September exists")
}

/// Meals of one service day (all live counts of the day summed, as the indicators do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MealDay {
    pub date: NaiveDate,
    /// Planned meals; 0 when none was entered.
    pub planned: u64,
    pub served: u64,
}

/// One bar of a breakdown chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: &'static str,
    pub grams: u64,
    /// Tenths of a percent; the bars of one chart add up to 1000 (0 when empty).
    pub per_mille: u32,
    /// The ADEME 2024 share for comparison, in percent, when the study gives one.
    pub reference_percent: Option<u32>,
}

/// Everything the charts page draws for one canteen and one period.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub range: DateRange,
    /// Waste per meal of every measured day, oldest first.
    pub trend: Vec<DayPoint>,
    pub indicators: WasteIndicators,
    pub stages: Vec<Bar>,
    pub components: Vec<Bar>,
    /// Counted days, oldest first.
    pub meals: Vec<MealDay>,
    pub ademe: &'static ReferenceValue,
    /// The canteen's own baseline (first diagnostic), g per meal.
    pub baseline: Option<f64>,
}

/// Live counts of `site` summed per date within `range`, oldest first.
pub fn meal_days(counts: &[DailyMealCount], site: Uuid, range: DateRange) -> Vec<MealDay> {
    let mut days: BTreeMap<NaiveDate, MealDay> = BTreeMap::new();
    for c in counts.iter().filter(|c| !c.meta.deleted && c.site_id == site && range.contains(c.service_date)) {
        let d = days.entry(c.service_date).or_insert(MealDay { date: c.service_date, planned: 0, served: 0 });
        d.planned += u64::from(c.planned);
        d.served += c.served_total();
    }
    days.into_values().collect()
}

/// The earliest live record date of `site`, for the "Tout" period.
pub fn first_date(counts: &[DailyMealCount], weighings: &[Weighing], site: Uuid) -> Option<NaiveDate> {
    let c = counts.iter().filter(|c| !c.meta.deleted && c.site_id == site).map(|c| c.service_date);
    let w = weighings.iter().filter(|w| !w.meta.deleted && w.site_id == site).map(|w| w.service_date);
    c.chain(w).min()
}

impl ChartData {
    /// Prepares the charts of `site` over `range` from all the records given (other sites
    /// and deleted records are left out).
    pub fn prepare(counts: &[DailyMealCount], weighings: &[Weighing], site: Uuid, range: DateRange, baseline: Option<f64>) -> Self {
        let counts: Vec<DailyMealCount> = counts.iter().filter(|c| c.site_id == site).cloned().collect();
        let weighings: Vec<Weighing> = weighings.iter().filter(|w| w.site_id == site).cloned().collect();
        let indicators = WasteIndicators::compute(&counts, &weighings, range);
        let stage_ref = |s: Stage| REFERENCE_STAGE_PERCENT.iter().find(|(k, _)| *k == s).map(|(_, p)| *p);
        let stages = indicators
            .by_stage
            .iter()
            .map(|s| Bar { label: s.key.label(), grams: s.grams, per_mille: s.per_mille, reference_percent: stage_ref(s.key) })
            .collect();
        let components = indicators
            .by_component
            .iter()
            .map(|s| Bar {
                label: component_label(s.key),
                grams: s.grams,
                per_mille: s.per_mille,
                reference_percent: s.key.and_then(|c| REFERENCE_COMPONENT_PERCENT.iter().find(|(k, _)| *k == c).map(|(_, p)| *p)),
            })
            .collect();
        ChartData {
            range,
            trend: daily_series(&counts, &weighings, range),
            stages,
            components,
            meals: meal_days(&counts, site, range),
            indicators,
            ademe: reference_value(ADEME_SCHOOL_KEY).expect("the ADEME 2024 school reference is in the domain's table"),
            baseline: baseline.filter(|b| b.is_finite() && *b > 0.0),
        }
    }

    /// Days from the start of the range (the charts' x coordinate).
    pub fn day_index(&self, date: NaiveDate) -> i64 {
        (date - self.range.start).num_days()
    }

    /// Number of days in the range (at least 1).
    pub fn span_days(&self) -> i64 {
        (self.range.end - self.range.start).num_days() + 1
    }

    pub fn has_waste(&self) -> bool {
        self.indicators.total_grams > 0
    }

    /// French summary of the trend chart (its text alternative).
    pub fn trend_summary(&self) -> String {
        let period = format!("Du {} au {}", format_fr_date(self.range.start), format_fr_date(self.range.end));
        let refs = self.reference_sentence();
        if self.trend.is_empty() {
            return format!("{period} : aucun jour mesuré (pesées et repas servis du même jour). {refs}");
        }
        let days = self.trend.len();
        let mut text = format!(
            "{period} : {} mesuré{}, {} en moyenne ({} pour {} repas)",
            plural(days, "jour"),
            if days > 1 { "s" } else { "" },
            self.indicators.grams_per_meal.map_or("—".to_owned(), format_grams_per_meal),
            format_kg(self.indicators.total_grams),
            group_thousands(self.indicators.meals_served),
        );
        if let Some(edible) = self.indicators.edible_grams_per_meal {
            let estimate = if self.indicators.edible.is_estimate { " estimée" } else { "" };
            text.push_str(&format!(", dont partie comestible{estimate} {}", format_grams_per_meal(edible)));
        }
        text.push_str(". ");
        if days > 1 {
            let min = self.trend.iter().min_by(|a, b| a.grams_per_meal.total_cmp(&b.grams_per_meal)).expect("non-empty");
            let max = self.trend.iter().max_by(|a, b| a.grams_per_meal.total_cmp(&b.grams_per_meal)).expect("non-empty");
            text.push_str(&format!(
                "Plus bas : {} le {} ; plus haut : {} le {}. ",
                format_grams_per_meal(min.grams_per_meal),
                format_fr_date(min.day.service_date),
                format_grams_per_meal(max.grams_per_meal),
                format_fr_date(max.day.service_date),
            ));
        }
        text.push_str(&refs);
        text
    }

    fn reference_sentence(&self) -> String {
        let mut s = format!(
            "Ligne en tirets : référence {} ({}, {} g/repas{}).",
            self.ademe.source.split(',').next().unwrap_or(self.ademe.source),
            self.ademe.label.to_lowercase(),
            self.ademe.grams_per_meal,
            if self.ademe.edible_only { ", partie comestible" } else { "" }
        );
        match self.baseline {
            Some(b) => s.push_str(&format!(" Ligne en pointillés : référence du restaurant, {}.", format_grams_per_meal(b))),
            None => s.push_str(" Pas de référence propre au restaurant (à saisir dans Réglages)."),
        }
        s
    }

    /// French summary of a breakdown chart (stages or components).
    pub fn bars_summary(bars: &[Bar]) -> String {
        let total: u64 = bars.iter().map(|b| b.grams).sum();
        if total == 0 {
            return "Aucune pesée sur la période.".to_owned();
        }
        let mut sorted: Vec<&Bar> = bars.iter().filter(|b| b.grams > 0).collect();
        // Largest first; stable, so equal bars keep the chart's order.
        sorted.sort_by_key(|b| std::cmp::Reverse(b.grams));
        let parts: Vec<String> =
            sorted.iter().map(|b| format!("{} {} ({})", b.label, format_per_mille(u64::from(b.per_mille)), format_kg(b.grams))).collect();
        format!("Sur {} pesés : {}.", format_kg(total), parts.join(", "))
    }

    /// French summary of the meals chart.
    pub fn meals_summary(&self) -> String {
        if self.meals.is_empty() {
            return "Aucun comptage de repas sur la période.".to_owned();
        }
        let served: u64 = self.meals.iter().map(|d| d.served).sum();
        let planned_days: Vec<&MealDay> = self.meals.iter().filter(|d| d.planned > 0).collect();
        let mut text = format!(
            "{} compté{} : {} servis",
            plural(self.meals.len(), "jour"),
            if self.meals.len() > 1 { "s" } else { "" },
            plural_u64(served, "repas")
        );
        if planned_days.is_empty() {
            text.push_str(", repas prévus non saisis.");
            return text;
        }
        let planned: u64 = planned_days.iter().map(|d| d.planned).sum();
        let served_on_planned: u64 = planned_days.iter().map(|d| d.served).sum();
        text.push_str(&format!(
            " ; les jours où les prévisions sont saisies, {} prévus pour {} servis",
            group_thousands(planned),
            group_thousands(served_on_planned)
        ));
        if let Some(gap) = assiette_domain::meals::forecast_gap_ratio(planned, served_on_planned) {
            let trend = if gap > 0.0 {
                "plus de repas prévus que servis"
            } else if gap < 0.0 {
                "plus de repas servis que prévus"
            } else {
                "prévisions exactes"
            };
            text.push_str(&format!(", écart de prévision {} ({trend})", format_percent(gap * 100.0)));
        }
        text.push('.');
        let over = planned_days.iter().filter(|d| d.planned > d.served).count();
        if over > 0 {
            text.push_str(&format!(" Prévus au-dessus des servis : {}.", plural(over, "jour")));
        }
        text
    }
}

fn plural(n: usize, word: &str) -> String {
    plural_u64(n as u64, word)
}

/// "1 jour", "3 jours"; words ending in s or x don't change.
fn plural_u64(n: u64, word: &str) -> String {
    let s = if n > 1 && !word.ends_with(['s', 'x']) { "s" } else { "" };
    format!("{} {word}{s}", group_thousands(n))
}

/// Tick label of a date on a chart's x axis: "14/03" over a year or less, "03/2026" beyond.
pub fn date_tick(date: NaiveDate, span_days: i64) -> String {
    if span_days > 400 {
        format!("{:02}/{}", date.month(), date.year())
    } else {
        format!("{:02}/{:02}", date.day(), date.month())
    }
}

/// A round upper bound for a value axis: the next of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k
/// at or above `max` with 10 % headroom (at least `floor`).
pub fn nice_ceiling(max: f64, floor: f64) -> f64 {
    let target = (max * 1.1).max(floor);
    if !target.is_finite() || target <= 0.0 {
        return floor.max(1.0);
    }
    let magnitude = 10f64.powf(target.log10().floor());
    // Steps in tenths so that 1.2 × 100 is exactly 120.
    for tenths in [10u32, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100] {
        let v = f64::from(tenths) * magnitude / 10.0;
        if v >= target - 1e-9 {
            return v;
        }
    }
    10.0 * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_domain::record::RecordMeta;
    use assiette_domain::waste::Component;
    use chrono::{TimeZone, Utc};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn meta() -> RecordMeta {
        RecordMeta::new(Uuid::now_v7(), Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap())
    }
    fn count(site: Uuid, date: NaiveDate, planned: u32, children: u32, adults: u32) -> DailyMealCount {
        DailyMealCount { meta: meta(), site_id: site, service_date: date, planned, served_children: children, served_adults: adults }
    }
    fn weighing(site: Uuid, date: NaiveDate, stage: Stage, component: Option<Component>, grams: u64) -> Weighing {
        Weighing { meta: meta(), site_id: site, service_date: date, stage, component, mass_grams: grams, sorted: None, destination: None }
    }
    fn site() -> Uuid {
        Uuid::from_u128(0x1234)
    }

    #[wasm_bindgen_test]
    fn school_year_starts_on_the_first_of_september() {
        assert_eq!(school_year_start(d(2026, 11, 20)), d(2026, 9, 1));
        assert_eq!(school_year_start(d(2026, 9, 1)), d(2026, 9, 1));
        assert_eq!(school_year_start(d(2026, 8, 31)), d(2025, 9, 1));
        assert_eq!(school_year_start(d(2027, 1, 5)), d(2026, 9, 1));
    }

    #[wasm_bindgen_test]
    fn periods_end_today() {
        let today = d(2026, 3, 31);
        assert_eq!(Period::Last30Days.range(today, None), DateRange::new(d(2026, 3, 2), today));
        assert_eq!(Period::SchoolYear.range(today, None), DateRange::new(d(2025, 9, 1), today));
        assert_eq!(Period::All.range(today, Some(d(2024, 1, 8))), DateRange::new(d(2024, 1, 8), today));
        assert_eq!(Period::All.range(today, None), DateRange::new(today, today));
        // A record dated after today (clock change) never makes an inverted range.
        assert_eq!(Period::All.range(today, Some(d(2026, 4, 2))), DateRange::new(today, today));
    }

    #[wasm_bindgen_test]
    fn records_needed_by_a_period() {
        let today = d(2026, 3, 31);
        assert_eq!(earliest_needed(Period::Last30Days, today), Some(d(2026, 3, 2)));
        assert_eq!(earliest_needed(Period::SchoolYear, today), Some(d(2025, 9, 1)));
        assert_eq!(earliest_needed(Period::All, today), None);
        assert!(covers(None, None) && covers(None, Some(today)));
        assert!(!covers(Some(today), None));
        assert!(covers(Some(d(2025, 9, 1)), Some(d(2026, 3, 2))));
        assert!(!covers(Some(d(2026, 3, 2)), Some(d(2025, 9, 1))));
    }

    #[wasm_bindgen_test]
    fn meal_days_sum_live_counts_of_the_site_per_date() {
        let s = site();
        let mut deleted = count(s, d(2026, 3, 3), 500, 500, 0);
        deleted.meta.deleted = true;
        let counts = vec![
            count(s, d(2026, 3, 3), 120, 100, 8),
            count(s, d(2026, 3, 3), 30, 25, 2), // second service the same day
            count(s, d(2026, 3, 2), 0, 90, 5),
            count(Uuid::from_u128(9), d(2026, 3, 2), 400, 400, 0), // another canteen
            count(s, d(2026, 2, 27), 100, 100, 0),                 // outside the range
            deleted,
        ];
        let days = meal_days(&counts, s, DateRange::new(d(2026, 3, 1), d(2026, 3, 31)));
        assert_eq!(
            days,
            vec![MealDay { date: d(2026, 3, 2), planned: 0, served: 95 }, MealDay { date: d(2026, 3, 3), planned: 150, served: 135 },]
        );
    }

    #[wasm_bindgen_test]
    fn prepare_uses_only_the_site_and_gives_shares_with_references() {
        let s = site();
        let other = Uuid::from_u128(77);
        let range = DateRange::new(d(2026, 3, 2), d(2026, 3, 6));
        let counts =
            vec![count(s, d(2026, 3, 2), 110, 100, 0), count(s, d(2026, 3, 3), 100, 100, 0), count(other, d(2026, 3, 2), 50, 50, 0)];
        let weighings = vec![
            // 2 March: 6 kg leftovers + 4 kg unserved for 100 meals = 100 g/meal
            weighing(s, d(2026, 3, 2), Stage::Leftovers, Some(Component::Accompagnement), 6_000),
            weighing(s, d(2026, 3, 2), Stage::Unserved, None, 4_000),
            // 3 March: 5 kg for 100 meals = 50 g/meal
            weighing(s, d(2026, 3, 3), Stage::Leftovers, Some(Component::Pain), 5_000),
            weighing(other, d(2026, 3, 2), Stage::Leftovers, None, 50_000),
        ];
        let data = ChartData::prepare(&counts, &weighings, s, range, Some(120.0));
        let gpm: Vec<f64> = data.trend.iter().map(|p| p.grams_per_meal).collect();
        assert_eq!(gpm, vec![100.0, 50.0]);
        assert_eq!(data.indicators.total_grams, 15_000);
        // Stages in Stage::ALL order: preparation 0, unserved 4/15 = 266.67‰ → 267, leftovers 11/15 → 733.
        let stages: Vec<(&str, u64, u32, Option<u32>)> =
            data.stages.iter().map(|b| (b.label, b.grams, b.per_mille, b.reference_percent)).collect();
        assert_eq!(
            stages,
            vec![
                ("Excédents de préparation", 0, 0, Some(5)),
                ("Présentés non servis", 4_000, 267, Some(34)),
                ("Restes assiettes", 11_000, 733, Some(60)),
            ]
        );
        // Components: accompagnement 6/15 = 400‰, pain 5/15 = 333.3 → 333, unsorted 4/15 = 266.7 → 267.
        let comps: Vec<(u64, u32, Option<u32>)> = data.components.iter().map(|b| (b.grams, b.per_mille, b.reference_percent)).collect();
        assert_eq!(comps.len(), 7);
        assert_eq!(comps[2], (6_000, 400, Some(35)));
        assert_eq!(comps[5], (5_000, 333, Some(8)));
        assert_eq!(comps[6], (4_000, 267, None));
        assert_eq!(data.components.iter().map(|b| b.per_mille).sum::<u32>(), 1000);
        assert_eq!(
            data.meals,
            vec![MealDay { date: d(2026, 3, 2), planned: 110, served: 100 }, MealDay { date: d(2026, 3, 3), planned: 100, served: 100 }]
        );
        assert_eq!(data.ademe.grams_per_meal, 100);
        assert_eq!(data.baseline, Some(120.0));
        assert_eq!((data.day_index(d(2026, 3, 3)), data.span_days()), (1, 5));
    }

    #[wasm_bindgen_test]
    fn summaries_state_the_figures_in_french() {
        let s = site();
        let range = DateRange::new(d(2026, 3, 2), d(2026, 3, 6));
        let counts = vec![count(s, d(2026, 3, 2), 110, 100, 0), count(s, d(2026, 3, 3), 100, 100, 0)];
        let weighings =
            vec![weighing(s, d(2026, 3, 2), Stage::Leftovers, None, 10_000), weighing(s, d(2026, 3, 3), Stage::Leftovers, None, 5_000)];
        let data = ChartData::prepare(&counts, &weighings, s, range, None);
        let t = assiette_domain::number::plain_spaces(&data.trend_summary());
        assert!(t.starts_with("Du 02/03/2026 au 06/03/2026 : 2 jours mesurés, 75 g/repas en moyenne (15 kg pour 200 repas)"), "{t}");
        // Unsorted: 15 % inedible assumed → 12,75 kg edible / 200 = 63,75 → 64 g.
        assert!(t.contains("dont partie comestible estimée 64 g/repas"), "{t}");
        assert!(t.contains("Plus bas : 50 g/repas le 03/03/2026 ; plus haut : 100 g/repas le 02/03/2026"), "{t}");
        assert!(t.contains("ADEME 2024") && t.contains("100 g/repas, partie comestible"), "{t}");
        assert!(t.contains("Pas de référence propre au restaurant"), "{t}");

        let m = assiette_domain::number::plain_spaces(&data.meals_summary());
        // (210 − 200) ÷ 210 = 4,76 % → "4,8 %"
        assert_eq!(m, "2 jours comptés : 200 repas servis ; les jours où les prévisions sont saisies, 210 prévus pour 200 servis, écart de prévision 4,8 % (plus de repas prévus que servis). Prévus au-dessus des servis : 1 jour.");

        let b = assiette_domain::number::plain_spaces(&ChartData::bars_summary(&data.stages));
        assert_eq!(b, "Sur 15 kg pesés : Restes assiettes 100 % (15 kg).");
    }

    #[wasm_bindgen_test]
    fn empty_data_says_so() {
        let data = ChartData::prepare(&[], &[], site(), DateRange::new(d(2026, 3, 2), d(2026, 3, 2)), Some(f64::NAN));
        assert!(!data.has_waste());
        assert!(data.trend.is_empty() && data.meals.is_empty());
        assert_eq!(data.baseline, None);
        assert!(data.trend_summary().contains("aucun jour mesuré"));
        assert_eq!(data.meals_summary(), "Aucun comptage de repas sur la période.");
        assert_eq!(ChartData::bars_summary(&data.stages), "Aucune pesée sur la période.");
    }

    #[wasm_bindgen_test]
    fn ticks_and_ceilings() {
        assert_eq!(date_tick(d(2026, 3, 4), 30), "04/03");
        assert_eq!(date_tick(d(2026, 3, 4), 800), "03/2026");
        assert_eq!(nice_ceiling(100.0, 50.0), 120.0); // 110 → 120
        assert_eq!(nice_ceiling(80.0, 50.0), 100.0); // 88 → 100
        assert_eq!(nice_ceiling(200.0, 50.0), 250.0); // 220 → 250
        assert_eq!(nice_ceiling(130.0, 50.0), 150.0); // 143 → 150
        assert_eq!(nice_ceiling(10.0, 50.0), 50.0);
        assert_eq!(nice_ceiling(0.0, 0.0), 1.0);
        assert_eq!(nice_ceiling(430.0, 50.0), 500.0);
    }
}
