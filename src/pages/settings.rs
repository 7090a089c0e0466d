//! "Réglages": the site profile, the cost and CO2e factors with their sources, the storage
//! state, and the backup (export to a file, import from one).

use assiette_domain::number::{format_decimal_fr, format_fr_date, group_thousands, parse_fr_decimal, NumberError, Rounding};
use assiette_domain::site::{normalize_siret, ManagementType, ProductionType, Sector, Site};
use assiette_domain::validation::Validation;
use assiette_domain::waste::{Factor, WasteFactors};
use chrono::Utc;
use leptos::prelude::*;

use crate::backup::{self, Backup, ImportPlan, ProfileAction};
use crate::components::field_error::{field_error, FieldError};
use crate::context::{today, AppContext, SiteProfile, PROFILE_KEY};

/// Largest baseline accepted, g per meal (the plausibility limit of a day is 400 g).
pub const MAX_BASELINE_GRAMS: f64 = 1_000.0;

/// What the profile form holds, as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileInput {
    pub name: String,
    pub siret: String,
    pub daily_meal_count: String,
    pub yearly_meal_count: String,
    pub baseline: String,
}

impl ProfileInput {
    pub fn from_profile(p: &SiteProfile) -> Self {
        ProfileInput {
            name: p.name.clone(),
            siret: p.siret.clone(),
            daily_meal_count: p.daily_meal_count.to_string(),
            yearly_meal_count: if p.yearly_meal_count == 0 { String::new() } else { p.yearly_meal_count.to_string() },
            baseline: p.baseline_grams_per_meal.map(format_decimal_fr).unwrap_or_default(),
        }
    }
}

fn parse_whole(input: &str, field: &str, what: &str, v: &mut Validation) -> u32 {
    let t: String = input.chars().filter(|c| !c.is_whitespace() && *c != '\u{202f}').collect();
    if t.is_empty() {
        return 0; // the domain says what is missing
    }
    match t.parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            v.error(field, format!("« {} » n'est pas un nombre de {what} : tapez un nombre entier, par exemple 14000.", input.trim()));
            0
        }
    }
}

/// Builds the profile from the form, validated by the domain's rules for a canteen (name,
/// SIRET with its Luhn key, meals per day and per year). The SIRET may stay empty until the
/// canteen is enrolled; the baseline is optional.
pub fn build_profile(
    base: &SiteProfile,
    input: &ProfileInput,
    management: ManagementType,
    production: ProductionType,
) -> Result<(SiteProfile, Validation), Validation> {
    let mut v = Validation::default();
    let daily = parse_whole(&input.daily_meal_count, "daily_meal_count", "repas par jour", &mut v);
    let yearly = parse_whole(&input.yearly_meal_count, "yearly_meal_count", "repas par an", &mut v);
    let baseline = match input.baseline.trim() {
        "" => None,
        typed => match parse_fr_decimal(typed.trim_end_matches("g/repas").trim_end_matches('g'), 1, Rounding::HalfUp) {
            Ok(tenths) if tenths == 0 || tenths as f64 / 10.0 > MAX_BASELINE_GRAMS => {
                v.error("baseline", "La référence du restaurant doit être comprise entre 0,1 et 1 000 g par repas (celle du premier diagnostic, par exemple 120).");
                None
            }
            Ok(tenths) => Some(tenths as f64 / 10.0),
            Err(NumberError::Negative) => {
                v.error(
                    "baseline",
                    "La référence du restaurant ne peut pas être négative : saisissez des grammes par repas, par exemple 120.",
                );
                None
            }
            Err(_) => {
                v.error("baseline", format!("« {typed} » n'est pas un nombre de grammes par repas : saisissez par exemple 120 ou 95,5."));
                None
            }
        },
    };
    let siret = normalize_siret(&input.siret);
    // The domain's canteen rules; the commune and the sectors are not part of this form.
    let site = Site {
        meta: assiette_domain::record::RecordMeta::new(base.site_id, Utc::now()),
        name: input.name.trim().to_owned(),
        siret: siret.clone(),
        city_insee_code: "76351".to_owned(),
        management_type: management,
        production_type: production,
        sectors: vec![Sector::EducationPrimaire],
        daily_meal_count: daily,
        yearly_meal_count: yearly,
        region_group: Default::default(),
        central_producer_siret: None,
    };
    let checked = site.validate();
    let fields = ["name", "siret", "daily_meal_count", "yearly_meal_count"];
    for e in checked.errors.into_iter().filter(|e| fields.contains(&e.field.as_str())) {
        if e.field == "siret" && siret.is_empty() {
            continue;
        }
        if v.errors_for(&e.field).next().is_none() {
            v.error(&e.field, e.message);
        }
    }
    let mut warnings = Validation::default();
    for w in checked.warnings.into_iter().filter(|w| fields.contains(&w.field.as_str())) {
        warnings.warn(&w.field, &w.code, w.message);
    }
    if !v.is_ok() {
        return Err(v);
    }
    let profile = SiteProfile {
        name: site.name,
        siret,
        daily_meal_count: daily,
        yearly_meal_count: yearly,
        management_type: management,
        production_type: production,
        baseline_grams_per_meal: baseline,
        ..base.clone()
    };
    Ok((profile, warnings))
}

