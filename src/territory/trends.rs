//! wip
use leptos::prelude::*;
#[component]
pub fn TrendsPage() -> impl IntoView { view! { <p>"…"</p> } }
