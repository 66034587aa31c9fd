//! The caller's orders, newest first, a page at a time.

use shopnow_kernel::auth::Principal;

use super::views::OrderSummaryView;
use crate::OrdersError;
use crate::ports::{ListPosition, Ports};

/// One page of orders and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    /// The orders.
    pub orders: Vec<OrderSummaryView>,
    /// The position after the last one, when there are more.
    pub next: Option<ListPosition>,
}

/// Up to `limit` of the caller's orders after `after`.
///
/// # Errors
/// [`OrdersError::Storage`].
pub fn list_orders(
    ports: &Ports<'_>,
    principal: &Principal,
    after: Option<&ListPosition>,
    limit: u32,
) -> Result<OrderPage, OrdersError> {
    let mut rows =
        ports
            .orders
            .list_for_buyer(&principal.user_id, after, limit.saturating_add(1))?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        rows.last().map(|o| ListPosition {
            created_at_ms: o.created_at_ms,
            id: o.id.clone(),
        })
    } else {
        None
    };
    Ok(OrderPage {
        orders: rows.iter().map(OrderSummaryView::from).collect(),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, principal};
    use shopnow_kernel::auth::Role;

    #[test]
    fn lists_only_mine_newest_first_in_pages() {
        let h = Harness::new();
        let a = h.confirmed_order("buyer", &[(1, "s1", 1)]);
        h.clock.advance(10);
        let b = h.confirmed_order("buyer", &[(2, "s1", 1)]);
        h.clock.advance(10);
        let c = h.confirmed_order("buyer", &[(3, "s1", 1)]);
        h.confirmed_order("someone-else", &[(4, "s1", 1)]);
        let me = principal("buyer", Role::Customer);
        let first = list_orders(&h.ports(), &me, None, 2).unwrap();
        let ids: Vec<_> = first.orders.iter().map(|o| o.id.clone()).collect();
        assert_eq!(ids, [c.id.to_string(), b.id.to_string()]);
        let second = list_orders(&h.ports(), &me, first.next.as_ref(), 2).unwrap();
        assert_eq!(second.orders.len(), 1);
        assert_eq!(second.orders[0].id, a.id.as_str());
        assert!(second.next.is_none());
    }
}
