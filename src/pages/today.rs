//! "Aujourd'hui": the day's meal counts and weighings, the screen cooks use every service day.
//! A weighing is stage, component, kilograms, save; sorting and destination are an optional
//! second step. Nothing is shown as saved before the IndexedDB transaction (record + outbox
//! entry) has committed; what is typed and not saved yet is kept as a draft (see `drafts`).
//! A warning is confirmed for the values the form shows when « Confirmer » is tapped: any
//! change closes it and the values are checked again.

use assiette_domain::meals::DailyMealCount;
use assiette_domain::number::{format_fr_date, format_grams_per_meal, format_kg, format_kg_number, parse_kg_to_grams};
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::RecordPayload;
use assiette_domain::validation::Validation;
use assiette_domain::waste::{component_label, Component, Destination, EdibleSplit, Stage, Weighing};
use chrono::{NaiveDate, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::field_error::{field_error, FieldError};
use crate::context::{stored, today, AppContext};
use crate::day::DayData;
use crate::drafts::{self, MealDraft, WeighingDraft};
use crate::storage::{StorageError, StoredRecord};

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
                Ok(d) => {
                    ctx.note_unreadable(d.unreadable);
                    Some(d)
                }
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
    provide_context(Editing(RwSignal::new(None)));
    provide_context(EditRequest(RwSignal::new(None)));

    // Two columns on a landscape tablet (the weighing form on the right, never below the
    // fold), one column in portrait: see `.today` in style/main.css.
    view! {
        <h1 class="visually-hidden">"Aujourd'hui"</h1>
        <div class="today">
            <div class="today-day">
                <DatePicker />
                <MealCountForm day=day_data />
                <DaySummary day=day_data />
                <WeighingList day=day_data />
            </div>
            <div class="today-entry">
                <WeighingForm />
            </div>
        </div>
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

/// Reads a whole count typed by a person. An empty field is « not entered », never 0.
fn parse_count(input: &str, what: &str) -> Result<u32, String> {
    let t: String = input.chars().filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}').collect();
    if t.is_empty() {
        return Err(format!("Nombre de {what} non saisi : tapez-le (0 s'il n'y en a pas)."));
    }
    t.parse::<u32>().map_err(|_| format!("« {} » n'est pas un nombre de {what} : tapez un nombre entier, par exemple 120.", input.trim()))
}

/// Where the other version of a record came from, for the conflict box: a pulled record
/// carries the server's timestamp, a record saved by another window of this tablet does not.
fn origin_fr(other: &RecordMeta) -> &'static str {
    if other.server_updated_at.is_some() {
        "sur une autre tablette (reçue du serveur)"
    } else {
        "dans une autre fenêtre de cette tablette"
    }
}

/// A record that changed since the form read it: the stored version and the one typed here.
#[derive(Clone)]
struct Conflict<T> {
    other: T,
    mine: T,
}

/// Both versions of a record side by side, and the choice between them.
#[component]
fn ConflictBox(origin: &'static str, other: String, mine: String, keep_mine: Callback<()>, keep_other: Callback<()>) -> impl IntoView {
    view! {
        <div class="conflict" role="alert" data-testid="conflict">
            <p><strong>{format!("⚠ Modifiée entre-temps {origin} : rien n'a été enregistré.")}</strong></p>
            <p data-testid="conflict-other">"L'autre version : "{other}</p>
            <p data-testid="conflict-mine">"Votre saisie : "{mine}</p>
            <div class="button-row">
                <button type="button" class="primary" data-action="keep-mine" on:click=move |_| keep_mine.run(())>"Garder ma saisie"</button>
                <button type="button" data-action="keep-other" on:click=move |_| keep_other.run(())>"Garder l'autre version"</button>
            </div>
        </div>
    }
}

