-- Numbers the seeded products 1..N so pgbench can pick one at random (`:n`); run once on the
-- catalog database after seeding. Not part of any service schema: drop it when done.
DROP TABLE IF EXISTS bench_product_ids;
CREATE TABLE bench_product_ids (n BIGINT PRIMARY KEY, id TEXT NOT NULL);
INSERT INTO bench_product_ids SELECT row_number() OVER (ORDER BY id), id FROM products;
ANALYZE bench_product_ids;
