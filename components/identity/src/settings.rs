//! Identity's configuration, read once per request from Spin variables (see `spin.toml` and
//! `docs/security.md`). Invalid key material is a 500 with the cause logged, never a guess.

use std::cell::OnceCell;

use shopnow_identity::app::register::AdminEmails;
use shopnow_kernel::auth::{PublicKey, SigningKey, TokenAudience, TokenSigner, TokenVerifier};
use shopnow_kernel::{ApiError, Secret};
use shopnow_spin::Config;

/// Label of the component's SQLite database and key-value store.
pub const STORE_LABEL: &str = "identity";

/// The token keys, read from variables eagerly but built on first use: every request is a fresh
/// instance, and deriving the Ed25519 key pair and parsing the previous keys cost every request,
/// registration and anonymous JWKS reads included, as catalog's and orders' verifiers did before
/// they became lazy (`shopnow_spin::auth::LazyVerifier`). A malformed key fails the first
/// request that needs it, with the cause logged.
pub struct Keys {
    seed: Secret<String>,
    kid: String,
    previous: String,
    audience: TokenAudience,
    built: OnceCell<(TokenSigner, TokenVerifier)>,
}

impl Keys {
    fn built(&self) -> Result<&(TokenSigner, TokenVerifier), ApiError> {
        if let Some(built) = self.built.get() {
            return Ok(built);
        }
        let key =
            SigningKey::from_seed_b64(&self.seed, &self.kid).map_err(ApiError::internal_from)?;
        let previous = PublicKey::parse_list(&self.previous).map_err(ApiError::internal_from)?;
        let current = key.public_key();
        let current_kid = current.kid().to_owned();
        // A previous key never shadows the current one, even if an operator reuses a kid.
        let verifier = TokenVerifier::new(
            previous
                .into_iter()
                .filter(|k| k.kid() != current_kid)
                .chain(std::iter::once(current)),
            self.audience.clone(),
        );
        let signer = TokenSigner::new(key, self.audience.clone());
        Ok(self.built.get_or_init(|| (signer, verifier)))
    }

    /// Signs new access tokens with the current key.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when the key material is malformed.
    pub fn signer(&self) -> Result<&TokenSigner, ApiError> {
        self.built().map(|(signer, _)| signer)
    }

    /// Verifies access tokens: the current key plus still-valid previous keys.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when the key material is malformed.
    pub fn verifier(&self) -> Result<&TokenVerifier, ApiError> {
        self.built().map(|(_, verifier)| verifier)
    }
}

/// Resolved settings.
pub struct Settings {
    /// The signing key and the verifier, built on first use.
    pub keys: Keys,
    /// Addresses that become admin on registration.
    pub admins: AdminEmails,
    /// PostgreSQL URL, or empty for the embedded SQLite database.
    pub database_url: String,
    /// Sign-in attempts per client address per window (`client_sign_in_limit`).
    pub client_sign_in_limit: u32,
    /// Registrations per client address per window (`client_register_limit`).
    pub client_register_limit: u32,
    /// X-Forwarded-For hops appended by trusted proxies (`trusted_proxies`).
    pub trusted_proxies: usize,
}

fn count<T: std::str::FromStr>(config: Config, name: &str, default: &str) -> Result<T, ApiError> {
    config
        .get_or(name, default)
        .trim()
        .parse()
        .map_err(|_| ApiError::internal(format!("variable `{name}` is not a whole number")))
}

impl Settings {
    /// Reads every variable.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when a variable is missing or its key material is malformed.
    pub fn from_variables() -> Result<Self, ApiError> {
        let config = Config;
        let audience = shopnow_spin::auth::token_audience(config)?;
        let seed = config.secret("jwt_signing_key")?;
        let kid = config.required("jwt_key_id")?.trim().to_owned();
        let previous = config.checked(
            "jwt_previous_public_keys",
            config.get_or("jwt_previous_public_keys", ""),
        )?;
        Ok(Self {
            keys: Keys {
                seed,
                kid,
                previous,
                audience,
                built: OnceCell::new(),
            },
            admins: AdminEmails::parse(&config.get_or("admin_emails", "")),
            database_url: config.get_or("database_url", ""),
            client_sign_in_limit: count(config, "client_sign_in_limit", "30")?,
            client_register_limit: count(config, "client_register_limit", "10")?,
            trusted_proxies: count(config, "trusted_proxies", "0")?,
        })
    }
}
