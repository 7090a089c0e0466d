use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <h1>"Réglages"</h1> }
}
