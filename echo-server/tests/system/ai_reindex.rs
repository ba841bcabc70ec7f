//! `echo-server ai reindex` as a person runs it: against a data directory (SQLite) or the
//! configured PostgreSQL database, whose ai-service store holds messages that arrived without an
//! embedding (the lexical fallback) or with one from another model. Uses the real
//! all-MiniLM-L6-v2 model (run `scripts/fetch-model.sh` first: the test fails, never skips,
//! without it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ai_service::embed::{self, DIM};
use ai_service::store::{self, MessageRow, NewVector};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_echo-server");
const MODEL: &str = "all-MiniLM-L6-v2";

/// The texts seeded; the first two say the same thing in different words.
const TEXTS: [&str; 4] = [
    "the deploy to production failed last night",
    "our release to prod broke overnight",
    "who is bringing cake to the party on friday",
    "lunch menu for the offsite",
];

fn model_dir() -> PathBuf {
    let dir = ai_service::config::default_model_dir();
    assert!(
        embed::model_present(&dir),
        "the embedding model is missing from {}: run scripts/fetch-model.sh (or set ECHO_MODEL_DIR) first",
        dir.display()
    );
    dir
}

/// Messages under the lexical fallback (no vector), one with a vector from another model, and a
/// deleted one; returns the ids of the live messages, in `TEXTS` order.
async fn seed(database_url: &str) -> Vec<Uuid> {
    let db = echo_db::Db::connect(database_url, &ai_service::MIGRATIONS, Default::default())
        .await
        .unwrap();
    let store = store::for_db(&db);
    let (workspace_id, channel_id, author_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let row = |id: Uuid, text: &str| MessageRow {
        id,
        workspace_id,
        channel_id,
        author_id,
        thread_root_id: None,
        text: text.to_owned(),
        created_at: 1_700_000_000_000,
    };
    let ids: Vec<Uuid> = TEXTS.iter().map(|_| Uuid::now_v7()).collect();
    let rows: Vec<MessageRow> = ids.iter().zip(TEXTS).map(|(id, text)| row(*id, text)).collect();
    store.upsert_messages(&rows).await.unwrap();
    let stale = NewVector {
        id: ids[3],
        text: TEXTS[3].to_owned(),
        bytes: embed::to_bytes(&[0.5; DIM]),
    };
    store.set_embeddings(&[stale], "an-older-model").await.unwrap();
    let deleted = Uuid::now_v7();
    store
        .upsert_messages(&[row(deleted, "this one was deleted")])
        .await
        .unwrap();
    store.delete_message(&row(deleted, "")).await.unwrap();
    db.close().await;
    ids
}

/// The stored vectors by message id, with the model that made each.
async fn vectors(database_url: &str) -> Vec<(Uuid, Option<String>, Option<Vec<f32>>)> {
    let db = echo_db::Db::connect(database_url, &ai_service::MIGRATIONS, Default::default())
        .await
        .unwrap();
    let snapshot = store::for_db(&db).snapshot().await.unwrap();
    db.close().await;
    snapshot
        .messages
        .into_iter()
        .map(|m| {
            (
                m.message.id,
                m.vector.embedder,
                m.vector.embedding.as_deref().and_then(embed::from_bytes),
            )
        })
        .collect()
}

fn reindex(args: &[&str], model_dir: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(["ai", "reindex"])
        .args(args)
        .env("ECHO_MODEL_DIR", model_dir)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Every live message now carries a unit vector from the real model, and paraphrases are closer
/// to each other than to unrelated messages.
async fn assert_reindexed(database_url: &str, ids: &[Uuid], output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("re-embedded {} messages with {MODEL}", ids.len())),
        "{stdout}"
    );

    let stored = vectors(database_url).await;
    assert_eq!(stored.len(), ids.len(), "the deleted message stays a tombstone");
    let vector_of = |id: Uuid| {
        let (_, embedder, vector) = stored.iter().find(|(m, ..)| *m == id).unwrap();
        assert_eq!(embedder.as_deref(), Some(MODEL), "message {id}");
        vector
            .clone()
            .unwrap_or_else(|| panic!("message {id} has no {DIM}-float vector"))
    };
    let v: Vec<Vec<f32>> = ids.iter().map(|id| vector_of(*id)).collect();
    for vector in &v {
        assert!((embed::dot(vector, vector) - 1.0).abs() < 1e-3, "unit length");
    }
    assert!(
        v[3].iter().any(|x| (x - 0.5).abs() > 1e-3),
        "the other model's vector was replaced"
    );
    let (paraphrase, unrelated) = (embed::dot(&v[0], &v[1]), embed::dot(&v[0], &v[2]));
    assert!(
        paraphrase > unrelated + 0.2,
        "paraphrase {paraphrase} vs unrelated {unrelated}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_embeds_every_message_of_a_data_dir_with_the_real_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ai.db").display());
    let ids = seed(&url).await;

    let output = reindex(&["--data-dir", data], &model_dir(), &[]);

    assert_reindexed(&url, &ids, &output).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_works_on_the_configured_postgres_database() {
    let stamp = Uuid::new_v4().simple().to_string();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let name = format!("echo_t_{secs}_{}_ai", &stamp[..12]);
    crate::topology::create_databases(std::slice::from_ref(&name)).await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let ids = seed(&url).await;

    let output = reindex(&[], &model_dir(), &[("ECHO_AI__DATABASE_URL", &url)]);

    assert_reindexed(&url, &ids, &output).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_without_the_model_says_to_fetch_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty_model_dir = dir.path().join("no-model");
    let url = format!("sqlite://{}", dir.path().join("ai.db").display());
    seed(&url).await;

    let output = reindex(
        &["--data-dir", dir.path().to_str().unwrap()],
        &empty_model_dir,
        &[],
    );

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("echo-server ai fetch-model"), "{stderr}");
    assert!(
        stderr.contains(empty_model_dir.to_str().unwrap()),
        "says where it looked: {stderr}"
    );
    let embedded = vectors(&url)
        .await
        .into_iter()
        .filter(|(_, by, _)| by.as_deref() == Some(MODEL))
        .count();
    assert_eq!(embedded, 0);
}
