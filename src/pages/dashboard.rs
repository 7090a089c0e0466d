//! « Tableau de bord » (office bundle): the EGalim shares of a site or of every site for a
//! calendar year, against the law's thresholds, with the euros still missing, the cumulative
//! curve beside last year's, spend by family × label, top suppliers and cost per meal.
//!
//! The purchases are read from IndexedDB once per data change and summed once
//! (`PurchaseCube`); a change of site, year or family recomputes from those sums only. Every
//! figure is the domain's (`assiette_domain::dashboard`), equal to `assiette-server egalim`.

use std::sync::Arc;

use assiette_domain::dashboard::{Dashboard, Filter, PurchaseCube, SiteInfo};
use assiette_domain::declaration::{declaration, Declaration, DeclarationValue};
use assiette_domain::egalim::{DetailLabel, Outcome};
use assiette_domain::number::{format_euros, format_percent_hundredths, group_thousands, MONTHS_FR};
use assiette_domain::purchase::{Family, Purchase};
use assiette_domain::site::RegionGroup;
use chrono::Datelike;
use leptos::html::{Canvas, Div, P};
use leptos::prelude::*;

use crate::components::chart::{container_width, draw};
use crate::components::copy_button::CopyButton;
use crate::components::waste_declaration::WasteDeclaration;
use assiette_tablet::chart_data::{nice_ceiling, tenths, tick_step, Figure, Line, LineChart, Pen};
use crate::context::{today, AppContext};

/// The purchases summed, with the data version they were read at.
struct Loaded {
    cube: PurchaseCube,
    version: u64,
    load_ms: f64,
    aggregate_ms: f64,
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// The sites: the signed-in person's (with their meals and thresholds) or else the tablet's
/// own profile, and every SIRET met in the purchases.
fn sites(ctx: &AppContext, cube: &PurchaseCube) -> Vec<SiteInfo> {
    let mut out: Vec<SiteInfo> = Vec::new();
    if let Some(s) = use_context::<crate::session::SessionState>().and_then(|state| state.session.get_untracked()) {
        out.extend(s.sites.into_iter().map(|site| SiteInfo {
            siret: site.siret,
            name: site.name,
            yearly_meal_count: site.yearly_meal_count,
            region_group: site.region_group,
        }));
    } else if let Some(p) = ctx.profile.get_untracked().filter(|p| !p.siret.is_empty()) {
        out.push(SiteInfo {
            siret: p.siret.clone(),
            name: p.name.clone(),
            yearly_meal_count: p.yearly_meal_count,
            region_group: RegionGroup::Mainland,
        });
    }
    for siret in cube.sirets() {
        if !out.iter().any(|s| &s.siret == siret) {
            out.push(SiteInfo { siret: siret.clone(), name: siret.clone(), yearly_meal_count: 0, region_group: RegionGroup::Mainland });
        }
    }
    out
}

/// Month labels of the curve's axis.
const MONTHS_SHORT: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];

/// The cumulative curve: this year's spend and EGalim spend, and last year's spend, in euros.
fn curve_chart(d: &Dashboard, css_width: f64) -> LineChart {
    let euros = |c: i64| c as f64 / 100.0;
    let this: Vec<(f64, f64)> = d.curve.iter().enumerate().map(|(m, p)| (m as f64, euros(p.this_year.total_cents))).collect();
    let egalim: Vec<(f64, f64)> = d.curve.iter().enumerate().map(|(m, p)| (m as f64, euros(p.this_year.egalim_cents))).collect();
    let last: Vec<(f64, f64)> = d.curve.iter().enumerate().map(|(m, p)| (m as f64, euros(p.last_year.total_cents))).collect();
    let top = this.iter().chain(&last).map(|p| p.1).fold(0.0, f64::max);
    let y_max = nice_ceiling(top, 100.0);
    let y_step = tick_step(y_max, 6);
    // About one month label per 60 px.
    let every = if css_width >= 720.0 { 1 } else if css_width >= 360.0 { 2 } else { 3 };
    LineChart {
        x_end: 11.5,
        y_max,
        x_ticks: (0..12).filter(|m| m % every == 0).map(|m| (m as f64, MONTHS_SHORT[m].to_owned())).collect(),
        y_ticks: (0..=(y_max / y_step + 1e-9) as u64)
            .map(|k| {
                let y = k as f64 * y_step;
                (y, group_thousands(y.round() as u64))
            })
            .collect(),
        unit: "€ HT cumulés depuis janvier",
        lines: vec![
            Line { pen: Pen::Reference, points: last },
            Line { pen: Pen::Planned, points: egalim },
            Line { pen: Pen::Measured, points: this },
        ],
        marked: true,
        notes: Vec::new(),
        legend: vec![
            (Pen::Measured, "Achats de l'année (trait plein)"),
            (Pen::Planned, "dont EGalim (tirets, triangles)"),
            (Pen::Reference, "Année précédente (tirets)"),
        ],
        points: 12,
    }
}

