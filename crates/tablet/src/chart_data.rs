//! What the charts show, prepared from the stored records by the domain's functions.
//! Pure (no browser): the drawing code only draws, and the French text alternatives are
//! computed here from the same figures, so the picture and its text never disagree.

use assiette_domain::meals::{earliest_service_date, DailyMealCount};
use assiette_domain::number::{
    format_decimal_fr, format_euros_two_figures, format_fr_date, format_grams_per_meal, format_kg_rounded, format_mass_two_figures,
    format_per_mille, format_percent, group_thousands, APPROX,
};
use assiette_domain::waste::{
    component_label, daily_series, reference_value, DateRange, DayPoint, ReferenceValue, Stage, WasteFactors, WasteIndicators, Weighing,
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

/// The four charts of the page, in page order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Trend,
    Stages,
    Components,
    Meals,
}

impl ChartKind {
    pub const ALL: [ChartKind; 4] = [ChartKind::Trend, ChartKind::Stages, ChartKind::Components, ChartKind::Meals];
}

/// What one chart draws: lines over the days, or bars.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure<'a> {
    Lines(LineChart),
    Bars(&'a [Bar]),
}

/// The period's totals, as shown above the charts.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFigures {
    /// Term and value, in order.
    pub figures: Vec<(&'static str, String)>,
    /// Meals, days and the factors used.
    pub note: String,
    /// Days weighed without meals served, left out of the figures.
    pub warning: Option<String>,
}

/// Keeps the records of `site` only: the charts show one canteen, and the functions below
/// expect its records alone.
pub fn keep_site(counts: &mut Vec<DailyMealCount>, weighings: &mut Vec<Weighing>, site: Uuid) {
    counts.retain(|c| c.site_id == site);
    weighings.retain(|w| w.site_id == site);
}

/// Live counts summed per date within `range`, oldest first.
pub fn meal_days(counts: &[DailyMealCount], range: DateRange) -> Vec<MealDay> {
    // One slot per day of the range: the days come out in order without sorting.
    let day = |date: NaiveDate| (date - range.start).num_days() as usize;
    let mut days: Vec<Option<MealDay>> = vec![None; ((range.end - range.start).num_days() + 1).max(0) as usize];
    for c in counts.iter().filter(|c| !c.meta.deleted && range.contains(c.service_date)) {
        let d = days[day(c.service_date)].get_or_insert(MealDay { date: c.service_date, planned: 0, served: 0 });
        d.planned += u64::from(c.planned);
        d.served += c.served_total();
    }
    days.into_iter().flatten().collect()
}

/// The earliest live record date, for the "Tout" period.
pub fn first_date(counts: &[DailyMealCount], weighings: &[Weighing]) -> Option<NaiveDate> {
    let c = counts.iter().filter(|c| !c.meta.deleted).map(|c| c.service_date);
    let w = weighings.iter().filter(|w| !w.meta.deleted).map(|w| w.service_date);
    c.chain(w).min()
}

impl ChartData {
    /// Prepares the charts of one canteen over `range` from its records (see [`keep_site`];
    /// deleted records are left out).
    pub fn prepare(counts: &[DailyMealCount], weighings: &[Weighing], range: DateRange, baseline: Option<f64>) -> Self {
        let indicators = WasteIndicators::compute(counts, weighings, range);
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
            trend: daily_series(counts, weighings, range),
            stages,
            components,
            meals: meal_days(counts, range),
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

    /// "Du 02/03/2026 au 31/03/2026".
    pub fn range_text(&self) -> String {
        format!("Du {} au {}", format_fr_date(self.range.start), format_fr_date(self.range.end))
    }

    /// Whether `kind` has anything to draw (else the page says there is no data yet).
    pub fn has(&self, kind: ChartKind) -> bool {
        match kind {
            ChartKind::Trend => !self.trend.is_empty(),
            ChartKind::Stages | ChartKind::Components => self.has_waste(),
            ChartKind::Meals => !self.meals.is_empty(),
        }
    }

    /// The French text alternative of `kind`.
    pub fn summary(&self, kind: ChartKind) -> String {
        match kind {
            ChartKind::Trend => self.trend_summary(),
            ChartKind::Stages => Self::bars_summary(&self.stages),
            ChartKind::Components => Self::bars_summary(&self.components),
            ChartKind::Meals => self.meals_summary(),
        }
    }

    /// What `kind` draws on a chart `css_width` pixels wide.
    pub fn figure(&self, kind: ChartKind, css_width: f64) -> Figure<'_> {
        match kind {
            ChartKind::Trend => Figure::Lines(self.trend_chart(css_width)),
            ChartKind::Stages => Figure::Bars(&self.stages),
            ChartKind::Components => Figure::Bars(&self.components),
            ChartKind::Meals => Figure::Lines(self.meals_chart(css_width)),
        }
    }

    /// The data table of `kind`: one row per day, stage or component, four columns (the
    /// page names them).
    pub fn rows(&self, kind: ChartKind) -> Vec<[String; 4]> {
        match kind {
            ChartKind::Trend => self
                .trend
                .iter()
                .map(|p| {
                    [
                        format_fr_date(p.day.service_date),
                        group_thousands(p.meals),
                        format_kg_rounded(p.grams),
                        format_grams_per_meal(p.grams_per_meal),
                    ]
                })
                .collect(),
            ChartKind::Stages | ChartKind::Components => {
                let bars = if kind == ChartKind::Stages { &self.stages } else { &self.components };
                bars.iter()
                    .map(|b| {
                        [
                            b.label.to_owned(),
                            format_kg_rounded(b.grams),
                            format_per_mille(u64::from(b.per_mille)),
                            b.reference_percent.map_or_else(|| "—".into(), |p| format_per_mille(u64::from(p) * 10)),
                        ]
                    })
                    .collect()
            }
            ChartKind::Meals => self
                .meals
                .iter()
                .map(|m| {
                    let (planned, gap) = if m.planned == 0 {
                        ("non saisi".to_owned(), "—".to_owned())
                    } else if m.planned >= m.served {
                        (group_thousands(m.planned), group_thousands(m.planned - m.served))
                    } else {
                        (group_thousands(m.planned), format!("-{}", group_thousands(m.served - m.planned)))
                    };
                    [format_fr_date(m.date), planned, group_thousands(m.served), gap]
                })
                .collect(),
        }
    }

