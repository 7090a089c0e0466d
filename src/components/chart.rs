//! Charts drawn on the device with the canvas 2D API. The drawing functions only draw the
//! plain data they are given ([`LineChart`], [`Bar`]s) into a canvas already sized by
//! [`fit_canvas`], in CSS pixels, and return how many data points they drew. States are told
//! apart by line style, markers and text labels, never by colour alone (see [`Pen`]); bar
//! values are written next to every bar.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d as Ctx, HtmlCanvasElement};

use super::chart_data::{Bar, Figure, LineChart, Pen};
use assiette_domain::number::{format_kg, format_per_mille};

const INK: &str = "#1a1a1a";
const GREEN: &str = "#1b5e3b";
const BROWN: &str = "#7a3e00";
const GRID: &str = "#dddddd";
const FONT: &str = "13px sans-serif";

/// Width of the canvas's container in CSS pixels (320 while it has none).
pub fn container_width(canvas: &HtmlCanvasElement) -> f64 {
    canvas.parent_element().map(|p| f64::from(p.client_width())).filter(|w| *w > 0.0).unwrap_or(320.0)
}

/// Draws `figure` into `canvas`, sized `css_width` CSS pixels wide (its container's width)
/// and as high as the figure needs on a screen `viewport_height` high. Returns the number of
/// data points drawn.
pub fn draw(canvas: &HtmlCanvasElement, figure: &Figure, css_width: f64, viewport_height: f64) -> Result<usize, String> {
    let height = match figure {
        Figure::Lines(_) => line_chart_height(css_width, viewport_height),
        Figure::Bars(bars) => bar_chart_height(bars.len()),
    };
    let dpr = fit_canvas(canvas, css_width, height);
    match figure {
        Figure::Lines(chart) => draw_lines(canvas, chart, dpr),
        Figure::Bars(bars) => draw_bars(canvas, bars, dpr),
    }
}

/// Sizes the canvas to `width` × `css_height` CSS pixels, with devicePixelRatio device
/// pixels per CSS pixel so lines stay sharp. Returns that ratio.
fn fit_canvas(canvas: &HtmlCanvasElement, width: f64, css_height: f64) -> f64 {
    let window = web_sys::window();
    let dpr = window.as_ref().map(|w| w.device_pixel_ratio()).filter(|r| r.is_finite() && *r > 0.0).unwrap_or(1.0);
    canvas.set_width((width * dpr).round() as u32);
    canvas.set_height((css_height * dpr).round() as u32);
    let _ = canvas.set_attribute("style", &format!("width:{width}px;height:{css_height}px"));
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

/// The canvas's 2D context on a white page, scaled to CSS pixels, with the page's size.
fn page(canvas: &HtmlCanvasElement, dpr: f64) -> Result<(Ctx, f64, f64), String> {
    let g: Ctx = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into().ok()).ok_or("canvas 2D indisponible")?;
    let (w, h) = (f64::from(canvas.width()) / dpr, f64::from(canvas.height()) / dpr);
    let _ = g.scale(dpr, dpr);
    g.set_fill_style_str("#fff");
    g.fill_rect(0.0, 0.0, w, h);
    Ok((g, w, h))
}

/// Sets the stroke: colour, width and dash pattern (empty: solid).
fn stroke(g: &Ctx, color: &str, width: f64, dash: &[f64]) {
    g.set_stroke_style_str(color);
    g.set_line_width(width);
    let _ = g.set_line_dash(&dash.iter().map(|d| JsValue::from_f64(*d)).collect::<js_sys::Array>());
}

/// Writes `s` at (x, y) in `font`, placed by `align` (left, right, center) and `baseline`
/// (top, middle, bottom).
fn text(g: &Ctx, s: &str, x: f64, y: f64, font: &str, align: &str, baseline: &str) {
    g.set_font(font);
    g.set_text_align(align);
    g.set_text_baseline(baseline);
    g.set_fill_style_str(INK);
    let _ = g.fill_text(s, x, y);
}

/// A polyline through `points` (canvas coordinates) with the current stroke.
fn polyline(g: &Ctx, points: impl IntoIterator<Item = (f64, f64)>) {
    g.begin_path();
    for (i, (x, y)) in points.into_iter().enumerate() {
        if i == 0 {
            g.move_to(x, y);
        } else {
            g.line_to(x, y);
        }
    }
    g.stroke();
}

