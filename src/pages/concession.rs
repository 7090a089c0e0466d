//! « Gestion concédée » (office bundle, `/bureau/gestion-concedee`): a commune whose meals a
//! caterer cooks follows its contract here. The contract (form kept on screen when refused,
//! saved on the device before it says so, then sent), its deadlines, the guide's pathway
//! (the steps and checkpoints that apply, why, the proof to keep, who does it, notes with a
//! proof's date and file name or link), the caterer's report (what the contract promised
//! against what the imported purchase lines show), a print of it all on A4 and the clause
//! checklist for the next call for tenders as a document to edit.
//!
//! Everything computed is the domain's (`assiette_domain::concession`); the records live in
//! `crate::concession_store`.

use assiette_domain::concession::deadline::{deadlines, Deadline};
use assiette_domain::concession::document::{clauses_document, source_label};
use assiette_domain::concession::guide::{guide, ApplicableStep};
use assiette_domain::concession::progress::{ChecklistProgress, Note};
use assiette_domain::concession::report::{caterer_report, waste_against_target};
use assiette_domain::concession::sync::{CommuneChecklist, CommuneRecord, CommuneRecordKind};
use assiette_domain::concession::{CateringContract, CommitteeMember, CommitteeRole, ContractTargets, ContractType, ReportingFrequency};
use assiette_domain::meals::DailyMealCount;
use assiette_domain::number::{format_euros, format_fr_date, format_grams_per_meal, format_kg, format_percent_hundredths, parse_fr_date, parse_kg_to_grams};
use assiette_domain::purchase::Purchase;
use assiette_domain::record::RecordMeta;
use assiette_domain::validation::Validation;
use assiette_domain::waste::{Stage, Weighing};
use chrono::{Datelike, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::components::field_error::{field_error, FieldError as FieldErrorLine};
use crate::concession_store::{self as store, Local, Slot};
use crate::context::{stored, today, AppContext};
use crate::session::{Session, SessionState};

/// A commune of the person's scope, with the sites listed for it.
#[derive(Clone, PartialEq)]
pub struct ScopeCommune {
    pub insee: String,
    pub name: String,
    /// (SIRET, name, meals a day)
    pub sites: Vec<(String, String, u32)>,
}

/// The communes of a session: a manager's, or every commune of the metropolis' sites.
pub fn scope_communes(s: &Session) -> Vec<ScopeCommune> {
    let mut out: Vec<ScopeCommune> =
        s.account.communes.iter().map(|c| ScopeCommune { insee: c.insee_code.clone(), name: c.name.clone(), sites: Vec::new() }).collect();
    for site in &s.sites {
        let i = match out.iter().position(|c| c.insee == site.commune_insee) {
            Some(i) => i,
            None => {
                out.push(ScopeCommune { insee: site.commune_insee.clone(), name: site.commune_name.clone(), sites: Vec::new() });
                out.len() - 1
            }
        };
        out[i].sites.push((site.siret.clone(), site.name.clone(), site.daily_meal_count));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Meals a day at the contract's sites (the guide's size thresholds), from the session's sites.
pub fn meals_per_day(contract: Option<&CateringContract>, commune: &ScopeCommune) -> u32 {
    commune.sites.iter().filter(|(siret, _, _)| contract.is_none_or(|c| c.site_sirets.contains(siret))).map(|s| s.2).fold(0, u32::saturating_add)
}

pub fn contract_of(local: &Local, insee: &str) -> Option<CateringContract> {
    match local.slot(insee, CommuneRecordKind::CateringContract).map(|s| &s.record) {
        Some(CommuneRecord::CateringContract(c)) if !c.meta.deleted => Some(c.clone()),
        _ => None,
    }
}

pub fn checklist_of(local: &Local, insee: &str) -> Option<CommuneChecklist> {
    match local.slot(insee, CommuneRecordKind::Checklist).map(|s| &s.record) {
        Some(CommuneRecord::Checklist(c)) => Some(c.clone()),
        _ => None,
    }
}

/// What the contract form holds, as typed.
#[derive(Clone, Default, PartialEq)]
struct Form {
    caterer_name: String,
    caterer_siren: String,
    contract_type: String,
    start: String,
    end: String,
    sites: Vec<String>,
    other_sirets: String,
    egalim: String,
    organic: String,
    waste: String,
    frequency: String,
    committee: Vec<(String, String)>,
}

impl Form {
    fn of(c: &CateringContract, known: &[String]) -> Form {
        Form {
            caterer_name: c.caterer_name.clone(),
            caterer_siren: c.caterer_siren.clone(),
            contract_type: c.contract_type.code().to_owned(),
            start: format_fr_date(c.start_date),
            end: format_fr_date(c.end_date),
            sites: c.site_sirets.iter().filter(|s| known.contains(s)).cloned().collect(),
            other_sirets: c.site_sirets.iter().filter(|s| !known.contains(s)).cloned().collect::<Vec<_>>().join("\n"),
            egalim: c.targets.egalim_percent.map(|p| p.to_string()).unwrap_or_default(),
            organic: c.targets.organic_percent.map(|p| p.to_string()).unwrap_or_default(),
            waste: c.targets.waste_grams_per_meal.map(|p| p.to_string()).unwrap_or_default(),
            frequency: c.targets.reporting_frequency.code().to_owned(),
            committee: c.committee.iter().map(|m| (m.name.clone(), m.role.code().to_owned())).collect(),
        }
    }

    fn empty(known: &[String]) -> Form {
        Form { contract_type: ContractType::ServicesContract.code().into(), frequency: ReportingFrequency::Quarterly.code().into(), sites: known.to_vec(), ..Default::default() }
    }

    /// The contract the form describes (the next revision of `base`), or the French errors by
    /// field: what cannot be read here, then the domain's validation.
    fn to_contract(&self, base: Option<&CateringContract>, insee: &str) -> Result<CateringContract, Validation> {
        let mut v = Validation::default();
        let date = |v: &mut Validation, field: &str, s: &str| match parse_fr_date(s) {
            Ok(d) => Some(d),
            Err(m) => {
                v.error(field, m);
                None
            }
        };
        let start = date(&mut v, "start_date", &self.start);
        let end = date(&mut v, "end_date", &self.end);
        let number = |v: &mut Validation, field: &str, s: &str, what: &str| -> Option<u32> {
            let t = s.trim().trim_end_matches('%').trim();
            if t.is_empty() {
                return None;
            }
            match t.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    v.error(field, format!("« {t} » n'est pas un nombre entier : saisissez {what}, ou laissez vide si le contrat n'en fixe pas."));
                    None
                }
            }
        };
        let egalim = number(&mut v, "egalim_percent", &self.egalim, "un pourcentage entier, par exemple 55");
        let organic = number(&mut v, "organic_percent", &self.organic, "un pourcentage entier, par exemple 25");
        let waste = number(&mut v, "waste_grams_per_meal", &self.waste, "des grammes par repas, par exemple 80");
        let mut sirets = self.sites.clone();
        sirets.extend(self.other_sirets.split(['\n', ',', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned));
        let (Some(start), Some(end)) = (start, end) else { return Err(v) };
        let now = Utc::now();
        let meta = match base {
            Some(b) => b.meta.revised(now),
            None => RecordMeta::new(Uuid::now_v7(), now),
        };
        let contract = CateringContract {
            meta,
            commune_insee_code: insee.to_owned(),
            caterer_name: self.caterer_name.trim().to_owned(),
            caterer_siren: self.caterer_siren.trim().to_owned(),
            contract_type: ContractType::from_code(&self.contract_type).unwrap_or(ContractType::ServicesContract),
            start_date: start,
            end_date: end,
            site_sirets: sirets,
            targets: ContractTargets {
                egalim_percent: egalim,
                organic_percent: organic,
                waste_grams_per_meal: waste,
                reporting_frequency: ReportingFrequency::from_code(&self.frequency).unwrap_or(ReportingFrequency::Quarterly),
            },
            committee: self
                .committee
                .iter()
                .map(|(n, r)| CommitteeMember { name: n.trim().to_owned(), role: CommitteeRole::from_code(r).unwrap_or(CommitteeRole::Other) })
                .collect(),
        };
        let checked = contract.validate();
        v.errors.extend(checked.errors);
        v.warnings.extend(checked.warnings);
        if v.is_ok() {
            Ok(contract)
        } else {
            Err(v)
        }
    }
}

/// Month abbreviations of the coverage table's head.
const MONTHS_SHORT: [&str; 12] = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];

