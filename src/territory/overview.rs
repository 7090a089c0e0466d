//! « Vue du territoire » (`/territoire/`): one table of every site in scope with its commune,
//! participation, waste by stage against its baseline and the references, purchase shares and
//! the euros still missing, management mode and flags; sorted and filtered on the device with
//! the domain's `sort_rows` / `filter_rows` (so it works offline on the stored answer), the
//! territory's totals, and each figure's period and source.

use assiette_domain::number::{format_fr_date, format_kg_rounded, group_thousands};
use assiette_domain::site::{ManagementType, ProductionType};
use assiette_domain::territory::{filter_rows, group_totals, sort_rows, GroupTotals, RowFilter, SiteRow, SortKey};
use assiette_domain::territory_api::{sort_code, ExportFormat, OverviewQuery, OverviewResponse, Source, MAX_PER_PAGE, OVERVIEW_PATH};
use assiette_domain::waste::{DateRange, Stage};
use chrono::{Datelike, Duration, NaiveDate};
use leptos::prelude::*;

use super::api::{self, Loaded};
use super::engagement::{engaged_words, metropolis_signed_in, offline_note, EngagedMessage, EngagedToggle};
use super::format::*;
use crate::context::{stored, today, AppContext};
use crate::download::FileKind;

/// The period, baseline and purchase year the pages ask for.
#[derive(Clone, Copy)]
pub struct PeriodChoice {
    pub from: RwSignal<NaiveDate>,
    pub to: RwSignal<NaiveDate>,
    pub baseline_from: RwSignal<Option<NaiveDate>>,
    pub baseline_to: RwSignal<Option<NaiveDate>>,
    pub year: RwSignal<i32>,
}

impl PeriodChoice {
    /// The last 30 days before today, no baseline, the period's year.
    pub fn new() -> Self {
        let to = today() - Duration::days(1);
        PeriodChoice {
            from: RwSignal::new(to - Duration::days(29)),
            to: RwSignal::new(to),
            baseline_from: RwSignal::new(None),
            baseline_to: RwSignal::new(None),
            year: RwSignal::new(to.year()),
        }
    }

    pub fn period(&self) -> DateRange {
        let (a, b) = (self.from.get(), self.to.get());
        DateRange::new(a.min(b), a.max(b))
    }

    pub fn baseline(&self) -> Option<DateRange> {
        match (self.baseline_from.get(), self.baseline_to.get()) {
            (Some(a), Some(b)) => Some(DateRange::new(a.min(b), a.max(b))),
            _ => None,
        }
    }
}

impl Default for PeriodChoice {
    fn default() -> Self {
        Self::new()
    }
}

fn date_input(id: &'static str, label: &'static str, value: RwSignal<NaiveDate>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="date" data-testid=id prop:value=move || value.get().to_string()
                on:change=move |ev| {
                    if let Some(d) = assiette_domain::time::parse_date(&event_target_value(&ev)) {
                        value.set(d);
                    }
                } />
        </div>
    }
}

fn optional_date_input(id: &'static str, label: &'static str, value: RwSignal<Option<NaiveDate>>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="date" data-testid=id prop:value=move || value.get().map(|d| d.to_string()).unwrap_or_default()
                on:change=move |ev| value.set(assiette_domain::time::parse_date(&event_target_value(&ev))) />
        </div>
    }
}

/// The period chooser: waste period, optional baseline, purchase year.
#[component]
pub fn PeriodChooser(choice: PeriodChoice, #[prop(default = true)] with_baseline: bool) -> impl IntoView {
    let this_year = today().year();
    view! {
        <fieldset class="card period-chooser no-print">
            <legend>"Période"</legend>
            <div class="filters">
                {date_input("period-from", "Gaspillage du", choice.from)}
                {date_input("period-to", "au", choice.to)}
                {with_baseline.then(|| view! {
                    {optional_date_input("baseline-from", "Période de référence du", choice.baseline_from)}
                    {optional_date_input("baseline-to", "au", choice.baseline_to)}
                })}
                <div class="field">
                    <label for="purchase-year">"Achats de l'année"</label>
                    <select id="purchase-year" data-testid="purchase-year"
                        on:change=move |ev| if let Ok(y) = event_target_value(&ev).parse() { choice.year.set(y) }>
                        {(this_year - 9..=this_year).rev().map(|y| view! {
                            <option value=y.to_string() selected=move || choice.year.get() == y>{y.to_string()}</option>
                        }).collect_view()}
                    </select>
                </div>
            </div>
        </fieldset>
    }
}

