//! Sign out: revoke the presented refresh token's family. Idempotent; an unknown token is not
//! an error (nothing to revoke, and the answer must not reveal which tokens exist).

use crate::IdentityError;
use crate::domain::RefreshToken;
use crate::domain::audit::AuditEvent;
use crate::ports::Ports;

/// Revokes the family of `presented`, if it exists.
///
/// # Errors
/// Storage failures only.
pub fn sign_out(ports: &Ports<'_>, presented: &RefreshToken) -> Result<(), IdentityError> {
    if let Some(record) = ports.sessions.find(&presented.hash())?
        && record.family_revoked_at_ms.is_none()
    {
        ports
            .sessions
            .revoke_family(&record.family_id, ports.clock.now_ms())?;
        super::audit(ports, AuditEvent::SignedOut, Some(&record.user_id))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::refresh::refresh;
    use crate::app::sign_in::sign_in;
    use crate::testing::{Harness, credentials};

    #[test]
    fn sign_out_revokes_the_family_and_is_idempotent() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let token = sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
            &crate::app::Client::default(),
        )
        .unwrap()
        .refresh_token;
        sign_out(&h.ports(), &token).unwrap();
        sign_out(&h.ports(), &token).unwrap();
        assert!(refresh(&h.ports(), &token).is_err());
        assert!(sign_out(&h.ports(), &RefreshToken::from_random(&[1; 32])).is_ok());
    }
}
