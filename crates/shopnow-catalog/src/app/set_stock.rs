//! Set a product's units on hand (owning seller or admin). The level may not drop below what
//! open reservations hold.

use shopnow_kernel::auth::Principal;

use crate::CatalogError;
use crate::domain::{OnHand, StockLevel};
use crate::ports::{Ports, SetStockOutcome};

/// Sets the on-hand units of product `id`. Returns the new stock and a key-value failure to
/// log, if invalidation failed.
///
/// # Errors
/// [`CatalogError::NotFound`], [`CatalogError::Forbidden`], [`CatalogError::Archived`],
/// [`CatalogError::BelowReserved`].
pub fn set_stock(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &str,
    on_hand: OnHand,
) -> Result<(StockLevel, Option<shopnow_kernel::kv::KvError>), CatalogError> {
    super::load_for_write(ports, principal, id)?;
    match ports.store.set_on_hand(id, on_hand, ports.clock.now_ms())? {
        SetStockOutcome::Done(stock) => Ok((stock, super::invalidate(ports, id))),
        SetStockOutcome::NotFound => Err(CatalogError::NotFound),
        SetStockOutcome::Archived => Err(CatalogError::Archived),
        SetStockOutcome::BelowReserved { reserved } => {
            Err(CatalogError::BelowReserved { reserved })
        }
    }
}
