//! HTTP in and out: the listener, per-request instantiation, the `spin-*` headers, and outbound
//! requests (allowed-host checks and in-process service chaining).

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::header::{HOST, HeaderName, HeaderValue};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks, WasiHttpView as _};

use crate::app::{App, AppComponent};
use crate::outbound::service_chaining_target;
use crate::routing::RouteMatch;
use crate::state::InstanceState;

/// The client address Spin reports for chained requests.
const CHAINED_CLIENT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// How long shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

fn text_response(status: u16, body: &'static str) -> http::Response<HyperOutgoingBody> {
    let mut resp = http::Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

/// Resolves once shutdown is requested (or the host is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await.map(drop);
}

/// Accepts connections until `shutdown` flips, then lets in-flight requests finish (bounded).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client_addr) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        eprintln!("shopnow-testhost: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let mut shutdown = shutdown.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let app = app.clone();
                        async move { Ok::<_, Infallible>(handle_incoming(app, req, client_addr).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stopped(&mut shutdown) => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
            _ = stopped(&mut shutdown) => break,
        }
        // Reap finished connection tasks so the set doesn't grow without bound.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.abort_all();
}

async fn handle_incoming(
    app: Arc<App>,
    req: http::Request<Incoming>,
    client_addr: SocketAddr,
) -> http::Response<HyperOutgoingBody> {
    let path = req.uri().path().to_owned();
    if path == "/.well-known/spin/health" {
        return text_response(200, "OK");
    }
    match app.router.route(&path) {
        Some(m) => dispatch(&app, &m, req, client_addr).await,
        None => text_response(404, "Not Found"),
    }
}

/// Runs the matched component on `req` and returns its response; a trap or a guest that never
/// responds becomes a 500 (and a line on stderr).
pub(crate) async fn dispatch<B>(
    app: &Arc<App>,
    m: &RouteMatch,
    mut req: http::Request<B>,
    client_addr: SocketAddr,
) -> http::Response<HyperOutgoingBody>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let Some(component) = app.components.get(&m.component).cloned() else {
        return text_response(404, "Not Found");
    };
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    for (name, value) in m.spin_headers("http", &host, &path_and_query, client_addr) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            req.headers_mut().insert(name, value);
        }
    }
    if req.uri().authority().is_none() && !req.headers().contains_key(HOST) {
        req.headers_mut()
            .insert(HOST, HeaderValue::from_static("localhost"));
    }
    let method = req.method().clone();
    match run(app.clone(), component.clone(), req).await {
        Ok(resp) => resp,
        Err(e) => {
            eprintln!(
                "[{}] shopnow-testhost: request {method} {path_and_query} failed (500): {e:?}",
                component.id
            );
            text_response(500, "")
        }
    }
}

async fn run<B>(
    app: Arc<App>,
    component: Arc<AppComponent>,
    req: http::Request<B>,
) -> anyhow::Result<http::Response<HyperOutgoingBody>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let pre = component
        .http
        .clone()
        .context("the component has no HTTP trigger")?;
    let mut store = Store::new(pre.engine(), InstanceState::new(app, component));
    store.limiter(|state| state);
    let req = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .map_err(anyhow::Error::from)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(tx)
        .map_err(anyhow::Error::from)?;
    // The instance runs in its own task so it can keep streaming the body after responding.
    let task = tokio::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, req, out)
            .await
    });
    match rx.await {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(code)) => anyhow::bail!("the component responded with error code {code:?}"),
        Err(_) => match task.await {
            Ok(Ok(())) => anyhow::bail!("the component returned without setting a response"),
            Ok(Err(e)) => Err(anyhow::Error::from(e).context("the component trapped")),
            Err(e) => Err(anyhow::Error::from(e).context("the instance task failed")),
        },
    }
}

/// The `WasiHttpHooks` of one instance: checks outbound requests against the component's
/// `allowed_outbound_hosts` and dispatches `*.spin.internal` requests in process.
pub(crate) struct OutboundHooks {
    app: Arc<App>,
    component: Arc<AppComponent>,
}

impl OutboundHooks {
    pub(crate) fn new(app: Arc<App>, component: Arc<AppComponent>) -> Self {
        Self { app, component }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;
type SendResult = Result<(http::Response<WasiBody>, IoFuture), wasmtime_wasi_http::Error>;

fn no_io() -> IoFuture {
    Box::new(async { Ok(()) })
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let app = self.app.clone();
        let component = self.component.clone();
        Box::new(send_outbound(app, component, request, options))
    }
}

async fn send_outbound(
    app: Arc<App>,
    component: Arc<AppComponent>,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> SendResult {
    use wasmtime_wasi_http::Error;
    let uri = request.uri().clone();
    let scheme = uri.scheme_str().unwrap_or("http").to_owned();
    let host = uri.host().unwrap_or_default().to_owned();
    let port = uri.port_u16();
    if !component.allowed_hosts.allows(&scheme, &host, port) {
        eprintln!(
            "[{}] shopnow-testhost: outbound request to {scheme}://{}{} denied: not in allowed_outbound_hosts {}",
            component.id,
            uri.authority().map(|a| a.as_str()).unwrap_or_default(),
            uri.path(),
            component.allowed_hosts.describe()
        );
        return Err(Error::HttpRequestDenied);
    }
    if let Some(target) = service_chaining_target(&host) {
        if !app.components.contains_key(target) {
            return Err(Error::DestinationNotFound);
        }
        // As Spin: the service-chaining Host header is not passed on.
        request.headers_mut().remove(HOST);
        let m = RouteMatch::synthetic(target, uri.path());
        let resp = dispatch(&app, &m, request, CHAINED_CLIENT_ADDR).await;
        return Ok((resp, no_io()));
    }
    let (resp, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
    Ok((resp.map(|b| b.boxed_unsync()), Box::new(io)))
}
