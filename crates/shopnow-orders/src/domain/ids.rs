//! Identifier newtypes: product and order ids are UUIDs (lower-case hyphenated text).

use std::fmt;

use serde::{Deserialize, Serialize};
use shopnow_kernel::ids::is_uuid;

/// The id is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid id")]
pub struct InvalidId;

fn parse_uuid(raw: &str) -> Result<String, InvalidId> {
    if is_uuid(raw) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(InvalidId)
    }
}

/// A catalog product id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductId(String);

impl ProductId {
    /// Accepts a hyphenated UUID (any case; stored lower-case).
    ///
    /// # Errors
    /// [`InvalidId`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        parse_uuid(raw).map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProductId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProductId> for String {
    fn from(value: ProductId) -> Self {
        value.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An order id (UUIDv7, minted by the orders service). Also the idempotency key of every call
/// the checkout makes to the catalog and the payment provider.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderId(String);

impl OrderId {
    /// Accepts a hyphenated UUID (any case; stored lower-case).
    ///
    /// # Errors
    /// [`InvalidId`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        parse_uuid(raw).map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrderId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrderId> for String {
    fn from(value: OrderId) -> Self {
        value.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_stored_lower_case() {
        let id = ProductId::parse("0190A000-0000-7000-8000-000000000001").unwrap();
        assert_eq!(id.as_str(), "0190a000-0000-7000-8000-000000000001");
        assert!(ProductId::parse("not-a-uuid").is_err());
        assert!(OrderId::parse("").is_err());
        assert!(serde_json::from_str::<OrderId>("\"x\"").is_err());
    }
}
