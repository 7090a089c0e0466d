//! People and scopes, over real HTTP on SQLite and (when configured) PostgreSQL: the metropolis
//! invites a commune manager, who chooses a password and stays signed in through idle weeks
//! (the server's clock is moved, not waited for) until signing out, a password change or the
//! metropolis disabling the account; a manager of one commune tries every route and the sync on
//! another and is refused, with nothing of it in any answer; a manager's purchases reach the
//! metropolis and the site's tablet exactly once, replays included; today's administrators and
//! their sessions become metropolis accounts.

mod common;

use assiette_domain::sync::{Mutation, PullResponse, RecordPayload};
use assiette_domain::waste::Stage;
use assiette_server::store::Store;
use assiette_soak::records::purchase;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

const MANAGER_PASSWORD: &str = "le mot de passe du responsable";

async fn invite(admin: &Admin, email: &str, communes: &[&str]) -> String {
    let (s, b) = admin.post("/api/v1/admin/invitations", json!({"email": email, "communes": communes})).await;
    assert_eq!(s, 201, "{b}");
    b["code"].as_str().unwrap().to_owned()
}

async fn accept(base: &str, code: &str, password: &str) -> (u16, Value) {
    send(http().post(format!("{base}/api/v1/invitations/accept")).json(&json!({"code": code, "password": password}))).await
}

/// A signed-in person as a client with a bearer token (the admin client's shape).
fn person(base: &str, token: &str) -> Admin {
    Admin { base: base.to_owned(), token: token.to_owned(), client: http() }
}

/// Invited for `communes`, accepted with [`MANAGER_PASSWORD`]: the signed-in manager.
async fn manager(admin: &Admin, email: &str, communes: &[&str]) -> Admin {
    let code = invite(admin, email, communes).await;
    let (s, b) = accept(&admin.base, &code, MANAGER_PASSWORD).await;
    assert_eq!(s, 200, "{b}");
    person(&admin.base, b["token"].as_str().unwrap())
}

async fn sign_in(base: &str, email: &str, password: &str) -> (u16, Value) {
    send(http().post(format!("{base}/api/v1/admin/login")).json(&json!({"email": email, "password": password}))).await
}

async fn register_client(p: &Admin) -> Uuid {
    let (s, b) = p.post("/api/v1/account/clients", json!({"label": "Portable de la mairie"})).await;
    assert_eq!(s, 201, "{b}");
    Uuid::parse_str(b["client_id"].as_str().unwrap()).unwrap()
}

fn batch(first_seq: u64, records: &[RecordPayload]) -> Vec<Mutation> {
    records.iter().enumerate().map(|(i, r)| Mutation { seq: first_seq + i as u64, record: r.clone() }).collect()
}

async fn push(p: &Admin, client: Uuid, mutations: &[Mutation]) -> (u16, Value) {
    p.post("/api/v1/sync/push", json!({"device_id": client, "mutations": mutations})).await
}

fn statuses(reply: &Value) -> Vec<String> {
    reply["results"].as_array().unwrap_or_else(|| panic!("{reply}")).iter().map(|r| r["status"].as_str().unwrap().to_owned()).collect()
}

/// Every change of a site pulled by a signed-in person, page after page from the start.
async fn pull_site(p: &Admin, site: Uuid) -> Vec<RecordPayload> {
    let mut cursor: Option<String> = None;
    let mut records = Vec::new();
    loop {
        let (s, b) = p.post("/api/v1/sync/pull", json!({"site_id": site, "cursor": cursor, "limit": 2})).await;
        assert_eq!(s, 200, "{b}");
        let page: PullResponse = serde_json::from_value(b).unwrap();
        records.extend(page.changes.into_iter().map(|c| c.record));
        cursor = Some(page.next_cursor);
        if !page.has_more {
            return records;
        }
    }
}

