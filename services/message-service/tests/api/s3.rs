//! A real S3 server in the test process: s3s-fs over a temporary directory, with signature
//! checking on, so the S3 file store is exercised through genuine SigV4-signed requests.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use message_service::config::S3Config;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

pub const BUCKET: &str = "echo-files";
const ACCESS_KEY: &str = "echo-test-access";
const SECRET_KEY: &str = "echo-test-secret-key";

/// A running server; it stops when the test's runtime does.
pub struct S3Server {
    pub config: S3Config,
    _root: tempfile::TempDir,
}

pub async fn start() -> S3Server {
    let root = tempfile::tempdir().expect("S3 root directory");
    std::fs::create_dir(root.path().join(BUCKET)).expect("bucket directory");
    let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind S3");
    let addr = listener.local_addr().expect("S3 address");
    tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        while let Ok((socket, _)) = listener.accept().await {
            let connection = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    });
    S3Server {
        config: S3Config {
            endpoint: Some(format!("http://{addr}")),
            bucket: BUCKET.to_owned(),
            region: "us-east-1".to_owned(),
            access_key_id: ACCESS_KEY.to_owned(),
            secret_access_key: SECRET_KEY.to_owned(),
            allow_http: true,
        },
        _root: root,
    }
}
