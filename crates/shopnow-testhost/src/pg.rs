//! `spin:postgres/postgres@4.0.0`: pooled PostgreSQL connections, type conversions as Spin's
//! `spin-factor-outbound-pg` does them.
//!
//! One pool per connection string (at most 64 connections, as Spin). `connection.open` takes a
//! client from the pool and the guest's resource holds it until dropped, so statements on one
//! resource run in one session (BEGIN/COMMIT work). Addresses must match the component's
//! `allowed_outbound_hosts` as `postgres://host:port`.
//!
//! As Spin 4.0.2's `create_connection_pool`: `sslmode=disable` connects in plain text; any other
//! mode (the default is `prefer`) negotiates TLS through native-tls (OpenSSL), which verifies the
//! server's certificate chain and host name against the system's roots (`SSL_CERT_FILE` /
//! `SSL_CERT_DIR` add others), so a self-signed or mismatched certificate fails the connection;
//! `sslmode` values tokio-postgres does not know (`verify-full`, `verify-ca`) fail to parse.
//! Pooled sessions are recycled with deadpool's `Clean` method (Spin's: a reset round trip per
//! `open`).
//!
//! Strict mode ([`crate::HostConfig::strict_empty_queries`]): a `query` that matches no rows traps
//! the instance, because on Spin 4.0.0–4.0.2 that call never returns (spinframework/spin#3671).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Mutex;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};
use wasmtime::component::Resource;

use crate::bindings::spin::postgres::postgres::{
    Column, DbDataType, DbError, DbValue, Error, Host, HostConnection, Interval, ParameterValue,
    QueryError, RowSet,
};
use crate::state::InstanceState;

/// Spin's per-address pool size.
pub(crate) const MAX_POOL_SIZE: usize = 64;

/// The pools, one per connection string, created on first use.
#[derive(Default)]
pub(crate) struct PgPools {
    pools: Mutex<HashMap<String, Pool>>,
}

/// The `connection` resource a guest holds: a pooled client.
pub struct PgConnection {
    client: Option<Object>,
    in_transaction: bool,
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        if self.in_transaction
            && let Some(client) = self.client.take()
        {
            // Spin would return the session to the pool with the transaction still open; the test
            // host closes it instead (rolling back) and says so, since that is a bug in the guest.
            eprintln!(
                "shopnow-testhost: warning: a PostgreSQL connection was dropped inside a transaction; closing it (rolled back) instead of returning it to the pool"
            );
            drop(Object::take(client));
        }
    }
}

impl PgPools {
    #[expect(
        clippy::result_large_err,
        reason = "the WIT error is what the guest receives"
    )]
    fn pool(&self, address: &str, config: tokio_postgres::Config) -> Result<Pool, Error> {
        let mut pools = self
            .pools
            .lock()
            .map_err(|_| Error::Other("pool registry poisoned".to_owned()))?;
        if let Some(p) = pools.get(address) {
            return Ok(p.clone());
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Clean,
        };
        let manager = if config.get_ssl_mode() == SslMode::Disable {
            Manager::from_config(config, NoTls, manager_config)
        } else {
            let connector = native_tls::TlsConnector::builder()
                .build()
                .map_err(|e| Error::ConnectionFailed(format!("TLS setup: {e}")))?;
            Manager::from_config(
                config,
                postgres_native_tls::MakeTlsConnector::new(connector),
                manager_config,
            )
        };
        let pool = Pool::builder(manager)
            .max_size(MAX_POOL_SIZE)
            .build()
            .map_err(|e| Error::ConnectionFailed(format!("{e}")))?;
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }

    /// Closes every pool (their idle connections); used at shutdown.
    pub(crate) fn close(&self) {
        if let Ok(pools) = self.pools.lock() {
            for p in pools.values() {
                p.close();
            }
        }
    }
}

