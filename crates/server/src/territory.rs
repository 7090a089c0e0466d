//! The territory endpoints (issue 13): thin handlers that read the SQL rollups (`Store`'s
//! `territory_*` reads) and hand them to the domain's `territory` functions, the one formula of
//! every figure. Wire types, routes and parameters: `assiette_domain::territory_api`.
//!
//! Scopes: the metropolis reads every commune; a commune manager reads the same answers over
//! their communes only, and another commune's page is 403 with one body whether that commune
//! exists or not; a tablet's token is 403. Answers carry a strong ETag (a digest of the data's
//! version, the scope, the day and the normalised query): `If-None-Match` → 304.

use assiette_domain::commune_page::page_deadlines;
use assiette_domain::egalim::YearTotals;
use assiette_domain::export;
use assiette_domain::signal::supplier_signal;
use assiette_domain::site::RegionGroup;
use assiette_domain::sync::Role;
use assiette_domain::territory::{
    canteen_statistics, comparable_median, last_school_days, monthly_trend, overview, overview_of_sums, sort_rows, yearly_purchases, DayRollup,
    Overview, OverviewParams, RowFilter, SiteRow, SiteSummary, PARTICIPATION_SCHOOL_DAYS,
};
use assiette_domain::territory_api::{
    normalize_insee, sources, CommuneQuery, ExportFormat, CommuneResponse, OverviewQuery, OverviewResponse, ParamError, PurchasesQuery,
    PurchasesResponse, SiteComparison, TrendsQuery, TrendsResponse, DEFAULT_TREND_DAYS,
};
use assiette_domain::territory_api::{participation_sources, school_closures};
use assiette_domain::validation::FieldError;
use assiette_domain::waste::{DateRange, WasteFactors};
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::auth::{DeviceAuth, Person, DEVICE_TOKEN_PREFIX};
use crate::error::ApiError;
use crate::http::AppState;
use crate::store::{Detail, Store};


pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/territory/overview", get(overview_route))
        .route("/api/v1/territory/communes/{insee}", get(commune_route))
        .route("/api/v1/territory/trends", get(trends_route))
        .route("/api/v1/territory/purchases", get(purchases_route))
}

/// A signed-in person reading the territory; a tablet's token (valid) is 403.
pub struct Reader(pub Person);

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let is_device = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim().starts_with(DEVICE_TOKEN_PREFIX));
        if is_device {
            // An unknown or revoked tablet token gets the tablet's own 401 first.
            DeviceAuth::from_request_parts(parts, state).await?;
            return Err(ApiError::forbidden(
                "territory_forbidden",
                "Les tablettes des cuisines n'ont pas accès aux chiffres du territoire : connectez-vous avec un compte de la métropole ou d'une commune.",
            ));
        }
        Ok(Reader(Person::from_request_parts(parts, state).await?))
    }
}

/// The one answer for a commune outside a manager's scope, existing or not.
fn out_of_scope() -> ApiError {
    ApiError::forbidden(
        "commune_forbidden",
        "Cette commune n'est pas dans le périmètre de votre compte : vous ne voyez que les chiffres de vos communes.",
    )
}

fn param_error(e: ParamError) -> ApiError {
    ApiError::unprocessable("invalid_parameter", e.message.clone()).with_errors(vec![FieldError { field: e.param, message: e.message }])
}

fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect()
}

/// The communes a person reads: `None` for every one (the metropolis).
fn scope(p: &Person) -> Option<Vec<String>> {
    (p.role != Role::Metropolis).then(|| p.communes.iter().map(|c| c.to_uppercase()).collect())
}

/// The communes to read, each separately (`None`: all at once), given a commune filter.
fn communes_to_read(scope: &Option<Vec<String>>, only: Option<&str>) -> Result<Vec<Option<String>>, ApiError> {
    match (scope, only) {
        (None, None) => Ok(vec![None]),
        (None, Some(c)) => Ok(vec![Some(c.to_owned())]),
        (Some(list), Some(c)) if list.iter().any(|x| x == c) => Ok(vec![Some(c.to_owned())]),
        (Some(_), Some(_)) => Err(out_of_scope()),
        (Some(list), None) => Ok(list.iter().cloned().map(Some).collect()),
    }
}

