//! Wire types of the territory endpoints (issue 13): the query parameters, checked here with
//! French messages (the server and the app read them the same way), and the responses, which
//! carry the `territory` module's own figures (one formula, computed by the server from its SQL
//! rollups). Every response is JSON both ways: the app keeps the last answer offline and reads
//! it back.
//!
//! Routes (under [`crate::sync::API_PREFIX`], a signed-in person; tablets get 403):
//! - `GET /api/v1/territory/overview?from=&to=&baseline_from=&baseline_to=&year=&page=&per_page=&sort=&desc=&commune=&management=&production=&engaged=`
//!   → [`OverviewResponse`]: the site rows of one page (sorted and filtered over every site
//!   in scope), the commune and territory totals of the filtered sites, ma cantine's
//!   statistics fields, the period, the sources.
//! - `GET /api/v1/territory/communes/{insee}?from=&to=&baseline_from=&baseline_to=&year=`
//!   → [`CommuneResponse`]: the commune page (its sites, totals, monthly trend, EGalim by
//!   year, participation, comparable medians, next deadlines, whether it is engaged).
//! - `GET /api/v1/territory/trends?from=&to=` → [`TrendsResponse`]: g per meal by month of
//!   the territory and each commune, and each site's comparable median.
//! - `GET /api/v1/territory/purchases?year=` → [`PurchasesResponse`]: the year's totals per
//!   commune and for the territory (from the per-site-year EGalim rollup), the supplier
//!   signal's input.
//!
//! Scopes: the metropolis sees every commune; a commune manager the same figures for their
//! communes only (another commune's page is 403, the same answer whether it exists or not).
//! Answers carry a strong `ETag` (If-None-Match → 304). Dates are `YYYY-MM-DD`.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::commune_page::PageDeadlines;
use crate::dashboard::ShareGauge;
use crate::egalim::{CostFlag, Indicators, Objective, Outcome, YearTotals};
use crate::school_calendar::Closures;
use crate::site::{ManagementType, ProductionType, RegionGroup};
use crate::territory::{
    CanteenStatistics, ComparableMedian, GroupTotals, SiteRow, SortKey, TrendLine, YearPurchases, REGIONAL_REFERENCE_KEY,
};
use crate::waste::{DateRange, ReferenceValue, WasteFactors};

pub const OVERVIEW_PATH: &str = "/api/v1/territory/overview";
/// Followed by `/{insee}`.
pub const COMMUNES_PATH: &str = "/api/v1/territory/communes";
pub const TRENDS_PATH: &str = "/api/v1/territory/trends";
pub const PURCHASES_PATH: &str = "/api/v1/territory/purchases";

/// Rows per page when `per_page` is not given, and at most.
pub const DEFAULT_PER_PAGE: u32 = 100;
pub const MAX_PER_PAGE: u32 = 500;
/// Default waste period: the last 30 days before today.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;
/// Longest period asked (ten years and two leap days).
pub const MAX_RANGE_DAYS: i64 = 3653;
/// Years accepted for purchases.
pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2100;

/// An export asked with `format=` (the JSON answer when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn code(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// A refused parameter: its name and a French message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

fn err(param: &str, message: String) -> ParamError {
    ParamError { param: param.to_owned(), message }
}

/// The query's pairs, the last one of a repeated name winning; empty values count as absent.
struct Pairs<'a>(BTreeMap<&'a str, &'a str>);

impl<'a> Pairs<'a> {
    fn new(pairs: &'a [(String, String)], known: &[&str]) -> Result<Self, ParamError> {
        let mut m = BTreeMap::new();
        for (k, v) in pairs {
            if !known.contains(&k.as_str()) {
                return Err(err(
                    k,
                    format!(
                        "Paramètre inconnu : « {} ». Paramètres acceptés : {}.",
                        crate::text::excerpt(k, 30),
                        known.join(", ")
                    ),
                ));
            }
            let v = v.trim();
            if !v.is_empty() {
                m.insert(k.as_str(), v);
            }
        }
        Ok(Pairs(m))
    }

    fn date(&self, name: &str, what: &str) -> Result<Option<NaiveDate>, ParamError> {
        let Some(v) = self.0.get(name) else { return Ok(None) };
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .filter(|d| (MIN_YEAR..=MAX_YEAR).contains(&d.year()))
            .map(Some)
            .ok_or_else(|| {
                err(name, format!("{what} « {} » n'est pas une date : écrivez-la AAAA-MM-JJ, par exemple {name}=2025-09-01.", crate::text::excerpt(v, 30)))
            })
    }

    fn year(&self, name: &str) -> Result<Option<i32>, ParamError> {
        let Some(v) = self.0.get(name) else { return Ok(None) };
        match v.parse::<i32>() {
            Ok(y) if v.len() == 4 && (MIN_YEAR..=MAX_YEAR).contains(&y) => Ok(Some(y)),
            _ => Err(err(
                name,
                format!("« {} » n'est pas une année : indiquez-la sur quatre chiffres, entre {MIN_YEAR} et {MAX_YEAR}, par exemple {name}=2025.", crate::text::excerpt(v, 30)),
            )),
        }
    }

