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
