//! Ports the orders use cases need, by role: the order repository (orders, idempotency keys and
//! the outbox in one database), the cart store, the catalog, the payment provider, time and ids.
//! Implemented by SQL, key-value and HTTP adapters in the component and by in-memory fakes in
//! unit tests. Outbound ports take the request's [`Budget`]: every call has a deadline inside it.

use shopnow_kernel::StockShortage;
use shopnow_kernel::ids::{Clock, IdSource};
use shopnow_kernel::outbound::Budget;
use shopnow_money::Money;

use crate::domain::idempotency::{Fingerprint, IdempotencyKey};
use crate::domain::order::{Order, OrderLine, OrderStatus};
use crate::domain::{
    Cart, Fulfilment, OrderId, PaymentToken, ProductId, Quantity, ShippingAddress,
};

/// A storage failure. Messages are for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The order changed since it was read (optimistic concurrency): re-read and retry.
    #[error("the order was changed concurrently")]
    Conflict,
    /// The store could not be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A write on an idempotency key matched nothing under this request's claim id: the claim
    /// lapsed and another request took the key over. Nothing was written.
    #[error("the idempotency key's claim was taken over by another request")]
    ClaimLost,
    /// Any other failure.
    #[error("store failure: {0}")]
    Failed(String),
}

/// An event on its way to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// UUIDv7 (consumers deduplicate on it).
    pub id: String,
    /// The order it concerns.
    pub order_id: String,
    /// `order.placed`, ….
    pub event_type: String,
    /// The event as JSON.
    pub payload: String,
    /// When (epoch ms).
    pub occurred_at_ms: i64,
}

/// A request claiming an idempotency key.
#[derive(Debug, Clone)]
pub struct KeyClaim<'a> {
    /// The user the key is scoped to.
    pub user_id: &'a str,
    /// The key.
    pub key: &'a IdempotencyKey,
    /// The request's fingerprint.
    pub fingerprint: &'a Fingerprint,
    /// Now (epoch ms).
    pub now_ms: i64,
    /// Until when the claim is held (a later request may take over an expired one).
    pub locked_until_ms: i64,
    /// When the key is forgotten.
    pub expires_at_ms: i64,
}

/// A request's claim on an idempotency key. Every write on the key names `claim_id`, so a
/// request whose claim lapsed and was taken over can no longer change it.
#[derive(Debug, Clone, Copy)]
pub struct KeyHold<'a> {
    /// Whose key.
    pub user_id: &'a str,
    /// The key.
    pub key: &'a IdempotencyKey,
    /// The id [`OrderRepository::claim_key`] gave this request's claim.
    pub claim_id: &'a str,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaimOutcome {
    /// The key is ours to use, under `claim_id`. `previous_order` is set when we took over an
    /// expired claim whose request had already recorded an order.
    Claimed {
        /// Names this request as the key's holder in every later write.
        claim_id: String,
        /// The order the abandoned request recorded, if any.
        previous_order: Option<OrderId>,
    },
    /// Another request holds the key.
    InFlight {
        /// That request's fingerprint.
        fingerprint: Fingerprint,
    },
    /// The key was used and its request finished.
    Completed {
        /// That request's fingerprint.
        fingerprint: Fingerprint,
        /// The stored outcome (JSON of `app::CheckoutOutcome`).
        outcome: String,
    },
}

/// A finished request's outcome, to store under its idempotency key
/// ([`OrderRepository::complete_key`], or with the order's last change:
/// [`OrderRepository::update`]).
#[derive(Debug, Clone, Copy)]
pub struct KeyOutcome<'a> {
    /// The claim it is stored under.
    pub hold: KeyHold<'a>,
    /// The outcome (JSON of `app::CheckoutOutcome`).
    pub outcome: &'a str,
}

/// A position in a newest-first listing: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListPosition {
    /// Its creation time (epoch ms).
    pub created_at_ms: i64,
    /// Its id.
    pub id: String,
}

