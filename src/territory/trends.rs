//! « Tendances » (`/territoire/tendances`): the territory's g per meal by month with each
//! commune's line to add; a commune's sites against the median of comparable sites; EGalim
//! shares by year and commune; and a « before / after » of a campaign period per site (the
//! overview asked with the campaign as period and the weeks before as baseline).

use assiette_domain::number::format_fr_date;
use assiette_domain::territory_api::{
    ExportFormat, OverviewQuery, OverviewResponse, PurchasesQuery, PurchasesResponse, TrendsQuery, TrendsResponse, MAX_PER_PAGE,
    OVERVIEW_PATH, PURCHASES_PATH, TRENDS_PATH,
};
use assiette_domain::waste::DateRange;
use chrono::{Datelike, Duration, NaiveDate};
use leptos::prelude::*;

use super::api::{self, Loaded};
use super::chart::{chart_canvas, draw_bars, draw_lines, BarRow, Series};
use super::commune::month_label;
use super::format::*;
use super::overview::{freshness, sources_list, DownloadButtons};
use crate::context::{stored, today, AppContext};

/// Years of the EGalim chart, the last complete one last.
const YEARS: i32 = 4;

fn date_input(id: &'static str, label: &'static str, value: RwSignal<NaiveDate>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="date" data-testid=id prop:value=move || value.get().to_string()
                on:change=move |ev| if let Some(d) = assiette_domain::time::parse_date(&event_target_value(&ev)) { value.set(d) } />
        </div>
    }
}

fn range(a: RwSignal<NaiveDate>, b: RwSignal<NaiveDate>) -> DateRange {
    let (a, b) = (a.get(), b.get());
    DateRange::new(a.min(b), a.max(b))
}

