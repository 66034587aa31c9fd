//! `fermyon:spin/key-value@2.0.0`: stores on embedded SQLite (Spin's `spin` type) or Redis.
//!
//! A component opens only the labels in its `key_value_stores` (others: `access-denied`, as in
//! Spin). The SQLite layout is Spin's: one `spin_key_value(store, key, value)` table.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use redis::AsyncCommands as _;
use rusqlite::{Connection, OptionalExtension as _};
use wasmtime::component::Resource;

use crate::bindings::fermyon::spin::key_value::{Error, Host, HostStore};
use crate::state::InstanceState;

/// A configured store, shared by every instance of the application.
#[derive(Clone)]
pub(crate) enum KvBackend {
    /// Embedded SQLite: the shared connection and the store label (the `store` column).
    Sqlite(Arc<Mutex<Connection>>, Arc<str>),
    /// Redis, connected on first use.
    Redis(Arc<RedisStore>),
}

/// A Redis server reached through one multiplexed connection manager.
pub(crate) struct RedisStore {
    url: String,
    conn: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
}

/// The `store` resource a guest holds.
pub struct KvStoreHandle {
    backend: KvBackend,
}

impl KvBackend {
    /// Opens (creating if needed) a SQLite-backed store; `None` = in memory.
    ///
    /// Fails when the file or its directory can't be created or opened.
    pub(crate) fn sqlite(label: &str, path: Option<&Path>) -> anyhow::Result<Self> {
        let conn = crate::sqlite::open_connection(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            );",
        )
        .context("cannot create the key-value table")?;
        Ok(Self::Sqlite(Arc::new(Mutex::new(conn)), Arc::from(label)))
    }

    /// A Redis-backed store; connects on first use.
    pub(crate) fn redis(url: &str) -> Self {
        Self::Redis(Arc::new(RedisStore {
            url: url.to_owned(),
            conn: tokio::sync::OnceCell::new(),
        }))
    }
}

impl RedisStore {
    async fn conn(&self) -> Result<redis::aio::ConnectionManager, Error> {
        self.conn
            .get_or_try_init(|| async {
                let client = redis::Client::open(self.url.as_str())?;
                client.get_connection_manager().await
            })
            .await
            .cloned()
            .map_err(|e| Error::Other(format!("redis: {e}")))
    }
}

async fn with_sqlite<T: Send + 'static>(
    conn: &Arc<Mutex<Connection>>,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, Error> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        let guard = conn
            .lock()
            .map_err(|_| Error::Other("key-value connection poisoned".to_owned()))?;
        f(&guard).map_err(|e| Error::Other(e.to_string()))
    })
    .await
    .map_err(|e| Error::Other(e.to_string()))?
}

fn redis_err(e: redis::RedisError) -> Error {
    Error::Other(format!("redis: {e}"))
}

impl KvBackend {
    async fn get(&self, key: String) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Self::Sqlite(conn, store) => {
                let store = store.clone();
                with_sqlite(conn, move |c| {
                    c.prepare_cached(
                        "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                    )?
                    .query_row((&*store, &key), |r| r.get(0))
                    .optional()
                })
                .await
            }
            Self::Redis(r) => r.conn().await?.get(key).await.map_err(redis_err),
        }
    }

    async fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        match self {
            Self::Sqlite(conn, store) => {
                let store = store.clone();
                with_sqlite(conn, move |c| {
                    c.prepare_cached(
                        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
                    )?
                    .execute((&*store, &key, &value))
                    .map(drop)
                })
                .await
            }
            Self::Redis(r) => r.conn().await?.set(key, value).await.map_err(redis_err),
        }
    }

    async fn delete(&self, key: String) -> Result<(), Error> {
        match self {
            Self::Sqlite(conn, store) => {
                let store = store.clone();
                with_sqlite(conn, move |c| {
                    c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                        .execute((&*store, &key))
                        .map(drop)
                })
                .await
            }
            Self::Redis(r) => r.conn().await?.del(key).await.map_err(redis_err),
        }
    }

    async fn exists(&self, key: String) -> Result<bool, Error> {
        match self {
            Self::Sqlite(conn, store) => {
                let store = store.clone();
                with_sqlite(conn, move |c| {
                    c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                        .exists((&*store, &key))
                })
                .await
            }
            Self::Redis(r) => r.conn().await?.exists(key).await.map_err(redis_err),
        }
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        match self {
            Self::Sqlite(conn, store) => {
                let store = store.clone();
                with_sqlite(conn, move |c| {
                    c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?
                        .query_map([&*store], |r| r.get(0))?
                        .collect()
                })
                .await
            }
            Self::Redis(r) => r.conn().await?.keys("*").await.map_err(redis_err),
        }
    }
}

impl InstanceState {
    fn kv(&self, store: &Resource<KvStoreHandle>) -> wasmtime::Result<KvBackend> {
        Ok(self.table.get(store)?.backend.clone())
    }
}

impl Host for InstanceState {}

impl HostStore for InstanceState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvStoreHandle>, Error>> {
        if !self.component.kv_stores.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(backend) = self.app.kv.get(&label).cloned() else {
            return Ok(Err(Error::NoSuchStore));
        };
        Ok(Ok(self.table.push(KvStoreHandle { backend })?))
    }

    async fn get(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self.kv(&store)?.get(key).await)
    }

    async fn set(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.kv(&store)?.set(key, value).await)
    }

    async fn delete(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.kv(&store)?.delete(key).await)
    }

    async fn exists(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(self.kv(&store)?.exists(key).await)
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvStoreHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(self.kv(&store)?.get_keys().await)
    }

    async fn drop(&mut self, store: Resource<KvStoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
