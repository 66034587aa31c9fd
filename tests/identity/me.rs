//! `/v1/users/me` and `/v1/users/me/password`.

use serde_json::json;
use shopnow_testkit::{api_test, assert_problem};

use crate::support::*;

api_test!(async fn me_returns_the_caller(app) {
    let (user, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let resp = get_me(&app, &tokens.access_token).await;
    assert_eq!(resp.status(), 200);
    let body = json_body(resp).await;
    assert_eq!(body["id"], user.id.as_str());
    assert_eq!(body["email"], email(&app, "ada").as_str());
});

api_test!(async fn me_needs_a_bearer_token(app) {
    let resp = app.get("/v1/users/me").send().await.unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = app.get("/v1/users/me").header("authorization", "Basic YTpi").send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
});

api_test!(async fn patch_me_updates_the_display_name(app) {
    let (_, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let resp = app.patch("/v1/users/me").header("authorization", bearer(&tokens.access_token))
        .json(&json!({"display_name": "  Countess Lovelace "})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp).await["display_name"], "Countess Lovelace");
    let body = json_body(get_me(&app, &tokens.access_token).await).await;
    assert_eq!(body["display_name"], "Countess Lovelace");
});

api_test!(async fn patch_me_rejects_bad_and_unknown_fields(app) {
    let (_, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let resp = app.patch("/v1/users/me").header("authorization", bearer(&tokens.access_token))
        .json(&json!({"display_name": "x".repeat(65), "email": &email(&app, "new")})).send().await.unwrap();
    let body = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
});

api_test!(async fn changing_the_password_revokes_every_refresh_token(app) {
    let (_, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let resp = app.post("/v1/users/me/password").header("authorization", bearer(&tokens.access_token))
        .json(&json!({"current_password": PASSWORD, "new_password": OTHER_PASSWORD})).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_problem(post_refresh(&app, &tokens.refresh_token).await, 401, "invalid-refresh-token").await;
    assert_problem(post_token(&app, &email(&app, "ada"), PASSWORD).await, 401, "invalid-credentials").await;
    sign_in(&app, &email(&app, "ada"), OTHER_PASSWORD).await;
});

api_test!(async fn changing_the_password_needs_the_current_one_and_a_good_new_one(app) {
    let (_, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let resp = app.post("/v1/users/me/password").header("authorization", bearer(&tokens.access_token))
        .json(&json!({"current_password": "not-my-password", "new_password": OTHER_PASSWORD})).send().await.unwrap();
    let body = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "current_password");
    let resp = app.post("/v1/users/me/password").header("authorization", bearer(&tokens.access_token))
        .json(&json!({"current_password": PASSWORD, "new_password": "password1234"})).send().await.unwrap();
    let body = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "new_password");
    sign_in(&app, &email(&app, "ada"), PASSWORD).await;
});

api_test!(async fn erasure_removes_the_account_and_frees_the_email(app) {
    let (user, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let resp = app.delete("/v1/users/me").header("authorization", bearer(&tokens.access_token)).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_problem(get_me(&app, &tokens.access_token).await, 404, "not-found").await;
    assert_problem(post_refresh(&app, &tokens.refresh_token).await, 401, "invalid-refresh-token").await;
    assert_problem(post_token(&app, &email(&app, "ada"), PASSWORD).await, 401, "invalid-credentials").await;
    let again = register(&app, &email(&app, "ada")).await;
    assert_ne!(again.id, user.id);
    let resp = app.delete("/v1/users/me").header("authorization", bearer(&tokens.access_token)).send().await.unwrap();
    assert_problem(resp, 404, "not-found").await;
});

api_test!(async fn erasure_leaves_no_personal_data_in_the_database(app) {
    let (user, tokens) = signed_in(&app, &email(&app, "erase.me")).await;
    let before = identity_sql(&app, &format!("SELECT email, display_name, password_hash FROM users WHERE id = '{}'", user.id)).await;
    assert!(before[0][0].as_deref().unwrap().contains("erase.me"), "{before:?}");
    let resp = app.delete("/v1/users/me").header("authorization", bearer(&tokens.access_token)).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    // On both backends: the row stays (audit records point at it), its personal data does not.
    let after = identity_sql(&app, &format!(
        "SELECT email, email_normalized, display_name, password_hash, erased_at FROM users WHERE id = '{}'", user.id
    )).await;
    let row = &after[0];
    let placeholder = format!("erased-{}@erased.invalid", user.id);
    assert_eq!(row[0].as_deref(), Some(placeholder.as_str()));
    assert_eq!(row[1].as_deref(), Some(placeholder.as_str()));
    assert_eq!(row[2].as_deref(), Some("Erased user"));
    assert_ne!(row[3], before[0][2], "the password hash must be overwritten");
    assert!(row[4].is_some());
    let left = identity_sql(&app, "SELECT count(*) FROM users WHERE lower(email) LIKE '%erase.me%' OR display_name = 'Ada'").await;
    assert_eq!(left[0][0].as_deref(), Some("0"));
    let live = identity_sql(&app, &format!(
        "SELECT count(*) FROM refresh_token_families WHERE user_id = '{}' AND revoked_at IS NULL", user.id
    )).await;
    assert_eq!(live[0][0].as_deref(), Some("0"));
});

api_test!(async fn a_failed_audit_write_undoes_registration_password_change_and_erasure(app) {
    let (ada, tokens) = signed_in(&app, &email(&app, "ada")).await;
    break_audit_log(&app).await;

    let resp = post_user(&app, &json!({"email": email(&app, "bob"), "password": PASSWORD, "display_name": "Bob"})).await;
    assert_problem(resp, 500, "internal").await;
    let resp = app.post("/v1/users/me/password").header("authorization", bearer(&tokens.access_token))
        .json(&json!({"current_password": PASSWORD, "new_password": OTHER_PASSWORD})).send().await.unwrap();
    assert_problem(resp, 500, "internal").await;
    let resp = app.delete("/v1/users/me").header("authorization", bearer(&tokens.access_token)).send().await.unwrap();
    assert_problem(resp, 500, "internal").await;

    mend_audit_log(&app).await;
    // Nothing of the three was written: bob can register (not 409), ada's old password and
    // session still work, and her account is still hers.
    register(&app, &email(&app, "bob")).await;
    let me = json_body(get_me(&app, &tokens.access_token).await).await;
    assert_eq!(me["id"], ada.id.as_str());
    assert_eq!(me["email"], email(&app, "ada").as_str());
    crate::support::tokens(post_refresh(&app, &tokens.refresh_token).await).await;
    sign_in(&app, &email(&app, "ada"), PASSWORD).await;
    let audit = identity_sql(&app, &format!(
        "SELECT event FROM audit_log WHERE user_id = '{}' ORDER BY occurred_at", ada.id
    )).await;
    let events: Vec<_> = audit.iter().map(|r| r[0].clone().unwrap()).collect();
    assert!(!events.iter().any(|e| e == "password_changed" || e == "account_erased"), "{events:?}");
});
