//! `GET /v1/orders` and `GET /v1/orders/{id}`: the buyer's own orders, newest first with
//! cursors; one order for its buyer or an admin, 404 for anyone else.

use serde_json::Value;
use shopnow_testkit::assert_problem;

use crate::support::*;

orders_test!(async fn my_orders_are_listed_newest_first_a_page_at_a_time(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 10).await;
    let buyer = customer();
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(place(&app, &buyer, &[(&lamp, 1)]).await["id"].as_str().unwrap().to_owned());
    }
    place(&app, &customer(), &[(&lamp, 1)]).await;
    let (status, first) = get_json(&app, &buyer, "/v1/orders?limit=2").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = first["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [placed[2].as_str(), placed[1].as_str()]);
    assert_eq!(first["orders"][0]["item_count"], 1);
    assert_eq!(first["orders"][0]["status"], "confirmed");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = get_json(&app, &buyer, &format!("/v1/orders?limit=2&cursor={cursor}")).await;
    let ids: Vec<&str> = second["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [placed[0].as_str()]);
    assert!(second["next_cursor"].is_null());
});

orders_test!(async fn tampered_cursors_and_unknown_parameters_are_400(app) {
    let buyer = customer();
    let resp = app.get("/v1/orders?cursor=eyJ4IjoxfQ.AAAA").header("authorization", buyer.bearer()).send().await.unwrap();
    assert_problem(resp, 400, "invalid-cursor").await;
    let resp = app.get("/v1/orders?page=2").header("authorization", buyer.bearer()).send().await.unwrap();
    assert_problem(resp, 400, "bad-request").await;
});

orders_test!(async fn an_order_is_visible_to_its_buyer_and_admins_only(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let lamp = shop.product(&app, &s, "Lamp", 1999, 5).await;
    let buyer = customer();
    let id = place(&app, &buyer, &[(&lamp, 1)]).await["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/orders/{id}");
    let (status, order) = get_json(&app, &buyer, &path).await;
    assert_eq!(status, 200);
    assert_eq!(order["id"], id.as_str());
    assert_eq!(get_json(&app, &admin(), &path).await.0, 200);
    for stranger in [customer(), s.clone()] {
        let resp = app.get(&path).header("authorization", stranger.bearer()).send().await.unwrap();
        assert_problem(resp, 404, "not-found").await;
    }
    assert_problem(app.get(&path).send().await.unwrap(), 401, "unauthenticated").await;
    let resp = app.get(&path).header("authorization", "Bearer not.a.token").send().await.unwrap();
    assert_problem(resp, 401, "invalid-token").await;
});

orders_test!(async fn unknown_and_malformed_order_ids_are_404(app) {
    let buyer = customer();
    for id in [uuid::Uuid::new_v4().to_string(), "nope".to_owned()] {
        let resp = app.get(&format!("/v1/orders/{id}")).header("authorization", buyer.bearer()).send().await.unwrap();
        assert_problem(resp, 404, "not-found").await;
    }
    let resp = app.put("/v1/orders").header("authorization", buyer.bearer()).send().await.unwrap();
    let problem = assert_problem(resp, 405, "method-not-allowed").await;
    assert!(problem["detail"].as_str().unwrap().contains("POST"));
});

orders_test!(async fn the_buyer_never_sees_a_payment_token(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let order = place(&app, &buyer, &[(&lamp, 1)]).await;
    let (_, fetched): (u16, Value) = get_json(&app, &buyer, &format!("/v1/orders/{}", order["id"].as_str().unwrap())).await;
    for body in [order.to_string(), fetched.to_string()] {
        assert!(!body.contains("tok_ok"), "{body}");
    }
});
