//! Files: upload, type sniffing, sharing in messages, who may read, safe serving, thumbnails,
//! deletion. Each test runs on SQLite with the local disk store and on PostgreSQL with a real S3
//! server (s3s-fs in process).

use echo_test_support::{Backend, TestApp, TestUser};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{create_channel, id, join, post, workspace};
use crate::s3;

/// The app on `backend`, with S3 storage on PostgreSQL; the S3 server lives as long as the app.
async fn spawn(backend: Backend, max_bytes: Option<u64>) -> (TestApp, Option<s3::S3Server>) {
    let server = match backend {
        Backend::Postgres => Some(s3::start().await),
        Backend::Sqlite => None,
    };
    let s3 = server.as_ref().map(|s| s.config.clone());
    let app = TestApp::spawn_with(backend, move |config| {
        config.messages.files.s3 = s3;
        if let Some(max) = max_bytes {
            config.messages.files.max_bytes = max;
        }
    })
    .await;
    (app, server)
}

async fn upload_form(app: &TestApp, user: &TestUser, form: Form) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/api/v1/files"))
        .bearer_auth(&user.token)
        .multipart(form)
        .send()
        .await
        .expect("upload reaches Echo");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn upload(app: &TestApp, user: &TestUser, ws: &str, name: &str, bytes: Vec<u8>) -> Value {
    let form = Form::new().text("workspace_id", ws.to_owned()).part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("text/html")
            .expect("mime"),
    );
    let (status, body) = upload_form(app, user, form).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn content(app: &TestApp, user: &TestUser, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("download")
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

macro_rules! on_both_stores {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        mod sqlite_disk {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let ($app, _s3) = spawn(Backend::Sqlite, None).await;
                    $body
                }
            )*
        }
        mod postgres_s3 {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let ($app, _s3) = spawn(Backend::Postgres, None).await;
                    $body
                }
            )*
        }
    };
}

