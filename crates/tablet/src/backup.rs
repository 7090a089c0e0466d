//! Backup of all the tablet's data to a JSON file, and its import.
//!
//! Format (versioned, [`BACKUP_FORMAT`] / [`BACKUP_VERSION`]): the site profile, the records
//! of every store (tombstones included, so a deletion is not undone by a restore), the outbox
//! (what the server has not acknowledged yet) and informative settings.
//!
//! Decisions:
//! - The device's sync identity (enrolment, tokens, cursor) is never exported: two tablets
//!   sharing it would break the server's (device, seq) deduplication, and a token in a file is
//!   a credential lying around. Only the profile and the date of the last sync travel.
//! - Import reads and checks the whole file first (format, version, every record validated by
//!   the domain, ids unique, outbox consistent). A file that is not a readable backup of a
//!   version this tablet reads is refused whole, with a French message. Otherwise what is valid
//!   is imported and the rest is listed in French (each record or outbox entry left out, and
//!   why) before the import is confirmed: one damaged record never keeps the others out.
//! - A record is imported when its id is unknown here or its revision is higher than the local
//!   one; otherwise it is counted as already present. Importing the same file twice changes
//!   nothing the second time, so an import interrupted by a storage failure can simply be redone.
//! - Only the records the source tablet had not sent (those with an entry in the file's outbox)
//!   are queued for the server, each with its outbox entry in the same transaction as the
//!   record. The others were acknowledged by the server, which may hold newer revisions from
//!   other tablets by now: sending them again would only bring back stale conflicts.
//! - The backup's profile is adopted when this tablet has no record of its own site yet (a new
//!   tablet, or one whose storage was wiped); the same site keeps the tablet's current profile;
//!   a tablet that already holds another site's entries refuses the file.

use std::collections::{HashMap, HashSet};

use assiette_domain::meals::DailyMealCount;
use assiette_domain::number::{format_fr_date, group_thousands};
use assiette_domain::purchase::Purchase;
use assiette_domain::time::{timestamp_in_range, Rfc3339};
use assiette_domain::validation::Validation;
use assiette_domain::waste::Weighing;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::outbox::OutboxEntry;
use crate::profile::SiteProfile;
use crate::stores;

/// Marks a file as an Assiette backup.
pub const BACKUP_FORMAT: &str = "assiette-sauvegarde";
/// Version of the format written; files of a higher version are refused with a message.
pub const BACKUP_VERSION: u32 = 1;
/// Larger files are refused before reading (a year of one site is about 2 MB).
pub const MAX_BACKUP_BYTES: f64 = 50.0 * 1024.0 * 1024.0;
/// At most this many problems are listed; the rest are counted.
const MAX_LISTED_ERRORS: usize = 15;

/// The whole backup file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    pub format: String,
    pub version: u32,
    #[serde(with = "assiette_domain::time::rfc3339")]
    pub exported_at: DateTime<Utc>,
    pub app_version: String,
    pub profile: Option<SiteProfile>,
    /// Informative settings (last sync); never imported (see the module's decisions).
    #[serde(default)]
    pub settings: BackupSettings,
    #[serde(default)]
    pub meal_counts: Vec<DailyMealCount>,
    #[serde(default)]
    pub weighings: Vec<Weighing>,
    #[serde(default)]
    pub purchases: Vec<Purchase>,
    #[serde(default)]
    pub outbox: Vec<OutboxEntry>,
}

/// The informative settings a backup carries: `{"last_sync": "<RFC 3339>"}` (or `{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
}

impl Backup {
    /// A backup of the given data, stamped now.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        app_version: &str,
        exported_at: DateTime<Utc>,
        profile: Option<SiteProfile>,
        settings: BackupSettings,
        meal_counts: Vec<DailyMealCount>,
        weighings: Vec<Weighing>,
        purchases: Vec<Purchase>,
        outbox: Vec<OutboxEntry>,
    ) -> Self {
        Backup {
            format: BACKUP_FORMAT.to_owned(),
            version: BACKUP_VERSION,
            exported_at,
            app_version: app_version.to_owned(),
            profile,
            settings,
            meal_counts,
            weighings,
            purchases,
            outbox,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a backup is plain data")
    }

    /// Number of records of the three stores.
    pub fn record_count(&self) -> usize {
        self.meal_counts.len() + self.weighings.len() + self.purchases.len()
    }
}

