//! Checkout: the orchestrated saga that turns items (or the cart) into a confirmed order.
//!
//! 1. claim the idempotency key (replay a finished request, 409 while one is in flight, 422 for
//!    another body under the same key);
//! 2. reserve stock in the catalog for every item, priced by the catalog (all or nothing);
//! 3. record the order `pending` with one fulfilment per seller (history + outbox, one
//!    transaction);
//! 4. authorise the total with the payment provider;
//! 5. commit the reservation and confirm the order.
//!
//! Every failure compensates what was done: out of stock reserves nothing; a declined payment
//! releases the stock (`payment_failed`); a catalog or provider that fails or misses its deadline
//! gets the hold released, any authorisation voided and the order `failed`, and the client a 503
//! it may retry with the same key. Calls to the catalog and the provider are keyed by the order
//! id, so a repeated call never reserves or charges twice. A crash between steps leaves either a
//! hold that lapses in the catalog or a `pending` order that the sweep resolves.

use shopnow_kernel::outbound::Budget;

use super::views::{CheckoutOutcome, OrderView};
use super::{log, outbox, save, save_completing, settle};
use crate::OrdersError;
use crate::domain::idempotency::{Fingerprint, IdempotencyKey, KEY_TTL_MS, LOCK_MS};
use crate::domain::order::{NewOrder, Order, OrderError, OrderLine, OrderStatus};
use crate::domain::{Cart, OrderId, PaymentToken, ProductId, Quantity, ShippingAddress};
use crate::ports::{
    AuthorizeOutcome, CatalogError, KeyClaim, KeyClaimOutcome, KeyHold, KeyOutcome, Ports,
    RepoError,
};

/// A validated checkout request.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The buyer.
    pub buyer_id: String,
    /// The client's idempotency key.
    pub key: IdempotencyKey,
    /// Fingerprint of the request.
    pub fingerprint: Fingerprint,
    /// Items to buy; `None` checks out the cart (which is emptied on success).
    pub items: Option<Vec<(ProductId, Quantity)>>,
    /// Where to ship.
    pub shipping_address: ShippingAddress,
    /// How to pay.
    pub payment_token: PaymentToken,
}

/// A checkout's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// What happened.
    pub outcome: CheckoutOutcome,
    /// Whether it was replayed from an earlier request with the same key.
    pub replayed: bool,
}

