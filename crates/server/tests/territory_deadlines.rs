//! The commune page's next deadlines and the commune's engagement, over real HTTP on SQLite
//! and (when configured) PostgreSQL.
//!
//! Deadlines: a commune in delegated management without a stored contract is told so in
//! words (no date made up); once its guide pushed the contract, the page lists the deadlines
//! the domain computes from that very record (renewal, the delegate's report, quarterly files),
//! the declaration campaign once; the ETag changes with the contract. A manager of another
//! commune gets 403.
//!
//! Engagement: the metropolis sets it (`POST /api/v1/admin/communes/{insee}/engaged`), the
//! overview's rows, filter and ETag follow (also when one commune is switched off and another
//! on: the count alone stays the same); a commune manager or a tablet gets 403, nobody signed
//! in 401, a malformed code 400, an unknown one 404, in French.

mod common;

use assiette_domain::commune_page::{page_deadlines, MISSING_CONTRACT_FR};
use assiette_domain::concession::deadline::DeadlineKind;
use assiette_domain::concession::sync::CommuneRecord;
use assiette_domain::concession::{CateringContract, ContractTargets, ContractType, ReportingFrequency};
use assiette_domain::record::RecordMeta;
use assiette_domain::territory_api::{CommuneResponse, EngagedResponse, OverviewResponse};
use assiette_server::store::Store;
use assiette_server::territory::territory_today;
use chrono::{Months, TimeDelta, Utc};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

/// In delegated management (a conceded site).
const A: &str = "76447";
/// Cooks itself (a direct site).
const B: &str = "76217";
const PASSWORD: &str = "le mot de passe du responsable";

