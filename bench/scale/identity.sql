-- Synthetic accounts for the scale benchmark, straight into identity's database (after its
-- migrations): :sellers sellers (ids match catalog.sql's seller ids) and :users - :sellers
-- customers, every one with the password `bench-password-violet-42` (one argon2id hash with
-- identity's parameters, computed once: hashing 100k passwords would take an hour and measure
-- nothing). Emails: seller-N@bench.example, buyer-N@bench.example (N from 0).
\set ON_ERROR_STOP on
\set hash '$argon2id$v=19$m=19456,t=2,p=1$t7RumHMArNKo1rGZhE5u2g$n4s5S5Amf1obtHOcDnFuarSPfM0NstT4a+9IaJezUHo'
BEGIN;
INSERT INTO users (id, email, email_normalized, display_name, password_hash, roles, created_at,
                   updated_at, erased_at)
SELECT format('01910000-0000-7000-8000-%s', lpad(to_hex(s), 12, '0')),
       'seller-' || s || '@bench.example', 'seller-' || s || '@bench.example', 'Seller ' || s,
       :'hash', 'customer,seller', 1700000000000, 1700000000000, NULL
FROM generate_series(0, :sellers - 1) s
ON CONFLICT DO NOTHING;
INSERT INTO users (id, email, email_normalized, display_name, password_hash, roles, created_at,
                   updated_at, erased_at)
SELECT format('01920000-0000-7000-8000-%s', lpad(to_hex(b), 12, '0')),
       'buyer-' || b || '@bench.example', 'buyer-' || b || '@bench.example', 'Buyer ' || b,
       :'hash', 'customer', 1700000000000, 1700000000000, NULL
FROM generate_series(0, :users - :sellers - 1) b
ON CONFLICT DO NOTHING;
COMMIT;
ANALYZE users;
