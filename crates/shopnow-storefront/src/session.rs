//! Server-side sessions: what the storefront keeps for a signed-in visitor (the tokens identity
//! issued, never sent to the browser) in its key-value store, under the SHA-256 of the cookie so
//! that a dump of the store holds no usable cookie. Pure: the store is the kernel's `KeyValue`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use shopnow_kernel::ids::{EpochMillis, RandomError, RandomSource};
use shopnow_kernel::kv::{KeyValue, KvError};

/// How long a session lives without activity, seconds (identity's refresh tokens last longer).
pub const IDLE_SECS: u64 = 7 * 24 * 3600;

/// When a session used at `now_ms` expires unless used again.
pub fn idle_expiry(now_ms: EpochMillis) -> EpochMillis {
    now_ms.saturating_add(i64::try_from(IDLE_SECS * 1000).unwrap_or(i64::MAX))
}

/// A signed-in visitor.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Identity's user id.
    pub user_id: String,
    /// Shown in the header.
    pub display_name: String,
    /// The account's address, for the account page.
    pub email: String,
    /// `customer`, `seller`, `admin`.
    pub roles: Vec<String>,
    /// The current access token (EdDSA JWT).
    pub access_token: String,
    /// When it expires.
    pub access_expires_ms: EpochMillis,
    /// The refresh token that rotates it.
    pub refresh_token: String,
    /// When the session ends unless used again.
    pub expires_ms: EpochMillis,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are credentials: never printed.
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Whether the user has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// A new random cookie value (32 bytes, base64url).
///
/// # Errors
/// [`RandomError`] when the host has no randomness.
pub fn new_id(random: &dyn RandomSource) -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn key(cookie: &str) -> String {
    let digest = hmac_sha256::Hash::hash(cookie.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("session:{hex}")
}

/// Sessions in a key-value store.
pub struct SessionStore<'a> {
    kv: &'a dyn KeyValue,
}

impl<'a> SessionStore<'a> {
    /// Sessions in `kv`.
    pub fn new(kv: &'a dyn KeyValue) -> Self {
        Self { kv }
    }

    /// The live session of `cookie`; an expired or unreadable one is deleted and `None`.
    ///
    /// # Errors
    /// [`KvError`] when the store fails.
    pub fn load(&self, cookie: &str, now_ms: EpochMillis) -> Result<Option<Session>, KvError> {
        let key = key(cookie);
        let Some(bytes) = self.kv.get(&key)? else {
            return Ok(None);
        };
        match serde_json::from_slice::<Session>(&bytes) {
            Ok(session) if session.expires_ms > now_ms => Ok(Some(session)),
            _ => {
                self.kv.delete(&key)?;
                Ok(None)
            }
        }
    }

    /// Stores `session` under `cookie`.
    ///
    /// # Errors
    /// [`KvError`] when the store fails.
    pub fn save(&self, cookie: &str, session: &Session) -> Result<(), KvError> {
        let bytes = serde_json::to_vec(session).map_err(|e| KvError(e.to_string()))?;
        self.kv.set(&key(cookie), &bytes)
    }

    /// Forgets the session of `cookie`.
    ///
    /// # Errors
    /// [`KvError`] when the store fails.
    pub fn delete(&self, cookie: &str) -> Result<(), KvError> {
        self.kv.delete(&key(cookie))
    }
}

#[cfg(test)]
mod tests {
    use shopnow_kernel::ids::CountingRandom;
    use shopnow_kernel::kv::MemoryKv;

    use super::*;

    fn session(expires_ms: EpochMillis) -> Session {
        Session {
            user_id: "u1".into(),
            display_name: "Ada".into(),
            email: "ada@example.com".into(),
            roles: vec!["customer".into()],
            access_token: "secret-access".into(),
            access_expires_ms: 10,
            refresh_token: "secret-refresh".into(),
            expires_ms,
        }
    }

    #[test]
    fn sessions_are_stored_under_a_hash_and_expire() {
        let kv = MemoryKv::default();
        let store = SessionStore::new(&kv);
        let cookie = new_id(&CountingRandom::default()).unwrap();
        assert_eq!(cookie.len(), 43);
        store.save(&cookie, &session(1_000)).unwrap();
        assert!(kv.get(&format!("session:{cookie}")).unwrap().is_none());
        assert_eq!(store.load(&cookie, 999).unwrap(), Some(session(1_000)));
        assert_eq!(store.load("other", 999).unwrap(), None);
        assert_eq!(store.load(&cookie, 1_000).unwrap(), None, "expired");
        assert_eq!(store.load(&cookie, 0).unwrap(), None, "and deleted");
        let printed = format!("{:?}", session(1));
        assert!(!printed.contains("secret"), "{printed}");
    }
}
