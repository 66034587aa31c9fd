//! The orders error vocabulary and its single mapping to the HTTP `ApiError`.

use shopnow_kernel::ids::RandomError;
use shopnow_kernel::{ApiError, StockShortage};

use crate::domain::order::OrderError;
use crate::ports::RepoError;

/// Why an orders use case failed.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// No such order, fulfilment or product — or one the caller may not know of.
    #[error("not found")]
    NotFound,
    /// The caller lacks the role for this operation.
    #[error("forbidden")]
    Forbidden,
    /// A field of the request is invalid (field name, reason).
    #[error("invalid {0}: {1}")]
    Invalid(String, String),
    /// The change conflicts with the order's state (cancel after shipping, ship twice…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Items are short: nothing was reserved.
    #[error("out of stock")]
    OutOfStock(Vec<StockShortage>),
    /// The provider declined the payment.
    #[error("payment declined")]
    PaymentDeclined,
    /// Another request with this idempotency key is in flight.
    #[error("idempotency key in use")]
    KeyInUse,
    /// The idempotency key was used with a different request.
    #[error("idempotency key reused")]
    KeyReused,
    /// The catalog or the payment provider did not answer in time (or failed); everything the
    /// request did was compensated, so it may be retried.
    #[error("{dependency} unavailable: {cause}")]
    DependencyUnavailable {
        /// `catalog` or `payment provider`.
        dependency: &'static str,
        /// Log detail.
        cause: String,
    },
    /// The database or key-value store failed.
    #[error(transparent)]
    Storage(#[from] RepoError),
    /// No randomness for ids.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// A rule that cannot fail did (a bug or a contract violation); logged.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<OrderError> for OrdersError {
    fn from(err: OrderError) -> Self {
        match err {
            OrderError::IllegalTransition { from, .. } => {
                Self::Conflict(format!("The order is {from}; this change is not allowed."))
            }
            OrderError::Fulfilment(e) => Self::Conflict(format!(
                "The fulfilment is {}; this change is not allowed.",
                e.from.as_str()
            )),
            OrderError::UnknownFulfilment => Self::NotFound,
            OrderError::MixedCurrencies(currencies) => Self::Invalid(
                "items".into(),
                format!(
                    "are priced in several currencies ({}); place one order per currency",
                    currencies.join(", ")
                ),
            ),
            OrderError::Empty => Self::Invalid("items".into(), "must not be empty".into()),
            OrderError::TotalTooLarge => {
                Self::Invalid("items".into(), "the order total is too large".into())
            }
            OrderError::Random(e) => Self::Random(RandomError(e)),
        }
    }
}

impl From<OrdersError> for ApiError {
    fn from(err: OrdersError) -> Self {
        match err {
            OrdersError::NotFound => Self::NotFound,
            OrdersError::Forbidden => Self::Forbidden,
            OrdersError::Invalid(field, message) => Self::field(field, message),
            OrdersError::Conflict(detail) => Self::Conflict { detail },
            OrdersError::OutOfStock(items) => Self::OutOfStock { items },
            OrdersError::PaymentDeclined => Self::PaymentDeclined,
            // A claim taken over: the key is another request's now, as if it had been in flight.
            OrdersError::KeyInUse | OrdersError::Storage(RepoError::ClaimLost) => {
                Self::IdempotencyKeyInUse
            }
            OrdersError::KeyReused => Self::IdempotencyKeyReused,
            OrdersError::Storage(RepoError::Unavailable(m)) => {
                Self::ServiceUnavailable { cause: m.into() }
            }
            OrdersError::Storage(RepoError::Conflict) => Self::Conflict {
                detail: "The order was changed by another request; retry.".into(),
            },
            err @ OrdersError::DependencyUnavailable { .. } => Self::ServiceUnavailable {
                cause: Box::new(err),
            },
            other @ (OrdersError::Storage(_)
            | OrdersError::Random(_)
            | OrdersError::Internal(_)) => Self::internal_from(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_failures_are_503_with_retry_after() {
        let err: ApiError = OrdersError::DependencyUnavailable {
            dependency: "catalog",
            cause: "deadline".into(),
        }
        .into();
        assert_eq!(err.status(), 503);
        assert_eq!(err.headers(), vec![("retry-after", "1".to_owned())]);
    }

    #[test]
    fn mixed_currencies_are_a_422_on_items() {
        let err: ApiError = OrdersError::from(OrderError::MixedCurrencies(vec![
            "EUR".into(),
            "USD".into(),
        ]))
        .into();
        assert_eq!(err.status(), 422);
        let problem = err.to_problem("/v1/orders", "r");
        assert_eq!(problem.errors.unwrap()[0].field, "items");
    }
}
