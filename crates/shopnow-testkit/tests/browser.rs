//! The test kit's real browser (`shopnow_testkit::browser`) against pages it serves itself: a
//! `data:` URL, or a tiny loopback HTTP server for navigation and cookies. Needs Debian's
//! chromium and chromium-driver and axe-core (`scripts/install-browser`); without them each test
//! is recorded as skipped, or fails when `CI` is set.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a socket that fails fails the test"
)]

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use shopnow_testkit::browser::{Browser, DESKTOP, PHONE};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const WAIT: Duration = Duration::from_secs(5);

/// `html` as a `data:` URL (base64: no escaping of `#`, `%` or quotes to get wrong).
fn data_url(html: &str) -> String {
    format!(
        "data:text/html;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(html)
    )
}

/// A page with a labelled input, a select and a button whose script writes a greeting.
const FORM: &str = r#"<!doctype html>
<html lang="en"><head><title>Greeting form</title></head>
<body><main>
  <h1>Greeting</h1>
  <form>
    <label for="name">Your name</label> <input id="name" name="name" value="placeholder">
    <label for="size">Size</label>
    <select id="size" name="size"><option value="s">Small</option><option value="l">Large</option></select>
    <button type="button" id="greet">Greet</button>
  </form>
  <p id="out">Nobody greeted yet</p>
  <script>
    document.getElementById('greet').addEventListener('click', () => {
      const name = document.getElementById('name').value;
      const size = document.getElementById('size').value;
      document.getElementById('out').textContent = `Hello, ${name} (${size})`;
    });
  </script>
</main></body></html>"#;

/// An accessible page: language, title, a main landmark, a labelled field.
const ACCESSIBLE: &str = r#"<!doctype html>
<html lang="en"><head><title>Search</title></head>
<body><main><h1>Search</h1>
  <form><label for="q">Search the catalogue</label> <input id="q" name="q" type="search">
  <button type="submit">Search</button></form>
</main></body></html>"#;

/// The same page with its input's label gone.
const UNLABELLED: &str = r#"<!doctype html>
<html lang="en"><head><title>Search</title></head>
<body><main><h1>Search</h1>
  <form><input id="q" name="q" type="search"><button type="submit">Search</button></form>
</main></body></html>"#;

/// Serves `/` (a form that GETs `/thanks`) and `/thanks` (which sets a cookie) on a loopback
/// port until the test ends; returns the base URL.
async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let Ok(n) = socket.read(&mut buf).await else {
                    return;
                };
                let request = String::from_utf8_lossy(buf.get(..n).unwrap_or_default());
                let path = request.split(' ').nth(1).unwrap_or("/");
                let (extra, body) = if path.starts_with("/thanks") {
                    (
                        "Set-Cookie: visited=yes; Path=/\r\n",
                        r#"<!doctype html><html lang="en"><head><title>Thanks</title></head><body><main><h1 id="done">Thanks</h1></main></body></html>"#,
                    )
                } else {
                    (
                        "",
                        r#"<!doctype html><html lang="en"><head><title>Sign up</title></head><body><main><form action="/thanks" method="get"><label for="email">Email</label><input id="email" name="email"><button id="send" type="submit">Send</button></form></main></body></html>"#,
                    )
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    base
}

/// The width and height in a PNG's IHDR chunk, after checking its signature.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        bytes.get(..8),
        Some(&b"\x89PNG\r\n\x1a\n"[..]),
        "{} is not a PNG",
        path.display()
    );
    let word = |at: usize| u32::from_be_bytes(bytes.get(at..at + 4).unwrap().try_into().unwrap());
    (word(16), word(20))
}