async fn manager(admin: &Admin, email: &str, communes: &[&str]) -> Admin {
    let (s, b) = admin.post("/api/v1/admin/invitations", json!({"email": email, "communes": communes})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = send(http().post(format!("{}/api/v1/invitations/accept", admin.base)).json(&json!({"code": b["code"], "password": PASSWORD}))).await;
    assert_eq!(s, 200, "{b}");
    Admin { base: admin.base.clone(), token: b["token"].as_str().unwrap().to_owned(), client: http() }
}

/// A concession that started a year ago and ends in 20 months: its renewal's preparation is in
/// about two months, a quarterly file is always due within six.
fn contract() -> CateringContract {
    let today = territory_today(Utc::now());
    CateringContract {
        meta: RecordMeta::new(Uuid::now_v7(), Utc::now() - TimeDelta::minutes(5)),
        commune_insee_code: A.into(),
        caterer_name: "Restauration Normande SAS".into(),
        caterer_siren: "732829320".into(),
        contract_type: ContractType::Concession,
        start_date: today - Months::new(12),
        end_date: today + Months::new(20),
        site_sirets: vec![siret("2176044700001")],
        targets: ContractTargets { egalim_percent: Some(55), organic_percent: Some(25), waste_grams_per_meal: Some(80), reporting_frequency: ReportingFrequency::Quarterly },
        committee: vec![],
    }
}

async fn get_tagged(p: &Admin, path: &str, etag: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = http().get(format!("{}{path}", p.base)).bearer_auth(&p.token);
    if let Some(t) = etag {
        req = req.header("If-None-Match", t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let tag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
    (status, tag, res.json().await.unwrap_or(Value::Null))
}

fn is_fr_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b[2] == b'/' && b[5] == b'/' && s.chars().filter(|c| c.is_ascii_digit()).count() == 8
}

async fn story(backend: &Backend) {
    eprintln!("== échéances et engagement sur {} ==", backend.name);
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    let (s, b) = admin.post("/api/v1/admin/communes", json!({"insee_code": A, "name": "Montivilliers"})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin
        .post(
            "/api/v1/admin/sites",
            json!({"name": "École Jules Ferry", "siret": siret("2176044700001"), "commune_insee": A, "management_type": "conceded",
                   "production_type": "site", "sectors": ["education_primaire"], "daily_meal_count": 150, "yearly_meal_count": 21000}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let site_a = Uuid::parse_str(b["id"].as_str().unwrap()).unwrap();
    admin.create_site(B, "Épouville", &siret("2176021700001"), "École du Centre").await;
    let mona = manager(&admin, "mairie@montivilliers.fr", &[A]).await;
    let epou = manager(&admin, "mairie@epouville.fr", &[B]).await;
    let page_a = format!("/api/v1/territory/communes/{A}");

    // No contract yet: said in words, no contract date; the campaign is there.
    let (s, tag0, page) = get_tagged(&admin, &page_a, None).await;
    assert_eq!(s, 200, "{page}");
    let typed: CommuneResponse = serde_json::from_value(page.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), page, "read back, the same JSON");
    assert_eq!(typed.deadlines.missing_contract.as_deref(), Some(MISSING_CONTRACT_FR));
    assert!(page["deadlines"]["missing_contract"].as_str().unwrap().contains("aucun contrat enregistré"));
    assert!(typed.deadlines.contracts.is_empty());
    assert!(!typed.deadlines.declaration.is_empty());
    assert!(typed.deadlines.declaration.iter().all(|d| d.kind == DeadlineKind::DeclarationCampaign || d.kind == DeadlineKind::DeclarationCorrections));
    assert!(typed.engaged);
    // A commune that cooks itself: no contract to ask for; the campaign all the same.
    let (s, page_b) = admin.get(&format!("/api/v1/territory/communes/{B}")).await;
    assert_eq!(s, 200, "{page_b}");
    assert_eq!(page_b["deadlines"]["missing_contract"], Value::Null);
    assert_eq!(page_b["deadlines"]["declaration"], page["deadlines"]["declaration"]);

    // The commune's guide pushes its contract: the page's ETag changes, its deadlines are the
    // domain's of that contract.
    let c = contract();
    let (s, b) = mona.post("/api/v1/concession/push", json!({ "records": [CommuneRecord::CateringContract(c.clone())] })).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["results"][0]["status"], "applied", "{b}");
    let (s, tag1, page) = get_tagged(&admin, &page_a, tag0.as_deref()).await;
    assert_eq!(s, 200, "a new contract is a new answer: {page}");
    assert_ne!(tag1, tag0);
    let typed: CommuneResponse = serde_json::from_value(page.clone()).unwrap();
    let sites = server.db.territory_sites(Some(A)).await.unwrap();
    let want = page_deadlines(A, &sites, std::slice::from_ref(&c), typed.today);
    assert_eq!(typed.deadlines, want, "the domain's deadlines of the stored contract");
    assert_eq!(typed.deadlines.missing_contract, None);
    let listed = &typed.deadlines.contracts[0];
    assert_eq!((listed.caterer_name.as_str(), listed.end_date), ("Restauration Normande SAS", c.end_date));
    let kinds: Vec<DeadlineKind> = listed.deadlines.iter().map(|d| d.kind).collect();
    for k in [DeadlineKind::RenewalPreparation, DeadlineKind::PeriodicReport] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
    assert!(listed.deadlines.iter().all(|d| !d.past), "{kinds:?}");
    let renewal = listed.deadlines.iter().find(|d| d.kind == DeadlineKind::RenewalPreparation).unwrap();
    assert_eq!(renewal.date, c.end_date - Months::new(18));
    assert!(renewal.label.contains(&c.end_date.format("%d/%m/%Y").to_string()), "dates dd/mm/yyyy: {}", renewal.label);
    for d in listed.deadlines.iter().chain(&typed.deadlines.declaration) {
        assert!(is_fr_date(&d.line_fr()[..10]), "{}", d.line_fr());
    }
    // The campaign is listed once: not again under the contract.
    assert!(!listed.deadlines.iter().any(|d| typed.deadlines.declaration.iter().any(|x| x.kind == d.kind && x.date == d.date)));
    // The manager reads the same deadlines on their commune's page; unchanged, a 304.
    let (s, _, mine) = get_tagged(&mona, &page_a, None).await;
    assert_eq!(s, 200, "{mine}");
    assert_eq!(mine["deadlines"], page["deadlines"]);
    let (s, _, _) = get_tagged(&admin, &page_a, tag1.as_deref()).await;
    assert_eq!(s, 304);
    // The contract corrected (two more years): the deadlines follow.
    let mut longer = c.clone();
    longer.end_date = c.end_date + Months::new(24);
    longer.meta.revision += 1;
    longer.meta.modified_at = Utc::now();
    let (s, b) = mona.post("/api/v1/concession/push", json!({ "records": [CommuneRecord::CateringContract(longer.clone())] })).await;
    assert_eq!((s, b["results"][0]["status"].as_str()), (200, Some("applied")), "{b}");
    let (s, tag2, page) = get_tagged(&admin, &page_a, tag1.as_deref()).await;
    assert_eq!(s, 200);
    assert_ne!(tag2, tag1);
    let typed: CommuneResponse = serde_json::from_value(page).unwrap();
    assert_eq!(typed.deadlines.contracts[0].end_date, longer.end_date);
    assert_eq!(typed.deadlines, page_deadlines(A, &sites, &[longer], typed.today));
    // A manager of another commune: 403, the same as for a commune that does not exist.
    let other = epou.get(&page_a).await;
    assert_error(&other, 403, "commune_forbidden");
    assert_eq!(epou.get("/api/v1/territory/communes/99999").await, other);

    // Engagement, the metropolis'.
    let overview = "/api/v1/territory/overview?per_page=500";
    let (s, otag0, before) = get_tagged(&admin, overview, None).await;
    assert_eq!(s, 200, "{before}");
    let engaged_of = |o: &Value, name: &str| {
        let typed: OverviewResponse = serde_json::from_value(o.clone()).unwrap();
        typed.sites.iter().find(|r| r.site.name == name).map(|r| r.site.engaged)
    };
    assert_eq!(engaged_of(&before, "École Jules Ferry"), Some(true));
    let path_a = format!("/api/v1/admin/communes/{A}/engaged");
    let (s, b) = admin.post(&path_a, json!({"engaged": false})).await;
    assert_eq!(s, 200, "{b}");
    let saved: EngagedResponse = serde_json::from_value(b).unwrap();
    assert_eq!(saved, EngagedResponse { insee_code: A.into(), name: "Montivilliers".into(), engaged: false });
    assert_eq!(server.db.commune_engagement(A).await.unwrap(), Some(("Montivilliers".into(), false)), "stored");
    let (s, otag1, after) = get_tagged(&admin, overview, otag0.as_deref()).await;
    assert_eq!(s, 200, "the overview changed: a new answer");
    assert_ne!(otag1, otag0);
    assert_eq!(engaged_of(&after, "École Jules Ferry"), Some(false));
    assert_eq!(engaged_of(&after, "École du Centre"), Some(true));
    let (_, only_engaged) = admin.get(&format!("{overview}&engaged=true")).await;
    assert_eq!(engaged_of(&only_engaged, "École Jules Ferry"), None, "filtered out");
    assert_eq!(engaged_of(&only_engaged, "École du Centre"), Some(true));
    let (_, page) = admin.get(&page_a).await;
    assert_eq!(page["engaged"], false);
    // The same value again: the same answer, nothing else changes.
    let (s, b) = admin.post(&path_a, json!({"engaged": false})).await;
    assert_eq!((s, &b["engaged"]), (200, &json!(false)), "{b}");
    let (s, _, _) = get_tagged(&admin, overview, otag1.as_deref()).await;
    assert_eq!(s, 304);
    // B off and A on: as many engaged communes as before, yet another answer.
    let (s, _) = admin.post(&format!("/api/v1/admin/communes/{B}/engaged"), json!({"engaged": false})).await;
    assert_eq!(s, 200);
    let (s, _) = admin.post(&path_a, json!({"engaged": true})).await;
    assert_eq!(s, 200);
    let (s, otag2, swapped) = get_tagged(&admin, overview, otag1.as_deref()).await;
    assert_eq!(s, 200, "one commune off and another on is a change");
    assert_ne!(otag2, otag1);
    assert_eq!((engaged_of(&swapped, "École Jules Ferry"), engaged_of(&swapped, "École du Centre")), (Some(true), Some(false)));
    // The code as typed: lower case and spaces are the same commune.
    let (s, b) = admin.post(&format!("/api/v1/admin/communes/%20{B}%20/engaged"), json!({"engaged": true})).await;
    assert_eq!((s, &b["insee_code"]), (200, &json!(B)), "{b}");

    // Not the metropolis: 403, nothing written.
    for (who, code) in [(&mona, "metropolis_only"), (&epou, "metropolis_only")] {
        assert_error(&who.post(&path_a, json!({"engaged": false})).await, 403, code);
    }
    let tablet = Tablet::enrol(&server.base, &admin.code(site_a).await).await;
    let as_tablet = Admin { base: server.base.clone(), token: tablet.token.clone(), client: http() };
    assert_error(&as_tablet.post(&path_a, json!({"engaged": false})).await, 403, "person_only");
    let (s, _) = send(http().post(server.url(&path_a)).json(&json!({"engaged": false}))).await;
    assert_eq!(s, 401);
    assert_eq!(server.db.commune_engagement(A).await.unwrap(), Some(("Montivilliers".into(), true)), "nothing written by the refused");
    // Bad codes and bodies, in French.
    let bad = admin.post("/api/v1/admin/communes/7644/engaged", json!({"engaged": false})).await;
    assert_error(&bad, 400, "invalid_insee");
    assert!(bad.1["error"].as_str().unwrap().contains("Code INSEE"), "{}", bad.1);
    let unknown = admin.post("/api/v1/admin/communes/99999/engaged", json!({"engaged": false})).await;
    assert_error(&unknown, 404, "unknown_commune");
    assert!(unknown.1["error"].as_str().unwrap().contains("99999"), "{}", unknown.1);
    assert_error(&admin.post(&path_a, json!({"engaged": "oui"})).await, 422, "invalid_data");
    assert_error(&admin.post(&path_a, json!({})).await, 422, "invalid_data");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commune_deadlines_and_engagement() {
    for backend in backends().await {
        story(&backend).await;
    }
}
