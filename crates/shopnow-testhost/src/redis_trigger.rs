//! Spin's Redis trigger (`[[trigger.redis]]`), as `spin-trigger-redis` 4.0.2 runs it: one
//! subscriber per server address, subscribed to every channel of its triggers before the host
//! reports itself started; messages of one subscriber handled one after another, each by every
//! component of its channel at once, each component in a fresh instance through its
//! `fermyon:spin/inbound-redis` export (the Spin SDK's `#[redis_component]`). A handler's error or
//! trap is logged and the next message handled; a subscriber that loses its connection stops the
//! whole host, as `spin up` exits (see `docs/testhost.md`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use tokio::sync::watch;
use wasmtime::Store;
use wasmtime::component::{ComponentType, Lift};

use crate::app::App;
use crate::manifest::Manifest;
use crate::state::InstanceState;
use crate::variables::AppVariables;

/// The interface a Redis component exports (Spin's `fermyon:spin/inbound-redis`, unversioned).
const INBOUND_REDIS: &str = "fermyon:spin/inbound-redis";

/// `fermyon:spin/redis-types.error`.
#[derive(ComponentType, Lift, Debug, Clone, Copy)]
#[component(enum)]
#[repr(u8)]
#[expect(
    dead_code,
    reason = "values are made by the derived `Lift` from the guest's result, which rustc does not count"
)]
enum RedisError {
    #[component(name = "success")]
    Success,
    #[component(name = "error")]
    Error,
}

/// The channels of one Redis server and the components each one invokes.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    /// The resolved address (`redis://...`).
    pub(crate) address: String,
    /// Channel to component ids, in manifest order.
    pub(crate) channels: BTreeMap<String, Vec<String>>,
}

impl Subscription {
    /// Groups the manifest's Redis triggers by resolved server address, as Spin does: a
    /// trigger's own `address`, else `[application.trigger.redis] address` (empty when absent),
    /// each with `{{ var }}` templates expanded, and the channel likewise.
    ///
    /// Fails when a template names a variable without a value.
    pub(crate) fn resolve(manifest: &Manifest, vars: &AppVariables) -> anyhow::Result<Vec<Self>> {
        if manifest.redis_triggers.is_empty() {
            return Ok(Vec::new());
        }
        let default_expr = manifest.redis_address.clone().unwrap_or_default();
        let default = vars.expand(&default_expr).with_context(|| {
            format!("failed to resolve redis trigger default address {default_expr:?}")
        })?;
        let mut by_address: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for t in &manifest.redis_triggers {
            let address = match &t.address {
                Some(expr) => vars.expand(expr).with_context(|| {
                    format!(
                        "failed to resolve redis trigger address {expr:?} for component {}",
                        t.component
                    )
                })?,
                None => default.clone(),
            };
            let channel = vars.expand(&t.channel).with_context(|| {
                format!(
                    "failed to resolve redis trigger channel {:?} for component {}",
                    t.channel, t.component
                )
            })?;
            by_address
                .entry(address)
                .or_default()
                .entry(channel)
                .or_default()
                .push(t.component.clone());
        }
        Ok(by_address
            .into_iter()
            .map(|(address, channels)| Self { address, channels })
            .collect())
    }
}

/// A subscriber connected and subscribed to all its channels, not yet reading.
pub(crate) struct Subscriber {
    server: String,
    pubsub: redis::aio::PubSub,
    channels: BTreeMap<String, Vec<String>>,
}

impl Subscriber {
    /// Connects to the subscription's server and subscribes to each of its channels.
    ///
    /// Fails as Spin's trigger does: an invalid address, a server that can't be reached, a
    /// refused SUBSCRIBE.
    pub(crate) async fn connect(subscription: &Subscription) -> anyhow::Result<Self> {
        let client = redis::Client::open(subscription.address.as_str()).with_context(|| {
            format!(
                "invalid Redis trigger address {:?}",
                redact(&subscription.address)
            )
        })?;
        let server = client.get_connection_info().addr().to_string();
        let mut pubsub = client
            .get_async_pubsub()
            .await
            .with_context(|| format!("Redis trigger failed to connect to {server}"))?;
        for channel in subscription.channels.keys() {
            pubsub.subscribe(channel).await.with_context(|| {
                format!("Redis trigger failed to subscribe to channel {channel:?} on {server}")
            })?;
        }
        Ok(Self {
            server,
            pubsub,
            channels: subscription.channels.clone(),
        })
    }

