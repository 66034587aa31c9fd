//! The cart: a signed-in customer's list of products and quantities, kept in the key-value store
//! for 30 days after its last change. Prices and titles are not stored: they are read from the
//! catalog whenever the cart is shown, and fixed only when the catalog reserves stock at checkout.

use serde::{Deserialize, Serialize};

use super::ids::ProductId;
use super::quantity::Quantity;

/// Most distinct products in a cart (and in one order).
pub const MAX_ITEMS: usize = 100;

/// How long a cart lives after its last change: 30 days.
pub const CART_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// A cart change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// Adding another distinct product would pass [`MAX_ITEMS`].
    #[error("a cart holds at most 100 distinct products")]
    TooManyItems,
}

/// One product in the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItem {
    /// The product.
    pub product_id: ProductId,
    /// Units wanted.
    pub quantity: Quantity,
    /// When it was first added (epoch ms).
    pub added_at_ms: i64,
}

/// A cart. Items keep the order they were first added in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    items: Vec<CartItem>,
    updated_at_ms: i64,
    expires_at_ms: i64,
}

impl Cart {
    /// An empty cart at `now_ms`.
    pub fn empty(now_ms: i64) -> Self {
        Self {
            items: Vec::new(),
            updated_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(CART_TTL_MS),
        }
    }

    /// The stored cart if it has not expired at `now_ms`, else an empty one.
    pub fn live_or_empty(stored: Option<Self>, now_ms: i64) -> Self {
        stored
            .filter(|c| !c.is_expired(now_ms))
            .unwrap_or_else(|| Self::empty(now_ms))
    }

    /// Whether the cart lapsed before `now_ms`.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_at_ms
    }

    /// The items.
    pub fn items(&self) -> &[CartItem] {
        &self.items
    }

    /// Whether the cart is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Last change (epoch ms).
    pub fn updated_at_ms(&self) -> i64 {
        self.updated_at_ms
    }

    /// When the cart lapses (epoch ms).
    pub fn expires_at_ms(&self) -> i64 {
        self.expires_at_ms
    }

    fn touch(&mut self, now_ms: i64) {
        self.updated_at_ms = now_ms;
        self.expires_at_ms = now_ms.saturating_add(CART_TTL_MS);
    }

    /// Sets the quantity of `product` (adding it if absent) and extends the cart's life.
    ///
    /// # Errors
    /// [`CartError::TooManyItems`] when adding a 101st distinct product.
    pub fn set(
        &mut self,
        product: ProductId,
        quantity: Quantity,
        now_ms: i64,
    ) -> Result<(), CartError> {
        if let Some(item) = self.items.iter_mut().find(|i| i.product_id == product) {
            item.quantity = quantity;
        } else {
            if self.items.len() >= MAX_ITEMS {
                return Err(CartError::TooManyItems);
            }
            self.items.push(CartItem {
                product_id: product,
                quantity,
                added_at_ms: now_ms,
            });
        }
        self.touch(now_ms);
        Ok(())
    }

    /// Removes `product`; returns whether it was there.
    pub fn remove(&mut self, product: &ProductId, now_ms: i64) -> bool {
        let before = self.items.len();
        self.items.retain(|i| &i.product_id != product);
        let removed = self.items.len() != before;
        if removed {
            self.touch(now_ms);
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(n: u32) -> ProductId {
        ProductId::parse(&format!("0190a000-0000-7000-8000-{n:012x}")).unwrap()
    }

    fn q(n: i64) -> Quantity {
        Quantity::parse(n).unwrap()
    }

    #[test]
    fn setting_twice_replaces_the_quantity_and_keeps_the_order() {
        let mut cart = Cart::empty(0);
        cart.set(pid(1), q(1), 10).unwrap();
        cart.set(pid(2), q(2), 20).unwrap();
        cart.set(pid(1), q(5), 30).unwrap();
        let items: Vec<_> = cart
            .items()
            .iter()
            .map(|i| (i.product_id.clone(), i.quantity.get()))
            .collect();
        assert_eq!(items, [(pid(1), 5), (pid(2), 2)]);
        assert_eq!(cart.expires_at_ms(), 30 + CART_TTL_MS);
    }

    #[test]
    fn at_most_100_distinct_products() {
        let mut cart = Cart::empty(0);
        for n in 0..100 {
            cart.set(pid(n), q(1), 1).unwrap();
        }
        assert_eq!(cart.set(pid(100), q(1), 1), Err(CartError::TooManyItems));
        // Changing an existing item is still allowed.
        cart.set(pid(5), q(3), 1).unwrap();
    }

    #[test]
    fn a_cart_lapses_30_days_after_its_last_change() {
        let mut cart = Cart::empty(0);
        cart.set(pid(1), q(1), 1_000).unwrap();
        assert!(!cart.is_expired(1_000 + CART_TTL_MS - 1));
        assert!(cart.is_expired(1_000 + CART_TTL_MS));
        let live = Cart::live_or_empty(Some(cart), 2_000 + CART_TTL_MS);
        assert!(live.is_empty());
    }

    #[test]
    fn removing_reports_whether_the_item_was_there() {
        let mut cart = Cart::empty(0);
        cart.set(pid(1), q(1), 1).unwrap();
        assert!(cart.remove(&pid(1), 2));
        assert!(!cart.remove(&pid(1), 3));
        assert!(cart.is_empty());
    }
}
