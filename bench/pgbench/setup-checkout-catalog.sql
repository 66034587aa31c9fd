-- For checkout-catalog.sql; run once on the catalog database after setup.sql. Numbers the
-- products a checkout may buy 1..N in bench_checkout_ids (`-D deep=N`): active ones with at least
-- 100 units available, the shopper mix's DEEP_STOCK rule (bench/loadgen/src/mix/shopper.rs). Their
-- on_hand is raised to at least 1,000,000 so no run ever finds one short (each checkout sells one
-- unit for good). bench_uuid7(ms) mints a UUIDv7-shaped text id like the services' ids (time
-- first, so inserts land at the right edge of an index as theirs do). Not part of any service
-- schema: drop both when done.
DROP TABLE IF EXISTS bench_checkout_ids;
CREATE TABLE bench_checkout_ids (n BIGINT PRIMARY KEY, id TEXT NOT NULL);
INSERT INTO bench_checkout_ids
  SELECT row_number() OVER (ORDER BY b.id), b.id FROM bench_product_ids b
    JOIN products p ON p.id = b.id
   WHERE p.status = 'active' AND p.on_hand - p.reserved >= 100;
UPDATE products SET on_hand = GREATEST(on_hand, 1000000)
 WHERE id IN (SELECT id FROM bench_checkout_ids);
VACUUM ANALYZE products;
ANALYZE bench_checkout_ids;

CREATE OR REPLACE FUNCTION bench_uuid7(ms BIGINT) RETURNS TEXT LANGUAGE sql VOLATILE AS $$
  SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(u, 16, 3) || substr(u, 19)
    FROM (SELECT lpad(to_hex(ms), 12, '0') AS h, gen_random_uuid()::text AS u) s
$$;
