-- POST /v1/orders, the orders service's part: a checkout of one product line (quantity 1) with a
-- fresh idempotency key, approved payment, in the order of place_order and run()
-- (crates/shopnow-orders/src/app/place_order.rs) with the statements and transactions of
-- SqlOrderRepository (components/orders/src/adapters/sql_orders.rs, each method one write()
-- transaction through with_migrations, which sends nothing of its own while the schema exists):
--   claim_key     INSERT ... ON CONFLICT DO NOTHING RETURNING claim_id (a new key: the row
--                 comes back, claimed; the DELETE of a lapsed key and the SELECT ... FOR UPDATE
--                 of a live one run only when it does not);
--                 [the catalog reserves: checkout-catalog.sql]
--   insert        the pending order: INSERT orders, order_lines, fulfilments, order_history
--                 (insert_history), outbox (insert_outbox), UPDATE idempotency_keys (order id);
--                 [the payment provider authorises; the catalog commits the reservation]
--   update        (after confirm) UPDATE orders ... WHERE version = the read one RETURNING id
--                 (the optimistic check and the write in one statement), UPDATE fulfilments,
--                 INSERT order_history, INSERT outbox, and in the same transaction the key's
--                 outcome: UPDATE idempotency_keys SET outcome.
-- Statements are the services' text; pgbench numbers placeholders in order of appearance and
-- gives each occurrence its own (`$8, $8` becomes `$8, $9` with the same value). pgbench cannot
-- bind NULL, so the NULL parameters (payment_reference at insert, a fulfilment's
-- tracking_number and shipped_at, a history row's fulfilment_id) are the literal NULL: same
-- values, one parameter fewer. The first statement is not the service's: it returns every
-- parameter for product n (bench_order_products, setup-checkout-orders.sql) and buyer b of a
-- pool of `users` (bench_checkout_orders: now in epoch ms, UUIDv7-shaped ids, the shopper mix's
-- key, address and fingerprint shapes, the stored JSON). Run with `-M extended`
-- (Parse/Bind/Execute per statement; the test host's client also prepares each statement
-- first, one more round trip, so this is the database's side only), `-D deep=N` (N = rows of
-- bench_order_products) and `-D users=U`.
\set n random(1, :deep)
\set b random(1, :users)
\set line_no 0
\set position 0
\set quantity 1
\set item_count 1
\set seq_created 0
\set seq_placed 1
\set version_read 1
\set version_placed 2
SELECT * FROM bench_checkout_orders(:n, :b) \gset
\set locked_until :now + 30000
\set key_expires_at :now + 86400000
-- claim_key
BEGIN;
INSERT INTO idempotency_keys
  (user_id, idem_key, fingerprint, claim_id, locked_until, created_at, expires_at)
  VALUES (:buyer_id, :idem_key, :fingerprint, :claim_id, :locked_until, :now, :key_expires_at)
  ON CONFLICT (user_id, idem_key) DO NOTHING RETURNING claim_id;
COMMIT;
-- insert (the order, pending)
BEGIN;
INSERT INTO orders (id, buyer_id, status, currency, total_amount, shipping_address,
  payment_status, payment_reference, stock_state, created_at, updated_at, version, item_count)
  VALUES (:order_id, :buyer_id, :pending, :currency, :total_amount, :address, :not_attempted,
  NULL, :held, :now, :now, 1, :item_count);
INSERT INTO order_lines
  (order_id, line_no, product_id, seller_id, title, unit_amount, currency, quantity)
  VALUES (:order_id, :line_no, :product_id, :seller_id, :title, :unit_amount, :currency,
  :quantity);
INSERT INTO fulfilments
  (id, order_id, position, seller_id, status, tracking_number, shipped_at, created_at, updated_at)
  VALUES (:fulfilment_id, :order_id, :position, :seller_id, :pending, NULL, NULL, :now, :now);
INSERT INTO order_history (order_id, seq, event, status, fulfilment_id, at)
  VALUES (:order_id, :seq_created, :created_event, :pending, NULL, :now);
INSERT INTO outbox (id, order_id, event_type, payload, occurred_at)
  VALUES (:created_id, :order_id, :created_event, :created_payload, :now);
UPDATE idempotency_keys SET order_id = :order_id WHERE user_id = :buyer_id AND idem_key = :idem_key;
COMMIT;
-- update (confirmed, with the key's outcome)
BEGIN;
UPDATE orders SET status = :confirmed, payment_status = :authorized,
  payment_reference = :payment_reference, stock_state = :committed, updated_at = :now,
  version = :version_placed WHERE id = :order_id AND version = :version_read RETURNING id;
UPDATE fulfilments SET status = :awaiting_shipment, tracking_number = NULL, shipped_at = NULL,
  updated_at = :now WHERE id = :fulfilment_id;
INSERT INTO order_history (order_id, seq, event, status, fulfilment_id, at)
  VALUES (:order_id, :seq_placed, :placed_event, :confirmed, NULL, :now);
INSERT INTO outbox (id, order_id, event_type, payload, occurred_at)
  VALUES (:placed_id, :order_id, :placed_event, :placed_payload, :now);
UPDATE idempotency_keys SET outcome = :outcome WHERE user_id = :buyer_id AND idem_key = :idem_key;
COMMIT;
