//! The web app: static files from the built `frontend/dist`, and `index.html` for every other
//! path so that client-side routes (`/invite/CODE`, `/c/…`) load the app.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Html;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

const NOT_BUILT: &str = "<!doctype html><title>Echo</title><h1>Echo is running</h1>\
<p>The web app has not been built. Run <code>npm --prefix frontend ci && npm --prefix frontend run build</code>, \
or use the API at <a href=\"/api/docs\">/api/docs</a>.</p>";

pub fn router(dir: Option<&Path>) -> Router {
    match dir.filter(|d| d.join("index.html").is_file()) {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            // Hashed assets never change; index.html must always be revalidated to pick up a release.
            let assets = Router::new()
                .fallback_service(ServeDir::new(dir.join("assets")))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ));
            Router::new().nest("/assets", assets).fallback_service(
                Router::new()
                    .fallback_service(ServeDir::new(dir).fallback(index))
                    .layer(SetResponseHeaderLayer::if_not_present(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("no-cache"),
                    )),
            )
        }
        None => Router::new().fallback(|| async { Html(NOT_BUILT) }),
    }
}
