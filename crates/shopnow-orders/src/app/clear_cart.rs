//! Empty the caller's cart.

use crate::OrdersError;
use crate::ports::Ports;

/// Deletes the cart (no error if there is none).
///
/// # Errors
/// [`OrdersError::Storage`] when the store is unreachable.
pub fn clear_cart(ports: &Ports<'_>, user_id: &str) -> Result<(), OrdersError> {
    ports.carts.delete(user_id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::set_cart_item::set_cart_item;
    use crate::app::view_cart::view_cart;
    use crate::testing::{Harness, pid};

    #[test]
    fn clearing_empties_the_cart_and_is_idempotent() {
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        set_cart_item(&h.ports(), "u1", pid(1), 2).unwrap();
        clear_cart(&h.ports(), "u1").unwrap();
        clear_cart(&h.ports(), "u1").unwrap();
        assert!(view_cart(&h.ports(), "u1").unwrap().items.is_empty());
    }
}
