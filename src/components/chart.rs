//! Charts drawn on the device (plotters on a 2D canvas). Each `draw_*` function only draws the
//! data it is given into a canvas already sized by [`fit_canvas`], and returns how many data
//! points it drew. States are told apart by line style, markers and text labels, never by
//! colour alone: the measured series is a solid line with filled dots, the ADEME reference
//! a dashed line, the canteen's own reference a dotted line, planned meals dashed with hollow
//! triangles; bar values are written next to every bar.

use assiette_domain::number::{format_kg, format_per_mille, group_thousands};
use chrono::Duration;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::chart_data::{date_tick, nice_ceiling, Bar, ChartData, MealDay};

const INK: RGBColor = RGBColor(0x1a, 0x1a, 0x1a);
const GREEN: RGBColor = RGBColor(0x1b, 0x5e, 0x3b);
const BROWN: RGBColor = RGBColor(0x7a, 0x3e, 0x00);
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
const FONT: &str = "sans-serif";
/// Dots are drawn on each point only when they stay distinct.
const MAX_MARKED_POINTS: usize = 62;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Sizes the canvas to its container's width and `css_height` CSS pixels, with
/// devicePixelRatio device pixels per CSS pixel so lines stay sharp. Returns that ratio.
pub fn fit_canvas(canvas: &HtmlCanvasElement, css_height: f64) -> f64 {
    let window = web_sys::window();
    let dpr = window.as_ref().map(|w| w.device_pixel_ratio()).filter(|r| r.is_finite() && *r > 0.0).unwrap_or(1.0);
    let width = canvas.parent_element().map(|p| f64::from(p.client_width())).filter(|w| *w > 0.0).unwrap_or(320.0);
    canvas.set_width((width * dpr).round() as u32);
    canvas.set_height((css_height * dpr).round() as u32);
    let _ = canvas.set_attribute("style", &format!("width:{width}px;height:{css_height}px"));
    dpr
}

/// A good height for a line chart `css_width` wide: taller in portrait, never taller than
/// most of the screen in landscape.
pub fn line_chart_height(css_width: f64, viewport_height: f64) -> f64 {
    let wanted = (css_width * 0.6).clamp(240.0, 420.0);
    let max = (viewport_height * 0.75).max(200.0);
    wanted.min(max)
}

/// Height of a bar chart with `rows` bars (label above each bar, legend line below).
pub fn bar_chart_height(rows: usize) -> f64 {
    rows as f64 * 50.0 + 40.0
}

/// Scales CSS pixels to device pixels.
#[derive(Clone, Copy)]
struct Px(f64);

impl Px {
    fn i(self, css: f64) -> i32 {
        (css * self.0).round() as i32
    }
    fn u(self, css: f64) -> u32 {
        (css * self.0).round().max(1.0) as u32
    }
    fn f(self, css: f64) -> f64 {
        css * self.0
    }
}

