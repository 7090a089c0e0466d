//! Communes and canteens (sites), with the national platform's codes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::record::RecordMeta;
use crate::validation::Validation;

/// Above this a daily count is a typing error, not a canteen (the whole metropolis serves
/// about 15 300 school meals a day; the largest French central kitchens, a few tens of thousands).
pub const MAX_DAILY_MEAL_COUNT: u32 = 100_000;

/// True when `s` is 14 ASCII digits passing the Luhn check. La Poste's establishments
/// (SIREN 356 000 000) use instead "sum of the digits divisible by 5", as INSEE documents.
pub fn siret_is_valid(s: &str) -> bool {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if luhn_ok(s) {
        return true;
    }
    s.starts_with("356000000")
        && s.bytes()
            .map(|b| u32::from(b - b'0'))
            .sum::<u32>()
            .is_multiple_of(5)
}

/// True when `s` is 9 ASCII digits passing the Luhn check (a company or EPCI SIREN).
pub fn siren_is_valid(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) && luhn_ok(s)
}

/// Luhn: from the right, every second digit doubled (minus 9 above 9); the sum ends in 0.
fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Removes the spaces, dots and no-break spaces people and spreadsheets put in a SIRET.
pub fn normalize_siret(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '\u{202F}')
        .collect()
}

/// True for a commune's INSEE code (code officiel géographique): 5 characters, département
/// 01–95 (2A/2B in Corsica, never 20) or overseas 97x/98x, then the commune number (not 000).
pub fn insee_code_is_valid(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 5 || !code.is_ascii() {
        return false;
    }
    let tail_digits = b[2..].iter().all(u8::is_ascii_digit);
    if !tail_digits || &code[2..] == "000" {
        return false;
    }
    match &code[..2] {
        "2A" | "2B" => true,
        dep if dep.bytes().all(|c| c.is_ascii_digit()) => {
            let n: u32 = dep.parse().unwrap_or(0);
            (1..=95).contains(&n) && n != 20 || n == 97 || n == 98
        }
        _ => false,
    }
}

/// A commune (the local authority responsible for school catering).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commune {
    /// INSEE code, e.g. "76351" (Le Havre).
    pub insee_code: String,
    pub name: String,
}

impl Commune {
    pub fn validate(&self) -> Validation {
        let mut v = Validation::default();
        check_insee(&mut v, "insee_code", &self.insee_code);
        if self.name.trim().is_empty() {
            v.error("name", "Saisissez le nom de la commune.");
        }
        crate::text::check_text(&mut v, "name", &self.name, "Le nom de la commune", crate::text::MAX_COMMUNE_NAME_CHARS);
        v
    }

    /// The EGalim region group of the commune, when its code tells it.
    pub fn region_group(&self) -> Option<RegionGroup> {
        RegionGroup::for_insee_code(&self.insee_code)
    }
}

fn check_insee(v: &mut Validation, field: &str, code: &str) {
    if code.trim().is_empty() {
        v.error(
            field,
            "Saisissez le code INSEE de la commune (5 caractères, par exemple 76351).",
        );
    } else if !insee_code_is_valid(code) {
        v.error(
            field,
            format!(
                "Le code INSEE « {} » n'est pas valide : 5 caractères, par exemple 76351 (ou 2A004 en Corse).",
                crate::text::excerpt(code, 20)
            ),
        );
    }
}

/// How the canteen is run (ma cantine `management_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManagementType {
    /// Directe / autogérée.
    Direct,
    /// Concédée: run by a contractor.
    Conceded,
}
crate::code_enum!(ManagementType { Direct => "direct", Conceded => "conceded" });

impl ManagementType {
    pub const ALL: [ManagementType; 2] = [ManagementType::Direct, ManagementType::Conceded];
    pub fn label(self) -> &'static str {
        match self {
            ManagementType::Direct => "Directe (autogérée)",
            ManagementType::Conceded => "Concédée (prestataire)",
        }
    }
}

/// Where meals are cooked (ma cantine `production_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductionType {
    /// Cuisine sur place.
    Site,
    /// Restaurant satellite: meals delivered by a central kitchen.
    SiteCookedElsewhere,
    /// Central kitchen with its satellites.
    Groupe,
}
crate::code_enum!(ProductionType { Site => "site", SiteCookedElsewhere => "site_cooked_elsewhere", Groupe => "groupe" });

