//! Where the gateway sends a request: a service router in the same process (embedded mode, no
//! network hop: the request, WebSocket upgrade included, is handed over as it is), or a set of
//! replicas over HTTP (scaled mode).

mod remote;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use echo_http::ops::Probe;
use tower::ServiceExt;

pub use self::remote::Replicas;

#[derive(Clone)]
pub enum Upstream {
    Local(Router),
    Remote(std::sync::Arc<Replicas>),
}

impl Upstream {
    pub async fn forward(&self, request: Request) -> Response {
        match self {
            Upstream::Local(router) => match router.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
            Upstream::Remote(replicas) => replicas.forward(request).await,
        }
    }

    /// A readiness probe for remote replicas (local services report their own probes).
    pub fn probe(&self) -> Option<Probe> {
        match self {
            Upstream::Local(_) => None,
            Upstream::Remote(replicas) => Some(replicas.probe()),
        }
    }
}
