//! The accept loop: every TCP connection is served by hyper with limits that keep a slow
//! or hostile client from holding resources. `axum::serve` gives hyper no timer, so it
//! cannot time out a client that never finishes its request head; this loop does.

use axum::Router;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Limits applied to every connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send its whole request head (request line and headers) within this
    /// time; a connection that sends nothing, or an idle keep-alive one, is closed after
    /// it too. Zero: no limit.
    pub header_timeout: Duration,
    /// Largest request head hyper buffers; a longer one is answered with 431.
    pub max_head_bytes: usize,
    /// A request body that sends nothing for this long ends with an error, and a
    /// response the client stops reading for this long ends the connection, so a
    /// stalled client stops holding its handler (an upload keeps what arrived). Zero:
    /// no limit.
    pub body_timeout: Duration,
    /// How long shutdown waits for requests in flight before dropping them.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(30),
            max_head_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish for at most `limits.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    // Zero turns the timeout off, like the other periods. hyper starts this clock
    // whenever it waits for a request head: on a new connection, and on an idle
    // keep-alive one.
    let timeout = (!limits.header_timeout.is_zero()).then_some(limits.header_timeout);
    // HTTP/1.1 only: registry clients speak it, TLS terminates in front of Berth, and
    // HTTP/2 prior-knowledge detection would wait for its preface with no timer.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(limits.max_head_bytes.max(8192));
    let body_timeout = (!limits.body_timeout.is_zero()).then_some(limits.body_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    handle_accept_error(e).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Small responses (manifests, tokens) go out without waiting for more data.
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = TowerToHyperService::new(tower::service_fn(
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                let request = match body_timeout {
                    Some(idle) => request.map(|b| axum::body::Body::new(IdleBody::new(b, idle))),
                    None => request.map(axum::body::Body::new),
                };
                app.clone().oneshot(request)
            },
        ));
        let io = StalledWrites::new(stream, body_timeout);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(io), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Long-lived responses (live update streams) never finish on their own.
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("requests still in flight after the shutdown grace were dropped");
    }
}

/// A clock for a wait without progress: it starts at the first poll that has to wait,
/// stops at the next one that makes progress, and tells when a wait has lasted `limit`.
/// Request bodies and response writes share it.
struct Stall {
    limit: Duration,
    waiting: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Stall {
    fn new(limit: Duration) -> Self {
        Stall {
            limit,
            waiting: None,
        }
    }

    /// Given whether the poll just made had to wait: true once the wait has lasted the
    /// whole limit. While false, the clock's waker is registered with `cx`.
    fn expired<T>(&mut self, polled: &Poll<T>, cx: &mut Context<'_>) -> bool {
        if polled.is_ready() {
            self.waiting = None;
            return false;
        }
        let limit = self.limit;
        self.waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)))
            .as_mut()
            .poll(cx)
            .is_ready()
    }
}

/// A request body that fails once it has been silent for `idle`. The clock starts at
/// the first poll that finds nothing, so a handler that reads late (or a client that
/// waits for `100 Continue`) is not cut off early.
struct IdleBody {
    inner: Incoming,
    stall: Stall,
}

impl IdleBody {
    fn new(inner: Incoming, idle: Duration) -> Self {
        IdleBody {
            inner,
            stall: Stall::new(idle),
        }
    }
}

/// Why a request body ended early.
#[derive(Debug, thiserror::Error)]
#[error("the request body sent nothing for {0} seconds")]
pub struct BodySilent(u64);

impl http_body::Body for IdleBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if this.stall.expired(&polled, cx) {
            return Poll::Ready(Some(Err(BodySilent(this.stall.limit.as_secs()).into())));
        }
        polled.map(|frame| frame.map(|f| f.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection whose writes fail once the client has taken nothing for the limit: a
/// client that stops reading a download must not hold the response (and its open blob
/// file) forever. Idle time between responses is not a stall; only a write that waits.
struct StalledWrites {
    inner: TcpStream,
    stall: Option<Stall>,
}

impl StalledWrites {
    fn new(inner: TcpStream, limit: Option<Duration>) -> Self {
        StalledWrites {
            inner,
            stall: limit.map(Stall::new),
        }
    }

    /// Turns a pending write into an error once it has waited past the limit.
    fn check<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let expired = match &mut self.stall {
            Some(stall) => stall.expired(&polled, cx),
            None => false,
        };
        if expired {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading the response",
            )));
        }
        polled
    }
}

impl AsyncRead for StalledWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for StalledWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.check(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.check(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.check(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A failed accept never stops the server: a reset by the peer is skipped, and running
/// out of file descriptors waits a moment for connections to close.
async fn handle_accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
