use leptos::prelude::*;

#[component]
pub fn ChartsPage() -> impl IntoView {
    view! { <h1>"Graphiques"</h1> }
}
