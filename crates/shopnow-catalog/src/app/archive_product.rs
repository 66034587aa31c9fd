//! Archive a product (owning seller or admin): it leaves the listings and can no longer be
//! reserved; orders that already reference it keep their lines and holds.

use shopnow_kernel::auth::Principal;

use crate::CatalogError;
use crate::domain::product::ProductError;
use crate::ports::Ports;

/// Archives product `id`. Archiving an archived product succeeds without a change: DELETE is
/// idempotent (RFC 9110 §9.2.2), so the state machine's `AlreadyArchived` is answered as done.
/// Returns a key-value failure to log, if invalidation failed.
///
/// # Errors
/// [`CatalogError::NotFound`], [`CatalogError::Forbidden`], [`CatalogError::Stale`] if the
/// product changed between read and write (the caller may retry).
pub fn archive_product(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &str,
) -> Result<Option<shopnow_kernel::kv::KvError>, CatalogError> {
    let current = super::load_for_write(ports, principal, id)?;
    let status = match current.status.archive() {
        Ok(status) => status,
        Err(ProductError::AlreadyArchived) => return Ok(None),
        Err(other) => {
            return Err(CatalogError::Store(crate::ports::StoreError::Failed(
                other.to_string(),
            )));
        }
    };
    let mut next = current.clone();
    next.status = status;
    next.version = current.version.saturating_add(1);
    next.updated_at_ms = ports.clock.now_ms().max(current.updated_at_ms);
    if !ports.store.save_product(&next, current.version)? {
        return Err(CatalogError::Stale);
    }
    Ok(super::invalidate(ports, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::create_product::create_product;
    use crate::domain::ProductStatus;
    use crate::testing::{Harness, new_product, seller};

    #[test]
    fn archiving_twice_succeeds_and_changes_the_product_once() {
        let h = Harness::new();
        let cat = h.category();
        let p = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 1)).unwrap();
        archive_product(&h.ports(), &seller("s-1"), &p.id).unwrap();
        archive_product(&h.ports(), &seller("s-1"), &p.id).unwrap();
        let stored = h.store.products.borrow()[0].clone();
        assert_eq!(
            (stored.status, stored.version),
            (ProductStatus::Archived, 2)
        );
        assert!(matches!(
            archive_product(&h.ports(), &seller("s-2"), &p.id),
            Err(CatalogError::Forbidden)
        ));
    }
}
