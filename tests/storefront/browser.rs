//! The storefront in a real browser (Debian's Chromium, headless, through chromedriver): the
//! marketplace journey from a seller's first product to the buyer seeing it shipped, with an
//! accessibility check (axe-core: no serious or critical violation) and screenshots at desktop
//! and phone widths (`target/screenshots/`) of each key page; a double-clicked "Place order";
//! a form stripped of its CSRF token; another buyer's order URL; Back after signing out.

use std::time::Duration;

use shopnow_testkit::browser::Browser;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

/// Opens `path`, waits for `css`, checks accessibility and saves screenshots as `name`.
async fn visit(
    browser: &Browser,
    app: &shopnow_testkit::TestApp,
    path: &str,
    css: &str,
    name: &str,
) {
    browser.goto(&app.url(path)).await;
    browser.wait_for(css, WAIT).await;
    check(browser, name).await;
}

async fn check(browser: &Browser, name: &str) {
    browser.assert_accessible(name).await;
    browser.screenshots(name).await;
}

async fn browser_sign_up(
    browser: &Browser,
    app: &shopnow_testkit::TestApp,
    name: &str,
    email: &str,
    seller: bool,
) {
    visit(
        browser,
        app,
        "/sign-up",
        "form[action='/sign-up']",
        "sign-up",
    )
    .await;
    browser.fill("#display_name", name).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    if seller {
        browser.click("#role-seller").await;
    }
    browser
        .click("form[action='/sign-up'] button[type=submit]")
        .await;
    browser.wait_for("form[action='/sign-out']", WAIT).await;
}

async fn browser_sign_in(browser: &Browser, app: &shopnow_testkit::TestApp, email: &str) {
    browser.goto(&app.url("/sign-in")).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form[action='/sign-in'] button").await;
    browser.wait_for("form[action='/sign-out']", WAIT).await;
}

async fn sign_out(browser: &Browser) {
    browser.click("form[action='/sign-out'] button").await;
    browser.wait_for("a[href='/sign-in']", WAIT).await;
}

storefront_test!(
    async fn a_seller_lists_a_product_a_buyer_orders_it_and_sees_it_shipped(app) {
        let Some(browser) = Browser::launch().await else { return };
        let category = category(&app, "lamps").await;
        visit(&browser, &app, "/", "h1", "home").await;

        // The seller signs up and lists a product with 3 in stock.
        let seller_email = unique_email("seller");
        browser_sign_up(&browser, &app, "Sam's Lamps", &seller_email, true).await;
        visit(&browser, &app, "/seller/products/new", "#title", "seller-new-product").await;
        browser.fill("#title", "Brass desk lamp").await;
        browser.fill("#description", "A desk lamp made of solid brass.").await;
        browser.select_option("#category_id", &category).await;
        browser.fill("#price", "24.50").await;
        browser.select_option("#currency", "EUR").await;
        browser.fill("#on_hand", "3").await;
        browser.click("form button.primary").await;
        browser.wait_until_url("/seller/products", WAIT).await;
        browser.wait_for("table.products", WAIT).await;
        check(&browser, "seller-products").await;
        assert!(browser.source().await.contains("Brass desk lamp"));
        sign_out(&browser).await;

        // A buyer signs up, searches, opens the product and adds 2 to the cart.
        let buyer_email = unique_email("buyer");
        browser_sign_up(&browser, &app, "Bea", &buyer_email, false).await;
        browser.fill("#site-q", "brass lamp").await;
        browser.click("form.search button").await;
        browser.wait_until_url("/search?q=brass", WAIT).await;
        browser.wait_for("ul.grid", WAIT).await;
        check(&browser, "search").await;
        browser.click("ul.grid a").await;
        browser.wait_for("form.add-to-cart", WAIT).await;
        check(&browser, "product").await;
        assert!(browser.text("p.price").await.contains("24.50 EUR"));
        browser.fill("#quantity", "2").await;
        browser.click("form.add-to-cart button").await;
        browser.wait_until_url("/cart", WAIT).await;
        browser.wait_for("table.cart", WAIT).await;
        check(&browser, "cart").await;
        assert!(browser.text(".totals").await.contains("49.00 EUR"));

        // Checkout, and the order is confirmed.
        browser.click("a[href='/checkout']").await;
        browser.wait_for("form[action='/checkout']", WAIT).await;
        browser.fill("#address-name", "Bea Buyer").await;
        browser.fill("#address-line1", "1 Main Street").await;
        browser.fill("#address-city", "Berlin").await;
        browser.fill("#address-postal_code", "10115").await;
        browser.fill("#address-country", "DE").await;
        check(&browser, "checkout").await;
        browser.click("form[action='/checkout'] button.primary").await;
        let order_url = browser.wait_until_url(|url: &str| url.contains("/orders/0"), WAIT).await;
        browser.wait_for("#order-status", WAIT).await;
        assert_eq!(browser.text("#order-status").await, "Confirmed");
        check(&browser, "order").await;
        visit(&browser, &app, "/orders", "table.orders", "orders").await;
        visit(&browser, &app, "/account", "form[action='/account']", "account").await;
        sign_out(&browser).await;

        // The seller sees the fulfilment and ships it; the buyer's order URL is a 404 to them.
        browser_sign_in(&browser, &app, &seller_email).await;
        browser.goto(&order_url).await;
        browser.wait_for("h1", WAIT).await;
        assert_eq!(browser.text("h1").await, "Page not found");
        check(&browser, "not-found").await;
        visit(&browser, &app, "/seller/fulfilments", "li.fulfilment", "seller-fulfilments").await;
        browser.fill("input[name=tracking_number]", "TRACK-123").await;
        browser.click("li.fulfilment form button").await;
        browser.wait_for("li.fulfilment[data-status=shipped]", WAIT).await;
        sign_out(&browser).await;

        // The buyer sees it shipped, with the tracking number.
        browser_sign_in(&browser, &app, &buyer_email).await;
        browser.goto(&order_url).await;
        browser.wait_for("#order-status", WAIT).await;
        assert_eq!(browser.text("#order-status").await, "Shipped");
        assert_eq!(browser.text("code.tracking").await, "TRACK-123");
        check(&browser, "order-shipped").await;
    }
);

