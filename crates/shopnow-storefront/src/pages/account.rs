//! Account pages: sign up, sign in, sign out (revokes the refresh family at identity), and the
//! account page (display name, password, delete). Sign-in and sign-up are open to anyone; the
//! account page needs a session.

use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use shopnow_kernel::http::Method;

use crate::api::{Call, Failure, Problem, Service};
use crate::app::{Ctx, PageError, PageResult};
use crate::form::Form;
use crate::session::{Session, idle_expiry};
use crate::views::{csrf_field, problem_box, text_input};
use crate::wire::User;

/// Identity's token answer.
#[derive(Deserialize)]
pub struct Tokens {
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

/// `next` if it is a path on this site, else `/` (no open redirects: `//host` and `/\host`
/// are other sites to a browser).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.bytes().any(|b| b.is_ascii_control()) =>
        {
            path
        }
        _ => "/",
    }
}

/// The path (and query) of a `Referer` URL.
pub fn referer_path(referer: &str) -> Option<&str> {
    let rest = referer.split_once("://")?.1;
    rest.find('/').and_then(|at| rest.get(at..))
}

fn next_field(next: &str) -> Markup {
    html! { input type="hidden" name="next" value=(next); }
}

fn sign_in_view(ctx: &Ctx<'_>, email: &str, next: &str, problem: Option<&Problem>) -> Markup {
    let token = ctx.csrf_token();
    html! {
        h1 { "Sign in" }
        @if let Some(p) = problem { (problem_box(p)) }
        form class="stack" method="post" action="/sign-in" {
            (csrf_field(&token))
            (next_field(next))
            (text_input("email", "email", "Email address", email, "email", problem.and_then(|p| p.field("email"))))
            (text_input("password", "password", "Password", "", "password", problem.and_then(|p| p.field("password"))))
            button type="submit" { "Sign in" }
        }
        p { "New here? " a href="/sign-up" { "Create an account" } }
    }
}

/// `GET /sign-in?next=`.
///
/// # Errors
/// [`PageError::BadRequest`] for an undecodable query.
pub fn sign_in_form(ctx: &mut Ctx<'_>) -> PageResult {
    let query = ctx.query()?;
    let next = safe_next(query.get("next")).to_owned();
    Ok(ctx.render(200, "Sign in", sign_in_view(ctx, "", &next, None)))
}

/// Signs in with identity and starts a session.
fn establish(ctx: &mut Ctx<'_>, email: &str, password: &str) -> Result<(), Failure> {
    let id = ctx.api.request_id().to_owned();
    let tokens: Tokens = ctx
        .api
        .run(&Call::send(
            Service::Identity,
            Method::Post,
            "/v1/auth/token",
            Some(json!({ "email": email, "password": password })),
        ))?
        .parse(&id)?;
    let user: User = ctx
        .api
        .run(&Call::get(Service::Identity, "/v1/users/me").bearer(&tokens.access_token))?
        .parse(&id)?;
    let now = ctx.ports.clock.now_ms();
    let session = Session {
        user_id: user.id,
        display_name: user.display_name,
        email: user.email,
        roles: user.roles,
        access_token: tokens.access_token,
        access_expires_ms: now.saturating_add(tokens.expires_in.saturating_mul(1000)),
        refresh_token: tokens.refresh_token,
        expires_ms: idle_expiry(now),
    };
    ctx.start_session(session)
        .map_err(|_| Failure::Unavailable { request_id: id })
}

/// `POST /sign-in`.
///
/// # Errors
/// [`PageError::Csrf`] without a valid token; [`PageError::Unavailable`] when identity fails.
pub fn sign_in(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let next = safe_next(form.get("next")).to_owned();
    let email = form.text("email").to_owned();
    match establish(ctx, &email, form.get("password").unwrap_or("")) {
        Ok(()) => Ok(ctx.redirect(&next)),
        Err(Failure::Problem(problem)) => {
            let status = problem.status;
            Ok(ctx.render(
                status,
                "Sign in",
                sign_in_view(ctx, &email, &next, Some(&*problem)),
            ))
        }
        Err(Failure::Unavailable { request_id }) => Err(PageError::Unavailable(request_id)),
    }
}

