//! List every category (public). The tree is small and changes rarely, so it is one page.

use crate::CatalogError;
use crate::domain::Category;
use crate::ports::Ports;

/// Every category, ordered by slug.
///
/// # Errors
/// [`CatalogError::Store`] on storage failure.
pub fn list_categories(ports: &Ports<'_>) -> Result<Vec<Category>, CatalogError> {
    Ok(ports.store.list_categories()?)
}
