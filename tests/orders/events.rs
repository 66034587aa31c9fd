//! Events between services (docs/events.md): every service writes its domain events to its
//! outbox with the change and relays them to the event log (Redis streams) after answering. A
//! journey through all three services must put every documented event on the log, each one
//! valid against its JSON Schema under `docs/events/schemas/`, in order per aggregate; a write
//! made while Redis is down still commits, and its event is relayed once Redis is back; the
//! operations routes refuse a caller without the events credential.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};
use shopnow_testkit::{TestApp, assert_problem, read_stream};

use crate::support::*;

/// `spin.toml`'s development credential for the events operations routes.
const EVENTS_TOKEN: &str = "dev-only-events-service-token";

/// The documented schema of `event_type`.
fn schema(event_type: &str) -> jsonschema::Validator {
    let path = shopnow_testkit::repo_root().join(format!("docs/events/schemas/{event_type}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "event type {event_type} has no schema at {}: {e}",
            path.display()
        )
    });
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{event_type}: bad schema: {e}"))
}

/// Asserts every event is valid against its type's schema, ids are unique, and versions rise
/// by one per aggregate in stream order.
fn assert_valid(events: &[Value]) {
    let mut validators: HashMap<String, jsonschema::Validator> = HashMap::new();
    let mut ids = HashSet::new();
    let mut versions: HashMap<(String, String), i64> = HashMap::new();
    for event in events {
        let event_type = event["type"]
            .as_str()
            .unwrap_or_else(|| panic!("no type: {event}"));
        let validator = validators
            .entry(event_type.to_owned())
            .or_insert_with(|| schema(event_type));
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{event_type} does not match its schema: {errors:?}\n{event:#}"
        );
        assert!(
            ids.insert(event["id"].as_str().unwrap().to_owned()),
            "duplicate id: {event}"
        );
        let key = (
            event["aggregate_type"].as_str().unwrap().to_owned(),
            event["aggregate_id"].as_str().unwrap().to_owned(),
        );
        let version = event["aggregate_version"].as_i64().unwrap();
        if let Some(previous) = versions.insert(key.clone(), version) {
            assert_eq!(
                version,
                previous + 1,
                "{key:?}: version {version} after {previous}"
            );
        } else {
            assert_eq!(version, 1, "{key:?}: first version {version}");
        }
    }
}

fn types_of(events: &[Value], aggregate_id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["aggregate_id"] == aggregate_id)
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn relayed(
    app: &TestApp,
    service: &str,
    aggregate_id: &str,
    expected: &[&str],
) -> Vec<Value> {
    let events = app
        .wait_for_events(service, Duration::from_secs(10), |events| {
            types_of(events, aggregate_id).len() >= expected.len()
        })
        .await
        .unwrap();
    assert_eq!(
        types_of(&events, aggregate_id),
        expected,
        "{service} stream: {events:#?}"
    );
    events
}

