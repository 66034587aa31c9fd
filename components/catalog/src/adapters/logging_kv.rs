//! `LoggingKv`: the product cache's key-value store (Spin's, Redis in production) that logs
//! every failure once, with the request id, and keeps answering errors so the cache steps
//! aside and reads fall back to the database.

use shopnow_kernel::RequestId;
use shopnow_kernel::kv::{KeyValue, KvError};
use shopnow_spin::SpinKv;

/// A key-value store that may have failed to open.
pub struct LoggingKv<'a> {
    store: Result<SpinKv, String>,
    request_id: &'a RequestId,
}

impl<'a> LoggingKv<'a> {
    /// Opens the store `label`; an open failure is logged and every later call fails.
    pub fn open(label: &str, request_id: &'a RequestId) -> Self {
        let store = SpinKv::open(label).map_err(|e| e.to_string());
        if let Err(e) = &store {
            log(request_id, "open", e);
        }
        Self { store, request_id }
    }

    fn with<T>(
        &self,
        op: &str,
        f: impl FnOnce(&SpinKv) -> Result<T, KvError>,
    ) -> Result<T, KvError> {
        let store = self.store.as_ref().map_err(|e| KvError(e.clone()))?;
        f(store).inspect_err(|e| log(self.request_id, op, &e.to_string()))
    }
}

fn log(request_id: &RequestId, op: &str, error: &str) {
    eprintln!(
        "level=warn service=catalog request_id={request_id} event=cache.kv_failed kv.op={op} error={error:?}"
    );
}

impl KeyValue for LoggingKv<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.with("get", |s| s.get(key))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.with("set", |s| s.set(key, value))
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.with("delete", |s| s.delete(key))
    }
}