/// A form's conflict box while there is a conflict: « Garder ma saisie » saves this version as a
/// revision above the other (undeleted), « Garder l'autre version » runs `keep_other`.
fn conflict_view<T: StoredRecord + Send + Sync>(
    conflict: RwSignal<Option<Conflict<T>>>,
    payload: fn(T) -> RecordPayload,
    with_meta: fn(T, RecordMeta) -> T,
    save: impl Fn(T) + Copy + Send + Sync + 'static,
    keep_other: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        conflict.get().map(|c| {
            let keep = c.clone();
            view! {
                <ConflictBox origin=origin_fr(c.other.meta())
                    other=payload(c.other.clone()).values_fr()
                    mine=payload(c.mine.clone()).values_fr()
                    keep_mine=Callback::new(move |_| {
                        conflict.set(None);
                        let meta = RecordMeta { deleted: false, ..keep.other.meta().revised(Utc::now()) };
                        save(with_meta(keep.mine.clone(), meta));
                    })
                    keep_other=Callback::new(move |_| {
                        conflict.set(None);
                        keep_other();
                    }) />
            }
        })
    }
}

#[component]
fn MealCountForm(day: Signal<DayData>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let planned = RwSignal::new(String::new());
    let children = RwSignal::new(String::new());
    let adults = RwSignal::new(String::new());
    let draft = RwSignal::new(MealDraft::default());
    let errors = RwSignal::new(Validation::default());
    // The warnings shown, which « Confirmer et enregistrer » accepts for the values shown.
    let confirmable = RwSignal::new(None::<Vec<String>>);
    let saved = RwSignal::new(None::<String>);
    let conflict = RwSignal::new(None::<Conflict<DailyMealCount>>);
    let stored_count = Memo::new(move |_| day.with(|d| d.meal_count.clone()));
    let site = Memo::new(move |_| ctx.profile.with(|p| p.as_ref().map(|p| p.site_id)));

    // The fields show the draft where there is one, else the stored count; re-run when the
    // day, the canteen or the stored count changes (never wiping a typed field).
    Effect::new(move |_| {
        let stored = stored_count.get();
        let d = site.get().map(|s| drafts::load_meals(s, ctx.service_date.get())).unwrap_or_default();
        let show = |typed: &Option<String>, value: Option<u32>| typed.clone().unwrap_or_else(|| value.map(|v| v.to_string()).unwrap_or_default());
        planned.set(show(&d.planned, stored.as_ref().map(|m| m.planned)));
        children.set(show(&d.served_children, stored.as_ref().map(|m| m.served_children)));
        adults.set(show(&d.served_adults, stored.as_ref().map(|m| m.served_adults)));
        draft.set(d);
    });
    // Another date: forget the previous day's messages.
    Effect::new(move |_| {
        let _ = ctx.service_date.get();
        errors.set(Validation::default());
        confirmable.set(None);
        saved.set(None);
        conflict.set(None);
    });

    let typed = move |field: &'static str, value: String| {
        draft.update(|d| {
            let slot = match field {
                "planned" => &mut d.planned,
                "served_children" => &mut d.served_children,
                _ => &mut d.served_adults,
            };
            *slot = Some(value);
        });
        if let Some(s) = site.get_untracked() {
            drafts::store_meals(s, ctx.service_date.get_untracked(), &draft.get_untracked());
        }
        // The values changed: the warnings shown no longer apply to them.
        confirmable.set(None);
        errors.update(|v| v.warnings.clear());
        saved.set(None);
    };
    let clear_draft = move |date: NaiveDate| {
        if let Some(s) = site.get_untracked() {
            drafts::store_meals(s, date, &MealDraft::default());
        }
        draft.set(MealDraft::default());
    };

    let save = move |record: DailyMealCount| {
        save_record(
            ctx,
            record,
            move |record| {
                clear_draft(record.service_date);
                saved.set(Some(format!("Repas du {} enregistrés.", format_fr_date(record.service_date))));
                confirmable.set(None);
                errors.set(Validation::default());
            },
            move |other, mine| conflict.set(Some(Conflict { other, mine })),
        )
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
        let meta = match stored_count.get_untracked() {
            Some(existing) => existing.meta.revised(now),
            None => RecordMeta::new(Uuid::now_v7(), now),
        };
        Ok(DailyMealCount {
            meta,
            site_id: profile.site_id,
            service_date: ctx.service_date.get_untracked(),
            planned: p,
            served_children: c,
            served_adults: a,
        })
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        conflict.set(None);
        submit(build(), |r: &DailyMealCount| r.validate(today()), confirmable, errors, save);
    };

    let cancel = move |_| {
        clear_draft(ctx.service_date.get_untracked());
        let stored = stored_count.get_untracked();
        let value = |f: fn(&DailyMealCount) -> u32| stored.as_ref().map(|m| f(m).to_string()).unwrap_or_default();
        planned.set(value(|m| m.planned));
        children.set(value(|m| m.served_children));
        adults.set(value(|m| m.served_adults));
        errors.set(Validation::default());
        confirmable.set(None);
    };

    view! {
        <section class="card meal-card">
            <h2>"Repas"</h2>
            <form class="meal-form" on:submit=on_submit novalidate>
                <TextField id="planned" label="Prévus" inputmode="numeric" value=planned errors=errors field="planned"
                    on_input=Callback::new(move |_| typed("planned", planned.get_untracked())) />
                <TextField id="served_children" label="Servis aux enfants" inputmode="numeric" value=children errors=errors field="served_children"
                    on_input=Callback::new(move |_| typed("served_children", children.get_untracked())) />
                <TextField id="served_adults" label="Servis aux adultes" inputmode="numeric" value=adults errors=errors field="served_adults"
                    on_input=Callback::new(move |_| typed("served_adults", adults.get_untracked())) />
                <Warnings validation=errors />
                {conflict_view(conflict, RecordPayload::MealCount, |m, meta| DailyMealCount { meta, ..m }, save, move || cancel(()))}
                <div class="button-row">
                    <button type="submit" class="primary" id="save-counts">
                        {move || if confirmable.get().is_some() { "Confirmer et enregistrer" } else { "Enregistrer les repas" }}
                    </button>
                    {move || (!draft.get().is_empty()).then(|| view! {
                        <button type="button" id="cancel-counts" on:click=move |_| cancel(())>"Annuler les modifications"</button>
                    })}
                </div>
                <SavedNote message=saved />
            </form>
        </section>
    }
}

