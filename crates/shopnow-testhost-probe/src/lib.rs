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
//! - `.../pg-sleep`: holds a pooled connection for 50 ms;
//! - `.../redis/open?<address>`: opens `<address>` (the `redis_url` variable when the query is
//!   empty): 200 `opened`, or 502 with the error's debug text (`Error::InvalidAddress`, `Error::Other(..)`);
//! - `.../redis/xadd-xrange/<stream>`: XADD two one-field entries, XRANGE the stream, DEL it; the
//!   entry ids and the flattened XRANGE results as JSON (`{"binary": ..}`, `{"int64": ..}`, ...);
//! - `.../redis/execute` (POST a JSON array: command, then strings as binary and integers as
//!   int64 arguments): the flattened results as JSON (502 with the error's debug text);
//! - `.../redis/publish/<channel>` (POST the payload): 204;
//! - `.../redis/kv/<key>`: SET `<key>` `hello`, GET it, INCR `<key>:n` twice, INCR `<key>`, DEL
//!   both and a missing key, GET `<key>` again; each step's result as JSON;
//! - `.../redis/sets/<key>`: SADD `a b a`, SMEMBERS, SREM `a c`, SMEMBERS, DEL, SADD on a string
//!   key; each step's result as JSON.
//!
//! Every Redis route but `open` connects to the `redis_url` variable's address.
//!
//! As a Redis-triggered component (`#[redis_component]`), a message `<key> <text>` appends
//! `<component id>:<text>` to the list `<key>` on the `redis_url` variable's Redis; `<key> trap`
//! traps and `<key> fail` returns an error, each after appending.
//!
//! Used only by tests; depends on spin-sdk and nothing of the host.

use spin_sdk::http::{Request, Response};
use spin_sdk::{http_component, redis_component};

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

/// One `execute` result as tagged JSON, bytes as (lossy) UTF-8 text.
fn redis_result(r: &spin_sdk::redis::RedisResult) -> serde_json::Value {
    use spin_sdk::redis::RedisResult;
    match r {
        RedisResult::Nil => serde_json::json!({ "nil": null }),
        RedisResult::Status(s) => serde_json::json!({ "status": s }),
        RedisResult::Int64(i) => serde_json::json!({ "int64": i }),
        RedisResult::Binary(b) => serde_json::json!({ "binary": String::from_utf8_lossy(b) }),
    }
}

/// A step's outcome: its value, or `{"error": <debug text>}`.
fn redis_step<T: Into<serde_json::Value>>(
    r: Result<T, spin_sdk::redis::Error>,
) -> serde_json::Value {
    match r {
        Ok(v) => v.into(),
        Err(e) => serde_json::json!({ "error": format!("{e:?}") }),
    }
}

fn redis_results(
    r: Result<Vec<spin_sdk::redis::RedisResult>, spin_sdk::redis::Error>,
) -> serde_json::Value {
    redis_step(r.map(|v| v.iter().map(redis_result).collect::<Vec<_>>()))
}

fn bytes_text(v: Option<Vec<u8>>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, |b| {
        serde_json::Value::String(String::from_utf8_lossy(&b).into_owned())
    })
}

/// Opens the `redis_url` variable's address, or answers why not.
fn redis_connection() -> Result<spin_sdk::redis::Connection, Response> {
    let url = spin_sdk::variables::get("redis_url").map_err(|e| text(500, format!("{e:?}")))?;
    spin_sdk::redis::Connection::open(&url).map_err(|e| text(502, format!("{e:?}")))
}