/// Runs the checkout (or replays it).
///
/// # Errors
/// [`OrdersError::KeyInUse`], [`OrdersError::KeyReused`]; [`OrdersError::Invalid`] for an empty
/// cart; [`OrdersError::DependencyUnavailable`] (compensated, retry with the same key);
/// [`OrdersError::Storage`].
pub fn place_order(ports: &Ports<'_>, checkout: Checkout) -> Result<Placed, OrdersError> {
    let now = ports.clock.now_ms();
    let claim = KeyClaim {
        user_id: &checkout.buyer_id,
        key: &checkout.key,
        fingerprint: &checkout.fingerprint,
        now_ms: now,
        locked_until_ms: now
            .saturating_add(i64::try_from(ports.deadlines.key_lock_ms).unwrap_or(LOCK_MS)),
        expires_at_ms: now.saturating_add(KEY_TTL_MS),
    };
    let (claim_id, previous) = match ports.orders.claim_key(&claim)? {
        KeyClaimOutcome::Completed {
            fingerprint,
            outcome,
        } => {
            if fingerprint != checkout.fingerprint {
                return Err(OrdersError::KeyReused);
            }
            let outcome = serde_json::from_str(&outcome)
                .map_err(|e| OrdersError::Internal(format!("stored outcome unreadable: {e}")))?;
            return Ok(Placed {
                outcome,
                replayed: true,
            });
        }
        KeyClaimOutcome::InFlight { fingerprint } => {
            return Err(if fingerprint == checkout.fingerprint {
                OrdersError::KeyInUse
            } else {
                OrdersError::KeyReused
            });
        }
        KeyClaimOutcome::Claimed {
            claim_id,
            previous_order,
        } => (claim_id, previous_order),
    };
    let hold = KeyHold {
        user_id: &checkout.buyer_id,
        key: &checkout.key,
        claim_id: &claim_id,
    };
    if let Some(previous) = previous {
        match resume(ports, &previous)? {
            Resume::Answer(outcome) => {
                finish(ports, hold, &outcome);
                return Ok(Placed {
                    outcome,
                    replayed: true,
                });
            }
            Resume::Afresh => {}
            Resume::Compensate(mut order) => {
                // Its compensation failed (a deadline under load): give its hold back now, or
                // the retry could find the buyer's own units held and answer out of stock.
                let settled = settle(ports, &mut order).unwrap_or_else(|e| {
                    // Its stock and payment steps log their own failures; this is the save.
                    log(
                        ports,
                        "warn",
                        "compensation.failed",
                        &[
                            ("step", "save"),
                            ("order.id", order.id.as_str()),
                            ("error", &e.to_string()),
                        ],
                    );
                    false
                });
                if !settled {
                    unlock(ports, hold, &previous);
                    return Err(OrdersError::DependencyUnavailable {
                        dependency: "catalog",
                        cause: "the previous attempt's compensation is still due".into(),
                    });
                }
            }
            Resume::Unrecorded => {
                // The attempt failed before recording its order, maybe with its reserve still
                // landing in the catalog: give that hold back before reserving again, or this
                // buyer's own ghost hold could make the retry out of stock.
                let budget = Budget::starting_now(ports.clock, ports.deadlines.compensation_ms);
                if let Err(e) = ports.catalog.release(&budget, &previous) {
                    unlock(ports, hold, &previous);
                    return Err(OrdersError::DependencyUnavailable {
                        dependency: "catalog",
                        cause: format!("releasing the previous attempt's hold: {e}"),
                    });
                }
            }
        }
    }
    let order_id = OrderId::parse(&ports.ids.new_id()?)
        .map_err(|_| OrdersError::Internal("minted order id is not a UUID".into()))?;
    match run(ports, &checkout, hold, &order_id) {
        Ok(Ran {
            outcome,
            key_completed,
        }) => {
            if !key_completed {
                finish(ports, hold, &outcome);
            }
            Ok(Placed {
                outcome,
                replayed: false,
            })
        }
        Err(err) => {
            unlock(ports, hold, &order_id);
            Err(err)
        }
    }
}

/// Unlocks the key for a retry, noting the order id this attempt used (see
/// [`OrderRepository::release_key`](crate::ports::OrderRepository::release_key)), unless the
/// claim was taken over (then the key is its new holder's). A failure is logged: the claim
/// lapses after its lock, and retries get 409 until then.
fn unlock(ports: &Ports<'_>, hold: KeyHold<'_>, attempted: &OrderId) {
    if let Err(e) = ports.orders.release_key(hold, attempted) {
        log(
            ports,
            "warn",
            "idempotency.release_failed",
            &[("order.id", attempted.as_str()), ("error", &e.to_string())],
        );
    }
}

/// How a retry goes on from the order id an earlier attempt with its key used.
enum Resume {
    /// That attempt got far enough to have an answer: replay it.
    Answer(CheckoutOutcome),
    /// Its order failed and was compensated: run the checkout afresh.
    Afresh,
    /// Its order failed but still holds stock or funds: compensate, then run afresh.
    Compensate(Box<Order>),
    /// It never recorded its order: release any hold made for it, then run afresh.
    Unrecorded,
}

/// What to do when an earlier request with this key used `order_id`: the order's outcome if it
/// got that far, `KeyInUse` while the sweep has yet to resolve it, else run afresh.
fn resume(ports: &Ports<'_>, order_id: &OrderId) -> Result<Resume, OrdersError> {
    let Some(order) = ports.orders.find(order_id)? else {
        return Ok(Resume::Unrecorded);
    };
    Ok(match order.status {
        OrderStatus::Pending => return Err(OrdersError::KeyInUse),
        OrderStatus::Confirmed
        | OrderStatus::PartiallyShipped
        | OrderStatus::Shipped
        | OrderStatus::Cancelled => Resume::Answer(CheckoutOutcome::Created {
            order: Box::new(OrderView::from(&order)),
        }),
        OrderStatus::PaymentFailed => Resume::Answer(CheckoutOutcome::PaymentDeclined {
            order_id: order.id.to_string(),
        }),
        OrderStatus::Failed if order.owes_compensation() => Resume::Compensate(Box::new(order)),
        OrderStatus::Failed => Resume::Afresh,
    })
}

