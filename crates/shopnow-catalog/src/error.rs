//! The catalog's error vocabulary and its single mapping to the HTTP `ApiError`.

use shopnow_kernel::ids::RandomError;
use shopnow_kernel::{ApiError, StockShortage};

use crate::domain::reservation::ReservationError;
use crate::domain::search::SearchError;
use crate::ports::StoreError;

/// Why a catalog use case failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No such resource, or one the caller may not know exists.
    #[error("not found")]
    NotFound,
    /// The caller may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The category slug is taken.
    #[error("category slug taken")]
    SlugTaken,
    /// A referenced category does not exist (`field` names the request field).
    #[error("unknown category in {field}")]
    UnknownCategory {
        /// `category_id` or `parent_id`.
        field: &'static str,
    },
    /// The product changed since the caller read it (`If-Match` mismatch).
    #[error("stale precondition")]
    Stale,
    /// The product is archived.
    #[error("product archived")]
    Archived,
    /// `on_hand` below the reserved units.
    #[error("on_hand below the {reserved} units reserved")]
    BelowReserved {
        /// Units reserved now.
        reserved: i64,
    },
    /// Some reservation items are short.
    #[error("out of stock")]
    OutOfStock(Vec<StockShortage>),
    /// The order id already has a reservation with other items.
    #[error("order already has another reservation")]
    ReservationMismatch,
    /// A reservation transition was refused.
    #[error(transparent)]
    Reservation(#[from] ReservationError),
    /// The search parameters are inconsistent.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness for ids.
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::NotFound => Self::NotFound,
            CatalogError::Forbidden => Self::Forbidden,
            CatalogError::SlugTaken => Self::Conflict {
                detail: "A category with this slug already exists.".into(),
            },
            CatalogError::UnknownCategory { field } => {
                Self::field(field, "is not an existing category")
            }
            CatalogError::Stale => Self::PreconditionFailed,
            CatalogError::Archived => Self::Conflict {
                detail: "The product is archived; it cannot be changed or restocked.".into(),
            },
            CatalogError::BelowReserved { reserved } => Self::Conflict {
                detail: format!(
                    "on_hand cannot be below the {reserved} units reserved by open orders."
                ),
            },
            CatalogError::OutOfStock(items) => Self::OutOfStock { items },
            CatalogError::ReservationMismatch => Self::Conflict {
                detail: "This order_id already has a reservation with other items.".into(),
            },
            CatalogError::Reservation(e) => Self::Conflict {
                detail: format!("{}.", capitalise(&e.to_string())),
            },
            CatalogError::Search(e) => Self::BadRequest {
                detail: format!("{}.", e),
            },
            CatalogError::Store(StoreError::Unavailable(m)) => {
                Self::ServiceUnavailable { cause: m.into() }
            }
            other @ (CatalogError::Store(_) | CatalogError::Random(_)) => {
                Self::internal_from(other)
            }
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status() {
        let cases: Vec<(CatalogError, u16)> = vec![
            (CatalogError::NotFound, 404),
            (CatalogError::Forbidden, 403),
            (CatalogError::SlugTaken, 409),
            (CatalogError::UnknownCategory { field: "parent_id" }, 422),
            (CatalogError::Stale, 412),
            (CatalogError::Archived, 409),
            (CatalogError::BelowReserved { reserved: 3 }, 409),
            (CatalogError::OutOfStock(Vec::new()), 409),
            (CatalogError::ReservationMismatch, 409),
            (CatalogError::Reservation(ReservationError::Expired), 409),
            (
                CatalogError::Search(SearchError::RelevanceWithoutQuery),
                400,
            ),
            (
                CatalogError::Store(StoreError::Unavailable("x".into())),
                503,
            ),
            (
                CatalogError::Store(StoreError::Failed("SELECT".into())),
                500,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(ApiError::from(err).status(), status);
        }
    }

    #[test]
    fn reservation_conflicts_read_as_sentences() {
        let api = ApiError::from(CatalogError::Reservation(ReservationError::Expired));
        assert_eq!(api.to_problem("/", "r").detail, "The reservation expired.");
    }
}
