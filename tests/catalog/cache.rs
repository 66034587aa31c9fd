//! The read-through product cache: a read never returns a product older than the last
//! successful write, and reads still answer when the key-value store fails.

use serde_json::{Value, json};
use shopnow_testkit::TestApp;

use crate::support::*;

async fn etag_of(app: &TestApp, id: &str) -> String {
    get_product(app, id, None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned()
}

catalog_test!(async fn every_write_is_visible_to_the_next_read(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = p["id"].as_str().unwrap();
    for round in 0..5 {
        // Warm the cache, then write, then read.
        let etag = etag_of(&app, id).await;
        let resp = app.patch(&format!("/v1/products/{id}")).header("authorization", a.seller.bearer())
            .header("if-match", &etag).json(&json!({"title": format!("Lamp {round}")})).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(product_json(&app, id, None).await["title"], format!("Lamp {round}"));
    }
    product_json(&app, id, None).await;
    assert_eq!(put_stock(&app, id, &a.seller, 20).await.status(), 200);
    assert_eq!(product_json(&app, id, None).await["stock"]["on_hand"], 20);
    let order = order_id();
    assert_eq!(reserve(&app, &order, &[(id, 3)]).await.status(), 201);
    assert_eq!(product_json(&app, id, None).await["stock"]["reserved"], 3);
    assert_eq!(commit(&app, &order).await.status(), 204);
    assert_eq!(product_json(&app, id, None).await["stock"], json!({"on_hand": 17, "reserved": 0, "available": 17}));
    let order = order_id();
    assert_eq!(reserve(&app, &order, &[(id, 2)]).await.status(), 201);
    product_json(&app, id, None).await;
    assert_eq!(release(&app, &order).await.status(), 204);
    assert_eq!(product_json(&app, id, None).await["stock"]["reserved"], 0);
    let resp = app.delete(&format!("/v1/products/{id}")).header("authorization", a.seller.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(get_product(&app, id, None).await.status(), 404);
});

catalog_test!(async fn readers_racing_writers_never_see_an_older_version_after_a_write_returns(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let app = std::sync::Arc::new(app);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Background readers keep re-populating the cache while the writer edits.
    let readers: Vec<_> = (0..3).map(|_| {
        let (app, id, stop) = (app.clone(), id.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = get_product(&app, &id, None).await;
            }
        })
    }).collect();
    for round in 0..10 {
        let resp = app.patch(&format!("/v1/products/{id}")).header("authorization", a.seller.bearer())
            .header("if-match", "*").json(&json!({"title": format!("Lamp {round}")})).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let written: Value = resp.json().await.unwrap();
        let read = product_json(&app, &id, None).await;
        assert!(read["version"].as_i64() >= written["version"].as_i64(), "round {round}: read {read} after writing {written}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
});

catalog_test!([("catalog_cache_store", "no-such-store")], async fn reads_and_writes_answer_when_the_cache_store_fails(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(product_json(&app, id, None).await["title"], "Lamp");
    assert_eq!(put_stock(&app, id, &a.seller, 4).await.status(), 200);
    assert_eq!(product_json(&app, id, None).await["stock"]["on_hand"], 4);
    assert_eq!(reserve(&app, &order_id(), &[(id, 1)]).await.status(), 201);
});

catalog_test!(async fn a_read_within_the_ttl_is_served_from_the_cache(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 10).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(product_json(&app, id, None).await["title"], "Lamp");
    // Behind the service's back (no invalidation): a cached read still shows the old title for
    // the cache's TTL (60 s by default), so the second read did not reach the database.
    service_sql(&app, "catalog", &format!("UPDATE products SET title = 'Changed' WHERE id = '{id}'")).await;
    assert_eq!(product_json(&app, id, None).await["title"], "Lamp", "the cache is not serving reads");
    // A write through the service invalidates it.
    assert_eq!(put_stock(&app, id, &a.seller, 20).await.status(), 200);
    assert_eq!(product_json(&app, id, None).await["title"], "Changed");
});
