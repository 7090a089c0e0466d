//! Assiette's kitchen-tablet PWA: Leptos, client-side rendered, offline first.
//! Records live in IndexedDB (`storage`), written with their outbox entry in one transaction.
//! Browser-only: on other targets the crate is empty, so host builds of the workspace stay light.
#![cfg(target_arch = "wasm32")]

pub mod app;
pub mod backup;
pub mod components;
pub mod concession_store;
pub mod context;
pub mod day;
pub mod download;
pub mod drafts;
pub mod pages;
pub mod purchase_import;
pub mod pwa;
pub mod session;
pub mod storage;
pub mod sync;
pub mod territory;

/// The kitchen bundle (`src/main.rs`): Today, History, Sync.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::KitchenApp);
}

/// The office bundle (`src/bin/bureau.rs`), served under `/bureau/`: charts and settings.
pub fn start_office() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::OfficeApp);
}

/// The territory bundle (`src/bin/territoire.rs`), served under `/territoire/`: the
/// metropolis' overview, trends and commune pages.
pub fn start_territory() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(territory::TerritoryApp);
}
