//! `Idempotency-Key` on `POST /v1/orders`: replays, reuse with another body, per-user scope,
//! concurrent duplicates, and failures that must not be stored.

use futures_like::join_all;
use serde_json::Value;
use shopnow_testkit::assert_problem;

use crate::support::*;

/// Minimal `join_all` so the tests need no futures crate.
mod futures_like {
    pub async fn join_all<T: Send + 'static>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}

orders_test!(async fn a_retry_with_the_same_key_and_body_replays_the_first_response(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let k = key();
    let body = checkout_body(&[(&lamp, 2)], "tok_ok");
    let first = post_order(&app, &buyer, &k, &body).await;
    assert_eq!(first.status(), 201);
    let first_location = first.headers()["location"].clone();
    let first_body = first.text().await.unwrap();
    let again = post_order(&app, &buyer, &k, &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["location"], first_location);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first_body);
    assert_eq!(stock(&app, &lamp).await, (3, 0, 3));
    let id = serde_json::from_str::<Value>(&first_body).unwrap()["id"].as_str().unwrap().to_owned();
    let paid = payment(&app, &id).await.unwrap();
    assert_eq!((paid["authorize_calls"].as_i64(), paid["approvals"].as_i64()), (Some(1), Some(1)));
    assert_eq!(my_orders(&app, &buyer).await.len(), 1);
});

orders_test!(async fn a_declined_checkout_is_replayed_too(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let k = key();
    let body = checkout_body(&[(&lamp, 1)], "tok_decline");
    assert_problem(post_order(&app, &buyer, &k, &body).await, 402, "payment-declined").await;
    assert_problem(post_order(&app, &buyer, &k, &body).await, 402, "payment-declined").await;
    let orders = my_orders(&app, &buyer).await;
    assert_eq!(orders.len(), 1);
    let paid = payment(&app, orders[0]["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(paid["authorize_calls"], 1);
});

orders_test!(async fn the_same_key_with_another_body_is_422(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let k = key();
    assert_eq!(post_order(&app, &buyer, &k, &checkout_body(&[(&lamp, 1)], "tok_ok")).await.status(), 201);
    let resp = post_order(&app, &buyer, &k, &checkout_body(&[(&lamp, 2)], "tok_ok")).await;
    assert_problem(resp, 422, "idempotency-key-reused").await;
    assert_eq!(stock(&app, &lamp).await, (4, 0, 4));
});

orders_test!(async fn keys_are_scoped_to_their_user(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let (a, b) = (customer(), customer());
    let k = key();
    let body = checkout_body(&[(&lamp, 1)], "tok_ok");
    let first: Value = post_order(&app, &a, &k, &body).await.json().await.unwrap();
    let resp = post_order(&app, &b, &k, &body).await;
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().get("idempotent-replayed").is_none());
    let second: Value = resp.json().await.unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(stock(&app, &lamp).await, (3, 0, 3));
});

orders_test!(async fn twenty_concurrent_identical_requests_make_exactly_one_order(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 50).await;
    let buyer = customer();
    let k = key();
    let body = checkout_body(&[(&lamp, 3)], "tok_ok");
    let url = app.url("/v1/orders");
    let handles = (0..20).map(|_| {
        let (client, url, bearer, k, body) = (app.client().clone(), url.clone(), buyer.bearer(), k.clone(), body.clone());
        tokio::spawn(async move {
            let resp = client.post(url).header("authorization", bearer).header("idempotency-key", k)
                .json(&body).send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (status, text)
        })
    }).collect();
    let results = join_all(handles).await;
    let mut ids = std::collections::BTreeSet::new();
    for (status, text) in &results {
        let body: Value = serde_json::from_str(text).unwrap();
        match status {
            201 => { ids.insert(body["id"].as_str().unwrap().to_owned()); }
            409 => assert!(body["type"].as_str().unwrap().ends_with("/idempotency-key-in-use"), "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(ids.len() <= 1, "several orders answered: {ids:?}");
    // Once the first finished, the key replays it.
    let replay = post_order(&app, &buyer, &k, &body).await;
    assert_eq!(replay.status(), 201);
    let replayed: Value = replay.json().await.unwrap();
    if let Some(id) = ids.iter().next() {
        assert_eq!(replayed["id"].as_str().unwrap(), id);
    }
    let orders = my_orders(&app, &buyer).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(stock(&app, &lamp).await, (47, 0, 47));
    let paid = payment(&app, replayed["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(paid["approvals"], 1);
});

orders_test!(async fn a_503_is_not_stored_so_a_retry_runs_again(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let k = key();
    let body = checkout_body(&[(&lamp, 1)], "tok_error");
    assert_problem(post_order(&app, &buyer, &k, &body).await, 503, "service-unavailable").await;
    assert_problem(post_order(&app, &buyer, &k, &body).await, 503, "service-unavailable").await;
    // Two attempts, two failed (and compensated) orders: the second really ran.
    let orders = my_orders(&app, &buyer).await;
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o["status"] == "failed"));
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
});
