//! A real browser for end-to-end tests: a minimal W3C WebDriver client (over `reqwest`) that
//! drives Debian's `chromium` headless through Debian's `chromedriver`, plus axe-core
//! accessibility checks. Depends on nothing of the test host: it only needs a URL to open.
//!
//! Each [`Browser`] has its own `chromedriver` process (in its own process group) and a fresh
//! profile directory, so tests run in parallel. Without `chromedriver`, `chromium` or axe-core
//! the test is recorded as skipped, or fails when `CI` is set; `scripts/install-browser`
//! installs all three.
//!
//! Every method panics with the WebDriver error and what it was doing: this module is for tests
//! only (see the crate's lint expectations).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{record_skip, repo_root};

/// Environment variable naming the `chromedriver` binary (else the one on `PATH`).
pub const CHROMEDRIVER_ENV: &str = "SHOPNOW_CHROMEDRIVER";
/// Environment variable naming the `chromium` binary (else [`DEFAULT_CHROMIUM`]).
pub const CHROMIUM_ENV: &str = "SHOPNOW_CHROMIUM";
/// Debian's `chromium` launcher.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Environment variable naming axe-core's `axe.min.js` (else the copy `scripts/install-browser`
/// puts under `target/axe-core`).
pub const AXE_JS_ENV: &str = "SHOPNOW_AXE_JS";

/// The desktop size: the window a [`Browser`] starts with and [`Browser::screenshots`] restores
/// (its viewport is 143 px shorter), and the viewport of the desktop screenshot.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// The phone viewport of [`Browser::screenshots`] (a 6.1" phone in CSS pixels).
pub const PHONE: (u32, u32) = (390, 844);

/// How long `chromedriver` may take to say it is ready.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a chromedriver that exits before it is ready is started again.
const DRIVER_ATTEMPTS: u32 = 5;
/// The polling interval of the `wait_*` methods.
const POLL: Duration = Duration::from_millis(50);
/// The key of an element reference in WebDriver's JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How much of a page's source a failure message quotes.
const SOURCE_EXCERPT_CHARS: usize = 1500;

/// A headless Chromium with its own `chromedriver` and profile; both go when it is dropped.
pub struct Browser {
    client: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session_url: String,
    session_id: String,
    // Dropped in this order: the driver (and the browser it started) before the profile it uses.
    driver: Driver,
    _profile: tempfile::TempDir,
}

/// An element of the current page, found by [`Browser::find`] and friends.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

/// One axe-core rule the page breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxeViolation {
    /// The rule, e.g. `label` or `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical` (`None` if axe gave none).
    pub impact: Option<String>,
    /// What the rule asks for, in a sentence.
    pub help: String,
    /// One CSS selector per offending node (shadow DOM and frame paths joined with ` >> `).
    pub targets: Vec<String>,
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} at {}",
            self.id,
            self.impact.as_deref().unwrap_or("no impact"),
            self.help,
            self.targets.join(", ")
        )
    }
}

/// What [`Browser::wait_until_url`] waits for: a `&str` or `String` is a substring of the URL, a
/// closure `|url: &str| -> bool` a predicate.
pub trait UrlPattern {
    /// Whether `url` is what the caller waits for.
    fn matches(&self, url: &str) -> bool;
    /// The pattern, for a timeout's message.
    fn describe(&self) -> String;
}

impl UrlPattern for &str {
    fn matches(&self, url: &str) -> bool {
        url.contains(*self)
    }
    fn describe(&self) -> String {
        format!("a URL containing {self:?}")
    }
}

impl UrlPattern for String {
    fn matches(&self, url: &str) -> bool {
        url.contains(self.as_str())
    }
    fn describe(&self) -> String {
        format!("a URL containing {self:?}")
    }
}

impl<F: Fn(&str) -> bool> UrlPattern for F {
    fn matches(&self, url: &str) -> bool {
        self(url)
    }
    fn describe(&self) -> String {
        "a URL matching the predicate".to_owned()
    }
}