/// Some communes' sites and their days of some ranges (the trends' lines).
async fn sites_and_days(st: &AppState, communes: &[Option<String>], ranges: &[DateRange]) -> Result<(Vec<SiteSummary>, Vec<DayRollup>), ApiError> {
    let (mut sites, mut days) = (Vec::new(), Vec::new());
    for c in communes {
        let c = c.as_deref();
        let (s, d) = tokio::try_join!(st.db.territory_sites(c), st.db.territory_days(c, ranges, None))?;
        sites.extend(s);
        days.extend(d);
    }
    Ok((sites, days))
}

/// The overview's parameters: the metropolis' school calendar (zone B holidays and public
/// holidays, `territory_api::school_closures`), the domain's default factors.
fn params(period: DateRange, baseline: Option<DateRange>, year: i32, today: NaiveDate) -> OverviewParams {
    let holidays = school_closures(today).days;
    OverviewParams { period, baseline, purchase_year: year, today, holidays, factors: WasteFactors::default() }
}

/// The days an overview reads: the period, the baseline and the participation window.
fn ranges(p: &OverviewParams) -> Vec<DateRange> {
    let mut v = vec![p.period];
    v.extend(p.baseline);
    let window = last_school_days(p.today, PARTICIPATION_SCHOOL_DAYS, &p.holidays);
    if let (Some(first), Some(last)) = (window.first(), window.last()) {
        v.push(DateRange::new(*first, *last));
    }
    v
}

/// A strong ETag of what an answer depends on.
async fn etag(st: &AppState, route: &str, person: &Person, today: NaiveDate, query: &str) -> Result<String, ApiError> {
    let version = st.db.territory_version().await?;
    let mut h = Sha256::new();
    for part in [route, &version, person.role.code(), &person.communes.join(","), &today.to_string(), query] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    Ok(format!("\"{}\"", crate::auth::hex(&h.finalize()[..16])))
}

/// Whether `If-None-Match` names this ETag (or `*`).
fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t == tag
        })
}

fn with_etag(mut r: Response, tag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(tag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    // The browser keeps the answer but asks again each time (the ETag makes it a 304).
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    r
}

fn json<T: serde::Serialize>(v: &T, tag: &str) -> Response {
    with_etag(axum::Json(v).into_response(), tag)
}

/// The metropolis' name in exports (a manager's: their communes').
const TERRITORY_NAME: &str = "Le Havre Seine Métropole";

/// A table written by the domain's writers (`assiette_domain::export`), as a download.
fn export(format: ExportFormat, name: &str, tag: &str, csv: impl FnOnce() -> String, xlsx: impl FnOnce() -> Result<Vec<u8>, String>) -> Result<Response, ApiError> {
    let (content_type, body) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", csv().into_bytes()),
        ExportFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx().map_err(|e| {
                tracing::error!(error = %e, "territory workbook not written");
                ApiError::internal()
            })?,
        ),
    };
    let disposition = format!("attachment; filename=\"{name}.{}\"", format.code());
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(with_etag(r, tag))
}

/// Who the figures are of, in an export's title.
async fn scope_name(st: &AppState, person: &Person) -> Result<String, ApiError> {
    Ok(match scope(person) {
        None => TERRITORY_NAME.to_owned(),
        Some(list) => {
            let names: Vec<String> = st.db.list_communes().await?.into_iter().filter(|(c, _)| list.contains(c)).map(|(_, n)| n).collect();
            names.join(", ")
        }
    })
}

struct Ctx {
    now: DateTime<Utc>,
    today: NaiveDate,
}

/// The territory's figures are read in the metropolis' own day (Le Havre, Europe/Paris): the
/// participation window ends there, and the date the page prints is that day. (The push path's
/// lenient `server_today` is a bound for validation, a day ahead for half of every day.)
pub fn territory_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&chrono_tz::Europe::Paris).date_naive()
}

