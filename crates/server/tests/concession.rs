//! A commune's delegated-management records over real HTTP, on SQLite and (when configured)
//! PostgreSQL: a commune manager writes the contract and ticks the pathway for their commune
//! only (403 for another commune, existing or not; 403 for a kitchen tablet; 403 for the
//! metropolis' follow-up note); two people ticking offline both keep their ticks and notes
//! whatever order their pushes arrive in; the server refuses what the domain refuses (French
//! messages), whatever the browser checked; pulls return the person's communes only, by cursor.

mod common;

use assiette_domain::concession::progress::{ChecklistProgress, Note};
use assiette_domain::concession::sync::{CommuneChecklist, CommuneRecord, ConcessionPullResponse, FollowUpNote};
use assiette_domain::concession::{CateringContract, ContractTargets, ContractType, ReportingFrequency};
use assiette_domain::record::RecordMeta;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "le mot de passe du responsable";

async fn manager(admin: &Admin, email: &str, communes: &[&str]) -> (Admin, Uuid) {
    let (s, b) = admin.post("/api/v1/admin/invitations", json!({"email": email, "communes": communes})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = send(http().post(format!("{}/api/v1/invitations/accept", admin.base)).json(&json!({"code": b["code"], "password": PASSWORD}))).await;
    assert_eq!(s, 200, "{b}");
    let id = Uuid::parse_str(b["account"]["id"].as_str().unwrap()).unwrap();
    (Admin { base: admin.base.clone(), token: b["token"].as_str().unwrap().to_owned(), client: http() }, id)
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::hours(1) + TimeDelta::seconds(seconds)
}

fn contract(insee: &str) -> CateringContract {
    CateringContract {
        meta: RecordMeta::new(Uuid::now_v7(), at(0)),
        commune_insee_code: insee.into(),
        caterer_name: "Restauration Normande SAS".into(),
        caterer_siren: "732829320".into(),
        contract_type: ContractType::Concession,
        start_date: NaiveDate::from_ymd_opt(2024, 9, 1).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2028, 8, 31).unwrap(),
        site_sirets: vec![siret("2176044700001")],
        targets: ContractTargets { egalim_percent: Some(55), organic_percent: Some(25), waste_grams_per_meal: Some(80), reporting_frequency: ReportingFrequency::Quarterly },
        committee: vec![],
    }
}

fn checklist(insee: &str, progress: ChecklistProgress) -> CommuneRecord {
    CommuneRecord::Checklist(CommuneChecklist { meta: RecordMeta::new(Uuid::now_v7(), at(0)), commune_insee_code: insee.into(), progress })
}

async fn push(p: &Admin, records: &[CommuneRecord]) -> (u16, Value) {
    p.post("/api/v1/concession/push", json!({ "records": records })).await
}

fn statuses(reply: &Value) -> Vec<&str> {
    reply["results"].as_array().unwrap_or_else(|| panic!("{reply}")).iter().map(|r| r["status"].as_str().unwrap()).collect()
}

/// Every change the person may see, page after page (pages of 1: the cursor is exercised).
async fn pull_all(p: &Admin) -> Vec<CommuneRecord> {
    let mut cursor: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let (s, b) = p.post("/api/v1/concession/pull", json!({"cursor": cursor, "limit": 1})).await;
        assert_eq!(s, 200, "{b}");
        let page: ConcessionPullResponse = serde_json::from_value(b).unwrap();
        assert!(page.changes.len() <= 1);
        out.extend(page.changes.into_iter().map(|c| c.record));
        cursor = Some(page.next_cursor);
        if !page.has_more {
            return out;
        }
    }
}

