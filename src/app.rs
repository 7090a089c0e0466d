//! The shell of both bundles: opens storage, provides [`AppContext`], shows the sync status
//! and the blocking messages, and routes between the pages.

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router, A};
use leptos_router::path;

use crate::context::{today, AppContext, SiteProfile, PROFILE_KEY};
use crate::pages::{
    charts::ChartsPage, dashboard::DashboardPage, history::HistoryPage, purchases::PurchasesPage, settings::SettingsPage,
    sign_in::{SessionBar, SignInPage}, sync::SyncPage, today::TodayPage,
};
use crate::storage::{request_persistence, Repository};
use crate::{pwa, sync};

/// The two bundles of the app. The kitchen's (Today, History, Sync) is what a tablet loads
/// first and must stay small; the office's (charts, settings, and the manager's screens) is a
/// second wasm under `/bureau/`, loaded only when opened. Moving between them is a page load.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    Kitchen,
    Office,
}

/// The tabs of the navigation bar: path, label and the bundle that shows it.
const TABS: [(&str, &str, Bundle); 8] = [
    ("/", "Aujourd'hui", Bundle::Kitchen),
    ("/historique", "Historique", Bundle::Kitchen),
    ("/bureau/graphiques", "Graphiques", Bundle::Office),
    ("/bureau/achats", "Achats", Bundle::Office),
    ("/bureau/tableau-de-bord", "EGalim", Bundle::Office),
    ("/bureau/gestion-concedee", "Gestion concédée", Bundle::Office),
    ("/synchronisation", "Synchro", Bundle::Kitchen),
    ("/bureau/reglages", "Réglages", Bundle::Office),
];

/// The kitchen tablet's app: the first bundle.
#[component]
pub fn KitchenApp() -> impl IntoView {
    start_shell();
    view! {
        <Router>
            <Chrome bundle=Bundle::Kitchen />
            <main id="contenu">
                <FlatRoutes fallback=not_found>
                    <Route path=path!("/") view=TodayPage />
                    <Route path=path!("/historique") view=HistoryPage />
                    <Route path=path!("/synchronisation") view=SyncPage />
                </FlatRoutes>
            </main>
        </Router>
    }
}

/// The office's app: the second bundle, the same shell around the screens the kitchen's hot
/// path never needs.
#[component]
pub fn OfficeApp() -> impl IntoView {
    let ctx = start_shell();
    // Before the shell's task starts the sync engine: a signed-in person's session signs it.
    crate::session::provide(ctx);
    view! {
        <Router>
            <Chrome bundle=Bundle::Office />
            <SessionBar />
            <main id="contenu">
                <FlatRoutes fallback=not_found>
                    <Route path=path!("/bureau/connexion") view=|| view! { <SignInPage /> } />
                    <Route path=path!("/bureau/graphiques") view=ChartsPage />
                    <Route path=path!("/bureau/achats") view=PurchasesPage />
                    <Route path=path!("/bureau/tableau-de-bord") view=DashboardPage />
                    <Route path=path!("/bureau/gestion-concedee") view=crate::pages::concession::ConcessionPage />
                    <Route path=path!("/bureau/communes-concedees") view=crate::pages::concession_overview::ConcessionOverviewPage />
                    <Route path=path!("/bureau/reglages") view=SettingsPage />
                </FlatRoutes>
            </main>
        </Router>
    }
}

fn not_found() -> impl IntoView {
    view! { <p>"Page introuvable."</p> }
}

