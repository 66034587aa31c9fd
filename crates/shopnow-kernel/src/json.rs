//! Strict JSON request bodies: content type (415), size (413), syntax and duplicate keys (400),
//! then unknown fields and type errors (422) — every bad field at once. Pure.
//!
//! A duplicate key at any depth (`{"email":"a@x.io","email":"b@x.io"}`) is refused: parsers
//! disagree on which value wins (serde_json keeps the last, others the first), and a body two
//! hops read differently is a smuggling vector.
//!
//! Wire types are `#[serde(deny_unknown_fields)]` with `Option` fields; their `validate()`
//! turns them into commands and adds "required"/rule errors to the same [`FieldErrors`].

use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::http::HttpRequest;
use crate::{ApiError, FieldErrors};

/// Default body limit for small JSON commands.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

/// Checks the content type and size, parses the body as a JSON object and deserialises `T`
/// from it. Unknown fields and fields of the wrong type are removed and reported in the
/// returned [`FieldErrors`] (so the wire value has `None` there), letting the caller's
/// validation add its own errors and report all of them together.
///
/// # Errors
/// 415 when the content type is not `application/json`, 413 over `limit` bytes, 400
/// (`malformed-body`) for invalid JSON, a duplicate key or a non-object body.
pub fn parse_body<T: DeserializeOwned>(
    request: &HttpRequest,
    limit: usize,
) -> Result<(T, FieldErrors), ApiError> {
    parse_body_keeping(request, limit).map(|(wire, errors, _)| (wire, errors))
}

/// [`parse_body`], also returning the parsed object, so a caller that needs the body as JSON
/// too (checkout's idempotency fingerprint) does not parse it again. When the returned
/// [`FieldErrors`] are empty, the object is the body as sent; otherwise the offending fields are
/// gone from it.
///
/// # Errors
/// As [`parse_body`].
pub fn parse_body_keeping<T: DeserializeOwned>(
    request: &HttpRequest,
    limit: usize,
) -> Result<(T, FieldErrors, Value), ApiError> {
    let is_json = request
        .header("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    parse_json_keeping(&request.body, limit)
}

/// [`parse_body`] without the content-type check.
///
/// # Errors
/// As [`parse_body`], minus 415.
pub fn parse_json<T: DeserializeOwned>(
    body: &[u8],
    limit: usize,
) -> Result<(T, FieldErrors), ApiError> {
    parse_json_keeping(body, limit).map(|(wire, errors, _)| (wire, errors))
}

/// The body is parsed once and never copied; bad fields are found one field at a time, so the
/// cost is linear in the body whatever the number of bad fields.
fn parse_json_keeping<T: DeserializeOwned>(
    body: &[u8],
    limit: usize,
) -> Result<(T, FieldErrors, Value), ApiError> {
    if body.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut value = parse_strict(body).map_err(|e| ApiError::MalformedBody {
        // Positions only: neither serde_json's syntax messages nor ours echo content.
        detail: if e.to_string().starts_with(DUPLICATE_KEY) {
            format!(
                "The body has a duplicate key (line {}, column {}).",
                e.line(),
                e.column()
            )
        } else {
            format!(
                "The body is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            )
        },
    })?;
    if !value.is_object() {
        return Err(ApiError::MalformedBody {
            detail: "The body must be a JSON object.".into(),
        });
    }
    // The common case, a good body: one deserialisation, no probing.
    if let Ok(wire) = serde_path_to_error::deserialize::<_, T>(&value) {
        return Ok((wire, FieldErrors::new(), value));
    }
    let Value::Object(map) = &mut value else {
        return Err(ApiError::MalformedBody {
            detail: "The body must be a JSON object.".into(),
        });
    };
    let fields = map.len();
    let mut errors = FieldErrors::new();
    // A bad body: one field at a time first. Each probe deserialises a one-field object (the field's value is
    // moved in and back, not copied), so finding every bad field costs one pass over the body,
    // not one pass over everything left per bad field.
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let Some(field_value) = map.remove(&key) else {
            continue;
        };
        let mut one = Map::new();
        one.insert(key.clone(), field_value);
        let probe = Value::Object(one);
        let verdict = serde_path_to_error::deserialize::<_, T>(&probe)
            .err()
            .and_then(|err| describe(&err))
            // Another field's "is required" says nothing about this one.
            .filter(|(field, _)| *field == key);
        match (verdict, probe) {
            (Some((field, message)), _) => errors.add(field, message),
            (None, Value::Object(mut one)) => {
                if let Some(field_value) = one.remove(&key) {
                    map.insert(key, field_value);
                }
            }
            (None, _) => {}
        }
    }
    // Then the whole object, normally once; each further round removes one offending key (a
    // rule no single field breaks alone), so this terminates within len + 1 rounds.
    for _ in 0..=fields {
        match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(wire) => return Ok((wire, errors, value)),
            Err(err) => {
                let Some((field, message)) = describe(&err) else {
                    break;
                };
                let removed = value
                    .as_object_mut()
                    .is_some_and(|map| map.remove(&field).is_some());
                errors.add(field, message);
                if !removed {
                    break;
                }
            }
        }
    }
    Err(errors.into_error())
}

const DUPLICATE_KEY: &str = "duplicate key";

