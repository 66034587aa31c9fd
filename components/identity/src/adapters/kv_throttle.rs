//! `KvThrottle`: sign-in failure counters in the component's key-value store. Spin's key-value
//! has no TTL, so the window start lives in the value and the rule (`ThrottleState`) decides
//! when it has passed. Keys are hashes of the normalised email (no personal data). The
//! read-modify-write is not atomic: two concurrent failures may count once, which at worst
//! allows a sixth guess — acceptable for a 5-per-15-minutes limit.

use std::cell::OnceCell;

use shopnow_identity::domain::throttle::ThrottleState;
use shopnow_identity::ports::{RepoError, SignInThrottle};
use shopnow_kernel::kv::KeyValue as _;
use shopnow_spin::SpinKv;

/// Throttle state in the key-value store `label`, opened on first use.
pub struct KvThrottle {
    label: &'static str,
    store: OnceCell<SpinKv>,
}

impl KvThrottle {
    /// A throttle over the store `label`.
    pub fn new(label: &'static str) -> Self {
        Self {
            label,
            store: OnceCell::new(),
        }
    }

    fn kv(&self) -> Result<&SpinKv, RepoError> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let opened = SpinKv::open(self.label).map_err(|e| RepoError::Unavailable(e.to_string()))?;
        Ok(self.store.get_or_init(|| opened))
    }
}

impl SignInThrottle for KvThrottle {
    fn load(&self, key: &str) -> Result<Option<ThrottleState>, RepoError> {
        let bytes = self
            .kv()?
            .get(key)
            .map_err(|e| RepoError::Unavailable(e.to_string()))?;
        // An unreadable value is treated as no failures rather than locking the account.
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    fn store(&self, key: &str, state: &ThrottleState) -> Result<(), RepoError> {
        let bytes = serde_json::to_vec(state).map_err(|e| RepoError::Failed(e.to_string()))?;
        self.kv()?
            .set(key, &bytes)
            .map_err(|e| RepoError::Unavailable(e.to_string()))
    }

    fn clear(&self, key: &str) -> Result<(), RepoError> {
        self.kv()?
            .delete(key)
            .map_err(|e| RepoError::Unavailable(e.to_string()))
    }
}