/// A pool error with its causes, on one line.
fn connection_error(e: &deadpool_postgres::PoolError) -> String {
    let mut text = e.to_string();
    let mut source = StdError::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn query_failed(e: tokio_postgres::Error) -> Error {
    let as_text = format!("{e:?}");
    Error::QueryFailed(match e.as_db_error() {
        None => QueryError::Text(as_text),
        Some(db) => QueryError::DbError(DbError {
            as_text,
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: Vec::new(),
        }),
    })
}

// ---- parameter conversions (WIT -> PostgreSQL) ----

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
struct PgNull;

impl ToSql for PgNull {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// The WIT `interval` record (microseconds, days, months), PostgreSQL's binary layout.
#[derive(Debug, Clone, Copy)]
struct PgInterval(Interval);

impl ToSql for PgInterval {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.extend_from_slice(&self.0.micros.to_be_bytes());
        out.extend_from_slice(&self.0.days.to_be_bytes());
        out.extend_from_slice(&self.0.months.to_be_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for PgInterval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        let micros = raw.get(0..8).ok_or("short interval")?;
        let days = raw.get(8..12).ok_or("short interval")?;
        let months = raw.get(12..16).ok_or("short interval")?;
        Ok(Self(Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        }))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// The raw bytes of a value of a type with no WIT mapping (`db-value::unsupported`).
struct Other(Vec<u8>);

impl<'a> FromSql<'a> for Other {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Self(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

type SqlParam = Box<dyn ToSql + Send + Sync>;

fn to_sql_param(value: ParameterValue) -> anyhow::Result<SqlParam> {
    use anyhow::Context as _;
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(v),
        ParameterValue::Int8(v) => Box::new(v),
        ParameterValue::Int16(v) => Box::new(v),
        ParameterValue::Int32(v) => Box::new(v),
        ParameterValue::Int64(v) => Box::new(v),
        ParameterValue::Floating32(v) => Box::new(v),
        ParameterValue::Floating64(v) => Box::new(v),
        ParameterValue::Str(v) => Box::new(v),
        ParameterValue::Binary(v) => Box::new(v),
        ParameterValue::Date((y, m, d)) => Box::new(
            chrono::NaiveDate::from_ymd_opt(y, m.into(), d.into())
                .with_context(|| format!("invalid date y={y}, m={m}, d={d}"))?,
        ),
        ParameterValue::Time((h, mi, s, ns)) => Box::new(
            chrono::NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns)
                .with_context(|| format!("invalid time {h}:{mi}:{s}:{ns}"))?,
        ),
        ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => {
            let date = chrono::NaiveDate::from_ymd_opt(y, mo.into(), d.into())
                .with_context(|| format!("invalid date y={y}, m={mo}, d={d}"))?;
            let time = chrono::NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns)
                .with_context(|| format!("invalid time {h}:{mi}:{s}:{ns}"))?;
            Box::new(chrono::NaiveDateTime::new(date, time))
        }
        ParameterValue::Timestamp(v) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(v, 0)
                .with_context(|| format!("invalid epoch timestamp {v}"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(&v).with_context(|| format!("invalid UUID {v}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(&v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(&v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(
            rust_decimal::Decimal::from_str_exact(&v)
                .with_context(|| format!("invalid decimal {v}"))?,
        ),
        ParameterValue::ArrayInt32(v) => Box::new(v),
        ParameterValue::ArrayInt64(v) => Box::new(v),
        ParameterValue::ArrayStr(v) => Box::new(v),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.into_iter()
                .map(|d| {
                    d.map(|d| {
                        rust_decimal::Decimal::from_str_exact(&d)
                            .with_context(|| format!("invalid decimal {d}"))
                    })
                    .transpose()
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        ParameterValue::Interval(v) => Box::new(PgInterval(v)),
        ParameterValue::DbNull => Box::new(PgNull),
        ParameterValue::RangeInt32(_)
        | ParameterValue::RangeInt64(_)
        | ParameterValue::RangeDecimal(_) => {
            anyhow::bail!("range parameters are not supported by the test host")
        }
    })
}

// ---- result conversions (PostgreSQL -> WIT) ----

fn data_type(t: &Type) -> DbDataType {
    match *t {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(t.name().to_owned()),
    }
}

fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    i: usize,
    f: impl FnOnce(T) -> DbValue,
) -> anyhow::Result<DbValue> {
    Ok(row.try_get::<_, Option<T>>(i)?.map_or(DbValue::DbNull, f))
}

fn datetime(v: chrono::NaiveDateTime) -> DbValue {
    use chrono::{Datelike as _, Timelike as _};
    // chrono guarantees month 1..=12, day 1..=31, hour < 24, minute/second < 60.
    DbValue::Datetime((
        v.year(),
        u8::try_from(v.month()).unwrap_or(0),
        u8::try_from(v.day()).unwrap_or(0),
        u8::try_from(v.hour()).unwrap_or(0),
        u8::try_from(v.minute()).unwrap_or(0),
        u8::try_from(v.second()).unwrap_or(0),
        v.nanosecond(),
    ))
}

fn convert_entry(row: &Row, i: usize) -> anyhow::Result<DbValue> {
    use chrono::{Datelike as _, Timelike as _};
    let ty = row
        .columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| anyhow::anyhow!("column {i} out of range"))?;
    match ty {
        Type::BOOL => get(row, i, DbValue::Boolean),
        Type::BYTEA => get(row, i, DbValue::Binary),
        Type::FLOAT4 => get(row, i, DbValue::Floating32),
        Type::FLOAT8 => get(row, i, DbValue::Floating64),
        Type::INT2 => get(row, i, DbValue::Int16),
        Type::INT4 => get(row, i, DbValue::Int32),
        Type::INT8 => get(row, i, DbValue::Int64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, i, DbValue::Str),
        Type::TIMESTAMP => get(row, i, datetime),
        Type::TIMESTAMPTZ => get(row, i, |v: chrono::DateTime<chrono::Utc>| {
            datetime(v.naive_utc())
        }),
        Type::DATE => get(row, i, |v: chrono::NaiveDate| {
            DbValue::Date((
                v.year(),
                u8::try_from(v.month()).unwrap_or(0),
                u8::try_from(v.day()).unwrap_or(0),
            ))
        }),
        Type::TIME => get(row, i, |v: chrono::NaiveTime| {
            DbValue::Time((
                u8::try_from(v.hour()).unwrap_or(0),
                u8::try_from(v.minute()).unwrap_or(0),
                u8::try_from(v.second()).unwrap_or(0),
                v.nanosecond(),
            ))
        }),
        Type::UUID => get(row, i, |v: uuid::Uuid| DbValue::Uuid(v.to_string())),
        Type::JSONB => {
            let v: Option<serde_json::Value> = row.try_get(i)?;
            Ok(match v {
                Some(v) => DbValue::Jsonb(serde_json::to_vec(&v)?),
                None => DbValue::DbNull,
            })
        }
        Type::NUMERIC => get(row, i, |v: rust_decimal::Decimal| {
            DbValue::Decimal(v.to_string())
        }),
        Type::INT4_ARRAY => get(row, i, DbValue::ArrayInt32),
        Type::INT8_ARRAY => get(row, i, DbValue::ArrayInt64),
        Type::NUMERIC_ARRAY => get(row, i, |v: Vec<Option<rust_decimal::Decimal>>| {
            DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect())
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, i, DbValue::ArrayStr)
        }
        Type::INTERVAL => get(row, i, |v: PgInterval| DbValue::Interval(v.0)),
        _ => get(row, i, |v: Other| DbValue::Unsupported(v.0)),
    }
}

fn statement_kind(statement: &str) -> Option<bool> {
    let first = statement
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match first.as_str() {
        "BEGIN" | "START" => Some(true),
        "COMMIT" | "ROLLBACK" | "END" | "ABORT" => Some(false),
        _ => None,
    }
}

impl InstanceState {
    fn pg(
        &mut self,
        c: &Resource<PgConnection>,
        statement: &str,
    ) -> wasmtime::Result<Option<&mut PgConnection>> {
        let conn = self.table.get_mut(c)?;
        if let Some(tx) = statement_kind(statement) {
            conn.in_transaction = tx;
        }
        Ok(if conn.client.is_some() {
            Some(conn)
        } else {
            None
        })
    }
}

#[expect(
    clippy::result_large_err,
    reason = "the WIT error is what the guest receives"
)]
fn params(params: Vec<ParameterValue>) -> Result<Vec<SqlParam>, Error> {
    params
        .into_iter()
        .map(to_sql_param)
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| Error::BadParameter(format!("{e:#}")))
}