/// Waste per meal of each measured day, with the ADEME reference (dashed) and the canteen's
/// own baseline (dotted), each named on the chart.
pub fn draw_trend(canvas: &HtmlCanvasElement, data: &ChartData, dpr: f64) -> Result<usize, String> {
    let px = Px(dpr);
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas 2D indisponible")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let font = (FONT, px.f(13.0)).into_font().color(&INK);
    let span = data.span_days();
    let ademe = f64::from(data.ademe.grams_per_meal);
    let top = data.trend.iter().map(|p| p.grams_per_meal).fold(ademe.max(data.baseline.unwrap_or(0.0)), f64::max);
    let y_max = nice_ceiling(top, 50.0);
    let x_end = span as f64 - 0.5;
    let css_width = f64::from(canvas.width()) / dpr;
    let start = data.range.start;
    let x_fmt = move |x: &f64| date_tick(start + Duration::days(x.round() as i64), span);
    let y_fmt = |y: &f64| format!("{y:.0}");

    let mut chart = ChartBuilder::on(&root)
        .margin(px.i(8.0))
        .margin_right(px.i(14.0))
        .x_label_area_size(px.i(26.0))
        .y_label_area_size(px.i(44.0))
        .build_cartesian_2d(-0.5..x_end, 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(((css_width / 80.0) as usize).clamp(2, 10).min(span as usize))
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_desc("g/repas")
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID.stroke_width(px.u(1.0)))
        .axis_style(INK.stroke_width(px.u(1.0)))
        .draw()
        .map_err(err)?;

    // References first, so the measured line stays on top.
    let small = (FONT, px.f(12.0)).into_font().color(&INK);
    chart
        .draw_series(DashedLineSeries::new([(-0.5, ademe), (x_end, ademe)], px.i(10.0), px.i(6.0), INK.stroke_width(px.u(2.0))))
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(Text::new(
            format!("ADEME 2024 : {} g (tirets)", data.ademe.grams_per_meal),
            (x_end, ademe),
            small.clone().pos(Pos::new(HPos::Right, VPos::Bottom)),
        )))
        .map_err(err)?;
    if let Some(b) = data.baseline {
        let dot = px.i(2.0);
        chart
            .draw_series(DottedLineSeries::new([(-0.5, b), (x_end, b)], 0, px.i(8.0), move |c| Circle::new(c, dot, INK.filled())))
            .map_err(err)?;
        // Left end, below the line, so it never sits on the ADEME label.
        chart
            .draw_series(std::iter::once(Text::new(
                format!("Référence du restaurant : {} g (pointillés)", b.round()),
                (-0.5, b),
                small.clone().pos(Pos::new(HPos::Left, VPos::Top)),
            )))
            .map_err(err)?;
    }

    let points: Vec<(f64, f64)> = data.trend.iter().map(|p| (data.day_index(p.day.service_date) as f64, p.grams_per_meal)).collect();
    chart.draw_series(LineSeries::new(points.iter().copied(), GREEN.stroke_width(px.u(2.5)))).map_err(err)?;
    if points.len() <= MAX_MARKED_POINTS {
        let r = px.i(4.0);
        chart.draw_series(points.iter().map(|&p| Circle::new(p, r, GREEN.filled()))).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(points.len())
}

/// One bar per row: its label above, the bar, its share and mass written after it, and a
/// black mark at the ADEME 2024 share when the study gives one.
pub fn draw_bars(canvas: &HtmlCanvasElement, bars: &[Bar], dpr: f64) -> Result<usize, String> {
    let px = Px(dpr);
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas 2D indisponible")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let label_font = (FONT, px.f(14.0)).into_font().color(&INK);
    let value_font = (FONT, px.f(13.0)).into_font().style(FontStyle::Bold).color(&INK);
    let rows = bars.len();
    let has_ref = bars.iter().any(|b| b.reference_percent.is_some());
    let widest = bars
        .iter()
        .map(|b| f64::from(b.per_mille) / 10.0)
        .chain(bars.iter().filter_map(|b| b.reference_percent.map(f64::from)))
        .fold(1.0, f64::max);
    // Bars use at most 60 % of the width: the rest holds "52,3 % · 12,5 kg".
    let x_max = widest / 0.6;
    let y_rows = rows as f64 + if has_ref { 0.8 } else { 0.0 };
    let mut chart =
        ChartBuilder::on(&root).margin(px.i(6.0)).margin_left(px.i(4.0)).build_cartesian_2d(0.0..x_max, y_rows..0.0).map_err(err)?;

    let mut drawn = 0;
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64;
        let pct = f64::from(bar.per_mille) / 10.0;
        chart
            .draw_series(std::iter::once(Text::new(
                bar.label.to_owned(),
                (0.0, y + 0.04),
                label_font.clone().pos(Pos::new(HPos::Left, VPos::Top)),
            )))
            .map_err(err)?;
        // A thin outline marks an empty bar so zero is visible, not missing.
        let style = if bar.grams > 0 { GREEN.filled() } else { INK.stroke_width(px.u(1.0)) };
        chart.draw_series(std::iter::once(Rectangle::new([(0.0, y + 0.46), (pct.max(x_max * 0.004), y + 0.88)], style))).map_err(err)?;
        if let Some(r) = bar.reference_percent {
            let r = f64::from(r);
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(r, y + 0.38), (r, y + 0.96)], INK.stroke_width(px.u(3.0)))))
                .map_err(err)?;
        }
        let value = format!("{} · {}", format_per_mille(u64::from(bar.per_mille)), format_kg(bar.grams));
        let after = pct.max(bar.reference_percent.map(f64::from).unwrap_or(0.0)) + x_max * 0.02;
        chart
            .draw_series(std::iter::once(Text::new(value, (after, y + 0.67), value_font.clone().pos(Pos::new(HPos::Left, VPos::Center)))))
            .map_err(err)?;
        if bar.grams > 0 {
            drawn += 1;
        }
    }
    if has_ref {
        let y = rows as f64 + 0.15;
        chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, y), (0.0, y + 0.55)], INK.stroke_width(px.u(3.0))))).map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "trait noir : part de référence ADEME 2024".to_owned(),
                (x_max * 0.02, y + 0.3),
                (FONT, px.f(12.0)).into_font().color(&INK).pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(drawn)
}

