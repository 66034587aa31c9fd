//! `SqlOrderRepository`: orders, lines, fulfilments, history, the outbox and idempotency keys
//! over the kernel's `Database` port — one implementation for PostgreSQL and SQLite. The only
//! dialect difference is row locking (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE`
//! already serialises writers). Every method is one unit of work in `with_migrations`, so a
//! fresh database is migrated on first use; every write, and on SQLite every read of a whole
//! order, runs in a transaction, because Spin's SQLite connection is shared by concurrent
//! instances (see `shopnow_spin::db`).
//!
//! Who won a race is decided by reading back a value only the winner wrote (a claim id, a
//! version), not by affected-row counts, which on a shared SQLite connection are the
//! connection's rather than the statement's.

use shopnow_kernel::events::NewEvent;
use shopnow_kernel::ids::{Clock, IdSource};
use shopnow_kernel::sql::{
    Database, DbError, DbErrorKind, Dialect, Row, SqlValue, transaction, with_migrations,
};
use shopnow_money::{Currency, Money};
use shopnow_orders::domain::fulfilment::TrackingNumber;
use shopnow_orders::domain::idempotency::Fingerprint;
use shopnow_orders::domain::order::{
    HistoryEntry, Order, OrderLine, OrderStatus, PaymentStatus, StockState,
};
use shopnow_orders::domain::{
    Fulfilment, FulfilmentStatus, OrderId, ProductId, Quantity, ShippingAddress,
};
use shopnow_orders::ports::{
    KeyClaim, KeyClaimOutcome, KeyHold, KeyOutcome, ListPosition, OrderRepository, OrderSummary,
    OutboxMessage, RepoError, SellerFulfilment,
};

use shopnow_orders::schema::MIGRATIONS;

const ORDER_COLUMNS: &str = "id, buyer_id, status, currency, total_amount, shipping_address, \
     payment_status, payment_reference, stock_state, created_at, updated_at, version";

/// Why a unit of work stopped: a database failure, or a lost optimistic-concurrency race.
#[derive(Debug)]
enum TxError {
    Db(DbError),
    Conflict,
    /// A write on an idempotency key matched nothing under its claim id (rolled back).
    ClaimLost,
}

impl From<DbError> for TxError {
    fn from(err: DbError) -> Self {
        Self::Db(err)
    }
}

fn repo_error(err: DbError) -> RepoError {
    match err.kind {
        DbErrorKind::Unavailable => RepoError::Unavailable(err.to_string()),
        _ => RepoError::Failed(err.to_string()),
    }
}

fn conversion(message: impl Into<String>) -> DbError {
    DbError::new(DbErrorKind::Conversion, message)
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

fn int(value: i64) -> SqlValue {
    SqlValue::Int(value)
}

fn opt_int(value: Option<i64>) -> SqlValue {
    value.map_or(SqlValue::Null, SqlValue::Int)
}

fn opt_text(value: Option<&str>) -> SqlValue {
    value.map_or(SqlValue::Null, text)
}

fn money(amount: i64, currency: &str) -> Result<Money, DbError> {
    let currency = Currency::parse(currency).map_err(|e| conversion(e.to_string()))?;
    Money::parse(amount, currency).map_err(|e| conversion(e.to_string()))
}

/// `FOR UPDATE` where the dialect has row locks.
fn for_update(db: &dyn Database) -> &'static str {
    match db.dialect() {
        Dialect::Postgres => " FOR UPDATE",
        Dialect::Sqlite => "",
    }
}

/// The orders repository over one (lazily opened) database.
pub struct SqlOrderRepository<'a> {
    db: &'a dyn Database,
    clock: &'a dyn Clock,
    ids: &'a dyn IdSource,
}

impl<'a> SqlOrderRepository<'a> {
    /// A repository on `db`; `clock` stamps applied migrations, `ids` mints claim ids.
    pub fn new(db: &'a dyn Database, clock: &'a dyn Clock, ids: &'a dyn IdSource) -> Self {
        Self { db, clock, ids }
    }