impl ProductionType {
    pub const ALL: [ProductionType; 3] = [
        ProductionType::Site,
        ProductionType::SiteCookedElsewhere,
        ProductionType::Groupe,
    ];
    pub fn label(self) -> &'static str {
        match self {
            ProductionType::Site => "Cuisine sur place",
            ProductionType::SiteCookedElsewhere => "Restaurant satellite (repas livrés)",
            ProductionType::Groupe => "Cuisine centrale et ses satellites",
        }
    }

    /// Whether cooking happens here, so that preparation losses can exist.
    pub fn cooks_on_site(self) -> bool {
        !matches!(self, ProductionType::SiteCookedElsewhere)
    }
}

/// School sectors (ma cantine sector codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sector {
    /// Maternelle + élémentaire.
    EducationPrimaire,
    EducationSecondaireCollege,
    EducationSecondaireLycee,
}
crate::code_enum!(Sector { EducationPrimaire => "education_primaire", EducationSecondaireCollege => "education_secondaire_college", EducationSecondaireLycee => "education_secondaire_lycee" });

impl Sector {
    pub const ALL: [Sector; 3] = [
        Sector::EducationPrimaire,
        Sector::EducationSecondaireCollege,
        Sector::EducationSecondaireLycee,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Sector::EducationPrimaire => "École primaire (maternelle et élémentaire)",
            Sector::EducationSecondaireCollege => "Collège",
            Sector::EducationSecondaireLycee => "Lycée",
        }
    }
}

/// Region group deciding the EGalim thresholds (Code rural, art. L230-5-1 and its decree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RegionGroup {
    /// France métropolitaine: bio 20 %, EGalim 50 %.
    #[default]
    Mainland,
    /// Guadeloupe, Martinique, Guyane, La Réunion, Saint-Martin: 5 % / 20 %.
    AntillesGuyaneReunionSaintMartin,
    /// Mayotte: 2 % / 5 %.
    Mayotte,
    /// Saint-Pierre-et-Miquelon: 10 % / 30 %.
    SaintPierreEtMiquelon,
}
crate::code_enum!(RegionGroup { Mainland => "mainland", AntillesGuyaneReunionSaintMartin => "antilles_guyane_reunion_saint_martin", Mayotte => "mayotte", SaintPierreEtMiquelon => "saint_pierre_et_miquelon" });

/// Minimum shares of the yearly purchase value, in whole percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgalimThresholds {
    pub bio_percent: u32,
    pub egalim_percent: u32,
}

impl RegionGroup {
    pub const ALL: [RegionGroup; 4] = [
        RegionGroup::Mainland,
        RegionGroup::AntillesGuyaneReunionSaintMartin,
        RegionGroup::Mayotte,
        RegionGroup::SaintPierreEtMiquelon,
    ];

    pub fn thresholds(&self) -> EgalimThresholds {
        let (bio_percent, egalim_percent) = match self {
            RegionGroup::Mainland => (20, 50),
            RegionGroup::AntillesGuyaneReunionSaintMartin => (5, 20),
            RegionGroup::Mayotte => (2, 5),
            RegionGroup::SaintPierreEtMiquelon => (10, 30),
        };
        EgalimThresholds {
            bio_percent,
            egalim_percent,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RegionGroup::Mainland => "France métropolitaine",
            RegionGroup::AntillesGuyaneReunionSaintMartin => {
                "Guadeloupe, Martinique, Guyane, La Réunion, Saint-Martin"
            }
            RegionGroup::Mayotte => "Mayotte",
            RegionGroup::SaintPierreEtMiquelon => "Saint-Pierre-et-Miquelon",
        }
    }

    /// The group a commune belongs to, from its INSEE code. `None` for an invalid code and
    /// for territories the EGalim thresholds do not name (Saint-Barthélemy 977, Pacific 98x):
    /// the user must then choose.
    pub fn for_insee_code(code: &str) -> Option<RegionGroup> {
        if !insee_code_is_valid(code) {
            return None;
        }
        match &code[..3] {
            "971" | "972" | "973" | "974" | "978" => {
                Some(RegionGroup::AntillesGuyaneReunionSaintMartin)
            }
            "975" => Some(RegionGroup::SaintPierreEtMiquelon),
            "976" => Some(RegionGroup::Mayotte),
            p if p.starts_with("97") || p.starts_with("98") => None,
            _ => Some(RegionGroup::Mainland),
        }
    }
}