/// Meals served (solid line, filled dots) and planned (dashed line, hollow triangles) per day.
pub fn draw_meals(canvas: &HtmlCanvasElement, data: &ChartData, dpr: f64) -> Result<usize, String> {
    let px = Px(dpr);
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas 2D indisponible")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let font = (FONT, px.f(13.0)).into_font().color(&INK);
    let span = data.span_days();
    let x_end = span as f64 - 0.5;
    let top = data.meals.iter().map(|d| d.planned.max(d.served)).max().unwrap_or(0) as f64;
    let y_max = nice_ceiling(top, 10.0);
    let css_width = f64::from(canvas.width()) / dpr;
    let start = data.range.start;
    let x_fmt = move |x: &f64| date_tick(start + Duration::days(x.round() as i64), span);
    let y_fmt = |y: &f64| group_thousands(y.round().max(0.0) as u64);

    let mut chart = ChartBuilder::on(&root)
        .margin(px.i(8.0))
        .margin_right(px.i(14.0))
        .x_label_area_size(px.i(26.0))
        .y_label_area_size(px.i(50.0))
        .build_cartesian_2d(-0.5..x_end, 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(((css_width / 80.0) as usize).clamp(2, 10).min(span as usize))
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_desc("repas")
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID.stroke_width(px.u(1.0)))
        .axis_style(INK.stroke_width(px.u(1.0)))
        .draw()
        .map_err(err)?;

    let x = |d: &MealDay| data.day_index(d.date) as f64;
    let served: Vec<(f64, f64)> = data.meals.iter().map(|d| (x(d), d.served as f64)).collect();
    let planned: Vec<(f64, f64)> = data.meals.iter().filter(|d| d.planned > 0).map(|d| (x(d), d.planned as f64)).collect();
    let marked = data.meals.len() <= MAX_MARKED_POINTS;
    let (dash, gap, w, r) = (px.i(9.0), px.i(5.0), px.u(2.0), px.i(5.0));

    chart
        .draw_series(DashedLineSeries::new(planned.iter().copied(), dash, gap, BROWN.stroke_width(w)))
        .map_err(err)?
        .label("Prévus (tirets, triangles)")
        .legend(move |(lx, ly)| {
            EmptyElement::at((lx, ly))
                + DashedPathElement::new([(0, 0), (2 * dash, 0)], dash / 2, gap / 2, BROWN.stroke_width(w))
                + TriangleMarker::new((dash, 0), r, BROWN.stroke_width(w))
        });
    if marked {
        chart.draw_series(planned.iter().map(|&p| TriangleMarker::new(p, r + px.i(1.0), BROWN.stroke_width(w)))).map_err(err)?;
    }
    chart
        .draw_series(LineSeries::new(served.iter().copied(), GREEN.stroke_width(px.u(2.5))))
        .map_err(err)?
        .label("Servis (trait plein, points)")
        .legend(move |(lx, ly)| {
            EmptyElement::at((lx, ly))
                + PathElement::new(vec![(0, 0), (2 * dash, 0)], GREEN.stroke_width(w))
                + Circle::new((dash, 0), r - 1, GREEN.filled())
        });
    if marked {
        chart.draw_series(served.iter().map(|&p| Circle::new(p, r - px.i(1.0), GREEN.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .legend_area_size(px.i(40.0))
        .background_style(WHITE.mix(0.85))
        .border_style(INK.stroke_width(px.u(1.0)))
        .label_font(font)
        .margin(px.i(6.0))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(data.meals.len())
}
