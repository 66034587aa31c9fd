//! `allowed_outbound_hosts`: parsing and matching, following Spin's rules.
//!
//! Patterns are `scheme://host[:port]`: `*` for any scheme, host or port; `*.domain` for any
//! subdomain; `self` for the application itself (relative URLs); a port, a `*`, or a range
//! `start..end` (end exclusive); a missing port means the scheme's well-known port. Pure: no I/O.

use anyhow::{Context as _, bail};

/// The suffix of service-chaining hosts (`http://<component-id>.spin.internal`).
pub(crate) const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemePattern {
    Any,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    AnySubdomain(String),
    ToSelf,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Port(u16),
    Range(u16, u16),
}

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowedHost {
    original: String,
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
}

/// A component's parsed `allowed_outbound_hosts` (templates already expanded).
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedHosts {
    hosts: Vec<AllowedHost>,
}

pub(crate) fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    /// Parses one entry. Fails on the forms Spin rejects (no scheme, paths, misplaced `*`).
    pub(crate) fn parse(entry: &str) -> anyhow::Result<Self> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            bail!(
                "{url:?} is not an allowed outbound host: use <scheme>://<host>[:<port>], with '*' wildcards allowed for each"
            );
        };
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match port.split_once('/') {
            Some((port, path)) => {
                if !path.is_empty() {
                    bail!("{url:?} has a path but is not allowed to");
                }
                port
            }
            None => port,
        };
        let scheme_p = if scheme == "*" {
            SchemePattern::Any
        } else if scheme.chars().all(char::is_alphabetic) && !scheme.is_empty() {
            SchemePattern::Exact(scheme.to_owned())
        } else {
            bail!("{url:?}: scheme {scheme:?} contains a non-alphabetic character");
        };
        let host = host.trim().trim_end_matches('/');
        let host_p = if host == "*" {
            HostPattern::Any
        } else if host == "self" || host == "self.alt" {
            HostPattern::ToSelf
        } else if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                bail!("{url:?}: wildcards are allowed only as prefixes");
            }
            HostPattern::AnySubdomain(format!(".{domain}"))
        } else if host.contains('*') || host.contains('/') {
            bail!("{url:?}: wildcards are allowed only as subdomains, and hosts have no paths");
        } else {
            HostPattern::Exact(host.to_ascii_lowercase())
        };
        let port_p = if port.is_empty() {
            PortPattern::Port(well_known_port(scheme).with_context(|| {
                format!(
                    "{url:?}: no port was given and the scheme {scheme:?} has no well-known port"
                )
            })?)
        } else if port == "*" {
            PortPattern::Any
        } else if let Some((start, end)) = port.split_once("..") {
            PortPattern::Range(
                start
                    .parse()
                    .with_context(|| format!("{url:?}: bad port range"))?,
                end.parse()
                    .with_context(|| format!("{url:?}: bad port range"))?,
            )
        } else {
            PortPattern::Port(port.parse().with_context(|| format!("{url:?}: bad port"))?)
        };
        Ok(Self {
            original: entry.to_owned(),
            scheme: scheme_p,
            host: host_p,
            port: port_p,
        })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let scheme_ok = match &self.scheme {
            SchemePattern::Any => true,
            SchemePattern::Exact(s) => s == scheme,
        };
        let host = host.to_ascii_lowercase();
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::AnySubdomain(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::ToSelf => false,
            HostPattern::Exact(h) => *h == host,
        };
        let port_ok = match (&self.port, port.or_else(|| well_known_port(scheme))) {
            (PortPattern::Any, _) => true,
            (_, None) => false,
            (PortPattern::Port(p), Some(port)) => *p == port,
            (PortPattern::Range(a, b), Some(port)) => (*a..*b).contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }
}

impl AllowedHosts {
    /// Parses a component's (already template-expanded) entries.
    pub(crate) fn parse(entries: &[String]) -> anyhow::Result<Self> {
        if entries.len() == 1 && entries.first().map(String::as_str) == Some("insecure:allow-all") {
            bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead");
        }
        let hosts = entries
            .iter()
            .map(|e| AllowedHost::parse(e))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { hosts })
    }

    /// Whether a request to `scheme://host[:port]` is allowed.
    pub(crate) fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.hosts.iter().any(|h| h.allows(scheme, host, port))
    }

    /// The entries as written, for error messages.
    pub(crate) fn describe(&self) -> String {
        let list: Vec<&str> = self.hosts.iter().map(|h| h.original.as_str()).collect();
        format!("{list:?}")
    }
}

/// The component id of a service-chaining host (`<id>.spin.internal[:port]`).
pub(crate) fn service_chaining_target(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (first, rest) = host.split_once('.')?;
    (format!(".{rest}") == SERVICE_CHAINING_SUFFIX).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn exact_host_uses_the_well_known_port() {
        let h = hosts(&["https://api.example.com"]);
        assert!(h.allows("https", "api.example.com", None));
        assert!(h.allows("https", "api.example.com", Some(443)));
        assert!(!h.allows("https", "api.example.com", Some(8443)));
        assert!(!h.allows("http", "api.example.com", None));
        assert!(!h.allows("https", "other.example.com", None));
    }

    #[test]
    fn wildcards_and_ranges() {
        let h = hosts(&["*://*.example.com:*", "postgres://127.0.0.1:5000..6000"]);
        assert!(h.allows("http", "a.example.com", Some(1)));
        assert!(!h.allows("http", "example.com", Some(1)));
        assert!(h.allows("postgres", "127.0.0.1", None));
        assert!(!h.allows("postgres", "127.0.0.1", Some(6000)));
    }

    #[test]
    fn service_chaining() {
        let h = hosts(&["http://*.spin.internal", "http://self"]);
        assert!(!h.allows("http", "self", None));
        assert!(h.allows("http", "catalog.spin.internal", None));
        assert_eq!(
            service_chaining_target("catalog.spin.internal:80"),
            Some("catalog")
        );
        assert_eq!(service_chaining_target("catalog.example.com"), None);
    }

    #[test]
    fn rejects_malformed_entries() {
        for bad in [
            "example.com",
            "http://exa*mple.com",
            "http://a.com/path",
            "*",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }
}
