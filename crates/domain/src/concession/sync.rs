//! The commune's delegated-management records as they travel between a person's browser and
//! the server: the catering contract, the checklist progress and the metropolis' follow-up
//! note. They belong to a commune (its INSEE code), not to a site, so they travel apart from
//! the kitchen's records (`crate::sync`), on `/api/v1/concession/push` and `/pull`, with the
//! same ideas: whole records with their [`RecordMeta`], revisions, a pull cursor.
//!
//! A commune holds at most one record of each kind: the server keys them by (commune, kind).
//! - The contract and the follow-up note follow the kitchen records' rule: a higher revision
//!   wins, the same revision with the same content is a duplicate, anything else is a conflict
//!   answered with the server's version (`crate::sync::decide`'s rule).
//! - The checklist never conflicts: the server stores the [`merge`] of its copy and the one
//!   pushed, and answers with the merged copy, which the browser merges into its own. Two people
//!   ticking offline both keep their ticks and notes, whatever the order their pushes arrive in.
//!
//! A browser keeps the latest local version of each record and whether the server has it; a
//! push only ever sends the latest, so no per-entry dedup key is needed: replaying a push is a
//! duplicate (same revision, same content) or a merge that changes nothing (merge is
//! idempotent).
//!
//! Only signed-in people push and pull them (never a kitchen tablet): a commune manager for
//! their communes, the metropolis for all; the follow-up note is the metropolis' alone.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::progress::{merge, ChecklistProgress};
use super::CateringContract;
use crate::record::RecordMeta;
use crate::sync::MAX_SAFE_INTEGER;
use crate::text::check_text;
use crate::validation::{FieldError, Validation};

/// Records per push at most (a commune has three; the metropolis pushes a few communes' notes).
pub const MAX_CONCESSION_PUSH: usize = 200;
/// Pull page size by default and at most.
pub const DEFAULT_CONCESSION_PULL: u32 = 200;
pub const MAX_CONCESSION_PULL: u32 = 1000;
/// The follow-up note's text.
pub const MAX_FOLLOW_UP_CHARS: usize = 5_000;
/// Bounds of a checklist copy: the guide has 13 steps of a few checkpoints; a copy far beyond
/// is not someone ticking.
pub const MAX_CHECKLIST_STEPS: usize = 100;
pub const MAX_TICKS_PER_STEP: usize = 100;
pub const MAX_NOTES_PER_STEP: usize = 500;
const MAX_ID_CHARS: usize = 64;

/// A commune's checklist progress as one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommuneChecklist {
    pub meta: RecordMeta,
    pub commune_insee_code: String,
    pub progress: ChecklistProgress,
}

/// The metropolis officer's follow-up of a commune (« accompagnement individuel »).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpNote {
    pub meta: RecordMeta,
    pub commune_insee_code: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommuneRecordKind {
    CateringContract,
    Checklist,
    FollowUpNote,
}
crate::code_enum!(CommuneRecordKind { CateringContract => "catering_contract", Checklist => "checklist", FollowUpNote => "follow_up_note" });

impl CommuneRecordKind {
    pub fn label_fr(self) -> &'static str {
        match self {
            CommuneRecordKind::CateringContract => "le contrat de restauration",
            CommuneRecordKind::Checklist => "le parcours (points vérifiés et notes)",
            CommuneRecordKind::FollowUpNote => "la note de suivi de la métropole",
        }
    }

    /// Only the metropolis writes and reads it.
    pub fn metropolis_only(self) -> bool {
        self == CommuneRecordKind::FollowUpNote
    }
}

/// One record of a commune, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommuneRecord {
    CateringContract(CateringContract),
    Checklist(CommuneChecklist),
    FollowUpNote(FollowUpNote),
}

impl CommuneRecord {
    pub fn kind(&self) -> CommuneRecordKind {
        match self {
            CommuneRecord::CateringContract(_) => CommuneRecordKind::CateringContract,
            CommuneRecord::Checklist(_) => CommuneRecordKind::Checklist,
            CommuneRecord::FollowUpNote(_) => CommuneRecordKind::FollowUpNote,
        }
    }

