//! `/v1/auth/token` (sign in), `/v1/auth/refresh` (rotate) and `/v1/auth/logout`.

use serde::{Deserialize, Serialize};
use shopnow_identity::app::TokenPair;
use shopnow_identity::app::refresh::refresh as refresh_session;
use shopnow_identity::app::sign_in::{Credentials, sign_in};
use shopnow_identity::app::sign_out::sign_out;
use shopnow_identity::domain::session::MAX_REFRESH_TOKEN_LEN;
use shopnow_identity::domain::{Email, RefreshToken};
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::{parse_body, required};
use shopnow_kernel::{ApiError, FieldErrors, Secret};

use super::BODY_LIMIT;
use crate::wiring::App;

/// `POST /v1/auth/token` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    email: Option<String>,
    password: Option<Secret<String>>,
}

/// `POST /v1/auth/refresh` and `/v1/auth/logout` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: Option<Secret<String>>,
}

/// Token response (RFC 6749 §5.1 shape). The only place secrets are exposed.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: &'a str,
}

fn token_response(pair: &TokenPair) -> Result<HttpResponse, ApiError> {
    let body = TokenResponse {
        access_token: pair.access_token.expose(),
        token_type: "Bearer",
        expires_in: pair.expires_in,
        refresh_token: pair.refresh_token.secret().expose(),
    };
    Ok(HttpResponse::json(200, &body)?
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"))
}

fn presented_refresh_token(request: &HttpRequest) -> Result<RefreshToken, ApiError> {
    let (body, mut errors) = parse_body::<RefreshBody>(request, BODY_LIMIT)?;
    let token = required(body.refresh_token, "refresh_token", &mut errors).and_then(|t| {
        let len = t.expose().len();
        if len == 0 || len > MAX_REFRESH_TOKEN_LEN {
            errors.add("refresh_token", "must be 1..=128 characters");
            None
        } else {
            Some(RefreshToken::presented(t))
        }
    });
    errors.finish(|| token)
}

/// `POST /v1/auth/token`: 200 with tokens; 401 `invalid-credentials`; 429 when throttled.
pub fn token(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let (body, mut errors): (TokenBody, FieldErrors) = parse_body(request, BODY_LIMIT)?;
    let email = required(body.email, "email", &mut errors)
        .and_then(|e| check(&mut errors, "email", Email::parse(&e)));
    let password = required(body.password, "password", &mut errors).and_then(|p| {
        // Bound the work argon2 does on attacker input; no policy check (legacy passwords).
        if p.expose().chars().count() > 1024 {
            errors.add("password", "is too long");
            None
        } else {
            Some(p)
        }
    });
    let credentials = errors.finish(|| {
        Some(Credentials {
            email: email?,
            password: password?,
        })
    })?;
    let client = app.client(request, app.settings.client_sign_in_limit);
    let pair = app.run(request, |ports| sign_in(ports, credentials, &client))?;
    token_response(&pair)
}

/// `POST /v1/auth/refresh`: 200 with rotated tokens; 401 `invalid-refresh-token`.
pub fn refresh(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let presented = presented_refresh_token(request)?;
    let pair = app.run(request, |ports| refresh_session(ports, &presented))?;
    token_response(&pair)
}

/// `POST /v1/auth/logout`: 204; revokes the token's family.
pub fn logout(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let presented = presented_refresh_token(request)?;
    app.run(request, |ports| sign_out(ports, &presented))?;
    Ok(HttpResponse::empty(204))
}