    fn number(&self, name: &str, min: u32, max: u32, what: &str) -> Result<Option<u32>, ParamError> {
        let Some(v) = self.0.get(name) else { return Ok(None) };
        match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(err(name, format!("{what} « {} » : un nombre entier entre {min} et {max}.", crate::text::excerpt(v, 30)))),
        }
    }

    fn bool(&self, name: &str, what: &str) -> Result<Option<bool>, ParamError> {
        let Some(v) = self.0.get(name) else { return Ok(None) };
        match *v {
            "true" | "1" | "oui" => Ok(Some(true)),
            "false" | "0" | "non" => Ok(Some(false)),
            _ => Err(err(name, format!("{what} « {} » : écrivez true ou false.", crate::text::excerpt(v, 30)))),
        }
    }

    fn code<T: crate::code::Code>(&self, name: &str, what: &str) -> Result<Option<T>, ParamError> {
        let Some(v) = self.0.get(name) else { return Ok(None) };
        T::from_code(v).map(Some).ok_or_else(|| {
            err(name, format!("{what} « {} » inconnu : valeurs acceptées {}.", crate::text::excerpt(v, 30), T::CODES.join(", ")))
        })
    }

    fn format(&self) -> Result<Option<ExportFormat>, ParamError> {
        match self.0.get("format").copied() {
            None => Ok(None),
            Some("csv") => Ok(Some(ExportFormat::Csv)),
            Some("xlsx") => Ok(Some(ExportFormat::Xlsx)),
            Some(v) => Err(err("format", format!("Format « {} » inconnu : csv ou xlsx (sans format, la réponse est en JSON).", crate::text::excerpt(v, 30)))),
        }
    }

    fn insee(&self, name: &str) -> Result<Option<String>, ParamError> {
        let Some(v) = self.0.get(name) else { return Ok(None) };
        normalize_insee(v).map(Some).map_err(|m| err(name, m))
    }
}

/// An INSEE code as the server stores it (five characters, digits or the Corsican 2A / 2B),
/// upper case; a French message otherwise.
pub fn normalize_insee(s: &str) -> Result<String, String> {
    let c = s.trim().to_uppercase();
    let ok = c.len() == 5
        && c.chars().enumerate().all(|(i, ch)| ch.is_ascii_digit() || (i == 1 && (ch == 'A' || ch == 'B') && c.starts_with('2')));
    if ok {
        Ok(c)
    } else {
        Err(format!("Code INSEE « {} » invalide : cinq caractères, par exemple 76351.", crate::text::excerpt(s, 10)))
    }
}

/// A period `from`..`to` (both included), or the default one ending the day before `today`.
fn period(p: &Pairs, from: &str, to: &str, today: NaiveDate, default_days: i64) -> Result<DateRange, ParamError> {
    let end = p.date(to, "La fin de la période")?.unwrap_or(today - Duration::days(1));
    let start = p.date(from, "Le début de la période")?.unwrap_or(end - Duration::days(default_days - 1));
    check_range(from, start, end)?;
    Ok(DateRange::new(start, end))
}

fn check_range(from: &str, start: NaiveDate, end: NaiveDate) -> Result<(), ParamError> {
    if end < start {
        return Err(err(
            from,
            format!("La période finit avant de commencer (du {} au {}) : vérifiez les dates.", start.format("%d/%m/%Y"), end.format("%d/%m/%Y")),
        ));
    }
    if (end - start).num_days() >= MAX_RANGE_DAYS {
        return Err(err(from, "La période dépasse dix ans : choisissez-en une plus courte.".to_owned()));
    }
    Ok(())
}

/// The baseline: both ends or neither.
fn baseline(p: &Pairs) -> Result<Option<DateRange>, ParamError> {
    let from = p.date("baseline_from", "Le début de la période de référence")?;
    let to = p.date("baseline_to", "La fin de la période de référence")?;
    match (from, to) {
        (None, None) => Ok(None),
        (Some(s), Some(e)) => {
            check_range("baseline_from", s, e)?;
            Ok(Some(DateRange::new(s, e)))
        }
        (None, Some(_)) => Err(err("baseline_from", "Indiquez aussi le début de la période de référence (baseline_from).".to_owned())),
        (Some(_), None) => Err(err("baseline_to", "Indiquez aussi la fin de la période de référence (baseline_to).".to_owned())),
    }
}

