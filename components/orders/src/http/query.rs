//! Query strings of list routes: `limit` and `cursor`.

use shopnow_kernel::ApiError;
use shopnow_kernel::pagination::{CursorCodec, page_size};
use shopnow_orders::ports::ListPosition;

/// A page request.
pub struct PageQuery {
    /// Page size, clamped to 1..=100 (default 20).
    pub limit: u32,
    /// Where the page starts.
    pub after: Option<ListPosition>,
}

/// Parses `limit` and `cursor`; other parameters are refused so typos are not silently ignored.
///
/// # Errors
/// 400 `bad-request` for an unknown parameter or a non-numeric limit, 400 `invalid-cursor`.
pub fn page(query: &str, cursors: &CursorCodec) -> Result<PageQuery, ApiError> {
    let mut limit = None;
    let mut after = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "limit" => {
                limit = Some(value.parse::<u32>().map_err(|_| ApiError::BadRequest {
                    detail: "limit must be an integer from 1 to 100.".into(),
                })?);
            }
            "cursor" => after = Some(cursors.open::<ListPosition>(value)?),
            _ => {
                return Err(ApiError::BadRequest {
                    detail: "Only `limit` and `cursor` are accepted.".into(),
                });
            }
        }
    }
    Ok(PageQuery {
        limit: page_size(limit),
        after,
    })
}

/// The opaque cursor of the next page, if any.
///
/// # Errors
/// 500 if the position cannot be serialised.
pub fn next_cursor(
    next: Option<&ListPosition>,
    cursors: &CursorCodec,
) -> Result<Option<String>, ApiError> {
    next.map(|p| cursors.seal(p)).transpose()
}
