//! Identity's error vocabulary and its single mapping to the HTTP `ApiError`.

use shopnow_kernel::ApiError;
use shopnow_kernel::ids::RandomError;

use crate::ports::{HashError, RepoError};

/// Why an identity use case failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The email is already registered.
    #[error("email already registered")]
    EmailTaken,
    /// Unknown email or wrong password (deliberately one case).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed sign-ins for this account.
    #[error("sign-in throttled for {retry_after_secs}s")]
    Throttled {
        /// Seconds until the window passes.
        retry_after_secs: u64,
    },
    /// Unknown, expired, spent or revoked refresh token.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// No such (live) user, or one the caller may not see.
    #[error("user not found")]
    NotFound,
    /// `current_password` does not match on a password change.
    #[error("current password is incorrect")]
    WrongCurrentPassword,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepoError),
    /// Hashing failed.
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// No randomness.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// Signing an access token failed.
    #[error("token signing failed: {0}")]
    Signing(String),
}

impl From<IdentityError> for ApiError {
    fn from(err: IdentityError) -> Self {
        match err {
            IdentityError::EmailTaken => Self::Conflict {
                detail: "An account with this email already exists.".into(),
            },
            IdentityError::InvalidCredentials => Self::InvalidCredentials,
            IdentityError::Throttled { retry_after_secs } => {
                Self::TooManyRequests { retry_after_secs }
            }
            IdentityError::InvalidRefreshToken => Self::InvalidRefreshToken,
            IdentityError::NotFound => Self::NotFound,
            IdentityError::WrongCurrentPassword => Self::field("current_password", "is incorrect"),
            IdentityError::Storage(RepoError::Unavailable(m)) => {
                Self::ServiceUnavailable { cause: m.into() }
            }
            other @ (IdentityError::Storage(_)
            | IdentityError::Hashing(_)
            | IdentityError::Random(_)
            | IdentityError::Signing(_)) => Self::internal_from(other),
        }
    }
}