/// The header, the blocking messages and the tabs. A tab of the other bundle is a plain link
/// (`rel="external"`: the router lets the browser load that bundle's page).
#[component]
fn Chrome(bundle: Bundle) -> impl IntoView {
    view! {
        <header class="topbar">
            <span class="brand">"Assiette"</span>
            <SyncStatus />
        </header>
        <BlockingMessage />
        <UnreadableRows />
        <UpdateBanner />
        <nav class="tabs" aria-label="Navigation principale">
            // One link component built in a loop, not five inlined copies of it.
            {TABS
                .into_iter()
                .map(|(href, label, tab_bundle)| {
                    if tab_bundle == bundle {
                        view! { <A href=href>{label}</A> }.into_any()
                    } else {
                        view! { <a href=href rel="external">{label}</a> }.into_any()
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Provides the app-wide state, opens storage and starts the sync engine: the same for both
/// bundles.
fn start_shell() -> AppContext {
    start_shell_with(true)
}

/// The shell's state and storage; `sync_engine: false` for the territory bundle, which only
/// reads the server's figures (records are synced by the kitchen and office bundles).
pub(crate) fn start_shell_with(sync_engine: bool) -> AppContext {
    let ctx = AppContext {
        repo: RwSignal::new_local(None),
        storage_error: RwSignal::new(None),
        outbox_len: RwSignal::new(0),
        persisted: RwSignal::new(None),
        last_sync: RwSignal::new(None),
        update_available: RwSignal::new(false),
        profile: RwSignal::new(None),
        data_version: RwSignal::new(0),
        service_date: RwSignal::new(today()),
        unreadable: RwSignal::new(0),
    };
    provide_context(ctx);
    let sync_state = sync::SyncState {
        running: RwSignal::new(false),
        progress: RwSignal::new(Default::default()),
        last_error: RwSignal::new(None),
        needs_enrolment: RwSignal::new(false),
        connection: RwSignal::new(sync::Connection::from_browser()),
    };
    provide_context(sync_state);

    leptos::task::spawn_local(async move {
        // Held back by another tab: say what to close; the open then completes by itself.
        match Repository::open(move |e| ctx.report(e)).await {
            Ok(repo) => {
                ctx.storage_error.set(None);
                let profile = match repo.setting::<SiteProfile>(PROFILE_KEY).await {
                    Ok(Some(p)) => Some(p),
                    Ok(None) => {
                        let p = SiteProfile::new_local();
                        match repo.set_setting(PROFILE_KEY, &p).await {
                            Ok(()) => Some(p),
                            Err(e) => {
                                ctx.report(e);
                                None
                            }
                        }
                    }
                    Err(e) => {
                        ctx.report(e);
                        None
                    }
                };
                ctx.last_sync.set(repo.setting::<String>(sync::LAST_SYNC_KEY).await.ok().flatten());
                ctx.profile.set(profile);
                ctx.repo.set(Some(repo));
                ctx.refresh_outbox().await;
                crate::context::follow_other_windows(ctx);
                if sync_engine {
                    sync::start(ctx, sync_state).await;
                }
            }
            Err(e) => ctx.report(e),
        }
        mark_ready();
        ctx.persisted.set(Some(request_persistence().await));
    });
    pwa::register(ctx);
    // Another tab installed a newer schema: this one must reload before writing again.
    let on_version_change = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        ctx.report(crate::storage::StorageError::VersionChanged);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("assiette-versionchange", wasm_bindgen::JsCast::unchecked_ref(on_version_change.as_ref()));
    }
    on_version_change.forget();

    ctx
}

/// Tells scripts and tests that the shell is interactive (storage opened or its failure shown).
fn mark_ready() {
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.set_attribute("data-ready", "");
    }
}

#[component]
fn SyncStatus() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = expect_context::<sync::SyncState>();
    let pending = move || match ctx.outbox_len.get() {
        0 => "Tout est envoyé".to_owned(),
        1 => "1 saisie à envoyer".to_owned(),
        n => format!("{n} saisies à envoyer"),
    };
    let last = move || match ctx.last_sync.get() {
        Some(at) => format!("Dernier envoi : {}", sync::format_last_sync(&at)),
        None => "Jamais synchronisé".to_owned(),
    };
    view! {
        <div class="sync-status" role="status" aria-live="polite" data-testid="sync-status">
            <span class="connection" data-testid="connection" data-connection=move || state.connection.get().code()>
                {move || state.connection.get().label_fr()}
            </span>
            <span class="pending" data-pending=move || ctx.outbox_len.get().to_string()>
                {move || if ctx.outbox_len.get() == 0 { "✓ " } else { "⏳ " }}
                {pending}
            </span>
            <span class="last-sync">{last}</span>
        </div>
    }
}

#[component]
pub(crate) fn BlockingMessage() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    move || {
        ctx.storage_error.get().map(|message| {
            view! {
                <div class="blocking" role="alertdialog" aria-modal="true" aria-labelledby="blocking-title">
                    <div class="blocking-box">
                        <h2 id="blocking-title">"⚠ Enregistrement impossible"</h2>
                        <p>{message}</p>
                        <button class="primary" on:click=move |_| reload()>"Recharger la page"</button>
                        <button on:click=move |_| ctx.storage_error.set(None)>"Fermer ce message"</button>
                    </div>
                </div>
            }
        })
    }
}

/// Rows of this tablet's storage that a screen skipped because they cannot be read: the rest is
/// shown, and the person knows something is missing.
#[component]
fn UnreadableRows() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    move || {
        let n = ctx.unreadable.get();
        (n > 0).then(|| {
            let text = if n == 1 {
                "⚠ 1 saisie enregistrée sur cette tablette est illisible : elle n'est pas affichée. Exportez une sauvegarde (Réglages) et signalez-le.".to_owned()
            } else {
                format!("⚠ {n} saisies enregistrées sur cette tablette sont illisibles : elles ne sont pas affichées. Exportez une sauvegarde (Réglages) et signalez-le.")
            };
            view! { <p class="warnings" role="status" data-testid="unreadable-rows">{text}</p> }
        })
    }
}

#[component]
pub(crate) fn UpdateBanner() -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    move || {
        ctx.update_available.get().then(|| {
            view! {
                <div class="update-banner" role="status">
                    <span>"Nouvelle version disponible"</span>
                    <button class="primary" on:click=move |_| pwa::apply_update()>"Mettre à jour"</button>
                </div>
            }
        })
    }
}

pub fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}
