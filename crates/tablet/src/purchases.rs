//! The manager's purchase screens, pure: who may see which site ([`Scope`]), the list's filters
//! and sums, the entry form read from what was typed, duplicate / delete / undo revisions, and
//! the import's preview and error list. The app draws; this decides.

use std::collections::{BTreeSet, HashMap, HashSet};

use assiette_domain::import::ImportError;
use assiette_domain::number::{format_euros, format_fr_date, parse_euros_to_cents, parse_fr_date};
use assiette_domain::purchase::{Characteristic, Family, LocalDefinition, Origin, Purchase};
use assiette_domain::record::RecordMeta;
use assiette_domain::validation::FieldError;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

/// One site a manager may read and write: its SIRET (the purchases' key) and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSite {
    pub siret: String,
    pub name: String,
}

/// The sites a manager works on. The app builds it in one place (today from the site it
/// stores; with managers' sessions, from the session's sites): everything else asks this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub sites: Vec<ScopeSite>,
}

impl Scope {
    pub fn sirets(&self) -> HashSet<String> {
        self.sites.iter().map(|s| s.siret.clone()).collect()
    }

    pub fn contains(&self, siret: &str) -> bool {
        self.sites.iter().any(|s| s.siret == siret)
    }

    /// The site's name, or its SIRET when it is not in the scope.
    pub fn name_of<'a>(&'a self, siret: &'a str) -> &'a str {
        self.sites.iter().find(|s| s.siret == siret).map_or(siret, |s| s.name.as_str())
    }
}

/// What the list shows. `None` / empty: no condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// One site (its SIRET); `None`: every site of the scope.
    pub site: Option<String>,
    pub year: Option<i32>,
    /// Words searched in the description and the supplier (case and accents ignored).
    pub query: String,
    pub family: Option<Family>,
    pub label: Option<Characteristic>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Lower case without French accents, for searching.
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ÿ' => 'y',
            other => other,
        })
        .collect()
}

impl Filter {
    /// Whether a (live) purchase of the scope is shown. Deleted ones never are.
    pub fn matches(&self, p: &Purchase, scope: &Scope, words: &[String]) -> bool {
        !p.meta.deleted
            && scope.contains(&p.siret)
            && self.site.as_ref().is_none_or(|s| *s == p.siret)
            && self.year.is_none_or(|y| p.date.year() == y)
            && self.family.is_none_or(|f| p.family == f)
            && self.label.is_none_or(|l| p.has(l))
            && self.from.is_none_or(|d| p.date >= d)
            && self.to.is_none_or(|d| p.date <= d)
            && (words.is_empty() || {
                let text = fold(&format!("{} {}", p.description, p.supplier));
                words.iter().all(|w| text.contains(w.as_str()))
            })
    }

    /// The search's words, folded.
    pub fn words(&self) -> Vec<String> {
        fold(&self.query).split_whitespace().map(str::to_owned).collect()
    }
}

/// The lines shown and what they add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<'a> {
    /// Newest first (date, then the most recently entered).
    pub rows: Vec<&'a Purchase>,
    /// Sum of the rows' prices excluding tax, in cents.
    pub total_cents: i64,
}

pub fn list<'a>(purchases: &'a [Purchase], filter: &Filter, scope: &Scope) -> Listing<'a> {
    let words = filter.words();
    let mut rows: Vec<&Purchase> = purchases.iter().filter(|p| filter.matches(p, scope, &words)).collect();
    rows.sort_by(|a, b| b.date.cmp(&a.date).then(b.meta.id.cmp(&a.meta.id)));
    let total_cents = rows.iter().map(|p| p.price_cents).sum();
    Listing { rows, total_cents }
}

/// Years that have live purchases in the scope, newest first.
pub fn years(purchases: &[Purchase], scope: &Scope) -> Vec<i32> {
    let set: BTreeSet<i32> = purchases.iter().filter(|p| !p.meta.deleted && scope.contains(&p.siret)).map(|p| p.date.year()).collect();
    set.into_iter().rev().collect()
}

/// Earlier values of a text field (supplier or description) for autocompletion: distinct
/// (ignoring case), most used first, at most `max`.
pub fn suggestions<'a>(purchases: &'a [Purchase], field: impl Fn(&'a Purchase) -> &'a str, max: usize) -> Vec<String> {
    let mut counts: HashMap<String, (usize, &str)> = HashMap::new();
    for p in purchases.iter().filter(|p| !p.meta.deleted) {
        let v = field(p).trim();
        if !v.is_empty() {
            counts.entry(v.to_lowercase()).or_insert((0, v)).0 += 1;
        }
    }
    let mut list: Vec<(usize, &str)> = counts.into_values().collect();
    list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    list.into_iter().take(max).map(|(_, v)| v.to_owned()).collect()
}

