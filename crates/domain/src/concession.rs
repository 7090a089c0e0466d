//! Communes in delegated management (« gestion concédée »): the catering contract, the guide's
//! steps (content in `content/gestion-concedee.json`), the deadlines the contract sets, and
//! the commune's checklist progress, which merges when two people tick offline.
//!
//! The national platform records only `management_type = conceded`: the contract, its dates
//! and its targets live here.


pub mod deadline;
pub mod guide;
pub mod document;
pub mod overview;
pub mod progress;
pub mod report;
pub mod sync;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::record::RecordMeta;
use crate::site::{check_siret, siren_is_valid, ManagementType, RegionGroup, Site};
use crate::text::check_text;
use crate::validation::Validation;

/// A caterer's name (company names stay well under this).
pub const MAX_CATERER_NAME_CHARS: usize = 200;
/// A committee member's name (« Mme Dupont, directrice de l'école Jules Ferry »).
pub const MAX_MEMBER_NAME_CHARS: usize = 150;
/// More members than this is a typing loop, not a menu committee.
pub const MAX_COMMITTEE_MEMBERS: usize = 50;
/// More sites than this is not one commune's contract (the metropolis has about 150 canteens).
pub const MAX_CONTRACT_SITES: usize = 500;
/// A waste target above this many grams per meal is a typo: a whole school meal weighs about
/// 400 g (the plausibility bound of weighings, [`crate::waste::PLAUSIBLE_MAX_GRAMS_PER_MEAL`]).
pub const MAX_WASTE_TARGET_GRAMS_PER_MEAL: u32 = crate::waste::PLAUSIBLE_MAX_GRAMS_PER_MEAL as u32;

/// The legal form of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContractType {
    /// « Marché public de prestation de services »: the commune pays the caterer per meal.
    ServicesContract,
    /// « Concession / délégation de service public (DSP) »: the delegate runs the service at
    /// its own risk and owes a yearly report.
    Concession,
}
crate::code_enum!(ContractType { ServicesContract => "marche_public", Concession => "dsp" });

impl ContractType {
    pub const ALL: [ContractType; 2] = [ContractType::ServicesContract, ContractType::Concession];

    pub fn label(self) -> &'static str {
        match self {
            ContractType::ServicesContract => "Marché public de prestation de services",
            ContractType::Concession => "Concession (délégation de service public, DSP)",
        }
    }
}

/// How often the contract makes the caterer send its purchase lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportingFrequency {
    Monthly,
    Quarterly,
    Yearly,
}
crate::code_enum!(ReportingFrequency { Monthly => "monthly", Quarterly => "quarterly", Yearly => "yearly" });

impl ReportingFrequency {
    pub const ALL: [ReportingFrequency; 3] = [ReportingFrequency::Monthly, ReportingFrequency::Quarterly, ReportingFrequency::Yearly];

    pub fn label(self) -> &'static str {
        match self {
            ReportingFrequency::Monthly => "Chaque mois",
            ReportingFrequency::Quarterly => "Chaque trimestre",
            ReportingFrequency::Yearly => "Chaque année",
        }
    }

    /// Months in one reporting period.
    pub fn months(self) -> u32 {
        match self {
            ReportingFrequency::Monthly => 1,
            ReportingFrequency::Quarterly => 3,
            ReportingFrequency::Yearly => 12,
        }
    }
}

/// A member's seat on the menu (monitoring) committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommitteeRole {
    ElectedMember,
    CommuneStaff,
    Parent,
    Caterer,
    Dietitian,
    Teacher,
    Other,
}
crate::code_enum!(CommitteeRole { ElectedMember => "elected_member", CommuneStaff => "commune_staff", Parent => "parent", Caterer => "caterer", Dietitian => "dietitian", Teacher => "teacher", Other => "other" });

