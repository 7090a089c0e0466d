//! "Aujourd'hui": the day's meal counts and weighings, the screen cooks use every service day.
//! A weighing is stage, component, kilograms, save. Nothing is shown as saved before the
//! IndexedDB transaction (record + outbox entry) has committed.

use assiette_domain::meals::DailyMealCount;
use assiette_domain::number::{format_fr_date, format_grams_per_meal, format_kg, format_kg_number, parse_kg_to_grams};
use assiette_domain::record::RecordMeta;
use assiette_domain::validation::Validation;
use assiette_domain::waste::{component_label, Component, Stage, Weighing};
use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::field_error::{field_error, FieldError};
use crate::context::{stored, today, AppContext};
use crate::day::DayData;
use crate::storage::StoredRecord;

/// The day being shown, reloaded whenever the date or any data changes.
pub fn use_day(ctx: AppContext) -> ReadSignal<Option<DayData>, LocalStorage> {
    stored(move || {
        let date = ctx.service_date.get();
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        let site = ctx.profile.get().map(|p| p.site_id);
        async move {
            let (repo, site) = (repo?, site?);
            match DayData::load(&repo, site, date).await {
                Ok(d) => Some(d),
                Err(e) => {
                    ctx.report(e);
                    None
                }
            }
        }
    })
}

#[component]
pub fn TodayPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let day = use_day(ctx);
    // A memo: each reload is cloned once, and readers are only woken when the day changed.
    let day_data: Signal<DayData> = Memo::new(move |_| day.get().unwrap_or_default()).into();

    view! {
        <h1 class="visually-hidden">"Aujourd'hui"</h1>
        <DatePicker />
        <MealCountForm day=day_data />
        <WeighingForm />
        <DaySummary day=day_data />
        <WeighingList day=day_data />
    }
}

#[component]
pub fn DatePicker() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let error = RwSignal::new(None::<String>);
    view! {
        <section class="card date-card">
            <label for="service-date">"Service du"</label>
            <input
                id="service-date"
                type="date"
                max=move || today().to_string()
                prop:value=move || ctx.service_date.get().to_string()
                on:change=move |ev| {
                    // The control's value is ISO (yyyy-mm-dd): the domain's strict reader, no strftime.
                    match assiette_domain::time::parse_date(&event_target_value(&ev)).ok_or(()) {
                        Ok(d) if d <= today() => {
                            error.set(None);
                            ctx.service_date.set(d);
                        }
                        Ok(d) => error.set(Some(format!("Le {} est dans le futur : choisissez une date passée ou aujourd'hui.", format_fr_date(d)))),
                        Err(_) => error.set(Some("Date illisible : choisissez-la dans le calendrier.".to_owned())),
                    }
                }
            />
            <strong class="date-fr" data-testid="service-date-fr">{move || format_fr_date(ctx.service_date.get())}</strong>
            {move || (ctx.service_date.get() != today()).then(|| view! {
                <button class="link" on:click=move |_| ctx.service_date.set(today())>"Revenir à aujourd'hui"</button>
            })}
            <FieldError message=error />
        </section>
    }
}

/// Parses a whole count typed by a person; empty means 0.
fn parse_count(input: &str, what: &str) -> Result<u32, String> {
    let t: String = input.chars().filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}').collect();
    if t.is_empty() {
        return Ok(0);
    }
    t.parse::<u32>().map_err(|_| format!("« {} » n'est pas un nombre de {what} : tapez un nombre entier, par exemple 120.", input.trim()))
}

