//! The benchmark target: an `http://host:port` URL that must resolve to loopback addresses only.
//! This workplace forbids load on any other address, so the check is not optional and has no
//! override. Depends on nothing else in the generator.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context as _, bail};
use http::Uri;

/// A resolved loopback target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The URL as given, for reports.
    pub(crate) url: String,
    /// What goes in the `host` header (`127.0.0.1:3000`).
    pub(crate) authority: String,
    /// The address connections go to.
    pub(crate) addr: SocketAddr,
}

impl Target {
    /// Parses and resolves `url`.
    ///
    /// Fails when the URL is not `http://host[:port]` with an empty path, when the host does not
    /// resolve, or when any address it resolves to is not a loopback address (127.0.0.0/8, ::1).
    pub(crate) async fn resolve(url: &str) -> anyhow::Result<Self> {
        let uri: Uri = url
            .parse()
            .with_context(|| format!("target {url:?} is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            bail!("target {url:?}: only http:// is supported (loopback, no TLS)");
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            bail!("target {url:?}: give only scheme, host and port; paths go in --path or the mix");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("target {url:?} has no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(80);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .with_context(|| format!("cannot resolve target host {host:?}"))?
            .collect();
        let Some(first) = addrs.first().copied() else {
            bail!("target host {host:?} resolves to no address");
        };
        if let Some(bad) = addrs.iter().find(|a| !is_loopback(a.ip())) {
            bail!(
                "refusing target {url:?}: it resolves to {bad}, which is not a loopback address \
                 (only 127.0.0.0/8 and ::1 may be load-tested here)"
            );
        }
        Ok(Self {
            url: url.to_owned(),
            authority: authority.as_str().to_owned(),
            addr: first,
        })
    }
}

/// Loopback, including IPv4 loopback written as an IPv4-mapped IPv6 address.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn resolve(url: &str) -> anyhow::Result<Target> {
        Target::resolve(url).await
    }

    #[tokio::test]
    async fn loopback_addresses_are_accepted() {
        for url in [
            "http://127.0.0.1:3000",
            "http://127.1.2.3:80/",
            "http://[::1]:8080",
        ] {
            let t = resolve(url).await.unwrap();
            assert!(t.addr.ip().is_loopback(), "{url}");
        }
        assert_eq!(
            resolve("http://127.0.0.1:3000").await.unwrap().authority,
            "127.0.0.1:3000"
        );
    }

    #[tokio::test]
    async fn non_loopback_addresses_are_refused() {
        for url in [
            "http://10.0.0.1:80",
            "http://192.168.1.1",
            "http://8.8.8.8:53",
            "http://[2001:db8::1]:80",
            "http://0.0.0.0:3000",
        ] {
            let err = resolve(url).await.unwrap_err().to_string();
            assert!(err.contains("not a loopback"), "{url}: {err}");
        }
    }

    #[tokio::test]
    async fn only_plain_http_origins_are_accepted() {
        assert!(resolve("https://127.0.0.1:3000").await.is_err());
        assert!(resolve("http://127.0.0.1:3000/hello").await.is_err());
        assert!(resolve("127.0.0.1:3000").await.is_err());
    }

    #[test]
    fn mapped_ipv4_loopback_counts_as_loopback() {
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("::ffff:10.0.0.1".parse().unwrap()));
    }
}
