//! The storefront's request pipeline: the visitor's session and CSRF binding, the route table,
//! and the mapping of every outcome to a page (our own 404, 500 and retry pages). Pure: ports come
//! in as traits.

use maud::Markup;
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};
use shopnow_kernel::ids::{Clock, RandomSource};
use shopnow_kernel::kv::KeyValue;
use shopnow_kernel::log::{LogLine, Logger};
use shopnow_kernel::outbound::HttpClient;
use shopnow_kernel::{ApiError, Secret};

use crate::api::{Api, Call, Failure, Problem, Service, ServiceUrls};
use crate::cookie::{CookieMode, Cookies};
use crate::form::Form;
use crate::pages;
use crate::session::{self, IDLE_SECS, Session, SessionStore};
use crate::views::{self, Chrome};
use crate::{assets, csrf};

/// How the storefront is configured (from Spin variables).
pub struct Settings {
    /// Where the services are.
    pub urls: ServiceUrls,
    /// The key of CSRF tokens (at least 16 bytes).
    pub csrf_secret: Secret<String>,
    /// Cookie attributes.
    pub cookie_mode: CookieMode,
    /// Payment tokens offered at checkout (the simulator's test tokens); empty = a text field.
    pub payment_tokens: Vec<String>,
    /// Each service call's deadline, ms.
    pub call_timeout_ms: u64,
    /// The deadline of a checkout call, ms (orders runs the whole saga inside it).
    pub checkout_timeout_ms: u64,
}

/// The host interfaces a request uses.
pub struct Ports<'a> {
    /// Outbound HTTP (service chaining).
    pub http: &'a dyn HttpClient,
    /// The session store.
    pub kv: &'a dyn KeyValue,
    /// Time.
    pub clock: &'a dyn Clock,
    /// Randomness for session ids.
    pub random: &'a dyn RandomSource,
    /// Where failures are logged.
    pub logger: &'a dyn Logger,
}

/// A page's outcome when it is not the page itself.
#[derive(Debug)]
pub enum PageError {
    /// 404 page.
    NotFound,
    /// 405 (a GET-only or POST-only page).
    MethodNotAllowed(&'static str),
    /// The page needs a signed-in user: to the sign-in page, then back.
    SignIn,
    /// 403: the user lacks the role.
    Forbidden,
    /// 403: the form's CSRF token is missing or wrong.
    Csrf,
    /// 400: a malformed form or query.
    BadRequest(&'static str),
    /// A problem the API answered that the page does not handle itself.
    Problem(Box<Problem>),
    /// 503: a service failed or timed out; the retry page.
    Unavailable(String),
    /// 500: our own failure (session store).
    Internal(String),
}

impl From<Failure> for PageError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Problem(problem) if problem.status == 404 => Self::NotFound,
            Failure::Problem(problem) if problem.status == 401 => Self::SignIn,
            Failure::Problem(problem) if problem.status == 403 => Self::Forbidden,
            Failure::Problem(problem) => Self::Problem(problem),
            Failure::Unavailable { request_id } => Self::Unavailable(request_id),
        }
    }
}

/// What handlers return.
pub type PageResult = Result<HttpResponse, PageError>;

/// One request as the pages see it.
pub struct Ctx<'a> {
    /// The request.
    pub request: &'a HttpRequest,
    /// Configuration.
    pub settings: &'a Settings,
    /// Ports.
    pub ports: &'a Ports<'a>,
    /// The services.
    pub api: Api<'a>,
    cookies: Cookies,
    session: Option<(String, Session)>,
    binding: String,
    set_cookies: Vec<String>,
}

/// Seconds an anonymous visitor's CSRF binding lasts.
const CSRF_COOKIE_SECS: u64 = 24 * 3600;
/// Refresh the access token when it has less than this left, ms.
const REFRESH_MARGIN_MS: i64 = 60_000;
/// A session's idle expiry is written again only when it would move by more than this, ms.
const RENEW_STEP_MS: i64 = 3_600_000;

impl<'a> Ctx<'a> {
    /// The signed-in user.
    pub fn user(&self) -> Option<&Session> {
        self.session.as_ref().map(|(_, s)| s)
    }

    /// The signed-in user, or [`PageError::SignIn`].
    ///
    /// # Errors
    /// [`PageError::SignIn`] for a visitor.
    pub fn require_user(&self) -> Result<&Session, PageError> {
        self.user().ok_or(PageError::SignIn)
    }

