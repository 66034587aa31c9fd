//! `/internal/v1/reservations`: hold, commit, release; all or nothing, idempotency, the
//! oversell race and expiry.

use serde_json::{Value, json};
use shopnow_testkit::assert_problem;

use crate::support::*;

/// An admin, a seller and a category.
async fn setup(app: &shopnow_testkit::TestApp) -> (Actors, String) {
    let a = actors(app).await;
    let cat = category(app, &a.admin, None).await;
    (a, cat)
}

catalog_test!(async fn a_reservation_holds_stock_at_catalog_prices(app) {
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 4999, 10).await;
    let shade = product(&app, &a.other_seller, &cat, "Shade", 1500, 5).await;
    let (lamp_id, shade_id) = (lamp["id"].as_str().unwrap(), shade["id"].as_str().unwrap());
    let order = order_id();
    let resp = reserve(&app, &order, &[(lamp_id, 3), (shade_id, 1)]).await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["order_id"], order.as_str());
    assert_eq!(body["lines"], json!([
        {"product_id": lamp_id, "seller_id": a.seller.id, "title": "Lamp", "unit_price": {"amount": 4999, "currency": "EUR"}, "quantity": 3},
        {"product_id": shade_id, "seller_id": a.other_seller.id, "title": "Shade", "unit_price": {"amount": 1500, "currency": "EUR"}, "quantity": 1},
    ]));
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(stock_of(&app, lamp_id, &a.seller).await, json!({"on_hand": 10, "reserved": 3, "available": 7}));
    assert_eq!(stock_of(&app, shade_id, &a.other_seller).await, json!({"on_hand": 5, "reserved": 1, "available": 4}));
});

catalog_test!(async fn repeating_a_reservation_returns_the_same_one(app) {
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 4999, 10).await;
    let id = lamp["id"].as_str().unwrap();
    let order = order_id();
    let first: Value = reserve(&app, &order, &[(id, 2)]).await.json().await.unwrap();
    let resp = reserve(&app, &order, &[(id, 2)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), first);
    assert_eq!(stock_of(&app, id, &a.seller).await["reserved"], 2);
    let resp = reserve(&app, &order, &[(id, 3)]).await;
    assert_problem(resp, 409, "conflict").await;
});

catalog_test!(async fn a_short_item_reserves_nothing_and_every_short_item_is_listed(app) {
    let (a, cat) = setup(&app).await;
    let plenty = product(&app, &a.seller, &cat, "Plenty", 100, 10).await;
    let few = product(&app, &a.seller, &cat, "Few", 100, 2).await;
    let gone = product(&app, &a.seller, &cat, "Gone", 100, 5).await;
    let (plenty, few, gone) = (plenty["id"].as_str().unwrap(), few["id"].as_str().unwrap(), gone["id"].as_str().unwrap());
    app.delete(&format!("/v1/products/{gone}")).header("authorization", a.seller.bearer()).send().await.unwrap();
    let unknown = "0190a000-0000-7000-8000-00000000dead";
    let resp = reserve(&app, &order_id(), &[(plenty, 5), (few, 3), (gone, 1), (unknown, 1)]).await;
    let problem = assert_problem(resp, 409, "out-of-stock").await;
    let mut items = problem["items"].as_array().unwrap().clone();
    items.sort_by_key(|i| i["product_id"].as_str().unwrap().to_owned());
    let mut expected = vec![
        json!({"product_id": few, "requested": 3, "available": 2}),
        json!({"product_id": gone, "requested": 1, "available": 0}),
        json!({"product_id": unknown, "requested": 1, "available": 0}),
    ];
    expected.sort_by_key(|i| i["product_id"].as_str().unwrap().to_owned());
    assert_eq!(items, expected);
    assert_eq!(stock_of(&app, plenty, &a.seller).await["reserved"], 0);
    assert_eq!(stock_of(&app, few, &a.seller).await["reserved"], 0);
});

catalog_test!(async fn commit_takes_units_off_hand_once(app) {
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = lamp["id"].as_str().unwrap();
    let order = order_id();
    assert_eq!(reserve(&app, &order, &[(id, 4)]).await.status(), 201);
    assert_eq!(commit(&app, &order).await.status(), 204);
    assert_eq!(commit(&app, &order).await.status(), 204);
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 6, "reserved": 0, "available": 6}));
    assert_problem(release(&app, &order).await, 409, "conflict").await;
    assert_problem(commit(&app, &order_id()).await, 404, "not-found").await;
});

catalog_test!(async fn release_gives_units_back_and_is_idempotent(app) {
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = lamp["id"].as_str().unwrap();
    let order = order_id();
    assert_eq!(reserve(&app, &order, &[(id, 4)]).await.status(), 201);
    assert_eq!(release(&app, &order).await.status(), 204);
    assert_eq!(release(&app, &order).await.status(), 204);
    assert_eq!(release(&app, &order_id()).await.status(), 204);
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 10, "reserved": 0, "available": 10}));
    assert_problem(commit(&app, &order).await, 409, "conflict").await;
});

catalog_test!(async fn a_reserve_arriving_after_its_release_holds_nothing(app) {
    // The orders service gave up on a slow reserve and compensated before the catalog got it.
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 1).await;
    let id = lamp["id"].as_str().unwrap();
    let order = order_id();
    assert_eq!(release(&app, &order).await.status(), 204);
    assert_problem(reserve(&app, &order, &[(id, 1)]).await, 409, "out-of-stock").await;
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 1, "reserved": 0, "available": 1}));
    assert_eq!(reserve(&app, &order_id(), &[(id, 1)]).await.status(), 201);
});