/// Parses a factor typed in French ("2,4") and checks it with the domain.
pub fn build_factors(value_cost: &str, source_cost: &str, value_co2: &str, source_co2: &str) -> Result<WasteFactors, Validation> {
    let defaults = WasteFactors::default();
    let mut v = Validation::default();
    let mut parse = |typed: &str, field: &str| -> f64 {
        match parse_fr_decimal(typed, 4, Rounding::HalfUp) {
            Ok(n) => n as f64 / 10_000.0,
            Err(NumberError::Empty) => {
                v.error(field, "Saisissez la valeur du facteur, par exemple 2,4.");
                0.0
            }
            Err(NumberError::Negative) => {
                v.error(field, "Le facteur doit être un nombre positif ou nul.");
                0.0
            }
            Err(_) => {
                v.error(field, format!("« {} » n'est pas un nombre : saisissez par exemple 2,4.", typed.trim()));
                0.0
            }
        }
    };
    let factors = WasteFactors {
        cost_per_kg: Factor {
            value: parse(value_cost, "cost_per_kg"),
            unit: defaults.cost_per_kg.unit.clone(),
            source: source_cost.trim().to_owned(),
        },
        co2e_per_kg: Factor {
            value: parse(value_co2, "co2e_per_kg"),
            unit: defaults.co2e_per_kg.unit.clone(),
            source: source_co2.trim().to_owned(),
        },
    };
    // The domain's rules (range, unit, source), without repeating a message already given.
    for e in factors.validate().errors {
        if !v.errors.iter().any(|x| x.field == e.field && x.message == e.message) {
            v.error(&e.field, e.message);
        }
    }
    if v.is_ok() {
        Ok(factors)
    } else {
        Err(v)
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <h1>"Réglages"</h1>
        <ProfileForm />
        <FactorsForm />
        <StorageState />
        <BackupCard />
    }
}

#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Validation>,
    #[prop(optional)] inputmode: &'static str,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let error = field_error(errors, id);
    let described = format!("{id}-hint {id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=id type="text" autocomplete="off"
                inputmode=if inputmode.is_empty() { "text" } else { inputmode }
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev)) />
            <p class="hint muted" id=format!("{id}-hint")>{hint}</p>
            <FieldError message=error id=format!("{id}-error") />
        </div>
    }
}

