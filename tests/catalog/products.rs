//! `/v1/products` and `/v1/products/{id}`: create, read with ETag, edit under If-Match, archive,
//! and who may do what.

use serde_json::{Value, json};
use shopnow_testkit::assert_problem;

use crate::support::*;

catalog_test!(async fn a_seller_creates_a_product_with_location_and_etag(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let resp = post_product(&app, &a.seller, &product_body(&cat, "Brass desk lamp", 4999, 7)).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(location, format!("/v1/products/{}", body["id"].as_str().unwrap()));
    assert_eq!(body["seller_id"], a.seller.id.as_str());
    assert_eq!(body["title"], "Brass desk lamp");
    assert_eq!(body["category_id"], cat.as_str());
    assert_eq!(body["price"], json!({"amount": 4999, "currency": "EUR"}));
    assert_eq!(body["attributes"], json!({"colour": "brass", "dimmable": true, "watts": 40}));
    assert_eq!(body["stock"], json!({"on_hand": 7, "reserved": 0, "available": 7}));
    assert_eq!(body["status"], "active");
    assert_eq!(body["version"], 1);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    let got = get_product(&app, body["id"].as_str().unwrap(), None).await;
    assert_eq!(got.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(got.json::<Value>().await.unwrap(), body);
});

catalog_test!(async fn an_admin_may_create_products_but_a_customer_may_not(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let resp = post_product(&app, &a.admin, &product_body(&cat, "Admin lamp", 100, 1)).await;
    assert_eq!(resp.status(), 201);
    let resp = post_product(&app, &a.customer, &product_body(&cat, "Lamp", 100, 1)).await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = app.post("/v1/products").json(&product_body(&cat, "Lamp", 100, 1)).send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
});

catalog_test!(async fn creation_reports_every_bad_field_at_once(app) {
    let a = actors(&app).await;
    let resp = post_product(&app, &a.seller, &json!({
        "title": "",
        "category_id": "00000000-0000-7000-8000-000000000000",
        "price": {"amount": -5, "currency": "EUX", "tax": 1},
        "attributes": {"nested": {"no": 1}},
        "stock": {"on_hand": -1},
        "seller_id": "someone-else"
    })).await;
    let body = assert_problem(resp, 422, "validation-failed").await;
    let mut fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["attributes", "description", "price.currency", "price.tax", "seller_id", "stock.on_hand", "title"]);
    // The category is checked once the body is valid.
    let resp = post_product(&app, &a.seller, &product_body("00000000-0000-7000-8000-000000000000", "Lamp", 5, 1)).await;
    let body = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "category_id");
});

catalog_test!(async fn attribute_limits_are_enforced(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let many: serde_json::Map<String, Value> = (0..33).map(|i| (format!("k{i}"), json!(i))).collect();
    for attributes in [json!(many), json!({"Bad Key": 1}), json!({"a": "x".repeat(201)}), json!([1, 2])] {
        let mut body = product_body(&cat, "Lamp", 100, 1);
        body["attributes"] = attributes;
        let resp = post_product(&app, &a.seller, &body).await;
        let problem = assert_problem(resp, 422, "validation-failed").await;
        assert_eq!(problem["errors"][0]["field"], "attributes");
    }
});

catalog_test!(async fn malformed_and_wrongly_typed_bodies_are_refused(app) {
    let a = actors(&app).await;
    let resp = app.post("/v1/products").header("authorization", a.seller.bearer())
        .header("content-type", "application/json").body("{").send().await.unwrap();
    assert_problem(resp, 400, "malformed-body").await;
    let resp = app.post("/v1/products").header("authorization", a.seller.bearer())
        .header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_problem(resp, 415, "unsupported-media-type").await;
});

catalog_test!(async fn unknown_products_are_404(app) {
    let resp = get_product(&app, "0190a000-0000-7000-8000-000000000001", None).await;
    assert_problem(resp, 404, "not-found").await;
    let resp = get_product(&app, "not-an-id", None).await;
    assert_problem(resp, 404, "not-found").await;
});

