//! In-memory ports for unit tests: orders and keys, carts, a catalog with stock and
//! reservations, and a payment provider driven by the simulator's tokens — with switches that
//! make calls fail the ways real dependencies do (time out after acting, refuse, be down).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use shopnow_kernel::StockShortage;
use shopnow_kernel::auth::{Principal, Role, Roles};
use shopnow_kernel::ids::{Clock, FixedClock, SequentialIds};
use shopnow_kernel::outbound::Budget;
use shopnow_money::{Currency, Money};

use crate::app::place_order::{Checkout, place_order};
use crate::domain::idempotency::{Fingerprint, IdempotencyKey, KEY_TTL_MS};
use crate::domain::order::{NewOrder, Order, OrderLine, OrderStatus};
use crate::domain::{Cart, OrderId, PaymentToken, ProductId, Quantity, ShippingAddress};
use crate::ports::{
    AuthorizeOutcome, CartStore, CatalogClient, CatalogError, Deadlines, KeyClaim, KeyClaimOutcome,
    KeyHold, KeyOutcome, ListPosition, OrderRepository, OrderSummary, OutboxMessage, PaymentError,
    PaymentGateway, Ports, ProductInfo, ProductLookup, RepoError, ReservedLine, SellerFulfilment,
};

/// A checkout by `buyer` of `items` (product number, quantity; `None`: the cart) paid with
/// `token`, under `key`.
pub(crate) fn checkout(key: &str, items: Option<Vec<(u32, i64)>>, token: &str) -> Checkout {
    let body = serde_json::json!({"key": key, "items": items, "token": token});
    Checkout {
        buyer_id: "buyer".into(),
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: Fingerprint::of("POST", "/v1/orders", &body),
        items: items.map(|items| {
            items
                .into_iter()
                .map(|(p, q)| (pid(p), Quantity::parse(q).unwrap()))
                .collect()
        }),
        shipping_address: address(),
        payment_token: PaymentToken::parse(token).unwrap(),
    }
}

pub(crate) fn pid(n: u32) -> ProductId {
    ProductId::parse(&format!("0190a000-0000-7000-8000-{n:012x}")).unwrap()
}

pub(crate) fn principal(id: &str, role: Role) -> Principal {
    Principal {
        user_id: id.into(),
        roles: Roles::from([role]),
    }
}

pub(crate) fn address() -> ShippingAddress {
    ShippingAddress {
        name: "Ada Lovelace".into(),
        line1: "12 St James's Square".into(),
        line2: None,
        city: "London".into(),
        region: None,
        postal_code: "SW1Y 4JH".into(),
        country: "GB".into(),
    }
}

#[derive(Debug, Clone)]
struct KeyRow {
    fingerprint: Fingerprint,
    claim_id: String,
    outcome: Option<String>,
    locked_until_ms: i64,
    expires_at_ms: i64,
    order_id: Option<OrderId>,
}

/// Orders, keys and the outbox in memory.
#[derive(Default)]
pub(crate) struct MemoryOrders {
    orders: RefCell<BTreeMap<String, Order>>,
    keys: RefCell<HashMap<(String, String), KeyRow>>,
    outbox: RefCell<Vec<OutboxMessage>>,
    conflicts: Cell<usize>,
    claims: Cell<u32>,
    steal_before_insert: Cell<bool>,
}

impl MemoryOrders {
    pub(crate) fn all(&self) -> Vec<Order> {
        self.orders.borrow().values().cloned().collect()
    }

    pub(crate) fn get(&self, id: &OrderId) -> Order {
        self.orders.borrow().get(id.as_str()).cloned().unwrap()
    }

    pub(crate) fn outbox_types(&self) -> Vec<String> {
        self.outbox
            .borrow()
            .iter()
            .map(|m| m.event_type.clone())
            .collect()
    }

    pub(crate) fn hold_key(&self, user: &str, key: &str, fp: &Fingerprint, locked_until_ms: i64) {
        self.keys.borrow_mut().insert(
            (user.into(), key.into()),
            KeyRow {
                fingerprint: fp.clone(),
                claim_id: "held-by-another-request".into(),
                outcome: None,
                locked_until_ms,
                expires_at_ms: locked_until_ms + KEY_TTL_MS,
                order_id: None,
            },
        );
    }

