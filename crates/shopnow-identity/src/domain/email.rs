//! `Email`: a syntactically plausible address, compared case-insensitively.

use std::fmt;

/// Longest address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Why a string is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty after trimming.
    #[error("is required")]
    Empty,
    /// Longer than [`MAX_EMAIL_LEN`].
    #[error("must be at most 254 characters")]
    TooLong,
    /// Not `local@domain.tld` or contains spaces/control characters.
    #[error("is not a valid email address")]
    Invalid,
}

/// An email address as the user typed it (trimmed), with a lower-cased normalised form used
/// for uniqueness and look-ups.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    normalized: String,
}

impl Email {
    /// Validates `raw`.
    ///
    /// # Errors
    /// [`EmailError`] when empty, too long, or not `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Invalid)?;
        let local_ok = !local.is_empty() && local.len() <= 64 && !local.contains('@');
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let chars_ok = trimmed
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control());
        if !(local_ok && domain_ok && chars_ok) {
            return Err(EmailError::Invalid);
        }
        Ok(Self {
            display: trimmed.to_owned(),
            normalized: trimmed.to_lowercase(),
        })
    }

    /// Rebuilds an email read back from storage (already validated when stored).
    pub fn from_stored(display: String, normalized: String) -> Self {
        Self {
            display,
            normalized,
        }
    }

    /// The address as entered.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lower-cased form used for uniqueness and sign-in.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Debug for Email {
    // Personal data: keep it out of debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email([redacted])")
    }
}

impl std::str::FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_trims() {
        let email = Email::parse("  Alice.Smith@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Alice.Smith@Example.COM");
        assert_eq!(email.normalized(), "alice.smith@example.com");
    }

    #[test]
    fn rejects_invalid_addresses() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "alice@exa mple.com",
            "alice@.example.com",
            "alice@example..com",
            "alice@example.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Email::parse(&format!("{}@example.com", "a".repeat(250))),
            Err(EmailError::TooLong)
        );
    }

    #[test]
    fn debug_hides_the_address() {
        assert!(!format!("{:?}", Email::parse("a@b.co").unwrap()).contains("a@b"));
    }
}
