//! `/v1/categories`.

use serde_json::{Value, json};
use shopnow_testkit::assert_problem;

use crate::support::*;

catalog_test!(async fn admins_create_categories_and_anyone_lists_them(app) {
    let a = actors(&app).await;
    let parent_slug = slug("lighting");
    let resp = app.post("/v1/categories").header("authorization", a.admin.bearer())
        .json(&json!({"slug": parent_slug, "name": "Lighting"})).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let parent: Value = resp.json().await.unwrap();
    let resp = app.post("/v1/categories").header("authorization", a.admin.bearer())
        .json(&json!({"slug": slug("lamps"), "name": "Lamps", "parent_id": parent["id"]})).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let child: Value = resp.json().await.unwrap();
    assert_eq!(child["parent_id"], parent["id"]);
    let list: Value = app.get("/v1/categories").send().await.unwrap().json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.contains(&parent) && items.contains(&child));
});

catalog_test!(async fn category_slugs_are_unique(app) {
    let a = actors(&app).await;
    let s = slug("dup");
    let post = || app.post("/v1/categories").header("authorization", a.admin.bearer()).json(&json!({"slug": s, "name": "Dup"})).send();
    assert_eq!(post().await.unwrap().status(), 201);
    assert_problem(post().await.unwrap(), 409, "conflict").await;
});

catalog_test!(async fn only_admins_create_categories(app) {
    let a = actors(&app).await;
    for who in [&a.seller, &a.customer] {
        let resp = app.post("/v1/categories").header("authorization", who.bearer())
            .json(&json!({"slug": slug("x"), "name": "X"})).send().await.unwrap();
        assert_problem(resp, 403, "forbidden").await;
    }
    let resp = app.post("/v1/categories").json(&json!({"slug": "x", "name": "X"})).send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
});

catalog_test!(async fn category_bodies_are_validated(app) {
    let a = actors(&app).await;
    let resp = app.post("/v1/categories").header("authorization", a.admin.bearer())
        .json(&json!({"slug": "Bad Slug", "name": "", "colour": "red"})).send().await.unwrap();
    let problem = assert_problem(resp, 422, "validation-failed").await;
    let mut fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["colour", "name", "slug"]);
    let resp = app.post("/v1/categories").header("authorization", a.admin.bearer())
        .json(&json!({"slug": slug("orphan"), "name": "Orphan", "parent_id": "0190a000-0000-7000-8000-000000000001"})).send().await.unwrap();
    let problem = assert_problem(resp, 422, "validation-failed").await;
    assert_eq!(problem["errors"][0]["field"], "parent_id");
});
