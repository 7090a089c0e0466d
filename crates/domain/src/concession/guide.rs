//! The guide's steps as data: `content/gestion-concedee.json`, reviewed like code, the one
//! source for the app's pathway and its printed version. Every key is known (unknown keys are
//! refused, so a typo in the file fails the tests instead of vanishing).

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{CateringContract, ContractType};

/// The guide as shipped.
pub const GUIDE_JSON: &str = include_str!("../../content/gestion-concedee.json");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    /// Bumped when a step or checkpoint id changes meaning.
    pub version: u32,
    pub title: String,
    pub introduction: String,
    pub steps: Vec<Step>,
}

/// Who carries out a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    Commune,
    Caterer,
    Both,
    Metropolis,
}
crate::code_enum!(Actor { Commune => "commune", Caterer => "caterer", Both => "both", Metropolis => "metropolis" });

impl Actor {
    pub fn label(self) -> &'static str {
        match self {
            Actor::Commune => "La commune",
            Actor::Caterer => "Le prestataire",
            Actor::Both => "La commune et le prestataire",
            Actor::Metropolis => "La métropole",
        }
    }
}

/// When a step or a checkpoint applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Applicability {
    #[default]
    Always,
    /// Only for this type of contract.
    ContractType { contract_type: ContractType },
    /// Only when the sites covered serve more than `meals` meals a day.
    MealsPerDayAbove { meals: u32 },
}

impl Applicability {
    pub fn applies(self, contract_type: ContractType, meals_per_day: u32) -> bool {
        match self {
            Applicability::Always => true,
            Applicability::ContractType { contract_type: t } => t == contract_type,
            Applicability::MealsPerDayAbove { meals } => meals_per_day > meals,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Unique in the whole guide; ticks are stored under it.
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub applies: Applicability,
    /// Something to write into the next contract (listed in the clauses to put in the call
    /// for tenders), rather than something to check or do.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clause: bool,
}

/// A document to cite: title and year (of publication, or of the version consulted for a
/// code or a web page kept up to date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub year: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<u16>,
    /// Article numbers checked on the official text (« L. 230-5-1 »); unchecked ones are left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub articles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    /// 1 to 13, the order of the contract's life.
    pub number: u32,
    pub title: String,
    pub why: String,
    pub checkpoints: Vec<Checkpoint>,
    /// What to keep as proof (a note, a date, a file name or a link).
    pub proof: String,
    pub actor: Actor,
    pub sources: Vec<Source>,
    #[serde(default)]
    pub applies: Applicability,
}

/// A step that applies to a contract, with the checkpoints that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicableStep<'a> {
    pub step: &'a Step,
    pub checkpoints: Vec<&'a Checkpoint>,
}

/// Reads a guide and checks what serde cannot: ids (lower-case letters, digits, hyphens)
/// unique, steps numbered 1, 2, 3… in order, every step with a checkpoint and a source, no
/// empty text. The error says what is wrong, for whoever edits the file.
pub fn parse_guide(json: &str) -> Result<Guide, String> {
    let guide: Guide = serde_json::from_str(json).map_err(|e| format!("gestion-concedee.json: {e}"))?;
    let id_ok = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let mut ids = HashSet::new();
    for (i, step) in guide.steps.iter().enumerate() {
        let at = format!("step {}", step.id);
        if step.number as usize != i + 1 {
            return Err(format!("{at}: number {} where {} was expected", step.number, i + 1));
        }
        if !id_ok(&step.id) || !ids.insert(step.id.as_str()) {
            return Err(format!("{at}: id malformed or used twice"));
        }
        if step.checkpoints.is_empty() {
            return Err(format!("{at}: no checkpoint"));
        }
        if step.sources.is_empty() {
            return Err(format!("{at}: no source"));
        }
        let texts = [&step.title, &step.why, &step.proof].into_iter().chain(step.checkpoints.iter().map(|c| &c.text)).chain(step.sources.iter().map(|s| &s.title));
        for text in texts {
            if text.trim().is_empty() || crate::text::forbidden_char(text).is_some() {
                return Err(format!("{at}: empty text or text with a control character"));
            }
        }
        for c in &step.checkpoints {
            if !id_ok(&c.id) || !ids.insert(c.id.as_str()) {
                return Err(format!("{at}: checkpoint id {:?} malformed or used twice", c.id));
            }
        }
    }
    Ok(guide)
}

/// The guide shipped with the app (checked by the tests, so it always parses).
pub fn guide() -> &'static Guide {
    static GUIDE: OnceLock<Guide> = OnceLock::new();
    GUIDE.get_or_init(|| parse_guide(GUIDE_JSON).expect("the shipped guide is checked by the tests"))
}

