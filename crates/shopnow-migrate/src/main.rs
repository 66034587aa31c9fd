//! `shopnow-migrate`: applies a service's pending migrations to its PostgreSQL database.
//!
//! ```text
//! shopnow-migrate <service> [<database-url>]      # url defaults to $<SERVICE>_DATABASE_URL
//! shopnow-migrate --list
//! ```
//! Exits non-zero when the database is unreachable or a migration fails (nothing of that
//! migration is applied). Safe to run concurrently and repeatedly.

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--list" => {
            for service in shopnow_migrate::SERVICES {
                println!("{} ({} migrations)", service.name, service.migrations.len());
            }
            Ok(())
        }
        [name, rest @ ..] if rest.len() <= 1 && !name.starts_with('-') => {
            let service = shopnow_migrate::service(name)?;
            let variable = format!("{}_DATABASE_URL", name.to_uppercase());
            let url = match rest.first() {
                Some(url) => url.clone(),
                None => std::env::var(&variable)
                    .with_context(|| format!("give a database URL or set {variable}"))?,
            };
            let applied = shopnow_migrate::apply(service, &url)?;
            println!("{name}: {applied} migration(s) applied");
            Ok(())
        }
        _ => anyhow::bail!(
            "usage: shopnow-migrate <service> [<database-url>] | shopnow-migrate --list"
        ),
    }
}