    /// Totals of the period with their cost and CO2e (`factors` and the yearly meal count
    /// from Réglages); `None` when nothing was weighed.
    pub fn key_figures(&self, factors: &WasteFactors, yearly_meal_count: u32) -> Option<KeyFigures> {
        let ind = &self.indicators;
        if ind.total_grams == 0 {
            return None;
        }
        // Weighed figures as precise as the scale; figures computed from factors or
        // extrapolated marked ≈, with the precision of their factors (two figures).
        let mut figures = vec![
            ("Gaspillage par repas", ind.grams_per_meal.map_or_else(|| "—".into(), format_grams_per_meal)),
            ("Total pesé", format_kg_rounded(ind.total_grams)),
            ("Coût des denrées", approx(format_euros_two_figures(factors.cost_cents(ind.total_grams)))),
            ("Émissions", approx(format_mass_two_figures(factors.co2e_grams(ind.total_grams)) + " CO2e")),
        ];
        if let Some(g) = ind.yearly_estimate_grams(yearly_meal_count).filter(|_| yearly_meal_count > 0) {
            figures.push(("Estimation sur l'année", approx(format_kg_rounded(g))));
        }
        let (cost, co2e) = (&factors.cost_per_kg, &factors.co2e_per_kg);
        let days = ind.measured_days as usize;
        Some(KeyFigures {
            figures,
            note: format!(
                "{} repas servis sur {} mesuré{}. ≈ : estimation. Coût : {} {} ; émissions : {} {} (sources dans Réglages).",
                group_thousands(ind.meals_served),
                plural(days, "jour"),
                if days > 1 { "s" } else { "" },
                format_decimal_fr(cost.value),
                cost.unit,
                format_decimal_fr(co2e.value),
                co2e.unit,
            ),
            warning: ind.days_without_count.first().map(|first| {
                format!(
                    "⚠ {} jour(s) avec des pesées mais sans repas servis ne sont pas comptés (premier : {}) : saisissez leurs repas.",
                    ind.days_without_count.len(),
                    format_fr_date(first.service_date)
                )
            }),
        })
    }

    /// French summary of the trend chart (its text alternative).
    pub fn trend_summary(&self) -> String {
        let period = self.range_text();
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
            format_kg_rounded(self.indicators.total_grams),
            group_thousands(self.indicators.meals_served),
        );
        if let Some(edible) = self.indicators.edible_grams_per_meal {
            // Unsorted weighings: their inedible part is assumed, so the edible part is estimated.
            let (sign, estimate) = if self.indicators.edible.is_estimate { (APPROX, " (estimée)") } else { ("", "") };
            text.push_str(&format!(", dont partie comestible {sign}{}{estimate}", format_grams_per_meal(edible)));
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
            "Ligne en tirets : référence {} (« {} », {} g/repas{}).",
            self.ademe.source.split(',').next().unwrap_or(self.ademe.source),
            self.ademe.label,
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
        // Largest first, equal bars in the chart's order (a handful of bars: picked one by one).
        let mut left: Vec<&Bar> = bars.iter().filter(|b| b.grams > 0).collect();
        let mut parts = Vec::new();
        while !left.is_empty() {
            let first_largest = (1..left.len()).fold(0, |best, i| if left[i].grams > left[best].grams { i } else { best });
            let b = left.remove(first_largest);
            parts.push(format!("{} {} ({})", b.label, format_per_mille(u64::from(b.per_mille)), format_kg_rounded(b.grams)));
        }
        format!("Sur {} pesés : {}.", format_kg_rounded(total), parts.join(", "))
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

/// An estimate, marked as such: "≈ 250 kg".
fn approx(value: String) -> String {
    APPROX.to_owned() + &value
}

fn plural(n: usize, word: &str) -> String {
    plural_u64(n as u64, word)
}

/// "1 jour", "3 jours"; words ending in s or x don't change.
fn plural_u64(n: u64, word: &str) -> String {
    let s = if n > 1 && !word.ends_with(['s', 'x']) { "s" } else { "" };
    format!("{} {word}{s}", group_thousands(n))
}

/// How a line of a chart is drawn. States are told apart by stroke and marker, never by
/// colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pen {
    /// Measured waste per meal, or meals served: solid line, filled dots.
    Measured,
    /// The ADEME reference: dashed line.
    Reference,
    /// The canteen's own reference: dotted line.
    OwnReference,
    /// Planned meals: dashed line, hollow triangles.
    Planned,
}

/// One line of a [`LineChart`], in data units.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub pen: Pen,
    pub points: Vec<(f64, f64)>,
}

/// The label of a horizontal reference line at `y` (data units), across the whole plot.
/// Where it goes is computed when the chart is laid out ([`LineChart::layout`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub y: f64,
    pub text: String,
}

/// A line chart over the days of a range: x from -0.5 to `x_end` (days from the range
/// start), y from 0 to `y_max`. Plain data, so that one drawing function draws every chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub x_end: f64,
    pub y_max: f64,
    /// Positions and labels of the axis ticks.
    pub x_ticks: Vec<(f64, String)>,
    pub y_ticks: Vec<(f64, String)>,
    /// Unit of the y axis, written above it.
    pub unit: &'static str,
    /// Drawn in order: the last one stays on top.
    pub lines: Vec<Line>,
    /// Whether points get a marker (only when they stay distinct).
    pub marked: bool,
    pub notes: Vec<Note>,
    pub legend: Vec<(Pen, &'static str)>,
    /// Days drawn, reported on the canvas.
    pub points: usize,
}

/// Dots are drawn on each point only when they stay distinct.
pub const MAX_MARKED_POINTS: usize = 62;

impl ChartData {
    /// Axes of a line chart whose values reach `top` (at least `floor` high), for a chart
    /// `css_width` pixels wide (about one date label per 80 px, 2 to 10).
    fn frame(&self, top: f64, floor: f64, unit: &'static str, css_width: f64) -> LineChart {
        let span = self.span_days();
        let y_max = nice_ceiling(top, floor);
        let y_step = tick_step(y_max, 6);
        let labels = ((css_width / 80.0) as i64).clamp(2, 10).min(span);
        let x_step = tick_step(span as f64, labels as usize).ceil() as i64;
        LineChart {
            x_end: span as f64 - 0.5,
            y_max,
            x_ticks: (0..span)
                .filter(|d| d % x_step.max(1) == 0)
                .map(|d| (d as f64, date_tick(self.range.start + Duration::days(d), span)))
                .collect(),
            y_ticks: (0..=(y_max / y_step + 1e-9) as u64)
                .map(|k| {
                    let y = k as f64 * y_step;
                    (y, group_thousands(y.round() as u64))
                })
                .collect(),
            unit,
            lines: Vec::new(),
            marked: false,
            notes: Vec::new(),
            legend: Vec::new(),
            points: 0,
        }
    }

    /// Waste per meal of each measured day, with the ADEME reference and the canteen's own
    /// baseline, each named on the chart.
    pub fn trend_chart(&self, css_width: f64) -> LineChart {
        let ademe = f64::from(self.ademe.grams_per_meal);
        let top = self.trend.iter().map(|p| p.grams_per_meal).fold(ademe.max(self.baseline.unwrap_or(0.0)), f64::max);
        let mut c = self.frame(top, 50.0, "g/repas", css_width);
        let ends = |y: f64| vec![(-0.5, y), (c.x_end, y)];
        // References first, so the measured line stays on top.
        let mut lines = vec![Line { pen: Pen::Reference, points: ends(ademe) }];
        let mut notes = vec![Note { y: ademe, text: format!("ADEME 2024 : {} g (tirets)", self.ademe.grams_per_meal) }];
        if let Some(b) = self.baseline {
            lines.push(Line { pen: Pen::OwnReference, points: ends(b) });
            notes.push(Note { y: b, text: format!("Référence du restaurant : {} g (pointillés)", group_thousands(b.round() as u64)) });
        }
        lines.push(Line {
            pen: Pen::Measured,
            points: self.trend.iter().map(|p| (self.day_index(p.day.service_date) as f64, p.grams_per_meal)).collect(),
        });
        (c.lines, c.notes, c.marked, c.points) = (lines, notes, self.trend.len() <= MAX_MARKED_POINTS, self.trend.len());
        c
    }

