//! Service worker registration and the "Nouvelle version disponible" flow: a new version
//! waits until the user taps the button, so the page never changes under a cook's fingers.

use wasm_bindgen::prelude::*;
use leptos::prelude::Set;
use wasm_bindgen::JsCast;

use crate::context::AppContext;

#[wasm_bindgen(inline_js = r#"
export function register_worker(onUpdate) {
  if (!("serviceWorker" in navigator)) return;
  const hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.register("/sw.js").then((reg) => {
    const watch = (worker) => {
      if (!worker) return;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) onUpdate();
      });
    };
    if (reg.waiting && navigator.serviceWorker.controller) onUpdate();
    watch(reg.installing);
    reg.addEventListener("updatefound", () => watch(reg.installing));
    // Look for a new version now and then (the tablet may stay open all day).
    setInterval(() => reg.update().catch(() => {}), 30 * 60 * 1000);
  }).catch(() => {});
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only reload for an update the user asked for, not for the first install.
    if (hadController && !reloading) { reloading = true; location.reload(); }
  });
}
export function apply_update() {
  navigator.serviceWorker.getRegistration().then((reg) => {
    if (reg && reg.waiting) reg.waiting.postMessage("skip-waiting");
  });
}
"#)]
extern "C" {
    fn register_worker(on_update: &js_sys::Function);
    #[wasm_bindgen(js_name = apply_update)]
    fn apply_update_js();
}

pub fn register(ctx: AppContext) {
    let on_update = Closure::<dyn FnMut()>::new(move || ctx.update_available.set(true));
    register_worker(on_update.as_ref().unchecked_ref());
    on_update.forget();
}

pub fn apply_update() {
    apply_update_js();
}
