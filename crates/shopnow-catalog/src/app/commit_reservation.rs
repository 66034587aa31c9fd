//! Commit an order's reservation (internal): the held units are sold and leave `on_hand`.
//! Idempotent: committing a committed reservation succeeds.

use crate::CatalogError;
use crate::domain::OrderId;
use crate::domain::reservation::ReservationError;
use crate::ports::Ports;

/// Commits the reservation of `order_id`. Returns key-value failures to log.
///
/// # Errors
/// [`CatalogError::NotFound`] when the order has no reservation;
/// [`CatalogError::Reservation`] when it was released or has expired.
pub fn commit_reservation(
    ports: &Ports<'_>,
    order_id: &OrderId,
) -> Result<Vec<shopnow_kernel::kv::KvError>, CatalogError> {
    match ports
        .store
        .commit_reservation(order_id, ports.clock.now_ms())?
    {
        None => Err(CatalogError::NotFound),
        Some(Ok(product_ids)) => Ok(product_ids
            .iter()
            .filter_map(|id| super::invalidate(ports, id))
            .collect()),
        Some(Err(ReservationError::AlreadyCommitted)) => Ok(Vec::new()),
        Some(Err(other)) => Err(CatalogError::Reservation(other)),
    }
}