    /// `(server, channel, components)` for each subscribed channel (what `spin up` prints).
    pub(crate) fn describe(&self) -> Vec<(String, String, Vec<String>)> {
        self.channels
            .iter()
            .map(|(c, ids)| (self.server.clone(), c.clone(), ids.clone()))
            .collect()
    }

    /// Handles messages until shutdown (the message in hand is finished first) or until the
    /// server drops the connection; then records why in `exited` and asks the host to stop.
    pub(crate) async fn run(
        self,
        app: Arc<App>,
        mut shutdown: watch::Receiver<bool>,
        stop_host: Arc<watch::Sender<bool>>,
        exited: Arc<Mutex<Option<String>>>,
    ) {
        let Self {
            server,
            pubsub,
            channels,
        } = self;
        let mut messages = pubsub.into_on_message();
        loop {
            let message = tokio::select! {
                m = messages.next() => m,
                _ = shutdown.wait_for(|stop| *stop) => return,
            };
            let Some(message) = message else {
                break;
            };
            let channel = message.get_channel_name();
            let Some(ids) = channels.get(channel) else {
                eprintln!(
                    "shopnow-testhost: Error handling message from {server}: message from unexpected channel {channel:?}"
                );
                continue;
            };
            let payload = message.get_payload_bytes().to_vec();
            let mut handlers = tokio::task::JoinSet::new();
            for id in ids {
                let app = app.clone();
                let id = id.clone();
                let payload = payload.clone();
                handlers.spawn(async move {
                    if let Err(e) = handle(&app, &id, payload).await {
                        eprintln!("shopnow-testhost: Component {id} handler failed: {e:#}");
                    }
                });
            }
            while handlers.join_next().await.is_some() {}
        }
        if let Ok(mut slot) = exited.lock() {
            slot.get_or_insert_with(|| format!("disconnected from {server}"));
        }
        let _ = stop_host.send(true);
    }
}

/// One message through component `id`: a fresh instance, `handle-message(payload)`.
async fn handle(app: &Arc<App>, id: &str, payload: Vec<u8>) -> anyhow::Result<()> {
    let component = app
        .components
        .get(id)
        .with_context(|| format!("unknown component `{id}`"))?
        .clone();
    let pre = component.instance.clone();
    let mut store = Store::new(pre.engine(), InstanceState::new(app.clone(), component));
    store.limiter(|state| state);
    let instance = pre
        .instantiate_async(&mut store)
        .await
        .map_err(anyhow::Error::from)
        .context("cannot instantiate the component")?;
    let func = instance
        .get_export_index(&mut store, None, INBOUND_REDIS)
        .and_then(|iface| instance.get_export_index(&mut store, Some(&iface), "handle-message"))
        .and_then(|index| instance.get_func(&mut store, index))
        .with_context(|| {
            format!(
                "component does not export a Redis interface (the test host supports {INBOUND_REDIS} only)"
            )
        })?;
    let func = func
        .typed::<(Vec<u8>,), (Result<(), RedisError>,)>(&store)
        .map_err(anyhow::Error::from)
        .context("handle-message has an unexpected type")?;
    let (result,) = func
        .call_async(&mut store, (payload,))
        .await
        .map_err(anyhow::Error::from)
        .context("the component trapped")?;
    result.map_err(|e| anyhow::anyhow!("Redis handler returned an error ({e:?})"))
}

/// `address` without a password (`redis://user:secret@host` → `redis://user:***@host`).
fn redact(address: &str) -> String {
    let Some((scheme, rest)) = address.split_once("://") else {
        return address.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return address.to_owned();
    };
    let user = userinfo.split(':').next().unwrap_or_default();
    format!("{scheme}://{user}:***@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_their_password_in_messages() {
        assert_eq!(
            redact("redis://u:secret@h:6379/0"),
            "redis://u:***@h:6379/0"
        );
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }
}