/// A canteen ("cantine", ma cantine's Canteen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub meta: RecordMeta,
    pub name: String,
    /// 14 digits, Luhn-checked; stored without spaces (see [`normalize_siret`]).
    pub siret: String,
    /// INSEE code of the commune where the canteen is.
    pub city_insee_code: String,
    pub management_type: ManagementType,
    pub production_type: ProductionType,
    pub sectors: Vec<Sector>,
    /// Meals served on an ordinary service day.
    pub daily_meal_count: u32,
    /// Meals per year, delivered meals included.
    pub yearly_meal_count: u32,
    #[serde(default)]
    pub region_group: RegionGroup,
    /// SIRET of the central kitchen delivering a satellite (ma cantine `central_producer_siret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub central_producer_siret: Option<String>,
}

impl Site {
    pub fn id(&self) -> Uuid {
        self.meta.id
    }

    pub fn thresholds(&self) -> EgalimThresholds {
        self.region_group.thresholds()
    }

    /// Errors refuse the record; warnings ask for confirmation.
    pub fn validate(&self) -> Validation {
        let mut v = Validation::default();
        if self.name.trim().is_empty() {
            v.error("name", "Saisissez le nom du restaurant.");
        } else {
            crate::text::check_text(&mut v, "name", &self.name, "Le nom du restaurant", crate::text::MAX_SITE_NAME_CHARS);
        }
        check_siret(&mut v, "siret", &self.siret, "du restaurant");
        check_insee(&mut v, "city_insee_code", &self.city_insee_code);
        if self.sectors.is_empty() {
            v.error(
                "sectors",
                "Choisissez au moins un secteur (école primaire, collège ou lycée).",
            );
        } else {
            let mut seen = self.sectors.clone();
            seen.sort();
            seen.dedup();
            if seen.len() != self.sectors.len() {
                v.error(
                    "sectors",
                    "Un secteur est choisi deux fois : retirez le doublon.",
                );
            }
        }
        if self.daily_meal_count == 0 {
            v.error(
                "daily_meal_count",
                "Saisissez le nombre de repas servis par jour (supérieur à 0).",
            );
        } else if self.daily_meal_count > MAX_DAILY_MEAL_COUNT {
            v.error(
                "daily_meal_count",
                format!("Nombre de repas par jour impossible (plus de {MAX_DAILY_MEAL_COUNT}) : vérifiez la saisie."),
            );
        }
        if self.yearly_meal_count == 0 {
            v.error(
                "yearly_meal_count",
                "Saisissez le nombre de repas servis par an (supérieur à 0).",
            );
        } else if self.daily_meal_count > 0 && self.yearly_meal_count < self.daily_meal_count {
            v.error(
                "yearly_meal_count",
                format!(
                    "Le nombre de repas par an ({}) doit être au moins égal au nombre de repas par jour ({}).",
                    self.yearly_meal_count, self.daily_meal_count
                ),
            );
        } else if u64::from(self.yearly_meal_count) > u64::from(self.daily_meal_count) * 365 {
            v.warn(
                "yearly_meal_count",
                "yearly_over_365_days",
                format!(
                    "{} repas par an, c'est plus de 365 jours à {} repas par jour : vérifiez les deux nombres.",
                    self.yearly_meal_count, self.daily_meal_count
                ),
            );
        }
        match (&self.central_producer_siret, self.production_type) {
            (Some(s), ProductionType::SiteCookedElsewhere) => {
                check_siret(&mut v, "central_producer_siret", s, "de la cuisine centrale");
                if *s == self.siret {
                    v.error(
                        "central_producer_siret",
                        "Le SIRET de la cuisine centrale doit être différent de celui du restaurant satellite.",
                    );
                }
            }
            (Some(_), _) => v.error(
                "central_producer_siret",
                "Le SIRET d'une cuisine centrale ne se saisit que pour un restaurant satellite : retirez-le ou changez le mode de production.",
            ),
            (None, ProductionType::SiteCookedElsewhere) => v.warn(
                "central_producer_siret",
                "central_producer_siret_missing",
                "Restaurant satellite : indiquez le SIRET de la cuisine centrale qui livre les repas.",
            ),
            (None, _) => {}
        }
        if let Some(expected) = RegionGroup::for_insee_code(&self.city_insee_code) {
            if expected != self.region_group {
                v.warn(
                    "region_group",
                    "region_group_differs_from_commune",
                    format!(
                        "Le code INSEE {} correspond à « {} », mais le restaurant est rattaché à « {} » : les seuils EGalim diffèrent.",
                        self.city_insee_code,
                        expected.label(),
                        self.region_group.label()
                    ),
                );
            }
        }
        v
    }
}

