//! Typed helpers for the API tests: register, sign in, bearer headers, token minting with
//! test keys, and leak checks. Black-box: only HTTP, plus the kernel's pure JWT signer to forge
//! tokens the way an attacker (or another issuer) would.

#![allow(
    dead_code,
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: not every test uses every helper, and they fail loudly"
)]

use serde_json::{Value, json};
use shopnow_kernel::Secret;
use shopnow_kernel::auth::{AccessClaims, Role, Roles, SigningKey, TokenAudience, TokenSigner};
use shopnow_testkit::{SpawnOptions, TestApp};

/// A password that meets the policy.
pub const PASSWORD: &str = "violet-kettle-79-orbit";
/// Another one.
pub const OTHER_PASSWORD: &str = "amber-lantern-42-quartz";

/// Test signing seed A (base64url of bytes 0..32) and its key id.
pub const SEED_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
pub const KID_A: &str = "test-a";
/// Test signing seed B (bytes 31..0).
pub const SEED_B: &str = "HxweHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE";
pub const KID_B: &str = "test-b";
/// Issuer and audience configured in the tests' spawn options.
pub const ISSUER: &str = "https://identity.test.shopnow.dev";
pub const AUDIENCE: &str = "shopnow-test";

/// Spawn options with test key A, issuer and audience.
pub fn test_key_options() -> SpawnOptions {
    SpawnOptions::default()
        .variable("jwt_signing_key", SEED_A)
        .variable("jwt_key_id", KID_A)
        .variable("jwt_issuer", ISSUER)
        .variable("jwt_audience", AUDIENCE)
}

/// Runs a test on both backends with custom spawn options (the testkit's `api_test!` uses the
/// defaults).
macro_rules! api_test_with {
    ($options:expr, async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                let $app = ::shopnow_testkit::TestApp::spawn_with(
                    ::shopnow_testkit::Backend::Embedded,
                    $options,
                )
                .await;
                $body
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !::shopnow_testkit::backend_available(::shopnow_testkit::Backend::Postgres) {
                    return;
                }
                let $app = ::shopnow_testkit::TestApp::spawn_with(
                    ::shopnow_testkit::Backend::Postgres,
                    $options,
                )
                .await;
                $body
            }
        }
    };
}

/// A user as returned by the API.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub body: Value,
}

/// Tokens as returned by sign-in and refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub body: Value,
}

/// `Authorization` header value for `token`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Fails if `text` contains a password hash or anything shaped like a stored token hash.
pub fn assert_no_secrets(text: &str) {
    assert!(!text.contains("$argon2"), "password hash leaked: {text}");
    assert!(!text.contains("fake$"), "password hash leaked: {text}");
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run + 1
        } else {
            0
        };
        assert!(
            run < 64,
            "a 64-hex-digit hash appears in a response: {text}"
        );
    }
}

/// Reads a JSON body after checking it has no secrets.
pub async fn json_body(resp: reqwest::Response) -> Value {
    let text = resp.text().await.expect("body");
    assert_no_secrets(&text);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `POST /v1/users` with `body`.
pub async fn post_user(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post("/v1/users")
        .json(body)
        .send()
        .await
        .expect("request")
}

/// Registers `email` with [`PASSWORD`]; asserts 201.
pub async fn register(app: &TestApp, email: &str) -> User {
    register_with(
        app,
        json!({"email": email, "password": PASSWORD, "display_name": "Ada"}),
    )
    .await
}

/// Registers with a full body; asserts 201.
pub async fn register_with(app: &TestApp, body: Value) -> User {
    let resp = post_user(app, &body).await;
    let status = resp.status().as_u16();
    let body = json_body(resp).await;
    assert_eq!(status, 201, "register: {body}");
    User {
        id: body["id"].as_str().expect("id").to_owned(),
        email: body["email"].as_str().expect("email").to_owned(),
        body,
    }
}

/// `POST /v1/auth/token`.
pub async fn post_token(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post("/v1/auth/token")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request")
}

/// Signs in; asserts 200.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Tokens {
    tokens(post_token(app, email, password).await).await
}

/// Parses a 200 token response.
pub async fn tokens(resp: reqwest::Response) -> Tokens {
    let status = resp.status().as_u16();
    let body = json_body(resp).await;
    assert_eq!(status, 200, "tokens: {body}");
    Tokens {
        access_token: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        refresh_token: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
        body,
    }
}

/// Registers `email` and signs in.
pub async fn signed_in(app: &TestApp, email: &str) -> (User, Tokens) {
    let user = register(app, email).await;
    let tokens = sign_in(app, email, PASSWORD).await;
    (user, tokens)
}

/// `POST /v1/auth/refresh`.
pub async fn post_refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .expect("request")
}

/// `GET /v1/users/me` with `access_token`.
pub async fn get_me(app: &TestApp, access_token: &str) -> reqwest::Response {
    app.get("/v1/users/me")
        .header("authorization", bearer(access_token))
        .send()
        .await
        .expect("request")
}

/// Mints an access token as the given issuer would.
pub struct Mint<'a> {
    pub seed: &'a str,
    pub kid: &'a str,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub subject: &'a str,
    pub issued_at_ms: i64,
    pub ttl_secs: u64,
}

impl<'a> Mint<'a> {
    /// A valid token for `subject` with key A, now.
    pub fn valid(subject: &'a str) -> Self {
        Self {
            seed: SEED_A,
            kid: KID_A,
            issuer: ISSUER,
            audience: AUDIENCE,
            subject,
            issued_at_ms: now_ms(),
            ttl_secs: 900,
        }
    }

    /// Signs it.
    pub fn sign(&self) -> String {
        let key =
            SigningKey::from_seed_b64(&Secret::new(self.seed.to_owned()), self.kid).expect("key");
        let signer = TokenSigner::new(
            key,
            TokenAudience {
                issuer: self.issuer.to_owned(),
                audience: self.audience.to_owned(),
            },
        );
        let roles = Roles::from([Role::Customer]);
        signer
            .sign(&AccessClaims {
                subject: self.subject,
                roles: &roles,
                token_id: "test-jti",
                issued_at_ms: self.issued_at_ms,
                ttl_secs: self.ttl_secs,
            })
            .expect("sign")
    }
}

/// `kid:base64url(public key)` for `seed`, as `jwt_previous_public_keys` takes it.
pub fn public_key_entry(seed: &str, kid: &str) -> String {
    SigningKey::from_seed_b64(&Secret::new(seed.to_owned()), kid)
        .expect("key")
        .public_key()
        .to_list_entry()
}

/// A unique address for `name` in this test: the key-value store (Redis on the Postgres backend)
/// outlives a test, so sign-in throttling counters must never be shared between tests or runs.
pub fn email(app: &TestApp, name: &str) -> String {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..8].to_owned());
    format!("{name}.{run}.{}@example.com", app.addr().port())
}

/// Wall-clock now in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
