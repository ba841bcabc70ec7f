//! `echo-server import`: bringing history in from another chat system.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::EchoConfig;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a Slack export (the zip of Slack's "Export data") into a workspace: people matched
    /// by email (placeholders for the others), channels by name, messages with their threads,
    /// reactions and original timestamps. Running it again imports only what is new.
    Slack {
        /// The export's zip file.
        file: PathBuf,
        /// The id of the workspace to import into.
        #[arg(long)]
        workspace: String,
    },
}

pub async fn run(config: &EchoConfig, command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Slack { file, workspace } => {
            let workspace =
                uuid::Uuid::parse_str(workspace.trim()).context("--workspace is not a workspace id")?;
            std::fs::create_dir_all(&config.data_dir).ok();
            let (db, store) = message_service::store::open(&config.messages.database_url)
                .await
                .context("opening the message store")?;
            let integrations = message_service::integrations::store::open(&db);
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} messages ({eta} left)")?
                    .progress_chars("=> "),
            );
            bar.set_message("importing");
            let report = message_service::integrations::import::import_slack(
                store,
                integrations,
                &file,
                workspace,
                |total| bar.set_length(total),
                &|n| bar.inc(n),
            )
            .await;
            bar.finish_and_clear();
            db.close().await;
            let report = report?;
            println!(
                "imported {} messages ({} already there); {} people matched by email, {} placeholders made; {} channels created",
                report.messages_imported,
                report.messages_skipped,
                report.users_matched,
                report.users_created,
                report.channels_created
            );
            println!("their events are published by the running Echo (or at its next start)");
            Ok(())
        }
    }
}