/// « Télécharger (CSV) » and « Télécharger (Excel) »: the server writes the file of `url`.
#[component]
pub fn DownloadButtons(
    /// The export's URL for a format.
    url: Callback<ExportFormat, String>,
    /// File name without extension.
    name: Signal<String>,
    testid: &'static str,
) -> impl IntoView {
    let state = super::session();
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let go = move |format: ExportFormat| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        message.set(None);
        let session = state.session.get_untracked();
        let url = url.run(format);
        let (file, kind) = match format {
            ExportFormat::Csv => (format!("{}.csv", name.get_untracked()), FileKind::Csv),
            ExportFormat::Xlsx => (format!("{}.xlsx", name.get_untracked()), FileKind::Xlsx),
        };
        leptos::task::spawn_local(async move {
            let result = api::download(session.as_ref(), &url, &file, kind).await;
            busy.set(false);
            message.set(Some(match result {
                Ok(()) => format!("✓ « {file} » téléchargé."),
                Err(m) => format!("⚠ {m}"),
            }));
        });
    };
    view! {
        <div class="button-row no-print">
            <button type="button" data-testid=format!("{testid}-csv") disabled=move || busy.get() on:click=move |_| go(ExportFormat::Csv)>"Télécharger (CSV)"</button>
            <button type="button" data-testid=format!("{testid}-xlsx") disabled=move || busy.get() on:click=move |_| go(ExportFormat::Xlsx)>"Télécharger (Excel)"</button>
            <span role="status" data-testid=format!("{testid}-message")>{move || message.get()}</span>
        </div>
    }
}

/// The stored-answer note: how old the figures are when they could not be refreshed.
pub fn freshness<T>(l: &Loaded<T>) -> impl IntoView {
    let text = match &l.stale {
        Some(why) => format!("⚠ {why} : {}.", api::received_fr(l.received_at)),
        None => format!("À jour : {}.", api::received_fr(l.received_at)),
    };
    let stale = l.stale.is_some();
    view! { <p class=if stale { "stale" } else { "muted" } role="status" data-testid="freshness" data-stale=stale.to_string()>{text}</p> }
}

pub fn sources_list(sources: &[Source]) -> impl IntoView {
    view! {
        <section class="sources" aria-label="Sources">
            <h2>"Sources"</h2>
            <ul>
                {sources.iter().map(|s| view! { <li><strong>{s.figure.clone()}</strong>" : "{s.source.clone()}</li> }).collect_view()}
            </ul>
        </section>
    }
}

fn overview_query(choice: &PeriodChoice, page: u32) -> OverviewQuery {
    OverviewQuery {
        period: choice.period(),
        baseline: choice.baseline(),
        year: choice.year.get(),
        page,
        per_page: MAX_PER_PAGE,
        sort: "commune".to_owned(),
        desc: false,
        commune: None,
        management: None,
        production: None,
        engaged: None,
        format: None,
    }
}

/// Every page of the overview, in one answer (the rows of the pages after the first appended).
async fn load_overview(ctx: AppContext, session: Option<crate::session::Session>, q: OverviewQuery) -> Result<Loaded<OverviewResponse>, String> {
    let repo = ctx.repo().ok_or("Stockage de l'appareil indisponible.")?;
    let mut first: Loaded<OverviewResponse> = api::load(&repo, session.as_ref(), &format!("{OVERVIEW_PATH}?{}", q.to_query())).await?;
    for page in 2..=first.value.pages {
        let q = OverviewQuery { page, ..q.clone() };
        let next: Loaded<OverviewResponse> = api::load(&repo, session.as_ref(), &format!("{OVERVIEW_PATH}?{}", q.to_query())).await?;
        first.value.sites.extend(next.value.sites);
        if next.stale.is_some() {
            first.stale = next.stale;
            first.received_at = first.received_at.min(next.received_at);
        }
    }
    Ok(first)
}