fn sign_up_view(ctx: &Ctx<'_>, form: &Form, problem: Option<&Problem>) -> Markup {
    let token = ctx.csrf_token();
    let err = |field: &str| problem.and_then(|p| p.field(field));
    let seller = form.text("role") == "seller";
    html! {
        h1 { "Create an account" }
        @if let Some(p) = problem { (problem_box(p)) }
        form class="stack" method="post" action="/sign-up" {
            (csrf_field(&token))
            (text_input("display_name", "display_name", "Your name", form.text("display_name"), "text", err("display_name")))
            (text_input("email", "email", "Email address", form.text("email"), "email", err("email")))
            (text_input("password", "password", "Password (at least 12 characters)", "", "password", err("password")))
            fieldset {
                legend { "I want to" }
                div class="choice" {
                    input id="role-customer" type="radio" name="role" value="customer" checked[!seller];
                    label for="role-customer" { "Shop" }
                }
                div class="choice" {
                    input id="role-seller" type="radio" name="role" value="seller" checked[seller];
                    label for="role-seller" { "Sell" }
                }
            }
            button type="submit" { "Create account" }
        }
        p { "Already have an account? " a href="/sign-in" { "Sign in" } }
    }
}

/// `GET /sign-up`.
///
/// # Errors
/// Never in practice; the signature matches the other pages.
pub fn sign_up_form(ctx: &mut Ctx<'_>) -> PageResult {
    Ok(ctx.render(
        200,
        "Create an account",
        sign_up_view(ctx, &Form::default(), None),
    ))
}

/// `POST /sign-up`: registers, then signs in.
///
/// # Errors
/// [`PageError::Csrf`] without a valid token; [`PageError::Unavailable`] when identity fails.
pub fn sign_up(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let role = if form.text("role") == "seller" {
        "seller"
    } else {
        "customer"
    };
    let body = json!({
        "email": form.text("email"),
        "password": form.get("password").unwrap_or(""),
        "display_name": form.text("display_name"),
        "role": role,
    });
    let outcome = ctx
        .api
        .run(&Call::send(
            Service::Identity,
            Method::Post,
            "/v1/users",
            Some(body),
        ))
        .and_then(|_| establish(ctx, form.text("email"), form.get("password").unwrap_or("")));
    match outcome {
        Ok(()) => Ok(ctx.redirect("/")),
        Err(Failure::Problem(problem)) => {
            let status = problem.status;
            Ok(ctx.render(
                status,
                "Create an account",
                sign_up_view(ctx, &form, Some(&*problem)),
            ))
        }
        Err(Failure::Unavailable { request_id }) => Err(PageError::Unavailable(request_id)),
    }
}

/// `POST /sign-out`: revokes the refresh family at identity, forgets the session.
///
/// # Errors
/// [`PageError::Csrf`] without a valid token (a forged sign-out is refused too).
pub fn sign_out(ctx: &mut Ctx<'_>) -> PageResult {
    ctx.form()?;
    if let Some(session) = ctx.end_session()? {
        ctx.revoke(&session.refresh_token);
    }
    Ok(ctx.redirect("/"))
}

fn account_view(
    ctx: &Ctx<'_>,
    session: &Session,
    problem: Option<&Problem>,
    notice: Option<&str>,
) -> Markup {
    let token = ctx.csrf_token();
    let err = |field: &str| problem.and_then(|p| p.field(field));
    html! {
        h1 { "Your account" }
        @if let Some(n) = notice { p class="notice" role="status" { (n) } }
        @if let Some(p) = problem { (problem_box(p)) }
        dl class="facts" {
            dt { "Email address" } dd { (session.email) }
            dt { "Roles" } dd { (session.roles.join(", ")) }
        }
        section aria-labelledby="name-h" {
            h2 id="name-h" { "Display name" }
            form class="stack" method="post" action="/account" {
                (csrf_field(&token))
                (text_input("display_name", "display_name", "Display name", &session.display_name, "text", err("display_name")))
                button type="submit" { "Save name" }
            }
        }
        section aria-labelledby="password-h" {
            h2 id="password-h" { "Password" }
            form class="stack" method="post" action="/account/password" {
                (csrf_field(&token))
                (text_input("current_password", "current_password", "Current password", "", "password", err("current_password")))
                (text_input("new_password", "new_password", "New password (at least 12 characters)", "", "password", err("new_password")))
                button type="submit" { "Change password" }
            }
        }
        section aria-labelledby="delete-h" {
            h2 id="delete-h" { "Delete account" }
            p { "This erases your personal data and signs you out everywhere." }
            form class="stack" method="post" action="/account/delete" {
                (csrf_field(&token))
                div class="choice" {
                    input id="confirm" type="checkbox" name="confirm" value="yes" required;
                    label for="confirm" { "I understand this cannot be undone" }
                }
                button type="submit" class="danger" { "Delete my account" }
            }
        }
    }
}

