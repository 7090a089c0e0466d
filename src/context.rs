//! App-wide state, provided once by the shell and read with `expect_context::<AppContext>()`.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::storage::{Repository, StorageError};
use assiette_domain::site::{ManagementType, ProductionType};
use assiette_domain::waste::WasteFactors;

/// Key of the site profile in the settings store.
pub const PROFILE_KEY: &str = "site_profile";

/// What this tablet knows of its canteen. Created locally on first start (so entry works at
/// once, before any enrolment); enrolment later fills the server's identifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteProfile {
    pub site_id: Uuid,
    pub name: String,
    #[serde(default)]
    pub siret: String,
    pub daily_meal_count: u32,
    #[serde(default)]
    pub yearly_meal_count: u32,
    pub management_type: ManagementType,
    pub production_type: ProductionType,
    #[serde(default)]
    pub factors: WasteFactors,
    /// The site's own baseline g/meal (first diagnostic), for the chart's reference line.
    #[serde(default)]
    pub baseline_grams_per_meal: Option<f64>,
}

impl SiteProfile {
    pub fn new_local() -> Self {
        Self {
            site_id: Uuid::now_v7(),
            name: "Ma cantine".to_owned(),
            siret: String::new(),
            daily_meal_count: 100,
            yearly_meal_count: 14_000,
            management_type: ManagementType::Direct,
            production_type: ProductionType::Site,
            factors: WasteFactors::default(),
            baseline_grams_per_meal: None,
        }
    }
}

#[derive(Clone, Copy)]
pub struct AppContext {
    /// The open repository; `None` until opened (or when opening failed: see `storage_error`).
    pub repo: RwSignal<Option<Repository>, LocalStorage>,
    /// A blocking storage problem, in French; the shell shows it over everything.
    pub storage_error: RwSignal<Option<String>>,
    /// Entries saved here and not yet acknowledged by the server.
    pub outbox_len: RwSignal<u32>,
    /// Whether the browser granted persistent storage (`None` while asking).
    pub persisted: RwSignal<Option<bool>>,
    /// Last successful sync (RFC 3339), if any.
    pub last_sync: RwSignal<Option<String>>,
    /// A new version of the app is installed and waiting.
    pub update_available: RwSignal<bool>,
    pub profile: RwSignal<Option<SiteProfile>>,
    /// Bumped after every write so lists and charts re-read.
    pub data_version: RwSignal<u64>,
    /// The service date being worked on (Today screen), shared with History's "corriger".
    pub service_date: RwSignal<NaiveDate>,
}

impl AppContext {
    pub fn repo(&self) -> Option<Repository> {
        self.repo.get_untracked()
    }

    /// Call after any successful write: refreshes the outbox count and every reader.
    pub fn after_write(&self) {
        self.data_version.update(|v| *v += 1);
        crate::sync::dispatch(crate::sync::machine::Event::Saved);
        let ctx = *self;
        leptos::task::spawn_local(async move { ctx.refresh_outbox().await });
    }

    pub async fn refresh_outbox(&self) {
        if let Some(repo) = self.repo() {
            match repo.outbox_len().await {
                Ok(n) => self.outbox_len.set(n),
                Err(e) => self.report(e),
            }
        }
    }

    /// Surfaces a storage error that blocks further work.
    pub fn report(&self, e: StorageError) {
        self.storage_error.set(Some(e.message_fr()));
    }
}

pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}