#[component]
fn ProfileForm() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let name = RwSignal::new(String::new());
    let siret = RwSignal::new(String::new());
    let daily = RwSignal::new(String::new());
    let yearly = RwSignal::new(String::new());
    let baseline = RwSignal::new(String::new());
    let management = RwSignal::new(ManagementType::Direct);
    let production = RwSignal::new(ProductionType::Site);
    let errors = RwSignal::new(Validation::default());
    let pending = RwSignal::new(None::<SiteProfile>);
    let saved = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        if let Some(p) = ctx.profile.get() {
            let i = ProfileInput::from_profile(&p);
            name.set(i.name);
            siret.set(i.siret);
            daily.set(i.daily_meal_count);
            yearly.set(i.yearly_meal_count);
            baseline.set(i.baseline);
            management.set(p.management_type);
            production.set(p.production_type);
        }
    });

    // Plain tasks, not Actions: nothing reads their pending state or value.
    let save = move |p: SiteProfile| {
        leptos::task::spawn_local(async move {
            let Some(repo) = ctx.repo() else { return };
            match repo.set_setting(PROFILE_KEY, &p).await {
                Ok(()) => {
                    pending.set(None);
                    errors.set(Validation::default());
                    saved.set(Some(format!("Profil de « {} » enregistré.", p.name)));
                    ctx.profile.set(Some(p));
                }
                Err(e) => {
                    saved.set(None);
                    ctx.report(e);
                }
            }
        })
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        pending.set(None);
        let Some(base) = ctx.profile.get_untracked() else { return };
        let input = ProfileInput {
            name: name.get_untracked(),
            siret: siret.get_untracked(),
            daily_meal_count: daily.get_untracked(),
            yearly_meal_count: yearly.get_untracked(),
            baseline: baseline.get_untracked(),
        };
        match build_profile(&base, &input, management.get_untracked(), production.get_untracked()) {
            Ok((p, w)) if w.warnings.is_empty() => {
                errors.set(Validation::default());
                save(p);
            }
            Ok((p, w)) => {
                errors.set(w);
                pending.set(Some(p));
            }
            Err(v) => errors.set(v),
        }
    };

    view! {
        <section class="card" aria-labelledby="profile-title">
            <h2 id="profile-title">"Restaurant"</h2>
            <form class="settings-form" on:submit=on_submit novalidate data-testid="profile-form">
                <TextField id="name" label="Nom du restaurant" value=name errors=errors />
                <TextField id="siret" label="SIRET" value=siret errors=errors inputmode="numeric"
                    hint="14 chiffres, sur l'avis de situation INSEE. Facultatif jusqu'à l'inscription du restaurant." />
                <TextField id="daily_meal_count" label="Repas par jour" value=daily errors=errors inputmode="numeric" />
                <TextField id="yearly_meal_count" label="Repas par an" value=yearly errors=errors inputmode="numeric"
                    hint="Repas livrés compris ; sert à estimer le gaspillage sur l'année." />
                <div class="field">
                    <label for="management_type">"Mode de gestion"</label>
                    <select id="management_type" name="management_type"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let Some(m) = ManagementType::ALL.into_iter().find(|m| enum_code(m) == v) { management.set(m); }
                        }>
                        {ManagementType::ALL.into_iter().map(|m| view! {
                            <option value=enum_code(&m) selected=move || management.get() == m>{m.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="production_type">"Mode de production"</label>
                    <select id="production_type" name="production_type"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let Some(p) = ProductionType::ALL.into_iter().find(|p| enum_code(p) == v) { production.set(p); }
                        }>
                        {ProductionType::ALL.into_iter().map(|p| view! {
                            <option value=enum_code(&p) selected=move || production.get() == p>{p.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <TextField id="baseline" label="Référence du restaurant (g/repas)" value=baseline errors=errors inputmode="decimal"
                    hint="Gaspillage par repas du premier diagnostic ; tracé en pointillés sur les graphiques. Facultatif." />
                {move || (!errors.get().warnings.is_empty()).then(|| view! {
                    <div class="warnings" role="alert">
                        <p><strong>"À vérifier avant d'enregistrer :"</strong></p>
                        <ul>{errors.get().warnings.into_iter().map(|w| view! { <li>{format!("⚠ {}", w.message)}</li> }).collect_view()}</ul>
                    </div>
                })}
                {move || match pending.get() {
                    Some(p) => view! {
                        <button type="button" class="primary" on:click=move |_| save(p.clone())>"Confirmer et enregistrer"</button>
                    }.into_any(),
                    None => view! { <button type="submit" class="primary">"Enregistrer le profil"</button> }.into_any(),
                }}
                <p class="saved" role="status" data-testid="profile-saved">{move || saved.get().map(|m| format!("✓ {m}"))}</p>
            </form>
        </section>
    }
}

/// The national code of an enum (its serde name): "direct", "site_cooked_elsewhere"…
fn enum_code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).map(|j| j.trim_matches('"').to_owned()).unwrap_or_default()
}

#[component]
fn FactorsForm() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let cost = RwSignal::new(String::new());
    let cost_source = RwSignal::new(String::new());
    let co2 = RwSignal::new(String::new());
    let co2_source = RwSignal::new(String::new());
    let errors = RwSignal::new(Validation::default());
    let saved = RwSignal::new(None::<String>);
    let fill = move |f: &WasteFactors| {
        cost.set(format_decimal_fr(f.cost_per_kg.value));
        cost_source.set(f.cost_per_kg.source.clone());
        co2.set(format_decimal_fr(f.co2e_per_kg.value));
        co2_source.set(f.co2e_per_kg.source.clone());
    };
    Effect::new(move |_| {
        if let Some(p) = ctx.profile.get() {
            fill(&p.factors);
        }
    });
    let save = move |p: SiteProfile| {
        leptos::task::spawn_local(async move {
            let Some(repo) = ctx.repo() else { return };
            match repo.set_setting(PROFILE_KEY, &p).await {
                Ok(()) => {
                    saved.set(Some("Facteurs enregistrés.".to_owned()));
                    ctx.profile.set(Some(p));
                }
                Err(e) => ctx.report(e),
            }
        })
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        let Some(mut p) = ctx.profile.get_untracked() else { return };
        match build_factors(&cost.get_untracked(), &cost_source.get_untracked(), &co2.get_untracked(), &co2_source.get_untracked()) {
            Ok(f) => {
                errors.set(Validation::default());
                p.factors = f;
                save(p);
            }
            Err(v) => errors.set(v),
        }
    };
    let defaults = WasteFactors::default();
    let cost_error = field_error(errors, "cost_per_kg");
    let co2_error = field_error(errors, "co2e_per_kg");
    view! {
        <section class="card" aria-labelledby="factors-title">
            <h2 id="factors-title">"Facteurs de coût et d'émissions"</h2>
            <p class="muted">"Servent à convertir les kilos gaspillés en euros et en CO2e sur les graphiques. La source est affichée à côté des résultats."</p>
            <form class="settings-form factors" on:submit=on_submit novalidate data-testid="factors-form">
                <fieldset>
                    <legend>{format!("Coût des denrées ({})", defaults.cost_per_kg.unit)}</legend>
                    <div class="field">
                        <label for="cost_per_kg">"Valeur"</label>
                        <input id="cost_per_kg" type="text" inputmode="decimal" autocomplete="off"
                            aria-invalid=move || cost_error.get().is_some().to_string() aria-describedby="cost_per_kg-error"
                            prop:value=move || cost.get() on:input=move |ev| cost.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="cost_source">"Source"</label>
                        <textarea id="cost_source" rows="3" prop:value=move || cost_source.get()
                            on:input=move |ev| cost_source.set(event_target_value(&ev))></textarea>
                    </div>
                    <FieldError message=cost_error id="cost_per_kg-error" />
                </fieldset>
                <fieldset>
                    <legend>{format!("Émissions ({})", defaults.co2e_per_kg.unit)}</legend>
                    <div class="field">
                        <label for="co2e_per_kg">"Valeur"</label>
                        <input id="co2e_per_kg" type="text" inputmode="decimal" autocomplete="off"
                            aria-invalid=move || co2_error.get().is_some().to_string() aria-describedby="co2e_per_kg-error"
                            prop:value=move || co2.get() on:input=move |ev| co2.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="co2_source">"Source"</label>
                        <textarea id="co2_source" rows="3" prop:value=move || co2_source.get()
                            on:input=move |ev| co2_source.set(event_target_value(&ev))></textarea>
                    </div>
                    <FieldError message=co2_error id="co2e_per_kg-error" />
                </fieldset>
                <div class="button-row">
                    <button type="submit" class="primary">"Enregistrer les facteurs"</button>
                    <button type="button" on:click=move |_| { fill(&WasteFactors::default()); errors.set(Validation::default()); saved.set(None); }>
                        "Reprendre les valeurs par défaut"
                    </button>
                </div>
                <p class="muted small">{format!(
                    "Par défaut : {} {} ({}) ; {} {} ({})",
                    format_decimal_fr(defaults.cost_per_kg.value), defaults.cost_per_kg.unit, defaults.cost_per_kg.source,
                    format_decimal_fr(defaults.co2e_per_kg.value), defaults.co2e_per_kg.unit, defaults.co2e_per_kg.source,
                )}</p>
                <p class="saved" role="status" data-testid="factors-saved">{move || saved.get().map(|m| format!("✓ {m}"))}</p>
            </form>
        </section>
    }
}

#[component]
fn StorageState() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    view! {
        <section class="card" aria-labelledby="storage-title">
            <h2 id="storage-title">"Stockage sur la tablette"</h2>
            <p data-testid="persisted" data-persisted=move || match ctx.persisted.get() { Some(true) => "oui", Some(false) => "non", None => "" }>
                {move || match ctx.persisted.get() {
                    Some(true) => "✓ Stockage persistant accordé : le navigateur ne supprimera pas les saisies pour faire de la place.".to_owned(),
                    Some(false) => "⚠ Stockage persistant non accordé : les données peuvent être effacées si la tablette manque de place. \
                                    Installez l'application sur l'écran d'accueil et exportez une sauvegarde régulièrement.".to_owned(),
                    None => "Demande de stockage persistant en cours…".to_owned(),
                }}
            </p>
            <p>{move || match ctx.outbox_len.get() {
                0 => "Toutes les saisies ont été envoyées au serveur.".to_owned(),
                1 => "1 saisie n'a pas encore été envoyée au serveur.".to_owned(),
                n => format!("{} saisies n'ont pas encore été envoyées au serveur.", group_thousands(u64::from(n))),
            }}</p>
        </section>
    }
}

/// A chosen backup, checked and planned, waiting for the user's confirmation.
#[derive(Clone)]
struct ReadyImport {
    file: String,
    backup: Backup,
    plan: ImportPlan,
    /// What the file holds that will not be imported, and why (French).
    left_out: Option<String>,
}

#[component]
fn BackupCard() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let export_note = RwSignal::new(None::<String>);
    let export_error = RwSignal::new(None::<String>);
    let import_note = RwSignal::new(None::<String>);
    let import_error = RwSignal::new(None::<String>);
    let ready = RwSignal::new(None::<ReadyImport>);
    let busy = RwSignal::new(false);

    let export = move || leptos::task::spawn_local(async move {
        export_note.set(None);
        export_error.set(None);
        let Some(repo) = ctx.repo() else { return };
        let profile = ctx.profile.get_untracked();
        let exported = match backup::export(&repo, profile.as_ref(), Utc::now()).await {
            Ok(b) => b,
            Err(e) => {
                ctx.report(e);
                return;
            }
        };
        let name = backup::file_name(profile.as_ref().map_or("", |p| p.name.as_str()), today());
        match crate::download::offer(&name, crate::download::FileKind::Json, exported.json.as_bytes()) {
            Ok(()) => export_note.set(Some(format!(
                "Sauvegarde exportée : « {name} » ({}{}). Gardez ce fichier hors de la tablette (clé USB, messagerie de la mairie).",
                entries_fr(exported.records),
                match exported.unsent {
                    0 => String::new(),
                    1 => ", dont 1 pas encore envoyée".to_owned(),
                    n => format!(", dont {} pas encore envoyées", group_thousands(n as u64)),
                }
            ))),
            Err(m) => export_error.set(Some(m)),
        }
    });

    let choose = move |file: web_sys::File| {
        leptos::task::spawn_local(async move {
            import_note.set(None);
            import_error.set(None);
            ready.set(None);
            let Some(repo) = ctx.repo() else { return };
            let text = match backup::read_file(&file).await {
                Ok(t) => t,
                Err(m) => return import_error.set(Some(m)),
            };
            let parsed = match backup::parse(&text, today()) {
                Ok(b) => b,
                Err(e) => return import_error.set(Some(e.message())),
            };
            let local = match backup::local_state(&repo, ctx.profile.get_untracked()).await {
                Ok(l) => l,
                Err(e) => return ctx.report(e),
            };
            match backup::plan(&parsed.backup, &local) {
                Ok(plan) => {
                    let left_out = parsed.left_out_fr();
                    ready.set(Some(ReadyImport { file: file.name(), backup: parsed.backup, plan, left_out }))
                }
                Err(e) => import_error.set(Some(e.message())),
            }
        });
    };

    let import = move |r: ReadyImport| {
        leptos::task::spawn_local(async move {
            let Some(repo) = ctx.repo() else { return };
            busy.set(true);
            let result = backup::apply(&repo, &r.plan, |done, total| {
                import_note.set(Some(format!("Import en cours : {} / {}…", group_thousands(done as u64), group_thousands(total as u64))));
            })
            .await;
            busy.set(false);
            ready.set(None);
            match result {
                Ok(report) => {
                    let left_out = r.left_out.as_ref().map(|l| format!(" {l}")).unwrap_or_default();
                    import_note.set(Some(format!("{}{left_out}", report.message())));
                    if let ProfileAction::Adopt(p) = &r.plan.profile {
                        ctx.profile.set(Some(p.clone()));
                    }
                    ctx.after_write();
                }
                Err((e, done)) => {
                    import_note.set(None);
                    import_error.set(Some(format!(
                        "L'import s'est arrêté après {} saisie(s) sur {} : {} Importez de nouveau le même fichier pour terminer (ce qui est déjà là est reconnu).",
                        group_thousands(done as u64),
                        group_thousands(r.plan.record_count() as u64),
                        e.message_fr()
                    )));
                    if done > 0 {
                        ctx.after_write();
                    }
                }
            }
        })
    };

    view! {
        <section class="card" aria-labelledby="backup-title">
            <h2 id="backup-title">"Sauvegarde"</h2>
            <p class="muted">"Toutes les données de la tablette dans un fichier : comptages, pesées, achats, saisies en attente d'envoi et profil du restaurant."</p>
            <div class="button-row">
                <button type="button" class="primary" data-testid="export" on:click=move |_| export()>"Exporter une sauvegarde"</button>
            </div>
            <p class="saved" role="status" data-testid="export-note">{move || export_note.get().map(|m| format!("✓ {m}"))}</p>
            <FieldError message=export_error />

            <div class="field import-field">
                <label for="backup-file">"Importer une sauvegarde (fichier .json)"</label>
                <input id="backup-file" type="file" accept="application/json,.json" data-testid="import-file"
                    on:change=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        if let Some(file) = input.files().and_then(|f| f.get(0)) {
                            choose(file);
                        }
                        // Choosing the same file again must fire "change" again.
                        input.set_value("");
                    } />
            </div>
            {move || ready.get().map(|r| {
                let b = &r.backup;
                let summary = format!(
                    "« {} » : sauvegarde du {}{} — {} comptages, {} pesées, {} achats. À importer : {} saisie(s) ; déjà sur la tablette : {}.",
                    r.file,
                    format_fr_date(b.exported_at.date_naive()),
                    b.profile.as_ref().map(|p| format!(", restaurant « {} »", p.name)).unwrap_or_default(),
                    group_thousands(b.meal_counts.len() as u64),
                    group_thousands(b.weighings.len() as u64),
                    group_thousands(b.purchases.len() as u64),
                    group_thousands(r.plan.record_count() as u64),
                    group_thousands(r.plan.already_present as u64),
                );
                let adopt = matches!(r.plan.profile, ProfileAction::Adopt(_));
                let for_import = r.clone();
                view! {
                    <div class="import-confirm" role="group" aria-label="Confirmer l'import" data-testid="import-confirm">
                        <p>{summary}</p>
                        {r.left_out.clone().map(|l| view! { <p class="warnings" data-testid="import-left-out">{format!("⚠ {l}")}</p> })}
                        {adopt.then(|| view! { <p>"Le profil du restaurant de la sauvegarde remplacera celui de cette tablette, qui n'a encore aucune saisie."</p> })}
                        <div class="button-row">
                            <button type="button" class="primary" data-testid="import-confirm-button" disabled=move || busy.get()
                                on:click=move |_| import(for_import.clone())>"Importer ces saisies"</button>
                            <button type="button" disabled=move || busy.get() on:click=move |_| ready.set(None)>"Annuler"</button>
                        </div>
                    </div>
                }
            })}
            <p class="saved" role="status" data-testid="import-note">{move || import_note.get().map(|m| format!("✓ {m}"))}</p>
            <FieldError message=import_error testid="import-error" />
        </section>
    }
}

