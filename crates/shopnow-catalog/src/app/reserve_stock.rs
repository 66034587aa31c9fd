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
