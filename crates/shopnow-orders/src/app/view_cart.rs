//! Show the caller's cart with current titles and prices from the catalog, flagging items that
//! became unavailable. The catalog is asked about every item at once, within one deadline; an
//! item it did not answer for is shown as `unknown` rather than failing the whole cart.

use shopnow_kernel::outbound::Budget;
use shopnow_kernel::time::rfc3339;
use shopnow_money::Money;

use super::views::{CartItemView, CartView};
use crate::OrdersError;
use crate::domain::Cart;
use crate::ports::{Ports, ProductLookup};

/// The caller's cart (an empty one if none is stored or it lapsed).
///
/// # Errors
/// [`OrdersError::Storage`] when the cart store is unreachable.
pub fn view_cart(ports: &Ports<'_>, user_id: &str) -> Result<CartView, OrdersError> {
    let cart = Cart::live_or_empty(ports.carts.load(user_id)?, ports.clock.now_ms());
    Ok(render(ports, &cart))
}

/// Renders `cart` with fresh catalog data.
pub(crate) fn render(ports: &Ports<'_>, cart: &Cart) -> CartView {
    let ids: Vec<_> = cart.items().iter().map(|i| i.product_id.clone()).collect();
    let lookups = if ids.is_empty() {
        Vec::new()
    } else {
        let budget = Budget::starting_now(ports.clock, ports.deadlines.lookup_ms);
        ports.catalog.lookup(&budget, &ids)
    };
    let mut totals: Vec<Money> = Vec::new();
    let mut items = Vec::with_capacity(cart.items().len());
    for (i, item) in cart.items().iter().enumerate() {
        let lookup = lookups.get(i).cloned().unwrap_or(ProductLookup::Unknown);
        let quantity = item.quantity.get();
        let view = match lookup {
            ProductLookup::Found(info) => {
                let line_total = info.price.checked_mul(quantity).ok();
                if let (true, Some(total)) = (info.available, line_total) {
                    match totals.iter_mut().find(|t| t.currency() == total.currency()) {
                        Some(sum) => {
                            if let Ok(next) = sum.checked_add(total) {
                                *sum = next;
                            }
                        }
                        None => totals.push(total),
                    }
                }
                CartItemView {
                    product_id: item.product_id.to_string(),
                    quantity,
                    title: Some(info.title),
                    seller_id: Some(info.seller_id),
                    unit_price: Some(info.price),
                    line_total,
                    availability: if info.available {
                        "available"
                    } else {
                        "unavailable"
                    }
                    .to_owned(),
                }
            }
            ProductLookup::Missing | ProductLookup::Unknown => CartItemView {
                product_id: item.product_id.to_string(),
                quantity,
                title: None,
                seller_id: None,
                unit_price: None,
                line_total: None,
                availability: if matches!(lookup, ProductLookup::Missing) {
                    "unavailable"
                } else {
                    "unknown"
                }
                .to_owned(),
            },
        };
        items.push(view);
    }
    CartView {
        all_available: items.iter().all(|i| i.availability == "available"),
        items,
        totals,
        updated_at: rfc3339(cart.updated_at_ms()),
        expires_at: rfc3339(cart.expires_at_ms()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Quantity;
    use crate::testing::{Harness, pid};
    use shopnow_kernel::ids::Clock as _;

    #[test]
    fn items_carry_current_catalog_data_and_unavailable_ones_are_flagged() {
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        h.catalog.add_product(2, "s1", 300, "EUR", 0);
        let now = h.clock.now_ms();
        let mut cart = Cart::empty(now);
        cart.set(pid(1), Quantity::parse(2).unwrap(), now).unwrap();
        cart.set(pid(2), Quantity::parse(1).unwrap(), now).unwrap();
        cart.set(pid(3), Quantity::parse(1).unwrap(), now).unwrap();
        h.carts.put("u1", cart);
        let view = view_cart(&h.ports(), "u1").unwrap();
        let availability: Vec<_> = view.items.iter().map(|i| i.availability.as_str()).collect();
        assert_eq!(availability, ["available", "unavailable", "unavailable"]);
        assert_eq!(view.items[0].title.as_deref(), Some("Product 1"));
        assert_eq!(
            view.totals,
            [Money::parse(2000, view.totals[0].currency()).unwrap()]
        );
        assert!(!view.all_available);
    }

    #[test]
    fn an_unanswering_catalog_marks_items_unknown() {
        let h = Harness::new();
        h.catalog.add_product(1, "s1", 1000, "EUR", 5);
        h.catalog.fail_lookups();
        let now = h.clock.now_ms();
        let mut cart = Cart::empty(now);
        cart.set(pid(1), Quantity::parse(2).unwrap(), now).unwrap();
        h.carts.put("u1", cart);
        let view = view_cart(&h.ports(), "u1").unwrap();
        assert_eq!(view.items[0].availability, "unknown");
        assert!(view.totals.is_empty());
    }
}