/// « 1 saisie », « 16 saisies »: the unit every count of entries uses.
fn entries_fr(n: usize) -> String {
    match n {
        1 => "1 saisie".to_owned(),
        n => format!("{} saisies", group_thousands(n as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn base() -> SiteProfile {
        SiteProfile { site_id: Uuid::from_u128(3), ..SiteProfile::new_local() }
    }
    fn input(siret: &str, daily: &str, yearly: &str, baseline: &str) -> ProfileInput {
        ProfileInput {
            name: " École Jean-Jaurès ".into(),
            siret: siret.into(),
            daily_meal_count: daily.into(),
            yearly_meal_count: yearly.into(),
            baseline: baseline.into(),
        }
    }
    fn errors(v: &Validation) -> Vec<(String, String)> {
        v.errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect()
    }

    #[wasm_bindgen_test]
    fn a_valid_profile_keeps_the_site_and_factors() {
        // 21010034300016 passes the Luhn check (the domain's own test SIRET).
        let (p, w) = build_profile(
            &base(),
            &input("210 100 343 00016", "120", "16 800", "104,5"),
            ManagementType::Conceded,
            ProductionType::SiteCookedElsewhere,
        )
        .unwrap();
        assert!(w.warnings.is_empty());
        assert_eq!(p.site_id, Uuid::from_u128(3));
        assert_eq!(
            (p.name.as_str(), p.siret.as_str(), p.daily_meal_count, p.yearly_meal_count),
            ("École Jean-Jaurès", "21010034300016", 120, 16_800)
        );
        assert_eq!(
            (p.management_type, p.production_type, p.baseline_grams_per_meal),
            (ManagementType::Conceded, ProductionType::SiteCookedElsewhere, Some(104.5))
        );
        assert_eq!(p.factors, WasteFactors::default());
    }

    #[wasm_bindgen_test]
    fn siret_may_be_empty_but_never_wrong() {
        let (p, _) = build_profile(&base(), &input("", "120", "16800", ""), ManagementType::Direct, ProductionType::Site).unwrap();
        assert_eq!((p.siret.as_str(), p.baseline_grams_per_meal), ("", None));
        let bad_key =
            build_profile(&base(), &input("21010034300017", "120", "16800", ""), ManagementType::Direct, ProductionType::Site).unwrap_err();
        assert_eq!(
            errors(&bad_key),
            vec![(
                "siret".into(),
                "Le SIRET du restaurant « 21010034300017 » n'est pas valide (clé de contrôle) : vérifiez chaque chiffre.".into()
            )]
        );
        let short =
            build_profile(&base(), &input("2101003430", "120", "16800", ""), ManagementType::Direct, ProductionType::Site).unwrap_err();
        assert!(errors(&short)[0].1.starts_with("Le SIRET du restaurant doit comporter exactement 14 chiffres"));
    }

    #[wasm_bindgen_test]
    fn counts_and_baseline_say_what_to_fix() {
        let v = build_profile(&base(), &input("", "cent", "", "-3"), ManagementType::Direct, ProductionType::Site).unwrap_err();
        let e = errors(&v);
        assert_eq!(
            e[0],
            (
                "daily_meal_count".into(),
                "« cent » n'est pas un nombre de repas par jour : tapez un nombre entier, par exemple 14000.".into()
            )
        );
        assert_eq!(e[1].0, "baseline");
        assert!(e[1].1.contains("ne peut pas être négative"));
        assert_eq!(e[2], ("yearly_meal_count".into(), "Saisissez le nombre de repas servis par an (supérieur à 0).".into()));
        assert_eq!(e.len(), 3, "{e:?}");
        let v = build_profile(&base(), &input("", "120", "100", "2000"), ManagementType::Direct, ProductionType::Site).unwrap_err();
        let fields: Vec<String> = errors(&v).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["baseline".to_owned(), "yearly_meal_count".to_owned()]);
        let mut no_name = input("", "120", "16800", "");
        no_name.name = "   ".into();
        let v = build_profile(&base(), &no_name, ManagementType::Direct, ProductionType::Site).unwrap_err();
        assert_eq!(errors(&v), vec![("name".into(), "Saisissez le nom du restaurant.".into())]);
    }

    #[wasm_bindgen_test]
    fn implausible_yearly_counts_ask_for_confirmation() {
        let (_, w) = build_profile(&base(), &input("", "100", "40000", ""), ManagementType::Direct, ProductionType::Site).unwrap();
        assert_eq!(w.warnings.len(), 1);
        assert_eq!(w.warnings[0].code, "yearly_over_365_days");
    }

    #[wasm_bindgen_test]
    fn factors_are_parsed_in_french_and_checked_by_the_domain() {
        let f = build_factors("2,75", " Facture 2025 ", "3.9", "ADEME 2016").unwrap();
        assert_eq!((f.cost_per_kg.value, f.co2e_per_kg.value), (2.75, 3.9));
        assert_eq!((f.cost_per_kg.unit.as_str(), f.cost_per_kg.source.as_str()), ("€/kg", "Facture 2025"));
        let v = build_factors("", "x", "abc", "").unwrap_err();
        let e = errors(&v);
        assert_eq!(e[0], ("cost_per_kg".into(), "Saisissez la valeur du facteur, par exemple 2,4.".into()));
        assert_eq!(e[1], ("co2e_per_kg".into(), "« abc » n'est pas un nombre : saisissez par exemple 2,4.".into()));
        assert!(e.iter().any(|(f, m)| f == "co2e_per_kg" && m.starts_with("Indiquez la source du facteur")), "{e:?}");
        let v = build_factors("2000", "x", "4", "y").unwrap_err();
        assert_eq!(errors(&v), vec![("cost_per_kg".into(), "Facteur impossible (plus de 1 000 par kg) : vérifiez l'unité.".into())]);
    }
}
