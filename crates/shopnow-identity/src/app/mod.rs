//! Identity use cases, one file per operation, each taking the ports it needs.

pub mod change_password;
pub mod erase_account;
pub mod get_user;
pub mod refresh;
pub mod register;
pub mod sign_in;
pub mod sign_out;
pub mod update_profile;

use shopnow_kernel::Secret;
use shopnow_kernel::auth::{AccessClaims, Roles};

use crate::IdentityError;
use crate::domain::audit::{AuditEvent, AuditRecord};
use crate::domain::session::{ACCESS_TTL_SECS, NewRefreshToken, REFRESH_TTL_MS, RefreshToken};
use crate::ports::Ports;

/// The calling client, for the per-client attempt limits of sign-in and registration.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's address (as the HTTP layer resolved it), `None` when the host gave none —
    /// then no per-client limit applies (Spin always gives one).
    pub address: Option<String>,
    /// Attempts this client may make per window (`domain::throttle::WINDOW_MS`).
    pub limit: u32,
}

impl Client {
    /// A client at `address` allowed `limit` attempts per window.
    pub fn new(address: Option<String>, limit: u32) -> Self {
        Self { address, limit }
    }
}

/// Counts one `scope` attempt (`"sign-in"`, `"register"`) for the client, before any work is
/// done for it.
///
/// # Errors
/// [`IdentityError::Throttled`] when it is over the client's limit.
fn count_client_attempt(
    ports: &Ports<'_>,
    scope: &str,
    client: &Client,
    now_ms: i64,
) -> Result<(), IdentityError> {
    let Some(address) = &client.address else {
        return Ok(());
    };
    // A hash, so no address is stored.
    let digest = hmac_sha256::Hash::hash(address.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let state = ports
        .throttle
        .count_attempt(&format!("client:{scope}:{hex}"), now_ms)?;
    if state.attempts == 1 {
        // At most once per client and window (not per account: a successful sign-in clears its
        // account's row, so every sign-in would start one), so the counters of lapsed windows
        // never pile up.
        ports.throttle.purge_passed(now_ms)?;
    }
    match state.retry_after_secs(client.limit, now_ms) {
        Some(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
        None => Ok(()),
    }
}

/// Tokens returned by sign-in and refresh.
#[derive(Debug)]
pub struct TokenPair {
    /// Signed EdDSA access token.
    pub access_token: Secret<String>,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
    /// New refresh token (shown once).
    pub refresh_token: RefreshToken,
}

/// Signs an access token for `user_id` with `roles` now.
fn access_token(
    ports: &Ports<'_>,
    user_id: &str,
    roles: &Roles,
) -> Result<Secret<String>, IdentityError> {
    let jti = ports.ids.new_id()?;
    ports
        .tokens
        .sign(&AccessClaims {
            subject: user_id,
            roles,
            token_id: &jti,
            issued_at_ms: ports.clock.now_ms(),
            ttl_secs: ACCESS_TTL_SECS,
        })
        .map(Secret::new)
        .map_err(|e| IdentityError::Signing(e.log_chain()))
}

/// A fresh refresh token for `family_id`, and the row that stores its hash.
fn new_refresh_token(
    ports: &Ports<'_>,
    family_id: &str,
    user_id: &str,
) -> Result<(RefreshToken, NewRefreshToken), IdentityError> {
    let mut bytes = [0u8; 32];
    ports.random.fill(&mut bytes)?;
    let token = RefreshToken::from_random(&bytes);
    let now = ports.clock.now_ms();
    let row = NewRefreshToken {
        token_hash: token.hash(),
        family_id: family_id.to_owned(),
        user_id: user_id.to_owned(),
        issued_at_ms: now,
        expires_at_ms: now.saturating_add(REFRESH_TTL_MS),
    };
    Ok((token, row))
}

/// An audit record of `event` for this request, for a repository to write with its change.
fn audit_record(
    ports: &Ports<'_>,
    event: AuditEvent,
    user_id: Option<&str>,
) -> Result<AuditRecord, IdentityError> {
    Ok(AuditRecord {
        id: ports.ids.new_id()?,
        occurred_at_ms: ports.clock.now_ms(),
        event,
        user_id: user_id.map(str::to_owned),
        request_id: ports.request_id.to_owned(),
    })
}

/// Appends an audit record for this request (for events that change nothing else).
fn audit(ports: &Ports<'_>, event: AuditEvent, user_id: Option<&str>) -> Result<(), IdentityError> {
    ports.audit.record(&audit_record(ports, event, user_id)?)?;
    Ok(())
}

/// The event `event_type` about user `user_id` with `data` (`docs/events.md`), now.
///
/// # Errors
/// [`IdentityError::Random`] when no id can be made.
pub(crate) fn user_event(
    ports: &Ports<'_>,
    event_type: &str,
    user_id: &str,
    data: serde_json::Value,
) -> Result<shopnow_kernel::events::NewEvent, IdentityError> {
    Ok(shopnow_kernel::events::NewEvent {
        id: ports.ids.new_id()?,
        event_type: event_type.to_owned(),
        aggregate_type: "user",
        aggregate_id: user_id.to_owned(),
        occurred_at_ms: ports.clock.now_ms(),
        data,
    })
}