#[component]
fn MealCountForm(day: Signal<DayData>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let planned = RwSignal::new(String::new());
    let children = RwSignal::new(String::new());
    let adults = RwSignal::new(String::new());
    let errors = RwSignal::new(Validation::default());
    let pending_warnings = RwSignal::new(None::<DailyMealCount>);
    let saved = RwSignal::new(None::<String>);

    // Fill the form with the stored count whenever the day changes.
    Effect::new(move |_| {
        let d = day.get();
        let (p, c, a) = match &d.meal_count {
            Some(m) => (m.planned.to_string(), m.served_children.to_string(), m.served_adults.to_string()),
            None => (String::new(), String::new(), String::new()),
        };
        planned.set(p);
        children.set(c);
        adults.set(a);
    });
    // Another date: forget the previous day's messages.
    Effect::new(move |_| {
        let _ = ctx.service_date.get();
        errors.set(Validation::default());
        pending_warnings.set(None);
        saved.set(None);
    });

    let save = move |record: DailyMealCount| {
        save_record(ctx, record, move |record| {
            saved.set(Some(format!("Repas du {} enregistrés.", format_fr_date(record.service_date))));
            pending_warnings.set(None);
        })
    };

    let build = move || -> Result<DailyMealCount, Validation> {
        let mut v = Validation::default();
        let mut read = |field: &str, s: RwSignal<String>, what: &str| match parse_count(&s.get_untracked(), what) {
            Ok(n) => n,
            Err(m) => {
                v.error(field, m);
                0
            }
        };
        let p = read("planned", planned, "repas prévus");
        let c = read("served_children", children, "repas servis aux enfants");
        let a = read("served_adults", adults, "repas servis aux adultes");
        if !v.is_ok() {
            return Err(v);
        }
        let profile = ctx.profile.get_untracked().ok_or_else(Validation::default)?;
        let now = Utc::now();
        let meta = match day.get_untracked().meal_count {
            Some(existing) => existing.meta.revised(now),
            None => RecordMeta::new(Uuid::now_v7(), now),
        };
        let record = DailyMealCount {
            meta,
            site_id: profile.site_id,
            service_date: ctx.service_date.get_untracked(),
            planned: p,
            served_children: c,
            served_adults: a,
        };
        let v = record.validate(today());
        if v.is_ok() {
            Ok(record)
        } else {
            Err(v)
        }
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        match build() {
            Ok(record) => {
                let v = record.validate(today());
                errors.set(Validation::default());
                if v.warnings.is_empty() {
                    save(record);
                } else {
                    errors.set(v);
                    pending_warnings.set(Some(record));
                }
            }
            Err(v) => {
                pending_warnings.set(None);
                errors.set(v);
            }
        }
    };

    view! {
        <section class="card">
            <h2>"Repas"</h2>
            <form class="meal-form" on:submit=on_submit novalidate>
                <CountInput id="planned" label="Prévus" value=planned errors=errors />
                <CountInput id="served_children" label="Servis aux enfants" value=children errors=errors />
                <CountInput id="served_adults" label="Servis aux adultes" value=adults errors=errors />
                <Warnings validation=errors />
                {move || match pending_warnings.get() {
                    Some(record) => view! {
                        <button type="button" class="primary" on:click=move |_| save(record.clone())>
                            "Confirmer et enregistrer"
                        </button>
                    }.into_any(),
                    None => view! { <button type="submit" class="primary">"Enregistrer les repas"</button> }.into_any(),
                }}
                <SavedNote message=saved />
            </form>
        </section>
    }
}

#[component]
fn CountInput(id: &'static str, label: &'static str, value: RwSignal<String>, errors: RwSignal<Validation>) -> impl IntoView {
    let error = field_error(errors, id);
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type="text"
                inputmode="numeric"
                autocomplete="off"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <FieldError message=error id=error_id />
        </div>
    }
}

#[component]
fn Warnings(validation: RwSignal<Validation>) -> impl IntoView {
    view! {
        {move || {
            let v = validation.get();
            (!v.warnings.is_empty()).then(|| view! {
                <div class="warnings" role="alert">
                    <p><strong>"À vérifier avant d'enregistrer :"</strong></p>
                    <ul>{v.warnings.into_iter().map(|w| view! { <li>{format!("⚠ {}", w.message)}</li> }).collect_view()}</ul>
                </div>
            })
        }}
    }
}

#[component]
fn SavedNote(message: RwSignal<Option<String>>) -> impl IntoView {
    view! { <p class="saved" role="status" data-testid="saved">{move || message.get().map(|m| format!("✓ {m}"))}</p> }
}

/// Code of a stage in the DOM (`data-stage`), used by styles and tests.
fn stage_code(s: Stage) -> &'static str {
    match s {
        Stage::Preparation => "preparation",
        Stage::Unserved => "unserved",
        Stage::Leftovers => "leftovers",
    }
}

/// Code of a component choice in the DOM (`data-component`); `None` is "tout mélangé".
fn component_code(c: Option<Component>) -> &'static str {
    match c {
        Some(Component::Entree) => "entree",
        Some(Component::PlatProtidique) => "platprotidique",
        Some(Component::Accompagnement) => "accompagnement",
        Some(Component::ProduitLaitier) => "produitlaitier",
        Some(Component::Dessert) => "dessert",
        Some(Component::Pain) => "pain",
        None => "tout",
    }
}

/// The weighing being edited, if the form is correcting one.
#[derive(Clone, Copy)]
struct Editing(RwSignal<Option<Weighing>>);

