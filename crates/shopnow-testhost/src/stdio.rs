//! Guest stdout/stderr: each complete line goes to the host's stderr prefixed with the component
//! id (`[identity] ...`), so interleaved output from concurrent requests stays readable.

use std::io::Write as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// A `StdoutStream` that prefixes every line with the component id.
#[derive(Clone)]
pub(crate) struct PrefixedOutput {
    prefix: Arc<str>,
    pending: Arc<Mutex<Vec<u8>>>,
}

impl PrefixedOutput {
    pub(crate) fn new(component_id: &str) -> Self {
        Self {
            prefix: Arc::from(format!("[{component_id}] ")),
            pending: Arc::default(),
        }
    }

    fn write_lines(&self, buf: &[u8]) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        pending.extend_from_slice(buf);
        while let Some(pos) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            self.emit(&line);
        }
    }

    fn emit(&self, line: &[u8]) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(self.prefix.as_bytes());
        let _ = err.write_all(line);
        if !line.ends_with(b"\n") {
            let _ = err.write_all(b"\n");
        }
    }

    fn flush_partial(&self) {
        if let Ok(mut pending) = self.pending.lock()
            && !pending.is_empty()
        {
            let line = std::mem::take(&mut *pending);
            self.emit(&line);
        }
    }
}

impl Drop for PrefixedOutput {
    fn drop(&mut self) {
        // The last clone flushes an unterminated final line.
        if Arc::strong_count(&self.pending) == 1 {
            self.flush_partial();
        }
    }
}

impl IsTerminal for PrefixedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PrefixedOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for PrefixedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write_lines(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.flush_partial();
        Poll::Ready(Ok(()))
    }
}
