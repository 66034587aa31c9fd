//! Service credentials for internal (east–west) routes: a shared secret in the
//! `Authorization: Service <token>` header, compared in constant time. Pure.
//!
//! Chosen over a service JWT because internal routes are reached only through Spin service
//! chaining or the cluster network and a rotated shared secret is simpler to operate; a
//! service JWT would need a second signer. Rotation: the variable holds up to two
//! comma-separated secrets (new,old) while callers roll over.

use subtle::ConstantTimeEq as _;

use crate::http::HttpRequest;
use crate::{ApiError, Secret};

/// Header scheme for service credentials.
pub const SERVICE_SCHEME: &str = "Service";

/// The accepted service credentials (from the `service_token` variable).
#[derive(Debug, Clone)]
pub struct ServiceCredentials(Vec<Secret<String>>);

impl ServiceCredentials {
    /// Parses a comma-separated list; empty entries are ignored. An empty list accepts nothing.
    pub fn parse(list: &Secret<String>) -> Self {
        Self(
            list.expose()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Secret::new(s.to_owned()))
                .collect(),
        )
    }

    /// Succeeds if `request` carries one of the accepted credentials.
    ///
    /// # Errors
    /// [`ApiError::InvalidServiceCredential`] otherwise (also when none is configured).
    pub fn require(&self, request: &HttpRequest) -> Result<(), ApiError> {
        let presented = request
            .header("authorization")
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(SERVICE_SCHEME))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::InvalidServiceCredential)?;
        let mut ok = subtle::Choice::from(0);
        for accepted in &self.0 {
            ok |= accepted.expose().as_bytes().ct_eq(presented.as_bytes());
        }
        if bool::from(ok) {
            Ok(())
        } else {
            Err(ApiError::InvalidServiceCredential)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RequestId;
    use crate::http::Method;

    fn req(auth: &str) -> HttpRequest {
        HttpRequest {
            method: Method::Post,
            path: "/internal".into(),
            query: String::new(),
            headers: vec![("authorization".into(), auth.into())],
            body: Vec::new(),
            request_id: RequestId::from_header_or(None, || "r".into()),
        }
    }

    #[test]
    fn accepts_current_and_previous_secret_only() {
        let creds = ServiceCredentials::parse(&Secret::new("new-secret, old-secret".into()));
        assert!(creds.require(&req("Service new-secret")).is_ok());
        assert!(creds.require(&req("service old-secret")).is_ok());
        assert!(creds.require(&req("Service wrong")).is_err());
        assert!(creds.require(&req("Bearer new-secret")).is_err());
    }

    #[test]
    fn empty_configuration_accepts_nothing() {
        let creds = ServiceCredentials::parse(&Secret::new(String::new()));
        assert!(creds.require(&req("Service ")).is_err());
    }
}
