//! The retrieval-quality evaluation (see `eval/` and `docs/ai-evaluation.md`).

use ai_service::embed::Embedder;
use ai_service::eval;

use crate::helpers::model_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_retrieval_beats_keyword_retrieval_on_the_labelled_set() {
    // Arrange
    let dir = model_dir();

    // Act
    let report = tokio::task::spawn_blocking(move || Embedder::load(&dir, 32).and_then(|e| eval::run(&e)))
        .await
        .expect("evaluation task")
        .expect("evaluation");

    // Assert
    println!("{report:?}");
    assert_eq!((report.messages, report.queries), (200, 40));
    assert!(report.hybrid > report.keyword, "{report:?}");
    assert!(report.semantic > report.keyword, "{report:?}");
}
