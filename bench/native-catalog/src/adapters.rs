//! The catalog component's SQL store, compiled natively from the component's own source file (no
//! copy, so the SQL is the same by construction), plus the native ports it needs: a pooled
//! synchronous PostgreSQL connection implementing the kernel's `Database`, the system clock and
//! OS randomness. Nothing here depends on spin-sdk.

#[path = "../../../components/catalog/src/adapters/sql_store.rs"]
#[expect(
    dead_code,
    reason = "the erasure consumer's `archive_seller_products` is not part of the benchmarked HTTP paths"
)]
pub mod sql_store;

pub mod pg;

use shopnow_kernel::ids::{Clock, EpochMillis, RandomError, RandomSource};
use shopnow_kernel::kv::{KeyValue, KvError};

/// The system clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> EpochMillis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// The operating system's random bytes.
#[derive(Debug, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))
    }
}

/// A cache that holds nothing: the baseline runs with the product cache off (`cache_ttl_ms` 0),
/// and is compared with the component run with `catalog_cache_ttl_secs=0`, so both pay the same
/// SQL on every read.
#[derive(Debug, Clone, Copy)]
pub struct NoCache;

impl KeyValue for NoCache {
    fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(None)
    }

    fn set(&self, _key: &str, _value: &[u8]) -> Result<(), KvError> {
        Ok(())
    }

    fn delete(&self, _key: &str) -> Result<(), KvError> {
        Ok(())
    }
}