pub(crate) fn check_siret(v: &mut Validation, field: &str, siret: &str, whose: &str) {
    if siret.trim().is_empty() {
        v.error(field, format!("Saisissez le SIRET {whose} (14 chiffres)."));
    } else if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
        v.error(
            field,
            format!(
                "Le SIRET {whose} doit comporter exactement 14 chiffres, sans espace ni lettre (saisi : « {} »).",
                crate::text::excerpt(siret, 40)
            ),
        );
    } else if !siret_is_valid(siret) {
        v.error(field, format!("Le SIRET {whose} « {siret} » n'est pas valide (clé de contrôle) : vérifiez chaque chiffre."));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;

    fn meta() -> RecordMeta {
        RecordMeta::new(
            Uuid::from_u128(1),
            DateTime::<Utc>::from_timestamp(1_772_000_000, 0).unwrap(),
        )
    }

    fn site() -> Site {
        Site {
            meta: meta(),
            name: "École Jules Ferry".into(),
            siret: "21010034300016".into(),
            city_insee_code: "76351".into(),
            management_type: ManagementType::Direct,
            production_type: ProductionType::Site,
            sectors: vec![Sector::EducationPrimaire],
            daily_meal_count: 200,
            yearly_meal_count: 28_000,
            region_group: RegionGroup::Mainland,
            central_producer_siret: None,
        }
    }

    fn fields(v: &Validation) -> Vec<&str> {
        v.errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn luhn_siret_and_siren() {
        // Fixture SIRET of the national platform; 732 829 320 00074 (a well-known valid one).
        assert!(siret_is_valid("21010034300016"));
        assert!(siret_is_valid("73282932000074"));
        assert!(!siret_is_valid("73282932000075"));
        assert!(!siret_is_valid("21010034300017"));
        assert!(!siret_is_valid("2101003430001"));
        assert!(!siret_is_valid("2101003430001a"));
        assert!(!siret_is_valid("210100343000160"));
        assert!(siren_is_valid("200084952"), "Le Havre Seine Métropole");
        assert!(siren_is_valid("732829320"));
        assert!(!siren_is_valid("732829321"));
    }

    #[test]
    fn la_poste_sirets_use_digit_sum() {
        // 356000000 + 00048: head office, passes Luhn; 35600000012346: digit sum 30, not Luhn.
        assert!(siret_is_valid("35600000000048"));
        assert!(!luhn_ok("35600000012346"));
        assert!(siret_is_valid("35600000012346"));
        // Digit sum 29, not Luhn.
        assert!(!siret_is_valid("35600000012345"));
        // The rule is La Poste's only.
        assert!(!siret_is_valid("35600000112345"));
    }

    #[test]
    fn normalizes_siret() {
        assert_eq!(normalize_siret(" 210 100 343 00016 "), "21010034300016");
        assert_eq!(normalize_siret("210.100.343.00016"), "21010034300016");
        assert_eq!(
            normalize_siret("210\u{202F}100\u{A0}343 00016"),
            "21010034300016"
        );
    }

    #[test]
    fn insee_codes() {
        for ok in [
            "76351", "2A004", "2B033", "01001", "97101", "97502", "97611", "95690", "98735",
        ] {
            assert!(insee_code_is_valid(ok), "{ok}");
        }
        for bad in [
            "7635", "763510", "76000", "20004", "00123", "96001", "2C004", "2a004", "7635a", "",
            "99123",
        ] {
            assert!(!insee_code_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn commune_validation() {
        let c = Commune {
            insee_code: "76351".into(),
            name: "Le Havre".into(),
        };
        assert!(c.validate().is_ok());
        assert_eq!(c.region_group(), Some(RegionGroup::Mainland));
        let c = Commune {
            insee_code: "7635".into(),
            name: " ".into(),
        };
        let v = c.validate();
        assert_eq!(fields(&v), vec!["insee_code", "name"]);
        assert!(v.errors[0].message.contains("« 7635 »"));
        let c = Commune {
            insee_code: "".into(),
            name: "X".into(),
        };
        assert!(c.validate().errors[0]
            .message
            .contains("Saisissez le code INSEE"));
    }

    #[test]
    fn thresholds_per_region_group() {
        let t = |g: RegionGroup| {
            let t = g.thresholds();
            (t.bio_percent, t.egalim_percent)
        };
        assert_eq!(t(RegionGroup::Mainland), (20, 50));
        assert_eq!(t(RegionGroup::AntillesGuyaneReunionSaintMartin), (5, 20));
        assert_eq!(t(RegionGroup::Mayotte), (2, 5));
        assert_eq!(t(RegionGroup::SaintPierreEtMiquelon), (10, 30));
        assert_eq!(
            site().thresholds(),
            EgalimThresholds {
                bio_percent: 20,
                egalim_percent: 50
            }
        );
    }

    #[test]
    fn region_group_from_insee() {
        assert_eq!(
            RegionGroup::for_insee_code("76351"),
            Some(RegionGroup::Mainland)
        );
        assert_eq!(
            RegionGroup::for_insee_code("2A004"),
            Some(RegionGroup::Mainland)
        );
        assert_eq!(
            RegionGroup::for_insee_code("97411"),
            Some(RegionGroup::AntillesGuyaneReunionSaintMartin)
        );
        assert_eq!(
            RegionGroup::for_insee_code("97801"),
            Some(RegionGroup::AntillesGuyaneReunionSaintMartin)
        );
        assert_eq!(
            RegionGroup::for_insee_code("97611"),
            Some(RegionGroup::Mayotte)
        );
        assert_eq!(
            RegionGroup::for_insee_code("97502"),
            Some(RegionGroup::SaintPierreEtMiquelon)
        );
        assert_eq!(RegionGroup::for_insee_code("97701"), None);
        assert_eq!(RegionGroup::for_insee_code("98735"), None);
        assert_eq!(RegionGroup::for_insee_code("xx"), None);
    }

    #[test]
    fn serde_codes_are_national() {
        let j = serde_json::to_value(site()).unwrap();
        assert_eq!(j["management_type"], "direct");
        assert_eq!(j["production_type"], "site");
        assert_eq!(j["sectors"][0], "education_primaire");
        assert_eq!(j["region_group"], "mainland");
        assert_eq!(
            serde_json::to_value(ProductionType::SiteCookedElsewhere).unwrap(),
            "site_cooked_elsewhere"
        );
        assert_eq!(
            serde_json::to_value(ProductionType::Groupe).unwrap(),
            "groupe"
        );
        assert_eq!(
            serde_json::to_value(ManagementType::Conceded).unwrap(),
            "conceded"
        );
        assert_eq!(
            serde_json::to_value(Sector::EducationSecondaireCollege).unwrap(),
            "education_secondaire_college"
        );
        assert_eq!(
            serde_json::to_value(Sector::EducationSecondaireLycee).unwrap(),
            "education_secondaire_lycee"
        );
        assert_eq!(
            serde_json::to_value(RegionGroup::AntillesGuyaneReunionSaintMartin).unwrap(),
            "antilles_guyane_reunion_saint_martin"
        );
        let back: Site = serde_json::from_value(j).unwrap();
        assert_eq!(back, site());
    }

    #[test]
    fn valid_site_passes() {
        let v = site().validate();
        assert!(v.is_ok() && v.warnings.is_empty(), "{v:?}");
    }

    #[test]
    fn site_required_fields_and_siret() {
        let mut s = site();
        s.name = "  ".into();
        s.siret = "".into();
        s.sectors.clear();
        s.daily_meal_count = 0;
        s.yearly_meal_count = 0;
        let v = s.validate();
        assert_eq!(
            fields(&v),
            vec![
                "name",
                "siret",
                "sectors",
                "daily_meal_count",
                "yearly_meal_count"
            ]
        );
        s = site();
        s.siret = "210 100 343 00016".into();
        assert!(s.validate().errors[0]
            .message
            .contains("exactement 14 chiffres"));
        s.siret = "21010034300017".into();
        assert!(s.validate().errors[0].message.contains("clé de contrôle"));
        s = site();
        s.sectors = vec![Sector::EducationPrimaire, Sector::EducationPrimaire];
        assert!(s.validate().errors[0].message.contains("deux fois"));
        s = site();
        s.daily_meal_count = MAX_DAILY_MEAL_COUNT + 1;
        s.yearly_meal_count = MAX_DAILY_MEAL_COUNT * 100;
        let v = s.validate();
        assert_eq!(fields(&v), vec!["daily_meal_count"]);
        assert!(v.errors[0].message.contains("impossible"));
    }

    #[test]
    fn yearly_count_against_daily() {
        let mut s = site();
        s.yearly_meal_count = 199;
        let v = s.validate();
        assert_eq!(fields(&v), vec!["yearly_meal_count"]);
        assert!(v.errors[0].message.contains("(199)") && v.errors[0].message.contains("(200)"));
        s.yearly_meal_count = 200;
        assert!(s.validate().is_ok());
        s.yearly_meal_count = 200 * 365;
        assert!(s.validate().warnings.is_empty());
        s.yearly_meal_count = 200 * 365 + 1;
        let v = s.validate();
        assert!(v.is_ok());
        assert_eq!(v.warnings[0].code, "yearly_over_365_days");
    }

    #[test]
    fn central_producer_siret_rules() {
        let mut s = site();
        s.production_type = ProductionType::SiteCookedElsewhere;
        assert_eq!(
            s.validate().warnings[0].code,
            "central_producer_siret_missing"
        );
        s.central_producer_siret = Some("73282932000074".into());
        let v = s.validate();
        assert!(v.is_ok() && v.warnings.is_empty());
        s.central_producer_siret = Some("73282932000075".into());
        assert_eq!(fields(&s.validate()), vec!["central_producer_siret"]);
        s.central_producer_siret = Some(s.siret.clone());
        assert!(s.validate().errors[0].message.contains("différent"));
        s.production_type = ProductionType::Site;
        s.central_producer_siret = Some("73282932000074".into());
        assert!(s.validate().errors[0].message.contains("satellite"));
        assert!(!ProductionType::SiteCookedElsewhere.cooks_on_site());
        assert!(ProductionType::Groupe.cooks_on_site());
    }

    #[test]
    fn region_group_mismatch_warns() {
        let mut s = site();
        s.city_insee_code = "97411".into();
        let v = s.validate();
        assert!(v.is_ok());
        assert_eq!(v.warnings[0].code, "region_group_differs_from_commune");
        s.region_group = RegionGroup::AntillesGuyaneReunionSaintMartin;
        assert!(s.validate().warnings.is_empty());
    }

    /// Appends the Luhn check digit to 13 digits.
    fn with_check_digit(body: &str) -> String {
        (0..10)
            .map(|d| format!("{body}{d}"))
            .find(|s| luhn_ok(s))
            .unwrap()
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_is_valid(body in "[0-9]{13}") {
            prop_assume!(!body.starts_with("356000000"));
            let valid = (0..10).filter(|d| siret_is_valid(&format!("{body}{d}"))).count();
            prop_assert_eq!(valid, 1);
            prop_assert!(siret_is_valid(&with_check_digit(&body)));
        }

        #[test]
        fn single_digit_typo_is_caught(body in "[0-9]{13}", pos in 0usize..14, delta in 1u8..10) {
            prop_assume!(!body.starts_with("356000000"));
            let good = with_check_digit(&body);
            let mut bytes = good.clone().into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let typo = String::from_utf8(bytes).unwrap();
            prop_assume!(!typo.starts_with("356000000"));
            prop_assert!(!siret_is_valid(&typo));
        }
    }
}
