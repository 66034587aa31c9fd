//! `/.well-known/jwks.json`: the public keys that verify access tokens — the current signing
//! key and the previous keys still accepted during a rotation.

use shopnow_kernel::ApiError;
use shopnow_kernel::http::HttpResponse;

use crate::wiring::App;

/// `GET /.well-known/jwks.json`: public, cacheable for five minutes.
pub fn get(app: &App) -> Result<HttpResponse, ApiError> {
    Ok(
        HttpResponse::json(200, &app.settings.keys.verifier()?.jwks())?
            .with_header("cache-control", "public, max-age=300"),
    )
}
