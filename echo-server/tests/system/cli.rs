//! The binary as a person runs it.

use std::process::Command;

use crate::up::Up;

const BIN: &str = env!("CARGO_BIN_EXE_echo-server");

#[test]
fn help_lists_every_command() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in [
        "up", "serve", "migrate", "keys", "events", "export", "import", "openapi",
    ] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
    let serve = String::from_utf8(
        Command::new(BIN)
            .args(["serve", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(serve.contains("gateway") && serve.contains("messages"), "{serve}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_creates_its_data_dir_says_where_it_listens_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let up = Up::start(&data);
    assert!(
        up.banner.contains("Echo is running at http://localhost:"),
        "{}",
        up.banner
    );
    assert!(
        up.banner.contains(data.to_str().unwrap()),
        "says where the data is: {}",
        up.banner
    );

    let health = reqwest::get(format!("{}/readyz", up.base)).await.unwrap();
    assert!(health.status().is_success());
    for file in ["users.db", "messages.db", "ai.db", "events.db"] {
        assert!(data.join(file).is_file(), "{file} created");
    }

    let status = up.stop();
    assert!(status.success(), "{status}");
}

#[test]
fn migrate_brings_every_schema_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["migrate", "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.matches("schema up to date").count(), 3, "{text}");
    assert!(text.contains("search index up to date"), "{text}");
}

/// The web app's typed client is generated from, and checked against, a copy of this document
/// (frontend/src/api/openapi.json); the copy must be what the server declares now.
#[test]
fn the_web_apps_copy_of_the_api_document_is_current() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let served: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        served["paths"]["/api/v1/channels/{ch}/messages"]["post"].is_object(),
        "sending is documented"
    );
    let mut operations: Vec<&str> = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| {
            item.as_object()
                .unwrap()
                .values()
                .filter_map(|op| op["operationId"].as_str())
        })
        .collect();
    let count = operations.len();
    operations.sort_unstable();
    operations.dedup();
    assert_eq!(
        operations.len(),
        count,
        "every operation has an id of its own (generated clients name methods by it)"
    );
    let copy_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../frontend/src/api/openapi.json");
    let copy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(copy_path).unwrap()).unwrap();
    assert!(
        copy == served,
        "frontend/src/api/openapi.json is out of date: run `make openapi`"
    );
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
        .map(|(service, doc)| {
            (
                service,
                serde_json::to_value(doc).unwrap()["components"]["schemas"].clone(),
            )
        })
        .collect();
    for (i, (first, first_schemas)) in schemas.iter().enumerate() {
        for (second, second_schemas) in &schemas[i + 1..] {
            for (name, schema) in first_schemas.as_object().unwrap() {
                if let Some(other) = second_schemas.get(name) {
                    assert_eq!(
                        schema, other,
                        "{first} and {second} both define the schema {name}, differently"
                    );
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
            if operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|r| !r.is_empty())))
            {
                assert!(declares("401"), "{method} {path} declares 401");
            }
            if operation["parameters"].as_array().is_some_and(|p| !p.is_empty())
                || operation["requestBody"].is_object()
            {
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
        assert_eq!(
            (&limit["minimum"], &limit["maximum"]),
            (&serde_json::json!(1), &serde_json::json!(maximum)),
            "{path}: {limit}"
        );
    }
}

fn run(args: &[&str]) -> String {
    let output = Command::new(BIN).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_exported_by_the_command_line_imports_into_another_echo() {
    // Arrange: an Echo with a thread in #general, stopped; another, running, with an empty workspace.
    let dir = tempfile::tempdir().unwrap();
    let (first_data, second_data, zip) = (
        dir.path().join("first"),
        dir.path().join("second"),
        dir.path().join("acme.zip"),
    );
    let first = Up::start(&first_data);
    let (token, ws, general) = first.alice_with_workspace().await;
    let root = first
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            Some(&token),
            serde_json::json!({"text": "moving day"}),
        )
        .await;
    let body = serde_json::json!({"text": "boxes packed", "thread_root_id": root["id"]});
    first
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            Some(&token),
            body,
        )
        .await;
    drop(first);
    let second = Up::start(&second_data);
    let (token_there, ws_there, general_there) = second.alice_with_workspace().await;

    // Act
    let exported = run(&[
        "export",
        "--workspace",
        &ws,
        "-o",
        zip.to_str().unwrap(),
        "--data-dir",
        first_data.to_str().unwrap(),
    ]);
    let import = || {
        let args = ["import", "echo", zip.to_str().unwrap(), "--workspace", &ws_there];
        run(&[&args[..], &["--data-dir", second_data.to_str().unwrap()]].concat())
    };
    let (imported, again) = (import(), import());

    // Assert: the running Echo serves what the import wrote, once.
    assert!(
        exported.starts_with("exported 2 messages in 1 channels, 1 people and 0 files to "),
        "{exported}"
    );
    assert!(!dir.path().join("acme.zip.partial").exists());
    assert!(
        imported.starts_with("imported 2 messages (0 already there, 0 not valid) and 0 files"),
        "{imported}"
    );
    assert!(
        again.starts_with("imported 0 messages (2 already there"),
        "{again}"
    );
    let history = second
        .get(
            &format!("/api/v1/channels/{general_there}/messages"),
            &token_there,
        )
        .await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts, ["moving day"], "replies live in their thread");
    let replies = second
        .get(
            &format!("/api/v1/messages/{}/replies", root["id"].as_str().unwrap()),
            &token_there,
        )
        .await;
    assert_eq!(replies["messages"][0]["text"], "boxes packed");
}
