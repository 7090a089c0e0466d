//! Reusable pieces of the pages.
pub mod chart;
pub mod copy_button;
pub mod field_error;
pub mod purchase_export;
pub mod waste_declaration;