/// The entry form as typed: every field a text or a box, so a refused form is shown again
/// exactly as it was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurchaseForm {
    pub siret: String,
    /// dd/mm/yyyy (or yyyy-mm-dd).
    pub date: String,
    pub description: String,
    pub supplier: String,
    /// Family code (`famille_produits`), empty when none is chosen.
    pub family: String,
    /// « 12,50 », « 1 234,50 € », « 12.5 ».
    pub price: String,
    pub labels: Vec<Characteristic>,
    /// "", "FRANCE" or "EUROPE".
    pub origin: String,
    pub short_chain: bool,
    pub local: bool,
    /// Local definition code, empty when none.
    pub local_definition: String,
    pub local_km: String,
}

/// A form field's error: the form's field name (as [`PurchaseForm`]'s) and a French message.
pub type FormError = FieldError;

fn form_error(field: &str, message: impl Into<String>) -> FormError {
    FieldError { field: field.to_owned(), message: message.into() }
}

/// The form field showing a domain field's error.
fn form_field(domain_field: &str) -> &'static str {
    match domain_field {
        "siret" => "siret",
        "description" => "description",
        "fournisseur" => "supplier",
        "date" => "date",
        "prix_ht" => "price",
        "famille_produits" => "family",
        "origine" => "origin",
        "definition_local" => "local_definition",
        "definition_local_km" => "local_km",
        _ => "labels",
    }
}

impl PurchaseForm {
    /// A new form for a site, dated today.
    pub fn new(siret: &str, today: NaiveDate) -> Self {
        PurchaseForm { siret: siret.to_owned(), date: format_fr_date(today), ..Default::default() }
    }

    /// The form showing a stored purchase (to correct it).
    pub fn from_purchase(p: &Purchase) -> Self {
        PurchaseForm {
            siret: p.siret.clone(),
            date: format_fr_date(p.date),
            description: p.description.clone(),
            supplier: p.supplier.clone(),
            family: p.family.code().to_owned(),
            price: format_euros(p.price_cents).trim_end_matches(['€', '\u{202F}']).to_owned(),
            labels: p.egalim_labels().collect(),
            origin: p.origin().map(|o| o.code().to_owned()).unwrap_or_default(),
            short_chain: p.is_short_chain(),
            local: p.is_local(),
            local_definition: p.local_definition.map(|d| d.code().to_owned()).unwrap_or_default(),
            local_km: p.local_km.map(|k| k.to_string()).unwrap_or_default(),
        }
    }

