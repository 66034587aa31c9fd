//! Bearer authentication: EdDSA (Ed25519) JWT signing and verification by key id, roles and
//! the authenticated `Principal`. Pure (jwt-simple's pure-Rust build); keys come from Spin
//! variables through the caller.
//!
//! Key material formats (documented in `docs/security.md`):
//! - signing key: base64url (padding optional) of the 32-byte Ed25519 seed (JWK `d`);
//! - public key list: comma-separated `kid:base64url(32-byte public key)` (JWK `x`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use jwt_simple::prelude::{
    Claims, Duration, Ed25519KeyPair, Ed25519PublicKey, EdDSAKeyPairLike as _,
    EdDSAPublicKeyLike as _, Token, UnixTimeStamp, VerificationOptions,
};
use serde::{Deserialize, Serialize};

use crate::ApiError;
use crate::ids::EpochMillis;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const CLOCK_SKEW_SECS: u64 = 30;

/// Longest token we look at.
pub const MAX_TOKEN_LEN: usize = 4096;

/// A role a user holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Buys products.
    Customer,
    /// Sells products.
    Seller,
    /// Operates the platform.
    Admin,
}

impl Role {
    /// Parses `customer`, `seller` or `admin`.
    ///
    /// # Errors
    /// `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "customer" => Some(Self::Customer),
            "seller" => Some(Self::Seller),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Seller => "seller",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of roles, ordered for stable output.
pub type Roles = BTreeSet<Role>;

/// Who is calling, as proven by a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id (`sub`).
    pub user_id: String,
    /// The user's roles (`roles`).
    pub roles: Roles,
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Succeeds if the principal holds `role`.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] otherwise.
    pub fn require_role(&self, role: Role) -> Result<(), ApiError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Whether the principal is `user_id` or an admin — the ownership rule for user records.
    pub fn is_self_or_admin(&self, user_id: &str) -> bool {
        self.user_id == user_id || self.has_role(Role::Admin)
    }
}

/// Key material could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not base64url.
    #[error("key `{0}` is not base64url")]
    Encoding(String),
    /// Wrong length or not a valid curve point.
    #[error("key `{0}` is not a valid Ed25519 key")]
    Invalid(String),
    /// An entry of a public key list is not `kid:key`.
    #[error("public key entry {0} is not `kid:base64url`")]
    Entry(usize),
    /// A key id is empty, too long or has unsafe characters.
    #[error("key id {0:?} is not 1..=64 chars of [A-Za-z0-9._-]")]
    KeyId(String),
}

fn decode_b64url(text: &str, what: &str) -> Result<Vec<u8>, KeyError> {
    let text = text.trim();
    URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|_| KeyError::Encoding(what.to_owned()))
}

fn check_kid(kid: &str) -> Result<(), KeyError> {
    if crate::RequestId::parse(kid).is_some() {
        Ok(())
    } else {
        Err(KeyError::KeyId(kid.to_owned()))
    }
}

/// The current signing key and its id. Never printed.
pub struct SigningKey {
    kid: String,
    pair: Ed25519KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("pair", &"[redacted]")
            .finish()
    }
}

impl SigningKey {
    /// Builds the key from a base64url 32-byte seed and its key id.
    ///
    /// # Errors
    /// [`KeyError`] when the seed or key id is malformed.
    pub fn from_seed_b64(seed_b64: &crate::Secret<String>, kid: &str) -> Result<Self, KeyError> {
        check_kid(kid)?;
        let seed = decode_b64url(seed_b64.expose(), "jwt_signing_key")?;
        let seed = ed25519_compact::Seed::from_slice(&seed)
            .map_err(|_| KeyError::Invalid("jwt_signing_key".into()))?;
        let pair = ed25519_compact::KeyPair::from_seed(seed);
        let pair = Ed25519KeyPair::from_bytes(&pair[..])
            .map_err(|_| KeyError::Invalid("jwt_signing_key".into()))?
            .with_key_id(kid);
        Ok(Self {
            kid: kid.to_owned(),
            pair,
        })
    }

    /// The key id put in every token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            kid: self.kid.clone(),
            key: self.pair.public_key(),
        }
    }
}

/// A verification key with its id.
#[derive(Clone)]
pub struct PublicKey {
    kid: String,
    key: Ed25519PublicKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).finish()
    }
}

impl PublicKey {
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Parses `kid:base64url` list entries (comma-separated; blanks ignored).
    ///
    /// # Errors
    /// [`KeyError`] naming the first bad entry.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, KeyError> {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
            .map(|(i, entry)| {
                let (kid, key) = entry.split_once(':').ok_or(KeyError::Entry(i))?;
                check_kid(kid)?;
                let bytes = decode_b64url(key, kid)?;
                let key = Ed25519PublicKey::from_bytes(&bytes)
                    .map_err(|_| KeyError::Invalid(kid.to_owned()))?;
                Ok(Self {
                    kid: kid.to_owned(),
                    key,
                })
            })
            .collect()
    }

    /// The key as an RFC 8037 JWK (`OKP`/`Ed25519`).
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            alg: "EdDSA",
            key_use: "sig",
            kid: self.kid.clone(),
            x: URL_SAFE_NO_PAD.encode(self.key.to_bytes()),
        }
    }

    /// `kid:base64url` form, as read by [`PublicKey::parse_list`].
    pub fn to_list_entry(&self) -> String {
        format!(
            "{}:{}",
            self.kid,
            URL_SAFE_NO_PAD.encode(self.key.to_bytes())
        )
    }
}

