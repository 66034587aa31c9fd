//! The internal surface: private in `spin.toml`, and guarded by the service credential where it
//! is reachable (service chaining; the network in Kubernetes).

use serde_json::json;
use shopnow_testkit::{api_test, assert_problem};

use crate::support::*;

api_test!(async fn internal_routes_are_not_reachable_from_outside(app) {
    for path in ["/internal/v1/reservations", "/internal/v1/reservations/o-1/commit"] {
        let resp = app.post(path)
            .header("authorization", "Service dev-only-catalog-service-token")
            .json(&json!({"order_id": "o-1", "items": []}))
            .send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
    let resp = app.delete("/internal/v1/reservations/o-1").send().await.unwrap();
    assert_eq!(resp.status(), 404);
});

catalog_test!(async fn internal_routes_refuse_a_missing_or_wrong_service_credential(app) {
    let a = actors(&app).await;
    let body = json!({"order_id": "o-1", "items": [{"product_id": "0190a000-0000-7000-8000-000000000001", "quantity": 1}]});
    let attempts = [
        None,
        Some("Service wrong-token".to_owned()),
        Some(format!("Bearer {}", a.admin.token)),
        Some(format!("Bearer {SERVICE_TOKEN}")),
    ];
    for auth in attempts {
        let mut req = app.post("/internal/v1/reservations").json(&body);
        if let Some(auth) = &auth {
            req = req.header("authorization", auth);
        }
        assert_problem(req.send().await.unwrap(), 401, "invalid-service-credential").await;
        let mut req = app.delete("/internal/v1/reservations/o-1");
        if let Some(auth) = &auth {
            req = req.header("authorization", auth);
        }
        assert_problem(req.send().await.unwrap(), 401, "invalid-service-credential").await;
    }
});