/// Parses `body` as one JSON value, refusing a duplicate key in any object at any depth.
fn parse_strict(body: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Builds a [`Value`] as serde_json does, but fails on an object key seen twice.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so this is always a number.
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(A::Error::custom(DUPLICATE_KEY));
            }
            let value = map.next_value_seed(Strict)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Names the top-level field behind `err` and a message that does not echo the input.
fn describe(err: &serde_path_to_error::Error<serde_json::Error>) -> Option<(String, String)> {
    let message = err.inner().to_string();
    if let Some(name) = backticked(&message, "unknown field `") {
        return Some((name, "is not a known field".into()));
    }
    if let Some(name) = backticked(&message, "missing field `") {
        return Some((name, "is required".into()));
    }
    let field = match err.path().iter().next() {
        Some(serde_path_to_error::Segment::Map { key }) => key.clone(),
        _ => return None,
    };
    let expected = message
        .split_once("expected ")
        .map(|(_, e)| format!("must be {e}"))
        .unwrap_or_else(|| "has an invalid value".into());
    Some((field, expected))
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_owned)
}

/// Extracts a required value, recording `"is required"` for `field` when absent.
pub fn required<T>(value: Option<T>, field: &str, errors: &mut FieldErrors) -> Option<T> {
    if value.is_none() {
        errors.add(field, "is required");
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wire {
        name: Option<String>,
        age: Option<u32>,
    }

    #[test]
    fn a_duplicate_key_at_any_depth_is_malformed_and_names_no_content() {
        for body in [
            &br#"{"name": "a@x.io", "name": "b@x.io"}"#[..],
            br#"{"name": "a", "age": 1, "name": "a"}"#,
            br#"{"name": {"x": 1, "x": 2}}"#,
            br#"{"name": [{"k": 1}, {"k": 1, "k": 1}]}"#,
        ] {
            let err = parse_json::<Value>(body, 1024).unwrap_err();
            let ApiError::MalformedBody { detail } = &err else {
                panic!("{err:?}");
            };
            assert!(
                detail.starts_with("The body has a duplicate key (line 1, column "),
                "{detail}"
            );
            assert!(
                !detail.contains("x.io") && !detail.contains("name"),
                "{detail}"
            );
        }
        // The same key in sibling objects is not a duplicate.
        let (value, _) =
            parse_json::<Value>(br#"{"name": [{"k": 1}, {"k": 2}], "age": 1.5}"#, 1024).unwrap();
        assert_eq!(value["name"][1]["k"], 2);
        assert_eq!(value["age"], 1.5);
        let err = parse_json::<Value>(br#"{"name": 1} x"#, 1024).unwrap_err();
        assert!(
            matches!(err, ApiError::MalformedBody { ref detail } if detail.starts_with("The body is not valid JSON")),
            "{err:?}"
        );
    }

    #[test]
    fn reports_every_unknown_and_mistyped_field_at_once() {
        let body = br#"{"name": 5, "age": "old", "extra": 1, "more": true}"#;
        let (wire, errors) = parse_json::<Wire>(body, 1024).unwrap();
        assert!(wire.name.is_none() && wire.age.is_none());
        let mut fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["age", "extra", "more", "name"]);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WithRequired {
        #[expect(dead_code, reason = "only its presence is checked")]
        id: String,
        age: Option<u32>,
    }

    #[test]
    fn a_required_field_does_not_hide_the_bad_ones_nor_blame_them() {
        // Each one-field probe lacks `id`; only the whole object may report it.
        let err = parse_json::<WithRequired>(br#"{"age": "old", "extra": 1}"#, 1024).unwrap_err();
        let text = format!("{err:?}");
        for field in ["age", "extra", "id"] {
            assert!(text.contains(&format!("\"{field}\"")), "{field}: {text}");
        }
        let (wire, errors) = parse_json::<WithRequired>(br#"{"id": "x", "age": 7}"#, 1024).unwrap();
        assert_eq!((wire.age, errors.is_empty()), (Some(7), true));
    }

    #[test]
    fn the_kept_object_is_the_body_as_sent_when_every_field_is_good() {
        let (_, errors, kept) =
            parse_json_keeping::<Wire>(br#"{"age": 3, "name": "a"}"#, 1024).unwrap();
        assert!(errors.is_empty());
        assert_eq!(kept, serde_json::json!({"name": "a", "age": 3}));
    }

    #[test]
    fn keeps_good_fields_and_does_not_echo_bad_values() {
        let (wire, errors) = parse_json::<Wire>(br#"{"name":"a"}"#, 1024).unwrap();
        assert_eq!(wire.name.as_deref(), Some("a"));
        assert!(errors.is_empty());
        let (_, errors) = parse_json::<Wire>(br#"{"name": 123456789}"#, 1024).unwrap();
        assert!(!format!("{errors:?}").contains("123456789"));
    }

    #[test]
    fn malformed_json_and_non_objects_are_400() {
        for body in [&b"{"[..], b"[]", b"\"x\"", b"\xff"] {
            let err = parse_json::<Wire>(body, 1024).unwrap_err();
            assert_eq!(err.status(), 400, "{body:?}");
        }
    }

    #[test]
    fn oversized_bodies_are_413() {
        let err = parse_json::<Wire>(&[b' '; 2048], 1024).unwrap_err();
        assert_eq!(err.status(), 413);
    }
}
