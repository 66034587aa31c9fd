//! Search, filters and keyset pagination of `GET /v1/products`. Every test runs on both
//! backends with the same data and the same expectations: PostgreSQL full-text search and
//! SQLite FTS5 must agree.

use std::collections::HashSet;

use serde_json::{Value, json};
use shopnow_testkit::{TestApp, assert_problem};

use crate::support::*;

async fn list(app: &TestApp, query: &str) -> Value {
    let resp = app
        .get(&format!("/v1/products?{query}"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn described(
    app: &TestApp,
    seller: &Actor,
    cat: &str,
    title: &str,
    description: &str,
    amount: i64,
    currency: &str,
) -> Value {
    let resp = post_product(
        app,
        seller,
        &json!({
            "title": title, "description": description, "category_id": cat,
            "price": {"amount": amount, "currency": currency}, "stock": {"on_hand": 1},
        }),
    )
    .await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

catalog_test!(async fn text_search_covers_title_and_description_and_ranks_title_matches_first(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    described(&app, &a.seller, &cat, "Brass desk lamp", "Warm light for late reading.", 4999, "EUR").await;
    described(&app, &a.seller, &cat, "Reading chair", "Pairs well with a brass lamp.", 19900, "EUR").await;
    described(&app, &a.seller, &cat, "Oak table", "Solid oak, oiled.", 39900, "EUR").await;
    // The chair is newer, but the lamp has every term in its title.
    assert_eq!(titles(&list(&app, "q=brass+lamp").await), ["Brass desk lamp", "Reading chair"]);
    // Stemming: "lamps" finds "lamp"; case does not matter.
    assert_eq!(titles(&list(&app, "q=LAMPS").await), ["Brass desk lamp", "Reading chair"]);
    // Every term must match somewhere.
    assert_eq!(titles(&list(&app, "q=brass+oak").await), Vec::<String>::new());
    assert_eq!(titles(&list(&app, "q=oiled").await), ["Oak table"]);
    // Only stop words: nothing to search for.
    assert_eq!(list(&app, "q=the+of").await["items"], json!([]));
    // Query syntax of either engine is just text here.
    assert_eq!(titles(&list(&app, "q=%22oak%22+AND+(table)*+-").await), ["Oak table"]);
});

catalog_test!(async fn the_category_filter_includes_subcategories(app) {
    let a = actors(&app).await;
    let home = category(&app, &a.admin, None).await;
    let lighting = category(&app, &a.admin, Some(&home)).await;
    let lamps = category(&app, &a.admin, Some(&lighting)).await;
    let garden = category(&app, &a.admin, None).await;
    for (cat, title) in [(&home, "Rug"), (&lighting, "Bulb"), (&lamps, "Lamp"), (&garden, "Spade")] {
        product(&app, &a.seller, cat, title, 100, 1).await;
    }
    let mut home_titles = titles(&list(&app, &format!("category={home}")).await);
    home_titles.sort();
    assert_eq!(home_titles, ["Bulb", "Lamp", "Rug"]);
    let mut lighting_titles = titles(&list(&app, &format!("category={lighting}")).await);
    lighting_titles.sort();
    assert_eq!(lighting_titles, ["Bulb", "Lamp"]);
    assert_eq!(titles(&list(&app, &format!("category={garden}")).await), ["Spade"]);
});

// A category page merges the newest of each category of the subtree (on PostgreSQL one index
// read per category, docs/adr/0002-search-at-scale.md): pages interleave the subcategories in
// creation order, skip archived products and other trees, and their cursors neither repeat nor
// skip a product.
catalog_test!(async fn category_pages_merge_subcategories_newest_first(app) {
    let a = actors(&app).await;
    let home = category(&app, &a.admin, None).await;
    let lighting = category(&app, &a.admin, Some(&home)).await;
    let lamps = category(&app, &a.admin, Some(&lighting)).await;
    let garden = category(&app, &a.admin, None).await;
    let mut archived = String::new();
    for (cat, title) in [
        (&lamps, "Lamp 1"), (&home, "Rug 1"), (&garden, "Spade"), (&lighting, "Bulb 1"),
        (&lamps, "Lamp 2"), (&lamps, "Gone"), (&home, "Rug 2"), (&lighting, "Bulb 2"), (&lamps, "Lamp 3"),
    ] {
        let p = product(&app, &a.seller, cat, title, 100, 1).await;
        if title == "Gone" {
            archived = p["id"].as_str().unwrap().to_owned();
        }
    }
    let resp = app.delete(&format!("/v1/products/{archived}")).header("authorization", a.seller.bearer()).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        all_pages(&app, &format!("category={home}")).await,
        [vec!["Lamp 3", "Bulb 2"], vec!["Rug 2", "Lamp 2"], vec!["Bulb 1", "Rug 1"], vec!["Lamp 1"]]
    );
    assert_eq!(all_pages(&app, &format!("category={lighting}&sort=newest")).await, [vec!["Lamp 3", "Bulb 2"], vec!["Lamp 2", "Bulb 1"], vec!["Lamp 1"]]);
    assert_eq!(all_pages(&app, &format!("category={lamps}")).await, [vec!["Lamp 3", "Lamp 2"], vec!["Lamp 1"]]);
    // With another filter the general statement runs; it must agree.
    assert_eq!(
        all_pages(&app, &format!("category={home}&currency=EUR")).await,
        [vec!["Lamp 3", "Bulb 2"], vec!["Rug 2", "Lamp 2"], vec!["Bulb 1", "Rug 1"], vec!["Lamp 1"]]
    );
});

catalog_test!(async fn price_seller_and_currency_filters_and_sorts(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    for (title, amount, currency) in [("Cheap", 500, "EUR"), ("Mid", 1500, "EUR"), ("Dear", 2500, "EUR"), ("Dollar", 1500, "USD")] {
        described(&app, &a.seller, &cat, title, "Thing.", amount, currency).await;
    }
    described(&app, &a.other_seller, &cat, "Other", "Thing.", 1600, "EUR").await;
    assert_eq!(titles(&list(&app, "currency=EUR&min_price=1000&max_price=2000&sort=price").await), ["Mid", "Other"]);
    assert_eq!(titles(&list(&app, &format!("currency=EUR&sort=-price&seller={}", a.seller.id)).await), ["Dear", "Mid", "Cheap"]);
    assert_eq!(titles(&list(&app, "currency=USD").await), ["Dollar"]);
    assert_eq!(titles(&list(&app, &format!("seller={}", a.other_seller.id)).await), ["Other"]);
    // Newest first by default.
    assert_eq!(titles(&list(&app, &format!("seller={}", a.seller.id)).await), ["Dollar", "Dear", "Mid", "Cheap"]);
});

catalog_test!(async fn bad_parameters_are_400(app) {
    for query in [
        "min_price=5", "currency=EUX", "sort=cheapest", "sort=relevance", "limit=ten",
        "category=not-an-id", "min_price=10&max_price=5&currency=EUR", "colour=red", "q=a&q=b",
    ] {
        let resp = app.get(&format!("/v1/products?{query}")).send().await.unwrap();
        assert_problem(resp, 400, "bad-request").await;
    }
});

catalog_test!(async fn pages_have_no_duplicates_or_gaps_while_products_are_inserted(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    let mut originals = HashSet::new();
    for i in 0..23 {
        let p = described(&app, &a.seller, &cat, &format!("Item {i}"), "Thing.", 100 + (i % 5) * 10, "EUR").await;
        originals.insert(p["id"].as_str().unwrap().to_owned());
    }
    for sort in ["newest", "price", "-price"] {
        let mut seen = Vec::new();
        let mut page = list(&app, &format!("sort={sort}&currency=EUR&limit=5")).await;
        let mut inserted = 0;
        loop {
            seen.extend(ids(&page));
            // Insert between every page: before, inside and after the current position.
            for amount in [90, 120, 200] {
                described(&app, &a.seller, &cat, &format!("Late {sort} {inserted}"), "Thing.", amount, "EUR").await;
                inserted += 1;
            }
            let Some(cursor) = page["next_cursor"].as_str() else { break };
            page = list(&app, &format!("sort={sort}&currency=EUR&limit=5&cursor={cursor}")).await;
        }
        let unique: HashSet<_> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: duplicates while paging");
        assert!(originals.is_subset(&unique), "{sort}: an original product was skipped");
    }
});

catalog_test!(async fn cursors_are_opaque_and_bound_to_their_search(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    for i in 0..3 {
        product(&app, &a.seller, &cat, &format!("Lamp {i}"), 100, 1).await;
    }
    let page = list(&app, "limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(ids(&list(&app, &format!("limit=2&cursor={cursor}")).await).len(), 1);
    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "garbage", "e30.e30"] {
        let resp = app.get(&format!("/v1/products?limit=2&cursor={bad}")).send().await.unwrap();
        assert_problem(resp, 400, "invalid-cursor").await;
    }
    // A cursor from one search is not valid for another.
    let resp = app.get(&format!("/v1/products?limit=2&sort=price&cursor={cursor}")).send().await.unwrap();
    assert_problem(resp, 400, "invalid-cursor").await;
    // Page sizes are clamped.
    let page = list(&app, "limit=0").await;
    assert_eq!(ids(&page).len(), 1);
    assert!(page["next_cursor"].is_string());
});

/// The titles of every page of `query`, two per page, following the cursors.
async fn all_pages(app: &TestApp, query: &str) -> Vec<Vec<String>> {
    let mut seen = Vec::new();
    let mut next = query.to_owned();
    loop {
        let page = list(app, &format!("{next}&limit=2")).await;
        seen.push(titles(&page));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(cursor) => next = format!("{query}&cursor={cursor}"),
            None => return seen,
        }
    }
}

// A two-row walk (`catalog_search_walk_rows`) over three newer products that do not match: every
// run on PostgreSQL gives up walking and asks the text index (docs/adr/0002-search-at-scale.md),
// and must return what a walk would have, page after page, on both backends.
catalog_test!([("catalog_search_walk_rows", "2")], async fn a_walk_that_finds_too_little_falls_back_to_the_indexes(app) {
    let a = actors(&app).await;
    let cat = category(&app, &a.admin, None).await;
    described(&app, &a.seller, &cat, "Amber vase", "Blown glass.", 3000, "EUR").await;
    described(&app, &a.seller, &cat, "Plain bowl", "An amber glaze.", 1000, "EUR").await;
    described(&app, &a.seller, &cat, "Amber lamp", "Warm light.", 2000, "EUR").await;
    for title in ["Oak chair", "Oak table", "Oak stool"] {
        described(&app, &a.seller, &cat, title, "Solid wood.", 5000, "EUR").await;
    }
    assert_eq!(all_pages(&app, "q=amber").await, [vec!["Amber lamp", "Amber vase"], vec!["Plain bowl"]]);
    assert_eq!(all_pages(&app, "q=amber&sort=newest").await, [vec!["Amber lamp", "Plain bowl"], vec!["Amber vase"]]);
    assert_eq!(all_pages(&app, "q=amber&sort=price").await, [vec!["Plain bowl", "Amber lamp"], vec!["Amber vase"]]);
    assert_eq!(
        all_pages(&app, "q=amber&sort=-price&currency=EUR&max_price=2500").await,
        [vec!["Amber lamp", "Plain bowl"]]
    );
    assert_eq!(all_pages(&app, "q=oak+amber").await, [Vec::<String>::new()]);
    // Browsing a category walks too: the newest three do not belong to it.
    let other = category(&app, &a.admin, None).await;
    described(&app, &a.seller, &other, "Elm box", "Small.", 900, "EUR").await;
    for title in ["Oak shelf", "Oak bench", "Oak desk"] {
        described(&app, &a.seller, &cat, title, "Solid wood.", 5000, "EUR").await;
    }
    assert_eq!(all_pages(&app, &format!("category={other}")).await, [vec!["Elm box"]]);
});
