//! `GET /v1/seller/events?after=&limit=`: the signed-in seller's event feed, oldest first
//! (`adapters::seller_feed`). Pull only: a client resumes from the last `cursor` it handled, after
//! any outage, for as long as the feed keeps entries.

use shopnow_kernel::ApiError;
use shopnow_kernel::auth::Role;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::ids::Clock as _;
use shopnow_kernel::pagination::page_size;
use shopnow_kernel::sql::with_migrations;
use shopnow_orders::schema::MIGRATIONS;
use shopnow_spin::SystemClock;

use super::caller;
use crate::adapters::lazy_db::LazyDatabase;
use crate::adapters::seller_feed;
use crate::settings::STORE_LABEL;
use crate::wiring::App;

/// Parses `after` (a cursor of this feed: a position, `0` or absent for the beginning) and
/// `limit`; other parameters are refused so typos are not silently ignored.
fn parse(query: &str) -> Result<(i64, u32), ApiError> {
    let bad = |detail: &str| ApiError::BadRequest {
        detail: detail.to_owned(),
    };
    let mut after = 0;
    let mut limit = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "after" => {
                after = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0 && value.len() <= 19)
                    .ok_or_else(|| bad("`after` must be a `cursor` this feed returned."))?;
            }
            "limit" => {
                limit = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| bad("limit must be an integer from 1 to 100."))?,
                );
            }
            _ => return Err(bad("Only `after` and `limit` are accepted.")),
        }
    }
    Ok((after, page_size(limit)))
}

/// The feed page: `{events, next_cursor, has_more}`; `next_cursor` is the last entry's cursor,
/// or `after` itself when nothing is new (poll again with it).
pub fn list(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Seller)?;
    let (after, limit) = parse(&request.query)?;
    let db = LazyDatabase::new(&app.settings.database_url, STORE_LABEL);
    let mut events = with_migrations(&db, MIGRATIONS, SystemClock.now_ms(), |db| {
        seller_feed::read(db, &me.user_id, after, limit + 1)
    })?;
    let has_more = events.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = events
        .last()
        .map_or_else(|| after.to_string(), |e| e.cursor.clone());
    HttpResponse::json(
        200,
        &serde_json::json!({"events": events, "next_cursor": next, "has_more": has_more}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_positions_and_nothing_else() {
        assert_eq!(parse("").unwrap(), (0, 20));
        assert_eq!(parse("after=42&limit=5").unwrap(), (42, 5));
        for bad in [
            "after=-1",
            "after=x",
            "after=99999999999999999999",
            "cursor=1",
            "limit=a",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
