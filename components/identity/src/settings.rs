//! Identity's configuration, read once per request from Spin variables (see `spin.toml` and
//! `docs/security.md`). Invalid key material is a 500 with the cause logged, never a guess.

use shopnow_identity::app::register::AdminEmails;
use shopnow_kernel::ApiError;
use shopnow_kernel::auth::{PublicKey, SigningKey, TokenSigner, TokenVerifier};
use shopnow_spin::Config;

/// Label of the component's SQLite database and key-value store.
pub const STORE_LABEL: &str = "identity";

/// Resolved settings.
pub struct Settings {
    /// Signs new access tokens with the current key.
    pub signer: TokenSigner,
    /// Verifies access tokens: the current key plus still-valid previous keys.
    pub verifier: TokenVerifier,
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
        let key = SigningKey::from_seed_b64(
            &config.secret("jwt_signing_key")?,
            config.required("jwt_key_id")?.trim(),
        )
        .map_err(ApiError::internal_from)?;
        let previous = config.checked(
            "jwt_previous_public_keys",
            config.get_or("jwt_previous_public_keys", ""),
        )?;
        let previous = PublicKey::parse_list(&previous).map_err(ApiError::internal_from)?;
        let current = key.public_key();
        let current_kid = current.kid().to_owned();
        // A previous key never shadows the current one, even if an operator reuses a kid.
        let verifier = TokenVerifier::new(
            previous
                .into_iter()
                .filter(|k| k.kid() != current_kid)
                .chain(std::iter::once(current)),
            audience.clone(),
        );
        Ok(Self {
            signer: TokenSigner::new(key, audience),
            verifier,
            admins: AdminEmails::parse(&config.get_or("admin_emails", "")),
            database_url: config.get_or("database_url", ""),
            client_sign_in_limit: count(config, "client_sign_in_limit", "30")?,
            client_register_limit: count(config, "client_register_limit", "10")?,
            trusted_proxies: count(config, "trusted_proxies", "0")?,
        })
    }
}