async fn invitations_and_sessions(backend: &Backend) {
    eprintln!("== invitations et sessions sur {} ==", backend.name);
    let (server, clock) = TestServer::start_clocked(&backend.url).await;
    let base = server.base.clone();
    let admin = Admin::login(&base).await;
    admin.create_site("76447", "Montivilliers", &siret("2176044710001"), "École Jules Ferry").await;

    // The metropolis invites; the address is normalised, the code expires in 7 days.
    let (s, b) = admin.post("/api/v1/admin/invitations", json!({"email": " Gestion@Montivilliers.FR ", "communes": ["76447"]})).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["email"], "gestion@montivilliers.fr");
    let code = b["code"].as_str().unwrap().to_owned();
    let expires = chrono::DateTime::parse_from_rfc3339(b["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - clock.now()).num_hours();
    assert!((167..=168).contains(&days), "{days} h");
    // Only a keyed hash of the code is stored.
    let stored: Vec<String> = match &server.db {
        assiette_server::db::Db::Sqlite(s) => sqlx::query_scalar("SELECT code_hash FROM invitations").fetch_all(&s.pool).await.unwrap(),
        assiette_server::db::Db::Postgres(s) => sqlx::query_scalar("SELECT code_hash FROM invitations").fetch_all(&s.pool).await.unwrap(),
    };
    assert_eq!(stored, vec![server.db.code_hash(&code)]);
    assert!(!stored[0].contains(&code) && stored[0] != assiette_server::auth::hash_secret(&code));
    // A commune that is not registered, or none, is refused.
    let got = admin.post("/api/v1/admin/invitations", json!({"email": "x@exemple.fr", "communes": ["99999"]})).await;
    assert_error(&got, 422, "unknown_commune");
    let got = admin.post("/api/v1/admin/invitations", json!({"email": "x@exemple.fr", "communes": []})).await;
    assert_error(&got, 422, "invalid_communes");
    // The metropolis' own address cannot be invited.
    let got = admin.post("/api/v1/admin/invitations", json!({"email": ADMIN_EMAIL, "communes": ["76447"]})).await;
    assert_error(&got, 409, "account_exists");

    // A short password and a wrong code are refused; the invitation stays usable.
    assert_error(&accept(&base, &code, "court").await, 422, "weak_password");
    assert_error(&accept(&base, "ABCD-EFGH-JKMN-PQRS", MANAGER_PASSWORD).await, 401, "invitation_refused");
    assert_error(&accept(&base, "ABCD", MANAGER_PASSWORD).await, 422, "invalid_invitation_code");
    // Typed in lower case with spaces: accepted, and signed in.
    let (s, b) = accept(&base, &code.to_lowercase().replace('-', " "), MANAGER_PASSWORD).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["account"]["role"], "commune_manager");
    assert_eq!(b["account"]["communes"], json!([{"insee_code": "76447", "name": "Montivilliers"}]));
    let t_accept = b["token"].as_str().unwrap().to_owned();
    // One use.
    assert_error(&accept(&base, &code, MANAGER_PASSWORD).await, 401, "invitation_refused");
    let (s, me) = person(&base, &t_accept).get("/api/v1/account").await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["email"], "gestion@montivilliers.fr");

    // The manager signs in with the chosen password; the session lasts 30 days unused.
    let (s, b) = sign_in(&base, "gestion@montivilliers.fr", MANAGER_PASSWORD).await;
    assert_eq!(s, 200, "{b}");
    let t_login = b["token"].as_str().unwrap().to_owned();
    let until = chrono::DateTime::parse_from_rfc3339(b["expires_at"].as_str().unwrap()).unwrap().with_timezone(&chrono::Utc);
    assert_eq!((until - clock.now()).num_days(), 29, "{until}");

    // A manager who syncs once a week stays signed in; each use moves the idle expiry.
    for week in 1..=2 {
        clock.advance(Duration::days(8));
        let (s, b) = person(&base, &t_accept).get("/api/v1/account").await;
        assert_eq!(s, 200, "week {week}: {b}");
    }
    // 15 more days: the used session lives; the one unused for 31 days has ended.
    clock.advance(Duration::days(15));
    assert_eq!(person(&base, &t_accept).get("/api/v1/account").await.0, 200);
    assert_error(&person(&base, &t_login).get("/api/v1/account").await, 401, "admin_session_expired");
    // However often it is used, a session ends 90 days after sign-in (day 31 now).
    for (day, alive) in [(51, true), (71, true), (91, false)] {
        clock.advance(Duration::days(20));
        let got = person(&base, &t_accept).get("/api/v1/account").await;
        if alive {
            assert_eq!(got.0, 200, "day {day}: {}", got.1);
        } else {
            assert_error(&got, 401, "admin_session_expired");
        }
    }

    // Sign-out ends the session.
    let (s, b) = sign_in(&base, "gestion@montivilliers.fr", MANAGER_PASSWORD).await;
    assert_eq!(s, 200, "{b}");
    let signed_out = person(&base, b["token"].as_str().unwrap());
    assert_eq!(signed_out.post("/api/v1/admin/logout", json!({})).await.0, 204);
    assert_error(&signed_out.get("/api/v1/account").await, 401, "admin_session_expired");

    // A password change ends every other session, keeps the one that changed it.
    let laptop = person(&base, sign_in(&base, "gestion@montivilliers.fr", MANAGER_PASSWORD).await.1["token"].as_str().unwrap());
    let tablet = person(&base, sign_in(&base, "gestion@montivilliers.fr", MANAGER_PASSWORD).await.1["token"].as_str().unwrap());
    let new_password = "un tout nouveau mot de passe";
    let got = laptop.post("/api/v1/account/password", json!({"current_password": "pas le bon", "new_password": new_password})).await;
    assert_error(&got, 403, "wrong_password");
    let got = laptop.post("/api/v1/account/password", json!({"current_password": MANAGER_PASSWORD, "new_password": "court"})).await;
    assert_error(&got, 422, "weak_password");
    let (s, b) = laptop.post("/api/v1/account/password", json!({"current_password": MANAGER_PASSWORD, "new_password": new_password})).await;
    assert_eq!(s, 204, "{b}");
    assert_error(&tablet.get("/api/v1/account").await, 401, "admin_session_expired");
    assert_eq!(laptop.get("/api/v1/account").await.0, 200);
    assert_error(&sign_in(&base, "gestion@montivilliers.fr", MANAGER_PASSWORD).await, 401, "login_refused");
    let (s, b) = sign_in(&base, "gestion@montivilliers.fr", new_password).await;
    assert_eq!(s, 200, "{b}");
    let phone = person(&base, b["token"].as_str().unwrap());

    // The metropolis disables the account: every session ends, signing in is refused.
    let admin = Admin::login(&base).await;
    let manager_id = me["id"].as_str().unwrap().to_owned();
    let (s, b) = admin.post(&format!("/api/v1/admin/accounts/{manager_id}/disable"), json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["disabled_at"].is_string(), "{b}");
    assert_eq!(laptop.get("/api/v1/account").await.0, 401);
    assert_eq!(phone.get("/api/v1/admin/sites").await.0, 401, "no session of the account is left");
    assert_error(&sign_in(&base, "gestion@montivilliers.fr", new_password).await, 401, "account_disabled");
    let (s, list) = admin.get("/api/v1/admin/accounts").await;
    assert_eq!(s, 200);
    let listed = list.as_array().unwrap().iter().find(|a| a["id"] == manager_id.as_str()).unwrap().clone();
    assert!(listed["disabled_at"].is_string(), "{listed}");
    // The metropolis cannot disable itself.
    let own = list.as_array().unwrap().iter().find(|a| a["email"] == ADMIN_EMAIL).unwrap()["id"].as_str().unwrap().to_owned();
    assert_error(&admin.post(&format!("/api/v1/admin/accounts/{own}/disable"), json!({})).await, 409, "own_account");

    // An invitation not used within its 7 days is refused.
    let late = invite(&admin, "retard@montivilliers.fr", &["76447"]).await;
    clock.advance(Duration::days(8));
    assert_error(&accept(&base, &late, MANAGER_PASSWORD).await, 401, "invitation_refused");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_manager_stays_signed_in_until_signed_out_or_disabled() {
    for backend in backends().await {
        invitations_and_sessions(&backend).await;
    }
}

