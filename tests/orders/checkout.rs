//! `POST /v1/orders`: the checkout saga — reserve, record, authorise, commit — and every failure
//! branch with its compensation, checked from the outside: stock (on hand, reserved) and the
//! payment simulator are back where they started.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shopnow_testkit::{Backend, TestApp, assert_problem, backend_available};

use crate::support::*;

orders_test!(async fn checkout_needs_an_idempotency_key(app) {
    let buyer = customer();
    let resp = app.post("/v1/orders").header("authorization", buyer.bearer())
        .json(&checkout_body(&[], "tok_ok")).send().await.unwrap();
    assert_problem(resp, 400, "idempotency-key-required").await;
    let resp = app.post("/v1/orders").header("authorization", buyer.bearer())
        .header("idempotency-key", "").json(&checkout_body(&[], "tok_ok")).send().await.unwrap();
    assert_problem(resp, 400, "idempotency-key-required").await;
});

orders_test!(async fn checkout_needs_a_customer(app) {
    let resp = app.post("/v1/orders").header("idempotency-key", key())
        .json(&checkout_body(&[], "tok_ok")).send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = post_order(&app, &seller(), &key(), &cart_checkout_body("tok_ok")).await;
    assert_problem(resp, 403, "forbidden").await;
});

orders_test!(async fn every_bad_field_is_reported_at_once(app) {
    let body = json!({
        "items": [{"product_id": "nope", "quantity": 0}, {"quantity": 1}],
        "shipping_address": {"name": "", "line1": "1 Road", "city": "X", "postal_code": "1", "country": "gb"},
        "payment": {"token": "tok ok"},
    });
    let resp = post_order(&app, &customer(), &key(), &body).await;
    let problem = assert_problem(resp, 422, "validation-failed").await;
    let mut fields: Vec<&str> = problem["errors"].as_array().unwrap().iter()
        .map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, [
        "items[0].product_id", "items[0].quantity", "items[1].product_id",
        "payment.token", "shipping_address.country", "shipping_address.name",
    ]);
    let resp = post_order(&app, &customer(), &key(), &json!({"items": [], "extra": 1})).await;
    let problem = assert_problem(resp, 422, "validation-failed").await;
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter()
        .map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["extra", "items", "shipping_address", "payment"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
});

orders_test!(async fn a_two_seller_checkout_is_confirmed_with_a_fulfilment_per_seller(app) {
    let TwoSellers { s1, lamp, rug, .. } = TwoSellers::open(&app).await;
    let buyer = customer();
    let resp = post_order(&app, &buyer, &key(), &checkout_body(&[(&lamp, 2), (&rug, 1)], "tok_ok")).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let order: Value = resp.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/orders/{id}"));
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["total"], json!({"amount": 8998, "currency": "EUR"}));
    assert_eq!(order["items"][0]["title"], "Lamp");
    assert_eq!(order["payment"]["status"], "authorized");
    let fulfilments = order["fulfilments"].as_array().unwrap();
    assert_eq!(fulfilments.len(), 2);
    assert_eq!(fulfilments[0]["seller_id"], s1.id.as_str());
    assert_eq!(fulfilments[0]["product_ids"], json!([lamp]));
    assert!(fulfilments.iter().all(|f| f["status"] == "awaiting_shipment"));
    let events: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["order.created", "order.placed"]);
    assert_eq!(stock(&app, &lamp).await, (3, 0, 3));
    assert_eq!(stock(&app, &rug).await, (2, 0, 2));
    let paid = payment(&app, id).await.unwrap();
    assert_eq!((paid["status"].as_str(), paid["approvals"].as_i64(), paid["amount"].as_i64()),
        (Some("authorized"), Some(1), Some(8998)));
});

orders_test!(async fn checking_out_the_cart_empties_it(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    put_cart_item(&app, &buyer, &lamp, 2).await;
    let resp = post_order(&app, &buyer, &key(), &cart_checkout_body("tok_ok")).await;
    assert_eq!(resp.status(), 201);
    let order: Value = resp.json().await.unwrap();
    assert_eq!(order["items"][0]["quantity"], 2);
    let (_, cart) = get_json(&app, &buyer, "/v1/cart").await;
    assert_eq!(cart["items"], json!([]));
    // Now the cart is empty, so is a checkout of it.
    let resp = post_order(&app, &buyer, &key(), &cart_checkout_body("tok_ok")).await;
    let problem = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(problem["errors"][0]["field"], "items");
});

orders_test!(async fn the_request_id_travels_with_the_checkout(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 1).await;
    let resp = app.post("/v1/orders").header("authorization", customer().bearer())
        .header("idempotency-key", key()).header("x-request-id", "checkout-trace-0001")
        .json(&checkout_body(&[(&lamp, 2)], "tok_ok")).send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "checkout-trace-0001");
    let problem = assert_problem(resp, 409, "out-of-stock").await;
    assert_eq!(problem["request_id"], "checkout-trace-0001");
});