    /// Meals served and planned per counted day (days without a planned count have no
    /// planned point).
    pub fn meals_chart(&self, css_width: f64) -> LineChart {
        let top = self.meals.iter().map(|d| d.planned.max(d.served)).max().unwrap_or(0) as f64;
        let mut c = self.frame(top, 10.0, "repas", css_width);
        let x = |d: &MealDay| self.day_index(d.date) as f64;
        c.lines = vec![
            Line { pen: Pen::Planned, points: self.meals.iter().filter(|d| d.planned > 0).map(|d| (x(d), d.planned as f64)).collect() },
            Line { pen: Pen::Measured, points: self.meals.iter().map(|d| (x(d), d.served as f64)).collect() },
        ];
        c.legend = vec![(Pen::Planned, "Prévus (tirets, triangles)"), (Pen::Measured, "Servis (trait plein, points)")];
        (c.marked, c.points) = (self.meals.len() <= MAX_MARKED_POINTS, self.meals.len());
        c
    }
}

/// Size of every text on the charts, in CSS pixels: readable at arm's length on a tablet.
pub const TEXT_PX: f64 = 14.0;
/// Space between a reference label's text and the edges of its (white) box.
pub const LABEL_PAD: f64 = 4.0;
/// Height of a reference label's box.
pub const LABEL_HEIGHT: f64 = TEXT_PX + 6.0;
/// Least distance from a label's box to any reference line's centre (lines are 2 px wide,
/// dots 4 px).
pub const LINE_CLEARANCE: f64 = 4.0;
/// Least distance between two labels' boxes.
pub const LABEL_SPACING: f64 = 2.0;
/// Slack for float rounding in the geometry comparisons.
const EPS: f64 = 1e-6;

/// A box on a canvas in CSS pixels: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    /// Whether the boxes share some area (touching edges don't).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
    /// The box with `m` more on every side.
    pub fn grown(&self, m: f64) -> Rect {
        Rect { x: self.x - m, y: self.y - m, w: self.w + 2.0 * m, h: self.h + 2.0 * m }
    }
    /// Whether a horizontal line at `y` passes less than [`LINE_CLEARANCE`] from the box.
    pub fn near_line(&self, y: f64) -> bool {
        y > self.y - LINE_CLEARANCE + EPS && y < self.bottom() + LINE_CLEARANCE - EPS
    }
    fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x && x <= self.right() && y >= self.y && y <= self.bottom()
    }
}

/// Places the label of each horizontal reference line: `lines[i]` is the y of a line across
/// the plot, labelled by a box `sizes[i]` (width, height). Every label goes inside `area`
/// (the plot less its edges) with no label overlapping another (nor closer than
/// [`LABEL_SPACING`]) and none closer than [`LINE_CLEARANCE`] to any line; if there is no
/// such room left for one, it goes under the plot, stacked from `below` (the caller makes
/// the canvas that tall). Whatever the values: equal lines, close ones, lines on an edge.
///
/// Labels are placed one by one, in order. Each takes, among the positions allowed, the
/// one next to its own line if any (just above or below it), then the one hiding the
/// fewest of `points` (the data's markers), then the closest to its line, at the lines'
/// right end rather than the left, above rather than below. The positions tried are those
/// against an edge of the area, a line or a label already placed, at the right or left end
/// or beside a label: any free position slides up and right to one of them, so a label
/// only goes under the plot when the plot has no room left for it at all.
pub fn place_line_labels(area: Rect, lines: &[f64], sizes: &[(f64, f64)], points: &[(f64, f64)], below: f64) -> Vec<Rect> {
    let mut placed: Vec<Rect> = Vec::with_capacity(sizes.len());
    let mut under = below;
    for (&own, &(w, h)) in lines.iter().zip(sizes) {
        let mut tops = vec![area.y, area.bottom() - h];
        for &y in lines {
            tops.extend([y + LINE_CLEARANCE, y - LINE_CLEARANCE - h]);
        }
        // Right end first: the value axis is on the left, the latest days on the right.
        let mut lefts = vec![(area.right() - w).max(area.x), area.x];
        for p in &placed {
            tops.extend([p.bottom() + LABEL_SPACING, p.y - LABEL_SPACING - h]);
            lefts.extend([p.x - LABEL_SPACING - w, p.right() + LABEL_SPACING]);
        }
        // A label wider than the area starts at its left edge.
        let inside = |b: &Rect| {
            b.y >= area.y - EPS
                && b.bottom() <= area.bottom() + EPS
                && b.x >= area.x - EPS
                && (b.right() <= area.right() + EPS || b.x <= area.x + EPS)
        };
        let free = |b: &Rect| {
            inside(b) && !lines.iter().any(|&y| b.near_line(y)) && !placed.iter().any(|p| b.grown(LABEL_SPACING - EPS).overlaps(p))
        };
        // Not next to its line, hidden markers, distance to its line (thousandths of a px),
        // end (0 right, 1 left, 2 beside a label), below its line: the smallest wins.
        let rank = |(end, b): &(usize, Rect)| {
            let distance = if b.bottom() <= own + EPS { own - b.bottom() } else { b.y - own };
            let hidden = points.iter().filter(|p| b.grown(5.0).contains(**p)).count();
            (distance > LINE_CLEARANCE + EPS, hidden, (distance * 1000.0).round() as u64, (*end).min(2), b.y > own)
        };
        let best = lefts
            .iter()
            .enumerate()
            .flat_map(|(end, &x)| tops.iter().map(move |&y| (end, Rect { x, y, w, h })))
            .filter(|(_, b)| free(b))
            .min_by_key(rank);
        placed.push(match best {
            Some((_, b)) => b,
            None => {
                let b = Rect { x: area.x, y: under, w, h };
                under += h + LABEL_SPACING;
                b
            }
        });
    }
    placed
}

/// Where a line chart's parts go on its canvas, in CSS pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct LineLayout {
    /// The plot: the value axis on its left edge, the dates under its bottom edge.
    pub plot: Rect,
    /// Box of each of the chart's notes, in order: white behind, text [`LABEL_PAD`] inside.
    pub notes: Vec<Rect>,
    /// Height of the canvas: the height asked, or more when labels went under the plot.
    pub height: f64,
    x_end: f64,
    y_max: f64,
}

impl LineLayout {
    /// Canvas x of a day (x from -0.5 to `x_end` fills the plot).
    pub fn x(&self, x: f64) -> f64 {
        self.plot.x + (x + 0.5) / (self.x_end + 0.5) * self.plot.w
    }
    /// Canvas y of a value (0 on the bottom edge, `y_max` on the top one).
    pub fn y(&self, y: f64) -> f64 {
        self.plot.bottom() - y / self.y_max * self.plot.h
    }
}