    pub(crate) fn key_state(&self, user: &str, key: &str) -> Option<&'static str> {
        self.keys
            .borrow()
            .get(&(user.into(), key.into()))
            .map(|row| {
                if row.outcome.is_some() {
                    "completed"
                } else {
                    "in_flight"
                }
            })
    }

    /// Turns a completed key back into an in-flight one (a crash before the outcome was stored).
    pub(crate) fn forget_outcome(&self, user: &str, key: &str, locked_until_ms: i64) {
        if let Some(row) = self.keys.borrow_mut().get_mut(&(user.into(), key.into())) {
            row.outcome = None;
            row.locked_until_ms = locked_until_ms;
        }
    }

    /// A new claim id, as the SQL repository mints one per claim.
    fn next_claim(&self) -> String {
        self.claims.set(self.claims.get() + 1);
        format!("claim-{}", self.claims.get())
    }

    /// Another request takes over `user`'s `key` (its lock lapsed): the claim id changes.
    pub(crate) fn take_over_key(&self, user: &str, key: &str) {
        let claim = self.next_claim();
        if let Some(row) = self.keys.borrow_mut().get_mut(&(user.into(), key.into())) {
            row.claim_id = claim;
        }
    }

    /// The next insert finds its key taken over first (this request was slower than its lock).
    pub(crate) fn steal_claim_before_next_insert(&self) {
        self.steal_before_insert.set(true);
    }

    /// Whether `hold` still holds its key.
    fn holds(&self, hold: KeyHold<'_>) -> bool {
        self.keys
            .borrow()
            .get(&(hold.user_id.into(), hold.key.as_str().into()))
            .is_some_and(|row| row.claim_id == hold.claim_id)
    }

    /// Makes the next `n` updates fail with a concurrent-change conflict (after bumping the
    /// stored version, as a concurrent writer would).
    pub(crate) fn conflict_next_updates(&self, n: usize) {
        self.conflicts.set(n);
    }
}

impl OrderRepository for MemoryOrders {
    fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<KeyClaimOutcome, RepoError> {
        let mut keys = self.keys.borrow_mut();
        let id = (claim.user_id.to_owned(), claim.key.as_str().to_owned());
        if let Some(row) = keys.get_mut(&id)
            && row.expires_at_ms > claim.now_ms
        {
            {
                if let Some(outcome) = &row.outcome {
                    return Ok(KeyClaimOutcome::Completed {
                        fingerprint: row.fingerprint.clone(),
                        outcome: outcome.clone(),
                    });
                }
                if row.locked_until_ms > claim.now_ms || row.fingerprint != *claim.fingerprint {
                    return Ok(KeyClaimOutcome::InFlight {
                        fingerprint: row.fingerprint.clone(),
                    });
                }
                row.locked_until_ms = claim.locked_until_ms;
                row.claim_id = self.next_claim();
                return Ok(KeyClaimOutcome::Claimed {
                    claim_id: row.claim_id.clone(),
                    previous_order: row.order_id.clone(),
                });
            }
        }
        let claim_id = self.next_claim();
        keys.insert(
            id,
            KeyRow {
                fingerprint: claim.fingerprint.clone(),
                claim_id: claim_id.clone(),
                outcome: None,
                locked_until_ms: claim.locked_until_ms,
                expires_at_ms: claim.expires_at_ms,
                order_id: None,
            },
        );
        Ok(KeyClaimOutcome::Claimed {
            claim_id,
            previous_order: None,
        })
    }

    fn complete_key(&self, hold: KeyHold<'_>, outcome: &str) -> Result<(), RepoError> {
        match self
            .keys
            .borrow_mut()
            .get_mut(&(hold.user_id.into(), hold.key.as_str().into()))
            .filter(|row| row.claim_id == hold.claim_id)
        {
            Some(row) => {
                row.outcome = Some(outcome.to_owned());
                Ok(())
            }
            None => Err(RepoError::ClaimLost),
        }
    }

    fn release_key(&self, hold: KeyHold<'_>, attempted: &OrderId) -> Result<(), RepoError> {
        let mut keys = self.keys.borrow_mut();
        let id = (hold.user_id.to_owned(), hold.key.as_str().to_owned());
        match keys
            .get_mut(&id)
            .filter(|r| r.outcome.is_none() && r.claim_id == hold.claim_id)
        {
            Some(row) => {
                row.locked_until_ms = 0;
                row.order_id = Some(attempted.clone());
                Ok(())
            }
            None => Err(RepoError::ClaimLost),
        }
    }

