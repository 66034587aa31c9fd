//! HTTP trigger routing as Spin does it, and the `spin-*` request headers derived from a match.
//!
//! Routes are exact (`/cart`), with single-segment parameters (`/users/:id`) and/or a trailing
//! wildcard (`/cart/...`). The most specific match wins: segment by segment, an exact segment beats
//! a parameter, which beats the wildcard; an exact route beats a wildcard over the same prefix.
//! Private routes are not in the router. Pure: no I/O.

use std::cmp::Ordering;
use std::net::SocketAddr;

#[derive(Debug, Clone)]
enum Segment {
    Exact(String),
    Param(String),
}

#[derive(Debug, Clone)]
struct Route {
    component: String,
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

/// The router built from the manifest's public `[[trigger.http]]` routes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Router {
    routes: Vec<Route>,
}

/// The result of routing one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteMatch {
    /// The component that handles the request.
    pub(crate) component: String,
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub(crate) raw_route: String,
    /// The route with the (always `/`) base applied (`spin-matched-route`).
    pub(crate) based_route: String,
    /// The part of the path the trailing wildcard matched (`spin-path-info`).
    pub(crate) path_info: String,
    /// Named `:param` captures (`spin-path-match-<name>`).
    pub(crate) params: Vec<(String, String)>,
}

/// Spin's `sanitize_with_base("/", route)`: absolute, one trailing slash stripped.
fn based(raw: &str) -> String {
    let abs = if raw.starts_with('/') {
        raw.to_owned()
    } else {
        format!("/{raw}")
    };
    abs.strip_suffix('/').map(str::to_owned).unwrap_or(abs)
}

impl Router {
    /// Builds the router; returns it with warnings for duplicate routes (the later one wins, as
    /// in Spin).
    pub(crate) fn build<'a>(
        routes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (Self, Vec<String>) {
        let mut out: Vec<Route> = Vec::new();
        let mut warnings = Vec::new();
        for (component, raw) in routes {
            let based = based(raw);
            let (prefix, wildcard) = match based
                .strip_suffix("/...")
                .or_else(|| based.strip_suffix("/*"))
            {
                Some(p) => (p.to_owned(), true),
                None if based == "/..." || based == "/*" => (String::new(), true),
                None => (based.clone(), false),
            };
            let segments = prefix
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| match s.strip_prefix(':') {
                    Some(name) => Segment::Param(name.to_owned()),
                    None => Segment::Exact(s.to_owned()),
                })
                .collect();
            if let Some(pos) = out.iter().position(|r| r.raw == raw) {
                let old = out.remove(pos);
                warnings.push(format!(
                    "duplicate route {raw:?}: component `{component}` replaces `{}`",
                    old.component
                ));
            }
            out.push(Route {
                component: component.to_owned(),
                raw: raw.to_owned(),
                segments,
                wildcard,
            });
        }
        (Self { routes: out }, warnings)
    }

    /// `(route display, component)` pairs, in manifest order.
    pub(crate) fn describe(&self) -> Vec<(String, String)> {
        self.routes
            .iter()
            .map(|r| {
                let b = based(&r.raw);
                let shown = if r.wildcard {
                    format!(
                        "{} (wildcard)",
                        b.strip_suffix("/...")
                            .or_else(|| b.strip_suffix("/*"))
                            .unwrap_or(&b)
                    )
                } else if b.is_empty() {
                    "/".to_owned()
                } else {
                    b
                };
                (shown, r.component.clone())
            })
            .collect()
    }

    /// The best route for `path` (no query string), or `None` (404).
    pub(crate) fn route(&self, path: &str) -> Option<RouteMatch> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<(Vec<u8>, &Route)> = None;
        for route in &self.routes {
            let Some(rank) = Self::rank(route, &parts) else {
                continue;
            };
            let better = match &best {
                None => true,
                Some((best_rank, _)) => rank.cmp(best_rank) == Ordering::Greater,
            };
            if better {
                best = Some((rank, route));
            }
        }
        let (_, route) = best?;
        let mut params = Vec::new();
        for (seg, part) in route.segments.iter().zip(&parts) {
            if let Segment::Param(name) = seg {
                params.push((name.clone(), (*part).to_owned()));
            }
        }
        let path_info = if route.wildcard {
            let rest: Vec<&str> = parts.iter().skip(route.segments.len()).copied().collect();
            let rest = rest.join("/");
            match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_owned(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            }
        } else {
            String::new()
        };
        Some(RouteMatch {
            component: route.component.clone(),
            raw_route: route.raw.clone(),
            based_route: based(&route.raw),
            path_info,
            params,
        })
    }

    /// A specificity key, or `None` when `route` doesn't match: per segment 3 (exact) or 2
    /// (parameter), then 4 for the end of an exact route or 1 for a wildcard.
    fn rank(route: &Route, parts: &[&str]) -> Option<Vec<u8>> {
        if parts.len() < route.segments.len()
            || (!route.wildcard && parts.len() != route.segments.len())
        {
            return None;
        }
        let mut rank = Vec::with_capacity(route.segments.len() + 1);
        for (seg, part) in route.segments.iter().zip(parts) {
            match seg {
                Segment::Exact(s) if s == part => rank.push(3),
                Segment::Exact(_) => return None,
                Segment::Param(_) => rank.push(2),
            }
        }
        rank.push(if route.wildcard { 1 } else { 4 });
        Some(rank)
    }
}

