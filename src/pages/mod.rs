pub mod charts;
pub mod dashboard;
pub mod history;
pub mod settings;
pub mod sync;
pub mod today;
