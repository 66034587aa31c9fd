//! The sweep: resolves what crashes and failed compensations left behind. Run every minute by a
//! scheduler calling the private route `POST /internal/v1/orders/sweep` (see docs/orders.md).
//!
//! - A `pending` order untouched for [`STALE_AFTER_MS`] belongs to a checkout that died
//!   mid-saga (every live checkout finishes within its deadlines, far sooner): it becomes
//!   `failed` (`abandoned`), its authorisation (if any) is voided and its stock returned, and
//!   the idempotency key that recorded it is freed so the client's retry runs afresh.
//! - An ended order that still holds stock or funds (a compensation missed its deadline) gets
//!   its compensations retried.
//! - A checkout attempt that failed before recording its order, but whose reserve may have
//!   landed after its call timed out and whose release failed too, left a hold in the catalog
//!   for an order id noted only on its idempotency key: the hold is released (within a minute,
//!   not at the catalog's 15-minute expiry) and the note forgotten.
//! - Idempotency keys older than 24 hours are deleted.
//! - Seller-feed entries older than [`SELLER_FEED_RETENTION_MS`] (90 days) are deleted, at most
//!   [`FEED_PURGE_BATCH`] per run.

use shopnow_kernel::outbound::Budget;

use super::{change_order, log, settle};
use crate::OrdersError;
use crate::ports::Ports;

/// How long a `pending` order may stay untouched before it is considered abandoned: far beyond
/// any checkout (whose calls all have deadlines of a few hundred milliseconds).
pub const STALE_AFTER_MS: i64 = 60_000;

/// Most orders handled per kind in one run (the next run continues).
pub const BATCH: u32 = 100;

/// How long the seller event feed keeps an entry: a seller offline for up to 90 days resumes
/// from its cursor without a gap (`GET /v1/seller/events`).
pub const SELLER_FEED_RETENTION_MS: i64 = 90 * 24 * 3_600_000;

/// Most seller-feed entries one run deletes (a short statement; the next run continues).
pub const FEED_PURGE_BATCH: i64 = 10_000;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Abandoned checkouts failed.
    pub abandoned: u32,
    /// Ended orders whose compensations now all succeeded.
    pub compensated: u32,
    /// Orders still owing a compensation after this run.
    pub still_owing: u32,
    /// Holds of unrecorded checkout attempts released.
    pub stranded_released: u32,
    /// Expired idempotency keys deleted.
    pub keys_purged: u64,
    /// Seller-feed entries past their retention deleted.
    pub seller_events_purged: u64,
}