impl Guide {
    /// The steps that apply to this contract and this size, with their applicable checkpoints.
    /// `meals_per_day`: all the contract's sites together on an ordinary day.
    pub fn applicable_steps(&self, contract_type: ContractType, meals_per_day: u32) -> Vec<ApplicableStep<'_>> {
        self.steps
            .iter()
            .filter(|s| s.applies.applies(contract_type, meals_per_day))
            .map(|step| ApplicableStep { step, checkpoints: step.checkpoints.iter().filter(|c| c.applies.applies(contract_type, meals_per_day)).collect() })
            .filter(|s| !s.checkpoints.is_empty())
            .collect()
    }

    /// The clauses to write into the next call for tenders for this contract type and size,
    /// in the guide's order, with the step each comes from.
    pub fn tender_clauses(&self, contract_type: ContractType, meals_per_day: u32) -> Vec<(&Step, &Checkpoint)> {
        self.applicable_steps(contract_type, meals_per_day)
            .into_iter()
            .flat_map(|s| s.checkpoints.into_iter().filter(|c| c.clause).map(move |c| (s.step, c)))
            .collect()
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// The shipped guide's steps for a contract (see [`Guide::applicable_steps`]).
pub fn applicable_steps(contract: &CateringContract, meals_per_day: u32) -> Vec<ApplicableStep<'static>> {
    guide().applicable_steps(contract.contract_type, meals_per_day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::tests::contract;

    /// Articles the facts file marks « to check »: never shown with their number until checked.
    const UNCHECKED_ARTICLES: &[&str] = &["1413-1", "541-15-10"];

    fn ids<'a>(steps: &'a [ApplicableStep]) -> Vec<&'a str> {
        steps.iter().map(|s| s.step.id.as_str()).collect()
    }

    fn checkpoint_ids<'a>(steps: &'a [ApplicableStep]) -> Vec<&'a str> {
        steps.iter().flat_map(|s| s.checkpoints.iter().map(|c| c.id.as_str())).collect()
    }

    #[test]
    fn the_shipped_guide_parses_with_13_steps_each_with_checkpoints_and_sources() {
        let g = parse_guide(GUIDE_JSON).unwrap();
        assert_eq!(g.steps.len(), 13);
        let mut seen = HashSet::new();
        for (i, s) in g.steps.iter().enumerate() {
            assert_eq!(s.number as usize, i + 1);
            assert!(!s.checkpoints.is_empty(), "{}", s.id);
            assert!(!s.sources.is_empty(), "{}", s.id);
            assert!(s.sources.iter().all(|src| (1990..=2030).contains(&src.year)), "{}", s.id);
            assert!(seen.insert(s.id.clone()));
            for c in &s.checkpoints {
                assert!(seen.insert(c.id.clone()), "{} twice", c.id);
            }
        }
        assert_eq!(guide(), &g);
    }

    #[test]
    fn unchecked_article_numbers_are_not_shown() {
        for article in UNCHECKED_ARTICLES {
            assert!(!GUIDE_JSON.contains(article), "{article} is marked « to check » in the facts");
        }
        // The checked ones are there, as references of their source.
        let all: Vec<&String> = guide().steps.iter().flat_map(|s| s.sources.iter().flat_map(|src| &src.articles)).collect();
        for checked in ["L. 230-5-1", "L. 541-15-3", "R. 3131-2", "L. 3131-2"] {
            assert!(all.iter().any(|a| a.contains(checked)), "{checked}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_everywhere() {
        let mut json: serde_json::Value = serde_json::from_str(GUIDE_JSON).unwrap();
        for path in ["", "/steps/0", "/steps/0/checkpoints/0", "/steps/0/sources/0", "/steps/11/applies"] {
            let mut bad = json.clone();
            bad.pointer_mut(path).unwrap().as_object_mut().unwrap().insert("commentaire".into(), "x".into());
            let err = parse_guide(&bad.to_string()).unwrap_err();
            assert!(err.contains("unknown field `commentaire`"), "{path}: {err}");
        }
        json["steps"][0]["checkpoints"] = serde_json::json!([]);
        assert!(parse_guide(&json.to_string()).unwrap_err().contains("no checkpoint"));
    }

    #[test]
    fn structural_errors_are_refused() {
        let base: serde_json::Value = serde_json::from_str(GUIDE_JSON).unwrap();
        let mut j = base.clone();
        j["steps"][1]["sources"] = serde_json::json!([]);
        assert!(parse_guide(&j.to_string()).unwrap_err().contains("no source"));
        let mut j = base.clone();
        j["steps"][1]["checkpoints"][0]["id"] = base["steps"][0]["checkpoints"][0]["id"].clone();
        assert!(parse_guide(&j.to_string()).unwrap_err().contains("used twice"));
        let mut j = base.clone();
        j["steps"][2]["number"] = 7.into();
        assert!(parse_guide(&j.to_string()).unwrap_err().contains("number 7"));
        let mut j = base.clone();
        j["steps"][0]["actor"] = "mayor".into();
        assert!(parse_guide(&j.to_string()).is_err());
        let mut j = base;
        j["steps"][0]["title"] = "Diagnostic\u{202e}".into();
        assert!(parse_guide(&j.to_string()).unwrap_err().contains("control character"));
    }

    #[test]
    fn steps_for_each_contract_type() {
        let mut c = contract();
        c.contract_type = ContractType::ServicesContract;
        let services = applicable_steps(&c, 150);
        assert_eq!(ids(&services), vec!["diagnostic", "procedure", "clauses-egalim", "approvisionnement-local", "menus", "anti-gaspillage", "plastiques", "information-convives", "transmission-donnees", "suivi", "penalites", "renouvellement"]);
        assert!(!checkpoint_ids(&services).contains(&"donnees-format-ouvert"));
        c.contract_type = ContractType::Concession;
        let concession = applicable_steps(&c, 150);
        assert_eq!(concession.len(), 13);
        assert_eq!(concession[11].step.id, "rapport-annuel");
        assert!(checkpoint_ids(&concession).contains(&"donnees-format-ouvert"));
    }

    #[test]
    fn steps_for_small_and_large_communes() {
        let c = contract();
        let small = checkpoint_ids(&applicable_steps(&c, 200)).into_iter().map(str::to_owned).collect::<Vec<_>>();
        assert!(!small.contains(&"plan-diversification".to_owned()), "200 meals a day is not above 200");
        assert!(!small.contains(&"convention-don".to_owned()));
        let medium = applicable_steps(&c, 201);
        assert!(checkpoint_ids(&medium).contains(&"plan-diversification"));
        assert!(!checkpoint_ids(&medium).contains(&"convention-don"));
        let large = applicable_steps(&c, 3_001);
        assert!(checkpoint_ids(&large).contains(&"plan-diversification") && checkpoint_ids(&large).contains(&"convention-don"));
        assert_eq!(checkpoint_ids(&large).len(), checkpoint_ids(&applicable_steps(&c, 150)).len() + 2);
        assert!(!checkpoint_ids(&applicable_steps(&c, 3_000)).contains(&"convention-don"));
    }

    #[test]
    fn tender_clauses_follow_the_contract() {
        let g = guide();
        let small = g.tender_clauses(ContractType::ServicesContract, 150);
        let ids: Vec<&str> = small.iter().map(|(_, c)| c.id.as_str()).collect();
        assert_eq!(ids.first(), Some(&"allotissement"));
        assert!(ids.contains(&"part-50-20") && ids.contains(&"fichier-achats-format") && ids.contains(&"penalites-donnees"));
        assert!(!ids.contains(&"donnees-format-ouvert") && !ids.contains(&"annexe-egalim-gaspillage") && !ids.contains(&"convention-don"));
        assert!(!ids.contains(&"deliberation"), "a council vote is not a clause");
        assert!(small.iter().all(|(s, c)| s.checkpoints.contains(c)));
        let large = g.tender_clauses(ContractType::Concession, 5_000);
        let large_ids: Vec<&str> = large.iter().map(|(_, c)| c.id.as_str()).collect();
        for id in ["donnees-format-ouvert", "annexe-egalim-gaspillage", "convention-don", "plan-diversification"] {
            assert!(large_ids.contains(&id), "{id}");
        }
        assert_eq!(large.len(), small.len() + 4);
    }

    #[test]
    fn applicability_reads_its_three_forms() {
        let a: Applicability = serde_json::from_str(r#"{"kind":"meals_per_day_above","meals":200}"#).unwrap();
        assert_eq!(a, Applicability::MealsPerDayAbove { meals: 200 });
        let a: Applicability = serde_json::from_str(r#"{"kind":"contract_type","contract_type":"dsp"}"#).unwrap();
        assert!(a.applies(ContractType::Concession, 0) && !a.applies(ContractType::ServicesContract, 10_000));
        assert!(serde_json::from_str::<Applicability>(r#"{"kind":"always"}"#).unwrap().applies(ContractType::ServicesContract, 0));
        assert!(serde_json::from_str::<Applicability>(r#"{"kind":"sometimes"}"#).is_err());
    }
}
