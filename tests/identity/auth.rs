//! `POST /v1/auth/token`, `/v1/auth/refresh` and `/v1/auth/logout`.

use serde_json::json;
use shopnow_testkit::{SpawnOptions, api_test, assert_problem};

use crate::support::*;

api_test!(async fn sign_in_returns_bearer_tokens_that_are_never_cached(app) {
    register(&app, &email(&app, "ada")).await;
    let resp = post_token(&app, &email(&app, "ada").to_uppercase(), PASSWORD).await;
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let tokens = tokens(resp).await;
    assert_eq!(tokens.body["token_type"], "Bearer");
    assert_eq!(tokens.body["expires_in"], 900);
    assert_eq!(tokens.access_token.split('.').count(), 3);
    assert_eq!(tokens.refresh_token.len(), 43);
    let me = get_me(&app, &tokens.access_token).await;
    assert_eq!(me.status(), 200);
});

api_test!(async fn wrong_password_and_unknown_email_get_the_same_answer(app) {
    register(&app, &email(&app, "ada")).await;
    let wrong = assert_problem(post_token(&app, &email(&app, "ada"), "not-the-password").await, 401, "invalid-credentials").await;
    let unknown = assert_problem(post_token(&app, &email(&app, "nobody"), "not-the-password").await, 401, "invalid-credentials").await;
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["title"], unknown["title"]);
});

api_test!(async fn sign_in_validates_its_body(app) {
    let resp = app.post("/v1/auth/token").json(&json!({"email": "nope", "extra": 1})).send().await.unwrap();
    let body = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 3, "{body}");
});

api_test!(async fn five_failures_lock_the_account_with_retry_after(app) {
    register(&app, &email(&app, "ada")).await;
    for _ in 0..5 {
        assert_problem(post_token(&app, &email(&app, "ada"), "not-the-password").await, 401, "invalid-credentials").await;
    }
    // Locked even with the right password, and for another case of the same address.
    let resp = post_token(&app, &email(&app, "ada").to_uppercase(), PASSWORD).await;
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 800 && retry_after <= 900, "{retry_after}");
    assert_problem(resp, 429, "too-many-requests").await;
    // Other accounts are unaffected.
    register(&app, &email(&app, "bob")).await;
    sign_in(&app, &email(&app, "bob"), PASSWORD).await;
});