catalog_test!(async fn if_none_match_answers_304(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 3).await;
    let id = p["id"].as_str().unwrap();
    let etag = get_product(&app, id, None).await.headers()["etag"].to_str().unwrap().to_owned();
    let resp = app.get(&format!("/v1/products/{id}")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    let resp = app.get(&format!("/v1/products/{id}")).header("if-none-match", "\"0.0.0\"").send().await.unwrap();
    assert_eq!(resp.status(), 200);
});

async fn patch(
    app: &shopnow_testkit::TestApp,
    id: &str,
    who: &Actor,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = app
        .patch(&format!("/v1/products/{id}"))
        .header("authorization", who.bearer())
        .json(&body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

catalog_test!(async fn patch_needs_if_match_and_refuses_stale_tags(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 3).await;
    let id = p["id"].as_str().unwrap();
    let etag = get_product(&app, id, None).await.headers()["etag"].to_str().unwrap().to_owned();

    let resp = patch(&app, id, &a.seller, None, json!({"title": "Lamp II"})).await;
    assert_problem(resp, 428, "precondition-required").await;

    let resp = patch(&app, id, &a.seller, Some(&etag), json!({"title": "Lamp II", "price": {"amount": 150, "currency": "EUR"}})).await;
    assert_eq!(resp.status(), 200);
    let new_etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["title"], "Lamp II");
    assert_eq!(body["price"]["amount"], 150);
    assert_eq!(body["version"], 2);
    assert_eq!(body["description"], p["description"]);
    assert_ne!(new_etag, etag);

    let resp = patch(&app, id, &a.seller, Some(&etag), json!({"title": "Lost update"})).await;
    assert_problem(resp, 412, "precondition-failed").await;
    assert_eq!(product_json(&app, id, None).await["title"], "Lamp II");
});

catalog_test!(async fn patch_refuses_read_only_unknown_and_null_fields(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 3).await;
    let id = p["id"].as_str().unwrap();
    let resp = patch(&app, id, &a.seller, Some("*"), json!({
        "seller_id": a.other_seller.id, "id": "x", "version": 9, "stock": {"on_hand": 1},
        "colour": "red", "title": null
    })).await;
    let body = assert_problem(resp, 422, "validation-failed").await;
    let mut fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["colour", "id", "seller_id", "stock", "title", "version"]);
    let resp = patch(&app, id, &a.seller, Some("*"), json!({})).await;
    assert_problem(resp, 422, "validation-failed").await;
    let after = product_json(&app, id, None).await;
    assert_eq!((after["version"].as_i64(), after["seller_id"].as_str()), (Some(1), Some(a.seller.id.as_str())));
});

catalog_test!(async fn only_the_owner_or_an_admin_may_write(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 3).await;
    let id = p["id"].as_str().unwrap();
    for stranger in [&a.other_seller, &a.customer] {
        let resp = patch(&app, id, stranger, Some("*"), json!({"title": "Mine"})).await;
        assert_problem(resp, 403, "forbidden").await;
        assert_problem(put_stock(&app, id, stranger, 1).await, 403, "forbidden").await;
        let resp = app.delete(&format!("/v1/products/{id}")).header("authorization", stranger.bearer()).send().await.unwrap();
        assert_problem(resp, 403, "forbidden").await;
    }
    let resp = app.patch(&format!("/v1/products/{id}")).header("if-match", "*").json(&json!({"title": "x"})).send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = app.delete(&format!("/v1/products/{id}")).send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = patch(&app, id, &a.admin, Some("*"), json!({"title": "Curated"})).await;
    assert_eq!(resp.status(), 200);
});