impl LineChart {
    /// Lays the chart out on a canvas `width` × `height`; `text_width` measures a text
    /// written [`TEXT_PX`] high. The value axis is as wide as its widest label; the notes
    /// are placed by [`place_line_labels`], away from the data's markers when they can be.
    pub fn layout(&self, width: f64, height: f64, text_width: impl Fn(&str) -> f64) -> LineLayout {
        let widest = self.y_ticks.iter().map(|(_, l)| text_width(l)).fold(0.0, f64::max);
        let left = (widest + 14.0).max(40.0);
        // Top: the unit is written above the axis; bottom: the dates under it.
        let (top, bottom) = (34.0, height - 36.0);
        let plot = Rect { x: left, y: top, w: (width - 14.0 - left).max(1.0), h: (bottom - top).max(1.0) };
        let mut layout = LineLayout { plot, notes: Vec::new(), height, x_end: self.x_end, y_max: self.y_max };
        let lines: Vec<f64> = self.notes.iter().map(|n| layout.y(n.y)).collect();
        let sizes: Vec<(f64, f64)> = self.notes.iter().map(|n| (text_width(&n.text) + 2.0 * LABEL_PAD, LABEL_HEIGHT)).collect();
        let points: Vec<(f64, f64)> = if self.marked {
            let data = self.lines.iter().filter(|l| !matches!(l.pen, Pen::Reference | Pen::OwnReference));
            data.flat_map(|l| l.points.iter().map(|&(x, y)| (layout.x(x), layout.y(y)))).collect()
        } else {
            Vec::new()
        };
        // Off the value axis and the plot's right end by 4 px; under the plot, below the dates.
        let area = Rect { x: plot.x + 4.0, y: plot.y, w: (plot.w - 8.0).max(1.0), h: plot.h };
        let notes = place_line_labels(area, &lines, &sizes, &points, plot.bottom() + TEXT_PX + 14.0);
        layout.height = notes.iter().map(|b| b.bottom() + 6.0).fold(height, f64::max);
        layout.notes = notes;
        layout
    }
}

/// A round step to split `0..max` into at most `n` intervals: 1, 2, 2.5 or 5 × 10^k.
pub fn tick_step(max: f64, n: usize) -> f64 {
    let raw = max / n.max(1) as f64;
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0].into_iter().map(|m| m * magnitude).find(|v| *v >= raw - 1e-9).unwrap_or(10.0 * magnitude)
}

