//! The LLM protocol against a fake OpenAI-compatible endpoint: prompts carry the retrieved
//! messages, citations are kept only when they name the context, streaming relays deltas, and a
//! slow endpoint times out into the extractive answer.

use std::time::{Duration, Instant};

use echo_test_support::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::*;

/// Answers citing the first message id of the prompt, and an id that was not in it.
struct CitingModel {
    stream: bool,
}

fn first_context_id(request: &Request) -> String {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let prompt = body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let start = prompt.find('[').map_or(0, |i| i + 1);
    prompt[start..].chars().take(36).collect()
}

impl Respond for CitingModel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let cited = first_context_id(request);
        let invented = "00000000-0000-7000-8000-000000000000";
        let text = format!(
            "The rollout was paused and rolled back.\n- The canary failed [{cited}]\n- Invented [{invented}]"
        );
        if !self.stream {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"choices": [{"message": {"role": "assistant", "content": text}}]}));
        }
        let mut body = String::new();
        for piece in text.split_inclusive(' ') {
            body.push_str(&format!(
                "data: {}\n\n",
                json!({"choices": [{"delta": {"content": piece}}]})
            ));
        }
        body.push_str("data: [DONE]\n\n");
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/event-stream")
            .set_body_string(body)
    }
}

async fn app_with_llm(server: &MockServer, timeout_ms: u64) -> TestApp {
    let dir = model_dir();
    let url = server.uri();
    TestApp::spawn_with(Backend::Sqlite, move |config| {
        config.ai.model_dir = Some(dir);
        config.ai.llm.base_url = Some(format!("{url}/v1"));
        config.ai.llm.model = Some("fake-llm".into());
        config.ai.llm.api_key = Some("sk-test".to_owned().into());
        config.ai.llm.timeout_ms = timeout_ms;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_come_from_the_llm_and_cite_only_the_retrieved_messages() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test"))
        .respond_with(CitingModel { stream: false })
        .mount(&server)
        .await;
    let app = app_with_llm(&server, 10_000).await;
    let owner = app.register("Owner").await;
    let talk = conversation(&app, &owner).await;
    wait_indexed(&app, &owner).await;

    // Act
    let (status, answer) = app
        .post(
            &owner,
            "/api/v1/ai/ask",
            json!({"workspace_id": talk.ws, "question": "Why did we roll back the release?"}),
        )
        .await;
    let (_, summary) = app
        .post(
            &owner,
            "/api/v1/ai/summaries",
            json!({"channel_id": talk.deploys}),
        )
        .await;
    let (_, status_body) = app.get(&owner, "/api/v1/ai/status").await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model"], "fake-llm");
    let cited: Vec<&str> = answer["citations"]
        .as_array()
        .expect("citations")
        .iter()
        .filter_map(|c| c["message_id"].as_str())
        .collect();
    assert_eq!(cited.len(), 1, "the invented id is dropped: {answer}");
    assert!(talk.deploy_ids.iter().any(|id| id == cited[0]), "{answer}");
    assert!(
        !answer["answer"].as_str().expect("answer").contains('['),
        "citation brackets are stripped: {answer}"
    );
    assert_eq!(summary["model"], "fake-llm");
    assert_eq!(summary["summary"], "The rollout was paused and rolled back.");
    assert_eq!(
        summary["bullets"][0]["message_ids"]
            .as_array()
            .expect("ids")
            .len(),
        1,
        "{summary}"
    );
    assert_eq!(summary["bullets"][1]["message_ids"], json!([]), "{summary}");
    assert_eq!(status_body["llm"], "fake-llm");
    let requests = server.received_requests().await.expect("recorded");
    let prompt: Value = serde_json::from_slice(&requests[0].body).expect("json");
    assert_eq!(prompt["model"], "fake-llm");
    assert!(
        prompt["messages"][1]["content"]
            .as_str()
            .expect("prompt")
            .contains("Why did we roll back"),
        "{prompt}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_stream_as_server_sent_events() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(CitingModel { stream: true })
        .mount(&server)
        .await;
    let app = app_with_llm(&server, 10_000).await;
    let owner = app.register("Owner").await;
    let talk = conversation(&app, &owner).await;
    wait_indexed(&app, &owner).await;

    // Act
    let response = app
        .http
        .post(app.url("/api/v1/ai/summaries"))
        .bearer_auth(&owner.token)
        .header("accept", "text/event-stream")
        .json(&json!({"channel_id": talk.deploys}))
        .send()
        .await
        .expect("response");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("type")
        .to_owned();
    let events = sse_events(&response.text().await.expect("body"));

    // Assert
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let deltas: String = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap_or_default())
        .collect();
    assert!(
        events.iter().filter(|(e, _)| e == "delta").count() > 3,
        "{events:?}"
    );
    assert!(deltas.starts_with("The rollout was paused"), "{deltas}");
    let (last, done) = events.last().expect("events");
    assert_eq!(last, "done");
    assert_eq!(done["model"], "fake-llm");
    let ids = done["bullets"][0]["message_ids"].as_array().expect("ids");
    assert!(talk.deploy_ids.iter().any(|id| ids[0] == id.as_str()), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_llm_times_out_into_the_extractive_answer() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"choices": [{"message": {"content": "too late"}}]}))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let app = app_with_llm(&server, 300).await;
    let owner = app.register("Owner").await;
    let talk = conversation(&app, &owner).await;
    wait_indexed(&app, &owner).await;

    // Act
    let started = Instant::now();
    let (status, answer) = app
        .post(
            &owner,
            "/api/v1/ai/ask",
            json!({"workspace_id": talk.ws, "question": "Why did we roll back the release?"}),
        )
        .await;
    let elapsed = started.elapsed();

    // Assert
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model"], "extractive/all-MiniLM-L6-v2");
    assert!(!answer["citations"].as_array().expect("citations").is_empty());
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}
