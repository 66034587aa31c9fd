//! `shopnow-catalog-seed`: loads a demo catalog through the public API.
//!
//! ```text
//! cargo run -p shopnow-catalog-seed -- --url http://127.0.0.1:3000 \
//!     --admin-email admin@example.com --products 1000
//! ```
//! The admin address must be listed in `identity_admin_emails` (e.g.
//! `SPIN_VARIABLE_IDENTITY_ADMIN_EMAILS=admin@example.com spin up ...`); the tool registers it
//! (or signs in if it exists), registers the sellers, creates the category tree and the products.

use clap::Parser;
use shopnow_catalog_seed::{Plan, seed};

/// Loads a demo catalog through the API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Base URL of the running application.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// An address listed in `identity_admin_emails` (creates the categories).
    #[arg(long, default_value = "admin@example.com")]
    admin_email: String,
    /// Password of every account the tool registers (12+ characters, not a common one).
    #[arg(long, default_value = "seed-password-violet-42")]
    password: String,
    /// Number of sellers.
    #[arg(long, default_value_t = 5)]
    sellers: usize,
    /// Number of products (spread over the sellers and leaf categories).
    #[arg(long, default_value_t = 1000)]
    products: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seed of the generator: the same seed gives the same catalog.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = std::time::Instant::now();
    let summary = seed(&Plan {
        base_url: args.url,
        admin_email: args.admin_email,
        password: args.password,
        sellers: args.sellers,
        products: args.products,
        concurrency: args.concurrency.max(1),
        seed: args.seed,
    })
    .await?;
    println!(
        "seeded {} categories, {} sellers, {} products in {:.1} s",
        summary.categories,
        summary.sellers,
        summary.products,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
