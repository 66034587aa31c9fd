//! `SqlCatalogStore`: categories, products, stock and reservations over the kernel's `Database`
//! port — one implementation for PostgreSQL and SQLite. The SQL is portable except text search
//! ([`match_conditions`], [`search_sql`]), and every method is one unit of work wrapped in `with_migrations` so a
//! fresh database is migrated on first use.
//!
//! Stock concurrency: a hold is taken with a conditional `UPDATE products SET reserved =
//! reserved + q WHERE id = $1 AND status = 'active' AND on_hand - reserved >= q` inside the
//! reservation's transaction. PostgreSQL row locks make concurrent updates of one product wait
//! and re-check the condition; SQLite's `BEGIN IMMEDIATE` serialises writers. Products are
//! always locked in ascending id order, so two transactions never wait on each other in a cycle.
//!
//! Expiry: `reserved` counts held units, including holds past `expires_at` until a sweep gives
//! them back. Reads subtract lapsed holds ([`PRODUCT_COLUMNS`]), so availability is exact without
//! any manual step; write paths sweep the lapsed holds of the products they touch first, each
//! in its own short transaction, so stored counts converge.

use shopnow_catalog::domain::reservation::{ReservationError, ReservationItem, ReservationRequest};
use shopnow_catalog::domain::search::{Keyset, ProductSearch, Sort};
use shopnow_catalog::domain::{
    Attributes, Category, CategoryName, CategorySlug, Description, OnHand, OrderId, Product,
    ProductStatus, Quantity, Reservation, ReservationLine, ReservationState, StockLevel, Title,
};
use shopnow_catalog::ports::{
    CatalogStore, ProductRead, ReserveOutcome, SetStockOutcome, StoreError, Transition,
};
use shopnow_catalog::schema::MIGRATIONS;
use shopnow_kernel::StockShortage;
use shopnow_kernel::events::{self, NewEvent};
use shopnow_kernel::ids::{Clock, IdSource};
use shopnow_kernel::sql::{
    Database, DbError, DbErrorKind, Dialect, Row, SqlValue, transaction, with_migrations,
};
use shopnow_money::{Currency, Money};

/// Columns of a product read, in [`product_from_row`] order; `$1` is now (epoch ms). The
/// reserved column is the live one: stored `reserved` minus holds that lapsed but are not swept
/// (`SUM` is cast because PostgreSQL sums BIGINT into NUMERIC).
const PRODUCT_COLUMNS: &str = "p.id, p.seller_id, p.title, p.description, p.category_id, \
     p.price_amount, p.price_currency, p.attributes, p.on_hand, \
     p.reserved - COALESCE((SELECT CAST(SUM(l.quantity) AS BIGINT) FROM reservation_lines l \
     JOIN reservations r ON r.order_id = l.order_id \
     WHERE l.product_id = p.id AND r.state = 'held' AND r.expires_at <= $1), 0), \
     p.status, p.version, p.created_at, p.updated_at, p.units_sold";

/// The catalog store over one database connection.
pub struct SqlCatalogStore<'a> {
    db: &'a dyn Database,
    clock: &'a dyn Clock,
    ids: &'a dyn IdSource,
    walk_rows: Option<u32>,
}

impl<'a> SqlCatalogStore<'a> {
    /// A store on `db`; `clock` stamps applied migrations; a PostgreSQL search walks at most
    /// `walk_rows` rows of its sort order before its index fallback ([`search_sql`]); `None`
    /// sizes the walk from the table's row estimate; `ids` names the events each write records
    /// in the outbox (`docs/events.md`).
    pub fn new(
        db: &'a dyn Database,
        clock: &'a dyn Clock,
        ids: &'a dyn IdSource,
        walk_rows: Option<u32>,
    ) -> Self {
        Self {
            db,
            clock,
            ids,
            walk_rows,
        }
    }

    fn run<T>(&self, op: impl FnMut(&dyn Database) -> Result<T, DbError>) -> Result<T, StoreError> {
        self.run_db(op).map_err(StoreError::from)
    }

    fn run_db<T>(&self, op: impl FnMut(&dyn Database) -> Result<T, DbError>) -> Result<T, DbError> {
        with_migrations(self.db, MIGRATIONS, self.clock.now_ms(), op)
    }
}

/// The outbox source name of the catalog's events.
const SOURCE: &str = "catalog";

/// `product.created`, `product.updated` or `product.archived` for `product` as it is now.
fn product_event(
    ids: &dyn IdSource,
    event_type: &str,
    product: &Product,
) -> Result<NewEvent, DbError> {
    NewEvent::new(
        ids,
        product.updated_at_ms,
        event_type,
        "product",
        product.id.as_str(),
        serde_json::json!({
            "product_id": product.id,
            "seller_id": product.seller_id,
            "category_id": product.category_id,
            "title": product.title.as_str(),
            "price": {"amount": product.price.amount(), "currency": product.price.currency().code()},
            "on_hand": product.stock.on_hand(),
            "status": product.status.as_str(),
            "version": product.version,
        }),
    )
}

/// `stock.changed` for `product_id` from `row`: its `seller_id, on_hand, reserved` as the write
/// that changed them returned them.
fn stock_changed(
    ids: &dyn IdSource,
    product_id: &str,
    row: &Row,
    reason: &str,
    now_ms: i64,
) -> Result<NewEvent, DbError> {
    NewEvent::new(
        ids,
        now_ms,
        "stock.changed",
        "product",
        product_id,
        serde_json::json!({
            "product_id": product_id,
            "seller_id": row.text(0)?,
            "on_hand": row.int(1)?,
            "reserved": row.int(2)?,
            "reason": reason,
        }),
    )
}