/// "assiette-sauvegarde-ecole-jean-jaures-2026-03-02.json": ASCII, no spaces.
pub fn file_name(site_name: &str, date: NaiveDate) -> String {
    let mut slug = String::new();
    for c in site_name.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(40).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("{BACKUP_FORMAT}-{date}.json")
    } else {
        format!("{BACKUP_FORMAT}-{slug}-{date}.json")
    }
}

/// French letters to their ASCII base (œ → oe).
fn fold_accent(c: char) -> Vec<char> {
    let s: &str = match c {
        'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' => "a",
        'ç' | 'Ç' => "c",
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => "e",
        'î' | 'ï' | 'Î' | 'Ï' => "i",
        'ô' | 'ö' | 'Ô' | 'Ö' => "o",
        'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => "u",
        'ÿ' => "y",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        _ => return vec![c],
    };
    s.chars().collect()
}

/// Why a file cannot be imported: French lines, each saying what is wrong. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError(pub Vec<String>);

impl ImportError {
    pub fn one(message: impl Into<String>) -> Self {
        ImportError(vec![message.into()])
    }

    /// All problems in one French text.
    pub fn message(&self) -> String {
        let mut text = String::from("Import impossible, rien n'a été modifié : ");
        text.push_str(&self.0.join(" "));
        text
    }
}

/// The top level of a file, each field kept as raw JSON text so that every part is read (and its
/// problem reported) on its own, with the same `serde_json::from_str` the storage layer uses:
/// one deserializer per record type in the wasm instead of one per intermediate representation.
#[derive(Deserialize)]
struct RawBackup<'a> {
    #[serde(borrow)]
    format: Option<&'a RawValue>,
    #[serde(borrow)]
    version: Option<&'a RawValue>,
    #[serde(borrow)]
    exported_at: Option<&'a RawValue>,
    #[serde(borrow)]
    app_version: Option<&'a RawValue>,
    #[serde(borrow)]
    profile: Option<&'a RawValue>,
    #[serde(borrow)]
    settings: Option<&'a RawValue>,
    #[serde(borrow)]
    meal_counts: Option<&'a RawValue>,
    #[serde(borrow)]
    weighings: Option<&'a RawValue>,
    #[serde(borrow)]
    purchases: Option<&'a RawValue>,
    #[serde(borrow)]
    outbox: Option<&'a RawValue>,
}

fn read<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Option<T> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

/// A backup file as read: what is valid in it, and what was left out (French lines).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub backup: Backup,
    /// Each record, outbox entry or part of the file left out, and why (at most
    /// [`MAX_LISTED_ERRORS`] lines, then a count).
    pub left_out: Vec<String>,
}

impl Parsed {
    /// What was left out, in one French text (`None` when nothing was).
    pub fn left_out_fr(&self) -> Option<String> {
        (!self.left_out.is_empty())
            .then(|| format!("Non importé (le reste de la sauvegarde est importé) : {}", self.left_out.join(" ")))
    }
}