#[component]
fn WeighingForm() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let stage = RwSignal::new(None::<Stage>);
    // Some(None) = "tout mélangé" (not split by component).
    let component = RwSignal::new(None::<Option<Component>>);
    let kg = RwSignal::new(String::new());
    let errors = RwSignal::new(Validation::default());
    let pending_warnings = RwSignal::new(None::<Weighing>);
    let saved = RwSignal::new(None::<String>);
    let editing = use_context::<Editing>().unwrap_or_else(|| {
        let e = Editing(RwSignal::new(None));
        provide_context(e);
        e
    });

    Effect::new(move |_| {
        if let Some(w) = editing.0.get() {
            stage.set(Some(w.stage));
            component.set(Some(w.component));
            kg.set(format_kg_number(w.mass_grams));
            errors.set(Validation::default());
            saved.set(None);
        }
    });
    // A new date starts from a clean form.
    Effect::new(move |_| {
        let _ = ctx.service_date.get();
        editing.0.set(None);
        errors.set(Validation::default());
        pending_warnings.set(None);
    });

    let save = move |record: Weighing| {
        save_record(ctx, record, move |record| {
            saved.set(Some(format!(
                "{} – {} : {} enregistré.",
                record.stage.label(),
                component_label(record.component),
                format_kg(record.mass_grams)
            )));
            kg.set(String::new());
            pending_warnings.set(None);
            editing.0.set(None);
        })
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        pending_warnings.set(None);
        let mut v = Validation::default();
        if stage.get_untracked().is_none() {
            v.error("stage", "Choisissez l'étape : préparation, non servi ou restes assiettes.");
        }
        if component.get_untracked().is_none() {
            v.error("component", "Choisissez la composante du repas (ou « Tout mélangé »).");
        }
        let grams = match parse_kg_to_grams(&kg.get_untracked()) {
            Ok(g) => Some(g),
            Err(m) => {
                v.error("mass_grams", m);
                None
            }
        };
        let (Some(st), Some(comp), Some(grams), Some(profile)) = (stage.get_untracked(), component.get_untracked(), grams, ctx.profile.get_untracked()) else {
            errors.set(v);
            return;
        };
        let now = Utc::now();
        let previous = editing.0.get_untracked();
        let record = Weighing {
            meta: previous.as_ref().map(|w| w.meta.revised(now)).unwrap_or_else(|| RecordMeta::new(Uuid::now_v7(), now)),
            site_id: profile.site_id,
            service_date: ctx.service_date.get_untracked(),
            stage: st,
            component: comp,
            mass_grams: grams,
            sorted: previous.as_ref().and_then(|w| w.sorted).filter(|s| s.edible_grams + s.inedible_grams == grams),
            destination: previous.as_ref().and_then(|w| w.destination),
        };
        let v = record.validate(today());
        if !v.is_ok() {
            errors.set(v);
        } else if !v.warnings.is_empty() {
            errors.set(v);
            pending_warnings.set(Some(record));
        } else {
            errors.set(Validation::default());
            save(record);
        }
    };

    let mass_error = field_error(errors, "mass_grams");
    let stage_error = field_error(errors, "stage");
    let component_error = field_error(errors, "component");

    view! {
        <section class="card">
            <h2>{move || if editing.0.get().is_some() { "Corriger la pesée" } else { "Nouvelle pesée" }}</h2>
            <form class="weighing-form" on:submit=on_submit novalidate>
                <fieldset>
                    <legend>"1. Étape"</legend>
                    <div class="choices">
                        {Stage::ALL.into_iter().map(|s| view! {
                            <button type="button" class="choice" data-stage=stage_code(s)
                                aria-pressed=move || (stage.get() == Some(s)).to_string()
                                on:click=move |_| stage.set(Some(s))>
                                <span class="check" aria-hidden="true">{move || if stage.get() == Some(s) { "● " } else { "○ " }}</span>
                                {s.label()}
                            </button>
                        }).collect_view()}
                    </div>
                    <FieldError message=stage_error />
                </fieldset>
                <fieldset>
                    <legend>"2. Composante"</legend>
                    <div class="choices">
                        {Component::ALL.into_iter().map(Some).chain([None]).map(|c| view! {
                            <button type="button" class="choice" data-component=component_code(c)
                                aria-pressed=move || (component.get() == Some(c)).to_string()
                                on:click=move |_| component.set(Some(c))>
                                <span class="check" aria-hidden="true">{move || if component.get() == Some(c) { "● " } else { "○ " }}</span>
                                {c.map(Component::label).unwrap_or("Tout mélangé")}
                            </button>
                        }).collect_view()}
                    </div>
                    <FieldError message=component_error />
                </fieldset>
                <div class="field">
                    <label for="mass">"3. Masse (kg)"</label>
                    <input id="mass" name="mass" type="text" inputmode="decimal" autocomplete="off" placeholder="12,5"
                        aria-invalid=move || mass_error.get().is_some().to_string()
                        aria-describedby="mass-error"
                        prop:value=move || kg.get()
                        on:input=move |ev| kg.set(event_target_value(&ev)) />
                    <FieldError message=mass_error id="mass-error" />
                </div>
                <Warnings validation=errors />
                {move || match pending_warnings.get() {
                    Some(record) => view! {
                        <button type="button" class="primary" on:click=move |_| save(record.clone())>"Confirmer et enregistrer"</button>
                    }.into_any(),
                    None => view! { <button type="submit" class="primary">"Enregistrer la pesée"</button> }.into_any(),
                }}
                {move || editing.0.get().is_some().then(|| view! {
                    <button type="button" on:click=move |_| { editing.0.set(None); kg.set(String::new()); errors.set(Validation::default()); }>"Annuler la correction"</button>
                })}
                <SavedNote message=saved />
            </form>
        </section>
    }
}

