//! `KvCartStore`: carts as JSON in the component's key-value store (embedded locally, Redis in
//! production), one key per user. Spin's key-value has no TTL, so the cart carries its own
//! expiry and a lapsed cart reads as empty; it is overwritten or deleted on the next change.

use std::cell::OnceCell;

use shopnow_kernel::kv::KeyValue;
use shopnow_orders::domain::Cart;
use shopnow_orders::ports::{CartStore, RepoError};
use shopnow_spin::SpinKv;

/// Carts in the key-value store `label`.
pub struct KvCartStore<'a> {
    label: &'a str,
    store: OnceCell<SpinKv>,
}

impl<'a> KvCartStore<'a> {
    /// Carts in the store `label`, opened on first use and kept for the request (on Redis an
    /// open is a connection: a cart change's load and save share one).
    pub fn new(label: &'a str) -> Self {
        Self {
            label,
            store: OnceCell::new(),
        }
    }

    fn store(&self) -> Result<&SpinKv, RepoError> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let opened = SpinKv::open(self.label).map_err(|e| RepoError::Unavailable(e.to_string()))?;
        Ok(self.store.get_or_init(|| opened))
    }
}

/// The key of `user_id`'s cart (versioned, so a format change can move to `cart:v2:`).
fn key(user_id: &str) -> String {
    format!("cart:v1:{user_id}")
}

impl CartStore for KvCartStore<'_> {
    fn load(&self, user_id: &str) -> Result<Option<Cart>, RepoError> {
        let Some(bytes) = self
            .store()?
            .get(&key(user_id))
            .map_err(|e| RepoError::Unavailable(e.to_string()))?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RepoError::Failed(format!("stored cart unreadable: {e}")))
    }

    fn save(&self, user_id: &str, cart: &Cart) -> Result<(), RepoError> {
        let bytes = serde_json::to_vec(cart)
            .map_err(|e| RepoError::Failed(format!("cart serialisation: {e}")))?;
        self.store()?
            .set(&key(user_id), &bytes)
            .map_err(|e| RepoError::Unavailable(e.to_string()))
    }

    fn delete(&self, user_id: &str) -> Result<(), RepoError> {
        self.store()?
            .delete(&key(user_id))
            .map_err(|e| RepoError::Unavailable(e.to_string()))
    }
}
