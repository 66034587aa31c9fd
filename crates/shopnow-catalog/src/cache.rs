//! The read-through product cache over the key-value port.
//!
//! Spin's key-value store has no expiry, so each entry carries its own `expires_at`. Staleness
//! is ruled out with a *generation stamp* per product instead of plain delete-on-write, because
//! delete-on-write races: a reader that loaded the old row before a write committed can store
//! it after the writer's delete, and it would then be served until it expires.
//!
//! - Reader: read the product's generation `G` *before* loading from the database, and store the
//!   loaded product tagged with `G`. A hit is served only if its tag equals the current
//!   generation.
//! - Writer: after its transaction commits, set the generation to a fresh unique value (then
//!   delete the entry, to free space).
//!
//! Any reader that loaded before a write committed read `G` before that writer replaced it, so
//! its entry carries a generation that is no longer current, and it is never served once the
//! write has returned. Unique stamps (not counters) make concurrent writers safe without a
//! compare-and-swap, which Spin's key-value interface lacks. Entries also lapse at the next
//! moment one of the product's holds expires, since that frees units without a write.
//!
//! Any key-value failure makes the cache step aside: reads go to the database and still
//! answer. (If setting the generation fails after a write, entries tagged before it can live
//! until their `expires_at`; the adapter logs that failure.)

use serde::{Deserialize, Serialize};
use shopnow_kernel::ids::IdSource;
use shopnow_kernel::kv::KeyValue;
use shopnow_money::Money;

use crate::domain::{Attributes, Description, Product, ProductStatus, StockLevel, Title};
use crate::ports::ProductRead;

/// The cached form of a product: plain fields, validated again when read back.
#[derive(Debug, Serialize, Deserialize)]
struct CachedProduct {
    id: String,
    seller_id: String,
    title: String,
    description: String,
    category_id: String,
    price: Money,
    attributes: serde_json::Value,
    on_hand: i64,
    reserved: i64,
    status: String,
    version: i64,
    created_at_ms: i64,
    updated_at_ms: i64,
    /// Absent in entries cached before sales counts existed.
    #[serde(default)]
    units_sold: i64,
}

impl From<&Product> for CachedProduct {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.clone(),
            seller_id: p.seller_id.clone(),
            title: p.title.as_str().to_owned(),
            description: p.description.as_str().to_owned(),
            category_id: p.category_id.clone(),
            price: p.price,
            attributes: serde_json::to_value(&p.attributes).unwrap_or_default(),
            on_hand: p.stock.on_hand(),
            reserved: p.stock.reserved(),
            status: p.status.as_str().to_owned(),
            version: p.version,
            created_at_ms: p.created_at_ms,
            updated_at_ms: p.updated_at_ms,
            units_sold: p.units_sold,
        }
    }
}