orders_test!(async fn out_of_stock_lists_short_items_and_reserves_nothing(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let lamp = shop.product(&app, &s, "Lamp", 1999, 5).await;
    let rug = shop.product(&app, &s, "Rug", 5000, 1).await;
    let buyer = customer();
    let resp = post_order(&app, &buyer, &key(), &checkout_body(&[(&lamp, 2), (&rug, 3)], "tok_ok")).await;
    let problem = assert_problem(resp, 409, "out-of-stock").await;
    assert_eq!(problem["items"], json!([{"product_id": rug, "requested": 3, "available": 1}]));
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    assert_eq!(stock(&app, &rug).await, (1, 0, 1));
    assert!(my_orders(&app, &buyer).await.is_empty());
});

orders_test!(async fn a_declined_payment_is_402_and_releases_the_stock(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let resp = post_order(&app, &buyer, &key(), &checkout_body(&[(&lamp, 2)], "tok_decline")).await;
    assert_problem(resp, 402, "payment-declined").await;
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    let orders = my_orders(&app, &buyer).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["status"], "payment_failed");
    let (_, order) = get_json(&app, &buyer, &format!("/v1/orders/{}", orders[0]["id"].as_str().unwrap())).await;
    assert_eq!(order["payment"]["status"], "declined");
    assert!(order["fulfilments"].as_array().unwrap().iter().all(|f| f["status"] == "void"));
    let events: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["order.created", "order.payment_failed", "stock.returned"]);
});

orders_test!(async fn a_failing_provider_is_503_and_nothing_stays_held_or_charged(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let resp = post_order(&app, &buyer, &key(), &checkout_body(&[(&lamp, 2)], "tok_error")).await;
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_problem(resp, 503, "service-unavailable").await;
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    let orders = my_orders(&app, &buyer).await;
    assert_eq!(orders[0]["status"], "failed");
    let paid = payment(&app, orders[0]["id"].as_str().unwrap()).await.unwrap();
    assert_eq!((paid["status"].as_str(), paid["approvals"].as_i64()), (Some("voided"), Some(0)));
});

orders_test!(async fn a_slow_provider_is_cut_by_the_deadline_and_its_late_approval_refused(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let started = Instant::now();
    let resp = post_order(&app, &buyer, &key(), &checkout_body(&[(&lamp, 1)], "tok_slow")).await;
    let took = started.elapsed();
    assert_problem(resp, 503, "service-unavailable").await;
    // The simulator answers after 2 s; the deadline (and the compensations) end far sooner.
    assert!(took < Duration::from_millis(1_500), "checkout took {took:?}");
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    let orders = my_orders(&app, &buyer).await;
    assert_eq!(orders[0]["status"], "failed");
    let id = orders[0]["id"].as_str().unwrap().to_owned();
    // After the simulator's slow authorisation finishes, it found the void first: never charged.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let paid = payment(&app, &id).await.unwrap();
    assert_eq!((paid["status"].as_str(), paid["approvals"].as_i64()), (Some("voided"), Some(0)), "{paid}");
});

orders_test!(async fn lines_in_several_currencies_are_422_and_released(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let lamp = shop.product(&app, &s, "Lamp", 1999, 5).await;
    let clock = shop.product_in(&app, &s, "Clock", 2500, "USD", 5).await;
    let resp = post_order(&app, &customer(), &key(), &checkout_body(&[(&lamp, 1), (&clock, 1)], "tok_ok")).await;
    let problem = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(problem["errors"][0]["field"], "items");
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    assert_eq!(stock(&app, &clock).await, (5, 0, 5));
});

/// Both backends, with the catalog's internal service moved somewhere that does not exist.
async fn spawn_without_catalog(backend: Backend) -> Option<TestApp> {
    if !backend_available(backend) {
        return None;
    }
    let options = options().variable("catalog_internal_url", "http://catalog-gone.spin.internal");
    Some(TestApp::spawn_with(backend, options).await)
}

async fn an_unreachable_catalog_is_503(app: TestApp) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let resp = post_order(
        &app,
        &buyer,
        &key(),
        &checkout_body(&[(&lamp, 1)], "tok_ok"),
    )
    .await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_problem(resp, 503, "service-unavailable").await;
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    assert!(my_orders(&app, &buyer).await.is_empty());
}

mod an_unreachable_catalog_is_503_and_nothing_is_recorded {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        if let Some(app) = spawn_without_catalog(Backend::Embedded).await {
            an_unreachable_catalog_is_503(app).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(app) = spawn_without_catalog(Backend::Postgres).await {
            an_unreachable_catalog_is_503(app).await;
        }
    }
}
