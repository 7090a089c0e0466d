//! "Graphiques": waste per meal over time, waste by stage and by component, meals served vs
//! planned, for one period; drawn on the device and redrawn when the data, the period or the
//! screen size change. Every chart has a French summary and its data as a table.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use assiette_domain::meals::DailyMealCount;
use assiette_domain::waste::Weighing;
use chrono::NaiveDate;
use leptos::html::{Canvas, Div, P};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::chart::{container_width, draw};
use assiette_tablet::chart_data::{covers, earliest_needed, first_date, keep_site, tenths, ChartData, ChartKind, Period};
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
    /// Stored rows that could not be read (skipped).
    unreadable: u32,
}

/// What the page shows for the chosen period, with the records it was prepared from.
struct Shown {
    data: ChartData,
    profile: SiteProfile,
    records: Arc<Records>,
    /// `AppContext::data_version` when the records were read.
    version: u64,
    compute_ms: f64,
}

/// Prepares what the page shows of `records` for the period `p`.
fn show(records: Arc<Records>, version: u64, profile: SiteProfile, p: Period) -> Option<Arc<Shown>> {
    let started = now_ms();
    let range = p.range(today(), first_date(&records.counts, &records.weighings));
    let data = ChartData::prepare(&records.counts, &records.weighings, range, profile.baseline_grams_per_meal);
    Some(Arc::new(Shown { data, profile, records, version, compute_ms: now_ms() - started }))
}