::shopnow_testkit::api_test!(embedded_only with options(), async fn place_order_double_clicked_makes_one_order_and_back_after_sign_out_shows_nothing(app) {
    let Some(browser) = Browser::launch().await else { return };
    let category = category(&app, "lamps").await;
    let seller_email = unique_email("seller");
    let seller = sign_up(&app, &seller_email, "seller").await;
    let product = product(&app, &seller, &category, "Brass lamp", 3).await;
    let product_id = product["id"].as_str().unwrap();
    let email = unique_email("buyer");
    browser_sign_up(&browser, &app, "Bea", &email, false).await;
    browser.goto(&app.url(&format!("/products/{product_id}"))).await;
    browser.click("form.add-to-cart button").await;
    browser.wait_until_url("/cart", WAIT).await;
    browser.goto(&app.url("/checkout")).await;
    for (field, value) in [("name", "Bea"), ("line1", "1 Main St"), ("city", "Berlin"), ("postal_code", "10115"), ("country", "DE")] {
        browser.fill(&format!("#address-{field}"), value).await;
    }
    // Two clicks in the same task: both submit events fire before any navigation.
    browser
        .execute("const b = document.querySelector(\"form[action='/checkout'] button.primary\"); b.click(); b.click();", &[])
        .await;
    browser.wait_until_url(|url: &str| url.contains("/orders/0"), WAIT).await;
    browser.goto(&app.url("/orders")).await;
    browser.wait_for("table.orders", WAIT).await;
    assert_eq!(browser.find_all("table.orders tbody tr").await.len(), 1, "one order");

    // A form whose CSRF token was removed is refused, and changes nothing.
    browser.goto(&app.url("/account")).await;
    browser.wait_for("form[action='/account']", WAIT).await;
    browser.execute("document.querySelector(\"form[action='/account'] input[name=csrf]\").remove();", &[]).await;
    browser.fill("#display_name", "Mallory").await;
    browser.click("form[action='/account'] button").await;
    browser.wait_for("h1", WAIT).await;
    assert_eq!(browser.text("h1").await, "This form has expired");
    check(&browser, "csrf-refused").await;
    browser.goto(&app.url("/account")).await;
    browser.wait_for("form[action='/account']", WAIT).await;
    assert!(browser.source().await.contains(&email));
    assert!(!browser.source().await.contains("Mallory"));

    // Signing out and pressing Back shows no account data.
    sign_out(&browser).await;
    browser.back().await;
    browser.wait_for("h1", WAIT).await;
    let source = browser.source().await;
    assert!(!source.contains(&email), "Back after sign-out showed the account: {}", excerpt(&source));
    assert!(browser.exists("form[action='/sign-in']").await, "Back lands on the sign-in page");

    // The pages the journey does not pass through meet the same accessibility bar.
    visit(&browser, &app, "/sign-in", "form[action='/sign-in']", "sign-in").await;
    browser_sign_in(&browser, &app, &email).await;
    browser.goto(&app.url("/admin/categories")).await;
    browser.wait_for("h1", WAIT).await;
    assert_eq!(browser.text("h1").await, "Not allowed");
    check(&browser, "forbidden").await;
    sign_out(&browser).await;
    browser_sign_in(&browser, &app, ADMIN_EMAIL).await;
    visit(&browser, &app, "/admin/categories", "table.categories", "admin-categories").await;
    sign_out(&browser).await;
    browser_sign_in(&browser, &app, &seller_email).await;
    visit(&browser, &app, &format!("/seller/products/{product_id}/edit"), "#title", "seller-edit-product").await;
});