    /// The purchase the form describes, checked by the domain's rules (`Purchase::validate`),
    /// as a new record (`base` = None, with `id`) or as the next revision of `base`. Every
    /// error is given, each with its form field.
    pub fn to_purchase(&self, base: Option<&Purchase>, id: Uuid, now: DateTime<Utc>, today: NaiveDate) -> Result<Purchase, Vec<FormError>> {
        let mut errors = Vec::new();
        let date = match parse_date(&self.date) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(form_error("date", e));
                None
            }
        };
        let price = match parse_euros_to_cents(&self.price) {
            Ok(c) if c as u64 <= assiette_domain::sync::MAX_SAFE_INTEGER => Some(c as i64),
            Ok(_) => {
                errors.push(form_error("price", "Montant trop grand : vérifiez la saisie."));
                None
            }
            Err(e) => {
                errors.push(form_error("price", e));
                None
            }
        };
        let family = if self.family.is_empty() {
            errors.push(form_error("family", "Choisissez la famille de produits."));
            None
        } else {
            let f = Family::from_code(&self.family);
            if f.is_none() {
                errors.push(form_error("family", "Famille de produits inconnue : choisissez-en une dans la liste."));
            }
            f
        };
        let origin = match self.origin.as_str() {
            "" => None,
            code => match Origin::from_code(code) {
                Some(o) => Some(o),
                None => {
                    errors.push(form_error("origin", "Origine inconnue : choisissez France, Europe ou « non précisée »."));
                    None
                }
            },
        };
        let local_definition = match self.local_definition.as_str() {
            "" => None,
            code => {
                let d = LocalDefinition::from_code(code);
                if d.is_none() {
                    errors.push(form_error("local_definition", "Définition de local inconnue : choisissez-en une dans la liste."));
                }
                d
            }
        };
        let km_text = self.local_km.trim();
        let local_km = if km_text.is_empty() {
            None
        } else {
            match km_text.trim_end_matches("km").trim().parse::<u32>() {
                Ok(k) => Some(k),
                Err(_) => {
                    errors.push(form_error("local_km", format!("« {km_text} » : indiquez un nombre entier de kilomètres, par exemple 50.")));
                    None
                }
            }
        };
        let (Some(date), Some(price_cents), Some(family)) = (date, price, family) else {
            return Err(errors);
        };
        // National storage order: EGalim labels, then origin, short chain, local.
        let mut characteristics: Vec<Characteristic> = Characteristic::EGALIM.into_iter().filter(|c| self.labels.contains(c)).collect();
        match origin {
            Some(Origin::France) => characteristics.push(Characteristic::France),
            Some(Origin::Europe) => characteristics.push(Characteristic::Europe),
            None => {}
        }
        if self.short_chain {
            characteristics.push(Characteristic::CircuitCourt);
        }
        if self.local {
            characteristics.push(Characteristic::Local);
        }
        let meta = match base {
            Some(b) => b.meta.revised(now),
            None => RecordMeta::new(id, now),
        };
        let purchase = Purchase {
            meta,
            siret: self.siret.trim().to_owned(),
            description: self.description.trim().to_owned(),
            supplier: self.supplier.trim().to_owned(),
            date,
            price_cents,
            family,
            characteristics,
            local_definition,
            local_km,
        };
        errors.extend(purchase.validate(today).errors.into_iter().map(|e| form_error(form_field(&e.field), e.message)));
        if errors.is_empty() {
            Ok(purchase)
        } else {
            Err(errors)
        }
    }
}

/// A date typed as dd/mm/yyyy, or given as yyyy-mm-dd (a date picker's value).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if t.len() == 10 {
            return Ok(d);
        }
    }
    parse_fr_date(t)
}

/// A copy of a line as a new purchase (new id, revision 1), to change what differs.
pub fn duplicate(p: &Purchase, id: Uuid, now: DateTime<Utc>) -> Purchase {
    Purchase { meta: RecordMeta::new(id, now), ..p.clone() }
}

/// The tombstone revision that deletes a purchase (it travels through the outbox).
pub fn tombstone(p: &Purchase, now: DateTime<Utc>) -> Purchase {
    Purchase { meta: p.meta.deleted(now), ..p.clone() }
}

/// Undoing a deletion: the version before it written back as the revision after the
/// tombstone (so it wins over the tombstone everywhere the tombstone went).
pub fn restore(before: &Purchase, tombstone: &Purchase, now: DateTime<Utc>) -> Purchase {
    let mut meta = tombstone.meta.revised(now);
    meta.deleted = false;
    Purchase { meta, ..before.clone() }
}

/// What a good file holds, shown before it is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub lines: u64,
    pub sites: BTreeSet<String>,
    pub years: BTreeSet<i32>,
    pub total_cents: i64,
}

impl Preview {
    pub fn add(&mut self, p: &Purchase) {
        self.lines += 1;
        if !self.sites.contains(&p.siret) {
            self.sites.insert(p.siret.clone());
        }
        self.years.insert(p.date.year());
        self.total_cents += p.price_cents;
    }
}

/// At most this many errors of a refused file are listed; the rest are counted.
pub const ERRORS_SHOWN: usize = 50;

/// A refused file's errors as French lines (« Ligne 4, colonne prix_ht : … »), the first
/// `max`, and « … et N autres erreurs » when there are more.
pub fn error_lines(errors: &[ImportError], max: usize) -> (Vec<String>, Option<String>) {
    let shown = errors.iter().take(max).map(ToString::to_string).collect();
    let rest = errors.len().saturating_sub(max);
    let more = match rest {
        0 => None,
        1 => Some("… et 1 autre erreur".to_owned()),
        n => Some(format!("… et {} autres erreurs", assiette_domain::number::group_thousands(n as u64))),
    };
    (shown, more)
}

/// The progress of an import in whole percent (0 to 100) of the bytes read.
pub fn percent(read: u64, total: u64) -> u32 {
    if total == 0 {
        return 100;
    }
    (read.min(total) * 100 / total) as u32
}