/// Reads and checks a backup file. `today` is the device's date (records dated after it are
/// refused, as at entry). Refused whole only when it is not a readable backup of a version this
/// tablet reads; otherwise its valid part, with what was left out.
pub fn parse(text: &str, today: NaiveDate) -> Result<Parsed, ImportError> {
    let raw: RawBackup = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ImportError::one(format!(
                "ce fichier n'est pas une sauvegarde Assiette lisible (JSON invalide ligne {}, colonne {}). Choisissez le fichier « {BACKUP_FORMAT}-….json » exporté depuis Réglages.",
                e.line(),
                e.column()
            ))
        } else {
            // Valid JSON but not an object (or a field given twice).
            ImportError::one(not_a_backup())
        }
    })?;
    if read::<&str>(raw.format) != Some(BACKUP_FORMAT) {
        return Err(ImportError::one(not_a_backup()));
    }
    match read::<u64>(raw.version) {
        Some(v) if v == u64::from(BACKUP_VERSION) => {}
        Some(v) if v > u64::from(BACKUP_VERSION) => {
            return Err(ImportError::one(format!(
                "cette sauvegarde vient d'une version plus récente d'Assiette (format {v}, cette tablette lit le format {BACKUP_VERSION}). Mettez l'application à jour (bouton « Mettre à jour » ou rechargez la page avec une connexion), puis réessayez."
            )))
        }
        _ => return Err(ImportError::one("la version du format de sauvegarde est absente ou illisible : le fichier a été modifié. Exportez une nouvelle sauvegarde depuis la tablette d'origine.")),
    }
    let mut errors = Vec::new();
    let profile = match raw.profile {
        None => None,
        Some(p) => match serde_json::from_str::<Option<SiteProfile>>(p.get()) {
            Ok(p) => p,
            Err(e) => {
                errors.push(format!("Le profil du restaurant est illisible ({e}) : il n'est pas repris."));
                None
            }
        },
    };
    let exported_at = read::<Rfc3339>(raw.exported_at).map_or(DateTime::<Utc>::UNIX_EPOCH, |t| t.0);
    let meal_counts: Vec<DailyMealCount> = records(raw.meal_counts, "meal_counts", "Le comptage de repas", typed, &mut errors);
    let weighings: Vec<Weighing> = records(raw.weighings, "weighings", "La pesée", typed, &mut errors);
    let purchases: Vec<Purchase> = records(raw.purchases, "purchases", "L'achat", typed, &mut errors);
    let outbox: Vec<OutboxEntry> = records(raw.outbox, "outbox", "L'envoi en attente", typed, &mut errors);
    let backup = Backup {
        format: BACKUP_FORMAT.to_owned(),
        version: BACKUP_VERSION,
        exported_at,
        app_version: read::<String>(raw.app_version).unwrap_or_default(),
        profile,
        settings: read(raw.settings).unwrap_or_default(),
        meal_counts,
        weighings,
        purchases,
        outbox,
    };
    let mut backup = backup;
    keep_valid(&mut backup, today, &mut errors);
    Ok(Parsed { backup, left_out: limit(errors) })
}

fn not_a_backup() -> String {
    format!("ce fichier n'est pas une sauvegarde Assiette. Choisissez le fichier « {BACKUP_FORMAT}-….json » exporté depuis Réglages.")
}

fn limit(mut errors: Vec<String>) -> Vec<String> {
    if errors.len() > MAX_LISTED_ERRORS {
        let more = errors.len() - MAX_LISTED_ERRORS;
        errors.truncate(MAX_LISTED_ERRORS);
        errors.push(format!(
            "… et {} autre{} problème{}.",
            group_thousands(more as u64),
            if more > 1 { "s" } else { "" },
            if more > 1 { "s" } else { "" }
        ));
    }
    errors
}

/// A record read as its type (serde's error as the detail).
fn typed<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// Reads the array `key`, each element on its own with `read` so that a bad one is named by its
/// number.
fn records<T>(raw: Option<&RawValue>, key: &str, what: &str, read: impl Fn(&str) -> Result<T, String>, errors: &mut Vec<String>) -> Vec<T> {
    let Some(raw) = raw else { return Vec::new() };
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
        errors.push(format!("La liste « {key} » de la sauvegarde est abîmée (ce n'est pas une liste) : rien n'en est importé."));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match read(item.get()) {
            Ok(r) => out.push(r),
            Err(e) => errors.push(format!("{what} n° {} de la sauvegarde est illisible (détail : {e}) : non importé.", i + 1)),
        }
    }
    out
}

