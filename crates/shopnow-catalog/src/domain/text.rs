//! Shared checks for user-supplied text.

/// Whether `text` has no control characters (newlines and tabs allowed when `multiline`).
pub(crate) fn is_clean(text: &str, multiline: bool) -> bool {
    text.chars()
        .all(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\t' | '\r')))
}

/// Whether `text` is a UUID-shaped id (ids are minted as UUIDv7; anything else cannot exist).
pub(crate) fn is_id(text: &str) -> bool {
    shopnow_kernel::ids::is_uuid(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused() {
        assert!(is_clean("Lamp – brass", false));
        assert!(!is_clean("a\u{0}b", true));
        assert!(!is_clean("a\nb", false));
        assert!(is_clean("a\nb", true));
    }
}
