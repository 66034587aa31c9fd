//! Opaque pagination cursors: base64url(JSON position) + "." + base64url(HMAC-SHA256), so a
//! tampered or foreign cursor is a 400 rather than a surprising page. Pure.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};
use subtle::ConstantTimeEq as _;

use crate::{ApiError, Secret};

/// Default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longest cursor accepted.
pub const MAX_CURSOR_LEN: usize = 512;

/// Seals and opens cursors with a secret key (the `cursor_secret` variable).
#[derive(Debug, Clone)]
pub struct CursorCodec {
    key: Secret<Vec<u8>>,
}

impl CursorCodec {
    /// A codec keyed by `key`.
    pub fn new(key: Secret<Vec<u8>>) -> Self {
        Self { key }
    }

    /// Encodes `position` into an opaque cursor.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if `position` cannot be serialised.
    pub fn seal<T: Serialize>(&self, position: &T) -> Result<String, ApiError> {
        let payload = serde_json::to_vec(position).map_err(ApiError::internal_from)?;
        let mac = hmac_sha256::HMAC::mac(&payload, self.key.expose());
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac)
        ))
    }

    /// Decodes and authenticates a cursor.
    ///
    /// # Errors
    /// [`ApiError::InvalidCursor`] when it is too long, malformed, or its MAC does not match.
    pub fn open<T: DeserializeOwned>(&self, cursor: &str) -> Result<T, ApiError> {
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(ApiError::InvalidCursor);
        }
        let (payload, mac) = cursor.split_once('.').ok_or(ApiError::InvalidCursor)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| ApiError::InvalidCursor)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| ApiError::InvalidCursor)?;
        let expected = hmac_sha256::HMAC::mac(&payload, self.key.expose());
        if !bool::from(expected.as_slice().ct_eq(&mac)) {
            return Err(ApiError::InvalidCursor);
        }
        serde_json::from_slice(&payload).map_err(|_| ApiError::InvalidCursor)
    }
}

/// Clamps a requested page size into `1..=MAX_PAGE_SIZE`, defaulting when absent.
pub fn page_size(requested: Option<u32>) -> u32 {
    requested
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(Secret::new(b"k".to_vec()))
    }

    #[test]
    fn round_trips() {
        let c = codec().seal(&(42_i64, "id".to_owned())).unwrap();
        let back: (i64, String) = codec().open(&c).unwrap();
        assert_eq!(back, (42, "id".into()));
    }

    #[test]
    fn tampering_is_rejected() {
        let c = codec().seal(&(42_i64, "id")).unwrap();
        let (_, mac) = c.split_once('.').unwrap();
        let forged = format!("{}.{mac}", URL_SAFE_NO_PAD.encode(b"[43,\"id\"]"));
        assert!(matches!(
            codec().open::<(i64, String)>(&forged),
            Err(ApiError::InvalidCursor)
        ));
        let other = CursorCodec::new(Secret::new(b"other".to_vec()));
        assert!(other.open::<(i64, String)>(&c).is_err());
        assert!(codec().open::<(i64, String)>("garbage").is_err());
    }

    #[test]
    fn page_size_is_clamped() {
        assert_eq!(page_size(None), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(0)), 1);
        assert_eq!(page_size(Some(10_000)), MAX_PAGE_SIZE);
    }
}
