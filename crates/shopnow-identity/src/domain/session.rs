//! Refresh tokens: 256 random bits, shown to the client once, stored only as a SHA-256 hash.
//! Tokens belong to a family (one sign-in); rotation spends the old token and adds a new one to
//! the family; presenting a spent token revokes the whole family.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shopnow_kernel::Secret;

/// Refresh-token lifetime: 30 days.
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Access-token lifetime: 15 minutes.
pub const ACCESS_TTL_SECS: u64 = 15 * 60;

/// Longest refresh token accepted on the wire (ours are 43 characters).
pub const MAX_REFRESH_TOKEN_LEN: usize = 128;

/// A refresh token as given to the client. Never logged or stored.
#[derive(Debug, Clone)]
pub struct RefreshToken(Secret<String>);

/// The stored form of a refresh token: lower-case hex SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenHash(pub String);

impl RefreshToken {
    /// A token from 32 random bytes.
    pub fn from_random(bytes: &[u8; 32]) -> Self {
        Self(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a token presented by a client.
    pub fn presented(value: Secret<String>) -> Self {
        Self(value)
    }

    /// The secret value (for the response body only).
    pub fn secret(&self) -> &Secret<String> {
        &self.0
    }

    /// The hash stored and looked up in the database.
    pub fn hash(&self) -> RefreshTokenHash {
        let digest = hmac_sha256::Hash::hash(self.0.expose().as_bytes());
        RefreshTokenHash(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// A stored refresh token with its family's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// Token hash (primary key).
    pub token_hash: RefreshTokenHash,
    /// Family (one sign-in).
    pub family_id: String,
    /// Owner.
    pub user_id: String,
    /// Expiry, epoch ms.
    pub expires_at_ms: i64,
    /// When it was rotated, if it was.
    pub spent_at_ms: Option<i64>,
    /// When its family was revoked, if it was.
    pub family_revoked_at_ms: Option<i64>,
}

/// What presenting a refresh token means, given its record and the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshVerdict {
    /// Valid: rotate it.
    Rotate,
    /// Already spent: someone replayed it — revoke the family.
    Reuse,
    /// Expired or its family was revoked.
    Dead,
}

impl RefreshTokenRecord {
    /// Classifies a presentation at `now_ms`. Reuse is checked before expiry and revocation
    /// so that a replayed token always revokes the family.
    pub fn verdict(&self, now_ms: i64) -> RefreshVerdict {
        if self.family_revoked_at_ms.is_some() {
            RefreshVerdict::Dead
        } else if self.spent_at_ms.is_some() {
            RefreshVerdict::Reuse
        } else if now_ms >= self.expires_at_ms {
            RefreshVerdict::Dead
        } else {
            RefreshVerdict::Rotate
        }
    }
}

/// A new token row to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// Hash.
    pub token_hash: RefreshTokenHash,
    /// Family.
    pub family_id: String,
    /// Owner.
    pub user_id: String,
    /// Issued, epoch ms.
    pub issued_at_ms: i64,
    /// Expiry, epoch ms.
    pub expires_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers, computed independently (Python's `base64.urlsafe_b64encode` without
    /// padding and `hashlib.sha256(...).hexdigest()`): a change of encoding or hash breaks every
    /// stored session, so it must not happen silently.
    #[test]
    fn refresh_tokens_and_their_hashes_match_known_answers() {
        let zeros = RefreshToken::from_random(&[0u8; 32]);
        assert_eq!(
            zeros.secret().expose(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        );
        assert_eq!(
            zeros.hash().0,
            "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a"
        );
        let mut counting = [0u8; 32];
        for (i, b) in counting.iter_mut().enumerate() {
            *b = u8::try_from(i).unwrap();
        }
        let token = RefreshToken::from_random(&counting);
        assert_eq!(
            token.secret().expose(),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        );
        assert_eq!(
            token.hash().0,
            "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0"
        );
        // A presented token hashes the same as the issued one.
        let presented = RefreshToken::presented(Secret::new(
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8".into(),
        ));
        assert_eq!(presented.hash(), token.hash());
    }

    fn record(spent: Option<i64>, revoked: Option<i64>) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: RefreshTokenHash("h".into()),
            family_id: "f".into(),
            user_id: "u".into(),
            expires_at_ms: 100,
            spent_at_ms: spent,
            family_revoked_at_ms: revoked,
        }
    }

    #[test]
    fn hash_is_sha256_hex_and_not_the_token() {
        let token = RefreshToken::from_random(&[7; 32]);
        let hash = token.hash();
        assert_eq!(hash.0.len(), 64);
        assert_ne!(&hash.0, token.secret().expose());
        assert_eq!(token.secret().expose().len(), 43);
    }

    #[test]
    fn verdicts() {
        assert_eq!(record(None, None).verdict(50), RefreshVerdict::Rotate);
        assert_eq!(record(Some(10), None).verdict(50), RefreshVerdict::Reuse);
        assert_eq!(record(None, Some(10)).verdict(50), RefreshVerdict::Dead);
        assert_eq!(record(None, None).verdict(100), RefreshVerdict::Dead);
        assert_eq!(record(Some(10), None).verdict(500), RefreshVerdict::Reuse);
    }
}