fn ctx(st: &AppState) -> Ctx {
    let now = st.clock.now();
    Ctx { now, today: territory_today(now) }
}

/// The whole overview of the kept sites, rows sorted. The database sums each site's days
/// (`territory_site_days`) and reads the simple yearly totals: a territory's day rows are
/// tens of thousands, its sums a thousand.
async fn overview_of(st: &AppState, person: &Person, q: &OverviewQuery, today: NaiveDate) -> Result<Overview, ApiError> {
    let communes = communes_to_read(&scope(person), q.commune.as_deref())?;
    let p = params(q.period, q.baseline, q.year, today);
    let window = last_school_days(p.today, PARTICIPATION_SCHOOL_DAYS, &p.holidays);
    let (mut sites, mut days, mut totals, mut months) = (Vec::new(), Vec::new(), Vec::new(), BTreeMap::new());
    for c in &communes {
        let c = c.as_deref();
        // Side by side: each read is the database's work on its own connection.
        let (s, d, t, m) = tokio::try_join!(
            st.db.territory_sites(c),
            st.db.territory_site_days(c, p.period, p.baseline, &window, p.today),
            st.db.territory_year_totals(c, Some(q.year), Detail::Simple),
            st.db.territory_purchase_month_counts(c, q.year),
        )?;
        sites.extend(s);
        days.extend(d);
        totals.extend(t);
        months.extend(m);
    }
    let filter = RowFilter { commune_insee: q.commune.clone(), management: q.management, production_type: q.production, engaged: q.engaged };
    let kept: Vec<SiteSummary> = sites.into_iter().filter(|s| filter.keeps(s)).collect();
    let mut o = overview_of_sums(&kept, &days, &totals, &months, &p);
    sort_rows(&mut o.sites, q.sort_key(), q.desc);
    Ok(o)
}

async fn overview_route(
    State(st): State<AppState>,
    Reader(person): Reader,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let c = ctx(&st);
    let q = OverviewQuery::parse(&pairs(raw), c.today).map_err(param_error)?;
    // Scope first: a commune outside it is refused before anything is read.
    communes_to_read(&scope(&person), q.commune.as_deref())?;
    let tag = etag(&st, "overview", &person, c.today, &q.to_query()).await?;
    if not_modified(&headers, &tag) {
        return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &tag));
    }
    {
        let o = overview_of(&st, &person, &q, c.today).await?;
        let statistics = canteen_statistics(&o);
        if let Some(f) = q.format {
            // Every kept site (not one page), then ma cantine's fields.
            let name = scope_name(&st, &person).await?;
            return export(f, &format!("territoire-{}-{}", q.period.start, q.period.end), &tag, || export::overview_csv(&o), || {
                export::tables_xlsx(&[export::overview_table(&o), export::statistics_table(&statistics, &name)])
            });
        }
        let total = o.sites.len() as u32;
        let pages = total.div_ceil(q.per_page).max(1);
        let start = ((q.page - 1) as usize).saturating_mul(q.per_page as usize).min(o.sites.len());
        let end = (start + q.per_page as usize).min(o.sites.len());
        let Overview { sites, communes, territory, factors, .. } = o;
        let page: Vec<SiteRow> = sites.into_iter().skip(start).take(end - start).collect();
        let r = OverviewResponse {
            generated_at: c.now,
            sources: participation_sources(&factors, &school_closures(c.today)),
            query: q,
            today: c.today,
            total_sites: total,
            pages,
            sites: page,
            communes,
            territory,
            statistics,
            factors,
        };
        Ok(json(&r, &tag))
    }
}

/// Every site of `rows` against the median of its comparable sites among `peers`.
fn comparisons(rows: &[SiteRow], peers: &[SiteRow]) -> Vec<SiteComparison> {
    rows.iter()
        .map(|r| SiteComparison {
            site_id: r.site.site_id,
            name: r.site.name.clone(),
            commune_insee: r.site.commune_insee.clone(),
            grams_per_meal: r.grams_per_meal(),
            median: comparable_median(r, peers),
        })
        .collect()
}

