//! `application/x-www-form-urlencoded` decoding (form bodies and query strings) and the
//! percent-encoding of values put into links. Pure: no I/O.

/// Most fields a form or query string may carry; more is a malformed request.
pub const MAX_FIELDS: usize = 64;

/// A form body or query string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(pub &'static str);

/// Decoded name/value pairs in the order they were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Decodes `raw` (`a=1&b=two+words`).
    ///
    /// # Errors
    /// [`FormError`] when a percent escape is broken, the text is not UTF-8, or there are more
    /// than [`MAX_FIELDS`] fields.
    pub fn parse(raw: &[u8]) -> Result<Self, FormError> {
        let text = std::str::from_utf8(raw).map_err(|_| FormError("not UTF-8"))?;
        let mut fields = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            if fields.len() == MAX_FIELDS {
                return Err(FormError("too many fields"));
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            fields.push((decode(name)?, decode(value)?));
        }
        Ok(Self(fields))
    }

    /// The first value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).map_or("", str::trim)
    }

    /// The trimmed value of `name`, `None` when absent or empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

fn decode(part: &str) -> Result<String, FormError> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex_value);
                let low = bytes.get(i + 2).copied().and_then(hex_value);
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(FormError("broken percent escape"));
                };
                out.push(high << 4 | low);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError("not UTF-8"))
}

/// Percent-encodes `value` for a query string or path segment (everything but unreserved
/// characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A query string from `pairs`, skipping empty values (`a=1&b=x%20y`).
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let form = Form::parse(b"q=oak+lamp&name=%C3%A9t%C3%A9&empty=&flag").unwrap();
        assert_eq!(form.get("q"), Some("oak lamp"));
        assert_eq!(form.get("name"), Some("été"));
        assert_eq!(form.get("empty"), Some(""));
        assert_eq!(form.get("flag"), Some(""));
        assert_eq!(form.non_empty("empty"), None);
        assert_eq!(form.get("missing"), None);
    }

    #[test]
    fn refuses_broken_escapes_bad_utf8_and_too_many_fields() {
        assert!(Form::parse(b"a=%4").is_err());
        assert!(Form::parse(b"a=%zz").is_err());
        assert!(Form::parse(b"a=%ff").is_err());
        assert!(Form::parse(&[b'a', b'=', 0xff]).is_err());
        let many = vec!["x=1"; MAX_FIELDS + 1].join("&");
        assert!(Form::parse(many.as_bytes()).is_err());
        let enough = vec!["x=1"; MAX_FIELDS].join("&");
        assert!(Form::parse(enough.as_bytes()).is_ok());
    }

    #[test]
    fn encoding_round_trips() {
        let value = "oak & brass/été?=+";
        let encoded = encode(value);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"%-_.~".contains(&b))
        );
        let form = Form::parse(format!("v={encoded}").as_bytes()).unwrap();
        assert_eq!(form.get("v"), Some(value));
        assert_eq!(
            query(&[("q", "a b"), ("skip", ""), ("n", "1")]),
            "q=a%20b&n=1"
        );
    }
}