#[component]
pub fn TrendsPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = super::session();
    let yesterday = today() - Duration::days(1);
    let from = RwSignal::new(yesterday - Duration::days(364));
    let to = RwSignal::new(yesterday);
    // Communes whose line is drawn beside the territory's.
    let chosen = RwSignal::new(Vec::<String>::new());
    let median_commune = RwSignal::new(String::new());
    let campaign_from = RwSignal::new(yesterday - Duration::days(6));
    let campaign_to = RwSignal::new(yesterday);
    let before_from = RwSignal::new(yesterday - Duration::days(34));
    let before_to = RwSignal::new(yesterday - Duration::days(7));

    let trends = stored(move || {
        let q = TrendsQuery { range: range(from, to), format: None };
        let session = state.session.get();
        let repo = ctx.repo.get();
        async move {
            let repo = repo?;
            Some(api::load::<TrendsResponse>(&repo, session.as_ref(), &format!("{TRENDS_PATH}?{}", q.to_query())).await)
        }
    });
    let purchases = stored(move || {
        let last = today().year() - 1;
        let session = state.session.get();
        let repo = ctx.repo.get();
        async move {
            let repo = repo?;
            let mut out: Vec<Loaded<PurchasesResponse>> = Vec::new();
            for year in last - YEARS + 1..=last {
                let q = PurchasesQuery { year, format: None };
                match api::load::<PurchasesResponse>(&repo, session.as_ref(), &format!("{PURCHASES_PATH}?{}", q.to_query())).await {
                    Ok(l) => out.push(l),
                    Err(e) => return Some(Err(e)),
                }
            }
            Some(Ok(out))
        }
    });
    let before_after = stored(move || {
        let q = OverviewQuery {
            period: range(campaign_from, campaign_to),
            baseline: Some(range(before_from, before_to)),
            year: campaign_to.get().year(),
            page: 1,
            per_page: MAX_PER_PAGE,
            sort: "change_vs_baseline".to_owned(),
            desc: true,
            commune: None,
            management: None,
            production: None,
            engaged: None,
            format: None,
        };
        let session = state.session.get();
        let repo = ctx.repo.get();
        async move {
            let repo = repo?;
            Some(api::load::<OverviewResponse>(&repo, session.as_ref(), &format!("{OVERVIEW_PATH}?{}", q.to_query())).await)
        }
    });
    let trends_export = Callback::new(move |f: ExportFormat| format!("{TRENDS_PATH}?{}", TrendsQuery { range: range(from, to), format: Some(f) }.to_query()));
    let trends_name = Signal::derive(move || format!("tendances-{}-{}", range(from, to).start, range(from, to).end));
    let egalim_export = Callback::new(move |f: ExportFormat| format!("{PURCHASES_PATH}?{}", PurchasesQuery { year: today().year() - 1, format: Some(f) }.to_query()));
    let egalim_name = Signal::derive(move || format!("achats-territoire-{}", today().year() - 1));

    let lines_view = move || {
        let l = match trends.get() {
            None => return view! { <p class="muted" role="status">"Chargement…"</p> }.into_any(),
            Some(Err(m)) => return view! { <p class="warnings" role="alert">{m}</p> }.into_any(),
            Some(Ok(l)) => l,
        };
        let t = &l.value;
        let picked = chosen.get();
        let labels: Vec<String> = t.lines.first().map(|l| l.points.iter().map(|p| month_label(p.year, p.month)).collect()).unwrap_or_default();
        let series: Vec<Series> = t
            .lines
            .iter()
            .filter(|line| line.commune_insee.is_empty() || picked.contains(&line.commune_insee))
            .map(|line| Series {
                name: if line.commune_insee.is_empty() { "Territoire".to_owned() } else { line.commune_name.clone() },
                values: line.points.iter().map(|p| p.waste.grams_per_meal()).collect(),
            })
            .collect();
        let communes: Vec<(String, String)> =
            t.lines.iter().filter(|l| !l.commune_insee.is_empty()).map(|l| (l.commune_insee.clone(), l.commune_name.clone())).collect();
        let median_of = median_commune.get();
        let medians: Vec<BarRow> = t
            .comparisons
            .iter()
            .filter(|s| median_of.is_empty() || s.commune_insee == median_of)
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
        let period = period_fr(t.query.range);
        let sources = t.sources.clone();
        view! {
            {freshness(&l)}
            <fieldset class="card no-print">
                <legend>"Communes à tracer à côté du territoire"</legend>
                <div class="checks">
                    {communes.iter().map(|(insee, name)| {
                        let code = insee.clone();
                        let checked = picked.contains(insee);
                        view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=checked data-testid="trend-commune" on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let code = code.clone();
                                    chosen.update(|c| if on { if !c.contains(&code) { c.push(code) } } else { c.retain(|x| *x != code) });
                                } />
                                {name.clone()}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            {chart_canvas(format!("g par repas par mois, {period} : territoire et communes choisies"), "trend-chart",
                move |cv| draw_lines(cv, &labels, &series, "g/repas"))}
            <p class="figures-period">{format!("g par repas des jours pesés avec repas comptés, par mois, {period}. Mois sans pesée : pas de point ({MISSING}).")}</p>
            <h2>"Une commune face aux sites comparables"</h2>
            <div class="field no-print">
                <label for="median-commune">"Commune"</label>
                <select id="median-commune" data-testid="median-commune" on:change=move |ev| median_commune.set(event_target_value(&ev))>
                    <option value="">"Toutes"</option>
                    {communes.iter().map(|(insee, name)| view! { <option value=insee.clone() selected=median_of == *insee>{name.clone()}</option> }).collect_view()}
                </select>
            </div>
            <p class="figures-period">{format!("Médiane des sites de même type de production et de même taille (repas par jour), le site lui-même exclu, {period}.")}</p>
            {if medians.is_empty() {
                view! { <p>{MISSING}</p> }.into_any()
            } else {
                chart_canvas(format!("g par repas de chaque site et médiane des sites comparables, {period}"), "median-chart", move |cv| draw_bars(cv, &medians, None)).into_any()
            }}
            {sources_list(&sources)}
        }
        .into_any()
    };

    let egalim_view = move || {
        let ls = match purchases.get() {
            None => return view! { <p class="muted" role="status">"Chargement…"</p> }.into_any(),
            Some(Err(m)) => return view! { <p class="warnings" role="alert">{m}</p> }.into_any(),
            Some(Ok(ls)) => ls,
        };
        // By commune (the territory first), each year's EGalim share.
        let mut names: Vec<(String, String)> = Vec::new();
        for l in &ls {
            for y in &l.value.lines {
                let key = (y.commune_insee.clone(), if y.commune_insee.is_empty() { "Territoire".to_owned() } else { y.commune_name.clone() });
                if !names.contains(&key) {
                    names.push(key);
                }
            }
        }
        let rows: Vec<BarRow> = names
            .iter()
            .flat_map(|(insee, name)| {
                ls.iter().map(move |l| {
                    let y = l.value.lines.iter().find(|y| y.commune_insee == *insee);
                    let p = y.and_then(|y| y.purchases.as_ref());
                    let v = p.and_then(|p| p.gauge("egalim")).and_then(|g| g.percent_hundredths);
                    BarRow { label: format!("{name}, {}", l.value.query.year), value: v.map(|h| h as f64 / 100.0), text: share(p, "egalim"), outlined: false }
                })
            })
            .collect();
        let oldest = ls.iter().map(|l| l.received_at).min();
        let stale = ls.iter().find_map(|l| l.stale.clone());
        view! {
            {oldest.map(|at| view! { <p class=if stale.is_some() { "stale" } else { "muted" } role="status">
                {match &stale { Some(w) => format!("⚠ {w} : {}.", api::received_fr(at)), None => format!("À jour : {}.", api::received_fr(at)) }}</p> })}
            <p class="figures-period">"Part EGalim des achats de chaque année civile (achats saisis ou importés, calculés comme ma cantine) ; objectif 50 %."</p>
            {if rows.is_empty() {
                view! { <p data-testid="egalim-none">{format!("Aucun achat enregistré ces {YEARS} dernières années : {MISSING}.")}</p> }.into_any()
            } else {
                chart_canvas("Part EGalim par année et par commune".to_owned(), "egalim-chart", move |cv| draw_bars(cv, &rows, Some((50.0, "objectif 50 %")))).into_any()
            }}
        }
        .into_any()
    };

    let before_after_view = move || {
        let l = match before_after.get() {
            None => return view! { <p class="muted" role="status">"Chargement…"</p> }.into_any(),
            Some(Err(m)) => return view! { <p class="warnings" role="alert">{m}</p> }.into_any(),
            Some(Ok(l)) => l,
        };
        let o = &l.value;
        let campaign = period_fr(o.query.period);
        let before = o.query.baseline.map(period_fr).unwrap_or_default();
        let rows: Vec<BarRow> = o
            .sites
            .iter()
            .flat_map(|r| {
                let b = r.baseline.as_ref().and_then(|b| b.grams_per_meal());
                [
                    BarRow { label: format!("{} ({}) : avant", r.site.name, r.site.commune_name), value: b, text: grams_per_meal(b), outlined: true },
                    BarRow {
                        label: format!("{} : pendant la campagne", r.site.name),
                        value: r.grams_per_meal(),
                        text: match r.change_vs_baseline {
                            Some(_) => format!("{} ({})", grams_per_meal(r.grams_per_meal()), change(r.change_vs_baseline)),
                            None => grams_per_meal(r.grams_per_meal()),
                        },
                        outlined: false,
                    },
                ]
            })
            .collect();
        view! {
            {freshness(&l)}
            <p class="figures-period">{format!("Avant : {before} (contour) ; campagne : {campaign} (plein). g par repas des jours pesés.")}</p>
            {chart_canvas(format!("Avant et pendant la campagne {campaign}, par site"), "before-after-chart", move |cv| draw_bars(cv, &rows, None))}
        }
        .into_any()
    };

    view! {
        <h1>"Tendances et comparaisons"</h1>
        <fieldset class="card no-print">
            <legend>"Période des tendances"</legend>
            <div class="filters">
                {date_input("trend-from", "Du", from)}
                {date_input("trend-to", "Au", to)}
            </div>
        </fieldset>
        <h2>"Gaspillage par mois"</h2>
        <DownloadButtons url=trends_export name=trends_name testid="trends-download" />
        {lines_view}
        <h2>"Parts EGalim par année et par commune"</h2>
        <DownloadButtons url=egalim_export name=egalim_name testid="purchases-download" />
        {egalim_view}
        <h2>"Avant / après une campagne"</h2>
        <fieldset class="card no-print">
            <legend>"Campagne (par exemple la semaine de pesée du Défi Assiettes Vides) et période d'avant"</legend>
            <div class="filters">
                {date_input("campaign-from", "Campagne du", campaign_from)}
                {date_input("campaign-to", "au", campaign_to)}
                {date_input("before-from", "Avant : du", before_from)}
                {date_input("before-to", "au", before_to)}
            </div>
        </fieldset>
        {before_after_view}
        <p class="muted small">{format!("Dates au format jj/mm/aaaa ; aujourd'hui : {}.", format_fr_date(today()))}</p>
    }
}