/// Sort codes of the overview's `sort=`, with the column they sort.
pub const SORT_KEYS: [(&str, SortKey); 10] = [
    ("commune", SortKey::Commune),
    ("name", SortKey::Name),
    ("daily_meals", SortKey::DailyMeals),
    ("days_with_entries", SortKey::DaysWithEntries),
    ("last_sync", SortKey::LastSync),
    ("grams_per_meal", SortKey::GramsPerMeal),
    ("change_vs_baseline", SortKey::ChangeVsBaseline),
    ("egalim_share", SortKey::EgalimShare),
    ("bio_share", SortKey::BioShare),
    ("missing_egalim", SortKey::MissingEgalimCents),
];

pub fn sort_code(key: SortKey) -> &'static str {
    SORT_KEYS.iter().find(|(_, k)| *k == key).map(|(c, _)| *c).expect("every key has a code")
}

/// The days without school a territory answer counts its school days with on `today`: the
/// metropolis' school calendar (`school_calendar`) over the year before. The participation
/// window is 30 school days; a last entry older than a year is far past the « stopped »
/// threshold, and its count of school days since only grows without the holidays.
pub fn school_closures(today: NaiveDate) -> Closures {
    crate::school_calendar::closures(DateRange::new(today - Duration::days(366), today))
}

/// The school calendar the school days were counted with, and what of it is not published.
pub fn calendar_source(closures: &Closures) -> Source {
    let cal = crate::school_calendar::calendar();
    let years: Vec<&str> = cal.years.iter().map(|y| y.source.as_str()).collect();
    let mut text = format!(
        "Jours de classe (lundi, mardi, jeudi, vendredi) hors vacances scolaires de la zone {} (académie de {}), années {} : {}. {}",
        cal.zone,
        cal.academie,
        cal.published_years(),
        years.join(" ; "),
        cal.public_holidays_source
    );
    for r in &closures.unpublished {
        text.push_str(&format!(
            " Du {} au {}, le calendrier scolaire n'est pas publié : seuls les jours fériés sont retirés.",
            r.start.format("%d/%m/%Y"),
            r.end.format("%d/%m/%Y")
        ));
    }
    Source { figure: "Participation (jours de classe)".to_owned(), source: text }
}

/// The sources of the answers with participation figures (overview, commune page): [`sources`]
/// and the school calendar.
pub fn participation_sources(factors: &WasteFactors, closures: &Closures) -> Vec<Source> {
    let mut v = sources(factors);
    v.push(calendar_source(closures));
    v
}

/// `GET /api/v1/territory/overview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewQuery {
    pub period: DateRange,
    pub baseline: Option<DateRange>,
    /// Year of the purchase figures (the period's end year by default).
    pub year: i32,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
    /// A code of [`SORT_KEYS`].
    pub sort: String,
    pub desc: bool,
    pub commune: Option<String>,
    pub management: Option<ManagementType>,
    pub production: Option<ProductionType>,
    pub engaged: Option<bool>,
    pub format: Option<ExportFormat>,
}

impl OverviewQuery {
    pub const PARAMS: [&'static str; 13] = [
        "from", "to", "baseline_from", "baseline_to", "year", "page", "per_page", "sort", "desc", "commune", "management",
        "production", "engaged",
    ];

    /// Reads the query's pairs (`format` too); `today` gives the default period.
    pub fn parse(pairs: &[(String, String)], today: NaiveDate) -> Result<Self, ParamError> {
        let mut known = Self::PARAMS.to_vec();
        known.push("format");
        let p = Pairs::new(pairs, &known)?;
        let period = period(&p, "from", "to", today, DEFAULT_PERIOD_DAYS)?;
        let sort = match p.0.get("sort") {
            None => "commune".to_owned(),
            Some(s) if SORT_KEYS.iter().any(|(c, _)| c == s) => (*s).to_owned(),
            Some(s) => {
                let codes: Vec<&str> = SORT_KEYS.iter().map(|(c, _)| *c).collect();
                return Err(err("sort", format!("Tri « {} » inconnu : valeurs acceptées {}.", crate::text::excerpt(s, 30), codes.join(", "))));
            }
        };
        Ok(OverviewQuery {
            baseline: baseline(&p)?,
            year: p.year("year")?.unwrap_or(period.end.year()),
            period,
            page: p.number("page", 1, 1_000_000, "Numéro de page")?.unwrap_or(1),
            per_page: p.number("per_page", 1, MAX_PER_PAGE, "Lignes par page")?.unwrap_or(DEFAULT_PER_PAGE),
            sort,
            desc: p.bool("desc", "Ordre décroissant")?.unwrap_or(false),
            commune: p.insee("commune")?,
            management: p.code("management", "Mode de gestion")?,
            production: p.code("production", "Type de production")?,
            engaged: p.bool("engaged", "Engagement")?,
            format: p.format()?,
        })
    }

    pub fn sort_key(&self) -> SortKey {
        SORT_KEYS.iter().find(|(c, _)| *c == self.sort).map(|(_, k)| *k).unwrap_or(SortKey::Commune)
    }