/// Archives every product of `seller_id` that is not archived yet, inside the caller's
/// transaction `tx` (the consumer's, on `user.erased`), recording `product.archived` for each;
/// returns their ids, for the cache to forget. Holds already taken stay (as for an archive by
/// hand), so orders in flight complete.
///
/// # Errors
/// [`DbError`] when a statement fails.
pub fn archive_seller_products(
    tx: &dyn Database,
    ids: &dyn IdSource,
    seller_id: &str,
    now_ms: i64,
) -> Result<Vec<String>, DbError> {
    let lock = if tx.dialect() == shopnow_kernel::sql::Dialect::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let targets: Vec<String> = tx
        .query(
            &format!(
                "SELECT id FROM products WHERE seller_id = $1 AND status <> 'archived' \
                 ORDER BY id{lock}"
            ),
            &[text(seller_id)],
        )?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    for chunk in targets.chunks(100) {
        let placeholders = (3..chunk.len() + 3)
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut params = vec![int(now_ms), text(seller_id)];
        params.extend(chunk.iter().map(|id| text(id)));
        tx.execute(
            &format!(
                "UPDATE products SET status = 'archived', version = version + 1, \
                 updated_at = CASE WHEN updated_at > $1 THEN updated_at ELSE $1 END \
                 WHERE seller_id = $2 AND id IN ({placeholders})"
            ),
            &params,
        )?;
        let archived = tx.query(
            &format!(
                "SELECT {PRODUCT_COLUMNS} FROM products p \
                 WHERE p.seller_id = $2 AND p.id IN ({placeholders}) ORDER BY p.id"
            ),
            &params,
        )?;
        let events = archived
            .iter()
            .map(|row| product_event(ids, "product.archived", &product_from_row(row)?))
            .collect::<Result<Vec<_>, DbError>>()?;
        events::record(tx, SOURCE, &events)?;
    }
    Ok(targets)
}

/// What an order event does to the sales counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sale {
    /// `order.placed`: its lines' units are sold.
    Placed,
    /// `order.cancelled`: they are not any more.
    Cancelled,
}

