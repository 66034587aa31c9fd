//! `/v1/seller/fulfilments`: each seller sees and ships only its part of an order.

use serde_json::json;
use shopnow_testkit::assert_problem;

use crate::support::*;

orders_test!(async fn a_seller_sees_only_its_own_lines_the_address_and_no_payment(app) {
    let TwoSellers { shop, s1, s2, lamp, rug } = TwoSellers::open(&app).await;
    let bulb = shop.product(&app, &s1, "Bulb", 300, 9).await;
    let order = place(&app, &customer(), &[(&lamp, 1), (&rug, 1), (&bulb, 4)]).await;
    let (status, body) = get_json(&app, &s1, "/v1/seller/fulfilments").await;
    assert_eq!(status, 200);
    let list = body["fulfilments"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let f = &list[0];
    assert_eq!(f["order_id"], order["id"]);
    assert_eq!(f["status"], "awaiting_shipment");
    let products: Vec<&str> = f["items"].as_array().unwrap().iter().map(|i| i["product_id"].as_str().unwrap()).collect();
    assert_eq!(products, [lamp.as_str(), bulb.as_str()]);
    assert_eq!(f["shipping_address"]["city"], "London");
    let text = body.to_string();
    for hidden in [rug.as_str(), "\"payment\"", "\"total\"", "authorized", "tok_ok"] {
        assert!(!text.contains(hidden), "{hidden} visible to the seller: {text}");
    }
    let (_, other) = get_json(&app, &s2, "/v1/seller/fulfilments").await;
    assert_eq!(other["fulfilments"][0]["items"].as_array().unwrap().len(), 1);
    // Failed checkouts never reach sellers.
    let buyer = customer();
    post_order(&app, &buyer, &key(), &checkout_body(&[(&lamp, 1)], "tok_decline")).await;
    let (_, again) = get_json(&app, &s1, "/v1/seller/fulfilments").await;
    assert_eq!(again["fulfilments"].as_array().unwrap().len(), 1);
});

orders_test!(async fn fulfilments_are_for_sellers_only(app) {
    let resp = app.get("/v1/seller/fulfilments").header("authorization", customer().bearer()).send().await.unwrap();
    assert_problem(resp, 403, "forbidden").await;
    let resp = app.get("/v1/seller/fulfilments").send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
});

orders_test!(async fn each_seller_ships_its_part_and_the_order_follows(app) {
    let TwoSellers { s1, s2, lamp, rug, .. } = TwoSellers::open(&app).await;
    let buyer = customer();
    let order = place(&app, &buyer, &[(&lamp, 1), (&rug, 1)]).await;
    let id = order["id"].as_str().unwrap();
    let f1 = order["fulfilments"][0]["id"].as_str().unwrap();
    let f2 = order["fulfilments"][1]["id"].as_str().unwrap();
    // Not your fulfilment: 404, as if it did not exist.
    let resp = app.post(&format!("/v1/seller/fulfilments/{f1}/ship")).header("authorization", s2.bearer()).send().await.unwrap();
    assert_problem(resp, 404, "not-found").await;
    let (status, shipped) = post_json(&app, &s1, &format!("/v1/seller/fulfilments/{f1}/ship"), Some(json!({"tracking_number": "1Z999AA1"}))).await;
    assert_eq!(status, 200, "{shipped}");
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["tracking_number"], "1Z999AA1");
    assert_eq!(get_json(&app, &buyer, &format!("/v1/orders/{id}")).await.1["status"], "partially_shipped");
    let resp = app.post(&format!("/v1/seller/fulfilments/{f1}/ship")).header("authorization", s1.bearer()).send().await.unwrap();
    assert_problem(resp, 409, "conflict").await;
    let (status, _) = post_json(&app, &s2, &format!("/v1/seller/fulfilments/{f2}/ship"), None).await;
    assert_eq!(status, 200);
    let (_, order) = get_json(&app, &buyer, &format!("/v1/orders/{id}")).await;
    assert_eq!(order["status"], "shipped");
    assert_eq!(order["fulfilments"][0]["tracking_number"], "1Z999AA1");
    let events: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["order.created", "order.placed", "fulfilment.shipped", "fulfilment.shipped", "order.shipped"]);
});

orders_test!(async fn a_bad_tracking_number_is_422(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let lamp = shop.product(&app, &s, "Lamp", 1999, 5).await;
    let order = place(&app, &customer(), &[(&lamp, 1)]).await;
    let f = order["fulfilments"][0]["id"].as_str().unwrap();
    let resp = app.post(&format!("/v1/seller/fulfilments/{f}/ship")).header("authorization", s.bearer())
        .json(&json!({"tracking_number": "has spaces in it"})).send().await.unwrap();
    let problem = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(problem["errors"][0]["field"], "tracking_number");
});

orders_test!(async fn two_sellers_shipping_at_once_both_succeed(app) {
    let TwoSellers { s1, s2, lamp, rug, .. } = TwoSellers::open(&app).await;
    let buyer = customer();
    let order = place(&app, &buyer, &[(&lamp, 1), (&rug, 1)]).await;
    let ship = |s: Actor, f: String| {
        let (client, url) = (app.client().clone(), app.url(&format!("/v1/seller/fulfilments/{f}/ship")));
        tokio::spawn(async move { client.post(url).header("authorization", s.bearer()).send().await.unwrap().status().as_u16() })
    };
    let a = ship(s1, order["fulfilments"][0]["id"].as_str().unwrap().to_owned());
    let b = ship(s2, order["fulfilments"][1]["id"].as_str().unwrap().to_owned());
    assert_eq!((a.await.unwrap(), b.await.unwrap()), (200, 200));
    let (_, order) = get_json(&app, &buyer, &format!("/v1/orders/{}", order["id"].as_str().unwrap())).await;
    assert_eq!(order["status"], "shipped");
});
