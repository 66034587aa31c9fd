//! Per-request store data (`InstanceState`): WASI, wasi:http with the outbound hooks, and the
//! component's view of the application (variables, stores, databases, allowed hosts) and its open
//! Redis connections. Also the variables and wasi:config host implementations, which only read
//! that view.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::app::{App, AppComponent};
use crate::bindings::fermyon::spin::variables;
use crate::bindings::wasi::config::store as config_store;
use crate::server::OutboundHooks;
use crate::stdio::PrefixedOutput;

/// The data of one instance's `Store`; lives for one request.
pub(crate) struct InstanceState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundHooks,
    pub(crate) app: Arc<App>,
    pub(crate) component: Arc<AppComponent>,
    /// Open `fermyon:spin/redis` connections, for Spin's per-instance limit.
    pub(crate) redis_connections: crate::redis::RedisConnections,
}

impl InstanceState {
    /// Fresh state for one request to `component`: no arguments, environment or preopened
    /// directories (as in Spin); stdout and stderr go to the host's stderr, prefixed.
    pub(crate) fn new(app: Arc<App>, component: Arc<AppComponent>) -> Self {
        let out = PrefixedOutput::new(&component.id);
        let wasi = WasiCtx::builder().stdout(out.clone()).stderr(out).build();
        Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks: OutboundHooks::new(app.clone(), component.clone()),
            app,
            component,
            redis_connections: crate::redis::RedisConnections::default(),
        }
    }
}

/// Records each component's peak linear memory; refuses nothing the engine's own limits allow.
impl wasmtime::ResourceLimiter for InstanceState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.component
            .peak_memory
            .fetch_max(desired, std::sync::atomic::Ordering::Relaxed);
        Ok(maximum.is_none_or(|max| desired <= max))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl variables::Host for InstanceState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        if crate::manifest::validate_variable_name(&name).is_err() {
            return Ok(Err(variables::Error::InvalidName(format!(
                "invalid variable name {name:?}"
            ))));
        }
        Ok(match self.component.variables.get(&name) {
            Some(v) => Ok(v.clone()),
            None => Err(variables::Error::Undefined(format!(
                "no variable for {name:?}"
            ))),
        })
    }
}

impl config_store::Host for InstanceState {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config_store::Error>> {
        Ok(Ok(self.component.variables.get(&key).cloned()))
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, config_store::Error>> {
        Ok(Ok(self
            .component
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}
