//! A commune's progress along the guide: checkpoint ticks and notes per step. People tick on
//! their own tablets offline; [`merge`] joins two copies so that nothing is lost and the
//! result does not depend on the order copies arrive in (commutative, associative,
//! idempotent: a state-based CRDT).
//!
//! - A checkpoint's tick is last-writer-wins by (time, author id, ticked): the latest action
//!   wins, and two actions at the same instant are ordered the same way on every device.
//! - Notes are a grow-only set: two people writing on the same step both keep their note.
//!   A note is never edited in place (a correction is a new note), so no text is overwritten.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::guide::ApplicableStep;
use crate::text::check_text;
use crate::validation::Validation;

/// A note's text (a few sentences for the council or the officer).
pub const MAX_NOTE_CHARS: usize = 2_000;
/// A proof's reference: a file name or a link.
pub const MAX_REFERENCE_CHARS: usize = 500;

/// The latest tick or untick of one checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    pub done: bool,
    #[serde(with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
    /// The user who ticked.
    pub author: Uuid,
}

impl Tick {
    /// The total order of last-writer-wins.
    fn key(&self) -> (DateTime<Utc>, Uuid, bool) {
        (self.at, self.author, self.done)
    }
}

/// A note on a step, possibly the proof kept (a date, a file name or a link).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Note {
    // Field order is the set's order: notes are listed by time.
    #[serde(with = "crate::time::rfc3339")]
    pub written_at: DateTime<Utc>,
    pub id: Uuid,
    pub author: Uuid,
    pub text: String,
    /// The proof's date (a council deliberation, a visit).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::date_option")]
    pub proof_date: Option<NaiveDate>,
    /// The proof's file name or link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Note {
    pub fn validate(&self) -> Validation {
        let mut v = Validation::default();
        let reference = self.reference.as_deref().unwrap_or("");
        if self.text.trim().is_empty() && reference.trim().is_empty() && self.proof_date.is_none() {
            v.error("text", "La note est vide : écrivez un texte, ou indiquez une date ou un fichier comme preuve.");
        }
        check_text(&mut v, "text", &self.text, "La note", MAX_NOTE_CHARS);
        check_text(&mut v, "reference", reference, "Le nom du fichier ou le lien", MAX_REFERENCE_CHARS);
        v
    }
}

/// One step's ticks (by checkpoint id) and notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepProgress {
    #[serde(default)]
    pub ticks: BTreeMap<String, Tick>,
    #[serde(default)]
    pub notes: BTreeSet<Note>,
}

/// A commune's progress, by step id. Ticks of checkpoints a later guide removed are kept (the
/// work was done) but no longer counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistProgress {
    #[serde(default)]
    pub steps: BTreeMap<String, StepProgress>,
}

/// Joins two copies of a commune's progress (see the module).
pub fn merge(a: &ChecklistProgress, b: &ChecklistProgress) -> ChecklistProgress {
    let mut out = a.clone();
    for (step_id, theirs) in &b.steps {
        let ours = out.steps.entry(step_id.clone()).or_default();
        for (checkpoint, tick) in &theirs.ticks {
            ours.ticks
                .entry(checkpoint.clone())
                .and_modify(|t| {
                    if tick.key() > t.key() {
                        *t = *tick;
                    }
                })
                .or_insert(*tick);
        }
        ours.notes.extend(theirs.notes.iter().cloned());
    }
    out
}

impl ChecklistProgress {
    /// Records a tick or untick made now on this device. The time is moved just past the tick
    /// it replaces when the device's clock is behind, so the person's action wins the merge
    /// over the state they saw.
    pub fn set_tick(&mut self, step_id: &str, checkpoint_id: &str, done: bool, now: DateTime<Utc>, author: Uuid) {
        let ticks = &mut self.steps.entry(step_id.to_owned()).or_default().ticks;
        let at = match ticks.get(checkpoint_id) {
            Some(previous) if previous.at >= now => previous.at + TimeDelta::milliseconds(1),
            _ => now,
        };
        ticks.insert(checkpoint_id.to_owned(), Tick { done, at, author });
    }