/// The twelve months ending with `end` (from the first of the month a year before).
fn trend_range(end: NaiveDate) -> DateRange {
    let start = end - Duration::days(DEFAULT_TREND_DAYS - 1);
    let start = start.with_day0(0).unwrap_or(start);
    DateRange::new(start, end)
}

use chrono::Datelike;

async fn commune_route(
    State(st): State<AppState>,
    Reader(person): Reader,
    Path(insee): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let c = ctx(&st);
    let insee = normalize_insee(&insee).map_err(|m| param_error(ParamError { param: "insee".into(), message: m }))?;
    // Outside a manager's scope: 403 before anything is read (same answer, existing or not).
    if !person.covers(&insee) {
        return Err(out_of_scope());
    }
    let q = CommuneQuery::parse(&pairs(raw), c.today).map_err(param_error)?;
    let key = format!("{insee}?{}", q.to_query());
    let tag = etag(&st, "commune", &person, c.today, &key).await?;
    if not_modified(&headers, &tag) {
        return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &tag));
    }
    {
        let Some((commune_name, engaged)) = st.db.commune_engagement(&insee).await? else {
            return Err(ApiError::not_found("unknown_commune", format!("Aucune commune de code INSEE {insee} n'est enregistrée.")));
        };
        let p = params(q.period, q.baseline, q.year, c.today);
        let trend = trend_range(q.period.end);
        let mut rs = ranges(&p);
        rs.push(trend);
        // Side by side, each on its own connection: every site (the commune's own and the
        // comparable ones of the whole territory); the commune's days, its months with purchase
        // lines and its simple totals of every year (the page shows shares and euros, not the
        // tables by family); each site's measured days of the period summed by SQL (the peers'
        // g per meal: no names leave); the contract the commune's guide pushed (its version is
        // in the ETag's).
        let (all_sites, days, all_years, months, peers_days, contract) = tokio::try_join!(
            async { Ok::<_, ApiError>(st.db.territory_sites(None).await?) },
            async { Ok::<_, ApiError>(st.db.territory_days(Some(&insee), &rs, Some(c.today)).await?) },
            async { Ok::<_, ApiError>(st.db.territory_year_totals(Some(&insee), None, Detail::Simple).await?) },
            async { Ok::<_, ApiError>(st.db.territory_purchase_months(Some(&insee), q.year).await?) },
            async { Ok::<_, ApiError>(st.db.territory_period_sums(None, q.period).await?) },
            async { Ok::<_, ApiError>(crate::concession::stored_contract(&st.db, &insee).await?) },
        )?;
        let sites: Vec<SiteSummary> = all_sites.iter().filter(|s| s.commune_insee == insee).cloned().collect();
        let year_totals: Vec<YearTotals> = all_years.iter().filter(|t| t.year == q.year).cloned().collect();
        let o = overview(&sites, &days, &year_totals, &months, &p);
        let peers = overview_of_sums(&all_sites, &peers_days, &[], &BTreeMap::new(), &params(q.period, None, q.year, c.today)).sites;
        let line = monthly_trend(&sites, &days, trend).into_iter().find(|l| l.commune_insee == insee).unwrap_or_else(|| {
            assiette_domain::territory::TrendLine { commune_insee: insee.clone(), commune_name: commune_name.clone(), points: Vec::new() }
        });
        let egalim_by_year = yearly_purchases(&sites, &all_years).into_iter().filter(|y| y.commune_insee == insee).collect();
        if let Some(f) = q.format {
            let lines = [line];
            return export(f, &format!("commune-{insee}-{}-{}", q.period.start, q.period.end), &tag, || export::overview_csv(&o), || {
                export::tables_xlsx(&[export::overview_table(&o), export::trend_table(&lines)])
            });
        }
        let contracts: Vec<_> = contract.into_iter().collect();
        let deadlines = page_deadlines(&insee, &sites, &contracts, c.today);
        let totals = o.communes.into_iter().next().unwrap_or(o.territory);
        let r = CommuneResponse {
            generated_at: c.now,
            sources: participation_sources(&o.factors, &school_closures(c.today)),
            comparisons: comparisons(&o.sites, &peers),
            query: q,
            today: c.today,
            commune_insee: insee.clone(),
            commune_name,
            sites: o.sites,
            totals,
            trend: line,
            egalim_by_year,
            engaged,
            deadlines,
            factors: o.factors,
        };
        Ok(json(&r, &tag))
    }
}