/// Keeps what is valid: records that pass the domain's validation, with a valid id and
/// revision, each id once (the first), of the profile's site; outbox entries that are revisions
/// of a record kept. Each thing left out is named in `errors`.
fn keep_valid(b: &mut Backup, today: NaiveDate, errors: &mut Vec<String>) {
    // Timestamps outside the years the server stores would be refused at every push (and
    // cannot all be written back): such a record is left out like any invalid one.
    fn meta_ok(m: &assiette_domain::record::RecordMeta) -> bool {
        !m.id.is_nil() && m.revision > 0 && timestamp_in_range(m.modified_at) && m.server_updated_at.is_none_or(timestamp_in_range)
    }
    fn problems(v: Validation, meta_ok: bool) -> Vec<String> {
        let mut lines: Vec<String> = v.errors.into_iter().map(|e| e.message).collect();
        if !meta_ok {
            lines.push("identifiant, révision ou date de modification invalide".to_owned());
        }
        lines
    }
    // One pass per list: the record's problems (validation, meta), then its id seen before.
    fn keep<T>(
        list: &mut Vec<T>,
        seen: &mut HashSet<Uuid>,
        errors: &mut Vec<String>,
        describe: impl Fn(usize, &T) -> String,
        check: impl Fn(&T) -> (Uuid, Vec<String>),
    ) {
        let mut i = 0;
        list.retain(|r| {
            i += 1;
            let (id, lines) = check(r);
            if !lines.is_empty() {
                errors.push(format!("{}, non importé : {}.", describe(i, r), lines.join(" ; ").trim_end_matches('.')));
                false
            } else if !seen.insert(id) {
                errors.push(format!("{} ({id}) figure deux fois dans le fichier : seule la première est importée.", describe(i, r)));
                false
            } else {
                true
            }
        });
    }
    let mut seen = HashSet::new();
    keep(
        &mut b.meal_counts,
        &mut seen,
        errors,
        |i, c| format!("Le comptage de repas n° {i} (service du {})", format_fr_date(c.service_date)),
        |c| (c.meta.id, problems(c.validate(today), meta_ok(&c.meta))),
    );
    keep(
        &mut b.weighings,
        &mut seen,
        errors,
        |i, w| format!("La pesée n° {i} (service du {})", format_fr_date(w.service_date)),
        |w| (w.meta.id, problems(w.validate(today), meta_ok(&w.meta))),
    );
    keep(
        &mut b.purchases,
        &mut seen,
        errors,
        |i, p| format!("L'achat n° {i} (du {})", format_fr_date(p.date)),
        |p| (p.meta.id, problems(p.validate(today), meta_ok(&p.meta))),
    );
    if b.profile.as_ref().is_some_and(|p| p.site_id.is_nil()) {
        errors.push("Le profil du restaurant n'a pas d'identifiant : il n'est pas repris.".to_owned());
        b.profile = None;
    }
    if let Some(p) = &b.profile {
        let before = b.meal_counts.len() + b.weighings.len();
        b.meal_counts.retain(|c| c.site_id == p.site_id);
        b.weighings.retain(|w| w.site_id == p.site_id);
        let foreign = before - b.meal_counts.len() - b.weighings.len();
        if foreign > 0 {
            errors.push(format!(
                "{} saisie(s) appartiennent à un autre restaurant que « {} » (le fichier mélange plusieurs tablettes) : elles ne sont pas importées.",
                group_thousands(foreign as u64),
                p.name
            ));
        }
    }
    // Every outbox entry must be a revision of a record kept.
    let known: HashMap<Uuid, (&str, u64)> = b
        .meal_counts
        .iter()
        .map(|c| (c.meta.id, (stores::MEAL_COUNTS, c.meta.revision)))
        .chain(b.weighings.iter().map(|w| (w.meta.id, (stores::WEIGHINGS, w.meta.revision))))
        .chain(b.purchases.iter().map(|p| (p.meta.id, (stores::PURCHASES, p.meta.revision))))
        .collect();
    let mut i = 0;
    b.outbox.retain(|e| {
        i += 1;
        let what = format!("L'envoi en attente n° {i}");
        match known.get(&e.record_id) {
            Some((store, revision)) if *store == e.store && e.revision <= *revision => true,
            Some(_) => {
                errors.push(format!("{what} ne correspond pas à la saisie qu'il concerne (type ou révision) : il n'est pas importé."));
                false
            }
            None => {
                errors.push(format!("{what} concerne une saisie absente du fichier ou non importée : il n'est pas importé."));
                false
            }
        }
    });
}

/// What this tablet already holds, as the import needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalState {
    /// Revision of every local record, by id (all stores: ids are UUIDs).
    pub revisions: HashMap<Uuid, u64>,
    pub profile: Option<SiteProfile>,
    /// Whether any local meal count or weighing belongs to the current profile's site.
    pub has_own_records: bool,
}

/// What happens to the site profile.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileAction {
    /// The tablet takes the backup's profile (new or wiped tablet).
    Adopt(SiteProfile),
    /// The tablet keeps its profile (same site, or no profile in the file).
    Keep,
}

/// The records to write, decided before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportPlan {
    pub meal_counts: Vec<DailyMealCount>,
    pub weighings: Vec<Weighing>,
    pub purchases: Vec<Purchase>,
    /// Records already here at the same or a newer revision.
    pub already_present: usize,
    /// Records of the plan the source tablet had not sent yet: queued for the server.
    pub unsent: usize,
    /// Their ids.
    pub to_send: HashSet<Uuid>,
    pub profile: ProfileAction,
}