#[component]
fn DaySummary(day: Signal<DayData>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    view! {
        <section class="card summary" aria-label="Totaux du jour">
            <h2>"Totaux du jour"</h2>
            <dl>
                {move || day.get().stage_totals().into_iter().map(|(s, g)| view! {
                    <div class="total" data-stage=stage_code(s)><dt>{s.label()}</dt><dd>{format_kg(g)}</dd></div>
                }).collect_view()}
                <div class="total grams-per-meal">
                    <dt>"Gaspillage par repas"</dt>
                    <dd data-testid="grams-per-meal">{move || {
                        let d = day.get();
                        let ind = d.indicators(ctx.service_date.get());
                        match ind.grams_per_meal {
                            Some(g) => format_grams_per_meal(g),
                            None if d.weighings.is_empty() => "—".to_owned(),
                            None => "— (saisissez les repas servis)".to_owned(),
                        }
                    }}</dd>
                </div>
            </dl>
        </section>
    }
}

#[component]
fn WeighingList(day: Signal<DayData>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let editing = use_context::<Editing>();
    let message = RwSignal::new(None::<String>);
    let last_deleted = RwSignal::new(None::<Weighing>);

    let write = move |record: Weighing, note: String| {
        save_record(ctx, record, move |record| {
            message.set(Some(note));
            last_deleted.set(record.meta.deleted.then_some(record));
        })
    };

    view! {
        <section class="card">
            <h2>"Pesées du jour"</h2>
            {move || message.get().map(|m| view! {
                <div class="undo" role="status">
                    <span>{m}</span>
                    {move || last_deleted.get().map(|w| view! {
                        <button on:click=move |_| {
                            let mut restored = w.clone();
                            restored.meta = restored.meta.revised(Utc::now());
                            restored.meta.deleted = false;
                            write(restored, "Suppression annulée.".to_owned());
                        }>"Annuler la suppression"</button>
                    })}
                </div>
            })}
            <ul class="weighings" data-testid="weighings">
                {move || day.with(|d| d.weighings.is_empty()).then(|| view! { <li class="empty">"Aucune pesée pour ce jour."</li> })}
                // Keyed by id and revision: after a save only the new or changed row is built.
                <For each=move || day.get().weighings key=|w| (w.meta.id, w.meta.revision) let:w>
                    <WeighingRow w=w editing=editing write=write />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn WeighingRow(w: Weighing, editing: Option<Editing>, write: impl Fn(Weighing, String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let for_edit = w.clone();
    let for_delete = w.clone();
    view! {
        <li class="weighing">
            <span class="what">{w.stage.label()}" – "{component_label(w.component)}</span>
            <strong class="mass">{format_kg(w.mass_grams)}</strong>
            <span class="actions">
                <button on:click=move |_| {
                    if let Some(e) = editing { e.0.set(Some(for_edit.clone())); }
                    scroll_to_top();
                }>"Modifier"</button>
                <button class="danger" on:click=move |_| {
                    let deleted = Weighing { meta: for_delete.meta.deleted(Utc::now()), ..for_delete.clone() };
                    let note = format!("Pesée de {} supprimée.", format_kg(deleted.mass_grams));
                    write(deleted, note);
                }>"Supprimer"</button>
            </span>
        </li>
    }
}

/// Saves `record` (record and outbox entry in one transaction), then runs `on_saved` and
/// refreshes every reader; a storage failure is reported instead, and the form keeps its input.
fn save_record<T: StoredRecord>(ctx: AppContext, record: T, on_saved: impl FnOnce(T) + 'static) {
    leptos::task::spawn_local(async move {
        let Some(repo) = ctx.repo() else { return };
        match repo.save(&record).await {
            Ok(_) => {
                on_saved(record);
                ctx.after_write();
            }
            Err(e) => ctx.report(e),
        }
    });
}

fn scroll_to_top() {
    if let Some(w) = web_sys::window() {
        w.scroll_to_with_x_and_y(0.0, 0.0);
    }
}
