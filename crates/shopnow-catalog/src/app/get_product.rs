//! Read one product (public), through the read-through cache. Archived products exist only for
//! their seller and admins; everyone else gets "not found".

use shopnow_kernel::auth::{Principal, Role};

use crate::CatalogError;
use crate::domain::{Product, ProductStatus};
use crate::ports::Ports;

/// The product `id` as `principal` (if any) may see it.
///
/// # Errors
/// [`CatalogError::NotFound`] when it does not exist or is archived and not the caller's.
pub fn get_product(
    ports: &Ports<'_>,
    principal: Option<&Principal>,
    id: &str,
) -> Result<Product, CatalogError> {
    let now = ports.clock.now_ms();
    let product = super::cache(ports)
        .get_or_load(id, now, || ports.store.find_product(id, now))?
        .ok_or(CatalogError::NotFound)?;
    let visible = match product.status {
        ProductStatus::Active => true,
        ProductStatus::Archived => principal.is_some_and(|p| {
            p.has_role(Role::Admin) || (p.has_role(Role::Seller) && product.is_owned_by(&p.user_id))
        }),
    };
    if visible {
        Ok(product)
    } else {
        Err(CatalogError::NotFound)
    }
}