impl ImportPlan {
    pub fn record_count(&self) -> usize {
        self.meal_counts.len() + self.weighings.len() + self.purchases.len()
    }
}

/// Decides what to import; refuses a file of another site when this tablet has its own entries.
pub fn plan(backup: &Backup, local: &LocalState) -> Result<ImportPlan, ImportError> {
    let profile = match (&backup.profile, &local.profile) {
        (None, _) => ProfileAction::Keep,
        (Some(b), Some(l)) if b.site_id == l.site_id => ProfileAction::Keep,
        (Some(b), Some(l)) if local.has_own_records => {
            return Err(ImportError::one(format!(
                "cette sauvegarde est celle du restaurant « {} », et cette tablette contient déjà des saisies du restaurant « {} ». Importez-la sur une tablette neuve ou sur celle de « {} ».",
                b.name, l.name, b.name
            )))
        }
        (Some(b), _) => ProfileAction::Adopt(b.clone()),
    };
    let target_site = match &profile {
        ProfileAction::Adopt(p) => Some(p.site_id),
        ProfileAction::Keep => local.profile.as_ref().map(|p| p.site_id),
    };
    if backup.profile.is_none() {
        if let Some(site) = target_site {
            let foreign = backup.meal_counts.iter().any(|c| c.site_id != site) || backup.weighings.iter().any(|w| w.site_id != site);
            if foreign {
                return Err(ImportError::one(
                    "cette sauvegarde n'a pas de profil et ses saisies appartiennent à un autre restaurant que celui de cette tablette.",
                ));
            }
        }
    }
    let unsent_ids: HashSet<Uuid> = backup.outbox.iter().map(|e| e.record_id).collect();
    let mut already_present = 0;
    let mut to_send = HashSet::new();
    let mut wanted = |id: Uuid, revision: u64| -> bool {
        let new = local.revisions.get(&id).is_none_or(|r| revision > *r);
        if new {
            if unsent_ids.contains(&id) {
                to_send.insert(id);
            }
        } else {
            already_present += 1;
        }
        new
    };
    let meal_counts = backup.meal_counts.iter().filter(|c| wanted(c.meta.id, c.meta.revision)).cloned().collect();
    let weighings = backup.weighings.iter().filter(|w| wanted(w.meta.id, w.meta.revision)).cloned().collect();
    let purchases = backup.purchases.iter().filter(|p| wanted(p.meta.id, p.meta.revision)).cloned().collect();
    Ok(ImportPlan { meal_counts, weighings, purchases, already_present, unsent: to_send.len(), to_send, profile })
}

/// What an import did, for the French report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub meal_counts: usize,
    pub weighings: usize,
    pub purchases: usize,
    pub already_present: usize,
    pub unsent: usize,
    pub profile_adopted: bool,
}

impl ImportReport {
    pub fn message(&self) -> String {
        let n = |k: usize, one: &str, many: &str| format!("{} {}", group_thousands(k as u64), if k > 1 { many } else { one });
        let mut text = if self.meal_counts + self.weighings + self.purchases == 0 {
            "Aucune nouvelle saisie à importer".to_owned()
        } else {
            format!(
                "Importé : {}, {}, {}",
                n(self.meal_counts, "comptage de repas", "comptages de repas"),
                n(self.weighings, "pesée", "pesées"),
                n(self.purchases, "achat", "achats")
            )
        };
        if self.already_present > 0 {
            text.push_str(&format!(
                " ; {} déjà sur cette tablette (même version ou plus récente), laissée{} telle{} quelle{}",
                n(self.already_present, "saisie", "saisies"),
                if self.already_present > 1 { "s" } else { "" },
                if self.already_present > 1 { "s" } else { "" },
                if self.already_present > 1 { "s" } else { "" },
            ));
        }
        text.push('.');
        if self.profile_adopted {
            text.push_str(" Le profil du restaurant de la sauvegarde est repris.");
        }
        if self.unsent > 0 {
            let many = self.unsent > 1;
            text.push_str(&format!(
                " {} que la tablette d'origine n'avait pas encore envoyée{} partir{} au serveur à la prochaine synchronisation.",
                n(self.unsent, "saisie", "saisies"),
                if many { "s" } else { "" },
                if many { "ont" } else { "a" }
            ));
        }
        text
    }
}

