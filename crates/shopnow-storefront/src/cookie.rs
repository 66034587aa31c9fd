//! The storefront's two cookies and how they are written. The browser holds only opaque random
//! values: the session cookie names a server-side session, the CSRF cookie binds the forms of a
//! visitor who has not signed in. Pure: no I/O.
//!
//! Over HTTPS both are `__Host-` cookies (`Secure`, `Path=/`, no `Domain`: only this origin can
//! set or read them); on plain-HTTP localhost, where a browser drops `Secure` cookies from some
//! addresses, they lose the prefix and `Secure` and keep everything else.

/// Whether cookies are written for HTTPS (`__Host-`, `Secure`) or for a local plain-HTTP run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieMode {
    /// `Secure` unless the request's host is a loopback name (`localhost`, `127.0.0.1`, `[::1]`).
    Auto,
    /// Always `__Host-` and `Secure` (production).
    Secure,
}

impl CookieMode {
    /// Parses the `cookie_mode` variable: `auto` or `secure`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "auto" | "" => Some(Self::Auto),
            "secure" => Some(Self::Secure),
            _ => None,
        }
    }
}

/// The cookie names and attributes for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookies {
    secure: bool,
}

/// Session cookie name (the `__Host-` prefix is added over HTTPS).
const SESSION: &str = "shopnow_session";
/// CSRF cookie name for visitors who have not signed in.
const CSRF: &str = "shopnow_csrf";

fn is_loopback(host: &str) -> bool {
    let name = if host.starts_with('[') {
        host.split_once(']').map_or(host, |(name, _)| name)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1"
    )
}

impl Cookies {
    /// The cookies for a request to `host` (its `Host` header) under `mode`.
    pub fn for_host(mode: CookieMode, host: Option<&str>) -> Self {
        let secure = match mode {
            CookieMode::Secure => true,
            CookieMode::Auto => !host.is_some_and(is_loopback),
        };
        Self { secure }
    }

    /// Whether the cookies are `Secure`.
    pub fn secure(self) -> bool {
        self.secure
    }

    fn name(self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    /// The session cookie's value in a `Cookie` header.
    pub fn session(self, header: Option<&str>) -> Option<String> {
        read(header, &self.name(SESSION))
    }

    /// The CSRF cookie's value in a `Cookie` header.
    pub fn csrf(self, header: Option<&str>) -> Option<String> {
        read(header, &self.name(CSRF))
    }

    fn write(self, base: &str, value: &str, max_age_secs: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}",
            self.name(base)
        )
    }

    /// `Set-Cookie` for a new session.
    pub fn set_session(self, value: &str, max_age_secs: u64) -> String {
        self.write(SESSION, value, max_age_secs)
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear_session(self) -> String {
        self.write(SESSION, "", 0)
    }

    /// `Set-Cookie` for a visitor's CSRF binding.
    pub fn set_csrf(self, value: &str, max_age_secs: u64) -> String {
        self.write(CSRF, value, max_age_secs)
    }
}

/// The value of cookie `name` in a `Cookie` header, if it holds only token characters (anything
/// else is not one of ours).
fn read(header: Option<&str>, name: &str) -> Option<String> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_get_plain_cookies_and_others_host_prefixed_secure_ones() {
        for host in [
            "127.0.0.1:3000",
            "localhost",
            "LOCALHOST:8080",
            "[::1]:3000",
        ] {
            let cookies = Cookies::for_host(CookieMode::Auto, Some(host));
            assert!(!cookies.secure(), "{host}");
            assert!(
                cookies
                    .set_session("abc", 60)
                    .starts_with("shopnow_session=abc;")
            );
        }
        let public = Cookies::for_host(CookieMode::Auto, Some("shop.example.com"));
        let line = public.set_session("abc", 60);
        assert!(
            line.starts_with("__Host-shopnow_session=abc; Path=/;"),
            "{line}"
        );
        assert!(
            line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.ends_with("Secure")
        );
        assert!(Cookies::for_host(CookieMode::Secure, Some("127.0.0.1")).secure());
        assert!(Cookies::for_host(CookieMode::Auto, None).secure());
        assert!(
            CookieMode::parse("secure") == Some(CookieMode::Secure)
                && CookieMode::parse("x").is_none()
        );
    }

    #[test]
    fn reads_only_its_own_well_formed_cookie() {
        let cookies = Cookies::for_host(CookieMode::Auto, Some("localhost"));
        let header = Some("a=1; shopnow_session=Zm9v_-1; shopnow_csrf=bad value");
        assert_eq!(cookies.session(header).as_deref(), Some("Zm9v_-1"));
        assert_eq!(cookies.csrf(header), None);
        assert_eq!(cookies.session(Some("xshopnow_session=1")), None);
        let secure = Cookies::for_host(CookieMode::Secure, None);
        assert_eq!(
            secure.session(header),
            None,
            "a prefix-less cookie is not the secure one"
        );
        assert!(cookies.clear_session().contains("Max-Age=0"));
    }
}
