//! Access-token settings and the bearer check every component shares: reading identity's issuer,
//! audience and public keys from Spin variables, and verifying a request's bearer token against
//! the host clock. What a principal may do (roles, ownership, service credentials) stays in each
//! component; this module must not depend on any service crate.

use std::cell::OnceCell;

use shopnow_kernel::ApiError;
use shopnow_kernel::auth::{Principal, PublicKey, TokenAudience, TokenVerifier};
use shopnow_kernel::http::HttpRequest;
use shopnow_kernel::ids::Clock as _;

use crate::{Config, SystemClock};

/// The issuer and audience tokens must carry, from `jwt_issuer` and `jwt_audience`.
///
/// # Errors
/// [`ApiError::Internal`] when either variable is missing or empty.
pub fn token_audience(config: Config) -> Result<TokenAudience, ApiError> {
    Ok(TokenAudience {
        issuer: config.required("jwt_issuer")?,
        audience: config.required("jwt_audience")?,
    })
}

/// Identity's token verifier for a service that verifies tokens but never signs them, from
/// [`token_audience`] and the `kid:key` list in `jwt_public_keys`, built on first use.
///
/// The variables are read with the rest of the settings (a missing one fails every request, as
/// any missing setting does), but the keys are parsed only when a request presents a bearer
/// token: parsing checks each key's Ed25519 point (a field exponentiation), and every request
/// is a fresh instance, so parsing eagerly cost every request, anonymous reads included —
/// 11 % of the server's CPU on a catalog product read under the test host (`perf` profile in
/// `docs/benchmarks.md`, "Component-model cost"). A malformed key fails the first request that
/// needs it, with the cause logged, instead of every request.
#[derive(Debug)]
pub struct LazyVerifier {
    keys: String,
    audience: TokenAudience,
    built: OnceCell<TokenVerifier>,
}

impl LazyVerifier {
    /// Reads `jwt_public_keys`, `jwt_issuer` and `jwt_audience`; parses nothing yet.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when a variable is missing or empty.
    pub fn from_variables(config: Config) -> Result<Self, ApiError> {
        Ok(Self::new(
            config.public_keys("jwt_public_keys")?,
            token_audience(config)?,
        ))
    }

    /// A verifier of `keys` (`kid:key` list) for tokens of `audience`, parsed on first use.
    pub fn new(keys: String, audience: TokenAudience) -> Self {
        Self {
            keys,
            audience,
            built: OnceCell::new(),
        }
    }

    /// The verifier, parsing the keys on the first call.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when a key is malformed.
    pub fn get(&self) -> Result<&TokenVerifier, ApiError> {
        if let Some(verifier) = self.built.get() {
            return Ok(verifier);
        }
        let keys = PublicKey::parse_list(&self.keys).map_err(ApiError::internal_from)?;
        Ok(self
            .built
            .get_or_init(|| TokenVerifier::new(keys, self.audience.clone())))
    }

    /// Verifies the bearer token of `request` at the host's current time; the keys are parsed
    /// only once a token is there to check.
    ///
    /// # Errors
    /// 401 `unauthenticated` without a bearer token, 401 `invalid-token` for a bad one,
    /// [`ApiError::Internal`] when a configured key is malformed.
    pub fn authenticate(&self, request: &HttpRequest) -> Result<Principal, ApiError> {
        let token = request.bearer_token()?;
        self.get()?.verify(token, SystemClock.now_ms())
    }
}

/// Verifies the bearer token of `request` with `verifier` at the host's current time.
///
/// # Errors
/// 401 `unauthenticated` without a bearer token, 401 `invalid-token` for a bad one.
pub fn authenticate(
    verifier: &TokenVerifier,
    request: &HttpRequest,
) -> Result<Principal, ApiError> {
    let token = request.bearer_token()?;
    verifier.verify(token, SystemClock.now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopnow_kernel::Secret;
    use shopnow_kernel::auth::{AccessClaims, Role, Roles, SigningKey, TokenSigner};
    use shopnow_kernel::http::Method;
    use shopnow_kernel::request_id::RequestId;

    const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const OTHER_SEED: &str = "HxweHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE";
    const NOW: i64 = 1_800_000_000_000;

    fn audience() -> TokenAudience {
        TokenAudience {
            issuer: "https://identity.shopnow.dev".into(),
            audience: "shopnow".into(),
        }
    }

    fn request(authorization: Option<&str>) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            path: "/v1/products".into(),
            query: String::new(),
            headers: authorization
                .map(|a| vec![("authorization".to_owned(), a.to_owned())])
                .unwrap_or_default(),
            body: Vec::new(),
            request_id: RequestId::from_header_or(None, || "r".into()),
        }
    }

    #[test]
    fn a_malformed_key_fails_only_the_requests_that_need_it() {
        let lazy = LazyVerifier::new("k1:AAAA".into(), audience());
        // No token: answered without parsing the keys, as for any anonymous request.
        assert!(matches!(
            lazy.authenticate(&request(None)),
            Err(ApiError::Unauthenticated)
        ));
        assert!(lazy.built.get().is_none());
        // A token needs the keys: the bad one is a server error, never an accepted token.
        assert!(matches!(
            lazy.authenticate(&request(Some("Bearer a.b.c"))),
            Err(ApiError::Internal { .. })
        ));
    }

    #[test]
    fn keys_are_parsed_once_and_verify_identitys_tokens() {
        let key = SigningKey::from_seed_b64(&Secret::new(SEED.into()), "k1").unwrap();
        let entry = key.public_key().to_list_entry();
        let signer = TokenSigner::new(key, audience());
        let roles = Roles::from([Role::Customer]);
        let token = signer
            .sign(&AccessClaims {
                subject: "user-1",
                roles: &roles,
                token_id: "jti-1",
                issued_at_ms: NOW,
                ttl_secs: 900,
            })
            .unwrap();
        let lazy = LazyVerifier::new(entry, audience());
        let first: *const TokenVerifier = lazy.get().unwrap();
        let again: *const TokenVerifier = lazy.get().unwrap();
        assert_eq!(first, again, "parsed once per instance");
        let principal = lazy.get().unwrap().verify(&token, NOW + 1_000).unwrap();
        assert_eq!(principal.user_id, "user-1");
        let stranger = SigningKey::from_seed_b64(&Secret::new(OTHER_SEED.into()), "k1").unwrap();
        let other = LazyVerifier::new(stranger.public_key().to_list_entry(), audience());
        assert!(other.get().unwrap().verify(&token, NOW + 1_000).is_err());
    }
}
