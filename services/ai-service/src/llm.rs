//! An OpenAI-compatible chat endpoint (`POST {base_url}/chat/completions`), for generated
//! summaries and answers: whole answers, or streamed deltas (`stream: true`, server-sent events of
//! `choices[0].delta.content`, ended by `data: [DONE]`). The configured timeout covers the whole
//! exchange; callers fall back to the extractive methods when it fails.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, anyhow};
use futures::StreamExt;
use futures::stream::BoxStream;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::LlmConfig;

#[derive(Clone)]
pub struct Llm {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<SecretString>,
    pub max_context: usize,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("url", &self.url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Llm {
    /// The client a configuration describes; None when no endpoint is configured.
    pub fn from_config(config: &LlmConfig) -> anyhow::Result<Option<Self>> {
        let Some(base) = config
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
        else {
            return Ok(None);
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .build()
            .context("building the LLM client")?;
        Ok(Some(Self {
            client,
            url: format!("{}/chat/completions", base.trim_end_matches('/')),
            model: config.model.clone().unwrap_or_else(|| "default".into()),
            api_key: config.api_key.clone(),
            max_context: config.max_context_messages.max(1),
        }))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    fn request(&self, system: &str, user: &str, stream: bool) -> reqwest::RequestBuilder {
        let body = json!({
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0.2,
            "stream": stream,
        });
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        request
    }

    /// The whole completion.
    #[tracing::instrument(skip_all, fields(model = %self.model))]
    pub async fn complete(&self, system: &str, user: &str) -> anyhow::Result<String> {
        let response = self
            .request(system, user, false)
            .send()
            .await
            .context("calling the LLM endpoint")?;
        let status = response.status();
        if !status.is_success() {
            return Err(anyhow!("the LLM endpoint answered {status}"));
        }
        let body: Value = response.json().await.context("reading the LLM answer")?;
        body["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("the LLM answer has no content"))
    }

    /// The completion as a stream of text deltas. Fails up front if the endpoint refuses.
    #[tracing::instrument(skip_all, fields(model = %self.model))]
    pub async fn stream(
        &self,
        system: &str,
        user: &str,
    ) -> anyhow::Result<BoxStream<'static, anyhow::Result<String>>> {
        let response = self
            .request(system, user, true)
            .send()
            .await
            .context("calling the LLM endpoint")?;
        let status = response.status();
        if !status.is_success() {
            return Err(anyhow!("the LLM endpoint answered {status}"));
        }
        let bytes = response.bytes_stream();
        let state = (
            bytes,
            String::new(),
            std::collections::VecDeque::<String>::new(),
            false,
        );
        let deltas =
            futures::stream::unfold(state, |(mut bytes, mut buffer, mut ready, mut done)| async move {
                loop {
                    if let Some(delta) = ready.pop_front() {
                        return Some((Ok(delta), (bytes, buffer, ready, done)));
                    }
                    if done {
                        return None;
                    }
                    match bytes.next().await {
                        Some(Ok(chunk)) => {
                            buffer.push_str(&String::from_utf8_lossy(&chunk));
                            while let Some(end) = buffer.find('\n') {
                                let line: String = buffer.drain(..=end).collect();
                                match parse_sse_line(line.trim()) {
                                    SseLine::Delta(text) => ready.push_back(text),
                                    SseLine::Done => done = true,
                                    SseLine::Other => {}
                                }
                            }
                        }
                        Some(Err(error)) => {
                            done = true;
                            return Some((
                                Err(anyhow::Error::new(error).context("reading the LLM stream")),
                                (bytes, buffer, ready, done),
                            ));
                        }
                        None => done = true,
                    }
                }
            });
        Ok(deltas.boxed())
    }
}

enum SseLine {
    Delta(String),
    Done,
    Other,
}

fn parse_sse_line(line: &str) -> SseLine {
    let Some(data) = line.strip_prefix("data:") else {
        return SseLine::Other;
    };
    let data = data.trim();
    if data == "[DONE]" {
        return SseLine::Done;
    }
    match serde_json::from_str::<Value>(data) {
        Ok(value) => match value["choices"][0]["delta"]["content"].as_str() {
            Some(text) if !text.is_empty() => SseLine::Delta(text.to_owned()),
            _ => SseLine::Other,
        },
        Err(_) => SseLine::Other,
    }
}

/// The message ids cited in generated text, in order of first mention, keeping only those in
/// `allowed` (the context given): a model cannot make us cite what the caller may not read.
pub fn cited_ids(text: &str, allowed: &HashSet<Uuid>) -> Vec<Uuid> {
    let mut out = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-')) {
        if let Ok(id) = Uuid::parse_str(token)
            && allowed.contains(&id)
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out
}

/// Generated text without its `[id, …]` citation brackets.
pub fn strip_citations(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        let inside = &rest[open + 1..open + close];
        out.push_str(&rest[..open]);
        if !inside
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .all(|t| Uuid::parse_str(t.trim()).is_ok())
        {
            out.push_str(&rest[open..=open + close]);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" .", ".")
        .replace(" ,", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_are_parsed_and_filtered() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let text = format!("Deploy moved [{a}, {b}] and more [{}].", Uuid::nil());
        assert_eq!(cited_ids(&text, &[a, b].into()), vec![a, b]);
        assert_eq!(cited_ids(&text, &[b].into()), vec![b]);
        assert_eq!(strip_citations(&text), "Deploy moved and more.");
    }

    #[test]
    fn sse_lines_yield_deltas() {
        assert!(
            matches!(parse_sse_line(r#"data: {"choices":[{"delta":{"content":"Hi"}}]}"#), SseLine::Delta(t) if t == "Hi")
        );
        assert!(matches!(parse_sse_line("data: [DONE]"), SseLine::Done));
        assert!(matches!(parse_sse_line(": keep-alive"), SseLine::Other));
    }
}
