//! List a new product (sellers and admins). The caller becomes its seller.

use shopnow_kernel::auth::{Principal, Role};
use shopnow_money::Money;

use crate::CatalogError;
use crate::domain::{Attributes, Description, OnHand, Product, ProductStatus, StockLevel, Title};
use crate::ports::Ports;

/// A validated product to create.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Description,
    /// Category id (checked to exist here).
    pub category_id: String,
    /// Unit price (positive).
    pub price: Money,
    /// Attributes.
    pub attributes: Attributes,
    /// Initial units on hand.
    pub on_hand: OnHand,
}

/// Creates the product, `active`, at version 1.
///
/// # Errors
/// [`CatalogError::Forbidden`] unless the caller is a seller or admin,
/// [`CatalogError::UnknownCategory`] for a missing category.
pub fn create_product(
    ports: &Ports<'_>,
    principal: &Principal,
    new: NewProduct,
) -> Result<Product, CatalogError> {
    if !(principal.has_role(Role::Seller) || principal.has_role(Role::Admin)) {
        return Err(CatalogError::Forbidden);
    }
    if !ports.store.category_exists(&new.category_id)? {
        return Err(CatalogError::UnknownCategory {
            field: "category_id",
        });
    }
    let now = ports.clock.now_ms();
    let product = Product {
        id: ports.ids.new_id()?,
        seller_id: principal.user_id.clone(),
        title: new.title,
        description: new.description,
        category_id: new.category_id,
        price: new.price,
        attributes: new.attributes,
        stock: StockLevel::new(new.on_hand),
        status: ProductStatus::Active,
        version: 1,
        created_at_ms: now,
        updated_at_ms: now,
        units_sold: 0,
    };
    ports.store.insert_product(&product)?;
    Ok(product)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, new_product, principal, seller};

    #[test]
    fn the_caller_becomes_the_seller_of_an_active_first_version() {
        let h = Harness::new();
        let cat = h.category();
        let p = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 3)).unwrap();
        assert_eq!(
            (p.seller_id.as_str(), p.version, p.status),
            ("s-1", 1, ProductStatus::Active)
        );
        assert_eq!(p.stock.available(), 3);
        assert_eq!(h.store.products.borrow().len(), 1);
    }

    #[test]
    fn customers_may_not_list_products_and_categories_must_exist() {
        let h = Harness::new();
        let cat = h.category();
        let customer = principal("c", &[Role::Customer]);
        assert!(matches!(
            create_product(&h.ports(), &customer, new_product(&cat, 1)),
            Err(CatalogError::Forbidden)
        ));
        assert!(matches!(
            create_product(&h.ports(), &seller("s"), new_product("missing", 1)),
            Err(CatalogError::UnknownCategory {
                field: "category_id"
            })
        ));
        assert!(h.store.products.borrow().is_empty());
    }
}
