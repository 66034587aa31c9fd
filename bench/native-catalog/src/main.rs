//! Native baseline for the component model's cost on real handler code: the catalog's public
//! routes (`GET /v1/products/{id}`, `GET /v1/products?q=...` and the rest of the public table)
//! served by plain hyper + tokio, with the component's own handler, use-case and SQL-store source
//! files compiled natively (`#[path]` includes, not copies) over a pooled synchronous PostgreSQL
//! adapter of the kernel's `Database` port. Same SQL, same JSON; the difference from the component
//! under the test host is wasmtime, the component model, per-request instantiation and variable
//! reads, and the `pg` host interface. See `docs/benchmarks.md`, "Component-model cost".
//!
//! ```text
//! shopnow-bench-native-catalog --listen 127.0.0.1:3200 --threads 1 \
//!     --database-url postgres://postgres@127.0.0.1:5432/shopnow_catalog
//! ```
//! The product cache is off (compare with the component run with `catalog_cache_ttl_secs=0`).
//! Handlers are synchronous (the `Database` port is), so each request runs on tokio's blocking
//! pool; prints `listening on ADDR` once bound and serves until SIGINT or SIGTERM.

mod adapters;
mod http;
mod wiring;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use shopnow_kernel::ApiError;
use shopnow_kernel::RequestId;
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};
use shopnow_kernel::ids::{Clock as _, IdSource as _, UuidV7Ids};
use shopnow_kernel::request_id::REQUEST_ID_HEADER;
use tokio::net::TcpListener;

use crate::adapters::{OsRandom, SystemClock};
use crate::wiring::{App, Config};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "The catalog's public routes as a native hyper + PostgreSQL server"
)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3200")]
    listen: SocketAddr,
    /// Tokio worker threads; 1 runs a single-threaded (current-thread) runtime. Handlers run on
    /// the blocking pool either way.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// PostgreSQL URL of the catalog database.
    #[arg(long)]
    database_url: String,
    /// `kid:base64url` public keys (default: the DEV-ONLY key of `spin.toml`).
    #[arg(
        long,
        default_value = "dev-1:EWtQ4heMJHnrKcF0FXAQoQBG8rp2_nSmmXx3r174mEQ"
    )]
    jwt_public_keys: String,
    /// Token issuer (as `spin.toml`).
    #[arg(long, default_value = "https://identity.shopnow.dev")]
    jwt_issuer: String,
    /// Token audience (as `spin.toml`).
    #[arg(long, default_value = "shopnow")]
    jwt_audience: String,
    /// Cursor secret (DEV-ONLY default of `spin.toml`, so cursors work across both servers).
    #[arg(long, default_value = "dev-only-catalog-cursor-secret")]
    cursor_secret: String,
    /// How long an uncommitted stock reservation holds units, seconds.
    #[arg(long, default_value_t = 900)]
    reservation_ttl_secs: i64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.threads >= 1, "--threads must be at least 1");
    let app = Arc::new(App::new(&Config {
        database_url: &args.database_url,
        jwt_public_keys: &args.jwt_public_keys,
        jwt_issuer: &args.jwt_issuer,
        jwt_audience: &args.jwt_audience,
        cursor_secret: &args.cursor_secret,
        reservation_ttl_secs: args.reservation_ttl_secs,
    })?);
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .context("cannot start the tokio runtime")?;
    runtime.block_on(serve(args.listen, app))
}

/// Accepts connections until SIGINT or SIGTERM; each connection is served on its own task.
async fn serve(listen: SocketAddr, app: Arc<App>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!("listening on {}", listener.local_addr()?);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    eprintln!("native-catalog: accept failed: {e}");
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
        };
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("native-catalog: cannot set TCP_NODELAY: {e}");
        }
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(app.clone(), request));
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            // A peer closing mid-request is the generator's business, not an error of ours.
            let _ = connection.await;
        });
    }
}

/// Largest request body read (the handlers enforce their own, smaller limit).
const READ_LIMIT: usize = 64 * 1024;

/// One request: read it into the kernel's type, run the route on the blocking pool, render the
/// answer (problem+json on error) with `x-request-id`, as `shopnow_spin::serve` does.
async fn handle(
    app: Arc<App>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, READ_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let incoming_id = parts
        .headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok());
    let request_id = RequestId::from_header_or(incoming_id, || {
        UuidV7Ids::new(SystemClock, OsRandom)
            .new_id()
            .unwrap_or_else(|_| format!("t{}", SystemClock.now_ms()))
    });
    let method = match parts.method {
        hyper::Method::GET => Method::Get,
        hyper::Method::POST => Method::Post,
        hyper::Method::PUT => Method::Put,
        hyper::Method::PATCH => Method::Patch,
        hyper::Method::DELETE => Method::Delete,
        hyper::Method::HEAD => Method::Head,
        hyper::Method::OPTIONS => Method::Options,
        _ => Method::Other,
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    let request = HttpRequest {
        method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body,
        request_id,
    };
    let answered = tokio::task::spawn_blocking(move || {
        let started_ms = SystemClock.now_ms();
        let response = match http::route(&request, &app) {
            Ok(response) => response,
            Err(err) => {
                log_failure(&request, &err, SystemClock.now_ms() - started_ms);
                HttpResponse::problem(&err, &request.path, &request.request_id)
            }
        };
        (response, request.request_id)
    })
    .await;
    let (response, request_id) = match answered {
        Ok(pair) => pair,
        Err(_) => {
            let id = RequestId::from_header_or(None, || "panicked".to_owned());
            (
                HttpResponse::problem(&ApiError::internal("handler panicked"), "/", &id),
                id,
            )
        }
    };
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    builder = builder.header(REQUEST_ID_HEADER, request_id.as_str());
    Ok(builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| {
            let mut fallback = hyper::Response::new(Full::new(Bytes::new()));
            *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        }))
}

/// One line per failed request, as the component's entry logs it.
fn log_failure(request: &HttpRequest, err: &ApiError, duration_ms: i64) {
    let status = err.status();
    let method = format!("{:?}", request.method).to_ascii_uppercase();
    eprintln!(
        "level={} service=catalog-native request_id={} method={method} path={} status={status} duration_ms={duration_ms} error={:?}",
        if status >= 500 { "error" } else { "info" },
        request.request_id,
        request.path,
        err.log_chain(),
    );
}
