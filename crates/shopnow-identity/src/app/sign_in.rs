//! Sign in with email and password: throttled per client and per account (each attempt counted
//! before the password is checked), same answer and similar time for an unknown email and a
//! wrong password, a new refresh-token family on success.

use shopnow_kernel::Secret;

use super::{Client, TokenPair};
use crate::IdentityError;
use crate::domain::Email;
use crate::domain::audit::AuditEvent;
use crate::domain::throttle::ACCOUNT_ATTEMPTS;
use crate::domain::user::PasswordHashText;
use crate::password_hashing::DUMMY_HASH;
use crate::ports::Ports;

/// Email and password as presented.
#[derive(Debug)]
pub struct Credentials {
    /// Address.
    pub email: Email,
    /// Password (not policy-checked: old passwords may predate the policy).
    pub password: Secret<String>,
}

/// The throttle key for an account: a hash, so no address appears in the throttle table.
pub fn throttle_key(email: &Email) -> String {
    let digest = hmac_sha256::Hash::hash(email.normalized().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("signin:{hex}")
}

/// Verifies the credentials and opens a session.
///
/// # Errors
/// [`IdentityError::Throttled`] for the client's attempts over its limit, and for an account's
/// sixth attempt within 15 minutes (the right password included) until the window passes;
/// [`IdentityError::InvalidCredentials`] for an unknown email or a wrong password.
pub fn sign_in(
    ports: &Ports<'_>,
    credentials: Credentials,
    client: &Client,
) -> Result<TokenPair, IdentityError> {
    let now = ports.clock.now_ms();
    super::count_client_attempt(ports, "sign-in", client, now)?;
    let key = throttle_key(&credentials.email);
    // Counted before the hash: parallel guesses each get their own count, so at most
    // ACCOUNT_ATTEMPTS of them reach the check.
    let state = ports.throttle.count_attempt(&key, now)?;
    if let Some(retry_after_secs) = state.retry_after_secs(ACCOUNT_ATTEMPTS, now) {
        let user = ports.users.find_by_email(credentials.email.normalized())?;
        super::audit(
            ports,
            AuditEvent::SignInThrottled,
            user.as_ref().map(|u| u.id.as_str()),
        )?;
        return Err(IdentityError::Throttled { retry_after_secs });
    }
    let user = ports.users.find_by_email(credentials.email.normalized())?;
    let verified = match &user {
        Some(user) => ports
            .hasher
            .verify(&credentials.password, &user.password_hash),
        None => {
            // Same cost as a real check, so response time does not reveal unknown emails.
            ports.hasher.verify(
                &credentials.password,
                &PasswordHashText(DUMMY_HASH.to_owned()),
            );
            false
        }
    };
    let user = match user {
        Some(user) if verified => user,
        other => {
            super::audit(
                ports,
                AuditEvent::SignInFailed,
                other.as_ref().map(|u| u.id.as_str()),
            )?;
            return Err(IdentityError::InvalidCredentials);
        }
    };
    // This attempt was counted too: forget them all, or five sign-ins would lock the sixth.
    ports.throttle.clear(&key)?;
    let family_id = ports.ids.new_id()?;
    let (refresh_token, row) = super::new_refresh_token(ports, &family_id, &user.id)?;
    ports.sessions.start_family(&row, now)?;
    let access_token = super::access_token(ports, &user.id, &user.roles)?;
    super::audit(ports, AuditEvent::SignInSucceeded, Some(&user.id))?;
    Ok(TokenPair {
        access_token,
        expires_in: crate::domain::session::ACCESS_TTL_SECS,
        refresh_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, credentials};

    fn sign_in(ports: &Ports<'_>, credentials: Credentials) -> Result<TokenPair, IdentityError> {
        super::sign_in(
            ports,
            credentials,
            &Client::new(Some("192.0.2.1".into()), 1_000),
        )
    }
    use shopnow_kernel::auth::TokenVerifier;
    use shopnow_kernel::ids::Clock as _;

    #[test]
    fn signs_in_with_the_right_password_in_any_email_case() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let pair = sign_in(
            &h.ports(),
            credentials("ADA@example.com", "violet-kettle-79-orbit"),
        )
        .unwrap();
        let verifier = TokenVerifier::new([h.signer.public_key()], h.audience());
        let principal = verifier
            .verify(pair.access_token.expose(), h.clock.now_ms())
            .unwrap();
        assert_eq!(principal.user_id, h.user_id());
        assert_eq!(pair.expires_in, 900);
        assert_eq!(h.sessions.count(), 1);
    }

    #[test]
    fn unknown_email_and_wrong_password_fail_the_same_way_and_both_hash() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let a = sign_in(
            &h.ports(),
            credentials("ada@example.com", "wrong-password-123"),
        )
        .unwrap_err();
        let b = sign_in(
            &h.ports(),
            credentials("bob@example.com", "wrong-password-123"),
        )
        .unwrap_err();
        assert!(matches!(a, IdentityError::InvalidCredentials));
        assert!(matches!(b, IdentityError::InvalidCredentials));
        assert_eq!(h.hasher.verifications(), 2);
    }

    #[test]
    fn locks_after_five_failures_for_fifteen_minutes_even_with_the_right_password() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        for _ in 0..5 {
            let _ = sign_in(
                &h.ports(),
                credentials("ada@example.com", "wrong-password-123"),
            );
        }
        let err = sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
        )
        .unwrap_err();
        let IdentityError::Throttled { retry_after_secs } = err else {
            panic!("expected throttled, got {err:?}");
        };
        assert!(retry_after_secs > 890 && retry_after_secs <= 900);
        h.clock.advance(15 * 60 * 1000);
        assert!(
            sign_in(
                &h.ports(),
                credentials("ada@example.com", "violet-kettle-79-orbit")
            )
            .is_ok()
        );
    }

    #[test]
    fn five_sign_ins_in_a_row_do_not_lock_the_sixth() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        for _ in 0..10 {
            sign_in(
                &h.ports(),
                credentials("ada@example.com", "violet-kettle-79-orbit"),
            )
            .unwrap();
        }
    }

    #[test]
    fn a_client_over_its_limit_is_refused_before_any_password_check() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let client = Client::new(Some("192.0.2.7".into()), 3);
        for i in 0..3 {
            let err = super::sign_in(
                &h.ports(),
                credentials(&format!("user{i}@example.com"), "wrong-password-123"),
                &client,
            )
            .unwrap_err();
            assert!(matches!(err, IdentityError::InvalidCredentials), "{err:?}");
        }
        let err = super::sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
            &client,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                IdentityError::Throttled {
                    retry_after_secs: 900
                }
            ),
            "{err:?}"
        );
        assert_eq!(h.hasher.verifications(), 3);
        // Another client is not affected.
        let other = Client::new(Some("192.0.2.8".into()), 3);
        super::sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
            &other,
        )
        .unwrap();
    }

    #[test]
    fn lapsed_counters_are_purged_when_a_clients_window_starts_not_on_every_sign_in() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let client = Client::new(Some("192.0.2.9".into()), 1_000);
        for i in 0..3 {
            let _ = super::sign_in(
                &h.ports(),
                credentials(&format!("user{i}@example.com"), "wrong-password-123"),
                &client,
            );
        }
        assert_eq!(h.throttle.keys(), 4, "three accounts and the client");
        h.clock.advance(15 * 60 * 1000);
        super::sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
            &client,
        )
        .unwrap();
        // The client's new window purged the lapsed rows; the success cleared its own.
        assert_eq!(h.throttle.keys(), 1, "only the client's new window");
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        for _ in 0..4 {
            let _ = sign_in(
                &h.ports(),
                credentials("ada@example.com", "wrong-password-123"),
            );
        }
        sign_in(
            &h.ports(),
            credentials("ada@example.com", "violet-kettle-79-orbit"),
        )
        .unwrap();
        for _ in 0..4 {
            let _ = sign_in(
                &h.ports(),
                credentials("ada@example.com", "wrong-password-123"),
            );
        }
        assert!(
            sign_in(
                &h.ports(),
                credentials("ada@example.com", "violet-kettle-79-orbit")
            )
            .is_ok()
        );
    }
}
