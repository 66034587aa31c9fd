//! Native baseline for the test-host overhead benchmark: a plain hyper + tokio HTTP/1.1 server that
//! answers `/hello` with the same status, headers and body bytes as `bench/hello-component` under
//! the test host, so the difference between the two is what the host (wasmtime, the component
//! model, wasi:http) costs per request. Depends on nothing of ShopNow.
//!
//! `shopnow-bench-native-hello --listen 127.0.0.1:3100 --threads 1`; prints `listening on ADDR` once
//! bound (port 0 picks a free port) and serves until SIGINT or SIGTERM.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Context as _;
use bytes::Bytes;
use clap::Parser;
use http::{Request, Response, StatusCode, header};
use http_body_util::{Either, Full};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The body `bench/hello-component` returns, byte for byte.
const BODY: &[u8] = br#"{"hello":"shopnow"}"#;

/// The route the benchmark manifest (`bench/hello/spin.toml`) serves.
const ROUTE: &str = "/hello";

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Native hyper server answering the benchmark hello bytes"
)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3100")]
    listen: SocketAddr,
    /// Tokio worker threads; 1 runs a single-threaded (current-thread) runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.threads >= 1, "--threads must be at least 1");
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
    runtime.block_on(serve(args.listen))
}

/// Accepts connections until SIGINT or SIGTERM; each connection is served on its own task.
async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
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
                    // Running out of file descriptors is transient; keep serving the others.
                    eprintln!("native-hello: accept failed: {e}");
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
        };
        // Small responses: send them now rather than waiting for Nagle to coalesce.
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("native-hello: cannot set TCP_NODELAY: {e}");
        }
        tokio::spawn(async move {
            let connection =
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello));
            // A peer closing mid-request is the generator's business, not an error of ours.
            let _ = connection.await;
        });
    }
}

/// A body of one chunk whose length is not announced, so hyper sends it with
/// `transfer-encoding: chunked` — as the test host does for a component's streamed body. A
/// `Full` body would send `content-length` instead and not be the same bytes on the wire.
struct OneChunk(Option<Bytes>);

impl hyper::body::Body for OneChunk {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }
}

/// On [`ROUTE`], `200` with `content-type: application/json` and the hello body (chunked); elsewhere
/// `404` with the test host's `Not Found` body (`content-length`).
async fn hello(
    request: Request<Incoming>,
) -> Result<Response<Either<OneChunk, Full<Bytes>>>, Infallible> {
    if request.uri().path() != ROUTE {
        let mut response =
            Response::new(Either::Right(Full::new(Bytes::from_static(b"Not Found"))));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    }
    let mut response = Response::new(Either::Left(OneChunk(Some(Bytes::from_static(BODY)))));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
