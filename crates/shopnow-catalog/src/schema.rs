//! Catalog's schema, as numbered migrations: embedded in the component (applied when a statement
//! finds the schema missing) and run by `shopnow-migrate` before production rollouts, so both
//! use this one list. Pure data, no I/O. Portable SQL (TEXT UUIDv7 ids, BIGINT minor units and
//! epoch-millisecond timestamps) except full-text search, which is each engine's own: a weighted `tsvector` column with a GIN index on PostgreSQL, an
//! FTS5 table kept in sync by triggers on SQLite.
//!
//! Stock integrity lives in the schema too: `CHECK (reserved >= 0 AND reserved <= on_hand)`
//! makes overselling impossible even for a buggy statement.

use shopnow_kernel::sql::{Migration, Statement};

/// All catalog migrations, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "categories",
        statements: &[
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS categories (\
                 id TEXT PRIMARY KEY, \
                 slug TEXT NOT NULL, \
                 name TEXT NOT NULL, \
                 parent_id TEXT REFERENCES categories (id), \
                 created_at BIGINT NOT NULL)",
            ),
            Statement::Portable(
                "CREATE UNIQUE INDEX IF NOT EXISTS categories_slug_key ON categories (slug)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS categories_parent_idx ON categories (parent_id)",
            ),
        ],
    },
    Migration {
        version: 2,
        name: "products",
        statements: &[
            // SQLite: an INTEGER PRIMARY KEY aliases the rowid, which then never changes (not
            // even on VACUUM), so the FTS5 index can point at it.
            Statement::Postgres(
                "CREATE TABLE IF NOT EXISTS products (\
                 id TEXT PRIMARY KEY, \
                 seller_id TEXT NOT NULL, \
                 title TEXT NOT NULL, \
                 description TEXT NOT NULL, \
                 category_id TEXT NOT NULL REFERENCES categories (id), \
                 price_amount BIGINT NOT NULL CHECK (price_amount > 0), \
                 price_currency TEXT NOT NULL, \
                 attributes TEXT NOT NULL, \
                 on_hand BIGINT NOT NULL, \
                 reserved BIGINT NOT NULL DEFAULT 0, \
                 status TEXT NOT NULL, \
                 version BIGINT NOT NULL, \
                 created_at BIGINT NOT NULL, \
                 updated_at BIGINT NOT NULL, \
                 CHECK (reserved >= 0 AND reserved <= on_hand))",
            ),
            Statement::Sqlite(
                "CREATE TABLE IF NOT EXISTS products (\
                 seq INTEGER PRIMARY KEY, \
                 id TEXT NOT NULL UNIQUE, \
                 seller_id TEXT NOT NULL, \
                 title TEXT NOT NULL, \
                 description TEXT NOT NULL, \
                 category_id TEXT NOT NULL REFERENCES categories (id), \
                 price_amount BIGINT NOT NULL CHECK (price_amount > 0), \
                 price_currency TEXT NOT NULL, \
                 attributes TEXT NOT NULL, \
                 on_hand BIGINT NOT NULL, \
                 reserved BIGINT NOT NULL DEFAULT 0, \
                 status TEXT NOT NULL, \
                 version BIGINT NOT NULL, \
                 created_at BIGINT NOT NULL, \
                 updated_at BIGINT NOT NULL, \
                 CHECK (reserved >= 0 AND reserved <= on_hand))",
            ),
            // Browsing: newest first, by price within a currency, by category, by seller.
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS products_newest_idx \
                 ON products (status, created_at, id)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS products_price_idx \
                 ON products (status, price_currency, price_amount, id)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS products_category_idx \
                 ON products (category_id, status, created_at, id)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS products_seller_idx \
                 ON products (seller_id, status, created_at, id)",
            ),
            // Text search: title weighs more than description.
            Statement::Postgres(
                "ALTER TABLE products ADD COLUMN IF NOT EXISTS search tsvector \
                 GENERATED ALWAYS AS (\
                 setweight(to_tsvector('english', title), 'A') || \
                 setweight(to_tsvector('english', description), 'B')) STORED",
            ),
            Statement::Postgres(
                "CREATE INDEX IF NOT EXISTS products_search_idx ON products USING GIN (search)",
            ),
            Statement::Sqlite(
                "CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(\
                 title, description, content='products', content_rowid='seq', \
                 tokenize='porter unicode61')",
            ),
            Statement::Sqlite(
                "CREATE TRIGGER IF NOT EXISTS products_fts_insert AFTER INSERT ON products BEGIN \
                 INSERT INTO products_fts (rowid, title, description) \
                 VALUES (new.seq, new.title, new.description); END",
            ),
            Statement::Sqlite(
                "CREATE TRIGGER IF NOT EXISTS products_fts_delete AFTER DELETE ON products BEGIN \
                 INSERT INTO products_fts (products_fts, rowid, title, description) \
                 VALUES ('delete', old.seq, old.title, old.description); END",
            ),
            Statement::Sqlite(
                "CREATE TRIGGER IF NOT EXISTS products_fts_update \
                 AFTER UPDATE OF title, description ON products BEGIN \
                 INSERT INTO products_fts (products_fts, rowid, title, description) \
                 VALUES ('delete', old.seq, old.title, old.description); \
                 INSERT INTO products_fts (rowid, title, description) \
                 VALUES (new.seq, new.title, new.description); END",
            ),
        ],
    },
    Migration {
        version: 3,
        name: "reservations",
        statements: &[
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS reservations (\
                 order_id TEXT PRIMARY KEY, \
                 state TEXT NOT NULL, \
                 created_at BIGINT NOT NULL, \
                 expires_at BIGINT NOT NULL, \
                 updated_at BIGINT NOT NULL)",
            ),
            // The lazy sweep looks for lapsed holds.
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS reservations_state_expiry_idx \
                 ON reservations (state, expires_at)",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS reservation_lines (\
                 order_id TEXT NOT NULL REFERENCES reservations (order_id), \
                 position BIGINT NOT NULL, \
                 product_id TEXT NOT NULL REFERENCES products (id), \
                 seller_id TEXT NOT NULL, \
                 title TEXT NOT NULL, \
                 unit_amount BIGINT NOT NULL, \
                 unit_currency TEXT NOT NULL, \
                 quantity BIGINT NOT NULL CHECK (quantity > 0), \
                 PRIMARY KEY (order_id, product_id))",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS reservation_lines_product_idx \
                 ON reservation_lines (product_id, order_id)",
            ),
        ],
    },
    Migration {
        version: 4,
        name: "search_at_scale",
        statements: &[
            // The title alone, so the title run of a relevance search is its own indexed query
            // with the planner's true estimate (docs/adr/0002-search-at-scale.md). Adding a
            // stored column rewrites the table: run `shopnow-migrate catalog` before the rollout.
            Statement::Postgres(
                "ALTER TABLE products ADD COLUMN IF NOT EXISTS title_search tsvector \
                 GENERATED ALWAYS AS (to_tsvector('english', title)) STORED",
            ),
            Statement::Postgres(
                "CREATE INDEX IF NOT EXISTS products_title_search_idx \
                 ON products USING GIN (title_search)",
            ),
            // JIT compilation costs 50–100 ms, and a search plan's estimate (its fallback
            // branch sorts every match) passes jit_above_cost while the run itself takes a few
            // milliseconds: off for this database's new sessions. A role that may not alter its
            // database skips it; the deployment sets jit = off too (docs/operations.md).
            Statement::Postgres(
                "DO $$ BEGIN \
                 EXECUTE format('ALTER DATABASE %I SET jit = off', current_database()); \
                 EXCEPTION WHEN insufficient_privilege THEN \
                 RAISE NOTICE 'jit stays as configured: not the database owner'; END $$",
            ),
            // Browsing by price in every currency at once walks this index.
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS products_price_any_idx \
                 ON products (status, price_amount, id)",
            ),
        ],
    },
    // The outbox (shopnow_kernel::events, docs/events.md): events written in the transaction of
    // the change they describe, relayed to the event log after the response.
    Migration {
        version: 5,
        name: "event_outbox",
        statements: shopnow_kernel::events::OUTBOX_STATEMENTS,
    },
    // What catalog consumes (shopnow_kernel::consumer, docs/events.md "Consumers"): cursors,
    // processed event ids, failures and parked events.
    Migration {
        version: 6,
        name: "event_consumers",
        statements: shopnow_kernel::consumer::CONSUMER_STATEMENTS,
    },
    // Sales counts (docs/events.md, "Consumers": `catalog.orders`): units sold per product, and
    // the bestselling sort's index (active products only, as every browse).
    Migration {
        version: 7,
        name: "units_sold",
        statements: &[
            // A constant default: PostgreSQL 11+ adds it without rewriting the table.
            Statement::Postgres(
                "ALTER TABLE products ADD COLUMN IF NOT EXISTS units_sold BIGINT NOT NULL DEFAULT 0",
            ),
            Statement::Sqlite(
                "ALTER TABLE products ADD COLUMN units_sold BIGINT NOT NULL DEFAULT 0",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS products_bestselling_idx \
                 ON products (status, units_sold, id)",
            ),
            // Each order's place in the counts: `counted` once its placement was added,
            // `cancelled` once cancelled (before or after its placement arrived), so a
            // cancellation subtracts only what a placement added.
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS sales_orders (\
                 order_id TEXT PRIMARY KEY, \
                 state TEXT NOT NULL, \
                 updated_at BIGINT NOT NULL)",
            ),
        ],
    },
];
