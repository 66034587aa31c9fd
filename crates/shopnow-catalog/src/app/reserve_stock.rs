//! Hold stock for an order (internal: the orders service). All items or none; idempotent on
//! the order id; prices come from the catalog, never from the caller.

use crate::CatalogError;
use crate::domain::Reservation;
use crate::domain::reservation::ReservationRequest;
use crate::ports::{Ports, ReserveOutcome};

/// Whether the reservation was made now or already existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// Created by this call.
    Created,
    /// A replay of an earlier identical request.
    Replayed,
}

/// Reserves every item of `request` until now + the reservation TTL.
/// Returns the reservation and any key-value failures to log.
///
/// # Errors
/// [`CatalogError::OutOfStock`] listing every short item (nothing is held),
/// [`CatalogError::ReservationMismatch`] when the order id has a reservation with other items.
pub fn reserve_stock(
    ports: &Ports<'_>,
    request: &ReservationRequest,
) -> Result<(Reservation, Made, Vec<shopnow_kernel::kv::KvError>), CatalogError> {
    let now = ports.clock.now_ms();
    let expires_at = now.saturating_add(ports.settings.reservation_ttl_ms);
    match ports.store.reserve(request, now, expires_at)? {
        ReserveOutcome::Reserved(reservation) => {
            // The held units change each product's availability: drop their cached copies.
            let kv_errors = reservation
                .lines
                .iter()
                .filter_map(|line| super::invalidate(ports, &line.product_id))
                .collect();
            Ok((reservation, Made::Created, kv_errors))
        }
        ReserveOutcome::Replayed(reservation) if request.matches(&reservation.lines) => {
            Ok((reservation, Made::Replayed, Vec::new()))
        }
        ReserveOutcome::Replayed(_) | ReserveOutcome::Mismatch => {
            Err(CatalogError::ReservationMismatch)
        }
        ReserveOutcome::Short(items) => Err(CatalogError::OutOfStock(items)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::commit_reservation::commit_reservation;
    use crate::app::create_product::create_product;
    use crate::app::release_reservation::release_reservation;
    use crate::app::restock_reservation::restock_reservation;
    use crate::testing::{Harness, NOW, new_product, seller};
    use shopnow_catalog_contract as contract;
    use shopnow_kernel::FieldErrors;

    fn request(order: &str, items: &[(&str, u32)]) -> ReservationRequest {
        let wire = contract::ReservationRequest {
            order_id: order.into(),
            items: items
                .iter()
                .map(|(p, q)| contract::ReservationItem {
                    product_id: (*p).into(),
                    quantity: *q,
                })
                .collect(),
        };
        ReservationRequest::parse(&wire, &mut FieldErrors::new()).unwrap()
    }

    #[test]
    fn a_reservation_expires_after_the_configured_ttl_and_replays_identically() {
        let h = Harness::new();
        let cat = h.category();
        let p = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 5)).unwrap();
        let (r, made, _) = reserve_stock(&h.ports(), &request("o-1", &[(&p.id, 2)])).unwrap();
        assert_eq!((made, r.expires_at_ms), (Made::Created, NOW + 900_000));
        let (again, made, _) = reserve_stock(&h.ports(), &request("o-1", &[(&p.id, 2)])).unwrap();
        assert_eq!((made, again), (Made::Replayed, r));
        assert!(matches!(
            reserve_stock(&h.ports(), &request("o-1", &[(&p.id, 3)])),
            Err(CatalogError::ReservationMismatch)
        ));
    }

    #[test]
    fn a_short_item_holds_nothing() {
        let h = Harness::new();
        let cat = h.category();
        let a = create_product(&h.ports(), &seller("s"), new_product(&cat, 5)).unwrap();
        let b = create_product(&h.ports(), &seller("s"), new_product(&cat, 1)).unwrap();
        let err = reserve_stock(&h.ports(), &request("o", &[(&a.id, 2), (&b.id, 2)])).unwrap_err();
        let CatalogError::OutOfStock(items) = err else {
            panic!("expected out of stock, got {err:?}")
        };
        assert_eq!((items.len(), items[0].available), (1, 1));
        assert!(
            h.store
                .products
                .borrow()
                .iter()
                .all(|p| p.stock.reserved() == 0)
        );
    }

    #[test]
    fn settling_is_idempotent_where_the_contract_says_so() {
        let h = Harness::new();
        let cat = h.category();
        let p = create_product(&h.ports(), &seller("s"), new_product(&cat, 5)).unwrap();
        let order = crate::domain::OrderId::parse("o-2").unwrap();
        reserve_stock(&h.ports(), &request("o-2", &[(&p.id, 2)])).unwrap();
        commit_reservation(&h.ports(), &order).unwrap();
        commit_reservation(&h.ports(), &order).unwrap();
        assert!(matches!(
            release_reservation(&h.ports(), &order),
            Err(CatalogError::Reservation(_))
        ));
        restock_reservation(&h.ports(), &order).unwrap();
        restock_reservation(&h.ports(), &order).unwrap();
        assert_eq!(h.store.products.borrow()[0].stock.on_hand(), 5);
        let unknown = crate::domain::OrderId::parse("never").unwrap();
        assert!(release_reservation(&h.ports(), &unknown).is_ok());
        assert!(matches!(
            commit_reservation(&h.ports(), &unknown),
            Err(CatalogError::NotFound)
        ));
    }
}
