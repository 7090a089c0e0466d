//! "Synchronisation": enrolment of the tablet, "Synchroniser maintenant", progress, and the
//! entries the server refused ("à vérifier"), which stay on the tablet until a person resends
//! or abandons them.

use leptos::prelude::*;

use crate::components::field_error::FieldError;
use crate::context::{stored, AppContext};
use crate::storage::{EntryJs, OutboxEntry};
use crate::sync::{self, machine::Event, Credentials, SyncState, CREDENTIALS_KEY};

#[component]
pub fn SyncPage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = expect_context::<SyncState>();
    let code = RwSignal::new(String::new());
    let label = RwSignal::new("Tablette cuisine".to_owned());
    let enrol_message = RwSignal::new(None::<Result<String, String>>);
    // « Changer de restaurant » was tapped: the form shows again under the current enrolment.
    let changing = RwSignal::new(false);

    let enrolment = stored(move || {
        let _ = ctx.data_version.get();
        let _ = state.needs_enrolment.get();
        let repo = ctx.repo.get();
        async move { repo?.setting::<Credentials>(CREDENTIALS_KEY).await.ok().flatten() }
    });
    let to_review = stored(move || {
        let _ = ctx.data_version.get();
        let repo = ctx.repo.get();
        async move { repo?.outbox_to_review().await.ok() }
    });

    // Plain tasks, not Actions: nothing reads their pending state or value.
    let enrol = move || leptos::task::spawn_local(async move {
        match sync::enrol(ctx, &code.get_untracked(), &label.get_untracked()).await {
            Ok(site) => {
                code.set(String::new());
                changing.set(false);
                enrol_message.set(Some(Ok(format!("Tablette enrôlée pour « {} » ({}).", site.name, site.commune_name))));
            }
            Err(m) => enrol_message.set(Some(Err(m))),
        }
    });

    view! {
        <h1>"Synchronisation"</h1>
        <section class="card">
            <h2>"État"</h2>
            <p data-testid="sync-state">{move || {
                if state.running.get() {
                    let p = state.progress.get();
                    format!("⏳ Synchronisation en cours : {} envoyée(s), {} reçue(s)…", p.sent, p.pulled)
                } else if state.needs_enrolment.get() {
                    "⚠ Tablette non enrôlée : les saisies restent sur la tablette.".to_owned()
                } else {
                    match ctx.outbox_len.get() {
                        0 => "✓ Tout est envoyé.".to_owned(),
                        1 => "⏳ 1 saisie à envoyer.".to_owned(),
                        n => format!("⏳ {n} saisies à envoyer."),
                    }
                }
            }}</p>
            <FieldError message=state.last_error />
            <button class="primary" id="sync-now" disabled=move || state.needs_enrolment.get() || state.running.get()
                on:click=move |_| {
                    if sync::Connection::from_browser() == sync::Connection::Offline {
                        state.connection.set(sync::Connection::Offline);
                        state.last_error.set(Some("Pas de réseau : les saisies restent sur la tablette. Elles partiront d'elles-mêmes au retour du réseau.".to_owned()));
                    } else {
                        state.last_error.set(None);
                        sync::dispatch(Event::SyncNow);
                    }
                }>"Synchroniser maintenant"</button>
        </section>
        <section class="card">
            <h2>"Enrôlement de la tablette"</h2>
            {move || enrolment.get().map(|c| view! {
                <p data-testid="enrolled-site"><strong>{format!("Restaurant : « {} »", c.site.name)}</strong>{format!(" ({}, SIRET {}).", c.site.commune_name, c.site.siret)}</p>
            })}
            // Enrolled and not changing: the site, and a way to change it (never the form itself).
            {move || (enrolment.get().is_some() && !changing.get() && !state.needs_enrolment.get()).then(|| view! {
                <button type="button" id="change-site" on:click=move |_| { enrol_message.set(None); changing.set(true); }>"Changer de restaurant"</button>
            })}
            {move || changing.get().then(|| view! {
                <p class="warnings">"Un code d'un autre restaurant enrôle la tablette pour celui-ci. Les saisies déjà faites restent celles de l'ancien restaurant ; si certaines ne sont pas encore envoyées, le changement est refusé : synchronisez d'abord."</p>
            })}
            <form class:hidden=move || enrolment.get().is_some() && !changing.get() && !state.needs_enrolment.get()
                on:submit=move |ev| { ev.prevent_default(); enrol(); } novalidate>
                <div class="field">
                    <label for="enrol-code">"Code d'enrôlement (donné par la métropole)"</label>
                    <input id="enrol-code" type="text" autocomplete="off" autocapitalize="characters" placeholder="ABCD-EFGH"
                        prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="enrol-label">"Nom de la tablette"</label>
                    <input id="enrol-label" type="text" prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) />
                </div>
                <div class="button-row">
                    <button type="submit" class="primary">"Enrôler la tablette"</button>
                    {move || changing.get().then(|| view! {
                        <button type="button" on:click=move |_| changing.set(false)>"Annuler"</button>
                    })}
                </div>
            </form>
            {move || enrol_message.get().map(|m| match m {
                Ok(t) => view! { <p class="saved" role="status">{format!("✓ {t}")}</p> }.into_any(),
                Err(t) => view! { <p class="error" role="alert">{format!("⚠ {t}")}</p> }.into_any(),
            })}
        </section>
        <section class="card">
            <h2>"À vérifier"</h2>
            <p class="small">"Saisies refusées par le serveur, ou en conflit avec une version enregistrée ailleurs (une autre tablette, la métropole). « Renvoyer ma version » l'envoie de nouveau, par-dessus l'autre ; « Abandonner » garde l'autre. Pour corriger une saisie refusée, modifiez-la dans Aujourd'hui ou Historique, puis abandonnez l'ancienne."</p>
            {move || match to_review.get() {
                Some(list) if !list.is_empty() => view! {
                    <ul class="review">{list.into_iter().map(review_item).collect_view()}</ul>
                }.into_any(),
                _ => view! { <p>"Rien à vérifier."</p> }.into_any(),
            }}
        </section>
    }
}