/// One text field with its label and error line, for the six fields of the screen (counts and
/// masses): the tablet carries its view code once.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    /// `numeric` (counts) or `decimal` (kilograms, decimal comma).
    inputmode: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Validation>,
    /// The field's name in the validation (its errors are shown here).
    field: &'static str,
    on_input: Callback<()>,
) -> impl IntoView {
    let error = field_error(errors, field);
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type="text"
                inputmode=inputmode
                autocomplete="off"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    on_input.run(());
                }
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

/// Code of a component choice in the DOM (`data-component`) and in drafts; `None` is a
/// weighing of all components together.
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

fn component_choices() -> impl Iterator<Item = Option<Component>> {
    Component::ALL.into_iter().map(Some).chain([None])
}

fn component_from_code(code: &str) -> Option<Option<Component>> {
    component_choices().find(|c| component_code(*c) == code)
}

/// Code of a destination choice in the DOM (`data-destination`); `None` is « aucune ».
fn destination_code(d: Option<Destination>) -> &'static str {
    match d {
        Some(Destination::Reused) => "reused",
        Some(Destination::Donation) => "donation",
        Some(Destination::AnimalFeed) => "animal",
        Some(Destination::CompostMethanisation) => "compost",
        None => "none",
    }
}

/// The weighing being corrected, if the form is correcting one (shared with the list's
/// « Modifier » buttons).
#[derive(Clone, Copy)]
struct Editing(RwSignal<Option<Weighing>>);

/// The sorted parts typed in the optional step: both empty is « not sorted »; one empty is
/// the rest of the total.
fn read_split(total: u64, edible: &str, inedible: &str, v: &mut Validation) -> Option<EdibleSplit> {
    let mut part = |field: &str, text: &str| -> Option<Option<u64>> {
        if text.trim().is_empty() {
            return Some(None);
        }
        match parse_kg_to_grams(text) {
            Ok(g) => Some(Some(g)),
            Err(m) => {
                v.error(field, m);
                None
            }
        }
    };
    let (e, i) = (part("edible", edible)?, part("inedible", inedible)?);
    let rest = |field: &str, what: &str, g: u64, v: &mut Validation| {
        if g > total {
            v.error(field, format!("La partie {what} ({}) dépasse la masse pesée ({}) : corrigez l'une des deux.", format_kg(g), format_kg(total)));
            None
        } else {
            Some(total - g)
        }
    };
    match (e, i) {
        (None, None) => None,
        (Some(e), Some(i)) => Some(EdibleSplit { edible_grams: e, inedible_grams: i }),
        (Some(e), None) => rest("edible", "comestible", e, v).map(|i| EdibleSplit { edible_grams: e, inedible_grams: i }),
        (None, Some(i)) => rest("inedible", "non comestible", i, v).map(|e| EdibleSplit { edible_grams: e, inedible_grams: i }),
    }
}