/// An order in the buyer's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    /// Id.
    pub id: String,
    /// Status.
    pub status: OrderStatus,
    /// Total.
    pub total: Money,
    /// Number of units over all lines.
    pub item_count: u32,
    /// Creation (epoch ms).
    pub created_at_ms: i64,
    /// Last change (epoch ms).
    pub updated_at_ms: i64,
}

/// A fulfilment as its seller sees it: only the seller's own lines and the shipping address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerFulfilment {
    /// The fulfilment.
    pub fulfilment: Fulfilment,
    /// The order it belongs to.
    pub order_id: String,
    /// The seller's lines only.
    pub lines: Vec<OrderLine>,
    /// Where to ship.
    pub shipping_address: ShippingAddress,
    /// The order's creation (epoch ms).
    pub created_at_ms: i64,
}

/// Orders, their fulfilments, history, outbox and the idempotency keys of checkouts.
pub trait OrderRepository {
    /// Claims `claim.key` for `claim.user_id`: inserts it as in flight, or reports what holds
    /// it. A claim whose lock expired is taken over (the request holding it is presumed dead).
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<KeyClaimOutcome, RepoError>;

    /// Stores the finished request's outcome under the key, if the key is still held by
    /// `hold`'s claim.
    ///
    /// # Errors
    /// [`RepoError::ClaimLost`] when another request holds the key now (nothing is written).
    fn complete_key(&self, hold: KeyHold<'_>, outcome: &str) -> Result<(), RepoError>;

    /// Unlocks an in-flight key after a failure worth retrying, noting `attempted`, the order id
    /// the failed attempt used: the retry resumes from that order if it was recorded, and
    /// otherwise first gives back any hold the catalog made for it (its reserve may have
    /// succeeded after the call timed out). The key keeps its fingerprint, so a retry must send
    /// the same body.
    ///
    /// Only under `hold`'s claim: a request whose claim was taken over must not unlock its
    /// successor's.
    ///
    /// # Errors
    /// [`RepoError::ClaimLost`] when another request holds the key now (nothing is written).
    fn release_key(&self, hold: KeyHold<'_>, attempted: &OrderId) -> Result<(), RepoError>;

    /// Forgets every in-flight key that recorded `order_id` (the sweep resolved that order).
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn release_keys_of_order(&self, order_id: &OrderId) -> Result<(), RepoError>;

    /// Inserts a new order with its lines, fulfilments, history and `outbox` messages in one
    /// transaction, and links it to the key `hold` claims.
    ///
    /// # Errors
    /// [`RepoError::ClaimLost`] when the key is no longer held by `hold`'s claim: nothing is
    /// written (another request owns the checkout now); [`RepoError`] on storage failure.
    fn insert(
        &self,
        order: &Order,
        outbox: &[OutboxMessage],
        hold: Option<KeyHold<'_>>,
    ) -> Result<(), RepoError>;

    /// Saves a changed order (status, payment, stock, fulfilments, new history entries) and
    /// `outbox` in one transaction, if its stored version is still `order.version`; with
    /// `completes`, the same transaction stores that outcome under its key (a checkout's last
    /// step: one transaction instead of two) if the key is still held by its claim — otherwise
    /// the order is saved and the outcome is not (the key names the order, so whoever holds it
    /// now replays it from there).
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the order changed since it was read (nothing is saved).
    fn update(
        &self,
        order: &Order,
        outbox: &[OutboxMessage],
        completes: Option<KeyOutcome<'_>>,
    ) -> Result<(), RepoError>;

    /// The order with this id.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn find(&self, id: &OrderId) -> Result<Option<Order>, RepoError>;

    /// The order holding this fulfilment.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn find_by_fulfilment(&self, fulfilment_id: &str) -> Result<Option<Order>, RepoError>;

    /// The buyer's orders, newest first, after `after`.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn list_for_buyer(
        &self,
        buyer_id: &str,
        after: Option<&ListPosition>,
        limit: u32,
    ) -> Result<Vec<OrderSummary>, RepoError>;

    /// The seller's visible fulfilments (of orders confirmed at some point), newest first.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn list_for_seller(
        &self,
        seller_id: &str,
        after: Option<&ListPosition>,
        limit: u32,
    ) -> Result<Vec<SellerFulfilment>, RepoError>;

