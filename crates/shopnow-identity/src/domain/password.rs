//! `Password`: a candidate password that meets the policy (OWASP ASVS 2.1): 12..=128
//! characters, not on the shipped common-password list. Held in a redacting `Secret`.

use shopnow_kernel::Secret;

/// Minimum length in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Maximum length in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Common passwords of 12+ characters (lower-case, one per line), compiled in.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Why a password is not acceptable. Messages never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`].
    #[error("must be at least 12 characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_CHARS`].
    #[error("must be at most 128 characters")]
    TooLong,
    /// On the common-password list.
    #[error("is too common; choose another")]
    Common,
}

/// A password that satisfies the policy.
#[derive(Debug, Clone)]
pub struct Password(Secret<String>);

impl Password {
    /// Checks `raw` against the policy. Unicode is counted in characters; nothing is trimmed
    /// or truncated (ASVS: spaces are allowed and significant).
    ///
    /// # Errors
    /// [`PasswordError`] for a too short, too long or common password.
    pub fn parse(raw: Secret<String>) -> Result<Self, PasswordError> {
        let chars = raw.expose().chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        if is_common(raw.expose()) {
            return Err(PasswordError::Common);
        }
        Ok(Self(raw))
    }

    /// The secret value.
    pub fn secret(&self) -> &Secret<String> {
        &self.0
    }
}

fn is_common(candidate: &str) -> bool {
    let lowered = candidate.to_lowercase();
    COMMON_PASSWORDS.lines().any(|line| line.trim() == lowered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Password, PasswordError> {
        Password::parse(Secret::new(s.to_owned()))
    }

    #[test]
    fn enforces_length_in_characters() {
        assert_eq!(parse("short-pass1").unwrap_err(), PasswordError::TooShort);
        assert!(parse("ééééééééééé£").is_ok());
        assert!(parse(&"x".repeat(128)).is_ok());
        assert_eq!(parse(&"x".repeat(129)).unwrap_err(), PasswordError::TooLong);
    }

    #[test]
    fn rejects_common_passwords_case_insensitively() {
        assert_eq!(parse("Password1234").unwrap_err(), PasswordError::Common);
        assert_eq!(parse("QWERTYUIOP123").unwrap_err(), PasswordError::Common);
        assert!(parse("violet-kettle-79-orbit").is_ok());
    }

    #[test]
    fn list_has_only_long_lowercase_entries() {
        assert!(COMMON_PASSWORDS.lines().count() > 1000);
        for line in COMMON_PASSWORDS.lines() {
            assert!(line.chars().count() >= MIN_PASSWORD_CHARS, "{line}");
            assert_eq!(line, line.to_lowercase());
        }
    }
}
