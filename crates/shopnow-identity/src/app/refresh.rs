//! Exchange a refresh token for new tokens (rotation). A spent token presented again means it
//! leaked: the whole family is revoked, so the thief's and the owner's successors both die.

use super::TokenPair;
use crate::IdentityError;
use crate::domain::RefreshToken;
use crate::domain::audit::AuditEvent;
use crate::domain::session::{ACCESS_TTL_SECS, RefreshVerdict};
use crate::ports::Ports;

/// Rotates `presented`.
///
/// # Errors
/// [`IdentityError::InvalidRefreshToken`] for an unknown, expired, spent (family then revoked)
/// or revoked token, or when the user no longer exists.
pub fn refresh(ports: &Ports<'_>, presented: &RefreshToken) -> Result<TokenPair, IdentityError> {
    let now = ports.clock.now_ms();
    let record = ports
        .sessions
        .find(&presented.hash())?
        .ok_or(IdentityError::InvalidRefreshToken)?;
    match record.verdict(now) {
        RefreshVerdict::Dead => return Err(IdentityError::InvalidRefreshToken),
        RefreshVerdict::Reuse => return reuse_detected(ports, &record.family_id, &record.user_id),
        RefreshVerdict::Rotate => {}
    }
    let Some(user) = ports.users.find_by_id(&record.user_id)? else {
        ports.sessions.revoke_family(&record.family_id, now)?;
        return Err(IdentityError::InvalidRefreshToken);
    };
    let (refresh_token, row) = super::new_refresh_token(ports, &record.family_id, &user.id)?;
    if !ports.sessions.rotate(&record.token_hash, &row, now)? {
        // Lost a race with another presentation of the same token: that is reuse too.
        return reuse_detected(ports, &record.family_id, &record.user_id);
    }
    let access_token = super::access_token(ports, &user.id, &user.roles)?;
    Ok(TokenPair {
        access_token,
        expires_in: ACCESS_TTL_SECS,
        refresh_token,
    })
}

fn reuse_detected(
    ports: &Ports<'_>,
    family_id: &str,
    user_id: &str,
) -> Result<TokenPair, IdentityError> {
    ports
        .sessions
        .revoke_family(family_id, ports.clock.now_ms())?;
    super::audit(ports, AuditEvent::RefreshReuseDetected, Some(user_id))?;
    Err(IdentityError::InvalidRefreshToken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sign_in::sign_in;
    use crate::testing::{Harness, credentials};

    fn signed_in(h: &Harness) -> RefreshToken {
        sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
            &crate::app::Client::default(),
        )
        .unwrap()
        .refresh_token
    }

    #[test]
    fn rotation_spends_the_old_token() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let first = signed_in(&h);
        let second = refresh(&h.ports(), &first).unwrap().refresh_token;
        assert_ne!(first.secret().expose(), second.secret().expose());
        assert!(refresh(&h.ports(), &second).is_ok());
    }

    #[test]
    fn reusing_a_spent_token_revokes_the_family_including_the_successor() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let first = signed_in(&h);
        let second = refresh(&h.ports(), &first).unwrap().refresh_token;
        assert!(matches!(
            refresh(&h.ports(), &first),
            Err(IdentityError::InvalidRefreshToken)
        ));
        assert!(matches!(
            refresh(&h.ports(), &second),
            Err(IdentityError::InvalidRefreshToken)
        ));
        assert!(
            h.audit
                .events()
                .contains(&"refresh_reuse_detected".to_owned())
        );
    }

    #[test]
    fn other_families_survive_a_reuse() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let phone = signed_in(&h);
        let laptop = signed_in(&h);
        let _ = refresh(&h.ports(), &phone).unwrap();
        let _ = refresh(&h.ports(), &phone);
        assert!(refresh(&h.ports(), &laptop).is_ok());
    }

    #[test]
    fn expired_and_unknown_tokens_are_rejected() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let token = signed_in(&h);
        h.clock.advance(crate::domain::session::REFRESH_TTL_MS);
        assert!(refresh(&h.ports(), &token).is_err());
        let unknown = RefreshToken::from_random(&[9; 32]);
        assert!(refresh(&h.ports(), &unknown).is_err());
    }
}
