//! Echo's HTTP API as the load generator drives it: accounts, a workspace with its `general`
//! channel, invites, posts and real-time sockets.

use anyhow::Context;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sockets::{self, Socket};

/// A client of one Echo server.
#[derive(Clone)]
pub struct EchoApi {
    pub http: reqwest::Client,
    pub base: String,
}

/// A new account.
pub struct Account {
    pub token: String,
    pub id: String,
}

impl EchoApi {
    pub fn new(base: &str) -> EchoApi {
        EchoApi {
            http: reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    pub async fn register(&self, name: &str) -> anyhow::Result<Account> {
        let body = json!({"email": format!("{name}@bench.test"), "password": "a long benchmark password", "display_name": name});
        let session = self.call("", "POST", "/api/v1/auth/register", body).await?;
        let field = |pointer: &str| {
            session
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(Account {
            token: field("/access_token").context("no access token")?,
            id: field("/user/id").context("no user id")?,
        })
    }

    /// Creates a workspace owned by `token`; returns its id and its `general` channel's.
    pub async fn workspace(&self, token: &str, name: &str) -> anyhow::Result<(String, Uuid)> {
        let workspace = self
            .call(token, "POST", "/api/v1/workspaces", json!({"name": name}))
            .await?;
        let ws = workspace["id"].as_str().context("no workspace id")?.to_owned();
        let channels = self
            .call(
                token,
                "GET",
                &format!("/api/v1/workspaces/{ws}/channels"),
                Value::Null,
            )
            .await?;
        let general = channels["channels"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == "general"))
            .and_then(|c| c["id"].as_str())
            .context("no general channel")?
            .parse()?;
        Ok((ws, general))
    }

    /// An invite code to workspace `ws`; accepting it joins `general`.
    pub async fn invite(&self, token: &str, ws: &str) -> anyhow::Result<String> {
        let invite = self
            .call(
                token,
                "POST",
                &format!("/api/v1/workspaces/{ws}/invites"),
                json!({}),
            )
            .await?;
        Ok(invite["code"].as_str().context("no invite code")?.to_owned())
    }

    pub async fn accept(&self, token: &str, code: &str) -> anyhow::Result<()> {
        self.call(
            token,
            "POST",
            &format!("/api/v1/invites/{code}/accept"),
            Value::Null,
        )
        .await?;
        Ok(())
    }

    /// Posts a message; returns once Echo acknowledges it (committed durably).
    pub async fn post(&self, token: &str, channel: Uuid, text: &str) -> anyhow::Result<()> {
        self.call(
            token,
            "POST",
            &format!("/api/v1/channels/{channel}/messages"),
            json!({"text": text}),
        )
        .await?;
        Ok(())
    }

    /// Opens a real-time WebSocket for `token` as a client does (a ticket, then the upgrade), from
    /// the `n`th connection's source address.
    pub async fn realtime(&self, token: &str, n: usize) -> anyhow::Result<Socket> {
        let ticket = self
            .call(token, "POST", "/api/v1/realtime/tickets", Value::Null)
            .await?;
        let ticket = ticket["ticket"].as_str().context("no ticket")?;
        let url = format!(
            "{}/api/v1/realtime?ticket={ticket}",
            self.base.replacen("http", "ws", 1)
        );
        sockets::connect(&url, n).await
    }

    /// One API call; a non-2xx answer is an error carrying the body.
    pub async fn call(&self, token: &str, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let mut request = self.http.request(method.parse()?, format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status} {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }
}