    /// The query string (without `?`) that reads back as this query.
    pub fn to_query(&self) -> String {
        let mut q = vec![format!("from={}", self.period.start), format!("to={}", self.period.end)];
        if let Some(b) = self.baseline {
            q.push(format!("baseline_from={}", b.start));
            q.push(format!("baseline_to={}", b.end));
        }
        q.push(format!("year={}", self.year));
        q.push(format!("page={}", self.page));
        q.push(format!("per_page={}", self.per_page));
        q.push(format!("sort={}", self.sort));
        q.push(format!("desc={}", self.desc));
        if let Some(c) = &self.commune {
            q.push(format!("commune={c}"));
        }
        if let Some(m) = self.management {
            q.push(format!("management={}", m.code()));
        }
        if let Some(p) = self.production {
            q.push(format!("production={}", p.code()));
        }
        if let Some(e) = self.engaged {
            q.push(format!("engaged={e}"));
        }
        if let Some(f) = self.format {
            q.push(format!("format={}", f.code()));
        }
        q.join("&")
    }
}

/// `GET /api/v1/territory/communes/{insee}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneQuery {
    pub period: DateRange,
    pub baseline: Option<DateRange>,
    pub year: i32,
    pub format: Option<ExportFormat>,
}

/// The commune page's trend covers twelve months by default.
pub const DEFAULT_TREND_DAYS: i64 = 365;

impl CommuneQuery {
    pub fn parse(pairs: &[(String, String)], today: NaiveDate) -> Result<Self, ParamError> {
        let p = Pairs::new(pairs, &["from", "to", "baseline_from", "baseline_to", "year", "format"])?;
        let period = period(&p, "from", "to", today, DEFAULT_PERIOD_DAYS)?;
        Ok(CommuneQuery { baseline: baseline(&p)?, year: p.year("year")?.unwrap_or(period.end.year()), period, format: p.format()? })
    }

    pub fn to_query(&self) -> String {
        let mut q = vec![format!("from={}", self.period.start), format!("to={}", self.period.end)];
        if let Some(b) = self.baseline {
            q.push(format!("baseline_from={}", b.start));
            q.push(format!("baseline_to={}", b.end));
        }
        q.push(format!("year={}", self.year));
        if let Some(f) = self.format {
            q.push(format!("format={}", f.code()));
        }
        q.join("&")
    }
}

/// `GET /api/v1/territory/trends`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendsQuery {
    /// Twelve months ending the day before today by default.
    pub range: DateRange,
    pub format: Option<ExportFormat>,
}

impl TrendsQuery {
    pub fn parse(pairs: &[(String, String)], today: NaiveDate) -> Result<Self, ParamError> {
        let p = Pairs::new(pairs, &["from", "to", "format"])?;
        Ok(TrendsQuery { range: period(&p, "from", "to", today, DEFAULT_TREND_DAYS)?, format: p.format()? })
    }

    pub fn to_query(&self) -> String {
        let mut q = format!("from={}&to={}", self.range.start, self.range.end);
        if let Some(f) = self.format {
            q.push_str(&format!("&format={}", f.code()));
        }
        q
    }
}

/// `GET /api/v1/territory/purchases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchasesQuery {
    /// Last year by default (the last complete one).
    pub year: i32,
    pub format: Option<ExportFormat>,
}

impl PurchasesQuery {
    pub fn parse(pairs: &[(String, String)], today: NaiveDate) -> Result<Self, ParamError> {
        let p = Pairs::new(pairs, &["year", "format"])?;
        Ok(PurchasesQuery { year: p.year("year")?.unwrap_or(today.year() - 1), format: p.format()? })
    }

    pub fn to_query(&self) -> String {
        match self.format {
            Some(f) => format!("year={}&format={}", self.year, f.code()),
            None => format!("year={}", self.year),
        }
    }
}

/// Where a figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// What it sources (« Gaspillage », « Achats », « Référence ADEME »...).
    pub figure: String,
    pub source: String,
}

/// The sources every territory answer names: the records and rollups, the references, the factors.
pub fn sources(factors: &WasteFactors) -> Vec<Source> {
    let s = |figure: &str, source: String| Source { figure: figure.to_owned(), source };
    let regional = crate::waste::reference_value(REGIONAL_REFERENCE_KEY).map(|r| r.source).unwrap_or_default();
    vec![
        s("Gaspillage (g par repas)", "Pesées et nombres de repas saisis sur les tablettes des restaurants, jours pesés avec repas comptés".to_owned()),
        s("Achats (parts EGalim, bio, viandes, poissons)", "Achats saisis ou importés par les communes, calculés comme ma cantine".to_owned()),
        s("Référence nationale", crate::territory::ademe_reference(ProductionType::Site).source.to_owned()),
        s("Référence régionale", regional.to_owned()),
        s("Coût du gaspillage", factors.cost_per_kg.source.clone()),
        s("Équivalent CO2", factors.co2e_per_kg.source.clone()),
    ]
}

