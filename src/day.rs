//! One service day as the pages see it: its meal count and its live weighings.

use assiette_domain::meals::DailyMealCount;
use assiette_domain::waste::{DateRange, Stage, WasteIndicators, Weighing};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::storage::{Repository, StorageError};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayData {
    /// The day's count (the latest one if several tablets each made one).
    pub meal_count: Option<DailyMealCount>,
    /// Live weighings, oldest first. (Undoing a deletion uses the row just deleted, kept by the
    /// list itself: the day's deleted weighings are not needed.)
    pub weighings: Vec<Weighing>,
    /// Stored rows of the day that could not be read (skipped).
    pub unreadable: u32,
}

impl DayData {
    pub async fn load(repo: &Repository, site_id: Uuid, date: NaiveDate) -> Result<Self, StorageError> {
        let counts = repo.between_dates::<DailyMealCount>(date, date).await?;
        let weighings = repo.between_dates::<Weighing>(date, date).await?;
        let unreadable = counts.unreadable + weighings.unreadable;
        Ok(Self { unreadable, ..Self::from_records(site_id, counts.rows, weighings.rows) })
    }

    pub fn from_records(site_id: Uuid, counts: Vec<DailyMealCount>, weighings: Vec<Weighing>) -> Self {
        let meal_count = counts
            .into_iter()
            .filter(|c| c.site_id == site_id && !c.meta.deleted)
            .max_by(|a, b| a.meta.modified_at.cmp(&b.meta.modified_at));
        let mut live: Vec<Weighing> = weighings.into_iter().filter(|w| w.site_id == site_id && !w.meta.deleted).collect();
        // UUID v7 ids are time-ordered: creation order.
        live.sort_by_key(|w| w.meta.id);
        Self { meal_count, weighings: live, unreadable: 0 }
    }

    /// Grams weighed per stage, every stage listed.
    pub fn stage_totals(&self) -> Vec<(Stage, u64)> {
        Stage::ALL
            .iter()
            .map(|s| (*s, self.weighings.iter().filter(|w| w.stage == *s && w.counts_as_waste()).map(|w| w.mass_grams).sum()))
            .collect()
    }

    pub fn indicators(&self, date: NaiveDate) -> WasteIndicators {
        let counts: Vec<DailyMealCount> = self.meal_count.iter().cloned().collect();
        WasteIndicators::compute(&counts, &self.weighings, DateRange::new(date, date))
    }
}

