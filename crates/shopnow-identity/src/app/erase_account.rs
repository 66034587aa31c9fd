//! Erase the caller's account (right to erasure): personal data is overwritten in place, every
//! session is revoked, and the address becomes free to register again. The row stays so audit
//! records keep pointing at an id. `user.erased` goes to the outbox in the same transaction, so
//! orders and catalog erase what they hold of the account (docs/events.md).

use shopnow_kernel::auth::Principal;

use crate::IdentityError;
use crate::domain::audit::AuditEvent;
use crate::domain::user::PasswordHashText;
use crate::password_hashing::UNUSABLE_HASH;
use crate::ports::{Erasure, Ports};

/// Display name written over an erased account.
pub const ERASED_DISPLAY_NAME: &str = "Erased user";

/// Erases `principal`'s personal data.
///
/// # Errors
/// [`IdentityError::NotFound`] when the account is already erased.
pub fn erase_account(ports: &Ports<'_>, principal: &Principal) -> Result<(), IdentityError> {
    let erasure = Erasure {
        // Unique per user and unroutable (`.invalid` is reserved by RFC 2606).
        email_placeholder: format!("erased-{}@erased.invalid", principal.user_id),
        display_name: ERASED_DISPLAY_NAME.to_owned(),
        password_hash: PasswordHashText(UNUSABLE_HASH.to_owned()),
    };
    let audit = super::audit_record(ports, AuditEvent::AccountErased, Some(&principal.user_id))?;
    let erased = super::user_event(
        ports,
        "user.erased",
        &principal.user_id,
        serde_json::json!({ "user_id": principal.user_id }),
    )?;
    if !ports.users.erase(
        &principal.user_id,
        &erasure,
        ports.clock.now_ms(),
        &audit,
        &[erased],
    )? {
        return Err(IdentityError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::get_user::get_user;
    use crate::app::register::{AdminEmails, register};
    use crate::app::sign_in::sign_in;
    use crate::testing::{Harness, credentials, registration};
    use shopnow_kernel::auth::Role;

    #[test]
    fn erasure_removes_personal_data_revokes_sessions_and_frees_the_email() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let _ = sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
            &crate::app::Client::default(),
        )
        .unwrap();
        erase_account(&h.ports(), &h.principal()).unwrap();
        assert_eq!(
            h.users.event_types().last().map(String::as_str),
            Some("user.erased")
        );
        assert!(h.users.by_email("ada@example.com").is_none());
        assert!(h.sessions.all_revoked());
        assert!(get_user(&h.ports(), &h.principal(), &h.user_id()).is_err());
        assert!(matches!(
            erase_account(&h.ports(), &h.principal()),
            Err(IdentityError::NotFound)
        ));
        assert!(
            register(
                &h.ports(),
                registration("ada@example.com", Role::Customer),
                &AdminEmails::default(),
                &crate::app::Client::default()
            )
            .is_ok()
        );
    }
}
