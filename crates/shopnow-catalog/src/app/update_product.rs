//! Edit a product's fields (owning seller or admin) under `If-Match`: the change applies only
//! to the representation the caller last read, so concurrent edits are never silently lost.

use shopnow_kernel::auth::Principal;

use crate::CatalogError;
use crate::domain::Product;
use crate::domain::product::{ProductChanges, ProductError};
use crate::ports::Ports;

/// Applies `changes` to product `id` if its current ETag is `if_match`.
/// Returns the product and a key-value failure to log, if invalidation failed.
///
/// # Errors
/// [`CatalogError::NotFound`], [`CatalogError::Forbidden`], [`CatalogError::Stale`] when the
/// ETag does not match (or the product changed meanwhile), [`CatalogError::Archived`],
/// [`CatalogError::UnknownCategory`].
pub fn update_product(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &str,
    if_match: &str,
    changes: ProductChanges,
) -> Result<(Product, Option<shopnow_kernel::kv::KvError>), CatalogError> {
    let current = super::load_for_write(ports, principal, id)?;
    if !etag_matches(if_match, &current.etag()) {
        return Err(CatalogError::Stale);
    }
    if let Some(category) = &changes.category_id
        && !ports.store.category_exists(category)?
    {
        return Err(CatalogError::UnknownCategory {
            field: "category_id",
        });
    }
    let next = changes
        .apply(&current, ports.clock.now_ms())
        .map_err(|e| match e {
            ProductError::Archived | ProductError::AlreadyArchived => CatalogError::Archived,
            other => CatalogError::Store(crate::ports::StoreError::Failed(other.to_string())),
        })?;
    if !ports.store.save_product(&next, current.version)? {
        return Err(CatalogError::Stale);
    }
    let kv_error = super::invalidate(ports, id);
    Ok((next, kv_error))
}

/// `If-Match` comparison (RFC 9110 §13.1.1): `*` matches any current representation; otherwise
/// any listed entity tag must equal `current` by strong comparison (weak tags never match).
pub fn etag_matches(if_match: &str, current: &str) -> bool {
    if_match.trim() == "*"
        || if_match
            .split(',')
            .map(str::trim)
            .any(|tag| !tag.starts_with("W/") && tag == current)
}

/// `If-None-Match` comparison (RFC 9110 §13.1.2, weak comparison): whether `current` is listed
/// (or the header is `*`), in which case a GET answers 304.
pub fn none_match(if_none_match: &str, current: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    if_none_match.trim() == "*"
        || if_none_match
            .split(',')
            .any(|tag| bare(tag) == bare(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_uses_strong_comparison() {
        assert!(etag_matches("\"1.5.0\"", "\"1.5.0\""));
        assert!(etag_matches("\"0.0.0\", \"1.5.0\"", "\"1.5.0\""));
        assert!(etag_matches("*", "\"1.5.0\""));
        assert!(!etag_matches("W/\"1.5.0\"", "\"1.5.0\""));
        assert!(!etag_matches("\"1.5.1\"", "\"1.5.0\""));
        assert!(!etag_matches("1.5.0", "\"1.5.0\""));
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert!(none_match("W/\"1.5.0\"", "\"1.5.0\""));
        assert!(none_match("\"x\", \"1.5.0\"", "\"1.5.0\""));
        assert!(none_match("*", "\"1.5.0\""));
        assert!(!none_match("\"1.5.1\"", "\"1.5.0\""));
    }
}

#[cfg(test)]
mod use_case_tests {
    use super::*;
    use crate::app::create_product::create_product;
    use crate::domain::Title;
    use crate::testing::{Harness, new_product, seller};

    fn retitle(title: &str) -> ProductChanges {
        ProductChanges {
            title: Some(Title::parse(title).unwrap()),
            ..ProductChanges::default()
        }
    }

    #[test]
    fn an_edit_applies_only_to_the_representation_last_read() {
        let h = Harness::new();
        let cat = h.category();
        let p = create_product(&h.ports(), &seller("s-1"), new_product(&cat, 1)).unwrap();
        let (edited, _) =
            update_product(&h.ports(), &seller("s-1"), &p.id, &p.etag(), retitle("Two")).unwrap();
        assert_eq!((edited.title.as_str(), edited.version), ("Two", 2));
        assert!(matches!(
            update_product(
                &h.ports(),
                &seller("s-1"),
                &p.id,
                &p.etag(),
                retitle("Lost")
            ),
            Err(CatalogError::Stale)
        ));
        assert!(matches!(
            update_product(&h.ports(), &seller("s-2"), &p.id, "*", retitle("Mine")),
            Err(CatalogError::Forbidden)
        ));
    }
}
