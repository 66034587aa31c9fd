//! In-memory ports, a fixed clock and sequential ids for the use-case unit tests. Test-only.
//! The store keeps the SQL store's rules (all-or-nothing holds, version-checked saves, the
//! reservation state machine) but not its lazy expiry sweep, which the API tests cover.

use std::cell::RefCell;
use std::collections::BTreeSet;

use shopnow_kernel::StockShortage;
use shopnow_kernel::auth::{Principal, Role};
use shopnow_kernel::ids::{FixedClock, SequentialIds};
use shopnow_kernel::kv::MemoryKv;
use shopnow_money::{Currency, Money};

use crate::domain::reservation::ReservationRequest;
use crate::domain::search::{Keyset, ProductSearch};
use crate::domain::{
    Attributes, Category, CategoryName, CategorySlug, Description, OnHand, OrderId, Product,
    ProductStatus, Reservation, ReservationLine, ReservationState, Title,
};
use crate::ports::{
    CatalogStore, Ports, ProductRead, ReserveOutcome, SetStockOutcome, Settings, StoreError,
    Transition,
};

/// Categories, products and reservations in memory.
#[derive(Default)]
pub struct MemoryStore {
    pub categories: RefCell<Vec<Category>>,
    pub products: RefCell<Vec<Product>>,
    pub reservations: RefCell<Vec<Reservation>>,
}

impl MemoryStore {
    fn settle(
        &self,
        order_id: &OrderId,
        verdict: impl Fn(
            ReservationState,
            i64,
        )
            -> Result<ReservationState, crate::domain::reservation::ReservationError>,
        movement: impl Fn(&mut Product, &ReservationLine),
    ) -> Transition {
        let mut reservations = self.reservations.borrow_mut();
        let reservation = reservations.iter_mut().find(|r| r.order_id == *order_id)?;
        match verdict(reservation.state, reservation.expires_at_ms) {
            Err(e) => Some(Err(e)),
            Ok(next) => {
                reservation.state = next;
                let mut products = self.products.borrow_mut();
                for line in &reservation.lines {
                    if let Some(p) = products.iter_mut().find(|p| p.id == line.product_id) {
                        movement(p, line);
                    }
                }
                Some(Ok(reservation
                    .lines
                    .iter()
                    .map(|l| l.product_id.clone())
                    .collect()))
            }
        }
    }
}

impl CatalogStore for MemoryStore {
    fn insert_category(&self, category: &Category) -> Result<(), StoreError> {
        let mut categories = self.categories.borrow_mut();
        if categories.iter().any(|c| c.slug == category.slug) {
            return Err(StoreError::SlugTaken);
        }
        categories.push(category.clone());
        Ok(())
    }

    fn list_categories(&self) -> Result<Vec<Category>, StoreError> {
        Ok(self.categories.borrow().clone())
    }

