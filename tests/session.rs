//! A manager's session in headless Chromium (real IndexedDB): it survives the repository being
//! closed and reopened (a reload), its expiry is kept, and sign-out never drops unsent lines.
#![cfg(target_arch = "wasm32")]

use assiette::session::{self, ClientRegistration, Session, SessionSite, CLIENT_KEY, SESSION_KEY};
use assiette::storage::Repository;
use assiette_domain::purchase::{Characteristic, Family};
use assiette_domain::site::{Commune, RegionGroup};
use assiette_domain::sync::{AccountInfo, Role, SiteDetails, SiteInfo};
use assiette_domain::site::{ManagementType, ProductionType, Sector};
use assiette_tablet::purchases::PurchaseForm;
use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn unique_db(name: &str) -> String {
    format!("test-session-{name}-{}", Uuid::now_v7())
}

/// A site as the server lists it, read as the office reads it.
fn site(siret: &str, name: &str) -> SessionSite {
    let details = SiteDetails {
        info: SiteInfo { id: Uuid::now_v7(), name: name.into(), siret: siret.into(), commune_insee: "76447".into(), commune_name: "Gonfreville-l'Orcher".into() },
        management_type: ManagementType::Direct,
        production_type: ProductionType::Site,
        sectors: vec![Sector::EducationPrimaire],
        daily_meal_count: 120,
        yearly_meal_count: 17_000,
        region_group: RegionGroup::Mainland,
    };
    let read: SessionSite = serde_json::from_str(&serde_json::to_string(&details).unwrap()).unwrap();
    assert_eq!((read.siret.as_str(), read.name.as_str(), read.yearly_meal_count), (siret, name, 17_000));
    read
}

fn a_session() -> Session {
    Session {
        token: format!("asa_{}", "ab".repeat(32)),
        account: AccountInfo {
            id: Uuid::now_v7(),
            email: "gestion@gonfreville.fr".into(),
            role: Role::CommuneManager,
            communes: vec![Commune { insee_code: "76447".into(), name: "Gonfreville-l'Orcher".into() }],
            disabled_at: None,
        },
        sites: vec![site("21010034300016", "École des Tilleuls"), site("21760447500019", "École Jules Ferry")],
        expires_at: Utc.with_ymd_and_hms(2027, 1, 2, 10, 0, 0).unwrap(),
        expired: false,
    }
}

#[wasm_bindgen_test]
async fn the_session_survives_closing_and_reopening_the_repository() {
    let name = unique_db("reopen");
    let s = a_session();
    let client = ClientRegistration { account_id: s.account.id, client_id: Uuid::now_v7() };
    {
        let repo = Repository::open_named(&name).await.unwrap();
        assert_eq!(session::load(&repo).await.unwrap(), None, "no session before sign-in");
        session::store(&repo, &s).await.unwrap();
        repo.set_setting(CLIENT_KEY, &client).await.unwrap();
        repo.close();
    }
    let repo = Repository::open_named(&name).await.unwrap();
    assert_eq!(session::load(&repo).await.unwrap(), Some(s.clone()), "token, account, role and sites back after a reopen");
    assert_eq!(repo.setting::<ClientRegistration>(CLIENT_KEY).await.unwrap(), Some(client.clone()));

    // A 401 marks it expired: kept (its sites still scope the screens), and so after a reopen.
    let expired = session::mark_expired(&repo).await.unwrap().unwrap();
    assert!(expired.expired);
    repo.close();
    let repo = Repository::open_named(&name).await.unwrap();
    let back = session::load(&repo).await.unwrap().unwrap();
    assert!(back.expired, "still expired after a reopen");
    assert_eq!(back.sites, s.sites);

    // Signing out of an expired session with nothing unsent: the session goes (no server
    // needed, the token is dead), the client id stays for the next sign-in of the account.
    session::sign_out(&repo, &back).await.unwrap();
    assert_eq!(session::load(&repo).await.unwrap(), None);
    repo.close();
    let repo = Repository::open_named(&name).await.unwrap();
    assert_eq!(repo.setting::<Session>(SESSION_KEY).await.unwrap(), None, "gone after a reopen too");
    assert_eq!(repo.setting::<ClientRegistration>(CLIENT_KEY).await.unwrap(), Some(client));
}

#[wasm_bindgen_test]
async fn sign_out_is_refused_while_purchases_wait_for_the_server() {
    let repo = Repository::open_named(&unique_db("unsent")).await.unwrap();
    let mut s = a_session();
    s.expired = true;
    session::store(&repo, &s).await.unwrap();
    let form = PurchaseForm {
        siret: "21010034300016".into(),
        date: "02/03/2026".into(),
        description: "Pommes".into(),
        supplier: "Vergers de Caux".into(),
        family: Family::FruitsEtLegumes.code().into(),
        price: "12,50".into(),
        labels: vec![Characteristic::Bio],
        ..Default::default()
    };
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
    let p = form.to_purchase(None, Uuid::now_v7(), now, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()).unwrap();
    repo.save(&p).await.unwrap();
    let refused = session::sign_out(&repo, &s).await.unwrap_err();
    assert!(refused.contains("1 achat n'est pas encore envoyé") && refused.contains("conservés"), "{refused}");
    assert_eq!(session::load(&repo).await.unwrap(), Some(s), "the session stays");
    assert_eq!(repo.outbox_len().await.unwrap(), 1, "the line stays");
    assert_eq!(
        session::expired_fr(3),
        "Votre session a expiré : reconnectez-vous ; vos 3 achats non envoyés sont conservés."
    );
}
