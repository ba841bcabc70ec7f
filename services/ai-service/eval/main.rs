//! `ai-eval`: reports recall@10 of keyword, semantic and hybrid retrieval on the labelled set in
//! this directory, and fails unless hybrid beats keyword. The model comes from the configured
//! directory (`ECHO_MODEL_DIR`, else `~/.cache/echo/models/all-MiniLM-L6-v2`).

use std::process::ExitCode;

use ai_service::config::default_model_dir;
use ai_service::embed::{self, Embedder};
use ai_service::eval;

fn main() -> ExitCode {
    let dir = default_model_dir();
    if !embed::model_present(&dir) {
        eprintln!("no model in {} — run scripts/fetch-model.sh first", dir.display());
        return ExitCode::FAILURE;
    }
    let report = match Embedder::load(&dir, 32).and_then(|e| eval::run(&e)) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("evaluation failed: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{} messages, {} queries, recall@{}:",
        report.messages,
        report.queries,
        eval::K
    );
    println!("  keyword   {:.3}", report.keyword);
    println!("  semantic  {:.3}", report.semantic);
    println!("  hybrid    {:.3}", report.hybrid);
    if report.hybrid <= report.keyword {
        eprintln!("hybrid retrieval does not beat keyword retrieval");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
