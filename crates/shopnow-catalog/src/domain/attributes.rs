//! `Attributes`: a product's flexible, flat key/value facts (`{"colour": "red", "watts": 40,
//! "dimmable": true}`), bounded so a product row and its cache entry stay small.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// Most attributes a product may have.
pub const MAX_ATTRIBUTES: usize = 32;
/// Longest attribute key, in bytes (keys are ASCII).
pub const MAX_KEY_LEN: usize = 40;
/// Longest text value, in characters.
pub const MAX_TEXT_LEN: usize = 200;
/// Largest serialised attribute object, in bytes.
pub const MAX_ATTRIBUTES_BYTES: usize = 4096;

/// Why an attribute object was refused. Messages never echo values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    /// Not a JSON object.
    #[error("must be an object")]
    NotAnObject,
    /// More than [`MAX_ATTRIBUTES`] keys.
    #[error("must have at most 32 keys")]
    TooMany,
    /// A key is not 1..=40 characters of `[a-z0-9_]` starting with a letter.
    #[error("keys must be 1 to 40 characters of a-z, 0-9 and _, starting with a letter")]
    BadKey,
    /// A value is an object, array or null.
    #[error("attribute `{0}` must be a string, number or boolean")]
    NotScalar(String),
    /// A text value is empty, too long or has control characters.
    #[error("attribute `{0}` must be 1 to 200 characters without control characters")]
    BadText(String),
    /// The whole object serialises to more than [`MAX_ATTRIBUTES_BYTES`].
    #[error("must be at most 4096 bytes")]
    TooLarge,
}

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// A boolean.
    Bool(bool),
    /// A number (integer or finite decimal, as JSON has them).
    Number(Number),
    /// Text.
    Text(String),
}

/// A validated, flat attribute object, ordered by key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Attributes(BTreeMap<String, AttributeValue>);

fn key_ok(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Attributes {
    /// Validates a JSON value as an attribute object.
    ///
    /// # Errors
    /// [`AttributeError`] for a non-object, too many keys, a bad key, a nested or null value, a
    /// bad text value, or an object over [`MAX_ATTRIBUTES_BYTES`].
    pub fn parse(value: &Value) -> Result<Self, AttributeError> {
        let Value::Object(map) = value else {
            return Err(AttributeError::NotAnObject);
        };
        if map.len() > MAX_ATTRIBUTES {
            return Err(AttributeError::TooMany);
        }
        let mut out = BTreeMap::new();
        for (key, value) in map {
            if !key_ok(key) {
                return Err(AttributeError::BadKey);
            }
            let value = match value {
                Value::Bool(b) => AttributeValue::Bool(*b),
                Value::Number(n) => AttributeValue::Number(n.clone()),
                Value::String(s) => {
                    let chars = s.chars().count();
                    if chars == 0 || chars > MAX_TEXT_LEN || s.chars().any(char::is_control) {
                        return Err(AttributeError::BadText(key.clone()));
                    }
                    AttributeValue::Text(s.clone())
                }
                Value::Null | Value::Array(_) | Value::Object(_) => {
                    return Err(AttributeError::NotScalar(key.clone()));
                }
            };
            out.insert(key.clone(), value);
        }
        let attributes = Self(out);
        if attributes.to_json().len() > MAX_ATTRIBUTES_BYTES {
            return Err(AttributeError::TooLarge);
        }
        Ok(attributes)
    }

    /// The attributes as a JSON object string (the stored form).
    pub fn to_json(&self) -> String {
        // A map of strings, numbers and booleans always serialises.
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads the stored form back; it was validated on the way in.
    ///
    /// # Errors
    /// [`AttributeError`] if the stored text is not a valid attribute object.
    pub fn from_stored(json: &str) -> Result<Self, AttributeError> {
        let value: Value = serde_json::from_str(json).map_err(|_| AttributeError::NotAnObject)?;
        Self::parse(&value)
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&AttributeValue> {
        self.0.get(key)
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn accepts_flat_scalars_and_orders_keys() {
        let attrs =
            Attributes::parse(&json!({"watts": 40, "colour": "red", "dimmable": true, "h": 1.5}))
                .unwrap();
        assert_eq!(attrs.len(), 4);
        assert_eq!(
            attrs.to_json(),
            r#"{"colour":"red","dimmable":true,"h":1.5,"watts":40}"#
        );
        assert_eq!(Attributes::from_stored(&attrs.to_json()).unwrap(), attrs);
    }

    #[test]
    fn refuses_nesting_null_and_non_objects() {
        assert_eq!(
            Attributes::parse(&json!({"a": {"b": 1}})),
            Err(AttributeError::NotScalar("a".into()))
        );
        assert_eq!(
            Attributes::parse(&json!({"a": [1]})),
            Err(AttributeError::NotScalar("a".into()))
        );
        assert_eq!(
            Attributes::parse(&json!({"a": null})),
            Err(AttributeError::NotScalar("a".into()))
        );
        assert_eq!(
            Attributes::parse(&json!([1])),
            Err(AttributeError::NotAnObject)
        );
    }

    #[test]
    fn enforces_key_shape_and_size_limits() {
        for bad in ["", "Colour", "1st", "a-b", "a b", &"k".repeat(41)] {
            let mut map = serde_json::Map::new();
            map.insert(bad.to_owned(), json!(1));
            assert_eq!(
                Attributes::parse(&Value::Object(map)),
                Err(AttributeError::BadKey),
                "{bad:?}"
            );
        }
        let many: serde_json::Map<_, _> = (0..33).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(
            Attributes::parse(&Value::Object(many)),
            Err(AttributeError::TooMany)
        );
        assert_eq!(
            Attributes::parse(&json!({"a": "x".repeat(201)})),
            Err(AttributeError::BadText("a".into()))
        );
        assert_eq!(
            Attributes::parse(&json!({"a": ""})),
            Err(AttributeError::BadText("a".into()))
        );
        let big: serde_json::Map<_, _> = (0..32)
            .map(|i| (format!("key_{i}"), json!("v".repeat(190))))
            .collect();
        assert_eq!(
            Attributes::parse(&Value::Object(big)),
            Err(AttributeError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn valid_objects_round_trip_through_storage(
            entries in proptest::collection::btree_map("[a-z][a-z0-9_]{0,10}", prop_oneof![
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                "[a-zA-Z0-9 ]{1,30}".prop_map(Value::String),
            ], 0..10)
        ) {
            let value = Value::Object(entries.into_iter().collect());
            let attrs = Attributes::parse(&value).unwrap();
            prop_assert_eq!(serde_json::to_value(&attrs).unwrap(), value);
            prop_assert_eq!(Attributes::from_stored(&attrs.to_json()).unwrap(), attrs);
        }
    }
}
