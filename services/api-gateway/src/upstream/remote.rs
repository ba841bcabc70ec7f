//! Replicas of one service over HTTP: round-robin over the healthy ones, health-checked in the
//! background, and WebSocket upgrades spliced through. A request is tried on another replica when
//! one cannot be reached: any request whose connection was refused (it never arrived, so nothing
//! can have happened twice), idempotent ones after any transport error. A refused connection also
//! takes the replica out of rotation at once, without waiting for the next health check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use echo_http::error::error_response;
use echo_http::ops::Probe;
use futures::TryStreamExt;
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

/// Request bodies up to this size are kept so the request can be retried.
const RETRYABLE_BODY: usize = 1024 * 1024;

struct Replica {
    base: String,
    healthy: AtomicBool,
}

pub struct Replicas {
    name: &'static str,
    replicas: Vec<Replica>,
    next: AtomicUsize,
    client: reqwest::Client,
}

impl Replicas {
    pub fn new(name: &'static str, urls: &[String]) -> anyhow::Result<Arc<Self>> {
        anyhow::ensure!(!urls.is_empty(), "no upstream URL for {name}");
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let replicas = urls
            .iter()
            .map(|u| Replica {
                base: u.trim_end_matches('/').to_owned(),
                healthy: AtomicBool::new(true),
            })
            .collect();
        Ok(Arc::new(Self {
            name,
            replicas,
            next: AtomicUsize::new(0),
            client,
        }))
    }

