//! What a tablet knows of its canteen (stored in its settings, carried by its backups).

use assiette_domain::site::{ManagementType, ProductionType};
use assiette_domain::waste::WasteFactors;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
