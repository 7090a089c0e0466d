//! Charts drawn on the device with plotters-canvas. The drawing functions only draw the plain
//! data they are given ([`LineChart`], [`Bar`]s), laid out and tested in `chart_data` (the
//! reference labels' places included), into a canvas already sized by [`fit_canvas`];
//! positions are in CSS pixels, turned into the canvas's device pixels by [`Page`]. They
//! return how many data points they drew. States are told apart by line style, markers and
//! text labels, never by colour alone (see [`Pen`]); bar values are written next to every
//! bar. Every text is [`TEXT_PX`] high, readable at arm's length on a tablet.
//!
//! Only plotters' drawing area and elements are used, on one pixel coordinate system: the
//! chart builder's generic axes, meshes and series (compiled again for every coordinate type)
//! cost the tablet more download than the whole layout code here.

use plotters::coord::Shift;
use plotters::element::{DashedPathElement, DottedPathElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use assiette_tablet::chart_data::{Bar, Figure, LineChart, LineLayout, Pen, LABEL_PAD, TEXT_PX};
use assiette_domain::number::{format_kg_rounded, format_per_mille};

const INK: RGBColor = RGBColor(0x1a, 0x1a, 0x1a);
const GREEN: RGBColor = RGBColor(0x1b, 0x5e, 0x3b);
const BROWN: RGBColor = RGBColor(0x7a, 0x3e, 0x00);
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);

/// Width of the canvas's container in CSS pixels (320 while it has none).
pub fn container_width(canvas: &HtmlCanvasElement) -> f64 {
    canvas.parent_element().map(|p| f64::from(p.client_width())).filter(|w| *w > 0.0).unwrap_or(320.0)
}

/// Draws `figure` into `canvas`, sized `css_width` CSS pixels wide (its container's width)
/// and as high as the figure needs on a screen `viewport_height` high. Returns the number of
/// data points drawn.
pub fn draw(canvas: &HtmlCanvasElement, figure: &Figure, css_width: f64, viewport_height: f64) -> Result<usize, String> {
    match figure {
        Figure::Lines(chart) => {
            // Laid out first: labels that find no room in the plot make the canvas taller.
            let layout = chart.layout(css_width, line_chart_height(css_width, viewport_height), text_width(canvas, false));
            let dpr = fit_canvas(canvas, css_width, layout.height);
            draw_lines(canvas, chart, &layout, dpr)
        }
        Figure::Bars(bars) => {
            let dpr = fit_canvas(canvas, css_width, bar_chart_height(bars.len()));
            draw_bars(canvas, bars, dpr)
        }
    }
}