/// Wrong invitation codes are throttled per address like enrolment codes (429, Retry-After).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_invitation_codes_are_throttled() {
    let guards = assiette_server::guard::GuardSettings {
        enrol_per_address: quota(3, std::time::Duration::from_secs(60)),
        ..Default::default()
    };
    let server = TestServer::serve_guarded(seeded_db(&sqlite_backend().url).await, guards).await;
    let admin = Admin::login(&server.base).await;
    admin.create_site("76447", "Montivilliers", &siret("2176044710001"), "École Jules Ferry").await;
    let code = invite(&admin, "gestion@montivilliers.fr", &["76447"]).await;
    let c = client_from("127.0.0.2");
    let try_code = |code: String| {
        let c = c.clone();
        let url = server.url("/api/v1/invitations/accept");
        async move { send_timed(c.post(url).json(&json!({"code": code, "password": MANAGER_PASSWORD}))).await }
    };
    for _ in 0..3 {
        let got = try_code("ABCD-EFGH-JKMN-PQRS".into()).await;
        assert_eq!(got.0, 401, "{:?}", got.1);
    }
    assert!(assert_throttled(&try_code("ABCD-EFGH-JKMN-PQRS".into()).await, "too_many_attempts") > 2);
    // Even the right code waits there; from another address it is accepted.
    assert_throttled(&try_code(code.clone()).await, "too_many_attempts");
    let (s, b, _) = send_timed(client_from("127.0.0.3").post(server.url("/api/v1/invitations/accept")).json(&json!({"code": code, "password": MANAGER_PASSWORD}))).await;
    assert_eq!(s, 200, "{b}");
    server.stop().await;
}

