//! History pages of a channel of N messages. The messages are bulk-loaded straight into
//! message-service's database (the API would take hours to post a million), then the pages are
//! read the way a client reads them: over HTTP through the gateway, with a real access token.

use std::time::{Duration, Instant};

use anyhow::Context;
use echo_server::config::EchoConfig;
use echo_server::system::{self, System};
use serde_json::{Value, json};
use sqlx::sqlite::SqlitePoolOptions;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::stats::Summary;

const BATCH: u64 = 20_000;

pub async fn run(messages: u64, requests: usize) -> anyhow::Result<Vec<String>> {
    let dir = tempfile::tempdir()?;
    let mut config = EchoConfig {
        data_dir: dir.path().to_path_buf(),
        ..EchoConfig::default()
    };
    config.derive_from_data_dir(|_| false);
    config.gateway.web_dir = None;
    config.gateway.rate_limits.enabled = false;
    let shutdown = CancellationToken::new();
    let system = System::build(&config, shutdown.clone()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(system::serve(listener, system.router.clone(), shutdown.clone()));

    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": "bench@example.test", "password": "a long benchmark password", "display_name": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let token = session["access_token"].as_str().context("no token")?.to_owned();
    let user: Uuid = session["user"]["id"].as_str().context("no user")?.parse()?;
    let workspace: Value = http
        .post(format!("{base}/api/v1/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let ws: Uuid = workspace["id"].as_str().context("no workspace")?.parse()?;
    let channel: Value = http
        .post(format!("{base}/api/v1/workspaces/{ws}/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "history", "visibility": "public"}))
        .send()
        .await?
        .json()
        .await?;
    let ch: Uuid = channel["id"].as_str().context("no channel")?.parse()?;

    let started = Instant::now();
    let ids = bulk_load(&config.messages.database_url, ws, ch, user, messages).await?;
    eprintln!(
        "loaded {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut newest = Vec::with_capacity(requests);
    let mut deep = Vec::with_capacity(requests);
    for i in 0..requests {
        newest.push(page(&http, &base, &token, ch, None).await?);
        // Cursors spread over the whole channel, as people scrolling back far would send.
        let cursor = ids[(i * 7919) % ids.len()];
        deep.push(page(&http, &base, &token, ch, Some(cursor)).await?);
    }
    shutdown.cancel();
    system.close().await;
    Ok(vec![
        format!("| {messages} | newest 50 | {} |", Summary::of(newest)),
        format!(
            "| {messages} | 50 before a random message | {} |",
            Summary::of(deep)
        ),
    ])
}

async fn page(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    ch: Uuid,
    before: Option<Uuid>,
) -> anyhow::Result<Duration> {
    let url = match before {
        Some(id) => format!("{base}/api/v1/channels/{ch}/messages?limit=50&before={id}"),
        None => format!("{base}/api/v1/channels/{ch}/messages?limit=50"),
    };
    let started = Instant::now();
    let response = http.get(url).bearer_auth(token).send().await?;
    anyhow::ensure!(
        response.status().is_success(),
        "history page: {}",
        response.status()
    );
    let body: Value = response.json().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        body["messages"].as_array().is_some_and(|m| !m.is_empty()),
        "empty page"
    );
    Ok(elapsed)
}

/// Inserts `n` messages in big transactions; returns a sample of their ids for cursors.
async fn bulk_load(url: &str, ws: Uuid, ch: Uuid, author: Uuid, n: u64) -> anyhow::Result<Vec<Uuid>> {
    let pool = SqlitePoolOptions::new().max_connections(1).connect(url).await?;
    let mut sample = Vec::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let mut done = 0;
    while done < n {
        let mut tx = pool.begin().await?;
        for i in done..(done + BATCH).min(n) {
            let id = Uuid::now_v7();
            // Every cursor has hundreds of older messages behind it, so each deep page is full.
            if i % 1000 == 999 {
                sample.push(id);
            }
            sqlx::query(
                "INSERT INTO messages (id, channel_id, workspace_id, author_id, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(ch)
            .bind(ws)
            .bind(author)
            .bind(format!("benchmark message number {i} about deploys, lunch and the quarterly plan"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done = (done + BATCH).min(n);
    }
    pool.close().await;
    Ok(sample)
}
