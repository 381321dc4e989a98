//! The accept loop: every TCP connection is served by hyper with limits that keep a slow
//! or hostile client from holding resources. `axum::serve` gives hyper no timer, so it
//! cannot time out a client that never finishes its request head; this loop does. With
//! TLS (see `tls`), the handshake has the header timeout too, and HTTP/2 connections
//! get pings, stream and header limits, and an idle timeout instead.

use axum::Router;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
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
/// finish for at most `limits.shutdown_grace`. With `tls`, the port speaks only TLS:
/// HTTP/2 or HTTP/1.1 as the client's ALPN asks.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    // Zero turns the timeout off, like the other periods. hyper starts this clock
    // whenever it waits for a request head: on a new connection, and on an idle
    // keep-alive one.
    let timeout = (!limits.header_timeout.is_zero()).then_some(limits.header_timeout);
    // Plain HTTP is HTTP/1.1 only: HTTP/2 prior-knowledge detection would wait for its
    // preface with no timer. Over TLS, ALPN says which before any byte of HTTP.
    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(limits.max_head_bytes.max(8192));
    let h2 = http2_builder(&limits);
    let body_timeout = (!limits.body_timeout.is_zero()).then_some(limits.body_timeout);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
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
        let io = StalledWrites::new(stream, body_timeout);
        let watcher = graceful.watcher();
        let (app, h1) = (app.clone(), h1.clone());
        let Some(acceptor) = acceptor.clone() else {
            let service = service(app, remote, false, body_timeout, None);
            let connection = watcher.watch(h1.serve_connection(TokioIo::new(io), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(%remote, error = %e, "connection ended with an error");
                }
            });
            continue;
        };
        let h2 = h2.clone();
        let idle_limit = limits.header_timeout;
        tokio::spawn(async move {
            // The handshake is part of the request head: it gets the same clock.
            let handshake = acceptor.accept(io);
            let stream = match timeout {
                Some(t) => tokio::time::timeout(t, handshake).await.ok(),
                None => Some(handshake.await),
            };
            let stream = match stream {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "TLS handshake failed");
                    return;
                }
                None => {
                    tracing::debug!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let wants_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let ended = if wants_h2 {
                // HTTP/2 has no header timeout; a connection with no request for as
                // long is closed instead (pings find dead peers, see `http2_builder`).
                let activity = Arc::new(Activity::new());
                let service = service(app, remote, true, body_timeout, Some(activity.clone()));
                let connection = watcher.watch(h2.serve_connection(TokioIo::new(stream), service));
                tokio::select! {
                    ended = connection => ended,
                    () = activity.idle_for(idle_limit) => Ok(()),
                }
            } else {
                let service = service(app, remote, true, body_timeout, None);
                watcher
                    .watch(h1.serve_connection(TokioIo::new(stream), service))
                    .await
            };
            if let Err(e) = ended {
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

/// HTTP/2 with the protections HTTP/1.1's header timeout and head limit give: pings
/// that find a peer gone silent, bounded streams, header lists and reset floods.
fn http2_builder(limits: &Limits) -> http2::Builder<TokioExecutor> {
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_concurrent_streams(128)
        .max_header_list_size(u32::try_from(limits.max_head_bytes).unwrap_or(u32::MAX))
        .max_pending_accept_reset_streams(Some(32))
        .max_local_error_reset_streams(Some(256))
        .adaptive_window(true);
    h2
}

/// The hyper service of one connection: the app, with the client's address, the TLS
/// mark, request bodies that time out when silent, and (for HTTP/2) requests counted.
fn service(
    app: Router,
    remote: SocketAddr,
    tls: bool,
    body_timeout: Option<Duration>,
    activity: Option<Arc<Activity>>,
) -> TowerToHyperService<
    impl tower::Service<
        hyper::Request<Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
    > + Clone,
> {
    TowerToHyperService::new(tower::service_fn(
        move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            if tls {
                request.extensions_mut().insert(crate::forwarded::Tls);
            }
            let request = match body_timeout {
                Some(idle) => request.map(|b| axum::body::Body::new(IdleBody::new(b, idle))),
                None => request.map(axum::body::Body::new),
            };
            let in_flight = activity.as_ref().map(|a| a.begin());
            let response = app.clone().oneshot(request);
            async move {
                let response = response.await?;
                Ok(match in_flight {
                    Some(guard) => response.map(|b| {
                        axum::body::Body::new(Tracked {
                            inner: b,
                            _guard: guard,
                        })
                    }),
                    None => response,
                })
            }
        },
    ))
}

/// Requests under way on an HTTP/2 connection, and when the last one ended.
struct Activity {
    in_flight: std::sync::atomic::AtomicUsize,
    last: std::sync::Mutex<tokio::time::Instant>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            in_flight: Default::default(),
            last: std::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        InFlight(self.clone())
    }

    /// Completes once no request has been under way for `limit` (never, for zero).
    async fn idle_for(&self, limit: Duration) {
        if limit.is_zero() {
            return std::future::pending().await;
        }
        loop {
            let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
            let busy = self.in_flight.load(std::sync::atomic::Ordering::Acquire) > 0;
            let since = last.elapsed();
            if !busy && since >= limit {
                return;
            }
            tokio::time::sleep(if busy { limit } else { limit - since }).await;
        }
    }
}

/// One request under way; its response body holds it until the body is done.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last.lock().unwrap_or_else(|e| e.into_inner()) = tokio::time::Instant::now();
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as under way until it is dropped.
struct Tracked {
    inner: axum::body::Body,
    _guard: InFlight,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
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
