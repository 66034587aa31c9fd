-- A products-shaped table for bench/pgbench/never-empty/run.sh (not a service schema).
DROP TABLE IF EXISTS guard_products;
CREATE TABLE guard_products (
  id BIGINT PRIMARY KEY, seller_id TEXT NOT NULL, title TEXT NOT NULL, price_amount BIGINT NOT NULL,
  on_hand BIGINT NOT NULL, created_at BIGINT NOT NULL);
INSERT INTO guard_products
  SELECT n, 'seller-' || (n % 500), 'Product ' || n, 100 + n % 9000, n % 50, 1764100000000 + n
  FROM generate_series(1, :rows) AS n;
CREATE INDEX guard_products_newest ON guard_products (seller_id, created_at DESC);
ANALYZE guard_products;
