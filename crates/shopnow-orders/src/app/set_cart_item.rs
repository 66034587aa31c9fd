//! Put a product in the caller's cart with a quantity (1..=99), or take it out with 0. The
//! product must exist in the catalog; its price is not stored (the cart always shows the
//! current one).

use shopnow_kernel::outbound::Budget;

use super::view_cart::render;
use super::views::CartView;
use crate::OrdersError;
use crate::domain::cart::CartError;
use crate::domain::{Cart, ProductId, Quantity};
use crate::ports::{Ports, ProductLookup};

/// Sets `product`'s quantity; 0 removes it.
///
/// # Errors
/// [`OrdersError::Invalid`] for a quantity outside 0..=99 or a 101st product;
/// [`OrdersError::NotFound`] for a product the catalog does not have;
/// [`OrdersError::DependencyUnavailable`] when the catalog does not answer in time.
pub fn set_cart_item(
    ports: &Ports<'_>,
    user_id: &str,
    product: ProductId,
    quantity: i64,
) -> Result<CartView, OrdersError> {
    let now = ports.clock.now_ms();
    let mut cart = Cart::live_or_empty(ports.carts.load(user_id)?, now);
    if quantity == 0 {
        cart.remove(&product, now);
    } else {
        let quantity = Quantity::parse(quantity)
            .map_err(|e| OrdersError::Invalid("quantity".into(), e.to_string()))?;
        let budget = Budget::starting_now(ports.clock, ports.deadlines.lookup_ms);
        match ports
            .catalog
            .lookup(&budget, std::slice::from_ref(&product))
            .pop()
        {
            Some(ProductLookup::Found(_)) => {}
            Some(ProductLookup::Missing) => return Err(OrdersError::NotFound),
            Some(ProductLookup::Unknown) | None => {
                return Err(OrdersError::DependencyUnavailable {
                    dependency: "catalog",
                    cause: "product lookup did not answer in time".into(),
                });
            }
        }
        cart.set(product, quantity, now).map_err(|e| match e {
            CartError::TooManyItems => OrdersError::Invalid("product_id".into(), e.to_string()),
        })?;
    }
    ports.carts.save(user_id, &cart)?;
    Ok(render(ports, &cart))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, pid};

    #[test]
    fn adds_changes_and_removes_items() {
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        let view = set_cart_item(&h.ports(), "u1", pid(1), 3).unwrap();
        assert_eq!(view.items[0].quantity, 3);
        let view = set_cart_item(&h.ports(), "u1", pid(1), 1).unwrap();
        assert_eq!(view.items.len(), 1);
        assert_eq!(view.items[0].quantity, 1);
        let view = set_cart_item(&h.ports(), "u1", pid(1), 0).unwrap();
        assert!(view.items.is_empty());
    }

    #[test]
    fn refuses_bad_quantities_and_unknown_products() {
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        for q in [-1, 100] {
            assert!(matches!(
                set_cart_item(&h.ports(), "u1", pid(1), q),
                Err(OrdersError::Invalid(f, _)) if f == "quantity"
            ));
        }
        assert!(matches!(
            set_cart_item(&h.ports(), "u1", pid(9), 1),
            Err(OrdersError::NotFound)
        ));
    }

    #[test]
    fn a_cart_holds_at_most_100_products() {
        let h = Harness::new();
        for n in 0..=100 {
            h.catalog.add_product(n, "s1", 10, "EUR", 5);
        }
        for n in 0..100 {
            set_cart_item(&h.ports(), "u1", pid(n), 1).unwrap();
        }
        assert!(matches!(
            set_cart_item(&h.ports(), "u1", pid(100), 1),
            Err(OrdersError::Invalid(..))
        ));
    }
}
