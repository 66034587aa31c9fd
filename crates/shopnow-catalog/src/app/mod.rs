//! Catalog use cases, one file per operation, each taking the ports it needs.

pub mod archive_product;
pub mod commit_reservation;
pub mod create_category;
pub mod create_product;
pub mod get_product;
pub mod get_products;
pub mod list_categories;
pub mod list_products;
pub mod release_reservation;
pub mod reserve_stock;
pub mod restock_reservation;
pub mod set_stock;
pub mod update_product;

use shopnow_kernel::auth::{Principal, Role};

use crate::CatalogError;
use crate::cache::ProductCache;
use crate::domain::Product;
use crate::ports::Ports;

/// The product cache for these ports.
fn cache<'a>(ports: &Ports<'a>) -> ProductCache<'a> {
    ProductCache::new(ports.cache, ports.ids, ports.settings.cache_ttl_ms)
}

/// Whether `principal` may change `product`: its owning seller or an admin.
///
/// # Errors
/// [`CatalogError::Forbidden`] for anyone else (customers, other sellers).
fn authorize_write(principal: &Principal, product: &Product) -> Result<(), CatalogError> {
    let owner = principal.has_role(Role::Seller) && product.is_owned_by(&principal.user_id);
    if owner || principal.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(CatalogError::Forbidden)
    }
}

/// Loads a product for a write (bypassing the cache: writes decide on the database's state).
///
/// # Errors
/// [`CatalogError::NotFound`] if absent, [`CatalogError::Forbidden`] if not the caller's.
fn load_for_write(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &str,
) -> Result<Product, CatalogError> {
    let product = ports
        .store
        .find_product(id, ports.clock.now_ms())?
        .ok_or(CatalogError::NotFound)?
        .product;
    authorize_write(principal, &product)?;
    Ok(product)
}

/// Invalidates the cached product after a committed write. A failure is reported to the caller
/// for logging but does not fail the write, which is already durable.
fn invalidate(ports: &Ports<'_>, id: &str) -> Option<shopnow_kernel::kv::KvError> {
    cache(ports).invalidate(id).err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::tests::product;
    use std::collections::BTreeSet;

    fn principal(id: &str, roles: &[Role]) -> Principal {
        Principal {
            user_id: id.into(),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        }
    }

    #[test]
    fn only_the_owning_seller_or_an_admin_may_write() {
        let p = product();
        assert!(authorize_write(&principal("seller-1", &[Role::Seller]), &p).is_ok());
        assert!(authorize_write(&principal("root", &[Role::Admin]), &p).is_ok());
        for stranger in [
            principal("seller-2", &[Role::Seller]),
            principal("seller-1", &[Role::Customer]),
            principal("c", &[Role::Customer]),
        ] {
            assert!(matches!(
                authorize_write(&stranger, &p),
                Err(CatalogError::Forbidden)
            ));
        }
    }
}