    pub fn meta(&self) -> &RecordMeta {
        match self {
            CommuneRecord::CateringContract(r) => &r.meta,
            CommuneRecord::Checklist(r) => &r.meta,
            CommuneRecord::FollowUpNote(r) => &r.meta,
        }
    }

    pub fn meta_mut(&mut self) -> &mut RecordMeta {
        match self {
            CommuneRecord::CateringContract(r) => &mut r.meta,
            CommuneRecord::Checklist(r) => &mut r.meta,
            CommuneRecord::FollowUpNote(r) => &mut r.meta,
        }
    }

    pub fn commune_insee_code(&self) -> &str {
        match self {
            CommuneRecord::CateringContract(r) => &r.commune_insee_code,
            CommuneRecord::Checklist(r) => &r.commune_insee_code,
            CommuneRecord::FollowUpNote(r) => &r.commune_insee_code,
        }
    }

    /// The same record but for the two clocks (what a duplicate is).
    pub fn same_content(&self, other: &CommuneRecord) -> bool {
        fn strip(r: &CommuneRecord) -> CommuneRecord {
            let mut r = r.clone();
            let m = r.meta_mut();
            m.server_updated_at = None;
            m.modified_at = DateTime::<Utc>::UNIX_EPOCH;
            r
        }
        strip(self) == strip(other)
    }

    /// The content's validation (French messages); `now` bounds the checklist's tick times.
    pub fn validate(&self, now: DateTime<Utc>) -> Validation {
        match self {
            CommuneRecord::CateringContract(c) => c.validate(),
            CommuneRecord::Checklist(c) => check_progress(&c.progress, now),
            CommuneRecord::FollowUpNote(n) => {
                let mut v = Validation::default();
                check_text(&mut v, "text", &n.text, "La note de suivi", MAX_FOLLOW_UP_CHARS);
                v
            }
        }
    }
}

fn id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_CHARS && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What a checklist copy must be, whatever the browser did: ids as the guide writes them,
/// bounded sizes, valid notes, and tick and note times neither before 2000 nor more than a day
/// ahead of the server (a far-future tick would win every merge for ever).
fn check_progress(p: &ChecklistProgress, now: DateTime<Utc>) -> Validation {
    let mut v = Validation::default();
    if p.steps.len() > MAX_CHECKLIST_STEPS {
        v.error("progress", format!("Le parcours compte {} étapes : {MAX_CHECKLIST_STEPS} au plus.", p.steps.len()));
        return v;
    }
    let latest = now + TimeDelta::days(1);
    let bad_time = |at: DateTime<Utc>| !crate::time::timestamp_in_range(at) || at > latest;
    for (step_id, step) in &p.steps {
        if !id_ok(step_id) {
            v.error("progress", format!("Étape « {} » inconnue : identifiant invalide.", crate::text::excerpt(step_id, 40)));
            continue;
        }
        if step.ticks.len() > MAX_TICKS_PER_STEP || step.notes.len() > MAX_NOTES_PER_STEP {
            v.error("progress", format!("L'étape « {step_id} » compte trop de points ou de notes ({MAX_TICKS_PER_STEP} points, {MAX_NOTES_PER_STEP} notes au plus)."));
            continue;
        }
        for (checkpoint, tick) in &step.ticks {
            if !id_ok(checkpoint) {
                v.error("progress", format!("Point « {} » de l'étape « {step_id} » : identifiant invalide.", crate::text::excerpt(checkpoint, 40)));
            } else if bad_time(tick.at) {
                v.error(
                    "progress",
                    format!("Le point « {checkpoint} » a été coché à une date impossible ({}) : réglez la date et l'heure de l'appareil, puis cochez-le de nouveau.", tick.at.to_rfc3339()),
                );
            }
        }
        for note in &step.notes {
            if bad_time(note.written_at) {
                v.error("progress", format!("Une note de l'étape « {step_id} » porte une date impossible ({}) : réglez la date et l'heure de l'appareil.", note.written_at.to_rfc3339()));
            }
            for e in note.validate().errors {
                v.error(&format!("notes.{}", e.field), format!("Étape « {step_id} » : {}", e.message));
            }
        }
    }
    v
}

