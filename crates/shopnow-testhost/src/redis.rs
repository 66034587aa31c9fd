//! `fermyon:spin/redis@2.0.0`: outbound Redis, as Spin 4.0.2's `spin-factor-outbound-redis`
//! (`host.rs`, `allowed_hosts.rs`) does it.
//!
//! `connection.open(address)` is refused with `invalid-address`, before any socket opens, unless
//! the address matches the component's `allowed_outbound_hosts`; the address is read as Spin's
//! `OutboundUrl::parse(address, "redis")` reads it. An address the redis crate can't parse is
//! `invalid-address` too; a failed connection is `other(message)`. Each open is one multiplexed
//! connection with no timeouts (Spin's redis 0.32 default), at most 1024 per instance
//! (`too-many-connections` after that, as Spin's resource table); dropping the resource closes it.
//! Commands are the ones Spin's typed calls send (`INCRBY key 1` for `incr`); `execute` flattens
//! nested replies as Spin's `RedisResults::from_redis_value`, and GET/`execute` results over
//! Spin's `MAX_HOST_BUFFERED_BYTES` are refused. Server errors read as redis 0.32 (Spin's
//! version) renders them, not as the redis 1.x this host links. `rediss://` is refused with
//! `other`: this build of the redis crate has no TLS (Spin's has).
//!
//! Depends on the redis crate and the host's state only; no Spin code.

use std::borrow::Cow;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, ServerErrorKind, Value};
use wasmtime::component::Resource;

use crate::bindings::fermyon::spin::redis::{
    Error, Host, HostConnection, RedisParameter, RedisResult,
};
use crate::state::InstanceState;

/// Spin's `spin_world::MAX_HOST_BUFFERED_BYTES` (v4.0.2: `128 << 20`): the largest GET or
/// `execute` result the host hands to a guest.
pub(crate) const MAX_HOST_BUFFERED_BYTES: usize = 128 << 20;

/// Spin's per-instance connection table capacity (`spin_resource_table::Table::new(1024)`).
pub(crate) const MAX_CONNECTIONS: usize = 1024;

/// The `connection` resource a guest holds: one multiplexed connection.
pub struct RedisConnection {
    conn: MultiplexedConnection,
}

/// How many `connection` resources an instance holds, for Spin's table limit.
#[derive(Debug, Default)]
pub(crate) struct RedisConnections {
    open: usize,
}

/// `userinfo` percent-encoded as `urlencoding::encode` does (everything but ASCII alphanumerics
/// and `-._~`), which Spin's `OutboundUrl::parse` applies before parsing, so a password with `/`
/// or `#` doesn't hide the host.
fn encode_userinfo(address: &str) -> Cow<'_, str> {
    let Some(at) = address.find('@') else {
        return Cow::Borrowed(address);
    };
    let scheme_end = address.find("://").map_or(0, |e| e + 3);
    let path_start = address
        .get(scheme_end..)
        .and_then(|rest| rest.find('/'))
        .map_or(usize::MAX, |e| e + scheme_end);
    if at >= path_start {
        return Cow::Borrowed(address);
    }
    // Spin slices `[scheme_end..at]` unchecked and panics when `@` comes before `://`; such an
    // address is left as it is here (it then fails the check or the parse).
    let (Some(prefix), Some(userinfo), Some(suffix)) = (
        address.get(..scheme_end),
        address.get(scheme_end..at),
        address.get(at..),
    ) else {
        return Cow::Borrowed(address);
    };
    let mut out = String::with_capacity(address.len() + 2 * userinfo.len());
    out.push_str(prefix);
    for b in userinfo.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str(suffix);
    Cow::Owned(out)
}

