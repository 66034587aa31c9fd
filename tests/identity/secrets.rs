//! Secrets fail closed: with `shopnow_environment = production` every service refuses the public
//! development values `spin.toml` ships (503, the variable named in the log, never its value) and
//! runs normally once each secret is bound to a value of the deployment's own.

use serde_json::json;
use shopnow_testkit::{Host, SpawnOptions, assert_problem};

use crate::support::*;

fn production() -> SpawnOptions {
    SpawnOptions::default().variable("shopnow_environment", "production")
}

api_test_with!(production(), async fn production_refuses_every_public_development_secret(app) {
    let resp = post_user(&app, &json!({"email": email(&app, "ada"), "password": PASSWORD, "display_name": "Ada"})).await;
    assert_problem(resp, 503, "service-unavailable").await;
    assert_problem(app.get("/v1/products").send().await.unwrap(), 503, "service-unavailable").await;
    assert_problem(app.get("/v1/orders").send().await.unwrap(), 503, "service-unavailable").await;
    assert_problem(app.get("/.well-known/jwks.json").send().await.unwrap(), 503, "service-unavailable").await;
    if app.host() == Host::Spin {
        let log = app.spin_output();
        assert!(log.contains("variable `jwt_signing_key`: holds a public development value"), "{log}");
        assert!(!log.contains("c2hvcG5vdy1ERVYtT05MWS1zaWduaW5nLWtleS0wMDE"), "the value must not be logged");
    }
});

api_test_with!(
    production()
        .variable("jwt_signing_key", SEED_A)
        .variable("jwt_key_id", KID_A)
        .variable("jwt_public_keys", &public_key_entry(SEED_A, KID_A))
        .variable("catalog_service_tokens", "prod-catalog-token-0123456789")
        .variable("catalog_cursor_secret", "prod-catalog-cursor-0123456789")
        .variable("orders_cursor_secret", "prod-orders-cursor-0123456789")
        .variable("orders_service_tokens", "prod-orders-token-0123456789"),
    async fn production_runs_once_the_catalog_and_identity_secrets_are_its_own(app) {
        let (_, tokens) = signed_in(&app, &email(&app, "ada")).await;
        assert_eq!(app.get("/v1/products").send().await.unwrap().status(), 200);
        assert_eq!(get_me(&app, &tokens.access_token).await.status(), 200);
        // The payment key is still the development one: orders alone refuses.
        let resp = app.get("/v1/orders").header("authorization", bearer(&tokens.access_token)).send().await.unwrap();
        assert_problem(resp, 503, "service-unavailable").await;
    }
);

api_test_with!(
    SpawnOptions::default().variable("shopnow_environment", "prodution"),
    async fn an_unknown_environment_is_treated_as_production(app) {
        assert_problem(app.get("/v1/products").send().await.unwrap(), 503, "service-unavailable").await;
    }
);