catalog_test!(async fn archived_products_are_hidden_from_everyone_but_their_seller_and_admins(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let p = product(&app, &a.seller, &cat, "Lamp", 100, 3).await;
    let id = p["id"].as_str().unwrap();
    let resp = app.delete(&format!("/v1/products/{id}")).header("authorization", a.seller.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    // Idempotent.
    let resp = app.delete(&format!("/v1/products/{id}")).header("authorization", a.seller.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 204);

    assert_problem(get_product(&app, id, None).await, 404, "not-found").await;
    assert_problem(get_product(&app, id, Some(&a.customer)).await, 404, "not-found").await;
    assert_problem(get_product(&app, id, Some(&a.other_seller)).await, 404, "not-found").await;
    assert_eq!(product_json(&app, id, Some(&a.seller)).await["status"], "archived");
    assert_eq!(product_json(&app, id, Some(&a.admin)).await["status"], "archived");

    // Writes by another seller are still 403; the owner cannot edit or restock an archived one.
    assert_problem(put_stock(&app, id, &a.other_seller, 1).await, 403, "forbidden").await;
    assert_problem(put_stock(&app, id, &a.seller, 1).await, 409, "conflict").await;
    let resp = patch(&app, id, &a.seller, Some("*"), json!({"title": "Back"})).await;
    assert_problem(resp, 409, "conflict").await;

    // Gone from listings.
    let list: Value = app.get(&format!("/v1/products?seller={}", a.seller.id)).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"], json!([]));
});

catalog_test!(async fn a_bad_token_on_a_public_read_is_401_not_anonymous(app) {
    let resp = app.get("/v1/products/0190a000-0000-7000-8000-000000000001")
        .header("authorization", "Bearer not-a-token").send().await.unwrap();
    assert_problem(resp, 401, "invalid-token").await;
});

catalog_test!(async fn wrong_methods_are_405(app) {
    let resp = app.put("/v1/products").send().await.unwrap();
    let problem = assert_problem(resp, 405, "method-not-allowed").await;
    assert!(problem["detail"].as_str().unwrap().contains("GET"));
});

catalog_test!(async fn a_batch_read_returns_the_visible_products_in_the_order_asked(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let lamp = product(&app, &a.seller, &cat, "Lamp", 100, 3).await["id"].as_str().unwrap().to_owned();
    let rug = product(&app, &a.seller, &cat, "Rug", 500, 0).await["id"].as_str().unwrap().to_owned();
    let gone = product(&app, &a.seller, &cat, "Gone", 200, 1).await["id"].as_str().unwrap().to_owned();
    let resp = app.delete(&format!("/v1/products/{gone}")).header("authorization", a.seller.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let unknown = "0190a000-0000-7000-8000-00000000beef";
    let ids = format!("{rug},{unknown},{lamp},{rug},{gone}");
    let batch = |who: Option<&Actor>| {
        let mut req = app.get(&format!("/v1/products?ids={ids}"));
        if let Some(who) = who {
            req = req.header("authorization", who.bearer());
        }
        async move { req.send().await.unwrap() }
    };
    let resp = batch(None).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let got: Vec<&str> = body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(got, [rug.as_str(), lamp.as_str()], "{body}");
    assert_eq!(body["next_cursor"], Value::Null);
    assert_eq!(body["items"][0]["stock"]["available"], 0);
    // Its seller also sees the archived one; a customer does not.
    let owner: Value = batch(Some(&a.seller)).await.json().await.unwrap();
    assert_eq!(owner["items"].as_array().unwrap().len(), 3);
    let customer: Value = batch(Some(&a.customer)).await.json().await.unwrap();
    assert_eq!(customer["items"].as_array().unwrap().len(), 2);
    // `ids` goes alone, holds ids only, at most 100.
    for bad in [
        format!("/v1/products?ids={lamp}&q=lamp"),
        "/v1/products?ids=not-an-id".to_owned(),
        "/v1/products?ids=".to_owned(),
        format!("/v1/products?ids={}", vec![lamp.as_str(); 101].join(",")),
    ] {
        assert_problem(app.get(&bad).send().await.unwrap(), 400, "bad-request").await;
    }
});
