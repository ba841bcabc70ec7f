//! Search: every operator, partial words and CJK, permissions, edits and deletes, highlighting,
//! paging, and malformed queries.

use std::time::Duration;

use echo_test_support::{Backend, TestApp, TestUser};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{create_channel, id, join, post, reply, workspace};

fn encode(q: &str) -> String {
    let mut out = String::new();
    for byte in q.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

async fn search(app: &TestApp, user: &TestUser, ws: &str, q: &str) -> Value {
    let (status, body) = app
        .get(user, &format!("/api/v1/workspaces/{ws}/search?q={}", encode(q)))
        .await;
    assert_eq!(status, StatusCode::OK, "{q}: {body}");
    body
}

/// The texts found, best first.
async fn found(app: &TestApp, user: &TestUser, ws: &str, q: &str) -> Vec<String> {
    search(app, user, ws, q).await["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["message"]["text"].as_str().expect("text").to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

echo_test_support::on_both_backends! {
    async fn words_phrases_and_exclusions_match(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        post(&app, &alice, &general, "the deploy went fine").await;
        post(&app, &alice, &general, "deploy failed again").await;
        post(&app, &alice, &general, "fine weather today").await;
        assert_eq!(sorted(found(&app, &alice, &ws, "deploy").await), vec!["deploy failed again", "the deploy went fine"]);
        assert_eq!(found(&app, &alice, &ws, "deploy fine").await, vec!["the deploy went fine"]);
        assert_eq!(found(&app, &alice, &ws, "\"went fine\"").await, vec!["the deploy went fine"]);
        assert!(found(&app, &alice, &ws, "\"fine went\"").await.is_empty());
        assert_eq!(found(&app, &alice, &ws, "deploy -failed").await, vec!["the deploy went fine"]);
        // Control characters separate words (schemathesis once sent a NUL that broke FTS5's syntax).
        assert_eq!(found(&app, &alice, &ws, "deploy\0went\tfine").await, vec!["the deploy went fine"]);
        assert!(found(&app, &alice, &ws, "]\u{be}k\0").await.is_empty());
    }

    async fn partial_words_and_cjk_match(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        post(&app, &alice, &general, "Kubernetes upgrade scheduled").await;
        post(&app, &alice, &general, "明日は東京タワーに行きます").await;
        post(&app, &alice, &general, "go to 東京 soon").await;
        assert_eq!(found(&app, &alice, &ws, "bernet").await, vec!["Kubernetes upgrade scheduled"]);
        assert_eq!(found(&app, &alice, &ws, "UPGRA").await, vec!["Kubernetes upgrade scheduled"]);
        assert_eq!(found(&app, &alice, &ws, "東京タワー").await, vec!["明日は東京タワーに行きます"]);
        // Two characters: shorter than a trigram, still found.
        assert_eq!(sorted(found(&app, &alice, &ws, "東京").await), vec!["go to 東京 soon", "明日は東京タワーに行きます"]);
        assert_eq!(found(&app, &alice, &ws, "go").await, vec!["go to 東京 soon"]);
        // One character is the start of a pair, or the end of a run.
        assert_eq!(sorted(found(&app, &alice, &ws, "京").await), vec!["go to 東京 soon", "明日は東京タワーに行きます"]);
        assert_eq!(found(&app, &alice, &ws, "ワ").await, vec!["明日は東京タワーに行きます"]);
        assert!(found(&app, &alice, &ws, "京東").await.is_empty());
    }

    async fn accents_case_and_punctuation_do_not_matter(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        post(&app, &alice, &general, "Café menu for the Crème Brûlée party").await;
        post(&app, &alice, &general, "the deploy-bot restarted api.example.test").await;
        assert_eq!(found(&app, &alice, &ws, "cafe").await, vec!["Café menu for the Crème Brûlée party"]);
        assert_eq!(found(&app, &alice, &ws, "\"CREME brulee\"").await, vec!["Café menu for the Crème Brûlée party"]);
        assert_eq!(found(&app, &alice, &ws, "deploy-bot").await, vec!["the deploy-bot restarted api.example.test"]);
        assert_eq!(found(&app, &alice, &ws, "example.test").await, vec!["the deploy-bot restarted api.example.test"]);
        assert_eq!(found(&app, &alice, &ws, "bot restart").await, vec!["the deploy-bot restarted api.example.test"]);
        // A term with nothing to look for finds nothing rather than everything.
        assert!(found(&app, &alice, &ws, "+++").await.is_empty());
    }

    async fn from_in_has_is_and_mentions_filter(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob Builder").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let random = create_channel(&app, &alice, &ws, "random", "public").await;
        let (status, _) = app.post(&bob, &format!("/api/v1/channels/{random}/join"), json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let root = post(&app, &alice, &general, "topic alpha").await;
        reply(&app, &bob, &general, &id(&root), "topic reply").await;
        post(&app, &bob, &random, "topic in random with https://example.test/x").await;
        post(&app, &bob, &general, &format!("topic for <@{}>", alice.id)).await;

        assert_eq!(sorted(found(&app, &alice, &ws, "topic from:@me").await), vec!["topic alpha"]);
        assert_eq!(found(&app, &alice, &ws, &format!("topic from:@{}", bob.id)).await.len(), 3);
        // Display names come from user-service's events, which arrive asynchronously.
        let mut by_name = Vec::new();
        for _ in 0..50 {
            by_name = found(&app, &alice, &ws, "topic from:@\"bob builder\"").await;
            if by_name.len() == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(by_name.len(), 3, "{by_name:?}");
        assert_eq!(found(&app, &alice, &ws, "topic in:#random").await, vec!["topic in random with https://example.test/x"]);
        assert_eq!(found(&app, &alice, &ws, "topic has:link").await, vec!["topic in random with https://example.test/x"]);
        assert_eq!(sorted(found(&app, &alice, &ws, "topic is:thread").await), vec!["topic alpha", "topic reply"]);
        assert_eq!(found(&app, &alice, &ws, "topic mentions:me").await, vec![format!("topic for <@{}>", alice.id)]);
        assert!(found(&app, &alice, &ws, "topic in:#nowhere").await.is_empty());
        // Operators alone are searches too.
        assert_eq!(found(&app, &alice, &ws, "has:link").await, vec!["topic in random with https://example.test/x"]);
        assert_eq!(found(&app, &alice, &ws, "mentions:me").await, vec![format!("topic for <@{}>", alice.id)]);
        assert_eq!(found(&app, &bob, &ws, "from:@me in:#random").await, vec!["topic in random with https://example.test/x"]);
    }

    async fn an_edit_changes_what_operators_find(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let message = post(&app, &alice, &general, "notes at https://example.test/notes").await;
        let path = format!("/api/v1/messages/{}", id(&message));
        let (status, _) = app.patch(&alice, &path, json!({"text": format!("notes for <@{}>", bob.id)})).await;
        assert_eq!(status, StatusCode::OK);
        assert!(found(&app, &alice, &ws, "has:link").await.is_empty());
        assert_eq!(found(&app, &bob, &ws, "mentions:me").await, vec![format!("notes for <@{}>", bob.id)]);
        let (status, _) = app.patch(&alice, &path, json!({"text": "notes for @channel"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found(&app, &bob, &ws, "mentions:me").await, vec!["notes for @channel"]);
        assert!(found(&app, &alice, &ws, "has:file").await.is_empty());
    }

    async fn dates_bound_the_search(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        post(&app, &alice, &general, "dated note").await;
        let today = chrono::Utc::now().date_naive();
        let yesterday = today.pred_opt().expect("a day before");
        let tomorrow = today.succ_opt().expect("a day after");
        assert_eq!(found(&app, &alice, &ws, &format!("dated after:{yesterday}")).await.len(), 1);
        assert_eq!(found(&app, &alice, &ws, &format!("dated before:{tomorrow}")).await.len(), 1);
        assert!(found(&app, &alice, &ws, &format!("dated after:{today}")).await.is_empty());
        assert!(found(&app, &alice, &ws, &format!("dated before:{today}")).await.is_empty());
    }

    async fn file_names_and_text_files_are_searchable_and_has_file_filters(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let form = reqwest::multipart::Form::new()
            .text("workspace_id", ws.clone())
            .part("file", reqwest::multipart::Part::bytes(b"quarterly zebra numbers".to_vec()).file_name("budget-2024.txt"));
        let file: Value = app.http.post(app.url("/api/v1/files")).bearer_auth(&alice.token).multipart(form)
            .send().await.expect("upload").json().await.expect("json");
        let (status, _) = app.post(&alice, &format!("/api/v1/channels/{general}/messages"),
            json!({"text": "see the sheet", "file_ids": [id(&file)]})).await;
        assert_eq!(status, StatusCode::CREATED);
        post(&app, &alice, &general, "see you later").await;
        assert_eq!(found(&app, &alice, &ws, "budget").await, vec!["see the sheet"]);
        assert_eq!(found(&app, &alice, &ws, "zebra").await, vec!["see the sheet"]);
        assert_eq!(found(&app, &alice, &ws, "see has:file").await, vec!["see the sheet"]);
        assert_eq!(found(&app, &alice, &ws, "has:file").await, vec!["see the sheet"]);
        let hit = search(&app, &alice, &ws, "zebra").await;
        assert!(hit["results"][0]["highlight"].as_str().expect("highlight").contains("<mark>zebra</mark>"), "{hit}");
    }

    async fn private_channels_and_other_workspaces_stay_hidden(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let guest = app.register("Guest").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        join(&app, &alice, &ws, &guest, "guest").await;
        let secret = create_channel(&app, &alice, &ws, "secret", "private").await;
        // The guest joined `general` by invite; `announce` is public, but guests read only what
        // they were added to.
        let announce = create_channel(&app, &alice, &ws, "announce", "public").await;
        post(&app, &alice, &secret, "classified launch codes").await;
        post(&app, &alice, &announce, "public launch party").await;
        post(&app, &alice, &general, "lunch menu").await;
        let (other_ws, other_general) = workspace(&app, &bob, "Elsewhere").await;
        post(&app, &bob, &other_general, "launch elsewhere").await;

        assert_eq!(sorted(found(&app, &alice, &ws, "launch").await), vec!["classified launch codes", "public launch party"]);
        assert_eq!(found(&app, &bob, &ws, "launch").await, vec!["public launch party"]);
        assert!(found(&app, &guest, &ws, "launch").await.is_empty(), "guests see only channels they were added to");
        assert_eq!(found(&app, &bob, &other_ws, "launch").await, vec!["launch elsewhere"]);
        let (status, _) = app.get(&alice, &format!("/api/v1/workspaces/{other_ws}/search?q=launch")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn edited_away_and_deleted_text_is_never_found(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let message = post(&app, &alice, &general, "original wording").await;
        let (status, _) = app.patch(&alice, &format!("/api/v1/messages/{}", id(&message)), json!({"text": "revised phrasing"})).await;
        assert_eq!(status, StatusCode::OK);
        assert!(found(&app, &alice, &ws, "original").await.is_empty());
        assert_eq!(found(&app, &alice, &ws, "revised").await, vec!["revised phrasing"]);
        app.delete(&alice, &format!("/api/v1/messages/{}", id(&message))).await;
        assert!(found(&app, &alice, &ws, "revised").await.is_empty());
    }

    async fn highlights_escape_html_and_mark_matches(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        post(&app, &alice, &general, "<script>alert('hi')</script> payload & more").await;
        let body = search(&app, &alice, &ws, "payload").await;
        assert_eq!(
            body["results"][0]["highlight"],
            "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; <mark>payload</mark> &amp; more"
        );
        assert_eq!(body["results"][0]["channel_id"], general);
    }

    async fn results_page_without_gaps_or_repeats(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        for i in 0..7 {
            post(&app, &alice, &general, &format!("paged item {i}")).await;
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/workspaces/{ws}/search?q=paged&limit=3&before={c}"),
                None => format!("/api/v1/workspaces/{ws}/search?q=paged&limit=3"),
            };
            let (status, page) = app.get(&alice, &path).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            for r in page["results"].as_array().expect("results") {
                seen.push(r["message"]["id"].as_str().expect("id").to_owned());
            }
            if page["has_more"] != true {
                break;
            }
            cursor = Some(page["next_cursor"].as_str().expect("cursor").to_owned());
        }
        assert_eq!(seen.len(), 7);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 7);
    }

    async fn malformed_queries_are_400s_that_say_why(app: TestApp) {
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        for (q, says) in [("\"unclosed", "quote"), ("has:video", "has:"), ("before:2024-02-30", "YYYY-MM-DD"), ("", "empty")] {
            let (status, body) = app.get(&alice, &format!("/api/v1/workspaces/{ws}/search?q={}", encode(q))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
            assert!(body["error"]["message"].as_str().expect("message").contains(says), "{q}: {body}");
        }
        // Query syntax of the engines underneath is just text here.
        for q in ["a\" OR 1=1 --", "NEAR(a b)", "x* OR y", "'; DROP TABLE messages; --", "%_%"] {
            let (status, body) = app.get(&alice, &format!("/api/v1/workspaces/{ws}/search?q={}", encode(q))).await;
            assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{q}: {status} {body}");
        }
    }
}

/// A new index version (or an upgrade from trigrams) is built from the stored text at start.
mod rebuild {
    use super::*;

    async fn an_index_built_by_older_code_is_rebuilt_at_start(backend: Backend) {
        let mut app = TestApp::spawn(backend).await;
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        post(&app, &alice, &general, "kubernetes rollout finished").await;
        post(&app, &alice, &general, &format!("see <@{}>", alice.id)).await;
        let url = app.config.messages.database_url.clone();
        let forget = [
            "UPDATE message_search SET words = '', scope = ''",
            "UPDATE search_index SET version = 0",
        ];
        match app.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&url).await.expect("open sqlite");
                for sql in forget {
                    sqlx::query(sql).execute(&pool).await.expect("forget the index");
                }
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&url).await.expect("open postgres");
                for sql in forget {
                    sqlx::query(sql).execute(&pool).await.expect("forget the index");
                }
            }
        }
        assert!(found(&app, &alice, &ws, "rollout").await.is_empty());
        app.restart().await;
        assert_eq!(
            found(&app, &alice, &ws, "rollout").await,
            vec!["kubernetes rollout finished"]
        );
        assert_eq!(
            found(&app, &alice, &ws, "bernet in:#general from:@me").await,
            vec!["kubernetes rollout finished"]
        );
        assert_eq!(
            found(&app, &alice, &ws, "mentions:me").await,
            vec![format!("see <@{}>", alice.id)]
        );
    }
    echo_test_support::each_backend!(an_index_built_by_older_code_is_rebuilt_at_start);
}
