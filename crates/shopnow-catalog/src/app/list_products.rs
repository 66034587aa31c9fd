//! Browse and search active products (public), one keyset page at a time.

use shopnow_kernel::pagination::CursorCodec;

use crate::CatalogError;
use crate::domain::Product;
use crate::domain::search::{CursorPosition, ProductSearch};
use crate::ports::Ports;

/// One page of results.
#[derive(Debug, Clone)]
pub struct ProductPage {
    /// The products, in the search's order.
    pub items: Vec<Product>,
    /// Opaque cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// Runs `search`, starting after `cursor` when given.
///
/// # Errors
/// [`ListError::Cursor`] when the cursor is tampered with or belongs to another search;
/// [`CatalogError::Store`] on storage failure.
pub fn list_products(
    ports: &Ports<'_>,
    codec: &CursorCodec,
    mut search: ProductSearch,
    cursor: Option<&str>,
) -> Result<ProductPage, ListError> {
    let fingerprint = search.fingerprint();
    if let Some(cursor) = cursor {
        let position: CursorPosition = codec.open(cursor).map_err(|_| ListError::Cursor)?;
        if position.fingerprint != fingerprint {
            return Err(ListError::Cursor);
        }
        search.after = Some(position.after);
    }
    if search.terms.as_ref().is_some_and(|t| t.is_empty()) {
        return Ok(ProductPage {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    let limit = usize::try_from(search.limit).unwrap_or(usize::MAX);
    let mut rows = ports
        .store
        .search_products(&search, ports.clock.now_ms())
        .map_err(CatalogError::from)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = match (more, rows.last()) {
        (true, Some((_, key))) => Some(
            codec
                .seal(&CursorPosition {
                    fingerprint,
                    after: key.clone(),
                })
                .map_err(ListError::Sealing)?,
        ),
        _ => None,
    };
    Ok(ProductPage {
        items: rows.into_iter().map(|(product, _)| product).collect(),
        next_cursor,
    })
}

/// Why a listing failed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The cursor is not one we issued for this search.
    #[error("invalid cursor")]
    Cursor,
    /// The next cursor could not be sealed.
    #[error("cursor sealing failed: {0}")]
    Sealing(shopnow_kernel::ApiError),
    /// Anything else.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<ListError> for shopnow_kernel::ApiError {
    fn from(err: ListError) -> Self {
        match err {
            ListError::Cursor => Self::InvalidCursor,
            ListError::Sealing(e) => e,
            ListError::Catalog(e) => e.into(),
        }
    }
}