    /// The signed-in user holding one of `roles`.
    ///
    /// # Errors
    /// [`PageError::SignIn`] for a visitor, [`PageError::Forbidden`] without the role.
    pub fn require_role(&self, roles: &[&str]) -> Result<&Session, PageError> {
        let user = self.require_user()?;
        if roles.iter().any(|r| user.has_role(r)) {
            Ok(user)
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// The user's access token.
    ///
    /// # Errors
    /// [`PageError::SignIn`] for a visitor.
    pub fn token(&self) -> Result<String, PageError> {
        Ok(self.require_user()?.access_token.clone())
    }

    /// This page's CSRF token.
    pub fn csrf_token(&self) -> String {
        csrf::token(self.settings.csrf_secret.expose().as_bytes(), &self.binding)
    }

    /// The request's form body after its CSRF token is checked.
    ///
    /// # Errors
    /// [`PageError::BadRequest`] for an undecodable body, [`PageError::Csrf`] for a missing or
    /// wrong token.
    pub fn form(&self) -> Result<Form, PageError> {
        let form = Form::parse(&self.request.body).map_err(|e| PageError::BadRequest(e.0))?;
        let presented = form.get(csrf::FIELD).unwrap_or("");
        if csrf::verify(
            self.settings.csrf_secret.expose().as_bytes(),
            &self.binding,
            presented,
        ) {
            Ok(form)
        } else {
            Err(PageError::Csrf)
        }
    }

    /// The query string.
    ///
    /// # Errors
    /// [`PageError::BadRequest`] when it cannot be decoded.
    pub fn query(&self) -> Result<Form, PageError> {
        Form::parse(self.request.query.as_bytes()).map_err(|e| PageError::BadRequest(e.0))
    }

    /// A page (200 unless `status` says otherwise) in the site frame.
    pub fn render(&self, status: u16, title: &str, main: Markup) -> HttpResponse {
        let query = self
            .query()
            .ok()
            .filter(|_| self.request.path == "/search")
            .and_then(|q| q.get("q").map(str::to_owned))
            .unwrap_or_default();
        let token = self.csrf_token();
        let chrome = Chrome {
            user: self.user(),
            csrf: &token,
            query: &query,
        };
        html_response(status, views::page(&chrome, title, main))
    }

    /// A 303 to `location` (after a form).
    pub fn redirect(&self, location: &str) -> HttpResponse {
        HttpResponse::empty(303).with_header("location", location)
    }

    /// Starts a session for a user who just signed in, replacing any earlier one.
    ///
    /// # Errors
    /// [`PageError::Internal`] when the store or the randomness fails.
    pub fn start_session(&mut self, session: Session) -> Result<(), PageError> {
        if let Some((old_id, old)) = self.session.take() {
            // Replaced, not cleared: the new cookie below overwrites the old one; the old
            // session's refresh family is revoked (best effort, as at sign-out).
            SessionStore::new(self.ports.kv)
                .delete(&old_id)
                .map_err(|e| PageError::Internal(e.0))?;
            self.revoke(&old.refresh_token);
        }
        let id = session::new_id(self.ports.random).map_err(|e| PageError::Internal(e.0))?;
        SessionStore::new(self.ports.kv)
            .save(&id, &session)
            .map_err(|e| PageError::Internal(e.0))?;
        self.set_cookies
            .push(self.cookies.set_session(&id, IDLE_SECS));
        self.binding = id.clone();
        self.session = Some((id, session));
        Ok(())
    }

    /// Revokes `refresh_token`'s family at identity. Best effort: revoking is idempotent, and if
    /// identity does not answer the session is gone here anyway and the family expires on its own.
    pub fn revoke(&self, refresh_token: &str) {
        let _revoked = self.api.run(&Call::send(
            Service::Identity,
            Method::Post,
            "/v1/auth/logout",
            Some(serde_json::json!({ "refresh_token": refresh_token })),
        ));
    }

    /// Ends the session (the store entry and the cookie); a no-op for a visitor.
    ///
    /// # Errors
    /// [`PageError::Internal`] when the store fails.
    pub fn end_session(&mut self) -> Result<Option<Session>, PageError> {
        let Some((id, session)) = self.session.take() else {
            return Ok(None);
        };
        SessionStore::new(self.ports.kv)
            .delete(&id)
            .map_err(|e| PageError::Internal(e.0))?;
        self.set_cookies.push(self.cookies.clear_session());
        self.ensure_anonymous_binding()?;
        Ok(Some(session))
    }

    /// Replaces the stored session (after a profile change).
    ///
    /// # Errors
    /// [`PageError::Internal`] when the store fails.
    pub fn update_session(&mut self, change: impl FnOnce(&mut Session)) -> Result<(), PageError> {
        if let Some((id, session)) = self.session.as_mut() {
            change(session);
            SessionStore::new(self.ports.kv)
                .save(id, session)
                .map_err(|e| PageError::Internal(e.0))?;
        }
        Ok(())
    }

    fn ensure_anonymous_binding(&mut self) -> Result<(), PageError> {
        let existing = self.cookies.csrf(Some(&cookie_header(self.request)));
        let value = match existing {
            Some(value) => value,
            None => {
                let value =
                    session::new_id(self.ports.random).map_err(|e| PageError::Internal(e.0))?;
                self.set_cookies
                    .push(self.cookies.set_csrf(&value, CSRF_COOKIE_SECS));
                value
            }
        };
        self.binding = value;
        Ok(())
    }

    /// Loads the visitor's session, rotating the access token when it is about to expire.
    fn load_session(&mut self) -> Result<(), PageError> {
        let now = self.ports.clock.now_ms();
        let store = SessionStore::new(self.ports.kv);
        let loaded = match self.cookies.session(Some(&cookie_header(self.request))) {
            Some(id) => store
                .load(&id, now)
                .map_err(|e| PageError::Internal(e.0))?
                .map(|s| (id, s)),
            None => None,
        };
        let Some((id, mut session)) = loaded else {
            return self.ensure_anonymous_binding();
        };
        let mut changed = false;
        if session.access_expires_ms - now < REFRESH_MARGIN_MS {
            let call = Call::send(
                Service::Identity,
                Method::Post,
                "/v1/auth/refresh",
                Some(serde_json::json!({ "refresh_token": session.refresh_token })),
            );
            match self
                .api
                .run(&call)
                .and_then(|r| r.parse::<pages::account::Tokens>(self.api.request_id()))
            {
                Ok(tokens) => {
                    session.access_token = tokens.access_token;
                    session.refresh_token = tokens.refresh_token;
                    session.access_expires_ms =
                        now.saturating_add(tokens.expires_in.saturating_mul(1000));
                    changed = true;
                }
                Err(Failure::Problem(_)) => {
                    // Spent, revoked or expired: the session is over.
                    store.delete(&id).map_err(|e| PageError::Internal(e.0))?;
                    self.set_cookies.push(self.cookies.clear_session());
                    return self.ensure_anonymous_binding();
                }
                Err(Failure::Unavailable { request_id }) => {
                    return Err(PageError::Unavailable(request_id));
                }
            }
        }
        // The idle expiry moves forward at most once per RENEW_STEP_MS, so a page view is a
        // key-value read, not a write as well.
        let renewed = session::idle_expiry(now);
        if changed || renewed - session.expires_ms > RENEW_STEP_MS {
            session.expires_ms = renewed;
            store
                .save(&id, &session)
                .map_err(|e| PageError::Internal(e.0))?;
            // The cookie's Max-Age moves with the stored expiry, so an active visitor stays in.
            self.set_cookies
                .push(self.cookies.set_session(&id, IDLE_SECS));
        }
        self.binding = id.clone();
        self.session = Some((id, session));
        Ok(())
    }
}

/// Every `Cookie` header joined: HTTP/2 clients may split cookies across several.
fn cookie_header(request: &HttpRequest) -> String {
    request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .map(|(_, value)| value.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn html_response(status: u16, markup: Markup) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: markup.into_string().into_bytes(),
    }
}

/// Headers on every page: a strict CSP (no inline script or style), no framing, no sniffing,
/// and `no-store` so that Back after sign-out shows nothing of the account.
fn secure(mut response: HttpResponse, cacheable: bool) -> HttpResponse {
    let headers = [
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ];
    for (name, value) in headers {
        response.headers.push((name.into(), value.into()));
    }
    if !cacheable {
        response
            .headers
            .push(("cache-control".into(), "no-store".into()));
    }
    response
}

/// The host the browser asked for: `Host`, or the authority of Spin's `spin-full-url` (wasi:http
/// hands the authority over separately and Spin drops `Host` from the headers).
fn request_host(request: &HttpRequest) -> Option<&str> {
    request.header("host").or_else(|| {
        let url = request.header("spin-full-url")?;
        let rest = url.split_once("://")?.1;
        rest.split(['/', '?']).next()
    })
}

/// Serves one request: always a page (spin.toml routes only the storefront's own paths here).
///
/// # Errors
/// None today; the signature is the entry's (`shopnow_spin::serve`).
pub fn handle(
    settings: &Settings,
    ports: &Ports<'_>,
    request: &HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(asset) = assets::serve(request) {
        return Ok(secure(asset, true));
    }
    let cookies = Cookies::for_host(settings.cookie_mode, request_host(request));
    let api = Api::new(
        ports.http,
        ports.clock,
        &settings.urls,
        request,
        settings.call_timeout_ms,
        settings
            .checkout_timeout_ms
            .saturating_add(settings.call_timeout_ms),
    );
    let mut ctx = Ctx {
        request,
        settings,
        ports,
        api,
        cookies,
        session: None,
        binding: String::new(),
        set_cookies: Vec::new(),
    };
    let outcome = ctx.load_session().and_then(|()| pages::route(&mut ctx));
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => error_page(&ctx, error),
    };
    response.headers.extend(
        ctx.set_cookies
            .iter()
            .map(|c| ("set-cookie".to_owned(), c.clone())),
    );
    Ok(secure(response, false))
}

fn error_page(ctx: &Ctx<'_>, error: PageError) -> HttpResponse {
    let id = ctx.api.request_id().to_owned();
    match error {
        PageError::NotFound => ctx.render(
            404,
            "Not found",
            views::error_body("Page not found", "There is nothing at this address. It may have been removed, or the link is wrong.", None, None),
        ),
        PageError::MethodNotAllowed(allow) => ctx
            .render(405, "Not allowed", views::error_body("Not allowed", "This page cannot be used that way.", None, None))
            .with_header("allow", allow),
        PageError::SignIn => {
            let mut next = ctx.request.path.clone();
            if ctx.request.method == Method::Get && !ctx.request.query.is_empty() {
                next = format!("{next}?{}", ctx.request.query);
            }
            if ctx.request.method != Method::Get {
                next = pages::account::safe_next(ctx.request.header("referer").and_then(pages::account::referer_path)).to_owned();
            }
            ctx.redirect(&format!("/sign-in?{}", crate::form::query(&[("next", &next)])))
        }
        PageError::Forbidden => ctx.render(
            403,
            "Not allowed",
            views::error_body("Not allowed", "Your account cannot use this page.", None, None),
        ),
        PageError::Csrf => ctx.render(
            403,
            "Form expired",
            views::error_body("This form has expired", "For your security the form could not be accepted. Go back, reload the page and send it again.", Some(&id), None),
        ),
        PageError::BadRequest(what) => ctx.render(
            400,
            "Bad request",
            views::error_body("That request could not be read", what, Some(&id), None),
        ),
        PageError::Problem(problem) => {
            let status = problem.status;
            ctx.render(status, "Something is not right", maud::html! {
                h1 { "That did not work" }
                (views::problem_box(&problem))
                p class="request-id" { "Reference: " code { (problem.request_id) } }
                p { a href="/" { "Back to the shop" } }
            })
        }
        PageError::Unavailable(request_id) => {
            // One leading slash whatever the request had: `//orders` would be another host.
            let path = format!("/{}", ctx.request.path.trim_start_matches('/'));
            let retry = (ctx.request.method == Method::Get).then(|| {
                if ctx.request.query.is_empty() {
                    path.clone()
                } else {
                    format!("{path}?{}", ctx.request.query)
                }
            });
            ctx.render(
                503,
                "Temporarily unavailable",
                views::error_body("Something went wrong on our side", "The shop could not complete this in time. Please try again in a moment.", Some(&request_id), retry.as_deref()),
            )
            .with_header("retry-after", "2")
        }
        PageError::Internal(cause) => {
            // Logged once with the request id; never shown.
            ctx.ports.logger.log(
                LogLine::new("error", "storefront", &id)
                    .event("page.failed")
                    .field("http.path", &ctx.request.path)
                    .field("error", cause),
            );
            ctx.render(
                500,
                "Error",
                views::error_body("Something went wrong", "An unexpected error stopped this page. Please try again.", Some(&id), None),
            )
        }
    }
}