/// The curve in words, for the canvas's description.
fn curve_summary(d: &Dashboard) -> String {
    let end = d.curve[11];
    format!(
        "Fin décembre {} : {} d'achats dont {} EGalim ; {} : {}.",
        d.year,
        format_euros(end.this_year.total_cents),
        format_euros(end.this_year.egalim_cents),
        d.year - 1,
        format_euros(end.last_year.total_cents)
    )
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let loaded: RwSignal<Option<Arc<Loaded>>, LocalStorage> = RwSignal::new_local(None);
    let year = RwSignal::new(today().year());
    // Empty: every site / every family.
    let site = RwSignal::new(String::new());
    let family = RwSignal::new(String::new());
    let resized = RwSignal::new(0u32);
    let resize = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || resize.remove());

    // Read and sum the purchases once per data change.
    Effect::new(move |_| {
        let version = ctx.data_version.get();
        let Some(repo) = ctx.repo.get() else { return };
        if loaded.with_untracked(|l| l.as_ref().is_some_and(|l| l.version == version)) {
            return;
        }
        leptos::task::spawn_local(async move {
            let started = now_ms();
            match repo.all::<Purchase>().await {
                Ok(listed) => {
                    ctx.note_unreadable(listed.unreadable);
                    let read = now_ms();
                    let cube = PurchaseCube::from_purchases(&listed.rows);
                    let aggregate_ms = now_ms() - read;
                    // The latest year with purchases, unless the one chosen has some.
                    let years = cube.years();
                    if !years.contains(&year.get_untracked()) {
                        if let Some(y) = years.last() {
                            year.set(*y);
                        }
                    }
                    loaded.set(Some(Arc::new(Loaded { cube, version, load_ms: read - started, aggregate_ms })));
                }
                Err(e) => ctx.report(e),
            }
        });
    });

    // Every figure for the filter, from the sums.
    let compute_ms = RwSignal::new(0.0f64);
    let shown = Memo::new(move |_| {
        let l = loaded.get()?;
        let started = now_ms();
        let filter = Filter {
            year: year.get(),
            sirets: site.with(|s| if s.is_empty() { Vec::new() } else { vec![s.clone()] }),
            families: family.with(|f| Family::from_code(f).into_iter().collect()),
            ..Filter::default()
        };
        let sites = sites(&ctx, &l.cube);
        let d = l.cube.dashboard(&filter, &sites, 10);
        compute_ms.set(now_ms() - started);
        Some(Arc::new(d))
    });

    let root = NodeRef::<Div>::new();
    let canvas = NodeRef::<Canvas>::new();
    let alert = NodeRef::<P>::new();
    let mut draws = 0u32;
    Effect::new(move |_| {
        let _ = resized.get();
        let (Some(d), Some(canvas), Some(root), Some(alert), Some(l)) =
            (shown.get(), canvas.get(), root.get(), alert.get(), loaded.get_untracked())
        else {
            return;
        };
        let started = now_ms();
        let viewport = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(700.0);
        let width = container_width(&canvas);
        match draw(&canvas, &Figure::Lines(curve_chart(&d, width)), width, viewport) {
            Ok(n) => {
                let _ = canvas.set_attribute("data-points", &n.to_string());
                alert.set_text_content(None);
            }
            Err(e) => alert.set_text_content(Some(&format!(
                "⚠ La courbe n'a pas pu être dessinée ({e}) : le tableau des mois reste juste."
            ))),
        }
        draws += 1;
        for (name, value) in [
            ("data-load-ms", tenths(l.load_ms)),
            ("data-aggregate-ms", tenths(l.aggregate_ms)),
            ("data-compute-ms", tenths(compute_ms.get_untracked())),
            ("data-draw-ms", tenths(now_ms() - started)),
            ("data-draws", draws.to_string()),
        ] {
            let _ = root.set_attribute(name, &value);
        }
    });

    let site_options = move || {
        loaded.with(|l| {
            l.as_ref().map(|l| sites(&ctx, &l.cube)).unwrap_or_default().into_iter().map(|s| {
                let label = if s.name == s.siret { s.siret.clone() } else { format!("{} ({})", s.name, s.siret) };
                view! { <option value=s.siret.clone() selected=site.get_untracked() == s.siret>{label}</option> }
            }).collect_view()
        })
    };
    let year_options = move || {
        let mut years = loaded.with(|l| l.as_ref().map(|l| l.cube.years()).unwrap_or_default());
        let current = year.get_untracked();
        if !years.contains(&current) {
            years.push(current);
            years.sort_unstable();
        }
        years.into_iter().rev().map(|y| view! { <option value=y.to_string() selected=y == current>{y.to_string()}</option> }).collect_view()
    };

    view! {
        <h1>"Tableau de bord EGalim"</h1>
        <div class="dashboard" data-testid="dashboard" node_ref=root data-draws="0">
            <section class="card filters" aria-label="Filtres">
                <label>"Site "
                    <select data-testid="dashboard-site" on:change=move |ev| site.set(event_target_value(&ev))>
                        <option value="" selected=move || site.get().is_empty()>"Tous les sites"</option>
                        {site_options}
                    </select>
                </label>
                <label>"Année "
                    <select data-testid="dashboard-year" on:change=move |ev| {
                        if let Ok(y) = event_target_value(&ev).parse() { year.set(y) }
                    }>{year_options}</select>
                </label>
                <label>"Famille "
                    <select data-testid="dashboard-family" on:change=move |ev| family.set(event_target_value(&ev))>
                        <option value="">"Toutes les familles"</option>
                        {Family::ALL.into_iter().map(|f| view! { <option value=f.code()>{f.label_fr()}</option> }).collect_view()}
                    </select>
                </label>
            </section>
            {move || loaded.with(|l| l.as_ref().is_some_and(|l| l.cube.sirets().is_empty())).then(|| view! {
                <p class="card muted" data-testid="dashboard-empty">
                    "Aucun achat enregistré : saisissez ou importez les achats pour voir les parts EGalim."
                </p>
            })}
            {move || shown.get().map(|d| view! {
                <section class="card shares" aria-label="Parts fixées par la loi" data-testid="dashboard-shares">
                    <h2>"Parts fixées par la loi en " {d.year}</h2>
                    <ul class="gauges">{d.shares.iter().map(|g| {
                        let value = g.percent_hundredths.map(|p| (p as f64 / 100.0).to_string()).unwrap_or_default();
                        let state = match g.outcome { Outcome::Reached => "atteint", Outcome::NotReached => "non-atteint", Outcome::NotApplicable => "sans-objet" };
                        view! {
                            <li data-code=g.code data-state=state data-percent=g.percent_hundredths.map(|p| p.to_string()).unwrap_or_default()
                                data-missing-cents=g.missing_cents.map(|m| m.to_string()).unwrap_or_default()>
                                <meter min="0" max="100" value=value low=g.threshold_percent.to_string() optimum="100"
                                    aria-label=g.label_fr></meter>
                                " " {g.summary_fr()}
                            </li>
                        }
                    }).collect_view()}</ul>
                    <p data-testid="dashboard-cost">{match d.indicators.cost_per_meal_cents {
                        Some(c) => format!("Coût des denrées par repas : {} ({} repas par an).", format_euros(c), group_thousands(d.yearly_meal_count.unwrap_or(0))),
                        None => "Coût des denrées par repas : nombre de repas par an inconnu.".to_owned(),
                    }}</p>
                    {d.notes.iter().map(|n| view! { <p class="warnings">{n.clone()}</p> }).collect_view()}
                </section>
            })}
            <section class="card chart-card" aria-labelledby="curve-title">
                <h2 id="curve-title">"Achats cumulés, mois par mois"</h2>
                <p class="error" role="alert" node_ref=alert></p>
                <div class="chart-box">
                    <canvas node_ref=canvas data-testid="dashboard-curve" data-points="0" role="img"
                        aria-labelledby="curve-title" aria-describedby="curve-summary">
                        "Courbe des achats cumulés : voir le résumé et le tableau ci-dessous."
                    </canvas>
                </div>
                <p id="curve-summary" class="chart-summary">{move || shown.get().map(|d| curve_summary(&d))}</p>
                <details class="chart-data">
                    <summary>"Voir les mois"</summary>
                    <div class="table-scroll"><table>
                        <thead><tr><th scope="col">"Fin de"</th><th scope="col" class="num">"Achats cumulés"</th>
                            <th scope="col" class="num">"dont EGalim"</th><th scope="col" class="num">"Année précédente"</th></tr></thead>
                        <tbody>{move || shown.get().map(|d| d.curve.iter().map(|p| view! {
                            <tr><th scope="row">{MONTHS_FR[p.month as usize - 1]}</th>
                                <td class="num">{format_euros(p.this_year.total_cents)}</td>
                                <td class="num">{format_euros(p.this_year.egalim_cents)}</td>
                                <td class="num">{format_euros(p.last_year.total_cents)}</td></tr>
                        }).collect_view())}</tbody>
                    </table></div>
                </details>
            </section>
            {move || {
                let siret = site.get();
                if siret.is_empty() {
                    return None;
                }
                let l = loaded.get()?;
                let info = sites(&ctx, &l.cube).into_iter().find(|s| s.siret == siret)?;
                Some(declaration_section(declaration(&l.cube, &info, year.get(), today())))
            }}
            {move || {
                let siret = site.get();
                (!siret.is_empty()).then(|| view! { <WasteDeclaration siret=siret /> })
            }}
            {move || shown.get().map(|d| grid_table(&d))}
            {move || shown.get().map(|d| view! {
                <section class="card" aria-labelledby="suppliers-title">
                    <h2 id="suppliers-title">"Principaux fournisseurs"</h2>
                    <div class="table-scroll"><table data-testid="dashboard-suppliers">
                        <thead><tr><th scope="col">"Fournisseur"</th><th scope="col" class="num">"Achats"</th>
                            <th scope="col" class="num">"Part EGalim"</th><th scope="col" class="num">"Lignes"</th></tr></thead>
                        <tbody>{d.suppliers.iter().map(|s| view! {
                            <tr><th scope="row">{if s.name.is_empty() { "(fournisseur non renseigné)".to_owned() } else { s.name.clone() }}</th>
                                <td class="num">{format_euros(s.total_cents)}</td>
                                <td class="num">{s.egalim_percent_hundredths.map(format_percent_hundredths).unwrap_or_default()}</td>
                                <td class="num">{group_thousands(s.lines)}</td></tr>
                        }).collect_view()}</tbody>
                    </table></div>
                </section>
            })}
        </div>
    }
}

