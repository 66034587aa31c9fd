//! The buyer's payment method as the provider tokenised it. Never stored, logged or shown.

use std::fmt;

use shopnow_kernel::Secret;

/// Longest token accepted.
pub const MAX_TOKEN_LEN: usize = 128;

/// The token is empty, too long or has characters a provider token never has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 128 characters of A-Z, a-z, 0-9, '_' or '-'")]
pub struct InvalidPaymentToken;

/// A payment token (`tok_…`). `Debug` and `Display` are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentToken(Secret<String>);

impl PaymentToken {
    /// Accepts 1..=128 characters of `[A-Za-z0-9_-]`.
    ///
    /// # Errors
    /// [`InvalidPaymentToken`] otherwise.
    pub fn parse(raw: &str) -> Result<Self, InvalidPaymentToken> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_TOKEN_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(Secret::new(raw.to_owned())))
        } else {
            Err(InvalidPaymentToken)
        }
    }

    /// The token, for the payment adapter only.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for PaymentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PaymentToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_validated_and_never_printed() {
        let token = PaymentToken::parse("tok_ok").unwrap();
        assert_eq!(token.expose(), "tok_ok");
        assert!(!format!("{token:?}").contains("tok_ok"));
        for bad in ["", "tok ok", "tok;drop", &"a".repeat(129)] {
            assert!(PaymentToken::parse(bad).is_err(), "{bad}");
        }
    }
}
