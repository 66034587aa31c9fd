//! The user record and its public view.

use serde::Serialize;
use shopnow_kernel::auth::{Role, Roles};

use super::{DisplayName, Email};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UUIDv7.
    pub id: String,
    /// Address.
    pub email: Email,
    /// Public name.
    pub display_name: DisplayName,
    /// Roles.
    pub roles: Roles,
    /// PHC-format argon2id hash. Never leaves the service.
    pub password_hash: PasswordHashText,
    /// Created, epoch ms.
    pub created_at_ms: i64,
}

/// A stored password hash; `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHashText(pub String);

impl std::fmt::Debug for PasswordHashText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashText([redacted])")
    }
}

/// What clients see of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    /// Id.
    pub id: String,
    /// Address.
    pub email: String,
    /// Public name.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// RFC 3339 creation time.
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            roles: user.roles.iter().copied().collect(),
            created_at: shopnow_kernel::time::rfc3339(user.created_at_ms),
        }
    }
}

/// Serialises roles for storage: comma-separated wire names.
pub fn roles_to_text(roles: &Roles) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses stored roles; unknown names are dropped (never granted).
pub fn roles_from_text(text: &str) -> Roles {
    text.split(',')
        .filter_map(|r| Role::parse(r.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_roles_are_dropped() {
        let roles = Roles::from([Role::Seller, Role::Customer]);
        assert_eq!(roles_to_text(&roles), "customer,seller");
        assert_eq!(roles_from_text("customer,seller,root"), roles);
    }
}
