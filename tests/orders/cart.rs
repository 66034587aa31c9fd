//! `/v1/cart`: a customer's cart in the key-value store, shown with the catalog's current data.

use serde_json::{Value, json};
use shopnow_testkit::assert_problem;

use crate::support::*;

orders_test!(async fn the_cart_needs_a_signed_in_customer(app) {
    let resp = app.get("/v1/cart").send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = app.get("/v1/cart").header("authorization", seller().bearer()).send().await.unwrap();
    assert_problem(resp, 403, "forbidden").await;
});

orders_test!(async fn a_new_customer_has_an_empty_cart(app) {
    let (status, body) = get_json(&app, &customer(), "/v1/cart").await;
    assert_eq!(status, 200);
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["totals"], json!([]));
    assert!(body["expires_at"].is_string());
});

orders_test!(async fn items_show_current_titles_prices_and_totals(app) {
    let shop = Shop::open(&app).await;
    let (s1, s2) = (seller(), seller());
    let lamp = shop.product(&app, &s1, "Lamp", 1999, 5).await;
    let rug = shop.product(&app, &s2, "Rug", 5000, 2).await;
    let buyer = customer();
    assert_eq!(put_cart_item(&app, &buyer, &lamp, 2).await.status(), 200);
    let resp = put_cart_item(&app, &buyer, &rug, 1).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["product_id"], lamp.as_str());
    assert_eq!(items[0]["title"], "Lamp");
    assert_eq!(items[0]["seller_id"], s1.id.as_str());
    assert_eq!(items[0]["unit_price"], json!({"amount": 1999, "currency": "EUR"}));
    assert_eq!(items[0]["line_total"], json!({"amount": 3998, "currency": "EUR"}));
    assert_eq!(items[0]["availability"], "available");
    assert_eq!(body["totals"], json!([{"amount": 8998, "currency": "EUR"}]));
    assert_eq!(body["all_available"], true);
    // Another customer's cart is their own.
    let (_, other) = get_json(&app, &customer(), "/v1/cart").await;
    assert_eq!(other["items"], json!([]));
});

orders_test!(async fn setting_a_quantity_again_replaces_it_and_zero_removes_it(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    put_cart_item(&app, &buyer, &lamp, 2).await;
    let body: Value = put_cart_item(&app, &buyer, &lamp, 7).await.json().await.unwrap();
    assert_eq!(body["items"][0]["quantity"], 7);
    let body: Value = put_cart_item(&app, &buyer, &lamp, 0).await.json().await.unwrap();
    assert_eq!(body["items"], json!([]));
});

orders_test!(async fn quantities_outside_0_to_99_and_bad_bodies_are_refused(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    for q in [-1, 100] {
        let body = assert_problem(put_cart_item(&app, &buyer, &lamp, q).await, 422, "validation-failed").await;
        assert_eq!(body["errors"][0]["field"], "quantity");
    }
    let resp = app.put(&format!("/v1/cart/items/{lamp}")).header("authorization", buyer.bearer())
        .json(&json!({"quantity": 1, "price": 1})).send().await.unwrap();
    let body = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "price");
    let resp = app.put(&format!("/v1/cart/items/{lamp}")).header("authorization", buyer.bearer())
        .body("{\"quantity\": 1}").send().await.unwrap();
    assert_problem(resp, 415, "unsupported-media-type").await;
});

orders_test!(async fn unknown_products_cannot_be_added(app) {
    let buyer = customer();
    let missing = uuid::Uuid::new_v4().to_string();
    assert_problem(put_cart_item(&app, &buyer, &missing, 1).await, 404, "not-found").await;
    assert_problem(put_cart_item(&app, &buyer, "not-an-id", 1).await, 404, "not-found").await;
});

orders_test!(async fn a_product_that_became_unavailable_is_flagged(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let lamp = shop.product(&app, &s, "Lamp", 1999, 5).await;
    let rug = shop.product(&app, &s, "Rug", 5000, 2).await;
    let buyer = customer();
    put_cart_item(&app, &buyer, &lamp, 1).await;
    put_cart_item(&app, &buyer, &rug, 1).await;
    let resp = app.put(&format!("/v1/products/{rug}/stock")).header("authorization", s.bearer())
        .json(&json!({"on_hand": 0})).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (_, body) = get_json(&app, &buyer, "/v1/cart").await;
    assert_eq!(body["items"][1]["availability"], "unavailable");
    assert_eq!(body["all_available"], false);
    // Only available items count towards the total.
    assert_eq!(body["totals"], json!([{"amount": 1999, "currency": "EUR"}]));
});

orders_test!(async fn items_can_be_deleted_and_the_cart_cleared(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let lamp = shop.product(&app, &s, "Lamp", 1999, 5).await;
    let rug = shop.product(&app, &s, "Rug", 5000, 2).await;
    let buyer = customer();
    put_cart_item(&app, &buyer, &lamp, 1).await;
    put_cart_item(&app, &buyer, &rug, 1).await;
    let resp = app.delete(&format!("/v1/cart/items/{lamp}")).header("authorization", buyer.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let resp = app.delete(&format!("/v1/cart/items/{lamp}")).header("authorization", buyer.bearer()).send().await.unwrap();
    assert_problem(resp, 404, "not-found").await;
    let resp = app.delete("/v1/cart").header("authorization", buyer.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let (_, body) = get_json(&app, &buyer, "/v1/cart").await;
    assert_eq!(body["items"], json!([]));
});

orders_test!(async fn a_cart_holds_at_most_100_products(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let buyer = customer();
    for n in 0..100 {
        let p = shop.product(&app, &s, &format!("Item {n}"), 100, 1).await;
        assert_eq!(put_cart_item(&app, &buyer, &p, 1).await.status(), 200, "item {n}");
    }
    let extra = shop.product(&app, &s, "One too many", 100, 1).await;
    let body = assert_problem(put_cart_item(&app, &buyer, &extra, 1).await, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "product_id");
    let (_, cart) = get_json(&app, &buyer, "/v1/cart").await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 100);
});