    fn release_keys_of_order(&self, order_id: &OrderId) -> Result<(), RepoError> {
        self.keys
            .borrow_mut()
            .retain(|_, r| !(r.outcome.is_none() && r.order_id.as_ref() == Some(order_id)));
        Ok(())
    }

    fn insert(
        &self,
        order: &Order,
        outbox: &[OutboxMessage],
        hold: Option<KeyHold<'_>>,
    ) -> Result<(), RepoError> {
        if let Some(hold) = hold {
            if self.steal_before_insert.replace(false) {
                self.take_over_key(hold.user_id, hold.key.as_str());
            }
            if !self.holds(hold) {
                return Err(RepoError::ClaimLost);
            }
        }
        let mut stored = order.clone();
        stored.mark_saved();
        self.orders
            .borrow_mut()
            .insert(order.id.to_string(), stored);
        self.outbox.borrow_mut().extend_from_slice(outbox);
        if let Some(hold) = hold
            && let Some(row) = self
                .keys
                .borrow_mut()
                .get_mut(&(hold.user_id.into(), hold.key.as_str().into()))
        {
            row.order_id = Some(order.id.clone());
        }
        Ok(())
    }

    fn update(
        &self,
        order: &Order,
        outbox: &[OutboxMessage],
        completes: Option<KeyOutcome<'_>>,
    ) -> Result<(), RepoError> {
        let mut orders = self.orders.borrow_mut();
        let current = orders
            .get_mut(order.id.as_str())
            .ok_or(RepoError::Conflict)?;
        if self.conflicts.get() > 0 {
            self.conflicts.set(self.conflicts.get() - 1);
            current.version += 1;
            return Err(RepoError::Conflict);
        }
        if current.version != order.version {
            return Err(RepoError::Conflict);
        }
        let mut stored = order.clone();
        stored.mark_saved();
        *current = stored;
        self.outbox.borrow_mut().extend_from_slice(outbox);
        drop(orders);
        if let Some(done) = completes {
            // A claim taken over keeps the order saved and the outcome unwritten.
            match self.complete_key(done.hold, done.outcome) {
                Ok(()) | Err(RepoError::ClaimLost) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn find(&self, id: &OrderId) -> Result<Option<Order>, RepoError> {
        Ok(self.orders.borrow().get(id.as_str()).cloned())
    }

    fn find_by_fulfilment(&self, fulfilment_id: &str) -> Result<Option<Order>, RepoError> {
        Ok(self
            .orders
            .borrow()
            .values()
            .find(|o| o.fulfilments.iter().any(|f| f.id == fulfilment_id))
            .cloned())
    }

    fn list_for_buyer(
        &self,
        buyer_id: &str,
        after: Option<&ListPosition>,
        limit: u32,
    ) -> Result<Vec<OrderSummary>, RepoError> {
        let mut rows: Vec<OrderSummary> = self
            .orders
            .borrow()
            .values()
            .filter(|o| o.buyer_id == buyer_id)
            .map(|o| OrderSummary {
                id: o.id.to_string(),
                status: o.status,
                total: o.total,
                item_count: o.lines.iter().map(|l| l.quantity.get()).sum(),
                created_at_ms: o.created_at_ms,
                updated_at_ms: o.updated_at_ms,
            })
            .filter(|o| {
                after.is_none_or(|p| {
                    (o.created_at_ms, o.id.as_str()) < (p.created_at_ms, p.id.as_str())
                })
            })
            .collect();
        rows.sort_by(|a, b| (b.created_at_ms, &b.id).cmp(&(a.created_at_ms, &a.id)));
        rows.truncate(limit as usize);
        Ok(rows)
    }

    fn list_for_seller(
        &self,
        seller_id: &str,
        after: Option<&ListPosition>,
        limit: u32,
    ) -> Result<Vec<SellerFulfilment>, RepoError> {
        let mut rows: Vec<SellerFulfilment> = self
            .orders
            .borrow()
            .values()
            .flat_map(|o| {
                o.fulfilments
                    .iter()
                    .filter(|f| f.seller_id == seller_id && f.status.visible_to_seller())
                    .map(|f| SellerFulfilment {
                        fulfilment: f.clone(),
                        order_id: o.id.to_string(),
                        lines: o
                            .lines
                            .iter()
                            .filter(|l| l.seller_id == seller_id)
                            .cloned()
                            .collect(),
                        shipping_address: o.shipping_address.clone(),
                        created_at_ms: o.created_at_ms,
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|f| {
                after.is_none_or(|p| {
                    (f.created_at_ms, f.fulfilment.id.as_str()) < (p.created_at_ms, p.id.as_str())
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.created_at_ms, &b.fulfilment.id).cmp(&(a.created_at_ms, &a.fulfilment.id))
        });
        rows.truncate(limit as usize);
        Ok(rows)
    }

    fn stale_pending(&self, updated_before_ms: i64, limit: u32) -> Result<Vec<Order>, RepoError> {
        let mut rows: Vec<Order> = self
            .orders
            .borrow()
            .values()
            .filter(|o| o.status == OrderStatus::Pending && o.updated_at_ms < updated_before_ms)
            .cloned()
            .collect();
        rows.truncate(limit as usize);
        Ok(rows)
    }

    fn owing_compensation(&self, limit: u32) -> Result<Vec<Order>, RepoError> {
        let mut rows: Vec<Order> = self
            .orders
            .borrow()
            .values()
            .filter(|o| o.owes_compensation())
            .cloned()
            .collect();
        rows.truncate(limit as usize);
        Ok(rows)
    }

    fn unrecorded_attempts(&self, now_ms: i64, limit: u32) -> Result<Vec<OrderId>, RepoError> {
        let orders = self.orders.borrow();
        let mut ids: Vec<OrderId> = self
            .keys
            .borrow()
            .values()
            .filter(|r| r.outcome.is_none() && r.locked_until_ms <= now_ms)
            .filter_map(|r| r.order_id.clone())
            .filter(|id| !orders.contains_key(id.as_str()))
            .collect();
        ids.dedup();
        ids.truncate(limit as usize);
        Ok(ids)
    }

    fn forget_attempt(&self, order_id: &OrderId) -> Result<(), RepoError> {
        for row in self.keys.borrow_mut().values_mut() {
            if row.outcome.is_none() && row.order_id.as_ref() == Some(order_id) {
                row.order_id = None;
            }
        }
        Ok(())
    }

    fn purge_keys(&self, now_ms: i64) -> Result<u64, RepoError> {
        let mut keys = self.keys.borrow_mut();
        let before = keys.len();
        keys.retain(|_, r| r.expires_at_ms > now_ms);
        Ok((before - keys.len()) as u64)
    }

    /// The in-memory store keeps no seller feed (the orders consumers write it, in SQL).
    fn purge_seller_events(&self, _before_ms: i64) -> Result<u64, RepoError> {
        Ok(0)
    }
}

/// Carts in memory.
#[derive(Default)]
pub(crate) struct MemoryCarts(RefCell<HashMap<String, Cart>>);

impl MemoryCarts {
    pub(crate) fn put(&self, user: &str, cart: Cart) {
        self.0.borrow_mut().insert(user.into(), cart);
    }

    pub(crate) fn get(&self, user: &str) -> Option<Cart> {
        self.0.borrow().get(user).cloned()
    }
}

impl CartStore for MemoryCarts {
    fn load(&self, user_id: &str) -> Result<Option<Cart>, RepoError> {
        Ok(self.get(user_id))
    }

    fn save(&self, user_id: &str, cart: &Cart) -> Result<(), RepoError> {
        self.put(user_id, cart.clone());
        Ok(())
    }

    fn delete(&self, user_id: &str) -> Result<(), RepoError> {
        self.0.borrow_mut().remove(user_id);
        Ok(())
    }
}

/// A reservation's state and items.
type Reservation = (String, Vec<(ProductId, u32)>);

struct StockRow {
    seller: String,
    title: String,
    price: Money,
    on_hand: u32,
    reserved: u32,
}

/// A catalog with stock and reservations.
#[derive(Default)]
pub(crate) struct FakeCatalog {
    products: RefCell<HashMap<ProductId, StockRow>>,
    reservations: RefCell<HashMap<String, Reservation>>,
    unavailable: Cell<bool>,
    lookups_fail: Cell<bool>,
    reserve_fails_after_holding: Cell<bool>,
    commit_fails_after_committing: Cell<bool>,
    release_fails: Cell<bool>,
    reserve_calls: Cell<u32>,
}

impl FakeCatalog {
    pub(crate) fn add_product(
        &self,
        n: u32,
        seller: &str,
        amount: i64,
        currency: &str,
        stock: u32,
    ) {
        self.products.borrow_mut().insert(
            pid(n),
            StockRow {
                seller: seller.into(),
                title: format!("Product {n}"),
                price: Money::parse(amount, Currency::parse(currency).unwrap()).unwrap(),
                on_hand: stock,
                reserved: 0,
            },
        );
    }

    pub(crate) fn available(&self, n: u32) -> u32 {
        self.products
            .borrow()
            .get(&pid(n))
            .map(|r| r.on_hand - r.reserved)
            .unwrap_or(0)
    }

    pub(crate) fn reservation_state(&self, order_id: &str) -> Option<String> {
        self.reservations
            .borrow()
            .get(order_id)
            .map(|(s, _)| s.clone())
    }

    pub(crate) fn reserve_calls(&self) -> u32 {
        self.reserve_calls.get()
    }

    pub(crate) fn set_unavailable(&self, down: bool) {
        self.unavailable.set(down);
    }

    pub(crate) fn fail_lookups(&self) {
        self.lookups_fail.set(true);
    }

    pub(crate) fn fail_reserve_after_holding(&self) {
        self.reserve_fails_after_holding.set(true);
    }

    /// Makes the next release fail (timed out before the catalog acted), holding on.
    pub(crate) fn fail_next_release(&self) {
        self.release_fails.set(true);
    }

    pub(crate) fn fail_commit_after_committing(&self) {
        self.commit_fails_after_committing.set(true);
    }

    fn down(&self) -> Result<(), CatalogError> {
        if self.unavailable.get() {
            Err(CatalogError::Unavailable("down".into()))
        } else {
            Ok(())
        }
    }

    fn set_state(&self, order_id: &OrderId, state: &str) {
        if let Some(r) = self.reservations.borrow_mut().get_mut(order_id.as_str()) {
            r.0 = state.into();
        }
    }
}

impl CatalogClient for FakeCatalog {
    fn lookup(&self, _budget: &Budget, ids: &[ProductId]) -> Vec<ProductLookup> {
        let products = self.products.borrow();
        ids.iter()
            .map(|id| {
                if self.lookups_fail.get() || self.unavailable.get() {
                    return ProductLookup::Unknown;
                }
                match products.get(id) {
                    Some(r) => ProductLookup::Found(ProductInfo {
                        title: r.title.clone(),
                        seller_id: r.seller.clone(),
                        price: r.price,
                        available: r.on_hand > r.reserved,
                    }),
                    None => ProductLookup::Missing,
                }
            })
            .collect()
    }

    fn reserve(
        &self,
        _budget: &Budget,
        order_id: &OrderId,
        items: &[(ProductId, Quantity)],
    ) -> Result<Vec<ReservedLine>, CatalogError> {
        self.reserve_calls.set(self.reserve_calls.get() + 1);
        self.down()?;
        let mut products = self.products.borrow_mut();
        let short: Vec<StockShortage> = items
            .iter()
            .filter_map(|(id, q)| {
                let available = products
                    .get(id)
                    .map(|r| r.on_hand - r.reserved)
                    .unwrap_or(0);
                (available < q.get()).then(|| StockShortage {
                    product_id: id.to_string(),
                    requested: q.get(),
                    available,
                })
            })
            .collect();
        if !short.is_empty() {
            return Err(CatalogError::OutOfStock(short));
        }
        let mut lines = Vec::new();
        for (id, q) in items {
            let row = products.get_mut(id).unwrap();
            row.reserved += q.get();
            lines.push(ReservedLine {
                product_id: id.clone(),
                seller_id: row.seller.clone(),
                title: row.title.clone(),
                unit_price: row.price,
                quantity: *q,
            });
        }
        self.reservations.borrow_mut().insert(
            order_id.to_string(),
            (
                "held".into(),
                items.iter().map(|(p, q)| (p.clone(), q.get())).collect(),
            ),
        );
        if self.reserve_fails_after_holding.replace(false) {
            return Err(CatalogError::Unavailable("deadline exceeded".into()));
        }
        Ok(lines)
    }

    fn commit(&self, _budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError> {
        self.down()?;
        let items = match self.reservations.borrow().get(order_id.as_str()) {
            Some((state, items)) if state == "held" => items.clone(),
            Some((state, _)) if state == "committed" => return Ok(()),
            _ => return Err(CatalogError::ReservationGone("not held".into())),
        };
        let mut products = self.products.borrow_mut();
        for (id, q) in items {
            let row = products.get_mut(&id).unwrap();
            row.reserved -= q;
            row.on_hand -= q;
        }
        drop(products);
        self.set_state(order_id, "committed");
        if self.commit_fails_after_committing.replace(false) {
            return Err(CatalogError::Unavailable("deadline exceeded".into()));
        }
        Ok(())
    }

    fn release(&self, _budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError> {
        self.down()?;
        if self.release_fails.replace(false) {
            return Err(CatalogError::Unavailable("deadline exceeded".into()));
        }
        let items = match self.reservations.borrow().get(order_id.as_str()) {
            Some((state, items)) if state == "held" => items.clone(),
            Some((state, _)) if state == "committed" => return Err(CatalogError::Committed),
            _ => return Ok(()),
        };
        let mut products = self.products.borrow_mut();
        for (id, q) in items {
            products.get_mut(&id).unwrap().reserved -= q;
        }
        drop(products);
        self.set_state(order_id, "released");
        Ok(())
    }

    fn restock(&self, _budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError> {
        self.down()?;
        let items = match self.reservations.borrow().get(order_id.as_str()) {
            Some((state, items)) if state == "committed" => items.clone(),
            Some((state, _)) if state == "restocked" => return Ok(()),
            _ => return Err(CatalogError::Rejected("not committed".into())),
        };
        let mut products = self.products.borrow_mut();
        for (id, q) in items {
            products.get_mut(&id).unwrap().on_hand += q;
        }
        drop(products);
        self.set_state(order_id, "restocked");
        Ok(())
    }
}

/// A payment provider that behaves like `payments-sim`: `tok_ok` approves, `tok_decline`
/// declines, `tok_error` fails, `tok_slow` times out — and approves late unless voided first.
#[derive(Default)]
pub(crate) struct FakePayments {
    states: RefCell<HashMap<String, String>>,
    authorize_calls: Cell<u32>,
}

impl FakePayments {
    pub(crate) fn state(&self, order_id: &str) -> Option<String> {
        self.states.borrow().get(order_id).cloned()
    }

    pub(crate) fn authorize_calls(&self) -> u32 {
        self.authorize_calls.get()
    }

    pub(crate) fn approve_directly(&self, order_id: &str) {
        self.states
            .borrow_mut()
            .insert(order_id.into(), "authorized".into());
    }
}

impl PaymentGateway for FakePayments {
    fn authorize(
        &self,
        _budget: &Budget,
        order_id: &OrderId,
        _amount: Money,
        token: &PaymentToken,
    ) -> Result<AuthorizeOutcome, PaymentError> {
        self.authorize_calls.set(self.authorize_calls.get() + 1);
        let mut states = self.states.borrow_mut();
        match token.expose() {
            "tok_decline" => {
                states.insert(order_id.to_string(), "declined".into());
                Ok(AuthorizeOutcome::Declined)
            }
            "tok_error" => Err(PaymentError::Unavailable("500".into())),
            "tok_slow" => {
                // The approval lands after our deadline: the caller sees a timeout.
                states
                    .entry(order_id.to_string())
                    .or_insert_with(|| "authorized".into());
                Err(PaymentError::Unavailable("deadline exceeded".into()))
            }
            _ => {
                let state = states
                    .entry(order_id.to_string())
                    .or_insert_with(|| "authorized".into());
                if state == "authorized" {
                    Ok(AuthorizeOutcome::Approved {
                        reference: format!("auth_{order_id}"),
                    })
                } else {
                    Ok(AuthorizeOutcome::Declined)
                }
            }
        }
    }

    fn void(&self, _budget: &Budget, order_id: &OrderId) -> Result<(), PaymentError> {
        self.states
            .borrow_mut()
            .insert(order_id.to_string(), "voided".into());
        Ok(())
    }

    fn refund(
        &self,
        _budget: &Budget,
        order_id: &OrderId,
        _amount: Money,
    ) -> Result<(), PaymentError> {
        self.states
            .borrow_mut()
            .insert(order_id.to_string(), "refunded".into());
        Ok(())
    }
}

/// Every fake, a fixed clock and sequential ids.
pub(crate) struct Harness {
    pub(crate) orders: MemoryOrders,
    pub(crate) carts: MemoryCarts,
    pub(crate) catalog: FakeCatalog,
    pub(crate) payments: FakePayments,
    pub(crate) clock: FixedClock,
    pub(crate) ids: SequentialIds,
    /// What the use cases logged.
    pub(crate) log: shopnow_kernel::log::RecordingLogger,
    keys: Cell<u32>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self {
            orders: MemoryOrders::default(),
            carts: MemoryCarts::default(),
            catalog: FakeCatalog::default(),
            payments: FakePayments::default(),
            clock: FixedClock::at(1_800_000_000_000),
            ids: SequentialIds::default(),
            log: shopnow_kernel::log::RecordingLogger::default(),
            keys: Cell::new(0),
        }
    }

    pub(crate) fn ports(&self) -> Ports<'_> {
        Ports {
            orders: &self.orders,
            carts: &self.carts,
            catalog: &self.catalog,
            payments: &self.payments,
            clock: &self.clock,
            ids: &self.ids,
            deadlines: Deadlines::default(),
            request_id: "test",
            logger: &self.log,
        }
    }

    fn ensure_products(&self, lines: &[(u32, &str, i64)]) {
        for (n, seller, _) in lines {
            if !self.catalog.products.borrow().contains_key(&pid(*n)) {
                self.catalog.add_product(*n, seller, 1000, "EUR", 10);
            }
        }
    }

    /// A confirmed order through the real checkout.
    pub(crate) fn confirmed_order(&self, buyer: &str, lines: &[(u32, &str, i64)]) -> Order {
        self.ensure_products(lines);
        self.keys.set(self.keys.get() + 1);
        let key = format!("key-{}", self.keys.get());
        let placed = place_order(
            &self.ports(),
            Checkout {
                buyer_id: buyer.into(),
                key: IdempotencyKey::parse(&key).unwrap(),
                fingerprint: Fingerprint::from_stored(key.clone()),
                items: Some(
                    lines
                        .iter()
                        .map(|(n, _, q)| (pid(*n), Quantity::parse(*q).unwrap()))
                        .collect(),
                ),
                shipping_address: address(),
                payment_token: PaymentToken::parse("tok_ok").unwrap(),
            },
        )
        .unwrap();
        let crate::app::CheckoutOutcome::Created { order } = placed.outcome else {
            panic!("checkout did not confirm: {:?}", placed.outcome)
        };
        self.orders.get(&OrderId::parse(&order.id).unwrap())
    }

    /// A `pending` order with its stock held, as a checkout leaves it before payment.
    pub(crate) fn pending_order(&self, buyer: &str, lines: &[(u32, &str, i64)]) -> Order {
        use shopnow_kernel::ids::IdSource as _;
        self.ensure_products(lines);
        let id = OrderId::parse(&self.ids.new_id().unwrap()).unwrap();
        let items: Vec<_> = lines
            .iter()
            .map(|(n, _, q)| (pid(*n), Quantity::parse(*q).unwrap()))
            .collect();
        let budget = Budget::starting_now(&self.clock, 100);
        let reserved = self.catalog.reserve(&budget, &id, &items).unwrap();
        let lines = reserved
            .into_iter()
            .map(|l| OrderLine {
                product_id: l.product_id,
                seller_id: l.seller_id,
                title: l.title,
                unit_price: l.unit_price,
                quantity: l.quantity,
            })
            .collect();
        let (order, _) = Order::place(
            NewOrder {
                id,
                buyer_id: buyer.into(),
                lines,
                shipping_address: address(),
            },
            &self.ids,
            self.clock.now_ms(),
        )
        .unwrap();
        self.orders.insert(&order, &[], None).unwrap();
        self.orders.get(&order.id)
    }
}
