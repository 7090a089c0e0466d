//! "Graphiques": waste per meal over time, waste by stage and by component, meals served vs
//! planned, for one period; drawn on the device and redrawn when the data, the period or the
//! screen size change. Every chart has a French summary and its data as a table.

use std::sync::Arc;

use assiette_domain::meals::DailyMealCount;
use assiette_domain::number::{format_decimal_fr, format_euros, format_fr_date, format_grams_per_meal, format_kg, format_per_mille, group_thousands};
use assiette_domain::waste::Weighing;
use chrono::NaiveDate;
use leptos::html::Canvas;
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::chart::{bar_chart_height, draw_bars, draw_lines, fit_canvas, line_chart_height};
use crate::components::chart_data::{covers, earliest_needed, first_date, Bar, ChartData, Period};
use crate::context::{today, AppContext, SiteProfile};
use crate::storage::{Repository, StorageError};

/// The canteen's live and deleted records, read once per data change: switching the period
/// only recomputes and redraws.
struct Records {
    counts: Vec<DailyMealCount>,
    weighings: Vec<Weighing>,
    /// Dated from this day on (`None`: all).
    from: Option<NaiveDate>,
    /// Time to read and decode them (shown to benchmarks).
    load_ms: f64,
}

/// What the page shows for the chosen period.
#[derive(Clone, PartialEq)]
struct Shown {
    data: ChartData,
    profile: SiteProfile,
    load_ms: f64,
    compute_ms: f64,
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Reads the site's records dated from `from` on (all of them for `None`).
async fn load(repo: &Repository, site: Uuid, from: Option<NaiveDate>) -> Result<Records, StorageError> {
    let started = now_ms();
    let (mut counts, mut weighings): (Vec<DailyMealCount>, Vec<Weighing>) = match from {
        None => (repo.all().await?, repo.all().await?),
        // Records dated after today (a wrong device clock) are still read.
        Some(from) => {
            // Dates are compared as ISO strings by IndexedDB: a four-digit year keeps the order.
            let to = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");
            (repo.between_dates(from, to).await?, repo.between_dates(from, to).await?)
        }
    };
    counts.retain(|c| c.site_id == site);
    weighings.retain(|w| w.site_id == site);
    Ok(Records { counts, weighings, from, load_ms: now_ms() - started })
}

#[component]
pub fn ChartsPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let period = RwSignal::new(Period::Last30Days);
    let resized = RwSignal::new(0u32);
    let resize = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || resize.remove());

    let site = Memo::new(move |_| ctx.profile.with(|p| p.as_ref().map(|p| p.site_id)));
    // Records are read from the start of the widest period chosen so far: the usual 30 days
    // are quick to read, and once a year is read, going back to 30 days reads nothing.
    let scope = RwSignal::new(earliest_needed(Period::Last30Days, today()));
    Effect::new(move |_| {
        let needed = earliest_needed(period.get(), today());
        if !covers(scope.get_untracked(), needed) {
            scope.set(needed);
        }
    });
    let records = LocalResource::new(move || {
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        let site = site.get();
        let from = scope.get();
        async move {
            let (repo, site) = (repo?, site?);
            match load(&repo, site, from).await {
                Ok(r) => Some(Arc::new(r)),
                Err(e) => {
                    ctx.report(e);
                    None
                }
            }
        }
    });
    let current = Memo::new(move |previous: Option<&Option<Arc<Shown>>>| {
        let r = records.get().flatten()?;
        let profile = ctx.profile.get()?;
        let p = period.get();
        // While a wider read is under way, keep showing the previous period.
        if !covers(r.from, earliest_needed(p, today())) {
            return previous.cloned().flatten();
        }
        let started = now_ms();
        let range = p.range(today(), first_date(&r.counts, &r.weighings, profile.site_id));
        let data = ChartData::prepare(&r.counts, &r.weighings, profile.site_id, range, profile.baseline_grams_per_meal);
        Some(Arc::new(Shown { data, profile, load_ms: r.load_ms, compute_ms: now_ms() - started }))
    });

    let trend_canvas = NodeRef::<Canvas>::new();
    let stage_canvas = NodeRef::<Canvas>::new();
    let component_canvas = NodeRef::<Canvas>::new();
    let meals_canvas = NodeRef::<Canvas>::new();
    let draws = RwSignal::new(0u32);
    let draw_ms = RwSignal::new(0.0f64);
    let draw_error = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        let _ = resized.get();
        let Some(l) = current.get() else { return };
        let (Some(trend), Some(stage), Some(component), Some(meals)) =
            (trend_canvas.get(), stage_canvas.get(), component_canvas.get(), meals_canvas.get())
        else {
            return;
        };
        let started = now_ms();
        let viewport = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(700.0);
        let d = &l.data;
        let mut errors = Vec::new();
        let mut draw = |canvas: &web_sys::HtmlCanvasElement, show: bool, height: f64, f: &dyn Fn(f64, f64) -> Result<usize, String>| {
            // Hidden charts are not drawn: their container has no width.
            if !show {
                let _ = canvas.set_attribute("data-points", "0");
                return;
            }
            let width = canvas.parent_element().map(|p| f64::from(p.client_width())).unwrap_or(320.0);
            let dpr = fit_canvas(canvas, if height > 0.0 { height } else { line_chart_height(width, viewport) });
            match f(dpr, width) {
                Ok(n) => {
                    let _ = canvas.set_attribute("data-points", &n.to_string());
                }
                Err(e) => errors.push(e),
            }
        };
        draw(&trend, !d.trend.is_empty(), 0.0, &|dpr, w| draw_lines(&trend, &d.trend_chart(w), dpr));
        draw(&stage, d.has_waste(), bar_chart_height(d.stages.len()), &|dpr, _| draw_bars(&stage, &d.stages, dpr));
        draw(&component, d.has_waste(), bar_chart_height(d.components.len()), &|dpr, _| draw_bars(&component, &d.components, dpr));
        draw(&meals, !d.meals.is_empty(), 0.0, &|dpr, w| draw_lines(&meals, &d.meals_chart(w), dpr));
        draw_error.set(
            (!errors.is_empty()).then(|| {
                format!("Un graphique n'a pas pu être dessiné ({}) : les tableaux de données restent justes.", errors.join(" ; "))
            }),
        );
        draw_ms.set(now_ms() - started);
        draws.update(|n| *n += 1);
    });

    let has = move |f: fn(&ChartData) -> bool| current.get().is_some_and(|l| f(&l.data));

    view! {
        <h1>"Graphiques"</h1>
        <div
            class="charts"
            data-testid="charts"
            data-period=move || period.get().code()
            data-draws=move || draws.get().to_string()
            data-draw-ms=move || format!("{:.1}", draw_ms.get())
            data-load-ms=move || current.get().map(|l| format!("{:.1}", l.load_ms)).unwrap_or_default()
            data-compute-ms=move || current.get().map(|l| format!("{:.1}", l.compute_ms)).unwrap_or_default()
        >
            <section class="card period" aria-label="Période">
                <div class="choices period-choices" role="group" aria-label="Période affichée">
                    {Period::ALL.into_iter().map(|p| view! {
                        <button type="button" class="choice" data-period=p.code()
                            aria-pressed=move || (period.get() == p).to_string()
                            on:click=move |_| period.set(p)>
                            <span class="check" aria-hidden="true">{move || if period.get() == p { "● " } else { "○ " }}</span>
                            {p.label()}
                        </button>
                    }).collect_view()}
                </div>
                <p class="muted" data-testid="charts-range">{move || current.get().map(|l| format!(
                    "Du {} au {}", format_fr_date(l.data.range.start), format_fr_date(l.data.range.end)))}</p>
            </section>
            <p class="error" role="alert">{move || draw_error.get().map(|m| format!("⚠ {m}"))}</p>
            <KeyFigures current=current />

            <section class="card chart-card" aria-labelledby="trend-title">
                <h2 id="trend-title">"Gaspillage par repas"</h2>
                <Empty show=Signal::derive(move || current.get().is_some() && !has(|d| !d.trend.is_empty())) testid="chart-trend-empty"
                    hint="Saisissez les repas servis et les pesées d'un même jour pour voir la courbe." />
                <div class="chart-box" class:hidden=move || !has(|d| !d.trend.is_empty())>
                    <canvas node_ref=trend_canvas data-testid="chart-trend" data-points="0" role="img"
                        aria-labelledby="trend-title" aria-describedby="trend-summary">
                        "Courbe du gaspillage par repas : voir le résumé et le tableau ci-dessous."
                    </canvas>
                </div>
                <p id="trend-summary" class="chart-summary">{move || current.get().map(|l| l.data.trend_summary())}</p>
                <DataTable title="Voir les données par jour" rows=Signal::derive(move || current.get().map(|l| trend_rows(&l.data)).unwrap_or_default())
                    headers=&["Date", "Repas servis", "Gaspillage", "Par repas"] />
            </section>

            <section class="card chart-card" aria-labelledby="stage-title">
                <h2 id="stage-title">"Gaspillage par étape"</h2>
                <Empty show=Signal::derive(move || current.get().is_some() && !has(ChartData::has_waste)) testid="chart-stage-empty"
                    hint="Les pesées des jours où les repas servis sont saisis apparaîtront ici." />
                <div class="chart-box" class:hidden=move || !has(ChartData::has_waste)>
                    <canvas node_ref=stage_canvas data-testid="chart-stage" data-points="0" role="img"
                        aria-labelledby="stage-title" aria-describedby="stage-summary">
                        "Barres du gaspillage par étape : voir le résumé et le tableau ci-dessous."
                    </canvas>
                </div>
                <p id="stage-summary" class="chart-summary">{move || current.get().map(|l| ChartData::bars_summary(&l.data.stages))}</p>
                <DataTable title="Voir les données par étape" rows=Signal::derive(move || current.get().map(|l| bar_rows(&l.data.stages)).unwrap_or_default())
                    headers=&["Étape", "Masse", "Part", "Référence ADEME 2024"] />
            </section>

            <section class="card chart-card" aria-labelledby="component-title">
                <h2 id="component-title">"Gaspillage par composante"</h2>
                <Empty show=Signal::derive(move || current.get().is_some() && !has(ChartData::has_waste)) testid="chart-component-empty"
                    hint="Pesez par composante (entrée, plat, accompagnement…) pour voir cette répartition." />
                <div class="chart-box" class:hidden=move || !has(ChartData::has_waste)>
                    <canvas node_ref=component_canvas data-testid="chart-component" data-points="0" role="img"
                        aria-labelledby="component-title" aria-describedby="component-summary">
                        "Barres du gaspillage par composante : voir le résumé et le tableau ci-dessous."
                    </canvas>
                </div>
                <p id="component-summary" class="chart-summary">{move || current.get().map(|l| ChartData::bars_summary(&l.data.components))}</p>
                <DataTable title="Voir les données par composante" rows=Signal::derive(move || current.get().map(|l| bar_rows(&l.data.components)).unwrap_or_default())
                    headers=&["Composante", "Masse", "Part", "Référence ADEME 2024"] />
            </section>

            <section class="card chart-card" aria-labelledby="meals-title">
                <h2 id="meals-title">"Repas servis et prévus"</h2>
                <Empty show=Signal::derive(move || current.get().is_some() && !has(|d| !d.meals.is_empty())) testid="chart-meals-empty"
                    hint="Saisissez les repas prévus et servis sur l'écran Aujourd'hui." />
                <div class="chart-box" class:hidden=move || !has(|d| !d.meals.is_empty())>
                    <canvas node_ref=meals_canvas data-testid="chart-meals" data-points="0" role="img"
                        aria-labelledby="meals-title" aria-describedby="meals-summary">
                        "Courbes des repas servis et prévus : voir le résumé et le tableau ci-dessous."
                    </canvas>
                </div>
                <p id="meals-summary" class="chart-summary">{move || current.get().map(|l| l.data.meals_summary())}</p>
                <DataTable title="Voir les repas par jour" rows=Signal::derive(move || current.get().map(|l| meal_rows(&l.data)).unwrap_or_default())
                    headers=&["Date", "Prévus", "Servis", "Prévus − servis"] />
            </section>
        </div>
    }
}

