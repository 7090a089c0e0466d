//! The waste measurement for ma cantine's declaration: the site's weighings and meal counts
//! over a chosen period, in the platform's `WasteMeasurement` fields, each with « Copier », the
//! checks to read first, and the JSON object. Built from what this device stores (the kitchen
//! tablet's entries, or those its sync brought).

use assiette_domain::declaration::{declaration_waste, measurement_values, MeasurementValue};
use assiette_domain::meals::DailyMealCount;
use assiette_domain::time::parse_date;
use assiette_domain::waste::{DateRange, WasteMeasurement, Weighing};
use chrono::NaiveDate;
use leptos::prelude::*;

use crate::components::copy_button::CopyButton;
use crate::components::field_error::FieldError;
use crate::context::{stored, today, AppContext};
use crate::download::{offer, FileKind};

type Outcome = Result<(WasteMeasurement, Vec<String>), Vec<String>>;

fn value_row(v: MeasurementValue) -> impl IntoView {
    view! {
        <tr data-field=v.name>
            <th scope="row">{v.label_fr}<br /><code class="muted small">{v.name}</code></th>
            <td class="num">{v.display}</td>
            <td>{(!v.copy_text.is_empty()).then(|| view! { <CopyButton text=v.copy_text /> })}</td>
        </tr>
    }
}

fn date_field(id: &'static str, label: &'static str, value: RwSignal<NaiveDate>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="date" prop:value=move || value.get().to_string()
                on:change=move |ev| {
                    if let Some(d) = parse_date(&event_target_value(&ev)) {
                        value.set(d);
                    }
                } />
        </div>
    }
}

/// The measurement of the site `siret` (when it is this device's site).
#[component]
pub fn WasteDeclaration(siret: String) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let to = RwSignal::new(today());
    let from = RwSignal::new(today() - chrono::Days::new(6));
    let site_siret = siret.clone();
    let site_id = Memo::new(move |_| ctx.profile.get().filter(|p| !p.siret.is_empty() && p.siret == site_siret).map(|p| p.site_id));
    let outcome = stored(move || {
        let (from, to) = (from.get(), to.get());
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        let site = site_id.get();
        async move {
            let (repo, site) = (repo?, site?);
            let meals = repo.between_dates::<DailyMealCount>(from.min(to), to.max(from)).await;
            let weighings = repo.between_dates::<Weighing>(from.min(to), to.max(from)).await;
            let outcome: Outcome = match (meals, weighings) {
                (Ok(m), Ok(w)) => {
                    ctx.note_unreadable(m.unreadable + w.unreadable);
                    declaration_waste(site, DateRange::new(from, to), &m.rows, &w.rows, today())
                }
                (Err(e), _) | (_, Err(e)) => Err(vec![e.message_fr()]),
            };
            Some(outcome)
        }
    });
    let export_error = RwSignal::new(None::<String>);
    view! {
        <section class="card" aria-labelledby="waste-declaration-title" data-testid="waste-declaration">
            <h2 id="waste-declaration-title">"Mesure du gaspillage pour ma cantine"</h2>
            <p class="muted small">"Les pesées et les repas de la période, dans les champs de la mesure du gaspillage de ma cantine (masses en kg ; « Copier » copie le nombre avec un point décimal)."</p>
            {move || site_id.get().is_none().then(|| view! {
                <p class="warnings" data-testid="waste-declaration-elsewhere">
                    "Les pesées de ce restaurant ne sont pas sur cet appareil : préparez la mesure sur la tablette de sa cuisine, ou choisissez le restaurant de cet appareil."
                </p>
            })}
            <div class="filters">
                {date_field("waste-from", "Du", from)}
                {date_field("waste-to", "Au", to)}
            </div>
            {move || outcome.get().map(|o| match o {
                Ok((m, warnings)) => {
                    let name = format!("mesure-gaspillage-{}-{}-{}.json", siret, m.period_start_date, m.period_end_date);
                    let json = m.to_json();
                    view! {
                        {warnings.into_iter().map(|w| view! { <p class="warnings" data-testid="waste-declaration-warning">{format!("⚠ {w}")}</p> }).collect_view()}
                        <div class="table-scroll"><table data-testid="waste-declaration-values">
                            <tbody>{measurement_values(&m).into_iter().map(value_row).collect_view()}</tbody>
                        </table></div>
                        <button type="button" data-testid="waste-declaration-json" on:click=move |_| {
                            export_error.set(offer(&name, FileKind::Json, json.as_bytes()).err());
                        }>"Exporter la mesure (JSON)"</button>
                    }
                    .into_any()
                }
                Err(errors) => view! {
                    <div class="error" role="alert" data-testid="waste-declaration-errors">
                        <p><strong>"La mesure ne peut pas être préparée :"</strong></p>
                        <ul>{errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                    </div>
                }
                .into_any(),
            })}
            <FieldError message=Signal::derive(move || export_error.get()) />
        </section>
    }
}