/// The scheme, host and explicit port `allowed_outbound_hosts` is checked against, read as
/// Spin's `OutboundUrl::parse(address, "redis")`: the address itself if it parses with a host,
/// else `redis://<address>`. `None`: Spin's check answers "not allowed".
///
/// Spin parses with any scheme; here only the redis crate's (`parse_redis_url`) parse on the
/// first try. The outcome is the same: an address with another scheme is refused either by the
/// check or by `redis::Client::open`, and never connects.
fn check_target(address: &str) -> Option<(String, String, Option<u16>)> {
    let encoded = encode_userinfo(address);
    let url = redis::parse_redis_url(&encoded)
        .filter(|u| u.has_host())
        .or_else(|| redis::parse_redis_url(&format!("redis://{encoded}")))?;
    let host = url.host_str()?.to_owned();
    Some((url.scheme().to_owned(), host, url.port()))
}

/// Redis 0.32's `Debug` name for a server error kind (its `ErrorKind`), `None` for the codes it
/// did not know (they were extension errors there).
fn spin_kind_name(kind: ServerErrorKind) -> Option<&'static str> {
    Some(match kind {
        ServerErrorKind::ResponseError => "ResponseError",
        ServerErrorKind::ExecAbort => "ExecAbortError",
        ServerErrorKind::BusyLoading => "BusyLoadingError",
        ServerErrorKind::NoScript => "NoScriptError",
        ServerErrorKind::Moved => "Moved",
        ServerErrorKind::Ask => "Ask",
        ServerErrorKind::TryAgain => "TryAgain",
        ServerErrorKind::ClusterDown => "ClusterDown",
        ServerErrorKind::CrossSlot => "CrossSlot",
        ServerErrorKind::MasterDown => "MasterDown",
        ServerErrorKind::ReadOnly => "ReadOnly",
        ServerErrorKind::NotBusy => "NotBusy",
        ServerErrorKind::NoSub => "NoSub",
        _ => return None,
    })
}

/// An error's text as Spin shows it (`e.to_string()` on redis 0.32): server errors are
/// `An error was signalled by the server - ResponseError: <detail>` for the codes redis 0.32 knew
/// and `<CODE>: <detail>` for the others (`WRONGTYPE: …`); anything else is the redis 1.x text
/// (I/O errors read the same in both).
fn spin_message(e: &RedisError) -> String {
    let extension = |code: Option<&str>, detail: Option<&str>| {
        format!(
            "{}: {}",
            code.unwrap_or_default(),
            detail.unwrap_or("Unknown extension error encountered")
        )
    };
    match e.kind() {
        ErrorKind::Server(kind) => match (spin_kind_name(kind), e.detail()) {
            (Some(name), Some(detail)) => {
                format!("An error was signalled by the server - {name}: {detail}")
            }
            (Some(name), None) => format!("An error was signalled by the server- {name}"),
            (None, detail) => extension(e.code(), detail),
        },
        ErrorKind::Extension => extension(e.code(), e.detail()),
        _ => e.to_string(),
    }
}

fn other(e: &RedisError) -> Error {
    Error::Other(spin_message(e))
}

/// Spin's message for a GET or `execute` result over [`MAX_HOST_BUFFERED_BYTES`].
fn too_large() -> Error {
    Error::Other(format!(
        "query result exceeds limit of {MAX_HOST_BUFFERED_BYTES} bytes"
    ))
}

/// A redis 0.32 `TypeError` as Spin's `RedisResults` raises it for reply types it can't flatten.
fn unsupported(what: &str) -> String {
    format!("Could not convert Redis response - TypeError: {what}")
}