    fn run<T>(&self, op: impl FnMut(&dyn Database) -> Result<T, DbError>) -> Result<T, RepoError> {
        with_migrations(self.db, MIGRATIONS, self.clock.now_ms(), op).map_err(repo_error)
    }

    /// Runs a read of several statements (migrating first if needed). On SQLite it runs in a
    /// transaction: the embedded connection is shared by concurrent instances, and without one
    /// the statements would interleave with another instance's open transaction and read its
    /// half-written order (a bumped version without the history rows that go with it), which a
    /// later version check would then accept. PostgreSQL gives each request its own connection,
    /// so there a read never sees uncommitted rows and the version check catches a stale one.
    fn read<T>(
        &self,
        mut op: impl FnMut(&dyn Database) -> Result<T, DbError>,
    ) -> Result<T, RepoError> {
        self.run(|db| match db.dialect() {
            Dialect::Sqlite => transaction(db, &mut op),
            Dialect::Postgres => op(db),
        })
    }

    /// Runs `work` in a transaction (migrating first if needed), mapping a lost race.
    fn write<T>(
        &self,
        mut work: impl FnMut(&dyn Database) -> Result<T, TxError>,
    ) -> Result<T, RepoError> {
        let mut conflict = false;
        let mut claim_lost = false;
        let result = self.run(|db| {
            transaction(db, |tx| match work(tx) {
                Ok(v) => Ok(Some(v)),
                Err(TxError::Conflict) => {
                    conflict = true;
                    Err(TxError::Conflict)
                }
                Err(TxError::ClaimLost) => {
                    claim_lost = true;
                    Err(TxError::ClaimLost)
                }
                Err(TxError::Db(e)) => Err(TxError::Db(e)),
            })
            .or_else(|e| match e {
                TxError::Conflict | TxError::ClaimLost => Ok(None),
                TxError::Db(e) => Err(e),
            })
        })?;
        match result {
            Some(v) => Ok(v),
            None if conflict => Err(RepoError::Conflict),
            None if claim_lost => Err(RepoError::ClaimLost),
            None => Err(RepoError::Failed("transaction produced no result".into())),
        }
    }
}

fn order_head(row: &Row) -> Result<Order, DbError> {
    let id = OrderId::parse(&row.text(0)?).map_err(|_| conversion("order id"))?;
    let status = OrderStatus::parse(&row.text(2)?).ok_or_else(|| conversion("order status"))?;
    let total = money(row.int(4)?, &row.text(3)?)?;
    let shipping_address: ShippingAddress =
        serde_json::from_str(&row.text(5)?).map_err(|e| conversion(e.to_string()))?;
    let payment =
        PaymentStatus::parse(&row.text(6)?).ok_or_else(|| conversion("payment status"))?;
    let stock = StockState::parse(&row.text(8)?).ok_or_else(|| conversion("stock state"))?;
    Ok(Order {
        id,
        buyer_id: row.text(1)?,
        status,
        lines: Vec::new(),
        fulfilments: Vec::new(),
        total,
        shipping_address,
        payment,
        payment_reference: row.opt_text(7)?,
        stock,
        created_at_ms: row.int(9)?,
        updated_at_ms: row.int(10)?,
        version: row.int(11)?,
        history: Vec::new(),
        history_saved: 0,
        fulfilments_saved: Vec::new(),
    })
}

fn line_from_row(row: &Row) -> Result<OrderLine, DbError> {
    Ok(OrderLine {
        product_id: ProductId::parse(&row.text(0)?).map_err(|_| conversion("product id"))?,
        seller_id: row.text(1)?,
        title: row.text(2)?,
        unit_price: money(row.int(3)?, &row.text(4)?)?,
        quantity: Quantity::parse(row.int(5)?).map_err(|_| conversion("quantity"))?,
    })
}

