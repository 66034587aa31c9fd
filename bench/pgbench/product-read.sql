-- GET /v1/products/{id}: the catalog's product-read statement as the service sends it
-- (components/catalog/src/adapters/sql_store.rs: PRODUCT_COLUMNS ... WHERE p.id = $2; $1 is now in
-- epoch ms). The id comes from bench_product_ids (setup.sql) by a random number, which adds one
-- primary-key lookup. Run with `-M extended` (Parse/Bind/Execute per statement, as the services'
-- unnamed statements) and `-D products=N`.
\set n random(1, :products)
\set now 1764100000000
SELECT p.id, p.seller_id, p.title, p.description, p.category_id,
       p.price_amount, p.price_currency, p.attributes, p.on_hand,
       p.reserved - COALESCE((SELECT CAST(SUM(l.quantity) AS BIGINT) FROM reservation_lines l
         JOIN reservations r ON r.order_id = l.order_id
         WHERE l.product_id = p.id AND r.state = 'held' AND r.expires_at <= :now), 0),
       p.status, p.version, p.created_at, p.updated_at
  FROM products p WHERE p.id = (SELECT id FROM bench_product_ids WHERE n = :n);