catalog_test!(async fn an_order_refused_as_short_never_holds_later(app) {
    // The caller retried a reserve that timed out and told its buyer "out of stock" from the
    // retry's answer; the first attempt, still on its way, must not hold units afterwards.
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 1).await;
    let id = lamp["id"].as_str().unwrap();
    let order = order_id();
    assert_problem(reserve(&app, &order, &[(id, 2)]).await, 409, "out-of-stock").await;
    assert_problem(reserve(&app, &order, &[(id, 1)]).await, 409, "out-of-stock").await;
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 1, "reserved": 0, "available": 1}));
});

catalog_test!(async fn fifty_concurrent_reservations_never_oversell_ten_units(app) {
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = lamp["id"].as_str().unwrap().to_owned();
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move { reserve(&app, &order_id(), &[(&id, 1)]).await.status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (10, 40), "statuses: {statuses:?}");
    assert_eq!(stock_of(&app, &id, &a.seller).await, json!({"on_hand": 10, "reserved": 10, "available": 0}));
});

catalog_test!([("catalog_reservation_ttl_secs", "3")], async fn uncommitted_reservations_expire_without_a_manual_step(app) {
    // 3 s, not 1: every step between a hold and its check must finish inside the TTL even on a
    // loaded CI machine.
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 5).await;
    let id = lamp["id"].as_str().unwrap();
    let order = order_id();
    assert_eq!(reserve(&app, &order, &[(id, 4)]).await.status(), 201);
    assert_eq!(stock_of(&app, id, &a.seller).await["available"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(3300)).await;
    // Read path: lapsed holds no longer count, before any sweep.
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 5, "reserved": 0, "available": 5}));
    // A lapsed hold cannot be committed; its units can be held again.
    assert_problem(commit(&app, &order).await, 409, "conflict").await;
    assert_eq!(reserve(&app, &order_id(), &[(id, 5)]).await.status(), 201);
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 5, "reserved": 5, "available": 0}));
    // Releasing the lapsed one is a no-op success and does not free the new hold's units.
    assert_eq!(release(&app, &order).await.status(), 204);
    assert_eq!(stock_of(&app, id, &a.seller).await["reserved"], 5);
});

catalog_test!([("catalog_reservation_ttl_secs", "3")], async fn more_lapsed_holds_than_one_sweep_takes_never_make_a_false_shortage(app) {
    // A reservation first sweeps the 10 longest-lapsed holds of any product; 12 lapsed holds on
    // one product leave at least 2 for the retry path: sweep the short product, try again.
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 12).await;
    let id = lamp["id"].as_str().unwrap();
    for _ in 0..12 {
        assert_eq!(reserve(&app, &order_id(), &[(id, 1)]).await.status(), 201);
    }
    tokio::time::sleep(std::time::Duration::from_millis(3300)).await;
    assert_eq!(reserve(&app, &order_id(), &[(id, 12)]).await.status(), 201);
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 12, "reserved": 12, "available": 0}));
    // Every unit is held by the new reservation now: one more is short, with nothing to sweep.
    let resp = reserve(&app, &order_id(), &[(id, 1)]).await;
    assert_problem(resp, 409, "out-of-stock").await;
});

catalog_test!(async fn reservation_bodies_are_strict(app) {
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 5).await;
    let id = lamp["id"].as_str().unwrap();
    let resp = app.post("/internal/v1/reservations")
        .header("authorization", format!("Service {SERVICE_TOKEN}"))
        .json(&json!({"order_id": "bad id", "items": [{"product_id": id, "quantity": 0, "unit_price": 1}, {"product_id": id, "quantity": 1}], "total": 1}))
        .send().await.unwrap();
    let problem = assert_problem(resp, 422, "validation-failed").await;
    let mut fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["items[0].quantity", "items[0].unit_price", "items[1].product_id", "order_id", "total"]);
    let resp = reserve(&app, &order_id(), &[]).await;
    assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(stock_of(&app, id, &a.seller).await["reserved"], 0);
});

catalog_test!(async fn restock_puts_committed_units_back_once(app) {
    let (a, cat) = setup(&app).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = lamp["id"].as_str().unwrap();
    let restock = |order: String| {
        let app = &app;
        async move {
            app.post(&format!("/internal/v1/reservations/{order}/restock"))
                .header("authorization", format!("Service {SERVICE_TOKEN}"))
                .send().await.unwrap()
        }
    };
    let order = order_id();
    assert_eq!(reserve(&app, &order, &[(id, 3)]).await.status(), 201);
    assert_problem(restock(order.clone()).await, 409, "conflict").await;
    assert_eq!(commit(&app, &order).await.status(), 204);
    assert_eq!(stock_of(&app, id, &a.seller).await["on_hand"], 7);
    assert_eq!(restock(order.clone()).await.status(), 204);
    assert_eq!(restock(order.clone()).await.status(), 204);
    assert_eq!(stock_of(&app, id, &a.seller).await, json!({"on_hand": 10, "reserved": 0, "available": 10}));
    assert_problem(commit(&app, &order).await, 409, "conflict").await;
    assert_problem(restock(order_id()).await, 404, "not-found").await;
});