/// One entry of a JWKS document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `OKP`.
    pub kty: &'static str,
    /// `Ed25519`.
    pub crv: &'static str,
    /// `EdDSA`.
    pub alg: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub key_use: &'static str,
    /// Key id.
    pub kid: String,
    /// base64url public key.
    pub x: String,
}

/// A JWKS document (`/.well-known/jwks.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// Issuer and audience every token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAudience {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct RoleClaims {
    roles: Vec<String>,
}

/// Verifies access tokens against a set of public keys by `kid`.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: HashMap<String, PublicKey>,
    audience: TokenAudience,
}

impl TokenVerifier {
    /// A verifier accepting `keys` for tokens of `audience`.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>, audience: TokenAudience) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
            audience,
        }
    }

    /// The keys, for publishing as JWKS (ordered by kid for stable output).
    pub fn jwks(&self) -> Jwks {
        let mut keys: Vec<Jwk> = self.keys.values().map(PublicKey::to_jwk).collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        Jwks { keys }
    }

    /// Verifies `token` at `now_ms` and returns its principal.
    ///
    /// # Errors
    /// [`ApiError::InvalidToken`] (401, `WWW-Authenticate: Bearer error="invalid_token"`) for a
    /// malformed token, any `alg` but `EdDSA` (including `none`), a missing or unknown `kid`,
    /// a bad signature, a missing/expired `exp`, a future `nbf`/`iat`, a wrong `iss`/`aud`, or
    /// missing `sub`/`roles`.
    pub fn verify(&self, token: &str, now_ms: EpochMillis) -> Result<Principal, ApiError> {
        let invalid = |reason: &str| ApiError::InvalidToken {
            reason: reason.to_owned(),
        };
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid("too long"));
        }
        let meta = Token::decode_metadata(token).map_err(|_| invalid("malformed"))?;
        if meta.algorithm() != "EdDSA" {
            return Err(invalid("algorithm not allowed"));
        }
        let kid = meta.key_id().ok_or_else(|| invalid("no kid"))?;
        let key = self.keys.get(kid).ok_or_else(|| invalid("unknown kid"))?;
        let now_secs = u64::try_from(now_ms / 1000).unwrap_or(0);
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from([self.audience.issuer.clone()])),
            allowed_audiences: Some(HashSet::from([self.audience.audience.clone()])),
            time_tolerance: Some(Duration::from_secs(CLOCK_SKEW_SECS)),
            artificial_time: Some(UnixTimeStamp::from_secs(now_secs)),
            max_token_length: Some(MAX_TOKEN_LEN),
            ..VerificationOptions::default()
        };
        let claims = key
            .key
            .verify_token::<RoleClaims>(token, Some(options))
            .map_err(|e| ApiError::InvalidToken {
                reason: e.to_string(),
            })?;
        // jwt-simple accepts tokens without exp/iss/aud; we do not.
        if claims.expires_at.is_none() {
            return Err(invalid("no exp"));
        }
        if claims.issuer.is_none() {
            return Err(invalid("no iss"));
        }
        if claims.audiences.is_none() {
            return Err(invalid("no aud"));
        }
        let user_id = claims.subject.ok_or_else(|| invalid("no sub"))?;
        let roles = claims
            .custom
            .roles
            .iter()
            .map(|r| Role::parse(r).ok_or_else(|| invalid("unknown role")))
            .collect::<Result<Roles, _>>()?;
        Ok(Principal { user_id, roles })
    }
}

/// Claims of a new access token.
#[derive(Debug, Clone)]
pub struct AccessClaims<'a> {
    /// `sub`.
    pub subject: &'a str,
    /// `roles`.
    pub roles: &'a Roles,
    /// `jti`.
    pub token_id: &'a str,
    /// `iat` (and `nbf`), in ms; truncated to seconds.
    pub issued_at_ms: EpochMillis,
    /// Lifetime in seconds.
    pub ttl_secs: u64,
}

/// Signs access tokens with the current key.
#[derive(Debug)]
pub struct TokenSigner {
    key: SigningKey,
    audience: TokenAudience,
}

impl TokenSigner {
    /// A signer issuing tokens for `audience` with `key`.
    pub fn new(key: SigningKey, audience: TokenAudience) -> Self {
        Self { key, audience }
    }

