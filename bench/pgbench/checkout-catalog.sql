-- POST /v1/orders, the catalog's part: a checkout of one product line (quantity 1) reserves the
-- stock, then commits the reservation, with the statements the catalog sends, in its order and
-- transactions (components/catalog/src/adapters/sql_store.rs, through with_migrations, which
-- sends nothing of its own while the schema exists):
--   reserve            sweep_oldest: the longest-lapsed holds of any product (autocommit;
--                      none to expire here, so the per-product sweep and retry do not run);
--                      reserve_tx in transaction: INSERT reservations ... ON CONFLICT DO
--                      NOTHING RETURNING (the order id is new: claimed), UPDATE products ...
--                      RETURNING the seller, title and price (the hold), INSERT
--                      reservation_lines;
--   commit_reservation settle(Commit) in one transaction: SELECT the reservation (a live
--                      hold: nothing to give back first), UPDATE reservations ... RETURNING
--                      order_id (held -> committed), line_quantities, UPDATE products (the
--                      unit is sold).
-- Statements are the services' text; pgbench numbers placeholders in order of appearance and
-- gives each occurrence its own, so `$1 ... $2 ... $2` becomes `$1 ... $2 ... $3` with the same
-- values. The first statement is not the catalog's: it picks a deep-stock product
-- (bench_checkout_ids, setup-checkout-catalog.sql) by a random number and supplies what the
-- callers would (now in epoch ms, a UUIDv7-shaped order id) and the text parameters (pgbench
-- variables set in the script are numbers only). Run with `-M extended` (Parse/Bind/Execute per
-- statement; the test host's client also prepares each statement first, one more round trip,
-- so this is the database's side only) and `-D deep=N` (N = rows of bench_checkout_ids).
\set n random(1, :deep)
\set quantity 1
\set batch 10
\set position 0
SELECT c.id AS product_id, t.now, bench_uuid7(t.now) AS order_id,
       'committed' AS next_state, 'held' AS from_state
  FROM bench_checkout_ids c,
       (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now) t
 WHERE c.n = :n \gset
\set expires_at :now + 900000
-- reserve: sweep_oldest
SELECT order_id FROM reservations WHERE state = 'held' AND expires_at <= :now
 ORDER BY expires_at LIMIT :batch;
-- reserve: reserve_tx
BEGIN;
INSERT INTO reservations (order_id, state, created_at, expires_at, updated_at)
  VALUES (:order_id, 'held', :now, :expires_at, :now)
  ON CONFLICT (order_id) DO NOTHING RETURNING order_id;
UPDATE products SET reserved = reserved + :quantity
 WHERE id = :product_id AND status = 'active' AND on_hand - reserved >= :quantity
 RETURNING seller_id, title, price_amount, price_currency \gset
INSERT INTO reservation_lines (order_id, position, product_id, seller_id, title,
  unit_amount, unit_currency, quantity)
  VALUES (:order_id, :position, :product_id, :seller_id, :title, :price_amount, :price_currency,
  :quantity);
COMMIT;
-- commit_reservation: settle
BEGIN;
SELECT state, expires_at FROM reservations WHERE order_id = :order_id;
UPDATE reservations SET state = :next_state, updated_at = :now
 WHERE order_id = :order_id AND state = :from_state RETURNING order_id;
SELECT product_id, quantity FROM reservation_lines WHERE order_id = :order_id
 ORDER BY product_id;
UPDATE products SET on_hand = on_hand - :quantity, reserved = reserved - :quantity
 WHERE id = :product_id;
COMMIT;
