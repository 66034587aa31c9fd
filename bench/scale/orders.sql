-- Synthetic orders for the scale benchmark, straight into orders' database (after its
-- migrations): :orders orders of 1-3 lines of catalog.sql's products (same ids and sellers, so
-- :seed, :products and :sellers must be catalog.sql's), one fulfilment per seller and order, and
-- an `order.placed` history entry. Buyers are identity.sql's customers; the first 100
-- (buyer-0 … buyer-99) place a fifth of all orders, so order history has deep pages to measure.
-- Statuses: 70% confirmed, 20% shipped, 7% cancelled, 3% pending; fulfilments follow.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE bench_orders ON COMMIT DROP AS
SELECT i,
       1793491200000 - (:orders - i) * 500 AS created,
       md5('order-' || :seed || '-' || i) AS h,
       CASE WHEN abs(hashint8extended(i, :seed + 10)) % 5 = 0
            THEN abs(hashint8extended(i, :seed + 11)) % 100
            ELSE 100 + abs(hashint8extended(i, :seed + 11)) % (:users - :sellers - 100) END AS buyer,
       abs(hashint8extended(i, :seed + 12)) % 100 AS dice,
       1 + abs(hashint8extended(i, :seed + 13)) % 3 AS line_count
FROM generate_series(1, :orders) i;

CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
SELECT o.i, l AS line_no, 1 + abs(hashint8extended(o.i * 4 + l, :seed + 14)) % :products AS product,
       1 + abs(hashint8extended(o.i * 4 + l, :seed + 15)) % 3 AS quantity
FROM bench_orders o, generate_series(1, 3) l
WHERE l <= o.line_count;

-- A product's id and seller as catalog.sql makes them.
CREATE TEMP TABLE bench_products ON COMMIT DROP AS
SELECT DISTINCT product AS j,
       format('%s-%s-7%s-8%s-%s', substr(ts, 1, 8), substr(ts, 9, 4), substr(h, 1, 3),
              substr(h, 4, 3), substr(h, 7, 12)) AS id,
       format('01910000-0000-7000-8000-%s', lpad(to_hex(abs(hashint8extended(product, :seed)) % :sellers), 12, '0')) AS seller,
       100 + abs(hashint8extended(product, :seed + 2)) % 99900 AS price
FROM (SELECT product, lpad(to_hex(1793491200000 - (:products - product) * 1000), 12, '0') AS ts,
             md5(:seed || '-' || product) AS h FROM bench_lines) p;

INSERT INTO orders (id, buyer_id, status, currency, total_amount, item_count, shipping_address,
                    payment_status, payment_reference, stock_state, created_at, updated_at, version)
SELECT format('%s-%s-7%s-8%s-%s', substr(ts, 1, 8), substr(ts, 9, 4), substr(h, 1, 3),
              substr(h, 4, 3), substr(h, 7, 12)),
       format('01920000-0000-7000-8000-%s', lpad(to_hex(buyer), 12, '0')),
       st.status, 'EUR', t.total, t.items,
       '{"name":"Bench Buyer","line1":"1 Bench Street","city":"Utrecht","postal_code":"3511 AA","country":"NL"}',
       CASE WHEN st.status IN ('confirmed', 'shipped') THEN 'authorized'
            WHEN st.status = 'cancelled' THEN 'voided' ELSE 'not_attempted' END,
       CASE WHEN st.status IN ('confirmed', 'shipped', 'cancelled') THEN 'bench-' || o.i END,
       CASE WHEN st.status = 'cancelled' THEN 'returned'
            WHEN st.status = 'pending' THEN 'held' ELSE 'committed' END,
       o.created, o.created, 1
FROM (SELECT *, lpad(to_hex(created), 12, '0') AS ts FROM bench_orders) o
CROSS JOIN LATERAL (SELECT CASE WHEN o.dice < 70 THEN 'confirmed' WHEN o.dice < 90 THEN 'shipped'
                                WHEN o.dice < 97 THEN 'cancelled' ELSE 'pending' END AS status) st
JOIN (SELECT l.i, SUM(p.price * l.quantity) AS total, SUM(l.quantity) AS items
      FROM bench_lines l JOIN bench_products p ON p.j = l.product GROUP BY l.i) t ON t.i = o.i;

CREATE TEMP TABLE bench_order_ids ON COMMIT DROP AS
SELECT o.i, x.id, x.status, x.created_at
FROM bench_orders o
JOIN orders x ON x.created_at = o.created;

INSERT INTO order_lines (order_id, line_no, product_id, seller_id, title, unit_amount, currency,
                         quantity)
SELECT b.id, l.line_no, p.id, p.seller, 'Bench product ' || l.product, p.price, 'EUR', l.quantity
FROM bench_lines l JOIN bench_order_ids b ON b.i = l.i JOIN bench_products p ON p.j = l.product
ON CONFLICT DO NOTHING;

INSERT INTO fulfilments (id, order_id, position, seller_id, status, tracking_number, shipped_at,
                         created_at, updated_at)
SELECT format('%s-%s-7%s-8%s-%s', substr(ts, 1, 8), substr(ts, 9, 4), substr(h, 1, 3),
              substr(h, 4, 3), substr(h, 7, 12)),
       f.order_id, f.position, f.seller_id,
       CASE f.status WHEN 'confirmed' THEN 'awaiting_shipment' WHEN 'shipped' THEN 'shipped'
                     WHEN 'cancelled' THEN 'cancelled' ELSE 'pending' END,
       CASE WHEN f.status = 'shipped' THEN 'BENCH' || f.position || substr(f.h, 1, 10) END,
       CASE WHEN f.status = 'shipped' THEN f.created_at + 86400000 END,
       f.created_at, f.created_at
FROM (SELECT l.order_id, l.seller_id, b.status, b.created_at,
             row_number() OVER (PARTITION BY l.order_id ORDER BY min(l.line_no)) - 1 AS position,
             md5('fulfilment-' || l.order_id || l.seller_id) AS h,
             lpad(to_hex(b.created_at), 12, '0') AS ts
      FROM order_lines l JOIN bench_order_ids b ON b.id = l.order_id
      GROUP BY l.order_id, l.seller_id, b.status, b.created_at) f;

INSERT INTO order_history (order_id, seq, event, status, fulfilment_id, at)
SELECT id, 0, 'order.placed', status, NULL, created_at FROM bench_order_ids;
COMMIT;
ANALYZE orders;
ANALYZE order_lines;
ANALYZE fulfilments;
ANALYZE order_history;