api_test!(async fn twenty_parallel_wrong_passwords_reach_the_check_at_most_five_times(app) {
    let ada = email(&app, "ada");
    register(&app, &ada).await;
    let guesses: Vec<_> = (0..20)
        .map(|i| {
            let (client, url, ada) = (app.client().clone(), app.url("/v1/auth/token"), ada.clone());
            tokio::spawn(async move {
                let resp = client.post(url).json(&json!({"email": ada, "password": format!("guess-{i}")}))
                    .send().await.unwrap();
                let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                (resp.status().as_u16(), retry_after)
            })
        })
        .collect();
    let (mut checked, mut refused) = (0, 0);
    for g in guesses {
        match g.await.unwrap() {
            (401, _) => checked += 1,
            (429, Some(after)) => {
                assert!(after.parse::<u64>().unwrap() > 800, "{after}");
                refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(checked <= 5, "{checked} guesses reached the password check");
    assert_eq!(checked + refused, 20);
    // The account stays locked for its window, right password or not.
    assert_problem(post_token(&app, &ada, PASSWORD).await, 429, "too-many-requests").await;
});

api_test!(async fn signing_in_again_and_again_never_locks_the_owner_out(app) {
    register(&app, &email(&app, "ada")).await;
    for _ in 0..8 {
        sign_in(&app, &email(&app, "ada"), PASSWORD).await;
    }
});

api_test_with!(
    SpawnOptions::default()
        .variable("identity_client_sign_in_limit", "4")
        .variable("identity_client_register_limit", "3"),
    async fn one_client_cannot_spray_many_accounts(app) {
        for name in ["a", "b", "c"] {
            register(&app, &email(&app, name)).await;
        }
        let resp = post_user(&app, &json!({"email": email(&app, "d"), "password": PASSWORD, "display_name": "D"})).await;
        assert!(resp.headers().contains_key("retry-after"));
        assert_problem(resp, 429, "too-many-requests").await;
        for name in ["a", "b", "c", "x"] {
            assert_problem(post_token(&app, &email(&app, name), "not-the-password").await, 401, "invalid-credentials").await;
        }
        // A fifth sign-in from this client is refused, even the right password of an account
        // that has had one failure only.
        assert_problem(post_token(&app, &email(&app, "a"), PASSWORD).await, 429, "too-many-requests").await;
        // An X-Forwarded-For the client writes itself changes nothing without a trusted proxy.
        let resp = app.post("/v1/auth/token").header("x-forwarded-for", "198.51.100.7")
            .json(&json!({"email": email(&app, "a"), "password": PASSWORD})).send().await.unwrap();
        assert_problem(resp, 429, "too-many-requests").await;
    }
);

api_test_with!(
    SpawnOptions::default()
        .variable("identity_client_sign_in_limit", "2")
        .variable("identity_trusted_proxies", "1"),
    async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(app) {
        register(&app, &email(&app, "ada")).await;
        let attempt = |forwarded: &'static str| {
            app.post("/v1/auth/token").header("x-forwarded-for", forwarded)
                .json(&json!({"email": email(&app, "ada"), "password": PASSWORD})).send()
        };
        for _ in 0..2 {
            assert_eq!(attempt("198.51.100.1").await.unwrap().status(), 200);
        }
        assert_problem(attempt("198.51.100.1").await.unwrap(), 429, "too-many-requests").await;
        // What the client prepends is not its address: the proxy's entry (rightmost) is.
        assert_problem(attempt("203.0.113.9, 198.51.100.1").await.unwrap(), 429, "too-many-requests").await;
        assert_eq!(attempt("198.51.100.2").await.unwrap().status(), 200);
    }
);

api_test!(async fn refresh_rotates_and_spends_the_old_token(app) {
    let (_, first) = signed_in(&app, &email(&app, "ada")).await;
    let second = tokens(post_refresh(&app, &first.refresh_token).await).await;
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(get_me(&app, &second.access_token).await.status(), 200);
    let third = tokens(post_refresh(&app, &second.refresh_token).await).await;
    assert_ne!(third.refresh_token, second.refresh_token);
});

api_test!(async fn reusing_a_spent_refresh_token_revokes_the_family(app) {
    let (_, first) = signed_in(&app, &email(&app, "ada")).await;
    let second = tokens(post_refresh(&app, &first.refresh_token).await).await;
    assert_problem(post_refresh(&app, &first.refresh_token).await, 401, "invalid-refresh-token").await;
    // The legitimate successor dies with the family.
    assert_problem(post_refresh(&app, &second.refresh_token).await, 401, "invalid-refresh-token").await;
    // Another sign-in (another family) still works.
    let other = sign_in(&app, &email(&app, "ada"), PASSWORD).await;
    tokens(post_refresh(&app, &other.refresh_token).await).await;
});

api_test!(async fn unknown_or_malformed_refresh_tokens_are_rejected(app) {
    assert_problem(post_refresh(&app, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await, 401, "invalid-refresh-token").await;
    let resp = app.post("/v1/auth/refresh").json(&json!({"refresh_token": 7})).send().await.unwrap();
    assert_problem(resp, 422, "validation-failed").await;
    let resp = app.post("/v1/auth/refresh").json(&json!({"refresh_token": "x".repeat(500)})).send().await.unwrap();
    assert_problem(resp, 422, "validation-failed").await;
});

api_test!(async fn logout_revokes_the_family_and_is_idempotent(app) {
    let (_, first) = signed_in(&app, &email(&app, "ada")).await;
    let second = tokens(post_refresh(&app, &first.refresh_token).await).await;
    for _ in 0..2 {
        let resp = app.post("/v1/auth/logout").json(&json!({"refresh_token": second.refresh_token})).send().await.unwrap();
        assert_eq!(resp.status(), 204);
        assert!(resp.headers().get("x-request-id").is_some());
    }
    assert_problem(post_refresh(&app, &second.refresh_token).await, 401, "invalid-refresh-token").await;
    let resp = app.post("/v1/auth/logout").json(&json!({"refresh_token": "unknown-token"})).send().await.unwrap();
    assert_eq!(resp.status(), 204);
});
