//! `POST /v1/auth/token`, `/v1/auth/refresh` and `/v1/auth/logout`.

use serde_json::json;
use shopnow_testkit::{api_test, assert_problem};

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
