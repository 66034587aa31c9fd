//! What catalog does with other services' events (`shopnow_kernel::consumer`): on
//! `user.erased` (identity) it archives every product of that account (a seller's listings go
//! with the seller), recording `product.archived` for each; on `order.placed` and
//! `order.cancelled` (orders) it adds and subtracts each line's units to its product's units
//! sold (the bestselling sort). The products changed are forgotten by the product cache once
//! committed. Runs in the consumer's transaction, which also records the event as processed
//! (`docs/events.md`, "Consumers").

use std::cell::RefCell;

use shopnow_catalog::cache::ProductCache;
use shopnow_kernel::RequestId;
use shopnow_kernel::consumer::{EventHandler, HandlerError, ReceivedEvent};
use shopnow_kernel::ids::{Clock as _, UuidV7Ids};
use shopnow_kernel::sql::Database;
use shopnow_spin::consumers::Subscriptions;
use shopnow_spin::{HostRandom, SystemClock};

use crate::adapters::logging_kv::LoggingKv;
use crate::adapters::sql_store::{Sale, archive_seller_products, record_sale};
use crate::settings::Settings;

/// Catalog reads identity's and orders' streams.
pub const SUBSCRIPTIONS: Subscriptions = Subscriptions {
    sources: &["identity", "orders"],
    handler: || {
        let settings = Settings::from_variables()?;
        Ok(Box::new(CatalogEvents {
            cache_store: settings.cache_store,
            cache_ttl_ms: settings.tunables.cache_ttl_ms,
            changed: RefCell::default(),
        }))
    },
};

/// Catalog's event handler.
pub struct CatalogEvents {
    cache_store: String,
    cache_ttl_ms: i64,
    /// Products the last applied event changed (forgotten by the cache once committed).
    changed: RefCell<Vec<String>>,
}

impl EventHandler for CatalogEvents {
    fn apply(&self, tx: &dyn Database, event: &ReceivedEvent) -> Result<(), HandlerError> {
        self.changed.borrow_mut().clear();
        let changed = match event.event_type.as_str() {
            "user.erased" => {
                let ids = UuidV7Ids::new(SystemClock, HostRandom);
                archive_seller_products(tx, &ids, event.text("user_id")?, SystemClock.now_ms())?
            }
            "order.placed" => sale(tx, event, Sale::Placed)?,
            "order.cancelled" => sale(tx, event, Sale::Cancelled)?,
            _ => Vec::new(),
        };
        *self.changed.borrow_mut() = changed;
        Ok(())
    }

    fn committed(&self, event: &ReceivedEvent) {
        let changed = self.changed.take();
        if changed.is_empty() {
            return;
        }
        let request_id = RequestId::from_header_or(None, || format!("event-{}", event.id));
        let kv = LoggingKv::new(&self.cache_store, &request_id);
        let ids = UuidV7Ids::new(SystemClock, HostRandom);
        let cache = ProductCache::new(&kv, &ids, self.cache_ttl_ms);
        for id in changed {
            // A failure is logged by `LoggingKv`; the entry then lapses within its TTL.
            let _ignored = cache.invalidate(&id);
        }
    }
}

fn sale(tx: &dyn Database, event: &ReceivedEvent, sale: Sale) -> Result<Vec<String>, HandlerError> {
    Ok(record_sale(
        tx,
        event.text("order_id")?,
        sale,
        &sold_lines(event)?,
        SystemClock.now_ms(),
    )?)
}

/// `(product_id, quantity)` of each entry of the order event's `lines`. An event recorded before
/// orders sent lines has none: its placement counts nothing, and its cancellation subtracts only
/// what a placement added (`record_sale`).
///
/// # Errors
/// [`HandlerError::Rejected`] when `lines` is there but not a list of a product id and a
/// positive quantity each.
fn sold_lines(event: &ReceivedEvent) -> Result<Vec<(String, i64)>, HandlerError> {
    let Some(lines) = event.data.get("lines") else {
        return Ok(Vec::new());
    };
    let bad = || HandlerError::Rejected("`lines` must be a list of {product_id, quantity}".into());
    lines
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|line| {
            let product_id = line.get("product_id").and_then(serde_json::Value::as_str);
            let quantity = line.get("quantity").and_then(serde_json::Value::as_i64);
            match (product_id, quantity) {
                (Some(id), Some(q)) if q > 0 && !id.is_empty() => Ok((id.to_owned(), q)),
                _ => Err(bad()),
            }
        })
        .collect()
}
