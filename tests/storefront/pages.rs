//! The storefront over HTTP as a browser without JavaScript sees it: headers and cookies, our
//! own error pages, CSRF refusals that change nothing, server-side sessions that sign-out ends,
//! who may open which page, and a double-submitted checkout that makes one order.

use crate::support::*;

storefront_test!(
    async fn pages_carry_a_strict_policy_and_an_http_only_cookie(app) {
        let visitor = Visitor::new(&app);
        let home = visitor.get("/").await;
        home.assert_html(200);
        let csp = home.header("content-security-policy").unwrap();
        for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
            assert!(csp.contains(directive), "{directive} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(home.header("x-frame-options"), Some("DENY"));
        assert_eq!(home.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(home.header("cache-control"), Some("no-store"));
        // No inline script or style anywhere: the only script is an external file.
        assert!(!home.body.contains("<script>") && !home.body.contains("<style") && !home.body.contains(" style="));
        assert!(home.body.contains("<script src=\"/assets/app.js\""));
        let cookies = home.set_cookies();
        let csrf_cookie = cookies.iter().find(|c| c.starts_with("shopnow_csrf=")).unwrap();
        assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"), "{csrf_cookie}");
        // On a loopback host the cookies are not Secure (plain HTTP would drop them)...
        assert!(!csrf_cookie.contains("Secure"), "{csrf_cookie}");
        // ...and elsewhere they are __Host- cookies.
        let public = app
            .client()
            .get(app.url("/"))
            .header("host", "shop.example.com")
            .send()
            .await
            .unwrap();
        let line = public.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(line.starts_with("__Host-shopnow_csrf=") && line.contains("; Secure"), "{line}");
        let css = visitor.get("/assets/app.css").await;
        assert_eq!(css.status, 200);
        assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    }
);

storefront_test!(
    async fn unknown_pages_get_our_404_page_and_api_paths_keep_problem_json(app) {
        let visitor = Visitor::new(&app);
        visitor.sign_up("Ada", &unique_email("lost"), "customer").await;
        for path in [
            "/products/not-an-id",
            "/products/01a24261-0000-7000-8000-000000000000",
            "/orders/01a24261-0000-7000-8000-000000000000",
            "/account/no-such-page",
            "/seller/no-such-page",
            "/assets/missing.css",
        ] {
            let page = visitor.get(path).await;
            page.assert_html(404);
            assert!(page.body.contains("Page not found"), "{path}: {}", excerpt(&page.body));
        }
        // A path outside the storefront's routes is the host's 404; API paths stay the API's.
        assert_eq!(visitor.get("/no-such-page").await.status, 404);
        for path in ["/v1/products/not-an-id", "/v1/orders/01a24261-0000-7000-8000-000000000000"] {
            let page = visitor.get(path).await;
            assert!(page.status == 404 || page.status == 401, "{path}: {}", page.status);
            assert_eq!(page.header("content-type"), Some("application/problem+json"), "{path}");
        }
        let wrong_method = visitor.post("/search", &[]).await;
        assert_eq!(wrong_method.status, 405);
        assert_eq!(wrong_method.header("allow"), Some("GET"));
    }
);

storefront_test!(
    async fn every_form_refuses_a_missing_or_foreign_csrf_token_and_changes_nothing(app) {
        let email = unique_email("csrf");
        let buyer = Visitor::new(&app);
        buyer.sign_up("Bea", &email, "customer").await;
        let stranger = Visitor::new(&app);
        let foreign = stranger.get("/sign-in").await.csrf();
        let order = "01a24261-0000-7000-8000-000000000000";
        let cancel = format!("/orders/{order}/cancel");
        let forms: [(&str, Vec<(&str, &str)>); 11] = [
            ("/sign-out", vec![]),
            ("/account", vec![("display_name", "Mallory")]),
            ("/account/password", vec![("current_password", PASSWORD), ("new_password", "mallory-owns-this-1")]),
            ("/account/delete", vec![("confirm", "yes")]),
            ("/cart/items", vec![("product_id", order), ("quantity", "1")]),
            ("/checkout", vec![("idempotency_key", "k1")]),
            ("/seller/products", vec![("title", "x")]),
            ("/admin/categories", vec![("name", "x"), ("slug", "x")]),
            (cancel.as_str(), vec![]),
            ("/sign-in", vec![("email", &email), ("password", PASSWORD)]),
            ("/sign-up", vec![("email", "new@example.com")]),
        ];
        for (path, fields) in &forms {
            let missing = buyer.post(path, fields).await;
            missing.assert_html(403);
            assert!(missing.body.contains("This form has expired"), "{path}");
            let mut with_foreign = vec![("csrf", foreign.as_str())];
            with_foreign.extend_from_slice(fields);
            buyer.post(path, &with_foreign).await.assert_html(403);
        }
        // Nothing changed: still signed in, same name, the password still works.
        let account = buyer.get("/account").await;
        account.assert_html(200);
        assert!(account.body.contains("Bea") && !account.body.contains("Mallory"));
        assert_eq!(post_token(&app, &email, PASSWORD).await.status().as_u16(), 200);
    }
);

storefront_test!(
    async fn the_session_lives_on_the_server_and_sign_out_ends_it_and_revokes_the_tokens(app) {
        let email = unique_email("session");
        let visitor = Visitor::new(&app);
        visitor.sign_up("Ada", &email, "customer").await;
        let cookie = visitor.cookie(SESSION_COOKIE).expect("session cookie");
        assert!(cookie.len() >= 43, "a 256-bit random id: {cookie}");
        let account = visitor.get("/account").await;
        account.assert_html(200);
        assert!(account.body.contains(&email));
        // No token reaches the browser: no JWT in the page, the cookie is not one.
        assert!(!account.body.contains("eyJ") && !cookie.starts_with("eyJ"));
        // Where the store is a file, read the refresh token kept for the session.
        let refresh = app.kv_path("storefront").map(|path| {
            let db = rusqlite::Connection::open(path).unwrap();
            let value: Vec<u8> = db
                .query_row("SELECT value FROM spin_key_value WHERE key LIKE 'session:%'", [], |r| r.get(0))
                .unwrap();
            let session: serde_json::Value = serde_json::from_slice(&value).unwrap();
            assert!(!String::from_utf8_lossy(&value).contains(&cookie), "the key is a hash, not the cookie");
            session["refresh_token"].as_str().unwrap().to_owned()
        });
        let signed_out = visitor.submit("/account", "/sign-out", &[]).await;
        assert_eq!(signed_out.status, 303);
        assert!(signed_out.set_cookies().iter().any(|c| c.starts_with("shopnow_session=;") && c.contains("Max-Age=0")));
        // Replaying the old cookie finds no session.
        visitor.set_cookie(SESSION_COOKIE, Some(&cookie));
        let again = visitor.get("/account").await;
        assert_eq!(again.status, 303);
        assert_eq!(again.location(), "/sign-in?next=%2Faccount");
        if let Some(refresh) = refresh {
            let response = app
                .post("/v1/auth/refresh")
                .json(&serde_json::json!({"refresh_token": refresh}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 401, "sign-out revoked the refresh family");
        }
    }
);

storefront_test!(
    async fn strangers_get_the_sign_in_page_and_others_orders_are_not_found(app) {
        let category = category(&app, "lamps").await;
        let seller = sign_up(&app, &unique_email("seller"), "seller").await;
        let product = product(&app, &seller, &category, "Brass lamp", 5).await;
        let buyer = sign_up(&app, &unique_email("buyer"), "customer").await;
        let order = order(&app, &buyer, product["id"].as_str().unwrap(), 1).await;
        let order_path = format!("/orders/{}", order["id"].as_str().unwrap());

        let anonymous = Visitor::new(&app);
        for path in ["/account", "/cart", "/checkout", "/orders", order_path.as_str(), "/seller/products", "/admin/categories"] {
            let page = anonymous.get(path).await;
            assert_eq!(page.status, 303, "{path}");
            assert!(page.location().starts_with("/sign-in?next=%2F"), "{path}: {}", page.location());
        }
        let other = Visitor::new(&app);
        other.sign_up("Other", &unique_email("other"), "customer").await;
        let foreign = other.get(&order_path).await;
        foreign.assert_html(404);
        assert!(!foreign.body.contains("Brass lamp"));
        for path in ["/seller/products", "/seller/fulfilments", "/admin/categories"] {
            other.get(path).await.assert_html(403);
        }
        // After sign-in the visitor goes back where they were going, never to another site.
        let email = unique_email("next");
        let user = Visitor::new(&app);
        user.sign_up("Next", &email, "customer").await;
        user.submit("/account", "/sign-out", &[]).await;
        for (next, expected) in [("/orders", "/orders"), ("//evil.example/x", "/"), ("https://evil.example/", "/")] {
            let page = user
                .submit("/sign-in", "/sign-in", &[("email", &email), ("password", PASSWORD), ("next", next)])
                .await;
            assert_eq!(page.status, 303);
            assert_eq!(page.location(), expected, "next={next}");
            user.submit("/account", "/sign-out", &[]).await;
        }
    }
);

storefront_test!(
    async fn forms_show_every_problem_next_to_its_field(app) {
        let visitor = Visitor::new(&app);
        let page = visitor
            .submit("/sign-up", "/sign-up", &[("display_name", "Ada"), ("email", "not-an-address"), ("password", "short")])
            .await;
        page.assert_html(422);
        assert!(page.body.contains("id=\"email-error\""), "{}", excerpt(&page.body));
        assert!(page.body.contains("id=\"password-error\""));
        assert!(page.body.contains("aria-invalid=\"true\""));
        // The typed values survive, the password does not.
        assert!(page.body.contains("value=\"not-an-address\"") && !page.body.contains("value=\"short\""));
        let wrong = visitor.sign_in("nobody@example.com").await;
        wrong.assert_html(401);
        assert!(wrong.body.contains("The email address or password is not right"));
    }
);

storefront_test!(
    async fn a_checkout_form_submitted_twice_makes_one_order(app) {
        let Shop { product_id, buyer, .. } = shop(&app, 3).await;
        let product_id = product_id.as_str();
        let added = buyer
            .submit(&format!("/products/{product_id}"), "/cart/items", &[("product_id", product_id), ("quantity", "2")])
            .await;
        assert_eq!(added.status, 303);
        let cart = buyer.get("/cart").await;
        cart.assert_html(200);
        assert!(cart.body.contains("49.00 EUR"), "{}", excerpt(&cart.body));
        let form = buyer.get("/checkout").await;
        form.assert_html(200);
        let csrf = form.csrf();
        let key = form.field("idempotency_key").unwrap();
        let fields = [
            ("csrf", csrf.as_str()), ("idempotency_key", key.as_str()), ("name", "Bea"), ("line1", "1 Main St"),
            ("city", "Berlin"), ("postal_code", "10115"), ("country", "de"), ("payment_token", "tok_ok"),
        ];
        let (first, second) = tokio::join!(buyer.post("/checkout", &fields), buyer.post("/checkout", &fields));
        let locations: Vec<String> = [first, second]
            .iter()
            .filter(|p| p.status == 303)
            .map(|p| p.location().to_owned())
            .collect();
        assert!(!locations.is_empty(), "at least one submit answered with the order");
        assert!(locations.iter().all(|l| l == &locations[0]), "one order: {locations:?}");
        let third = buyer.post("/checkout", &fields).await;
        assert_eq!(third.status, 303);
        assert_eq!(third.location(), locations[0]);
        let order = buyer.get(&locations[0]).await;
        order.assert_html(200);
        assert!(order.body.contains("Confirmed"), "{}", excerpt(&order.body));
        let orders = buyer.get("/orders").await;
        assert_eq!(orders.body.matches("href=\"/orders/").count(), 1, "{}", excerpt(&orders.body));
        // Stock agrees: 3 on hand, 2 sold.
        let stock = json_body(app.get(&format!("/v1/products/{product_id}")).send().await.unwrap()).await;
        assert_eq!(stock["stock"]["available"], 1);
    }
);

api_test_with!(
    options().variable("identity_client_sign_in_limit", "3"),
    async fn sign_in_throttling_counts_each_visitor_not_the_storefront(app) {
        let first = Visitor::from_address(&app, "127.0.0.1");
        let second = Visitor::from_address(&app, "127.0.0.2");
        for _ in 0..3 {
            first.sign_in(&unique_email("nobody")).await.assert_html(401);
        }
        let limited = first.sign_in(&unique_email("nobody")).await;
        limited.assert_html(429);
        assert!(limited.body.contains("Too many attempts"), "{}", excerpt(&limited.body));
        // Another visitor is not limited by the first one's attempts, though both reach
        // identity through the storefront; a forged X-Forwarded-For does not help either.
        second.sign_in(&unique_email("nobody")).await.assert_html(401);
        let forged = first
            .client_with_header("x-forwarded-for", "198.51.100.1")
            .await;
        assert_eq!(forged, 429);
    }
);

storefront_test!(
    async fn a_concurrent_edit_is_shown_as_a_conflict_to_resolve(app) {
        let category = category(&app, "lamps").await;
        let email = unique_email("seller");
        let seller = Visitor::new(&app);
        seller.sign_up("Sam", &email, "seller").await;
        let api_seller = Actor {
            id: String::new(),
            token: sign_in(&app, &email, PASSWORD).await.access_token,
        };
        let product = product(&app, &api_seller, &category, "Brass lamp", 3).await;
        let id = product["id"].as_str().unwrap();
        let form = seller.get(&format!("/seller/products/{id}/edit")).await;
        form.assert_html(200);
        let etag = form.field("etag").expect("the form carries the ETag it was read with");
        // Meanwhile the product is edited elsewhere.
        let other = app
            .patch(&format!("/v1/products/{id}"))
            .header("authorization", api_seller.bearer())
            .header("if-match", "*")
            .json(&serde_json::json!({"title": "Copper lamp"}))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status().as_u16(), 200);
        let fields = [
            ("csrf", form.csrf()),
            ("etag", etag.clone()),
            ("title", "Brass desk lamp".to_owned()),
            ("description", "Solid brass.".to_owned()),
            ("category_id", category.clone()),
            ("price", "24.50".to_owned()),
            ("currency", "EUR".to_owned()),
        ];
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        // An entity tag that is not one (`*` would skip the check) is refused, and saves nothing.
        let mut forged = borrowed.clone();
        forged[1] = ("etag", "*");
        seller.post(&format!("/seller/products/{id}"), &forged).await.assert_html(400);
        let conflict = seller.post(&format!("/seller/products/{id}"), &borrowed).await;
        conflict.assert_html(409);
        assert!(conflict.body.contains("Someone else changed this product"));
        assert!(conflict.body.contains("Copper lamp"), "the current value is shown");
        assert!(conflict.body.contains("value=\"Brass desk lamp\""), "the seller's own edit is kept");
        let fresh = conflict.field("etag").unwrap();
        assert_ne!(fresh, etag);
        // Saving again, under the fresh ETag, keeps the seller's edit.
        let mut again = borrowed.clone();
        again[1] = ("etag", fresh.as_str());
        again[0] = ("csrf", "");
        let token = conflict.csrf();
        again[0] = ("csrf", token.as_str());
        let saved = seller.post(&format!("/seller/products/{id}"), &again).await;
        assert_eq!(saved.status, 303, "{}", excerpt(&saved.body));
        let stored = json_body(app.get(&format!("/v1/products/{id}")).send().await.unwrap()).await;
        assert_eq!(stored["title"], "Brass desk lamp");
        // Stock and archive from the list.
        let stock = seller
            .submit("/seller/products", &format!("/seller/products/{id}/stock"), &[("on_hand", "7")])
            .await;
        assert_eq!(stock.status, 303);
        let stored = json_body(app.get(&format!("/v1/products/{id}")).send().await.unwrap()).await;
        assert_eq!(stored["stock"]["on_hand"], 7);
        let archived = seller
            .submit("/seller/products", &format!("/seller/products/{id}/archive"), &[])
            .await;
        assert_eq!(archived.status, 303);
        let gone = app.get(&format!("/v1/products/{id}")).send().await.unwrap();
        assert_eq!(gone.status().as_u16(), 404, "archived products are hidden from shoppers");
    }
);

storefront_test!(
    async fn an_admin_creates_categories_and_a_declined_payment_is_explained(app) {
        let admin = Visitor::new(&app);
        admin.sign_up("Admin", ADMIN_EMAIL, "customer").await;
        let created = admin
            .submit("/admin/categories", "/admin/categories", &[("name", "Garden lamps"), ("slug", "garden-lamps")])
            .await;
        assert_eq!(created.status, 303, "{}", excerpt(&created.body));
        let list = admin.get("/admin/categories").await;
        list.assert_html(200);
        assert!(list.body.contains("Garden lamps") && list.body.contains("garden-lamps"));
        let duplicate = admin
            .submit("/admin/categories", "/admin/categories", &[("name", "Again"), ("slug", "garden-lamps")])
            .await;
        duplicate.assert_html(409);

        let categories = json_body(app.get("/v1/categories").send().await.unwrap()).await;
        let category = categories["items"][0]["id"].as_str().unwrap().to_owned();
        let seller = sign_up(&app, &unique_email("seller"), "seller").await;
        let product = product(&app, &seller, &category, "Garden lamp", 3).await;
        let product_id = product["id"].as_str().unwrap();
        let buyer = Visitor::new(&app);
        buyer.sign_up("Bea", &unique_email("buyer"), "customer").await;
        buyer
            .submit(&format!("/products/{product_id}"), "/cart/items", &[("product_id", product_id), ("quantity", "1")])
            .await;
        let form = buyer.get("/checkout").await;
        let (csrf, key) = (form.csrf(), form.field("idempotency_key").unwrap());
        let mut fields = vec![
            ("csrf", csrf.as_str()), ("idempotency_key", key.as_str()), ("name", "Bea"), ("line1", "1 Main St"),
            ("city", "Berlin"), ("postal_code", "10115"), ("country", "DE"), ("payment_token", "tok_decline"),
        ];
        let declined = buyer.post("/checkout", &fields).await;
        declined.assert_html(402);
        assert!(declined.body.contains("Your payment was declined"), "{}", excerpt(&declined.body));
        let fresh = declined.field("idempotency_key").unwrap();
        assert_ne!(fresh, key, "the next attempt gets a new key");
        fields[1] = ("idempotency_key", fresh.as_str());
        fields[7] = ("payment_token", "tok_ok");
        let placed = buyer.post("/checkout", &fields).await;
        assert_eq!(placed.status, 303, "{}", excerpt(&placed.body));
        let order = placed.location().to_owned();
        // The buyer cancels while nothing has shipped; stock goes back.
        let cancelled = buyer.submit(&order, &format!("{order}/cancel"), &[]).await;
        assert_eq!(cancelled.status, 303);
        let page = buyer.get(&order).await;
        assert!(page.body.contains("Cancelled"), "{}", excerpt(&page.body));
        let stored = json_body(app.get(&format!("/v1/products/{product_id}")).send().await.unwrap()).await;
        assert_eq!(stored["stock"]["available"], 3);
    }
);

api_test_with!(
    options().variable("storefront_catalog_url", "http://127.0.0.1:9"),
    async fn a_service_that_does_not_answer_gives_a_retry_page_quoting_the_request_id(app) {
        let visitor = Visitor::new(&app);
        let page = visitor.get("/search?q=lamp").await;
        page.assert_html(503);
        assert_eq!(page.header("retry-after"), Some("2"));
        let id = page.header("x-request-id").unwrap().to_owned();
        assert!(page.body.contains(&format!("<code>{id}</code>")), "{}", excerpt(&page.body));
        assert!(page.body.contains("href=\"/search?q=lamp\""), "a Try again link to the same page");
        // Pages that need no catalog still work.
        visitor.get("/sign-in").await.assert_html(200);
    }
);

// Embedded only: the test reaches under the storefront into its key-value file.
::shopnow_testkit::api_test!(
    embedded_only with options(),
    async fn an_expiring_access_token_is_rotated_through_identity_behind_the_visitors_back(app) {
        let visitor = Visitor::new(&app);
        visitor.sign_up("Ada", &unique_email("rotate"), "customer").await;
        let path = app.kv_path("storefront").unwrap();
        let db = rusqlite::Connection::open(path).unwrap();
        let read = |db: &rusqlite::Connection| -> serde_json::Value {
            let value: Vec<u8> = db
                .query_row("SELECT value FROM spin_key_value WHERE key LIKE 'session:%'", [], |r| r.get(0))
                .unwrap();
            serde_json::from_slice(&value).unwrap()
        };
        let mut session = read(&db);
        let old_refresh = session["refresh_token"].as_str().unwrap().to_owned();
        // Make the access token look about to expire.
        session["access_expires_ms"] = serde_json::json!(0);
        db.execute(
            "UPDATE spin_key_value SET value = ?1 WHERE key LIKE 'session:%'",
            [serde_json::to_vec(&session).unwrap()],
        )
        .unwrap();
        let account = visitor.get("/account").await;
        account.assert_html(200);
        let rotated = read(&db);
        assert_ne!(rotated["refresh_token"], session["refresh_token"], "the refresh token rotated");
        assert!(rotated["access_expires_ms"].as_i64().unwrap() > 0);
        // The spent token is refused by identity, and the visitor stays signed in.
        let spent = app
            .post("/v1/auth/refresh")
            .json(&serde_json::json!({"refresh_token": old_refresh}))
            .send()
            .await
            .unwrap();
        assert_eq!(spent.status().as_u16(), 401);
        // Identity saw a spent token reused and revoked the family: the next rotation fails, and
        // the storefront ends the session instead of showing an error.
        let mut expiring = read(&db);
        expiring["access_expires_ms"] = serde_json::json!(0);
        db.execute(
            "UPDATE spin_key_value SET value = ?1 WHERE key LIKE 'session:%'",
            [serde_json::to_vec(&expiring).unwrap()],
        )
        .unwrap();
        let after = visitor.get("/account").await;
        assert_eq!(after.status, 303);
        assert_eq!(after.location(), "/sign-in?next=%2Faccount");
    }
);

storefront_test!(
    async fn the_account_page_renames_changes_the_password_and_deletes_the_account(app) {
        let email = unique_email("account");
        let visitor = Visitor::new(&app);
        visitor.sign_up("Ada", &email, "customer").await;
        let renamed = visitor.submit("/account", "/account", &[("display_name", "Ada L.")]).await;
        renamed.assert_html(200);
        assert!(renamed.body.contains("Your name is saved") && renamed.body.contains("Account (Ada L.)"));
        let empty = visitor.submit("/account", "/account", &[("display_name", "")]).await;
        empty.assert_html(422);
        assert!(empty.body.contains("id=\"display_name-error\""), "{}", excerpt(&empty.body));

        let wrong = visitor
            .submit("/account", "/account/password", &[("current_password", "not-my-password-1"), ("new_password", "amber-lantern-42-quartz")])
            .await;
        wrong.assert_html(422);
        assert!(wrong.body.contains("id=\"current_password-error\""), "{}", excerpt(&wrong.body));
        let changed = Visitor::new(&app);
        changed.sign_in(&email).await;
        let page = changed
            .submit("/account", "/account/password", &[("current_password", PASSWORD), ("new_password", "amber-lantern-42-quartz")])
            .await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), "/sign-in?next=%2Faccount", "a password change ends the session");
        assert_eq!(post_token(&app, &email, "amber-lantern-42-quartz").await.status().as_u16(), 200);

        let deleter = Visitor::new(&app);
        let signed_in = deleter
            .submit("/sign-in", "/sign-in", &[("email", email.as_str()), ("password", "amber-lantern-42-quartz")])
            .await;
        assert_eq!(signed_in.status, 303);
        let unconfirmed = deleter.submit("/account", "/account/delete", &[]).await;
        unconfirmed.assert_html(422);
        let deleted = deleter.submit("/account", "/account/delete", &[("confirm", "yes")]).await;
        assert_eq!(deleted.status, 303);
        assert_eq!(deleted.location(), "/");
        assert_eq!(post_token(&app, &email, "amber-lantern-42-quartz").await.status().as_u16(), 401);
    }
);

storefront_test!(
    async fn a_cart_marks_an_item_no_longer_sold_and_offers_no_checkout(app) {
        let Shop { seller, product_id, buyer } = shop(&app, 3).await;
        let product_id = product_id.as_str();
        buyer
            .submit(&format!("/products/{product_id}"), "/cart/items", &[("product_id", product_id), ("quantity", "1")])
            .await;
        assert!(buyer.get("/cart").await.body.contains("href=\"/checkout\""));
        let archived = app
            .delete(&format!("/v1/products/{product_id}"))
            .header("authorization", seller.bearer())
            .send()
            .await
            .unwrap();
        assert!(archived.status().is_success());
        let cart = buyer.get("/cart").await;
        cart.assert_html(200);
        assert!(cart.body.contains("Unavailable"), "{}", excerpt(&cart.body));
        assert!(!cart.body.contains("href=\"/checkout\""), "no checkout with an unavailable item");
        let removed = buyer
            .submit("/cart", &format!("/cart/items/{product_id}"), &[("quantity", "0")])
            .await;
        assert_eq!(removed.status, 303);
        assert!(buyer.get("/cart").await.body.contains("Your cart is empty"));
    }
);