/// Applies `order_id`'s placement or cancellation to its products' units sold, inside the
/// caller's transaction `tx` (the consumer's); returns the products changed, for the cache to
/// forget. `sales_orders` keeps each order's state, so the counts are exact whatever the order
/// of arrival: a placement adds only if the order is unknown (not after its cancellation), a
/// cancellation subtracts only what its placement added (an order placed before the stream's
/// oldest entry, or before orders sent lines, was never counted and is not subtracted).
/// Duplicates never reach here (the consumer's `event_processed`). Neither `version` nor
/// `updated_at` moves (a sale is not an edit) and no event is recorded. Lines are applied in
/// product-id order, so two transactions lock the same rows in the same order.
///
/// # Errors
/// [`DbError`] when a statement fails.
pub fn record_sale(
    tx: &dyn Database,
    order_id: &str,
    sale: Sale,
    lines: &[(String, i64)],
    now_ms: i64,
) -> Result<Vec<String>, DbError> {
    // RETURNING, not the affected-row count: on the test host's SQLite the count is the shared
    // connection's (as `shopnow_kernel::consumer`'s `mark_processed` notes).
    let counts = match sale {
        // A placement without lines (recorded before orders sent them) counts nothing, so its
        // cancellation must subtract nothing either: leave the order unknown.
        Sale::Placed if lines.is_empty() => false,
        Sale::Placed => !tx
            .query(
                "INSERT INTO sales_orders (order_id, state, updated_at) VALUES ($1, 'counted', $2) \
                 ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
                &[text(order_id), int(now_ms)],
            )?
            .is_empty(),
        Sale::Cancelled => {
            let uncounted = !tx
                .query(
                    "UPDATE sales_orders SET state = 'cancelled', updated_at = $2 \
                     WHERE order_id = $1 AND state = 'counted' RETURNING order_id",
                    &[text(order_id), int(now_ms)],
                )?
                .is_empty();
            if !uncounted {
                // Not counted (yet): remember the cancellation so a late placement adds nothing.
                tx.execute(
                    "INSERT INTO sales_orders (order_id, state, updated_at) \
                     VALUES ($1, 'cancelled', $2) ON CONFLICT (order_id) DO NOTHING",
                    &[text(order_id), int(now_ms)],
                )?;
            }
            uncounted
        }
    };
    if !counts {
        return Ok(Vec::new());
    }
    let sign = if sale == Sale::Placed { 1 } else { -1 };
    let mut sorted: Vec<&(String, i64)> = lines.iter().collect();
    sorted.sort();
    let mut changed = Vec::new();
    for (product_id, quantity) in sorted {
        tx.execute(
            "UPDATE products SET units_sold = units_sold + $1 WHERE id = $2",
            &[int(sign * *quantity), text(product_id)],
        )?;
        // Forgetting a product the catalog does not have costs the cache nothing.
        changed.push(product_id.clone());
    }
    Ok(changed)
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

fn int(value: i64) -> SqlValue {
    SqlValue::Int(value)
}

fn conversion(what: &str) -> DbError {
    DbError::new(DbErrorKind::Conversion, format!("stored {what} is invalid"))
}

fn product_from_row(row: &Row) -> Result<Product, DbError> {
    let currency = Currency::parse(&row.text(6)?).map_err(|_| conversion("currency"))?;
    Ok(Product {
        id: row.text(0)?,
        seller_id: row.text(1)?,
        title: Title::parse(&row.text(2)?).map_err(|_| conversion("title"))?,
        description: Description::parse(&row.text(3)?).map_err(|_| conversion("description"))?,
        category_id: row.text(4)?,
        price: Money::parse(row.int(5)?, currency).map_err(|_| conversion("price"))?,
        attributes: Attributes::from_stored(&row.text(7)?).map_err(|_| conversion("attributes"))?,
        stock: StockLevel::from_counts(row.int(8)?, row.int(9)?),
        status: ProductStatus::parse(&row.text(10)?).ok_or_else(|| conversion("status"))?,
        version: row.int(11)?,
        created_at_ms: row.int(12)?,
        updated_at_ms: row.int(13)?,
        units_sold: row.int(14)?,
    })
}

fn category_from_row(row: &Row) -> Result<Category, DbError> {
    Ok(Category {
        id: row.text(0)?,
        slug: CategorySlug::parse(&row.text(1)?).map_err(|_| conversion("slug"))?,
        name: CategoryName::parse(&row.text(2)?).map_err(|_| conversion("name"))?,
        parent_id: row.opt_text(3)?,
        created_at_ms: row.int(4)?,
    })
}

fn u32_of(value: i64, what: &str) -> Result<u32, DbError> {
    u32::try_from(value).map_err(|_| conversion(what))
}

/// Loads a reservation and its lines.
fn load_reservation(db: &dyn Database, order_id: &OrderId) -> Result<Option<Reservation>, DbError> {
    let rows = db.query(
        "SELECT state, created_at, expires_at FROM reservations WHERE order_id = $1",
        &[text(order_id.as_str())],
    )?;
    let Some(head) = rows.first() else {
        return Ok(None);
    };
    let state = ReservationState::parse(&head.text(0)?).ok_or_else(|| conversion("state"))?;
    let lines = db
        .query(
            "SELECT product_id, seller_id, title, unit_amount, unit_currency, quantity \
             FROM reservation_lines WHERE order_id = $1 ORDER BY position",
            &[text(order_id.as_str())],
        )?
        .iter()
        .map(|row| {
            let currency = Currency::parse(&row.text(4)?).map_err(|_| conversion("currency"))?;
            Ok(ReservationLine {
                product_id: row.text(0)?,
                seller_id: row.text(1)?,
                title: row.text(2)?,
                unit_price: Money::parse(row.int(3)?, currency)
                    .map_err(|_| conversion("unit price"))?,
                quantity: Quantity::parse(u32_of(row.int(5)?, "quantity")?)
                    .map_err(|_| conversion("quantity"))?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Some(Reservation {
        order_id: order_id.clone(),
        state,
        lines,
        created_at_ms: head.int(1)?,
        expires_at_ms: head.int(2)?,
    }))
}

/// `(product_id, quantity)` of a reservation's lines, in ascending product order (lock order).
fn line_quantities(db: &dyn Database, order_id: &str) -> Result<Vec<(String, i64)>, DbError> {
    db.query(
        "SELECT product_id, quantity FROM reservation_lines WHERE order_id = $1 \
         ORDER BY product_id",
        &[text(order_id)],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, row.int(1)?)))
    .collect()
}

/// Marks one lapsed hold expired and gives its units back, inside the caller's transaction.
/// Whether it did: `false` if the hold was committed, released or swept meanwhile.
fn give_back_lapsed(tx: &dyn Database, order_id: &str, now_ms: i64) -> Result<bool, DbError> {
    let expired = tx.query(
        "UPDATE reservations SET state = 'expired', updated_at = $2 \
         WHERE order_id = $1 AND state = 'held' AND expires_at <= $2 RETURNING order_id",
        &[text(order_id), int(now_ms)],
    )?;
    if expired.is_empty() {
        return Ok(false);
    }
    for (product_id, quantity) in line_quantities(tx, order_id)? {
        tx.execute(
            "UPDATE products SET reserved = reserved - $2 WHERE id = $1",
            &[text(&product_id), int(quantity)],
        )?;
    }
    Ok(true)
}

/// Gives back the units of one lapsed hold, in its own transaction (the sweep).
fn expire_one(db: &dyn Database, order_id: &str, now_ms: i64) -> Result<(), DbError> {
    transaction(db, |tx| give_back_lapsed(tx, order_id, now_ms).map(|_| ()))
}

/// Most lapsed holds one write path sweeps on given products (the rest go on the next write).
const SWEEP_BATCH: i64 = 50;

/// Most lapsed holds, of any product, a reservation sweeps before holding: enough to keep up
/// with abandoned checkouts, few enough that one reservation never pays for many.
const SWEEP_OLDEST_BATCH: i64 = 10;

/// Sweeps the longest-lapsed holds of any product. One statement on one table and index
/// (`reservations_state_expiry_idx`), cheap to plan: a reservation runs it every time. The
/// per-product [`sweep`]'s join it replaces took 686 µs at the median, this 470–486 µs
/// (docs/benchmarks.md, "Checkout breakdown").
fn sweep_oldest(db: &dyn Database, now_ms: i64) -> Result<(), DbError> {
    let orders = db.query(
        "SELECT order_id FROM reservations WHERE state = 'held' AND expires_at <= $1 \
         ORDER BY expires_at LIMIT $2",
        &[int(now_ms), int(SWEEP_OLDEST_BATCH)],
    )?;
    for row in &orders {
        expire_one(db, &row.text(0)?, now_ms)?;
    }
    Ok(())
}

/// Sweeps lapsed holds on `product_ids`; how many it gave back.
fn sweep(db: &dyn Database, product_ids: &[&str], now_ms: i64) -> Result<usize, DbError> {
    if product_ids.is_empty() {
        return Ok(0);
    }
    let mut params = vec![int(now_ms), int(SWEEP_BATCH)];
    let placeholders: Vec<String> = product_ids
        .iter()
        .map(|id| {
            params.push(text(id));
            format!("${}", params.len())
        })
        .collect();
    let orders = db.query(
        &format!(
            "SELECT DISTINCT r.order_id FROM reservations r \
             JOIN reservation_lines l ON l.order_id = r.order_id \
             WHERE r.state = 'held' AND r.expires_at <= $1 AND l.product_id IN ({}) \
             LIMIT $2",
            placeholders.join(", ")
        ),
        &params,
    )?;
    for row in &orders {
        expire_one(db, &row.text(0)?, now_ms)?;
    }
    Ok(orders.len())
}

/// Units available now of each product (0 for unknown or archived ones).
fn available(db: &dyn Database, product_id: &str, now_ms: i64) -> Result<i64, DbError> {
    let rows = db.query(
        &format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = $2"),
        &[int(now_ms), text(product_id)],
    )?;
    Ok(match rows.first().map(product_from_row).transpose()? {
        Some(p) if p.status == ProductStatus::Active => p.stock.available(),
        _ => 0,
    })
}

/// Why a reservation transaction stopped.
enum ReserveAbort {
    Db(DbError),
    Short(Vec<ReservationItem>),
}

impl From<DbError> for ReserveAbort {
    fn from(err: DbError) -> Self {
        Self::Db(err)
    }
}

fn reserve_tx(
    tx: &dyn Database,
    request: &ReservationRequest,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<ReserveOutcome, ReserveAbort> {
    // Claim the order id first: no row back means it already has a reservation (a replay, or
    // PostgreSQL waited for a concurrent request's to commit), one round trip fewer than
    // looking before inserting.
    let claimed = tx.query(
        "INSERT INTO reservations (order_id, state, created_at, expires_at, updated_at) \
         VALUES ($1, 'held', $2, $3, $2) ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
        &[
            text(request.order_id.as_str()),
            int(now_ms),
            int(expires_at_ms),
        ],
    )?;
    if claimed.is_empty() {
        let existing =
            load_reservation(tx, &request.order_id)?.ok_or_else(|| conversion("reservation"))?;
        // Settled without ever holding (refused as short, or released before it arrived): the
        // answer stays "out of stock", whichever attempt of a retried call gets here first.
        if existing.lines.is_empty() && existing.state == ReservationState::Released {
            return Err(ReserveAbort::Short(request.items.clone()));
        }
        return Ok(ReserveOutcome::Replayed(existing));
    }
    // Rows are locked in product order, so concurrent checkouts cannot deadlock. Each hold
    // returns what the line needs (seller, title, price): no second read of the product.
    let mut by_product: Vec<&ReservationItem> = request.items.iter().collect();
    by_product.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    let mut held: Vec<(&str, Row)> = Vec::with_capacity(by_product.len());
    let mut short = Vec::new();
    for item in by_product {
        let rows = tx.query(
            "UPDATE products SET reserved = reserved + $2 \
             WHERE id = $1 AND status = 'active' AND on_hand - reserved >= $2 \
             RETURNING seller_id, title, price_amount, price_currency",
            &[text(&item.product_id), int(i64::from(item.quantity.get()))],
        )?;
        match rows.into_iter().next() {
            Some(row) => held.push((item.product_id.as_str(), row)),
            None => short.push(item.clone()),
        }
    }
    if !short.is_empty() {
        return Err(ReserveAbort::Short(short));
    }
    let mut lines = Vec::with_capacity(request.items.len());
    for (position, item) in request.items.iter().enumerate() {
        let row = held
            .iter()
            .find(|(id, _)| *id == item.product_id)
            .map(|(_, row)| row)
            .ok_or_else(|| conversion("reserved product"))?;
        let currency = Currency::parse(&row.text(3)?).map_err(|_| conversion("currency"))?;
        let line = ReservationLine {
            product_id: item.product_id.clone(),
            seller_id: row.text(0)?,
            title: row.text(1)?,
            unit_price: Money::parse(row.int(2)?, currency).map_err(|_| conversion("price"))?,
            quantity: item.quantity,
        };
        tx.execute(
            "INSERT INTO reservation_lines (order_id, position, product_id, seller_id, title, \
             unit_amount, unit_currency, quantity) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                text(request.order_id.as_str()),
                int(i64::try_from(position).unwrap_or(i64::MAX)),
                text(&line.product_id),
                text(&line.seller_id),
                text(&line.title),
                int(line.unit_price.amount()),
                text(line.unit_price.currency().code()),
                int(i64::from(line.quantity.get())),
            ],
        )?;
        lines.push(line);
    }
    Ok(ReserveOutcome::Reserved(Reservation {
        order_id: request.order_id.clone(),
        state: ReservationState::Held,
        lines,
        created_at_ms: now_ms,
        expires_at_ms,
    }))
}

/// Which way a reservation is settled.
#[derive(Clone, Copy)]
enum Settle {
    /// Held units are sold.
    Commit,
    /// Held units are given back.
    Release,
    /// Sold units come back on hand.
    Restock,
}

impl Settle {
    fn verdict(
        self,
        state: ReservationState,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<ReservationState, ReservationError> {
        match self {
            Self::Commit => state.commit(now_ms, expires_at_ms),
            Self::Release => state.release(now_ms, expires_at_ms),
            Self::Restock => state.restock(now_ms, expires_at_ms),
        }
    }

    /// The stored state the transition starts from.
    fn starts_from(self) -> ReservationState {
        match self {
            Self::Commit | Self::Release => ReservationState::Held,
            Self::Restock => ReservationState::Committed,
        }
    }

    /// How each line's product moves.
    fn stock_sql(self) -> &'static str {
        match self {
            // Each returns what `stock.changed` needs, so the event costs no extra read.
            Self::Commit => {
                "UPDATE products SET on_hand = on_hand - $2, reserved = reserved - $2 WHERE id = $1 \
                 RETURNING seller_id, on_hand, reserved"
            }
            Self::Release => {
                "UPDATE products SET reserved = reserved - $2 WHERE id = $1 \
                 RETURNING seller_id, on_hand, reserved"
            }
            Self::Restock => {
                "UPDATE products SET on_hand = on_hand + $2 WHERE id = $1 \
                 RETURNING seller_id, on_hand, reserved"
            }
        }
    }
}

/// The stored state and expiry of `order_id`'s reservation, if it has one.
fn reservation_state(
    db: &dyn Database,
    order_id: &OrderId,
) -> Result<Option<(ReservationState, i64)>, DbError> {
    let rows = db.query(
        "SELECT state, expires_at FROM reservations WHERE order_id = $1",
        &[text(order_id.as_str())],
    )?;
    rows.first()
        .map(|row| {
            let state =
                ReservationState::parse(&row.text(0)?).ok_or_else(|| conversion("state"))?;
            Ok((state, row.int(1)?))
        })
        .transpose()
}

/// After a reserve found items short (its holds rolled back), marks the order id settled: an
/// earlier attempt of the same call (the caller retried when it timed out, and answered its
/// buyer "out of stock" from this one) may still be on its way, and must find the order
/// settled instead of holding units nobody will buy or release. Seen on Spin under a burst:
/// the held unit outlived the race (`tests/orders/race.rs`).
fn close_unreserved(db: &dyn Database, order_id: &OrderId, now_ms: i64) -> Result<(), DbError> {
    transaction(db, |tx| {
        tx.execute(
            "INSERT INTO reservations (order_id, state, created_at, expires_at, updated_at) \
             VALUES ($1, 'released', $2, $2, $2) ON CONFLICT (order_id) DO NOTHING",
            &[text(order_id.as_str()), int(now_ms)],
        )?;
        Ok(())
    })
}

/// Releasing an order id the catalog has no reservation for leaves a `released` reservation
/// without lines behind, so a reserve for it still on its way (its caller gave up waiting and
/// compensated) finds the order settled and holds nothing, instead of holding units until the
/// TTL that no checkout will buy. `None` when that marker was written; the reservation's state
/// when a concurrent reserve made one first (PostgreSQL waits for it to commit), to settle now.
fn released_in_advance(
    tx: &dyn Database,
    order_id: &OrderId,
    now_ms: i64,
) -> Result<Option<(ReservationState, i64)>, DbError> {
    let marked = tx.query(
        "INSERT INTO reservations (order_id, state, created_at, expires_at, updated_at) \
         VALUES ($1, 'released', $2, $2, $2) ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
        &[text(order_id.as_str()), int(now_ms)],
    )?;
    if marked.is_empty() {
        return reservation_state(tx, order_id);
    }
    Ok(None)
}

fn settle(
    db: &dyn Database,
    ids: &dyn IdSource,
    order_id: &OrderId,
    now_ms: i64,
    how: Settle,
) -> Result<Transition, DbError> {
    transaction(db, |tx| {
        let found = match reservation_state(tx, order_id)? {
            None if matches!(how, Settle::Release) => released_in_advance(tx, order_id, now_ms)?,
            found => found,
        };
        let Some((mut state, expires_at)) = found else {
            return Ok(None);
        };
        // A lapsed hold first gives its units back (in this transaction, which commits whatever
        // the verdict), so the verdict below sees it as expired. Only then: a live or settled
        // reservation costs no statement for it. If another request settled or swept it
        // meanwhile, the verdict goes by the state that request left.
        if state == ReservationState::Held && expires_at <= now_ms {
            state = if give_back_lapsed(tx, order_id.as_str(), now_ms)? {
                ReservationState::Expired
            } else {
                reservation_state(tx, order_id)?
                    .map(|(now_state, _)| now_state)
                    .ok_or_else(|| conversion("state"))?
            };
        }
        let next = match how.verdict(state, now_ms, expires_at) {
            Ok(next) => next,
            Err(refused) => return Ok(Some(Err(refused))),
        };
        // Conditional on the state read above: a concurrent settle makes this a no-op.
        let moved = tx.query(
            "UPDATE reservations SET state = $2, updated_at = $3 \
             WHERE order_id = $1 AND state = $4 RETURNING order_id",
            &[
                text(order_id.as_str()),
                text(next.as_str()),
                int(now_ms),
                text(how.starts_from().as_str()),
            ],
        )?;
        if moved.is_empty() {
            // Settled concurrently (PostgreSQL re-checks the condition after the other
            // transaction commits): answer with the verdict on the state it left.
            let (now_state, _) =
                reservation_state(tx, order_id)?.ok_or_else(|| conversion("state"))?;
            return Ok(Some(
                how.verdict(now_state, now_ms, expires_at)
                    .map(|_| Vec::new()),
            ));
        }
        let lines = line_quantities(tx, order_id.as_str())?;
        let mut stock_events = Vec::new();
        for (product_id, quantity) in &lines {
            let stock = tx.query(how.stock_sql(), &[text(product_id), int(*quantity)])?;
            // Units on hand change when a sale commits or is restocked; a release only frees
            // held units (no event: `on_hand` is what sellers see move).
            let reason = match how {
                Settle::Commit => Some("sold"),
                Settle::Restock => Some("restocked"),
                Settle::Release => None,
            };
            if let (Some(reason), Some(row)) = (reason, stock.first()) {
                stock_events.push(stock_changed(ids, product_id, row, reason, now_ms)?);
            }
        }
        events::record(tx, SOURCE, &stock_events)?;
        Ok(Some(Ok(lines.into_iter().map(|(id, _)| id).collect())))
    })
}

/// The text-search conditions for the terms: all terms anywhere, and all terms in the title.
/// PostgreSQL reads the stored vectors (`search`, title and description weighted; `title_search`,
/// the title alone) with one `a & b` query; SQLite asks FTS5 with `"a" "b"` and
/// `title : "a" AND title : "b"`. Terms are letters and digits only, so quoting cannot be escaped.
fn match_conditions(
    dialect: Dialect,
    terms: &[String],
    params: &mut Vec<SqlValue>,
) -> (String, String) {
    let mut push = |value: String| {
        params.push(text(&value));
        format!("${}", params.len())
    };
    match dialect {
        Dialect::Postgres => {
            let k = push(terms.join(" & "));
            (
                format!("p.search @@ to_tsquery('english', {k})"),
                format!("p.title_search @@ to_tsquery('english', {k})"),
            )
        }
        Dialect::Sqlite => {
            let each = |shape: fn(&str) -> String, separator: &str| {
                terms
                    .iter()
                    .map(|t| shape(t))
                    .collect::<Vec<_>>()
                    .join(separator)
            };
            let any = push(each(|t| format!("\"{t}\""), " "));
            let title = push(each(|t| format!("title : \"{t}\""), " AND "));
            (
                format!("p.seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH {any})"),
                format!(
                    "p.seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH {title})"
                ),
            )
        }
    }
}

/// One run of the sort order: the products matching `condition`, in the sort's order after the
/// keyset (when it applies to this run), ranked `tier`.
struct Run {
    tier: i64,
    condition: Option<String>,
    after: bool,
}

/// The ids of the category bound to `param` and of every category below it.
fn subtree_sql(param: &str) -> String {
    format!(
        "WITH RECURSIVE sub (id) AS (SELECT id FROM categories WHERE id = {param} \
         UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id) \
         SELECT id FROM sub"
    )
}

/// The category of a browse that filters by category alone and sorts newest first (the
/// storefront's category page), if `search` is one.
fn plain_category_browse(search: &ProductSearch) -> Option<&str> {
    let plain = search.terms.is_none()
        && search.sort == Sort::Newest
        && search.seller_id.is_none()
        && search.currency.is_none()
        && search.min_price.is_none()
        && search.max_price.is_none();
    search.category_id.as_deref().filter(|_| plain)
}

/// A category browse on PostgreSQL: for each category of the subtree, the newest page of its
/// active products from `products_category_idx` (after the keyset), then the newest page of
/// those. It reads at most a page per category, whatever the catalog's size and however the
/// category's products are spread over time, where a walk of the newest index finds a small
/// category's rows only far down (docs/adr/0002-search-at-scale.md, "Category browse"). The same
/// rows in the same order as the general statement, which SQLite runs.
fn category_browse_sql(
    search: &ProductSearch,
    category: &str,
    now_ms: i64,
) -> (String, Vec<SqlValue>) {
    let mut params = vec![int(now_ms)];
    let mut push = |value: SqlValue| {
        params.push(value);
        format!("${}", params.len())
    };
    let subtree = subtree_sql(&push(text(category)));
    let keyset = match &search.after {
        Some(key) => {
            let c = push(int(key.created_at_ms));
            let id = push(text(&key.id));
            format!("AND (p.created_at, p.id) < ({c}, {id})")
        }
        None => String::new(),
    };
    let page = push(int(i64::from(search.limit) + 1));
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS}, 0 AS tier FROM (\
         SELECT b.id, b.created_at FROM ({subtree}) s CROSS JOIN LATERAL (\
         SELECT p.id, p.created_at FROM products p \
         WHERE p.category_id = s.id AND p.status = 'active' {keyset} \
         ORDER BY p.created_at DESC, p.id DESC LIMIT {page}) b \
         ORDER BY b.created_at DESC, b.id DESC LIMIT {page}) r \
         JOIN products p ON p.id = r.id ORDER BY p.created_at DESC, p.id DESC LIMIT {page}"
    );
    (sql, params)
}