impl CachedProduct {
    fn into_product(self) -> Option<Product> {
        Some(Product {
            id: self.id,
            seller_id: self.seller_id,
            title: Title::parse(&self.title).ok()?,
            description: Description::parse(&self.description).ok()?,
            category_id: self.category_id,
            price: self.price,
            attributes: Attributes::parse(&self.attributes).ok()?,
            stock: StockLevel::from_counts(self.on_hand, self.reserved),
            status: ProductStatus::parse(&self.status)?,
            version: self.version,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
            units_sold: self.units_sold,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// The generation read before the load.
    #[serde(rename = "g")]
    generation: Option<String>,
    /// Epoch ms after which the entry is not served.
    #[serde(rename = "x")]
    expires_at_ms: i64,
    #[serde(rename = "p")]
    product: CachedProduct,
}

fn entry_key(id: &str) -> String {
    format!("product:{id}")
}

fn generation_key(id: &str) -> String {
    format!("product:{id}:gen")
}

/// Read-through cache of single products.
pub struct ProductCache<'a> {
    kv: &'a dyn KeyValue,
    ids: &'a dyn IdSource,
    ttl_ms: i64,
}

impl<'a> ProductCache<'a> {
    /// A cache on `kv` whose entries live at most `ttl_ms` (0 disables it).
    pub fn new(kv: &'a dyn KeyValue, ids: &'a dyn IdSource, ttl_ms: i64) -> Self {
        Self { kv, ids, ttl_ms }
    }

    /// The product `id`: from the cache when a current entry exists, else from `load` (then
    /// cached).
    ///
    /// # Errors
    /// `load`'s error; key-value failures are never errors.
    pub fn get_or_load<E>(
        &self,
        id: &str,
        now_ms: i64,
        load: impl FnOnce() -> Result<Option<ProductRead>, E>,
    ) -> Result<Option<Product>, E> {
        if self.ttl_ms <= 0 {
            return Ok(load()?.map(|read| read.product));
        }
        // Read before the load; on a key-value failure skip the cache entirely.
        let Ok(generation) = self.kv.get(&generation_key(id)) else {
            return Ok(load()?.map(|read| read.product));
        };
        let generation = generation.map(|g| String::from_utf8_lossy(&g).into_owned());
        if let Ok(Some(bytes)) = self.kv.get(&entry_key(id))
            && let Ok(entry) = serde_json::from_slice::<Entry>(&bytes)
            && entry.generation == generation
            && entry.expires_at_ms > now_ms
            && let Some(product) = entry.product.into_product()
        {
            return Ok(Some(product));
        }
        let Some(read) = load()? else {
            return Ok(None);
        };
        let mut expires_at_ms = now_ms.saturating_add(self.ttl_ms);
        if let Some(lapse) = read.next_lapse_ms {
            expires_at_ms = expires_at_ms.min(lapse);
        }
        let entry = Entry {
            generation,
            expires_at_ms,
            product: CachedProduct::from(&read.product),
        };
        if let Ok(bytes) = serde_json::to_vec(&entry) {
            // A failed store only costs the next reader a database read.
            let _ignored = self.kv.set(&entry_key(id), &bytes);
        }
        Ok(Some(read.product))
    }

    /// Invalidates the product after a committed write: a fresh generation, then the entry is
    /// dropped.
    ///
    /// # Errors
    /// [`shopnow_kernel::kv::KvError`] when the generation could not be replaced (entries may
    /// then be served until they expire); the caller logs it — the write itself succeeded.
    pub fn invalidate(&self, id: &str) -> Result<(), shopnow_kernel::kv::KvError> {
        let stamp = self
            .ids
            .new_id()
            .map_err(|e| shopnow_kernel::kv::KvError(e.to_string()))?;
        self.kv.set(&generation_key(id), stamp.as_bytes())?;
        // The new generation already hides the entry; deleting it only frees space.
        let _ignored = self.kv.delete(&entry_key(id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::tests::product;
    use shopnow_kernel::ids::SequentialIds;
    use shopnow_kernel::kv::{KvError, MemoryKv};
    use std::cell::Cell;
    use std::convert::Infallible;

    fn read(version: i64) -> ProductRead {
        let mut p = product();
        p.version = version;
        ProductRead {
            product: p,
            next_lapse_ms: None,
        }
    }

    fn loads(
        counter: &Cell<u32>,
        version: i64,
    ) -> impl FnOnce() -> Result<Option<ProductRead>, Infallible> + '_ {
        move || {
            counter.set(counter.get() + 1);
            Ok(Some(read(version)))
        }
    }

    #[test]
    fn a_second_read_is_served_from_the_cache() {
        let (kv, ids, loads_n) = (MemoryKv::default(), SequentialIds::default(), Cell::new(0));
        let cache = ProductCache::new(&kv, &ids, 60_000);
        let id = product().id;
        cache.get_or_load(&id, 0, loads(&loads_n, 1)).unwrap();
        let hit = cache
            .get_or_load(&id, 1, loads(&loads_n, 1))
            .unwrap()
            .unwrap();
        assert_eq!(loads_n.get(), 1);
        assert_eq!(hit, read(1).product);
    }

    #[test]
    fn entries_expire_at_their_ttl_or_the_next_hold_lapse() {
        let (kv, ids, loads_n) = (MemoryKv::default(), SequentialIds::default(), Cell::new(0));
        let cache = ProductCache::new(&kv, &ids, 60_000);
        let id = product().id;
        cache.get_or_load(&id, 0, loads(&loads_n, 1)).unwrap();
        cache.get_or_load(&id, 60_000, loads(&loads_n, 1)).unwrap();
        assert_eq!(loads_n.get(), 2);
        let lapsing = || -> Result<_, Infallible> {
            Ok(Some(ProductRead {
                next_lapse_ms: Some(70_000),
                ..read(2)
            }))
        };
        let cache2 = ProductCache::new(&kv, &ids, 60_000);
        cache2.invalidate(&id).unwrap();
        cache2.get_or_load(&id, 65_000, lapsing).unwrap();
        cache2.get_or_load(&id, 70_000, loads(&loads_n, 2)).unwrap();
        assert_eq!(loads_n.get(), 3);
    }

    #[test]
    fn a_reader_that_loaded_before_a_write_never_serves_its_copy_after_it() {
        // Interleaving: reader reads the generation and loads v1; the writer commits v2 and
        // invalidates; only then does the reader store v1.
        let (kv, ids) = (MemoryKv::default(), SequentialIds::default());
        let cache = ProductCache::new(&kv, &ids, 60_000);
        let id = product().id;
        let writer = ProductCache::new(&kv, &ids, 60_000);
        let stale = cache
            .get_or_load(&id, 0, || -> Result<_, Infallible> {
                writer.invalidate(&id).unwrap();
                Ok(Some(read(1)))
            })
            .unwrap()
            .unwrap();
        assert_eq!(
            stale.version, 1,
            "the racing reader itself answers what it loaded"
        );
        let next = cache
            .get_or_load(&id, 1, || -> Result<_, Infallible> { Ok(Some(read(2))) })
            .unwrap()
            .unwrap();
        assert_eq!(next.version, 2);
    }

    #[test]
    fn invalidation_hides_the_entry() {
        let (kv, ids, loads_n) = (MemoryKv::default(), SequentialIds::default(), Cell::new(0));
        let cache = ProductCache::new(&kv, &ids, 60_000);
        let id = product().id;
        cache.get_or_load(&id, 0, loads(&loads_n, 1)).unwrap();
        cache.invalidate(&id).unwrap();
        let fresh = cache
            .get_or_load(&id, 1, loads(&loads_n, 2))
            .unwrap()
            .unwrap();
        assert_eq!((loads_n.get(), fresh.version), (2, 2));
    }

    struct BrokenKv;

    impl KeyValue for BrokenKv {
        fn get(&self, _: &str) -> Result<Option<Vec<u8>>, KvError> {
            Err(KvError("down".into()))
        }
        fn set(&self, _: &str, _: &[u8]) -> Result<(), KvError> {
            Err(KvError("down".into()))
        }
        fn delete(&self, _: &str) -> Result<(), KvError> {
            Err(KvError("down".into()))
        }
    }

    #[test]
    fn a_failing_store_falls_back_to_the_database() {
        let (ids, loads_n) = (SequentialIds::default(), Cell::new(0));
        let cache = ProductCache::new(&BrokenKv, &ids, 60_000);
        let id = product().id;
        for _ in 0..2 {
            assert!(
                cache
                    .get_or_load(&id, 0, loads(&loads_n, 1))
                    .unwrap()
                    .is_some()
            );
        }
        assert_eq!(loads_n.get(), 2);
        assert!(cache.invalidate(&id).is_err());
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let (kv, ids, loads_n) = (MemoryKv::default(), SequentialIds::default(), Cell::new(0));
        let cache = ProductCache::new(&kv, &ids, 0);
        let id = product().id;
        cache.get_or_load(&id, 0, loads(&loads_n, 1)).unwrap();
        cache.get_or_load(&id, 0, loads(&loads_n, 1)).unwrap();
        assert_eq!(loads_n.get(), 2);
    }
}
