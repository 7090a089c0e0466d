pub mod charts;
pub mod history;
pub mod purchases;
pub mod settings;
pub mod sync;
pub mod today;