const LINE_COLUMNS: &str = "product_id, seller_id, title, unit_amount, currency, quantity";

/// A fulfilment from five columns starting at `at`: id, seller id, status, tracking number,
/// shipped at.
fn fulfilment_from_row(row: &Row, at: usize) -> Result<Fulfilment, DbError> {
    Ok(Fulfilment {
        id: row.text(at)?,
        seller_id: row.text(at + 1)?,
        status: FulfilmentStatus::parse(&row.text(at + 2)?)
            .ok_or_else(|| conversion("fulfilment status"))?,
        tracking_number: row
            .opt_text(at + 3)?
            .map(|t| TrackingNumber::parse(&t).map_err(|_| conversion("tracking number")))
            .transpose()?,
        shipped_at_ms: row.opt_int(at + 4)?,
    })
}

fn load_order(db: &dyn Database, id: &str, lock: bool) -> Result<Option<Order>, DbError> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{}",
        if lock { for_update(db) } else { "" }
    );
    let Some(row) = db.query(&sql, &[text(id)])?.into_iter().next() else {
        return Ok(None);
    };
    let mut orders = vec![order_head(&row)?];
    load_parts(db, &mut orders)?;
    Ok(orders.pop())
}

/// Placeholders `$from, …` for `count` parameters.
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fills in the lines, fulfilments and history of `orders` with one statement, whatever their
/// number: the three child tables as one `UNION ALL`, told apart by `kind` (columns shared by
/// type: `a`–`d` text, `x`, `y` integers).
fn load_parts(db: &dyn Database, orders: &mut [Order]) -> Result<(), DbError> {
    if orders.is_empty() {
        return Ok(());
    }
    let ids: Vec<SqlValue> = orders.iter().map(|o| text(o.id.as_str())).collect();
    let set = placeholders(1, ids.len());
    let rows = db.query(
        &format!(
            "SELECT order_id, 0 AS kind, line_no AS n, product_id AS a, seller_id AS b, \
             title AS c, currency AS d, unit_amount AS x, quantity AS y \
             FROM order_lines WHERE order_id IN ({set}) \
             UNION ALL SELECT order_id, 1, position, id, seller_id, status, tracking_number, \
             shipped_at, NULL FROM fulfilments WHERE order_id IN ({set}) \
             UNION ALL SELECT order_id, 2, seq, event, status, fulfilment_id, NULL, at, NULL \
             FROM order_history WHERE order_id IN ({set}) \
             ORDER BY order_id, kind, n"
        ),
        &ids,
    )?;
    for row in &rows {
        let order_id = row.text(0)?;
        let Some(order) = orders.iter_mut().find(|o| o.id.as_str() == order_id) else {
            continue;
        };
        match row.int(1)? {
            0 => order.lines.push(OrderLine {
                product_id: ProductId::parse(&row.text(3)?)
                    .map_err(|_| conversion("product id"))?,
                seller_id: row.text(4)?,
                title: row.text(5)?,
                unit_price: money(row.int(7)?, &row.text(6)?)?,
                quantity: Quantity::parse(row.int(8)?).map_err(|_| conversion("quantity"))?,
            }),
            1 => order.fulfilments.push(fulfilment_from_row(row, 3)?),
            _ => order.history.push(HistoryEntry {
                event: row.text(3)?,
                status: OrderStatus::parse(&row.text(4)?)
                    .ok_or_else(|| conversion("history status"))?,
                fulfilment_id: row.opt_text(5)?,
                at_ms: row.int(7)?,
            }),
        }
    }
    for order in orders {
        order.history_saved = order.history.len();
        order.fulfilments_saved.clone_from(&order.fulfilments);
    }
    Ok(())
}

