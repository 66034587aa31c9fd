//! Orders' schema, as numbered migrations: data only, no I/O. Portable SQL: TEXT UUIDv7 ids,
//! BIGINT money (minor units) and epoch-millisecond timestamps, no booleans. The component's
//! repository applies them when a statement finds the schema missing (fresh local databases);
//! production applies them before a rollout with `shopnow-migrate orders`, which reads this list.

use shopnow_kernel::sql::{Migration, Statement};

/// All orders migrations, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "orders",
        statements: &[
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS orders (\
             id TEXT PRIMARY KEY, \
             buyer_id TEXT NOT NULL, \
             status TEXT NOT NULL, \
             currency TEXT NOT NULL, \
             total_amount BIGINT NOT NULL, \
             item_count BIGINT NOT NULL, \
             shipping_address TEXT NOT NULL, \
             payment_status TEXT NOT NULL, \
             payment_reference TEXT, \
             stock_state TEXT NOT NULL, \
             created_at BIGINT NOT NULL, \
             updated_at BIGINT NOT NULL, \
             version BIGINT NOT NULL)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS orders_buyer_idx ON orders (buyer_id, created_at, id)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status, updated_at)",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS order_lines (\
             order_id TEXT NOT NULL REFERENCES orders (id), \
             line_no BIGINT NOT NULL, \
             product_id TEXT NOT NULL, \
             seller_id TEXT NOT NULL, \
             title TEXT NOT NULL, \
             unit_amount BIGINT NOT NULL, \
             currency TEXT NOT NULL, \
             quantity BIGINT NOT NULL, \
             PRIMARY KEY (order_id, line_no))",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS fulfilments (\
             id TEXT PRIMARY KEY, \
             order_id TEXT NOT NULL REFERENCES orders (id), \
             position BIGINT NOT NULL, \
             seller_id TEXT NOT NULL, \
             status TEXT NOT NULL, \
             tracking_number TEXT, \
             shipped_at BIGINT, \
             created_at BIGINT NOT NULL, \
             updated_at BIGINT NOT NULL)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS fulfilments_seller_idx \
             ON fulfilments (seller_id, created_at, id)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS fulfilments_order_idx ON fulfilments (order_id)",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS order_history (\
             order_id TEXT NOT NULL REFERENCES orders (id), \
             seq BIGINT NOT NULL, \
             event TEXT NOT NULL, \
             status TEXT NOT NULL, \
             fulfilment_id TEXT, \
             at BIGINT NOT NULL, \
             PRIMARY KEY (order_id, seq))",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS outbox (\
             id TEXT PRIMARY KEY, \
             order_id TEXT NOT NULL, \
             event_type TEXT NOT NULL, \
             payload TEXT NOT NULL, \
             occurred_at BIGINT NOT NULL, \
             published_at BIGINT)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON outbox (published_at, occurred_at)",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS idempotency_keys (\
             user_id TEXT NOT NULL, \
             idem_key TEXT NOT NULL, \
             fingerprint TEXT NOT NULL, \
             claim_id TEXT NOT NULL, \
             order_id TEXT, \
             outcome TEXT, \
             locked_until BIGINT NOT NULL, \
             created_at BIGINT NOT NULL, \
             expires_at BIGINT NOT NULL, \
             PRIMARY KEY (user_id, idem_key))",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS idempotency_keys_expiry_idx ON idempotency_keys (expires_at)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS idempotency_keys_order_idx ON idempotency_keys (order_id)",
            ),
        ],
    },
    // The outbox (shopnow_kernel::events, docs/events.md): events written in the transaction of
    // the change they describe, relayed to the event log after the response.
    Migration {
        version: 2,
        name: "event_outbox",
        statements: shopnow_kernel::events::OUTBOX_STATEMENTS,
    },
    // Events recorded by migration 1's `outbox` (never relayed: nothing relayed it) move to the
    // new outbox with aggregate version 0, in their order, wearing the envelope; the old table
    // goes.
    Migration {
        version: 3,
        name: "outbox_to_event_outbox",
        statements: &[
            Statement::Postgres(
                "INSERT INTO event_outbox \
                 (id, event_type, aggregate_id, aggregate_version, occurred_at, envelope, relayed_at) \
                 SELECT id, event_type, order_id, 0, occurred_at, json_build_object(\
                 'id', id, 'type', event_type, 'schema_version', 1, 'source', 'orders', \
                 'aggregate_type', 'order', 'aggregate_id', order_id, 'aggregate_version', 0, \
                 'occurred_at_ms', occurred_at, 'data', payload::jsonb - 'type')::text, NULL \
                 FROM outbox WHERE true ORDER BY occurred_at, id ON CONFLICT (id) DO NOTHING",
            ),
            Statement::Sqlite(
                "INSERT INTO event_outbox \
                 (id, event_type, aggregate_id, aggregate_version, occurred_at, envelope, relayed_at) \
                 SELECT id, event_type, order_id, 0, occurred_at, json_object(\
                 'id', id, 'type', event_type, 'schema_version', 1, 'source', 'orders', \
                 'aggregate_type', 'order', 'aggregate_id', order_id, 'aggregate_version', 0, \
                 'occurred_at_ms', occurred_at, 'data', json(json_remove(payload, '$.type'))), NULL \
                 FROM outbox WHERE true ORDER BY occurred_at, id ON CONFLICT (id) DO NOTHING",
            ),
            Statement::Portable("DROP TABLE IF EXISTS outbox"),
        ],
    },
    // What orders consumes (shopnow_kernel::consumer, docs/events.md "Consumers"): cursors,
    // processed event ids, failures and parked events.
    Migration {
        version: 4,
        name: "event_consumers",
        statements: shopnow_kernel::consumer::CONSUMER_STATEMENTS,
    },
    // The seller event feed (`GET /v1/seller/events`, docs/events.md "Seller event feed"): one
    // row per seller and source event, positioned by the seller's counter, whose row lock
    // orders the commits of that seller's writers.
    Migration {
        version: 5,
        name: "seller_events",
        statements: &[
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS seller_feed_head (\
             seller_id TEXT PRIMARY KEY, \
             seq BIGINT NOT NULL)",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS seller_events (\
             seller_id TEXT NOT NULL, \
             seq BIGINT NOT NULL, \
             event_id TEXT NOT NULL, \
             event_type TEXT NOT NULL, \
             occurred_at BIGINT NOT NULL, \
             data TEXT NOT NULL, \
             PRIMARY KEY (seller_id, seq), \
             UNIQUE (seller_id, event_id))",
            ),
            // The retention purge's order.
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS seller_events_occurred_idx ON seller_events (occurred_at)",
            ),
        ],
    },
];