fn refs(params: &[SqlParam]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl Host for InstanceState {}

impl HostConnection for InstanceState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        let config: tokio_postgres::Config = match address.parse() {
            Ok(c) => c,
            Err(e) => {
                return Ok(Err(Error::ConnectionFailed(format!(
                    "invalid address: {e}"
                ))));
            }
        };
        let ports = config.get_ports();
        let allowed = !config.get_hosts().is_empty()
            && config.get_hosts().iter().enumerate().all(|(i, h)| {
                let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                match h {
                    tokio_postgres::config::Host::Tcp(host) => {
                        self.component
                            .allowed_hosts
                            .allows("postgres", host, Some(port))
                    }
                    #[cfg(unix)]
                    tokio_postgres::config::Host::Unix(_) => false,
                }
            });
        if !allowed {
            eprintln!(
                "[{}] shopnow-testhost: PostgreSQL connection refused: address not in allowed_outbound_hosts {}",
                self.component.id,
                self.component.allowed_hosts.describe()
            );
            return Ok(Err(Error::ConnectionFailed(format!(
                "address {address} is not permitted"
            ))));
        }
        let pool = match self.app.pg.pool(&address, config) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let client = match pool.get().await {
            Ok(c) => c,
            // Spin reports the whole chain (`{e:?}`): e.g. "error performing TLS handshake:
            // ... certificate verify failed".
            Err(e) => return Ok(Err(Error::ConnectionFailed(connection_error(&e)))),
        };
        Ok(Ok(self.table.push(PgConnection {
            client: Some(client),
            in_transaction: false,
        })?))
    }

    async fn query(
        &mut self,
        c: Resource<PgConnection>,
        statement: String,
        parameters: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let params = match params(parameters) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let Some(conn) = self.pg(&c, &statement)? else {
            return Ok(Err(Error::ConnectionFailed("connection closed".to_owned())));
        };
        let Some(client) = conn.client.as_ref() else {
            return Ok(Err(Error::ConnectionFailed("connection closed".to_owned())));
        };
        let stmt = match client.prepare(&statement).await {
            Ok(s) => s,
            Err(e) => return Ok(Err(query_failed(e))),
        };
        let rows = match client.query(&stmt, &refs(&params)).await {
            Ok(r) => r,
            Err(e) => return Ok(Err(query_failed(e))),
        };
        let columns = stmt
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_owned(),
                data_type: data_type(c.type_()),
            })
            .collect();
        if rows.is_empty() && self.app.strict_empty_queries {
            eprintln!(
                "[{}] shopnow-testhost: strict: a PostgreSQL query matched no rows; on Spin 4.0.0-4.0.2 this call never returns (spinframework/spin#3671): {statement}",
                self.component.id
            );
            return Err(wasmtime::Error::msg(
                "strict mode: PostgreSQL query returned no rows (Spin 4.0.2 would hang here)",
            ));
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                match convert_entry(row, i) {
                    Ok(v) => values.push(v),
                    Err(e) => return Ok(Err(Error::ValueConversionFailed(format!("{e:#}")))),
                }
            }
            out.push(values);
        }
        Ok(Ok(RowSet { columns, rows: out }))
    }

    async fn execute(
        &mut self,
        c: Resource<PgConnection>,
        statement: String,
        parameters: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let params = match params(parameters) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let Some(conn) = self.pg(&c, &statement)? else {
            return Ok(Err(Error::ConnectionFailed("connection closed".to_owned())));
        };
        let Some(client) = conn.client.as_ref() else {
            return Ok(Err(Error::ConnectionFailed("connection closed".to_owned())));
        };
        Ok(client
            .execute(statement.as_str(), &refs(&params))
            .await
            .map_err(query_failed))
    }

    async fn drop(&mut self, c: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_statements_are_recognised() {
        assert_eq!(statement_kind("  begin;"), Some(true));
        assert_eq!(statement_kind("START TRANSACTION"), Some(true));
        assert_eq!(statement_kind("COMMIT"), Some(false));
        assert_eq!(statement_kind("rollback"), Some(false));
        assert_eq!(statement_kind("SELECT 1"), None);
    }
}