thread_local! {
    /// The contract form being typed (commune, fields) until it is saved.
    static DRAFT: std::cell::RefCell<Option<(String, Form)>> = const { std::cell::RefCell::new(None) };
    /// The proof notes being typed, by (commune, step): text, proof date, reference. Each tick
    /// saved redraws the pathway from the store, so what is typed must outlive the view.
    static NOTE_DRAFTS: std::cell::RefCell<std::collections::HashMap<(String, String), [String; 3]>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// A proof note's field, drawn from and kept in `NOTE_DRAFTS` (`field`: 0 text, 1 date, 2 reference).
fn note_draft_field(insee: &str, step_id: &str, field: usize) -> RwSignal<String> {
    let key = (insee.to_owned(), step_id.to_owned());
    let start = NOTE_DRAFTS.with(|d| d.borrow().get(&key).map(|f| f[field].clone()).unwrap_or_default());
    let signal = RwSignal::new(start);
    Effect::new(move |_| {
        let v = signal.get();
        NOTE_DRAFTS.with(|d| {
            let mut d = d.borrow_mut();
            let entry = d.entry(key.clone()).or_default();
            entry[field] = v;
            if entry.iter().all(String::is_empty) {
                d.remove(&key);
            }
        });
    });
    signal
}

fn sync_state_text(slot: Option<&Slot>) -> (&'static str, String) {
    match slot {
        None => ("none", String::new()),
        Some(s) if s.problem.is_some() => ("problem", format!("⚠ {}", s.problem.clone().unwrap_or_default())),
        Some(s) if s.pending => ("pending", "⏳ Enregistré sur cet appareil, à envoyer".to_owned()),
        Some(_) => ("sent", "✓ Enregistré et envoyé".to_owned()),
    }
}

#[component]
pub fn ConcessionPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let session = expect_context::<SessionState>();
    let query = use_query_map();
    let version = store::version();
    let local = stored(move || {
        let _ = version.get();
        let repo = ctx.repo.get();
        async move {
            match store::load(&repo?).await {
                Ok(l) => Some(l),
                Err(e) => {
                    ctx.report(e);
                    None
                }
            }
        }
    });
    let purchases = stored(move || {
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        async move {
            match repo?.all::<Purchase>().await {
                Ok(list) => {
                    ctx.note_unreadable(list.unreadable);
                    Some(list.rows)
                }
                Err(e) => {
                    ctx.report(e);
                    None
                }
            }
        }
    });
    // The sites' weighings and meal counts (the caterer's typed here, the kitchens' synced).
    let waste = stored(move || {
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        async move {
            let repo = repo?;
            match (repo.all::<DailyMealCount>().await, repo.all::<Weighing>().await) {
                (Ok(m), Ok(w)) => {
                    ctx.note_unreadable(m.unreadable + w.unreadable);
                    Some(std::rc::Rc::new((m.rows, w.rows)))
                }
                (Err(e), _) | (_, Err(e)) => {
                    ctx.report(e);
                    None
                }
            }
        }
    });
    // Once storage is open: fetch what others changed, send what waits.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        match ctx.repo.get() {
            Some(repo) => {
                store::sync_soon(repo);
                true
            }
            None => false,
        }
    });
    let communes = Memo::new(move |_| session.session.get().map(|s| scope_communes(&s)).unwrap_or_default());
    let chosen = RwSignal::new(query.with_untracked(|q| q.get("commune")).unwrap_or_default());
    let commune = Memo::new(move |_| {
        let list = communes.get();
        let want = chosen.get();
        list.iter().find(|c| c.insee == want).cloned().or_else(|| list.first().cloned())
    });

    view! {
        <section class="concession" aria-labelledby="concession-title">
            <h1 id="concession-title">"Gestion concédée"</h1>
            {move || session.session.get().filter(|s| s.account.role == assiette_domain::sync::Role::Metropolis).map(|_| view! {
                <p class="no-print"><a href="/bureau/communes-concedees">"Voir toutes les communes en gestion concédée"</a></p>
            })}
            {move || {
                if !session.loaded.get() {
                    return view! { <p>"Chargement…"</p> }.into_any();
                }
                if session.session.get().is_none() {
                    return view! {
                        <p>"Connectez-vous avec le compte de votre commune pour suivre son contrat de restauration."</p>
                        <a class="button primary" href="/bureau/connexion">"Se connecter"</a>
                    }.into_any();
                }
                let Some(c) = commune.get() else {
                    return view! { <p>"Aucune commune dans votre compte."</p> }.into_any();
                };
                view! {
                    {(communes.get().len() > 1).then(|| view! {
                        <div class="field no-print">
                            <label for="c-commune">"Commune"</label>
                            <select id="c-commune" on:change=move |ev| chosen.set(event_target_value(&ev))>
                                {communes.get().into_iter().map(|k| {
                                    let selected = k.insee == c.insee;
                                    view! { <option value=k.insee.clone() selected=selected>{format!("{} ({})", k.name, k.insee)}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                    })}
                    <p class="print-only">{format!("Commune : {} ({}) — imprimé le {}", c.name, c.insee, format_fr_date(today()))}</p>
                    <SyncLine />
                    {move || local.get().map(|l| view! {
                        <ContractSection commune=c.clone() local=l.clone() />
                        <DeadlineSection contract=contract_of(&l, &c.insee) />
                        <ReportSection commune=c.clone() contract=contract_of(&l, &c.insee) purchases=purchases waste=waste />
                        <CatererWeighingSection commune=c.clone() contract=contract_of(&l, &c.insee) />
                        <PathwaySection commune=c.clone() local=l.clone() />
                    })}
                }.into_any()
            }}
        </section>
    }
}

/// The last sync's trouble, if any (offline: everything stays on the device).
#[component]
fn SyncLine() -> impl IntoView {
    let error = store::last_error();
    move || error.get().map(|e| view! { <p class="warnings no-print" role="status" data-testid="concession-sync-error">{e}</p> })
}

fn save_record(ctx: AppContext, record: CommuneRecord, done: impl FnOnce(Result<(), String>) + 'static) {
    let Some(repo) = ctx.repo() else { return done(Err("Stockage indisponible : rechargez la page.".into())) };
    leptos::task::spawn_local(async move {
        match store::save(&repo, record).await {
            Ok(()) => {
                done(Ok(()));
                store::sync_soon(repo);
            }
            Err(e) => done(Err(e.message_fr())),
        }
    });
}

#[component]
fn ContractSection(commune: ScopeCommune, local: Local) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let insee = commune.insee.clone();
    let slot = local.slot(&insee, CommuneRecordKind::CateringContract).cloned();
    let base = contract_of(&local, &insee);
    let known: Vec<String> = commune.sites.iter().map(|s| s.0.clone()).collect();
    // What is being typed outlives this view: a sync that ends meanwhile redraws the page.
    let draft = DRAFT.with(|d| d.borrow().clone()).filter(|(i, _)| *i == insee).map(|(_, f)| f);
    let form = RwSignal::new(draft.clone().unwrap_or_else(|| base.as_ref().map(|c| Form::of(c, &known)).unwrap_or_else(|| Form::empty(&known))));
    let errors = RwSignal::new(Validation::default());
    let confirm = RwSignal::new(false);
    let saved = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let editing = RwSignal::new(base.is_none() || draft.is_some());
    let insee_draft = insee.clone();
    Effect::new(move |_| {
        let f = form.get();
        if editing.get() {
            DRAFT.with(|d| *d.borrow_mut() = Some((insee_draft.clone(), f)));
        }
    });
    let (state_code, state_text) = sync_state_text(slot.as_ref());
    let error_of = move |field: &'static str| Signal::derive(move || errors.with(|v| v.errors_for(field).next().map(|e| e.message.clone())));
    let text = move |f: fn(&Form) -> &String| move || form.with(|x| f(x).clone());
    // Kept in stored values so that `save` is Copy (the form's submit and the confirmation use it).
    let base_for_save = StoredValue::new(base.clone());
    let insee_for_save = StoredValue::new(insee.clone());
    let save = move |confirmed: bool| {
        let f = form.get_untracked();
        match f.to_contract(base_for_save.get_value().as_ref(), &insee_for_save.get_value()) {
            Err(v) => {
                errors.set(v);
                confirm.set(false);
                saved.set(None);
            }
            Ok(c) => {
                let v = c.validate();
                if !v.warnings.is_empty() && !confirmed {
                    errors.set(v);
                    confirm.set(true);
                    return;
                }
                errors.set(Validation::default());
                confirm.set(false);
                failure.set(None);
                save_record(ctx, CommuneRecord::CateringContract(c), move |r| match r {
                    Ok(()) => {
                        DRAFT.with(|d| *d.borrow_mut() = None);
                        saved.set(Some("Contrat enregistré sur cet appareil ; il sera envoyé dès que possible.".into()));
                        editing.set(false);
                    }
                    Err(m) => failure.set(Some(m)),
                });
            }
        }
    };
    let conflict = slot.as_ref().and_then(|s| s.server.clone());
    let problem = slot.as_ref().and_then(|s| s.problem.clone());
    let insee_k = insee.clone();
    let insee_g = insee.clone();
    let field = move |id: &'static str, label: &'static str, name: &'static str, get: fn(&Form) -> &String, set: fn(&mut Form, String), hint: &'static str| {
        let error_id = format!("{id}-error");
        view! {
            <div class="field">
                <label for=id>{label}</label>
                {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
                <input id=id type="text" autocomplete="off" aria-invalid=move || error_of(name).get().is_some().to_string()
                    aria-describedby=error_id.clone() prop:value=text(get)
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)); } />
                <FieldErrorLine message=error_of(name) id=error_id />
            </div>
        }
    };
    view! {
        <section class="contract" aria-labelledby="contract-title">
            <h2 id="contract-title">"Le contrat"</h2>
            <p class="sync-state" data-testid="contract-state" data-state=state_code>{state_text}</p>
            {problem.map(|p| {
                let (i1, i2) = (insee_k.clone(), insee_g.clone());
                view! {
                    <div class="warnings no-print" role="alert" data-testid="contract-problem">
                        <p>{p}</p>
                        {conflict.clone().map(|server| match server {
                            CommuneRecord::CateringContract(s) => view! { <p>{format!("Version du serveur : {} (SIREN {}), du {} au {}.", s.caterer_name, s.caterer_siren, format_fr_date(s.start_date), format_fr_date(s.end_date))}</p> }.into_any(),
                            _ => ().into_any(),
                        })}
                        <button on:click=move |_| { if let Some(repo) = ctx.repo() { let i = i1.clone(); leptos::task::spawn_local(async move { let _ = store::keep_mine(&repo, &i, CommuneRecordKind::CateringContract).await; store::sync_soon(repo); }); } }>"Garder ma version"</button>
                        <button on:click=move |_| { if let Some(repo) = ctx.repo() { let i = i2.clone(); leptos::task::spawn_local(async move { let _ = store::give_up_mine(&repo, &i, CommuneRecordKind::CateringContract).await; }); } }>"Abandonner ma version"</button>
                    </div>
                }
            })}
            {base.clone().map(|c| view! { <ContractSummary contract=c commune=commune.clone() /> })}
            {move || (!editing.get()).then(|| view! {
                <button class="no-print" data-testid="contract-edit" on:click=move |_| editing.set(true)>"Modifier le contrat"</button>
            })}
            <p class="saved" role="status" data-testid="contract-saved">{move || saved.get()}</p>
            {move || editing.get().then(|| view! {
                <form class="contract-form no-print" novalidate on:submit=move |ev| { ev.prevent_default(); save(false); }>
                    {field("c-caterer", "Nom du prestataire (raison sociale)", "caterer_name", |f| &f.caterer_name, |f, v| f.caterer_name = v, "")}
                    {field("c-siren", "SIREN du prestataire (9 chiffres)", "caterer_siren", |f| &f.caterer_siren, |f, v| f.caterer_siren = v, "")}
                    <div class="field">
                        <label for="c-type">"Type de contrat"</label>
                        <select id="c-type" on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.contract_type = v); }>
                            {ContractType::ALL.into_iter().map(|t| view! {
                                <option value=t.code() selected=move || form.with(|f| f.contract_type == t.code())>{t.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    {field("c-start", "Date de début (jj/mm/aaaa)", "start_date", |f| &f.start, |f, v| f.start = v, "")}
                    {field("c-end", "Date de fin (jj/mm/aaaa)", "end_date", |f| &f.end, |f, v| f.end = v, "Le dernier jour du contrat.")}
                    <fieldset>
                        <legend>"Restaurants couverts par le contrat"</legend>
                        <div class="checks">
                            {commune.sites.iter().map(|(siret, name, _)| {
                                let s = siret.clone();
                                let s2 = siret.clone();
                                let id = format!("c-site-{siret}");
                                let label_for = id.clone();
                                view! {
                                    <label class="check" for=label_for>
                                        <input type="checkbox" id=id prop:checked=move || form.with(|f| f.sites.contains(&s))
                                            on:change=move |ev| { let on = event_target::<web_sys::HtmlInputElement>(&ev).checked(); let s = s2.clone(); form.update(|f| { f.sites.retain(|x| *x != s); if on { f.sites.push(s); } }); } />
                                        <span>{format!("{name} (SIRET {siret})")}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                        <div class="field">
                            <label for="c-other-sirets">"Autres SIRET couverts (un par ligne)"</label>
                            <textarea id="c-other-sirets" prop:value=text(|f| &f.other_sirets)
                                on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.other_sirets = v); }></textarea>
                        </div>
                        <FieldErrorLine message=error_of("site_sirets") id="c-sites-error" />
                    </fieldset>
                    <fieldset>
                        <legend>"Objectifs du contrat (laissez vide si le contrat n'en fixe pas)"</legend>
                        {field("c-egalim", "Part EGalim promise (%)", "egalim_percent", |f| &f.egalim, |f, v| f.egalim = v, "")}
                        {field("c-organic", "Part bio promise (%)", "organic_percent", |f| &f.organic, |f, v| f.organic = v, "")}
                        {field("c-waste", "Gaspillage maximal (g par repas)", "waste_grams_per_meal", |f| &f.waste, |f, v| f.waste = v, "")}
                        <div class="field">
                            <label for="c-frequency">"Envoi des achats par le prestataire"</label>
                            <select id="c-frequency" on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.frequency = v); }>
                                {ReportingFrequency::ALL.into_iter().map(|r| view! {
                                    <option value=r.code() selected=move || form.with(|f| f.frequency == r.code())>{r.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    </fieldset>
                    <fieldset>
                        <legend>"Comité de suivi (commission des menus)"</legend>
                        {move || form.with(|f| f.committee.clone()).into_iter().enumerate().map(|(i, (name, role))| view! {
                            <div class="member">
                                <label for=format!("c-member-{i}")>{format!("Membre n° {}", i + 1)}</label>
                                <input id=format!("c-member-{i}") type="text" prop:value=name
                                    on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.committee[i].0 = v); } />
                                <label for=format!("c-member-role-{i}")>"Rôle"</label>
                                <select id=format!("c-member-role-{i}") on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.committee[i].1 = v); }>
                                    {CommitteeRole::ALL.into_iter().map(|r| view! { <option value=r.code() selected=r.code() == role>{r.label()}</option> }).collect_view()}
                                </select>
                                <button type="button" on:click=move |_| form.update(|f| { f.committee.remove(i); })>"Retirer"</button>
                            </div>
                        }).collect_view()}
                        <button type="button" on:click=move |_| form.update(|f| f.committee.push((String::new(), CommitteeRole::ElectedMember.code().into())))>"Ajouter un membre"</button>
                        <FieldErrorLine message=error_of("committee") />
                    </fieldset>
                    {move || confirm.get().then(|| view! {
                        <div class="warnings" role="alert" data-testid="contract-warnings">
                            <ul>{errors.get().warnings.into_iter().map(|w| view! { <li>{w.message}</li> }).collect_view()}</ul>
                            <button type="button" class="primary" on:click=move |_| save(true)>"Enregistrer quand même"</button>
                        </div>
                    })}
                    <p class="error" role="alert">{move || failure.get()}</p>
                    <button type="submit" class="primary" data-testid="contract-save">"Enregistrer le contrat"</button>
                </form>
            })}
        </section>
    }
}

#[component]
fn ContractSummary(contract: CateringContract, commune: ScopeCommune) -> impl IntoView {
    let c = contract;
    let pct = |p: Option<u32>| p.map_or("non fixé".to_owned(), |p| format!("{p} %"));
    let site_name = |siret: &String| commune.sites.iter().find(|s| &s.0 == siret).map_or(format!("SIRET {siret}"), |s| format!("{} (SIRET {siret})", s.1));
    view! {
        <dl class="summary" data-testid="contract-summary">
            <dt>"Prestataire"</dt><dd>{format!("{} (SIREN {})", c.caterer_name, c.caterer_siren)}</dd>
            <dt>"Type"</dt><dd>{c.contract_type.label()}</dd>
            <dt>"Durée"</dt><dd>{format!("du {} au {}", format_fr_date(c.start_date), format_fr_date(c.end_date))}</dd>
            <dt>"Restaurants"</dt><dd>{c.site_sirets.iter().map(site_name).collect::<Vec<_>>().join(", ")}</dd>
            <dt>"Objectifs"</dt>
            <dd>{format!("EGalim {}, bio {}, gaspillage {}, achats envoyés : {}", pct(c.targets.egalim_percent), pct(c.targets.organic_percent),
                c.targets.waste_grams_per_meal.map_or("non fixé".to_owned(), |g| format!("{g} g par repas au plus")), c.targets.reporting_frequency.label().to_lowercase())}</dd>
            <dt>"Comité de suivi"</dt>
            <dd>{if c.committee.is_empty() { "non renseigné".to_owned() } else { c.committee.iter().map(|m| format!("{} ({})", m.name, m.role.label())).collect::<Vec<_>>().join(", ") }}</dd>
        </dl>
    }
}

#[component]
fn DeadlineSection(contract: Option<CateringContract>) -> impl IntoView {
    let Some(c) = contract else {
        return view! { <section aria-labelledby="deadlines-title"><h2 id="deadlines-title">"Échéances"</h2><p>"Enregistrez le contrat pour voir ses échéances."</p></section> }.into_any();
    };
    let all = deadlines(&c, today());
    let upcoming: Vec<Deadline> = all.iter().filter(|d| !d.past).take(8).cloned().collect();
    let next = upcoming.first().cloned();
    let past = all.iter().filter(|d| d.past).count();
    view! {
        <section class="deadlines" aria-labelledby="deadlines-title">
            <h2 id="deadlines-title">"Échéances"</h2>
            {next.map(|d| view! { <p class="next-deadline" data-testid="next-deadline"><strong>"Prochaine échéance : "</strong>{d.line_fr()}</p> })}
            <ul>{upcoming.iter().skip(1).map(|d| view! { <li>{d.line_fr()}</li> }).collect_view()}</ul>
            {(past > 0).then(|| view! { <p class="hint">{format!("{past} échéance(s) déjà passée(s) depuis le début du contrat.")}</p> })}
        </section>
    }
    .into_any()
}

#[component]
fn ReportSection(
    commune: ScopeCommune,
    contract: Option<CateringContract>,
    purchases: ReadSignal<Option<Vec<Purchase>>, LocalStorage>,
    waste: ReadSignal<Option<std::rc::Rc<WasteRecords>>, LocalStorage>,
) -> impl IntoView {
    let Some(c) = contract else { return ().into_any() };
    let session = expect_context::<SessionState>();
    let site_ids: Vec<Uuid> = session.session.get_untracked().map(|s| s.sites.iter().filter(|k| c.site_sirets.contains(&k.siret)).map(|k| k.id).collect()).unwrap_or_default();
    let this_year = today().year();
    let first_year = c.start_date.year().min(this_year);
    let year = RwSignal::new(this_year);
    let sites = StoredValue::new(commune.sites.clone());
    let name_of = move |siret: &str| sites.with_value(|all| all.iter().find(|s| s.0 == siret).map_or(format!("SIRET {siret}"), |s| s.1.clone()));
    view! {
        <section class="report" aria-labelledby="report-title">
            <h2 id="report-title">"Ce que le prestataire envoie"</h2>
            <p class="hint no-print">"Importez le fichier d'achats du prestataire (format national) dans « Achats » : le bilan ci-dessous se met à jour."</p>
            <div class="field no-print">
                <label for="r-year">"Année"</label>
                <select id="r-year" on:change=move |ev| { if let Ok(y) = event_target_value(&ev).parse() { year.set(y) } }>
                    {(first_year..=this_year).rev().map(|y| view! { <option value=y.to_string() selected=y == this_year>{y.to_string()}</option> }).collect_view()}
                </select>
            </div>
            {move || {
                let Some(lines) = purchases.get() else { return view! { <p>"Lecture des achats…"</p> }.into_any() };
                let r = caterer_report(&c, &lines, year.get(), today());
                let share = |h: Option<i64>| h.map_or("aucun achat".to_owned(), format_percent_hundredths);
                let promised = |p: Option<u32>| p.map_or("pas d'objectif".to_owned(), |p| format!("{p} %"));
                let verdict = |k: Option<bool>| match k { Some(true) => "✓ tenu", Some(false) => "✗ non tenu", None => "—" };
                view! {
                    <table class="promised" data-testid="promised-vs-actual">
                        <caption>{format!("Promis par le contrat et constaté dans les achats de {} ({} HT)", r.year, format_euros(r.total_cents))}</caption>
                        <thead><tr><th scope="col">"Part"</th><th scope="col">"Promis"</th><th scope="col">"Constaté"</th><th scope="col">"Résultat"</th></tr></thead>
                        <tbody>
                            <tr data-share="egalim"><th scope="row">"EGalim (bio compris)"</th><td>{promised(r.egalim.target_percent)}</td><td>{share(r.egalim.actual_hundredths)}</td><td>{verdict(r.egalim.kept())}</td></tr>
                            <tr data-share="bio"><th scope="row">"Bio"</th><td>{promised(r.organic.target_percent)}</td><td>{share(r.organic.actual_hundredths)}</td><td>{verdict(r.organic.kept())}</td></tr>
                        </tbody>
                    </table>
                    {waste.get().map(|records| {
                        let w = waste_against_target(&c, &site_ids, &records.0, &records.1, year.get());
                        let measured = w.grams_per_meal().map_or("non renseigné".to_owned(), |g| format!("{} ({} jour(s) pesé(s), {} repas)", format_grams_per_meal(g), w.measured.measured_days, w.measured.meals));
                        let target = w.target_grams_per_meal.map_or("pas d'objectif".to_owned(), |t| format!("{t} g/repas"));
                        let verdict = match w.kept() { Some(true) => "✓ tenu", Some(false) => "✗ non tenu", None => "—" };
                        view! {
                            <table class="promised" data-testid="waste-vs-target">
                                <caption>{format!("Gaspillage promis et mesuré du {} au {} (pesées des restaurants du contrat)", format_fr_date(w.measured.range.start), format_fr_date(w.measured.range.end))}</caption>
                                <thead><tr><th scope="col">"Gaspillage"</th><th scope="col">"Promis"</th><th scope="col">"Mesuré"</th><th scope="col">"Résultat"</th></tr></thead>
                                <tbody><tr data-share="waste"><th scope="row">"Par repas"</th><td>{target}</td><td data-testid="waste-measured">{measured}</td><td>{verdict}</td></tr></tbody>
                            </table>
                        }
                    })}
                    <p data-testid="last-file">{match r.last_file_at {
                        Some(at) => format!("Dernier fichier reçu : le {}.", format_fr_date(at.with_timezone(&chrono::Local).date_naive())),
                        None => "Aucun fichier d'achats reçu pour les restaurants du contrat.".to_owned(),
                    }}</p>
                    <table class="coverage" data-testid="coverage">
                        <caption>"Mois couverts par des lignes d'achat"</caption>
                        <thead><tr><th scope="col">"Restaurant"</th>
                            {assiette_domain::number::MONTHS_FR.iter().zip(MONTHS_SHORT).map(|(m, short)| view! { <th scope="col" abbr=*m>{short}</th> }).collect_view()}
                            <th scope="col">"Lignes"</th></tr></thead>
                        <tbody>
                            {r.sites.iter().map(|s| view! {
                                <tr><th scope="row">{name_of(&s.siret)}</th>
                                    {(1..=12u32).map(|m| { let has = s.months.contains(&m); view! { <td class=if has { "covered" } else { "gap" }>{if has { "✓" } else { "–" }}</td> } }).collect_view()}
                                    <td>{s.lines.to_string()}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {(!r.sites_without_data.is_empty()).then(|| view! {
                        <p class="warnings" data-testid="sites-without-data">{format!("⚠ Aucune ligne en {} pour : {}.", r.year, r.sites_without_data.iter().map(|s| name_of(s)).collect::<Vec<_>>().join(", "))}</p>
                    })}
                    <ul class="missing-quarters" data-testid="missing-quarters">
                        {r.missing_quarters.iter().map(|q| view! {
                            <li>{format!("⚠ {} manquant (attendu avant le {}) pour : {}.", q.label(), format_fr_date(q.due), q.sirets.iter().map(|s| name_of(s)).collect::<Vec<_>>().join(", "))}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// Meal counts and weighings stored on this device.
type WasteRecords = (Vec<DailyMealCount>, Vec<Weighing>);

/// The caterer's waste figures typed as weighings of a site: a weighing (and the day's meal
/// count when given), saved with the same repository and outbox as the kitchen's, sent by the
/// office sync.
#[component]
fn CatererWeighingSection(commune: ScopeCommune, contract: Option<CateringContract>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let session = expect_context::<SessionState>();
    // The contract's sites known to the session (they have an id), else the commune's.
    let sites: Vec<(Uuid, String)> = session
        .session
        .get_untracked()
        .map(|s| {
            s.sites
                .iter()
                .filter(|k| contract.as_ref().map_or(k.commune_insee == commune.insee, |c| c.site_sirets.contains(&k.siret)))
                .map(|k| (k.id, k.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    if sites.is_empty() {
        return ().into_any();
    }
    let site = RwSignal::new(sites[0].0.to_string());
    let date = RwSignal::new(format_fr_date(today()));
    let meals = RwSignal::new(String::new());
    let stage = RwSignal::new(String::new());
    let kg = RwSignal::new(String::new());
    let errors = RwSignal::new(Validation::default());
    let warnings = RwSignal::new(Vec::<String>::new());
    let confirmed = RwSignal::new(Vec::<String>::new());
    let saved = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // The records the form describes with their warnings, or the French errors by field (the
    // domain's checks).
    let build = move || -> Result<(Weighing, Option<u32>, Validation), Validation> {
        let mut v = Validation::default();
        let site_id = Uuid::parse_str(&site.get_untracked()).unwrap_or(Uuid::nil());
        let day = match parse_fr_date(&date.get_untracked()) {
            Ok(d) => Some(d),
            Err(m) => {
                v.error("service_date", m);
                None
            }
        };
        let served = match meals.get_untracked().trim() {
            "" => None,
            t => match t.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    v.error("served_children", format!("« {t} » n'est pas un nombre de repas : saisissez un nombre entier, par exemple 120, ou laissez vide."));
                    None
                }
            },
        };
        let st = Stage::from_code(&stage.get_untracked());
        if st.is_none() {
            v.error("stage", "Choisissez l'étape : préparation, non servi ou restes assiettes.");
        }
        let grams = match parse_kg_to_grams(&kg.get_untracked()) {
            Ok(g) => Some(g),
            Err(m) => {
                v.error("mass_grams", m);
                None
            }
        };
        let (Some(day), Some(st), Some(grams)) = (day, st, grams) else { return Err(v) };
        if !v.is_ok() {
            return Err(v);
        }
        let now = Utc::now();
        let weighing = Weighing { meta: RecordMeta::new(Uuid::now_v7(), now), site_id, service_date: day, stage: st, component: None, mass_grams: grams, sorted: None, destination: None };
        v.merge(weighing.validate(today()));
        if let Some(n) = served {
            let count = DailyMealCount { meta: RecordMeta::new(Uuid::nil(), now), site_id, service_date: day, planned: 0, served_children: n, served_adults: 0 };
            let mut checked = count.validate(today());
            // The date's error is the weighing's already.
            checked.errors.retain(|e| e.field != "service_date" && e.field != "site_id");
            // The caterer sends the meals served, not those planned: nothing to confirm there.
            checked.warnings.retain(|w| w.code != "planned_missing");
            v.merge(checked);
        }
        if v.is_ok() {
            Ok((weighing, served, v))
        } else {
            Err(v)
        }
    };

    let save = move |weighing: Weighing, served: Option<u32>| {
        let Some(repo) = ctx.repo() else {
            errors.set({
                let mut v = Validation::default();
                v.error("form", "Stockage indisponible : rechargez la page.");
                v
            });
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let outcome: Result<u64, crate::storage::StorageError> = async {
                if let Some(n) = served {
                    // One count per site and day: the day's count is revised, not doubled.
                    let existing = repo
                        .between_dates::<DailyMealCount>(weighing.service_date, weighing.service_date)
                        .await?
                        .rows
                        .into_iter()
                        .find(|m| m.site_id == weighing.site_id && !m.meta.deleted);
                    let count = match existing {
                        Some(m) if m.served_total() == u64::from(n) => None,
                        Some(m) => Some(DailyMealCount { meta: m.meta.revised(Utc::now()), served_children: n, served_adults: 0, ..m }),
                        None => Some(DailyMealCount { meta: RecordMeta::new(Uuid::now_v7(), Utc::now()), site_id: weighing.site_id, service_date: weighing.service_date, planned: 0, served_children: n, served_adults: 0 }),
                    };
                    if let Some(c) = count {
                        repo.save(&c).await?;
                    }
                }
                repo.save(&weighing).await
            }
            .await;
            busy.set(false);
            match outcome {
                Ok(_) => {
                    let meals_text = served.map_or(String::new(), |n| format!(", {n} repas"));
                    saved.set(Some(format!("Pesée du {} enregistrée : {} {}{meals_text}.", format_fr_date(weighing.service_date), weighing.stage.label(), format_kg(weighing.mass_grams))));
                    kg.set(String::new());
                    stage.set(String::new());
                    confirmed.set(Vec::new());
                    warnings.set(Vec::new());
                    ctx.after_write();
                }
                Err(e) => {
                    let mut v = Validation::default();
                    v.error("form", e.message_fr());
                    errors.set(v);
                }
            }
        });
    };

    let submit = move || {
        saved.set(None);
        match build() {
            Err(v) => {
                warnings.set(Vec::new());
                errors.set(v);
            }
            Ok((w, served, v)) => {
                errors.set(Validation::default());
                if !v.accepted_with(&confirmed.get_untracked()) {
                    warnings.set(v.warnings.iter().map(|w| w.message.clone()).collect());
                    confirmed.set(v.warning_codes());
                    return;
                }
                warnings.set(Vec::new());
                save(w, served);
            }
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // A change after the warnings were shown is checked again.
        confirmed.set(Vec::new());
        submit();
    };
    let error_of = move |field: &'static str| field_error(errors, field);
    view! {
        <section class="caterer-weighings no-print" aria-labelledby="cw-title">
            <h2 id="cw-title">"Pesées transmises par le prestataire"</h2>
            <p class="hint">"Saisissez ici les pesées que le prestataire vous envoie : elles comptent comme celles du restaurant."</p>
            <form class="caterer-weighing-form" novalidate on:submit=on_submit>
                <div class="field"><label for="w-site">"Restaurant"</label>
                    <select id="w-site" on:change=move |ev| site.set(event_target_value(&ev))>
                        {sites.iter().map(|(id, name)| view! { <option value=id.to_string() selected=id.to_string() == site.get_untracked()>{name.clone()}</option> }).collect_view()}
                    </select>
                    <FieldErrorLine message=error_of("site_id") /></div>
                <div class="field"><label for="w-date">"Date du service (jj/mm/aaaa)"</label>
                    <input type="text" id="w-date" inputmode="numeric" prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev)) />
                    <FieldErrorLine message=error_of("service_date") id="w-date-error" /></div>
                <div class="field"><label for="w-meals">"Repas servis ce jour-là (facultatif)"</label>
                    <input type="text" id="w-meals" inputmode="numeric" prop:value=move || meals.get() on:input=move |ev| meals.set(event_target_value(&ev)) />
                    <FieldErrorLine message=error_of("served_children") id="w-meals-error" /></div>
                <div class="field"><label for="w-stage">"Étape"</label>
                    <select id="w-stage" prop:value=move || stage.get() on:change=move |ev| stage.set(event_target_value(&ev))>
                        <option value="">"Choisir…"</option>
                        {Stage::ALL.into_iter().map(|s| view! { <option value=s.code()>{s.label()}</option> }).collect_view()}
                    </select>
                    <FieldErrorLine message=error_of("stage") id="w-stage-error" /></div>
                <div class="field"><label for="w-kg">"Masse (kg, par exemple 2,5)"</label>
                    <input type="text" id="w-kg" inputmode="decimal" prop:value=move || kg.get() on:input=move |ev| kg.set(event_target_value(&ev)) />
                    <FieldErrorLine message=error_of("mass_grams") id="w-kg-error" /></div>
                <FieldErrorLine message=error_of("form") />
                {move || (!warnings.get().is_empty()).then(|| view! {
                    <div class="warnings" role="alert" data-testid="weighing-warnings">
                        <ul>{warnings.get().into_iter().map(|m| view! { <li>{format!("⚠ {m}")}</li> }).collect_view()}</ul>
                        <button type="button" on:click=move |_| submit()>"Enregistrer quand même"</button>
                    </div>
                })}
                <button type="submit" class="primary" data-testid="weighing-save" disabled=move || busy.get()>"Enregistrer la pesée"</button>
                <p class="saved" role="status" data-testid="weighing-saved">{move || saved.get()}</p>
            </form>
        </section>
    }
    .into_any()
}

#[component]
fn PathwaySection(commune: ScopeCommune, local: Local) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let session = expect_context::<SessionState>();
    let contract = contract_of(&local, &commune.insee);
    let contract_type = contract.as_ref().map_or(ContractType::ServicesContract, |c| c.contract_type);
    let meals = meals_per_day(contract.as_ref(), &commune);
    let steps: Vec<ApplicableStep<'static>> = guide().applicable_steps(contract_type, meals);
    let checklist = checklist_of(&local, &commune.insee);
    let progress = checklist.as_ref().map(|c| c.progress.clone()).unwrap_or_default();
    let slot = local.slot(&commune.insee, CommuneRecordKind::Checklist).cloned();
    let (state_code, state_text) = sync_state_text(slot.as_ref());
    let current = progress.current_step(&steps).map(|s| s.step.id.clone());
    let insee = commune.insee.clone();
    let author = move || session.session.get_untracked().map_or(Uuid::nil(), |s| s.account.id);
    // Every change starts from the stored copy (never from what this view was drawn with).
    let change = {
        let insee = insee.clone();
        move |f: Box<dyn FnOnce(&mut ChecklistProgress)>, done: Box<dyn FnOnce(Result<(), String>)>| {
            let Some(repo) = ctx.repo() else { return };
            let insee = insee.clone();
            leptos::task::spawn_local(async move {
                let Ok(l) = store::load(&repo).await else { return };
                let mut c = checklist_of(&l, &insee)
                    .unwrap_or_else(|| CommuneChecklist { meta: RecordMeta::new(Uuid::now_v7(), Utc::now()), commune_insee_code: insee.clone(), progress: ChecklistProgress::default() });
                f(&mut c.progress);
                c.meta.modified_at = Utc::now();
                save_record(ctx, CommuneRecord::Checklist(c), done);
            });
        }
    };
    let change = std::rc::Rc::new(change);
    let clauses = {
        let name = commune.name.clone();
        let contract = contract.clone();
        let insee = insee.clone();
        move |_| {
            let doc = clauses_document(&name, contract.as_ref(), meals);
            if let Err(m) = crate::download::offer(&format!("clauses-appel-offres-{insee}.html"), crate::download::FileKind::Html, doc.as_bytes()) {
                web_sys::console::warn_1(&m.into());
            }
        }
    };
    view! {
        <section class="pathway" aria-labelledby="pathway-title">
            <h2 id="pathway-title">"Le parcours"</h2>
            <p class="sync-state" data-testid="checklist-state" data-state=state_code>{state_text}</p>
            <p class="intro">{guide().introduction.clone()}</p>
            {(contract.is_none()).then(|| view! { <p class="hint">"Sans contrat enregistré, les étapes d'un marché public sont montrées."</p> })}
            <div class="actions no-print">
                <button class="primary" data-testid="print" on:click=move |_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>"Imprimer le parcours et le contrat"</button>
                <button data-testid="clauses" on:click=clauses>"Clauses pour le prochain appel d'offres (document modifiable)"</button>
            </div>
            {steps.iter().map(|s| {
                let count = progress.step_count(s);
                let is_current = current.as_deref() == Some(s.step.id.as_str());
                let step_id = s.step.id.clone();
                let change = change.clone();
                let change_note = change.clone();
                let note_text = note_draft_field(&insee, &step_id, 0);
                let note_date = note_draft_field(&insee, &step_id, 1);
                let note_ref = note_draft_field(&insee, &step_id, 2);
                let note_error = RwSignal::new(None::<String>);
                let notes: Vec<Note> = progress.steps.get(&s.step.id).map(|p| p.notes.iter().cloned().collect()).unwrap_or_default();
                let add_note = {
                    let step_id = step_id.clone();
                    move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        let proof_date = match note_date.get_untracked().trim() {
                            "" => None,
                            t => match parse_fr_date(t) { Ok(d) => Some(d), Err(m) => { note_error.set(Some(m)); return; } },
                        };
                        let reference = Some(note_ref.get_untracked().trim().to_owned()).filter(|r| !r.is_empty());
                        let note = Note { written_at: Utc::now(), id: Uuid::now_v7(), author: author(), text: note_text.get_untracked().trim().to_owned(), proof_date, reference };
                        let v = note.validate();
                        if let Some(e) = v.errors.first() { note_error.set(Some(e.message.clone())); return; }
                        note_error.set(None);
                        let step_id = step_id.clone();
                        change_note(Box::new(move |p| { let _ = p.add_note(&step_id, note); }), Box::new(move |r| match r {
                            Ok(()) => { note_text.set(String::new()); note_date.set(String::new()); note_ref.set(String::new()); }
                            Err(m) => note_error.set(Some(m)),
                        }));
                    }
                };
                view! {
                    <article class="step" class:current=is_current data-step=s.step.id.clone() aria-labelledby=format!("step-{}", s.step.id)>
                        <h3 id=format!("step-{}", s.step.id)>{format!("{}. {}", s.step.number, s.step.title)}</h3>
                        <p class="step-meta">
                            <span data-testid="step-count">{count.label()}</span>
                            {if count.is_complete() { " — ✓ étape terminée" } else if is_current { " — ➜ étape en cours" } else { "" }}
                            {format!(" — {}", s.step.actor.label())}
                        </p>
                        <p class="why"><strong>"Pourquoi : "</strong>{s.step.why.clone()}</p>
                        <ul class="checkpoints">
                            {s.checkpoints.iter().map(|cp| {
                                let id = format!("cp-{}", cp.id);
                                let label_for = id.clone();
                                let ticked = progress.is_ticked(&s.step.id, &cp.id);
                                let (step_id, cp_id) = (step_id.clone(), cp.id.clone());
                                let change = change.clone();
                                view! {
                                    <li><label class="check" for=label_for>
                                        <input type="checkbox" id=id data-checkpoint=cp.id.clone() prop:checked=ticked
                                            on:change=move |ev| {
                                                let on = event_target::<web_sys::HtmlInputElement>(&ev).checked();
                                                let (s, c, who) = (step_id.clone(), cp_id.clone(), author());
                                                change(Box::new(move |p| p.set_tick(&s, &c, on, Utc::now(), who)), Box::new(|_| {}));
                                            } />
                                        <span>{cp.text.clone()}{cp.clause.then_some(" (clause du contrat)")}</span>
                                    </label></li>
                                }
                            }).collect_view()}
                        </ul>
                        <p class="proof"><strong>"À garder comme preuve : "</strong>{s.step.proof.clone()}</p>
                        <p class="sources"><small>{format!("Sources : {}.", s.step.sources.iter().map(source_label).collect::<Vec<_>>().join(" ; "))}</small></p>
                        {(!notes.is_empty()).then(|| view! {
                            <ul class="notes">{notes.iter().map(|n| {
                                let mut t = format!("{} — {}", format_fr_date(n.written_at.with_timezone(&chrono::Local).date_naive()), n.text);
                                if let Some(d) = n.proof_date { t.push_str(&format!(" — preuve du {}", format_fr_date(d))); }
                                if let Some(r) = &n.reference { t.push_str(&format!(" — {r}")); }
                                view! { <li>{t}</li> }
                            }).collect_view()}</ul>
                        })}
                        <form class="note-form no-print" novalidate on:submit=add_note>
                            <div class="field"><label for=format!("n-text-{}", s.step.id)>"Note"</label>
                                <textarea id=format!("n-text-{}", s.step.id) prop:value=move || note_text.get() on:input=move |ev| note_text.set(event_target_value(&ev))></textarea></div>
                            <div class="field"><label for=format!("n-date-{}", s.step.id)>"Date de la preuve (jj/mm/aaaa, facultatif)"</label>
                                <input type="text" id=format!("n-date-{}", s.step.id) prop:value=move || note_date.get() on:input=move |ev| note_date.set(event_target_value(&ev)) /></div>
                            <div class="field"><label for=format!("n-ref-{}", s.step.id)>"Fichier ou lien de la preuve (facultatif)"</label>
                                <input type="text" id=format!("n-ref-{}", s.step.id) prop:value=move || note_ref.get() on:input=move |ev| note_ref.set(event_target_value(&ev)) /></div>
                            <FieldErrorLine message=Signal::derive(move || note_error.get()) />
                            <button type="submit">"Ajouter la note"</button>
                        </form>
                    </article>
                }
            }).collect_view()}
        </section>
    }
}