#[component]
fn Empty(show: Signal<bool>, testid: &'static str, hint: &'static str) -> impl IntoView {
    view! {
        <div class="chart-empty" data-testid=testid class:hidden=move || !show.get()>
            <p><strong>"Pas encore de données"</strong>" pour cette période."</p>
            <p class="muted">{hint}</p>
        </div>
    }
}

/// Totals of the period with their cost and CO2e (factors and sources from Réglages).
#[component]
fn KeyFigures(current: Memo<Option<Arc<Shown>>>) -> impl IntoView {
    move || {
        let l = current.get()?;
        let ind = &l.data.indicators;
        if ind.total_grams == 0 {
            return None;
        }
        let f = &l.profile.factors;
        let yearly = ind.yearly_estimate_grams(l.profile.yearly_meal_count).filter(|_| l.profile.yearly_meal_count > 0);
        Some(view! {
            <section class="card summary" aria-label="Chiffres de la période" data-testid="key-figures">
                <dl>
                    <div class="total"><dt>"Gaspillage par repas"</dt><dd>{ind.grams_per_meal.map(format_grams_per_meal).unwrap_or_else(|| "—".into())}</dd></div>
                    <div class="total"><dt>"Total pesé"</dt><dd>{format_kg(ind.total_grams)}</dd></div>
                    <div class="total"><dt>"Coût des denrées"</dt><dd>{format_euros(f.cost_cents(ind.total_grams))}</dd></div>
                    <div class="total"><dt>"Émissions"</dt><dd>{format!("{} CO2e", format_kg(f.co2e_grams(ind.total_grams)))}</dd></div>
                    {yearly.map(|g| view! { <div class="total"><dt>"Estimation sur l'année"</dt><dd>{format_kg(g)}</dd></div> })}
                </dl>
                <p class="muted small">{format!(
                    "{} repas servis sur {} jours mesurés. Coût : {} {} ; émissions : {} {} (sources dans Réglages).",
                    group_thousands(ind.meals_served), ind.measured_days,
                    format_decimal_fr(f.cost_per_kg.value), f.cost_per_kg.unit,
                    format_decimal_fr(f.co2e_per_kg.value), f.co2e_per_kg.unit,
                )}</p>
                {(!ind.days_without_count.is_empty()).then(|| view! {
                    <p class="warnings">{format!(
                        "⚠ {} jour(s) avec des pesées mais sans repas servis ne sont pas comptés (premier : {}) : saisissez leurs repas.",
                        ind.days_without_count.len(), format_fr_date(ind.days_without_count[0].service_date))}</p>
                })}
            </section>
        })
    }
}