/// `GET /api/v1/territory/overview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewResponse {
    #[serde(with = "crate::time::rfc3339")]
    pub generated_at: DateTime<Utc>,
    pub query: OverviewQuery,
    /// The day the participation window ends before.
    #[serde(with = "crate::time::date")]
    pub today: NaiveDate,
    /// Sites kept by the filters (every page).
    pub total_sites: u32,
    pub pages: u32,
    /// This page's rows, in the asked order.
    pub sites: Vec<SiteRow>,
    /// Every commune of the kept sites, by name.
    pub communes: Vec<GroupTotals>,
    pub territory: GroupTotals,
    /// The kept sites under ma cantine's statistics names (purchase year).
    pub statistics: CanteenStatistics,
    pub factors: WasteFactors,
    pub sources: Vec<Source>,
}

/// A site's g per meal beside its comparable sites' median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteComparison {
    pub site_id: Uuid,
    pub name: String,
    pub commune_insee: String,
    pub grams_per_meal: Option<f64>,
    pub median: ComparableMedian,
}

/// `GET /api/v1/territory/communes/{insee}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneResponse {
    #[serde(with = "crate::time::rfc3339")]
    pub generated_at: DateTime<Utc>,
    pub query: CommuneQuery,
    #[serde(with = "crate::time::date")]
    pub today: NaiveDate,
    pub commune_insee: String,
    pub commune_name: String,
    /// Its sites (participation included), by name.
    pub sites: Vec<SiteRow>,
    pub totals: GroupTotals,
    /// g per meal by month over the twelve months ending with the period.
    pub trend: TrendLine,
    /// EGalim shares by year, every year with purchases.
    pub egalim_by_year: Vec<YearPurchases>,
    /// Each site against the median of comparable sites of the territory.
    pub comparisons: Vec<SiteComparison>,
    /// Whether the commune takes part in the metropolis' programme (its sites' « engagé »);
    /// the metropolis sets it (`POST /api/v1/admin/communes/{insee}/engaged`). An answer kept
    /// offline before this field existed reads as engaged, the database's default.
    #[serde(default = "engaged_by_default")]
    pub engaged: bool,
    /// The next deadlines: the contract's (delegated management) or the words saying none is
    /// stored, and the declaration campaign on ma cantine.
    #[serde(default)]
    pub deadlines: PageDeadlines,
    pub factors: WasteFactors,
    pub sources: Vec<Source>,
}

fn engaged_by_default() -> bool {
    true
}

/// `POST /api/v1/admin/communes/{insee}/engaged` (the metropolis only): whether the commune
/// takes part in the programme. The answer is the commune as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagedRequest {
    pub engaged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagedResponse {
    pub insee_code: String,
    pub name: String,
    pub engaged: bool,
}

/// The route setting whether commune `insee` is engaged.
pub fn engaged_path(insee: &str) -> String {
    format!("{}/admin/communes/{insee}/engaged", crate::sync::API_PREFIX)
}

/// `GET /api/v1/territory/trends`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendsResponse {
    #[serde(with = "crate::time::rfc3339")]
    pub generated_at: DateTime<Utc>,
    pub query: TrendsQuery,
    /// The territory's line first, then each commune's by name.
    pub lines: Vec<TrendLine>,
    /// Every site in scope against its comparable sites (over the whole range).
    pub comparisons: Vec<SiteComparison>,
    pub sources: Vec<Source>,
}

/// `GET /api/v1/territory/purchases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchasesResponse {
    #[serde(with = "crate::time::rfc3339")]
    pub generated_at: DateTime<Utc>,
    pub query: PurchasesQuery,
    /// The territory's (empty INSEE code), then each commune's with purchases that year (by
    /// name): `territory::yearly_purchases` of the year.
    pub lines: Vec<YearPurchases>,
    pub sources: Vec<Source>,
}

// Reading back the domain types whose serialised form names static texts (codes, labels,
// references): each text is looked up among the domain's own, so what is read is exactly
// what the domain writes (and an unknown one is an error, never a leaked string).

fn intern<E: serde::de::Error>(s: &str, known: impl IntoIterator<Item = &'static str>, what: &str) -> Result<&'static str, E> {
    known.into_iter().find(|k| *k == s).ok_or_else(|| E::custom(format!("{what} inconnu : {s}")))
}

/// Every objective and gauge the domain writes (codes and labels), from sample totals.
fn known_gauges() -> Vec<(&'static str, &'static str)> {
    let t = YearTotals::new("", crate::egalim::MEAT_FISH_FROM_YEAR);
    let ind = crate::egalim::indicators(&t, RegionGroup::Mainland, None);
    let mut v: Vec<(&'static str, &'static str)> = ind.objectives.iter().map(|o| (o.code, o.label_fr)).collect();
    v.extend(crate::dashboard::share_gauges(&t, &ind).iter().map(|g| (g.code, g.label_fr)));
    v
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "reached" => Ok(Outcome::Reached),
            "not_reached" => Ok(Outcome::NotReached),
            "not_applicable" => Ok(Outcome::NotApplicable),
            s => Err(serde::de::Error::custom(format!("résultat inconnu : {s}"))),
        }
    }
}

