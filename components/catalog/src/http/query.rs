//! Query-string parsing: `application/x-www-form-urlencoded` pairs, percent-decoded, with
//! unknown and repeated parameters refused (a typo like `categroy=` must not silently widen a
//! search).

use shopnow_kernel::ApiError;

/// Longest query string accepted: room for a batch read of 100 ids (`ids=`, 100 × 37 bytes).
const MAX_QUERY_LEN: usize = 4096;

/// Decoded `name=value` pairs.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        detail: detail.into(),
    }
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

impl Query {
    /// Parses `raw`, accepting only the parameter names in `allowed`, each at most once.
    ///
    /// # Errors
    /// 400 `bad-request` for a long query, bad percent-encoding, an unknown or repeated name.
    pub fn parse(raw: &str, allowed: &[&str]) -> Result<Self, ApiError> {
        if raw.len() > MAX_QUERY_LEN {
            return Err(bad("The query string is too long."));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name).ok_or_else(|| bad("The query string is not valid UTF-8."))?;
            let value = decode(value).ok_or_else(|| bad("The query string is not valid UTF-8."))?;
            if !allowed.contains(&name.as_str()) {
                let shown: String = name.chars().take(32).filter(|c| !c.is_control()).collect();
                return Err(bad(format!(
                    "Unknown query parameter `{shown}`; allowed: {}.",
                    allowed.join(", ")
                )));
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(bad(format!("Query parameter `{name}` is repeated.")));
            }
            pairs.push((name, value));
        }
        Ok(Self(pairs))
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` as a non-negative integer, if present.
    ///
    /// # Errors
    /// 400 when it is not one.
    pub fn non_negative(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| bad(format!("`{name}` must be a non-negative integer.")))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let q = Query::parse("q=brass+lamp%21&sort=-price", &["q", "sort"]).unwrap();
        assert_eq!(q.get("q"), Some("brass lamp!"));
        assert_eq!(q.get("sort"), Some("-price"));
    }

    #[test]
    fn refuses_unknown_repeated_and_broken_parameters() {
        assert!(Query::parse("categroy=x", &["category"]).is_err());
        assert!(Query::parse("q=a&q=b", &["q"]).is_err());
        assert!(Query::parse("q=%zz", &["q"]).is_err());
        assert!(Query::parse("q=%ff", &["q"]).is_err());
    }

    #[test]
    fn integers_must_be_non_negative() {
        let q = Query::parse("limit=-1&min_price=5", &["limit", "min_price"]).unwrap();
        assert!(q.non_negative("limit").is_err());
        assert_eq!(q.non_negative("min_price").unwrap(), Some(5));
        assert_eq!(q.non_negative("max_price").unwrap(), None);
    }
}