/// Appends `value` flattened, as Spin's `RedisResults::from_redis_value`: arrays and sets are
/// spliced in depth-first, doubles and big numbers become their text, booleans 0/1; maps,
/// attributes, verbatim strings and pushes fail with Spin's message.
fn flatten(out: &mut Vec<RedisResult>, value: Value) -> Result<(), String> {
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(v) => out.push(RedisResult::Int64(v)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        Value::Okay => out.push(RedisResult::Status("OK".to_owned())),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                flatten(out, item)?;
            }
        }
        Value::Double(v) => out.push(RedisResult::Binary(v.to_string().into_bytes())),
        Value::Boolean(v) => out.push(RedisResult::Int64(i64::from(v))),
        // Spin (redis 0.32 with num-bigint) prints the parsed integer; this build keeps the
        // server's digits, which Redis sends in that same canonical form.
        Value::BigNumber(digits) => out.push(RedisResult::Binary(digits)),
        Value::Map(_) => return Err(unsupported("Redis Map type is not supported")),
        Value::Attribute { .. } => {
            return Err(unsupported("Redis Attribute type is not supported"));
        }
        Value::VerbatimString { .. } => {
            return Err(unsupported(
                "Redis string with format attribute is not supported",
            ));
        }
        Value::Push { .. } => return Err(unsupported("Redis Pub/Sub types are not supported")),
        // Does not run: `query_async` has already turned every server error, nested ones
        // included, into an `Err` (`Value::extract_error`, in redis 0.32 as in 1.x). Spin's text
        // is kept, with redis 1.x's `Debug` of the error in place of 0.32's.
        Value::ServerError(err) => return Err(format!("Server error - ResponseError: {err:?}")),
        // Reply types newer than this list: refused as Spin refuses the ones it doesn't map.
        _ => return Err(unsupported("Redis reply type is not supported")),
    }
    Ok(())
}

/// Spin's `memory_size` of one `execute` result.
fn memory_size(value: &RedisResult) -> usize {
    std::mem::size_of::<RedisResult>()
        + match value {
            RedisResult::Nil | RedisResult::Int64(_) => 0,
            RedisResult::Binary(b) => b.len(),
            RedisResult::Status(s) => s.len(),
        }
}

/// Whether `execute` results fit Spin's limit.
fn results_fit(results: &[RedisResult]) -> bool {
    std::mem::size_of::<Vec<RedisResult>>() + results.iter().map(memory_size).sum::<usize>()
        <= MAX_HOST_BUFFERED_BYTES
}

/// Whether a GET result fits Spin's limit.
fn value_fits(value: Option<&Vec<u8>>) -> bool {
    std::mem::size_of::<Option<Vec<u8>>>() + value.map_or(0, Vec::len) <= MAX_HOST_BUFFERED_BYTES
}

impl InstanceState {
    fn redis(&self, c: &Resource<RedisConnection>) -> wasmtime::Result<MultiplexedConnection> {
        // A clone shares the one socket (the connection is multiplexed) and keeps `self` free
        // across the await.
        Ok(self.table.get(c)?.conn.clone())
    }
}

/// Runs `cmd`, with every error rendered as Spin renders it.
async fn query<T: redis::FromRedisValue>(
    conn: &mut MultiplexedConnection,
    cmd: &redis::Cmd,
) -> Result<T, Error> {
    cmd.query_async(conn).await.map_err(|e| other(&e))
}

impl Host for InstanceState {}

