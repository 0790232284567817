//! A server that slow or numerous peers cannot hold: hyper's header-read timeout, a deadline
//! on each request body, a cap on open connections (one more is answered 503 and closed) and a
//! bounded graceful shutdown. The emulator serves on it, and so does the CLI's `listen`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use crate::MockConfig;
use crate::error::ApiError;
use crate::server::ConnectionKiller;

/// What keeps slow or numerous peers from holding the server.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// A connection whose request headers are not complete this long after it opened (or
    /// after its previous response) is closed.
    pub header_read_timeout: Duration,
    /// A request body not complete this long after its headers fails, and its connection
    /// closes.
    pub body_read_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// How long connections still open at shutdown may take to finish.
    pub shutdown_grace: Duration,
    /// How long one connection may stay open: then it finishes the request in progress
    /// within `header_read_timeout` and closes. Without it, a peer that sends a cheap request
    /// now and then, or stops reading a response, would keep its slot.
    pub connection_lifetime: Duration,
}

impl ServerLimits {
    pub(crate) fn of(config: &MockConfig) -> ServerLimits {
        ServerLimits {
            header_read_timeout: config.header_read_timeout,
            body_read_timeout: config.body_read_timeout,
            max_connections: config.max_connections,
            shutdown_grace: Duration::ZERO,
            connection_lifetime: config.connection_lifetime,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` turns true; connections still open then get
/// [`ServerLimits::shutdown_grace`] to finish. Each connection gets a `ConnectionKiller` so
/// a handler of the emulator can end it without writing a response.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, _peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                // Out of file descriptors and the like: wait a moment instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(&stream);
            continue;
        };
        let app = app.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _slot = slot;
            serve_connection(stream, app, limits, shutdown).await;
        });
    }
    // Each connection closes within the grace period, answering what it is serving.
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    limits: ServerLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let killer = ConnectionKiller::default();
    let per_request = killer.clone();
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(per_request.clone());
            let body = |body| Deadline::new(body, limits.body_read_timeout);
            app.clone()
                .oneshot(request.map(|b| axum::body::Body::new(body(b))))
        });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let grace = tokio::select! {
        _ = connection.as_mut() => return,
        () = killer.0.notified() => return,
        _ = shutdown.changed() => limits.shutdown_grace,
        () = tokio::time::sleep(limits.connection_lifetime) => limits.header_read_timeout,
    };
    // Finishes the request in progress, if any, then closes (an idle one closes at once).
    connection.as_mut().graceful_shutdown();
    tokio::select! {
        _ = connection => {}
        () = killer.0.notified() => {}
        () = tokio::time::sleep(grace) => {}
    }
}

/// Answers a connection over the limit with a 503 envelope and closes it, without a task:
/// the response fits the socket's send buffer, and a peer that does not read it loses it.
fn refuse(stream: &tokio::net::TcpStream) {
    let body = ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "too many open connections; retry later",
    )
    .to_json()
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// A request body that fails once `expires` has passed: hyper's timer covers only the
/// headers, so without it a peer that stalls mid-body would hold its connection's slot.
struct Deadline {
    body: hyper::body::Incoming,
    expires: Pin<Box<tokio::time::Sleep>>,
}

impl Deadline {
    fn new(body: hyper::body::Incoming, limit: Duration) -> Deadline {
        Deadline {
            body,
            expires: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl hyper::body::Body for Deadline {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if self.body.is_end_stream() {
            return Poll::Ready(None);
        }
        if self.expires.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        Pin::new(&mut self.body).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
