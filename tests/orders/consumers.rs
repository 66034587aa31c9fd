//! Consumers of the events (docs/events.md, "Consumers"): orders and catalog apply identity's
//! `user.erased` from the event log in their own process (`spin-consumers.toml`, woken by the
//! relay's PUBLISH), exactly once per event — whatever the delivery count, a consumer that was
//! down, a relay that published and never marked, or an entry that can never be applied (parked,
//! visible, replayable).

use std::time::Duration;

use serde_json::{Value, json};
use shopnow_testkit::{TestApp, append_to_stream, assert_problem};

use crate::support::*;

/// `spin.toml`'s development credential for the events operations routes.
const EVENTS_TOKEN: &str = "dev-only-events-service-token";

/// How long a test waits for an effect that should take milliseconds.
pub(crate) const EFFECT_WITHIN: Duration = Duration::from_secs(15);

async fn events_op(app: &TestApp, method: reqwest::Method, path: &str) -> (u16, Value) {
    let resp = app
        .client()
        .request(method, app.url(path))
        .header("authorization", format!("Service {EVENTS_TOKEN}"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The catch-up a scheduler calls: `service` consumes what waits for it now. A 503 (its
/// database busy with the consumer process's own round, on SQLite) is retried for a while, as a
/// scheduler would on its next run.
async fn consume(app: &TestApp, service: &str) -> Value {
    let path = format!("/internal/v1/{service}/events/consume");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = events_op(app, reqwest::Method::POST, &path).await;
        if status != 503 || std::time::Instant::now() >= deadline {
            assert_eq!(status, 200, "{service} consume: {body}");
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `service`'s consumer reading identity's stream, as its stats route shows it.
async fn identity_consumer(app: &TestApp, service: &str) -> Value {
    let (status, body) = events_op(
        app,
        reqwest::Method::GET,
        &format!("/internal/v1/{service}/events/stats"),
    )
    .await;
    assert_eq!(status, 200, "{service} stats: {body}");
    let consumers = body["consumers"].as_array().unwrap();
    consumers
        .iter()
        .find(|c| c["name"] == format!("{service}.identity"))
        .unwrap_or_else(|| panic!("{service} has no identity consumer: {body}"))
        .clone()
}

/// Polls `check` until it returns `Some` or `within` passes.
pub(crate) async fn eventually<T, F, Fut>(within: Duration, what: &str, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn erase(app: &TestApp, who: &Actor) {
    let resp = app
        .delete("/v1/users/me")
        .header("authorization", who.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "erase {}", who.id);
}

async fn admin_order(app: &TestApp, order_id: &str) -> Value {
    let (status, body) = get_json(app, &admin(), &format!("/v1/orders/{order_id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn redacted(order: &Value) -> bool {
    order["shipping_address"]["name"] == "[redacted]"
}

/// The personal parts of [`address`] must be gone, the country and the accounting stay.
fn assert_redacted(order: &Value, before: &Value) {
    let text = order["shipping_address"].to_string();
    for personal in ["Ada", "Lovelace", "James", "London", "SW1Y"] {
        assert!(!text.contains(personal), "{personal} left in {text}");
    }
    assert_eq!(
        order["shipping_address"],
        json!({"name": "[redacted]", "line1": "[redacted]", "city": "[redacted]",
            "postal_code": "[redacted]", "country": "GB"})
    );
    for kept in ["id", "status", "total", "lines", "buyer_id", "created_at"] {
        assert_eq!(order[kept], before[kept], "{kept} changed by the redaction");
    }
}

api_test_with!(options().with_consumers(), async fn erasing_an_account_redacts_its_orders_and_archives_its_products(app) {
    if !app.has_event_log() {
        return;
    }
    let buyer = sign_up(&app, &unique_email("erased-buyer"), "customer").await;
    let other = sign_up(&app, &unique_email("kept-buyer"), "customer").await;
    let seller = sign_up(&app, &unique_email("erased-seller"), "seller").await;
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller, "Brass lamp", 4500, 10).await;
    let rug = shop.product(&app, &seller, "Wool rug", 9000, 3).await;
    let order = place(&app, &buyer, &[(&lamp, 2)]).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let kept = place(&app, &other, &[(&rug, 1)]).await;
    let before = admin_order(&app, &order_id).await;
    assert!(!redacted(&before));

    erase(&app, &buyer).await;
    let after = eventually(EFFECT_WITHIN, "the buyer's order redacted", || async {
        let order = admin_order(&app, &order_id).await;
        redacted(&order).then_some(order)
    })
    .await;
    assert_redacted(&after, &before);
    // The seller who ships it sees the redaction too; another buyer's order is untouched.
    let (_, list) = get_json(&app, &seller, "/v1/seller/fulfilments").await;
    let shipping: Vec<&Value> = list["fulfilments"].as_array().unwrap().iter()
        .filter(|f| f["order_id"] == order_id.as_str()).collect();
    assert!(!shipping.is_empty(), "{list}");
    for f in shipping {
        assert!(!f.to_string().contains("Lovelace"), "{f}");
    }
    let untouched = admin_order(&app, kept["id"].as_str().unwrap()).await;
    assert_eq!(untouched["shipping_address"]["name"], "Ada Lovelace");

    erase(&app, &seller).await;
    for product in [&lamp, &rug] {
        eventually(EFFECT_WITHIN, "the seller's products archived", || async {
            let (status, body) = get_json(&app, &admin(), &format!("/v1/products/{product}")).await;
            assert_eq!(status, 200, "{body}");
            (body["status"] == "archived").then_some(())
        })
        .await;
        // Gone from the shop for everyone else.
        let resp = app.get(&format!("/v1/products/{product}")).send().await.unwrap();
        assert_problem(resp, 404, "not-found").await;
    }
    let catalog = app.wait_for_events("catalog", EFFECT_WITHIN, |events| {
        events.iter().filter(|e| e["type"] == "product.archived").count() >= 2
    }).await.unwrap();
    let archived: Vec<&Value> = catalog.iter().filter(|e| e["type"] == "product.archived").collect();
    assert_eq!(archived.len(), 2, "{catalog:#?}");
    assert!(archived.iter().all(|e| e["data"]["seller_id"] == seller.id.as_str()));

    for service in ["orders", "catalog"] {
        let consumer = eventually(EFFECT_WITHIN, "the consumer caught up", || async {
            let c = identity_consumer(&app, service).await;
            (c["behind"] == false).then_some(c)
        })
        .await;
        assert_eq!(consumer["lag_ms"], 0, "{consumer}");
        assert_eq!(consumer["parked"], 0, "{consumer}");
        // Three registrations and two erasures: each applied (recorded) once.
        assert_eq!(consumer["applied"], 5, "{service}: {consumer}");
    }
});

api_test_with!(
    options(),
    async fn a_consumer_that_was_down_applies_every_erasure_once_when_it_returns(app) {
        if !app.has_event_log() {
            return;
        }
        let shop = Shop::open(&app).await;
        let sellers = [seller(), seller()];
        let lamp = shop.product(&app, &sellers[0], "Lamp", 1000, 1000).await;
        let rug = shop.product(&app, &sellers[1], "Rug", 2000, 1000).await;
        // 100 orders from 5 real accounts, all erased while no consumer runs.
        let mut buyers = Vec::new();
        for n in 0..5 {
            buyers.push(sign_up(&app, &unique_email(&format!("down-{n}")), "customer").await);
        }
        let mut orders = Vec::new();
        for n in 0..100 {
            let buyer = &buyers[n % buyers.len()];
            let product = if n % 2 == 0 { &lamp } else { &rug };
            let order = place(&app, buyer, &[(product, 1)]).await;
            orders.push(order["id"].as_str().unwrap().to_owned());
        }
        for buyer in &buyers {
            erase(&app, buyer).await;
        }
        app.wait_for_events("identity", EFFECT_WITHIN, |events| {
            events.iter().filter(|e| e["type"] == "user.erased").count() == buyers.len()
        })
        .await
        .unwrap();
        let waiting = identity_consumer(&app, "orders").await;
        assert_eq!(waiting["behind"], true, "{waiting}");
        assert!(waiting["lag_ms"].as_i64().unwrap() >= 0, "{waiting}");
        assert!(!redacted(&admin_order(&app, &orders[0]).await));

        app.start_consumers().await;
        // The consumers were not subscribed when the relay published: the scheduler's catch-up
        // finds the backlog (and a later publish would wake them too).
        let report = consume(&app, "orders").await;
        let applied = report["consumers"][0]["report"]["applied"].as_u64().unwrap();
        for id in &orders {
            let order = admin_order(&app, id).await;
            assert!(redacted(&order), "order {id} not redacted: {order}");
        }
        // Every identity event (5 registrations, 5 erasures) applied exactly once, whichever of
        // the catch-up and the woken consumer got there first.
        let consumer = identity_consumer(&app, "orders").await;
        assert_eq!(consumer["applied"], 10, "{consumer} after catch-up {report}");
        assert!(applied <= 10, "{report}");
        assert_eq!(consumer["behind"], false, "{consumer}");
        let again = consume(&app, "orders").await;
        assert_eq!(again["consumers"][0]["report"]["applied"], 0, "{again}");
        // Catalog missed the 100 placements too: after its catch-up each product counts exactly
        // its 50 units, and each order event was applied once.
        consume(&app, "catalog").await;
        wait_units_sold(&app, &[(lamp.as_str(), 50), (rug.as_str(), 50)]).await;
        let catalog = consume(&app, "catalog").await;
        assert!(
            catalog["consumers"].as_array().unwrap().iter().all(|c| c["report"]["applied"] == 0),
            "nothing left to apply: {catalog}"
        );
    }
);

api_test_with!(options().with_consumers(), async fn a_relay_that_published_but_never_marked_is_delivered_twice_and_applied_once(app) {
    if !app.has_event_log() {
        return;
    }
    let buyer = sign_up(&app, &unique_email("twice"), "customer").await;
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1000, 10).await;
    let order = place(&app, &buyer, &[(&lamp, 1)]).await;
    erase(&app, &buyer).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    eventually(EFFECT_WITHIN, "the order redacted", || async {
        redacted(&admin_order(&app, &order_id).await).then_some(())
    })
    .await;
    let applied_before = identity_consumer(&app, "orders").await["applied"].as_i64().unwrap();
    // The state a relay killed between XADD and its mark leaves: relayed rows not marked.
    service_sql(&app, "identity", "UPDATE event_outbox SET relayed_at = NULL").await;
    let (status, body) = events_op(&app, reqwest::Method::POST, "/internal/v1/identity/events/relay").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["relayed"], 2, "{body}");
    let events = app.relayed_events("identity").await.unwrap();
    assert_eq!(events.len(), 4, "each event twice on the log: {events:#?}");

    let consumer = eventually(EFFECT_WITHIN, "the duplicates consumed", || async {
        consume(&app, "orders").await;
        let c = identity_consumer(&app, "orders").await;
        (c["behind"] == false).then_some(c)
    })
    .await;
    assert_eq!(consumer["applied"], applied_before, "a duplicate was applied again: {consumer}");
    assert_eq!(consumer["parked"], 0, "{consumer}");
    assert!(redacted(&admin_order(&app, &order_id).await));
});

api_test_with!(options().with_consumers(), async fn an_event_that_can_never_be_applied_is_parked_visibly_and_the_rest_flow_past_it(app) {
    if !app.has_event_log() {
        return;
    }
    let stream = app.event_stream("identity");
    // An erasure without its user id: a payload that breaks its schema.
    let broken = json!({"id": uuid::Uuid::new_v4().to_string(), "type": "user.erased",
        "schema_version": 1, "source": "identity", "aggregate_type": "user",
        "aggregate_id": "nobody", "aggregate_version": 1, "occurred_at_ms": 1, "data": {}});
    append_to_stream(app.event_log_url().unwrap(), &stream, &broken.to_string()).await;
    let parked = eventually(EFFECT_WITHIN, "the broken event parked", || async {
        consume(&app, "orders").await;
        let c = identity_consumer(&app, "orders").await;
        (c["parked"] == 1).then_some(c)
    })
    .await;
    let entry = &parked["parked_entries"][0];
    assert_eq!(entry["event_id"], broken["id"], "{parked}");
    assert_eq!(entry["event_type"], "user.erased");
    assert_eq!(entry["failures"], 5, "parked after five failures: {parked}");
    assert!(entry["last_error"].as_str().unwrap().contains("user_id"), "{parked}");
    assert_eq!(parked["retrying"], 0);

    // Events after it are applied.
    let buyer = sign_up(&app, &unique_email("after-poison"), "customer").await;
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller(), "Lamp", 1000, 10).await;
    let order = place(&app, &buyer, &[(&lamp, 1)]).await;
    erase(&app, &buyer).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    eventually(EFFECT_WITHIN, "a later erasure applied", || async {
        consume(&app, "orders").await;
        redacted(&admin_order(&app, &order_id).await).then_some(())
    })
    .await;

    // Replaying it fails again (the payload is still broken) and it stays parked; an entry that
    // is not parked, or a consumer that does not exist, is 404.
    let entry_id = entry["entry_id"].as_str().unwrap();
    let replay = format!("/internal/v1/orders/events/consumers/orders.identity/parked/{entry_id}/replay");
    let (status, body) = events_op(&app, reqwest::Method::POST, &replay).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(identity_consumer(&app, "orders").await["parked"], 1);
    for missing in [
        "/internal/v1/orders/events/consumers/orders.identity/parked/1-0/replay".to_owned(),
        format!("/internal/v1/orders/events/consumers/orders.nobody/parked/{entry_id}/replay"),
    ] {
        let (status, body) = events_op(&app, reqwest::Method::POST, &missing).await;
        assert_eq!(status, 404, "{missing}: {body}");
    }
});

orders_test!(async fn the_consumer_routes_refuse_a_caller_without_the_events_credential(app) {
    for service in ["catalog", "orders"] {
        for path in [
            format!("/internal/v1/{service}/events/consume"),
            format!("/internal/v1/{service}/events/consumers/{service}.identity/parked/1-0/replay"),
        ] {
            for token in [None, Some("dev-only-orders-service-token"), Some("wrong")] {
                let mut req = app.client().post(app.url(&path));
                if let Some(token) = token {
                    req = req.header("authorization", format!("Service {token}"));
                }
                assert_problem(req.send().await.unwrap(), 401, "invalid-service-credential").await;
            }
            let resp = app.client().get(app.url(&path))
                .header("authorization", format!("Service {EVENTS_TOKEN}")).send().await.unwrap();
            assert_problem(resp, 405, "method-not-allowed").await;
        }
    }
    // A consumer that never ran has nothing parked: 404, not an error.
    for path in ["/internal/v1/catalog/events/consumers/catalog.orders/parked/1-0/replay",
        "/internal/v1/orders/events/consumers/orders.catalog/parked/1-0/replay"] {
        let resp = app.client().post(app.url(path))
            .header("authorization", format!("Service {EVENTS_TOKEN}")).send().await.unwrap();
        assert_problem(resp, 404, "not-found").await;
    }
    // Identity consumes nothing: it has no such routes.
    let resp = app.client().post(app.url("/internal/v1/identity/events/consume"))
        .header("authorization", format!("Service {EVENTS_TOKEN}")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
});

/// A product's units sold as the catalog shows it (admin view: archived ones too).
async fn units_sold(app: &TestApp, product_id: &str) -> i64 {
    let (status, body) = get_json(app, &admin(), &format!("/v1/products/{product_id}")).await;
    assert_eq!(status, 200, "{body}");
    body["units_sold"].as_i64().unwrap()
}

/// Waits until each `(product, units)` shows those units sold.
async fn wait_units_sold(app: &TestApp, expected: &[(&str, i64)]) {
    eventually(EFFECT_WITHIN, "the sales counts", || async {
        let mut seen = Vec::new();
        for (product, _) in expected {
            seen.push(units_sold(app, product).await);
        }
        let want: Vec<i64> = expected.iter().map(|(_, n)| *n).collect();
        (seen == want).then_some(())
    })
    .await;
}

/// The ids of a seller's products, `sort=bestselling`, read one per page through the cursor.
async fn bestselling(app: &TestApp, seller_id: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/products?sort=bestselling&seller={seller_id}&limit=1");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let resp = app.get(&path).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let page: Value = resp.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

api_test_with!(options().with_consumers(), async fn sales_counts_are_exact_after_duplicates_and_out_of_order_redelivery(app) {
    if !app.has_event_log() {
        return;
    }
    let shop = Shop::open(&app).await;
    let seller = seller();
    let lamp = shop.product(&app, &seller, "Lamp", 1000, 100).await;
    let rug = shop.product(&app, &seller, "Rug", 2000, 100).await;
    let vase = shop.product(&app, &seller, "Vase", 3000, 100).await;
    let buyer = customer();
    let mut placed = Vec::new();
    for items in [
        vec![(lamp.as_str(), 2)],
        vec![(lamp.as_str(), 1), (rug.as_str(), 3)],
        vec![(rug.as_str(), 4)],
        vec![(vase.as_str(), 1)],
        vec![(rug.as_str(), 1), (vase.as_str(), 1)],
    ] {
        placed.push(place(&app, &buyer, &items).await["id"].as_str().unwrap().to_owned());
    }
    // Cancelling the second order takes its lamp and three rugs back out of the counts.
    let (status, body) = post_json(&app, &buyer, &format!("/v1/orders/{}/cancel", placed[1]), None).await;
    assert_eq!(status, 200, "{body}");
    let expected = [(lamp.as_str(), 2), (rug.as_str(), 5), (vase.as_str(), 2)];
    wait_units_sold(&app, &expected).await;
    // Most sold first, through the cursor one product a page.
    assert_eq!(bestselling(&app, &seller.id).await, [rug.clone(), vase.clone(), lamp.clone()]);
    let consumer = eventually(EFFECT_WITHIN, "catalog caught up with orders", || async {
        let (status, body) = events_op(&app, reqwest::Method::GET, "/internal/v1/catalog/events/stats").await;
        assert_eq!(status, 200, "{body}");
        let c = body["consumers"].as_array().unwrap().iter()
            .find(|c| c["name"] == "catalog.orders").cloned().unwrap();
        (c["behind"] == false).then_some(c)
    }).await;
    let applied = consumer["applied"].as_i64().unwrap();

    // The whole orders stream again, twice, newest first: every entry a duplicate, delivered
    // out of order.
    let url = app.event_log_url().unwrap().to_owned();
    let stream = app.event_stream("orders");
    let events = app.relayed_events("orders").await.unwrap();
    assert!(events.iter().filter(|e| e["type"] == "order.placed").count() == 5, "{events:#?}");
    for _ in 0..2 {
        for event in events.iter().rev() {
            append_to_stream(&url, &stream, &event.to_string()).await;
        }
    }
    // A placement and its cancellation never seen before, the cancellation first.
    let order_id = uuid::Uuid::new_v4().to_string();
    let lines = json!([{"product_id": lamp, "quantity": 7}]);
    let envelope = |kind: &str, version: i64, data: Value| json!({
        "id": uuid::Uuid::new_v4().to_string(), "type": kind, "schema_version": 1,
        "source": "orders", "aggregate_type": "order", "aggregate_id": order_id,
        "aggregate_version": version, "occurred_at_ms": 1, "data": data});
    append_to_stream(&url, &stream, &envelope("order.cancelled", 3,
        json!({"order_id": order_id, "lines": lines})).to_string()).await;
    append_to_stream(&url, &stream, &envelope("order.placed", 2, json!({"order_id": order_id,
        "buyer_id": buyer.id, "total": {"amount": 7000, "currency": "EUR"},
        "seller_ids": [seller.id], "lines": lines})).to_string()).await;
    // A cancellation of an order whose placement the log no longer holds (placed before its
    // oldest entry): never counted, so nothing is subtracted.
    let forgotten = uuid::Uuid::new_v4().to_string();
    append_to_stream(&url, &stream, &json!({
        "id": uuid::Uuid::new_v4().to_string(), "type": "order.cancelled", "schema_version": 1,
        "source": "orders", "aggregate_type": "order", "aggregate_id": forgotten,
        "aggregate_version": 3, "occurred_at_ms": 1,
        "data": {"order_id": forgotten, "lines": [{"product_id": rug, "quantity": 4}]}}).to_string()).await;
    let consumer = eventually(EFFECT_WITHIN, "the redelivery consumed", || async {
        consume(&app, "catalog").await;
        let (_, body) = events_op(&app, reqwest::Method::GET, "/internal/v1/catalog/events/stats").await;
        let c = body["consumers"].as_array().unwrap().iter()
            .find(|c| c["name"] == "catalog.orders").cloned().unwrap();
        (c["behind"] == false).then_some(c)
    }).await;
    assert_eq!(consumer["applied"].as_i64().unwrap(), applied + 3, "only the three new events: {consumer}");
    assert_eq!(consumer["parked"], 0, "{consumer}");
    for (product, units) in expected {
        assert_eq!(units_sold(&app, product).await, units, "{product}");
    }
    assert_eq!(bestselling(&app, &seller.id).await, [rug, vase, lamp]);
});
