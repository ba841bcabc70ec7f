//! The binary as a person runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_echo-server");

#[test]
fn help_lists_every_command() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in ["up", "serve", "migrate", "keys", "events", "openapi"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
    let serve = String::from_utf8(Command::new(BIN).args(["serve", "--help"]).output().unwrap().stdout).unwrap();
    assert!(serve.contains("gateway") && serve.contains("messages"), "{serve}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_creates_its_data_dir_says_where_it_listens_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let mut child = Command::new(BIN)
        .args(["up", "--port", "0", "--data-dir", data.to_str().unwrap()])
        .env("ECHO_BIND", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.contains("Echo is running at http://localhost:"), "{line}");
    assert!(line.contains(data.to_str().unwrap()), "says where the data is: {line}");
    let port: u16 = line.split("localhost:").nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();

    let health = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.unwrap();
    assert!(health.status().is_success());
    for file in ["users.db", "messages.db", "ai.db", "events.db"] {
        assert!(data.join(file).is_file(), "{file} created");
    }

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn migrate_brings_every_schema_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN).args(["migrate", "--data-dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.matches("schema up to date").count(), 3, "{text}");
}

/// The web app's typed client is generated from, and checked against, a copy of this document
/// (frontend/src/api/openapi.json); the copy must be what the server declares now.
#[test]
fn the_web_apps_copy_of_the_api_document_is_current() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let served: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(served["paths"]["/api/v1/channels/{ch}/messages"]["post"].is_object(), "sending is documented");
    let mut operations: Vec<&str> = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    let count = operations.len();
    operations.sort_unstable();
    operations.dedup();
    assert_eq!(operations.len(), count, "every operation has an id of its own (generated clients name methods by it)");
    let copy_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../frontend/src/api/openapi.json");
    let copy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(copy_path).unwrap()).unwrap();
    assert!(copy == served, "frontend/src/api/openapi.json is out of date: run `make openapi`");
}

/// The services' documents are merged into one, where a schema name keeps its first definition: two
/// services naming different schemas alike would describe one service's responses with the other's.
#[test]
fn no_two_services_give_different_schemas_one_name() {
    let parts = [
        ("user-service", user_service::http::router().split_for_parts().1),
        ("message-service", message_service::openapi()),
        ("ai-service", ai_service::openapi()),
    ];
    let schemas: Vec<(&str, serde_json::Value)> = parts
        .into_iter()
        .map(|(service, doc)| (service, serde_json::to_value(doc).unwrap()["components"]["schemas"].clone()))
        .collect();
    for (i, (first, first_schemas)) in schemas.iter().enumerate() {
        for (second, second_schemas) in &schemas[i + 1..] {
            for (name, schema) in first_schemas.as_object().unwrap() {
                if let Some(other) = second_schemas.get(name) {
                    assert_eq!(schema, other, "{first} and {second} both define the schema {name}, differently");
                }
            }
        }
    }
}

/// Schema-driven clients and fuzzers expect every status an operation can answer to be declared:
/// the auth layer's 401, the extractors' 400 and 415.
#[test]
fn every_operation_documents_the_errors_the_shared_layers_answer() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            let declares = |status: &str| responses[status].is_object();
            if operation["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|r| !r.is_empty()))) {
                assert!(declares("401"), "{method} {path} declares 401");
            }
            if operation["parameters"].as_array().is_some_and(|p| !p.is_empty()) || operation["requestBody"].is_object() {
                assert!(declares("400"), "{method} {path} declares 400");
            }
            if operation["requestBody"].is_object() {
                assert!(declares("415"), "{method} {path} declares 415");
            }
        }
    }
}

/// Page sizes outside their bounds are refused with 400, so the document states the bounds.
#[test]
fn enforced_page_size_bounds_are_documented() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for (path, maximum) in [
        ("/api/v1/channels/{ch}/messages", 200),
        ("/api/v1/messages/{id}/replies", 200),
        ("/api/v1/notifications", 200),
        ("/api/v1/workspaces/{ws}/audit-log", 200),
        ("/api/v1/workspaces/{ws}/search", 200),
        ("/api/v1/workspaces/{ws}/threads", 200),
        ("/api/v1/ai/search", 100),
    ] {
        let parameters = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let limit = &parameters.iter().find(|p| p["name"] == "limit").unwrap()["schema"];
        assert_eq!((&limit["minimum"], &limit["maximum"]), (&serde_json::json!(1), &serde_json::json!(maximum)), "{path}: {limit}");
    }
}