impl HostConnection for InstanceState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        let target = check_target(&address);
        let allowed = target.as_ref().is_some_and(|(scheme, host, port)| {
            self.component.allowed_hosts.allows(scheme, host, *port)
        });
        if !allowed {
            let shown = target.map_or_else(
                || "an unparsable address".to_owned(),
                |(scheme, host, port)| match port {
                    Some(p) => format!("{scheme}://{host}:{p}"),
                    None => format!("{scheme}://{host}"),
                },
            );
            eprintln!(
                "[{}] shopnow-testhost: Redis connection to {shown} refused: not in allowed_outbound_hosts {}",
                self.component.id,
                self.component.allowed_hosts.describe()
            );
            return Ok(Err(Error::InvalidAddress));
        }
        if redis::parse_redis_url(&address)
            .is_some_and(|u| matches!(u.scheme(), "rediss" | "valkeys"))
        {
            // Spin connects over TLS (native-tls); this host's redis crate is built without TLS,
            // and its own refusal would read as `invalid-address`, which would blame the address.
            return Ok(Err(Error::Other(
                "shopnow-testhost: TLS Redis addresses (rediss://) are not supported by the test host"
                    .to_owned(),
            )));
        }
        let Ok(client) = redis::Client::open(address.as_str()) else {
            return Ok(Err(Error::InvalidAddress));
        };
        // Spin's redis 0.32 has no connection or response timeout; redis 1.x defaults to 1 s and
        // 500 ms, which would cut blocking commands (XREAD BLOCK) short.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(None)
            .set_response_timeout(None);
        let conn = match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(c) => c,
            Err(e) => return Ok(Err(other(&e))),
        };
        // As Spin: the connection is made first, then refused (and closed) if the table is full.
        if self.redis_connections.open >= MAX_CONNECTIONS {
            return Ok(Err(Error::TooManyConnections));
        }
        let resource = self.table.push(RedisConnection { conn })?;
        self.redis_connections.open += 1;
        Ok(Ok(resource))
    }

    async fn publish(
        &mut self,
        c: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut conn = self.redis(&c)?;
        let cmd = redis::cmd("PUBLISH").arg(&channel).arg(&payload).take();
        Ok(query::<()>(&mut conn, &cmd).await)
    }

    async fn get(
        &mut self,
        c: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let mut conn = self.redis(&c)?;
        let cmd = redis::cmd("GET").arg(&key).take();
        // As Spin: the reply is already buffered, but the limit still keeps it from the guest.
        Ok(query::<Option<Vec<u8>>>(&mut conn, &cmd)
            .await
            .and_then(|v| {
                if value_fits(v.as_ref()) {
                    Ok(v)
                } else {
                    Err(too_large())
                }
            }))
    }

    async fn set(
        &mut self,
        c: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut conn = self.redis(&c)?;
        let cmd = redis::cmd("SET").arg(&key).arg(&value).take();
        Ok(query::<()>(&mut conn, &cmd).await)
    }

    async fn incr(
        &mut self,
        c: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let mut conn = self.redis(&c)?;
        // Spin calls `conn.incr(&key, 1)`, which redis sends as INCRBY.
        let cmd = redis::cmd("INCRBY").arg(&key).arg(1).take();
        Ok(query::<i64>(&mut conn, &cmd).await)
    }

    async fn del(
        &mut self,
        c: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut conn = self.redis(&c)?;
        let cmd = redis::cmd("DEL").arg(&keys).take();
        Ok(query::<u32>(&mut conn, &cmd).await)
    }

    async fn sadd(
        &mut self,
        c: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut conn = self.redis(&c)?;
        let cmd = redis::cmd("SADD").arg(&key).arg(&values).take();
        // Spin maps redis 0.32's `TypeError` (a reply that doesn't convert) to `type-error`; in
        // redis 1.x that failure is a `ParsingError`. A server WRONGTYPE stays `other`, as there.
        Ok(match cmd.query_async::<u32>(&mut conn).await {
            Ok(n) => Ok(n),
            Err(e)
                if std::error::Error::source(&e).is_some_and(|s| s.is::<redis::ParsingError>()) =>
            {
                Err(Error::TypeError)
            }
            Err(e) => Err(other(&e)),
        })
    }

    async fn smembers(
        &mut self,
        c: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let mut conn = self.redis(&c)?;
        let cmd = redis::cmd("SMEMBERS").arg(&key).take();
        Ok(query::<Vec<String>>(&mut conn, &cmd).await)
    }

    async fn srem(
        &mut self,
        c: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut conn = self.redis(&c)?;
        let cmd = redis::cmd("SREM").arg(&key).arg(&values).take();
        Ok(query::<u32>(&mut conn, &cmd).await)
    }

    async fn execute(
        &mut self,
        c: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let mut conn = self.redis(&c)?;
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(v) => cmd.arg(v),
                RedisParameter::Binary(v) => cmd.arg(v),
            };
        }
        let value = match query::<Value>(&mut conn, &cmd).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let mut results = Vec::new();
        if let Err(message) = flatten(&mut results, value) {
            return Ok(Err(Error::Other(message)));
        }
        Ok(if results_fit(&results) {
            Ok(results)
        } else {
            Err(too_large())
        })
    }

    async fn drop(&mut self, c: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        self.redis_connections.open = self.redis_connections.open.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(value: Value) -> Result<Vec<RedisResult>, String> {
        let mut out = Vec::new();
        flatten(&mut out, value).map(|()| out)
    }

    fn bin(s: &str) -> RedisResult {
        RedisResult::Binary(s.as_bytes().to_vec())
    }

    fn show(results: &[RedisResult]) -> String {
        format!("{results:?}")
    }

    #[test]
    fn nested_replies_flatten_depth_first() {
        let xrange = Value::Array(vec![
            Value::Array(vec![
                Value::BulkString(b"1-0".to_vec()),
                Value::Array(vec![
                    Value::BulkString(b"f".to_vec()),
                    Value::BulkString(b"v".to_vec()),
                ]),
            ]),
            Value::Set(vec![Value::Nil, Value::Int(7), Value::Okay]),
            Value::SimpleString("PONG".to_owned()),
            Value::Double(1.5),
            Value::Double(2.0),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::BigNumber(b"-12345678901234567890".to_vec()),
        ]);
        let want = vec![
            bin("1-0"),
            bin("f"),
            bin("v"),
            RedisResult::Nil,
            RedisResult::Int64(7),
            RedisResult::Status("OK".to_owned()),
            RedisResult::Status("PONG".to_owned()),
            bin("1.5"),
            bin("2"),
            RedisResult::Int64(1),
            RedisResult::Int64(0),
            bin("-12345678901234567890"),
        ];
        assert_eq!(show(&flat(xrange).unwrap()), show(&want));
    }

    #[test]
    fn maps_and_pushes_are_refused_with_spins_text() {
        let map = Value::Array(vec![Value::Map(vec![(Value::Nil, Value::Nil)])]);
        assert_eq!(
            flat(map).unwrap_err(),
            "Could not convert Redis response - TypeError: Redis Map type is not supported"
        );
        let push = Value::Push {
            kind: redis::PushKind::Message,
            data: vec![],
        };
        assert_eq!(
            flat(push).unwrap_err(),
            "Could not convert Redis response - TypeError: Redis Pub/Sub types are not supported"
        );
    }

    #[test]
    fn server_errors_read_as_in_redis_0_32() {
        let known = redis::make_extension_error("WRONGTYPE".to_owned(), Some("no".to_owned()));
        assert_eq!(spin_message(&known), "WRONGTYPE: no");
        let bare = redis::make_extension_error("NOAUTH".to_owned(), None);
        assert_eq!(
            spin_message(&bare),
            "NOAUTH: Unknown extension error encountered"
        );
    }

    #[test]
    fn the_buffer_limit_is_spins() {
        assert_eq!(MAX_HOST_BUFFERED_BYTES, 134_217_728);
        let under = vec![0u8; MAX_HOST_BUFFERED_BYTES - std::mem::size_of::<Option<Vec<u8>>>()];
        assert!(value_fits(Some(&under)));
        let over = vec![0u8; under.len() + 1];
        assert!(!value_fits(Some(&over)));
        let per = std::mem::size_of::<RedisResult>();
        let n = (MAX_HOST_BUFFERED_BYTES - std::mem::size_of::<Vec<RedisResult>>()) / per;
        assert!(results_fit(&vec![RedisResult::Nil; n]));
        assert!(!results_fit(&vec![RedisResult::Nil; n + 1]));
    }

    #[test]
    fn addresses_are_read_as_spins_outbound_url() {
        assert_eq!(
            check_target("redis://127.0.0.1:6379/0"),
            Some(("redis".to_owned(), "127.0.0.1".to_owned(), Some(6379)))
        );
        assert_eq!(
            check_target("rediss://cache.example.com"),
            Some(("rediss".to_owned(), "cache.example.com".to_owned(), None))
        );
        // No scheme: read as redis://.
        assert_eq!(
            check_target("localhost:6380"),
            Some(("redis".to_owned(), "localhost".to_owned(), Some(6380)))
        );
        // A password with '#' must not hide the host.
        assert_eq!(
            check_target("redis://user:pa#ss@db.internal:6379"),
            Some(("redis".to_owned(), "db.internal".to_owned(), Some(6379)))
        );
        assert_eq!(encode_userinfo("a@b://c"), "a@b://c");
    }
}
