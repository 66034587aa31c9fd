//! `POST /internal/v1/orders/sweep`: behind the service credential; resolves what crashes and
//! missed compensations leave (unit-tested in `shopnow-orders`), and reports it.

use shopnow_testkit::{api_test, assert_problem};

use crate::support::*;

api_test!(async fn the_sweep_needs_the_service_credential(app) {
    let resp = app.post("/internal/v1/orders/sweep").send().await.unwrap();
    assert_problem(resp, 401, "invalid-service-credential").await;
    let resp = app.post("/internal/v1/orders/sweep").header("authorization", "Service wrong").send().await.unwrap();
    assert_problem(resp, 401, "invalid-service-credential").await;
    let resp = app.post("/internal/v1/orders/sweep").header("authorization", admin().bearer()).send().await.unwrap();
    assert_problem(resp, 401, "invalid-service-credential").await;
});

api_test!(async fn the_sweep_reports_what_it_did_and_leaves_healthy_orders_alone(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let order = place(&app, &buyer, &[(&lamp, 1)]).await;
    let report = sweep(&app).await;
    assert_eq!(report["abandoned"], 0);
    assert_eq!(report["still_owing"], 0);
    let (_, after) = get_json(&app, &buyer, &format!("/v1/orders/{}", order["id"].as_str().unwrap())).await;
    assert_eq!(after["status"], "confirmed");
});