    /// Adds a note after validating it; the refusal says what to fix.
    pub fn add_note(&mut self, step_id: &str, note: Note) -> Result<(), Validation> {
        let v = note.validate();
        if !v.is_ok() {
            return Err(v);
        }
        self.steps.entry(step_id.to_owned()).or_default().notes.insert(note);
        Ok(())
    }

    pub fn is_ticked(&self, step_id: &str, checkpoint_id: &str) -> bool {
        self.steps.get(step_id).and_then(|s| s.ticks.get(checkpoint_id)).is_some_and(|t| t.done)
    }

    /// Applicable checkpoints of `step` ticked, out of how many.
    pub fn step_count(&self, step: &ApplicableStep) -> StepCount {
        let done = step.checkpoints.iter().filter(|c| self.is_ticked(&step.step.id, &c.id)).count();
        StepCount { done, total: step.checkpoints.len() }
    }

    /// The first applicable step not complete (where the commune stands), `None` when all are.
    pub fn current_step<'a>(&self, steps: &'a [ApplicableStep<'a>]) -> Option<&'a ApplicableStep<'a>> {
        steps.iter().find(|s| !self.step_count(s).is_complete())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCount {
    pub done: usize,
    pub total: usize,
}

impl StepCount {
    pub fn is_complete(self) -> bool {
        self.done == self.total
    }

    /// « 2 points sur 5 », for the page and the print.
    pub fn label(self) -> String {
        // French: 0 and 1 take the singular.
        let s = if self.done > 1 { "s" } else { "" };
        format!("{} point{s} vérifié{s} sur {}", self.done, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::guide::applicable_steps;
    use crate::concession::tests::contract;
    use proptest::prelude::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_772_000_000 + seconds, 0).unwrap()
    }

    fn note(id: u128, author: u128, seconds: i64, text: &str) -> Note {
        Note { written_at: at(seconds), id: Uuid::from_u128(id), author: Uuid::from_u128(author), text: text.into(), proof_date: None, reference: None }
    }

    #[test]
    fn two_people_ticking_the_same_step_offline_keep_both_notes() {
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut base = ChecklistProgress::default();
        base.set_tick("menus", "menu-vegetarien", true, at(0), alice);
        let mut a = base.clone();
        let mut b = base.clone();
        a.set_tick("menus", "regles-nutrition", true, at(10), alice);
        a.add_note("menus", note(10, 1, 10, "Menus de mars vérifiés")).unwrap();
        b.set_tick("menus", "menu-vegetarien", false, at(20), bob);
        b.add_note("menus", note(11, 2, 15, "Pas de menu végétarien la semaine 12")).unwrap();
        let m = merge(&a, &b);
        assert_eq!(m, merge(&b, &a));
        let notes: Vec<&str> = m.steps["menus"].notes.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(notes, vec!["Menus de mars vérifiés", "Pas de menu végétarien la semaine 12"]);
        assert!(m.is_ticked("menus", "regles-nutrition"));
        assert!(!m.is_ticked("menus", "menu-vegetarien"), "Bob's later untick wins");
    }

    #[test]
    fn a_tick_made_on_a_late_clock_still_wins() {
        let mut p = ChecklistProgress::default();
        p.set_tick("suivi", "commission-menus", true, at(100), Uuid::from_u128(9));
        p.set_tick("suivi", "commission-menus", false, at(50), Uuid::from_u128(1));
        assert!(!p.is_ticked("suivi", "commission-menus"));
        let t = p.steps["suivi"].ticks["commission-menus"];
        assert!(t.at > at(100));
        let mut other = ChecklistProgress::default();
        other.set_tick("suivi", "commission-menus", true, at(100), Uuid::from_u128(9));
        assert!(!merge(&other, &p).is_ticked("suivi", "commission-menus"));
    }

    #[test]
    fn notes_are_validated() {
        let mut p = ChecklistProgress::default();
        let err = p.add_note("suivi", note(1, 1, 0, "  ")).unwrap_err();
        assert_eq!(err.errors[0].field, "text");
        assert!(err.errors[0].message.starts_with("La note est vide"));
        let mut n = note(2, 1, 0, "");
        n.reference = Some("deliberation-2026-03.pdf".into());
        assert!(p.add_note("suivi", n).is_ok());
        let err = p.add_note("suivi", note(3, 1, 0, &"é".repeat(MAX_NOTE_CHARS + 1))).unwrap_err();
        assert!(err.errors[0].message.contains("2001 caractères"));
        assert_eq!(p.steps["suivi"].notes.len(), 1);
    }

    #[test]
    fn counts_and_current_step_follow_the_applicable_checkpoints() {
        let steps = applicable_steps(&contract(), 150);
        let mut p = ChecklistProgress::default();
        assert_eq!(p.current_step(&steps).unwrap().step.id, "diagnostic");
        for c in &steps[0].checkpoints {
            p.set_tick("diagnostic", &c.id, true, at(0), Uuid::nil());
        }
        // A tick of a checkpoint that does not apply (small commune) is not counted.
        p.set_tick("menus", "plan-diversification", true, at(0), Uuid::nil());
        assert_eq!(p.step_count(&steps[0]), StepCount { done: 5, total: 5 });
        assert_eq!(p.current_step(&steps).unwrap().step.id, "procedure");
        let menus = steps.iter().find(|s| s.step.id == "menus").unwrap();
        assert_eq!(p.step_count(menus), StepCount { done: 0, total: 3 });
        assert_eq!(p.step_count(menus).label(), "0 point vérifié sur 3");
        assert_eq!(StepCount { done: 2, total: 3 }.label(), "2 points vérifiés sur 3");
    }

    #[test]
    fn serde_round_trip() {
        let mut p = ChecklistProgress::default();
        p.set_tick("menus", "menu-vegetarien", true, at(0), Uuid::from_u128(1));
        let mut n = note(1, 1, 0, "Vu");
        n.proof_date = Some(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        p.add_note("menus", n).unwrap();
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["steps"]["menus"]["notes"][0]["proof_date"], "2026-03-02");
        assert_eq!(serde_json::from_value::<ChecklistProgress>(j).unwrap(), p);
    }

    // Small alphabets so that copies share steps, checkpoints, instants and notes.
    fn any_progress() -> impl Strategy<Value = ChecklistProgress> {
        let tick = (0usize..3, 0usize..3, any::<bool>(), 0i64..4, 0u128..3);
        let note = (0usize..3, 0u128..4, 0u128..3, 0i64..4, 0usize..2);
        (prop::collection::vec(tick, 0..8), prop::collection::vec(note, 0..5)).prop_map(|(ticks, notes)| {
            let mut p = ChecklistProgress::default();
            for (s, c, done, t, author) in ticks {
                p.steps.entry(format!("s{s}")).or_default().ticks.insert(format!("c{c}"), Tick { done, at: at(t), author: Uuid::from_u128(author) });
            }
            for (s, id, author, t, text) in notes {
                p.steps.entry(format!("s{s}")).or_default().notes.insert(note_for(id, author, t, ["a", "b"][text]));
            }
            p
        })
    }

    fn note_for(id: u128, author: u128, t: i64, text: &str) -> Note {
        note(id, author, t, text)
    }

    proptest! {
        #[test]
        fn merge_is_commutative(a in any_progress(), b in any_progress()) {
            prop_assert_eq!(merge(&a, &b), merge(&b, &a));
        }

        #[test]
        fn merge_is_associative(a in any_progress(), b in any_progress(), c in any_progress()) {
            prop_assert_eq!(merge(&merge(&a, &b), &c), merge(&a, &merge(&b, &c)));
        }

        #[test]
        fn merge_is_idempotent(a in any_progress(), b in any_progress()) {
            prop_assert_eq!(merge(&a, &a), a.clone());
            let ab = merge(&a, &b);
            prop_assert_eq!(merge(&ab, &b), ab.clone());
        }

        #[test]
        fn merge_loses_no_note_and_keeps_the_latest_tick(a in any_progress(), b in any_progress()) {
            let m = merge(&a, &b);
            for side in [&a, &b] {
                for (step, progress) in &side.steps {
                    for n in &progress.notes {
                        prop_assert!(m.steps[step].notes.contains(n));
                    }
                    for (c, t) in &progress.ticks {
                        prop_assert!(m.steps[step].ticks[c].key() >= t.key());
                    }
                }
            }
        }
    }
}