impl<'de> Deserialize<'de> for CostFlag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "above_twenty_euros" => Ok(CostFlag::AboveTwentyEuros),
            "below_ten_cents" => Ok(CostFlag::BelowTenCents),
            s => Err(serde::de::Error::custom(format!("alerte de coût inconnue : {s}"))),
        }
    }
}

impl<'de> Deserialize<'de> for Objective {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct W {
            code: String,
            label_fr: String,
            percent_hundredths: Option<i64>,
            threshold_percent: i64,
            outcome: Outcome,
        }
        let w = W::deserialize(d)?;
        let known = known_gauges();
        Ok(Objective {
            code: intern(&w.code, known.iter().map(|k| k.0), "objectif")?,
            label_fr: intern(&w.label_fr, known.iter().map(|k| k.1), "libellé d'objectif")?,
            percent_hundredths: w.percent_hundredths,
            threshold_percent: w.threshold_percent,
            outcome: w.outcome,
        })
    }
}

impl<'de> Deserialize<'de> for ShareGauge {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct W {
            code: String,
            label_fr: String,
            part_cents: i64,
            base_cents: i64,
            percent_hundredths: Option<i64>,
            threshold_percent: i64,
            outcome: Outcome,
            missing_cents: Option<i64>,
        }
        let w = W::deserialize(d)?;
        let known = known_gauges();
        Ok(ShareGauge {
            code: intern(&w.code, known.iter().map(|k| k.0), "part")?,
            label_fr: intern(&w.label_fr, known.iter().map(|k| k.1), "libellé de part")?,
            part_cents: w.part_cents,
            base_cents: w.base_cents,
            percent_hundredths: w.percent_hundredths,
            threshold_percent: w.threshold_percent,
            outcome: w.outcome,
            missing_cents: w.missing_cents,
        })
    }
}

impl<'de> Deserialize<'de> for Indicators {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct W {
            bio_percent_hundredths: Option<i64>,
            siqo_percent_hundredths: Option<i64>,
            egalim_autres_percent_hundredths: Option<i64>,
            externalites_performance_percent_hundredths: Option<i64>,
            egalim_percent_hundredths: Option<i64>,
            viandes_poissons_egalim_percent_hundredths: Option<i64>,
            viandes_volailles_egalim_percent_hundredths: Option<i64>,
            viandes_volailles_france_percent_hundredths: Option<i64>,
            produits_de_la_mer_egalim_percent_hundredths: Option<i64>,
            produits_de_la_mer_france_percent_hundredths: Option<i64>,
            objectives: Vec<Objective>,
            cost_per_meal_cents: Option<i64>,
            cost_flag: Option<CostFlag>,
        }
        let w = W::deserialize(d)?;
        Ok(Indicators {
            bio_percent_hundredths: w.bio_percent_hundredths,
            siqo_percent_hundredths: w.siqo_percent_hundredths,
            egalim_autres_percent_hundredths: w.egalim_autres_percent_hundredths,
            externalites_performance_percent_hundredths: w.externalites_performance_percent_hundredths,
            egalim_percent_hundredths: w.egalim_percent_hundredths,
            viandes_poissons_egalim_percent_hundredths: w.viandes_poissons_egalim_percent_hundredths,
            viandes_volailles_egalim_percent_hundredths: w.viandes_volailles_egalim_percent_hundredths,
            viandes_volailles_france_percent_hundredths: w.viandes_volailles_france_percent_hundredths,
            produits_de_la_mer_egalim_percent_hundredths: w.produits_de_la_mer_egalim_percent_hundredths,
            produits_de_la_mer_france_percent_hundredths: w.produits_de_la_mer_france_percent_hundredths,
            objectives: w.objectives,
            cost_per_meal_cents: w.cost_per_meal_cents,
            cost_flag: w.cost_flag,
        })
    }
}

impl<'de> Deserialize<'de> for ReferenceValue {
    /// A reference is read back by its key (the domain's list holds its figures and source).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct W {
            key: String,
            grams_per_meal: u32,
        }
        let w = W::deserialize(d)?;
        let r = crate::waste::reference_value(&w.key)
            .ok_or_else(|| serde::de::Error::custom(format!("référence inconnue : {}", w.key)))?;
        if r.grams_per_meal != w.grams_per_meal {
            return Err(serde::de::Error::custom(format!("référence {} : {} g par repas, pas {}", w.key, r.grams_per_meal, w.grams_per_meal)));
        }
        Ok(*r)
    }
}

