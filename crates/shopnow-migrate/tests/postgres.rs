//! The migration tool against a real PostgreSQL: a fresh database gets every service's schema,
//! and a second run applies nothing. Needs SHOPNOW_TEST_DATABASE_URL (required when CI is set).

#![expect(
    clippy::panic,
    reason = "test helpers: a missing service or a bad URL must stop the test loudly"
)]

use postgres::{Client, NoTls};

fn admin_url() -> Option<String> {
    match std::env::var("SHOPNOW_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!(
                "SHOPNOW_TEST_DATABASE_URL must be set in CI: the migration tests need PostgreSQL"
            )
        }
        Err(_) => {
            eprintln!("skipped: set SHOPNOW_TEST_DATABASE_URL to run the migration tests");
            None
        }
    }
}

fn with_url_database(url: &str, database: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{database}"),
        None => panic!("unexpected database URL {url}"),
    }
}

#[test]
fn every_service_migrates_a_fresh_database_once() {
    let Some(admin) = admin_url() else { return };
    let mut client = Client::connect(&admin, NoTls).expect("PostgreSQL unreachable");
    for service in shopnow_migrate::SERVICES {
        let name = format!("shopnow_m_{}", uuid::Uuid::new_v4().simple());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = with_url_database(&admin, &name);

        let first = shopnow_migrate::apply(*service, &url).unwrap();
        let second = shopnow_migrate::apply(*service, &url).unwrap();

        let mut db = Client::connect(&url, NoTls).unwrap();
        let recorded: i64 = db
            .query_one("SELECT count(*) FROM schema_migrations", &[])
            .unwrap()
            .get(0);
        drop(db);
        client
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
        assert_eq!(first, service.migrations.len(), "{}", service.name);
        assert_eq!(second, 0, "{} re-applied migrations", service.name);
        assert_eq!(recorded, i64::try_from(first).unwrap());
    }
}

#[test]
fn an_unreachable_database_is_an_error() {
    let err = shopnow_migrate::apply(
        shopnow_migrate::service("identity").unwrap(),
        "postgres://postgres@127.0.0.1:1/nothing",
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("cannot connect"));
}

#[test]
fn an_unknown_service_is_named_in_the_error() {
    let err = shopnow_migrate::service("billing").unwrap_err();
    assert!(err.to_string().contains("identity"));
}
