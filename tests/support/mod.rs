//! Helpers shared by the identity, catalog and orders API tests: register, sign in, actors and
//! bearer headers, access-token signing, leak checks, and running a test on both backends with
//! custom spawn options. Black-box: only HTTP, plus the kernel's pure JWT signer to forge tokens
//! the way an attacker (or another issuer) would. Each suite's own helpers live in its
//! `support.rs`, which re-exports this module; nothing here knows one suite's routes beyond
//! identity's registration and sign-in.

#![expect(
    dead_code,
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: not every test uses every helper, and they fail loudly"
)]

use serde_json::{Value, json};
use shopnow_kernel::Secret;
use shopnow_kernel::auth::{AccessClaims, SigningKey, TokenAudience, TokenSigner};
use shopnow_testkit::TestApp;

/// A password that meets identity's policy.
pub const PASSWORD: &str = "violet-kettle-79-orbit";

/// Runs a test on every host and backend with custom spawn options (the testkit's `api_test!`
/// with `with`).
macro_rules! api_test_with {
    ($options:expr, async fn $name:ident($app:ident) $body:block) => {
        ::shopnow_testkit::api_test!(with $options, async fn $name($app) $body);
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

/// Someone with an access token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub token: String,
}

impl Actor {
    /// `Authorization` header value.
    pub fn bearer(&self) -> String {
        bearer(&self.token)
    }
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

/// Registers `email` with [`PASSWORD`] and `role` through identity, then signs in; asserts 201
/// and 200.
pub async fn sign_up(app: &TestApp, email: &str, role: &str) -> Actor {
    let user = register_with(
        app,
        json!({"email": email, "password": PASSWORD, "display_name": "Tester", "role": role}),
    )
    .await;
    let tokens = sign_in(app, email, PASSWORD).await;
    Actor {
        id: user.id,
        token: tokens.access_token,
    }
}

/// A unique address for `local` (Redis and PostgreSQL data are shared between tests).
pub fn unique_email(local: &str) -> String {
    format!("{local}-{}@example.com", uuid::Uuid::new_v4().simple())
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

/// Wall-clock now in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Signs `claims` as an identity service holding `seed` (key id `kid`) for `issuer` and
/// `audience` would.
pub fn sign_access_token(
    seed: &str,
    kid: &str,
    issuer: &str,
    audience: &str,
    claims: &AccessClaims<'_>,
) -> String {
    let key = SigningKey::from_seed_b64(&Secret::new(seed.to_owned()), kid).expect("key");
    let signer = TokenSigner::new(
        key,
        TokenAudience {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        },
    );
    signer.sign(claims).expect("sign")
}

/// Runs `sql` (no parameters, portable between PostgreSQL and SQLite; statements separated by
/// `;` and a line break) on `service`'s own database under the API: PostgreSQL on the Postgres
/// backend, the SQLite file on the embedded one. For tests that must recreate a state the API
/// cannot reach. Returns the rows of queries, each value as text (NULL as `None`).
pub async fn service_sql(app: &TestApp, service: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    if let Some(url) = app.database_url(&format!("{service}_database_url")) {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        return client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect();
    }
    let path = app.sqlite_path(service).expect("embedded backend");
    let db = rusqlite::Connection::open(path).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let mut rows = Vec::new();
    for statement in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
        let mut stmt = db
            .prepare(statement)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        let columns = stmt.column_count();
        let mut result = stmt.raw_query();
        while let Some(row) = result.next().unwrap() {
            rows.push(
                (0..columns)
                    .map(|i| match row.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Null => None,
                        rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                        rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            Some(String::from_utf8_lossy(t).into_owned())
                        }
                    })
                    .collect(),
            );
        }
    }
    rows
}