/// A data table, built only when opened (a year of days is hundreds of rows).
#[component]
fn DataTable(title: &'static str, rows: Signal<Vec<Vec<String>>>, headers: &'static [&'static str]) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <details class="chart-data" on:toggle=move |ev| {
            use wasm_bindgen::JsCast;
            let opened = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| e.has_attribute("open"));
            open.set(opened);
        }>
            <summary>{title}</summary>
            {move || open.get().then(|| view! {
                <div class="table-scroll">
                    <table>
                        <thead><tr>{headers.iter().enumerate().map(|(i, h)| view! { <th scope="col" class={if i > 0 { "num" } else { "" }}>{*h}</th> }).collect_view()}</tr></thead>
                        <tbody>{rows.get().into_iter().map(|r| view! {
                            <tr>{r.into_iter().enumerate().map(|(i, c)| if i == 0 {
                                view! { <th scope="row">{c}</th> }.into_any()
                            } else {
                                view! { <td class="num">{c}</td> }.into_any()
                            }).collect_view()}</tr>
                        }).collect_view()}</tbody>
                    </table>
                </div>
            })}
        </details>
    }
}

fn trend_rows(d: &ChartData) -> Vec<Vec<String>> {
    d.trend
        .iter()
        .map(|p| {
            vec![format_fr_date(p.day.service_date), group_thousands(p.meals), format_kg(p.grams), format_grams_per_meal(p.grams_per_meal)]
        })
        .collect()
}

fn bar_rows(bars: &[Bar]) -> Vec<Vec<String>> {
    bars.iter()
        .map(|b| {
            vec![
                b.label.to_owned(),
                format_kg(b.grams),
                format_per_mille(u64::from(b.per_mille)),
                b.reference_percent.map(|p| format_per_mille(u64::from(p) * 10)).unwrap_or_else(|| "—".into()),
            ]
        })
        .collect()
}

fn meal_rows(d: &ChartData) -> Vec<Vec<String>> {
    d.meals
        .iter()
        .map(|m| {
            let gap = if m.planned == 0 {
                "—".to_owned()
            } else if m.planned >= m.served {
                group_thousands(m.planned - m.served)
            } else {
                format!("-{}", group_thousands(m.served - m.planned))
            };
            vec![
                format_fr_date(m.date),
                if m.planned == 0 { "non saisi".to_owned() } else { group_thousands(m.planned) },
                group_thousands(m.served),
                gap,
            ]
        })
        .collect()
}