/// A push of commune records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcessionPushRequest {
    pub records: Vec<CommuneRecord>,
}

/// What happened to one pushed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ConcessionStatus {
    /// Written; `current` is what the server now holds (for a checklist, the merge).
    Applied { current: CommuneRecord },
    /// The server already had it (`current`, for a checklist the unchanged merge).
    Duplicate { current: CommuneRecord },
    /// Nothing written: the server's version was changed by someone else meanwhile.
    Conflict { current: CommuneRecord },
    /// Nothing written: the record is invalid (French reason, the fields' messages).
    Rejected {
        reason: String,
        #[serde(default)]
        errors: Vec<FieldError>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcessionPushResponse {
    pub results: Vec<ConcessionStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcessionPullRequest {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcessionChange {
    pub change_seq: u64,
    pub record: CommuneRecord,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcessionPullResponse {
    pub changes: Vec<ConcessionChange>,
    pub next_cursor: String,
    pub has_more: bool,
}

/// Checks a pushed record's head and content (the scope is the caller's: it needs the
/// account). `Err` is the rejection, as the reply carries it.
// A large `Err` is fine here: a push holds a few records, and the rejection is the reply itself.
#[allow(clippy::result_large_err)]
pub fn check_pushed(r: &CommuneRecord, now: DateTime<Utc>) -> Result<(), ConcessionStatus> {
    let meta = r.meta();
    let what = r.kind().label_fr();
    let reject = |reason: String, errors: Vec<FieldError>| Err(ConcessionStatus::Rejected { reason, errors });
    if meta.id.is_nil() {
        return reject(format!("Identifiant manquant pour {what} : enregistrez-le de nouveau."), Vec::new());
    }
    if meta.revision == 0 || meta.revision > MAX_SAFE_INTEGER {
        return reject(format!("Révision {} invalide pour {what} : elle doit être comprise entre 1 et {MAX_SAFE_INTEGER}.", meta.revision), Vec::new());
    }
    if !crate::time::timestamp_in_range(meta.modified_at) {
        return reject(
            format!(
                "Date de modification {} impossible pour {what} : réglez la date et l'heure de l'appareil, puis enregistrez de nouveau.",
                meta.modified_at.to_rfc3339()
            ),
            Vec::new(),
        );
    }
    if meta.deleted {
        return Ok(());
    }
    let v = r.validate(now);
    if v.is_ok() {
        return Ok(());
    }
    let details: Vec<&str> = v.errors.iter().map(|e| e.message.as_str()).collect();
    let mut what_cap = what.to_owned();
    if let Some(first) = what_cap.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    reject(format!("{what_cap} est refusé : {}", details.join(" ")), v.errors)
}

/// What the server does with a pushed record (checked already) against what it holds for the
/// same commune and kind: the reply, and the record to write (with the server's time and, for
/// a merged checklist, the next revision).
pub fn decide(current: Option<&CommuneRecord>, incoming: &CommuneRecord, now: DateTime<Utc>) -> (ConcessionStatus, Option<CommuneRecord>) {
    let stamped = |mut r: CommuneRecord| {
        r.meta_mut().server_updated_at = Some(now);
        r
    };
    match (current, incoming) {
        (None, r) => {
            let w = stamped(r.clone());
            (ConcessionStatus::Applied { current: w.clone() }, Some(w))
        }
        (Some(CommuneRecord::Checklist(cur)), CommuneRecord::Checklist(inc)) => {
            let merged = merge(&cur.progress, &inc.progress);
            if merged == cur.progress {
                return (ConcessionStatus::Duplicate { current: CommuneRecord::Checklist(cur.clone()) }, None);
            }
            let mut meta = cur.meta.clone();
            meta.revision = cur.meta.revision.max(inc.meta.revision).saturating_add(1).min(MAX_SAFE_INTEGER);
            meta.modified_at = inc.meta.modified_at;
            let w = stamped(CommuneRecord::Checklist(CommuneChecklist { meta, commune_insee_code: cur.commune_insee_code.clone(), progress: merged }));
            (ConcessionStatus::Applied { current: w.clone() }, Some(w))
        }
        (Some(cur), inc) => {
            let (c, i) = (cur.meta().revision, inc.meta().revision);
            if i > c {
                // A tombstone keeps the stored content (validated when written) under its meta.
                let w = if inc.meta().deleted {
                    let mut w = cur.clone();
                    *w.meta_mut() = inc.meta().clone();
                    w
                } else {
                    inc.clone()
                };
                let w = stamped(w);
                (ConcessionStatus::Applied { current: w.clone() }, Some(w))
            } else if i == c && cur.same_content(inc) {
                (ConcessionStatus::Duplicate { current: cur.clone() }, None)
            } else {
                (ConcessionStatus::Conflict { current: cur.clone() }, None)
            }
        }
    }
}

/// What a browser does with the server's answer for the record it sent (`sent`), given what it
/// holds now (`local`: the person may have changed it while the push travelled). Returns the
/// record to keep locally and whether it still waits for the server.
pub fn after_reply(sent: &CommuneRecord, local: &CommuneRecord, status: &ConcessionStatus) -> Option<(CommuneRecord, bool)> {
    match status {
        ConcessionStatus::Applied { current } | ConcessionStatus::Duplicate { current } => match (local, current) {
            (CommuneRecord::Checklist(l), CommuneRecord::Checklist(c)) => {
                let merged = merge(&l.progress, &c.progress);
                let pending = merged != c.progress;
                let mut meta = c.meta.clone();
                if pending {
                    meta.revision = c.meta.revision.saturating_add(1);
                }
                Some((CommuneRecord::Checklist(CommuneChecklist { meta, commune_insee_code: c.commune_insee_code.clone(), progress: merged }), pending))
            }
            _ if local.meta().revision == sent.meta().revision => Some((current.clone(), false)),
            // Changed here since: the local revision goes next time.
            _ => Some((local.clone(), true)),
        },
        // Kept, flagged by the caller; the person chooses.
        ConcessionStatus::Conflict { .. } | ConcessionStatus::Rejected { .. } => None,
    }
}

/// Whether a pulled record replaces the local copy (a higher local revision is a change still
/// to send). A checklist is merged instead: see [`merge_pulled`].
pub fn pulled_supersedes(local: &RecordMeta, pulled: &RecordMeta) -> bool {
    pulled.revision >= local.revision
}

/// A pulled checklist merged into the local copy: (the copy to keep, whether it still holds
/// something the server has not).
pub fn merge_pulled(local: &CommuneChecklist, pulled: &CommuneChecklist) -> (CommuneChecklist, bool) {
    let merged = merge(&local.progress, &pulled.progress);
    let pending = merged != pulled.progress;
    let mut meta = pulled.meta.clone();
    if pending {
        meta.revision = pulled.meta.revision.max(local.meta.revision).saturating_add(1);
    }
    (CommuneChecklist { meta, commune_insee_code: pulled.commune_insee_code.clone(), progress: merged }, pending)
}

/// The day a checklist's tick must not pass (for tests and the server alike).
pub fn latest_accepted_day(now: DateTime<Utc>) -> NaiveDate {
    (now + TimeDelta::days(1)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concession::progress::Note;
    use crate::concession::tests::contract;
    use uuid::Uuid;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_772_000_000 + seconds, 0).unwrap()
    }

    fn checklist(rev: u64) -> CommuneChecklist {
        CommuneChecklist { meta: RecordMeta { revision: rev, ..RecordMeta::new(Uuid::from_u128(5), at(0)) }, commune_insee_code: "76351".into(), progress: ChecklistProgress::default() }
    }

    #[test]
    fn records_are_tagged_by_kind_and_read_back() {
        let r = CommuneRecord::CateringContract(contract());
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["kind"], "catering_contract");
        assert_eq!(j["caterer_siren"], "732829320");
        assert_eq!(serde_json::from_value::<CommuneRecord>(j).unwrap(), r);
        let n = CommuneRecord::FollowUpNote(FollowUpNote { meta: RecordMeta::new(Uuid::from_u128(3), at(0)), commune_insee_code: "76351".into(), text: "Appel le 3/12".into() });
        let j = serde_json::to_value(&n).unwrap();
        assert_eq!(j["kind"], "follow_up_note");
        assert_eq!(serde_json::from_value::<CommuneRecord>(j).unwrap(), n);
        assert_eq!(CommuneRecordKind::from_code("checklist"), Some(CommuneRecordKind::Checklist));
        assert_eq!(CommuneRecordKind::from_code("purchase"), None);
    }

    #[test]
    fn the_contract_follows_the_revision_rule() {
        let c1 = CommuneRecord::CateringContract(contract());
        let (s, w) = decide(None, &c1, at(10));
        assert!(matches!(s, ConcessionStatus::Applied { .. }));
        let stored = w.unwrap();
        assert_eq!(stored.meta().server_updated_at, Some(at(10)));
        // Same revision again (a replay): duplicate, nothing written.
        let (s, w) = decide(Some(&stored), &c1, at(20));
        assert!(matches!(s, ConcessionStatus::Duplicate { .. }) && w.is_none());
        // Same revision, other content (two people edited revision 1): conflict with the server's.
        let mut other = contract();
        other.caterer_name = "Autre traiteur".into();
        let (s, w) = decide(Some(&stored), &CommuneRecord::CateringContract(other.clone()), at(20));
        assert_eq!(s, ConcessionStatus::Conflict { current: stored.clone() });
        assert!(w.is_none());
        // The next revision wins.
        other.meta = other.meta.revised(at(30));
        let (s, w) = decide(Some(&stored), &CommuneRecord::CateringContract(other.clone()), at(40));
        assert!(matches!(s, ConcessionStatus::Applied { .. }));
        let CommuneRecord::CateringContract(w) = w.unwrap() else { panic!() };
        assert_eq!(w.caterer_name, "Autre traiteur");
        // A tombstone keeps the stored content.
        let mut tomb = contract();
        tomb.meta = tomb.meta.deleted(at(5));
        tomb.caterer_name = String::new();
        let (_, w) = decide(Some(&stored), &CommuneRecord::CateringContract(tomb), at(50));
        let CommuneRecord::CateringContract(w) = w.unwrap() else { panic!() };
        assert!(w.meta.deleted && w.caterer_name == "Restauration Normande SAS");
    }

    #[test]
    fn two_offline_tick_sets_merge_on_the_server_in_either_order() {
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut a = checklist(1);
        a.progress.set_tick("diagnostic", "liste-restaurants", true, at(10), alice);
        let mut b = checklist(1);
        b.progress.set_tick("menus", "menu-vegetarien", true, at(20), bob);
        b.progress
            .add_note("menus", Note { written_at: at(20), id: Uuid::from_u128(9), author: bob, text: "Menus vus".into(), proof_date: None, reference: None })
            .unwrap();
        let run = |first: &CommuneChecklist, second: &CommuneChecklist| {
            let (_, w) = decide(None, &CommuneRecord::Checklist(first.clone()), at(30));
            let (s, w2) = decide(w.as_ref(), &CommuneRecord::Checklist(second.clone()), at(40));
            assert!(matches!(s, ConcessionStatus::Applied { .. }), "a merge that adds is applied, never a conflict");
            let CommuneRecord::Checklist(c) = w2.unwrap() else { panic!() };
            assert_eq!(c.meta.revision, 2);
            c.progress
        };
        let ab = run(&a, &b);
        assert_eq!(ab, run(&b, &a));
        assert!(ab.is_ticked("diagnostic", "liste-restaurants") && ab.is_ticked("menus", "menu-vegetarien"));
        assert_eq!(ab.steps["menus"].notes.len(), 1);
        // Sent again: nothing new, a duplicate.
        let stored = CommuneRecord::Checklist(CommuneChecklist { progress: ab.clone(), ..checklist(2) });
        assert!(matches!(decide(Some(&stored), &CommuneRecord::Checklist(a.clone()), at(50)).0, ConcessionStatus::Duplicate { .. }));
        // Alice's browser merges the answer into what she ticked since.
        let mut local = a.clone();
        local.progress.set_tick("suivi", "commission-menus", true, at(45), alice);
        let (kept, pending) = after_reply(&CommuneRecord::Checklist(a.clone()), &CommuneRecord::Checklist(local), &ConcessionStatus::Applied { current: stored.clone() }).unwrap();
        let CommuneRecord::Checklist(kept) = kept else { panic!() };
        assert!(pending, "the tick made while the push travelled still waits");
        assert!(kept.progress.is_ticked("menus", "menu-vegetarien") && kept.progress.is_ticked("suivi", "commission-menus"));
        let (kept, pending) = after_reply(&CommuneRecord::Checklist(a.clone()), &CommuneRecord::Checklist(a.clone()), &ConcessionStatus::Applied { current: stored.clone() }).unwrap();
        assert!(!pending);
        assert_eq!(kept, stored);
    }

    #[test]
    fn a_pulled_checklist_merges_and_says_what_is_left_to_send() {
        let mut local = checklist(1);
        local.progress.set_tick("diagnostic", "liste-restaurants", true, at(10), Uuid::from_u128(1));
        let mut pulled = checklist(3);
        pulled.progress.set_tick("menus", "menu-vegetarien", true, at(20), Uuid::from_u128(2));
        let (m, pending) = merge_pulled(&local, &pulled);
        assert!(pending && m.meta.revision == 4);
        assert!(m.progress.is_ticked("diagnostic", "liste-restaurants") && m.progress.is_ticked("menus", "menu-vegetarien"));
        let (m2, pending) = merge_pulled(&checklist(1), &pulled);
        assert!(!pending && m2 == pulled);
    }

    #[test]
    fn the_server_checks_what_the_browser_already_checked() {
        let now = at(100);
        let mut c = contract();
        c.targets.egalim_percent = Some(120);
        let Err(ConcessionStatus::Rejected { reason, errors }) = check_pushed(&CommuneRecord::CateringContract(c), now) else { panic!() };
        assert!(reason.starts_with("Le contrat de restauration est refusé : L'objectif EGalim"), "{reason}");
        assert_eq!(errors[0].field, "egalim_percent");
        let mut c = contract();
        c.caterer_siren = "732829321".into();
        assert!(check_pushed(&CommuneRecord::CateringContract(c), now).is_err());
        let mut c = contract();
        c.meta.revision = 0;
        assert!(check_pushed(&CommuneRecord::CateringContract(c), now).is_err());
        // A tick in the far future would win every merge: refused.
        let mut p = checklist(1);
        p.progress.set_tick("menus", "menu-vegetarien", true, now + TimeDelta::days(3), Uuid::from_u128(1));
        let Err(ConcessionStatus::Rejected { reason, .. }) = check_pushed(&CommuneRecord::Checklist(p.clone()), now) else { panic!() };
        assert!(reason.contains("date impossible"), "{reason}");
        p.progress = ChecklistProgress::default();
        p.progress.set_tick("Menus!", "x", true, now, Uuid::from_u128(1));
        assert!(check_pushed(&CommuneRecord::Checklist(p.clone()), now).is_err());
        p.progress = ChecklistProgress::default();
        p.progress.set_tick("menus", "menu-vegetarien", true, now, Uuid::from_u128(1));
        assert!(check_pushed(&CommuneRecord::Checklist(p), now).is_ok());
        let n = FollowUpNote { meta: RecordMeta::new(Uuid::from_u128(3), at(0)), commune_insee_code: "76351".into(), text: "x\u{1b}".into() };
        assert!(check_pushed(&CommuneRecord::FollowUpNote(n), now).is_err());
    }
}