/// The outcome as stored under a key; `None` (logged) if it cannot be serialised.
fn stored_outcome(ports: &Ports<'_>, outcome: &CheckoutOutcome) -> Option<String> {
    serde_json::to_string(outcome)
        .map_err(|e| {
            log(
                ports,
                "error",
                "idempotency.serialise_failed",
                &[("error", &e.to_string())],
            );
        })
        .ok()
}

/// Stores the outcome under the key, under this request's claim. A failure (a claim taken over
/// included) is logged: the key still names the order, so whoever retries resumes from it rather
/// than ordering twice.
fn finish(ports: &Ports<'_>, hold: KeyHold<'_>, outcome: &CheckoutOutcome) {
    let Some(stored) = stored_outcome(ports, outcome) else {
        return;
    };
    if let Err(e) = ports.orders.complete_key(hold, &stored) {
        log(
            ports,
            "warn",
            "idempotency.complete_failed",
            &[("error", &e.to_string())],
        );
    }
}

/// Releases a hold the checkout may have taken, logging a failure (the hold lapses).
fn release_quietly(ports: &Ports<'_>, order_id: &OrderId) {
    let budget = Budget::starting_now(ports.clock, ports.deadlines.compensation_ms);
    if let Err(e) = ports.catalog.release(&budget, order_id) {
        log(
            ports,
            "warn",
            "compensation.failed",
            &[
                ("step", "release_stock"),
                ("order.id", order_id.as_str()),
                ("error", &e.to_string()),
                ("note", "the hold lapses in the catalog"),
            ],
        );
    }
}

/// Marks the order `failed` for `reason` and gives back what it holds. Storage failures are
/// logged: the order then stays `pending` and the sweep resolves it.
fn abort(ports: &Ports<'_>, order: &mut Order, reason: &str, payment_unknown: bool) {
    let result = order
        .fail(reason, payment_unknown, ports.clock.now_ms())
        .map_err(OrdersError::from)
        .and_then(|events| save(ports, order, &events))
        .and_then(|()| settle(ports, order));
    if let Err(e) = result {
        log(
            ports,
            "warn",
            "checkout.abort_incomplete",
            &[
                ("order.id", order.id.as_str()),
                ("error", &e.to_string()),
                ("note", "the sweep resolves it"),
            ],
        );
    }
}

fn to_lines(
    reserved: Vec<crate::ports::ReservedLine>,
    items: &[(ProductId, Quantity)],
) -> Result<Vec<OrderLine>, OrdersError> {
    let matches = reserved.len() == items.len()
        && items.iter().all(|(product, quantity)| {
            reserved
                .iter()
                .any(|l| &l.product_id == product && l.quantity == *quantity)
        });
    if !matches {
        return Err(OrdersError::Internal(
            "the catalog reserved other items than requested".into(),
        ));
    }
    Ok(reserved
        .into_iter()
        .map(|l| OrderLine {
            product_id: l.product_id,
            seller_id: l.seller_id,
            title: l.title,
            unit_price: l.unit_price,
            quantity: l.quantity,
        })
        .collect())
}

/// What the saga ended with.
struct Ran {
    outcome: CheckoutOutcome,
    /// Whether the outcome is already stored under the key (with the confirmed order).
    key_completed: bool,
}

impl From<CheckoutOutcome> for Ran {
    fn from(outcome: CheckoutOutcome) -> Self {
        Self {
            outcome,
            key_completed: false,
        }
    }
}

