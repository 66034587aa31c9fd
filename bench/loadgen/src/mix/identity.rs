//! The identity mix: what shoppers' clients ask of the identity service. Setup signs up (or reuses)
//! `--users` accounts and signs each in for a real access token; the load phase then sends
//!
//! | kind | weight | request |
//! | --- | --- | --- |
//! | `sign-in` | 3 | `POST /v1/auth/token` with a user's email and password (argon2id on the server) |
//! | `users.me` | 72 | `GET /v1/users/me` with that user's bearer token (local EdDSA verification) |
//! | `jwks` | 25 | `GET /.well-known/jwks.json` (what every other service and gateway fetches) |
//!
//! The wire shapes (sign-up and sign-in bodies, the token field) live in the constants and
//! functions below, in one place, so a change of the identity API is a change here.

use anyhow::{Context as _, bail};
use http::{Method, Request, StatusCode};
use serde_json::json;

use super::{Kind, Template, Workload};
use crate::client::{Body, SetupClient};
use crate::rng::Rng;

const SIGN_UP_PATH: &str = "/v1/users";
const SIGN_IN_PATH: &str = "/v1/auth/token";
const ME_PATH: &str = "/v1/users/me";
const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Kind indexes, in [`IdentityMix::kinds`] order.
const SIGN_IN: usize = 0;
const ME: usize = 1;
const JWKS: usize = 2;

/// Not a secret: benchmark accounts exist only in throwaway test-host state.
const PASSWORD: &str = "bench-password-0123456789";

fn email(i: u32) -> String {
    format!("bench-user-{i}@example.com")
}

fn sign_up_body(i: u32, email: &str) -> serde_json::Value {
    json!({ "email": email, "password": PASSWORD, "display_name": format!("Bench User {i}") })
}

fn sign_in_body(email: &str) -> serde_json::Value {
    json!({ "email": email, "password": PASSWORD })
}

/// The access token in a sign-in response.
fn access_token(body: &[u8]) -> anyhow::Result<String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).context("sign-in answered non-JSON")?;
    match value.get("access_token").and_then(|t| t.as_str()) {
        Some(token) => Ok(token.to_owned()),
        None => bail!("sign-in response has no access_token string"),
    }
}

/// One benchmark account's prepared requests.
#[derive(Debug)]
struct User {
    sign_in: Template,
    me: Template,
}

/// The identity mix, ready to run.
#[derive(Debug)]
pub(crate) struct IdentityMix {
    kinds: Vec<Kind>,
    users: Vec<User>,
    jwks: Template,
}

impl IdentityMix {
    /// Signs up `users` accounts (an account that already exists is reused) and signs each in.
    ///
    /// Fails when a sign-up answers anything but 201 or 409, or a sign-in does not return a token.
    pub(crate) async fn setup(client: &mut SetupClient, users: u32) -> anyhow::Result<Self> {
        if users == 0 {
            bail!("--users must be at least 1");
        }
        let target = client.target().clone();
        let mut prepared = Vec::new();
        for i in 0..users {
            let email = email(i);
            let sign_up = Template::new(&target, Method::POST, SIGN_UP_PATH)?
                .json(&sign_up_body(i, &email))?;
            client
                .expect(
                    sign_up.build()?,
                    &[StatusCode::CREATED, StatusCode::CONFLICT],
                )
                .await
                .with_context(|| format!("cannot sign up {email}"))?;
            let sign_in =
                Template::new(&target, Method::POST, SIGN_IN_PATH)?.json(&sign_in_body(&email))?;
            let (_, body) = client
                .expect(sign_in.build()?, &[StatusCode::OK])
                .await
                .with_context(|| format!("cannot sign in {email}"))?;
            let token = access_token(&body)?;
            let me = Template::new(&target, Method::GET, ME_PATH)?
                .header("authorization", &format!("Bearer {token}"))?;
            prepared.push(User { sign_in, me });
        }
        Ok(Self {
            kinds: vec![
                Kind::new("sign-in", 3),
                Kind::new("users.me", 72),
                Kind::new("jwks", 25),
            ],
            users: prepared,
            jwks: Template::new(&target, Method::GET, JWKS_PATH)?,
        })
    }

    fn user(&self, rng: &mut Rng) -> anyhow::Result<&User> {
        let i = usize::try_from(rng.below(self.users.len() as u64))?;
        self.users.get(i).context("no benchmark user")
    }
}

impl Workload for IdentityMix {
    fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    fn kinds_mut(&mut self) -> &mut [Kind] {
        &mut self.kinds
    }

    fn request(&self, kind: usize, rng: &mut Rng) -> anyhow::Result<Request<Body>> {
        match kind {
            SIGN_IN => self.user(rng)?.sign_in.build(),
            ME => self.user(rng)?.me.build(),
            JWKS => self.jwks.build(),
            other => bail!("identity mix has no kind {other}"),
        }
    }

    fn describe(&self) -> String {
        format!("identity mix over {} users", self.users.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_sign_in_response() {
        assert_eq!(
            access_token(br#"{"access_token":"abc","token_type":"Bearer"}"#).unwrap(),
            "abc"
        );
        assert!(access_token(br#"{"token":"abc"}"#).is_err());
        assert!(access_token(b"nope").is_err());
    }
}
