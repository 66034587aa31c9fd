//! Black-box tests of the test host: the probe component (`tests/fixtures/spin.toml`) served over
//! HTTP through the test kit. Build the probe first:
//! `cargo build --target wasm32-wasip2 --release -p shopnow-testhost-probe`.
//! PostgreSQL/Redis tests need `SHOPNOW_TEST_DATABASE_URL` and `SHOPNOW_TEST_REDIS_URL`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed request or a missing field fails the test"
)]

use std::collections::HashMap;

use serde_json::Value;
use shopnow_testkit::{Backend, SpawnOptions, TestApp, backend_available};

const FIXTURE: &str = "crates/shopnow-testhost/tests/fixtures/spin.toml";

async fn probe(backend: Backend) -> Option<TestApp> {
    probe_with(backend, SpawnOptions::default()).await
}

async fn probe_with(backend: Backend, opts: SpawnOptions) -> Option<TestApp> {
    if !backend_available(backend) {
        return None;
    }
    Some(TestApp::spawn_with(backend, opts.manifest(FIXTURE)).await)
}

async fn echo(app: &TestApp, path: &str) -> Value {
    let resp = app.get(path).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

async fn get_text(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app.get(path).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn post_text(app: &TestApp, path: &str, body: &str) -> (u16, String) {
    let resp = app.post(path).body(body.to_owned()).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

mod routing {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exact_beats_wildcard_and_longest_prefix_wins() {
        let app = probe(Backend::Embedded).await.unwrap();
        assert_eq!(echo(&app, "/exact").await["component"], "exact");
        assert_eq!(echo(&app, "/api/x/echo").await["component"], "api");
        assert_eq!(echo(&app, "/api/deep/echo").await["component"], "deep");
        assert_eq!(echo(&app, "/api/deep").await["component"], "deep");
        assert_eq!(
            echo(&app, "/probe/anything/echo").await["component"],
            "probe"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unmatched_paths_are_404() {
        let app = probe(Backend::Embedded).await.unwrap();
        assert_eq!(get_text(&app, "/nothing").await.0, 404);
        assert_eq!(get_text(&app, "/exact/more").await.0, 404);
        assert_eq!(get_text(&app, "/").await.0, 404);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn private_routes_are_unreachable_from_outside() {
        let app = probe(Backend::Embedded).await.unwrap();
        assert_eq!(get_text(&app, "/internal/echo").await.0, 404);
        assert_eq!(get_text(&app, "/internal").await.0, 404);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn named_segments_are_captured() {
        let app = probe(Backend::Embedded).await.unwrap();
        let body = echo(&app, "/users/42").await;
        assert_eq!(body["component"], "user");
        assert_eq!(body["headers"]["spin-path-match-user_id"], "42");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spin_headers_describe_the_match() {
        let app = probe(Backend::Embedded).await.unwrap();
        let body = echo(&app, "/api/deep/a/echo?q=1").await;
        let h = &body["headers"];
        assert_eq!(
            h["spin-full-url"],
            format!("http://{}/api/deep/a/echo?q=1", app.addr())
        );
        assert_eq!(h["spin-path-info"], "/a/echo");
        assert_eq!(h["spin-matched-route"], "/api/deep/...");
        assert_eq!(h["spin-raw-component-route"], "/api/deep/...");
        assert_eq!(h["spin-component-route"], "/api/deep");
        assert_eq!(h["spin-base-path"], "/");
        assert!(
            h["spin-client-addr"]
                .as_str()
                .unwrap()
                .starts_with("127.0.0.1:"),
            "{h}"
        );
        assert_eq!(body["path"], "/api/deep/a/echo");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn health_endpoint_answers() {
        let app = probe(Backend::Embedded).await.unwrap();
        assert_eq!(
            get_text(&app, "/.well-known/spin/health").await,
            (200, "OK".to_owned())
        );
    }
}

mod outbound {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn service_chaining_reaches_a_private_component() {
        let app = probe(Backend::Embedded).await.unwrap();
        let (status, body) = get_text(&app, "/probe/chain/internal/echo").await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["component"], "internal");
        assert_eq!(body["headers"]["spin-client-addr"], "0.0.0.0:0");
        assert_eq!(body["headers"]["spin-path-info"], "/echo");
        assert_eq!(body["headers"]["spin-matched-route"], "/...");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn chaining_needs_the_host_in_allowed_outbound_hosts() {
        let app = probe(Backend::Embedded).await.unwrap();
        let (status, body) = get_text(&app, "/api/chain/internal/echo").await;
        assert_eq!(status, 502);
        assert!(body.contains("HttpRequestDenied"), "{body}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_to_unlisted_hosts_are_denied() {
        let app = probe(Backend::Embedded).await.unwrap();
        let (status, body) = get_text(&app, "/probe/outbound?http://127.0.0.1:9/x").await;
        assert_eq!(status, 502);
        assert!(body.contains("HttpRequestDenied"), "{body}");
    }
}

mod failures {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_trap_is_a_500_and_the_next_request_works() {
        let app = probe(Backend::Embedded).await.unwrap();
        assert_eq!(get_text(&app, "/probe/trap").await.0, 500);
        assert_eq!(echo(&app, "/probe/echo").await["component"], "probe");
        assert_eq!(get_text(&app, "/probe/trap").await.0, 500);
        assert_eq!(get_text(&app, "/probe/print").await.0, 200);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_wasm_fails_startup_with_the_build_command() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("spin.toml");
        std::fs::write(
            &manifest,
            "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"gone\"\n[component.gone]\nsource = \"missing_thing.wasm\"\n",
        )
        .unwrap();
        let mut config = shopnow_testhost::HostConfig::new(&manifest);
        config.listen = "127.0.0.1:0".parse().unwrap();
        let Err(err) = shopnow_testhost::start(config).await else {
            panic!("started without its wasm");
        };
        let msg = format!("{err:#}");
        assert!(
            msg.contains("cargo build --target wasm32-wasip2 --release -p missing-thing"),
            "{msg}"
        );
    }
}

mod loading {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_import_the_host_lacks_fails_startup_naming_it() {
        let manifest = shopnow_testkit::repo_root()
            .join("crates/shopnow-testhost/tests/fixtures/unsupported.toml");
        let mut config = shopnow_testhost::HostConfig::new(&manifest);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.state_dir = tempfile::tempdir().unwrap().keep();
        let Err(err) = shopnow_testhost::start(config).await else {
            panic!("started a component with an unsupported import");
        };
        let msg = format!("{err:#}");
        assert!(msg.contains("fermyon:spin/mysql@2.0.0"), "{msg}");
        assert!(msg.contains("legacy"), "{msg}");
    }
}

mod variables {
    use super::*;

    const REQUIRED: &str = "crates/shopnow-testhost/tests/fixtures/required.toml";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn templates_use_defaults_and_overrides() {
        let app = probe(Backend::Embedded).await.unwrap();
        assert_eq!(
            get_text(&app, "/probe/var/message").await,
            (200, "hello, world".to_owned())
        );
        let app = probe_with(
            Backend::Embedded,
            SpawnOptions::default().variable("greeting", "hi"),
        )
        .await
        .unwrap();
        assert_eq!(
            get_text(&app, "/probe/var/message").await,
            (200, "hi, world".to_owned())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn undefined_and_invalid_names_are_errors() {
        let app = probe(Backend::Embedded).await.unwrap();
        let (status, body) = get_text(&app, "/probe/var/nope").await;
        assert_eq!(status, 404);
        assert!(body.contains("Undefined"), "{body}");
        let (status, body) = get_text(&app, "/probe/var/Bad-Name").await;
        assert_eq!(status, 404);
        assert!(body.contains("InvalidName"), "{body}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_required_variable_without_value_fails_startup() {
        let manifest = shopnow_testkit::repo_root().join(REQUIRED);
        let mut config = shopnow_testhost::HostConfig::new(&manifest);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.state_dir = tempfile::tempdir().unwrap().keep();
        let Err(err) = shopnow_testhost::start(config.clone()).await else {
            panic!("started without a required variable");
        };
        assert!(format!("{err:#}").contains("api_token"), "{err:#}");

        config.variables = HashMap::from([("api_token".to_owned(), "s3cret".to_owned())]);
        let host = shopnow_testhost::start(config).await.unwrap();
        let body = reqwest::get(format!("http://{}/var/token", host.addr()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "s3cret");
        host.shutdown().await;
    }
}

mod key_value {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stores_are_isolated_from_each_other() {
        let app = probe(Backend::Embedded).await.unwrap();
        assert_eq!(get_text(&app, "/probe/kv/default/set/k/v1").await.0, 204);
        assert_eq!(
            get_text(&app, "/probe/kv/default/get/k").await,
            (200, "v1".to_owned())
        );
        assert_eq!(get_text(&app, "/probe/kv/other/get/k").await.0, 404);
    }

    async fn round_trip_and_denial(backend: Backend) {
        let Some(app) = probe(backend).await else {
            return;
        };
        let key = format!("k{}", std::process::id());
        let value = format!("v{}", app.addr().port());
        assert_eq!(
            get_text(&app, &format!("/probe/kv/other/set/{key}/{value}"))
                .await
                .0,
            204
        );
        assert_eq!(
            get_text(&app, &format!("/restricted/kv/other/get/{key}")).await,
            (200, value)
        );
        let (status, body) = get_text(&app, &format!("/restricted/kv/default/get/{key}")).await;
        assert_eq!(status, 403);
        assert!(body.contains("AccessDenied"), "{body}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded_round_trip_and_unlisted_store_denied() {
        round_trip_and_denial(Backend::Embedded).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_round_trip_and_unlisted_store_denied() {
        round_trip_and_denial(Backend::Postgres).await;
    }
}

mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn named_database_is_separate_from_default() {
        let app = probe(Backend::Embedded).await.unwrap();
        for sql in ["CREATE TABLE t (x TEXT)", "INSERT INTO t VALUES ('a')"] {
            let (status, body) = post_text(&app, "/probe/sqlite/named", sql).await;
            assert_eq!(status, 200, "{sql}: {body}");
        }
        let (_, body) = post_text(&app, "/probe/sqlite/named", "SELECT x FROM t").await;
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["rows"], serde_json::json!([["a"]]));
        let (_, body) = post_text(
            &app,
            "/probe/sqlite/default",
            "SELECT name FROM sqlite_master WHERE name = 't'",
        )
        .await;
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["rows"], serde_json::json!([]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fts5_works_and_unlisted_databases_are_denied() {
        let app = probe(Backend::Embedded).await.unwrap();
        let (status, body) = post_text(
            &app,
            "/probe/sqlite/default",
            "CREATE VIRTUAL TABLE docs USING fts5(body)",
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = post_text(&app, "/restricted/sqlite/default", "SELECT 1").await;
        assert_eq!(status, 403);
        assert!(body.contains("AccessDenied"), "{body}");
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn values_convert_as_spin_converts_them() {
        let Some(app) = probe(Backend::Postgres).await else {
            return;
        };
        assert!(app.database_url("pg_database_url").is_some());
        let sql = "SELECT 1::int2 AS a, 2::int4 AS b, 3::int8 AS c, 1.5::float4 AS d, \
                   2.5::float8 AS e, 'x'::text AS f, 'y'::varchar AS g, '\\x0102'::bytea AS h, \
                   true AS i, '6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f'::uuid AS j, \
                   '{\"a\":1}'::jsonb AS k, '2024-01-02 03:04:05.5'::timestamp AS l, \
                   '2024-01-02 03:04:05+02'::timestamptz AS m, '2024-01-02'::date AS n, \
                   '03:04:05'::time AS o, 12.340::numeric AS p, ARRAY[1,2]::int4[] AS q, \
                   ARRAY['a',NULL]::text[] AS r, NULL::int4 AS s, current_database()::text AS t";
        let (status, body) = post_text(&app, "/probe/pg", sql).await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        let row: Vec<String> = body["rows"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let expected = [
            "Int16(1)",
            "Int32(2)",
            "Int64(3)",
            "Floating32(1.5)",
            "Floating64(2.5)",
            "Str(\"x\")",
            "Str(\"y\")",
            "Binary([1, 2])",
            "Boolean(true)",
            "Uuid(\"6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f\")",
            "Jsonb([123, 34, 97, 34, 58, 49, 125])",
            "Datetime((2024, 1, 2, 3, 4, 5, 500000000))",
            "Datetime((2024, 1, 2, 1, 4, 5, 0))",
            "Date((2024, 1, 2))",
            "Time((3, 4, 5, 0))",
            "Decimal(\"12.340\")",
            "ArrayInt32([Some(1), Some(2)])",
            "ArrayStr([Some(\"a\"), None])",
            "DbNull",
        ];
        for (i, want) in expected.iter().enumerate() {
            assert!(row[i].contains(want), "column {i}: {} vs {want}", row[i]);
        }
        let db = app.database_url("pg_database_url").unwrap();
        let db_name = db.split('?').next().unwrap().rsplit('/').next().unwrap();
        assert!(row[19].contains(db_name), "{} vs {db_name}", row[19]);
        let columns = body["columns"].to_string();
        for t in [
            "a:DbDataType::Int16",
            "c:DbDataType::Int64",
            "k:DbDataType::Jsonb",
            "m:DbDataType::Datetime",
            "p:DbDataType::Decimal",
            "r:DbDataType::ArrayStr",
        ] {
            assert!(columns.contains(t), "{columns} lacks {t}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn strict_mode_fails_a_query_that_matches_no_rows() {
        // The test kit turns strict mode on: on Spin 4.0.0-4.0.2 this call would never return.
        let Some(app) = probe(Backend::Postgres).await else {
            return;
        };
        let (status, _) = post_text(&app, "/probe/pg", "SELECT 1 WHERE false").await;
        assert_eq!(status, 500, "a zero-row query must trap under strict mode");
        let (status, body) = post_text(&app, "/probe/pg", "SELECT 1 AS one").await;
        assert_eq!(status, 200, "{body}");
    }

    /// The admin URL with every `sslmode` dropped and `mode` set (None: the default, prefer).
    fn with_sslmode(url: &str, mode: Option<&str>) -> String {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut params: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("sslmode="))
            .collect();
        let setting = mode.map(|m| format!("sslmode={m}"));
        if let Some(s) = &setting {
            params.push(s);
        }
        if params.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", params.join("&"))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pg_tls_refuses_an_unverifiable_certificate_as_spin_does() {
        let Some(app) = probe(Backend::Postgres).await else {
            return;
        };
        let db = app.database_url("pg_database_url").unwrap();
        let (admin, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let ssl: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
        if ssl != "on" {
            shopnow_testkit::record_skip("the PostgreSQL server has TLS off: nothing to refuse");
            return;
        }
        // This machine's server presents a self-signed certificate issued to its host name.
        for mode in [None, Some("prefer"), Some("require")] {
            let opts =
                SpawnOptions::default().variable("pg_database_url", &with_sslmode(&db, mode));
            let Some(tls) = probe_with(Backend::Postgres, opts).await else {
                return;
            };
            let (status, body) = post_text(&tls, "/probe/pg", "SELECT 1 AS one").await;
            assert_eq!(status, 502, "sslmode {mode:?}: {body}");
            assert!(body.contains("ConnectionFailed"), "{body}");
            assert!(
                body.contains("certificate verify failed"),
                "sslmode {mode:?}: {body}"
            );
        }
        // Spin's client does not know libpq's verify modes: the address does not parse.
        let opts = SpawnOptions::default()
            .variable("pg_database_url", &with_sslmode(&db, Some("verify-full")));
        let Some(tls) = probe_with(Backend::Postgres, opts).await else {
            return;
        };
        let (status, body) = post_text(&tls, "/probe/pg", "SELECT 1 AS one").await;
        assert_eq!(status, 502, "{body}");
        assert!(body.contains("ConnectionFailed"), "{body}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn database_errors_carry_the_sqlstate() {
        let Some(app) = probe(Backend::Postgres).await else {
            return;
        };
        let (status, body) = post_text(&app, "/probe/pg", "SELECT * FROM no_such_table").await;
        assert_eq!(status, 500);
        assert!(body.contains("DbError"), "{body}");
        assert!(body.contains("42P01"), "{body}");
        assert!(body.contains("ERROR"), "{body}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_stay_pooled_under_500_concurrent_requests() {
        let Some(app) = probe(Backend::Postgres).await else {
            return;
        };
        let db_url = app.database_url("pg_database_url").unwrap();
        let db_name = db_url
            .split('?')
            .next()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let admin_url = std::env::var(shopnow_testkit::DATABASE_URL_ENV).unwrap();
        let (admin, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut max = 0i64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let row = admin
                        .query_one(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                            &[&db_name],
                        )
                        .await
                        .unwrap();
                    max = max.max(row.get::<_, i64>(0));
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                max
            })
        };
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..500 {
            let req = app.get("/probe/pg-sleep");
            tasks.spawn(async move {
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.text().await.unwrap())
            });
        }
        while let Some(r) = tasks.join_next().await {
            let (status, body) = r.unwrap();
            assert_eq!(status, 200, "{body}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let max = sampler.await.unwrap();
        assert!(max >= 1, "no connection was ever seen");
        assert!(
            max <= 64,
            "{max} connections to the test database (pool max is 64)"
        );
    }
}

mod outbound_redis {
    //! `fermyon:spin/redis@2.0.0` through the probe's `redis/...` routes, on a manifest written per
    //! test (one component, its own `allowed_outbound_hosts` and `redis_url`). Redis is shared by
    //! every test: keys, streams and channels carry a fresh uuid.

    use super::*;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    /// A TOML basic string: JSON's escapes are TOML's.
    fn toml_str(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    fn unique(what: &str) -> String {
        format!("shopnow-testhost:{what}:{}", uuid::Uuid::new_v4().simple())
    }

    /// A manifest serving the probe at `/probe/...` with `redis_url` and `allowed` hosts.
    fn write_manifest(dir: &Path, redis_url: &str, allowed: &[String]) -> PathBuf {
        let wasm = shopnow_testkit::repo_root()
            .join("target/wasm32-wasip2/release/shopnow_testhost_probe.wasm");
        let allowed: Vec<String> = allowed.iter().map(|h| toml_str(h)).collect();
        let manifest = dir.join("spin.toml");
        std::fs::write(
            &manifest,
            format!(
                "spin_manifest_version = 2\n[application]\nname = \"redis-probe\"\n\
                 [[trigger.http]]\nroute = \"/probe/...\"\ncomponent = \"probe\"\n\
                 [component.probe]\nsource = {}\nallowed_outbound_hosts = [{}]\n\
                 [component.probe.variables]\nid = \"probe\"\nredis_url = {}\n",
                toml_str(&wasm.to_string_lossy()),
                allowed.join(", "),
                toml_str(redis_url),
            ),
        )
        .unwrap();
        manifest
    }

    /// The probe under `backend` with that manifest; the directory lives as long as the app.
    async fn spawn(
        backend: Backend,
        redis_url: &str,
        allowed: &[String],
    ) -> (TestApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(dir.path(), redis_url, allowed);
        let app = TestApp::spawn_with(backend, SpawnOptions::default().manifest(manifest)).await;
        (app, dir)
    }

    /// `redis://host[:port]` of a Redis URL: the `allowed_outbound_hosts` entry for it.
    fn allowed_entry(url: &str) -> String {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?']).next().unwrap();
        let host_port = authority.rsplit('@').next().unwrap();
        format!("redis://{host_port}")
    }

    /// The shared Redis (skipped, or a panic under `CI`, as every PostgreSQL/Redis test), served
    /// to the probe with `query` appended to its URL (e.g. `protocol=resp3`).
    async fn with_redis(query: Option<&str>) -> Option<(TestApp, tempfile::TempDir, String)> {
        if !backend_available(Backend::Postgres) {
            return None;
        }
        let url = std::env::var(shopnow_testkit::REDIS_URL_ENV).unwrap();
        let probe_url = match query {
            Some(q) if url.contains('?') => format!("{url}&{q}"),
            Some(q) => format!("{url}?{q}"),
            None => url.clone(),
        };
        let (app, dir) = spawn(Backend::Postgres, &probe_url, &[allowed_entry(&url)]).await;
        Some((app, dir, url))
    }

    async fn direct(url: &str) -> redis::aio::MultiplexedConnection {
        redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    async fn execute(app: &TestApp, command: Value) -> (u16, String) {
        post_text(app, "/probe/redis/execute", &command.to_string()).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn execute_flattens_xrange_into_one_list() {
        let Some((app, _dir, url)) = with_redis(None).await else {
            return;
        };
        let stream = unique("stream");
        let body = echo(&app, &format!("/probe/redis/xadd-xrange/{stream}")).await;
        let ids = body["ids"].as_array().unwrap();
        assert_eq!(ids.len(), 2, "{body}");
        let (id1, id2) = (&ids[0]["binary"], &ids[1]["binary"]);
        assert!(id1.as_str().unwrap().contains('-'), "{body}");
        assert_eq!(
            body["range"],
            serde_json::json!([
                { "binary": id1 }, { "binary": "f1" }, { "binary": "v1" },
                { "binary": id2 }, { "binary": "f2" }, { "binary": "v2" },
            ]),
            "XRANGE's [[id, [field, value]], ...] comes back as one flat list, as on Spin"
        );
        assert_eq!(body["deleted"], 1);
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&stream)
            .query_async(&mut direct(&url).await)
            .await
            .unwrap();
        assert_eq!(exists, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn execute_maps_each_reply_type_as_spin_does() {
        let Some((app, _dir, url)) = with_redis(None).await else {
            return;
        };
        let (key, hash, missing) = (unique("key"), unique("hash"), unique("missing"));
        let cases = [
            (
                serde_json::json!(["SET", key, "x"]),
                serde_json::json!([{ "status": "OK" }]),
            ),
            (
                serde_json::json!(["GET", missing]),
                serde_json::json!([{ "nil": null }]),
            ),
            (
                serde_json::json!(["MGET", key, missing]),
                serde_json::json!([{ "binary": "x" }, { "nil": null }]),
            ),
            (
                serde_json::json!(["PING"]),
                serde_json::json!([{ "status": "PONG" }]),
            ),
            (
                serde_json::json!(["HSET", hash, "a", 7]),
                serde_json::json!([{ "int64": 1 }]),
            ),
            (
                serde_json::json!(["HGETALL", hash]),
                serde_json::json!([{ "binary": "a" }, { "binary": "7" }]),
            ),
        ];
        for (command, want) in cases {
            let (status, body) = execute(&app, command.clone()).await;
            assert_eq!(status, 200, "{command}: {body}");
            assert_eq!(
                serde_json::from_str::<Value>(&body).unwrap(),
                want,
                "{command}"
            );
        }
        let (status, body) = execute(&app, serde_json::json!(["NOSUCHCOMMAND"])).await;
        assert_eq!(status, 502);
        assert!(
            body.starts_with(
                "Error::Other(\"An error was signalled by the server - ResponseError: unknown command"
            ),
            "server errors read as on Spin (redis 0.32): {body}"
        );
        let _: () = redis::cmd("DEL")
            .arg(&key)
            .arg(&hash)
            .query_async(&mut direct(&url).await)
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn execute_refuses_resp3_maps_and_prints_doubles_as_spin_does() {
        let Some((app, _dir, url)) = with_redis(Some("protocol=resp3")).await else {
            return;
        };
        let (hash, zset) = (unique("hash"), unique("zset"));
        let (status, body) = execute(&app, serde_json::json!(["HSET", hash, "a", "1"])).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = execute(&app, serde_json::json!(["HGETALL", hash])).await;
        assert_eq!(status, 502);
        assert_eq!(
            body,
            "Error::Other(\"Could not convert Redis response - TypeError: Redis Map type is not supported\")"
        );
        let (status, body) = execute(&app, serde_json::json!(["ZADD", zset, "1e20", "m"])).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = execute(&app, serde_json::json!(["ZSCORE", zset, "m"])).await;
        // RESP3 sends `,1e+20`; Spin answers the f64's Rust text (RESP2 would give "1e+20").
        assert_eq!(
            (status, body.as_str()),
            (200, "[{\"binary\":\"100000000000000000000\"}]")
        );
        let _: () = redis::cmd("DEL")
            .arg(&hash)
            .arg(&zset)
            .query_async(&mut direct(&url).await)
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_refuses_unlisted_and_invalid_addresses_without_connecting() {
        // No Redis needed: nothing here may reach one.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_port = silent.local_addr().unwrap().port();
        let dropper = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dropper_port = dropper.local_addr().unwrap().port();
        let allowed_url = format!("redis://127.0.0.1:{dropper_port}");
        let tls_url = format!("rediss://127.0.0.1:{silent_port}");
        let (app, _dir) = spawn(
            Backend::Embedded,
            &allowed_url,
            &[allowed_url.clone(), tls_url.clone()],
        )
        .await;

        for address in [
            format!("redis://127.0.0.1:{silent_port}"),
            format!("rediss://127.0.0.1:{dropper_port}"),
            format!("redis://localhost:{dropper_port}"),
            format!("http://127.0.0.1:{silent_port}"),
            // Allowed host and port, but redis can't parse it (the database is not a number).
            format!("redis://127.0.0.1:{dropper_port}/not-a-number"),
        ] {
            let (status, body) = get_text(&app, &format!("/probe/redis/open?{address}")).await;
            assert_eq!(
                (status, body.as_str()),
                (502, "Error::InvalidAddress"),
                "{address}"
            );
        }
        // Known difference: Spin connects over TLS; this host refuses before connecting.
        let (status, body) = get_text(&app, &format!("/probe/redis/open?{tls_url}")).await;
        assert_eq!(status, 502);
        assert!(
            body.contains("TLS Redis addresses (rediss://) are not supported"),
            "{body}"
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(200), silent.accept())
                .await
                .is_err(),
            "a refused open must not connect"
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(200), dropper.accept())
                .await
                .is_err(),
            "an address refused by the check or the parser must not connect"
        );

        // The control: the listed address is connected to; a server that hangs up is `other`.
        let accepted = tokio::spawn(async move {
            let (socket, _) = dropper.accept().await.unwrap();
            drop(socket);
        });
        let (status, body) = get_text(&app, "/probe/redis/open").await;
        assert_eq!(status, 502, "{body}");
        assert!(body.starts_with("Error::Other("), "{body}");
        tokio::time::timeout(Duration::from_secs(5), accepted)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_to_an_allowed_address_with_nothing_listening_is_other() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://127.0.0.1:{}", closed.local_addr().unwrap().port());
        drop(closed);
        let (app, _dir) = spawn(Backend::Embedded, &url, std::slice::from_ref(&url)).await;
        let (status, body) = get_text(&app, "/probe/redis/open").await;
        assert_eq!(status, 502, "{body}");
        assert!(
            body.starts_with("Error::Other(\"Connection refused"),
            "as Spin: the I/O error's text: {body}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn publish_reaches_a_subscriber() {
        let Some((app, _dir, url)) = with_redis(None).await else {
            return;
        };
        let channel = unique("channel");
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let subscriber = {
            let (url, channel) = (url.clone(), channel.clone());
            tokio::task::spawn_blocking(move || {
                let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut pubsub = conn.as_pubsub();
                pubsub.subscribe(&channel).unwrap();
                pubsub
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                ready_tx.send(()).unwrap();
                let msg = pubsub.get_message().unwrap();
                (
                    msg.get_channel_name().to_owned(),
                    msg.get_payload_bytes().to_vec(),
                )
            })
        };
        ready_rx.await.unwrap();
        let (status, body) = post_text(
            &app,
            &format!("/probe/redis/publish/{channel}"),
            "hello, subscriber",
        )
        .await;
        assert_eq!(status, 204, "{body}");
        let (got_channel, payload) = subscriber.await.unwrap();
        assert_eq!(got_channel, channel);
        assert_eq!(payload, b"hello, subscriber");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn get_set_incr_and_del_behave_as_on_spin() {
        let Some((app, _dir, _url)) = with_redis(None).await else {
            return;
        };
        let key = unique("kv");
        let body = echo(&app, &format!("/probe/redis/kv/{key}")).await;
        assert_eq!(
            body,
            serde_json::json!({
                "set": "ok",
                "get": "hello",
                "incr": [1, 2],
                // Spin answers `other` (not `type-error`), with redis 0.32's text.
                "incr_text": { "error": "Error::Other(\"An error was signalled by the server - ResponseError: value is not an integer or out of range\")" },
                "del": 2,
                "get_after_del": null,
            })
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn set_commands_behave_as_on_spin() {
        let Some((app, _dir, _url)) = with_redis(None).await else {
            return;
        };
        let key = unique("set");
        let body = echo(&app, &format!("/probe/redis/sets/{key}")).await;
        assert_eq!(
            body,
            serde_json::json!({
                "sadd": 2,
                "smembers": ["a", "b"],
                "srem": 1,
                "smembers_after": ["b"],
                // A server WRONGTYPE is `other` on Spin too; its `type-error` is for replies
                // that don't convert.
                "sadd_wrong_type": { "error": "Error::Other(\"WRONGTYPE: Operation against a key holding the wrong kind of value\")" },
                "del": 2,
            })
        );
    }
}

mod redis_trigger {
    //! `[[trigger.redis]]` as Spin 4.0.2 runs it: the probe's `#[redis_component]` appends
    //! `<component id>:<text>` to a list per message, on manifests written per test and hosts
    //! started through the library (what the test kit does for `spin-consumers.toml`).

    use super::*;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use shopnow_testhost::{HostConfig, RunningHost};

    fn unique(what: &str) -> String {
        format!("shopnow-testhost:{what}:{}", uuid::Uuid::new_v4().simple())
    }

    /// A Redis-only manifest: `components` as `(id, channel template)`, every one the probe,
    /// subscribed on `[application.trigger.redis] address = "{{ redis_url }}"`; `http` adds an
    /// HTTP-triggered probe at `/probe/...`.
    fn write_manifest(dir: &Path, components: &[(&str, &str)], http: bool) -> PathBuf {
        let wasm = shopnow_testkit::repo_root()
            .join("target/wasm32-wasip2/release/shopnow_testhost_probe.wasm");
        let source = serde_json::to_string(&wasm.to_string_lossy()).unwrap();
        let mut text = String::from(
            "spin_manifest_version = 2\n[application]\nname = \"redis-trigger\"\n\
             [application.trigger.redis]\naddress = \"{{ redis_url }}\"\n\
             [variables]\nredis_url = { required = true }\nredis_host = { required = true }\n\
             prefix = { default = \"t\" }\n",
        );
        if http {
            text.push_str(&format!(
                "[[trigger.http]]\nroute = \"/probe/...\"\ncomponent = \"web\"\n\
                 [component.web]\nsource = {source}\n[component.web.variables]\nid = \"web\"\n"
            ));
        }
        for (id, channel) in components {
            text.push_str(&format!(
                "[[trigger.redis]]\nchannel = \"{channel}\"\ncomponent = \"{id}\"\n\
                 [component.{id}]\nsource = {source}\n\
                 allowed_outbound_hosts = [\"redis://{{{{ redis_host }}}}\"]\n\
                 [component.{id}.variables]\nid = \"{id}\"\nredis_url = \"{{{{ redis_url }}}}\"\n"
            ));
        }
        let manifest = dir.join("spin.toml");
        std::fs::write(&manifest, text).unwrap();
        manifest
    }

    fn config(manifest: &Path, dir: &Path, redis_url: &str, prefix: &str) -> HostConfig {
        let host = redis_url
            .split_once("://")
            .map_or(redis_url, |(_, r)| r)
            .split(['/', '?'])
            .next()
            .unwrap()
            .rsplit('@')
            .next()
            .unwrap()
            .to_owned();
        let mut config = HostConfig::new(manifest);
        config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        config.state_dir = dir.join(".spin");
        config.variables = HashMap::from([
            ("redis_url".to_owned(), redis_url.to_owned()),
            ("redis_host".to_owned(), host),
            ("prefix".to_owned(), prefix.to_owned()),
        ]);
        config
    }

    /// The shared Redis' URL (skipped, or a panic under `CI`, as every Redis test).
    fn shared_redis() -> Option<String> {
        backend_available(Backend::Postgres)
            .then(|| std::env::var(shopnow_testkit::REDIS_URL_ENV).unwrap())
    }

    async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
        redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    async fn publish(url: &str, channel: &str, message: &str) {
        let mut conn = connection(url).await;
        let _: i64 = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(message)
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    /// The list `key` once it has `n` entries (or what it has after 10 s).
    async fn list(url: &str, key: &str, n: usize) -> Vec<String> {
        let mut conn = connection(url).await;
        let started = Instant::now();
        loop {
            let entries: Vec<String> = redis::cmd("LRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .unwrap();
            if entries.len() >= n || started.elapsed() > Duration::from_secs(10) {
                let _: i64 = redis::cmd("DEL")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                return entries;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn start(config: HostConfig) -> RunningHost {
        shopnow_testhost::start(config).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_component_of_a_channel_gets_each_message_in_order() {
        let Some(url) = shared_redis() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let prefix = unique("p");
        let manifest = write_manifest(
            dir.path(),
            &[
                ("first", "{{ prefix }}:orders"),
                ("second", "{{ prefix }}:orders"),
                ("other", "{{ prefix }}:other"),
            ],
            false,
        );
        let host = start(config(&manifest, dir.path(), &url, &prefix)).await;
        assert!(!host.serves_http(), "no HTTP trigger, no port (as spin up)");
        let mut channels: Vec<(String, Vec<String>)> = host
            .redis_channels()
            .iter()
            .map(|(_, channel, ids)| (channel.clone(), ids.clone()))
            .collect();
        channels.sort();
        assert_eq!(
            channels,
            [
                (
                    format!("{prefix}:orders"),
                    vec!["first".to_owned(), "second".to_owned()]
                ),
                (format!("{prefix}:other"), vec!["other".to_owned()]),
            ],
            "templates resolved, components grouped by channel"
        );
        // Subscribed before `start` returned: nothing published now is lost.
        let key = unique("list");
        for i in 0..10 {
            publish(&url, &format!("{prefix}:orders"), &format!("{key} {i}")).await;
        }
        publish(&url, &format!("{prefix}:other"), &format!("{key} x")).await;
        let entries = list(&url, &key, 21).await;
        assert_eq!(entries.len(), 21, "{entries:?}");
        for id in ["first", "second"] {
            let mine: Vec<&String> = entries
                .iter()
                .filter(|e| e.starts_with(&format!("{id}:")))
                .collect();
            let expected: Vec<String> = (0..10).map(|i| format!("{id}:{i}")).collect();
            assert_eq!(
                mine,
                expected.iter().collect::<Vec<_>>(),
                "one by one, in order"
            );
        }
        assert!(entries.contains(&"other:x".to_owned()), "{entries:?}");
        assert_eq!(host.exited(), None);
        host.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_or_trapping_handler_does_not_stop_the_next_message() {
        let Some(url) = shared_redis() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let prefix = unique("p");
        let manifest = write_manifest(dir.path(), &[("worker", "{{ prefix }}:c")], false);
        let host = start(config(&manifest, dir.path(), &url, &prefix)).await;
        let key = unique("list");
        for text in ["fail", "trap", "after"] {
            publish(&url, &format!("{prefix}:c"), &format!("{key} {text}")).await;
        }
        assert_eq!(
            list(&url, &key, 3).await,
            ["worker:fail", "worker:trap", "worker:after"]
        );
        assert_eq!(host.exited(), None, "a handler's failure is not the host's");
        host.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn startup_fails_when_the_trigger_cannot_reach_its_server() {
        let dir = tempfile::tempdir().unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://127.0.0.1:{}", closed.local_addr().unwrap().port());
        drop(closed);
        let manifest = write_manifest(dir.path(), &[("worker", "c")], true);
        let error = shopnow_testhost::start(config(&manifest, dir.path(), &url, "t"))
            .await
            .err()
            .expect("a host whose Redis trigger cannot connect must not start");
        assert!(
            format!("{error:#}").contains("Redis trigger failed to connect to 127.0.0.1:"),
            "{error:#}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unresolvable_channel_fails_startup() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(dir.path(), &[("worker", "{{ nowhere }}")], false);
        let error = shopnow_testhost::start(config(&manifest, dir.path(), "redis://h:1", "t"))
            .await
            .err()
            .expect("an unresolvable channel must fail startup");
        assert!(
            format!("{error:#}").contains("failed to resolve redis trigger channel"),
            "{error:#}"
        );
    }

    /// A private `redis-server` on a free port, killed on drop.
    struct PrivateRedis {
        child: std::process::Child,
        url: String,
    }

    impl PrivateRedis {
        fn start() -> Option<Self> {
            let Some(bin) = which_redis_server() else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "redis-server is not on PATH (CI=true: not skipping)"
                );
                eprintln!("SKIPPED: redis-server is not on PATH");
                return None;
            };
            let redis = (0..20).find_map(|_| Self::on_a_free_port(&bin));
            assert!(redis.is_some(), "no private redis-server came up");
            redis
        }

        /// `redis-server` on a random port in 20000..30000, once it answers; `None` when the port
        /// was taken (the server exited) or it did not answer within 5 s.
        fn on_a_free_port(bin: &Path) -> Option<Self> {
            let port = 20000 + (uuid::Uuid::new_v4().as_u128() % 10000) as u16;
            let child = std::process::Command::new(bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let url = format!("redis://127.0.0.1:{port}");
            let mut redis = Self { child, url };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = redis.child.try_wait() {
                    return None;
                }
                if redis::Client::open(redis.url.as_str())
                    .unwrap()
                    .get_connection()
                    .is_ok()
                {
                    return Some(redis);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            None
        }

        fn kill(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Drop for PrivateRedis {
        fn drop(&mut self) {
            self.kill();
        }
    }

    fn which_redis_server() -> Option<PathBuf> {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn losing_the_server_stops_the_whole_host_as_spin_up_exits() {
        let Some(mut redis) = PrivateRedis::start() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(dir.path(), &[("worker", "c")], true);
        let host = start(config(&manifest, dir.path(), &redis.url, "t")).await;
        assert!(host.serves_http());
        let addr = host.addr();
        let probe = format!("http://{addr}/probe/echo");
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        assert_eq!(client.get(&probe).send().await.unwrap().status(), 200);
        redis.kill();
        let started = Instant::now();
        while host.exited().is_none() && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reason = host
            .exited()
            .expect("the host must stop when its Redis goes away");
        assert!(
            reason.starts_with("disconnected from 127.0.0.1:"),
            "{reason}"
        );
        // HTTP stops with it (Spin stops every trigger of the application).
        let started = Instant::now();
        let mut refused = false;
        while started.elapsed() < Duration::from_secs(15) {
            let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
            if fresh.get(&probe).send().await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(refused, "HTTP must stop with the Redis trigger");
        host.shutdown().await;
    }
}