/// Milliseconds with one decimal and a point, for data attributes read by benchmarks:
/// 12.34 → "12.3".
pub fn tenths(ms: f64) -> String {
    let t = (ms * 10.0).round().max(0.0) as u64;
    format!("{}.{}", t / 10, t % 10)
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
    use assiette_domain::waste::{Component, EdibleSplit};
    use chrono::{TimeZone, Utc};

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

    #[test]
    fn school_year_starts_on_the_first_of_september() {
        assert_eq!(school_year_start(d(2026, 11, 20)), d(2026, 9, 1));
        assert_eq!(school_year_start(d(2026, 9, 1)), d(2026, 9, 1));
        assert_eq!(school_year_start(d(2026, 8, 31)), d(2025, 9, 1));
        assert_eq!(school_year_start(d(2027, 1, 5)), d(2026, 9, 1));
    }

    #[test]
    fn periods_end_today() {
        let today = d(2026, 3, 31);
        assert_eq!(Period::Last30Days.range(today, None), DateRange::new(d(2026, 3, 2), today));
        assert_eq!(Period::SchoolYear.range(today, None), DateRange::new(d(2025, 9, 1), today));
        assert_eq!(Period::All.range(today, Some(d(2024, 1, 8))), DateRange::new(d(2024, 1, 8), today));
        assert_eq!(Period::All.range(today, None), DateRange::new(today, today));
        // A record dated after today (clock change) never makes an inverted range.
        assert_eq!(Period::All.range(today, Some(d(2026, 4, 2))), DateRange::new(today, today));
    }

    #[test]
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

    #[test]
    fn meal_days_sum_live_counts_of_the_site_per_date() {
        let s = site();
        let mut deleted = count(s, d(2026, 3, 3), 500, 500, 0);
        deleted.meta.deleted = true;
        let counts = vec![
            count(s, d(2026, 3, 3), 120, 100, 8),
            count(s, d(2026, 3, 3), 30, 25, 2), // second service the same day
            count(s, d(2026, 3, 2), 0, 90, 5),
            count(s, d(2026, 2, 27), 100, 100, 0), // outside the range
            count(s, d(2026, 3, 31), 0, 0, 0),     // closed: still a counted day
            deleted,
        ];
        let days = meal_days(&counts, DateRange::new(d(2026, 3, 1), d(2026, 3, 31)));
        assert_eq!(
            days,
            vec![
                MealDay { date: d(2026, 3, 2), planned: 0, served: 95 },
                MealDay { date: d(2026, 3, 3), planned: 150, served: 135 },
                MealDay { date: d(2026, 3, 31), planned: 0, served: 0 },
            ]
        );
        // An inverted range has no day.
        assert_eq!(meal_days(&counts, DateRange::new(d(2026, 3, 3), d(2026, 3, 2))), vec![]);
    }

    #[test]
    fn only_the_sites_records_are_kept() {
        let (s, other) = (site(), Uuid::from_u128(77));
        let mut counts = vec![count(other, d(2026, 3, 1), 50, 50, 0), count(s, d(2026, 3, 2), 110, 100, 0)];
        let mut weighings =
            vec![weighing(s, d(2026, 3, 4), Stage::Leftovers, None, 1_000), weighing(other, d(2026, 3, 2), Stage::Leftovers, None, 50_000)];
        keep_site(&mut counts, &mut weighings, s);
        assert_eq!((counts.len(), counts[0].site_id), (1, s));
        assert_eq!((weighings.len(), weighings[0].mass_grams), (1, 1_000));
        assert_eq!(first_date(&counts, &weighings), Some(d(2026, 3, 2)));
        // Deleted records don't start the "Tout" period.
        counts[0].meta.deleted = true;
        assert_eq!(first_date(&counts, &weighings), Some(d(2026, 3, 4)));
        assert_eq!(first_date(&[], &[]), None);
    }

    #[test]
    fn prepare_gives_shares_with_references() {
        let s = site();
        let range = DateRange::new(d(2026, 3, 2), d(2026, 3, 6));
        let counts = vec![count(s, d(2026, 3, 2), 110, 100, 0), count(s, d(2026, 3, 3), 100, 100, 0)];
        let weighings = vec![
            // 2 March: 6 kg leftovers + 4 kg unserved for 100 meals = 100 g/meal
            weighing(s, d(2026, 3, 2), Stage::Leftovers, Some(Component::Accompagnement), 6_000),
            weighing(s, d(2026, 3, 2), Stage::Unserved, None, 4_000),
            // 3 March: 5 kg for 100 meals = 50 g/meal
            weighing(s, d(2026, 3, 3), Stage::Leftovers, Some(Component::Pain), 5_000),
        ];
        let data = ChartData::prepare(&counts, &weighings, range, Some(120.0));
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

    #[test]
    fn summaries_state_the_figures_in_french() {
        let s = site();
        let range = DateRange::new(d(2026, 3, 2), d(2026, 3, 6));
        let counts = vec![count(s, d(2026, 3, 2), 110, 100, 0), count(s, d(2026, 3, 3), 100, 100, 0)];
        let weighings =
            vec![weighing(s, d(2026, 3, 2), Stage::Leftovers, None, 10_000), weighing(s, d(2026, 3, 3), Stage::Leftovers, None, 5_000)];
        let data = ChartData::prepare(&counts, &weighings, range, None);
        let t = assiette_domain::number::plain_spaces(&data.trend_summary());
        assert!(t.starts_with("Du 02/03/2026 au 06/03/2026 : 2 jours mesurés, 75 g/repas en moyenne (15 kg pour 200 repas)"), "{t}");
        // Unsorted: 15 % inedible assumed → 12,75 kg edible / 200 = 63,75 → 64 g, an estimate.
        assert!(t.contains("dont partie comestible ≈ 64 g/repas (estimée)"), "{t}");
        assert!(t.contains("Plus bas : 50 g/repas le 03/03/2026 ; plus haut : 100 g/repas le 02/03/2026"), "{t}");
        assert!(t.contains("ADEME 2024") && t.contains("100 g/repas, partie comestible"), "{t}");
        assert!(t.contains("Pas de référence propre au restaurant"), "{t}");

        let m = assiette_domain::number::plain_spaces(&data.meals_summary());
        // (210 − 200) ÷ 210 = 4,76 % → "4,8 %"
        assert_eq!(m, "2 jours comptés : 200 repas servis ; les jours où les prévisions sont saisies, 210 prévus pour 200 servis, écart de prévision 4,8 % (plus de repas prévus que servis). Prévus au-dessus des servis : 1 jour.");

        let b = assiette_domain::number::plain_spaces(&ChartData::bars_summary(&data.stages));
        assert_eq!(b, "Sur 15 kg pesés : Restes assiettes 100 % (15 kg).");
        // Largest first; equal bars in the chart's order; empty bars left out.
        let bar = |label, grams, per_mille| Bar { label, grams, per_mille, reference_percent: None };
        let bars = [bar("A", 1_000, 200), bar("B", 2_000, 400), bar("C", 0, 0), bar("D", 1_000, 200), bar("E", 1_000, 200)];
        assert_eq!(
            assiette_domain::number::plain_spaces(&ChartData::bars_summary(&bars)),
            "Sur 5 kg pesés : B 40 % (2 kg), A 20 % (1 kg), D 20 % (1 kg), E 20 % (1 kg)."
        );
    }

    #[test]
    fn empty_data_says_so() {
        let data = ChartData::prepare(&[], &[], DateRange::new(d(2026, 3, 2), d(2026, 3, 2)), Some(f64::NAN));
        assert!(!data.has_waste());
        assert!(data.trend.is_empty() && data.meals.is_empty());
        assert_eq!(data.baseline, None);
        assert!(data.trend_summary().contains("aucun jour mesuré"));
        assert_eq!(data.meals_summary(), "Aucun comptage de repas sur la période.");
        assert_eq!(ChartData::bars_summary(&data.stages), "Aucune pesée sur la période.");
    }

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(tick_step(120.0, 6), 20.0);
        assert_eq!(tick_step(150.0, 6), 25.0);
        assert_eq!(tick_step(250.0, 6), 50.0); // 41,7 → 50
        assert_eq!(tick_step(1200.0, 6), 200.0);
        assert_eq!(tick_step(30.0, 10), 5.0); // 3 → 5
        assert_eq!(tick_step(365.0, 10), 50.0); // 36,5 → 50
        assert_eq!(tick_step(1.0, 1), 1.0);
        assert_eq!(tick_step(0.0, 6), 1.0);
        assert_eq!(tick_step(f64::NAN, 6), 1.0);
    }

    fn march(baseline: Option<f64>) -> ChartData {
        let s = site();
        let counts = vec![count(s, d(2026, 3, 2), 110, 100, 0), count(s, d(2026, 3, 3), 0, 100, 0), count(s, d(2026, 3, 12), 90, 95, 0)];
        // 100, 50 and 130 g/meal on the three days.
        let weighings = vec![
            weighing(s, d(2026, 3, 2), Stage::Leftovers, None, 10_000),
            weighing(s, d(2026, 3, 3), Stage::Leftovers, None, 5_000),
            weighing(s, d(2026, 3, 12), Stage::Leftovers, None, 12_350),
        ];
        ChartData::prepare(&counts, &weighings, DateRange::new(d(2026, 3, 2), d(2026, 3, 31)), baseline)
    }

    #[test]
    fn trend_chart_has_the_days_the_references_and_round_axes() {
        let c = march(Some(110.4)).trend_chart(800.0);
        // 30 days, 10 labels wanted: a tick every 5 days.
        assert_eq!(c.x_end, 29.5);
        let x: Vec<(f64, &str)> = c.x_ticks.iter().map(|(x, l)| (*x, l.as_str())).collect();
        assert_eq!(x, vec![(0.0, "02/03"), (5.0, "07/03"), (10.0, "12/03"), (15.0, "17/03"), (20.0, "22/03"), (25.0, "27/03")]);
        // Highest 130 g → 143 → 150, ticks every 25 g.
        assert_eq!(c.y_max, 150.0);
        assert_eq!(c.y_ticks.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(), ["0", "25", "50", "75", "100", "125", "150"]);
        assert_eq!(c.unit, "g/repas");
        assert_eq!(
            c.lines,
            vec![
                Line { pen: Pen::Reference, points: vec![(-0.5, 100.0), (29.5, 100.0)] },
                Line { pen: Pen::OwnReference, points: vec![(-0.5, 110.4), (29.5, 110.4)] },
                Line { pen: Pen::Measured, points: vec![(0.0, 100.0), (1.0, 50.0), (10.0, 130.0)] },
            ]
        );
        let notes: Vec<(f64, &str)> = c.notes.iter().map(|n| (n.y, n.text.as_str())).collect();
        assert_eq!(notes, vec![(100.0, "ADEME 2024 : 100 g (tirets)"), (110.4, "Référence du restaurant : 110 g (pointillés)")]);
        assert_eq!((c.points, c.marked), (3, true));
        assert!(c.legend.is_empty());

        // Narrow screen: 4 labels wanted → every 10 days; no baseline → no dotted line.
        let c = march(None).trend_chart(320.0);
        assert_eq!(c.x_ticks.iter().map(|(x, _)| *x).collect::<Vec<_>>(), vec![0.0, 10.0, 20.0]);
        assert_eq!(c.lines.iter().map(|l| l.pen).collect::<Vec<_>>(), vec![Pen::Reference, Pen::Measured]);
        assert_eq!(c.notes.len(), 1);
    }

    #[test]
    fn meals_chart_leaves_out_unplanned_days() {
        let c = march(None).meals_chart(800.0);
        assert_eq!(
            c.lines,
            vec![
                Line { pen: Pen::Planned, points: vec![(0.0, 110.0), (10.0, 90.0)] },
                Line { pen: Pen::Measured, points: vec![(0.0, 100.0), (1.0, 100.0), (10.0, 95.0)] },
            ]
        );
        // 110 → 121 → 150; 150 / 6 = 25.
        assert_eq!((c.y_max, c.y_ticks.len()), (150.0, 7));
        assert_eq!(c.legend, vec![(Pen::Planned, "Prévus (tirets, triangles)"), (Pen::Measured, "Servis (trait plein, points)")]);
        assert_eq!((c.points, c.unit), (3, "repas"));
        // One day: one tick; thousands grouped on the value axis.
        let s = site();
        let one = ChartData::prepare(&[count(s, d(2026, 3, 2), 0, 2_000, 0)], &[], DateRange::new(d(2026, 3, 2), d(2026, 3, 2)), None);
        let c = one.meals_chart(800.0);
        assert_eq!(c.x_ticks, vec![(0.0, "02/03".to_owned())]);
        assert_eq!(c.y_ticks.last().map(|(y, l)| (*y, assiette_domain::number::plain_spaces(l))), Some((2_500.0, "2 500".to_owned())));
        assert_eq!(c.lines[0].points, vec![]);
    }

    #[test]
    fn markers_only_while_points_stay_distinct() {
        let s = site();
        let start = d(2025, 9, 1);
        let counts: Vec<DailyMealCount> = (0..63).map(|i| count(s, start + Duration::days(i), 100, 100, 0)).collect();
        let data = ChartData::prepare(&counts, &[], DateRange::new(start, d(2026, 8, 31)), None);
        let c = data.meals_chart(800.0);
        assert_eq!((c.points, c.marked), (63, false));
        let data = ChartData::prepare(&counts[..62], &[], DateRange::new(start, d(2026, 8, 31)), None);
        assert!(data.meals_chart(800.0).marked);
    }

    #[test]
    fn each_chart_says_whether_it_has_data_and_what_it_shows() {
        let data = march(None);
        assert!(ChartKind::ALL.iter().all(|k| data.has(*k)));
        assert_eq!(data.summary(ChartKind::Stages), ChartData::bars_summary(&data.stages));
        assert_eq!(data.summary(ChartKind::Components), ChartData::bars_summary(&data.components));
        assert_eq!(data.summary(ChartKind::Meals), data.meals_summary());
        assert!(data.summary(ChartKind::Trend).starts_with("Du 02/03/2026 au 31/03/2026 : 3 jours mesurés"));
        assert_eq!(data.range_text(), "Du 02/03/2026 au 31/03/2026");
        assert_eq!(data.figure(ChartKind::Trend, 800.0), Figure::Lines(data.trend_chart(800.0)));
        assert_eq!(data.figure(ChartKind::Meals, 320.0), Figure::Lines(data.meals_chart(320.0)));
        assert_eq!(data.figure(ChartKind::Stages, 800.0), Figure::Bars(&data.stages));
        assert_eq!(data.figure(ChartKind::Components, 800.0), Figure::Bars(&data.components));

        // Meals counted but nothing weighed: only the meals chart.
        let s = site();
        let data = ChartData::prepare(&[count(s, d(2026, 3, 2), 0, 80, 0)], &[], DateRange::new(d(2026, 3, 2), d(2026, 3, 3)), None);
        let has: Vec<bool> = ChartKind::ALL.iter().map(|k| data.has(*k)).collect();
        assert_eq!(has, vec![false, false, false, true]);
    }

    fn plain_rows(rows: Vec<[String; 4]>) -> Vec<[String; 4]> {
        rows.into_iter().map(|r| r.map(|c| assiette_domain::number::plain_spaces(&c))).collect()
    }

    #[test]
    fn data_tables_have_one_row_per_day_stage_or_component() {
        let data = march(None);
        let row = |a: &str, b: &str, c: &str, e: &str| [a.to_owned(), b.to_owned(), c.to_owned(), e.to_owned()];
        assert_eq!(
            plain_rows(data.rows(ChartKind::Trend)),
            vec![
                row("02/03/2026", "100", "10 kg", "100 g/repas"),
                row("03/03/2026", "100", "5 kg", "50 g/repas"),
                // 12,35 kg weighed: shown to the tenth of a kg, half up.
                row("12/03/2026", "95", "12,4 kg", "130 g/repas"),
            ]
        );
        // 27,35 kg, all leftovers: preparation and unserved empty.
        assert_eq!(
            plain_rows(data.rows(ChartKind::Stages)),
            vec![
                row("Excédents de préparation", "0 kg", "0 %", "5 %"),
                row("Présentés non servis", "0 kg", "0 %", "34 %"),
                row("Restes assiettes", "27,4 kg", "100 %", "60 %"),
            ]
        );
        let components = plain_rows(data.rows(ChartKind::Components));
        assert_eq!(components.len(), 7);
        // Unsorted weighings: no ADEME share.
        assert_eq!(components[6], row(component_label(None), "27,4 kg", "100 %", "—"));
        // Planned 110 for 100 served; none entered; 90 planned for 95 served.
        assert_eq!(
            plain_rows(data.rows(ChartKind::Meals)),
            vec![row("02/03/2026", "110", "100", "10"), row("03/03/2026", "non saisi", "100", "—"), row("12/03/2026", "90", "95", "-5")]
        );
    }

    #[test]
    fn key_figures_give_totals_cost_emissions_and_unmatched_days() {
        let s = site();
        let counts = vec![count(s, d(2026, 3, 2), 0, 100, 0)];
        // 5 March has a weighing but no meal count: left out and named.
        let weighings =
            vec![weighing(s, d(2026, 3, 2), Stage::Leftovers, None, 10_000), weighing(s, d(2026, 3, 5), Stage::Leftovers, None, 2_000)];
        let data = ChartData::prepare(&counts, &weighings, DateRange::new(d(2026, 3, 2), d(2026, 3, 31)), None);
        let k = data.key_figures(&WasteFactors::default(), 14_000).expect("waste weighed");
        let figures: Vec<(&str, String)> = k.figures.iter().map(|(t, v)| (*t, assiette_domain::number::plain_spaces(v))).collect();
        // 10 kg × 2,4 €/kg = 24 €; × 4 kg CO2e/kg = 40 kg; 10 kg ÷ 100 meals × 14 000 = 1 400 kg:
        // the three are estimates.
        let expected = [
            ("Gaspillage par repas", "100 g/repas"),
            ("Total pesé", "10 kg"),
            ("Coût des denrées", "≈ 24 €"),
            ("Émissions", "≈ 40 kg CO2e"),
            ("Estimation sur l'année", "≈ 1 400 kg"),
        ];
        assert_eq!(figures, expected.map(|(t, v)| (t, v.to_owned())));
        assert_eq!(
            assiette_domain::number::plain_spaces(&k.note),
            "100 repas servis sur 1 jour mesuré. ≈ : estimation. Coût : 2,4 €/kg ; émissions : 4 kg CO2e/kg (sources dans Réglages)."
        );
        assert_eq!(
            k.warning.as_deref(),
            Some("⚠ 1 jour(s) avec des pesées mais sans repas servis ne sont pas comptés (premier : 05/03/2026) : saisissez leurs repas.")
        );
        // No yearly meal count: no yearly estimate. Nothing weighed: no key figures.
        assert_eq!(data.key_figures(&WasteFactors::default(), 0).unwrap().figures.len(), 4);
        assert_eq!(ChartData::prepare(&counts, &[], data.range, None).key_figures(&WasteFactors::default(), 14_000), None);
    }

    #[test]
    fn figures_are_as_precise_as_what_they_come_from() {
        // The issue's figures: 63,447 kg weighed for 1 000 meals, 71 187 meals a year.
        let s = site();
        let counts: Vec<DailyMealCount> = (0..10).map(|i| count(s, d(2026, 3, 2) + Duration::days(i), 0, 100, 0)).collect();
        let mut weighings: Vec<Weighing> =
            (0..9).map(|i| weighing(s, d(2026, 3, 2) + Duration::days(i), Stage::Leftovers, None, 6_345)).collect();
        weighings.push(weighing(s, d(2026, 3, 11), Stage::Leftovers, None, 6_342));
        let data = ChartData::prepare(&counts, &weighings, DateRange::new(d(2026, 3, 2), d(2026, 3, 31)), None);
        let k = data.key_figures(&WasteFactors::default(), 71_187).expect("waste weighed");
        let figures: Vec<String> = k.figures.iter().map(|(_, v)| assiette_domain::number::plain_spaces(v)).collect();
        // 63,447 kg × 2,4 = 152,27 €; × 4 = 253,788 kg CO2e; × 71,187 = 4 516,6 kg a year.
        assert_eq!(figures, ["63 g/repas", "63,4 kg", "≈ 150 €", "≈ 250 kg CO2e", "≈ 4 517 kg"]);
        // From a tonne, CO2e in t: 300 kg × 4 = 1 200 kg.
        let heavy = vec![weighing(s, d(2026, 3, 2), Stage::Leftovers, None, 300_000)];
        let data = ChartData::prepare(&counts, &heavy, data.range, None);
        let k = data.key_figures(&WasteFactors::default(), 0).expect("waste weighed");
        assert_eq!(assiette_domain::number::plain_spaces(&k.figures[3].1), "≈ 1,2 t CO2e");
        assert_eq!(assiette_domain::number::plain_spaces(&k.figures[1].1), "300 kg");
        // Measured edible part: no ≈.
        let sorted = vec![Weighing { sorted: Some(EdibleSplit { edible_grams: 240_000, inedible_grams: 60_000 }), ..heavy[0].clone() }];
        let t = assiette_domain::number::plain_spaces(&ChartData::prepare(&counts, &sorted, data.range, None).trend_summary());
        assert!(t.contains("(300 kg pour 100 repas), dont partie comestible 2 400 g/repas."), "{t}");
    }

    /// A fake text measure: 0,6 em per character.
    fn measure(s: &str) -> f64 {
        s.chars().count() as f64 * TEXT_PX * 0.6
    }

    /// Checks what [`place_line_labels`] promises: every box in `area` (or stacked under
    /// `below`), none overlapping or closer than the spacing to another, none near a line.
    fn check_placement(area: Rect, lines: &[f64], boxes: &[Rect], below: f64) {
        let case = format!("area {area:?}, lines {lines:?}, boxes {boxes:?}");
        for (i, b) in boxes.iter().enumerate() {
            let inside = b.y >= area.y - 1e-9 && b.bottom() <= area.bottom() + 1e-9 && b.x >= area.x - 1e-9;
            let fits = b.right() <= area.right() + 1e-9 || b.x == area.x;
            assert!((inside && fits) || b.y >= below, "label {i} out of place: {case}");
            for &y in lines {
                assert!(y <= b.y - LINE_CLEARANCE + 1e-9 || y >= b.bottom() + LINE_CLEARANCE - 1e-9, "label {i} on line {y}: {case}");
            }
            for o in &boxes[..i] {
                let apart = o.right() + LABEL_SPACING <= b.x + 1e-9
                    || b.right() + LABEL_SPACING <= o.x + 1e-9
                    || o.bottom() + LABEL_SPACING <= b.y + 1e-9
                    || b.bottom() + LABEL_SPACING <= o.y + 1e-9;
                assert!(apart, "label {i} on another: {case}");
            }
        }
    }

    /// Whether a box sits right next to the line at `y`, above or below it.
    fn next_to(b: &Rect, y: f64) -> bool {
        (b.y - (y + LINE_CLEARANCE)).abs() < 1e-9 || (b.bottom() - (y - LINE_CLEARANCE)).abs() < 1e-9
    }

    #[test]
    fn the_issues_reference_labels_sit_each_by_its_line() {
        // The site's 110 g and ADEME's 100 g, 20 px apart: too close for a label between them.
        let c = march(Some(110.0)).trend_chart(800.0);
        let l = c.layout(800.0, 360.0, measure);
        let (ademe, own) = (l.notes[0], l.notes[1]);
        let area_right = l.plot.right() - 4.0;
        assert!(l.y(100.0) - l.y(110.0) < LABEL_HEIGHT + 2.0 * LINE_CLEARANCE);
        // ADEME's under its line, the site's above its own, both at the lines' right end.
        assert_eq!((ademe.y, ademe.right()), (l.y(100.0) + LINE_CLEARANCE, area_right));
        assert_eq!((own.bottom(), own.right()), (l.y(110.0) - LINE_CLEARANCE, area_right));
        assert_eq!(ademe.w, measure("ADEME 2024 : 100 g (tirets)") + 2.0 * LABEL_PAD);
        assert_eq!((l.height, l.plot), (360.0, Rect { x: 40.0, y: 34.0, w: 746.0, h: 290.0 }));
        check_placement(Rect { x: l.plot.x + 4.0, w: l.plot.w - 8.0, ..l.plot }, &[l.y(100.0), l.y(110.0)], &l.notes, f64::INFINITY);

        // Equal values: one above the line, one below, both at the right end.
        let c = march(Some(100.0)).trend_chart(800.0);
        let l = c.layout(800.0, 360.0, measure);
        let y = l.y(100.0);
        assert_eq!((l.notes[0].bottom(), l.notes[1].y), (y - LINE_CLEARANCE, y + LINE_CLEARANCE));
        assert_eq!(l.notes[0].right(), l.notes[1].right());
    }

    #[test]
    fn labels_avoid_the_data_markers_when_they_can() {
        let area = Rect { x: 0.0, y: 0.0, w: 600.0, h: 300.0 };
        // Free right end: above the line.
        let boxes = place_line_labels(area, &[150.0], &[(200.0, 20.0)], &[(550.0, 160.0)], 400.0);
        assert_eq!(boxes, vec![Rect { x: 400.0, y: 126.0, w: 200.0, h: 20.0 }]);
        // A marker above the right end of the line: the label goes below it.
        let boxes = place_line_labels(area, &[150.0], &[(200.0, 20.0)], &[(550.0, 140.0)], 400.0);
        assert_eq!(boxes, vec![Rect { x: 400.0, y: 154.0, w: 200.0, h: 20.0 }]);
        // Markers above and below the right end: the left end.
        let boxes = place_line_labels(area, &[150.0], &[(200.0, 20.0)], &[(550.0, 160.0), (500.0, 140.0)], 400.0);
        assert_eq!(boxes, vec![Rect { x: 0.0, y: 126.0, w: 200.0, h: 20.0 }]);
        // Next to its line first, even over a marker.
        let points: Vec<(f64, f64)> = (0..=60).flat_map(|i| [(f64::from(i) * 10.0, 140.0), (f64::from(i) * 10.0, 160.0)]).collect();
        let boxes = place_line_labels(area, &[150.0], &[(200.0, 20.0)], &points, 400.0);
        assert!(next_to(&boxes[0], 150.0), "{boxes:?}");
    }

    #[test]
    fn labels_at_the_edges_go_inside_and_crowded_ones_under_the_plot() {
        let area = Rect { x: 10.0, y: 20.0, w: 500.0, h: 200.0 };
        // Lines on the top and bottom edges: below the first, above the second.
        let boxes = place_line_labels(area, &[20.0, 220.0], &[(150.0, 20.0), (150.0, 20.0)], &[], 260.0);
        assert_eq!((boxes[0].y, boxes[1].bottom()), (24.0, 216.0));
        check_placement(area, &[20.0, 220.0], &boxes, 260.0);
        // Lines 18 px apart fill the plot: no room for any label, all under it, stacked.
        let lines: Vec<f64> = (0..12).map(|i| 20.0 + 18.0 * f64::from(i)).collect();
        let boxes = place_line_labels(area, &lines, &[(100.0, 20.0); 12], &[], 260.0);
        assert_eq!(
            boxes.iter().map(|b| (b.x, b.y)).collect::<Vec<_>>(),
            (0..12).map(|i| (10.0, 260.0 + 22.0 * f64::from(i))).collect::<Vec<_>>()
        );
        // A label wider than the plot starts at its left edge.
        let boxes = place_line_labels(area, &[120.0], &[(800.0, 20.0)], &[], 260.0);
        assert_eq!((boxes[0].x, boxes[0].bottom()), (10.0, 116.0));
        // Nothing to place.
        assert_eq!(place_line_labels(area, &[], &[], &[], 260.0), vec![]);
    }

    #[test]
    fn two_reference_labels_never_collide_whatever_the_values() {
        for (width, height) in [(800.0, 360.0), (1200.0, 420.0), (320.0, 240.0), (600.0, 200.0)] {
            for a in 0..=60 {
                for b in 0..=60 {
                    // 0 to 150 g in steps of 2,5 g, the plot's top edge included.
                    let (ya, yb) = (f64::from(a) * 2.5, f64::from(b) * 2.5);
                    let mut c = march(None).trend_chart(width);
                    c.notes = vec![
                        Note { y: ya, text: "ADEME 2024 : 100 g (tirets)".into() },
                        Note { y: yb, text: "Référence du restaurant : 110 g (pointillés)".into() },
                    ];
                    let l = c.layout(width, height, measure);
                    let lines = [l.y(ya), l.y(yb)];
                    let area = Rect { x: l.plot.x + 4.0, w: l.plot.w - 8.0, ..l.plot };
                    check_placement(area, &lines, &l.notes, l.plot.bottom() + TEXT_PX + 14.0);
                    let case = format!("{width}×{height}, {ya} and {yb} g: {:?}", l.notes);
                    // Two lines leave three gaps of a label or more: no label under the plot.
                    assert!(l.notes.iter().all(|n| n.bottom() <= l.plot.bottom()), "{case}");
                    assert_eq!(l.height, height, "{case}");
                    // A line with room on both sides always has its label right next to it.
                    let room = |y: f64| y - area.y >= LABEL_HEIGHT + LINE_CLEARANCE && area.bottom() - y >= LABEL_HEIGHT + LINE_CLEARANCE;
                    for (n, y) in l.notes.iter().zip(lines) {
                        assert!(!(room(lines[0]) && room(lines[1])) || next_to(n, y), "{case}");
                    }
                }
            }
        }
    }

    /// A small deterministic generator (xorshift) for the randomised placements.
    struct Xorshift(u64);
    impl Xorshift {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn many_labels_never_collide_and_leave_the_plot_only_when_it_is_full() {
        let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
        let mut under = 0;
        for case in 0..400 {
            let area = Rect { x: 40.0, y: 28.0, w: 150.0 + rng.next() * 700.0, h: 60.0 + rng.next() * 300.0 };
            let n = 1 + (rng.next() * 6.0) as usize;
            let lines: Vec<f64> = (0..n)
                .map(|_| match (rng.next() * 4.0) as u32 {
                    // On an edge, close to another line, or anywhere.
                    0 => {
                        if rng.next() < 0.5 {
                            area.y
                        } else {
                            area.bottom()
                        }
                    }
                    1 => area.y + (rng.next() * area.h / 10.0).round() * 10.0,
                    _ => area.y + rng.next() * area.h,
                })
                .collect();
            let sizes: Vec<(f64, f64)> = (0..n).map(|_| (40.0 + rng.next() * 400.0, LABEL_HEIGHT)).collect();
            let points: Vec<(f64, f64)> = (0..20).map(|_| (area.x + rng.next() * area.w, area.y + rng.next() * area.h)).collect();
            let below = area.bottom() + 30.0;
            let boxes = place_line_labels(area, &lines, &sizes, &points, below);
            assert_eq!(boxes.len(), n);
            check_placement(area, &lines, &boxes, below);
            // A label under the plot had no free place in it, given the labels before it:
            // none found on a 1 px grid either.
            for (i, b) in boxes.iter().enumerate().filter(|(_, b)| b.y >= below) {
                under += 1;
                let (w, h) = sizes[i];
                let free = |x: f64, y: f64| {
                    let c = Rect { x, y, w, h };
                    lines.iter().all(|&l| l <= y - LINE_CLEARANCE || l >= y + h + LINE_CLEARANCE)
                        && boxes[..i].iter().all(|o| !c.grown(LABEL_SPACING - 1e-6).overlaps(o))
                };
                let xs: Vec<f64> =
                    if w > area.w { vec![area.x] } else { (0..=(area.w - w) as u32).map(|k| area.x + f64::from(k)).collect() };
                for y in (0..=(area.h - h).max(-1.0) as i32).map(|k| area.y + f64::from(k)) {
                    assert!(!xs.iter().any(|&x| free(x, y)), "case {case}: label {i} {b:?} had room at y {y}");
                }
            }
        }
        // The cases do crowd some plots.
        assert!(under > 0);
    }

    #[test]
    fn milliseconds_keep_one_decimal_with_a_point() {
        assert_eq!(tenths(12.34), "12.3");
        assert_eq!(tenths(12.35), "12.4");
        assert_eq!(tenths(0.0), "0.0");
        assert_eq!(tenths(1234.96), "1235.0");
        assert_eq!(tenths(-0.01), "0.0");
    }

    #[test]
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