/// `GET /account` (signed in).
///
/// # Errors
/// [`PageError::SignIn`] for a visitor.
pub fn show(ctx: &mut Ctx<'_>) -> PageResult {
    let session = ctx.require_user()?.clone();
    Ok(ctx.render(200, "Your account", account_view(ctx, &session, None, None)))
}

fn account_outcome(ctx: &mut Ctx<'_>, outcome: Result<(), Failure>, notice: &str) -> PageResult {
    match outcome {
        Ok(()) => {
            let session = ctx.require_user()?.clone();
            Ok(ctx.render(
                200,
                "Your account",
                account_view(ctx, &session, None, Some(notice)),
            ))
        }
        Err(Failure::Problem(problem)) if problem.status == 401 => Err(PageError::SignIn),
        Err(Failure::Problem(problem)) => {
            let session = ctx.require_user()?.clone();
            let status = problem.status;
            Ok(ctx.render(
                status,
                "Your account",
                account_view(ctx, &session, Some(&*problem), None),
            ))
        }
        Err(Failure::Unavailable { request_id }) => Err(PageError::Unavailable(request_id)),
    }
}

/// `POST /account`: changes the display name (signed in).
///
/// # Errors
/// [`PageError::SignIn`] for a visitor, [`PageError::Csrf`] without a valid token.
pub fn update(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.token()?;
    let id = ctx.api.request_id().to_owned();
    let outcome = ctx
        .api
        .run(
            &Call::send(
                Service::Identity,
                Method::Patch,
                "/v1/users/me",
                Some(json!({ "display_name": form.text("display_name") })),
            )
            .bearer(&token),
        )
        .and_then(|reply| reply.parse::<User>(&id));
    let outcome = match outcome {
        Ok(user) => ctx
            .update_session(|s| s.display_name = user.display_name)
            .map_err(|_| Failure::Unavailable { request_id: id }),
        Err(failure) => Err(failure),
    };
    account_outcome(ctx, outcome, "Your name is saved.")
}

/// `POST /account/password` (signed in). Identity revokes every refresh token, so the session
/// ends and the user signs in again with the new password.
///
/// # Errors
/// [`PageError::SignIn`] for a visitor, [`PageError::Csrf`] without a valid token.
pub fn change_password(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.token()?;
    let outcome = ctx.api.run(
        &Call::send(
            Service::Identity,
            Method::Post,
            "/v1/users/me/password",
            Some(json!({
                "current_password": form.get("current_password").unwrap_or(""),
                "new_password": form.get("new_password").unwrap_or(""),
            })),
        )
        .bearer(&token),
    );
    match outcome {
        Ok(_) => {
            ctx.end_session()?;
            Ok(ctx.redirect("/sign-in?next=%2Faccount"))
        }
        Err(failure) => account_outcome(ctx, Err(failure), ""),
    }
}

/// `POST /account/delete` (signed in, with the confirmation box ticked).
///
/// # Errors
/// [`PageError::SignIn`] for a visitor, [`PageError::Csrf`] without a valid token.
pub fn delete(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.token()?;
    if form.text("confirm") != "yes" {
        let session = ctx.require_user()?.clone();
        let problem = Problem {
            status: 422,
            slug: "validation-failed".into(),
            title: "Please confirm".into(),
            detail: String::new(),
            errors: vec![crate::api::FieldProblem {
                field: "confirm".into(),
                message: "tick the box to confirm".into(),
            }],
            request_id: ctx.api.request_id().to_owned(),
        };
        return Ok(ctx.render(
            422,
            "Your account",
            account_view(ctx, &session, Some(&problem), None),
        ));
    }
    match ctx
        .api
        .run(&Call::send(Service::Identity, Method::Delete, "/v1/users/me", None).bearer(&token))
    {
        Ok(_) => {
            ctx.end_session()?;
            Ok(ctx.redirect("/"))
        }
        Err(failure) => account_outcome(ctx, Err(failure), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/orders/1?x=2")), "/orders/1?x=2");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "orders",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            referer_path("http://127.0.0.1:3000/products/1?a=b"),
            Some("/products/1?a=b")
        );
        assert_eq!(referer_path("http://127.0.0.1:3000"), None);
    }
}
