//! Release an order's reservation (internal): held units become available again. Idempotent:
//! releasing a released, lapsed or unknown reservation succeeds, so a saga can always
//! compensate, even for a reservation that was never made. An unknown order id is remembered as
//! released, so a reserve for it that arrives later (the caller timed out on it) holds nothing and answers
//! out of stock.

use crate::CatalogError;
use crate::domain::OrderId;
use crate::domain::reservation::ReservationError;
use crate::ports::Ports;

/// Releases the reservation of `order_id`. Returns key-value failures to log.
///
/// # Errors
/// [`CatalogError::Reservation`] when it is committed (its units are sold).
pub fn release_reservation(
    ports: &Ports<'_>,
    order_id: &OrderId,
) -> Result<Vec<shopnow_kernel::kv::KvError>, CatalogError> {
    match ports
        .store
        .release_reservation(order_id, ports.clock.now_ms())?
    {
        None | Some(Err(ReservationError::AlreadyReleased)) => Ok(Vec::new()),
        Some(Ok(product_ids)) => Ok(product_ids
            .iter()
            .filter_map(|id| super::invalidate(ports, id))
            .collect()),
        Some(Err(other)) => Err(CatalogError::Reservation(other)),
    }
}
