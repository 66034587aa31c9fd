//! Ports the catalog use cases need, by role. The component implements the store over SQL
//! (PostgreSQL or SQLite) and hands in Spin's key-value store for the cache; unit tests use
//! in-memory ones.

use shopnow_kernel::StockShortage;
use shopnow_kernel::ids::{Clock, IdSource};
use shopnow_kernel::kv::KeyValue;
use shopnow_kernel::sql::{DbError, DbErrorKind};

use crate::domain::reservation::{ReservationError, ReservationRequest};
use crate::domain::search::{Keyset, ProductSearch};
use crate::domain::{Category, OnHand, OrderId, Product, Reservation, StockLevel};

/// A storage failure. Messages may hold SQL and are for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A category with this slug exists.
    #[error("category slug taken")]
    SlugTaken,
    /// The store could not be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Any other failure.
    #[error("store failure: {0}")]
    Failed(String),
}

impl From<DbError> for StoreError {
    fn from(err: DbError) -> Self {
        match err.kind {
            DbErrorKind::Unavailable => Self::Unavailable(err.message),
            _ => Self::Failed(err.to_string()),
        }
    }
}

/// A product read from the store, and until when that read stays exact without a write: the
/// next moment one of its holds lapses (which frees units without any write).
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRead {
    /// The product, with `reserved` counting only live holds.
    pub product: Product,
    /// Epoch ms of the earliest live hold's expiry, if any.
    pub next_lapse_ms: Option<i64>,
}

/// What a stock-level change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetStockOutcome {
    /// Updated.
    Done(StockLevel),
    /// No such product.
    NotFound,
    /// The product is archived.
    Archived,
    /// The new level is below the units reserved now.
    BelowReserved {
        /// Units reserved now.
        reserved: i64,
    },
}

/// What a reservation attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveOutcome {
    /// Every item is held now.
    Reserved(Reservation),
    /// The order already had this reservation (a replay): nothing changed.
    Replayed(Reservation),
    /// The order already has a reservation with other items.
    Mismatch,
    /// Some items are short; nothing was held.
    Short(Vec<StockShortage>),
}

/// The outcome of a reservation state change: `None` when the order has no reservation, else
/// the state machine's verdict — when `Ok`, it was applied and lists the products whose stock
/// moved.
pub type Transition = Option<Result<Vec<String>, ReservationError>>;

/// The catalog's relational store. Every method is one transaction.
pub trait CatalogStore {
    /// Inserts a category.
    ///
    /// # Errors
    /// [`StoreError::SlugTaken`] if the slug exists.
    fn insert_category(&self, category: &Category) -> Result<(), StoreError>;

    /// Every category, by slug.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn list_categories(&self) -> Result<Vec<Category>, StoreError>;

    /// Whether the category exists.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn category_exists(&self, id: &str) -> Result<bool, StoreError>;

    /// Inserts a product.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn insert_product(&self, product: &Product) -> Result<(), StoreError>;

    /// The product with this id as of `now_ms` (archived ones too).
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn find_product(&self, id: &str, now_ms: i64) -> Result<Option<ProductRead>, StoreError>;

    /// Writes the editable fields, status, version and update time of `product` if the stored
    /// version is still `expected_version`. Returns whether it did.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn save_product(&self, product: &Product, expected_version: i64) -> Result<bool, StoreError>;

    /// Sets the units on hand (bumping the version) unless that would drop below the live
    /// reserved units or the product is archived.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn set_on_hand(
        &self,
        id: &str,
        on_hand: OnHand,
        now_ms: i64,
    ) -> Result<SetStockOutcome, StoreError>;

    /// Active products matching `search`, in its order, starting after `search.after`, at most
    /// `search.limit + 1` of them (the extra one tells whether there is a next page), each with
    /// its sort key.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn search_products(
        &self,
        search: &ProductSearch,
        now_ms: i64,
    ) -> Result<Vec<(Product, Keyset)>, StoreError>;

    /// Holds every item of `request` until `expires_at_ms`, or nothing. Replays of an existing
    /// order id return the stored reservation.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn reserve(
        &self,
        request: &ReservationRequest,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<ReserveOutcome, StoreError>;

    /// Commits the order's reservation (held units leave `on_hand`) as the state machine allows.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn commit_reservation(&self, order_id: &OrderId, now_ms: i64)
    -> Result<Transition, StoreError>;

    /// Releases the order's reservation (held units become available) as the state machine
    /// allows.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn release_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError>;

    /// Puts a committed reservation's units back on hand as the state machine allows.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    fn restock_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError>;
}

/// Tunables read from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a cached product stays fresh, ms (0 disables the cache).
    pub cache_ttl_ms: i64,
    /// How long an uncommitted reservation holds stock, ms.
    pub reservation_ttl_ms: i64,
}

/// Everything a use case may need, by role.
pub struct Ports<'a> {
    /// The relational store.
    pub store: &'a dyn CatalogStore,
    /// The key-value store behind the product cache.
    pub cache: &'a dyn KeyValue,
    /// Time.
    pub clock: &'a dyn Clock,
    /// Ids (also the cache's generation stamps).
    pub ids: &'a dyn IdSource,
    /// Tunables.
    pub settings: Settings,
}
