//! The French error line under a field or a form, announced to screen readers.

use leptos::prelude::*;

/// `⚠ message` while there is one, an empty line otherwise. `id` lets the field point at it
/// with `aria-describedby`.
#[component]
pub fn FieldError(#[prop(into)] message: Signal<Option<String>>, #[prop(optional)] id: Option<String>) -> impl IntoView {
    view! { <p class="error" id=id role="alert">{move || message.get().map(|m| format!("⚠ {m}"))}</p> }
}
