//! Identity domain types: validated newtypes, the user record, sessions and audit events.
//! No I/O and no dependency on ports or adapters.

pub mod audit;
pub mod display_name;
pub mod email;
pub mod password;
pub mod session;
pub mod throttle;
pub mod user;

pub use audit::AuditEvent;
pub use display_name::DisplayName;
pub use email::Email;
pub use password::Password;
pub use session::{RefreshToken, RefreshTokenHash};
pub use user::{User, UserView};