/// Sortable columns: label, key.
const SORTS: [(&str, SortKey); 10] = [
    ("Commune", SortKey::Commune),
    ("Site", SortKey::Name),
    ("Repas par jour", SortKey::DailyMeals),
    ("Jours avec saisie", SortKey::DaysWithEntries),
    ("Dernière synchro", SortKey::LastSync),
    ("g/repas", SortKey::GramsPerMeal),
    ("Évolution / référence", SortKey::ChangeVsBaseline),
    ("Part EGalim", SortKey::EgalimShare),
    ("Part bio", SortKey::BioShare),
    ("Manque EGalim (€)", SortKey::MissingEgalimCents),
];

fn sort_label(key: SortKey) -> &'static str {
    SORTS.iter().find(|(_, k)| *k == key).map(|(l, _)| *l).unwrap_or("")
}

fn sort_header(key: SortKey, sort: RwSignal<(SortKey, bool)>) -> impl IntoView {
    let label = sort_label(key);
    let aria = move || match sort.get() {
        (k, false) if k == key => "ascending",
        (k, true) if k == key => "descending",
        _ => "none",
    };
    let arrow = move || match sort.get() {
        (k, false) if k == key => " ▲",
        (k, true) if k == key => " ▼",
        _ => "",
    };
    view! {
        <th scope="col" aria-sort=aria>
            <button type="button" class="sort" data-testid=format!("sort-{}", sort_code(key))
                on:click=move |_| sort.update(|(k, d)| if *k == key { *d = !*d } else { *k = key; *d = false })>
                {label}{arrow}
            </button>
        </th>
    }
}

fn last_sync_fr(r: &SiteRow) -> String {
    match r.site.last_sync {
        Some(t) => crate::sync::format_last_sync(&t.to_rfc3339()),
        None => "jamais".to_owned(),
    }
}

fn site_row(r: &SiteRow) -> impl IntoView {
    let p = r.purchases.as_ref();
    let insee = r.site.commune_insee.clone();
    let part = &r.participation;
    let window = part.window.map(period_fr).unwrap_or_default();
    view! {
        <tr data-testid="site-row" data-site=r.site.name.clone() data-flagged=(!r.flags.is_empty()).to_string()>
            <td><a href=format!("/territoire/commune/{insee}") data-testid="commune-link">{r.site.commune_name.clone()}</a></td>
            <th scope="row">{r.site.name.clone()}</th>
            <td>{r.site.management.label()}<br /><span class="muted small">{r.site.production_type.label()}</span></td>
            <td class="num">{group_thousands(u64::from(r.site.daily_meal_count))}</td>
            <td>{yes_no(r.site.engaged)}</td>
            <td class="num">{r.site.tablets_enrolled.to_string()}</td>
            <td>{last_sync_fr(r)}</td>
            <td class="num" title=window>{format!("{} / {}", part.days_with_entries, part.school_days)}</td>
            <td class="num">{format!("{} / 12", part.purchase_months)}</td>
            <td class="num" data-testid="gpm">{grams_per_meal(r.grams_per_meal())}</td>
            {Stage::ALL.iter().map(|s| view! { <td class="num" data-testid=format!("stage-{}", s.code())>{stage_grams_per_meal(&r.waste, *s)}</td> }).collect_view()}
            <td>{change(r.change_vs_baseline)}</td>
            <td>{change(r.ademe.reduction)}</td>
            <td>{change(r.regional.reduction)}</td>
            <td class="num">{share(p, "egalim")}</td>
            <td class="num">{share(p, "bio")}</td>
            <td class="num">{share(p, "viandes_volailles_egalim")}</td>
            <td class="num">{share(p, "produits_de_la_mer_egalim")}</td>
            <td class="num">{missing(p, "egalim")}</td>
            <td class="num">{missing(p, "bio")}</td>
            <td class="num">{missing(p, "viandes_volailles_egalim")}</td>
            <td class="num">{missing(p, "produits_de_la_mer_egalim")}</td>
            <td>
                {if r.flags.is_empty() {
                    view! { <span>"✓ aucune"</span> }.into_any()
                } else {
                    view! { <ul class="flags">{r.flags.iter().map(|f| view! { <li>{flag_fr(f)}</li> }).collect_view()}</ul> }.into_any()
                }}
            </td>
        </tr>
    }
}

