//! A commune's one-page summary (`/territoire/commune/{insee}`), for the project officer and the
//! commune's elected official: waste trend and cost, EGalim shares and what is missing,
//! participation of each site, next deadlines (the contract's, or « aucun contrat enregistré »,
//! and ma cantine's campaign), whether the commune is engaged (the metropolis changes it here,
//! online only); « Imprimer » prints it on A4 (style/territory.css,
//! `@media print`). A commune manager sees their own commune only (the server answers 403
//! for another one).

use assiette_domain::number::{format_euros, format_fr_date, group_thousands, MONTHS_FR};
use assiette_domain::territory::{PurchaseFigures, SiteRow};
use assiette_domain::concession::deadline::Deadline;
use assiette_domain::territory_api::{CommuneQuery, CommuneResponse, ExportFormat, COMMUNES_PATH};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::{self, Loaded};
use super::chart::{chart_canvas, draw_bars, draw_lines, BarRow, Series};
use super::engagement::{engaged_words, metropolis_signed_in, offline_note, EngagedMessage, EngagedToggle};
use super::format::*;
use super::overview::{freshness, sources_list, totals_view, DownloadButtons, PeriodChoice, PeriodChooser};
use crate::context::{stored, AppContext};

fn commune_url(insee: &str, q: &CommuneQuery) -> String {
    format!("{COMMUNES_PATH}/{insee}?{}", q.to_query())
}

fn query(choice: &PeriodChoice, format: Option<ExportFormat>) -> CommuneQuery {
    CommuneQuery { period: choice.period(), baseline: choice.baseline(), year: choice.year.get(), format }
}

/// « sept. 2026 »-like short month labels: « 09/26 ».
pub fn month_label(year: i32, month: u32) -> String {
    format!("{:02}/{:02}", month, year.rem_euclid(100))
}

/// The shares of a year as sentences (what is reached, what is missing in euros).
pub fn shares_sentences(p: Option<&PurchaseFigures>, year: i32) -> impl IntoView {
    match p {
        None => view! { <p data-testid="egalim-missing">{format!("Achats {year} : {MISSING} (aucun achat enregistré pour cette année).")}</p> }.into_any(),
        Some(p) => view! {
            <ul class="shares" data-testid="egalim-shares">
                {p.gauges.iter().map(|g| view! { <li data-code=g.code>{g.summary_fr()}</li> }).collect_view()}
                <li>{format!("Achats {} : {} au total ; coût denrées par repas : {}.", year, format_euros(p.totals.valeur_totale),
                    or_missing(p.indicators.cost_per_meal_cents, format_euros))}</li>
            </ul>
        }.into_any(),
    }
}

fn participation_rows(sites: &[SiteRow]) -> impl IntoView {
    sites
        .iter()
        .map(|r| {
            let p = &r.participation;
            view! {
                <tr data-testid="commune-site">
                    <th scope="row">{r.site.name.clone()}</th>
                    <td>{r.site.management.label()}</td>
                    <td>{yes_no(r.site.engaged)}</td>
                    <td class="num">{r.site.tablets_enrolled.to_string()}</td>
                    <td>{r.site.last_sync.map(|t| crate::sync::format_last_sync(&t.to_rfc3339())).unwrap_or_else(|| "jamais".to_owned())}</td>
                    <td class="num">{format!("{} / {}", p.days_with_entries, p.school_days)}</td>
                    <td class="num">{format!("{} / 12", p.purchase_months)}</td>
                    <td class="num">{grams_per_meal(r.grams_per_meal())}</td>
                    <td>{change(r.change_vs_baseline)}</td>
                    <td>{if r.flags.is_empty() { "✓ aucune".to_owned() } else { r.flags.iter().map(flag_fr).collect::<Vec<_>>().join(" ; ") }}</td>
                </tr>
            }
        })
        .collect_view()
}

