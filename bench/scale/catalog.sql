-- Synthetic catalog for the scale benchmark, straight into catalog's database (after its
-- migrations): :products products over 5 root and 30 leaf categories and :sellers sellers.
-- Deterministic from :seed (hashint8extended is PostgreSQL's stable hash), so the same seed gives
-- the same rows. Vocabulary: 30 materials, 40 objects, 20 adjectives. Every product has one
-- material, in its description and, for half of them, in its title too, so a material matches
-- 1/30 of the catalog and ranks 1/60 as title matches; "made" is in every description and in
-- 1/10 of titles; "zyzzyva" is in none.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE vocab (kind text, n int, word text) ON COMMIT DROP;
INSERT INTO vocab SELECT 'material', ord - 1, w FROM unnest(string_to_array(
  'oak walnut maple birch cherry pine bamboo teak ash beech cedar rattan wicker linen cotton wool '
  'silk leather suede velvet marble granite slate concrete copper brass bronze steel glass ceramic', ' '))
  WITH ORDINALITY AS t(w, ord);
INSERT INTO vocab SELECT 'object', ord - 1, w FROM unnest(string_to_array(
  'lamp chair table stool bench desk shelf cabinet dresser mirror vase bowl plate mug tray basket '
  'rug cushion throw blanket clock frame planter candle holder hook rack sofa ottoman bed '
  'nightstand sideboard bookcase wardrobe trolley screen lantern pendant sconce coaster', ' '))
  WITH ORDINALITY AS t(w, ord);
INSERT INTO vocab SELECT 'adjective', ord - 1, w FROM unnest(string_to_array(
  'rustic modern classic minimal vintage nordic industrial elegant compact sturdy '
  'handcrafted polished natural bold soft round square tall low slim', ' '))
  WITH ORDINALITY AS t(w, ord);

-- Categories: ids are UUID-shaped text like the service's own (UUIDv7 layout, fixed time).
INSERT INTO categories (id, slug, name, parent_id, created_at)
SELECT format('01900000-0000-7000-8000-%s', lpad(to_hex(r), 12, '0')), 'root-' || r, 'Root ' || r,
       NULL, 1700000000000
FROM generate_series(0, 4) r
ON CONFLICT DO NOTHING;
INSERT INTO categories (id, slug, name, parent_id, created_at)
SELECT format('01900000-0000-7000-8001-%s', lpad(to_hex(l), 12, '0')), 'leaf-' || l, 'Leaf ' || l,
       format('01900000-0000-7000-8000-%s', lpad(to_hex(l / 6), 12, '0')), 1700000000000
FROM generate_series(0, 29) l
ON CONFLICT DO NOTHING;

-- Products: created_at one second apart, ending at 2026-11-01, so "newest" is well defined.
INSERT INTO products (id, seller_id, title, description, category_id, price_amount, price_currency,
                      attributes, on_hand, reserved, status, version, created_at, updated_at,
                      units_sold)
SELECT
  -- UUIDv7 layout: 48-bit millisecond time, then hash bits.
  format('%s-%s-7%s-8%s-%s', substr(ts, 1, 8), substr(ts, 9, 4), substr(h, 1, 3), substr(h, 4, 3),
         substr(h, 7, 12)),
  format('01910000-0000-7000-8000-%s', lpad(to_hex(abs(h1) % :sellers), 12, '0')),
  initcap(adj.word) || CASE WHEN title_material THEN ' ' || mat.word ELSE '' END || ' ' || obj.word
    || CASE WHEN abs(h2) % 10 = 0 THEN ' made to order' ELSE '' END,
  format('A %s %s made of %s. Each piece is finished by hand and checked before it ships; '
         'care instructions come in the box.', adj.word, obj.word, mat.word),
  format('01900000-0000-7000-8001-%s', lpad(to_hex(abs(h2) % 30), 12, '0')),
  100 + abs(h3) % 99900,
  'EUR',
  '{}',
  1000000, 0, 'active', 1, created, created,
  -- Units sold, skewed as a shop's are: 80 % never sold, the rest 0..998 with a long tail.
  CASE WHEN abs(h3) % 100 < 80 THEN 0 ELSE (abs(h1) % 1000) * (abs(h2) % 1000) / 1000 END
FROM (
  SELECT i, created, lpad(to_hex(created), 12, '0') AS ts,
         md5(:seed || '-' || i) AS h,
         hashint8extended(i, :seed) AS h1,
         hashint8extended(i, :seed + 1) AS h2,
         hashint8extended(i, :seed + 2) AS h3,
         (i % 2 = 0) AS title_material
  FROM (SELECT i, 1793491200000 - (:products - i) * 1000 AS created
        FROM generate_series(1, :products) i) g
) p
JOIN vocab mat ON mat.kind = 'material' AND mat.n = abs(p.h1 / 7) % 30
JOIN vocab obj ON obj.kind = 'object' AND obj.n = abs(p.h2 / 7) % 40
JOIN vocab adj ON adj.kind = 'adjective' AND adj.n = abs(p.h3 / 7) % 20;
COMMIT;
ANALYZE categories;
ANALYZE products;
