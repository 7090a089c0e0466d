//! Reusable pieces of the pages.
pub mod chart;
pub mod chart_data;
pub mod field_error;