/// Draws `pen`'s line through `points` (canvas coordinates), with its markers if `marked`.
fn draw_pen(g: &Ctx, pen: Pen, points: &[(f64, f64)], marked: bool) {
    let (color, width, dash): (&str, f64, &[f64]) = match pen {
        Pen::Measured => (GREEN, 2.5, &[]),
        Pen::Reference => (INK, 2.0, &[10.0, 6.0]),
        // Round caps on near-empty dashes draw dots.
        Pen::OwnReference => (INK, 4.0, &[0.5, 8.0]),
        Pen::Planned => (BROWN, 2.0, &[9.0, 5.0]),
    };
    g.set_line_cap(if pen == Pen::OwnReference { "round" } else { "butt" });
    stroke(g, color, width, dash);
    polyline(g, points.iter().copied());
    if !marked {
        return;
    }
    stroke(g, color, 2.0, &[]);
    g.set_fill_style_str(color);
    for &(x, y) in points {
        g.begin_path();
        match pen {
            Pen::Measured => {
                let _ = g.arc(x, y, 4.0, 0.0, std::f64::consts::TAU);
                g.fill();
            }
            Pen::Planned => {
                g.move_to(x, y - 6.0);
                g.line_to(x + 5.2, y + 3.0);
                g.line_to(x - 5.2, y + 3.0);
                g.close_path();
                g.stroke();
            }
            Pen::Reference | Pen::OwnReference => {}
        }
    }
}

/// Draws a line chart: grid, axes with their labels, lines, notes and legend. Returns the
/// number of days drawn.
fn draw_lines(canvas: &HtmlCanvasElement, chart: &LineChart, dpr: f64) -> Result<usize, String> {
    let (g, w, h) = page(canvas, dpr)?;
    let (left, right, top, bottom) = (58.0, w - 14.0, 26.0, h - 34.0);
    let sx = |x: f64| left + (x + 0.5) / (chart.x_end + 0.5) * (right - left);
    let sy = |y: f64| bottom - y / chart.y_max * (bottom - top);

    stroke(&g, GRID, 1.0, &[]);
    g.begin_path();
    for &(y, _) in &chart.y_ticks {
        g.move_to(left, sy(y));
        g.line_to(right, sy(y));
    }
    for &(x, _) in &chart.x_ticks {
        g.move_to(sx(x), top);
        g.line_to(sx(x), bottom);
    }
    g.stroke();
    stroke(&g, INK, 1.0, &[]);
    polyline(&g, [(left, top), (left, bottom), (right, bottom)]);
    for (y, label) in &chart.y_ticks {
        text(&g, label, left - 6.0, sy(*y), FONT, "right", "middle");
    }
    for (x, label) in &chart.x_ticks {
        text(&g, label, sx(*x), bottom + 6.0, FONT, "center", "top");
    }
    text(&g, chart.unit, 8.0, 6.0, FONT, "left", "top");

    for line in &chart.lines {
        let points: Vec<(f64, f64)> = line.points.iter().map(|&(x, y)| (sx(x), sy(y))).collect();
        draw_pen(&g, line.pen, &points, chart.marked);
    }
    for n in &chart.notes {
        let (x, y) = (sx(n.at.0), sy(n.at.1));
        if n.before_above {
            text(&g, &n.text, x - 4.0, y - 4.0, "12px sans-serif", "right", "bottom");
        } else {
            text(&g, &n.text, x + 4.0, y + 4.0, "12px sans-serif", "left", "top");
        }
    }
    if !chart.legend.is_empty() {
        // Lower right, over the plot: about 0,56 em per character of the widest label.
        let chars = chart.legend.iter().map(|(_, l)| l.chars().count()).max().unwrap_or(0) as f64;
        let (bw, bh) = (58.0 + chars * 7.3, chart.legend.len() as f64 * 22.0 + 8.0);
        let (x0, y0) = (right - 8.0 - bw, bottom - 8.0 - bh);
        g.set_fill_style_str("rgba(255,255,255,0.85)");
        g.fill_rect(x0, y0, bw, bh);
        stroke(&g, INK, 1.0, &[]);
        g.stroke_rect(x0, y0, bw, bh);
        for (i, (pen, label)) in chart.legend.iter().enumerate() {
            let y = y0 + 15.0 + 22.0 * i as f64;
            draw_pen(&g, *pen, &[(x0 + 10.0, y), (x0 + 40.0, y)], false);
            draw_pen(&g, *pen, &[(x0 + 25.0, y)], true);
            text(&g, label, x0 + 48.0, y, FONT, "left", "middle");
        }
    }
    Ok(chart.points)
}

