\set id random(1, :rows) + :rows
SELECT id, seller_id, title, price_amount, on_hand, created_at FROM guard_products WHERE id = :id;