async fn trends_route(
    State(st): State<AppState>,
    Reader(person): Reader,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let c = ctx(&st);
    let q = TrendsQuery::parse(&pairs(raw), c.today).map_err(param_error)?;
    let tag = etag(&st, "trends", &person, c.today, &q.to_query()).await?;
    if not_modified(&headers, &tag) {
        return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &tag));
    }
    {
        let communes = communes_to_read(&scope(&person), None)?;
        let (sites, days) = sites_and_days(&st, &communes, &[q.range]).await?;
        let p = params(q.range, None, q.range.end.year(), c.today);
        let rows = overview(&sites, &days, &[], &[], &p).sites;
        // Medians among the whole territory's sites; a manager sees their own sites' lines.
        let peers = if scope(&person).is_some() {
            let sites = st.db.territory_sites(None).await?;
            let days = st.db.territory_period_sums(None, q.range).await?;
            overview_of_sums(&sites, &days, &[], &BTreeMap::new(), &p).sites
        } else {
            rows.clone()
        };
        let lines = monthly_trend(&sites, &days, q.range);
        if let Some(f) = q.format {
            let name = format!("tendances-{}-{}", q.range.start, q.range.end);
            return export(f, &name, &tag, || export::trend_csv(&lines), || export::trend_xlsx(&lines));
        }
        let r = TrendsResponse {
            generated_at: c.now,
            lines,
            comparisons: comparisons(&rows, &peers),
            sources: sources(&p.factors),
            query: q,
        };
        Ok(json(&r, &tag))
    }
}

/// The thresholds' region group of summed totals: the sites' one when they all share it,
/// mainland otherwise (as `territory::yearly_purchases` does).
fn region_group_of(sites: &[SiteSummary], totals: &[YearTotals]) -> RegionGroup {
    let mut groups = sites.iter().filter(|s| totals.iter().any(|t| t.siret == s.siret && t.valeur_totale > 0)).map(|s| s.region_group);
    let first = groups.next().unwrap_or_default();
    if groups.all(|g| g == first) { first } else { RegionGroup::Mainland }
}

async fn purchases_route(
    State(st): State<AppState>,
    Reader(person): Reader,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let c = ctx(&st);
    let q = PurchasesQuery::parse(&pairs(raw), c.today).map_err(param_error)?;
    let tag = etag(&st, "purchases", &person, c.today, &q.to_query()).await?;
    if not_modified(&headers, &tag) {
        return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &tag));
    }
    {
        let mut sites = Vec::new();
        let mut totals = Vec::new();
        for commune in communes_to_read(&scope(&person), None)? {
            sites.extend(st.db.territory_sites(commune.as_deref()).await?);
            totals.extend(st.db.territory_year_totals(commune.as_deref(), Some(q.year), Detail::Full).await?);
        }
        let lines = yearly_purchases(&sites, &totals);
        if let Some(f) = q.format {
            // The collective signal to suppliers: the summed totals of the year, by family.
            let mut sum = YearTotals::new("", q.year);
            for t in &totals {
                sum.add_totals(t);
            }
            let group = region_group_of(&sites, &totals);
            let signal = supplier_signal(&sum, group);
            let name = scope_name(&st, &person).await?;
            return export(f, &format!("signal-fournisseurs-{}", q.year), &tag, || export::signal_csv(&signal, &name), || export::signal_xlsx(&signal, &name));
        }
        let r = PurchasesResponse {
            generated_at: c.now,
            lines,
            sources: sources(&WasteFactors::default()),
            query: q,
        };
        Ok(json(&r, &tag))
    }
}