    /// Orders still `pending` whose last change is older than `updated_before_ms`.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn stale_pending(&self, updated_before_ms: i64, limit: u32) -> Result<Vec<Order>, RepoError>;

    /// Ended orders that still hold stock or may hold funds.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn owing_compensation(&self, limit: u32) -> Result<Vec<Order>, RepoError>;

    /// Order ids that failed checkout attempts noted on their keys ([`Self::release_key`]) but
    /// never recorded as orders, on keys not in flight (`locked_until <= now_ms`) and without an
    /// outcome: each may still hold stock in the catalog (its reserve landed after its call
    /// timed out, and its release failed too).
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn unrecorded_attempts(&self, now_ms: i64, limit: u32) -> Result<Vec<OrderId>, RepoError>;

    /// Forgets the attempt `order_id` on the keys that noted it (its hold was given back), so
    /// the sweep does not release it again and a retry runs afresh.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn forget_attempt(&self, order_id: &OrderId) -> Result<(), RepoError>;

    /// Deletes keys past their expiry; returns how many.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn purge_keys(&self, now_ms: i64) -> Result<u64, RepoError>;

    /// Deletes up to [`crate::app::sweep::FEED_PURGE_BATCH`] seller-feed entries whose event
    /// happened before `before_ms` (the feed's retention, docs/events.md "Seller event feed");
    /// returns how many.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn purge_seller_events(&self, before_ms: i64) -> Result<u64, RepoError>;
}

/// Carts by user.
pub trait CartStore {
    /// The stored cart (expired or not).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store is unreachable.
    fn load(&self, user_id: &str) -> Result<Option<Cart>, RepoError>;

    /// Stores the cart.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store is unreachable.
    fn save(&self, user_id: &str, cart: &Cart) -> Result<(), RepoError>;

    /// Deletes the cart (no error if absent).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store is unreachable.
    fn delete(&self, user_id: &str) -> Result<(), RepoError>;
}

/// A product as the catalog shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInfo {
    /// Title.
    pub title: String,
    /// Seller.
    pub seller_id: String,
    /// Unit price.
    pub price: Money,
    /// Whether it can be bought now (listed and in stock).
    pub available: bool,
}

/// What the catalog said about one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductLookup {
    /// It exists.
    Found(ProductInfo),
    /// It does not exist (or is no longer listed).
    Missing,
    /// The catalog did not answer in time.
    Unknown,
}

/// A line the catalog reserved, priced by the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedLine {
    /// The product.
    pub product_id: ProductId,
    /// Its seller.
    pub seller_id: String,
    /// Title at reservation time.
    pub title: String,
    /// Unit price at reservation time.
    pub unit_price: Money,
    /// Units held.
    pub quantity: Quantity,
}

/// Why a catalog call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Some items are short: nothing was reserved.
    #[error("out of stock")]
    OutOfStock(Vec<StockShortage>),
    /// The catalog did not answer in time, or answered 5xx: the effect is unknown.
    #[error("catalog unavailable: {0}")]
    Unavailable(String),
    /// The reservation is committed (its units are sold), so it cannot be released.
    #[error("the reservation is committed")]
    Committed,
    /// The reservation cannot be committed any more (it was released or lapsed).
    #[error("the reservation is gone: {0}")]
    ReservationGone(String),
    /// Any other refusal (a contract violation; logged).
    #[error("catalog refused: {0}")]
    Rejected(String),
}

/// The catalog: product lookups for carts, and stock reservations for checkouts. Every
/// reservation call is idempotent on the order id.
pub trait CatalogClient {
    /// Looks up products concurrently; one answer per id, in order. Never fails as a whole.
    fn lookup(&self, budget: &Budget, ids: &[ProductId]) -> Vec<ProductLookup>;

    /// Holds stock for every item of `order_id`, or nothing.
    ///
    /// # Errors
    /// [`CatalogError::OutOfStock`] listing every short item; [`CatalogError::Unavailable`].
    fn reserve(
        &self,
        budget: &Budget,
        order_id: &OrderId,
        items: &[(ProductId, Quantity)],
    ) -> Result<Vec<ReservedLine>, CatalogError>;