#[tokio::test]
async fn a_form_is_filled_clicked_and_read_back() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&data_url(FORM)).await;
    assert_eq!(browser.title().await, "Greeting form");
    assert_eq!(browser.text("#out").await, "Nobody greeted yet");

    browser.fill("#name", "Ada").await;
    browser.select_option("#size", "l").await;
    browser.click("#greet").await;

    assert_eq!(browser.text("#out").await, "Hello, Ada (l)");
    let name = browser.find("#name").await;
    assert_eq!(name.property("value").await, json!("Ada"));
    assert_eq!(name.attribute("name").await.as_deref(), Some("name"));
    assert_eq!(name.attribute("placeholder").await, None);
    assert_eq!(browser.find_all("option").await.len(), 2);
    assert!(!browser.exists("#missing").await);
    assert!(browser.source().await.contains("Hello, Ada (l)"));
    let sum = browser
        .execute("return arguments[0] + arguments[1];", &[json!(2), json!(3)])
        .await;
    assert_eq!(sum, json!(5));
    let tag = browser
        .execute("return arguments[0].tagName;", &[name.reference()])
        .await;
    assert_eq!(tag, json!("INPUT"));
    let later = browser
        .execute_async(
            "const done = arguments[arguments.length - 1]; setTimeout(() => done('later'), 10);",
            &[],
        )
        .await;
    assert_eq!(later, json!("later"));
}

#[tokio::test]
async fn a_submit_navigates_sets_a_cookie_and_goes_back() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let base = serve().await;
    browser.goto(&format!("{base}/")).await;
    browser.fill("#email", "ada@example.test").await;
    browser.click("#send").await;

    let url = browser.wait_until_url("/thanks", WAIT).await;
    assert!(url.ends_with("/thanks?email=ada%40example.test"), "{url}");
    assert_eq!(browser.wait_for("#done", WAIT).await.text().await, "Thanks");
    let cookies = browser.cookies().await;
    assert!(
        cookies
            .iter()
            .any(|c| c["name"] == "visited" && c["value"] == "yes"),
        "{cookies:?}"
    );
    browser.delete_all_cookies().await;
    assert!(browser.cookies().await.is_empty());

    browser.back().await;
    browser
        .wait_until_url(|url: &str| url.ends_with('/'), WAIT)
        .await;
    browser.refresh().await;
    assert_eq!(browser.title().await, "Sign up");
    assert_eq!(browser.current_url().await, format!("{base}/"));
}

#[tokio::test]
async fn a_missing_element_fails_with_the_selector_the_url_and_the_source() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let failed = tokio::spawn(async move {
        browser.goto(&data_url(FORM)).await;
        browser.find("#nowhere").await;
    })
    .await
    .unwrap_err();
    let message = failed.into_panic();
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.contains("no element matches `#nowhere`"),
        "{message}"
    );
    assert!(message.contains("page data:text/html;base64,"), "{message}");
    assert!(message.contains("Greeting form"), "{message}");
}

#[tokio::test]
async fn screenshots_are_pngs_of_the_desktop_and_phone_viewports() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&data_url(FORM)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/form.png");

    browser.screenshot(&path).await;
    let (desktop, phone) = browser.screenshots("testkit-form").await;

    assert!(png_size(&path).0 > 0);
    assert_eq!(png_size(&desktop), DESKTOP);
    assert_eq!(png_size(&phone), PHONE);
    let width = browser.execute("return window.outerWidth;", &[]).await;
    assert_eq!(width, json!(DESKTOP.0), "the desktop window is restored");
}

#[tokio::test]
async fn axe_finds_nothing_serious_on_an_accessible_page() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&data_url(ACCESSIBLE)).await;
    let Some(violations) = browser.axe().await else {
        return;
    };
    assert!(
        !violations
            .iter()
            .any(|v| matches!(v.impact.as_deref(), Some("serious" | "critical"))),
        "{violations:#?}"
    );
    browser.assert_accessible("the search page").await;
}

#[tokio::test]
async fn axe_reports_an_unlabelled_input() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&data_url(UNLABELLED)).await;
    let Some(violations) = browser.axe().await else {
        return;
    };
    let label = violations
        .iter()
        .find(|v| v.id == "label")
        .unwrap_or_else(|| panic!("no `label` violation in {violations:#?}"));
    assert_eq!(label.targets, ["#q"]);
    assert_eq!(label.impact.as_deref(), Some("critical"));

    let failed = tokio::spawn(async move {
        browser.assert_accessible("the unlabelled page").await;
    })
    .await
    .unwrap_err();
    let message = failed.into_panic();
    let message = message.downcast_ref::<String>().expect("a panic message");
    assert!(
        message.contains("the unlabelled page") && message.contains("label (critical)"),
        "{message}"
    );
}