/// One bar per row: its label above, the bar, its share and mass written after it, and a
/// black mark at the ADEME 2024 share when the study gives one. Returns the number of
/// non-empty bars.
fn draw_bars(canvas: &HtmlCanvasElement, bars: &[Bar], dpr: f64) -> Result<usize, String> {
    let (g, w, h) = page(canvas, dpr)?;
    let has_ref = bars.iter().any(|b| b.reference_percent.is_some());
    let widest = bars
        .iter()
        .map(|b| f64::from(b.per_mille) / 10.0)
        .chain(bars.iter().filter_map(|b| b.reference_percent.map(f64::from)))
        .fold(1.0, f64::max);
    // Bars use at most 60 % of the width: the rest holds "52,3 % · 12,5 kg".
    let x_max = widest / 0.6;
    let rows = bars.len() as f64 + if has_ref { 0.8 } else { 0.0 };
    let sx = |x: f64| 4.0 + x / x_max * (w - 10.0);
    let sy = |y: f64| 6.0 + y / rows * (h - 12.0);
    let mark = |x: f64, y: f64| {
        stroke(&g, INK, 3.0, &[]);
        polyline(&g, [(sx(x), sy(y)), (sx(x), sy(y + 0.58))]);
    };

    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64;
        let pct = f64::from(bar.per_mille) / 10.0;
        text(&g, bar.label, sx(0.0), sy(y + 0.04), "14px sans-serif", "left", "top");
        let (x0, y0, bw, bh) = (sx(0.0), sy(y + 0.46), sx(pct.max(x_max * 0.004)) - sx(0.0), sy(y + 0.88) - sy(y + 0.46));
        // A thin outline marks an empty bar so zero is visible, not missing.
        if bar.grams > 0 {
            g.set_fill_style_str(GREEN);
            g.fill_rect(x0, y0, bw, bh);
        } else {
            stroke(&g, INK, 1.0, &[]);
            g.stroke_rect(x0, y0, bw, bh);
        }
        if let Some(r) = bar.reference_percent {
            mark(f64::from(r), y + 0.38);
        }
        let after = pct.max(bar.reference_percent.map(f64::from).unwrap_or(0.0)) + x_max * 0.02;
        let value = format!("{} · {}", format_per_mille(u64::from(bar.per_mille)), format_kg(bar.grams));
        text(&g, &value, sx(after), sy(y + 0.67), "bold 13px sans-serif", "left", "middle");
    }
    if has_ref {
        let y = bars.len() as f64 + 0.15;
        mark(0.0, y);
        text(&g, "trait noir : part de référence ADEME 2024", sx(x_max * 0.02), sy(y + 0.3), "12px sans-serif", "left", "middle");
    }
    Ok(bars.iter().filter(|b| b.grams > 0).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::chart_data::{Line, Note};
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
        page(&c, 1.0).unwrap();
        c.to_data_url().unwrap()
    }

    #[wasm_bindgen_test]
    fn a_line_chart_is_drawn_and_counts_its_days() {
        let chart = LineChart {
            x_end: 29.5,
            y_max: 150.0,
            x_ticks: vec![(0.0, "02/03".into()), (10.0, "12/03".into()), (20.0, "22/03".into())],
            y_ticks: (0..=6).map(|k| (f64::from(k) * 25.0, (k * 25).to_string())).collect(),
            unit: "g/repas",
            lines: vec![
                Line { pen: Pen::Reference, points: vec![(-0.5, 100.0), (29.5, 100.0)] },
                Line { pen: Pen::OwnReference, points: vec![(-0.5, 110.0), (29.5, 110.0)] },
                Line { pen: Pen::Planned, points: vec![(0.0, 120.0), (10.0, 90.0)] },
                Line { pen: Pen::Measured, points: vec![(0.0, 100.0), (1.0, 50.0), (10.0, 130.0)] },
            ],
            marked: true,
            notes: vec![Note { at: (29.5, 100.0), text: "ADEME 2024 : 100 g (tirets)".into(), before_above: true }],
            legend: vec![(Pen::Planned, "Prévus (tirets, triangles)"), (Pen::Measured, "Servis (trait plein, points)")],
            points: 3,
        };
        let c = canvas(300.0);
        assert_eq!((c.width(), c.height()), (600, 300));
        assert_eq!(draw_lines(&c, &chart, 1.0), Ok(3));
        assert_ne!(c.to_data_url().unwrap(), blank(&c));
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
