pub mod charts;
pub mod dashboard;
pub mod history;
pub mod purchases;
pub mod settings;
pub mod sign_in;
pub mod sync;
pub mod today;
