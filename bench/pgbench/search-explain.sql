-- GET /v1/products?q=oak (sort=relevance, limit 20): the catalog's search statement as the
-- service builds it (components/catalog/src/adapters/sql_store.rs: search_sql, search_clause),
-- with the title tier before 403d250 (to_tsvector of every matching title) and after it (the
-- stored vector's weight-A lexemes). Run three times each on the seeded catalog database:
--   psql -h 127.0.0.1 -U postgres -d shopnow_bench_catalog -f bench/pgbench/search-explain.sql | grep 'Execution Time'
-- The "with the index forced" figure in docs/benchmarks.md adds `SET enable_seqscan = off;` first.
\set now 1764100000000
\set before 'CASE WHEN to_tsvector(''english'', p.title) @@ to_tsquery(''english'', ''oak'') THEN 1 ELSE 0 END'
\set after 'CASE WHEN p.search @@ to_tsquery(''english'', ''oak:A'') THEN 1 ELSE 0 END'
\set query 'SELECT s.* FROM (SELECT p.id, p.seller_id, p.title, p.description, p.category_id, p.price_amount, p.price_currency, p.attributes, p.on_hand, p.reserved - COALESCE((SELECT CAST(SUM(l.quantity) AS BIGINT) FROM reservation_lines l JOIN reservations r ON r.order_id = l.order_id WHERE l.product_id = p.id AND r.state = ''held'' AND r.expires_at <= ' :now '), 0), p.status, p.version, p.created_at, p.updated_at, TIER AS tier FROM products p WHERE p.status = ''active'' AND p.search @@ to_tsquery(''english'', ''oak'')) s ORDER BY s.tier DESC, s.created_at DESC, s.id DESC LIMIT 21'
\echo before
SELECT replace(:'query', 'TIER', :'before') AS q \gset
EXPLAIN ANALYZE :q;
EXPLAIN ANALYZE :q;
EXPLAIN ANALYZE :q;
\echo after
SELECT replace(:'query', 'TIER', :'after') AS q \gset
EXPLAIN ANALYZE :q;
EXPLAIN ANALYZE :q;
EXPLAIN ANALYZE :q;