impl CommitteeRole {
    pub const ALL: [CommitteeRole; 7] = [
        CommitteeRole::ElectedMember,
        CommitteeRole::CommuneStaff,
        CommitteeRole::Parent,
        CommitteeRole::Caterer,
        CommitteeRole::Dietitian,
        CommitteeRole::Teacher,
        CommitteeRole::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CommitteeRole::ElectedMember => "Élu ou élue",
            CommitteeRole::CommuneStaff => "Agent de la commune",
            CommitteeRole::Parent => "Parent d'élève",
            CommitteeRole::Caterer => "Prestataire",
            CommitteeRole::Dietitian => "Diététicien ou diététicienne",
            CommitteeRole::Teacher => "Enseignant ou enseignante",
            CommitteeRole::Other => "Autre",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeMember {
    pub name: String,
    pub role: CommitteeRole,
}

/// What the contract itself promises, beyond the law. `None`: the contract says nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTargets {
    /// Share of sustainable and quality products (EGalim), whole percent of the yearly
    /// purchase value excluding tax.
    #[serde(default)]
    pub egalim_percent: Option<u32>,
    /// Share of organic products, whole percent (part of the EGalim share).
    #[serde(default)]
    pub organic_percent: Option<u32>,
    /// Food waste the caterer must stay under, grams per meal.
    #[serde(default)]
    pub waste_grams_per_meal: Option<u32>,
    pub reporting_frequency: ReportingFrequency,
}

/// A commune's catering contract with its caterer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CateringContract {
    pub meta: RecordMeta,
    /// INSEE code of the commune that signed it.
    pub commune_insee_code: String,
    pub caterer_name: String,
    /// 9 digits, Luhn-checked, stored without spaces.
    pub caterer_siren: String,
    pub contract_type: ContractType,
    #[serde(with = "crate::time::date")]
    pub start_date: NaiveDate,
    /// Last day the contract runs.
    #[serde(with = "crate::time::date")]
    pub end_date: NaiveDate,
    /// SIRETs of the canteens the contract covers.
    pub site_sirets: Vec<String>,
    pub targets: ContractTargets,
    #[serde(default)]
    pub committee: Vec<CommitteeMember>,
}

impl CateringContract {
    pub fn id(&self) -> Uuid {
        self.meta.id
    }

    /// Errors refuse the record (French, naming the field and what to fix); warnings ask for
    /// confirmation.
    pub fn validate(&self) -> Validation {
        let mut v = Validation::default();
        if !crate::site::insee_code_is_valid(&self.commune_insee_code) {
            v.error(
                "commune_insee_code",
                format!("Le code INSEE de la commune « {} » n'est pas valide : 5 caractères, par exemple 76351.", crate::text::excerpt(&self.commune_insee_code, 20)),
            );
        }
        if self.caterer_name.trim().is_empty() {
            v.error("caterer_name", "Saisissez le nom du prestataire (sa raison sociale).");
        } else {
            check_text(&mut v, "caterer_name", &self.caterer_name, "Le nom du prestataire", MAX_CATERER_NAME_CHARS);
        }
        check_siren(&mut v, "caterer_siren", &self.caterer_siren);
        check_dates(&mut v, self.start_date, self.end_date);
        self.check_sites(&mut v);
        self.check_targets(&mut v);
        self.check_committee(&mut v);
        v
    }

    fn check_sites(&self, v: &mut Validation) {
        if self.site_sirets.is_empty() {
            v.warn(
                "site_sirets",
                "contract_without_site",
                "Aucun restaurant n'est rattaché au contrat : ajoutez les SIRET des restaurants qu'il couvre pour suivre leurs achats.",
            );
        }
        if self.site_sirets.len() > MAX_CONTRACT_SITES {
            v.error("site_sirets", format!("Le contrat compte {} restaurants : {MAX_CONTRACT_SITES} au plus, vérifiez la liste.", self.site_sirets.len()));
            return;
        }
        for (i, siret) in self.site_sirets.iter().enumerate() {
            check_siret(v, "site_sirets", siret, &format!("du restaurant n° {}", i + 1));
            if self.site_sirets[..i].contains(siret) {
                v.error("site_sirets", format!("Le SIRET {siret} est saisi deux fois : retirez le doublon."));
            }
        }
    }

