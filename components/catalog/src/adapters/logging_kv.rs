//! `LoggingKv`: the product cache's key-value store (Spin's, Redis in production), opened on
//! first use (listings and writes that never touch the cache pay nothing), logging every failure
//! once with the request id, and answering errors so the cache steps aside and reads fall back
//! to the database.

use std::cell::OnceCell;

use shopnow_kernel::RequestId;
use shopnow_kernel::kv::{KeyValue, KvError};
use shopnow_spin::SpinKv;

/// A key-value store opened lazily by label.
pub struct LoggingKv<'a> {
    label: &'a str,
    store: OnceCell<Result<SpinKv, String>>,
    request_id: &'a RequestId,
}

impl<'a> LoggingKv<'a> {
    /// The store `label`, opened when first used.
    pub fn new(label: &'a str, request_id: &'a RequestId) -> Self {
        Self {
            label,
            store: OnceCell::new(),
            request_id,
        }
    }

    fn with<T>(
        &self,
        op: &str,
        f: impl FnOnce(&SpinKv) -> Result<T, KvError>,
    ) -> Result<T, KvError> {
        let store = self.store.get_or_init(|| {
            SpinKv::open(self.label).map_err(|e| {
                log(self.request_id, "open", &e.to_string());
                e.to_string()
            })
        });
        // An open failure was logged once; later calls fail quietly.
        let store = store.as_ref().map_err(|e| KvError(e.clone()))?;
        f(store).inspect_err(|e| log(self.request_id, op, &e.to_string()))
    }
}

fn log(request_id: &RequestId, op: &str, error: &str) {
    use shopnow_kernel::log::{LogLine, Logger as _};
    shopnow_spin::StderrLogger.log(
        LogLine::new("warn", "catalog", request_id.as_str())
            .event("cache.kv_failed")
            .field("kv.op", op)
            .field("error", error),
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
