//! Key-value adapter: Spin's key-value store (`spin_sdk::key_value`: embedded SQLite locally), or
//! in production Redis reached directly through Spin's outbound Redis (`spin_sdk::redis`) when the
//! component's variable `kv_redis_url` is set. Each call is a [`timing`](crate::timing) span
//! (`kv:get`, ...).
//!
//! Why not Spin's key-value store on Redis (a `type = "redis"` runtime-config store): on Spin
//! 4.0.2 one Redis outage wedges it — every later `get` on that store hangs, and it does not
//! recover when Redis returns, only when Spin restarts (`deploy/dr/chaos --only redis --host spin
//! --kv-store`; docs/dr.md, "Chaos drills"). Its host keeps one shared connection manager per
//! store for the process; outbound Redis opens a connection per use, so a dead Redis answers at once with an
//! error (the cache steps aside, carts answer 503) and a returned one is used on the next request.

use shopnow_kernel::kv::{KeyValue, KvError};
use spin_sdk::key_value::Store;
use spin_sdk::redis::Connection;

use crate::timing;

/// The component variable naming the Redis that holds this component's store (empty or
/// undeclared: Spin's key-value store by label).
pub const KV_REDIS_URL_VARIABLE: &str = "kv_redis_url";

/// A key-value store: Spin's by label, or a Redis database by URL.
pub struct SpinKv(Backend);

enum Backend {
    Store(Store),
    Redis(Connection),
}

impl std::fmt::Debug for SpinKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Backend::Store(_) => "SpinKv(store)",
            Backend::Redis(_) => "SpinKv(redis)",
        })
    }
}

impl SpinKv {
    /// Redis at the component's `kv_redis_url` when it is set, else the store `label` (declared
    /// in the component's `key_value_stores`).
    ///
    /// # Errors
    /// [`KvError`] if the label is unknown or not allowed, or Redis cannot be reached.
    pub fn open(label: &str) -> Result<Self, KvError> {
        match spin_sdk::variables::get(KV_REDIS_URL_VARIABLE) {
            Ok(url) if !url.trim().is_empty() => Self::open_redis(url.trim()),
            _ => Self::open_store(label),
        }
    }

    fn open_store(label: &str) -> Result<Self, KvError> {
        let _span = timing::span("kv:open");
        Store::open(label)
            .map(|store| Self(Backend::Store(store)))
            .map_err(|e| KvError(format!("open {label}: {e:?}")))
    }

    fn open_redis(url: &str) -> Result<Self, KvError> {
        let _span = timing::span("kv:open");
        // The error never carries the URL (it holds the password).
        Connection::open(url)
            .map(|connection| Self(Backend::Redis(connection)))
            .map_err(|e| KvError(format!("open redis: {e:?}")))
    }
}

impl KeyValue for SpinKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let _span = timing::span("kv:get");
        match &self.0 {
            Backend::Store(store) => store.get(key).map_err(|e| KvError(format!("get: {e:?}"))),
            Backend::Redis(redis) => redis.get(key).map_err(|e| KvError(format!("get: {e:?}"))),
        }
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let _span = timing::span("kv:set");
        match &self.0 {
            Backend::Store(store) => store
                .set(key, value)
                .map_err(|e| KvError(format!("set: {e:?}"))),
            Backend::Redis(redis) => redis
                .set(key, value)
                .map_err(|e| KvError(format!("set: {e:?}"))),
        }
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        let _span = timing::span("kv:delete");
        match &self.0 {
            Backend::Store(store) => store
                .delete(key)
                .map_err(|e| KvError(format!("delete: {e:?}"))),
            Backend::Redis(redis) => redis
                .del(&[key.to_owned()])
                .map(|_| ())
                .map_err(|e| KvError(format!("delete: {e:?}"))),
        }
    }
}
