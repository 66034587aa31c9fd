//! Key-value adapter over `spin_sdk::key_value` (embedded SQLite locally, Redis in production
//! through the runtime config). Each call is a [`timing`](crate::timing) span (`kv:get`, ...).

use shopnow_kernel::kv::{KeyValue, KvError};
use spin_sdk::key_value::Store;

use crate::timing;

/// A Spin key-value store opened by label.
pub struct SpinKv(Store);

impl std::fmt::Debug for SpinKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpinKv")
    }
}

impl SpinKv {
    /// Opens the store `label` (declared in the component's `key_value_stores`).
    ///
    /// # Errors
    /// [`KvError`] if the label is unknown or not allowed.
    pub fn open(label: &str) -> Result<Self, KvError> {
        let _span = timing::span("kv:open");
        Store::open(label)
            .map(Self)
            .map_err(|e| KvError(format!("open {label}: {e:?}")))
    }
}

impl KeyValue for SpinKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let _span = timing::span("kv:get");
        self.0.get(key).map_err(|e| KvError(format!("get: {e:?}")))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let _span = timing::span("kv:set");
        self.0
            .set(key, value)
            .map_err(|e| KvError(format!("set: {e:?}")))
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        let _span = timing::span("kv:delete");
        self.0
            .delete(key)
            .map_err(|e| KvError(format!("delete: {e:?}")))
    }
}
