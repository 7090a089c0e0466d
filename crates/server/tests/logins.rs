//! Issue 11, item 2: wrong logins are throttled per client address and per account (429 with
//! `Retry-After` and a French message), and password checks run on a bounded number of workers.
//! Clients come from several loopback addresses (127.0.0.x) so that each throttle is seen alone.

mod common;

use std::time::Duration;

use assiette_server::guard::GuardSettings;
use common::*;

/// Many wrong logins at once: one password check at a time here, the others are answered 429
/// at once (never queued behind argon2), and the server still answers a correct login after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_logins_wait_for_no_one() {
    let db = seeded_db(&sqlite_backend().url).await;
    let server = TestServer::serve_guarded(db, GuardSettings { password_workers: 1, ..GuardSettings::default() }).await;
    let attempts: Vec<_> = (10..26)
        .map(|i| {
            let base = server.base.clone();
            tokio::spawn(async move {
                let c = client_from(&format!("127.0.0.{i}"));
                login(&c, &base, &format!("inconnu{i}@lehavre-metropole.fr"), "pas le bon mot de passe").await
            })
        })
        .collect();
    let mut refused = 0;
    let mut busy = 0;
    for a in attempts {
        let got = a.await.unwrap();
        match got.0 {
            401 => refused += 1,
            _ => {
                assert_eq!(assert_throttled(&got, "server_busy"), 1);
                busy += 1;
            }
        }
    }
    assert!(refused >= 1 && busy >= 1, "{refused} refused, {busy} busy");
    let (s, b, _) = login(&client_from("127.0.0.30"), &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(s, 200, "{b}");
    server.stop().await;
}

/// Wrong logins from one address are held back there only; wrong logins on one account, from
/// any address, hold that account back until its window passes; then the right password works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_per_address_and_per_account() {
    let db = seeded_db(&sqlite_backend().url).await;
    let guards = GuardSettings {
        login_per_address: quota(3, Duration::from_secs(60)),
        login_per_account: quota(3, Duration::from_secs(2)),
        ..GuardSettings::default()
    };
    let server = TestServer::serve_guarded(db, guards).await;
    let base = &server.base;

    // One address: three tries, then 429 whatever the account.
    let one = client_from("127.0.0.2");
    for i in 0..3 {
        let got = login(&one, base, &format!("essai{i}@exemple.fr"), "mauvais mot de passe").await;
        assert_eq!(got.0, 401, "{:?}", got.1);
    }
    let got = login(&one, base, "encore@exemple.fr", "mauvais mot de passe").await;
    assert!(assert_throttled(&got, "too_many_attempts") > 2, "the address waits its minute");
    // ...even with the right password: the address is held, not the account.
    assert_throttled(&login(&one, base, ADMIN_EMAIL, ADMIN_PASSWORD).await, "too_many_attempts");
    // Another address is not held back.
    let (s, b, _) = login(&client_from("127.0.0.3"), base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(s, 200, "{b}");

    // One account, from a new address each time: held back once its tries are spent.
    let mut throttled = None;
    for i in 4..12 {
        let got = login(&client_from(&format!("127.0.0.{i}")), base, ADMIN_EMAIL, "mauvais mot de passe").await;
        if got.0 == 429 {
            throttled = Some(assert_throttled(&got, "too_many_attempts"));
            break;
        }
        assert_eq!(got.0, 401, "{:?}", got.1);
    }
    let wait = throttled.expect("the account was never held back");
    // The right password from a fresh address waits too...
    assert_throttled(&login(&client_from("127.0.0.20"), base, ADMIN_EMAIL, ADMIN_PASSWORD).await, "too_many_attempts");
    // ...until the window passes.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let (s, b, _) = login(&client_from("127.0.0.21"), base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(s, 200, "{b}");
    server.stop().await;
}