/// Spend by family (rows) × label (columns); only the columns with purchases.
fn grid_table(d: &Dashboard) -> impl IntoView {
    let grid = d.grid();
    let columns: Vec<DetailLabel> =
        DetailLabel::ALL.into_iter().filter(|l| grid.iter().any(|(_, row)| row[*l as usize] != 0)).collect();
    let header = columns.iter().map(|l| view! { <th scope="col" class="num">{l.label_fr()}</th> }).collect_view();
    let rows = grid
        .iter()
        .filter(|(_, row)| row.iter().any(|c| *c != 0))
        .map(|(f, row)| {
            let cells = columns.iter().map(|l| view! { <td class="num">{format_euros(row[*l as usize])}</td> }).collect_view();
            view! { <tr><th scope="row">{f.label_fr()}</th>{cells}<td class="num">{format_euros(row.iter().sum())}</td></tr> }
        })
        .collect_view();
    let totals = columns
        .iter()
        .map(|l| view! { <td class="num">{format_euros(grid.iter().map(|(_, row)| row[*l as usize]).sum())}</td> })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="grid-title">
            <h2 id="grid-title">"Achats par famille et par label"</h2>
            <p class="muted small">"Un produit à plusieurs labels compte une fois, dans le premier label de l'ordre national."</p>
            <div class="table-scroll"><table data-testid="dashboard-grid">
                <thead><tr><th scope="col">"Famille"</th>{header}<th scope="col" class="num">"Total"</th></tr></thead>
                <tbody>{rows}</tbody>
                <tfoot><tr><th scope="row">"Total"</th>{totals}<td class="num">{format_euros(d.totals.valeur_totale)}</td></tr></tfoot>
            </table></div>
        </section>
    }
}

