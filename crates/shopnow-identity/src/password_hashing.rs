//! `Argon2idHasher`: argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1) producing
//! PHC strings. We format and parse the PHC string ourselves over argon2's raw API, so the
//! parameters a stored hash may ask for are bounded (a tampered row cannot make us allocate
//! gigabytes). Pure Rust; compiles to wasm32-wasip2.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use shopnow_kernel::Secret;
use subtle::ConstantTimeEq as _;

use crate::domain::user::PasswordHashText;
use crate::ports::{HashError, PasswordHasher};

/// Memory cost in KiB.
pub const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Parallelism.
pub const P_COST: u32 = 1;
/// Output length in bytes.
pub const OUTPUT_LEN: usize = 32;

/// A well-formed hash that no password matches (its output is all zeroes). Sign-in verifies
/// against it when the email is unknown, so both failures cost the same time.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2hvcG5vdy1kdW1teS1zYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// An unusable hash written on erasure: it never parses, so nothing matches.
pub const UNUSABLE_HASH: &str = "!erased";

/// argon2id with fixed, documented parameters.
#[derive(Debug, Clone, Copy)]
pub struct Argon2idHasher {
    m_cost_kib: u32,
    t_cost: u32,
}

impl Default for Argon2idHasher {
    fn default() -> Self {
        Self {
            m_cost_kib: M_COST_KIB,
            t_cost: T_COST,
        }
    }
}

impl Argon2idHasher {
    /// A cheaper hasher for tests only (same code path, smaller costs).
    pub fn with_costs(m_cost_kib: u32, t_cost: u32) -> Self {
        Self { m_cost_kib, t_cost }
    }

    fn compute(
        m: u32,
        t: u32,
        p: u32,
        password: &[u8],
        salt: &[u8],
    ) -> Result<[u8; OUTPUT_LEN], HashError> {
        let params =
            Params::new(m, t, p, Some(OUTPUT_LEN)).map_err(|e| HashError(e.to_string()))?;
        let mut out = [0u8; OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(password, salt, &mut out)
            .map_err(|e| HashError(e.to_string()))?;
        Ok(out)
    }
}

struct Phc {
    m: u32,
    t: u32,
    p: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse_phc(text: &str) -> Option<Phc> {
    let mut parts = text.split('$');
    let (empty, alg, version, params, salt, hash) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if !empty.is_empty() || alg != "argon2id" || version != "v=19" || parts.next().is_some() {
        return None;
    }
    let (mut m, mut t, mut p) = (None, None, None);
    for kv in params.split(',') {
        let (k, v) = kv.split_once('=')?;
        let v: u32 = v.parse().ok()?;
        match k {
            "m" => m = Some(v),
            "t" => t = Some(v),
            "p" => p = Some(v),
            _ => return None,
        }
    }
    let (m, t, p) = (m?, t?, p?);
    // Bounds: never let stored data ask for more than 64 MiB, 10 passes or 4 lanes.
    if !(8..=65_536).contains(&m) || !(1..=10).contains(&t) || !(1..=4).contains(&p) {
        return None;
    }
    let salt = STANDARD_NO_PAD.decode(salt).ok()?;
    let hash = STANDARD_NO_PAD.decode(hash).ok()?;
    (hash.len() == OUTPUT_LEN && (8..=64).contains(&salt.len())).then_some(Phc {
        m,
        t,
        p,
        salt,
        hash,
    })
}

impl PasswordHasher for Argon2idHasher {
    fn hash(
        &self,
        password: &Secret<String>,
        salt: &[u8; 16],
    ) -> Result<PasswordHashText, HashError> {
        let out = Self::compute(
            self.m_cost_kib,
            self.t_cost,
            P_COST,
            password.expose().as_bytes(),
            salt,
        )?;
        Ok(PasswordHashText(format!(
            "$argon2id$v=19$m={},t={},p={P_COST}${}${}",
            self.m_cost_kib,
            self.t_cost,
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out)
        )))
    }

    fn verify(&self, candidate: &Secret<String>, stored: &PasswordHashText) -> bool {
        let phc = parse_phc(&stored.0).or_else(|| parse_phc(DUMMY_HASH));
        let Some(phc) = phc else {
            return false;
        };
        let parsed_stored = parse_phc(&stored.0).is_some();
        match Self::compute(
            phc.m,
            phc.t,
            phc.p,
            candidate.expose().as_bytes(),
            &phc.salt,
        ) {
            Ok(out) => parsed_stored && bool::from(out.as_slice().ct_eq(&phc.hash)),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    #[test]
    fn production_parameters_round_trip() {
        let hasher = Argon2idHasher::default();
        let hash = hasher
            .hash(&secret("correct horse battery"), &[3; 16])
            .unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&secret("correct horse battery"), &hash));
        assert!(!hasher.verify(&secret("correct horse batterz"), &hash));
    }

    #[test]
    fn dummy_and_unusable_hashes_match_nothing() {
        let hasher = Argon2idHasher::with_costs(64, 1);
        assert!(parse_phc(DUMMY_HASH).is_some());
        assert!(!hasher.verify(&secret(""), &PasswordHashText(DUMMY_HASH.into())));
        assert!(!hasher.verify(&secret("x"), &PasswordHashText(UNUSABLE_HASH.into())));
    }

    #[test]
    fn excessive_stored_parameters_are_refused() {
        assert!(parse_phc("$argon2id$v=19$m=4000000,t=2,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_none());
        assert!(
            parse_phc(
                "$argon2i$v=19$m=64,t=2,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            )
            .is_none()
        );
    }
}
