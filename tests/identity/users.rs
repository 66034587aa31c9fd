//! `POST /v1/users` and `GET /v1/users/{id}`.

use serde_json::json;
use shopnow_testkit::{api_test, assert_problem};

use crate::support::*;

api_test!(async fn register_returns_the_user_with_a_location(app) {
    let resp = post_user(&app, &json!({
        "email": &email(&app, "ada").to_uppercase(), "password": PASSWORD, "display_name": "Ada"
    })).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(resp.headers().get("x-request-id").is_some());
    let body = json_body(resp).await;
    assert_eq!(location, format!("/v1/users/{}", body["id"].as_str().unwrap()));
    assert_eq!(body["email"], email(&app, "ada").to_uppercase().as_str());
    assert_eq!(body["display_name"], "Ada");
    assert_eq!(body["roles"], json!(["customer"]));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
});

api_test!(async fn register_accepts_the_seller_role(app) {
    let user = register_with(&app, json!({
        "email": &email(&app, "shop"), "password": PASSWORD, "display_name": "Shop", "role": "seller"
    })).await;
    assert_eq!(user.body["roles"], json!(["seller"]));
});

api_test!(async fn admin_cannot_be_self_assigned(app) {
    let resp = post_user(&app, &json!({
        "email": &email(&app, "root"), "password": PASSWORD, "display_name": "Root", "role": "admin"
    })).await;
    let body = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "role");
});

api_test_with!(
    test_key_options().variable("identity_admin_emails", "boss@example.com"),
    async fn bootstrap_admin_emails_receive_the_admin_role(app) {
        let user = register(&app, "Boss@Example.com").await;
        assert_eq!(user.body["roles"], json!(["customer", "admin"]));
        let other = register(&app, &email(&app, "someone")).await;
        assert_eq!(other.body["roles"], json!(["customer"]));
    }
);

api_test!(async fn emails_are_unique_case_insensitively(app) {
    register(&app, &email(&app, "ada")).await;
    let resp = post_user(&app, &json!({
        "email": &email(&app, "ada").to_uppercase(), "password": PASSWORD, "display_name": "Ada 2"
    })).await;
    assert_problem(resp, 409, "conflict").await;
});

api_test!(async fn validation_lists_every_bad_field_at_once(app) {
    let resp = post_user(&app, &json!({
        "email": "not-an-email", "password": "short", "display_name": "", "role": "wizard",
        "is_admin": true
    })).await;
    let body = assert_problem(resp, 422, "validation-failed").await;
    let mut fields: Vec<String> = body["errors"].as_array().unwrap().iter()
        .map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    fields.sort();
    assert_eq!(fields, ["display_name", "email", "is_admin", "password", "role"]);
    assert!(!body.to_string().contains("short"), "the password was echoed: {body}");
});

api_test!(async fn missing_fields_and_wrong_types_are_reported(app) {
    let resp = post_user(&app, &json!({"email": 42})).await;
    let body = assert_problem(resp, 422, "validation-failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter()
        .map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"email") && fields.contains(&"password") && fields.contains(&"display_name"));
});

api_test!(async fn common_and_overlong_passwords_are_rejected(app) {
    for password in ["Password1234", "qwertyuiop123", &"x".repeat(129)] {
        let resp = post_user(&app, &json!({
            "email": &email(&app, "ada"), "password": password, "display_name": "Ada"
        })).await;
        let body = assert_problem(resp, 422, "validation-failed").await;
        assert_eq!(body["errors"][0]["field"], "password");
    }
});

api_test!(async fn bodies_must_be_json_objects_of_bounded_size(app) {
    let resp = app.post("/v1/users").header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_problem(resp, 415, "unsupported-media-type").await;
    let resp = app.post("/v1/users").header("content-type", "application/json").body("{\"email\":").send().await.unwrap();
    assert_problem(resp, 400, "malformed-body").await;
    let resp = app.post("/v1/users").header("content-type", "application/json").body("[1,2]").send().await.unwrap();
    assert_problem(resp, 400, "malformed-body").await;
    let big = json!({"email": &email(&app, "a"), "password": PASSWORD, "display_name": "x".repeat(20_000)});
    let resp = post_user(&app, &big).await;
    assert_problem(resp, 413, "payload-too-large").await;
});

