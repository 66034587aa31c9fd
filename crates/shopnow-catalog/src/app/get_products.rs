//! Read several products at once (public): what a cart needs in one call instead of one per
//! product. Each id is read as [`get_product`] reads it (through the cache, with the same
//! visibility); ids that are unknown or not visible to the caller are left out.

use shopnow_kernel::auth::Principal;

use super::get_product::get_product;
use crate::CatalogError;
use crate::domain::Product;
use crate::ports::Ports;

/// Most ids one batch read takes (a cart holds at most 100 distinct products).
pub const MAX_IDS: usize = 100;

/// The products among `ids` that `principal` (if any) may see, in the order asked, each once.
///
/// # Errors
/// [`CatalogError`] from the store or the cache (not for an unknown id: it is left out).
pub fn get_products(
    ports: &Ports<'_>,
    principal: Option<&Principal>,
    ids: &[String],
) -> Result<Vec<Product>, CatalogError> {
    let mut asked: Vec<&String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !asked.contains(&id) {
            asked.push(id);
        }
    }
    let mut found: Vec<Product> = Vec::with_capacity(asked.len());
    for id in asked {
        match get_product(ports, principal, id) {
            Ok(product) => found.push(product),
            Err(CatalogError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::archive_product::archive_product;
    use crate::app::create_product::create_product;
    use crate::testing::{Harness, new_product, seller};

    #[test]
    fn returns_the_visible_products_in_order_once_each() {
        let h = Harness::new();
        let cat = h.category();
        let a = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 1)).unwrap();
        let b = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 2)).unwrap();
        let gone = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 3)).unwrap();
        archive_product(&h.ports(), &seller("s-1"), &gone.id).unwrap();
        let unknown = "0190a000-0000-7000-8000-00000000beef".to_owned();
        let ids = [
            b.id.clone(),
            unknown,
            a.id.clone(),
            b.id.clone(),
            gone.id.clone(),
        ];
        let anyone: Vec<String> = get_products(&h.ports(), None, &ids)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(anyone, [b.id.clone(), a.id.clone()]);
        let owner = get_products(&h.ports(), Some(&seller("s-1")), &ids).unwrap();
        assert_eq!(owner.len(), 3, "its seller also sees the archived one");
    }
}
