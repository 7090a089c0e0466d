//! What was typed on the Today screen and not saved yet, kept in localStorage (gloo-storage)
//! per canteen and service day until it is saved or cancelled: a reload, a save elsewhere on
//! the screen or a re-read of the day never wipes a field. Records themselves live in
//! IndexedDB; a draft is only the text of the fields.

use assiette_domain::waste::{Destination, Stage, Weighing};
use chrono::NaiveDate;
use gloo_storage::{LocalStorage, Storage};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

/// The meal count fields a person typed in; `None`: not touched, the stored value shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MealDraft {
    pub planned: Option<String>,
    pub served_children: Option<String>,
    pub served_adults: Option<String>,
}

impl MealDraft {
    pub fn is_empty(&self) -> bool {
        self.planned.is_none() && self.served_children.is_none() && self.served_adults.is_none()
    }
}

/// The weighing form as it stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeighingDraft {
    pub stage: Option<Stage>,
    /// The DOM code of the component choice (« tout » for a weighing of all components).
    pub component: Option<String>,
    pub mass: String,
    pub edible: String,
    pub inedible: String,
    pub destination: Option<Destination>,
    /// The weighing being corrected, as it was when « Modifier » was tapped.
    pub editing: Option<Weighing>,
}

fn key(kind: &str, site: Uuid, date: NaiveDate) -> String {
    format!("assiette.brouillon.{kind}.{site}.{date}")
}

fn load<T: DeserializeOwned + Default>(kind: &str, site: Uuid, date: NaiveDate) -> T {
    LocalStorage::get(key(kind, site, date)).unwrap_or_default()
}

/// Writes a draft; an empty one is removed. Best effort: when the browser refuses (storage
/// full), the fields on screen still hold the text and saving goes to IndexedDB as usual.
fn store<T: Serialize + Default + PartialEq>(kind: &str, site: Uuid, date: NaiveDate, draft: &T) {
    if *draft == T::default() {
        LocalStorage::delete(key(kind, site, date));
    } else {
        let _ = LocalStorage::set(key(kind, site, date), draft);
    }
}

pub fn load_meals(site: Uuid, date: NaiveDate) -> MealDraft {
    load("repas", site, date)
}

pub fn store_meals(site: Uuid, date: NaiveDate, draft: &MealDraft) {
    store("repas", site, date, draft)
}

pub fn load_weighing(site: Uuid, date: NaiveDate) -> WeighingDraft {
    load("pesee", site, date)
}

pub fn store_weighing(site: Uuid, date: NaiveDate, draft: &WeighingDraft) {
    store("pesee", site, date, draft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn drafts_are_kept_per_site_and_day_and_an_empty_draft_is_removed() {
        let site = Uuid::now_v7();
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let next = day.succ_opt().unwrap();
        let typed = MealDraft { planned: Some("130".into()), ..Default::default() };
        store_meals(site, day, &typed);
        assert_eq!(load_meals(site, day), typed);
        assert_eq!(load_meals(site, next), MealDraft::default(), "another day has its own draft");
        assert_eq!(load_meals(Uuid::now_v7(), day), MealDraft::default(), "another canteen too");
        store_meals(site, day, &MealDraft::default());
        assert!(LocalStorage::raw().get_item(&key("repas", site, day)).unwrap().is_none());
        let w = WeighingDraft { stage: Some(Stage::Leftovers), component: Some("dessert".into()), mass: "0,5".into(), ..Default::default() };
        store_weighing(site, day, &w);
        assert_eq!(load_weighing(site, day), w);
        store_weighing(site, day, &WeighingDraft::default());
        assert_eq!(load_weighing(site, day), WeighingDraft::default());
    }
}