    fn check_targets(&self, v: &mut Validation) {
        let t = &self.targets;
        for (field, value, what) in [("egalim_percent", t.egalim_percent, "L'objectif EGalim"), ("organic_percent", t.organic_percent, "L'objectif bio")] {
            if let Some(p) = value {
                if p > 100 {
                    v.error(field, format!("{what} du contrat ({p} %) doit être compris entre 0 et 100 % : corrigez le pourcentage."));
                }
            }
        }
        if let (Some(egalim), Some(organic)) = (t.egalim_percent, t.organic_percent) {
            if organic > egalim && egalim <= 100 && organic <= 100 {
                v.error(
                    "organic_percent",
                    format!("L'objectif bio ({organic} %) ne peut pas dépasser l'objectif EGalim ({egalim} %) : le bio compte dans la part EGalim."),
                );
            }
        }
        // A contract cannot promise less than the law: the commune stays answerable for it.
        if let Some(legal) = RegionGroup::for_insee_code(&self.commune_insee_code).map(|g| g.thresholds()) {
            if matches!(t.egalim_percent, Some(p) if p < legal.egalim_percent) {
                v.warn(
                    "egalim_percent",
                    "egalim_target_below_law",
                    format!("L'objectif EGalim du contrat est sous le minimum légal ({} %) : la commune reste tenue par la loi, vérifiez le contrat.", legal.egalim_percent),
                );
            }
            if matches!(t.organic_percent, Some(p) if p < legal.bio_percent) {
                v.warn(
                    "organic_percent",
                    "organic_target_below_law",
                    format!("L'objectif bio du contrat est sous le minimum légal ({} %) : la commune reste tenue par la loi, vérifiez le contrat.", legal.bio_percent),
                );
            }
        }
        match t.waste_grams_per_meal {
            Some(0) => v.error("waste_grams_per_meal", "L'objectif de gaspillage doit être supérieur à 0 g par repas : corrigez-le, ou laissez le champ vide si le contrat n'en fixe pas."),
            Some(g) if g > MAX_WASTE_TARGET_GRAMS_PER_MEAL => v.error(
                "waste_grams_per_meal",
                format!("Un objectif de {g} g de gaspillage par repas est impossible (un repas pèse environ {MAX_WASTE_TARGET_GRAMS_PER_MEAL} g) : vérifiez la saisie."),
            ),
            _ => {}
        }
    }

    fn check_committee(&self, v: &mut Validation) {
        if self.committee.len() > MAX_COMMITTEE_MEMBERS {
            v.error("committee", format!("Le comité compte {} membres : {MAX_COMMITTEE_MEMBERS} au plus.", self.committee.len()));
            return;
        }
        for (i, m) in self.committee.iter().enumerate() {
            if m.name.trim().is_empty() {
                v.error("committee", format!("Saisissez le nom du membre n° {} du comité, ou retirez la ligne.", i + 1));
            } else {
                check_text(v, "committee", &m.name, &format!("Le nom du membre n° {} du comité", i + 1), MAX_MEMBER_NAME_CHARS);
            }
        }
    }
}

impl CateringContract {
    /// Meals a day at the contract's sites together (what the guide's thresholds read), from
    /// the commune's sites; sites not found count 0.
    pub fn meals_per_day(&self, sites: &[Site]) -> u32 {
        let mut counted: Vec<&str> = Vec::new();
        sites
            .iter()
            .filter(|s| !s.meta.deleted && self.site_sirets.contains(&s.siret))
            .filter(|s| {
                // A site recorded twice (two revisions in a list) counts once.
                let new = !counted.contains(&s.siret.as_str());
                counted.push(&s.siret);
                new
            })
            .map(|s| s.daily_meal_count)
            .fold(0u32, u32::saturating_add)
    }

    /// Warnings comparing the contract with the commune's sites: a SIRET no site has, or a site
    /// recorded as self-run (its declaration on ma cantine would then be wrong).
    pub fn check_against_sites(&self, sites: &[Site]) -> Validation {
        let mut v = Validation::default();
        for siret in &self.site_sirets {
            match sites.iter().find(|s| !s.meta.deleted && &s.siret == siret) {
                None => v.warn(
                    "site_sirets",
                    "contract_site_unknown",
                    format!("Aucun restaurant de la commune n'a le SIRET {siret} : ajoutez le restaurant, ou vérifiez le numéro."),
                ),
                Some(site) if site.management_type != ManagementType::Conceded => v.warn(
                    "site_sirets",
                    "contract_site_not_conceded",
                    format!("Le restaurant « {} » est enregistré en gestion directe alors que le contrat le couvre : passez-le en gestion concédée.", site.name),
                ),
                Some(_) => {}
            }
        }
        v
    }
}

/// Checks a SIREN (company number): 9 digits passing the Luhn check.
pub(crate) fn check_siren(v: &mut Validation, field: &str, siren: &str) {
    if siren.trim().is_empty() {
        v.error(field, "Saisissez le SIREN du prestataire (9 chiffres, sur ses factures ou sur l'annuaire des entreprises).");
    } else if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
        v.error(
            field,
            format!("Le SIREN du prestataire doit comporter exactement 9 chiffres, sans espace ni lettre (saisi : « {} »).", crate::text::excerpt(siren, 40)),
        );
    } else if !siren_is_valid(siren) {
        v.error(field, format!("Le SIREN du prestataire « {siren} » n'est pas valide (clé de contrôle) : vérifiez chaque chiffre."));
    }
}

