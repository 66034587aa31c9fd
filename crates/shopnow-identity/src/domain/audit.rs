//! Audit events: what happened to an account, without secrets or personal data (ids only).

/// A security-relevant event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// Account created.
    Registered,
    /// Sign-in succeeded.
    SignInSucceeded,
    /// Sign-in failed (wrong password, or unknown email when `user_id` is absent).
    SignInFailed,
    /// Sign-in refused by the throttle.
    SignInThrottled,
    /// A spent refresh token was presented; its family was revoked.
    RefreshReuseDetected,
    /// Signed out (family revoked).
    SignedOut,
    /// Password changed; all sessions revoked.
    PasswordChanged,
    /// Personal data erased.
    AccountErased,
}

impl AuditEvent {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::SignInSucceeded => "sign_in_succeeded",
            Self::SignInFailed => "sign_in_failed",
            Self::SignInThrottled => "sign_in_throttled",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::SignedOut => "signed_out",
            Self::PasswordChanged => "password_changed",
            Self::AccountErased => "account_erased",
        }
    }
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// UUIDv7.
    pub id: String,
    /// When, epoch ms.
    pub occurred_at_ms: i64,
    /// What.
    pub event: AuditEvent,
    /// Whose account, when known.
    pub user_id: Option<String>,
    /// The request that caused it.
    pub request_id: String,
}
