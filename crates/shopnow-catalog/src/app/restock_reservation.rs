//! Restock an order's committed reservation (internal): the order was cancelled after its units
//! were sold, so they come back on hand. Idempotent: restocking twice succeeds once.

use crate::CatalogError;
use crate::domain::OrderId;
use crate::domain::reservation::ReservationError;
use crate::ports::Ports;

/// Restocks the reservation of `order_id`. Returns key-value failures to log.
///
/// # Errors
/// [`CatalogError::NotFound`] when the order has no reservation;
/// [`CatalogError::Reservation`] when it was never committed.
pub fn restock_reservation(
    ports: &Ports<'_>,
    order_id: &OrderId,
) -> Result<Vec<shopnow_kernel::kv::KvError>, CatalogError> {
    match ports
        .store
        .restock_reservation(order_id, ports.clock.now_ms())?
    {
        None => Err(CatalogError::NotFound),
        Some(Ok(product_ids)) => Ok(product_ids
            .iter()
            .filter_map(|id| super::invalidate(ports, id))
            .collect()),
        Some(Err(ReservationError::AlreadyRestocked)) => Ok(Vec::new()),
        Some(Err(other)) => Err(CatalogError::Reservation(other)),
    }
}