/// The orders whose ids are the first column of `rows`, in that order: two statements for the
/// whole batch (the heads, then [`load_parts`]).
fn load_orders(db: &dyn Database, rows: Vec<Row>) -> Result<Vec<Order>, DbError> {
    let ids = rows
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<SqlValue> = ids.iter().map(|id| text(id)).collect();
    let heads = db.query(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({})",
            placeholders(1, params.len())
        ),
        &params,
    )?;
    let mut orders = heads
        .iter()
        .map(order_head)
        .collect::<Result<Vec<_>, _>>()?;
    orders.sort_by_key(|o| ids.iter().position(|id| id == o.id.as_str()));
    load_parts(db, &mut orders)?;
    Ok(orders)
}

/// Stores a finished request's outcome under its idempotency key, if its claim still holds the
/// key; returns whether it did. (RETURNING, not the affected-row count: on SQLite the count is
/// the shared connection's.)
fn store_outcome(db: &dyn Database, done: KeyOutcome<'_>) -> Result<bool, DbError> {
    let stored = db.query(
        "UPDATE idempotency_keys SET outcome = $3 \
         WHERE user_id = $1 AND idem_key = $2 AND claim_id = $4 RETURNING claim_id",
        &[
            text(done.hold.user_id),
            text(done.hold.key.as_str()),
            text(done.outcome),
            text(done.hold.claim_id),
        ],
    )?;
    Ok(!stored.is_empty())
}

fn insert_history(db: &dyn Database, order: &Order) -> Result<(), DbError> {
    for (seq, entry) in order.history.iter().enumerate().skip(order.history_saved) {
        db.execute(
            "INSERT INTO order_history (order_id, seq, event, status, fulfilment_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                text(order.id.as_str()),
                int(i64::try_from(seq).unwrap_or(i64::MAX)),
                text(&entry.event),
                text(entry.status.as_str()),
                opt_text(entry.fulfilment_id.as_deref()),
                int(entry.at_ms),
            ],
        )?;
    }
    Ok(())
}

