//! `/v1/users` (register) and `/v1/users/{id}` (read, self or admin).

use serde::Deserialize;
use shopnow_identity::app::get_user::get_user;
use shopnow_identity::app::register::{Registration, register as register_user};
use shopnow_identity::domain::{DisplayName, Email, Password};
use shopnow_kernel::auth::Role;
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::{parse_body, required};
use shopnow_kernel::{ApiError, Secret};

use super::BODY_LIMIT;
use crate::wiring::App;

/// `POST /v1/users` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    email: Option<String>,
    password: Option<Secret<String>>,
    display_name: Option<String>,
    role: Option<String>,
}

impl RegisterBody {
    fn validate(self, mut errors: shopnow_kernel::FieldErrors) -> Result<Registration, ApiError> {
        let email = required(self.email, "email", &mut errors)
            .and_then(|e| check(&mut errors, "email", Email::parse(&e)));
        let password = required(self.password, "password", &mut errors)
            .and_then(|p| check(&mut errors, "password", Password::parse(p)));
        let display_name = required(self.display_name, "display_name", &mut errors)
            .and_then(|n| check(&mut errors, "display_name", DisplayName::parse(&n)));
        let role = match self.role.as_deref() {
            None | Some("customer") => Some(Role::Customer),
            Some("seller") => Some(Role::Seller),
            Some("admin") => {
                errors.add("role", "admin cannot be self-assigned");
                None
            }
            Some(_) => {
                errors.add("role", "must be one of: customer, seller");
                None
            }
        };
        errors.finish(|| {
            Some(Registration {
                email: email?,
                password: password?,
                display_name: display_name?,
                role: role?,
            })
        })
    }
}

/// `POST /v1/users`: 201 with the user and its `Location`.
pub fn register(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let (body, errors) = parse_body::<RegisterBody>(request, BODY_LIMIT)?;
    let registration = body.validate(errors)?;
    let client = app.client(request, app.settings.client_register_limit);
    let view = app.run(request, |ports| {
        register_user(ports, registration, &app.settings.admins, &client)
    })?;
    let location = format!("/v1/users/{}", view.id);
    Ok(HttpResponse::json(201, &view)?.with_header("location", location))
}

/// `GET /v1/users/{id}`: the user themself or an admin; anyone else 404.
pub fn get(request: &HttpRequest, app: &App, id: &str) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    if !shopnow_kernel::ids::is_uuid(id) {
        return Err(ApiError::NotFound);
    }
    let view = app.run(request, |ports| get_user(ports, &principal, id))?;
    HttpResponse::json(200, &view)
}
