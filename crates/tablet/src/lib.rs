//! The app's pure logic (no browser, no network, no clock): the app runs
//! them in the browser, `cargo test` runs them on the host, and the server's tests can drive a
//! simulated tablet with the same rules.
//!
//! - [`machine`]: when to sync (events in, a command out).
//! - [`push`]: the push body, batches that fit the server's limits, and what to do with a batch
//!   the server refuses whole (split on 413, isolate the unreadable entry on 422).
//! - [`outbox`]: what each entry becomes once the server has answered (delete, review, retry).
//! - [`pull`]: which pulled records may be stored.
//! - [`backup`]: the tablet's backup file, read and checked, and what importing it would write.
//! - [`profile`]: what the tablet knows of its canteen.
//! - [`chart_data`]: what the charts show, laid out, with their French text alternatives.
//! - [`purchases`]: the manager's purchase screens: scope, filters and sums, the entry form,
//!   duplicate / delete / undo, the import's preview and error list.

pub mod backup;
pub mod chart_data;
pub mod machine;
pub mod outbox;
pub mod profile;
pub mod pull;
pub mod purchases;
pub mod push;

/// The IndexedDB stores of the records, by kind: an outbox entry names its record's store.
pub mod stores {
    pub const MEAL_COUNTS: &str = "meal_counts";
    pub const WEIGHINGS: &str = "weighings";
    pub const PURCHASES: &str = "purchases";
}
