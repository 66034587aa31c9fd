//! Access-token settings and the bearer check every component shares: reading identity's issuer,
//! audience and public keys from Spin variables, and verifying a request's bearer token against
//! the host clock. What a principal may do (roles, ownership, service credentials) stays in each
//! component; this module must not depend on any service crate.

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

/// A verifier for identity's access tokens from [`token_audience`] and the `kid:key` list in
/// `jwt_public_keys`, for services that verify tokens but never sign them.
///
/// # Errors
/// [`ApiError::Internal`] when a variable is missing or a key is malformed.
pub fn public_key_verifier(config: Config) -> Result<TokenVerifier, ApiError> {
    let audience = token_audience(config)?;
    let keys = PublicKey::parse_list(&config.required("jwt_public_keys")?)
        .map_err(ApiError::internal_from)?;
    Ok(TokenVerifier::new(keys, audience))
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
