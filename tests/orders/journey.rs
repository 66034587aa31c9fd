//! The whole journey over HTTP, with real accounts from identity: a buyer and two sellers
//! register and sign in, the sellers list products, the buyer fills a cart and checks it out as
//! one two-seller order, each seller ships its fulfilment, and the order ends `shipped`.

use serde_json::{Value, json};

use crate::support::*;

orders_test!(async fn a_buyer_orders_from_two_sellers_who_each_ship_their_part(app) {
    let buyer = sign_up(&app, &unique_email("customer"), "customer").await;
    let s1 = sign_up(&app, &unique_email("seller"), "seller").await;
    let s2 = sign_up(&app, &unique_email("seller"), "seller").await;
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &s1, "Brass lamp", 4500, 10).await;
    let bulb = shop.product(&app, &s1, "Bulb", 350, 100).await;
    let rug = shop.product(&app, &s2, "Wool rug", 12000, 2).await;

    for (p, q) in [(&lamp, 1), (&bulb, 4), (&rug, 1)] {
        assert_eq!(put_cart_item(&app, &buyer, p, q).await.status(), 200);
    }
    let (_, cart) = get_json(&app, &buyer, "/v1/cart").await;
    assert_eq!(cart["totals"], json!([{"amount": 4500 + 4 * 350 + 12000, "currency": "EUR"}]));

    let resp = post_order(&app, &buyer, &key(), &cart_checkout_body("tok_ok")).await;
    assert_eq!(resp.status(), 201);
    let order: Value = resp.json().await.unwrap();
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["total"]["amount"], 17900);
    assert_eq!(order["fulfilments"].as_array().unwrap().len(), 2);
    assert_eq!(get_json(&app, &buyer, "/v1/cart").await.1["items"], json!([]));
    assert_eq!(stock(&app, &rug).await, (1, 0, 1));

    for (s, expected_lines) in [(&s1, 2), (&s2, 1)] {
        let (_, list) = get_json(&app, s, "/v1/seller/fulfilments").await;
        let f = &list["fulfilments"][0];
        assert_eq!(f["order_id"], id.as_str());
        assert_eq!(f["items"].as_array().unwrap().len(), expected_lines);
        let (status, shipped) = post_json(&app, s, &format!("/v1/seller/fulfilments/{}/ship", f["id"].as_str().unwrap()),
            Some(json!({"tracking_number": format!("TRACK-{expected_lines}")}))).await;
        assert_eq!(status, 200, "{shipped}");
    }

    let (_, order) = get_json(&app, &buyer, &format!("/v1/orders/{id}")).await;
    assert_eq!(order["status"], "shipped");
    let statuses: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pending", "confirmed", "partially_shipped", "shipped", "shipped"]);
    let paid = payment(&app, &id).await.unwrap();
    assert_eq!((paid["approvals"].as_i64(), paid["amount"].as_i64()), (Some(1), Some(17900)));
    assert_eq!(my_orders(&app, &buyer).await.len(), 1);
});