#[component]
fn WeighingForm() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let editing = expect_context::<Editing>();
    let stage = RwSignal::new(None::<Stage>);
    // Some(None) = a weighing of all components together.
    let component = RwSignal::new(None::<Option<Component>>);
    let kg = RwSignal::new(String::new());
    let edible = RwSignal::new(String::new());
    let inedible = RwSignal::new(String::new());
    let destination = RwSignal::new(None::<Destination>);
    let details_open = RwSignal::new(false);
    let errors = RwSignal::new(Validation::default());
    let confirmable = RwSignal::new(None::<Vec<String>>);
    let saved = RwSignal::new(None::<String>);
    let last_saved = RwSignal::new(None::<Weighing>);
    let conflict = RwSignal::new(None::<Conflict<Weighing>>);
    let site = Memo::new(move |_| ctx.profile.with(|p| p.as_ref().map(|p| p.site_id)));

    let draft_now = move || WeighingDraft {
        stage: stage.get_untracked(),
        component: component.get_untracked().map(|c| component_code(c).to_owned()),
        mass: kg.get_untracked(),
        edible: edible.get_untracked(),
        inedible: inedible.get_untracked(),
        destination: destination.get_untracked(),
        editing: editing.0.get_untracked(),
    };
    let persist = move || {
        if let Some(s) = site.get_untracked() {
            drafts::store_weighing(s, ctx.service_date.get_untracked(), &draft_now());
        }
    };
    // Any change of the form: the warnings shown no longer apply to what it holds.
    let changed = move || {
        persist();
        confirmable.set(None);
        errors.update(|v| v.warnings.clear());
        saved.set(None);
    };
    let show_draft = move |d: WeighingDraft| {
        let open = d.editing.as_ref().is_some_and(|w| w.sorted.is_some() || w.destination.is_some())
            || d.destination.is_some()
            || !d.edible.is_empty()
            || !d.inedible.is_empty();
        details_open.set(open);
        stage.set(d.stage);
        component.set(d.component.as_deref().and_then(component_from_code));
        kg.set(d.mass);
        edible.set(d.edible);
        inedible.set(d.inedible);
        destination.set(d.destination);
        editing.0.set(d.editing);
    };

    // A new date or canteen: its own draft, a clean slate of messages.
    Effect::new(move |_| {
        let date = ctx.service_date.get();
        let d = site.get().map(|s| drafts::load_weighing(s, date)).unwrap_or_default();
        show_draft(d);
        errors.set(Validation::default());
        confirmable.set(None);
        conflict.set(None);
        last_saved.set(None);
        saved.set(None);
    });

    // « Modifier » (here or in the list): the weighing's values in the form.
    let start_editing = move |w: Weighing, open_details: bool| {
        show_draft(WeighingDraft {
            stage: Some(w.stage),
            component: Some(component_code(w.component).to_owned()),
            mass: format_kg_number(w.mass_grams),
            edible: w.sorted.map(|s| format_kg_number(s.edible_grams)).unwrap_or_default(),
            inedible: w.sorted.map(|s| format_kg_number(s.inedible_grams)).unwrap_or_default(),
            destination: w.destination,
            editing: Some(w),
        });
        details_open.update(|o| *o |= open_details);
        changed();
        errors.set(Validation::default());
        last_saved.set(None);
        scroll_to_form();
    };
    let request = expect_context::<EditRequest>();
    Effect::new(move |_| {
        if let Some(w) = request.0.get() {
            request.0.update_untracked(|r| *r = None);
            start_editing(w, false);
        }
    });

    // After a save the stage stays (weighings come in runs of one stage) and the component
    // is cleared, so the next weighing cannot silently go under the previous dish.
    let reset_after_save = move || {
        component.set(None);
        kg.set(String::new());
        edible.set(String::new());
        inedible.set(String::new());
        destination.set(None);
        details_open.set(false);
        editing.0.set(None);
        persist();
    };

    let save = move |record: Weighing| {
        save_record(
            ctx,
            record,
            move |record| {
                saved.set(Some(format!(
                    "{} – {} : {} enregistré.",
                    record.stage.label(),
                    component_label(record.component),
                    format_kg(record.mass_grams)
                )));
                last_saved.set(Some(record));
                confirmable.set(None);
                errors.set(Validation::default());
                reset_after_save();
            },
            move |other, mine| conflict.set(Some(Conflict { other, mine })),
        )
    };

    let build = move || -> Result<Weighing, Validation> {
        let mut v = Validation::default();
        if stage.get_untracked().is_none() {
            v.error("stage", "Choisissez l'étape : préparation, non servi ou restes assiettes.");
        }
        if component.get_untracked().is_none() {
            v.error("component", "Choisissez la composante du repas (ou « Non trié par composante »).");
        }
        let grams = match parse_kg_to_grams(&kg.get_untracked()) {
            Ok(g) => Some(g),
            Err(m) => {
                v.error("mass_grams", m);
                None
            }
        };
        let sorted = grams.and_then(|g| read_split(g, &edible.get_untracked(), &inedible.get_untracked(), &mut v));
        let (Some(st), Some(comp), Some(grams), Some(profile)) = (stage.get_untracked(), component.get_untracked(), grams, ctx.profile.get_untracked()) else {
            return Err(v);
        };
        if !v.is_ok() {
            return Err(v);
        }
        let now = Utc::now();
        let previous = editing.0.get_untracked();
        Ok(Weighing {
            meta: previous.as_ref().map(|w| w.meta.revised(now)).unwrap_or_else(|| RecordMeta::new(Uuid::now_v7(), now)),
            site_id: profile.site_id,
            service_date: ctx.service_date.get_untracked(),
            stage: st,
            component: comp,
            mass_grams: grams,
            sorted,
            destination: destination.get_untracked(),
        })
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        conflict.set(None);
        submit(build(), |r: &Weighing| r.validate(today()), confirmable, errors, save);
    };

    let cancel_edit = move || {
        editing.0.set(None);
        reset_after_save();
        errors.set(Validation::default());
        confirmable.set(None);
    };

    let on_change = Callback::new(move |_| changed());
    let stage_error = field_error(errors, "stage");
    let component_error = field_error(errors, "component");
    let sorted_error = field_error(errors, "sorted");
    let destination_error = field_error(errors, "destination");

    view! {
        <section class="card weighing-card" id="weighing-card">
            <h2>{move || if editing.0.get().is_some() { "Corriger la pesée" } else { "Nouvelle pesée" }}</h2>
            {move || last_saved.get().map(|w| {
                let for_edit = w.clone();
                let for_details = w.clone();
                view! {
                    <div class="last-saved" data-testid="last-saved">
                        <p><strong>"✓ Dernière pesée enregistrée : "</strong>
                            {format!("{} – {} : {}", w.stage.label(), component_label(w.component), format_kg(w.mass_grams))}</p>
                        <div class="button-row">
                            <button type="button" data-action="edit-last" on:click=move |_| start_editing(for_edit.clone(), false)>"Modifier"</button>
                            <button type="button" data-action="sort-last" on:click=move |_| start_editing(for_details.clone(), true)>"Trier / destination"</button>
                        </div>
                    </div>
                }
            })}
            <form class="weighing-form" on:submit=on_submit novalidate>
                <fieldset>
                    <legend>"1. Étape"</legend>
                    <div class="choices stages">
                        {Stage::ALL.into_iter().map(|s| view! {
                            <button type="button" class="choice" data-stage=stage_code(s)
                                aria-pressed=move || (stage.get() == Some(s)).to_string()
                                on:click=move |_| { stage.set(Some(s)); changed(); }>
                                <span class="check" aria-hidden="true">{move || if stage.get() == Some(s) { "● " } else { "○ " }}</span>
                                {s.label()}
                            </button>
                        }).collect_view()}
                    </div>
                    <FieldError message=stage_error />
                </fieldset>
                <fieldset>
                    <legend>"2. Composante"</legend>
                    <div class="choices components">
                        {component_choices().map(|c| view! {
                            <button type="button" class="choice" data-component=component_code(c)
                                aria-pressed=move || (component.get() == Some(c)).to_string()
                                on:click=move |_| { component.set(Some(c)); changed(); }>
                                <span class="check" aria-hidden="true">{move || if component.get() == Some(c) { "● " } else { "○ " }}</span>
                                {component_label(c)}
                            </button>
                        }).collect_view()}
                    </div>
                    <FieldError message=component_error />
                </fieldset>
                <div class="mass-row">
                    <TextField id="mass" label="3. Masse (kg)" inputmode="decimal" value=kg errors=errors field="mass_grams" on_input=on_change />
                    <button type="submit" class="primary save-weighing" id="save-weighing">
                        {move || match (confirmable.get().is_some(), editing.0.get().is_some()) {
                            (true, _) => "Confirmer et enregistrer",
                            (false, true) => "Enregistrer la correction",
                            (false, false) => "Enregistrer la pesée",
                        }}
                    </button>
                </div>
                <Warnings validation=errors />
                {conflict_view(conflict, RecordPayload::Weighing, |w, meta| Weighing { meta, ..w }, save, cancel_edit)}
                <button type="button" class="link details-toggle" aria-expanded=move || details_open.get().to_string()
                    aria-controls="weighing-details"
                    on:click=move |_| details_open.update(|o| *o = !*o)>
                    {move || if details_open.get() { "− Tri et destination (facultatif)" } else { "+ Tri et destination (facultatif)" }}
                </button>
                <div id="weighing-details" class="details" class:hidden=move || !details_open.get()>
                    <div class="split">
                        <TextField id="edible" label="Partie comestible (kg)" inputmode="decimal" value=edible errors=errors field="edible" on_input=on_change />
                        <TextField id="inedible" label="Partie non comestible (kg)" inputmode="decimal" value=inedible errors=errors field="inedible" on_input=on_change />
                    </div>
                    <p class="hint">"Une seule des deux suffit : l'autre est le reste de la masse pesée."</p>
                    <FieldError message=sorted_error />
                    <fieldset>
                        <legend>"Destination"</legend>
                        <div class="choices destinations">
                            {[None].into_iter().chain(Destination::ALL.into_iter().map(Some)).map(|d| view! {
                                <button type="button" class="choice" data-destination=destination_code(d)
                                    aria-pressed=move || (destination.get() == d).to_string()
                                    on:click=move |_| { destination.set(d); changed(); }>
                                    <span class="check" aria-hidden="true">{move || if destination.get() == d { "● " } else { "○ " }}</span>
                                    {d.map_or("Aucune", Destination::label)}
                                </button>
                            }).collect_view()}
                        </div>
                        <FieldError message=destination_error />
                    </fieldset>
                </div>
                {move || editing.0.get().is_some().then(|| view! {
                    <button type="button" id="cancel-edit" on:click=move |_| cancel_edit()>"Annuler la correction"</button>
                })}
                <SavedNote message=saved />
            </form>
        </section>
    }
}

