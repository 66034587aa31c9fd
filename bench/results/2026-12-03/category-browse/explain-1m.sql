-- The category browse statement of category_browse_sql (components/catalog/src/adapters/sql_store.rs),
-- product columns trimmed, for a root category (7 in its subtree) and a leaf, on the 1M catalog:
--   psql postgres://postgres@127.0.0.1:5432/shopnow_scale_catalog -X -f explain-1m.sql
\timing on
PREPARE q(bigint, text, bigint) AS SELECT p.id, p.title, 0 AS tier FROM (SELECT b.id, b.created_at FROM (WITH RECURSIVE sub (id) AS (SELECT id FROM categories WHERE id = $2 UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id) SELECT id FROM sub) s CROSS JOIN LATERAL (SELECT p.id, p.created_at FROM products p WHERE p.category_id = s.id AND p.status = 'active' ORDER BY p.created_at DESC, p.id DESC LIMIT $3) b ORDER BY b.created_at DESC, b.id DESC LIMIT $3) r JOIN products p ON p.id = r.id ORDER BY p.created_at DESC, p.id DESC LIMIT $3;
EXPLAIN (ANALYZE, BUFFERS, SUMMARY) EXECUTE q(0, '01900000-0000-7000-8000-000000000000', 21);
EXPLAIN (ANALYZE, SUMMARY) EXECUTE q(0, '01900000-0000-7000-8001-000000000007', 21);