/// `needle` in `text` with no letter or digit right before or after it: a code or a price, not
/// five digits that happen to be inside a UUID or a timestamp.
fn contains_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

async fn cross_commune(backend: &Backend) {
    eprintln!("== périmètre des communes sur {} ==", backend.name);
    let (server, _clock) = TestServer::start_clocked(&backend.url).await;
    let base = server.base.clone();
    let admin = Admin::login(&base).await;
    let siret_a = siret("2176044710001");
    let site_a = admin.create_site("76447", "Montivilliers", &siret_a, "École Jules Ferry").await;
    // Commune B, its canteen, its tablet with entries, its manager and the manager's browser.
    let siret_b = siret("2176034100001");
    let site_b = admin.create_site("76341", "Harfleur", &siret_b, "Cantine Zéphyrine").await;
    let mut tablet_b = Tablet::enrol(&base, &admin.code(site_b).await).await;
    tablet_b.weighing(day(0), Stage::Leftovers, 4_200);
    tablet_b.save(purchase(&siret_b, day(1), 98_765));
    tablet_b.sync().await;
    assert!(tablet_b.outbox.is_empty() && tablet_b.review.is_empty());
    let before_b = server_state(&server.db, site_b).await;
    assert_eq!(before_b.len(), 2);
    let manager_b = manager(&admin, "gestion@harfleur.fr", &["76341"]).await;
    let client_b = register_client(&manager_b).await;
    let (_, me_b) = manager_b.get("/api/v1/account").await;
    let manager_b_id = me_b["id"].as_str().unwrap().to_owned();

    let m = manager(&admin, "gestion@montivilliers.fr", &["76447"]).await;
    let client_a = register_client(&m).await;
    // Nothing of B may appear in any answer to A's manager, but what the request itself carried
    // (a refusal may quote the SIRET that was sent: it says nothing of B).
    let secrets: Vec<String> = vec![
        siret_b.clone(),
        site_b.to_string(),
        "76341".into(),
        "Harfleur".into(),
        "Zéphyrine".into(),
        tablet_b.device_id.to_string(),
        "gestion@harfleur.fr".into(),
        manager_b_id.clone(),
        client_b.to_string(),
        "98765".into(),
    ];
    let leaks = |what: &str, body: &Value, sent: &Value| {
        let (text, sent) = (body.to_string(), sent.to_string());
        for s in secrets.iter().filter(|s| !sent.contains(s.as_str())) {
            assert!(!contains_word(&text, s), "{what} leaks « {s} »: {text}");
        }
    };

    // Every route, aimed at B.
    let b_purchase = Mutation { seq: 1, record: purchase(&siret_b, day(2), 1_000) };
    let mut walked = 0;
    for (method, path) in assiette_server::api::ROUTES {
        if *path == "/api/v1/admin/logout" {
            continue; // would end the session walking the routes; tried last
        }
        let url = path
            .replace("{site_id}", &site_b.to_string())
            .replace("{device_id}", &tablet_b.device_id.to_string())
            .replace("{account_id}", &manager_b_id)
            .replace("{insee}", "76341");
        let body = match *path {
            "/api/v1/admin/communes" => json!({"insee_code": "76341", "name": "Harfleur"}),
            "/api/v1/admin/sites" => json!({"name": "Autre", "siret": siret("2176034100002"), "commune_insee": "76341",
                "management_type": "direct", "production_type": "site", "sectors": ["education_primaire"],
                "daily_meal_count": 1, "yearly_meal_count": 1}),
            "/api/v1/admin/invitations" => json!({"email": "espion@montivilliers.fr", "communes": ["76341"]}),
            "/api/v1/sync/push" => json!({"device_id": client_a, "mutations": [b_purchase]}),
            "/api/v1/sync/pull" => json!({"site_id": site_b}),
            "/api/v1/concession/push" => json!({"records": [{"kind": "catering_contract",
                "meta": {"id": "0190f000-0000-7000-8000-000000000002", "revision": 1, "modified_at": "2026-03-02T10:00:00Z"},
                "commune_insee_code": "76341", "caterer_name": "Traiteur", "caterer_siren": "732829320", "contract_type": "marche_public",
                "start_date": "2024-09-01", "end_date": "2028-08-31", "site_sirets": [], "targets": {"reporting_frequency": "quarterly"}}]}),
            "/api/v1/admin/login" => json!({"email": "gestion@harfleur.fr", "password": "pas le bon mot de passe"}),
            "/api/v1/invitations/accept" => json!({"code": "ABCD-EFGH-JKMN-PQRS", "password": MANAGER_PASSWORD}),
            "/api/v1/enrol" => json!({"code": "ABCD-EFGH"}),
            "/api/v1/account/password" => json!({"current_password": "pas le bon", "new_password": "un autre mot de passe"}),
            _ => json!({}),
        };
        let req = match *method {
            "get" => m.client.get(format!("{base}{url}")),
            _ => m.client.post(format!("{base}{url}")).json(&body),
        };
        let (status, reply) = send(req.bearer_auth(&m.token)).await;
        let what = format!("{method} {url}");
        // What the request carried (its path and body) may be quoted back.
        leaks(&what, &reply, &json!({"url": url, "body": body}));
        let expected: Option<(u16, &str)> = match (*method, *path) {
            ("post", "/api/v1/admin/communes")
            | ("post", "/api/v1/admin/sites")
            | ("get", "/api/v1/admin/accounts")
            | ("post", "/api/v1/admin/accounts/{account_id}/disable")
            | ("post", "/api/v1/admin/invitations") => Some((403, "metropolis_only")),
            (_, "/api/v1/admin/sites/{site_id}/enrolment-codes") | (_, "/api/v1/admin/sites/{site_id}/devices") | (_, "/api/v1/sync/pull") => {
                Some((404, "unknown_site"))
            }
            (_, "/api/v1/admin/devices/{device_id}/revoke") => Some((404, "unknown_device")),
            (_, "/api/v1/communes/{insee}/egalim") => Some((404, "unknown_commune")),
            (_, "/api/v1/concession/push") => Some((403, "commune_forbidden")),
            _ => None,
        };
        match expected {
            Some((s, code)) => assert_error(&(status, reply.clone()), s, code),
            None => assert!(status < 500, "{what}: {status} {reply}"),
        }
        match *path {
            "/api/v1/admin/communes" if *method == "get" => {
                assert_eq!(reply, json!([{"insee_code": "76447", "name": "Montivilliers"}]), "{what}")
            }
            "/api/v1/admin/sites" if *method == "get" => {
                let ids: Vec<&str> = reply.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
                assert_eq!(ids, vec![site_a.to_string().as_str()], "{what}");
                let a = &reply[0];
                assert_eq!((a["siret"].as_str(), a["commune_insee"].as_str(), a["region_group"].as_str()), (Some(siret_a.as_str()), Some("76447"), Some("mainland")));
                assert_eq!(a["yearly_meal_count"], 21000);
            }
            "/api/v1/sync/push" => {
                assert_eq!(status, 200, "{reply}");
                assert_eq!(statuses(&reply), vec!["rejected"]);
                assert!(reply["results"][0]["reason"].as_str().unwrap().contains("n'est pas dans les communes de votre compte"), "{reply}");
            }
            _ => {}
        }
        walked += 1;
    }
    assert_eq!(walked, assiette_server::api::ROUTES.len() - 1);

    // One batch with A's and B's entries: B's are refused alone, A's are applied.
    let a_purchase = purchase(&siret_a, day(2), 2_000);
    let mixed = vec![
        Mutation { seq: 2, record: a_purchase.clone() },
        Mutation { seq: 3, record: purchase(&siret_b, day(2), 3_000) },
        Mutation { seq: 4, record: assiette_soak::records::weighing(site_b, day(2), Stage::Leftovers, 500) },
        Mutation { seq: 5, record: assiette_soak::records::meal_count(site_a, day(2), 80) },
    ];
    let (s, reply) = push(&m, client_a, &mixed).await;
    assert_eq!(s, 200, "{reply}");
    assert_eq!(statuses(&reply), vec!["applied", "rejected", "rejected", "applied"]);
    leaks("mixed push", &reply, &serde_json::to_value(&mixed).unwrap());
    // The manager reads its own commune's yearly totals, with the purchase just applied.
    let year = match &a_purchase {
        RecordPayload::Purchase(p) => p.date.format("%Y").to_string(),
        _ => unreachable!(),
    };
    let (s, totals) = m.get(&format!("/api/v1/communes/76447/egalim?year={year}")).await;
    assert_eq!(s, 200, "{totals}");
    assert_eq!(totals["commune"]["totals"]["valeur_totale"], json!("20.00"), "{totals}");
    leaks("commune totals of A", &totals, &Value::Null);
    // An id of B's records, sent as A's: refused without a word about B.
    let mut stolen = tablet_b.local.values().find(|r| matches!(r, RecordPayload::Purchase(_))).unwrap().clone();
    if let RecordPayload::Purchase(p) = &mut stolen {
        p.siret = siret_a.clone();
        p.meta.revision += 1;
    }
    let stolen = [Mutation { seq: 6, record: stolen }];
    let (s, reply) = push(&m, client_a, &stolen).await;
    assert_eq!(s, 200, "{reply}");
    assert_eq!(statuses(&reply), vec!["rejected"]);
    leaks("stolen id", &reply, &serde_json::to_value(&stolen).unwrap());
    // Another account's browser id is refused whole.
    assert_error(&push(&m, client_b, &[Mutation { seq: 7, record: a_purchase.clone() }]).await, 403, "device_mismatch");
    // A tablet's own pull is its site's, even when it names another.
    let got = send(http().post(server.url("/api/v1/sync/pull")).bearer_auth(&tablet_b.token).json(&json!({"site_id": site_a}))).await;
    assert_error(&got, 404, "unknown_site");

    // B's records are untouched, its tablet still syncs; A's pulls show nothing of B.
    assert_eq!(server_state(&server.db, site_b).await, before_b);
    tablet_b.weighing(day(3), Stage::Unserved, 100);
    tablet_b.sync().await;
    assert!(tablet_b.outbox.is_empty() && tablet_b.review.is_empty());
    let pulled = pull_site(&m, site_a).await;
    assert_eq!(pulled.len(), 2);
    leaks("pull of A", &serde_json::to_value(&pulled).unwrap(), &Value::Null);

    // In scope, the manager runs its canteen's tablets: a code, the list, a revocation.
    let (s, b) = m.post(&format!("/api/v1/admin/sites/{site_a}/enrolment-codes"), json!({"label": "Tablette cuisine"})).await;
    assert_eq!(s, 201, "{b}");
    let tablet_a = Tablet::enrol(&base, b["code"].as_str().unwrap()).await;
    let (s, devices) = m.get(&format!("/api/v1/admin/sites/{site_a}/devices")).await;
    assert_eq!(s, 200);
    assert_eq!(devices.as_array().unwrap().len(), 1);
    assert_eq!(m.post(&format!("/api/v1/admin/devices/{}/revoke", tablet_a.device_id), json!({})).await.0, 200);

    // The metropolis sees every commune (the guard lets it through everywhere): the demo's, A, B.
    let (_, sites) = admin.get("/api/v1/admin/sites").await;
    assert_eq!(sites.as_array().unwrap().len(), 3);
    assert_eq!(pull_site(&admin, site_b).await.len(), 3);

    // Sign-out, last.
    assert_eq!(m.post("/api/v1/admin/logout", json!({})).await.0, 204);
    assert_eq!(m.get("/api/v1/admin/sites").await.0, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_of_one_commune_reaches_nothing_of_another() {
    for backend in backends().await {
        cross_commune(&backend).await;
    }
}

async fn purchases_exactly_once(backend: &Backend) {
    eprintln!("== achats d'un responsable sur {} ==", backend.name);
    let (server, _clock) = TestServer::start_clocked(&backend.url).await;
    let base = server.base.clone();
    let admin = Admin::login(&base).await;
    let siret_a = siret("2176044710001");
    let site_a = admin.create_site("76447", "Montivilliers", &siret_a, "École Jules Ferry").await;
    let mut tablet = Tablet::enrol(&base, &admin.code(site_a).await).await;
    let m = manager(&admin, "gestion@montivilliers.fr", &["76447"]).await;
    let client = register_client(&m).await;

    // Three purchases typed offline, pushed; the same batch again (a lost reply): duplicates.
    let purchases = [purchase(&siret_a, day(1), 1_250), purchase(&siret_a, day(2), 800), purchase(&siret_a, day(3), 4_599)];
    let first = batch(1, &purchases);
    let (s, reply) = push(&m, client, &first).await;
    assert_eq!(s, 200, "{reply}");
    assert_eq!(statuses(&reply), vec!["applied"; 3]);
    let (_, reply) = push(&m, client, &first).await;
    assert_eq!(statuses(&reply), vec!["duplicate"; 3]);
    // A correction of the first (revision 2), sent behind a replay of the batch.
    let mut corrected = purchases[0].clone();
    if let RecordPayload::Purchase(p) = &mut corrected {
        p.price_cents = 1_350;
        p.meta.revision = 2;
    }
    let mut replay = first.clone();
    replay.push(Mutation { seq: 4, record: corrected });
    let (_, reply) = push(&m, client, &replay).await;
    assert_eq!(statuses(&reply), vec!["duplicate", "duplicate", "duplicate", "applied"]);
    // Another version of revision 1 (another browser's): a conflict answered with revision 2.
    let mut stale = purchases[0].clone();
    if let RecordPayload::Purchase(p) = &mut stale {
        p.description = "Poires".into();
    }
    let (_, reply) = push(&m, client, &[Mutation { seq: 5, record: stale }]).await;
    assert_eq!(statuses(&reply), vec!["conflict"]);
    assert_eq!(reply["results"][0]["current"]["meta"]["revision"], 2);
    assert_eq!(reply["results"][0]["current"]["prix_ht_cents"], 1350);

    // The metropolis pulls the site: each purchase once, the correction's revision.
    let pulled = pull_site(&admin, site_a).await;
    let mut seen: Vec<(Uuid, u64)> = pulled.iter().map(|r| (r.id(), r.revision())).collect();
    seen.sort();
    let mut expected: Vec<(Uuid, u64)> = purchases.iter().map(|r| (r.id(), if r.id() == purchases[0].id() { 2 } else { 1 })).collect();
    expected.sort();
    assert_eq!(seen, expected);
    // The site's tablet pulls them too.
    tablet.sync().await;
    for p in &purchases {
        assert!(tablet.local.contains_key(&p.id()), "the tablet has {}", p.id());
    }
    assert_eq!(tablet.local[&purchases[0].id()].revision(), 2);
    // The kitchen's weighing reaches the manager; the server holds each record once.
    let w = tablet.weighing(day(4), Stage::Leftovers, 3_000);
    tablet.sync().await;
    let pulled = pull_site(&m, site_a).await;
    assert_eq!(pulled.len(), 4);
    assert!(pulled.iter().any(|r| r.id() == w));
    assert_eq!(server_state(&server.db, site_a).await.len(), 4);
    // A person's pull names its site.
    assert_error(&m.post("/api/v1/sync/pull", json!({})).await, 422, "site_required");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managers_purchases_reach_the_metropolis_and_the_tablet_exactly_once() {
    for backend in backends().await {
        purchases_exactly_once(&backend).await;
    }
}

/// A database as the previous version left it (migrations up to 0005) with an administrator
/// and one of its sessions.
async fn previous_version_database(backend: &Backend, token: &str) {
    use std::str::FromStr;
    let hash = assiette_server::auth::hash_password(ADMIN_PASSWORD).unwrap();
    let now = chrono::Utc::now();
    let (admin, session) = (
        "INSERT INTO admins (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        "INSERT INTO admin_sessions (token_hash, admin_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    );
    let id = Uuid::now_v7().to_string();
    let token_hash = assiette_server::auth::hash_secret(token);
    let (t0, t1) = (assiette_server::store::ts(now), assiette_server::store::ts(now + Duration::hours(6)));
    if backend.url.starts_with("sqlite") {
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&backend.url).unwrap().create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        sqlx::migrate!("./migrations/sqlite").run_to(5, &pool).await.unwrap();
        sqlx::query(admin).bind(&id).bind(ADMIN_EMAIL).bind(&hash).bind(&t0).execute(&pool).await.unwrap();
        sqlx::query(session).bind(&token_hash).bind(&id).bind(&t0).bind(&t1).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&backend.url).await.unwrap();
        sqlx::migrate!("./migrations/postgres").run_to(5, &pool).await.unwrap();
        sqlx::query(admin).bind(&id).bind(ADMIN_EMAIL).bind(&hash).bind(&t0).execute(&pool).await.unwrap();
        sqlx::query(session).bind(&token_hash).bind(&id).bind(&t0).bind(&t1).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_and_their_sessions_become_metropolis_accounts() {
    for backend in backends().await {
        let token = assiette_server::auth::random_token(assiette_server::auth::ADMIN_TOKEN_PREFIX);
        previous_version_database(&backend, &token).await;
        let server = TestServer::serve(assiette_server::db::Db::open(&backend.url).await.unwrap()).await;
        // The session opened before the upgrade goes on, as a metropolis account's.
        let old = person(&server.base, &token);
        let (s, me) = old.get("/api/v1/account").await;
        assert_eq!(s, 200, "{} {me}", backend.name);
        assert_eq!((me["email"].as_str(), me["role"].as_str()), (Some(ADMIN_EMAIL), Some("metropolis")));
        assert_eq!(old.get("/api/v1/admin/accounts").await.0, 200);
        assert_eq!(server.db.admin_count().await.unwrap(), 1);
        // Its password still signs in.
        Admin::login(&server.base).await;
        // `create-admin` still sets the metropolis' password, and ends its sessions.
        let msg = assiette_server::http::create_admin(&backend.url, ADMIN_EMAIL, "un autre mot de passe assez long").await.unwrap();
        assert!(msg.contains("changé"), "{msg}");
        assert_error(&old.get("/api/v1/account").await, 401, "admin_session_expired");
        let (s, b) = sign_in(&server.base, ADMIN_EMAIL, "un autre mot de passe assez long").await;
        assert_eq!(s, 200, "{b}");
        // ...and refuses a commune manager's address.
        server.db.create_commune("76447", "Montivilliers").await.unwrap();
        let admin = person(&server.base, b["token"].as_str().unwrap());
        manager(&admin, "gestion@montivilliers.fr", &["76447"]).await;
        let err = assiette_server::http::create_admin(&backend.url, "gestion@montivilliers.fr", "un mot de passe assez long").await.unwrap_err();
        assert!(err.contains("responsable de commune"), "{err}");
        server.stop().await;
    }
}
