//! Typed helpers for the identity API tests: test signing keys and the spawn options that use
//! them, refresh, `/v1/users/me`, token minting as another issuer would, and per-test addresses.
//! The helpers every suite uses (register, sign in, leak checks) come from `tests/support/`.

#![expect(
    clippy::expect_used,
    reason = "test helpers: not every test uses every helper, and they fail loudly"
)]

use serde_json::json;
use shopnow_kernel::Secret;
use shopnow_kernel::auth::{AccessClaims, Role, Roles, SigningKey};
use shopnow_testkit::{SpawnOptions, TestApp};

#[macro_use]
#[path = "../support/mod.rs"]
mod shared;
pub use shared::*;

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
        let roles = Roles::from([Role::Customer]);
        sign_access_token(
            self.seed,
            self.kid,
            self.issuer,
            self.audience,
            &AccessClaims {
                subject: self.subject,
                roles: &roles,
                token_id: "test-jti",
                issued_at_ms: self.issued_at_ms,
                ttl_secs: self.ttl_secs,
            },
        )
    }
}

/// `kid:base64url(public key)` for `seed`, as `jwt_previous_public_keys` takes it.
pub fn public_key_entry(seed: &str, kid: &str) -> String {
    SigningKey::from_seed_b64(&Secret::new(seed.to_owned()), kid)
        .expect("key")
        .public_key()
        .to_list_entry()
}

/// A unique address for `name` in this test and run (addresses stay unique across the tests'
/// databases and logs).
pub fn email(app: &TestApp, name: &str) -> String {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..8].to_owned());
    format!("{name}.{run}.{}@example.com", app.addr().port())
}

/// [`service_sql`] on identity's database.
pub async fn identity_sql(app: &TestApp, sql: &str) -> Vec<Vec<Option<String>>> {
    service_sql(app, "identity", sql).await
}

/// Makes every insert into identity's `audit_log` fail (a trigger), so a use case's second
/// statement fails after its first succeeded; [`mend_audit_log`] undoes it.
pub async fn break_audit_log(app: &TestApp) {
    let sql = if app.database_url("identity_database_url").is_some() {
        "CREATE FUNCTION shopnow_test_fail() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'audit log broken by the test'; END $$;\n\
         CREATE TRIGGER shopnow_test_fail BEFORE INSERT ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION shopnow_test_fail()"
    } else {
        "CREATE TRIGGER shopnow_test_fail BEFORE INSERT ON audit_log \
         BEGIN SELECT RAISE(ABORT, 'audit log broken by the test'); END"
    };
    identity_sql(app, sql).await;
}

/// Undoes [`break_audit_log`].
pub async fn mend_audit_log(app: &TestApp) {
    let sql = if app.database_url("identity_database_url").is_some() {
        "DROP TRIGGER shopnow_test_fail ON audit_log"
    } else {
        "DROP TRIGGER shopnow_test_fail"
    };
    identity_sql(app, sql).await;
}