    /// Commits the reservation (the units are sold).
    ///
    /// # Errors
    /// [`CatalogError::ReservationGone`] when it was released or lapsed;
    /// [`CatalogError::Unavailable`].
    fn commit(&self, budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError>;

    /// Releases a held reservation (no error if there is none).
    ///
    /// # Errors
    /// [`CatalogError::Committed`] when it was committed; [`CatalogError::Unavailable`].
    fn release(&self, budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError>;

    /// Puts a committed reservation's units back on hand (a cancelled order).
    ///
    /// # Errors
    /// [`CatalogError::Unavailable`], or [`CatalogError::Rejected`] when the catalog offers no
    /// way to do it.
    fn restock(&self, budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError>;
}

/// What the provider said to an authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Authorised; the provider's reference.
    Approved {
        /// The provider's authorisation id.
        reference: String,
    },
    /// Declined.
    Declined,
}

/// Why a payment call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// No answer in time, or a 5xx: the effect is unknown.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// A refusal other than a decline (a contract violation; logged).
    #[error("payment provider refused: {0}")]
    Rejected(String),
}

/// The payment provider. Every call is idempotent on the order id.
pub trait PaymentGateway {
    /// Authorises `amount` on `token` for `order_id`.
    ///
    /// # Errors
    /// [`PaymentError::Unavailable`] when the outcome is unknown.
    fn authorize(
        &self,
        budget: &Budget,
        order_id: &OrderId,
        amount: Money,
        token: &PaymentToken,
    ) -> Result<AuthorizeOutcome, PaymentError>;

    /// Voids whatever authorisation exists for `order_id`, and makes sure a late one is refused.
    ///
    /// # Errors
    /// [`PaymentError::Unavailable`].
    fn void(&self, budget: &Budget, order_id: &OrderId) -> Result<(), PaymentError>;

    /// Refunds a captured payment of `order_id`.
    ///
    /// # Errors
    /// [`PaymentError::Unavailable`].
    fn refund(
        &self,
        budget: &Budget,
        order_id: &OrderId,
        amount: Money,
    ) -> Result<(), PaymentError>;
}

/// Deadlines (milliseconds). The checkout's forward path shares one budget inside the 300 ms
/// end-to-end target; compensations get their own small budget each (they run after a failure
/// and are retried by the sweep if they miss it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// Total for a checkout's calls (reserve, authorise, commit).
    pub checkout_ms: u64,
    /// Cap per catalog call.
    pub catalog_call_ms: u64,
    /// Cap per payment call.
    pub payment_call_ms: u64,
    /// Budget of one compensation (release, restock or void).
    pub compensation_ms: u64,
    /// Budget of the cart's catalog lookup (one batch read).
    pub lookup_ms: u64,
    /// How long a checkout's claim on its idempotency key locks it
    /// (`domain::idempotency::LOCK_MS` by default; a retry may take over a lapsed claim).
    pub key_lock_ms: u64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            checkout_ms: 250,
            catalog_call_ms: 150,
            payment_call_ms: 150,
            compensation_ms: 150,
            lookup_ms: 150,
            key_lock_ms: crate::domain::idempotency::LOCK_MS.unsigned_abs(),
        }
    }
}

/// Everything a use case may need, by role. Each use case touches only what it uses.
pub struct Ports<'a> {
    /// Orders, keys and outbox.
    pub orders: &'a dyn OrderRepository,
    /// Carts.
    pub carts: &'a dyn CartStore,
    /// The catalog.
    pub catalog: &'a dyn CatalogClient,
    /// The payment provider.
    pub payments: &'a dyn PaymentGateway,
    /// Time.
    pub clock: &'a dyn Clock,
    /// Ids.
    pub ids: &'a dyn IdSource,
    /// Deadlines.
    pub deadlines: Deadlines,
    /// The current request id, for log lines.
    pub request_id: &'a str,
    /// Where the use cases' structured log lines go.
    pub logger: &'a dyn shopnow_kernel::log::Logger,
}