/// The texts of one chart card.
struct Card {
    kind: ChartKind,
    title_id: &'static str,
    title: &'static str,
    testid: &'static str,
    empty_testid: &'static str,
    hint: &'static str,
    /// Canvas fallback text.
    alt: &'static str,
    summary_id: &'static str,
    table_title: &'static str,
    headers: [&'static str; 4],
}

const STAGE_HEADERS: [&str; 4] = ["Étape", "Masse", "Part", "Référence ADEME 2024"];

static CARDS: [Card; 4] = [
    Card {
        kind: ChartKind::Trend,
        title_id: "trend-title",
        title: "Gaspillage par repas",
        testid: "chart-trend",
        empty_testid: "chart-trend-empty",
        hint: "Saisissez les repas servis et les pesées d'un même jour pour voir la courbe.",
        alt: "Courbe du gaspillage par repas : voir le résumé et le tableau ci-dessous.",
        summary_id: "trend-summary",
        table_title: "Voir les données par jour",
        headers: ["Date", "Repas servis", "Gaspillage", "Par repas"],
    },
    Card {
        kind: ChartKind::Stages,
        title_id: "stage-title",
        title: "Gaspillage par étape",
        testid: "chart-stage",
        empty_testid: "chart-stage-empty",
        hint: "Les pesées des jours où les repas servis sont saisis apparaîtront ici.",
        alt: "Barres du gaspillage par étape : voir le résumé et le tableau ci-dessous.",
        summary_id: "stage-summary",
        table_title: "Voir les données par étape",
        headers: STAGE_HEADERS,
    },
    Card {
        kind: ChartKind::Components,
        title_id: "component-title",
        title: "Gaspillage par composante",
        testid: "chart-component",
        empty_testid: "chart-component-empty",
        hint: "Pesez par composante (entrée, plat, accompagnement…) pour voir cette répartition.",
        alt: "Barres du gaspillage par composante : voir le résumé et le tableau ci-dessous.",
        summary_id: "component-summary",
        table_title: "Voir les données par composante",
        headers: ["Composante", "Masse", "Part", "Référence ADEME 2024"],
    },
    Card {
        kind: ChartKind::Meals,
        title_id: "meals-title",
        title: "Repas servis et prévus",
        testid: "chart-meals",
        empty_testid: "chart-meals-empty",
        hint: "Saisissez les repas prévus et servis sur l'écran Aujourd'hui.",
        alt: "Courbes des repas servis et prévus : voir le résumé et le tableau ci-dessous.",
        summary_id: "meals-summary",
        table_title: "Voir les repas par jour",
        headers: ["Date", "Prévus", "Servis", "Prévus − servis"],
    },
];

type ShownSignal = RwSignal<Option<Arc<Shown>>>;

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Reads the site's records dated from `from` on (all of them for `None`).
async fn load(repo: &Repository, site: Uuid, from: Option<NaiveDate>) -> Result<Records, StorageError> {
    let started = now_ms();
    let (counts, weighings) = match from {
        None => (repo.all::<DailyMealCount>().await?, repo.all::<Weighing>().await?),
        // Records dated after today (a wrong device clock) are still read.
        Some(from) => {
            // Dates are compared as ISO strings by IndexedDB: a four-digit year keeps the order.
            let to = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");
            (repo.between_dates::<DailyMealCount>(from, to).await?, repo.between_dates::<Weighing>(from, to).await?)
        }
    };
    let unreadable = counts.unreadable + weighings.unreadable;
    let (mut counts, mut weighings) = (counts.rows, weighings.rows);
    keep_site(&mut counts, &mut weighings, site);
    Ok(Records { counts, weighings, from, load_ms: now_ms() - started, unreadable })
}

#[component]
pub fn ChartsPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let period = RwSignal::new(Period::Last30Days);
    let shown: ShownSignal = RwSignal::new(None);
    let resized = RwSignal::new(0u32);
    let resize = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || resize.remove());

    // Records are read from the start of the widest period chosen so far: the usual 30 days
    // are quick to read, and once a year is read, going back to 30 days reads nothing.
    // Switching the period or changing the profile only recomputes from the records shown.
    let scope = Rc::new(Cell::new(earliest_needed(Period::Last30Days, today())));
    // Number of the latest read: an older read finishing late is dropped.
    let latest = Rc::new(Cell::new(0u32));
    Effect::new(move |_| {
        let version = ctx.data_version.get();
        let (Some(repo), Some(profile)) = (ctx.repo.get(), ctx.profile.get()) else { return };
        let p = period.get();
        let needed = earliest_needed(p, today());
        let site = profile.site_id;
        let read = shown.with_untracked(|s| {
            s.as_ref()
                .filter(|s| s.version == version && s.profile.site_id == site && covers(s.records.from, needed))
                .map(|s| s.records.clone())
        });
        if let Some(records) = read {
            shown.set(show(records, version, profile, p));
            return;
        }
        if !covers(scope.get(), needed) {
            scope.set(needed);
        }
        let (from, n) = (scope.get(), latest.get() + 1);
        latest.set(n);
        let latest = latest.clone();
        // While it reads, the previous period stays shown.
        leptos::task::spawn_local(async move {
            let result = load(&repo, site, from).await;
            // A later read was started, or the page was left.
            let Some(p) = period.try_get_untracked().filter(|_| latest.get() == n) else { return };
            match result {
                Ok(r) => {
                    ctx.note_unreadable(r.unreadable);
                    shown.set(ctx.profile.get_untracked().and_then(|profile| show(Arc::new(r), version, profile, p)))
                }
                Err(e) => {
                    ctx.report(e);
                    shown.set(None);
                }
            }
        });
    });

    let root = NodeRef::<Div>::new();
    let canvases: [NodeRef<Canvas>; 4] = std::array::from_fn(|_| NodeRef::new());
    let alert = NodeRef::<P>::new();
    let mut draws = 0u32;

    // Draws, says in the alert line if a chart could not be drawn, then tells benchmarks
    // and tests on the root element: the number of draws and the times to read, prepare
    // and draw.
    Effect::new(move |_| {
        let _ = resized.get();
        let (Some(l), Some(root), Some(alert)) = (shown.get(), root.get(), alert.get()) else { return };
        let started = now_ms();
        let viewport = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(700.0);
        let mut errors = Vec::new();
        for (kind, canvas) in ChartKind::ALL.into_iter().zip(canvases) {
            let Some(canvas) = canvas.get() else { return };
            // Hidden charts are not drawn: their container has no width.
            let drawn = if l.data.has(kind) {
                let width = container_width(&canvas);
                draw(&canvas, &l.data.figure(kind, width), width, viewport)
            } else {
                Ok(0)
            };
            match drawn {
                Ok(n) => {
                    let _ = canvas.set_attribute("data-points", &n.to_string());
                }
                Err(e) => errors.push(e),
            }
        }
        let message = if errors.is_empty() {
            String::new()
        } else {
            format!("⚠ Un graphique n'a pas pu être dessiné ({}) : les tableaux de données restent justes.", errors.join(" ; "))
        };
        alert.set_text_content(Some(&message));
        draws += 1;
        for (name, value) in [
            ("data-load-ms", tenths(l.records.load_ms)),
            ("data-compute-ms", tenths(l.compute_ms)),
            ("data-draw-ms", tenths(now_ms() - started)),
            ("data-draws", draws.to_string()),
        ] {
            let _ = root.set_attribute(name, &value);
        }
    });

    view! {
        <h1>"Graphiques"</h1>
        <div
            class="charts"
            data-testid="charts"
            data-period=move || period.get().code()
            node_ref=root
            data-draws="0"
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
                <p class="muted" data-testid="charts-range">{move || shown.get().map(|l| l.data.range_text())}</p>
            </section>
            <p class="error" role="alert" node_ref=alert></p>
            {move || shown.get().and_then(|l| l.data.key_figures(&l.profile.factors, l.profile.yearly_meal_count)).map(|k| view! {
                <section class="card summary" aria-label="Chiffres de la période" data-testid="key-figures">
                    <dl>{k.figures.into_iter().map(|(term, value)| view! {
                        <div class="total"><dt>{term}</dt><dd>{value}</dd></div>
                    }).collect_view()}</dl>
                    <p class="muted small">{k.note}</p>
                    {k.warning.map(|w| view! { <p class="warnings">{w}</p> })}
                </section>
            })}
            {CARDS.iter().zip(canvases).map(|(card, canvas)| chart_card(shown, card, canvas)).collect_view()}
        </div>
    }
}