fn check_dates(v: &mut Validation, start: NaiveDate, end: NaiveDate) {
    use crate::number::format_fr_date;
    use crate::time::{EARLIEST_TIMESTAMP_YEAR as FIRST, LATEST_TIMESTAMP_YEAR as LAST};
    let mut in_range = true;
    for (field, date, what) in [("start_date", start, "de début"), ("end_date", end, "de fin")] {
        if !(FIRST..=LAST).contains(&date.year()) {
            v.error(field, format!("La date {what} du contrat ({}) doit être entre {FIRST} et {LAST} : vérifiez l'année.", format_fr_date(date)));
            in_range = false;
        }
    }
    if in_range && end <= start {
        v.error(
            "end_date",
            format!(
                "La date de fin du contrat ({}) doit être après sa date de début ({}) : corrigez l'une des deux dates.",
                format_fr_date(end),
                format_fr_date(start)
            ),
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    pub(crate) fn contract() -> CateringContract {
        CateringContract {
            meta: RecordMeta::new(Uuid::from_u128(7), DateTime::<Utc>::from_timestamp(1_772_000_000, 0).unwrap()),
            commune_insee_code: "76351".into(),
            caterer_name: "Restauration Normande SAS".into(),
            caterer_siren: "732829320".into(),
            contract_type: ContractType::ServicesContract,
            start_date: date(2024, 9, 1),
            end_date: date(2028, 8, 31),
            site_sirets: vec!["21010034300016".into(), "73282932000074".into()],
            targets: ContractTargets { egalim_percent: Some(55), organic_percent: Some(25), waste_grams_per_meal: Some(80), reporting_frequency: ReportingFrequency::Quarterly },
            committee: vec![CommitteeMember { name: "Mme Martin".into(), role: CommitteeRole::ElectedMember }],
        }
    }

    fn fields(v: &Validation) -> Vec<&str> {
        v.errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_complete_contract_passes() {
        let v = contract().validate();
        assert!(v.is_ok() && v.warnings.is_empty(), "{v:?}");
    }

    #[test]
    fn end_before_start_is_refused_naming_both_dates() {
        let mut c = contract();
        c.end_date = date(2024, 8, 31);
        let v = c.validate();
        assert_eq!(fields(&v), vec!["end_date"]);
        assert_eq!(v.errors[0].message, "La date de fin du contrat (31/08/2024) doit être après sa date de début (01/09/2024) : corrigez l'une des deux dates.");
        c.end_date = c.start_date;
        assert_eq!(fields(&c.validate()), vec!["end_date"]);
        c.end_date = date(2024, 9, 2);
        assert!(c.validate().is_ok());
        c.start_date = date(1999, 9, 1);
        assert_eq!(fields(&c.validate()), vec!["start_date"]);
        let mut c = contract();
        c.commune_insee_code = "7635".into();
        assert_eq!(fields(&c.validate()), vec!["commune_insee_code"]);
    }

    #[test]
    fn siren_failing_its_check_is_refused() {
        let mut c = contract();
        c.caterer_siren = "732829321".into();
        let v = c.validate();
        assert_eq!(fields(&v), vec!["caterer_siren"]);
        assert!(v.errors[0].message.contains("clé de contrôle") && v.errors[0].message.contains("732829321"), "{}", v.errors[0].message);
        c.caterer_siren = "732 829 320".into();
        assert!(c.validate().errors[0].message.contains("exactement 9 chiffres"));
        c.caterer_siren = "".into();
        assert!(c.validate().errors[0].message.starts_with("Saisissez le SIREN"));
        c.caterer_siren = "200084952".into();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn targets_outside_0_100_are_refused() {
        let mut c = contract();
        c.targets.egalim_percent = Some(101);
        let v = c.validate();
        assert_eq!(fields(&v), vec!["egalim_percent"]);
        assert_eq!(v.errors[0].message, "L'objectif EGalim du contrat (101 %) doit être compris entre 0 et 100 % : corrigez le pourcentage.");
        c.targets.egalim_percent = Some(100);
        c.targets.organic_percent = Some(150);
        assert_eq!(fields(&c.validate()), vec!["organic_percent"]);
        c.targets.organic_percent = Some(100);
        assert!(c.validate().is_ok());
        c.targets.egalim_percent = Some(60);
        let v = c.validate();
        assert_eq!(fields(&v), vec!["organic_percent"]);
        assert!(v.errors[0].message.contains("ne peut pas dépasser"));
        c.targets.waste_grams_per_meal = Some(0);
        c.targets.organic_percent = None;
        assert_eq!(fields(&c.validate()), vec!["waste_grams_per_meal"]);
        c.targets.waste_grams_per_meal = Some(MAX_WASTE_TARGET_GRAMS_PER_MEAL + 1);
        assert_eq!(fields(&c.validate()), vec!["waste_grams_per_meal"]);
        c.targets = ContractTargets { egalim_percent: None, organic_percent: None, waste_grams_per_meal: None, reporting_frequency: ReportingFrequency::Yearly };
        assert!(c.validate().is_ok(), "a contract may set no target");
    }

    #[test]
    fn targets_below_the_law_warn_per_region() {
        let mut c = contract();
        c.targets.egalim_percent = Some(40);
        c.targets.organic_percent = Some(15);
        let v = c.validate();
        assert!(v.is_ok());
        assert_eq!(v.warning_codes(), vec!["egalim_target_below_law", "organic_target_below_law"]);
        c.commune_insee_code = "97411".into(); // La Réunion: 20 % / 5 %
        assert!(c.validate().warnings.is_empty());
    }

    #[test]
    fn sites_and_committee() {
        let mut c = contract();
        c.site_sirets.push("21010034300016".into());
        c.site_sirets.push("21010034300017".into());
        let v = c.validate();
        assert_eq!(fields(&v), vec!["site_sirets", "site_sirets"]);
        assert!(v.errors[0].message.contains("deux fois"));
        assert!(v.errors[1].message.contains("du restaurant n° 4") && v.errors[1].message.contains("clé de contrôle"), "{}", v.errors[1].message);
        c.site_sirets.clear();
        assert_eq!(c.validate().warning_codes(), vec!["contract_without_site"]);
        c.committee.push(CommitteeMember { name: " ".into(), role: CommitteeRole::Parent });
        c.caterer_name = format!("Cuisine\u{202e}{}", "x".repeat(300));
        let v = c.validate();
        assert_eq!(fields(&v), vec!["caterer_name", "caterer_name", "committee"]);
        assert!(v.errors[2].message.contains("membre n° 2"));
    }

    fn site(siret: &str, meals: u32, management_type: ManagementType) -> Site {
        Site {
            meta: RecordMeta::new(Uuid::from_u128(siret.parse().unwrap()), DateTime::<Utc>::from_timestamp(1_772_000_000, 0).unwrap()),
            name: format!("École {siret}"),
            siret: siret.into(),
            city_insee_code: "76351".into(),
            management_type,
            production_type: crate::site::ProductionType::SiteCookedElsewhere,
            sectors: vec![crate::site::Sector::EducationPrimaire],
            daily_meal_count: meals,
            yearly_meal_count: meals * 140,
            region_group: RegionGroup::Mainland,
            central_producer_siret: None,
        }
    }

    #[test]
    fn meals_and_sites_from_the_commune_s_sites() {
        let c = contract();
        let sites = vec![
            site("21010034300016", 120, ManagementType::Conceded),
            site("73282932000074", 95, ManagementType::Direct),
            site("35600000000048", 1_000, ManagementType::Conceded),
        ];
        assert_eq!(c.meals_per_day(&sites), 215, "only the contract's sites");
        let mut twice = sites.clone();
        twice.push(sites[0].clone());
        assert_eq!(c.meals_per_day(&twice), 215, "a site listed twice counts once");
        let mut deleted = sites.clone();
        deleted[0].meta = deleted[0].meta.deleted(deleted[0].meta.modified_at);
        assert_eq!(c.meals_per_day(&deleted), 95);
        let v = c.check_against_sites(&sites);
        assert_eq!(v.warning_codes(), vec!["contract_site_not_conceded"]);
        assert!(v.warnings[0].message.contains("École 73282932000074"));
        assert_eq!(c.check_against_sites(&sites[..1]).warning_codes(), vec!["contract_site_unknown"]);
    }

    #[test]
    fn serde_round_trip_with_codes() {
        let mut c = contract();
        c.contract_type = ContractType::Concession;
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["contract_type"], "dsp");
        assert_eq!(j["start_date"], "2024-09-01");
        assert_eq!(j["targets"]["reporting_frequency"], "quarterly");
        assert_eq!(j["committee"][0]["role"], "elected_member");
        assert_eq!(serde_json::from_value::<CateringContract>(j).unwrap(), c);
        assert_eq!(serde_json::to_value(ContractType::ServicesContract).unwrap(), "marche_public");
    }
}