fn redis(segments: &[&str], query: &str, body: &[u8]) -> Response {
    use spin_sdk::redis::{Connection, RedisParameter};
    if let ["open"] = segments {
        let address = if query.is_empty() {
            match spin_sdk::variables::get("redis_url") {
                Ok(u) => u,
                Err(e) => return text(500, format!("{e:?}")),
            }
        } else {
            query.to_owned()
        };
        return match Connection::open(&address) {
            Ok(_) => text(200, "opened"),
            Err(e) => text(502, format!("{e:?}")),
        };
    }
    let conn = match redis_connection() {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    match segments {
        ["xadd-xrange", stream] => {
            let bin = |s: &str| RedisParameter::Binary(s.as_bytes().to_vec());
            let mut ids = Vec::new();
            for (field, value) in [("f1", "v1"), ("f2", "v2")] {
                match conn.execute("XADD", &[bin(stream), bin("*"), bin(field), bin(value)]) {
                    Ok(r) => ids.extend(r.iter().map(redis_result)),
                    Err(e) => return text(502, format!("{e:?}")),
                }
            }
            let range = conn.execute("XRANGE", &[bin(stream), bin("-"), bin("+")]);
            let deleted = conn.del(&[(*stream).to_owned()]);
            json(
                200,
                &serde_json::json!({
                    "ids": ids,
                    "range": redis_results(range),
                    "deleted": redis_step(deleted),
                }),
            )
        }
        ["execute"] => {
            let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(body) else {
                return text(400, "POST a JSON array: command, arguments...");
            };
            let Some((serde_json::Value::String(command), args)) = items.split_first() else {
                return text(400, "the first element is the command");
            };
            let mut params = Vec::new();
            for a in args {
                params.push(match a {
                    serde_json::Value::String(s) => RedisParameter::Binary(s.as_bytes().to_vec()),
                    serde_json::Value::Number(n) => match n.as_i64() {
                        Some(i) => RedisParameter::Int64(i),
                        None => return text(400, "integers only"),
                    },
                    _ => return text(400, "arguments are strings or integers"),
                });
            }
            match conn.execute(command, &params) {
                Ok(r) => json(200, &redis_results(Ok(r))),
                Err(e) => text(502, format!("{e:?}")),
            }
        }
        ["publish", channel] => match conn.publish(channel, body) {
            Ok(()) => text(204, ""),
            Err(e) => text(502, format!("{e:?}")),
        },
        ["kv", key] => {
            let counter = format!("{key}:n");
            let set = conn.set(key, b"hello").map(|()| "ok");
            let get = conn.get(key).map(bytes_text);
            let incr = [conn.incr(&counter), conn.incr(&counter)].map(redis_step);
            let incr_text = conn.incr(key);
            let del = conn.del(&[(*key).to_owned(), counter, format!("{key}:missing")]);
            let get_after_del = conn.get(key).map(bytes_text);
            json(
                200,
                &serde_json::json!({
                    "set": redis_step(set),
                    "get": redis_step(get),
                    "incr": incr.to_vec(),
                    "incr_text": redis_step(incr_text),
                    "del": redis_step(del),
                    "get_after_del": redis_step(get_after_del),
                }),
            )
        }
        ["sets", key] => {
            let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            let sadd = conn.sadd(key, &strings(&["a", "b", "a"]));
            let members = conn.smembers(key).map(sorted);
            let srem = conn.srem(key, &strings(&["a", "c"]));
            let members_after = conn.smembers(key).map(sorted);
            let string_key = format!("{key}:string");
            let wrong_type = conn
                .set(&string_key, b"x")
                .and_then(|()| conn.sadd(&string_key, &strings(&["a"])));
            let del = conn.del(&[(*key).to_owned(), string_key]);
            json(
                200,
                &serde_json::json!({
                    "sadd": redis_step(sadd),
                    "smembers": redis_step(members),
                    "srem": redis_step(srem),
                    "smembers_after": redis_step(members_after),
                    "sadd_wrong_type": redis_step(wrong_type),
                    "del": redis_step(del),
                }),
            )
        }
        _ => text(400, "unknown redis route"),
    }
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
                    | "redis"
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
        ["redis", rest @ ..] => redis(rest, req.query(), req.body()),
        _ => echo(&req),
    })
}

/// The Redis trigger's entry: see the crate documentation.
#[redis_component]
fn on_message(message: Vec<u8>) -> Result<(), String> {
    let message = String::from_utf8_lossy(&message).into_owned();
    let (key, text) = message.split_once(' ').unwrap_or((message.as_str(), ""));
    let url = spin_sdk::variables::get("redis_url").map_err(|e| format!("{e:?}"))?;
    let conn = spin_sdk::redis::Connection::open(&url).map_err(|e| format!("{e:?}"))?;
    let entry = format!("{}:{text}", component_id());
    conn.execute(
        "RPUSH",
        &[
            spin_sdk::redis::RedisParameter::Binary(key.as_bytes().to_vec()),
            spin_sdk::redis::RedisParameter::Binary(entry.into_bytes()),
        ],
    )
    .map_err(|e| format!("{e:?}"))?;
    match text {
        "trap" => trap(),
        "fail" => Err("the probe was told to fail".to_owned()),
        _ => Ok(()),
    }
}