/// Writes `outbox` through the shared outbox (`shopnow_kernel::events`): each message's payload
/// is the event with its `type` tag, which the envelope carries instead.
fn insert_outbox(db: &dyn Database, outbox: &[OutboxMessage]) -> Result<(), DbError> {
    let events = outbox
        .iter()
        .map(|message| {
            let mut data: serde_json::Value = serde_json::from_str(&message.payload)
                .map_err(|e| DbError::new(DbErrorKind::Other, format!("event payload: {e}")))?;
            if let Some(object) = data.as_object_mut() {
                object.remove("type");
            }
            Ok(NewEvent {
                id: message.id.clone(),
                event_type: message.event_type.clone(),
                aggregate_type: "order",
                aggregate_id: message.order_id.clone(),
                occurred_at_ms: message.occurred_at_ms,
                data,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    shopnow_kernel::events::record(db, "orders", &events)
}

fn item_count(order: &Order) -> i64 {
    order
        .lines
        .iter()
        .map(|l| i64::from(l.quantity.get()))
        .sum()
}

/// Position of the first page: after every real row.
fn position_params(after: Option<&ListPosition>) -> (SqlValue, SqlValue) {
    match after {
        Some(p) => (int(p.created_at_ms), text(&p.id)),
        None => (int(i64::MAX), text("")),
    }
}

/// After the position: a row comparison, which PostgreSQL answers as a range of the
/// `(…, created_at, id)` index, so page 50 costs what page 1 does (the expanded `OR` form
/// walked every earlier row). Without a position, `(i64::MAX, '')` is after every row.
const AFTER: &str = "(created_at, id) < ($2, $3)";

impl OrderRepository for SqlOrderRepository<'_> {
    fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<KeyClaimOutcome, RepoError> {
        let claim_id = self
            .ids
            .new_id()
            .map_err(|e| RepoError::Failed(e.to_string()))?;
        let user = claim.user_id;
        let key = claim.key.as_str();
        let insert = |db: &dyn Database| -> Result<bool, DbError> {
            let claimed = db.query(
                "INSERT INTO idempotency_keys \
                 (user_id, idem_key, fingerprint, claim_id, locked_until, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, idem_key) DO NOTHING \
                 RETURNING claim_id",
                &[
                    text(user),
                    text(key),
                    text(claim.fingerprint.as_str()),
                    text(&claim_id),
                    int(claim.locked_until_ms),
                    int(claim.now_ms),
                    int(claim.expires_at_ms),
                ],
            )?;
            Ok(!claimed.is_empty())
        };
        self.write(|db| {
            // A new key (the usual case) is claimed by its insert alone. Otherwise a lapsed key
            // is forgotten and claimed afresh, and a live one is looked at under lock.
            if insert(db)? {
                return Ok(KeyClaimOutcome::Claimed {
                    claim_id: claim_id.clone(),
                    previous_order: None,
                });
            }
            let lapsed = db.query(
                "DELETE FROM idempotency_keys \
                 WHERE user_id = $1 AND idem_key = $2 AND expires_at <= $3 RETURNING claim_id",
                &[text(user), text(key), int(claim.now_ms)],
            )?;
            if !lapsed.is_empty() && insert(db)? {
                return Ok(KeyClaimOutcome::Claimed {
                    claim_id: claim_id.clone(),
                    previous_order: None,
                });
            }
            let sql = format!(
                "SELECT fingerprint, claim_id, order_id, outcome, locked_until FROM idempotency_keys \
                 WHERE user_id = $1 AND idem_key = $2{}",
                for_update(db)
            );
            let row = db
                .query(&sql, &[text(user), text(key)])?
                .into_iter()
                .next()
                .ok_or_else(|| DbError::new(DbErrorKind::Other, "claimed key vanished"))?;
            let fingerprint = Fingerprint::from_stored(row.text(0)?);
            if let Some(outcome) = row.opt_text(3)? {
                return Ok(KeyClaimOutcome::Completed {
                    fingerprint,
                    outcome,
                });
            }
            if row.int(4)? > claim.now_ms || fingerprint != *claim.fingerprint {
                return Ok(KeyClaimOutcome::InFlight { fingerprint });
            }
            // The holder's lock lapsed: take the key over, naming ourselves the holder.
            db.execute(
                "UPDATE idempotency_keys SET claim_id = $3, locked_until = $4 \
                 WHERE user_id = $1 AND idem_key = $2",
                &[
                    text(user),
                    text(key),
                    text(&claim_id),
                    int(claim.locked_until_ms),
                ],
            )?;
            let previous_order = row
                .opt_text(2)?
                .map(|id| OrderId::parse(&id).map_err(|_| conversion("order id")))
                .transpose()?;
            Ok(KeyClaimOutcome::Claimed {
                claim_id: claim_id.clone(),
                previous_order,
            })
        })
    }

    fn complete_key(&self, hold: KeyHold<'_>, outcome: &str) -> Result<(), RepoError> {
        self.write(|db| {
            if store_outcome(db, KeyOutcome { hold, outcome })? {
                Ok(())
            } else {
                Err(TxError::ClaimLost)
            }
        })
    }

    fn release_key(&self, hold: KeyHold<'_>, attempted: &OrderId) -> Result<(), RepoError> {
        self.write(|db| {
            let released = db.query(
                "UPDATE idempotency_keys SET locked_until = 0, order_id = $3 \
                 WHERE user_id = $1 AND idem_key = $2 AND claim_id = $4 AND outcome IS NULL \
                 RETURNING claim_id",
                &[
                    text(hold.user_id),
                    text(hold.key.as_str()),
                    text(attempted.as_str()),
                    text(hold.claim_id),
                ],
            )?;
            if released.is_empty() {
                return Err(TxError::ClaimLost);
            }
            Ok(())
        })
    }

    fn release_keys_of_order(&self, order_id: &OrderId) -> Result<(), RepoError> {
        self.write(|db| {
            db.execute(
                "DELETE FROM idempotency_keys WHERE order_id = $1 AND outcome IS NULL",
                &[text(order_id.as_str())],
            )?;
            Ok(())
        })
    }

    fn insert(
        &self,
        order: &Order,
        outbox: &[OutboxMessage],
        hold: Option<KeyHold<'_>>,
    ) -> Result<(), RepoError> {
        let address = serde_json::to_string(&order.shipping_address)
            .map_err(|e| RepoError::Failed(e.to_string()))?;
        self.write(|db| {
            db.execute(
                &format!(
                    "INSERT INTO orders ({ORDER_COLUMNS}, item_count) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12)"
                ),
                &[
                    text(order.id.as_str()),
                    text(&order.buyer_id),
                    text(order.status.as_str()),
                    text(order.total.currency().code()),
                    int(order.total.amount()),
                    text(&address),
                    text(order.payment.as_str()),
                    opt_text(order.payment_reference.as_deref()),
                    text(order.stock.as_str()),
                    int(order.created_at_ms),
                    int(order.updated_at_ms),
                    int(item_count(order)),
                ],
            )?;
            for (n, line) in order.lines.iter().enumerate() {
                db.execute(
                    "INSERT INTO order_lines \
                     (order_id, line_no, product_id, seller_id, title, unit_amount, currency, quantity) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        text(order.id.as_str()),
                        int(i64::try_from(n).unwrap_or(i64::MAX)),
                        text(line.product_id.as_str()),
                        text(&line.seller_id),
                        text(&line.title),
                        int(line.unit_price.amount()),
                        text(line.unit_price.currency().code()),
                        int(i64::from(line.quantity.get())),
                    ],
                )?;
            }
            for (n, f) in order.fulfilments.iter().enumerate() {
                db.execute(
                    "INSERT INTO fulfilments \
                     (id, order_id, position, seller_id, status, tracking_number, shipped_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                    &[
                        text(&f.id),
                        text(order.id.as_str()),
                        int(i64::try_from(n).unwrap_or(i64::MAX)),
                        text(&f.seller_id),
                        text(f.status.as_str()),
                        opt_text(f.tracking_number.as_ref().map(TrackingNumber::as_str)),
                        opt_int(f.shipped_at_ms),
                        int(order.created_at_ms),
                    ],
                )?;
            }
            insert_history(db, order)?;
            insert_outbox(db, outbox)?;
            if let Some(hold) = hold {
                // Only under this request's claim: if it lapsed and another request took the key
                // over, the whole insert rolls back and nothing of this order exists.
                let linked = db.query(
                    "UPDATE idempotency_keys SET order_id = $3 \
                     WHERE user_id = $1 AND idem_key = $2 AND claim_id = $4 RETURNING claim_id",
                    &[
                        text(hold.user_id),
                        text(hold.key.as_str()),
                        text(order.id.as_str()),
                        text(hold.claim_id),
                    ],
                )?;
                if linked.is_empty() {
                    return Err(TxError::ClaimLost);
                }
            }
            Ok(())
        })
    }

    fn update(
        &self,
        order: &Order,
        outbox: &[OutboxMessage],
        completes: Option<KeyOutcome<'_>>,
    ) -> Result<(), RepoError> {
        self.write(|db| {
            // The version check and the write are one statement: no row back means another
            // request saved the order since it was read (or it is gone), and nothing is written.
            let saved = db.query(
                "UPDATE orders SET status = $2, payment_status = $3, payment_reference = $4, \
                 stock_state = $5, updated_at = $6, version = $7 \
                 WHERE id = $1 AND version = $8 RETURNING id",
                &[
                    text(order.id.as_str()),
                    text(order.status.as_str()),
                    text(order.payment.as_str()),
                    opt_text(order.payment_reference.as_deref()),
                    text(order.stock.as_str()),
                    int(order.updated_at_ms),
                    int(order.version.saturating_add(1)),
                    int(order.version),
                ],
            )?;
            if saved.is_empty() {
                return Err(TxError::Conflict);
            }
            for f in order.changed_fulfilments() {
                db.execute(
                    "UPDATE fulfilments SET status = $2, tracking_number = $3, shipped_at = $4, \
                     updated_at = $5 WHERE id = $1",
                    &[
                        text(&f.id),
                        text(f.status.as_str()),
                        opt_text(f.tracking_number.as_ref().map(TrackingNumber::as_str)),
                        opt_int(f.shipped_at_ms),
                        int(order.updated_at_ms),
                    ],
                )?;
            }
            insert_history(db, order)?;
            insert_outbox(db, outbox)?;
            // A claim taken over: the order is saved, the outcome is not (the key names this
            // order, so its new holder replays it).
            if let Some(done) = completes {
                store_outcome(db, done)?;
            }
            Ok(())
        })
    }

    fn find(&self, id: &OrderId) -> Result<Option<Order>, RepoError> {
        self.read(|db| load_order(db, id.as_str(), false))
    }

    fn find_by_fulfilment(&self, fulfilment_id: &str) -> Result<Option<Order>, RepoError> {
        self.read(|db| {
            let Some(row) = db
                .query(
                    "SELECT order_id FROM fulfilments WHERE id = $1",
                    &[text(fulfilment_id)],
                )?
                .into_iter()
                .next()
            else {
                return Ok(None);
            };
            load_order(db, &row.text(0)?, false)
        })
    }

    fn list_for_buyer(
        &self,
        buyer_id: &str,
        after: Option<&ListPosition>,
        limit: u32,
    ) -> Result<Vec<OrderSummary>, RepoError> {
        let (at, id) = position_params(after);
        self.run(|db| {
            db.query(
                &format!(
                    "SELECT id, status, currency, total_amount, item_count, created_at, updated_at \
                     FROM orders WHERE buyer_id = $1 AND {AFTER} \
                     ORDER BY created_at DESC, id DESC LIMIT $4"
                ),
                &[
                    text(buyer_id),
                    at.clone(),
                    id.clone(),
                    int(i64::from(limit)),
                ],
            )?
            .iter()
            .map(|row| {
                Ok(OrderSummary {
                    id: row.text(0)?,
                    status: OrderStatus::parse(&row.text(1)?)
                        .ok_or_else(|| conversion("order status"))?,
                    total: money(row.int(3)?, &row.text(2)?)?,
                    item_count: u32::try_from(row.int(4)?).unwrap_or(u32::MAX),
                    created_at_ms: row.int(5)?,
                    updated_at_ms: row.int(6)?,
                })
            })
            .collect()
        })
    }

    fn list_for_seller(
        &self,
        seller_id: &str,
        after: Option<&ListPosition>,
        limit: u32,
    ) -> Result<Vec<SellerFulfilment>, RepoError> {
        let (at, id) = position_params(after);
        self.read(|db| {
            let rows = db.query(
                "SELECT f.id, f.seller_id, f.status, f.tracking_number, f.shipped_at, \
                 f.order_id, f.created_at, o.shipping_address \
                 FROM fulfilments f JOIN orders o ON o.id = f.order_id \
                 WHERE f.seller_id = $1 \
                 AND f.status IN ('awaiting_shipment', 'shipped', 'cancelled') \
                 AND (f.created_at, f.id) < ($2, $3) \
                 ORDER BY f.created_at DESC, f.id DESC LIMIT $4",
                &[
                    text(seller_id),
                    at.clone(),
                    id.clone(),
                    int(i64::from(limit)),
                ],
            )?;
            // The page's lines of this seller, one statement for the whole page.
            let mut params = vec![text(seller_id)];
            for row in &rows {
                params.push(text(&row.text(5)?));
            }
            let mut lines: Vec<(String, OrderLine)> = if rows.is_empty() {
                Vec::new()
            } else {
                db.query(
                    &format!(
                        "SELECT {LINE_COLUMNS}, order_id FROM order_lines \
                         WHERE seller_id = $1 AND order_id IN ({}) ORDER BY order_id, line_no",
                        placeholders(2, rows.len())
                    ),
                    &params,
                )?
                .iter()
                .map(|row| Ok((row.text(6)?, line_from_row(row)?)))
                .collect::<Result<_, DbError>>()?
            };
            rows.iter()
                .map(|row| {
                    let order_id = row.text(5)?;
                    let (mine, rest) = lines.drain(..).partition(|(id, _)| *id == order_id);
                    lines = rest;
                    Ok(SellerFulfilment {
                        fulfilment: fulfilment_from_row(row, 0)?,
                        order_id,
                        lines: mine.into_iter().map(|(_, line)| line).collect(),
                        shipping_address: serde_json::from_str(&row.text(7)?)
                            .map_err(|e| conversion(e.to_string()))?,
                        created_at_ms: row.int(6)?,
                    })
                })
                .collect()
        })
    }

    fn stale_pending(&self, updated_before_ms: i64, limit: u32) -> Result<Vec<Order>, RepoError> {
        self.read(|db| {
            let rows = db.query(
                "SELECT id FROM orders WHERE status = 'pending' AND updated_at < $1 \
                 ORDER BY updated_at LIMIT $2",
                &[int(updated_before_ms), int(i64::from(limit))],
            )?;
            load_orders(db, rows)
        })
    }

    fn owing_compensation(&self, limit: u32) -> Result<Vec<Order>, RepoError> {
        self.read(|db| {
            let rows = db.query(
                "SELECT id FROM orders \
                 WHERE status IN ('payment_failed', 'failed', 'cancelled') \
                 AND (stock_state <> 'returned' OR payment_status IN ('authorized', 'unknown')) \
                 ORDER BY updated_at LIMIT $1",
                &[int(i64::from(limit))],
            )?;
            load_orders(db, rows)
        })
    }

    fn unrecorded_attempts(&self, now_ms: i64, limit: u32) -> Result<Vec<OrderId>, RepoError> {
        self.read(|db| {
            db.query(
                "SELECT DISTINCT k.order_id FROM idempotency_keys k \
                 WHERE k.outcome IS NULL AND k.order_id IS NOT NULL AND k.locked_until <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = k.order_id) \
                 ORDER BY k.order_id LIMIT $2",
                &[int(now_ms), int(i64::from(limit))],
            )?
            .iter()
            .map(|row| OrderId::parse(&row.text(0)?).map_err(|_| conversion("order id")))
            .collect()
        })
    }

    fn forget_attempt(&self, order_id: &OrderId) -> Result<(), RepoError> {
        self.write(|db| {
            db.execute(
                "UPDATE idempotency_keys SET order_id = NULL \
                 WHERE order_id = $1 AND outcome IS NULL",
                &[text(order_id.as_str())],
            )?;
            Ok(())
        })
    }

    fn purge_seller_events(&self, before_ms: i64) -> Result<u64, RepoError> {
        self.write(|db| {
            Ok(db.execute(
                "DELETE FROM seller_events WHERE (seller_id, seq) IN (\
                 SELECT seller_id, seq FROM seller_events \
                 WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2)",
                &[
                    int(before_ms),
                    int(shopnow_orders::app::sweep::FEED_PURGE_BATCH),
                ],
            )?)
        })
    }

    fn purge_keys(&self, now_ms: i64) -> Result<u64, RepoError> {
        self.write(|db| {
            let expired = db
                .query(
                    "SELECT COUNT(*) FROM idempotency_keys WHERE expires_at <= $1",
                    &[int(now_ms)],
                )?
                .first()
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0);
            db.execute(
                "DELETE FROM idempotency_keys WHERE expires_at <= $1",
                &[int(now_ms)],
            )?;
            Ok(u64::try_from(expired).unwrap_or(0))
        })
    }
}
