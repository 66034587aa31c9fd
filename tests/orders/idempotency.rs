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

// A request slower than its claim's lock loses the key to a retry, and must then record and
// charge nothing: every write on the key names the claim id it was given. The first checkout's
// reservation is held up by a row lock the test takes on the product in the catalog's
// PostgreSQL database, so the claim lapses inside that one request (SQLite has no row locks to
// hold one reservation up with: the embedded variants are skipped).
api_test_with!(
    options().variable("orders_idempotency_lock_ms", "300"),
    async fn a_request_slower_than_its_claim_records_and_charges_nothing(app) {
        let Some(catalog_db) = app.database_url("catalog_database_url") else {
            shopnow_testkit::record_skip("needs PostgreSQL: a row lock holds one reservation up");
            return;
        };
        let shop = Shop::open(&app).await;
        let lamp = shop.product(&app, &seller(), "Lamp", 1999, 10).await;
        let buyer = customer();
        let (k, body) = (key(), checkout_body(&[(&lamp, 1)], "tok_ok"));
        let (db, conn) = tokio_postgres::connect(&catalog_db, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        db.batch_execute("BEGIN").await.unwrap();
        db.batch_execute(&format!("SELECT 1 FROM products WHERE id = '{lamp}' FOR UPDATE")).await.unwrap();
        let send = |k: String, body: Value| {
            let (client, url, bearer) = (app.client().clone(), app.url("/v1/orders"), buyer.bearer());
            tokio::spawn(async move {
                let resp = client.post(url).header("authorization", bearer).header("idempotency-key", k)
                    .json(&body).send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.unwrap())
            })
        };
        let first = send(k.clone(), body.clone());
        // Twice the lock: the first request's claim lapses while its reservation waits.
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let second = send(k.clone(), body.clone());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        db.batch_execute("COMMIT").await.unwrap();
        let (first, second) = (first.await.unwrap(), second.await.unwrap());

        // The second request took the key over and placed the order; the first, finding its
        // claim gone, gave its hold back and was told the key is in use.
        assert_eq!(second.0, 201, "second: {}", second.1);
        assert_eq!(first.0, 409, "first: {}", first.1);
        assert!(first.1["type"].as_str().unwrap().ends_with("/idempotency-key-in-use"), "{}", first.1);
        let orders: Value = app.get("/v1/orders").header("authorization", buyer.bearer()).send().await.unwrap()
            .json().await.unwrap();
        assert_eq!(orders["orders"].as_array().unwrap().len(), 1, "{orders}");
        assert_eq!(stock(&app, &lamp).await, (9, 0, 9), "one unit sold, nothing held");
        // A retry replays the one order.
        let replay = post_order(&app, &buyer, &k, &body).await;
        assert_eq!(replay.status(), 201);
        let replay: Value = replay.json().await.unwrap();
        assert_eq!(replay["id"], second.1["id"]);
    }
);
