//! The French error line under a field or a form, announced to screen readers.

use assiette_domain::validation::Validation;
use leptos::prelude::*;

/// The first error of `field` in `errors`, as the line under that field shows it.
pub fn field_error(errors: RwSignal<Validation>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || errors.get().errors_for(field).next().map(|e| e.message.clone()))
}

/// `⚠ message` while there is one, an empty line otherwise. `id` lets the field point at it
/// with `aria-describedby`; `testid` names it for the end-to-end tests.
#[component]
pub fn FieldError(
    #[prop(into)] message: Signal<Option<String>>,
    #[prop(optional, into)] id: Option<String>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! { <p class="error" id=id role="alert" data-testid=testid>{move || message.get().map(|m| format!("⚠ {m}"))}</p> }
}