/// A WebDriver error answer (`{"value": {"error", "message"}}`), or a transport failure.
#[derive(Debug)]
struct WebDriverError {
    error: String,
    message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// Whether this run may not skip (`CI` set, as [`crate::backend_available`] reads it).
fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Skips the test, or panics under `CI`, for a missing prerequisite.
fn missing(what: &str) {
    assert!(
        !in_ci(),
        "{what}; run scripts/install-browser to install it. CI is set, so browser tests may not be skipped"
    );
    record_skip(&format!("{what} (scripts/install-browser installs it)"));
}

/// The binary named by `env` (which must exist when set), else `fallback()`.
fn binary(env: &str, fallback: impl FnOnce() -> Option<PathBuf>) -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os(env).filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "{env}={} does not exist", bin.display());
        return Some(bin);
    }
    fallback()
}

/// `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The `chromedriver` to use: `SHOPNOW_CHROMEDRIVER`, else `chromedriver` on `PATH`.
///
/// # Panics
/// When `SHOPNOW_CHROMEDRIVER` names a file that does not exist.
pub fn chromedriver_binary() -> Option<PathBuf> {
    binary(CHROMEDRIVER_ENV, || on_path("chromedriver"))
}

/// The `chromium` to use: `SHOPNOW_CHROMIUM`, else `/usr/bin/chromium`.
///
/// # Panics
/// When `SHOPNOW_CHROMIUM` names a file that does not exist.
pub fn chromium_binary() -> Option<PathBuf> {
    binary(CHROMIUM_ENV, || {
        let bin = PathBuf::from(DEFAULT_CHROMIUM);
        bin.is_file().then_some(bin)
    })
}

/// axe-core's `axe.min.js`: `SHOPNOW_AXE_JS`, else
/// `<repo>/target/axe-core/node_modules/axe-core/axe.min.js`.
///
/// # Panics
/// When `SHOPNOW_AXE_JS` names a file that does not exist.
pub fn axe_js() -> Option<PathBuf> {
    binary(AXE_JS_ENV, || {
        let js = repo_root().join("target/axe-core/node_modules/axe-core/axe.min.js");
        js.is_file().then_some(js)
    })
}