/// Measures a text as the canvas writes it, [`TEXT_PX`] high (CSS pixels), through the 2D
/// context's measureText (read by name: web-sys' TextMetrics is not compiled in).
fn text_width(canvas: &HtmlCanvasElement, bold: bool) -> impl Fn(&str) -> f64 {
    use wasm_bindgen::JsCast;
    let context = canvas.get_context("2d").ok().flatten();
    let measure = context
        .as_ref()
        .and_then(|c| js_sys::Reflect::get(c, &"measureText".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    // The font plotters-canvas sets for ("sans-serif", size, style).
    let font = wasm_bindgen::JsValue::from(format!("{} {TEXT_PX}px sans-serif", if bold { "bold" } else { "normal" }));
    move |s: &str| {
        context
            .as_ref()
            .zip(measure.as_ref())
            .and_then(|(c, m)| {
                // Set at every call: drawing text sets the context's font too.
                js_sys::Reflect::set(c, &"font".into(), &font).ok()?;
                js_sys::Reflect::get(&m.call1(c, &s.into()).ok()?, &"width".into()).ok()?.as_f64()
            })
            // No 2D context: about 0.6 em per character.
            .unwrap_or(s.chars().count() as f64 * TEXT_PX * 0.6)
    }
}

/// Sizes the canvas to `width` × `css_height` CSS pixels, with devicePixelRatio device
/// pixels per CSS pixel so lines stay sharp. Returns that ratio.
pub(crate) fn fit_canvas(canvas: &HtmlCanvasElement, width: f64, css_height: f64) -> f64 {
    let window = web_sys::window();
    let dpr = window.as_ref().map(|w| w.device_pixel_ratio()).filter(|r| r.is_finite() && *r > 0.0).unwrap_or(1.0);
    canvas.set_width((width * dpr).round() as u32);
    canvas.set_height((css_height * dpr).round() as u32);
    // Through the element's style object (CSSOM), not a `style` attribute: the server's
    // Content-Security-Policy (style-src 'self') refuses inline style attributes.
    if let Ok(style) = js_sys::Reflect::get(canvas, &"style".into()) {
        let _ = js_sys::Reflect::set(&style, &"width".into(), &format!("{width}px").into());
        let _ = js_sys::Reflect::set(&style, &"height".into(), &format!("{css_height}px").into());
    }
    dpr
}

/// A good height for a line chart `css_width` wide: taller in portrait, never taller than
/// most of the screen in landscape.
fn line_chart_height(css_width: f64, viewport_height: f64) -> f64 {
    let wanted = (css_width * 0.6).clamp(240.0, 420.0);
    let max = (viewport_height * 0.75).max(200.0);
    wanted.min(max)
}

/// Height of a bar chart with `rows` bars (label above each bar, legend line below).
fn bar_chart_height(rows: usize) -> f64 {
    rows as f64 * 50.0 + 40.0
}

/// A white page on the canvas, drawn through plotters-canvas, with its size in CSS pixels.
struct Page {
    area: DrawingArea<CanvasBackend, Shift>,
    dpr: f64,
    width: f64,
    height: f64,
}

/// A plotters drawing error, for the chart's alert line.
fn failed(e: DrawingAreaErrorKind<<CanvasBackend as DrawingBackend>::ErrorType>) -> String {
    e.to_string()
}

impl Page {
    fn new(canvas: &HtmlCanvasElement, dpr: f64) -> Result<Page, String> {
        let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas 2D indisponible")?;
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(failed)?;
        Ok(Page { area, dpr, width: f64::from(canvas.width()) / dpr, height: f64::from(canvas.height()) / dpr })
    }

    /// A CSS-pixel position in device pixels.
    fn at(&self, (x, y): (f64, f64)) -> (i32, i32) {
        ((x * self.dpr).round() as i32, (y * self.dpr).round() as i32)
    }

    fn px(&self, v: f64) -> u32 {
        (v * self.dpr).round().max(1.0) as u32
    }

    fn points(&self, points: &[(f64, f64)]) -> Vec<(i32, i32)> {
        points.iter().map(|p| self.at(*p)).collect()
    }

    fn line(&self, points: &[(f64, f64)], color: RGBColor, width: f64) -> Result<(), String> {
        let style = color.stroke_width(self.px(width));
        self.area.draw(&PathElement::new(self.points(points), style)).map_err(failed)
    }

    fn dashed(&self, points: &[(f64, f64)], color: RGBColor, width: f64, dash: f64, gap: f64) -> Result<(), String> {
        let style = color.stroke_width(self.px(width));
        let path = DashedPathElement::new(self.points(points), self.px(dash), self.px(gap), style);
        self.area.draw(&path).map_err(failed)
    }

    /// Round dots along the path, `spacing` apart.
    fn dotted(&self, points: &[(f64, f64)], color: RGBColor, radius: f64, spacing: f64) -> Result<(), String> {
        let r = self.px(radius);
        let path = DottedPathElement::new(self.points(points), 0, self.px(spacing), move |c| Circle::new(c, r, color.filled()));
        self.area.draw(&path).map_err(failed)
    }

    /// A rectangle from its top-left corner and size, filled or outlined.
    fn rect(&self, (x, y): (f64, f64), (w, h): (f64, f64), style: ShapeStyle) -> Result<(), String> {
        self.area.draw(&Rectangle::new([self.at((x, y)), self.at((x + w, y + h))], style)).map_err(failed)
    }

    /// Writes `s` at `at`, `size` CSS pixels high, anchored by `h` and `v`.
    fn text(&self, s: &str, at: (f64, f64), size: f64, bold: bool, h: HPos, v: VPos) -> Result<(), String> {
        let weight = if bold { FontStyle::Bold } else { FontStyle::Normal };
        let style = ("sans-serif", size * self.dpr, weight).into_font().color(&INK).pos(Pos::new(h, v));
        self.area.draw_text(s, &style, self.at(at)).map_err(failed)
    }
}

/// Draws `pen`'s line through `points` (CSS pixels), with its markers if `marked`.
fn draw_pen(page: &Page, pen: Pen, points: &[(f64, f64)], marked: bool) -> Result<(), String> {
    match pen {
        Pen::Measured => page.line(points, GREEN, 2.5)?,
        Pen::Reference => page.dashed(points, INK, 2.0, 10.0, 6.0)?,
        Pen::OwnReference => page.dotted(points, INK, 2.0, 8.0)?,
        Pen::Planned => page.dashed(points, BROWN, 2.0, 9.0, 5.0)?,
    }
    if !marked {
        return Ok(());
    }
    for &(x, y) in points {
        match pen {
            Pen::Measured => page.area.draw(&Circle::new(page.at((x, y)), page.px(4.0), GREEN.filled())).map_err(failed)?,
            Pen::Planned => page.line(&[(x, y - 6.0), (x + 5.2, y + 3.0), (x - 5.2, y + 3.0), (x, y - 6.0)], BROWN, 2.0)?,
            Pen::Reference | Pen::OwnReference => {}
        }
    }
    Ok(())
}

/// Draws a line chart as `layout` places it: grid, axes with their labels, lines, notes and
/// legend. Returns the number of days drawn.
fn draw_lines(canvas: &HtmlCanvasElement, chart: &LineChart, layout: &LineLayout, dpr: f64) -> Result<usize, String> {
    let page = Page::new(canvas, dpr)?;
    let plot = layout.plot;
    let (left, right, top, bottom) = (plot.x, plot.right(), plot.y, plot.bottom());
    let (sx, sy) = (|x: f64| layout.x(x), |y: f64| layout.y(y));

    for &(y, _) in &chart.y_ticks {
        page.line(&[(left, sy(y)), (right, sy(y))], GRID, 1.0)?;
    }
    for &(x, _) in &chart.x_ticks {
        page.line(&[(sx(x), top), (sx(x), bottom)], GRID, 1.0)?;
    }
    page.line(&[(left, top), (left, bottom), (right, bottom)], INK, 1.0)?;
    for (y, label) in &chart.y_ticks {
        page.text(label, (left - 6.0, sy(*y)), TEXT_PX, false, HPos::Right, VPos::Center)?;
    }
    for (x, label) in &chart.x_ticks {
        page.text(label, (sx(*x), bottom + 6.0), TEXT_PX, false, HPos::Center, VPos::Top)?;
    }
    page.text(chart.unit, (8.0, 4.0), TEXT_PX, false, HPos::Left, VPos::Top)?;

    for line in &chart.lines {
        let points: Vec<(f64, f64)> = line.points.iter().map(|&(x, y)| (sx(x), sy(y))).collect();
        draw_pen(&page, line.pen, &points, chart.marked)?;
    }
    // On white, so that the measured line passing under a label leaves it readable.
    for (n, b) in chart.notes.iter().zip(&layout.notes) {
        page.rect((b.x, b.y), (b.w, b.h), WHITE.mix(0.9).filled())?;
        page.text(&n.text, (b.x + LABEL_PAD, b.y + b.h / 2.0), TEXT_PX, false, HPos::Left, VPos::Center)?;
    }
    if !chart.legend.is_empty() {
        // Lower right, over the plot, as wide as its widest label.
        let width = text_width(canvas, false);
        let widest = chart.legend.iter().map(|(_, l)| width(l)).fold(0.0, f64::max);
        let (bw, bh) = (58.0 + widest, chart.legend.len() as f64 * 22.0 + 8.0);
        let (x0, y0) = (right - 8.0 - bw, bottom - 8.0 - bh);
        page.rect((x0, y0), (bw, bh), WHITE.mix(0.85).filled())?;
        page.rect((x0, y0), (bw, bh), INK.stroke_width(page.px(1.0)))?;
        for (i, (pen, label)) in chart.legend.iter().enumerate() {
            let y = y0 + 15.0 + 22.0 * i as f64;
            draw_pen(&page, *pen, &[(x0 + 10.0, y), (x0 + 40.0, y)], false)?;
            draw_pen(&page, *pen, &[(x0 + 25.0, y)], true)?;
            page.text(label, (x0 + 48.0, y), TEXT_PX, false, HPos::Left, VPos::Center)?;
        }
    }
    Ok(chart.points)
}

/// One bar per row: its label above, the bar, its share and mass written after it, and a
/// black mark at the ADEME 2024 share when the study gives one. Returns the number of
/// non-empty bars.
fn draw_bars(canvas: &HtmlCanvasElement, bars: &[Bar], dpr: f64) -> Result<usize, String> {
    let page = Page::new(canvas, dpr)?;
    let has_ref = bars.iter().any(|b| b.reference_percent.is_some());
    let widest = bars
        .iter()
        .map(|b| f64::from(b.per_mille) / 10.0)
        .chain(bars.iter().filter_map(|b| b.reference_percent.map(f64::from)))
        .fold(1.0, f64::max);
    // "52,3 % · 12,5 kg" after each bar: bars and marks use the width the widest one leaves
    // (at least 30 %), so that no value is cut at the canvas's edge.
    let values: Vec<String> =
        bars.iter().map(|b| format!("{} · {}", format_per_mille(u64::from(b.per_mille)), format_kg_rounded(b.grams))).collect();
    let value_width = text_width(canvas, true);
    let room = values.iter().map(|v| value_width(v)).fold(0.0, f64::max) + 12.0;
    let span = (page.width - 8.0 - room).max(page.width * 0.3);
    let rows = bars.len() as f64 + if has_ref { 0.8 } else { 0.0 };
    let sx = |x: f64| 4.0 + x / widest * span;
    let sy = |y: f64| 6.0 + y / rows * (page.height - 12.0);
    let mark = |x: f64, y: f64| page.line(&[(sx(x), sy(y)), (sx(x), sy(y + 0.58))], INK, 3.0);

    for ((i, bar), value) in bars.iter().enumerate().zip(&values) {
        let y = i as f64;
        let pct = f64::from(bar.per_mille) / 10.0;
        page.text(bar.label, (sx(0.0), sy(y + 0.04)), TEXT_PX, false, HPos::Left, VPos::Top)?;
        let corner = (sx(0.0), sy(y + 0.46));
        let size = ((sx(pct) - sx(0.0)).max(2.0), sy(y + 0.88) - sy(y + 0.46));
        // A thin outline marks an empty bar so zero is visible, not missing.
        let style = if bar.grams > 0 { GREEN.filled() } else { INK.stroke_width(page.px(1.0)) };
        page.rect(corner, size, style)?;
        if let Some(r) = bar.reference_percent {
            mark(f64::from(r), y + 0.38)?;
        }
        let after = sx(pct.max(bar.reference_percent.map(f64::from).unwrap_or(0.0))) + 8.0;
        page.text(value, (after, sy(y + 0.67)), TEXT_PX, true, HPos::Left, VPos::Center)?;
    }
    if has_ref {
        let y = bars.len() as f64 + 0.15;
        mark(0.0, y)?;
        page.text("trait noir : part de référence ADEME 2024", (sx(0.0) + 10.0, sy(y + 0.3)), TEXT_PX, false, HPos::Left, VPos::Center)?;
    }
    Ok(bars.iter().filter(|b| b.grams > 0).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_tablet::chart_data::{Line, Note};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A canvas in a 600 px wide box of the test page, sized 600 × `height` at DPR 1.
    fn canvas(height: f64) -> HtmlCanvasElement {
        let document = web_sys::window().unwrap().document().unwrap();
        let parent = document.create_element("div").unwrap();
        parent.set_attribute("style", "width:600px").unwrap();
        let canvas: HtmlCanvasElement = document.create_element("canvas").unwrap().dyn_into().unwrap();
        parent.append_child(&canvas).unwrap();
        document.body().unwrap().append_child(&parent).unwrap();
        assert_eq!(container_width(&canvas), 600.0);
        fit_canvas(&canvas, 600.0, height);
        canvas
    }

    /// The canvas as a PNG data URL with only its white page (what nothing drawn looks like).
    fn blank(like: &HtmlCanvasElement) -> String {
        let c = canvas(f64::from(like.height()));
        Page::new(&c, 1.0).unwrap();
        c.to_data_url().unwrap()
    }

    fn trend(references: &[f64]) -> LineChart {
        LineChart {
            x_end: 29.5,
            y_max: 150.0,
            x_ticks: vec![(0.0, "02/03".into()), (10.0, "12/03".into()), (20.0, "22/03".into())],
            y_ticks: (0..=6).map(|k| (f64::from(k) * 25.0, (k * 25).to_string())).collect(),
            unit: "g/repas",
            lines: references
                .iter()
                .map(|&y| Line { pen: Pen::Reference, points: vec![(-0.5, y), (29.5, y)] })
                .chain([
                    Line { pen: Pen::Planned, points: vec![(0.0, 120.0), (10.0, 90.0)] },
                    Line { pen: Pen::Measured, points: vec![(0.0, 100.0), (1.0, 50.0), (10.0, 130.0)] },
                ])
                .collect(),
            marked: true,
            notes: references.iter().map(|&y| Note { y, text: format!("Référence du restaurant : {y} g (pointillés)") }).collect(),
            legend: vec![(Pen::Planned, "Prévus (tirets, triangles)"), (Pen::Measured, "Servis (trait plein, points)")],
            points: 3,
        }
    }

    #[wasm_bindgen_test]
    fn a_line_chart_is_drawn_and_counts_its_days() {
        let chart = trend(&[100.0, 110.0]);
        let c = canvas(300.0);
        let layout = chart.layout(600.0, 300.0, text_width(&c, false));
        assert_eq!((c.width(), c.height(), layout.height), (600, 300, 300.0));
        assert_eq!(draw_lines(&c, &chart, &layout, 1.0), Ok(3));
        assert_ne!(c.to_data_url().unwrap(), blank(&c));
    }

    #[wasm_bindgen_test]
    fn texts_are_measured_as_the_canvas_writes_them() {
        let c = canvas(100.0);
        let (normal, bold) = (text_width(&c, false), text_width(&c, true));
        let text = "ADEME 2024 : 100 g (tirets)";
        // A proportional 14 px font: between 0,4 and 0,7 em per character.
        let per_char = normal(text) / text.chars().count() as f64 / TEXT_PX;
        assert!((0.4..0.7).contains(&per_char), "{per_char}");
        assert!(bold(text) > normal(text));
        assert_eq!(normal(""), 0.0);
    }

    #[wasm_bindgen_test]
    fn reference_labels_measured_on_the_canvas_stay_apart_and_off_the_lines() {
        let c = canvas(100.0);
        for refs in [[100.0, 110.0], [100.0, 101.0], [100.0, 100.0], [0.0, 150.0], [150.0, 149.0], [0.0, 1.0]] {
            let chart = trend(&refs);
            let layout = chart.layout(600.0, 300.0, text_width(&c, false));
            let (a, b) = (layout.notes[0], layout.notes[1]);
            assert!(!a.grown(1.0).overlaps(&b), "{refs:?}: {a:?} {b:?}");
            for n in &layout.notes {
                assert!(refs.iter().all(|&y| !n.near_line(layout.y(y))), "{refs:?}: {n:?}");
                // Inside the plot: the canvas keeps its height.
                assert!(n.y >= layout.plot.y && n.bottom() <= layout.plot.bottom(), "{refs:?}: {n:?}");
            }
            assert_eq!(layout.height, 300.0);
            assert_eq!(draw(&c, &Figure::Lines(chart), 600.0, 400.0), Ok(3));
        }
    }

    #[wasm_bindgen_test]
    fn bars_are_drawn_and_count_the_non_empty_ones() {
        let bars = vec![
            Bar { label: "Excédents de préparation", grams: 0, per_mille: 0, reference_percent: Some(5) },
            Bar { label: "Présentés non servis", grams: 4_000, per_mille: 267, reference_percent: Some(34) },
            Bar { label: "Restes assiettes", grams: 11_000, per_mille: 733, reference_percent: Some(60) },
        ];
        let c = canvas(10.0);
        // Sized by the figure: 3 rows of 50 px and the legend line.
        assert_eq!(draw(&c, &Figure::Bars(&bars), 600.0, 1280.0), Ok(2));
        assert_eq!((c.width(), c.height()), (600, 190));
        assert_ne!(c.to_data_url().unwrap(), blank(&c));
    }

    #[wasm_bindgen_test]
    fn chart_heights_fit_portrait_and_landscape() {
        assert_eq!(line_chart_height(600.0, 1280.0), 360.0);
        assert_eq!(line_chart_height(1200.0, 1280.0), 420.0);
        // Landscape tablet: at most 3/4 of the screen's height.
        assert_eq!(line_chart_height(1200.0, 500.0), 375.0);
        assert_eq!(line_chart_height(300.0, 1280.0), 240.0);
        assert_eq!(bar_chart_height(3), 190.0);
    }
}