/// Records and backups the tests of this crate and of the app share.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    use super::*;
    use crate::outbox::RecordJson;
    use assiette_domain::record::RecordMeta;
    use assiette_domain::waste::Stage;
    use chrono::TimeZone;

    pub fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }
    pub fn today() -> NaiveDate {
        d(20)
    }
    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 20, 15, 0, 0).unwrap()
    }
    pub fn profile(site: u128, name: &str) -> SiteProfile {
        SiteProfile { site_id: Uuid::from_u128(site), name: name.to_owned(), ..SiteProfile::new_local() }
    }
    pub fn count(id: u128, site: u128, revision: u64) -> DailyMealCount {
        let mut meta = RecordMeta::new(Uuid::from_u128(id), now());
        meta.revision = revision;
        DailyMealCount { meta, site_id: Uuid::from_u128(site), service_date: d(2), planned: 120, served_children: 110, served_adults: 6 }
    }
    pub fn weighing(id: u128, site: u128, revision: u64, grams: u64) -> Weighing {
        let mut meta = RecordMeta::new(Uuid::from_u128(id), now());
        meta.revision = revision;
        Weighing {
            meta,
            site_id: Uuid::from_u128(site),
            service_date: d(3),
            stage: Stage::Leftovers,
            component: None,
            mass_grams: grams,
            sorted: None,
            destination: None,
        }
    }
    pub fn outbox_for(w: &Weighing) -> OutboxEntry {
        OutboxEntry {
            seq: Some(7),
            store: stores::WEIGHINGS.to_owned(),
            record_id: w.meta.id,
            revision: w.meta.revision,
            record: RecordJson::of(w).unwrap(),
            rejected: None,
            server: None,
        }
    }
    pub fn sample() -> Backup {
        let w2 = weighing(11, 1, 2, 4_500);
        Backup::new(
            "0.1.0",
            now(),
            Some(profile(1, "École Jean-Jaurès")),
            BackupSettings { last_sync: Some("2026-03-19T16:00:00Z".to_owned()) },
            vec![count(10, 1, 1)],
            vec![weighing(12, 1, 1, 3_000), w2.clone()],
            vec![],
            vec![outbox_for(&w2)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn round_trip_through_json() {
        let b = sample();
        let parsed = parse(&b.to_json(), today()).expect("own export reads back");
        assert_eq!(parsed, Parsed { backup: b, left_out: vec![] });
        assert_eq!(parsed.backup.record_count(), 3);
        assert_eq!(parsed.left_out_fr(), None);
    }

    #[test]
    fn file_names_are_ascii_slugs() {
        assert_eq!(file_name("École Jean-Jaurès", d(2)), "assiette-sauvegarde-ecole-jean-jaures-2026-03-02.json");
        assert_eq!(file_name("  Cœur de ville / self ", d(2)), "assiette-sauvegarde-coeur-de-ville-self-2026-03-02.json");
        assert_eq!(file_name("!!!", d(2)), "assiette-sauvegarde-2026-03-02.json");
    }

    #[test]
    fn bad_files_are_refused_in_french() {
        let e = parse("{ pas du json", today()).unwrap_err().message();
        assert!(
            e.starts_with(
                "Import impossible, rien n'a été modifié : ce fichier n'est pas une sauvegarde Assiette lisible (JSON invalide ligne 1"
            ),
            "{e}"
        );
        let e = parse(r#"{"format":"autre","version":1}"#, today()).unwrap_err().message();
        assert!(e.contains("n'est pas une sauvegarde Assiette"), "{e}");
        let e = parse(r#"[1,2]"#, today()).unwrap_err().message();
        assert!(e.contains("n'est pas une sauvegarde Assiette"), "{e}");
        let e = parse(r#"{"format":"assiette-sauvegarde","version":2}"#, today()).unwrap_err().message();
        assert!(e.contains("version plus récente d'Assiette (format 2"), "{e}");
        let e = parse(r#"{"format":"assiette-sauvegarde"}"#, today()).unwrap_err().message();
        assert!(e.contains("version du format"), "{e}");
    }

    #[test]
    fn invalid_records_are_left_out_and_named_and_the_rest_is_kept() {
        let mut b = sample();
        b.weighings[0].mass_grams = 0; // refused at entry
        b.meal_counts[0].service_date = d(25); // after "today"
        let parsed = parse(&b.to_json(), today()).unwrap();
        let errors = &parsed.left_out;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("Le comptage de repas n° 1 (service du 25/03/2026), non importé : La date du service (25/03/2026) est dans le futur"),
            "{errors:?}"
        );
        assert!(errors[1].starts_with("La pesée n° 1 (service du 03/03/2026), non importé : Saisissez la masse pesée"), "{errors:?}");
        // The valid weighing and its outbox entry are kept.
        assert!(parsed.backup.meal_counts.is_empty());
        assert_eq!(parsed.backup.weighings, vec![b.weighings[1].clone()]);
        assert_eq!(parsed.backup.outbox, b.outbox);
        let text = parsed.left_out_fr().unwrap();
        assert!(text.starts_with("Non importé (le reste de la sauvegarde est importé) : Le comptage de repas n° 1"), "{text}");
    }

    #[test]
    fn unreadable_records_are_named_by_their_number_and_left_out_with_their_outbox_entry() {
        let mut v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        v["weighings"][1]["stage"] = serde_json::json!("poubelle");
        let parsed = parse(&v.to_string(), today()).unwrap();
        let errors = &parsed.left_out;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("La pesée n° 2 de la sauvegarde est illisible"), "{errors:?}");
        assert_eq!(errors[1], "L'envoi en attente n° 1 concerne une saisie absente du fichier ou non importée : il n'est pas importé.");
        assert_eq!((parsed.backup.meal_counts.len(), parsed.backup.weighings.len(), parsed.backup.outbox.len()), (1, 1, 0));
        // A whole list damaged: the others are still read.
        v["weighings"] = serde_json::json!({"a": 1});
        let parsed = parse(&v.to_string(), today()).unwrap();
        assert!(parsed.left_out[0].starts_with("La liste « weighings » de la sauvegarde est abîmée"), "{:?}", parsed.left_out);
        assert_eq!(parsed.backup.meal_counts.len(), 1);
    }

    #[test]
    fn duplicates_foreign_records_and_stray_outbox_entries_are_left_out() {
        let mut b = sample();
        b.weighings.push(b.weighings[0].clone());
        b.meal_counts.push(count(20, 2, 1));
        let stray = weighing(99, 1, 1, 1_000);
        b.outbox.push(outbox_for(&stray));
        let mut newer = outbox_for(&b.weighings[1]);
        newer.revision = 5;
        b.outbox.push(newer);
        let parsed = parse(&b.to_json(), today()).unwrap();
        let text = parsed.left_out.join("\n");
        assert!(text.contains("figure deux fois dans le fichier : seule la première est importée"), "{text}");
        assert!(text.contains("1 saisie(s) appartiennent à un autre restaurant que « École Jean-Jaurès »"), "{text}");
        assert!(text.contains("L'envoi en attente n° 2 concerne une saisie absente du fichier"), "{text}");
        assert!(text.contains("L'envoi en attente n° 3 ne correspond pas"), "{text}");
        assert_eq!(parsed.left_out.len(), 4, "{text}");
        let sample = sample();
        assert_eq!(parsed.backup.meal_counts, sample.meal_counts);
        assert_eq!(parsed.backup.weighings, sample.weighings);
        assert_eq!(parsed.backup.outbox, sample.outbox);
    }

    #[test]
    fn records_stamped_outside_the_years_the_server_stores_are_left_out() {
        let mut v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        v["weighings"][0]["meta"]["modified_at"] = serde_json::json!("0000-01-01T00:00:00+01:00");
        v["meal_counts"][0]["meta"]["server_updated_at"] = serde_json::json!("9999-12-31T23:59:59-23:59");
        let parsed = parse(&v.to_string(), today()).unwrap();
        assert_eq!(parsed.left_out.len(), 2, "{:?}", parsed.left_out);
        assert!(parsed.left_out[0].starts_with("Le comptage de repas n° 1 (service du 02/03/2026), non importé : identifiant, révision ou date de modification invalide"), "{:?}", parsed.left_out);
        assert!(parsed.left_out[1].starts_with("La pesée n° 1"), "{:?}", parsed.left_out);
        assert_eq!(parsed.backup.weighings.len(), 1);
        // What is kept writes back and reads back to itself.
        assert_eq!(parse(&parsed.backup.to_json(), today()).unwrap(), Parsed { backup: parsed.backup, left_out: vec![] });
    }

    #[test]
    fn long_lists_of_what_is_left_out_are_cut_with_a_count() {
        let mut b = sample();
        b.weighings = (0..40).map(|i| weighing(1000 + i, 1, 1, 0)).collect();
        b.outbox.clear();
        let errors = parse(&b.to_json(), today()).unwrap().left_out;
        assert_eq!(errors.len(), MAX_LISTED_ERRORS + 1);
        assert_eq!(errors.last().unwrap(), "… et 25 autres problèmes.");
    }

    #[test]
    fn a_new_tablet_adopts_the_profile_and_imports_everything() {
        let b = sample();
        let local = LocalState { revisions: HashMap::new(), profile: Some(profile(5, "Ma cantine")), has_own_records: false };
        let p = plan(&b, &local).unwrap();
        assert_eq!(p.profile, ProfileAction::Adopt(b.profile.clone().unwrap()));
        assert_eq!((p.meal_counts.len(), p.weighings.len(), p.purchases.len(), p.already_present, p.unsent), (1, 2, 0, 0, 1));
        // Only the weighing the source tablet had not sent goes to the server again.
        assert_eq!(p.to_send, HashSet::from([Uuid::from_u128(11)]));
    }

    #[test]
    fn only_unknown_or_newer_revisions_are_imported() {
        let b = sample();
        let revisions = HashMap::from([
            (Uuid::from_u128(10), 1), // same revision: kept
            (Uuid::from_u128(11), 1), // older here: the backup's revision 2 wins
            (Uuid::from_u128(12), 3), // newer here: kept
        ]);
        let local = LocalState { revisions, profile: Some(profile(1, "École Jean-Jaurès")), has_own_records: true };
        let p = plan(&b, &local).unwrap();
        assert_eq!(p.profile, ProfileAction::Keep);
        assert!(p.meal_counts.is_empty());
        assert_eq!(p.weighings.iter().map(|w| (w.meta.id, w.meta.revision)).collect::<Vec<_>>(), vec![(Uuid::from_u128(11), 2)]);
        assert_eq!((p.already_present, p.unsent), (2, 1));
        // Importing again once applied: nothing left to do.
        let after = LocalState {
            revisions: HashMap::from([(Uuid::from_u128(10), 1), (Uuid::from_u128(11), 2), (Uuid::from_u128(12), 3)]),
            ..local
        };
        let again = plan(&b, &after).unwrap();
        assert_eq!((again.record_count(), again.already_present), (0, 3));
    }

    #[test]
    fn another_sites_file_is_refused_on_a_tablet_with_entries() {
        let local = LocalState { revisions: HashMap::new(), profile: Some(profile(5, "Les Tilleuls")), has_own_records: true };
        let e = plan(&sample(), &local).unwrap_err().message();
        assert_eq!(
            e,
            "Import impossible, rien n'a été modifié : cette sauvegarde est celle du restaurant « École Jean-Jaurès », et cette tablette contient déjà des saisies du restaurant « Les Tilleuls ». Importez-la sur une tablette neuve ou sur celle de « École Jean-Jaurès »."
        );
        let mut no_profile = sample();
        no_profile.profile = None;
        assert!(plan(&no_profile, &local).is_err());
    }

    #[test]
    fn reports_count_in_french() {
        let r = ImportReport { meal_counts: 1, weighings: 2, purchases: 0, already_present: 3, unsent: 1, profile_adopted: true };
        assert_eq!(
            r.message(),
            "Importé : 1 comptage de repas, 2 pesées, 0 achat ; 3 saisies déjà sur cette tablette (même version ou plus récente), laissées telles quelles. Le profil du restaurant de la sauvegarde est repris. 1 saisie que la tablette d'origine n'avait pas encore envoyée partira au serveur à la prochaine synchronisation."
        );
        let none = ImportReport { already_present: 1, ..Default::default() };
        assert_eq!(
            none.message(),
            "Aucune nouvelle saisie à importer ; 1 saisie déjà sur cette tablette (même version ou plus récente), laissée telle quelle."
        );
    }
}