impl RouteMatch {
    /// The match Spin synthesises for service chaining: the whole path is the wildcard.
    pub(crate) fn synthetic(component: &str, path: &str) -> Self {
        Self {
            component: component.to_owned(),
            raw_route: "/...".to_owned(),
            based_route: "/...".to_owned(),
            path_info: path.to_owned(),
            params: Vec::new(),
        }
    }

    /// The `spin-*` headers Spin adds to the request the component sees.
    pub(crate) fn spin_headers(
        &self,
        scheme: &str,
        host: &str,
        path_and_query: &str,
        client_addr: SocketAddr,
    ) -> Vec<(String, String)> {
        let mut h = vec![
            ("spin-path-info".to_owned(), self.path_info.clone()),
            (
                "spin-full-url".to_owned(),
                format!("{scheme}://{host}{path_and_query}"),
            ),
            ("spin-matched-route".to_owned(), self.based_route.clone()),
            ("spin-base-path".to_owned(), "/".to_owned()),
            (
                "spin-raw-component-route".to_owned(),
                self.raw_route.clone(),
            ),
            (
                "spin-component-route".to_owned(),
                self.raw_route
                    .strip_suffix("/...")
                    .unwrap_or(&self.raw_route)
                    .to_owned(),
            ),
            ("spin-client-addr".to_owned(), client_addr.to_string()),
        ];
        for (name, value) in &self.params {
            h.push((
                format!("spin-path-match-{}", name.to_ascii_lowercase()),
                value.clone(),
            ));
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        Router::build(routes.iter().copied()).0
    }

    #[test]
    fn exact_beats_wildcard_and_longest_wildcard_wins() {
        let r = router(&[
            ("all", "/..."),
            ("one", "/one"),
            ("one_wild", "/one/..."),
            ("two_wild", "/one/two/..."),
        ]);
        assert_eq!(r.route("/one").unwrap().component, "one");
        assert_eq!(r.route("/one/x").unwrap().component, "one_wild");
        assert_eq!(r.route("/one/two/three").unwrap().component, "two_wild");
        assert_eq!(r.route("/other").unwrap().component, "all");
        assert_eq!(r.route("/").unwrap().component, "all");
    }

    #[test]
    fn no_match_is_none() {
        let r = router(&[("one", "/one"), ("w", "/w/...")]);
        assert!(r.route("/two").is_none());
        assert!(r.route("/one/two").is_none());
    }

    #[test]
    fn path_info_follows_spin_trailing_slash_rules() {
        let r = router(&[("foo", "/foo/...")]);
        assert_eq!(r.route("/foo").unwrap().path_info, "");
        assert_eq!(r.route("/foo/").unwrap().path_info, "/");
        assert_eq!(r.route("/foo/bar").unwrap().path_info, "/bar");
        assert_eq!(r.route("/foo/bar/").unwrap().path_info, "/bar/");
    }

    #[test]
    fn params_are_captured_and_rank_between_exact_and_wildcard() {
        let r = router(&[
            ("w", "/users/..."),
            ("p", "/users/:id"),
            ("me", "/users/me"),
        ]);
        let m = r.route("/users/42").unwrap();
        assert_eq!(m.component, "p");
        assert_eq!(m.params, vec![("id".to_owned(), "42".to_owned())]);
        assert_eq!(r.route("/users/me").unwrap().component, "me");
        assert_eq!(r.route("/users/42/x").unwrap().component, "w");
    }

    #[test]
    fn headers_match_spin() {
        let r = router(&[("foo", "/foo/...")]);
        let m = r.route("/foo/bar").unwrap();
        let addr: SocketAddr = "127.0.0.1:8777".parse().unwrap();
        let h = m.spin_headers("https", "fermyon.dev", "/foo/bar?k=v", addr);
        let get = |k: &str| h.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(get("spin-full-url"), "https://fermyon.dev/foo/bar?k=v");
        assert_eq!(get("spin-path-info"), "/bar");
        assert_eq!(get("spin-matched-route"), "/foo/...");
        assert_eq!(get("spin-raw-component-route"), "/foo/...");
        assert_eq!(get("spin-component-route"), "/foo");
        assert_eq!(get("spin-base-path"), "/");
        assert_eq!(get("spin-client-addr"), "127.0.0.1:8777");
    }
}
