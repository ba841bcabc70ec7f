//! `echo-server import`: bringing history in from an Echo export or from another chat system.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use uuid::Uuid;

use crate::config::EchoConfig;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import an Echo export (from `echo-server export` or the web app) into a workspace, here
    /// or on another Echo: people matched by email (placeholders for the others), channels by
    /// name, messages with their threads, reactions, edit history, files and times. Running it
    /// again imports only what is new.
    Echo {
        /// The export's zip file.
        file: PathBuf,
        /// The id of the workspace to import into.
        #[arg(long)]
        workspace: String,
    },
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

fn progress_bar() -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} messages ({eta} left)")?
            .progress_chars("=> "),
    );
    bar.set_message("importing");
    Ok(bar)
}

pub async fn run(config: &EchoConfig, command: ImportCommand) -> anyhow::Result<()> {
    let (ImportCommand::Echo { file, workspace } | ImportCommand::Slack { file, workspace }) = &command;
    let workspace = Uuid::parse_str(workspace.trim()).context("--workspace is not a workspace id")?;
    std::fs::create_dir_all(&config.data_dir).ok();
    let (db, store) = message_service::store::open(&config.messages.database_url)
        .await
        .context("opening the message store")?;
    let integrations = message_service::integrations::store::open(&db);
    let bar = progress_bar()?;
    let summary = match command {
        ImportCommand::Echo { .. } => echo(config, &store, &integrations, file, workspace, &bar).await,
        ImportCommand::Slack { .. } => {
            message_service::integrations::import::import_slack(
                store.clone(),
                integrations.clone(),
                file,
                workspace,
                |total| bar.set_length(total),
                &|n| bar.inc(n),
            )
            .await
            .map(|report| {
                format!(
                    "imported {} messages ({} already there); {} people matched by email, {} placeholders made; {} channels created",
                    report.messages_imported,
                    report.messages_skipped,
                    report.users_matched,
                    report.users_created,
                    report.channels_created
                )
            })
        }
    };
    bar.finish_and_clear();
    db.close().await;
    println!("{}", summary?);
    println!("their events are published by the running Echo (or at its next start)");
    Ok(())
}

async fn echo(
    config: &EchoConfig,
    store: &std::sync::Arc<dyn message_service::store::MessageStore>,
    integrations: &std::sync::Arc<dyn message_service::integrations::store::IntegrationStore>,
    file: &Path,
    workspace_id: Uuid,
    bar: &ProgressBar,
) -> anyhow::Result<String> {
    let files = message_service::files::store::FileStore::open(&config.messages.files)?;
    let destination = message_service::export::import::Destination {
        store: store.as_ref(),
        integrations: integrations.as_ref(),
        files: &files,
        thumbnail_px: config.messages.files.thumbnail_px,
        max_file_bytes: config.messages.files.max_bytes,
        workspace_id,
    };
    let report = message_service::export::import::import_export(
        &destination,
        file,
        |total| bar.set_length(total),
        &|n| bar.inc(n),
    )
    .await?;
    Ok(format!(
        "imported {} messages ({} already there, {} not valid) and {} files; {} people matched, {} placeholders made; {} channels created",
        report.messages_imported,
        report.messages_skipped,
        report.messages_rejected,
        report.files_imported,
        report.people_matched,
        report.people_created,
        report.channels_created
    ))
}
