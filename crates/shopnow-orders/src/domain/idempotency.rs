//! Idempotency keys (IETF `Idempotency-Key` draft, Stripe's semantics): a client-chosen key,
//! scoped to the user, kept for 24 hours with a fingerprint of the request it was first used
//! with and, once finished, that request's outcome.

use std::fmt;

/// How long a key is remembered: 24 hours.
pub const KEY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a request may hold a key before another request with it may take over (the first
/// one crashed): far beyond any checkout, whose outbound calls all have deadlines.
pub const LOCK_MS: i64 = 30_000;

/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The key is empty, too long or not visible ASCII.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 255 visible ASCII characters")]
pub struct InvalidIdempotencyKey;

/// A client's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Accepts 1..=255 visible ASCII characters (a UUID is the usual choice).
    ///
    /// # Errors
    /// [`InvalidIdempotencyKey`] otherwise.
    pub fn parse(raw: &str) -> Result<Self, InvalidIdempotencyKey> {
        if !raw.is_empty() && raw.len() <= MAX_KEY_LEN && raw.bytes().all(|b| b.is_ascii_graphic())
        {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidIdempotencyKey)
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 (hex) of what makes two requests "the same": method, path and the body's canonical
/// JSON (object keys sorted, insignificant whitespace dropped), so reformatting a body does not
/// count as a different request.
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Fingerprints a request.
    pub fn of(method: &str, path: &str, body: &serde_json::Value) -> Self {
        // serde_json's default map is ordered by key, so this serialisation is canonical.
        let canonical = serde_json::to_vec(body).unwrap_or_default();
        let mut hasher = hmac_sha256::Hash::new();
        hasher.update(method.as_bytes());
        hasher.update(b"\n");
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
        hasher.update(&canonical);
        let digest = hasher.finalize();
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A stored fingerprint.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({}…)", self.0.get(..12).unwrap_or(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("0190a000-0000-7000-8000-000000000001").is_ok());
        for bad in ["", "a b", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reformatted_bodies_share_a_fingerprint_and_different_ones_do_not() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":1}}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{ "a": {"x": 1, "y": 2}, "b": 1 }"#).unwrap();
        let c: serde_json::Value = serde_json::from_str(r#"{"a":{"x":1,"y":2},"b":2}"#).unwrap();
        assert_eq!(
            Fingerprint::of("POST", "/v1/orders", &a),
            Fingerprint::of("POST", "/v1/orders", &b)
        );
        assert_ne!(
            Fingerprint::of("POST", "/v1/orders", &a),
            Fingerprint::of("POST", "/v1/orders", &c)
        );
        assert_ne!(
            Fingerprint::of("POST", "/v1/orders", &a),
            Fingerprint::of("POST", "/v1/other", &a)
        );
        assert_eq!(Fingerprint::of("POST", "/", &a).as_str().len(), 64);
    }
}
