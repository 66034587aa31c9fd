//! `GET /v1/seller/events`: a seller's event feed — its new order lines, cancellations,
//! shipments, products and stock — oldest first, resumable from any cursor, and never another
//! seller's (docs/events.md, "Seller event feed"). Written by the orders consumers, so the
//! feed tests run the consumers beside the app.

use serde_json::Value;
use shopnow_testkit::{TestApp, assert_problem};

use crate::consumers::{EFFECT_WITHIN, eventually};
use crate::support::*;

/// The whole feed of `who` from `after`, `limit` entries a page, following `next_cursor`; also
/// the cursor to poll with next.
async fn feed(app: &TestApp, who: &Actor, after: &str, limit: u32) -> (Vec<Value>, String) {
    let mut all = Vec::new();
    let mut cursor = after.to_owned();
    loop {
        let path = format!("/v1/seller/events?after={cursor}&limit={limit}");
        let (status, page) = get_json(app, who, &path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let events = page["events"].as_array().unwrap().clone();
        assert!(events.len() <= limit as usize, "{page}");
        let next = page["next_cursor"].as_str().unwrap().to_owned();
        if let Some(last) = events.last() {
            assert_eq!(
                last["cursor"],
                next.as_str(),
                "next_cursor is the last entry's"
            );
        } else {
            assert_eq!(next, cursor, "an empty page hands the same cursor back");
        }
        all.extend(events);
        cursor = next;
        if page["has_more"] != true {
            return (all, cursor);
        }
    }
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

api_test_with!(options().with_consumers(), async fn a_seller_follows_its_orders_and_stock_in_its_own_feed_from_any_cursor(app) {
    if !app.has_event_log() {
        return;
    }
    let TwoSellers { s1, s2, lamp, rug, .. } = TwoSellers::open(&app).await;
    let buyer = customer();
    let both = place(&app, &buyer, &[(&lamp, 2), (&rug, 1)]).await;
    let both_id = both["id"].as_str().unwrap().to_owned();
    let lamp_only = place(&app, &buyer, &[(&lamp, 1)]).await;
    let lamp_only_id = lamp_only["id"].as_str().unwrap().to_owned();
    let fulfilment = lamp_only["fulfilments"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = post_json(&app, &s1, &format!("/v1/seller/fulfilments/{fulfilment}/ship"),
        Some(serde_json::json!({"tracking_number": "TRACK-1"}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_json(&app, &buyer, &format!("/v1/orders/{both_id}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");

    let events = eventually(EFFECT_WITHIN, "s1's feed complete", || async {
        let (events, _) = feed(&app, &s1, "0", 100).await;
        let restocked = events.iter().any(|e| e["type"] == "stock.changed" && e["data"]["reason"] == "restocked");
        (!of_type(&events, "order.cancelled").is_empty()
            && !of_type(&events, "fulfilment.shipped").is_empty()
            && restocked).then_some(events)
    }).await;

    // Oldest first, positions strictly increasing; an order's events in their order.
    let cursors: Vec<i64> = events.iter().map(|e| e["cursor"].as_str().unwrap().parse().unwrap()).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    let position = |kind: &str, order: &str| events.iter()
        .position(|e| e["type"] == kind && e["data"]["order_id"] == order).unwrap();
    assert!(position("order.placed", &both_id) < position("order.cancelled", &both_id));
    assert!(position("order.placed", &lamp_only_id) < position("fulfilment.shipped", &lamp_only_id));

    // s1's part of the shared order: its lamp line only, never the rug or the buyer's address.
    let placed = events[position("order.placed", &both_id)].clone();
    assert_eq!(placed["data"]["lines"], serde_json::json!([{"product_id": lamp, "title": "Lamp", "quantity": 2}]), "{placed}");
    assert!(placed["data"]["fulfilment_id"].is_string());
    let shipped = &events[position("fulfilment.shipped", &lamp_only_id)];
    assert_eq!(shipped["data"]["tracking_number"], "TRACK-1");
    assert!(of_type(&events, "product.created").iter().all(|e| e["data"]["product_id"] == lamp.as_str()));
    for event in &events {
        let text = event.to_string();
        assert!(!text.contains(&rug), "another seller's product in s1's feed: {event}");
        assert!(!text.contains(&s2.id), "{event}");
        assert!(!text.contains("Lovelace"), "no address in the feed: {event}");
        assert!(event["id"].is_string() && event["occurred_at"].is_string(), "{event}");
    }

    // Resumable from any cursor: page by page, or from the middle, the same entries.
    let (paged, last) = feed(&app, &s1, "0", 2).await;
    assert_eq!(paged, events[..paged.len()].to_vec());
    let middle = events[2]["cursor"].as_str().unwrap();
    let (rest, _) = feed(&app, &s1, middle, 100).await;
    assert_eq!(rest[0], events[3]);
    // Polling at the head: nothing new, the same cursor back.
    let (nothing, again) = feed(&app, &s1, &last, 10).await;
    assert!(nothing.is_empty() || nothing[0]["cursor"].as_str().unwrap().parse::<i64>().unwrap() > last.parse::<i64>().unwrap());
    if nothing.is_empty() {
        assert_eq!(again, last);
    }

    // s2 sees its rug in the shared order and its cancellation, and nothing of s1's.
    let (theirs, _) = feed(&app, &s2, "0", 100).await;
    let rug_placed = of_type(&theirs, "order.placed");
    assert_eq!(rug_placed.len(), 1, "{theirs:#?}");
    assert_eq!(rug_placed[0]["data"]["lines"], serde_json::json!([{"product_id": rug, "title": "Rug", "quantity": 1}]));
    assert!(!of_type(&theirs, "order.cancelled").is_empty());
    for event in &theirs {
        let text = event.to_string();
        assert!(!text.contains(&lamp) && !text.contains(&lamp_only_id), "s1's event in s2's feed: {event}");
    }
    // A seller's cursor opens nobody else's feed: s1's last position shows s2 only its own.
    let (from_s1_cursor, _) = feed(&app, &s2, &last, 100).await;
    assert!(from_s1_cursor.iter().all(|e| !e.to_string().contains(&lamp)));

    // Retention: s1's entries backdated by 91 days (7,862,400,000 ms) go with the next sweep;
    // s2's stay.
    service_sql(&app, "orders", &format!(
        "UPDATE seller_events SET occurred_at = occurred_at - 7862400000 WHERE seller_id = '{}'", s1.id)).await;
    let report = sweep(&app).await;
    assert!(report["seller_events_purged"].as_u64().unwrap() >= events.len() as u64, "{report}");
    let (after_purge, _) = feed(&app, &s1, "0", 100).await;
    assert!(after_purge.iter().all(|e| !events.contains(e)), "{after_purge:#?}");
    assert_eq!(feed(&app, &s2, "0", 100).await.0.len(), theirs.len());
});

orders_test!(async fn the_seller_feed_refuses_strangers_and_bad_cursors(app) {
    let resp = app.get("/v1/seller/events").send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    for who in [customer(), admin()] {
        let resp = app.get("/v1/seller/events").header("authorization", who.bearer()).send().await.unwrap();
        assert_problem(resp, 403, "forbidden").await;
    }
    let s = seller();
    for query in ["after=abc", "after=-1", "after=1e3", "cursor=5", "limit=many"] {
        let resp = app.get(&format!("/v1/seller/events?{query}")).header("authorization", s.bearer()).send().await.unwrap();
        assert_problem(resp, 400, "bad-request").await;
    }
    let resp = app.post("/v1/seller/events").header("authorization", s.bearer()).send().await.unwrap();
    assert_problem(resp, 405, "method-not-allowed").await;
    // A new seller's feed is empty, with a cursor to poll from.
    let (status, page) = get_json(&app, &s, "/v1/seller/events").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page, serde_json::json!({"events": [], "next_cursor": "0", "has_more": false}));
});
