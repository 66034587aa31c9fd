//! `PUT /v1/products/{id}/stock`.

use serde_json::{Value, json};
use shopnow_testkit::assert_problem;

use crate::support::*;

catalog_test!(async fn the_owner_sets_on_hand_and_sees_the_new_stock(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 3).await;
    let id = p["id"].as_str().unwrap();
    let resp = put_stock(&app, id, &a.seller, 12).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"on_hand": 12, "reserved": 0, "available": 12}));
    let after = product_json(&app, id, None).await;
    assert_eq!(after["stock"]["on_hand"], 12);
    assert_eq!(after["version"], 2);
    assert_eq!(put_stock(&app, id, &a.admin, 4).await.status(), 200);
});

catalog_test!(async fn on_hand_below_reserved_is_409(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(reserve(&app, &order_id(), &[(id, 6)]).await.status(), 201);
    let problem = assert_problem(put_stock(&app, id, &a.seller, 5).await, 409, "conflict").await;
    assert!(problem["detail"].as_str().unwrap().contains('6'));
    let resp = put_stock(&app, id, &a.seller, 6).await;
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"on_hand": 6, "reserved": 6, "available": 0}));
});

catalog_test!(async fn stock_bodies_are_validated(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 3).await;
    let id = p["id"].as_str().unwrap();
    assert_problem(put_stock(&app, id, &a.seller, -1).await, 422, "validation-failed").await;
    let resp = app.put(&format!("/v1/products/{id}/stock")).header("authorization", a.seller.bearer())
        .json(&json!({"on_hand": 1, "reserved": 0})).send().await.unwrap();
    let problem = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(problem["errors"][0]["field"], "reserved");
    let resp = app.put(&format!("/v1/products/{id}/stock")).json(&json!({"on_hand": 1})).send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    assert_problem(put_stock(&app, "0190a000-0000-7000-8000-000000000009", &a.seller, 1).await, 404, "not-found").await;
});
