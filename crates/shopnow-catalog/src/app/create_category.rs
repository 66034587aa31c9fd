//! Create a category (admins only). Slugs are unique; a parent must exist.

use shopnow_kernel::auth::{Principal, Role};

use crate::CatalogError;
use crate::domain::{Category, CategoryName, CategorySlug};
use crate::ports::{Ports, StoreError};

/// A validated category to create.
#[derive(Debug, Clone)]
pub struct NewCategory {
    /// Slug.
    pub slug: CategorySlug,
    /// Name.
    pub name: CategoryName,
    /// Parent id.
    pub parent_id: Option<String>,
}

/// Creates the category.
///
/// # Errors
/// [`CatalogError::Forbidden`] for non-admins, [`CatalogError::UnknownCategory`] for a missing
/// parent, [`CatalogError::SlugTaken`] for a duplicate slug.
pub fn create_category(
    ports: &Ports<'_>,
    principal: &Principal,
    new: NewCategory,
) -> Result<Category, CatalogError> {
    if !principal.has_role(Role::Admin) {
        return Err(CatalogError::Forbidden);
    }
    if let Some(parent) = &new.parent_id
        && !ports.store.category_exists(parent)?
    {
        return Err(CatalogError::UnknownCategory { field: "parent_id" });
    }
    let category = Category {
        id: ports.ids.new_id()?,
        slug: new.slug,
        name: new.name,
        parent_id: new.parent_id,
        created_at_ms: ports.clock.now_ms(),
    };
    ports
        .store
        .insert_category(&category)
        .map_err(|e| match e {
            StoreError::SlugTaken => CatalogError::SlugTaken,
            other => CatalogError::Store(other),
        })?;
    Ok(category)
}
