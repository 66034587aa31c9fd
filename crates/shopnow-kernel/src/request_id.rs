//! Request ids: accept a sane incoming `x-request-id`, otherwise mint a UUIDv7. Pure.

use std::fmt;

/// Header carrying the request id in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest incoming request id we accept.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// A request id that is safe to log and echo: 1..=64 chars of `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Accepts `candidate` if it is 1..=64 characters of `[A-Za-z0-9._-]`.
    ///
    /// # Errors
    /// Returns `None` for anything else (the caller then mints one).
    pub fn parse(candidate: &str) -> Option<Self> {
        let sane = !candidate.is_empty()
            && candidate.len() <= MAX_REQUEST_ID_LEN
            && candidate
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        sane.then(|| Self(candidate.to_owned()))
    }

    /// The incoming id if sane, else `mint()`.
    pub fn from_header_or(incoming: Option<&str>, mint: impl FnOnce() -> String) -> Self {
        incoming
            .and_then(Self::parse)
            .unwrap_or_else(|| Self(mint()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::RequestId;

    #[test]
    fn accepts_sane_ids() {
        assert!(RequestId::parse("abc-123_x.y").is_some());
        assert!(RequestId::parse(&"a".repeat(64)).is_some());
    }

    #[test]
    fn rejects_empty_long_or_unsafe_ids() {
        for bad in ["", "a b", "a\nb", "ü", "x;rm", &"a".repeat(65)] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn mints_when_the_incoming_id_is_bad() {
        let id = RequestId::from_header_or(Some("bad id"), || "minted".into());
        assert_eq!(id.as_str(), "minted");
    }
}
