-- For checkout-orders.sql; run once on the orders database with the catalog's deep-stock
-- products on standard input (after setup-checkout-catalog.sql on the catalog database):
--   psql -d <catalog> -Atc "COPY (SELECT c.n, p.id, p.seller_id, p.title, p.price_amount,
--     p.price_currency FROM bench_checkout_ids c JOIN products p ON p.id = c.id) TO STDOUT" |
--   psql -d <orders> -f bench/pgbench/setup-checkout-orders.sql
-- bench_order_products holds what the catalog's reservation answers for each (seller, title,
-- price), numbered as bench_checkout_ids, so orders name real products and sellers.
-- bench_checkout_orders(n, buyer) returns, in one row, every parameter the orders service would
-- bind for one checkout of product n (quantity 1) by buyer number `buyer`: now (epoch ms),
-- UUIDv7-shaped ids, the shopper mix's idempotency key, address and fingerprint shapes, the
-- status texts, and the JSON the service stores (event payloads, the checkout outcome), as
-- serde writes them (crates/shopnow-orders/src/domain/events.rs, app/views.rs). Not part of any
-- service schema: drop the table and the functions when done.
DROP TABLE IF EXISTS bench_order_products;
CREATE TABLE bench_order_products (n BIGINT PRIMARY KEY, id TEXT NOT NULL,
  seller_id TEXT NOT NULL, title TEXT NOT NULL, price_amount BIGINT NOT NULL,
  price_currency TEXT NOT NULL);
\copy bench_order_products FROM pstdin
ANALYZE bench_order_products;

CREATE OR REPLACE FUNCTION bench_uuid7(ms BIGINT) RETURNS TEXT LANGUAGE sql VOLATILE AS $$
  SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(u, 16, 3) || substr(u, 19)
    FROM (SELECT lpad(to_hex(ms), 12, '0') AS h, gen_random_uuid()::text AS u) s
$$;

CREATE OR REPLACE FUNCTION bench_checkout_orders(pick BIGINT, buyer BIGINT)
RETURNS TABLE (now BIGINT, order_id TEXT, claim_id TEXT, fulfilment_id TEXT, created_id TEXT,
  placed_id TEXT, buyer_id TEXT, idem_key TEXT, fingerprint TEXT, address TEXT, product_id TEXT,
  seller_id TEXT, title TEXT, unit_amount BIGINT, currency TEXT, total_amount BIGINT,
  payment_reference TEXT, pending TEXT, not_attempted TEXT, held TEXT, created_event TEXT,
  confirmed TEXT, authorized TEXT, committed TEXT, awaiting_shipment TEXT, placed_event TEXT,
  created_payload TEXT, placed_payload TEXT, outcome TEXT)
LANGUAGE sql VOLATILE AS $$
  WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now),
  v AS (
    SELECT t.now, bench_uuid7(t.now) AS order_id, bench_uuid7(t.now) AS claim_id,
           bench_uuid7(t.now) AS fulfilment_id, bench_uuid7(t.now) AS created_id,
           bench_uuid7(t.now) AS placed_id,
           to_char(to_timestamp(t.now / 1000.0) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
           (SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(h, 14, 3) || '-8'
                   || substr(h, 18, 3) || '-' || substr(h, 21, 12)
              FROM (SELECT md5('bench-buyer-' || buyer) AS h) b) AS buyer_id,
           'bench-' || substr(md5(random()::text), 1, 16) || '-' || md5(random()::text) AS idem_key,
           md5(random()::text) || md5(random()::text) AS fingerprint,
           '{"name":"Bench Shopper","line1":"1 Load Street","city":"Benchville",'
             '"postal_code":"10115","country":"DE"}' AS address,
           p.id AS product_id, p.seller_id, p.title, p.price_amount AS unit_amount,
           p.price_currency AS currency
      FROM t, bench_order_products p WHERE p.n = pick)
  SELECT now, order_id, claim_id, fulfilment_id, created_id, placed_id, buyer_id, idem_key,
         fingerprint, address, product_id, seller_id, title, unit_amount, currency,
         unit_amount AS total_amount, 'auth_' || order_id AS payment_reference,
         'pending', 'not_attempted', 'held', 'order.created', 'confirmed', 'authorized',
         'committed', 'awaiting_shipment', 'order.placed',
         format('{"type":"order.created","order_id":"%s","buyer_id":"%s",'
                '"total":{"amount":%s,"currency":"%s"}}',
                order_id, buyer_id, unit_amount, currency),
         format('{"type":"order.placed","order_id":"%s","buyer_id":"%s",'
                '"total":{"amount":%s,"currency":"%s"},"seller_ids":["%s"]}',
                order_id, buyer_id, unit_amount, currency, seller_id),
         format('{"outcome":"created","order":{"id":"%1$s","status":"confirmed","items":[{'
                '"product_id":"%2$s","seller_id":"%3$s","title":%4$s,'
                '"unit_price":{"amount":%5$s,"currency":"%6$s"},"quantity":1,'
                '"line_total":{"amount":%5$s,"currency":"%6$s"}}],'
                '"total":{"amount":%5$s,"currency":"%6$s"},"shipping_address":%7$s,'
                '"payment":{"status":"authorized"},"fulfilments":[{"id":"%8$s",'
                '"seller_id":"%3$s","status":"awaiting_shipment","tracking_number":null,'
                '"shipped_at":null,"product_ids":["%2$s"]}],"history":['
                '{"event":"order.created","status":"pending","at":"%9$s"},'
                '{"event":"order.placed","status":"confirmed","at":"%9$s"}],'
                '"created_at":"%9$s","updated_at":"%9$s"}}',
                order_id, product_id, seller_id, to_json(title)::text, unit_amount, currency,
                address, fulfilment_id, at)
    FROM v
$$;
