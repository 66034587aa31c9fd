//! What orders does with other services' events (`shopnow_kernel::consumer`): on
//! `user.erased` (identity) it redacts the buyer's name and address in every order of that
//! account — amounts, lines and fulfilments stay for accounting — and drops the account's cart;
//! its own events (orders) and catalog's feed the sellers' event feed (`seller_feed`). Runs in
//! the consumer's transaction, which also records the event as processed (`docs/events.md`,
//! "Consumers").

use shopnow_kernel::consumer::{EventHandler, HandlerError, ReceivedEvent};
use shopnow_kernel::ids::Clock as _;
use shopnow_kernel::sql::{Database, DbError, DbErrorKind, SqlValue};
use shopnow_orders::domain::ShippingAddress;
use shopnow_orders::ports::CartStore as _;
use shopnow_spin::SystemClock;
use shopnow_spin::consumers::Subscriptions;

use crate::adapters::kv_carts::KvCartStore;
use crate::adapters::seller_feed;
use crate::settings::STORE_LABEL;

/// Orders reads identity's stream, catalog's and its own.
pub const SUBSCRIPTIONS: Subscriptions = Subscriptions {
    sources: &["identity", "catalog", "orders"],
    handler: || Ok(Box::new(OrdersEvents)),
};

/// Orders' event handler.
pub struct OrdersEvents;

impl EventHandler for OrdersEvents {
    fn apply(&self, tx: &dyn Database, event: &ReceivedEvent) -> Result<(), HandlerError> {
        if event.source == "identity" && event.event_type == "user.erased" {
            redact_buyer(tx, event.text("user_id")?, SystemClock.now_ms())?;
        }
        seller_feed::record(tx, event)
    }

    fn committed(&self, event: &ReceivedEvent) {
        if event.event_type == "user.erased"
            && let Ok(user_id) = event.text("user_id")
        {
            // Best effort: a cart left behind lapses on its own and names no one.
            let _ignored = KvCartStore::new(STORE_LABEL).delete(user_id);
        }
    }
}

/// Replaces the address of every order of `buyer_id` by its redacted form, bumping the order's
/// version so a writer holding the old one loses its compare-and-set and reads again.
fn redact_buyer(tx: &dyn Database, buyer_id: &str, now_ms: i64) -> Result<(), HandlerError> {
    let rows = tx.query(
        "SELECT id, shipping_address FROM orders WHERE buyer_id = $1 ORDER BY id",
        &[buyer_id.into()],
    )?;
    for row in rows {
        let id = row.text(0)?;
        let address: ShippingAddress = serde_json::from_str(&row.text(1)?)
            .map_err(|e| DbError::new(DbErrorKind::Conversion, format!("order {id}: {e}")))?;
        let redacted = address.redacted();
        if redacted == address {
            continue;
        }
        let json = serde_json::to_string(&redacted)
            .map_err(|e| HandlerError::Rejected(format!("redacted address: {e}")))?;
        tx.execute(
            "UPDATE orders SET shipping_address = $2, version = version + 1, \
             updated_at = CASE WHEN updated_at > $3 THEN updated_at ELSE $3 END WHERE id = $1",
            &[id.as_str().into(), json.into(), SqlValue::Int(now_ms)],
        )?;
    }
    Ok(())
}