    /// The current public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// Signs an access token.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if signing fails (it does not for valid keys).
    pub fn sign(&self, claims: &AccessClaims<'_>) -> Result<String, ApiError> {
        let iat = UnixTimeStamp::from_secs(u64::try_from(claims.issued_at_ms / 1000).unwrap_or(0));
        let custom = RoleClaims {
            roles: claims.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        };
        let mut jwt = Claims::with_custom_claims(custom, Duration::from_secs(claims.ttl_secs))
            .with_issuer(&self.audience.issuer)
            .with_audience(&self.audience.audience)
            .with_subject(claims.subject)
            .with_jwt_id(claims.token_id);
        jwt.issued_at = Some(iat);
        jwt.invalid_before = Some(iat);
        jwt.expires_at = Some(iat + Duration::from_secs(claims.ttl_secs));
        self.key
            .pair
            .sign(jwt)
            .map_err(|e| ApiError::internal(format!("jwt signing failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    const SEED_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const SEED_B: &str = "HxweHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE";
    const NOW: EpochMillis = 1_800_000_000_000;

    fn aud() -> TokenAudience {
        TokenAudience {
            issuer: "https://identity.shopnow.dev".into(),
            audience: "shopnow".into(),
        }
    }

    fn signer(seed: &str, kid: &str) -> TokenSigner {
        TokenSigner::new(
            SigningKey::from_seed_b64(&Secret::new(seed.into()), kid).unwrap(),
            aud(),
        )
    }

    fn token(s: &TokenSigner, at: EpochMillis, ttl: u64) -> String {
        let roles = Roles::from([Role::Customer, Role::Seller]);
        s.sign(&AccessClaims {
            subject: "user-1",
            roles: &roles,
            token_id: "jti-1",
            issued_at_ms: at,
            ttl_secs: ttl,
        })
        .unwrap()
    }

    fn reason(err: ApiError) -> String {
        match err {
            ApiError::InvalidToken { reason } => reason,
            other => panic!("expected invalid token, got {other:?}"),
        }
    }

    #[test]
    fn round_trips_subject_and_roles() {
        let s = signer(SEED_A, "k1");
        let v = TokenVerifier::new([s.public_key()], aud());
        let p = v.verify(&token(&s, NOW, 900), NOW).unwrap();
        assert_eq!(p.user_id, "user-1");
        assert!(p.has_role(Role::Seller) && !p.has_role(Role::Admin));
        assert!(p.require_role(Role::Admin).is_err());
    }

    #[test]
    fn rejects_expired_and_future_tokens() {
        let s = signer(SEED_A, "k1");
        let v = TokenVerifier::new([s.public_key()], aud());
        assert!(v.verify(&token(&s, NOW - 3_600_000, 900), NOW).is_err());
        assert!(v.verify(&token(&s, NOW + 3_600_000, 900), NOW).is_err());
    }

    #[test]
    fn rejects_unknown_kid_and_wrong_key() {
        let a = signer(SEED_A, "k1");
        let b = signer(SEED_B, "k1");
        let v = TokenVerifier::new([a.public_key()], aud());
        assert!(v.verify(&token(&b, NOW, 900), NOW).is_err());
        let c = signer(SEED_B, "k2");
        assert_eq!(
            reason(v.verify(&token(&c, NOW, 900), NOW).unwrap_err()),
            "unknown kid"
        );
    }

    #[test]
    fn rejects_wrong_audience_and_issuer() {
        let s = signer(SEED_A, "k1");
        for other in [
            TokenAudience {
                issuer: "evil".into(),
                audience: "shopnow".into(),
            },
            TokenAudience {
                issuer: aud().issuer,
                audience: "other".into(),
            },
        ] {
            let v = TokenVerifier::new([s.public_key()], other);
            assert!(v.verify(&token(&s, NOW, 900), NOW).is_err());
        }
    }

    #[test]
    fn rejects_alg_none_and_garbage() {
        let s = signer(SEED_A, "k1");
        let v = TokenVerifier::new([s.public_key()], aud());
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        let real = token(&s, NOW, 900);
        let payload = real.split('.').nth(1).unwrap();
        assert_eq!(
            reason(v.verify(&format!("{header}.{payload}."), NOW).unwrap_err()),
            "algorithm not allowed"
        );
        assert!(v.verify("not-a-token", NOW).is_err());
    }

    #[test]
    fn public_key_list_round_trips_and_renders_jwks() {
        let s = signer(SEED_A, "k1");
        let entry = s.public_key().to_list_entry();
        let keys = PublicKey::parse_list(&format!(" {entry} ,")).unwrap();
        assert_eq!(keys.len(), 1);
        let jwks = TokenVerifier::new(keys, aud()).jwks();
        assert_eq!(jwks.keys[0].kty, "OKP");
        assert_eq!(jwks.keys[0].kid, "k1");
        assert!(PublicKey::parse_list("nokid").is_err());
        assert!(PublicKey::parse_list("k:AAAA").is_err());
    }

    #[test]
    fn signing_key_debug_is_redacted() {
        let key = SigningKey::from_seed_b64(&Secret::new(SEED_A.into()), "k1").unwrap();
        assert_eq!(
            format!("{key:?}"),
            r#"SigningKey { kid: "k1", pair: "[redacted]" }"#
        );
    }
}
