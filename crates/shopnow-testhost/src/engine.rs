//! The process-wide wasmtime `Engine` and the compiled-component cache.
//!
//! One engine per process (pooling allocator, sized for hundreds of concurrent instances across
//! every host the process starts), compiled `Component`s cached in memory per file (path, size,
//! modification time) and on disk through wasmtime's compilation cache under the cargo target
//! directory, so a later test process loads machine code instead of compiling again. Knows nothing
//! of Spin.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use anyhow::Context as _;
use wasmtime::component::Component;
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
    ProfilingStrategy,
};

/// Concurrent component instances the pooling allocator holds (requests in flight, including
/// chained ones, across all hosts in the process).
const MAX_INSTANCES: u32 = 1000;

static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

type CacheKey = (PathBuf, u64, Option<SystemTime>);
static COMPONENTS: OnceLock<Mutex<HashMap<CacheKey, Component>>> = OnceLock::new();

/// Where compiled machine code is cached: `$SHOPNOW_TESTHOST_CACHE_DIR`, else
/// `$CARGO_TARGET_DIR/shopnow-testhost-cache`, else `target/shopnow-testhost-cache` in this
/// workspace.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SHOPNOW_TESTHOST_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("shopnow-testhost-cache")
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // `SHOPNOW_TESTHOST_PROFILER=perfmap` writes /tmp/perf-<pid>.map, so `perf report` names the
    // components' compiled functions instead of showing bare addresses (docs/testhost.md).
    if std::env::var_os("SHOPNOW_TESTHOST_PROFILER").is_some_and(|v| v == "perfmap") {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    let mut cache_config = CacheConfig::new();
    cache_config.with_directory(cache_dir());
    match Cache::new(cache_config) {
        Ok(cache) => {
            config.cache(Some(cache));
        }
        Err(e) => eprintln!("shopnow-testhost: warning: compilation cache disabled: {e:#}"),
    }
    config
}

fn pooling() -> PoolingAllocationConfig {
    let mut p = PoolingAllocationConfig::default();
    p.total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * 4)
        .total_memories(MAX_INSTANCES)
        .total_tables(MAX_INSTANCES * 2)
        .total_stacks(MAX_INSTANCES)
        .max_memory_size(1 << 30)
        .max_unused_warm_slots(64)
        // Reset a freed slot's first pages with memset instead of madvise: madvise costs page
        // faults on the next instance and, once the host runs on two CPUs, a TLB shootdown per
        // request. Measured on the hello component: 88.3 -> 62.9 us CPU per request on one core,
        // no more faults, and two cores no longer slower than one (docs/benchmarks.md). The
        // price is resident memory: at most 64 warm slots x 3 MiB. `pagemap_scan` (Linux >= 6.7)
        // resets only the pages an instance dirtied; elsewhere wasmtime falls back to memset.
        .linear_memory_keep_resident(2 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(wasmtime::Enabled::Auto);
    p
}

fn build_engine() -> anyhow::Result<Engine> {
    let mut config = base_config();
    // 1 GiB reservations (bounds-checked) keep 1000 slots at ~1 TiB of address space instead of
    // the default 4 GiB + guard each.
    config
        .memory_reservation(1 << 30)
        .memory_guard_size(32 << 20)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling()));
    match Engine::new(&config).map_err(anyhow::Error::from) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            eprintln!(
                "shopnow-testhost: warning: pooling allocator unavailable ({e:#}); using on-demand allocation"
            );
            Engine::new(&base_config()).map_err(anyhow::Error::from)
        }
    }
}

/// The shared engine, created on first use.
///
/// Fails only if wasmtime can't create any engine on this machine.
pub(crate) fn engine() -> anyhow::Result<Engine> {
    ENGINE
        .get_or_init(|| build_engine().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot create the wasmtime engine: {e}"))
}

/// The compiled component for `path`, compiled (or loaded from the disk cache) at most once per
/// file version per process.
///
/// Fails when the file can't be read or isn't a valid component.
pub(crate) fn load_component(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read component {}", path.display()))?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    let cache = COMPONENTS.get_or_init(Default::default);
    if let Some(c) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(c);
    }
    let component = Component::from_file(engine, path)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile component {}", path.display()))?;
    if let Ok(mut m) = cache.lock() {
        m.insert(key, component.clone());
    }
    Ok(component)
}
