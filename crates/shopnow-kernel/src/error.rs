//! The closed `ApiError` vocabulary and its RFC 9457 problem+json rendering.
//!
//! Knows nothing of Spin or any service's domain: services map their `thiserror` enums into
//! `ApiError` once. Every variant has a stable `type` slug listed in `docs/problems.md`.

use serde::Serialize;

/// Base of every problem `type` URI; the slug is appended.
pub const PROBLEM_BASE_URI: &str = "https://shopnow.dev/problems/";

/// One invalid field of a request body, as shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON field name as it appears on the wire (top-level key).
    pub field: String,
    /// Human-readable reason; never echoes secret input.
    pub message: String,
}

/// Collects field errors so validation can report every bad field at once.
///
/// Only the first error per field is kept: a field that failed to deserialise is not also
/// reported as "required".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless that field already has an error.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if !self.has(&field) {
            self.0.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    /// Whether `field` already has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded errors, in the order they were found.
    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }

    /// Returns `value` when no error was recorded.
    ///
    /// # Errors
    /// [`ApiError::Validation`] listing every recorded field error.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        if self.0.is_empty() {
            value().ok_or_else(|| ApiError::internal("validated value missing after validation"))
        } else {
            Err(ApiError::Validation { errors: self.0 })
        }
    }

    /// Converts the collection into a validation error (even if empty).
    pub fn into_error(self) -> ApiError {
        ApiError::Validation { errors: self.0 }
    }
}

/// Records `result`'s error for `field` in `errors` (as [`FieldErrors::add`]) and returns `None`,
/// or returns the value: a wire type's conversion parses every field this way, then reports all
/// bad fields at once with [`FieldErrors::finish`].
pub fn check<T, E: std::fmt::Display>(
    errors: &mut FieldErrors,
    field: &str,
    result: Result<T, E>,
) -> Option<T> {
    result.map_err(|e| errors.add(field, e.to_string())).ok()
}

/// One product a stock reservation could not satisfy, as listed by an `out-of-stock` problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StockShortage {
    /// The product's id.
    pub product_id: String,
    /// How many units the request asked for.
    pub requested: u32,
    /// How many units are available now (0 for a product that is gone or inactive).
    pub available: u32,
}

/// Opaque cause of a 5xx, kept for the log line and never rendered.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every error a ShopNow API can answer with. Closed: adding a variant means adding a slug
/// to `docs/problems.md`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not valid JSON, not an object, or not UTF-8.
    #[error("malformed body: {detail}")]
    MalformedBody {
        /// What is wrong with the body (no echo of its content).
        detail: String,
    },
    /// 400: a pagination cursor was tampered with or is not ours.
    #[error("invalid cursor")]
    InvalidCursor,
    /// 400: a query parameter or path segment is invalid.
    #[error("bad request: {detail}")]
    BadRequest {
        /// What is wrong.
        detail: String,
    },
    /// 401: no credentials were presented on a protected route.
    #[error("authentication required")]
    Unauthenticated,
    /// 401: the bearer token is malformed, expired, not yet valid, for another audience or
    /// issuer, signed with another algorithm or an unknown key, or has a bad signature.
    #[error("invalid token: {reason}")]
    InvalidToken {
        /// Why the token was rejected; logged, not rendered (it would help an attacker probe).
        reason: String,
    },
    /// 401: sign-in with an unknown email or a wrong password (indistinguishable on purpose).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 401: the refresh token is unknown, expired, spent or revoked.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// 401: an internal route was called without a valid service credential.
    #[error("invalid service credential")]
    InvalidServiceCredential,
    /// 400: a route that must be idempotent was called without an `Idempotency-Key` header (or
    /// with one that is empty, longer than 255 characters or not visible ASCII).
    #[error("idempotency key required")]
    IdempotencyKeyRequired,
    /// 402: the payment provider declined the payment.
    #[error("payment declined")]
    PaymentDeclined,
    /// 403: authenticated but lacking the role for this operation.
    #[error("forbidden")]
    Forbidden,
    /// 404: no such route or resource, or a resource the caller may not know exists.
    #[error("not found")]
    NotFound,
    /// 405: the route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Methods the route accepts, for the `Allow` header.
        allow: Vec<&'static str>,
    },
    /// 409: the request conflicts with current state (e.g. an email already registered).
    #[error("conflict: {detail}")]
    Conflict {
        /// Which state conflicts; safe to show.
        detail: String,
    },
    /// 409: the request needs more stock than is available; lists every short product.
    #[error("out of stock")]
    OutOfStock {
        /// Every product that could not be reserved in full.
        items: Vec<StockShortage>,
    },
    /// 409: a request with the same `Idempotency-Key` is still being processed.
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    /// 412: the `If-Match` precondition does not match the current representation.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 428: the route changes a resource only under `If-Match`, and none was sent.
    #[error("precondition required")]
    PreconditionRequired,
    /// 413: the body is larger than the route accepts.
    #[error("payload too large")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: the body parsed but fields are unknown or invalid; lists every bad field.
    #[error("validation failed")]
    Validation {
        /// Every bad field.
        errors: Vec<FieldError>,
    },
    /// 422: the `Idempotency-Key` was already used with a different request body.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until the client may retry (`Retry-After`).
        retry_after_secs: u64,
    },
    /// 503: a dependency (database, key-value store) is unreachable.
    #[error("service unavailable")]
    ServiceUnavailable {
        /// Logged cause.
        #[source]
        cause: Cause,
    },
    /// 500: a bug or an unexpected dependency failure. The cause is logged, never rendered.
    #[error("internal error")]
    Internal {
        /// Logged cause.
        #[source]
        cause: Cause,
    },
}

