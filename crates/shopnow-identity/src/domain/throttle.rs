//! Sign-in throttling rule: after 5 failed attempts within 15 minutes for one account, further
//! attempts are refused until the window that started with the first failure has passed.
//! The state is stored by an adapter (key-value, with the window start inside the value since
//! Spin's key-value store has no TTL).

use serde::{Deserialize, Serialize};

/// Failures allowed in one window.
pub const MAX_FAILURES: u32 = 5;
/// Window length.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// Failures counted for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleState {
    /// Failed attempts in the current window.
    pub failures: u32,
    /// When the window began (first failure), epoch ms.
    pub window_start_ms: i64,
}

impl ThrottleState {
    /// Seconds until the account may try again, if it is locked at `now_ms`.
    pub fn retry_after_secs(&self, now_ms: i64) -> Option<u64> {
        let window_end = self.window_start_ms.saturating_add(WINDOW_MS);
        if self.failures >= MAX_FAILURES && now_ms < window_end {
            let remaining_ms = window_end.saturating_sub(now_ms);
            // Round up so a client that waits exactly Retry-After is let through.
            u64::try_from((remaining_ms + 999) / 1000).ok()
        } else {
            None
        }
    }

    /// Whether the window has passed at `now_ms` (the state can be forgotten).
    pub fn expired(&self, now_ms: i64) -> bool {
        now_ms >= self.window_start_ms.saturating_add(WINDOW_MS)
    }

    /// The state after one more failure at `now_ms` (a new window if the old one has passed).
    pub fn after_failure(previous: Option<Self>, now_ms: i64) -> Self {
        match previous {
            Some(state) if !state.expired(now_ms) => Self {
                failures: state.failures.saturating_add(1),
                window_start_ms: state.window_start_ms,
            },
            _ => Self {
                failures: 1,
                window_start_ms: now_ms,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_five_failures_until_the_window_passes() {
        let mut state = None;
        for i in 0..5 {
            state = Some(ThrottleState::after_failure(state, 1_000 + i));
        }
        let state = state.unwrap();
        assert_eq!(state.failures, 5);
        assert_eq!(state.retry_after_secs(2_000), Some(899));
        assert_eq!(state.retry_after_secs(1_000 + WINDOW_MS), None);
    }

    #[test]
    fn four_failures_do_not_lock_and_old_windows_restart() {
        let four = ThrottleState {
            failures: 4,
            window_start_ms: 0,
        };
        assert_eq!(four.retry_after_secs(1), None);
        let fresh = ThrottleState::after_failure(Some(four), WINDOW_MS + 1);
        assert_eq!(fresh.failures, 1);
    }
}