/// A running `chromedriver`, leader of its own process group; the whole group is killed on drop.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    /// Starts `bin` on a port of its choosing (`--port=0`, read back from its output: no race for
    /// a free port) and waits until `GET /status` says it is ready.
    async fn start(bin: &Path, log: PathBuf, client: &reqwest::Client) -> Result<Self, String> {
        let out = std::fs::File::create(&log).map_err(|e| format!("cannot create {log:?}: {e}"))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("--port=0")
            // Its own process group: chromedriver leaves chromium running when it is killed
            // alone, so Drop kills the group (chromium's crashpad handlers exit with it).
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let mut driver = Driver {
            child,
            port: 0,
            log,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(format!(
                    "{} exited with {status} before it was ready:\n{}",
                    bin.display(),
                    driver.output()
                ));
            }
            if driver.port == 0 {
                driver.port = listening_port(&driver.output()).unwrap_or(0);
            }
            if driver.port != 0 && driver.ready(client).await {
                return Ok(driver);
            }
            if started.elapsed() > DRIVER_READY_TIMEOUT {
                return Err(format!(
                    "{} was not ready within {} s:\n{}",
                    bin.display(),
                    DRIVER_READY_TIMEOUT.as_secs(),
                    driver.output()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn ready(&self, client: &reqwest::Client) -> bool {
        let url = format!("http://127.0.0.1:{}/status", self.port);
        let Ok(resp) = client.get(&url).send().await else {
            return false;
        };
        let Ok(body) = resp.json::<Value>().await else {
            return false;
        };
        body.pointer("/value/ready") == Some(&Value::Bool(true))
    }

    /// The driver's output so far (its start line and errors).
    fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

/// The port in chromedriver's `ChromeDriver was started successfully on port 40123.` line.
fn listening_port(output: &str) -> Option<u16> {
    let rest = output.split("started successfully on port ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver, chromium and its renderers and helpers.
        crate::spin::kill_group(&mut self.child);
    }
}

/// `DELETE /session/<id>` over a plain socket: Drop cannot await, and reqwest's blocking client
/// panics inside a tokio runtime. Best effort: the process-group kill that follows is what
/// guarantees nothing is left behind.
fn delete_session_blocking(port: u16, session_id: &str) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return;
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "DELETE /session/{session_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        // The answer comes once chromium has been asked to quit.
        let mut answer = [0u8; 256];
        let _ = stream.read(&mut answer);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        delete_session_blocking(self.driver.port, &self.session_id);
    }
}

/// At most `n` characters of `text`, with an ellipsis when cut.
fn excerpt(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// `value` as a CSS double-quoted string's contents.
fn css_string(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium with a fresh profile, in a window of
    /// [`DESKTOP`] size.
    ///
    /// Returns `None` (the test is recorded as skipped) when `chromedriver` or `chromium` is not
    /// installed.
    ///
    /// # Panics
    /// When either is missing and `CI` is set; when `SHOPNOW_CHROMEDRIVER`/`SHOPNOW_CHROMIUM`
    /// name no file; when the driver does not start within 10 s or refuses the session (with the
    /// driver's output).
    pub async fn launch() -> Option<Browser> {
        let Some(driver_bin) = chromedriver_binary() else {
            missing(&format!(
                "no chromedriver (set {CHROMEDRIVER_ENV} or put it on PATH)"
            ));
            return None;
        };
        let Some(chromium) = chromium_binary() else {
            missing(&format!(
                "no chromium (set {CHROMIUM_ENV} or install it at {DEFAULT_CHROMIUM})"
            ));
            return None;
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            // Above chromedriver's own page-load and script timeouts (30 s, set below), so that
            // its error, not ours, names what hung.
            .timeout(Duration::from_secs(90))
            .build()
            .expect("cannot build the WebDriver HTTP client");
        let profile = tempfile::Builder::new()
            .prefix("shopnow-browser-")
            .tempdir()
            .expect("cannot create a temporary browser profile");
        // `--port=0` lets chromedriver pick a port, which it then binds on IPv4 and IPv6 in
        // turn; another process can hold it on one of them ("bind() failed: Address already in
        // use", seen in CI). A new attempt picks another port.
        let mut attempt = 1;
        let driver = loop {
            match Driver::start(
                &driver_bin,
                profile.path().join("chromedriver.log"),
                &client,
            )
            .await
            {
                Ok(driver) => break driver,
                Err(e) if attempt < DRIVER_ATTEMPTS => {
                    eprintln!("chromedriver attempt {attempt} failed, trying again: {e}");
                    attempt += 1;
                }
                Err(e) => panic!("cannot start chromedriver ({attempt} attempts): {e}"),
            }
        };
        let user_data_dir = profile.path().join("profile");
        let (width, height) = DESKTOP;
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "timeouts": { "pageLoad": 30_000, "script": 30_000, "implicit": 0 },
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new",
                            // Root in a container: no user namespaces for the sandbox.
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            format!("--window-size={width},{height}"),
                            format!("--user-data-dir={}", user_data_dir.display()),
                        ],
                    },
                },
            },
        });
        let base = format!("http://127.0.0.1:{}", driver.port);
        let created = request(
            &client,
            reqwest::Method::POST,
            &format!("{base}/session"),
            Some(&capabilities),
        )
        .await
        .unwrap_or_else(|e| {
            panic!(
                "chromedriver refused a session for {}: {e}\n{}",
                chromium.display(),
                driver.output()
            )
        });
        let session_id = created
            .get("sessionId")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("new session answer without a sessionId: {created}"))
            .to_owned();
        Some(Browser {
            client,
            session_url: format!("{base}/session/{session_id}"),
            session_id,
            driver,
            _profile: profile,
        })
    }

    /// Sends one command of this session (`path` relative to `/session/<id>`).
    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}{path}", self.session_url);
        request(&self.client, method, &url, body).await
    }

    /// [`Browser::command`], panicking with what failed.
    async fn must(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Value {
        let what = format!("{method} {path}");
        match self.command(method, path, body).await {
            Ok(value) => value,
            Err(e) => panic!(
                "WebDriver {what} failed: {e} (page: {})",
                self.url_excerpt().await
            ),
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.must(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.must(reqwest::Method::POST, path, Some(&body)).await
    }

    /// The current URL for a failure message (cut: a `data:` URL holds the whole page).
    async fn url_excerpt(&self) -> String {
        match self.command(reqwest::Method::GET, "/url", None).await {
            Ok(Value::String(url)) => excerpt(&url, 200),
            Ok(other) => other.to_string(),
            Err(e) => format!("unknown ({e})"),
        }
    }

    /// The URL and the start of the source, for a failure message about the page.
    async fn page_context(&self) -> String {
        let source = match self.command(reqwest::Method::GET, "/source", None).await {
            Ok(Value::String(s)) => excerpt(&s, SOURCE_EXCERPT_CHARS),
            Ok(other) => other.to_string(),
            Err(e) => format!("unavailable ({e})"),
        };
        format!("page {}\nsource: {source}", self.url_excerpt().await)
    }

    /// Opens `url` and waits for it to load (chromedriver's page-load strategy `normal`).
    ///
    /// # Panics
    /// When the navigation fails or takes over 30 s.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The current page's URL.
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn current_url(&self) -> String {
        string(self.get("/url").await)
    }

    /// The current page's title.
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn title(&self) -> String {
        string(self.get("/title").await)
    }

    /// The current page's source (the DOM serialised now, scripts' changes included).
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn source(&self) -> String {
        string(self.get("/source").await)
    }

    /// Goes back one page in the history.
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn back(&self) {
        self.post("/back", json!({})).await;
    }

    /// Reloads the page.
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await;
    }

    /// The first element matching `css`.
    ///
    /// # Panics
    /// When none matches: the message has the selector, the page's URL and a source excerpt.
    pub async fn find(&self, css: &str) -> Element<'_> {
        let body = json!({ "using": "css selector", "value": css });
        match self
            .command(reqwest::Method::POST, "/element", Some(&body))
            .await
        {
            Ok(value) => self.element(&value),
            Err(e) if e.error == "no such element" => {
                panic!(
                    "no element matches `{css}` on {}",
                    self.page_context().await
                )
            }
            Err(e) => panic!(
                "finding `{css}` failed: {e}\non {}",
                self.page_context().await
            ),
        }
    }

    /// Every element matching `css`, in document order (none is not an error).
    ///
    /// # Panics
    /// When the driver fails (e.g. `css` is not a valid selector).
    pub async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self
            .post(
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        found
            .as_array()
            .unwrap_or_else(|| panic!("elements answer is not an array: {found}"))
            .iter()
            .map(|v| self.element(v))
            .collect()
    }

    /// Whether any element matches `css`.
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    fn element(&self, reference: &Value) -> Element<'_> {
        let id = reference
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("not an element reference: {reference}"));
        Element {
            browser: self,
            id: id.to_owned(),
        }
    }

    /// Clears the first element matching `css` and types `text` into it.
    ///
    /// # Panics
    /// As [`Browser::find`]; when the element is not editable.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await;
        field.send_keys(text).await;
    }

    /// Clicks the first element matching `css`. A click that submits a form starts a navigation:
    /// follow it with [`Browser::wait_until_url`] or [`Browser::wait_for`].
    ///
    /// # Panics
    /// As [`Browser::find`]; when the element cannot be clicked (hidden, covered).
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await;
    }

    /// The rendered text of the first element matching `css`.
    ///
    /// # Panics
    /// As [`Browser::find`].
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await
    }

    /// Selects the option with `value` of the `<select>` matching `css_of_select`, by clicking it.
    ///
    /// # Panics
    /// When the select or the option is missing (with the page's context).
    pub async fn select_option(&self, css_of_select: &str, value: &str) {
        let select = self.find(css_of_select).await;
        let option_css = format!("option[value=\"{}\"]", css_string(value));
        let body = json!({ "using": "css selector", "value": option_css });
        let path = format!("/element/{}/element", select.id);
        match self
            .command(reqwest::Method::POST, &path, Some(&body))
            .await
        {
            Ok(option) => self.element(&option).click().await,
            Err(e) => panic!(
                "`{css_of_select}` has no {option_css}: {e}\non {}",
                self.page_context().await
            ),
        }
    }

    /// Waits until an element matches `css` (polling every 50 ms) and returns the first.
    ///
    /// # Panics
    /// When none does within `timeout` (with the page's context).
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element<'_> {
        let started = Instant::now();
        loop {
            if let Some(first) = self.find_all(css).await.into_iter().next() {
                return first;
            }
            if started.elapsed() > timeout {
                panic!(
                    "no element matched `{css}` within {} ms on {}",
                    timeout.as_millis(),
                    self.page_context().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the URL matches `pattern` (a substring, or a `|url: &str|` predicate),
    /// polling every 50 ms, and returns it.
    ///
    /// # Panics
    /// When it does not within `timeout` (with the page's context).
    pub async fn wait_until_url(&self, pattern: impl UrlPattern, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            let url = self.current_url().await;
            if pattern.matches(&url) {
                return url;
            }
            if started.elapsed() > timeout {
                panic!(
                    "waited {} ms for {}; still on {}",
                    timeout.as_millis(),
                    pattern.describe(),
                    self.page_context().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs `script` as a function body in the page (`arguments[i]` are `args`; pass elements as
    /// [`Element::reference`]) and returns what it returns.
    ///
    /// # Panics
    /// When the script throws.
    pub async fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs `script` as a function body whose last argument is a callback; returns the value it
    /// is called with.
    ///
    /// # Panics
    /// When the script throws or does not call back within 30 s.
    pub async fn execute_async(&self, script: &str, args: &[Value]) -> Value {
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// Resizes the browser window (its outer size: headless Chromium's viewport is 143 px
    /// shorter, see [`Browser::set_viewport_size`]).
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .await;
    }

    /// Resizes the window so that the page's viewport (`innerWidth` × `innerHeight`) is
    /// `width` × `height` CSS pixels, as a screenshot then is.
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn set_viewport_size(&self, width: u32, height: u32) {
        self.set_window_size(width, height).await;
        let inner = self
            .execute("return [window.innerWidth, window.innerHeight];", &[])
            .await;
        let measured = |i: usize| {
            inner
                .get(i)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or_else(|| panic!("not a viewport size: {inner}"))
        };
        let (inner_width, inner_height) = (measured(0), measured(1));
        // Grow the window by what its frame takes (in headless Chromium: no width, 143 px of
        // simulated browser UI in height).
        if (inner_width, inner_height) != (width, height) {
            self.set_window_size(
                (2 * width).saturating_sub(inner_width),
                (2 * height).saturating_sub(inner_height),
            )
            .await;
        }
    }

    /// Saves a PNG of the viewport at `path`, creating its parent directories.
    ///
    /// # Panics
    /// When the driver fails or the file cannot be written.
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let encoded = string(self.get("/screenshot").await);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_else(|e| panic!("the screenshot is not base64: {e}"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Saves `target/screenshots/<name>-desktop.png` (viewport [`DESKTOP`]) and
    /// `<name>-phone.png` (viewport [`PHONE`]), then restores the [`DESKTOP`] window; returns the
    /// two paths (desktop, phone).
    ///
    /// # Panics
    /// As [`Browser::screenshot`].
    pub async fn screenshots(&self, name: &str) -> (PathBuf, PathBuf) {
        let dir = repo_root().join("target/screenshots");
        let desktop = dir.join(format!("{name}-desktop.png"));
        let phone = dir.join(format!("{name}-phone.png"));
        self.set_viewport_size(DESKTOP.0, DESKTOP.1).await;
        self.screenshot(&desktop).await;
        self.set_viewport_size(PHONE.0, PHONE.1).await;
        self.screenshot(&phone).await;
        self.set_window_size(DESKTOP.0, DESKTOP.1).await;
        (desktop, phone)
    }

    /// Deletes every cookie of the current page's domain.
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn delete_all_cookies(&self) {
        self.must(reqwest::Method::DELETE, "/cookie", None).await;
    }

    /// The current page's cookies, as WebDriver serialises them (`name`, `value`, `path`,
    /// `domain`, `secure`, `httpOnly`, `sameSite`, `expiry`).
    ///
    /// # Panics
    /// When the driver fails.
    pub async fn cookies(&self) -> Vec<Value> {
        match self.get("/cookie").await {
            Value::Array(cookies) => cookies,
            other => panic!("cookies answer is not an array: {other}"),
        }
    }

    /// Runs axe-core on the current page and returns its violations (every impact), or `None`
    /// when axe-core is not installed (the test is recorded as skipped).
    ///
    /// # Panics
    /// When axe-core is missing and `CI` is set; when `SHOPNOW_AXE_JS` names no file; when axe
    /// fails on the page.
    pub async fn axe(&self) -> Option<Vec<AxeViolation>> {
        let Some(js) = axe_js() else {
            missing(&format!(
                "no axe-core (set {AXE_JS_ENV} or install it under target/axe-core)"
            ));
            return None;
        };
        let loaded = self.execute("return typeof window.axe;", &[]).await;
        if loaded != json!("object") {
            let source = std::fs::read_to_string(&js)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", js.display()));
            self.execute(&source, &[]).await;
        }
        let answer = self
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(
                   (r) => done({ violations: r.violations.map((v) => ({
                     id: v.id, impact: v.impact, help: v.help,
                     targets: v.nodes.map((n) => n.target),
                   })) }),
                   (e) => done({ error: String(e && e.stack || e) }));",
                &[],
            )
            .await;
        if let Some(error) = answer.get("error") {
            panic!("axe.run failed on {}: {error}", self.url_excerpt().await);
        }
        let violations = answer
            .get("violations")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("unexpected axe answer: {answer}"));
        Some(violations.iter().map(axe_violation).collect())
    }

    /// Panics listing every `serious` or `critical` axe violation of the current page, which
    /// the message calls `page_name`. Returns without checking when axe-core may be skipped
    /// (see [`Browser::axe`]).
    ///
    /// # Panics
    /// On such a violation; as [`Browser::axe`].
    pub async fn assert_accessible(&self, page_name: &str) {
        let Some(violations) = self.axe().await else {
            return;
        };
        let blocking: Vec<String> = violations
            .iter()
            .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
            .map(|v| format!("  - {v}"))
            .collect();
        assert!(
            blocking.is_empty(),
            "{page_name} ({}) has {} serious or critical accessibility violation(s):\n{}",
            self.url_excerpt().await,
            blocking.len(),
            blocking.join("\n")
        );
    }
}

/// One violation of `axe.run`'s answer, as the script in [`Browser::axe`] shapes it.
fn axe_violation(v: &Value) -> AxeViolation {
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let targets = v
        .get("targets")
        .and_then(Value::as_array)
        .map(|nodes| nodes.iter().map(selector).collect())
        .unwrap_or_default();
    AxeViolation {
        id: text("id").unwrap_or_default(),
        impact: text("impact"),
        help: text("help").unwrap_or_default(),
        targets,
    }
}

/// An axe node target: an array of selectors, one per frame or shadow root on the way.
fn selector(target: &Value) -> String {
    match target {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().map(selector).collect::<Vec<_>>().join(" >> "),
        other => other.to_string(),
    }
}

/// A string answer, or a panic saying what came instead.
fn string(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => panic!("expected a string from WebDriver, got {other}"),
    }
}

/// One WebDriver request: the answer's `value`, or its `{error, message}`.
async fn request(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, WebDriverError> {
    let mut builder = client.request(method, url);
    if let Some(body) = body {
        builder = builder.json(body);
    }
    let transport = |e: reqwest::Error| WebDriverError {
        error: "transport".to_owned(),
        message: e.to_string(),
    };
    let resp = builder.send().await.map_err(transport)?;
    let status = resp.status();
    let mut answer: Value = resp.json().await.map_err(transport)?;
    let value = answer
        .get_mut("value")
        .map(Value::take)
        .unwrap_or(Value::Null);
    match value.get("error").and_then(Value::as_str) {
        Some(error) => Err(WebDriverError {
            error: error.to_owned(),
            // The first line only: chromedriver appends its session info and a native stack.
            message: value
                .get("message")
                .and_then(Value::as_str)
                .and_then(|m| m.lines().next())
                .unwrap_or_default()
                .to_owned(),
        }),
        None if !status.is_success() => Err(WebDriverError {
            error: format!("HTTP {status}"),
            message: value.to_string(),
        }),
        None => Ok(value),
    }
}

impl Element<'_> {
    /// This element as a script argument of [`Browser::execute`].
    pub fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    fn path(&self, command: &str) -> String {
        format!("/element/{}/{command}", self.id)
    }

    /// Clicks the element (scrolling it into view first).
    ///
    /// # Panics
    /// When it cannot be clicked (hidden, covered, gone).
    pub async fn click(&self) {
        self.browser.post(&self.path("click"), json!({})).await;
    }

    /// Types `text` into the element.
    ///
    /// # Panics
    /// When it is not editable.
    pub async fn send_keys(&self, text: &str) {
        self.browser
            .post(&self.path("value"), json!({ "text": text }))
            .await;
    }

    /// Empties an input or textarea.
    ///
    /// # Panics
    /// When it is not editable.
    pub async fn clear(&self) {
        self.browser.post(&self.path("clear"), json!({})).await;
    }

    /// The element's rendered text.
    ///
    /// # Panics
    /// When the element is gone.
    pub async fn text(&self) -> String {
        string(self.browser.get(&self.path("text")).await)
    }

    /// The element's attribute `name`, `None` when it has none.
    ///
    /// # Panics
    /// When the element is gone.
    pub async fn attribute(&self, name: &str) -> Option<String> {
        match self
            .browser
            .get(&self.path(&format!("attribute/{name}")))
            .await
        {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }

    /// The element's DOM property `name` (e.g. `value`, `checked`), `null` when it has none.
    ///
    /// # Panics
    /// When the element is gone.
    pub async fn property(&self, name: &str) -> Value {
        self.browser
            .get(&self.path(&format!("property/{name}")))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_chromedriver_s_start_line() {
        let output = "Starting ChromeDriver 156.0 on port 0\nOnly local connections are allowed.\nChromeDriver was started successfully on port 44719.\n";
        assert_eq!(listening_port(output), Some(44719));
        assert_eq!(listening_port("Starting ChromeDriver on port 0\n"), None);
    }

    #[test]
    fn css_strings_escape_quotes_and_backslashes() {
        assert_eq!(css_string(r#"a"b\c"#), r#"a\"b\\c"#);
    }

    #[test]
    fn axe_targets_join_frame_paths() {
        let v = json!({"id": "label", "impact": "critical", "help": "h",
                       "targets": [["#a"], ["iframe", "#b"]]});
        let violation = axe_violation(&v);
        assert_eq!(violation.targets, ["#a", "iframe >> #b"]);
        assert_eq!(violation.impact.as_deref(), Some("critical"));
    }
}