impl<'de> Deserialize<'de> for CanteenStatistics {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct W {
            year: i32,
            canteen_count: u32,
            declarations_count: u32,
            management_types: BTreeMap<String, u32>,
            production_types: BTreeMap<String, u32>,
            bio_percent: Option<i64>,
            sustainable_percent: Option<i64>,
            egalim_percent: Option<i64>,
            meat_egalim_percent: Option<i64>,
            meat_france_percent: Option<i64>,
            fish_egalim_percent: Option<i64>,
            fish_france_percent: Option<i64>,
            appro_percent: Option<i64>,
        }
        let w = W::deserialize(d)?;
        let codes = |m: BTreeMap<String, u32>, known: &[&'static str], what: &str| -> Result<BTreeMap<&'static str, u32>, D::Error> {
            m.into_iter().map(|(k, v)| Ok((intern(&k, known.iter().copied(), what)?, v))).collect()
        };
        Ok(CanteenStatistics {
            year: w.year,
            canteen_count: w.canteen_count,
            declarations_count: w.declarations_count,
            management_types: codes(w.management_types, ManagementType::CODES, "mode de gestion")?,
            production_types: codes(w.production_types, ProductionType::CODES, "type de production")?,
            bio_percent: w.bio_percent,
            sustainable_percent: w.sustainable_percent,
            egalim_percent: w.egalim_percent,
            meat_egalim_percent: w.meat_egalim_percent,
            meat_france_percent: w.meat_france_percent,
            fish_egalim_percent: w.fish_egalim_percent,
            fish_france_percent: w.fish_france_percent,
            appro_percent: w.appro_percent,
        })
    }
}

/// The names of a year's serialised totals, each with its slot (`YearTotals::to_slots`): a
/// total with one cent in one slot shows which name carries it.
fn totals_names(year: i32) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for slot in 0..crate::egalim::SLOT_COUNT {
        let mut unit = [0i64; crate::egalim::SLOT_COUNT];
        unit[slot] = 1;
        let t = YearTotals::from_slots("", year, &unit);
        let v = serde_json::to_value(&t).expect("totals serialise");
        if let Some(m) = v.as_object() {
            for (k, v) in m {
                if v.as_str() == Some("0.01") {
                    out.push((k.clone(), slot));
                }
            }
        }
    }
    out
}

/// [`totals_names`] of a year, worked out once per year: an answer of the territory holds
/// totals for every site and commune, and each year's names cost 142 serialisations.
fn names_of_year(year: i32) -> std::sync::Arc<Vec<(String, usize)>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<BTreeMap<i32, Arc<Vec<(String, usize)>>>>> = OnceLock::new();
    let mut years = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: an answer names a handful of years.
    if years.len() >= 64 && !years.contains_key(&year) {
        years.clear();
    }
    years.entry(year).or_insert_with(|| Arc::new(totals_names(year))).clone()
}

/// Euros with two decimals and a point, as `YearTotals` writes them.
fn parse_written_euros(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (units, cents) = body.split_once('.')?;
    if cents.len() != 2 || units.is_empty() || !units.bytes().all(|b| b.is_ascii_digit()) || !cents.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = units.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents.parse::<i64>().ok()?)?;
    Some(if neg { -v } else { v })
}

