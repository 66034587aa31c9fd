//! The key-value port: bytes by string key, no TTL (Spin's key-value has none, so callers
//! store expiry timestamps inside values). Pure; the Spin adapter lives in `shopnow-spin`.

use std::cell::RefCell;
use std::collections::HashMap;

/// A key-value store failure (message for logs only).
#[derive(Debug, thiserror::Error)]
#[error("key-value store error: {0}")]
pub struct KvError(pub String);

impl From<KvError> for crate::ApiError {
    fn from(err: KvError) -> Self {
        Self::ServiceUnavailable {
            cause: Box::new(err),
        }
    }
}

/// A key-value store.
pub trait KeyValue {
    /// The value under `key`, if any.
    ///
    /// # Errors
    /// [`KvError`] when the store is unreachable.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;

    /// Stores `value` under `key`.
    ///
    /// # Errors
    /// [`KvError`] when the store is unreachable.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;

    /// Removes `key` (no error if absent).
    ///
    /// # Errors
    /// [`KvError`] when the store is unreachable.
    fn delete(&self, key: &str) -> Result<(), KvError>;
}

/// An in-memory store for tests.
#[derive(Debug, Default)]
pub struct MemoryKv(RefCell<HashMap<String, Vec<u8>>>);

impl KeyValue for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.0.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
}
