//! The seller event feed (`GET /v1/seller/events`, docs/events.md "Seller event feed"): what
//! concerns one seller — new order lines to ship, cancellations, shipments, its products and
//! stock — oldest first, pulled with a cursor (nothing is pushed to a seller-supplied URL).
//!
//! Written by the orders consumers (`orders.orders`, `orders.catalog`) in the transaction that
//! also records the event as processed, so each source event lands once per seller. Positions
//! are the seller's own (1, 2, 3…: they say nothing of other sellers' volume), from its row of
//! `seller_feed_head`, incremented in that transaction: the row lock serialises that seller's
//! feed writers until commit, so its positions are committed in increasing order and a reader
//! that resumes after position `n` never misses a row committed later with a smaller one.
//! Sellers are appended to in id order, so two writers never wait on each other in a cycle.

use serde::Serialize;
use serde_json::{Value, json};
use shopnow_kernel::consumer::{HandlerError, ReceivedEvent};
use shopnow_kernel::sql::{Database, DbError, DbErrorKind, SqlValue};
use shopnow_kernel::time::rfc3339;

/// One feed entry on the wire.
#[derive(Debug, Serialize)]
pub struct FeedEntry {
    /// Resume after this entry with `?after=<cursor>`.
    pub cursor: String,
    /// The source event's id (UUIDv7).
    pub id: String,
    /// The source event's type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// What the seller needs of it (see docs/events.md).
    pub data: Value,
}

/// Appends `event` to the feed of each seller it concerns, inside the consumer's transaction;
/// other events add nothing.
///
/// # Errors
/// [`HandlerError::Rejected`] for a payload without the fields its type needs; database errors.
pub fn record(tx: &dyn Database, event: &ReceivedEvent) -> Result<(), HandlerError> {
    let entries = match (event.source.as_str(), event.event_type.as_str()) {
        ("orders", "order.placed") => placed(tx, event.text("order_id")?)?,
        ("orders", "order.cancelled") => {
            let order_id = event.text("order_id")?;
            fulfilments(tx, order_id)?
                .into_iter()
                .map(|(id, seller)| (seller, json!({"order_id": order_id, "fulfilment_id": id})))
                .collect()
        }
        ("orders", "fulfilment.shipped") => vec![(
            event.text("seller_id")?.to_owned(),
            json!({
                "order_id": event.text("order_id")?,
                "fulfilment_id": event.text("fulfilment_id")?,
                "tracking_number": event.data.get("tracking_number").cloned().unwrap_or(Value::Null),
            }),
        )],
        ("catalog", "product.created" | "product.updated" | "product.archived") => vec![(
            event.text("seller_id")?.to_owned(),
            pick(
                event,
                &["product_id", "title", "status", "on_hand", "version"],
            )?,
        )],
        ("catalog", "stock.changed") => vec![(
            event.text("seller_id")?.to_owned(),
            pick(event, &["product_id", "on_hand", "reserved", "reason"])?,
        )],
        _ => Vec::new(),
    };
    let mut entries = entries;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (seller_id, data) in entries {
        append(tx, &seller_id, event, &data)?;
    }
    Ok(())
}

/// The fields `names` of the event's payload, each required.
fn pick(event: &ReceivedEvent, names: &[&str]) -> Result<Value, HandlerError> {
    let mut out = serde_json::Map::new();
    for name in names {
        let value = event
            .data
            .get(*name)
            .ok_or_else(|| HandlerError::Rejected(format!("`data.{name}` is missing")))?;
        out.insert((*name).to_owned(), value.clone());
    }
    Ok(Value::Object(out))
}

/// `(fulfilment id, seller id)` of each fulfilment of the order, in order.
fn fulfilments(tx: &dyn Database, order_id: &str) -> Result<Vec<(String, String)>, DbError> {
    tx.query(
        "SELECT id, seller_id FROM fulfilments WHERE order_id = $1 ORDER BY position",
        &[order_id.into()],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, row.text(1)?)))
    .collect()
}

/// For each seller of a placed order: its fulfilment and its lines to ship (never another
/// seller's lines, nor the buyer's address or payment).
fn placed(tx: &dyn Database, order_id: &str) -> Result<Vec<(String, Value)>, DbError> {
    // One read for every seller's part: fulfilments joined with their seller's lines.
    let rows = tx.query(
        "SELECT f.id, f.seller_id, l.product_id, l.title, l.quantity FROM fulfilments f \
         JOIN order_lines l ON l.order_id = f.order_id AND l.seller_id = f.seller_id \
         WHERE f.order_id = $1 ORDER BY f.position, l.line_no",
        &[order_id.into()],
    )?;
    let mut parts: Vec<(String, String, Vec<Value>)> = Vec::new();
    for row in &rows {
        let fulfilment_id = row.text(0)?;
        let line = json!({
            "product_id": row.text(2)?,
            "title": row.text(3)?,
            "quantity": row.int(4)?,
        });
        match parts.last_mut() {
            Some((id, _, lines)) if *id == fulfilment_id => lines.push(line),
            _ => parts.push((fulfilment_id, row.text(1)?, vec![line])),
        }
    }
    Ok(parts
        .into_iter()
        .map(|(fulfilment_id, seller_id, lines)| {
            (
                seller_id,
                json!({"order_id": order_id, "fulfilment_id": fulfilment_id, "lines": lines}),
            )
        })
        .collect())
}

fn append(
    tx: &dyn Database,
    seller_id: &str,
    event: &ReceivedEvent,
    data: &Value,
) -> Result<(), DbError> {
    let seq = tx
        .query(
            "INSERT INTO seller_feed_head (seller_id, seq) VALUES ($1, 1) \
             ON CONFLICT (seller_id) DO UPDATE SET seq = seller_feed_head.seq + 1 RETURNING seq",
            &[seller_id.into()],
        )?
        .first()
        .map(|row| row.int(0))
        .transpose()?
        .ok_or_else(|| DbError::new(DbErrorKind::Conversion, "the feed counter returned no row"))?;
    tx.execute(
        "INSERT INTO seller_events (seq, seller_id, event_id, event_type, occurred_at, data) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (seller_id, event_id) DO NOTHING",
        &[
            SqlValue::Int(seq),
            seller_id.into(),
            event.id.as_str().into(),
            event.event_type.as_str().into(),
            SqlValue::Int(event.occurred_at_ms),
            data.to_string().as_str().into(),
        ],
    )?;
    Ok(())
}

/// `seller_id`'s entries after position `after`, oldest first, at most `limit`.
///
/// # Errors
/// [`DbError`] when the read fails.
pub fn read(
    db: &dyn Database,
    seller_id: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<FeedEntry>, DbError> {
    db.query(
        "SELECT seq, event_id, event_type, occurred_at, data FROM seller_events \
         WHERE seller_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &[
            seller_id.into(),
            SqlValue::Int(after),
            SqlValue::Int(i64::from(limit)),
        ],
    )?
    .iter()
    .map(|row| {
        let data = serde_json::from_str(&row.text(4)?)
            .map_err(|e| DbError::new(DbErrorKind::Conversion, format!("feed data: {e}")))?;
        Ok(FeedEntry {
            cursor: row.int(0)?.to_string(),
            id: row.text(1)?,
            event_type: row.text(2)?,
            occurred_at: rfc3339(row.int(3)?),
            data,
        })
    })
    .collect()
}