/// The territory's (or a filtered group's) totals, as a definition list.
pub fn totals_view(t: &GroupTotals, title: String, year: i32) -> impl IntoView {
    let p = t.purchases.as_ref();
    let w = &t.waste;
    let label = title.clone();
    view! {
        <section class="card totals" data-testid="totals" aria-label=label>
            <h2>{title}</h2>
            <dl>
                <dt>"Sites"</dt><dd>{format!("{} (engagés : {}, avec tablette : {}, signalés : {})", t.sites, t.engaged_sites, t.sites_with_tablet, t.flagged_sites)}</dd>
                <dt>"Repas par jour"</dt><dd>{group_thousands(t.daily_meals)}</dd>
                <dt>{format!("Repas pesés ({})", period_fr(w.range))}</dt><dd data-testid="weighed-meals">{if w.measured_days == 0 { MISSING.to_owned() } else { group_thousands(t.weighed_meals()) }}</dd>
                <dt>"Gaspillage pesé"</dt><dd>{kg((w.measured_days > 0).then(|| w.grams()))}</dd>
                <dt>"g par repas"</dt><dd data-testid="total-gpm">{grams_per_meal(t.grams_per_meal())}</dd>
                <dt>"Évolution / période de référence"</dt><dd>{change(t.change_vs_baseline)}</dd>
                <dt>"Coût du gaspillage"</dt><dd>{euros(t.cost_cents)}</dd>
                <dt>"Équivalent CO2"</dt><dd>{or_missing(t.co2e_grams, format_kg_rounded)}</dd>
                <dt>{format!("Part EGalim ({year})")}</dt><dd>{share(p, "egalim")}</dd>
                <dt>{format!("Part bio ({year})")}</dt><dd>{share(p, "bio")}</dd>
                <dt>"Manque pour 50 % EGalim"</dt><dd>{missing(p, "egalim")}</dd>
                <dt>"Manque pour 20 % bio"</dt><dd>{missing(p, "bio")}</dd>
            </dl>
        </section>
    }
}