/// The search statement. Relevance is two runs, each newest first: products with every term in
/// the title (tier 1), then the other matches (tier 0), the second read only when the first
/// cannot fill the page. Other sorts are one run.
///
/// On PostgreSQL each run first walks the sort's own index from the keyset for at most
/// `walk_rows` rows (`catalog_search_walk_rows`, docs/adr/0002-search-at-scale.md; by default
/// √(page × products), so the walk costs what the fallback's sort costs for the densest query
/// that reaches it), filtering as it goes: a broad query or browse fills its page in a
/// few hundred rows whatever the catalog's size. When the walk cannot fill the page, the query
/// is narrow, and the run asks the GIN and filter indexes for every match and sorts them (the
/// `+ 0` keeps the planner from walking again). SQLite, the small embedded backend, runs each
/// run as one ordered query. Both backends give the same rows in the same order.
fn search_sql(
    dialect: Dialect,
    search: &ProductSearch,
    now_ms: i64,
    walk_rows: Option<u32>,
) -> (String, Vec<SqlValue>) {
    if dialect == Dialect::Postgres
        && let Some(category) = plain_category_browse(search)
    {
        return category_browse_sql(search, category, now_ms);
    }
    let mut params = vec![int(now_ms)];
    let push = |value: SqlValue, params: &mut Vec<SqlValue>| {
        params.push(value);
        format!("${}", params.len())
    };
    let price_sort = matches!(search.sort, Sort::PriceAsc | Sort::PriceDesc);
    // Conditions the walk's index answers (its prefix), and the ones it filters by.
    let mut seek = vec!["p.status = 'active'".to_owned()];
    let mut filters = Vec::new();
    let (any, title) = match &search.terms {
        Some(terms) => {
            let (any, title) = match_conditions(dialect, terms.terms(), &mut params);
            (Some(any), Some(title))
        }
        None => (None, None),
    };
    if let Some(category) = &search.category_id {
        let k = push(text(category), &mut params);
        filters.push(format!("p.category_id IN ({})", subtree_sql(&k)));
    }
    if let Some(seller) = &search.seller_id {
        let k = push(text(seller), &mut params);
        filters.push(format!("p.seller_id = {k}"));
    }
    let price_filters = if price_sort { &mut seek } else { &mut filters };
    if let Some(currency) = &search.currency {
        let k = push(text(currency.code()), &mut params);
        price_filters.push(format!("p.price_currency = {k}"));
    }
    if let Some(min) = search.min_price {
        let k = push(int(min), &mut params);
        price_filters.push(format!("p.price_amount >= {k}"));
    }
    if let Some(max) = search.max_price {
        let k = push(int(max), &mut params);
        price_filters.push(format!("p.price_amount <= {k}"));
    }
    let keyset = search.after.as_ref().map(|key| {
        let id = push(text(&key.id), &mut params);
        match search.sort {
            Sort::Newest | Sort::Relevance => {
                let c = push(int(key.created_at_ms), &mut params);
                format!("(p.created_at, p.id) < ({c}, {id})")
            }
            Sort::PriceAsc => {
                let p = push(int(key.price), &mut params);
                format!("(p.price_amount, p.id) > ({p}, {id})")
            }
            Sort::PriceDesc => {
                let p = push(int(key.price), &mut params);
                format!("(p.price_amount, p.id) < ({p}, {id})")
            }
            Sort::Bestselling => {
                let s = push(int(key.units_sold), &mut params);
                format!("(p.units_sold, p.id) < ({s}, {id})")
            }
        }
    });
    let runs = match (search.sort, &search.after) {
        (Sort::Relevance, after) => {
            let in_title = after.as_ref().is_none_or(|key| key.tier == 1);
            let mut runs = Vec::new();
            if in_title {
                runs.push(Run {
                    tier: 1,
                    condition: title.clone(),
                    after: after.is_some(),
                });
            }
            runs.push(Run {
                tier: 0,
                condition: Some(format!(
                    "{} AND NOT ({})",
                    any.clone().unwrap_or_default(),
                    title.clone().unwrap_or_default()
                )),
                after: !in_title,
            });
            runs
        }
        (_, after) => vec![Run {
            tier: 0,
            condition: any,
            after: after.is_some(),
        }],
    };
    let page = push(int(i64::from(search.limit) + 1), &mut params);
    // SQLite has no walk: every parameter must be used. "auto" is √(page × rows), from the
    // planner's estimate of the table's rows (`reltuples`: -1 before the first ANALYZE, when the
    // walk is one page and the fallback does the work, which on so new a table is cheap).
    let walk = match (dialect, walk_rows) {
        (Dialect::Postgres, Some(rows)) => push(int(i64::from(rows)), &mut params),
        (Dialect::Postgres, None) => format!(
            "(SELECT CAST(GREATEST(CAST({page} AS BIGINT), \
             CEIL(SQRT(CAST({page} AS BIGINT) * GREATEST(c.reltuples, 0)))) AS BIGINT) \
             FROM pg_class c WHERE c.oid = 'products'::regclass)"
        ),
        (Dialect::Sqlite, _) => String::new(),
    };
    let order = |plus: &str| match search.sort {
        Sort::Newest | Sort::Relevance => format!("p.created_at{plus} DESC, p.id DESC"),
        Sort::PriceAsc => format!("p.price_amount{plus} ASC, p.id ASC"),
        Sort::PriceDesc => format!("p.price_amount{plus} DESC, p.id DESC"),
        Sort::Bestselling => format!("p.units_sold{plus} DESC, p.id DESC"),
    };
    let mut ctes = Vec::new();
    let mut picked = Vec::new();
    for (n, run) in runs.iter().enumerate() {
        let mut seek = seek.clone();
        if run.after
            && let Some(keyset) = &keyset
        {
            seek.push(keyset.clone());
        }
        // A later run is read only when the earlier ones left the page short.
        if n > 0 {
            let earlier = (0..n)
                .map(|k| format!("(SELECT count(*) FROM run{k})"))
                .collect::<Vec<_>>()
                .join(" + ");
            seek.push(format!("{earlier} < {page}"));
        }
        let mut all = filters.clone();
        all.extend(run.condition.clone());
        let seek_sql = seek.join(" AND ");
        let every = seek
            .iter()
            .chain(&all)
            .cloned()
            .collect::<Vec<_>>()
            .join(" AND ");
        match dialect {
            Dialect::Postgres => {
                let filter_sql = if all.is_empty() {
                    "TRUE".to_owned()
                } else {
                    all.join(" AND ")
                };
                ctes.push(format!(
                    "walk{n} AS MATERIALIZED (SELECT p.id FROM (\
                     SELECT p.id, p.created_at, p.price_amount, p.price_currency, p.category_id, \
                     p.seller_id, p.units_sold, p.search, p.title_search FROM products p \
                     WHERE {seek_sql} \
                     ORDER BY {} LIMIT {walk}) p WHERE {filter_sql} LIMIT {page}), \
                     run{n} AS MATERIALIZED (\
                     SELECT id FROM walk{n} WHERE (SELECT count(*) FROM walk{n}) >= {page} \
                     UNION ALL SELECT id FROM (SELECT p.id FROM products p WHERE {every} \
                     ORDER BY {} LIMIT {page}) f WHERE (SELECT count(*) FROM walk{n}) < {page})",
                    order(""),
                    order(" + 0"),
                ));
            }
            Dialect::Sqlite => ctes.push(format!(
                "run{n} AS (SELECT p.id FROM products p WHERE {every} ORDER BY {} LIMIT {page})",
                order("")
            )),
        }
        picked.push(format!("SELECT id, {} AS tier FROM run{n}", run.tier));
    }
    let final_order = match search.sort {
        Sort::Relevance => format!("r.tier DESC, {}", order("")),
        _ => order(""),
    };
    let sql = format!(
        // The WITH sits in a subquery: PostgreSQL's zero-row guard (ADR 0001) wraps the whole
        // statement in a CTE of its own.
        "SELECT {PRODUCT_COLUMNS}, r.tier FROM (WITH {} {}) r JOIN products p ON p.id = r.id \
         ORDER BY {final_order} LIMIT {page}",
        ctes.join(", "),
        picked.join(" UNION ALL "),
    );
    (sql, params)
}

