//! The territory bundle (`territoire.html`, `/territoire/`): the metropolis' project officer's
//! overview of every commune and site, the trends, and a commune's one-page summary (which a
//! commune manager sees for their own commune only: the server's scope). A third wasm, so the
//! office bundle's XLSX reader and writer stay out of it: exports are written by the server
//! (`format=csv|xlsx`). It signs in with the office's session module and reads the server's
//! figures; it never syncs records (the kitchen and office bundles do).

pub mod api;
pub mod chart;
pub mod commune;
pub mod engagement;
pub mod format;
pub mod overview;
pub mod trends;

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router, A};
use leptos_router::path;

use crate::app::{BlockingMessage, UpdateBanner};
use crate::pages::sign_in::{SessionBar, SignInPage};
use crate::session::SessionState;

/// Sign-in page of this bundle.
pub const SIGN_IN: &str = "/territoire/connexion";
pub const OVERVIEW: &str = "/territoire/";

/// The territory's app.
#[component]
pub fn TerritoryApp() -> impl IntoView {
    let ctx = crate::app::start_shell_with(false);
    crate::session::provide(ctx);
    let online = RwSignal::new(web_sys::window().is_none_or(|w| w.navigator().on_line()));
    follow_connection(online);
    provide_context(Online(online));
    view! {
        <Router>
            <header class="topbar">
                <span class="brand">"Assiette · territoire"</span>
                <span class="connection" data-testid="connection" data-connection=move || if online.get() { "online" } else { "offline" }>
                    {move || if online.get() { "● En ligne" } else { "○ Hors ligne" }}
                </span>
            </header>
            <BlockingMessage />
            <UpdateBanner />
            <nav class="tabs" aria-label="Navigation principale">
                <A href=OVERVIEW exact=true>"Vue du territoire"</A>
                <A href="/territoire/tendances">"Tendances"</A>
                <a href="/bureau/tableau-de-bord" rel="external">"Bureau"</a>
            </nav>
            <SessionBar sign_in=SIGN_IN />
            <main id="contenu">
                <FlatRoutes fallback=|| view! { <p>"Page introuvable."</p> }>
                    <Route path=path!("/territoire") view=overview::OverviewPage />
                    <Route path=path!("/territoire/") view=overview::OverviewPage />
                    <Route path=path!("/territoire/connexion") view=|| view! { <SignInPage next=OVERVIEW /> } />
                    <Route path=path!("/territoire/tendances") view=trends::TrendsPage />
                    <Route path=path!("/territoire/commune/:insee") view=commune::CommunePage />
                </FlatRoutes>
            </main>
        </Router>
    }
}

/// Whether the browser says it is online.
#[derive(Clone, Copy)]
pub struct Online(pub RwSignal<bool>);

fn follow_connection(online: RwSignal<bool>) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else { return };
    for (name, value) in [("online", true), ("offline", false)] {
        let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || online.set(value));
        let _ = window.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        cb.forget();
    }
}

/// The signed-in session, when read.
pub fn session() -> SessionState {
    expect_context::<SessionState>()
}