api_test!(async fn a_duplicate_key_is_refused_and_registers_nobody(app) {
    let (a, b) = (email(&app, "ada"), email(&app, "eve"));
    let body = format!(
        r#"{{"email": "{a}", "password": "{PASSWORD}", "display_name": "Ada", "email": "{b}"}}"#
    );
    let resp = app.post("/v1/users").header("content-type", "application/json").body(body).send().await.unwrap();
    let problem = assert_problem(resp, 400, "malformed-body").await;
    assert!(problem["detail"].as_str().unwrap().contains("duplicate key"), "{problem}");
    // Neither address was taken: both still register.
    register(&app, &a).await;
    register(&app, &b).await;
    // Nested objects too, and on sign-in.
    let body = format!(r#"{{"email": "{a}", "password": "{PASSWORD}", "password": "x"}}"#);
    let resp = app.post("/v1/auth/token").header("content-type", "application/json").body(body).send().await.unwrap();
    assert_problem(resp, 400, "malformed-body").await;
});

api_test!(async fn a_user_reads_their_own_record_by_id(app) {
    let (user, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let resp = app.get(&format!("/v1/users/{}", user.id))
        .header("authorization", bearer(&tokens.access_token)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp).await["id"], user.id.as_str());
});

api_test!(async fn a_stranger_gets_not_found_for_another_user(app) {
    let (ada, _) = signed_in(&app, &email(&app, "ada")).await;
    let (_, bob) = signed_in(&app, &email(&app, "bob")).await;
    let resp = app.get(&format!("/v1/users/{}", ada.id))
        .header("authorization", bearer(&bob.access_token)).send().await.unwrap();
    assert_problem(resp, 404, "not-found").await;
    let resp = app.get("/v1/users/not-a-uuid")
        .header("authorization", bearer(&bob.access_token)).send().await.unwrap();
    assert_problem(resp, 404, "not-found").await;
});

api_test_with!(
    test_key_options().variable("identity_admin_emails", "boss@example.com"),
    async fn an_admin_reads_any_user(app) {
        let (ada, _) = signed_in(&app, &email(&app, "ada")).await;
        let (_, boss) = signed_in(&app, "boss@example.com").await;
        let resp = app.get(&format!("/v1/users/{}", ada.id))
            .header("authorization", bearer(&boss.access_token)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(json_body(resp).await["email"], email(&app, "ada").as_str());
    }
);

api_test!(async fn reading_a_user_needs_a_token(app) {
    let user = register(&app, &email(&app, "ada")).await;
    let resp = app.get(&format!("/v1/users/{}", user.id)).send().await.unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    assert_problem(resp, 401, "unauthenticated").await;
});

api_test!(async fn unknown_routes_and_methods_are_problems(app) {
    let resp = app.get("/v1/users/me/nothing/here").send().await.unwrap();
    assert_problem(resp, 404, "not-found").await;
    let resp = app.put("/v1/users").send().await.unwrap();
    assert!(resp.headers()["allow"].to_str().unwrap().contains("POST"));
    assert_problem(resp, 405, "method-not-allowed").await;
});

api_test!(async fn a_sane_request_id_is_echoed_and_an_unsafe_one_replaced(app) {
    let resp = app.get("/.well-known/jwks.json").header("x-request-id", "abc-123.X_y").send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123.X_y");
    let resp = app.get("/.well-known/jwks.json").header("x-request-id", "bad id;drop").send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id;drop");
    assert_eq!(id.len(), 36, "a UUIDv7 is minted: {id}");
});
