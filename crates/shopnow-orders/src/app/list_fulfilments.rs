//! A seller's fulfilments (of orders confirmed at some point), newest first: only the seller's
//! own lines and the shipping address — never other sellers' lines or the buyer's payment.

use shopnow_kernel::auth::{Principal, Role};

use super::views::SellerFulfilmentView;
use crate::OrdersError;
use crate::ports::{ListPosition, Ports};

/// One page of fulfilments and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilmentPage {
    /// The fulfilments.
    pub fulfilments: Vec<SellerFulfilmentView>,
    /// The position after the last one, when there are more.
    pub next: Option<ListPosition>,
}

/// Up to `limit` of the seller's fulfilments after `after`.
///
/// # Errors
/// [`OrdersError::Forbidden`] unless the caller is a seller; [`OrdersError::Storage`].
pub fn list_fulfilments(
    ports: &Ports<'_>,
    principal: &Principal,
    after: Option<&ListPosition>,
    limit: u32,
) -> Result<FulfilmentPage, OrdersError> {
    if !principal.has_role(Role::Seller) {
        return Err(OrdersError::Forbidden);
    }
    let mut rows =
        ports
            .orders
            .list_for_seller(&principal.user_id, after, limit.saturating_add(1))?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|f| ListPosition {
            created_at_ms: f.created_at_ms,
            id: f.fulfilment.id.clone(),
        })
    } else {
        None
    };
    Ok(FulfilmentPage {
        fulfilments: rows.iter().map(SellerFulfilmentView::from).collect(),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, principal};

    #[test]
    fn a_seller_sees_only_its_own_lines_of_confirmed_orders() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 2), (2, "s2", 1), (3, "s1", 1)]);
        h.pending_order("buyer", &[(4, "s1", 1)]);
        let page = list_fulfilments(&h.ports(), &principal("s1", Role::Seller), None, 10).unwrap();
        assert_eq!(page.fulfilments.len(), 1);
        let f = &page.fulfilments[0];
        assert_eq!(f.order_id, order.id.as_str());
        let products: Vec<_> = f.items.iter().map(|l| l.seller_id.as_str()).collect();
        assert_eq!(products, ["s1", "s1"]);
        assert_eq!(f.shipping_address.city, "London");
        let json = serde_json::to_string(f).unwrap();
        assert!(!json.contains("\"payment\"") && !json.contains("\"total\""));
    }

    #[test]
    fn customers_are_forbidden() {
        let h = Harness::new();
        assert!(matches!(
            list_fulfilments(&h.ports(), &principal("buyer", Role::Customer), None, 10),
            Err(OrdersError::Forbidden)
        ));
    }
}
