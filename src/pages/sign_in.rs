//! « Connexion » (office bundle, `/bureau/connexion`): a manager signs in, or accepts the
//! metropolis' invitation (a code, or a link `/bureau/connexion?invitation=CODE`) by choosing a
//! password; and the bar that says who is signed in, with « Se déconnecter », or that the
//! session has ended.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::components::field_error::FieldError;
use crate::context::AppContext;
use crate::session::{self, SessionState};
use crate::sync::{self, machine::Event};

/// After a sign-in: the session shown, the engine told (it sends what waits), the screens re-read.
fn signed_in(ctx: AppContext, state: SessionState, s: session::Session) {
    state.session.set(Some(s));
    ctx.data_version.update(|v| *v += 1);
    sync::dispatch(Event::Enrolled);
}

/// `next`: where a signed-in person goes (the office's « Achats », or the territory's overview).
#[component]
pub fn SignInPage(#[prop(default = "/bureau/achats")] next: &'static str) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = expect_context::<SessionState>();
    let navigate = use_navigate();
    let query = use_query_map();
    let invitation = query.with_untracked(|q| q.get("invitation")).unwrap_or_default();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // Answers received (scripts wait for the next one).
    let attempts = RwSignal::new(0u32);
    let code = RwSignal::new(invitation.clone());
    let new_password = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let invitation_error = RwSignal::new(None::<String>);
    // An expired session: the same account signs in again (its address filled in).
    if let Some(s) = state.session.get_untracked() {
        email.set(s.account.email.clone());
    }

    let nav = navigate.clone();
    let on_sign_in = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(repo) = ctx.repo() else { return };
        busy.set(true);
        error.set(None);
        let nav = nav.clone();
        leptos::task::spawn_local(async move {
            let result = session::sign_in(&repo, &email.get_untracked(), &password.get_untracked()).await;
            busy.set(false);
            attempts.update(|n| *n += 1);
            match result {
                Ok(s) => {
                    password.set(String::new());
                    signed_in(ctx, state, s);
                    nav(next, Default::default());
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };
    let nav = navigate.clone();
    let on_accept = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(repo) = ctx.repo() else { return };
        busy.set(true);
        invitation_error.set(None);
        let nav = nav.clone();
        leptos::task::spawn_local(async move {
            let result =
                session::accept_invitation(&repo, &code.get_untracked(), &new_password.get_untracked(), &confirmation.get_untracked()).await;
            busy.set(false);
            match result {
                Ok(s) => {
                    new_password.set(String::new());
                    confirmation.set(String::new());
                    signed_in(ctx, state, s);
                    nav(next, Default::default());
                }
                Err(m) => invitation_error.set(Some(m)),
            }
        });
    };

    view! {
        <h1>"Connexion"</h1>
        {move || state.session.get().filter(|s| !s.expired).map(|s| view! {
            <p class="card" data-testid="already-signed-in">{format!("Vous êtes connecté(e) avec {}.", s.account.email)}</p>
        })}
        <section class="card">
            <h2>"Se connecter"</h2>
            <form class="sign-in-form" on:submit=on_sign_in novalidate data-testid="sign-in-form" data-attempts=move || attempts.get().to_string()>
                <div class="field">
                    <label for="email">"Adresse e-mail"</label>
                    <input id="email" type="email" autocomplete="username" required
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="password">"Mot de passe"</label>
                    <input id="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                <FieldError message=error testid="sign-in-error" />
                <div class="button-row">
                    <button type="submit" class="primary" data-testid="sign-in" disabled=move || busy.get()>"Se connecter"</button>
                </div>
            </form>
        </section>
        <section class="card">
            <h2>"Vous avez reçu une invitation ?"</h2>
            <p class="muted">"Saisissez le code d'invitation donné par la métropole et choisissez votre mot de passe (12 caractères au moins). Votre compte est alors créé et vous êtes connecté(e)."</p>
            <form class="sign-in-form" on:submit=on_accept novalidate data-testid="invitation-form">
                <div class="field">
                    <label for="invitation-code">"Code d'invitation"</label>
                    <input id="invitation-code" type="text" autocomplete="off" autocapitalize="characters" placeholder="ABCD-EF23-GH45-JK67"
                        prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="new-password">"Mot de passe choisi"</label>
                    <input id="new-password" type="password" autocomplete="new-password" minlength="12"
                        prop:value=move || new_password.get() on:input=move |ev| new_password.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="new-password-again">"Mot de passe (à nouveau)"</label>
                    <input id="new-password-again" type="password" autocomplete="new-password" minlength="12"
                        prop:value=move || confirmation.get() on:input=move |ev| confirmation.set(event_target_value(&ev)) />
                </div>
                <FieldError message=invitation_error testid="invitation-error" />
                <div class="button-row">
                    <button type="submit" class="primary" data-testid="accept-invitation" disabled=move || busy.get()>"Accepter l'invitation"</button>
                </div>
            </form>
        </section>
    }
}

/// Who is signed in (and « Se déconnecter »), or that the session has ended with what is kept,
/// or a link to sign in. Shown on every office screen.
/// `sign_in`: the sign-in page of the bundle showing the bar.
#[component]
pub fn SessionBar(#[prop(default = "/bureau/connexion")] sign_in: &'static str) -> impl IntoView {
    let ctx = expect_context::<AppContext>();
    let state = expect_context::<SessionState>();
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let sign_out = move |_| {
        let (Some(repo), Some(s)) = (ctx.repo(), state.session.get_untracked()) else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = session::sign_out(&repo, &s).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    state.session.set(None);
                    message.set(Some("Vous êtes déconnecté(e).".to_owned()));
                    ctx.data_version.update(|v| *v += 1);
                }
                Err(m) => message.set(Some(m)),
            }
        });
    };
    view! {
        // A landmark of its own: every piece of the page is in one (WCAG, axe's `region`).
        <section class="session-bar" aria-label="Compte" data-testid="session-bar">
            {move || {
                if !state.loaded.get() {
                    return ().into_any();
                }
                match state.session.get() {
                    Some(s) if s.expired => view! {
                        <p class="session-expired" role="alert" data-testid="session-expired">
                            "⚠ " {session::expired_fr(ctx.outbox_len.get())} " "
                            <a href=sign_in data-testid="sign-in-again">"Se reconnecter"</a>
                        </p>
                    }.into_any(),
                    Some(s) => view! {
                        <p data-testid="signed-in" data-email=s.account.email.clone()>
                            // A metropolis account has no commune listed: it sees every one.
                            {format!("Connecté(e) : {} ({})", s.account.email,
                                if s.account.communes.is_empty() { "toutes les communes".to_owned() }
                                else { s.account.communes.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ") })}
                            " "
                            <button type="button" data-testid="sign-out" disabled=move || busy.get() on:click=sign_out>"Se déconnecter"</button>
                        </p>
                    }.into_any(),
                    None => view! {
                        <p data-testid="signed-out">"Non connecté(e) : " <a href=sign_in>"Se connecter"</a></p>
                    }.into_any(),
                }
            }}
            <p class="session-message" role="status" data-testid="session-message">{move || message.get()}</p>
        </section>
    }
}
