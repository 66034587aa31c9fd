//! `POST /internal/v1/orders/sweep`: behind the service credential; resolves what crashes and
//! missed compensations leave (unit-tested in `shopnow-orders`), and reports it.

use shopnow_testkit::assert_problem;

use crate::support::*;

orders_test!(async fn the_sweep_needs_the_service_credential(app) {
    let resp = app.post("/internal/v1/orders/sweep").send().await.unwrap();
    assert_problem(resp, 401, "invalid-service-credential").await;
    let resp = app.post("/internal/v1/orders/sweep").header("authorization", "Service wrong").send().await.unwrap();
    assert_problem(resp, 401, "invalid-service-credential").await;
    let resp = app.post("/internal/v1/orders/sweep").header("authorization", admin().bearer()).send().await.unwrap();
    assert_problem(resp, 401, "invalid-service-credential").await;
});

orders_test!(async fn the_sweep_reports_what_it_did_and_leaves_healthy_orders_alone(app) {
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let order = place(&app, &buyer, &[(&lamp, 1)]).await;
    let report = sweep(&app).await;
    assert_eq!(report["abandoned"], 0);
    assert_eq!(report["still_owing"], 0);
    let (_, after) = get_json(&app, &buyer, &format!("/v1/orders/{}", order["id"].as_str().unwrap())).await;
    assert_eq!(after["status"], "confirmed");
});

/// A checkout that died after the catalog committed its stock and the provider approved, but
/// before the order was confirmed: recreated by putting a real order's rows back into that state
/// (PostgreSQL only — the embedded database file is private to the test host).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_resolves_a_checkout_that_crashed_before_confirming() {
    use shopnow_testkit::{Backend, TestApp, backend_available};
    if !backend_available(Backend::Postgres) {
        return;
    }
    let app = TestApp::spawn_with(Backend::Postgres, options()).await;
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1999, 5).await;
    let buyer = customer();
    let id = place(&app, &buyer, &[(&lamp, 2)]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(stock(&app, &lamp).await, (3, 0, 3));

    let url = app.database_url("orders_database_url").unwrap();
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    db.batch_execute(&format!(
        "UPDATE orders SET status = 'pending', stock_state = 'held', payment_status = 'not_attempted', \
         payment_reference = NULL, updated_at = updated_at - 120000, version = 1 WHERE id = '{id}'; \
         UPDATE fulfilments SET status = 'pending' WHERE order_id = '{id}'; \
         DELETE FROM order_history WHERE order_id = '{id}' AND seq > 0;"
    ))
    .await
    .unwrap();

    let report = sweep(&app).await;
    assert_eq!(report["abandoned"], 1, "{report}");
    assert_eq!(report["still_owing"], 0, "{report}");
    let (_, order) = get_json(&app, &buyer, &format!("/v1/orders/{id}")).await;
    assert_eq!(order["status"], "failed");
    assert_eq!(order["payment"]["status"], "voided");
    let events: Vec<&str> = order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "order.created",
            "order.failed",
            "stock.returned",
            "payment.voided"
        ]
    );
    // The committed units were put back, the approval voided; a second run finds nothing.
    assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
    assert_eq!(payment(&app, &id).await.unwrap()["status"], "voided");
    assert_eq!(sweep(&app).await["abandoned"], 0);
}

// What a checkout leaves when its reserve lands in the catalog after the call timed out and the
// compensating release fails too: a hold for an order id noted only on the buyer's idempotency
// key (no order was recorded). Recreated in both services' databases; the sweep must give the
// units back in its next run, not at the hold's 15-minute expiry. (The in-memory test
// `a_hold_left_by_an_unrecorded_attempt_is_released_once` makes the same state by failing the
// calls themselves.)
api_test_with!(
    options().variable("catalog_cache_ttl_secs", "0"),
    async fn the_sweep_gives_back_a_hold_no_recorded_order_owns(app) {
        let shop = Shop::open(&app).await;
        let s1 = seller();
        let lamp = shop.product(&app, &s1, "Lamp", 1999, 5).await;
        let buyer = customer();
        // A first run migrates orders' database (and finds nothing to do).
        assert_eq!(sweep(&app).await["stranded_released"], 0);
        let attempt = uuid::Uuid::new_v4();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        service_sql(&app, "catalog", &format!(
            "INSERT INTO reservations (order_id, state, created_at, expires_at, updated_at) \
             VALUES ('{attempt}', 'held', {now}, {}, {now});\n\
             INSERT INTO reservation_lines (order_id, position, product_id, seller_id, title, unit_amount, unit_currency, quantity) \
             VALUES ('{attempt}', 0, '{lamp}', '{}', 'Lamp', 1999, 'EUR', 2);\n\
             UPDATE products SET reserved = reserved + 2 WHERE id = '{lamp}'",
            now + 900_000, s1.id
        )).await;
        service_sql(&app, "orders", &format!(
            "INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, claim_id, order_id, locked_until, created_at, expires_at) \
             VALUES ('{}', 'stranded-key', 'fp', 'claim', '{attempt}', 0, {now}, {})",
            buyer.id, now + 86_400_000
        )).await;
        assert_eq!(stock(&app, &lamp).await, (5, 2, 3), "the stranded hold");

        let report = sweep(&app).await;
        assert_eq!(report["stranded_released"], 1, "{report}");
        assert_eq!(stock(&app, &lamp).await, (5, 0, 5));
        // Released once: the key no longer names the attempt.
        assert_eq!(sweep(&app).await["stranded_released"], 0);
        let key = service_sql(&app, "orders", "SELECT order_id FROM idempotency_keys WHERE idem_key = 'stranded-key'").await;
        assert_eq!(key, vec![vec![None]]);
    }
);

/// The test kit's teardown check can fail: a hold left in the catalog fails the test that left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "held stock reservation: 0190a000-0000-7000-8000-00000000dead")]
async fn a_test_that_leaves_a_held_reservation_fails_at_teardown() {
    let app =
        shopnow_testkit::TestApp::spawn_with(shopnow_testkit::Backend::Embedded, options()).await;
    // Any catalog request migrates its database.
    assert_eq!(
        app.get("/v1/categories").send().await.unwrap().status(),
        200
    );
    service_sql(
        &app,
        "catalog",
        "INSERT INTO reservations (order_id, state, created_at, expires_at, updated_at) \
         VALUES ('0190a000-0000-7000-8000-00000000dead', 'held', 1, 4102444800000, 1)",
    )
    .await;
}