/// « Modifier » from the list: the weighing to open in the form.
#[derive(Clone, Copy)]
struct EditRequest(RwSignal<Option<Weighing>>);

#[component]
fn DaySummary(day: Signal<DayData>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    view! {
        <section class="card summary" aria-label="Totaux du jour">
            <h2>"Totaux du jour"</h2>
            <dl>
                {move || day.get().stage_totals().into_iter().map(|(s, g)| view! {
                    <div class="total" data-total-stage=stage_code(s)><dt>{s.label()}</dt><dd>{format_kg(g)}</dd></div>
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
    let message = RwSignal::new(None::<String>);
    let last_deleted = RwSignal::new(None::<Weighing>);

    let write = move |record: Weighing, note: String| {
        save_record(
            ctx,
            record,
            move |record| {
                message.set(Some(note));
                last_deleted.set(record.meta.deleted.then_some(record));
            },
            move |other: Weighing, _mine| {
                last_deleted.set(None);
                message.set(Some(format!(
                    "Rien n'a été changé : cette pesée a été modifiée entre-temps {} ({}). Vérifiez-la dans la liste, puis recommencez.",
                    origin_fr(&other.meta),
                    RecordPayload::Weighing(other.clone()).values_fr()
                )));
            },
        )
    };

    view! {
        <section class="card list-card">
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
                    <WeighingRow w=w write=write />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn WeighingRow(w: Weighing, write: impl Fn(Weighing, String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let request = use_context::<EditRequest>();
    let for_edit = w.clone();
    let for_delete = w.clone();
    let details = match (w.sorted, w.destination) {
        (None, None) => None,
        (s, d) => Some(
            [
                s.map(|s| format!("comestible {}", format_kg(s.edible_grams))),
                d.map(|d| d.label().to_owned()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        ),
    };
    view! {
        <li class="weighing">
            <span class="what">{w.stage.label()}" – "{component_label(w.component)}
                {details.map(|d| view! { <span class="muted small">{format!(" ({d})")}</span> })}</span>
            <strong class="mass">{format_kg(w.mass_grams)}</strong>
            <span class="actions">
                <button data-action="edit" on:click=move |_| {
                    if let Some(r) = request { r.0.set(Some(for_edit.clone())); }
                }>"Modifier"</button>
                <button class="danger" data-action="delete" on:click=move |_| {
                    let deleted = Weighing { meta: for_delete.meta.deleted(Utc::now()), ..for_delete.clone() };
                    let note = format!("Pesée de {} supprimée.", format_kg(deleted.mass_grams));
                    write(deleted, note);
                }>"Supprimer"</button>
            </span>
        </li>
    }
}

/// What the save button does with the record built from the form: saves it when it has no
/// error and every warning was confirmed for the values shown; otherwise shows the errors and
/// warnings, and remembers which warnings « Confirmer et enregistrer » will accept.
fn submit<T>(
    built: Result<T, Validation>,
    validate: impl Fn(&T) -> Validation,
    confirmable: RwSignal<Option<Vec<String>>>,
    errors: RwSignal<Validation>,
    save: impl Fn(T),
) {
    match built {
        Ok(record) => {
            let v = validate(&record);
            if v.accepted_with(&confirmable.get_untracked().unwrap_or_default()) {
                save(record);
            } else {
                confirmable.set(v.is_ok().then(|| v.warning_codes()));
                errors.set(v);
            }
        }
        Err(v) => {
            confirmable.set(None);
            errors.set(v);
        }
    }
}

/// Saves `record` (record and outbox entry in one transaction), then runs `on_saved` and
/// refreshes every reader. When the record changed meanwhile (another window, a pull),
/// nothing is written and `on_stale` gets the stored version and this one; any other storage
/// failure is reported. In both cases the form keeps its input.
fn save_record<T: StoredRecord>(ctx: AppContext, record: T, on_saved: impl FnOnce(T) + 'static, on_stale: impl FnOnce(T, T) + 'static) {
    save_boxed(ctx, record, Box::new(on_saved), Box::new(on_stale))
}

/// The body of [`save_record`], once per record type rather than once per caller.
fn save_boxed<T: StoredRecord>(ctx: AppContext, record: T, on_saved: Box<dyn FnOnce(T)>, on_stale: Box<dyn FnOnce(T, T)>) {
    leptos::task::spawn_local(async move {
        let Some(repo) = ctx.repo() else { return };
        match repo.save(&record).await {
            Ok(_) => {
                on_saved(record);
                ctx.after_write();
            }
            Err(StorageError::Stale(json)) => match serde_json::from_str::<T>(&json) {
                Ok(other) => {
                    on_stale(other, record);
                    // The screen shows the other version too.
                    ctx.data_version.update(|v| *v += 1);
                }
                Err(e) => ctx.report(StorageError::Serialization(e.to_string())),
            },
            Err(e) => ctx.report(e),
        }
    });
}

/// Brings the weighing form into view (on a phone it sits below the day's list).
fn scroll_to_form() {
    if let Some(card) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("weighing-card")) {
        card.scroll_into_view();
    }
}