on_both_stores! {
    async fn an_upload_is_stored_and_served_back_to_its_uploader(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let file = upload(&app, &alice, &ws, "../../data.bin", bytes.clone()).await;
        assert_eq!(file["name"], "data.bin");
        assert_eq!(file["size"], 3_000_000);
        assert_eq!(file["content_type"], "application/octet-stream");
        let response = content(&app, &alice, file["url"].as_str().expect("url")).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(response.headers()["content-disposition"].to_str().expect("ascii").starts_with("attachment"));
        assert!(response.headers()["content-security-policy"].to_str().expect("ascii").contains("sandbox"));
        assert_eq!(response.bytes().await.expect("bytes").to_vec(), bytes);
    }

    async fn the_content_type_comes_from_the_bytes_not_the_client(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let file = upload(&app, &alice, &ws, "photo.html", png(800, 400)).await;
        assert_eq!(file["content_type"], "image/png");
        let response = content(&app, &alice, file["url"].as_str().expect("url")).await;
        assert!(response.headers()["content-disposition"].to_str().expect("ascii").starts_with("inline"));
        let text = upload(&app, &alice, &ws, "page.html", b"<html><script>alert(1)</script></html>".to_vec()).await;
        assert_ne!(text["content_type"], "image/png");
        let response = content(&app, &alice, text["url"].as_str().expect("url")).await;
        assert!(response.headers()["content-disposition"].to_str().expect("ascii").starts_with("attachment"));
    }

    async fn images_get_a_thumbnail_that_fits_in_360_pixels(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let file = upload(&app, &alice, &ws, "wide.png", png(1200, 600)).await;
        let thumb_url = file["thumbnail_url"].as_str().expect("a thumbnail url");
        let response = content(&app, &alice, thumb_url).await;
        assert_eq!(response.status(), StatusCode::OK);
        let thumb = image::load_from_memory(&response.bytes().await.expect("bytes")).expect("a png");
        assert_eq!((thumb.width(), thumb.height()), (360, 180));
        let other = upload(&app, &alice, &ws, "notes.txt", b"just text".to_vec()).await;
        assert!(other.get("thumbnail_url").is_none(), "{other}");
    }

    async fn shared_files_are_readable_by_channel_readers_only(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let carol = app.register("Carol").await;
        let outsider = app.register("Mallory").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        join(&app, &alice, &ws, &carol, "member").await;
        let secret = create_channel(&app, &alice, &ws, "secret", "private").await;
        let (status, _) = app.post(&alice, &format!("/api/v1/channels/{secret}/members"), json!({"user_id": bob.id})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let file = upload(&app, &alice, &ws, "plan.txt", b"the plan".to_vec()).await;
        let path = format!("/api/v1/files/{}", id(&file));
        assert_eq!(app.get(&bob, &path).await.0, StatusCode::NOT_FOUND, "not shared yet");

        let (status, message) = app
            .post(&alice, &format!("/api/v1/channels/{secret}/messages"), json!({"text": "see attached", "file_ids": [id(&file)]}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message["files"][0]["id"], file["id"]);
        assert_eq!(message["files"][0]["name"], "plan.txt");

        assert_eq!(app.get(&bob, &path).await.0, StatusCode::OK);
        assert_eq!(content(&app, &bob, &format!("{path}/content")).await.text().await.expect("text"), "the plan");
        assert_eq!(app.get(&carol, &path).await.0, StatusCode::NOT_FOUND);
        assert_eq!(content(&app, &carol, &format!("{path}/content")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.get(&outsider, &path).await.0, StatusCode::NOT_FOUND);
        let anonymous = app.http.get(app.url(&format!("{path}/content"))).send().await.expect("request");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }

    async fn only_ones_own_files_of_the_same_workspace_can_be_attached(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let (other_ws, _) = workspace(&app, &alice, "Other").await;
        let bobs = upload(&app, &bob, &ws, "b.txt", b"bob".to_vec()).await;
        let elsewhere = upload(&app, &alice, &other_ws, "x.txt", b"x".to_vec()).await;
        for file in [&bobs, &elsewhere] {
            let (status, body) = app
                .post(&alice, &format!("/api/v1/channels/{general}/messages"), json!({"text": "hi", "file_ids": [id(file)]}))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        }
        let (status, _) = app
            .post(&alice, &format!("/api/v1/channels/{general}/messages"), json!({"text": "hi", "file_ids": [uuid::Uuid::now_v7()]}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn avatars_are_readable_by_workspace_peers(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let stranger = app.register("Stranger").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let form = Form::new().text("purpose", "avatar").part("file", Part::bytes(png(64, 64)).file_name("me.png"));
        let (status, avatar) = upload_form(&app, &alice, form).await;
        assert_eq!(status, StatusCode::CREATED, "{avatar}");
        let url = avatar["url"].as_str().expect("url").to_owned();
        assert_eq!(content(&app, &bob, &url).await.status(), StatusCode::OK);
        assert_eq!(content(&app, &stranger, &url).await.status(), StatusCode::NOT_FOUND);
    }

    async fn deleting_a_file_keeps_it_while_a_message_shows_it(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let file = upload(&app, &alice, &ws, "keep.txt", b"kept".to_vec()).await;
        let (_, message) = app
            .post(&alice, &format!("/api/v1/channels/{general}/messages"), json!({"text": "", "file_ids": [id(&file)]}))
            .await;
        let path = format!("/api/v1/files/{}", id(&file));
        assert_eq!(app.delete(&alice, &path).await.0, StatusCode::NO_CONTENT);
        let (_, listing) = app.get(&alice, &format!("/api/v1/files?workspace_id={ws}")).await;
        assert_eq!(listing["files"].as_array().map(Vec::len), Some(0), "{listing}");
        assert_eq!(content(&app, &alice, &format!("{path}/content")).await.text().await.expect("text"), "kept");

        assert_eq!(app.delete(&alice, &format!("/api/v1/messages/{}", id(&message))).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&alice, &path).await.0, StatusCode::NOT_FOUND);

        let lone = upload(&app, &alice, &ws, "lone.txt", b"x".to_vec()).await;
        let lone_path = format!("/api/v1/files/{}", id(&lone));
        assert_eq!(app.delete(&alice, &lone_path).await.0, StatusCode::NO_CONTENT);
        assert_eq!(content(&app, &alice, &format!("{lone_path}/content")).await.status(), StatusCode::NOT_FOUND);
    }

    async fn a_range_request_gets_that_slice(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let file = upload(&app, &alice, &ws, "abc.txt", b"abcdefghij".to_vec()).await;
        let response = app
            .http
            .get(app.url(file["url"].as_str().expect("url")))
            .bearer_auth(&alice.token)
            .header("range", "bytes=2-4")
            .send()
            .await
            .expect("range");
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(response.headers()["content-range"], "bytes 2-4/10");
        assert_eq!(response.text().await.expect("text"), "cde");
    }

    async fn messages_and_their_events_carry_file_objects(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let file = upload(&app, &alice, &ws, "report.txt", b"numbers".to_vec()).await;
        let message = crate::helpers::post(&app, &alice, &general, "warm up").await;
        drop(message);
        let (_, message) = app
            .post(&alice, &format!("/api/v1/channels/{general}/messages"), json!({"text": "report", "file_ids": [id(&file)]}))
            .await;
        let (_, fetched) = app.get(&alice, &format!("/api/v1/messages/{}", id(&message))).await;
        assert_eq!(fetched["files"][0]["url"], format!("/api/v1/files/{}/content", id(&file)));
        let (_, page) = app.get(&alice, &format!("/api/v1/channels/{general}/messages")).await;
        assert_eq!(page["messages"][0]["files"][0]["id"], file["id"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_refused_with_413() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (app, _s3) = spawn(backend, Some(1024)).await;
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let form = Form::new()
            .text("workspace_id", ws)
            .part("file", Part::bytes(vec![7u8; 4096]).file_name("big.bin"));
        let (status, body) = upload_form(&app, &alice, form).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_to_a_workspace_one_is_not_in_is_not_found() {
    let (app, _s3) = spawn(Backend::Sqlite, None).await;
    let alice = app.register("Alice").await;
    let mallory = app.register("Mallory").await;
    let (ws, _) = workspace(&app, &alice, "Acme").await;
    let form = Form::new()
        .text("workspace_id", ws)
        .part("file", Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let (status, _) = upload_form(&app, &mallory, form).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let _ = post;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_is_not_multipart_is_refused_with_the_error_body() {
    let (app, _s3) = spawn(Backend::Sqlite, None).await;
    let alice = app.register("Alice").await;
    for content_type in [None, Some("application/json"), Some("multipart/form-data")] {
        let mut request = app
            .http
            .post(app.url("/api/v1/files"))
            .bearer_auth(&alice.token)
            .body("{}");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "unsupported_media_type",
            "{content_type:?}: {body}"
        );
    }
}
