//! `/v1/users/me` (read, update, erase) and `/v1/users/me/password`.

use serde::Deserialize;
use shopnow_identity::app::change_password::change_password as change;
use shopnow_identity::app::erase_account::erase_account;
use shopnow_identity::app::get_user::get_user;
use shopnow_identity::app::update_profile::update_profile;
use shopnow_identity::domain::password::MAX_PASSWORD_CHARS;
use shopnow_identity::domain::{DisplayName, Password};
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::{parse_body, required};
use shopnow_kernel::{ApiError, Secret};

use super::BODY_LIMIT;
use crate::wiring::App;

/// `PATCH /v1/users/me` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    display_name: Option<String>,
}

/// `POST /v1/users/me/password` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: Option<Secret<String>>,
    new_password: Option<Secret<String>>,
}

/// `GET /v1/users/me`.
pub fn get(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    let view = app.run(request, |ports| {
        get_user(ports, &principal, &principal.user_id)
    })?;
    HttpResponse::json(200, &view)
}

/// `PATCH /v1/users/me`: 200 with the updated user.
pub fn update(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    let (body, mut errors) = parse_body::<UpdateBody>(request, BODY_LIMIT)?;
    let name = required(body.display_name, "display_name", &mut errors)
        .and_then(|n| check(&mut errors, "display_name", DisplayName::parse(&n)));
    let name = errors.finish(|| name)?;
    let view = app.run(request, |ports| update_profile(ports, &principal, &name))?;
    HttpResponse::json(200, &view)
}

/// `POST /v1/users/me/password`: 204; revokes every refresh token of the user.
pub fn change_password(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    let (body, mut errors) = parse_body::<PasswordBody>(request, BODY_LIMIT)?;
    let current = required(body.current_password, "current_password", &mut errors).and_then(|p| {
        if p.expose().chars().count() > MAX_PASSWORD_CHARS {
            errors.add("current_password", "is incorrect");
            None
        } else {
            Some(p)
        }
    });
    let new = required(body.new_password, "new_password", &mut errors)
        .and_then(|p| check(&mut errors, "new_password", Password::parse(p)));
    let (current, new) = errors.finish(|| Some((current?, new?)))?;
    app.run(request, |ports| change(ports, &principal, &current, &new))?;
    Ok(HttpResponse::empty(204))
}

/// `DELETE /v1/users/me`: 204; personal data erased, sessions revoked.
pub fn erase(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    app.run(request, |ports| erase_account(ports, &principal))?;
    Ok(HttpResponse::empty(204))
}
