//! Assiette's domain: plain types and pure functions, no I/O.
//!
//! Used by the browser app (wasm32) and by the server. Serde names are the national
//! platform's ("ma cantine") codes so that every exchanged file can be handed to it as is.

pub mod code;
pub mod commune_page;
pub mod concession;
pub mod dashboard;
pub mod declaration;
pub mod egalim;
pub mod export;
pub mod import;
pub mod meals;
pub mod number;
pub mod purchase;
pub mod record;
pub mod school_calendar;
pub mod site;
pub mod signal;
pub mod sync;
pub mod text;
pub mod territory;
pub mod territory_api;
pub mod time;
pub mod validation;
pub mod waste;
