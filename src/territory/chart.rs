//! The territory's charts on plotters-canvas: lines by month (the territory and chosen
//! communes) and labelled bars (a site against its comparable median, EGalim shares by year,
//! before / after a campaign). Each line has its own dash pattern and marker and its name
//! written at its end; each bar has its value written beside it: nothing is told by colour
//! alone. Only plotters' drawing area and elements, on pixel coordinates (as `components::chart`).

use plotters::element::{DashedPathElement, DottedPathElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use crate::components::chart::{container_width, fit_canvas};

const TEXT: f64 = 14.0;
const INK: RGBColor = RGBColor(0x1a, 0x1a, 0x1a);
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
/// Dark enough on white (WCAG AA for graphics); the pattern and the name tell lines apart.
const COLORS: [RGBColor; 6] = [
    RGBColor(0x1b, 0x5e, 0x3b),
    RGBColor(0x0b, 0x4f, 0x8a),
    RGBColor(0x7a, 0x3e, 0x00),
    RGBColor(0x6a, 0x1b, 0x9a),
    RGBColor(0x8a, 0x0b, 0x2f),
    RGBColor(0x33, 0x33, 0x33),
];

/// One line: a value per x label (`None`: no point that month, the line is broken there).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// One bar: its label, its value (`None`: « non renseigné » written instead), the text written
/// after it, and whether it is the second of a pair (outlined rather than filled).
#[derive(Debug, Clone, PartialEq)]
pub struct BarRow {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
    pub outlined: bool,
}

fn failed<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

struct Page {
    area: DrawingArea<CanvasBackend, plotters::coord::Shift>,
    dpr: f64,
}

impl Page {
    fn new(canvas: &HtmlCanvasElement, css_height: f64) -> Result<(Page, f64), String> {
        let width = container_width(canvas);
        let dpr = fit_canvas(canvas, width, css_height);
        let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas 2D indisponible")?;
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(failed)?;
        Ok((Page { area, dpr }, width))
    }
    fn at(&self, (x, y): (f64, f64)) -> (i32, i32) {
        ((x * self.dpr).round() as i32, (y * self.dpr).round() as i32)
    }
    fn px(&self, v: f64) -> u32 {
        (v * self.dpr).round().max(1.0) as u32
    }
    fn path(&self, pts: &[(f64, f64)], color: RGBColor, pattern: usize) -> Result<(), String> {
        let p: Vec<(i32, i32)> = pts.iter().map(|p| self.at(*p)).collect();
        let style = color.stroke_width(self.px(2.5));
        match pattern % 3 {
            0 => self.area.draw(&PathElement::new(p, style)).map_err(failed),
            1 => self.area.draw(&DashedPathElement::new(p, self.px(10.0), self.px(5.0), style)).map_err(failed),
            _ => {
                let r = self.px(2.0);
                self.area.draw(&DottedPathElement::new(p, 0, self.px(7.0), move |c| Circle::new(c, r, color.filled()))).map_err(failed)
            }
        }
    }
    fn marker(&self, at: (f64, f64), color: RGBColor, kind: usize) -> Result<(), String> {
        let (x, y) = at;
        match kind % 4 {
            0 => self.area.draw(&Circle::new(self.at(at), self.px(4.0), color.filled())).map_err(failed),
            1 => self.area.draw(&Rectangle::new([self.at((x - 4.0, y - 4.0)), self.at((x + 4.0, y + 4.0))], color.filled())).map_err(failed),
            2 => self.path(&[(x, y - 6.0), (x + 5.0, y + 3.5), (x - 5.0, y + 3.5), (x, y - 6.0)], color, 0),
            _ => {
                self.path(&[(x - 5.0, y - 5.0), (x + 5.0, y + 5.0)], color, 0)?;
                self.path(&[(x - 5.0, y + 5.0), (x + 5.0, y - 5.0)], color, 0)
            }
        }
    }
    fn text(&self, s: &str, at: (f64, f64), bold: bool, h: HPos, v: VPos) -> Result<(), String> {
        let weight = if bold { FontStyle::Bold } else { FontStyle::Normal };
        let style = ("sans-serif", TEXT * self.dpr, weight).into_font().color(&INK).pos(Pos::new(h, v));
        self.area.draw_text(s, &style, self.at(at)).map_err(failed)
    }
    fn rect(&self, from: (f64, f64), to: (f64, f64), style: ShapeStyle) -> Result<(), String> {
        self.area.draw(&Rectangle::new([self.at(from), self.at(to)], style)).map_err(failed)
    }
}

/// A round top for the value axis: 50, 100, 150, … above the largest value.
pub fn axis_max(max: f64) -> f64 {
    let step = if max <= 100.0 { 25.0 } else if max <= 300.0 { 50.0 } else { 100.0 };
    ((max / step).ceil() * step).max(step)
}

/// Lines by month, names written at each line's last point and in the legend. Returns the
/// points drawn.
pub fn draw_lines(canvas: &HtmlCanvasElement, x_labels: &[String], series: &[Series], unit: &str) -> Result<usize, String> {
    let legend_h = series.len() as f64 * 22.0 + 10.0;
    let (page, width) = Page::new(canvas, 300.0 + legend_h)?;
    let max = series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0f64, |a, b| a.max(*b));
    let top = axis_max(max);
    let (left, right, y0, y1) = (52.0, width - 12.0, 28.0, 260.0);
    let n = x_labels.len().max(1);
    let sx = |i: usize| left + (right - left) * (i as f64 + 0.5) / n as f64;
    let sy = |v: f64| y1 - (y1 - y0) * v / top;
    page.text(unit, (8.0, 4.0), false, HPos::Left, VPos::Top)?;
    for k in 0..=4 {
        let v = top * f64::from(k) / 4.0;
        page.path(&[(left, sy(v)), (right, sy(v))], GRID, 0)?;
        page.text(&format!("{}", v.round()), (left - 6.0, sy(v)), false, HPos::Right, VPos::Center)?;
    }
    // Every label when they fit, else one in two or more.
    let every = ((n as f64 * 60.0) / (right - left)).ceil().max(1.0) as usize;
    for (i, l) in x_labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        page.text(l, (sx(i), y1 + 6.0), false, HPos::Center, VPos::Top)?;
    }
    page.path(&[(left, y0), (left, y1), (right, y1)], INK, 0)?;
    let mut drawn = 0;
    for (k, s) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        // Broken where a month has no value.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut last = None;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    run.push((sx(i), sy(*v)));
                    last = Some((sx(i), sy(*v)));
                }
                None => {
                    if run.len() > 1 {
                        page.path(&run, color, k)?;
                    }
                    run.clear();
                }
            }
        }
        if run.len() > 1 {
            page.path(&run, color, k)?;
        }
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                page.marker((sx(i), sy(*v)), color, k)?;
                drawn += 1;
            }
        }
        if let Some((x, y)) = last {
            page.text(&s.name, (x.min(right - 4.0), y - 8.0), true, HPos::Right, VPos::Bottom)?;
        }
        let ly = 300.0 + 22.0 * k as f64;
        page.path(&[(left, ly), (left + 36.0, ly)], color, k)?;
        page.marker((left + 18.0, ly), color, k)?;
        page.text(&s.name, (left + 46.0, ly), false, HPos::Left, VPos::Center)?;
    }
    Ok(drawn)
}

