//! Take a product out of the caller's cart.

use super::view_cart::render;
use super::views::CartView;
use crate::OrdersError;
use crate::domain::{Cart, ProductId};
use crate::ports::Ports;

/// Removes `product` from the cart.
///
/// # Errors
/// [`OrdersError::NotFound`] when it is not in the cart; [`OrdersError::Storage`].
pub fn remove_cart_item(
    ports: &Ports<'_>,
    user_id: &str,
    product: &ProductId,
) -> Result<CartView, OrdersError> {
    let now = ports.clock.now_ms();
    let mut cart = Cart::live_or_empty(ports.carts.load(user_id)?, now);
    if !cart.remove(product, now) {
        return Err(OrdersError::NotFound);
    }
    ports.carts.save(user_id, &cart)?;
    Ok(render(ports, &cart))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::set_cart_item::set_cart_item;
    use crate::testing::{Harness, pid};

    #[test]
    fn removes_an_item_and_404s_for_an_absent_one() {
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        set_cart_item(&h.ports(), "u1", pid(1), 2).unwrap();
        assert!(
            remove_cart_item(&h.ports(), "u1", &pid(1))
                .unwrap()
                .items
                .is_empty()
        );
        assert!(matches!(
            remove_cart_item(&h.ports(), "u1", &pid(1)),
            Err(OrdersError::NotFound)
        ));
    }
}
