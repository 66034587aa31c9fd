//! Probe component for the test host's own tests: one wasm, several components in
//! `crates/shopnow-testhost/tests/fixtures/spin.toml`, each naming itself with the `id` variable.
//! Behaviour is chosen by the last path segments the guest sees:
//!
//! - `.../echo`: the component id, path and `spin-*` headers as JSON (also the fallback);
//! - `.../trap`: traps; `.../print`: writes a line to stdout;
//! - `.../var/<name>`: a component variable (404 with the error when undefined);
//! - `.../kv/<store>/set/<key>/<value>`, `.../kv/<store>/get/<key>`: key-value (403 on open errors);
//! - `.../sqlite/<db>` (POST SQL text): runs it, returns rows as JSON (403 on open errors);
//! - `.../chain/<component>/<rest..>`: GET `http://<component>.spin.internal/<rest..>`;
//! - `.../outbound?<url>`: GET `<url>` (502 with the error's debug text when refused);
//! - `.../pg` (POST SQL text): query on the `db_url` variable's database, values as debug text;
//! - `.../pg-sleep`: holds a pooled connection for 50 ms.
//!
//! Used only by tests; depends on spin-sdk and nothing of the host.

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

fn json(status: u16, value: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(value.to_string())
        .build()
}

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.into())
        .build()
}

fn component_id() -> String {
    spin_sdk::variables::get("id").unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(target_arch = "wasm32")]
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn trap() -> ! {
    std::process::abort()
}

fn echo(req: &Request) -> Response {
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .filter(|(name, _)| name.starts_with("spin-"))
        .map(|(name, value)| {
            (
                name.to_owned(),
                serde_json::Value::String(value.as_str().unwrap_or_default().to_owned()),
            )
        })
        .collect();
    json(
        200,
        &serde_json::json!({
            "component": component_id(),
            "path": req.path(),
            "query": req.query(),
            "headers": headers,
        }),
    )
}

fn kv(segments: &[&str]) -> Response {
    let (store, rest) = match segments {
        [store, rest @ ..] => (*store, rest),
        [] => return text(400, "missing store"),
    };
    let store = match spin_sdk::key_value::Store::open(store) {
        Ok(s) => s,
        Err(e) => return text(403, format!("{e:?}")),
    };
    match rest {
        ["set", key, value] => match store.set(key, value.as_bytes()) {
            Ok(()) => text(204, ""),
            Err(e) => text(500, format!("{e:?}")),
        },
        ["get", key] => match store.get(key) {
            Ok(Some(v)) => text(200, String::from_utf8_lossy(&v)),
            Ok(None) => text(404, "absent"),
            Err(e) => text(500, format!("{e:?}")),
        },
        _ => text(400, "use set/<key>/<value> or get/<key>"),
    }
}

fn sqlite(db: &str, sql: &str) -> Response {
    use spin_sdk::sqlite3::{Connection, Value};
    let conn = match Connection::open(db) {
        Ok(c) => c,
        Err(e) => return text(403, format!("{e:?}")),
    };
    match conn.execute(sql, &[]) {
        Ok(result) => {
            let rows: Vec<Vec<serde_json::Value>> = result
                .rows
                .iter()
                .map(|r| {
                    r.values
                        .iter()
                        .map(|v| match v {
                            Value::Integer(i) => serde_json::json!(i),
                            Value::Real(f) => serde_json::json!(f),
                            Value::Text(t) => serde_json::json!(t),
                            Value::Blob(b) => serde_json::json!(b),
                            Value::Null => serde_json::Value::Null,
                        })
                        .collect()
                })
                .collect();
            json(
                200,
                &serde_json::json!({ "columns": result.columns, "rows": rows }),
            )
        }
        Err(e) => text(500, format!("{e:?}")),
    }
}

fn pg(sql: &str) -> Response {
    use spin_sdk::pg4::Connection;
    let url = match spin_sdk::variables::get("db_url") {
        Ok(u) => u,
        Err(e) => return text(500, format!("{e:?}")),
    };
    let conn = match Connection::open(&url) {
        Ok(c) => c,
        Err(e) => return text(502, format!("{e:?}")),
    };
    match conn.query(sql, &[]) {
        Ok(rs) => {
            let columns: Vec<String> = rs
                .columns
                .iter()
                .map(|c| format!("{}:{:?}", c.name, c.data_type))
                .collect();
            let rows: Vec<Vec<String>> = rs
                .rows
                .iter()
                .map(|r| r.iter().map(|v| format!("{v:?}")).collect())
                .collect();
            json(
                200,
                &serde_json::json!({ "columns": columns, "rows": rows }),
            )
        }
        Err(e) => text(500, format!("{e:?}")),
    }
}

fn pg_sleep() -> Response {
    pg("SELECT pg_sleep(0.05)")
}

async fn get(url: String) -> Response {
    match spin_sdk::http::send::<_, Response>(Request::get(url).build()).await {
        Ok(resp) => {
            let status = *resp.status();
            text(status, String::from_utf8_lossy(resp.body()))
        }
        Err(e) => text(502, format!("{e:?}")),
    }
}

#[http_component]
async fn handle(req: Request) -> anyhow::Result<Response> {
    let path = req.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let keyword = segments
        .iter()
        .position(|s| {
            matches!(
                *s,
                "echo"
                    | "trap"
                    | "print"
                    | "var"
                    | "kv"
                    | "sqlite"
                    | "chain"
                    | "outbound"
                    | "pg"
                    | "pg-sleep"
            )
        })
        .and_then(|i| segments.get(i..));
    let body = String::from_utf8_lossy(req.body()).into_owned();
    Ok(match keyword.unwrap_or_default() {
        ["trap", ..] => trap(),
        ["print", ..] => {
            println!("probe says hello");
            text(200, "printed")
        }
        ["var", name] => match spin_sdk::variables::get(name) {
            Ok(v) => text(200, v),
            Err(e) => text(404, format!("{e:?}")),
        },
        ["kv", rest @ ..] => kv(rest),
        ["sqlite", db] => sqlite(db, &body),
        ["chain", target, rest @ ..] => {
            get(format!("http://{target}.spin.internal/{}", rest.join("/"))).await
        }
        ["outbound", ..] => get(req.query().to_owned()).await,
        ["pg", ..] => pg(&body),
        ["pg-sleep", ..] => pg_sleep(),
        _ => echo(&req),
    })
}
