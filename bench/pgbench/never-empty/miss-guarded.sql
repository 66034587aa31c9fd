\set id random(1, :rows) + :rows
WITH __shopnow_q AS (SELECT id, seller_id, title, price_amount, on_hand, created_at FROM guard_products WHERE id = :id) SELECT __shopnow_r.* FROM (VALUES (1)) AS __shopnow_one (n) LEFT JOIN LATERAL (SELECT 1 AS __shopnow_present, __shopnow_q.* FROM __shopnow_q) AS __shopnow_r ON true;
