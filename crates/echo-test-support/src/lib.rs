//! Test harness for black-box tests: the whole of Echo on `127.0.0.1:0` with fresh databases, and
//! clients that talk to it as real users would.
//!
//! [`TestApp::spawn`] starts the gateway and every service in this process, on one of two backends:
//! - [`Backend::Sqlite`]: embedded mode — SQLite files and the SQLite event log in a temporary
//!   directory;
//! - [`Backend::Postgres`]: scaled stores — a fresh PostgreSQL database per service on
//!   127.0.0.1:5432, Redis Streams (a key prefix of its own) for events and session revocations.
//!
//! [`on_both_backends!`] writes each test once and runs it on both.

// Test code: a failed step should panic with its cause. `allow-unwrap-in-tests` in clippy.toml
// only covers `#[test]` functions, not the helpers they share.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
mod postgres;
mod ws;

pub use app::{Backend, TestApp, TestUser};
pub use ws::WsClient;

/// Runs each test function once per backend, in modules `sqlite` and `postgres`.
///
/// ```ignore
/// echo_test_support::on_both_backends! {
///     async fn a_user_can_register(app: TestApp) {
///         let alice = app.register("Alice").await;
///         assert!(!alice.token.is_empty());
///     }
/// }
/// ```
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::TestApp::spawn($crate::Backend::Sqlite).await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::TestApp::spawn($crate::Backend::Postgres).await;
                    $body
                }
            )*
        }
    };
}

/// Runs each named `async fn(Backend)` once per backend, in modules `sqlite` and `postgres`: for
/// tests that spawn their own [`TestApp`] with a configuration of their own.
///
/// ```ignore
/// async fn a_short_timeout_applies(backend: Backend) {
///     let app = TestApp::spawn_with(backend, |config| config.users.replica_timeout_ms = 1_000).await;
/// }
/// echo_test_support::each_backend!(a_short_timeout_applies);
/// ```
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}
