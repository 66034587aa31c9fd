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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::archive_product::archive_product;
    use crate::app::create_product::create_product;
    use crate::testing::{Harness, new_product, principal, seller};

    #[test]
    fn archived_products_are_found_only_by_their_seller_and_admins() {
        let h = Harness::new();
        let cat = h.category();
        let p = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 1)).unwrap();
        archive_product(&h.ports(), &seller("s-1"), &p.id).unwrap();
        let ports = h.ports();
        assert!(get_product(&ports, Some(&seller("s-1")), &p.id).is_ok());
        assert!(get_product(&ports, Some(&principal("a", &[Role::Admin])), &p.id).is_ok());
        for stranger in [
            None,
            Some(seller("s-2")),
            Some(principal("s-1", &[Role::Customer])),
        ] {
            assert!(matches!(
                get_product(&ports, stranger.as_ref(), &p.id),
                Err(CatalogError::NotFound)
            ));
        }
    }

    #[test]
    fn a_cached_read_follows_a_write() {
        let h = Harness::new();
        let cat = h.category();
        let p = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 1)).unwrap();
        assert_eq!(get_product(&h.ports(), None, &p.id).unwrap().version, 1);
        crate::app::set_stock::set_stock(
            &h.ports(),
            &seller("s-1"),
            &p.id,
            crate::domain::OnHand::parse(9).unwrap(),
        )
        .unwrap();
        let read = get_product(&h.ports(), None, &p.id).unwrap();
        assert_eq!((read.version, read.stock.on_hand()), (2, 9));
    }
}