    fn category_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.categories.borrow().iter().any(|c| c.id == id))
    }

    fn insert_product(&self, product: &Product) -> Result<(), StoreError> {
        self.products.borrow_mut().push(product.clone());
        Ok(())
    }

    fn find_product(&self, id: &str, _now_ms: i64) -> Result<Option<ProductRead>, StoreError> {
        Ok(self
            .products
            .borrow()
            .iter()
            .find(|p| p.id == id)
            .map(|p| ProductRead {
                product: p.clone(),
                next_lapse_ms: None,
            }))
    }

    fn save_product(&self, product: &Product, expected_version: i64) -> Result<bool, StoreError> {
        let mut products = self.products.borrow_mut();
        let Some(stored) = products.iter_mut().find(|p| p.id == product.id) else {
            return Ok(false);
        };
        if stored.version != expected_version {
            return Ok(false);
        }
        let stock = stored.stock;
        *stored = product.clone();
        stored.stock = stock;
        Ok(true)
    }

    fn set_on_hand(
        &self,
        id: &str,
        on_hand: OnHand,
        now_ms: i64,
    ) -> Result<SetStockOutcome, StoreError> {
        let mut products = self.products.borrow_mut();
        let Some(p) = products.iter_mut().find(|p| p.id == id) else {
            return Ok(SetStockOutcome::NotFound);
        };
        if p.status.ensure_editable().is_err() {
            return Ok(SetStockOutcome::Archived);
        }
        match p.stock.set_on_hand(on_hand) {
            Ok(stock) => {
                p.stock = stock;
                p.version += 1;
                p.updated_at_ms = now_ms;
                Ok(SetStockOutcome::Done(stock))
            }
            Err(_) => Ok(SetStockOutcome::BelowReserved {
                reserved: p.stock.reserved(),
            }),
        }
    }

    fn search_products(
        &self,
        search: &ProductSearch,
        _now_ms: i64,
    ) -> Result<Vec<(Product, Keyset)>, StoreError> {
        let mut hits: Vec<Product> = self
            .products
            .borrow()
            .iter()
            .filter(|p| p.status == ProductStatus::Active)
            .filter(|p| search.seller_id.as_ref().is_none_or(|s| *s == p.seller_id))
            .cloned()
            .collect();
        hits.sort_by(|a, b| (b.created_at_ms, &b.id).cmp(&(a.created_at_ms, &a.id)));
        if let Some(after) = &search.after {
            hits.retain(|p| {
                (p.created_at_ms, p.id.as_str()) < (after.created_at_ms, after.id.as_str())
            });
        }
        hits.truncate(usize::try_from(search.limit).unwrap_or(0) + 1);
        Ok(hits
            .into_iter()
            .map(|p| {
                let key = Keyset {
                    tier: 0,
                    price: p.price.amount(),
                    created_at_ms: p.created_at_ms,
                    units_sold: p.units_sold,
                    id: p.id.clone(),
                };
                (p, key)
            })
            .collect())
    }

    fn reserve(
        &self,
        request: &ReservationRequest,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<ReserveOutcome, StoreError> {
        if let Some(existing) = self
            .reservations
            .borrow()
            .iter()
            .find(|r| r.order_id == request.order_id)
        {
            return Ok(ReserveOutcome::Replayed(existing.clone()));
        }
        let mut products = self.products.borrow_mut();
        let mut short = Vec::new();
        for item in &request.items {
            let available = products
                .iter()
                .find(|p| p.id == item.product_id && p.status == ProductStatus::Active)
                .map_or(0, |p| p.stock.available());
            if available < i64::from(item.quantity.get()) {
                short.push(StockShortage {
                    product_id: item.product_id.clone(),
                    requested: item.quantity.get(),
                    available: u32::try_from(available).unwrap_or(0),
                });
            }
        }
        if !short.is_empty() {
            return Ok(ReserveOutcome::Short(short));
        }
        let mut lines = Vec::new();
        for item in &request.items {
            if let Some(p) = products.iter_mut().find(|p| p.id == item.product_id) {
                p.stock = p
                    .stock
                    .reserve(item.quantity)
                    .map_err(|e| StoreError::Failed(e.to_string()))?;
                lines.push(ReservationLine {
                    product_id: p.id.clone(),
                    seller_id: p.seller_id.clone(),
                    title: p.title.as_str().to_owned(),
                    unit_price: p.price,
                    quantity: item.quantity,
                });
            }
        }
        let reservation = Reservation {
            order_id: request.order_id.clone(),
            state: ReservationState::Held,
            lines,
            created_at_ms: now_ms,
            expires_at_ms,
        };
        self.reservations.borrow_mut().push(reservation.clone());
        Ok(ReserveOutcome::Reserved(reservation))
    }

    fn commit_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError> {
        Ok(self.settle(
            order_id,
            |s, exp| s.commit(now_ms, exp),
            |p, l| p.stock = p.stock.commit(l.quantity),
        ))
    }

    fn release_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError> {
        Ok(self.settle(
            order_id,
            |s, exp| s.release(now_ms, exp),
            |p, l| p.stock = p.stock.release(l.quantity),
        ))
    }

    fn restock_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError> {
        Ok(self.settle(
            order_id,
            |s, exp| s.restock(now_ms, exp),
            |p, l| p.stock = p.stock.restock(l.quantity),
        ))
    }
}

/// Ports over in-memory adapters at a fixed time.
pub struct Harness {
    pub store: MemoryStore,
    pub kv: MemoryKv,
    pub clock: FixedClock,
    pub ids: SequentialIds,
}

/// Epoch ms the harness clock starts at.
pub const NOW: i64 = 1_800_000_000_000;

impl Harness {
    pub fn new() -> Self {
        Self {
            store: MemoryStore::default(),
            kv: MemoryKv::default(),
            clock: FixedClock::at(NOW),
            ids: SequentialIds::default(),
        }
    }

    pub fn ports(&self) -> Ports<'_> {
        Ports {
            store: &self.store,
            cache: &self.kv,
            clock: &self.clock,
            ids: &self.ids,
            settings: Settings {
                cache_ttl_ms: 60_000,
                reservation_ttl_ms: 900_000,
            },
        }
    }

    /// A category, stored.
    pub fn category(&self) -> String {
        let id = format!(
            "0190a000-0000-7000-8000-{:012x}",
            self.store.categories.borrow().len() + 0xc0
        );
        self.store
            .insert_category(&Category {
                id: id.clone(),
                slug: CategorySlug::parse(&format!("c{}", self.store.categories.borrow().len()))
                    .unwrap(),
                name: CategoryName::parse("Cat").unwrap(),
                parent_id: None,
                created_at_ms: NOW,
            })
            .unwrap();
        id
    }
}

pub fn principal(id: &str, roles: &[Role]) -> Principal {
    Principal {
        user_id: id.into(),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
    }
}

pub fn seller(id: &str) -> Principal {
    principal(id, &[Role::Seller])
}

pub fn new_product(category_id: &str, on_hand: i64) -> crate::app::create_product::NewProduct {
    crate::app::create_product::NewProduct {
        title: Title::parse("Lamp").unwrap(),
        description: Description::parse("Warm.").unwrap(),
        category_id: category_id.into(),
        price: Money::parse(4999, Currency::parse("EUR").unwrap()).unwrap(),
        attributes: Attributes::default(),
        on_hand: OnHand::parse(on_hand).unwrap(),
    }
}