impl<'de> Deserialize<'de> for YearTotals {
    /// The national names written by its `Serialize` (euro strings), back to cents.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let m: BTreeMap<String, serde_json::Value> = BTreeMap::deserialize(d)?;
        let siret = m.get("siret").and_then(|v| v.as_str()).ok_or_else(|| D::Error::missing_field("siret"))?.to_owned();
        let year = m.get("year").and_then(|v| v.as_i64()).and_then(|y| i32::try_from(y).ok()).ok_or_else(|| D::Error::missing_field("year"))?;
        let mut slots = [0i64; crate::egalim::SLOT_COUNT];
        let names = names_of_year(year);
        // The detailed table is written whole or not at all (`YearTotals`'s `Serialize`).
        let detailed = names.iter().any(|(name, slot)| *slot >= crate::egalim::SIMPLE_FIELDS.len() && *slot < crate::egalim::SLOT_COUNT - 1 && m.contains_key(name));
        for (name, slot) in names.iter() {
            if !detailed && *slot >= crate::egalim::SIMPLE_FIELDS.len() && *slot < crate::egalim::SLOT_COUNT - 1 {
                continue;
            }
            let v = m.get(name).ok_or_else(|| D::Error::custom(format!("champ manquant : {name}")))?;
            let s = v.as_str().ok_or_else(|| D::Error::custom(format!("{name} : montant attendu")))?;
            slots[*slot] = parse_written_euros(s).ok_or_else(|| D::Error::custom(format!("{name} : montant illisible {s}")))?;
        }
        if let Some(k) = m.keys().find(|k| *k != "siret" && *k != "year" && !names.iter().any(|(n, _)| n == *k)) {
            return Err(D::Error::custom(format!("champ inconnu : {k}")));
        }
        Ok(YearTotals::from_slots(siret, year, &slots))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        q.split('&').filter(|p| !p.is_empty()).map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        }).collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
    }

    #[test]
    fn overview_query_defaults_and_round_trip() {
        let q = OverviewQuery::parse(&[], today()).unwrap();
        assert_eq!(q.period.end, NaiveDate::from_ymd_opt(2026, 3, 9).unwrap());
        assert_eq!((q.period.end - q.period.start).num_days(), DEFAULT_PERIOD_DAYS - 1);
        assert_eq!((q.year, q.page, q.per_page, q.sort.as_str(), q.desc), (2026, 1, DEFAULT_PER_PAGE, "commune", false));
        let full = OverviewQuery::parse(
            &pairs("from=2025-09-01&to=2025-12-19&baseline_from=2024-09-02&baseline_to=2024-12-20&year=2024&page=3&per_page=50&sort=grams_per_meal&desc=true&commune=2a004&management=conceded&production=groupe&engaged=false&format=xlsx"),
            today(),
        )
        .unwrap();
        assert_eq!(full.commune.as_deref(), Some("2A004"));
        assert_eq!(full.sort_key(), SortKey::GramsPerMeal);
        assert_eq!(OverviewQuery::parse(&pairs(&full.to_query()), today()).unwrap(), full);
        let json = serde_json::to_string(&full).unwrap();
        assert_eq!(serde_json::from_str::<OverviewQuery>(&json).unwrap(), full);
        for code in SORT_KEYS.map(|(c, _)| c) {
            assert_eq!(sort_code(OverviewQuery::parse(&pairs(&format!("sort={code}")), today()).unwrap().sort_key()), code);
        }
    }

    #[test]
    fn bad_parameters_are_refused_in_french_with_their_name() {
        let cases = [
            ("from=2025-13-01", "from", "AAAA-MM-JJ"),
            ("to=01/02/2025", "to", "AAAA-MM-JJ"),
            ("from=2025-09-10&to=2025-09-01", "from", "finit avant"),
            ("from=2010-01-01&to=2025-01-01", "from", "dix ans"),
            ("baseline_from=2024-09-01", "baseline_to", "fin de la période de référence"),
            ("year=25", "year", "quatre chiffres"),
            ("page=0", "page", "entre 1"),
            ("per_page=501", "per_page", "entre 1 et 500"),
            ("sort=prix", "sort", "Tri"),
            ("desc=peut-être", "desc", "true ou false"),
            ("commune=7635", "commune", "INSEE"),
            ("management=mixte", "management", "Mode de gestion"),
            ("format=pdf", "format", "csv ou xlsx"),
            ("limit=3", "limit", "Paramètre inconnu"),
        ];
        for (q, param, words) in cases {
            let e = OverviewQuery::parse(&pairs(q), today()).unwrap_err();
            assert_eq!(e.param, param, "{q}");
            assert!(e.message.contains(words), "{q}: {}", e.message);
        }
        assert_eq!(PurchasesQuery::parse(&pairs("year=abcd"), today()).unwrap_err().param, "year");
        assert_eq!(PurchasesQuery::parse(&[], today()).unwrap().year, 2025);
        assert_eq!(TrendsQuery::parse(&pairs("from=2026-03-01&to=2026-02-01"), today()).unwrap_err().param, "from");
        assert_eq!(CommuneQuery::parse(&pairs("per_page=3"), today()).unwrap_err().param, "per_page");
    }

    #[test]
    fn year_totals_read_back_what_they_write() {
        for year in [2025, 2026] {
            let slots: Vec<i64> = (0..crate::egalim::SLOT_COUNT as i64).map(|i| i * 1013 - 7).collect();
            let t = YearTotals::from_slots("21760351500008", year, &slots);
            let json = serde_json::to_string(&t).unwrap();
            let back: YearTotals = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
        }
        assert!(serde_json::from_str::<YearTotals>(r#"{"siret":"1","year":2025}"#).is_err());
    }

    #[test]
    fn simple_totals_leave_the_detailed_table_out_and_read_back() {
        let slots: Vec<i64> = (0..crate::egalim::SLOT_COUNT as i64).map(|i| i * 1013 + 5).collect();
        let full = YearTotals::from_slots("21760351500008", 2026, &slots);
        let simple = full.simple_totals();
        let json = serde_json::to_value(&simple).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 2 + crate::egalim::SIMPLE_FIELDS.len(), "{json}");
        let back: YearTotals = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back.simple_fields(), simple.simple_fields());
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        // A table given in part is refused: one cell missing out of the full one.
        let mut partial = serde_json::to_value(&full).unwrap();
        let detailed = partial.as_object().unwrap().keys().find(|k| k.starts_with("valeur_viandes_volailles_bio")).unwrap().clone();
        partial.as_object_mut().unwrap().remove(&detailed);
        let e = serde_json::from_value::<YearTotals>(partial).unwrap_err().to_string();
        assert!(e.contains("champ manquant"), "{e}");
    }
}