/// One value of the declaration with its « Copier » button.
fn value_row(v: DeclarationValue) -> impl IntoView {
    view! {
        <tr data-field=v.name.clone()>
            <th scope="row">{v.label_fr.clone()}<br /><code class="muted small">{v.name.clone()}</code></th>
            <td class="num">{v.display.clone()}</td>
            <td><CopyButton text=v.copy_text /></td>
        </tr>
    }
}

/// The yearly declaration of the site chosen: the values to paste into ma cantine, the checks,
/// and the totals as JSON.
fn declaration_section(dec: Declaration) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let file_name = format!("totaux-egalim-{}-{}.json", dec.siret, dec.year);
    let json = dec.totals_json();
    view! {
        <section class="card" aria-labelledby="declaration-title" data-testid="declaration">
            <h2 id="declaration-title">"Déclaration annuelle " {dec.year} " sur ma cantine"</h2>
            <p class="muted small">"Les valeurs en € HT à reporter dans la déclaration (« Copier » copie le montant avec un point décimal, comme la plateforme le lit)."</p>
            {dec.warnings.iter().map(|w| view! { <p class="warnings" data-testid="declaration-warning">{w.clone()}</p> }).collect_view()}
            <div class="table-scroll"><table>
                <tbody>{dec.simple.into_iter().map(value_row).collect_view()}</tbody>
            </table></div>
            <details class="chart-data">
                <summary>"Déclaration détaillée (par famille et par label)"</summary>
                <div class="table-scroll"><table>
                    <tbody>{dec.detailed.into_iter().map(value_row).collect_view()}</tbody>
                </table></div>
            </details>
            <button type="button" data-testid="declaration-json" on:click=move |_| {
                error.set(crate::download::offer(&file_name, crate::download::FileKind::Json, json.as_bytes()).err());
            }>"Exporter les totaux (JSON)"</button>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assiette_domain::purchase::Characteristic as C;
    use assiette_domain::record::RecordMeta;
    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn buy(date: &str, chars: &[C], cents: i64) -> Purchase {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        Purchase {
            meta: RecordMeta::new(Uuid::nil(), now),
            siret: "21010034300016".into(),
            description: "x".into(),
            supplier: "F".into(),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            price_cents: cents,
            family: Family::Autres,
            characteristics: chars.to_vec(),
            local_definition: None,
            local_km: None,
        }
    }

    fn dashboard() -> Dashboard {
        let ps = [
            buy("2025-01-10", &[C::Bio], 100_000),
            buy("2025-06-10", &[], 150_000),
            buy("2024-03-10", &[], 80_000),
        ];
        PurchaseCube::from_purchases(&ps).dashboard(&Filter::year(2025), &[], 5)
    }

    #[wasm_bindgen_test]
    fn the_curve_is_cumulative_euros_beside_last_year() {
        let chart = curve_chart(&dashboard(), 800.0);
        assert_eq!(chart.points, 12);
        // Drawn in order: last year (dashed), EGalim, this year on top.
        assert_eq!(chart.lines.iter().map(|l| l.pen).collect::<Vec<_>>(), vec![Pen::Reference, Pen::Planned, Pen::Measured]);
        assert_eq!(chart.lines[2].points[0], (0.0, 1000.0));
        assert_eq!(chart.lines[2].points[11], (11.0, 2500.0));
        assert_eq!(chart.lines[1].points[11], (11.0, 1000.0));
        assert_eq!(chart.lines[0].points[2], (2.0, 800.0));
        // 2 500 € with headroom: 3 000 €; every month labelled at 800 px, every other one at 400.
        assert_eq!(chart.y_max, 3000.0);
        assert_eq!(chart.x_ticks.len(), 12);
        assert_eq!(chart.x_ticks[0].1, "janv.");
        assert_eq!(curve_chart(&dashboard(), 400.0).x_ticks.len(), 6);
        assert_eq!(
            curve_summary(&dashboard()),
            "Fin décembre 2025 : 2\u{202F}500,00\u{202F}€ d'achats dont 1\u{202F}000,00\u{202F}€ EGalim ; 2024 : 800,00\u{202F}€."
        );
    }

    #[wasm_bindgen_test]
    fn the_curve_is_drawn_with_its_twelve_months() {
        let document = web_sys::window().unwrap().document().unwrap();
        let parent = document.create_element("div").unwrap();
        let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas").unwrap().dyn_into().unwrap();
        parent.append_child(&canvas).unwrap();
        document.body().unwrap().append_child(&parent).unwrap();
        assert_eq!(draw(&canvas, &Figure::Lines(curve_chart(&dashboard(), 600.0)), 600.0, 900.0), Ok(12));
        assert_eq!(canvas.width(), 600 * web_sys::window().unwrap().device_pixel_ratio() as u32);
    }
}
