//! « Communes en gestion concédée » (office bundle, `/bureau/communes-concedees`): the
//! metropolis sees every commune with a contract, its step on the pathway, its next deadline
//! and the caterer's data coverage, sorted by the domain (`concession::overview`), and keeps a
//! follow-up note per commune (saved on the device, then sent; the metropolis' alone).

use assiette_domain::concession::overview::{sort_rows, OverviewRow, SortBy};
use assiette_domain::concession::sync::{CommuneRecord, CommuneRecordKind, FollowUpNote};
use assiette_domain::number::format_fr_date;
use assiette_domain::purchase::Purchase;
use assiette_domain::record::RecordMeta;
use assiette_domain::sync::Role;
use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::concession_store::{self as store, Local};
use crate::context::{stored, today, AppContext};
use crate::pages::concession::{checklist_of, contract_of, meals_per_day, scope_communes, ScopeCommune};
use crate::session::SessionState;

thread_local! {
    /// Follow-up notes being typed, by commune, until saved.
    static NOTE_DRAFTS: std::cell::RefCell<std::collections::HashMap<String, String>> = std::cell::RefCell::new(Default::default());
}

fn note_of(local: &Local, insee: &str) -> Option<FollowUpNote> {
    match local.slot(insee, CommuneRecordKind::FollowUpNote).map(|s| &s.record) {
        Some(CommuneRecord::FollowUpNote(n)) => Some(n.clone()),
        _ => None,
    }
}

fn rows(local: &Local, communes: &[ScopeCommune], purchases: &[Purchase]) -> Vec<OverviewRow> {
    let mut names: Vec<(String, String)> = communes.iter().map(|c| (c.insee.clone(), c.name.clone())).collect();
    for insee in local.communes.keys() {
        if !names.iter().any(|(i, _)| i == insee) {
            names.push((insee.clone(), insee.clone()));
        }
    }
    names
        .into_iter()
        .filter_map(|(insee, name)| {
            let contract = contract_of(local, &insee)?;
            let progress = checklist_of(local, &insee).map(|c| c.progress).unwrap_or_default();
            let meals = communes.iter().find(|c| c.insee == insee).map_or(0, |c| meals_per_day(Some(&contract), c));
            Some(OverviewRow::build(&insee, &name, &contract, &progress, meals, purchases, today()))
        })
        .collect()
}

