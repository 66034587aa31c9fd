//! Strict parsing for the contract's generated wire types, which cannot carry
//! `#[serde(deny_unknown_fields)]`: after the kernel's `parse_body` has reported type errors
//! and missing fields, every member of the body that the parsed value does not have is
//! reported as unknown, at any depth (`items[1].price`), so nothing is silently ignored.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shopnow_kernel::http::HttpRequest;
use shopnow_kernel::json::parse_body;
use shopnow_kernel::{ApiError, FieldErrors};

/// Parses `request`'s JSON body as `T`, refusing unknown members anywhere.
///
/// # Errors
/// As `parse_body` (415, 413, 400), and 422 listing every bad or unknown field.
pub fn parse_strict<T: DeserializeOwned + Serialize>(
    request: &HttpRequest,
    limit: usize,
) -> Result<(T, FieldErrors), ApiError> {
    let (value, mut errors) = parse_body::<T>(request, limit)?;
    // parse_body accepted the body as a JSON object, so this parse succeeds too.
    let raw: Value = serde_json::from_slice(&request.body).map_err(ApiError::internal_from)?;
    let known = serde_json::to_value(&value).map_err(ApiError::internal_from)?;
    unknown(&raw, &known, "", &mut errors);
    Ok((value, errors))
}

fn unknown(raw: &Value, known: &Value, path: &str, errors: &mut FieldErrors) {
    match (raw, known) {
        (Value::Object(raw), Value::Object(known)) => {
            for (key, value) in raw {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match known.get(key) {
                    Some(inner) => unknown(value, inner, &field, errors),
                    None => errors.add(field, "is not a known field"),
                }
            }
        }
        (Value::Array(raw), Value::Array(known)) => {
            for (i, (value, inner)) in raw.iter().zip(known).enumerate() {
                unknown(value, inner, &format!("{path}[{i}]"), errors);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_unknown_members_at_every_depth() {
        let raw = json!({"order_id": "o", "extra": 1, "items": [{"product_id": "p", "quantity": 1, "price": 5}]});
        let known = json!({"order_id": "o", "items": [{"product_id": "p", "quantity": 1}]});
        let mut errors = FieldErrors::new();
        unknown(&raw, &known, "", &mut errors);
        let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["extra", "items[0].price"]);
    }
}
