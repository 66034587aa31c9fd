//! CSRF tokens: every state-changing form carries `csrf`, an HMAC of the visitor's binding (the
//! session id once signed in, the CSRF cookie before) under the storefront's secret. A forged
//! cross-site form cannot know it, and `SameSite=Lax` already keeps the cookies off cross-site
//! POSTs; the token is the second, independent guard. Pure: no I/O.
//!
//! Rejected alternative: a token stored in the session, which would need a server-side write for
//! every anonymous visitor who opens the sign-in page.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// The token for `binding` under `secret`.
pub fn token(secret: &[u8], binding: &str) -> String {
    let mut mac = hmac_sha256::HMAC::new(secret);
    mac.update(b"shopnow-storefront-csrf-v1\0");
    mac.update(binding.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize())
}

/// Whether `presented` is the token for `binding`, compared in constant time.
pub fn verify(secret: &[u8], binding: &str, presented: &str) -> bool {
    let expected = token(secret, binding);
    expected.as_bytes().ct_eq(presented.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_for_its_binding_and_secret() {
        let token = token(b"secret-one-0123456789", "session-a");
        assert!(verify(b"secret-one-0123456789", "session-a", &token));
        assert!(!verify(b"secret-one-0123456789", "session-b", &token));
        assert!(!verify(b"secret-two-0123456789", "session-a", &token));
        assert!(!verify(b"secret-one-0123456789", "session-a", ""));
        assert!(!verify(b"secret-one-0123456789", "session-a", &token[1..]));
    }
}