/// The dates the commune works towards: its contract's (delegated management), computed by the
/// domain from the contract the commune's guide stored, or the words saying none is stored;
/// the declaration campaign on ma cantine (every commune); the end of the purchase year (its
/// shares are final then) and the sites to chase.
fn deadlines(c: &CommuneResponse) -> impl IntoView {
    let d = &c.deadlines;
    let year = c.query.year;
    let missing_egalim = c.totals.purchases.as_ref().and_then(|p| p.gauge("egalim")).and_then(|g| g.missing_cents);
    let end = chrono::NaiveDate::from_ymd_opt(year, 12, 31);
    let mut items: Vec<String> = Vec::new();
    if let Some(end) = end.filter(|e| *e >= c.today) {
        items.push(match missing_egalim {
            Some(0) => format!("{} : fin de l'année d'achats {year} (50 % EGalim atteint à ce jour).", format_fr_date(end)),
            Some(m) => format!("{} : fin de l'année d'achats {year} ; il manque {} d'achats EGalim pour 50 %.", format_fr_date(end), format_euros(m)),
            None => format!("{} : fin de l'année d'achats {year} ; aucun achat enregistré à ce jour.", format_fr_date(end)),
        });
    }
    for r in c.sites.iter().filter(|r| !r.flags.is_empty()) {
        items.push(format!("À relancer : {} ({}).", r.site.name, r.flags.iter().map(flag_fr).collect::<Vec<_>>().join(" ; ")));
    }
    let line = |x: &Deadline| view! { <li data-kind=x.kind.code()>{x.line_fr()}</li> };
    view! {
        <div data-testid="deadlines">
            {d.contracts.iter().map(|k| view! {
                <h3>{format!("Contrat avec {} (fin le {})", k.caterer_name, format_fr_date(k.end_date))}</h3>
                {if k.deadlines.is_empty() {
                    view! { <p data-testid="contract-deadlines">"Plus aucune échéance : le contrat est terminé."</p> }.into_any()
                } else {
                    view! { <ul data-testid="contract-deadlines">{k.deadlines.iter().map(line).collect_view()}</ul> }.into_any()
                }}
            }).collect_view()}
            {d.missing_contract.clone().map(|m| view! { <p data-testid="missing-contract"><strong>{m}</strong></p> })}
            <h3>"Déclaration sur ma cantine"</h3>
            <ul data-testid="declaration-deadlines">{d.declaration.iter().map(line).collect_view()}</ul>
            {(!items.is_empty()).then(|| view! {
                <h3>"Suivi des données"</h3>
                <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}

/// Whether the commune takes part in the programme, in words (printed), and for the metropolis
/// the button that changes it.
fn engagement(c: &CommuneResponse, metropolis: bool, message: EngagedMessage, reload: RwSignal<u32>) -> impl IntoView {
    let current = RwSignal::new(c.engaged);
    let insee = c.commune_insee.clone();
    view! {
        <section class="summary-block" data-testid="engagement">
            <h2>"Engagement dans le programme"</h2>
            <p data-testid="engaged-state" data-engaged=move || current.get().to_string()>
                {move || engaged_words(current.get())}
                {move || if current.get() {
                    " : la commune participe au programme de la métropole."
                } else {
                    " : la commune ne participe pas au programme de la métropole."
                }}
            </p>
            {metropolis.then(|| view! {
                <EngagedToggle insee=insee engaged=current message=message reload=reload />
                {offline_note()}
            })}
        </section>
    }
}

#[component]
pub fn CommunePage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = super::session();
    let params = use_params_map();
    let insee = move || params.with(|p| p.get("insee")).unwrap_or_default();
    let choice = PeriodChoice::new();
    // Bumped once the commune's engagement is saved: the page is read again.
    let reload = RwSignal::new(0u32);
    let engaged_message: EngagedMessage = RwSignal::new(None);
    let data = stored(move || {
        reload.track();
        let url = commune_url(&insee(), &query(&choice, None));
        let session = state.session.get();
        let repo = ctx.repo.get();
        async move {
            let Some(repo) = repo else { return Some(Err("Stockage de l'appareil indisponible.".to_owned())) };
            Some(api::load::<CommuneResponse>(&repo, session.as_ref(), &url).await)
        }
    });
    let export_url = Callback::new(move |f: ExportFormat| commune_url(&insee(), &query(&choice, Some(f))));
    let file_name = Signal::derive(move || format!("commune-{}-{}", insee(), choice.year.get()));
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };

    let body = move || {
        let loaded: Loaded<CommuneResponse> = match data.get() {
            None => return view! { <p class="muted" role="status">"Chargement de la commune…"</p> }.into_any(),
            Some(Err(m)) => return view! { <p class="warnings" role="alert" data-testid="commune-error">{m}</p> }.into_any(),
            Some(Ok(l)) => l,
        };
        let c = &loaded.value;
        let metropolis = metropolis_signed_in();
        let year = c.query.year;
        let period = period_fr(c.query.period);
        let trend_labels: Vec<String> = c.trend.points.iter().map(|p| month_label(p.year, p.month)).collect();
        let trend = vec![Series { name: c.commune_name.clone(), values: c.trend.points.iter().map(|p| p.waste.grams_per_meal()).collect() }];
        let trend_range = match (c.trend.points.first(), c.trend.points.last()) {
            (Some(a), Some(b)) => period_fr(assiette_domain::waste::DateRange::new(a.waste.range.start, b.waste.range.end)),
            _ => String::new(),
        };
        let cost_year: Option<i64> = c.trend.points.iter().filter(|p| p.waste.measured_days > 0).map(|p| p.waste.cost_cents(&c.factors).unwrap_or(0)).reduce(|a, b| a + b);
        let years: Vec<BarRow> = c
            .egalim_by_year
            .iter()
            .map(|y| {
                let v = y.purchases.as_ref().and_then(|p| p.gauge("egalim")).and_then(|g| g.percent_hundredths);
                BarRow {
                    label: format!("{} ({} site(s) avec achats)", y.year, y.sites_with_purchases),
                    value: v.map(|h| h as f64 / 100.0),
                    text: share(y.purchases.as_ref(), "egalim"),
                    outlined: false,
                }
            })
            .collect();
        let comparisons: Vec<BarRow> = c
            .comparisons
            .iter()
            .flat_map(|s| {
                [
                    BarRow { label: s.name.clone(), value: s.grams_per_meal, text: grams_per_meal(s.grams_per_meal), outlined: false },
                    BarRow {
                        label: format!("Médiane de {} site(s) comparable(s) ({}, {})", s.median.peers, s.median.production_type.label(), s.median.band.label()),
                        value: s.median.median_grams_per_meal,
                        text: grams_per_meal(s.median.median_grams_per_meal),
                        outlined: true,
                    },
                ]
            })
            .collect();
        let trend_table: Vec<(String, String, String)> = c
            .trend
            .points
            .iter()
            .map(|p| (format!("{} {}", MONTHS_FR[(p.month as usize + 11) % 12], p.year), grams_per_meal(p.waste.grams_per_meal()), euros(p.waste.cost_cents(&c.factors))))
            .collect();
        view! {
            {freshness(&loaded)}
            <h1 data-testid="commune-name">{c.commune_name.clone()}</h1>
            <p class="figures-period" data-testid="figures-period">{format!(
                "Gaspillage {period} ; tendance {trend_range} ; achats de l'année {year} ; participation sur les 30 derniers jours d'école avant le {}.",
                format_fr_date(c.today)
            )}</p>
            {totals_view(&c.totals, format!("Synthèse de la commune ({} site(s))", c.totals.sites), year)}
            {engagement(c, metropolis, engaged_message, reload)}
            <section class="summary-block">
                <h2>"Gaspillage : tendance et coût"</h2>
                {chart_canvas(format!("g par repas par mois, {}, {trend_range}", c.commune_name), "commune-trend", move |cv| draw_lines(cv, &trend_labels, &trend, "g/repas"))}
                <p>{format!("Coût du gaspillage pesé {trend_range} : {} ({} {}).", euros(cost_year),
                    assiette_domain::number::format_decimal_fr(c.factors.cost_per_kg.value), c.factors.cost_per_kg.unit)}</p>
                <table class="compact">
                    <caption>"g par repas et coût par mois (jours pesés)"</caption>
                    <thead><tr><th scope="col">"Mois"</th><th scope="col">"g/repas"</th><th scope="col">"Coût"</th></tr></thead>
                    <tbody>{trend_table.into_iter().map(|(m, g, e)| view! { <tr><th scope="row">{m}</th><td class="num">{g}</td><td class="num">{e}</td></tr> }).collect_view()}</tbody>
                </table>
            </section>
            <section class="summary-block">
                <h2>{format!("Achats {year} : parts EGalim et ce qui manque")}</h2>
                {shares_sentences(c.totals.purchases.as_ref(), year)}
                {(!years.is_empty()).then(|| chart_canvas(format!("Part EGalim par année, {}", c.commune_name), "commune-egalim",
                    move |cv| draw_bars(cv, &years, Some((50.0, "objectif 50 %")))))}
            </section>
            <section class="summary-block">
                <h2>"Participation des sites"</h2>
                <table class="territory-table compact">
                    <caption>{format!("Sites de la commune : gaspillage {period}, achats {year}")}</caption>
                    <thead><tr>
                        <th scope="col">"Site"</th><th scope="col">"Gestion"</th><th scope="col">"Engagé"</th><th scope="col">"Tablettes"</th>
                        <th scope="col">"Dernière synchro"</th><th scope="col">"Jours avec saisie"</th><th scope="col">"Mois avec achats"</th>
                        <th scope="col">"g/repas"</th><th scope="col">"Évolution / référence"</th><th scope="col">"Alertes"</th>
                    </tr></thead>
                    <tbody>{participation_rows(&c.sites)}</tbody>
                </table>
            </section>
            <section class="summary-block">
                <h2>"Comparaison avec des sites comparables"</h2>
                {if comparisons.is_empty() {
                    view! { <p>{MISSING}</p> }.into_any()
                } else {
                    chart_canvas(format!("g par repas de chaque site et médiane des sites comparables, {period}"), "commune-median",
                        move |cv| draw_bars(cv, &comparisons, None)).into_any()
                }}
            </section>
            <section class="summary-block">
                <h2>"Prochaines échéances"</h2>
                {deadlines(c)}
            </section>
            <p class="muted small">{format!("Repas par jour : {}.", group_thousands(c.totals.daily_meals))}
                {c.sites.first().map(|r| format!(" Références : {} g par repas ({}) ; {} g de restes par assiette ({}).",
                    r.ademe.reference.grams_per_meal, r.ademe.reference.source, r.regional.reference.grams_per_meal, r.regional.reference.source))}</p>
            {sources_list(&c.sources)}
        }
        .into_any()
    };

    view! {
        <p class="no-print"><a href=super::OVERVIEW>"← Vue du territoire"</a></p>
        <PeriodChooser choice=choice />
        <div class="button-row no-print">
            <button type="button" class="primary" data-testid="print" on:click=print>"Imprimer (A4)"</button>
        </div>
        <DownloadButtons url=export_url name=file_name testid="commune-download" />
        <article class="commune-summary" data-testid="commune-summary">{body}</article>
    }
}
