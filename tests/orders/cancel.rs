//! `POST /v1/orders/{id}/cancel`: the buyer cancels while nothing has shipped; stock goes back to
//! the catalog and the authorisation is voided.

use shopnow_testkit::assert_problem;

use crate::support::*;

orders_test!(async fn cancelling_a_confirmed_order_restocks_and_voids(app) {
    let TwoSellers { s1, lamp, rug, .. } = TwoSellers::open(&app).await;
    let buyer = customer();
    let id = place(&app, &buyer, &[(&lamp, 2), (&rug, 1)]).await["id"].as_str().unwrap().to_owned();
    assert_eq!(stock(&app, &lamp).await, (3, 0, 3));
    let (status, order) = post_json(&app, &buyer, &format!("/v1/orders/{id}/cancel"), None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["payment"]["status"], "voided");
    assert!(order["fulfilments"].as_array().unwrap().iter().all(|f| f["status"] == "cancelled"));
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    assert_eq!(stock(&app, &rug).await, (3, 0, 3));
    let paid = payment(&app, &id).await.unwrap();
    assert_eq!(paid["status"], "voided");
    let events: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["order.created", "order.placed", "order.cancelled", "stock.returned", "payment.voided"]);
    // A cancelled order cannot be shipped by its sellers.
    let fid = order["fulfilments"][0]["id"].as_str().unwrap();
    let (status, _) = post_json(&app, &s1, &format!("/v1/seller/fulfilments/{fid}/ship"), None).await;
    assert_eq!(status, 409);
});

orders_test!(async fn nothing_can_be_cancelled_once_a_fulfilment_shipped(app) {
    let TwoSellers { s1, lamp, rug, .. } = TwoSellers::open(&app).await;
    let buyer = customer();
    let order = place(&app, &buyer, &[(&lamp, 1), (&rug, 1)]).await;
    let fid = order["fulfilments"][0]["id"].as_str().unwrap();
    let (status, _) = post_json(&app, &s1, &format!("/v1/seller/fulfilments/{fid}/ship"), None).await;
    assert_eq!(status, 200);
    let resp = app.post(&format!("/v1/orders/{}/cancel", order["id"].as_str().unwrap()))
        .header("authorization", buyer.bearer()).send().await.unwrap();
    assert_problem(resp, 409, "conflict").await;
    assert_eq!(stock(&app, &lamp).await, (4, 0, 4));
    assert_eq!(payment(&app, order["id"].as_str().unwrap()).await.unwrap()["status"], "authorized");
});

orders_test!(async fn only_the_buyer_may_cancel_and_only_once(app) {
    let shop = Shop::open(&app).await;
    let s = seller();
    let lamp = shop.product(&app, &s, "Lamp", 1999, 5).await;
    let buyer = customer();
    let id = place(&app, &buyer, &[(&lamp, 1)]).await["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/orders/{id}/cancel");
    for stranger in [customer(), s] {
        let resp = app.post(&path).header("authorization", stranger.bearer()).send().await.unwrap();
        assert_problem(resp, 404, "not-found").await;
    }
    assert_eq!(post_json(&app, &buyer, &path, None).await.0, 200);
    let resp = app.post(&path).header("authorization", buyer.bearer()).send().await.unwrap();
    assert_problem(resp, 409, "conflict").await;
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
});

orders_test!(async fn an_order_that_failed_cannot_be_cancelled(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    post_order(&app, &buyer, &key(), &checkout_body(&[(&lamp, 1)], "tok_decline")).await;
    let id = my_orders(&app, &buyer).await[0]["id"].as_str().unwrap().to_owned();
    let resp = app.post(&format!("/v1/orders/{id}/cancel")).header("authorization", buyer.bearer()).send().await.unwrap();
    assert_problem(resp, 409, "conflict").await;
});
