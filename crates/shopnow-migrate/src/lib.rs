//! Applies ShopNow's versioned migrations to PostgreSQL from outside the platform: the step a
//! deployment runs (a Kubernetes Job, a CI stage) before a new version takes traffic, so no
//! request ever pays for a schema change.
//!
//! It runs the very migration lists the components embed (`shopnow_<service>::schema`) through
//! the kernel's runner, over a native PostgreSQL connection. Native only: it must never be a
//! dependency of a component.

pub mod pg;

use anyhow::Context as _;
use shopnow_kernel::sql::{Migration, migrate};

pub use pg::NativePg;

/// A service whose schema this tool manages, with its migrations.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// The service's name, as in `spin.toml` (`identity`, ...).
    pub name: &'static str,
    /// Its migrations, oldest first.
    pub migrations: &'static [Migration],
}

/// Every service with a relational schema.
pub const SERVICES: &[Service] = &[
    Service {
        name: "identity",
        migrations: shopnow_identity::schema::MIGRATIONS,
    },
    Service {
        name: "catalog",
        migrations: shopnow_catalog::schema::MIGRATIONS,
    },
    Service {
        name: "orders",
        migrations: shopnow_orders::schema::MIGRATIONS,
    },
];

/// Looks a service up by name.
///
/// # Errors
/// When no service has that name; the message lists the known ones.
pub fn service(name: &str) -> anyhow::Result<Service> {
    SERVICES
        .iter()
        .copied()
        .find(|s| s.name == name)
        .with_context(|| {
            let known: Vec<_> = SERVICES.iter().map(|s| s.name).collect();
            format!("unknown service `{name}` (known: {})", known.join(", "))
        })
}

/// Applies the service's pending migrations to the database at `url` and returns how many ran.
///
/// # Errors
/// When the database can't be reached or a migration fails (then nothing of it is applied).
pub fn apply(service: Service, url: &str) -> anyhow::Result<usize> {
    let db = NativePg::connect(url)?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    migrate(&db, service.migrations, now_ms)
        .with_context(|| format!("migrating {} failed", service.name))
}
