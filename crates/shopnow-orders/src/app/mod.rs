//! Orders use cases, one file per operation, each taking the ports it needs; shared steps
//! (saving with the outbox, settling what an ended order owes) live here.

pub mod cancel_order;
pub mod clear_cart;
pub mod get_order;
pub mod list_fulfilments;
pub mod list_orders;
pub mod place_order;
pub mod remove_cart_item;
pub mod set_cart_item;
pub mod ship_fulfilment;
pub mod sweep;
pub mod view_cart;
pub mod views;

use shopnow_kernel::outbound::Budget;

pub use views::CheckoutOutcome;

use crate::OrdersError;
use crate::domain::OrderEvent;
use crate::domain::order::{Order, StockState};
use crate::ports::{CatalogError, KeyOutcome, OutboxMessage, Ports};

/// How many times a change is re-applied to a freshly read order after a concurrent change.
const SAVE_ATTEMPTS: usize = 3;

/// One structured log line through the [`Ports::logger`] port (`key=value`, the request id on
/// it). Values must hold no personal data or secrets: ids, statuses and error causes only.
pub(crate) fn log(ports: &Ports<'_>, level: &str, event: &str, fields: &[(&str, &str)]) {
    let line = fields.iter().fold(
        shopnow_kernel::log::LogLine::new(level, "orders", ports.request_id).event(event),
        |line, (key, value)| line.field(key, value),
    );
    ports.logger.log(line);
}

/// The outbox messages for `events` of `order`.
pub(crate) fn outbox(
    ports: &Ports<'_>,
    order: &Order,
    events: &[OrderEvent],
) -> Result<Vec<OutboxMessage>, OrdersError> {
    events
        .iter()
        .map(|event| {
            Ok(OutboxMessage {
                id: ports.ids.new_id()?,
                order_id: order.id.to_string(),
                event_type: event.event_type().to_owned(),
                payload: serde_json::to_string(event)
                    .map_err(|e| OrdersError::Internal(format!("event serialisation: {e}")))?,
                occurred_at_ms: order.updated_at_ms,
            })
        })
        .collect()
}

/// Stores `order` with the outbox messages of `events` (nothing to do without events).
pub(crate) fn save(
    ports: &Ports<'_>,
    order: &mut Order,
    events: &[OrderEvent],
) -> Result<(), OrdersError> {
    save_completing(ports, order, events, None)
}

/// As [`save`]; with `completes`, that request outcome is stored under its idempotency key in
/// the same transaction (a checkout's confirmation: one commit instead of two).
pub(crate) fn save_completing(
    ports: &Ports<'_>,
    order: &mut Order,
    events: &[OrderEvent],
    completes: Option<KeyOutcome<'_>>,
) -> Result<(), OrdersError> {
    if events.is_empty() && completes.is_none() {
        return Ok(());
    }
    let messages = outbox(ports, order, events)?;
    ports.orders.update(order, &messages, completes)?;
    order.mark_saved();
    Ok(())
}

/// Reads the order `id`, applies `change` and saves it; on a concurrent change, re-reads and
/// re-applies (up to [`SAVE_ATTEMPTS`] times).
pub(crate) fn change_order(
    ports: &Ports<'_>,
    mut order: Order,
    mut change: impl FnMut(&mut Order) -> Result<Vec<OrderEvent>, OrdersError>,
) -> Result<Order, OrdersError> {
    for _ in 1..SAVE_ATTEMPTS {
        let events = change(&mut order)?;
        match save(ports, &mut order, &events) {
            Err(OrdersError::Storage(crate::ports::RepoError::Conflict)) => {
                order = ports.orders.find(&order.id)?.ok_or(OrdersError::NotFound)?;
            }
            other => return other.map(|()| order),
        }
    }
    let events = change(&mut order)?;
    save(ports, &mut order, &events)?;
    Ok(order)
}

/// Gives back what an ended order still holds: its stock (release a hold; restock committed
/// units) and any authorisation (void). Each call has its own compensation budget; a call that
/// fails is left for the sweep, which runs this again. Returns whether nothing is owed now.
///
/// # Errors
/// Only storage failures; compensation failures are logged, not returned.
pub(crate) fn settle(ports: &Ports<'_>, order: &mut Order) -> Result<bool, OrdersError> {
    let mut events = Vec::new();
    let budget = || Budget::starting_now(ports.clock, ports.deadlines.compensation_ms);
    let returned = match order.stock {
        StockState::Returned => Ok(()),
        StockState::Held => match ports.catalog.release(&budget(), &order.id) {
            Err(CatalogError::Committed) => ports.catalog.restock(&budget(), &order.id),
            other => other,
        },
        StockState::Committed => ports.catalog.restock(&budget(), &order.id),
    };
    match returned {
        Ok(()) => events.extend(order.stock_returned(ports.clock.now_ms())),
        Err(err) => log(
            ports,
            "warn",
            "compensation.failed",
            &[
                ("step", "return_stock"),
                ("order.id", order.id.as_str()),
                ("error", &err.to_string()),
            ],
        ),
    }
    if order.payment.may_hold_funds() {
        match ports.payments.void(&budget(), &order.id) {
            Ok(()) => events.extend(order.payment_voided(ports.clock.now_ms())),
            Err(err) => log(
                ports,
                "warn",
                "compensation.failed",
                &[
                    ("step", "void_payment"),
                    ("order.id", order.id.as_str()),
                    ("error", &err.to_string()),
                ],
            ),
        }
    }
    save(ports, order, &events)?;
    Ok(!order.owes_compensation())
}
