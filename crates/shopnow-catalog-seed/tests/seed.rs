//! The seed tool against the real application under the test host (embedded backends).

use shopnow_catalog_seed::{CATEGORIES, Plan, seed};
use shopnow_testkit::{Backend, SpawnOptions, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_a_browsable_catalog_and_can_run_twice() {
    let app = TestApp::spawn_with(
        Backend::Embedded,
        SpawnOptions::default().variable("identity_admin_emails", "admin@seed.test"),
    )
    .await;
    let plan = Plan {
        base_url: app.url(""),
        admin_email: "admin@seed.test".into(),
        password: "seed-password-violet-42".into(),
        sellers: 3,
        products: 60,
        concurrency: 8,
        seed: 42,
    };
    let summary = seed(&plan).await.unwrap();
    assert_eq!(
        (summary.categories, summary.sellers, summary.products),
        (CATEGORIES.len(), 3, 60)
    );
    // A second run reuses the categories and accounts.
    seed(&Plan {
        products: 5,
        ..plan
    })
    .await
    .unwrap();
    let categories: serde_json::Value = app
        .get("/v1/categories")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        categories["items"].as_array().unwrap().len(),
        CATEGORIES.len()
    );
    let mut total = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/products?limit=100&cursor={c}"),
            None => "/v1/products?limit=100".to_owned(),
        };
        let page: serde_json::Value = app.get(&path).send().await.unwrap().json().await.unwrap();
        total += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(total, 65);
    let lamps: serde_json::Value = app
        .get("/v1/products?q=lamp")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!lamps["items"].as_array().unwrap().is_empty());
}