/// The RFC 9457 body. `errors` is present only for validation problems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable URI: [`PROBLEM_BASE_URI`] + slug.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, stable summary of the problem type.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence, safe to show.
    pub detail: String,
    /// The request path this occurrence relates to.
    pub instance: String,
    /// The request id, also echoed in `x-request-id`.
    pub request_id: String,
    /// Field errors, for `validation-failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The short products, for `out-of-stock`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<StockShortage>>,
}

impl ApiError {
    /// A 500 with a message cause (for "cannot happen" branches).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            cause: message.into().into(),
        }
    }

    /// A 500 wrapping an error cause.
    pub fn internal_from(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal {
            cause: Box::new(cause),
        }
    }

    /// A single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        errors.into_error()
    }

    /// HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::MalformedBody { .. }
            | Self::InvalidCursor
            | Self::BadRequest { .. }
            | Self::IdempotencyKeyRequired => 400,
            Self::Unauthenticated
            | Self::InvalidToken { .. }
            | Self::InvalidCredentials
            | Self::InvalidRefreshToken
            | Self::InvalidServiceCredential => 401,
            Self::PaymentDeclined => 402,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict { .. } | Self::OutOfStock { .. } | Self::IdempotencyKeyInUse => 409,
            Self::PreconditionFailed => 412,
            Self::PreconditionRequired => 428,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType => 415,
            Self::Validation { .. } | Self::IdempotencyKeyReused => 422,
            Self::TooManyRequests { .. } => 429,
            Self::Internal { .. } => 500,
            Self::ServiceUnavailable { .. } => 503,
        }
    }

    /// The stable slug appended to [`PROBLEM_BASE_URI`].
    pub fn slug(&self) -> &'static str {
        match self {
            Self::MalformedBody { .. } => "malformed-body",
            Self::InvalidCursor => "invalid-cursor",
            Self::BadRequest { .. } => "bad-request",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken { .. } => "invalid-token",
            Self::InvalidCredentials => "invalid-credentials",
            Self::InvalidRefreshToken => "invalid-refresh-token",
            Self::InvalidServiceCredential => "invalid-service-credential",
            Self::IdempotencyKeyRequired => "idempotency-key-required",
            Self::PaymentDeclined => "payment-declined",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict { .. } => "conflict",
            Self::OutOfStock { .. } => "out-of-stock",
            Self::IdempotencyKeyInUse => "idempotency-key-in-use",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::PreconditionFailed => "precondition-failed",
            Self::PreconditionRequired => "precondition-required",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Validation { .. } => "validation-failed",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::ServiceUnavailable { .. } => "service-unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::MalformedBody { .. } => "Malformed request body",
            Self::InvalidCursor => "Invalid pagination cursor",
            Self::BadRequest { .. } => "Bad request",
            Self::Unauthenticated => "Authentication required",
            Self::InvalidToken { .. } => "Invalid access token",
            Self::InvalidCredentials => "Invalid credentials",
            Self::InvalidRefreshToken => "Invalid refresh token",
            Self::InvalidServiceCredential => "Invalid service credential",
            Self::IdempotencyKeyRequired => "Idempotency key required",
            Self::PaymentDeclined => "Payment declined",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::Conflict { .. } => "Conflict",
            Self::OutOfStock { .. } => "Out of stock",
            Self::IdempotencyKeyInUse => "Idempotency key in use",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::PreconditionFailed => "Precondition failed",
            Self::PreconditionRequired => "Precondition required",
            Self::PayloadTooLarge { .. } => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Validation { .. } => "Validation failed",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::ServiceUnavailable { .. } => "Service unavailable",
            Self::Internal { .. } => "Internal error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::MalformedBody { detail } | Self::BadRequest { detail } => detail.clone(),
            Self::InvalidCursor => "The cursor is not valid; restart from the first page.".into(),
            Self::Unauthenticated => "This route needs a bearer access token.".into(),
            Self::InvalidToken { .. } => "The access token is not valid.".into(),
            Self::InvalidCredentials => "The email or password is wrong.".into(),
            Self::InvalidRefreshToken => {
                "The refresh token is unknown, expired, spent or revoked; sign in again.".into()
            }
            Self::InvalidServiceCredential => "This route needs a valid service credential.".into(),
            Self::IdempotencyKeyRequired => {
                "This route needs an Idempotency-Key header of 1 to 255 visible ASCII characters."
                    .into()
            }
            Self::PaymentDeclined => "The payment was declined; try another payment method.".into(),
            Self::Forbidden => "You may not perform this operation.".into(),
            Self::NotFound => "The resource does not exist.".into(),
            Self::MethodNotAllowed { allow } => {
                format!("This route accepts: {}.", allow.join(", "))
            }
            Self::Conflict { detail } => detail.clone(),
            Self::OutOfStock { items } => {
                format!("{} product(s) do not have enough stock.", items.len())
            }
            Self::IdempotencyKeyInUse => {
                "A request with this Idempotency-Key is still being processed; retry later.".into()
            }
            Self::IdempotencyKeyReused => {
                "This Idempotency-Key was already used with a different request.".into()
            }
            Self::PreconditionFailed => {
                "The resource changed since you read it; fetch it again and retry.".into()
            }
            Self::PreconditionRequired => {
                "This change needs an If-Match header with the resource's current ETag.".into()
            }
            Self::PayloadTooLarge { limit } => format!("The body exceeds {limit} bytes."),
            Self::UnsupportedMediaType => "The body must be application/json.".into(),
            Self::Validation { errors } => format!("{} field(s) are invalid.", errors.len()),
            Self::TooManyRequests { retry_after_secs } => {
                format!("Too many attempts; retry after {retry_after_secs} seconds.")
            }
            Self::ServiceUnavailable { .. } => "A dependency is unavailable; retry later.".into(),
            Self::Internal { .. } => "An internal error occurred.".into(),
        }
    }

    /// Headers this error adds besides `content-type` and `x-request-id`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Unauthenticated => vec![("www-authenticate", "Bearer".to_owned())],
            Self::InvalidToken { .. } => vec![(
                "www-authenticate",
                "Bearer error=\"invalid_token\"".to_owned(),
            )],
            Self::MethodNotAllowed { allow } => vec![("allow", allow.join(", "))],
            Self::TooManyRequests { retry_after_secs } => {
                vec![("retry-after", retry_after_secs.to_string())]
            }
            Self::ServiceUnavailable { .. } | Self::IdempotencyKeyInUse => {
                vec![("retry-after", "1".to_owned())]
            }
            _ => Vec::new(),
        }
    }

    /// Renders the problem body for `instance` (the request path) and `request_id`.
    pub fn to_problem(&self, instance: &str, request_id: &str) -> Problem {
        Problem {
            type_uri: format!("{PROBLEM_BASE_URI}{}", self.slug()),
            title: self.title(),
            status: self.status(),
            detail: self.detail(),
            instance: instance.to_owned(),
            request_id: request_id.to_owned(),
            errors: match self {
                Self::Validation { errors } => Some(errors.clone()),
                _ => None,
            },
            items: match self {
                Self::OutOfStock { items } => Some(items.clone()),
                _ => None,
            },
        }
    }

    /// The cause chain for the log line: `slug: message: source: source…`. Contains no
    /// request data beyond what the variant carries (never secrets: variants hold none).
    pub fn log_chain(&self) -> String {
        let mut out = format!("{}: {self}", self.slug());
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            source = cause.source();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_render_their_cause() {
        let err = ApiError::internal("relation \"users\" does not exist at 10.0.0.5");
        let body = serde_json::to_string(&err.to_problem("/v1/users", "rid")).unwrap();
        assert!(!body.contains("users\\\" does not exist"));
        assert!(!body.contains("10.0.0.5"));
        assert!(body.contains("https://shopnow.dev/problems/internal"));
        assert!(err.log_chain().contains("10.0.0.5"));
    }

    #[test]
    fn validation_problems_list_every_field() {
        let mut errors = FieldErrors::new();
        errors.add("email", "is not an email address");
        errors.add("password", "is too short");
        errors.add("email", "second error for the same field is dropped");
        let problem = errors.into_error().to_problem("/v1/users", "rid");
        assert_eq!(problem.status, 422);
        let fields: Vec<_> = problem
            .errors
            .unwrap()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["email", "password"]);
    }

    #[test]
    fn invalid_token_carries_the_bearer_challenge() {
        let err = ApiError::InvalidToken {
            reason: "expired".into(),
        };
        assert_eq!(err.status(), 401);
        assert_eq!(
            err.headers(),
            vec![(
                "www-authenticate",
                "Bearer error=\"invalid_token\"".to_owned()
            )]
        );
        assert!(!err.to_problem("/", "r").detail.contains("expired"));
    }

    #[test]
    fn out_of_stock_lists_every_short_product() {
        let err = ApiError::OutOfStock {
            items: vec![StockShortage {
                product_id: "p1".into(),
                requested: 3,
                available: 1,
            }],
        };
        assert_eq!(err.status(), 409);
        let json = serde_json::to_value(err.to_problem("/v1/orders", "r")).unwrap();
        assert_eq!(json["type"], "https://shopnow.dev/problems/out-of-stock");
        assert_eq!(json["items"][0]["product_id"], "p1");
        assert_eq!(json["items"][0]["available"], 1);
        assert!(json.get("errors").is_none());
    }

    #[test]
    fn idempotency_and_payment_problems_have_their_statuses() {
        assert_eq!(ApiError::IdempotencyKeyRequired.status(), 400);
        assert_eq!(ApiError::PaymentDeclined.status(), 402);
        assert_eq!(ApiError::IdempotencyKeyInUse.status(), 409);
        assert_eq!(
            ApiError::IdempotencyKeyInUse.headers(),
            vec![("retry-after", "1".to_owned())]
        );
        assert_eq!(ApiError::IdempotencyKeyReused.status(), 422);
        assert_eq!(ApiError::PaymentDeclined.slug(), "payment-declined");
    }

    #[test]
    fn preconditions_have_their_own_statuses_and_types() {
        assert_eq!(ApiError::PreconditionFailed.status(), 412);
        assert_eq!(ApiError::PreconditionRequired.status(), 428);
        let json =
            serde_json::to_value(ApiError::PreconditionRequired.to_problem("/x", "r")).unwrap();
        assert_eq!(
            json["type"],
            "https://shopnow.dev/problems/precondition-required"
        );
        assert!(json.get("errors").is_none() && json.get("items").is_none());
    }

    #[test]
    fn problem_omits_errors_outside_validation() {
        let json = serde_json::to_value(ApiError::NotFound.to_problem("/x", "r")).unwrap();
        assert!(json.get("errors").is_none());
        assert!(json.get("items").is_none());
        assert_eq!(json["type"], "https://shopnow.dev/problems/not-found");
        assert_eq!(json["request_id"], "r");
    }
}
