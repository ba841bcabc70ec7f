//! `echo-server export`: a workspace's export written to a file, with a progress bar.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::EchoConfig;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The id of the workspace to export.
    #[arg(long)]
    workspace: String,
    /// Where to write the ZIP. Default: echo-export-<workspace>-<date>.zip here.
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
}

pub async fn run(config: &EchoConfig, args: ExportArgs) -> anyhow::Result<()> {
    let workspace =
        uuid::Uuid::parse_str(args.workspace.trim()).context("--workspace is not a workspace id")?;
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from(format!(
            "echo-export-{workspace}-{}.zip",
            chrono::Utc::now().format("%Y-%m-%d")
        ))
    });
    let (db, _) = message_service::store::open(&config.messages.database_url)
        .await
        .context("opening the message store")?;
    let files = message_service::files::store::FileStore::open(&config.messages.files)?;
    let store = message_service::export::store::open(&db);
    let total = store.message_count(workspace).await?;
    // Written beside its destination and renamed when complete: a file at `out` is always whole.
    let partial = out.with_extension("zip.partial");
    let file = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} messages ({eta} left)")?
            .progress_chars("=> "),
    );
    bar.set_message("exporting");
    let written =
        message_service::export::archive::write(store.as_ref(), &files, workspace, file, &|n| bar.inc(n))
            .await;
    bar.finish_and_clear();
    db.close().await;
    let counts = match written {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &out).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "exported {} messages in {} channels, {} people and {} files to {}",
        counts.messages,
        counts.channels,
        counts.people,
        counts.files,
        out.display()
    );
    Ok(())
}
