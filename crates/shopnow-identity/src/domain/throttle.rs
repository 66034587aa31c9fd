//! Attempt limits: at most `limit` attempts per key in a fixed window that starts with the key's
//! first attempt. An attempt is counted (atomically, by the `SignInThrottle` adapter) *before*
//! any work is done for it, so parallel attempts cannot overtake the count: of 20 parallel wrong
//! passwords for one account, 5 reach the password check and 15 are refused.
//!
//! Keys: one per account for sign-in ([`ACCOUNT_ATTEMPTS`]), and one per client address for
//! sign-in and for registration (limits from the `client_sign_in_limit` and
//! `client_register_limit` variables), so one client can neither guess one account's password
//! nor spray many accounts.

use serde::{Deserialize, Serialize};

/// Sign-in attempts allowed per account in one window.
pub const ACCOUNT_ATTEMPTS: u32 = 5;
/// Window length for every limit.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// Attempts counted for one key, this one included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleState {
    /// Attempts in the current window, the one just counted included.
    pub attempts: u32,
    /// When the window began (the first attempt in it), epoch ms.
    pub window_start_ms: i64,
}

impl ThrottleState {
    /// Seconds until the key may try again when the attempt just counted is over `limit` (it
    /// must be refused), `None` when it may proceed.
    pub fn retry_after_secs(&self, limit: u32, now_ms: i64) -> Option<u64> {
        let window_end = self.window_start_ms.saturating_add(WINDOW_MS);
        if self.attempts > limit && now_ms < window_end {
            let remaining_ms = window_end.saturating_sub(now_ms);
            // Round up so a client that waits exactly Retry-After is let through.
            u64::try_from((remaining_ms + 999) / 1000).ok()
        } else {
            None
        }
    }

    /// Whether the window has passed at `now_ms` (the next attempt starts a new one).
    pub fn expired(&self, now_ms: i64) -> bool {
        now_ms >= self.window_start_ms.saturating_add(WINDOW_MS)
    }

    /// The state after one more attempt at `now_ms` (a new window if the old one has passed):
    /// the rule every adapter implements, atomically.
    pub fn after_attempt(previous: Option<Self>, now_ms: i64) -> Self {
        match previous {
            Some(state) if !state.expired(now_ms) => Self {
                attempts: state.attempts.saturating_add(1),
                window_start_ms: state.window_start_ms,
            },
            _ => Self {
                attempts: 1,
                window_start_ms: now_ms,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_attempt_is_refused_until_the_window_passes() {
        let mut state = None;
        for i in 0..5 {
            let s = ThrottleState::after_attempt(state, 1_000 + i);
            assert_eq!(s.retry_after_secs(ACCOUNT_ATTEMPTS, 1_000 + i), None);
            state = Some(s);
        }
        let sixth = ThrottleState::after_attempt(state, 2_000);
        assert_eq!(sixth.attempts, 6);
        assert_eq!(sixth.retry_after_secs(ACCOUNT_ATTEMPTS, 2_000), Some(899));
        assert_eq!(
            sixth.retry_after_secs(ACCOUNT_ATTEMPTS, 1_000 + WINDOW_MS),
            None
        );
    }

    #[test]
    fn an_expired_window_restarts_at_one() {
        let old = ThrottleState {
            attempts: 40,
            window_start_ms: 0,
        };
        let fresh = ThrottleState::after_attempt(Some(old), WINDOW_MS);
        assert_eq!(
            fresh,
            ThrottleState {
                attempts: 1,
                window_start_ms: WINDOW_MS
            }
        );
        assert_eq!(fresh.retry_after_secs(0, WINDOW_MS), Some(900));
    }
}