/// The saga proper for the new order `order_id`, after the key is claimed.
fn run(
    ports: &Ports<'_>,
    checkout: &Checkout,
    hold: KeyHold<'_>,
    order_id: &OrderId,
) -> Result<Ran, OrdersError> {
    let order_id = order_id.clone();
    let (items, from_cart) = match &checkout.items {
        Some(items) => (items.clone(), false),
        None => {
            let cart =
                Cart::live_or_empty(ports.carts.load(&checkout.buyer_id)?, ports.clock.now_ms());
            if cart.is_empty() {
                return Err(OrdersError::Invalid(
                    "items".into(),
                    "are required when the cart is empty".into(),
                ));
            }
            let items = cart
                .items()
                .iter()
                .map(|i| (i.product_id.clone(), i.quantity))
                .collect();
            (items, true)
        }
    };
    let budget = Budget::starting_now(ports.clock, ports.deadlines.checkout_ms);

    // 1. Reserve: all or nothing, priced by the catalog.
    let reserved = match ports.catalog.reserve(&budget, &order_id, &items) {
        Ok(lines) => lines,
        Err(CatalogError::OutOfStock(short)) => {
            return Ok(CheckoutOutcome::OutOfStock { items: short }.into());
        }
        Err(CatalogError::Unavailable(cause)) => {
            // The catalog may have reserved before the deadline cut the call.
            release_quietly(ports, &order_id);
            return Err(OrdersError::DependencyUnavailable {
                dependency: "catalog",
                cause,
            });
        }
        Err(other) => {
            release_quietly(ports, &order_id);
            return Err(OrdersError::Internal(format!("reserve: {other}")));
        }
    };
    let lines = match to_lines(reserved, &items) {
        Ok(lines) => lines,
        Err(e) => {
            release_quietly(ports, &order_id);
            return Err(e);
        }
    };

    // 2. Record the order, pending.
    let placed = Order::place(
        NewOrder {
            id: order_id.clone(),
            buyer_id: checkout.buyer_id.clone(),
            lines,
            shipping_address: checkout.shipping_address.clone(),
        },
        ports.ids,
        ports.clock.now_ms(),
    );
    let (mut order, events) = match placed {
        Ok(placed) => placed,
        Err(OrderError::MixedCurrencies(currencies)) => {
            release_quietly(ports, &order_id);
            return Ok(CheckoutOutcome::MixedCurrencies { currencies }.into());
        }
        Err(e) => {
            release_quietly(ports, &order_id);
            return Err(e.into());
        }
    };
    let recorded = outbox(ports, &order, &events).and_then(|messages| {
        ports
            .orders
            .insert(&order, &messages, Some(hold))
            .map_err(OrdersError::from)
    });
    if let Err(e) = recorded {
        // Also when the claim was taken over while this request reserved (its lock lapsed): the
        // key is another request's now, so this one records nothing, charges nothing and gives
        // its hold back; its client is told the key is in use.
        if matches!(e, OrdersError::Storage(RepoError::ClaimLost)) {
            log(
                ports,
                "warn",
                "idempotency.claim_lost",
                &[("order.id", order_id.as_str()), ("step", "record_order")],
            );
        }
        release_quietly(ports, &order_id);
        return Err(e);
    }
    order.mark_saved();

    // 3. Authorise the total.
    let reference =
        match ports
            .payments
            .authorize(&budget, &order.id, order.total, &checkout.payment_token)
        {
            Ok(AuthorizeOutcome::Approved { reference }) => reference,
            Ok(AuthorizeOutcome::Declined) => {
                let result = order
                    .decline_payment(ports.clock.now_ms())
                    .map_err(OrdersError::from)
                    .and_then(|events| save(ports, &mut order, &events))
                    .and_then(|()| settle(ports, &mut order));
                if let Err(e) = result {
                    log(
                        ports,
                        "warn",
                        "checkout.decline_incomplete",
                        &[("order.id", order.id.as_str()), ("error", &e.to_string())],
                    );
                }
                return Ok(CheckoutOutcome::PaymentDeclined {
                    order_id: order.id.to_string(),
                }
                .into());
            }
            Err(e) => {
                abort(ports, &mut order, "payment_unavailable", true);
                return Err(OrdersError::DependencyUnavailable {
                    dependency: "payment provider",
                    cause: e.to_string(),
                });
            }
        };
    order.payment_authorized(reference.clone());

    // 4. Commit the reservation and confirm.
    if let Err(e) = ports.catalog.commit(&budget, &order.id) {
        abort(ports, &mut order, "catalog_unavailable", false);
        return Err(OrdersError::DependencyUnavailable {
            dependency: "catalog",
            cause: e.to_string(),
        });
    }
    order.stock_committed();
    let events = order.confirm(reference, ports.clock.now_ms())?;
    // The answer is the confirmed order: stored under the key in the confirming transaction.
    let outcome = CheckoutOutcome::Created {
        order: Box::new(OrderView::from(&order)),
    };
    let stored = stored_outcome(ports, &outcome);
    let completes = stored.as_deref().map(|stored| KeyOutcome {
        hold,
        outcome: stored,
    });
    if let Err(e) = save_completing(ports, &mut order, &events, completes) {
        abort(ports, &mut order, "storage_failed", false);
        return Err(e);
    }
    if from_cart && let Err(e) = ports.carts.delete(&checkout.buyer_id) {
        log(
            ports,
            "warn",
            "cart.clear_failed",
            &[("order.id", order.id.as_str()), ("error", &e.to_string())],
        );
    }
    Ok(Ran {
        outcome,
        key_completed: completes.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::set_cart_item::set_cart_item;
    use crate::domain::order::{PaymentStatus, StockState};
    use crate::ports::OrderRepository as _;
    use crate::testing::{Harness, checkout, pid};
    use shopnow_kernel::ids::Clock as _;

    fn harness() -> Harness {
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        h.catalog.add_product(2, "s2", 500, "EUR", 5);
        h
    }

    fn only_order(h: &Harness) -> Order {
        let orders = h.orders.all();
        assert_eq!(orders.len(), 1, "exactly one order");
        orders.into_iter().next().unwrap()
    }

    #[test]
    fn a_two_seller_checkout_confirms_with_a_fulfilment_per_seller() {
        let h = harness();
        let placed = place_order(
            &h.ports(),
            checkout("k1", Some(vec![(1, 2), (2, 1)]), "tok_ok"),
        )
        .unwrap();
        let CheckoutOutcome::Created { order } = placed.outcome else {
            panic!("expected created, got {:?}", placed.outcome)
        };
        assert_eq!(order.status, "confirmed");
        assert_eq!(order.total.amount(), 2500);
        assert_eq!(order.fulfilments.len(), 2);
        assert_eq!(h.catalog.available(1), 3);
        assert_eq!(
            h.catalog.reservation_state(&order.id).as_deref(),
            Some("committed")
        );
        assert_eq!(h.payments.state(&order.id).as_deref(), Some("authorized"));
        let events = h.orders.outbox_types();
        assert_eq!(events, ["order.created", "order.placed"]);
    }

    #[test]
    fn a_replay_returns_the_first_outcome_without_doing_anything_again() {
        let h = harness();
        let first = place_order(&h.ports(), checkout("k1", Some(vec![(1, 1)]), "tok_ok")).unwrap();
        let again = place_order(&h.ports(), checkout("k1", Some(vec![(1, 1)]), "tok_ok")).unwrap();
        assert!(again.replayed);
        assert_eq!(first.outcome, again.outcome);
        assert_eq!(h.catalog.reserve_calls(), 1);
        assert_eq!(h.payments.authorize_calls(), 1);
        assert_eq!(h.catalog.available(1), 4);
    }

    #[test]
    fn the_same_key_with_another_body_is_refused() {
        let h = harness();
        place_order(&h.ports(), checkout("k1", Some(vec![(1, 1)]), "tok_ok")).unwrap();
        let err =
            place_order(&h.ports(), checkout("k1", Some(vec![(1, 2)]), "tok_ok")).unwrap_err();
        assert!(matches!(err, OrdersError::KeyReused));
    }

    #[test]
    fn a_key_in_flight_answers_in_use() {
        let h = harness();
        let c = checkout("k1", Some(vec![(1, 1)]), "tok_ok");
        h.orders
            .hold_key("buyer", "k1", &c.fingerprint, h.clock.now_ms() + 10_000);
        assert!(matches!(
            place_order(&h.ports(), c),
            Err(OrdersError::KeyInUse)
        ));
        assert_eq!(h.catalog.reserve_calls(), 0);
    }

    #[test]
    fn out_of_stock_lists_short_items_and_reserves_nothing() {
        let h = harness();
        let placed = place_order(
            &h.ports(),
            checkout("k1", Some(vec![(1, 6), (2, 1)]), "tok_ok"),
        )
        .unwrap();
        let CheckoutOutcome::OutOfStock { items } = placed.outcome else {
            panic!("expected out of stock")
        };
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].requested, items[0].available), (6, 5));
        assert_eq!((h.catalog.available(1), h.catalog.available(2)), (5, 5));
        assert!(h.orders.all().is_empty());
        assert_eq!(h.payments.authorize_calls(), 0);
    }

    #[test]
    fn a_declined_payment_releases_the_stock_and_fails_the_order() {
        let h = harness();
        let placed = place_order(
            &h.ports(),
            checkout("k1", Some(vec![(1, 2)]), "tok_decline"),
        )
        .unwrap();
        assert!(matches!(
            placed.outcome,
            CheckoutOutcome::PaymentDeclined { .. }
        ));
        let order = only_order(&h);
        assert_eq!(order.status, OrderStatus::PaymentFailed);
        assert_eq!(order.stock, StockState::Returned);
        assert_eq!(h.catalog.available(1), 5);
        assert!(!order.owes_compensation());
    }

    #[test]
    fn an_unavailable_provider_voids_releases_and_answers_unavailable() {
        for token in ["tok_error", "tok_slow"] {
            let h = harness();
            let err =
                place_order(&h.ports(), checkout("k1", Some(vec![(1, 2)]), token)).unwrap_err();
            assert!(matches!(
                err,
                OrdersError::DependencyUnavailable {
                    dependency: "payment provider",
                    ..
                }
            ));
            let order = only_order(&h);
            assert_eq!(order.status, OrderStatus::Failed);
            assert_eq!(order.stock, StockState::Returned);
            assert_eq!(order.payment, PaymentStatus::Voided);
            assert_eq!(h.catalog.available(1), 5, "{token}");
            // A slow approval that lands after the void is refused by the provider.
            assert_eq!(
                h.payments.state(order.id.as_str()).as_deref(),
                Some("voided"),
                "{token}"
            );
            // The key is unlocked: a retry runs the checkout anew (a new order; the failed one
            // stays failed), rather than waiting for the lock or replaying the failure.
            let again =
                place_order(&h.ports(), checkout("k1", Some(vec![(1, 2)]), token)).unwrap_err();
            assert!(
                matches!(again, OrdersError::DependencyUnavailable { .. }),
                "{token}: {again:?}"
            );
            assert_eq!(h.orders.all().len(), 2, "{token}");
        }
    }

    #[test]
    fn an_unavailable_catalog_at_reserve_leaves_nothing_held() {
        let h = harness();
        h.catalog.fail_reserve_after_holding();
        let err =
            place_order(&h.ports(), checkout("k1", Some(vec![(1, 2)]), "tok_ok")).unwrap_err();
        assert!(matches!(
            err,
            OrdersError::DependencyUnavailable {
                dependency: "catalog",
                ..
            }
        ));
        assert_eq!(h.catalog.available(1), 5);
        assert!(h.orders.all().is_empty());
        assert_eq!(h.payments.authorize_calls(), 0);
    }

    #[test]
    fn a_retry_gives_back_its_own_stranded_hold_before_reserving_again() {
        // The reserve held the last units but timed out, and so did the compensating release:
        // without giving that hold back first, the buyer's retry would be out of stock.
        let h = harness();
        h.catalog.fail_reserve_after_holding();
        h.catalog.fail_next_release();
        let c = checkout("k1", Some(vec![(1, 5)]), "tok_ok");
        let err = place_order(&h.ports(), c.clone()).unwrap_err();
        assert!(matches!(err, OrdersError::DependencyUnavailable { .. }));
        assert_eq!(h.catalog.available(1), 0, "the stranded hold");
        assert_eq!(h.orders.key_state("buyer", "k1"), Some("in_flight"));
        let placed = place_order(&h.ports(), c).unwrap();
        assert_eq!(h.orders.key_state("buyer", "k1"), Some("completed"));
        let CheckoutOutcome::Created { order } = placed.outcome else {
            panic!("expected created, got {:?}", placed.outcome)
        };
        assert_eq!(order.status, "confirmed");
        assert_eq!(h.catalog.available(1), 0, "five sold, none held");
        assert_eq!(h.catalog.reserve_calls(), 2);
        assert_eq!(h.orders.all().len(), 1);
    }

    #[test]
    fn a_request_whose_claim_was_taken_over_records_and_charges_nothing() {
        // Slower than its lock: another request took the key over while this one reserved.
        let h = harness();
        h.orders.steal_claim_before_next_insert();
        let c = checkout("k1", Some(vec![(1, 5)]), "tok_ok");
        let err = place_order(&h.ports(), c.clone()).unwrap_err();
        assert!(
            matches!(err, OrdersError::Storage(RepoError::ClaimLost)),
            "{err:?}"
        );
        assert!(h.orders.all().is_empty(), "no order recorded");
        assert_eq!(h.payments.authorize_calls(), 0, "nothing charged");
        assert_eq!(h.catalog.available(1), 5, "its hold given back");
        // Logged through the port: the lost claim, then the unlock it was refused.
        let lines = h.log.lines();
        assert_eq!(
            h.log.events(),
            ["idempotency.claim_lost", "idempotency.release_failed"]
        );
        assert_eq!(lines[0].get("step"), Some("record_order"));
        assert_eq!(lines[0].get("level"), Some("warn"));
        assert_eq!(lines[0].get("request_id"), Some("test"));
        // It did not unlock the key it lost: its new holder's lock stands.
        assert!(matches!(
            place_order(&h.ports(), c.clone()),
            Err(OrdersError::KeyInUse)
        ));
        // Once that lock lapses, a retry checks out exactly once.
        h.clock.advance(LOCK_MS + 1);
        let placed = place_order(&h.ports(), c).unwrap();
        assert!(matches!(placed.outcome, CheckoutOutcome::Created { .. }));
        assert_eq!(h.orders.all().len(), 1);
        assert_eq!(h.payments.authorize_calls(), 1);
    }

    #[test]
    fn an_outcome_is_stored_only_under_the_claim_that_earned_it() {
        let h = harness();
        let c = checkout("k1", Some(vec![(1, 1)]), "tok_ok");
        place_order(&h.ports(), c.clone()).unwrap();
        h.orders.forget_outcome("buyer", "k1", 0);
        h.orders.take_over_key("buyer", "k1");
        let stale = KeyHold {
            user_id: "buyer",
            key: &c.key,
            claim_id: "claim-1",
        };
        assert_eq!(
            h.orders.complete_key(stale, "{}"),
            Err(RepoError::ClaimLost)
        );
        assert_eq!(
            h.orders.release_key(stale, &only_order(&h).id),
            Err(RepoError::ClaimLost)
        );
        assert_eq!(h.orders.key_state("buyer", "k1"), Some("in_flight"));
    }

    #[test]
    fn a_retry_finishes_the_compensation_its_failed_attempt_could_not() {
        // Payment timed out and the release of the hold failed too: the order is failed but
        // still holds the last units. The retry must give them back before reserving again.
        let h = harness();
        h.catalog.fail_next_release();
        let slow = checkout("k1", Some(vec![(1, 5)]), "tok_slow");
        place_order(&h.ports(), slow.clone()).unwrap_err();
        assert_eq!(h.catalog.available(1), 0, "the failed order's hold");
        assert!(only_order(&h).owes_compensation());
        let err = place_order(&h.ports(), slow).unwrap_err();
        assert!(matches!(err, OrdersError::DependencyUnavailable { .. }));
        let orders = h.orders.all();
        assert_eq!(orders.len(), 2, "the retry ran afresh");
        assert!(orders.iter().all(|o| !o.owes_compensation()), "{orders:?}");
        assert_eq!(h.catalog.available(1), 5);
    }

    #[test]
    fn a_retry_whose_stranded_hold_cannot_be_released_yet_answers_unavailable() {
        let h = harness();
        h.catalog.fail_reserve_after_holding();
        h.catalog.fail_next_release();
        let c = checkout("k1", Some(vec![(1, 5)]), "tok_ok");
        place_order(&h.ports(), c.clone()).unwrap_err();
        h.catalog.fail_next_release();
        let err = place_order(&h.ports(), c.clone()).unwrap_err();
        assert!(matches!(
            err,
            OrdersError::DependencyUnavailable {
                dependency: "catalog",
                ..
            }
        ));
        assert_eq!(
            h.catalog.reserve_calls(),
            1,
            "no second hold while the first may stand"
        );
        let placed = place_order(&h.ports(), c).unwrap();
        assert!(matches!(placed.outcome, CheckoutOutcome::Created { .. }));
    }

    #[test]
    fn a_failed_commit_voids_the_payment_and_returns_the_stock() {
        let h = harness();
        h.catalog.fail_commit_after_committing();
        let err =
            place_order(&h.ports(), checkout("k1", Some(vec![(1, 2)]), "tok_ok")).unwrap_err();
        assert!(matches!(err, OrdersError::DependencyUnavailable { .. }));
        let order = only_order(&h);
        assert_eq!(order.status, OrderStatus::Failed);
        assert_eq!(order.payment, PaymentStatus::Voided);
        assert_eq!(h.catalog.available(1), 5, "committed units were restocked");
    }

    #[test]
    fn mixed_currencies_are_refused_and_released() {
        let h = harness();
        h.catalog.add_product(3, "s1", 700, "USD", 5);
        let placed = place_order(
            &h.ports(),
            checkout("k1", Some(vec![(1, 1), (3, 1)]), "tok_ok"),
        )
        .unwrap();
        assert_eq!(
            placed.outcome,
            CheckoutOutcome::MixedCurrencies {
                currencies: vec!["EUR".into(), "USD".into()]
            }
        );
        assert_eq!((h.catalog.available(1), h.catalog.available(3)), (5, 5));
    }

    #[test]
    fn checking_out_the_cart_empties_it_only_on_success() {
        let h = harness();
        set_cart_item(&h.ports(), "buyer", pid(1), 2).unwrap();
        let placed = place_order(&h.ports(), checkout("k1", None, "tok_decline")).unwrap();
        assert!(matches!(
            placed.outcome,
            CheckoutOutcome::PaymentDeclined { .. }
        ));
        assert!(h.carts.get("buyer").is_some_and(|c| !c.is_empty()));
        let placed = place_order(&h.ports(), checkout("k2", None, "tok_ok")).unwrap();
        assert!(matches!(placed.outcome, CheckoutOutcome::Created { .. }));
        assert!(h.carts.get("buyer").is_none());
        let err = place_order(&h.ports(), checkout("k3", None, "tok_ok")).unwrap_err();
        assert!(matches!(err, OrdersError::Invalid(f, _) if f == "items"));
    }

    #[test]
    fn a_crashed_request_is_resumed_from_its_recorded_order() {
        let h = harness();
        let c = checkout("k1", Some(vec![(1, 1)]), "tok_ok");
        let first = place_order(&h.ports(), c.clone()).unwrap();
        // Simulate a crash after confirming but before the outcome was stored.
        h.orders.forget_outcome("buyer", "k1", h.clock.now_ms() - 1);
        h.clock.advance(LOCK_MS + 1);
        let again = place_order(&h.ports(), c).unwrap();
        assert_eq!(again.outcome, first.outcome);
        assert_eq!(h.payments.authorize_calls(), 1);
    }
}
