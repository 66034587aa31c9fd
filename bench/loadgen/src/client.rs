//! HTTP/1.1 client plumbing shared by the load phase and the setup phase: opening one keep-alive
//! connection to the (already loopback-checked) target, and a small sequential client for setup
//! calls. Knows nothing of schedules, statistics or mixes.

use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::target::Target;

/// The request body type every workload builds.
pub(crate) type Body = Full<Bytes>;

/// Opens one HTTP/1.1 keep-alive connection; its driver runs on a spawned task until either side
/// closes it.
///
/// Fails when the TCP connection or the HTTP handshake fails, or takes longer than `timeout`.
pub(crate) async fn connect(
    target: &Target,
    timeout: Duration,
) -> anyhow::Result<SendRequest<Body>> {
    let open = async {
        let stream = TcpStream::connect(target.addr).await?;
        // Requests are small and latency is the measurement: no Nagle delay.
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Errors surface on the sender as failed requests; nothing to add here.
            let _ = connection.await;
        });
        anyhow::Ok(sender)
    };
    tokio::time::timeout(timeout, open)
        .await
        .with_context(|| format!("connecting to {} timed out", target.addr))?
        .with_context(|| format!("cannot connect to {}", target.addr))
}

/// A sequential client for setup calls (creating users, signing in): one connection, reopened
/// when the server closes it.
#[derive(Debug)]
pub(crate) struct SetupClient {
    target: Target,
    timeout: Duration,
    sender: Option<SendRequest<Body>>,
}

impl SetupClient {
    pub(crate) fn new(target: Target, timeout: Duration) -> Self {
        Self {
            target,
            timeout,
            sender: None,
        }
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// Sends `request` and reads the whole response body.
    ///
    /// Fails on connection errors and timeouts; any HTTP status is a success here (the caller
    /// decides which statuses it accepts).
    pub(crate) async fn send(
        &mut self,
        request: Request<Body>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let (status, _, body) = self.send_full(request).await?;
        Ok((status, body))
    }

    /// [`send`](Self::send), with the response headers (cookies, redirects).
    ///
    /// Fails as [`send`](Self::send) does.
    pub(crate) async fn send_full(
        &mut self,
        request: Request<Body>,
    ) -> anyhow::Result<(StatusCode, http::HeaderMap, Bytes)> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => connect(&self.target, self.timeout).await?,
        };
        let what = format!("{} {}", request.method(), request.uri());
        let exchange = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, headers, body))
        };
        let result = tokio::time::timeout(self.timeout, exchange)
            .await
            .with_context(|| format!("setup request {what} timed out"))?
            .with_context(|| format!("setup request {what} failed"))?;
        self.sender = Some(sender);
        Ok(result)
    }

    /// [`send`](Self::send), failing unless the status is one of `accepted`.
    pub(crate) async fn expect(
        &mut self,
        request: Request<Body>,
        accepted: &[StatusCode],
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, body) = self.send(request).await?;
        if !accepted.contains(&status) {
            bail!(
                "setup request {what} answered {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(500)
                    .collect::<String>()
            );
        }
        Ok((status, body))
    }
}
