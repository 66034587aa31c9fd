//! Thirty buyers race for the last five units: exactly five orders confirm, the others get 409
//! `out-of-stock`, and stock ends at zero, never below.

use serde_json::Value;

use crate::support::*;

orders_test!(async fn thirty_buyers_race_for_the_last_five_units(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Last lamps", 1999, 5).await;
    let url = app.url("/v1/orders");
    let handles: Vec<_> = (0..30).map(|_| {
        let (client, url, buyer, body) = (app.client().clone(), url.clone(), customer(), checkout_body(&[(&lamp, 1)], "tok_ok"));
        tokio::spawn(async move {
            // A client retries a 503 with the same key, as the Retry-After invites it to.
            let k = key();
            for _ in 0..10 {
                let resp = client.post(&url).header("authorization", buyer.bearer()).header("idempotency-key", &k)
                    .json(&body).send().await.unwrap();
                let status = resp.status().as_u16();
                let body: Value = resp.json().await.unwrap();
                if status != 503 && status != 409 || body["type"].as_str().is_some_and(|t| t.ends_with("/out-of-stock")) {
                    return (status, body);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("no final answer after 10 attempts");
        })
    }).collect();
    let mut confirmed = 0;
    let mut short = 0;
    for h in handles {
        let (status, body) = h.await.unwrap();
        match status {
            201 => { assert_eq!(body["status"], "confirmed"); confirmed += 1; }
            409 => { assert!(body["type"].as_str().unwrap().ends_with("/out-of-stock"), "{body}"); short += 1; }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((confirmed, short), (5, 25));
    assert_eq!(stock(&app, &lamp).await, (0, 0, 0));
});
