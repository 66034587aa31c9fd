//! Register a new account. Role `customer` (default) or `seller`; `admin` is granted only to
//! addresses on the configured bootstrap list (`admin_emails`), never self-assigned.

use shopnow_kernel::auth::{Role, Roles};

use crate::IdentityError;
use crate::domain::audit::AuditEvent;
use crate::domain::{DisplayName, Email, Password, User, UserView};
use crate::ports::{Ports, RepoError};

/// A validated registration.
#[derive(Debug)]
pub struct Registration {
    /// Address.
    pub email: Email,
    /// Password meeting the policy.
    pub password: Password,
    /// Public name.
    pub display_name: DisplayName,
    /// `Customer` or `Seller` (the HTTP layer rejects anything else).
    pub role: Role,
}

/// Normalised addresses that receive `admin` on registration.
#[derive(Debug, Clone, Default)]
pub struct AdminEmails(Vec<String>);

impl AdminEmails {
    /// Parses a comma-separated list; entries are trimmed and lower-cased.
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
        )
    }

    fn contains(&self, email: &Email) -> bool {
        self.0.iter().any(|e| e == email.normalized())
    }
}

/// Creates the user.
///
/// # Errors
/// [`IdentityError::Throttled`] when the client is over its registration limit (counted before
/// the password is hashed); [`IdentityError::EmailTaken`] if the address
/// (case-insensitively) is registered.
pub fn register(
    ports: &Ports<'_>,
    registration: Registration,
    admins: &AdminEmails,
    client: &super::Client,
) -> Result<UserView, IdentityError> {
    super::count_client_attempt(ports, "register", client, ports.clock.now_ms())?;
    let mut roles = Roles::from([match registration.role {
        Role::Seller => Role::Seller,
        Role::Customer | Role::Admin => Role::Customer,
    }]);
    if admins.contains(&registration.email) {
        roles.insert(Role::Admin);
    }
    let mut salt = [0u8; 16];
    ports.random.fill(&mut salt)?;
    let password_hash = ports.hasher.hash(registration.password.secret(), &salt)?;
    let user = User {
        id: ports.ids.new_id()?,
        email: registration.email,
        display_name: registration.display_name,
        roles,
        password_hash,
        created_at_ms: ports.clock.now_ms(),
    };
    let audit = super::audit_record(ports, AuditEvent::Registered, Some(&user.id))?;
    let registered = super::user_event(
        ports,
        "user.registered",
        &user.id,
        serde_json::json!({
            "user_id": user.id,
            "roles": user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        }),
    )?;
    ports
        .users
        .insert(&user, &audit, &[registered])
        .map_err(|e| match e {
            RepoError::EmailTaken => IdentityError::EmailTaken,
            other => IdentityError::Storage(other),
        })?;
    Ok(UserView::from(&user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, registration};

    #[test]
    fn registers_a_customer_by_default_and_hashes_the_password() {
        let h = Harness::new();
        let view = register(
            &h.ports(),
            registration("Ada@Example.com", Role::Customer),
            &AdminEmails::default(),
            &crate::app::Client::default(),
        )
        .unwrap();
        assert_eq!(view.roles, vec![Role::Customer]);
        assert_eq!(view.email, "Ada@Example.com");
        let stored = h.users.by_email("ada@example.com").unwrap();
        assert!(stored.password_hash.0.starts_with("fake$"));
        assert_eq!(h.audit.events(), ["registered"]);
    }

    #[test]
    fn admin_cannot_be_self_assigned_but_bootstrap_emails_get_it() {
        let h = Harness::new();
        let view = register(
            &h.ports(),
            registration("a@example.com", Role::Admin),
            &AdminEmails::default(),
            &crate::app::Client::default(),
        )
        .unwrap();
        assert_eq!(view.roles, vec![Role::Customer]);
        let admins = AdminEmails::parse(" Root@Example.com ,");
        let view = register(
            &h.ports(),
            registration("root@example.com", Role::Seller),
            &admins,
            &crate::app::Client::default(),
        )
        .unwrap();
        assert_eq!(view.roles, vec![Role::Seller, Role::Admin]);
    }

    #[test]
    fn emails_are_unique_case_insensitively() {
        let h = Harness::new();
        register(
            &h.ports(),
            registration("ada@example.com", Role::Customer),
            &AdminEmails::default(),
            &crate::app::Client::default(),
        )
        .unwrap();
        let err = register(
            &h.ports(),
            registration("ADA@example.com", Role::Customer),
            &AdminEmails::default(),
            &crate::app::Client::default(),
        )
        .unwrap_err();
        assert!(matches!(err, IdentityError::EmailTaken));
    }
}
