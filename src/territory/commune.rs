//! wip
use leptos::prelude::*;
#[component]
pub fn CommunePage() -> impl IntoView { view! { <p>"…"</p> } }