impl CatalogStore for SqlCatalogStore<'_> {
    fn insert_category(&self, category: &Category) -> Result<(), StoreError> {
        let result = self.run_db(|db| {
            db.execute(
                "INSERT INTO categories (id, slug, name, parent_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    text(&category.id),
                    text(category.slug.as_str()),
                    text(category.name.as_str()),
                    category.parent_id.clone().into(),
                    int(category.created_at_ms),
                ],
            )
        });
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.kind == DbErrorKind::UniqueViolation => Err(StoreError::SlugTaken),
            Err(err) => Err(err.into()),
        }
    }

    fn list_categories(&self) -> Result<Vec<Category>, StoreError> {
        self.run(|db| {
            db.query(
                "SELECT id, slug, name, parent_id, created_at FROM categories ORDER BY slug",
                &[],
            )?
            .iter()
            .map(category_from_row)
            .collect()
        })
    }

    fn category_exists(&self, id: &str) -> Result<bool, StoreError> {
        self.run(|db| {
            Ok(!db
                .query("SELECT 1 FROM categories WHERE id = $1", &[text(id)])?
                .is_empty())
        })
    }

    fn insert_product(&self, product: &Product) -> Result<(), StoreError> {
        self.run(|db| {
            let created = product_event(self.ids, "product.created", product)?;
            transaction(db, |tx| {
                tx.execute(
                    "INSERT INTO products (id, seller_id, title, description, category_id, \
                 price_amount, price_currency, attributes, on_hand, reserved, status, version, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13)",
                    &[
                        text(&product.id),
                        text(&product.seller_id),
                        text(product.title.as_str()),
                        text(product.description.as_str()),
                        text(&product.category_id),
                        int(product.price.amount()),
                        text(product.price.currency().code()),
                        text(&product.attributes.to_json()),
                        int(product.stock.on_hand()),
                        text(product.status.as_str()),
                        int(product.version),
                        int(product.created_at_ms),
                        int(product.updated_at_ms),
                    ],
                )?;
                events::record(tx, SOURCE, std::slice::from_ref(&created))
            })
        })
    }

    fn find_product(&self, id: &str, now_ms: i64) -> Result<Option<ProductRead>, StoreError> {
        self.run(|db| {
            let rows = db.query(
                &format!(
                    "SELECT {PRODUCT_COLUMNS}, (SELECT MIN(r.expires_at) FROM reservation_lines l \
                     JOIN reservations r ON r.order_id = l.order_id \
                     WHERE l.product_id = p.id AND r.state = 'held' AND r.expires_at > $1) \
                     FROM products p WHERE p.id = $2"
                ),
                &[int(now_ms), text(id)],
            )?;
            rows.first()
                .map(|row| {
                    Ok(ProductRead {
                        product: product_from_row(row)?,
                        next_lapse_ms: row.opt_int(15)?,
                    })
                })
                .transpose()
        })
    }

    fn save_product(&self, product: &Product, expected_version: i64) -> Result<bool, StoreError> {
        let event_type = if product.status == ProductStatus::Archived {
            "product.archived"
        } else {
            "product.updated"
        };
        self.run(|db| {
            let changed = product_event(self.ids, event_type, product)?;
            transaction(db, |tx| {
                // RETURNING, not the affected-row count: on SQLite the count is the shared
                // connection's, which another instance's statement may have changed meanwhile.
                let won = tx.query(
                    "UPDATE products SET title = $2, description = $3, category_id = $4, \
                 price_amount = $5, price_currency = $6, attributes = $7, status = $8, \
                 version = $9, updated_at = $10 WHERE id = $1 AND version = $11 RETURNING id",
                    &[
                        text(&product.id),
                        text(product.title.as_str()),
                        text(product.description.as_str()),
                        text(&product.category_id),
                        int(product.price.amount()),
                        text(product.price.currency().code()),
                        text(&product.attributes.to_json()),
                        text(product.status.as_str()),
                        int(product.version),
                        int(product.updated_at_ms),
                        int(expected_version),
                    ],
                )?;
                if won.is_empty() {
                    return Ok(false);
                }
                events::record(tx, SOURCE, std::slice::from_ref(&changed))?;
                Ok(true)
            })
        })
    }

    fn set_on_hand(
        &self,
        id: &str,
        on_hand: OnHand,
        now_ms: i64,
    ) -> Result<SetStockOutcome, StoreError> {
        self.run(|db| {
            sweep(db, &[id], now_ms)?;
            transaction(db, |tx| {
                let rows = tx.query(
                    "SELECT status, on_hand, reserved FROM products WHERE id = $1",
                    &[text(id)],
                )?;
                let Some(row) = rows.first() else {
                    return Ok(SetStockOutcome::NotFound);
                };
                let status =
                    ProductStatus::parse(&row.text(0)?).ok_or_else(|| conversion("status"))?;
                if status.ensure_editable().is_err() {
                    return Ok(SetStockOutcome::Archived);
                }
                let reserved = row.int(2)?;
                let next = match StockLevel::from_counts(row.int(1)?, reserved).set_on_hand(on_hand)
                {
                    Ok(next) => next,
                    Err(_) => return Ok(SetStockOutcome::BelowReserved { reserved }),
                };
                let changed = tx.query(
                    "UPDATE products SET on_hand = $2, version = version + 1, updated_at = $3 \
                     WHERE id = $1 AND reserved <= $2 AND status = 'active' \
                     RETURNING seller_id, on_hand, reserved",
                    &[text(id), int(on_hand.get()), int(now_ms)],
                )?;
                let Some(row) = changed.first() else {
                    return Ok(SetStockOutcome::BelowReserved { reserved });
                };
                let event = stock_changed(self.ids, id, row, "set", now_ms)?;
                events::record(tx, SOURCE, &[event])?;
                Ok(SetStockOutcome::Done(next))
            })
        })
    }

    fn search_products(
        &self,
        search: &ProductSearch,
        now_ms: i64,
    ) -> Result<Vec<(Product, Keyset)>, StoreError> {
        self.run(|db| {
            let (sql, params) = search_sql(db.dialect(), search, now_ms, self.walk_rows);
            db.query(&sql, &params)?
                .iter()
                .map(|row| {
                    let product = product_from_row(row)?;
                    let key = Keyset {
                        tier: row.int(15)?,
                        price: product.price.amount(),
                        created_at_ms: product.created_at_ms,
                        units_sold: product.units_sold,
                        id: product.id.clone(),
                    };
                    Ok((product, key))
                })
                .collect()
        })
    }

    fn reserve(
        &self,
        request: &ReservationRequest,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<ReserveOutcome, StoreError> {
        self.run(|db| {
            sweep_oldest(db, now_ms)?;
            let mut attempt = transaction(db, |tx| reserve_tx(tx, request, now_ms, expires_at_ms));
            // Lapsed holds the sweep above did not reach may still count against a short
            // item: give back those on the short products, then try once more.
            if let Err(ReserveAbort::Short(items)) = &attempt {
                let ids: Vec<&str> = items.iter().map(|i| i.product_id.as_str()).collect();
                if sweep(db, &ids, now_ms)? > 0 {
                    attempt = transaction(db, |tx| reserve_tx(tx, request, now_ms, expires_at_ms));
                }
            }
            match attempt {
                Ok(outcome) => Ok(outcome),
                Err(ReserveAbort::Short(items)) => {
                    close_unreserved(db, &request.order_id, now_ms)?;
                    let shortages = items
                        .iter()
                        .map(|item| {
                            let left = available(db, &item.product_id, now_ms)?;
                            Ok(StockShortage {
                                product_id: item.product_id.clone(),
                                requested: item.quantity.get(),
                                available: u32::try_from(left.max(0)).unwrap_or(u32::MAX),
                            })
                        })
                        .collect::<Result<Vec<_>, DbError>>()?;
                    Ok(ReserveOutcome::Short(shortages))
                }
                Err(ReserveAbort::Db(err)) => Err(err),
            }
        })
    }

    fn commit_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError> {
        self.run(|db| settle(db, self.ids, order_id, now_ms, Settle::Commit))
    }

    fn release_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError> {
        self.run(|db| settle(db, self.ids, order_id, now_ms, Settle::Release))
    }

    fn restock_reservation(
        &self,
        order_id: &OrderId,
        now_ms: i64,
    ) -> Result<Transition, StoreError> {
        self.run(|db| settle(db, self.ids, order_id, now_ms, Settle::Restock))
    }
}
