//! Host-neutral HTTP request and response types, so routing and handlers need no spin-sdk.

use serde::Serialize;

use crate::{ApiError, RequestId};

/// HTTP methods the services route on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
    /// Anything else.
    Other,
}

impl Method {
    /// The method's name as sent on the wire (`OTHER` for anything else), for log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
            Self::Other => "OTHER",
        }
    }
}

/// Spin's `spin-client-addr` on a request that came by service chaining from another component
/// of the same application (spin 4.0.2 `trigger-http/src/outbound_http.rs`).
pub const CHAINED_PEER: &str = "0.0.0.0:0";

/// An incoming request, already read into memory by the host adapter.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Path without the query string (the full path, e.g. `/v1/users/me`).
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Headers with lower-cased names.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// This request's id.
    pub request_id: RequestId,
}

impl HttpRequest {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The client's IP address, for per-client limits. With `trusted_proxies == 0` it is the
    /// address of Spin's `spin-client-addr` (`ip:port` or `[ipv6]:port`), the peer of the
    /// connection. Behind `n` proxies that each append the address they saw to
    /// `X-Forwarded-For`, it is the `n`th entry from the right: the address the outermost trusted
    /// proxy saw; entries to its left are the client's own claims and never used. A request
    /// with fewer entries than that did not pass every proxy, and falls back to the peer.
    ///
    /// A request another component of the same application sent by service chaining (Spin's
    /// peer [`CHAINED_PEER`], which no network client can have) passed one more trusted hop: the
    /// storefront, which appends the address it saw, so it counts as one more proxy.
    pub fn client_address(&self, trusted_proxies: usize) -> Option<String> {
        let trusted_proxies = if self.header("spin-client-addr") == Some(CHAINED_PEER) {
            trusted_proxies + 1
        } else {
            trusted_proxies
        };
        if trusted_proxies > 0
            && let Some(forwarded) = self.header("x-forwarded-for")
        {
            let hops: Vec<&str> = forwarded
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .collect();
            if let Some(hop) = hops
                .len()
                .checked_sub(trusted_proxies)
                .and_then(|i| hops.get(i))
            {
                return hop
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(|ip| ip.to_string());
            }
        }
        let peer = self.header("spin-client-addr")?;
        peer.parse::<std::net::SocketAddr>()
            .map(|a| a.ip())
            .or_else(|_| peer.parse::<std::net::IpAddr>())
            .ok()
            .map(|ip| ip.to_string())
    }

    /// The bearer token from `Authorization: Bearer …`, if any.
    ///
    /// # Errors
    /// [`ApiError::Unauthenticated`] when the header is missing or not a bearer credential.
    pub fn bearer_token(&self) -> Result<&str, ApiError> {
        let value = self
            .header("authorization")
            .ok_or(ApiError::Unauthenticated)?;
        let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthenticated)?;
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            Ok(token.trim())
        } else {
            Err(ApiError::Unauthenticated)
        }
    }

    /// Non-empty path segments, e.g. `["v1", "users", "me"]`.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }
}

/// The answer of a route that exists but not with this method: 405 with `allow` for the `Allow`
/// header.
///
/// # Errors
/// Always [`ApiError::MethodNotAllowed`].
pub fn not_allowed(allow: &[&'static str]) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allow: allow.to_vec(),
    })
}

/// An outgoing response before the host adapter writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (the entry helper adds `x-request-id`).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A JSON response with `status`.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if `value` cannot be serialised.
    pub fn json(status: u16, value: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value).map_err(ApiError::internal_from)?;
        Ok(Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        })
    }

    /// An empty response (e.g. 204).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Renders `error` as `application/problem+json` for `request`.
    pub fn problem(error: &ApiError, instance: &str, request_id: &RequestId) -> Self {
        let problem = error.to_problem(instance, request_id.as_str());
        // Serialising a struct of strings and numbers cannot fail; keep a literal fallback
        // rather than a panic.
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| {
            br#"{"type":"https://shopnow.dev/problems/internal","title":"Internal error","status":500}"#
                .to_vec()
        });
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/problem+json".to_owned(),
        )];
        headers.extend(error.headers().into_iter().map(|(n, v)| (n.to_owned(), v)));
        Self {
            status: error.status(),
            headers,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: Method::Post,
            path: "/v1/auth/token".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
            request_id: RequestId::from_header_or(None, || "r".into()),
        }
    }

    #[test]
    fn the_client_address_is_the_peer_or_the_trusted_proxys_view() {
        let peer = ("spin-client-addr", "10.0.0.9:51234");
        let xff = ("x-forwarded-for", "1.1.1.1, 203.0.113.5, 10.0.0.2");
        assert_eq!(
            from(&[peer, xff]).client_address(0).as_deref(),
            Some("10.0.0.9")
        );
        assert_eq!(
            from(&[peer, xff]).client_address(1).as_deref(),
            Some("10.0.0.2")
        );
        assert_eq!(
            from(&[peer, xff]).client_address(2).as_deref(),
            Some("203.0.113.5")
        );
        // Fewer hops than proxies: not from behind them all; the peer, never the claim.
        assert_eq!(
            from(&[peer, xff]).client_address(4).as_deref(),
            Some("10.0.0.9")
        );
        assert_eq!(
            from(&[("spin-client-addr", "[::1]:80")])
                .client_address(0)
                .as_deref(),
            Some("::1")
        );
        assert_eq!(
            from(&[peer, ("x-forwarded-for", "nonsense")]).client_address(1),
            None
        );
        assert_eq!(from(&[]).client_address(0), None);
    }

    #[test]
    fn a_chained_request_counts_the_component_that_sent_it_as_a_trusted_proxy() {
        let chained = ("spin-client-addr", CHAINED_PEER);
        // The storefront appended the visitor's address; the client's own claim is ignored.
        let xff = ("x-forwarded-for", "6.6.6.6, 203.0.113.7");
        assert_eq!(
            from(&[chained, xff]).client_address(0).as_deref(),
            Some("203.0.113.7")
        );
        // Behind one ingress the storefront appended the ingress's address after the visitor's.
        let behind = ("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2");
        assert_eq!(
            from(&[chained, behind]).client_address(1).as_deref(),
            Some("203.0.113.7")
        );
        // Without forwarding, all such requests share the chained peer's address.
        assert_eq!(
            from(&[chained]).client_address(0).as_deref(),
            Some("0.0.0.0")
        );
    }

    fn request(auth: Option<&str>) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            path: "/v1/users/me".into(),
            query: String::new(),
            headers: auth
                .map(|a| vec![("authorization".to_owned(), a.to_owned())])
                .unwrap_or_default(),
            body: Vec::new(),
            request_id: RequestId::from_header_or(None, || "r".into()),
        }
    }

    #[test]
    fn bearer_token_is_extracted_case_insensitively() {
        assert_eq!(request(Some("bearer abc")).bearer_token().unwrap(), "abc");
        assert!(request(Some("Basic abc")).bearer_token().is_err());
        assert!(request(None).bearer_token().is_err());
        assert!(request(Some("Bearer ")).bearer_token().is_err());
    }

    #[test]
    fn segments_skip_empty_parts() {
        assert_eq!(request(None).segments(), ["v1", "users", "me"]);
    }

    #[test]
    fn methods_render_as_on_the_wire() {
        let names: Vec<&str> = [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
            Method::Head,
            Method::Options,
            Method::Other,
        ]
        .into_iter()
        .map(Method::as_str)
        .collect();
        assert_eq!(
            names,
            [
                "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER"
            ]
        );
    }
}