orders_test!(async fn a_journey_puts_every_event_on_the_log_matching_its_schema(app) {
    if !app.has_event_log() {
        return;
    }
    let buyer = sign_up(&app, &unique_email("customer"), "customer").await;
    let seller = sign_up(&app, &unique_email("seller"), "seller").await;
    let shop = Shop::open(&app).await;
    let lamp = shop.product(&app, &seller, "Brass lamp", 4500, 10).await;

    let resp = app.put(&format!("/v1/products/{lamp}/stock")).header("authorization", seller.bearer())
        .json(&json!({"on_hand": 12})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app.patch(&format!("/v1/products/{lamp}")).header("authorization", seller.bearer())
        .header("if-match", "*").json(&json!({"title": "Brass desk lamp"})).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let order = place(&app, &buyer, &[(&lamp, 2)]).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let (_, list) = get_json(&app, &seller, "/v1/seller/fulfilments").await;
    let fulfilment = list["fulfilments"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = post_json(&app, &seller, &format!("/v1/seller/fulfilments/{fulfilment}/ship"),
        Some(json!({"tracking_number": "TRACK-1"}))).await;
    assert_eq!(status, 200, "{body}");

    let resp = app.delete(&format!("/v1/products/{lamp}")).header("authorization", seller.bearer())
        .header("if-match", "*").send().await.unwrap();
    assert!(resp.status().is_success(), "archive: {}", resp.status());
    let resp = app.delete("/v1/users/me").header("authorization", buyer.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 204);

    let identity = relayed(&app, "identity", &buyer.id, &["user.registered", "user.erased"]).await;
    assert_eq!(types_of(&identity, &seller.id), ["user.registered"]);
    let registered = identity.iter().find(|e| e["aggregate_id"] == seller.id.as_str()).unwrap();
    assert_eq!(registered["data"], json!({"user_id": seller.id, "roles": ["seller"]}));
    assert!(!registered.to_string().contains('@'), "no address in an event: {registered}");

    let catalog = relayed(&app, "catalog", &lamp,
        &["product.created", "stock.changed", "product.updated", "stock.changed", "product.archived"]).await;
    let stock: Vec<(i64, &str)> = catalog.iter().filter(|e| e["type"] == "stock.changed")
        .map(|e| (e["data"]["on_hand"].as_i64().unwrap(), e["data"]["reason"].as_str().unwrap())).collect();
    assert_eq!(stock, [(12, "set"), (10, "sold")]);
    assert!(catalog.iter().all(|e| e["data"]["seller_id"] == seller.id.as_str()));

    let orders = relayed(&app, "orders", &order_id,
        &["order.created", "order.placed", "fulfilment.shipped", "order.shipped"]).await;
    let placed = orders.iter().find(|e| e["type"] == "order.placed").unwrap();
    assert_eq!(placed["data"]["seller_ids"], json!([seller.id]));
    assert_eq!(placed["data"]["total"], json!({"amount": 9000, "currency": "EUR"}));

    for events in [&identity, &catalog, &orders] {
        assert_valid(events);
    }
});

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Redis server of the test's own on `port`, stopped when dropped.
struct OwnRedis(std::process::Child);

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server (the Redis package provides it): {e}")
            });
        Self(child)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn events_op(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
) -> (u16, Value) {
    let mut req = app.client().request(method, app.url(path));
    if let Some(token) = token {
        req = req.header("authorization", format!("Service {token}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

api_test_with!(
    {
        let port = free_port();
        options()
            .variable("events_redis_url", &format!("redis://127.0.0.1:{port}"))
            .variable("events_redis_host", &format!("127.0.0.1:{port}"))
    },
    async fn a_write_while_redis_is_down_commits_and_its_event_is_relayed_when_redis_returns(app) {
        let url = app.event_log_url().unwrap().to_owned();
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        let user = register(&app, &unique_email("offline")).await;

        let stats = "/internal/v1/identity/events/stats";
        let (status, body) = events_op(&app, reqwest::Method::GET, stats, Some(EVENTS_TOKEN)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["outbox"]["pending"], 1, "{body}");
        assert_eq!(body["log"]["reachable"], false, "{body}");

        let _redis = OwnRedis::start(port);
        let relay = "/internal/v1/identity/events/relay";
        // Until the new Redis accepts connections (a loaded CI machine may take seconds).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let relayed = loop {
            let (status, body) = events_op(&app, reqwest::Method::POST, relay, Some(EVENTS_TOKEN)).await;
            if status == 200 || std::time::Instant::now() >= deadline {
                assert_eq!(status, 200, "the relay never succeeded: {body}");
                break body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // This call relayed it, or the relay that runs after an earlier attempt's 503 did (Redis
        // was up by then): either way once, and nothing left pending.
        assert!(relayed["relayed"] == 1 || relayed["relayed"] == 0, "{relayed}");
        assert_eq!(relayed["outbox"]["pending"], 0, "{relayed}");
        let events = read_stream(&url, &app.event_stream("identity")).await;
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0]["type"], "user.registered");
        assert_eq!(events[0]["aggregate_id"], user.id.as_str());
        assert_valid(&events);
    }
);

orders_test!(async fn the_events_routes_refuse_a_caller_without_the_events_credential(app) {
    for service in ["identity", "catalog", "orders"] {
        for (method, action) in [(reqwest::Method::GET, "stats"), (reqwest::Method::POST, "relay")] {
            let path = format!("/internal/v1/{service}/events/{action}");
            for token in [None, Some("dev-only-orders-service-token"), Some("wrong")] {
                let mut req = app.client().request(method.clone(), app.url(&path));
                if let Some(token) = token {
                    req = req.header("authorization", format!("Service {token}"));
                }
                let resp = req.send().await.unwrap();
                assert_problem(resp, 401, "invalid-service-credential").await;
            }
        }
        let (status, body) = events_op(&app, reqwest::Method::GET, &format!("/internal/v1/{service}/events/stats"), Some(EVENTS_TOKEN)).await;
        assert_eq!(status, 200, "{service}: {body}");
        assert!(body["outbox"]["pending"].is_i64(), "{service}: {body}");
    }
});
