//! Categories: a tree (each may name a parent) with unique, URL-safe slugs.

use serde::Serialize;

use super::text::is_clean;

/// Longest slug, in bytes.
pub const MAX_SLUG_LEN: usize = 64;
/// Longest category name, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// Why a slug or name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    /// Not 1..=64 of `[a-z0-9-]`, or starts/ends with `-` or has `--`.
    #[error("must be 1 to 64 characters of a-z, 0-9 and single hyphens inside")]
    BadSlug,
    /// Empty, longer than 100 characters, or has control characters.
    #[error("must be 1 to 100 characters without control characters")]
    BadName,
}

/// A URL-safe, unique category handle (`home-lighting`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategorySlug(String);

impl CategorySlug {
    /// Validates `raw` (not trimmed or lower-cased: a slug is typed exactly).
    ///
    /// # Errors
    /// [`CategoryError::BadSlug`].
    pub fn parse(raw: &str) -> Result<Self, CategoryError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_SLUG_LEN
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--")
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(CategoryError::BadSlug)
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category's display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryName(String);

impl CategoryName {
    /// Trims and validates `raw`.
    ///
    /// # Errors
    /// [`CategoryError::BadName`].
    pub fn parse(raw: &str) -> Result<Self, CategoryError> {
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        if len == 0 || len > MAX_NAME_LEN || !is_clean(trimmed, false) {
            return Err(CategoryError::BadName);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// UUIDv7.
    pub id: String,
    /// Unique slug.
    pub slug: CategorySlug,
    /// Display name.
    pub name: CategoryName,
    /// Parent category, if any.
    pub parent_id: Option<String>,
    /// Creation time, epoch ms.
    pub created_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        for good in ["lamps", "home-lighting", "a1", "x"] {
            assert!(CategorySlug::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Lamps",
            "-lamps",
            "lamps-",
            "home--lighting",
            "home lighting",
            "lämps",
            &"a".repeat(65),
        ] {
            assert_eq!(
                CategorySlug::parse(bad),
                Err(CategoryError::BadSlug),
                "{bad}"
            );
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(CategoryName::parse("  Lamps ").unwrap().as_str(), "Lamps");
        assert!(CategoryName::parse("   ").is_err());
        assert!(CategoryName::parse(&"n".repeat(101)).is_err());
        assert!(CategoryName::parse("a\u{7}").is_err());
    }
}
