//! Ports the identity use cases need, by role. Implemented by SQL/key-value adapters in the
//! component and by in-memory fakes in unit tests.

use shopnow_kernel::Secret;
use shopnow_kernel::auth::TokenSigner;
use shopnow_kernel::events::NewEvent;
use shopnow_kernel::ids::{Clock, IdSource, RandomSource};

use crate::domain::audit::AuditRecord;
use crate::domain::session::{NewRefreshToken, RefreshTokenHash, RefreshTokenRecord};
use crate::domain::throttle::ThrottleState;
use crate::domain::user::PasswordHashText;
use crate::domain::{DisplayName, User};

/// A storage failure. Messages are for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The normalised email is already registered.
    #[error("email already registered")]
    EmailTaken,
    /// The store could not be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Any other failure.
    #[error("store failure: {0}")]
    Failed(String),
}

/// What erasure writes over a user's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Placeholder address (unique, unroutable), also the new normalised email.
    pub email_placeholder: String,
    /// Placeholder display name.
    pub display_name: String,
    /// An unusable password hash.
    pub password_hash: PasswordHashText,
}

/// Users.
pub trait UserRepository {
    /// Inserts a new user, its audit record and its `events`, in one transaction (none without
    /// the others).
    ///
    /// # Errors
    /// [`RepoError::EmailTaken`] if the normalised email exists.
    fn insert(
        &self,
        user: &User,
        audit: &AuditRecord,
        events: &[NewEvent],
    ) -> Result<(), RepoError>;

    /// The live (not erased) user with this normalised email.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn find_by_email(&self, normalized_email: &str) -> Result<Option<User>, RepoError>;

    /// The live (not erased) user with this id.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn find_by_id(&self, id: &str) -> Result<Option<User>, RepoError>;

    /// Sets the display name; returns the updated user, or `None` if there is no live user.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn update_display_name(
        &self,
        id: &str,
        name: &DisplayName,
        now_ms: i64,
    ) -> Result<Option<User>, RepoError>;

    /// Replaces the password hash, revokes every refresh-token family of the user and writes
    /// `audit`, in one transaction (nothing when there is no live user). Returns whether a live
    /// user was updated.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn change_password(
        &self,
        id: &str,
        hash: &PasswordHashText,
        now_ms: i64,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;

    /// Overwrites personal data, revokes every family and writes `audit`, in one transaction
    /// (nothing when there is no live user), with its audit record and `events` in the same
    /// transaction. Returns whether a live user was erased.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn erase(
        &self,
        id: &str,
        erasure: &Erasure,
        now_ms: i64,
        audit: &AuditRecord,
        events: &[NewEvent],
    ) -> Result<bool, RepoError>;
}

/// Refresh-token families.
pub trait SessionRepository {
    /// Creates a family for `token.user_id` with its first token.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn start_family(&self, token: &NewRefreshToken, now_ms: i64) -> Result<(), RepoError>;

    /// The token with this hash and its family's state.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn find(&self, hash: &RefreshTokenHash) -> Result<Option<RefreshTokenRecord>, RepoError>;

    /// Spends `spent` (only if not yet spent) and inserts `next` in the same family, in one
    /// transaction. Returns `false` when `spent` had already been spent (a concurrent reuse).
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn rotate(
        &self,
        spent: &RefreshTokenHash,
        next: &NewRefreshToken,
        now_ms: i64,
    ) -> Result<bool, RepoError>;

    /// Revokes a family (idempotent).
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn revoke_family(&self, family_id: &str, now_ms: i64) -> Result<(), RepoError>;
}

/// The audit log.
pub trait AuditLog {
    /// Appends one record.
    ///
    /// # Errors
    /// [`RepoError`] on storage failure.
    fn record(&self, record: &AuditRecord) -> Result<(), RepoError>;
}

/// Attempt counters by key (account or client; see `domain::throttle`).
pub trait SignInThrottle {
    /// Counts one attempt for `key` at `now_ms` and returns the state with it included, by
    /// [`ThrottleState::after_attempt`]'s rule applied atomically: concurrent attempts on one key
    /// each see a different count.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store is unreachable.
    fn count_attempt(&self, key: &str, now_ms: i64) -> Result<ThrottleState, RepoError>;

    /// Deletes the counters of every window that has passed by `now_ms`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store is unreachable.
    fn purge_passed(&self, now_ms: i64) -> Result<(), RepoError>;

    /// Forgets `key` (an account's count after a successful sign-in).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store is unreachable.
    fn clear(&self, key: &str) -> Result<(), RepoError>;
}

/// Password hashing failed (bad parameters; not a wrong password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Password hashing.
pub trait PasswordHasher {
    /// Hashes `password` with `salt` into a PHC string.
    ///
    /// # Errors
    /// [`HashError`] if the algorithm rejects its parameters.
    fn hash(
        &self,
        password: &Secret<String>,
        salt: &[u8; 16],
    ) -> Result<PasswordHashText, HashError>;

    /// Whether `candidate` matches `stored`. Unparseable hashes never match, but still cost
    /// one full hash so timing does not tell them apart.
    fn verify(&self, candidate: &Secret<String>, stored: &PasswordHashText) -> bool;
}

/// Everything a use case may need, by role. Each use case touches only what it uses.
pub struct Ports<'a> {
    /// Users.
    pub users: &'a dyn UserRepository,
    /// Refresh-token families.
    pub sessions: &'a dyn SessionRepository,
    /// Audit log.
    pub audit: &'a dyn AuditLog,
    /// Sign-in throttle.
    pub throttle: &'a dyn SignInThrottle,
    /// Password hashing.
    pub hasher: &'a dyn PasswordHasher,
    /// Time.
    pub clock: &'a dyn Clock,
    /// Ids.
    pub ids: &'a dyn IdSource,
    /// Randomness (salts, refresh tokens).
    pub random: &'a dyn RandomSource,
    /// Access-token signer.
    pub tokens: &'a TokenSigner,
    /// The current request id, for audit records.
    pub request_id: &'a str,
}