/// What a person can do with a refused entry.
#[derive(Clone, Copy)]
enum Resolution {
    /// A new revision of the tablet's version, above the server's: sent at the next sync.
    Resend,
    /// The tablet's version is dropped; the server's (kept with a conflict) is written locally.
    Discard,
}

fn review_item(entry: OutboxEntry) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let what = match entry.store.as_str() {
        "weighings" => "Pesée",
        "meal_counts" => "Repas",
        _ => "Achat",
    };
    // The service date (meal counts, weighings) or the purchase date, read on the JS object.
    let record = entry.record_js().unwrap_or(wasm_bindgen::JsValue::UNDEFINED);
    let field = |name: &str| js_sys::Reflect::get(&record, &name.into()).unwrap_or_default();
    let date = Some(field("service_date"))
        .filter(|d| !d.is_undefined())
        .unwrap_or_else(|| field("date"))
        .as_string()
        .and_then(|d| assiette_domain::time::parse_date(&d))
        .map(assiette_domain::number::format_fr_date)
        .unwrap_or_default();
    let reason = entry.rejected.clone().unwrap_or_default();
    // This tablet's version, as typed, beside the reason (which names the other version).
    let mine = match entry.store.as_str() {
        "weighings" => serde_json::from_str(entry.record.get()).ok().map(assiette_domain::sync::RecordPayload::Weighing),
        "meal_counts" => serde_json::from_str(entry.record.get()).ok().map(assiette_domain::sync::RecordPayload::MealCount),
        _ => serde_json::from_str(entry.record.get()).ok().map(assiette_domain::sync::RecordPayload::Purchase),
    }
    .map(|r| r.values_fr())
    .unwrap_or_default();
    let error = RwSignal::new(None::<String>);
    let resolve = move |choice: Resolution| {
        let entry = entry.clone();
        leptos::task::spawn_local(async move {
            let Some(repo) = ctx.repo() else { return };
            let done = match (choice, entry.seq) {
                (Resolution::Resend, _) => repo.requeue(&entry, chrono::Utc::now()).await.map(|_| ()),
                (Resolution::Discard, Some(_)) => repo.discard(&entry).await,
                (Resolution::Discard, None) => Ok(()),
            };
            match done {
                Ok(()) => ctx.after_write(),
                Err(e) => error.set(Some(e.message_fr())),
            }
        })
    };
    let discard = resolve.clone();
    view! {
        <li data-testid="review-item">
            <strong>{format!("{what} du {date}")}</strong>
            <p>{reason}</p>
            <p data-testid="review-mine">"Votre version : "{mine}</p>
            <div class="button-row">
                <button type="button" on:click=move |_| resolve(Resolution::Resend)>"Renvoyer ma version"</button>
                <button type="button" class="danger" on:click=move |_| discard(Resolution::Discard)>
                    "Abandonner ma version (garder celle du serveur)"
                </button>
            </div>
            <FieldError message=error />
        </li>
    }
}