async fn scope_and_validation(backend: &Backend) {
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    admin.create_site("76447", "Montivilliers", &siret("2176044700001"), "École Jules Ferry").await;
    admin.create_site("76217", "Épouville", &siret("2176021700001"), "École du Centre").await;
    let (mona, _) = manager(&admin, "mairie@montivilliers.fr", &["76447"]).await;

    // The manager writes the contract of their commune.
    let c = contract("76447");
    let (s, b) = push(&mona, &[CommuneRecord::CateringContract(c.clone())]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(statuses(&b), ["applied"]);
    assert!(b["results"][0]["current"]["meta"]["server_updated_at"].is_string());
    // Sent again (a lost reply): a duplicate.
    let (_, b) = push(&mona, &[CommuneRecord::CateringContract(c.clone())]).await;
    assert_eq!(statuses(&b), ["duplicate"]);

    // Another commune, existing or not: 403 for the whole push, nothing written.
    for insee in ["76217", "99999"] {
        let before = pull_all(&admin).await.len();
        let got = push(&mona, &[CommuneRecord::CateringContract(contract("76447")), CommuneRecord::CateringContract(contract(insee))]).await;
        assert_error(&got, 403, "commune_forbidden");
        assert!(got.1["error"].as_str().unwrap().contains("rien n'a été enregistré"), "{}", got.1);
        assert_eq!(pull_all(&admin).await.len(), before, "nothing of a refused push is written");
    }
    // The metropolis' follow-up note is the metropolis' alone.
    let note = CommuneRecord::FollowUpNote(FollowUpNote { meta: RecordMeta::new(Uuid::now_v7(), at(0)), commune_insee_code: "76447".into(), text: "Rappeler la mairie en janvier".into() });
    assert_error(&push(&mona, std::slice::from_ref(&note)).await, 403, "metropolis_only");
    let (s, b) = push(&admin, std::slice::from_ref(&note)).await;
    assert_eq!((s, statuses(&b)), (200, vec!["applied"]), "{b}");

    // A kitchen tablet: 403, push and pull.
    let site = admin.create_site("76447", "Montivilliers", &siret("2176044700002"), "École Pasteur").await;
    let code = admin.code(site).await;
    let (s, e) = send(http().post(format!("{}/api/v1/enrol", server.base)).json(&json!({"code": code, "label": "Cuisine"}))).await;
    assert_eq!(s, 200, "{e}");
    let tablet = Admin { base: server.base.clone(), token: e["token"].as_str().unwrap().to_owned(), client: http() };
    assert_error(&push(&tablet, &[CommuneRecord::CateringContract(contract("76447"))]).await, 403, "person_only");
    assert_error(&tablet.post("/api/v1/concession/pull", json!({})).await, 403, "person_only");
    // Nobody signed in: 401.
    let nobody = send(http().post(format!("{}/api/v1/concession/push", server.base)).json(&json!({"records": []}))).await;
    assert_eq!(nobody.0, 401, "{}", nobody.1);

    // The server checks what the browser should have: each refusal in French, per record, the
    // others applied.
    let mut reversed = contract("76447");
    reversed.meta = c.meta.revised(at(5));
    reversed.end_date = NaiveDate::from_ymd_opt(2024, 8, 1).unwrap();
    let mut bad_siren = contract("76447");
    bad_siren.meta = c.meta.revised(at(5));
    bad_siren.caterer_siren = "732829321".into();
    let mut over = contract("76447");
    over.meta = c.meta.revised(at(5));
    over.targets.organic_percent = Some(101);
    let mut future = ChecklistProgress::default();
    future.set_tick("menus", "menu-vegetarien", true, Utc::now() + TimeDelta::days(30), Uuid::nil());
    let (s, b) = push(
        &mona,
        &[
            CommuneRecord::CateringContract(reversed),
            CommuneRecord::CateringContract(bad_siren),
            CommuneRecord::CateringContract(over),
            checklist("76447", future),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(statuses(&b), ["rejected"; 4]);
    let reasons: Vec<&str> = b["results"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert!(reasons[0].contains("La date de fin du contrat (01/08/2024) doit être après sa date de début (01/09/2024)"), "{}", reasons[0]);
    assert_eq!(b["results"][0]["errors"][0]["field"], "end_date");
    assert!(reasons[1].contains("clé de contrôle"), "{}", reasons[1]);
    assert!(reasons[2].contains("entre 0 et 100 %"), "{}", reasons[2]);
    assert!(reasons[3].contains("date impossible"), "{}", reasons[3]);
    // A body that is not a record at all: 422 in French.
    let bad = mona.post("/api/v1/concession/push", json!({"records": [{"kind": "purchase", "meta": {}}]})).await;
    assert_eq!(bad.0, 422, "{}", bad.1);

    // Two people editing revision 1 of the contract: the second is a conflict with the server's.
    let mut other = c.clone();
    other.caterer_name = "Cuisine Centrale SARL".into();
    let (_, b) = push(&admin, &[CommuneRecord::CateringContract(other)]).await;
    assert_eq!(statuses(&b), ["conflict"]);
    assert_eq!(b["results"][0]["current"]["caterer_name"], "Restauration Normande SAS");

    // Pull: the manager sees their commune's contract, not the follow-up note; the metropolis both.
    let mine = pull_all(&mona).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(matches!(&mine[0], CommuneRecord::CateringContract(k) if k.caterer_name == "Restauration Normande SAS"));
    let all = pull_all(&admin).await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|r| matches!(r, CommuneRecord::FollowUpNote(n) if n.text == "Rappeler la mairie en janvier")));
    // A manager of another commune sees none of it.
    let (epou, _) = manager(&admin, "mairie@epouville.fr", &["76217"]).await;
    assert!(pull_all(&epou).await.is_empty());
    assert_error(&epou.post("/api/v1/concession/pull", json!({"cursor": "abc"})).await, 400, "invalid_cursor");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_writes_only_their_commune_and_the_server_checks_every_record() {
    for backend in backends().await {
        eprintln!("{}", backend.name);
        scope_and_validation(&backend).await;
    }
}

async fn offline_ticks_merge(backend: &Backend) {
    let server = TestServer::start(&backend.url).await;
    let admin = Admin::login(&server.base).await;
    admin.create_site("76447", "Montivilliers", &siret("2176044700001"), "École Jules Ferry").await;
    let (alice, alice_id) = manager(&admin, "secretariat@montivilliers.fr", &["76447"]).await;
    let (bob, bob_id) = manager(&admin, "elu@montivilliers.fr", &["76447"]).await;

    // Both start from the same pulled copy (one tick), then work offline.
    let mut base = ChecklistProgress::default();
    base.set_tick("diagnostic", "liste-restaurants", true, at(0), alice_id);
    let (s, b) = push(&alice, &[checklist("76447", base.clone())]).await;
    assert_eq!((s, statuses(&b)), (200, vec!["applied"]));
    let mut a = base.clone();
    let mut bb = base.clone();
    a.set_tick("menus", "menu-vegetarien", true, at(10), alice_id);
    a.add_note("menus", Note { written_at: at(10), id: Uuid::now_v7(), author: alice_id, text: "Menus de mars vérifiés".into(), proof_date: None, reference: Some("menus-mars.pdf".into()) }).unwrap();
    // Bob unticks the shared one later, and notes on the same step.
    bb.set_tick("diagnostic", "liste-restaurants", false, at(20), bob_id);
    bb.add_note("menus", Note { written_at: at(15), id: Uuid::now_v7(), author: bob_id, text: "Pas de menu végétarien la semaine 12".into(), proof_date: NaiveDate::from_ymd_opt(2026, 3, 20), reference: None }).unwrap();

    let (_, ra) = push(&bob, &[checklist("76447", bb.clone())]).await;
    let (_, rb) = push(&alice, &[checklist("76447", a.clone())]).await;
    assert_eq!(statuses(&ra), ["applied"]);
    assert_eq!(statuses(&rb), ["applied"], "a second offline copy is merged, never a conflict");
    let merged: CommuneRecord = serde_json::from_value(rb["results"][0]["current"].clone()).unwrap();
    let CommuneRecord::Checklist(merged) = merged else { panic!() };
    assert_eq!(merged.progress, assiette_domain::concession::progress::merge(&a, &bb));
    let texts: Vec<&str> = merged.progress.steps["menus"].notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts, ["Menus de mars vérifiés", "Pas de menu végétarien la semaine 12"]);
    assert!(merged.progress.is_ticked("menus", "menu-vegetarien"));
    assert!(!merged.progress.is_ticked("diagnostic", "liste-restaurants"), "Bob's later untick wins");
    assert_eq!(merged.meta.revision, 3);
    // A replay changes nothing.
    let (_, again) = push(&alice, &[checklist("76447", a.clone())]).await;
    assert_eq!(statuses(&again), ["duplicate"]);
    // Both pull the same merged copy.
    for p in [&alice, &bob] {
        let got = pull_all(p).await;
        assert_eq!(got, vec![CommuneRecord::Checklist(merged.clone())]);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_ticking_offline_keep_both_their_ticks_and_notes() {
    for backend in backends().await {
        eprintln!("{}", backend.name);
        offline_ticks_merge(&backend).await;
    }
}