/// Horizontal bars with their label above and their text after; `mark` draws a vertical line
/// (a threshold, with its label). Returns the bars with a value.
pub fn draw_bars(canvas: &HtmlCanvasElement, rows: &[BarRow], mark: Option<(f64, &str)>) -> Result<usize, String> {
    let height = rows.len() as f64 * 46.0 + if mark.is_some() { 34.0 } else { 10.0 };
    let (page, width) = Page::new(canvas, height)?;
    let max = rows.iter().filter_map(|r| r.value).chain(mark.map(|m| m.0)).fold(0.0f64, f64::max).max(1.0);
    let span = (width - 8.0) * 0.6;
    let sx = |v: f64| 4.0 + v / max * span;
    let mut drawn = 0;
    for (i, r) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * 46.0;
        page.text(&r.label, (4.0, y), false, HPos::Left, VPos::Top)?;
        let (by0, by1) = (y + 20.0, y + 40.0);
        match r.value {
            Some(v) => {
                let style = if r.outlined { INK.stroke_width(page.px(2.0)) } else { COLORS[0].filled() };
                page.rect((sx(0.0), by0), (sx(v).max(sx(0.0) + 2.0), by1), style)?;
                page.text(&r.text, (sx(v) + 8.0, (by0 + by1) / 2.0), true, HPos::Left, VPos::Center)?;
                drawn += 1;
            }
            None => page.text(&r.text, (sx(0.0), (by0 + by1) / 2.0), false, HPos::Left, VPos::Center)?,
        }
    }
    if let Some((v, label)) = mark {
        let bottom = rows.len() as f64 * 46.0 + 4.0;
        page.path(&[(sx(v), 18.0), (sx(v), bottom)], INK, 1)?;
        page.text(label, (sx(v), bottom + 6.0), false, HPos::Center, VPos::Top)?;
    }
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn canvas() -> HtmlCanvasElement {
        let document = web_sys::window().unwrap().document().unwrap();
        let parent = document.create_element("div").unwrap();
        parent.set_attribute("style", "width:600px").unwrap();
        let canvas: HtmlCanvasElement = document.create_element("canvas").unwrap().dyn_into().unwrap();
        parent.append_child(&canvas).unwrap();
        document.body().unwrap().append_child(&parent).unwrap();
        canvas
    }

    #[wasm_bindgen_test]
    fn lines_skip_missing_months_and_bars_without_value() {
        let c = canvas();
        let labels: Vec<String> = ["09/25", "10/25", "11/25"].iter().map(|s| s.to_string()).collect();
        let series = vec![
            Series { name: "Territoire".into(), values: vec![Some(80.0), None, Some(70.0)] },
            Series { name: "Commune A".into(), values: vec![None, None, Some(120.0)] },
        ];
        assert_eq!(draw_lines(&c, &labels, &series, "g/repas"), Ok(3));
        let bars = vec![
            BarRow { label: "Site".into(), value: Some(90.0), text: "90 g/repas".into(), outlined: false },
            BarRow { label: "Médiane".into(), value: None, text: "non renseigné".into(), outlined: true },
        ];
        assert_eq!(draw_bars(&c, &bars, Some((50.0, "objectif 50 %"))), Ok(1));
        assert_eq!(axis_max(0.0), 25.0);
        assert_eq!(axis_max(101.0), 150.0);
        assert_eq!(axis_max(420.0), 500.0);
    }
}

/// A canvas drawn by `draw` once mounted, with its description for screen readers; the
/// number of points drawn (or the error) is written on it for scripts and shown if it fails.
pub fn chart_canvas(
    label: String,
    testid: &'static str,
    draw: impl Fn(&HtmlCanvasElement) -> Result<usize, String> + 'static,
) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let node = NodeRef::<leptos::html::Canvas>::new();
    let outcome = RwSignal::new(None::<Result<usize, String>>);
    Effect::new(move |_| {
        if let Some(c) = node.get() {
            outcome.set(Some(draw(&c)));
        }
    });
    view! {
        <div class="chart-box">
            <canvas node_ref=node role="img" aria-label=label data-testid=testid
                data-points=move || match outcome.get() { Some(Ok(n)) => n.to_string(), _ => String::new() }></canvas>
            {move || match outcome.get() {
                Some(Err(e)) => Some(view! { <p class="warnings" role="alert">{format!("Graphique impossible à dessiner : {e}")}</p> }),
                _ => None,
            }}
        </div>
    }
}
