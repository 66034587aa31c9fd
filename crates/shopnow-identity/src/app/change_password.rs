//! Change the caller's password: requires the current one, applies the policy to the new one,
//! and revokes every refresh-token family (other devices must sign in again).

use shopnow_kernel::Secret;
use shopnow_kernel::auth::Principal;

use crate::IdentityError;
use crate::domain::Password;
use crate::domain::audit::AuditEvent;
use crate::ports::Ports;

/// Replaces the password of `principal`.
///
/// # Errors
/// [`IdentityError::WrongCurrentPassword`] when `current` does not match;
/// [`IdentityError::NotFound`] when the account no longer exists.
pub fn change_password(
    ports: &Ports<'_>,
    principal: &Principal,
    current: &Secret<String>,
    new: &Password,
) -> Result<(), IdentityError> {
    let user = ports
        .users
        .find_by_id(&principal.user_id)?
        .ok_or(IdentityError::NotFound)?;
    if !ports.hasher.verify(current, &user.password_hash) {
        return Err(IdentityError::WrongCurrentPassword);
    }
    let mut salt = [0u8; 16];
    ports.random.fill(&mut salt)?;
    let hash = ports.hasher.hash(new.secret(), &salt)?;
    let audit = super::audit_record(ports, AuditEvent::PasswordChanged, Some(&user.id))?;
    if !ports
        .users
        .change_password(&user.id, &hash, ports.clock.now_ms(), &audit)?
    {
        return Err(IdentityError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::refresh::refresh;
    use crate::app::sign_in::sign_in;
    use crate::testing::{Harness, credentials};

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    #[test]
    fn changes_the_password_and_revokes_every_session() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let token = sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
            &crate::app::Client::default(),
        )
        .unwrap()
        .refresh_token;
        let new = Password::parse(secret("amber-lantern-42-quartz")).unwrap();
        change_password(
            &h.ports(),
            &h.principal(),
            &secret("violet-kettle-79-orbit"),
            &new,
        )
        .unwrap();
        assert!(refresh(&h.ports(), &token).is_err());
        assert!(
            sign_in(
                &h.ports(),
                credentials("ada@example.com", "violet-kettle-79-orbit"),
                &crate::app::Client::default()
            )
            .is_err()
        );
        assert!(
            sign_in(
                &h.ports(),
                credentials("ada@example.com", "amber-lantern-42-quartz"),
                &crate::app::Client::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn a_wrong_current_password_changes_nothing() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let new = Password::parse(secret("amber-lantern-42-quartz")).unwrap();
        let err = change_password(&h.ports(), &h.principal(), &secret("nope-nope-nope"), &new)
            .unwrap_err();
        assert!(matches!(err, IdentityError::WrongCurrentPassword));
        assert!(
            sign_in(
                &h.ports(),
                credentials("ada@example.com", "violet-kettle-79-orbit"),
                &crate::app::Client::default()
            )
            .is_ok()
        );
    }
}
