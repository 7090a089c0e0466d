//! « Copier »: a value put on the clipboard, to paste into ma cantine's form.

use leptos::prelude::*;

/// Copies `text` to the clipboard (navigator.clipboard, read by name: web-sys' Clipboard is not
/// compiled in). Whether the browser took it.
fn copy_to_clipboard(text: &str) -> bool {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else { return false };
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok().filter(|c| !c.is_undefined());
    let write = clipboard
        .as_ref()
        .and_then(|c| js_sys::Reflect::get(c, &"writeText".into()).ok())
        .and_then(|f| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(f).ok());
    match (clipboard, write) {
        (Some(c), Some(f)) => f.call1(&c, &text.into()).is_ok(),
        _ => false,
    }
}

/// A « Copier » button for `text`; says in words whether it worked.
#[component]
pub fn CopyButton(text: String) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    view! {
        <button type="button" on:click=move |_| copied.set(Some(copy_to_clipboard(&text)))>
            {move || match copied.get() {
                Some(true) => "Copié ✓",
                Some(false) => "Copie impossible : sélectionnez la valeur",
                None => "Copier",
            }}
        </button>
    }
}
