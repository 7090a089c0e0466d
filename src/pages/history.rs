//! "Historique": every day with entries, its detail, and a way to correct it (opens the day
//! in the Today screen, where each entry can be changed or deleted).

use std::collections::BTreeMap;

use assiette_domain::meals::DailyMealCount;
use assiette_domain::number::{format_fr_date, format_grams_per_meal, format_kg};
use assiette_domain::waste::{component_label, Weighing};
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::context::{stored, AppContext};
use crate::day::DayData;

/// Every day with a count or a weighing of this site, newest first.
fn days(site: uuid::Uuid, counts: Vec<DailyMealCount>, weighings: Vec<Weighing>) -> Vec<(NaiveDate, DayData)> {
    let mut by_day: BTreeMap<NaiveDate, (Vec<DailyMealCount>, Vec<Weighing>)> = BTreeMap::new();
    for c in counts {
        by_day.entry(c.service_date).or_default().0.push(c);
    }
    for w in weighings {
        by_day.entry(w.service_date).or_default().1.push(w);
    }
    by_day
        .into_iter()
        .rev()
        .map(|(d, (c, w))| (d, DayData::from_records(site, c, w)))
        .filter(|(_, d)| d.meal_count.is_some() || !d.weighings.is_empty())
        .collect()
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let history = stored(move || {
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        let site = ctx.profile.get().map(|p| p.site_id);
        async move {
            let (repo, site) = (repo?, site?);
            let loaded = async {
                let counts = repo.all::<DailyMealCount>().await?;
                let weighings = repo.all::<Weighing>().await?;
                ctx.note_unreadable(counts.unreadable + weighings.unreadable);
                Ok::<_, crate::storage::StorageError>(days(site, counts.rows, weighings.rows))
            };
            match loaded.await {
                Ok(d) => Some(d),
                Err(e) => {
                    ctx.report(e);
                    None
                }
            }
        }
    });
    let open = RwSignal::new(None::<NaiveDate>);
    let navigate = use_navigate();

    view! {
        <h1>"Historique"</h1>
        {move || {
            let navigate = navigate.clone();
            match history.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="card">"Aucune saisie pour l'instant : commencez par l'écran « Aujourd'hui »."</p> }.into_any(),
                Some(list) => view! {
                    <ul class="history" data-testid="history">
                        {list.into_iter().map(|(date, day)| {
                            let navigate = navigate.clone();
                            let ind = day.indicators(date);
                            let total: u64 = day.stage_totals().iter().map(|(_, g)| g).sum();
                            let served = day.meal_count.as_ref().map(|m| m.served_total());
                            let detail = day.clone();
                            view! {
                                <li class="card history-day">
                                    <div class="history-head">
                                        <strong>{format_fr_date(date)}</strong>
                                        <span>{served.map(|s| format!("{s} repas servis")).unwrap_or_else(|| "repas non saisis".into())}</span>
                                        <span>{format!("{} pesée(s), {}", day.weighings.len(), format_kg(total))}</span>
                                        <span>{ind.grams_per_meal.map(format_grams_per_meal).unwrap_or_else(|| "—".into())}</span>
                                    </div>
                                    <div class="actions">
                                        <button aria-expanded=move || (open.get() == Some(date)).to_string()
                                            on:click=move |_| open.update(|o| *o = if *o == Some(date) { None } else { Some(date) })>
                                            {move || if open.get() == Some(date) { "Masquer le détail" } else { "Voir le détail" }}
                                        </button>
                                        <button on:click=move |_| { ctx.service_date.set(date); navigate("/", Default::default()); }>"Corriger ce jour"</button>
                                    </div>
                                    {move || (open.get() == Some(date)).then(|| {
                                        let d = detail.clone();
                                        view! {
                                            <table>
                                                <caption class="visually-hidden">{format!("Détail du {}", format_fr_date(date))}</caption>
                                                <thead><tr><th>"Étape"</th><th>"Composante"</th><th class="num">"Masse"</th></tr></thead>
                                                <tbody>
                                                    {d.meal_count.map(|m| view! {
                                                        <tr><td colspan="2">{format!("Repas : {} prévus, {} enfants, {} adultes", m.planned, m.served_children, m.served_adults)}</td><td></td></tr>
                                                    })}
                                                    {d.weighings.into_iter().map(|w| view! {
                                                        <tr><td>{w.stage.label()}</td><td>{component_label(w.component)}</td><td class="num">{format_kg(w.mass_grams)}</td></tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        }
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }
        }}
    }
}