fn select_filter<T: Copy + PartialEq + Send + Sync + 'static>(
    id: &'static str,
    label: &'static str,
    options: Vec<(String, String, T)>,
    filter: RwSignal<RowFilter>,
    get: impl Fn(&RowFilter) -> Option<T> + Copy + Send + Sync + 'static,
    set: impl Fn(&mut RowFilter, Option<T>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let values: Vec<(String, T)> = options.iter().map(|(code, _, v)| (code.clone(), *v)).collect();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id data-testid=id on:change=move |ev| {
                let code = event_target_value(&ev);
                let v = values.iter().find(|(c, _)| *c == code).map(|(_, v)| *v);
                filter.update(|f| set(f, v));
            }>
                <option value="">"Tous"</option>
                // Selected from the filter: the table is drawn again when the figures are read
                // again (after a change of engagement), and the choice must still show.
                {options.into_iter().map(|(code, text, v)| view! {
                    <option value=code selected=move || filter.with(|f| get(f) == Some(v))>{text}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = super::session();
    let choice = PeriodChoice::new();
    let sort = RwSignal::new((SortKey::Commune, false));
    let filter = RwSignal::new(RowFilter::default());
    let commune = RwSignal::new(String::new());
    // Bumped once a commune's engagement is saved: the figures are read again (the answer's
    // ETag covers the engagements, so the stored answer is not reused).
    let reload = RwSignal::new(0u32);
    let engaged_message: EngagedMessage = RwSignal::new(None);
    let data = stored(move || {
        reload.track();
        let q = overview_query(&choice, 1);
        // Read again after signing in and once storage is open.
        let session = state.session.get();
        let ready = ctx.repo.get().is_some();
        async move {
            if !ready {
                return None;
            }
            Some(load_overview(ctx, session, q).await)
        }
    });

    let export_url = Callback::new(move |format: ExportFormat| {
        let f = filter.get_untracked();
        let (key, desc) = sort.get_untracked();
        let q = OverviewQuery {
            sort: sort_code(key).to_owned(),
            desc,
            commune: f.commune_insee,
            management: f.management,
            production: f.production_type,
            engaged: f.engaged,
            format: Some(format),
            ..overview_query(&choice, 1)
        };
        format!("{OVERVIEW_PATH}?{}", q.to_query())
    });
    let file_name = Signal::derive(move || {
        let p = choice.period();
        format!("territoire-{}-{}", p.start, p.end)
    });

    let body = move || {
        let loaded = match data.get() {
            None => return view! { <p class="muted" role="status">"Chargement des chiffres du territoire…"</p> }.into_any(),
            Some(Err(m)) => {
                return view! {
                    <p class="warnings" role="alert" data-testid="overview-error">{m}" "<a href=super::SIGN_IN>"Se connecter"</a></p>
                }
                .into_any()
            }
            Some(Ok(l)) => l,
        };
        let o = &loaded.value;
        let f = filter.get();
        let (key, desc) = sort.get();
        let mut rows: Vec<SiteRow> = filter_rows(&o.sites, &f).into_iter().cloned().collect();
        sort_rows(&mut rows, key, desc);
        let filtered = f != RowFilter::default();
        let totals = if filtered {
            group_totals("", "", rows.iter(), o.query.period, o.query.baseline, o.query.year, &o.factors)
        } else {
            o.territory.clone()
        };
        let mut communes: Vec<(String, String)> = o.sites.iter().map(|r| (r.site.commune_insee.clone(), r.site.commune_name.clone())).collect();
        communes.sort_by(|a, b| a.1.cmp(&b.1));
        communes.dedup();
        let period = period_fr(o.query.period);
        let baseline = o.query.baseline.map(period_fr);
        let year = o.query.year;
        let shown = rows.len();
        let metropolis = metropolis_signed_in();
        view! {
            {freshness(&loaded)}
            <p class="card figures-period" data-testid="figures-period">
                {format!("Gaspillage {period} (jours pesés avec repas comptés)")}
                {match &baseline { Some(b) => format!(" ; période de référence {b}"), None => " ; aucune période de référence choisie".to_owned() }}
                {format!(" ; achats de l'année {year} ; participation sur les 30 derniers jours d'école avant le {}.", format_fr_date(o.today))}
            </p>
            <div class="filters card no-print" role="group" aria-label="Filtres">
                <div class="field">
                    <label for="filter-commune">"Commune"</label>
                    <select id="filter-commune" data-testid="filter-commune" prop:value=move || commune.get() on:change=move |ev| {
                        let v = event_target_value(&ev);
                        commune.set(v.clone());
                        filter.update(|f| f.commune_insee = (!v.is_empty()).then_some(v));
                    }>
                        <option value="">"Toutes"</option>
                        {communes.into_iter().map(|(insee, name)| view! { <option value=insee>{name}</option> }).collect_view()}
                    </select>
                </div>
                {select_filter("filter-management", "Mode de gestion",
                    ManagementType::ALL.iter().map(|m| (m.code().to_owned(), m.label().to_owned(), *m)).collect(),
                    filter, |f| f.management, |f, v| f.management = v)}
                {select_filter("filter-production", "Type de production",
                    ProductionType::ALL.iter().map(|p| (p.code().to_owned(), p.label().to_owned(), *p)).collect(),
                    filter, |f| f.production_type, |f, v| f.production_type = v)}
                {select_filter("filter-engaged", "Engagement",
                    vec![("true".to_owned(), "Engagés".to_owned(), true), ("false".to_owned(), "Non engagés".to_owned(), false)],
                    filter, |f| f.engaged, |f, v| f.engaged = v)}
            </div>
            {totals_view(&totals, if filtered { format!("Sites filtrés ({shown})") } else { "Territoire".to_owned() }, year)}
            <p class="muted" role="status" data-testid="rows-shown">{format!("{shown} site(s) affiché(s) sur {}.", o.sites.len())}</p>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Tableau des sites">
                <table class="territory-table" data-testid="overview-table" data-sort=sort_code(key) data-desc=desc.to_string()>
                    <caption>{format!("Sites : gaspillage {period}, achats {year}. « {MISSING} » : aucune donnée pour cette période.")}</caption>
                    <thead>
                        <tr>
                            {sort_header(SortKey::Commune, sort)}
                            {sort_header(SortKey::Name, sort)}
                            <th scope="col">"Gestion"</th>
                            {sort_header(SortKey::DailyMeals, sort)}
                            <th scope="col">"Engagé"</th>
                            <th scope="col">"Tablettes"</th>
                            {sort_header(SortKey::LastSync, sort)}
                            {sort_header(SortKey::DaysWithEntries, sort)}
                            <th scope="col">{format!("Mois avec achats ({year})")}</th>
                            {sort_header(SortKey::GramsPerMeal, sort)}
                            {Stage::ALL.iter().map(|s| view! { <th scope="col">{format!("{} (g/repas)", s.label())}</th> }).collect_view()}
                            {sort_header(SortKey::ChangeVsBaseline, sort)}
                            <th scope="col">"Par rapport à l'ADEME"</th>
                            <th scope="col">"Restes / moyenne régionale"</th>
                            {sort_header(SortKey::EgalimShare, sort)}
                            {sort_header(SortKey::BioShare, sort)}
                            <th scope="col">"Viandes EGalim"</th>
                            <th scope="col">"Poissons EGalim"</th>
                            {sort_header(SortKey::MissingEgalimCents, sort)}
                            <th scope="col">"Manque bio (€)"</th>
                            <th scope="col">"Manque viandes EGalim (€)"</th>
                            <th scope="col">"Manque poissons EGalim (€)"</th>
                            <th scope="col">"Alertes"</th>
                        </tr>
                    </thead>
                    <tbody>{rows.iter().map(site_row).collect_view()}</tbody>
                </table>
            </div>
            <h2>"Communes"</h2>
            {metropolis.then(offline_note)}
            <div class="table-scroll" tabindex="0" role="region" aria-label="Tableau des communes">
                <table class="territory-table" data-testid="communes-table">
                    <caption>{format!("Totaux par commune : gaspillage {period}, achats {year}.")}</caption>
                    <thead><tr>
                        <th scope="col">"Commune"</th><th scope="col">"Sites"</th><th scope="col">"Engagement"</th><th scope="col">"Repas par jour"</th>
                        <th scope="col">"g/repas"</th><th scope="col">"Évolution / référence"</th><th scope="col">"Coût du gaspillage"</th>
                        <th scope="col">"Part EGalim"</th><th scope="col">"Part bio"</th><th scope="col">"Manque EGalim (€)"</th>
                    </tr></thead>
                    <tbody>
                        {o.communes.iter().map(|c| {
                            // A commune's sites carry its engagement: all engaged, it is engaged.
                            let engaged = RwSignal::new(c.sites > 0 && c.engaged_sites == c.sites);
                            let (insee, name) = (c.commune_insee.clone(), c.commune_name.clone());
                            view! {
                            <tr data-testid="commune-row" data-commune=c.commune_insee.clone()>
                                <th scope="row"><a href=format!("/territoire/commune/{}", c.commune_insee)>{c.commune_name.clone()}</a></th>
                                <td class="num">{c.sites.to_string()}</td>
                                <td>
                                    <span data-testid="engaged-state" data-engaged=move || engaged.get().to_string()>{move || engaged_words(engaged.get())}</span>
                                    {metropolis.then(|| view! {
                                        <EngagedToggle insee=insee engaged=engaged message=engaged_message reload=reload name=name />
                                    })}
                                </td>
                                <td class="num">{group_thousands(c.daily_meals)}</td>
                                <td class="num">{grams_per_meal(c.grams_per_meal())}</td>
                                <td>{change(c.change_vs_baseline)}</td>
                                <td class="num">{euros(c.cost_cents)}</td>
                                <td class="num">{share(c.purchases.as_ref(), "egalim")}</td>
                                <td class="num">{share(c.purchases.as_ref(), "bio")}</td>
                                <td class="num">{missing(c.purchases.as_ref(), "egalim")}</td>
                            </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted">{format!("Coût : {} ; CO2 : {}.", plain_factor(&o.factors.cost_per_kg), plain_factor(&o.factors.co2e_per_kg))}</p>
            {sources_list(&o.sources)}
        }
        .into_any()
    };

    view! {
        <h1>"Vue du territoire"</h1>
        <PeriodChooser choice=choice />
        <DownloadButtons url=export_url name=file_name testid="overview-download" />
        {body}
    }
}

fn plain_factor(f: &assiette_domain::waste::Factor) -> String {
    format!("{} {} ({})", assiette_domain::number::format_decimal_fr(f.value), f.unit, f.source)
}