/// Runs one sweep.
///
/// # Errors
/// [`OrdersError::Storage`] when the database fails; a failure on one order is logged and the
/// run continues.
pub fn sweep(ports: &Ports<'_>) -> Result<SweepReport, OrdersError> {
    let now = ports.clock.now_ms();
    let mut report = SweepReport::default();
    for order in ports
        .orders
        .stale_pending(now.saturating_sub(STALE_AFTER_MS), BATCH)?
    {
        let id = order.id.clone();
        let result = change_order(ports, order, |o| {
            o.fail("abandoned", true, ports.clock.now_ms())
                .map_err(OrdersError::from)
        })
        .and_then(|mut order| {
            let done = settle(ports, &mut order)?;
            ports.orders.release_keys_of_order(&order.id)?;
            Ok(done)
        });
        match result {
            Ok(done) => {
                report.abandoned = report.abandoned.saturating_add(1);
                if !done {
                    report.still_owing = report.still_owing.saturating_add(1);
                }
            }
            // The checkout finished meanwhile: nothing to resolve.
            Err(OrdersError::Conflict(_)) => {}
            Err(e) => log(
                ports,
                "warn",
                "sweep.order_failed",
                &[("order.id", id.as_str()), ("error", &e.to_string())],
            ),
        }
    }
    for mut order in ports.orders.owing_compensation(BATCH)? {
        match settle(ports, &mut order) {
            Ok(true) => report.compensated = report.compensated.saturating_add(1),
            Ok(false) => report.still_owing = report.still_owing.saturating_add(1),
            Err(e) => log(
                ports,
                "warn",
                "sweep.order_failed",
                &[("order.id", order.id.as_str()), ("error", &e.to_string())],
            ),
        }
    }
    for attempt in ports.orders.unrecorded_attempts(now, BATCH)? {
        let budget = Budget::starting_now(ports.clock, ports.deadlines.compensation_ms);
        let released = ports
            .catalog
            .release(&budget, &attempt)
            .map_err(|e| OrdersError::DependencyUnavailable {
                dependency: "catalog",
                cause: e.to_string(),
            })
            .and_then(|()| Ok(ports.orders.forget_attempt(&attempt)?));
        match released {
            Ok(()) => report.stranded_released = report.stranded_released.saturating_add(1),
            Err(e) => log(
                ports,
                "warn",
                "sweep.stranded_hold_failed",
                &[("order.id", attempt.as_str()), ("error", &e.to_string())],
            ),
        }
    }
    report.keys_purged = ports.orders.purge_keys(now)?;
    report.seller_events_purged = ports
        .orders
        .purge_seller_events(now.saturating_sub(SELLER_FEED_RETENTION_MS))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{OrderStatus, PaymentStatus, StockState};
    use crate::testing::{Harness, checkout};

    #[test]
    fn an_abandoned_checkout_is_failed_and_everything_it_held_given_back() {
        let h = Harness::new();
        // A checkout that reserved, recorded, got an approval, then died.
        let order = h.pending_order("buyer", &[(1, "s1", 2)]);
        h.payments.approve_directly(order.id.as_str());
        let held = h.catalog.available(1);
        h.clock.advance(STALE_AFTER_MS + 1);
        let report = sweep(&h.ports()).unwrap();
        assert_eq!(report.abandoned, 1);
        assert_eq!(report.still_owing, 0);
        let stored = h.orders.get(&order.id);
        assert_eq!(stored.status, OrderStatus::Failed);
        assert_eq!(stored.stock, StockState::Returned);
        assert_eq!(stored.payment, PaymentStatus::Voided);
        assert_eq!(h.catalog.available(1), held + 2);
        assert_eq!(
            h.payments.state(order.id.as_str()).as_deref(),
            Some("voided")
        );
    }

    #[test]
    fn a_hold_left_by_an_unrecorded_attempt_is_released_once() {
        use crate::app::place_order::place_order;
        // The reserve held the units but timed out, and the compensating release failed too:
        // the hold is noted only on the key.
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        h.catalog.fail_reserve_after_holding();
        h.catalog.fail_next_release();
        let before = h.catalog.available(1);
        place_order(&h.ports(), checkout("k1", Some(vec![(1, 2)]), "tok_ok")).unwrap_err();
        assert_eq!(h.catalog.available(1), before - 2, "the stranded hold");
        assert!(h.orders.all().is_empty());
        let report = sweep(&h.ports()).unwrap();
        assert_eq!(report.stranded_released, 1);
        assert_eq!(h.catalog.available(1), before);
        assert_eq!(sweep(&h.ports()).unwrap().stranded_released, 0);
    }

    #[test]
    fn a_recent_pending_order_is_left_alone() {
        let h = Harness::new();
        let order = h.pending_order("buyer", &[(1, "s1", 1)]);
        h.clock.advance(STALE_AFTER_MS - 1_000);
        assert_eq!(sweep(&h.ports()).unwrap().abandoned, 0);
        assert_eq!(h.orders.get(&order.id).status, OrderStatus::Pending);
    }

    #[test]
    fn missed_compensations_are_retried_until_they_succeed() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1)]);
        h.catalog.set_unavailable(true);
        crate::app::cancel_order::cancel_order(
            &h.ports(),
            &crate::testing::principal("buyer", shopnow_kernel::auth::Role::Customer),
            &order.id,
        )
        .unwrap();
        assert_eq!(sweep(&h.ports()).unwrap().still_owing, 1);
        h.catalog.set_unavailable(false);
        let report = sweep(&h.ports()).unwrap();
        assert_eq!((report.compensated, report.still_owing), (1, 0));
        assert!(!h.orders.get(&order.id).owes_compensation());
    }

    #[test]
    fn expired_keys_are_purged() {
        let h = Harness::new();
        h.confirmed_order("buyer", &[(1, "s1", 1)]);
        // Locked until the epoch: its 24 hours are long over; the checkout's own key is not.
        h.orders.hold_key(
            "buyer",
            "old",
            &crate::domain::Fingerprint::from_stored("f".into()),
            0,
        );
        assert_eq!(sweep(&h.ports()).unwrap().keys_purged, 1);
        h.clock.advance(crate::domain::idempotency::KEY_TTL_MS + 1);
        assert_eq!(sweep(&h.ports()).unwrap().keys_purged, 1);
    }
}
