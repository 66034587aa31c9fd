\set s random(0, 499)
SELECT id, seller_id, title, price_amount, on_hand, created_at FROM guard_products WHERE seller_id = 'seller-' || :s ORDER BY created_at DESC LIMIT 20;