#[component]
pub fn ConcessionOverviewPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let session = expect_context::<SessionState>();
    let version = store::version();
    let local = stored(move || {
        let _ = version.get();
        let repo = ctx.repo.get();
        async move { store::load(&repo?).await.map_err(|e| ctx.report(e)).ok() }
    });
    let purchases = stored(move || {
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        async move { repo?.all::<Purchase>().await.map_err(|e| ctx.report(e)).ok().map(|l| l.rows) }
    });
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        ctx.repo.get().map(store::sync_soon).is_some()
    });
    let sort = RwSignal::new(SortBy::Deadline);
    view! {
        <section class="concession overview" aria-labelledby="overview-title">
            <h1 id="overview-title">"Communes en gestion concédée"</h1>
            {move || {
                let Some(s) = session.session.get() else {
                    return view! { <p>"Connectez-vous avec un compte de la métropole."</p><a class="button primary" href="/bureau/connexion">"Se connecter"</a> }.into_any();
                };
                if s.account.role != Role::Metropolis {
                    return view! { <p>"Cette vue est réservée à la métropole. Le suivi de votre commune est dans « Gestion concédée »."</p> }.into_any();
                }
                let communes = scope_communes(&s);
                view! {
                    <div class="field no-print">
                        <label for="o-sort">"Trier par"</label>
                        <select id="o-sort" data-testid="overview-sort" on:change=move |ev| { if let Some(b) = SortBy::from_code(&event_target_value(&ev)) { sort.set(b) } }>
                            {SortBy::ALL.into_iter().map(|b| view! { <option value=b.code() selected=move || sort.get() == b>{b.label()}</option> }).collect_view()}
                        </select>
                    </div>
                    {move || {
                        let (Some(l), Some(p)) = (local.get(), purchases.get()) else { return view! { <p>"Chargement…"</p> }.into_any() };
                        let mut list = rows(&l, &communes, &p);
                        if list.is_empty() {
                            return view! { <p>"Aucune commune n'a encore enregistré son contrat."</p> }.into_any();
                        }
                        sort_rows(&mut list, sort.get());
                        view! {
                            <table data-testid="overview">
                                <caption>"Contrats des communes, étape du parcours, prochaine échéance et données du prestataire"</caption>
                                <thead><tr>
                                    <th scope="col">"Commune"</th><th scope="col">"Étape en cours"</th><th scope="col">"Prochaine échéance"</th>
                                    <th scope="col">"Données du prestataire (cette année)"</th><th scope="col">"Note de suivi"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|r| {
                                        let note = note_of(&l, &r.insee);
                                        let slot = l.slot(&r.insee, CommuneRecordKind::FollowUpNote).cloned();
                                        view! { <Row row=r note=note stored_slot=slot /> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Row(row: OverviewRow, note: Option<FollowUpNote>, stored_slot: Option<store::Slot>) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    // What is typed outlives the row: a save or a sync redraws the table.
    let draft = NOTE_DRAFTS.with(|d| d.borrow().get(&row.insee).cloned());
    let text = RwSignal::new(draft.unwrap_or_else(|| note.as_ref().map(|n| n.text.clone()).unwrap_or_default()));
    let (state_code, state_text) = match &stored_slot {
        None => ("none", String::new()),
        Some(s) if s.problem.is_some() => ("problem", format!("⚠ {}", s.problem.clone().unwrap_or_default())),
        Some(s) if s.pending => ("pending", "⏳ Note enregistrée sur cet appareil, à envoyer".to_owned()),
        Some(_) => ("sent", "✓ Note enregistrée et envoyée".to_owned()),
    };
    let insee_typed = row.insee.clone();
    let message = RwSignal::new(None::<String>);
    let insee = row.insee.clone();
    let base = StoredValue::new(note);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let now = Utc::now();
        let meta = base.with_value(|b| b.as_ref().map(|n| n.meta.revised(now))).unwrap_or_else(|| RecordMeta::new(Uuid::now_v7(), now));
        let record = CommuneRecord::FollowUpNote(FollowUpNote { meta, commune_insee_code: insee.clone(), text: text.get_untracked() });
        let v = record.validate(now);
        if let Some(e) = v.errors.first() {
            message.set(Some(format!("⚠ {}", e.message)));
            return;
        }
        let Some(repo) = ctx.repo() else { return };
        let insee_saved = insee.clone();
        leptos::task::spawn_local(async move {
            match store::save(&repo, record).await {
                Ok(()) => {
                    NOTE_DRAFTS.with(|d| d.borrow_mut().remove(&insee_saved));
                    store::sync_soon(repo);
                }
                Err(e) => message.set(Some(e.message_fr())),
            }
        });
    };
    let step = match &row.step {
        Some((n, title)) => format!("{n}. {title} ({} étape(s) terminée(s) sur {})", row.steps_done, row.steps_total),
        None => format!("Parcours terminé ({} étapes)", row.steps_total),
    };
    let deadline = row.next_deadline.as_ref().map_or("Aucune".to_owned(), |d| format!("{} : {} ({})", format_fr_date(d.date), d.label, d.when_label()));
    let coverage = format!(
        "{} restaurant(s) sur {} avec des achats{}",
        row.sites_with_data,
        row.sites_total,
        if row.missing_quarters > 0 { format!(" ; ⚠ {} trimestre(s) manquant(s)", row.missing_quarters) } else { String::new() }
    );
    let id = format!("o-note-{}", row.insee);
    let label_for = id.clone();
    view! {
        <tr data-insee=row.insee.clone()>
            <th scope="row"><a href=format!("/bureau/gestion-concedee?commune={}", row.insee)>{format!("{} ({})", row.name, row.insee)}</a></th>
            <td>{step}</td>
            <td data-testid="overview-deadline">{deadline}</td>
            <td>{coverage}</td>
            <td>
                <form class="note-form" novalidate on:submit=save>
                    <label for=label_for>{format!("Note de suivi de {}", row.name)}</label>
                    <textarea id=id prop:value=move || text.get() on:input=move |ev| {
                        let v = event_target_value(&ev);
                        NOTE_DRAFTS.with(|d| d.borrow_mut().insert(insee_typed.clone(), v.clone()));
                        text.set(v);
                    }></textarea>
                    <button type="submit">"Enregistrer la note"</button>
                    <p role="status" data-testid="note-state" data-state=state_code>{move || message.get().unwrap_or_else(|| state_text.clone())}</p>
                </form>
            </td>
        </tr>
    }
}