    /// Polls each replica's `/healthz` until `shutdown`, taking failing ones out of rotation.
    pub fn spawn_health_checks(self: &Arc<Self>, shutdown: CancellationToken) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                for replica in &this.replicas {
                    let url = format!("{}/healthz", replica.base);
                    let ok = matches!(
                        this.client.get(&url).timeout(Duration::from_secs(2)).send().await,
                        Ok(r) if r.status().is_success()
                    );
                    if replica.healthy.swap(ok, Ordering::Relaxed) != ok {
                        tracing::warn!(service = this.name, replica = %replica.base, healthy = ok, "replica health changed");
                    }
                }
            }
        });
    }

    /// The order to try replicas in: healthy ones round-robin first, then the rest.
    fn order(&self) -> Vec<usize> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let (mut healthy, sick): (Vec<usize>, Vec<usize>) = (0..n)
            .map(|i| (start + i) % n)
            .partition(|&i| self.replicas[i].healthy.load(Ordering::Relaxed));
        healthy.extend(sick);
        healthy
    }

    pub async fn forward(&self, request: Request) -> Response {
        let order = self.order();
        if is_upgrade(request.headers()) {
            return self.splice_upgrade(&order, request).await;
        }
        let (parts, body) = request.into_parts();
        let idempotent = matches!(
            parts.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        let small = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .is_some_and(|len| len <= RETRYABLE_BODY);

        if small || parts.method == Method::GET || parts.method == Method::HEAD {
            let bytes = match axum::body::to_bytes(body, RETRYABLE_BODY).await {
                Ok(bytes) => bytes,
                Err(_) => {
                    return error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "request body too large",
                    );
                }
            };
            for (attempt, &i) in order.iter().enumerate() {
                match self.send(i, &parts, reqwest::Body::from(bytes.clone())).await {
                    Ok(response) => return response,
                    Err(e) if e.is_connect() || idempotent => {
                        self.note_failure(i, &e);
                        tracing::warn!(service = self.name, attempt, error = %e, "replica unreachable; trying another");
                    }
                    Err(e) => {
                        tracing::warn!(service = self.name, error = %e, "replica failed mid-request; not retried");
                        return self.unavailable();
                    }
                }
            }
            return self.unavailable();
        }
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        match self
            .send(order[0], &parts, reqwest::Body::wrap_stream(stream))
            .await
        {
            Ok(response) => response,
            Err(e) => {
                self.note_failure(order[0], &e);
                tracing::warn!(service = self.name, error = %e, "replica unreachable");
                self.unavailable()
            }
        }
    }

    /// A refused connection means the replica is down: out of rotation until a health check passes.
    fn note_failure(&self, i: usize, error: &reqwest::Error) {
        if error.is_connect() && self.replicas[i].healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(service = self.name, replica = %self.replicas[i].base, "replica refused a connection; out of rotation");
        }
    }

    async fn send(
        &self,
        i: usize,
        parts: &http::request::Parts,
        body: reqwest::Body,
    ) -> reqwest::Result<Response> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{}", self.replicas[i].base, path);
        let mut headers = forwarded_headers(&parts.headers);
        echo_http::telemetry::pass_trace_on(&mut headers);
        let upstream = self
            .client
            .request(parts.method.clone(), url)
            .headers(headers)
            .body(body)
            .send()
            .await?;
        let mut response = Response::builder().status(upstream.status());
        if let Some(headers) = response.headers_mut() {
            *headers = forwarded_headers(upstream.headers());
        }
        let body = Body::from_stream(upstream.bytes_stream());
        Ok(response.body(body).unwrap_or_else(|_| self.unavailable()))
    }

    /// Forwards a WebSocket handshake (to the next replica when one refuses the connection) and,
    /// on `101`, joins the two upgraded connections.
    async fn splice_upgrade(&self, order: &[usize], mut request: Request) -> Response {
        let Some(client_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
            return error_response(
                StatusCode::BAD_REQUEST,
                "bad_upgrade",
                "connection cannot be upgraded",
            );
        };
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let mut headers = forwarded_headers(request.headers());
        for name in [header::CONNECTION, header::UPGRADE] {
            if let Some(value) = request.headers().get(&name) {
                headers.insert(name, value.clone());
            }
        }
        let mut reached = None;
        for &i in order {
            let url = format!("{}{}", self.replicas[i].base, path);
            match self.client.get(url).headers(headers.clone()).send().await {
                Ok(r) => {
                    reached = Some(r);
                    break;
                }
                Err(e) if e.is_connect() => self.note_failure(i, &e),
                Err(e) => {
                    tracing::warn!(service = self.name, error = %e, "replica failed during an upgrade");
                    break;
                }
            }
        }
        let Some(upstream) = reached else {
            tracing::warn!(service = self.name, "no replica reachable for an upgrade");
            return self.unavailable();
        };
        let status = upstream.status();
        let mut response = Response::builder().status(status);
        if let Some(out) = response.headers_mut() {
            for (name, value) in upstream.headers() {
                out.append(name, value.clone());
            }
        }
        if status == StatusCode::SWITCHING_PROTOCOLS {
            tokio::spawn(async move {
                let (Ok(upstream_io), Ok(client_io)) = (upstream.upgrade().await, client_upgrade.await)
                else {
                    tracing::warn!("WebSocket upgrade failed on one side");
                    return;
                };
                let mut upstream_io = upstream_io;
                let mut client_io = TokioIo::new(client_io);
                let _ = tokio::io::copy_bidirectional(&mut client_io, &mut upstream_io).await;
            });
            return response
                .body(Body::empty())
                .unwrap_or_else(|_| self.unavailable());
        }
        response
            .body(Body::from_stream(upstream.bytes_stream()))
            .unwrap_or_else(|_| self.unavailable())
    }

    fn unavailable(&self) -> Response {
        error_response(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            &format!("{} is unavailable", self.name),
        )
    }

    /// Ready when at least one replica answers `/readyz`.
    pub fn probe(self: &Arc<Self>) -> Probe {
        let this = self.clone();
        Arc::new(move || {
            let this = this.clone();
            Box::pin(async move {
                for replica in &this.replicas {
                    let url = format!("{}/readyz", replica.base);
                    if let Ok(r) = this.client.get(&url).timeout(Duration::from_secs(2)).send().await
                        && r.status().is_success()
                    {
                        return Ok(());
                    }
                }
                Err(format!("no ready {} replica", this.name))
            })
        })
    }
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// End-to-end headers only: hop-by-hop headers belong to one connection and must not be relayed.
fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
    const HOP_BY_HOP: [HeaderName; 7] = [
        header::CONNECTION,
        header::HOST,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
    ];
    let mut out = headers.clone();
    for name in &HOP_BY_HOP {
        out.remove(name);
    }
    out.remove("keep-alive");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::AtomicUsize;

    use axum::routing::post;

    use super::*;

    /// A replica that counts the POSTs it receives.
    async fn counting_replica(count: Arc<AtomicUsize>) -> String {
        let app = axum::Router::new().route(
            "/echo",
            post(move |body: String| async move {
                count.fetch_add(1, Ordering::SeqCst);
                body
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn refused_url() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    }

    fn post_request(body: &'static str) -> Request {
        Request::builder()
            .method(Method::POST)
            .uri("/echo")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn a_post_refused_by_a_dead_replica_goes_to_a_live_one_once_and_the_dead_one_leaves_rotation() {
        let count = Arc::new(AtomicUsize::new(0));
        let live = counting_replica(count.clone()).await;
        let replicas = Replicas::new("test", &[refused_url(), live]).unwrap();

        for round in 0..4 {
            let response = replicas.forward(post_request("hello")).await;
            assert_eq!(response.status(), StatusCode::OK, "round {round}");
            let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
            assert_eq!(&body[..], b"hello");
        }
        assert_eq!(count.load(Ordering::SeqCst), 4, "each POST arrived exactly once");
        assert!(
            !replicas.replicas[0].healthy.load(Ordering::Relaxed),
            "the dead replica left rotation"
        );
        assert!(replicas.replicas[1].healthy.load(Ordering::Relaxed));
    }
}
