use leptos::prelude::*;

#[component]
pub fn HistoryPage() -> impl IntoView {
    view! { <h1>"Historique"</h1> }
}