/// One chart with its title, "no data" message, French summary and data table.
fn chart_card(shown: ShownSignal, card: &'static Card, canvas: NodeRef<Canvas>) -> impl IntoView {
    let kind = card.kind;
    // `None` before the first records are read.
    let has = move || shown.with(|l| l.as_ref().map(|l| l.data.has(kind)));
    view! {
        <section class="card chart-card" aria-labelledby=card.title_id>
            <h2 id=card.title_id>{card.title}</h2>
            <div class="chart-empty" data-testid=card.empty_testid class:hidden=move || has() != Some(false)>
                <p><strong>"Pas encore de données"</strong>" pour cette période."</p>
                <p class="muted">{card.hint}</p>
            </div>
            <div class="chart-box" class:hidden=move || has() != Some(true)>
                <canvas node_ref=canvas data-testid=card.testid data-points="0" role="img"
                    aria-labelledby=card.title_id aria-describedby=card.summary_id>{card.alt}</canvas>
            </div>
            <p id=card.summary_id class="chart-summary">{move || shown.with(|l| l.as_ref().map(|l| l.data.summary(kind)))}</p>
            {data_table(shown, card)}
        </section>
    }
}

/// A chart's data table, built only when opened (a year of days is hundreds of rows).
fn data_table(shown: ShownSignal, card: &'static Card) -> impl IntoView {
    let open = RwSignal::new(false);
    let [h0, h1, h2, h3] = card.headers;
    view! {
        <details class="chart-data" on:toggle=move |ev| {
            use wasm_bindgen::JsCast;
            let opened = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| e.has_attribute("open"));
            open.set(opened);
        }>
            <summary>{card.table_title}</summary>
            {move || open.get().then(|| view! {
                <div class="table-scroll">
                    <table>
                        <thead><tr>
                            <th scope="col">{h0}</th><th scope="col" class="num">{h1}</th>
                            <th scope="col" class="num">{h2}</th><th scope="col" class="num">{h3}</th>
                        </tr></thead>
                        <tbody>{shown.with(|l| l.as_ref().map(|l| l.data.rows(card.kind)).unwrap_or_default()).into_iter().map(|[a, b, c, d]| view! {
                            <tr><th scope="row">{a}</th><td class="num">{b}</td><td class="num">{c}</td><td class="num">{d}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                </div>
            })}
        </details>
    }
}
