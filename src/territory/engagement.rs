//! Whether a commune takes part in the metropolis' programme (« engagée »), and the metropolis'
//! button that changes it, on the commune page and in the overview's table of communes. The
//! change is made on the server only: sent, then said « enregistré » once it answered; offline
//! the button is off and the page says why (nothing is kept to send later).

use assiette_domain::sync::Role;
use assiette_domain::territory_api::{engaged_path, EngagedRequest, EngagedResponse};
use leptos::prelude::*;

use crate::session::HttpError;

pub const ENGAGED_OFFLINE: &str =
    "Hors ligne : l'engagement d'une commune s'enregistre sur le serveur, ce n'est pas possible maintenant. Réessayez une fois la connexion revenue.";

/// The offline note's id: the buttons say it is why they are off.
const OFFLINE_NOTE_ID: &str = "engaged-offline";

/// What the last change said, for the commune of that INSEE code: whether it was saved, the
/// words. Held by the page, so it outlives the figures that the change has the page read again.
pub type EngagedMessage = RwSignal<Option<(String, bool, String)>>;

/// Whether the signed-in person is the metropolis (the only one who changes an engagement; the
/// server refuses anyone else).
pub fn metropolis_signed_in() -> bool {
    super::session().session.get_untracked().is_some_and(|s| s.account.role == Role::Metropolis)
}

/// The state in words, never by colour alone.
pub fn engaged_words(engaged: bool) -> &'static str {
    if engaged {
        "✓ Engagée"
    } else {
        "✗ Non engagée"
    }
}

/// The sentence saying why the buttons are off, while the browser is offline: once a page.
pub fn offline_note() -> impl IntoView {
    let online = expect_context::<super::Online>().0;
    move || (!online.get()).then(|| view! { <p id=OFFLINE_NOTE_ID class="warnings no-print" role="status" data-testid="engaged-offline">{ENGAGED_OFFLINE}</p> })
}

/// The metropolis' button marking commune `insee` engaged or not; `name`, where given, is said
/// to a screen reader after the button's words (a table's rows have one each). `engaged` is
/// the state shown, set from the server's answer; `reload` is bumped once saved, so the page
/// reads its figures again (the sites' « engagé » and the totals follow). The outcome is said
/// under the button, in `message`.
#[component]
pub fn EngagedToggle(
    insee: String,
    engaged: RwSignal<bool>,
    message: EngagedMessage,
    reload: RwSignal<u32>,
    #[prop(optional)] name: Option<String>,
) -> impl IntoView {
    let state = super::session();
    let online = expect_context::<super::Online>().0;
    let busy = RwSignal::new(false);
    let said_here = {
        let insee = insee.clone();
        move || message.get().filter(|(i, _, _)| *i == insee).map(|(_, ok, m)| (ok, m))
    };
    let toggle = move |_| {
        if busy.get_untracked() {
            return;
        }
        let say = {
            let insee = insee.clone();
            move |ok: bool, m: String| {
                let _ = message.try_set(Some((insee.clone(), ok, m)));
            }
        };
        if !online.get_untracked() {
            say(false, ENGAGED_OFFLINE.to_owned());
            return;
        }
        let Some(session) = state.session.get_untracked().filter(|s| !s.expired) else {
            say(false, "Session expirée : reconnectez-vous pour changer l'engagement de la commune.".to_owned());
            return;
        };
        let want = !engaged.get_untracked();
        busy.set(true);
        message.set(None);
        let path = engaged_path(&insee);
        leptos::task::spawn_local(async move {
            let body = serde_json::to_string(&EngagedRequest { engaged: want }).unwrap_or_default();
            let reply = crate::session::request("POST", &path, Some(&session.token), Some(body)).await;
            let _ = busy.try_set(false);
            match reply.map(|t| serde_json::from_str::<EngagedResponse>(&t)) {
                Ok(Ok(saved)) => {
                    let _ = engaged.try_set(saved.engaged);
                    let _ = reload.try_update(|n| *n += 1);
                    let how = if saved.engaged { "est engagée dans le programme" } else { "n'est plus engagée dans le programme" };
                    say(true, format!("Enregistré : {} {how}.", saved.name));
                }
                Ok(Err(e)) => say(false, format!("Réponse du serveur illisible : {e}.")),
                Err(HttpError::Offline) => say(false, ENGAGED_OFFLINE.to_owned()),
                Err(e) => say(false, e.message_fr()),
            }
        });
    };
    view! {
        <div class="no-print">
            <button type="button" data-testid="engaged-toggle" aria-describedby=move || (!online.get()).then_some(OFFLINE_NOTE_ID)
                disabled={move || busy.get() || !online.get()} on:click=toggle>
                {move || match (busy.get(), engaged.get()) {
                    (true, _) => "Enregistrement…",
                    (false, true) => "Marquer la commune comme non engagée",
                    (false, false) => "Marquer la commune comme engagée",
                }}
                {name.map(|n| view! { <span class="visually-hidden">{format!(" ({n})")}</span> })}
            </button>
            {move || said_here().map(|(ok, m)| {
                let (class, role) = if ok { ("saved", "status") } else { ("warnings", "alert") };
                view! { <p class=class role=role data-testid="engaged-message" data-ok=ok.to_string()>{m}</p> }
            })}
        </div>
    }
}
