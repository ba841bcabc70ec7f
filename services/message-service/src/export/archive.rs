//! Writing an export: the async side reads the workspace a page at a time and hands the archive's
//! entries, piece by piece, to a thread that compresses them into the ZIP and writes it out (the
//! zip writer is synchronous). Memory stays at a page of messages or a chunk of a file, whatever
//! the workspace's size; nothing needs to seek, so the output can be a socket.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;
use zip::write::SimpleFileOptions;

use super::store::ExportStore;
use super::{Counts, FORMAT, Manifest, VERSION, WorkspaceRecord, messages_path};
use crate::files::store::{FileStore, content_key};

/// Messages read (and written) at a time.
const PAGE: u32 = 500;

enum Piece {
    /// Starts an entry: its path, whether to compress it, whether it may pass 4 GiB.
    Entry {
        path: String,
        compress: bool,
        large: bool,
    },
    Bytes(Bytes),
    /// Everything was written: the archive may be closed.
    Done,
}

/// Writes the export of `workspace_id` to `out`, telling `progress` how many more messages went
/// in as it goes. `Ok` only when the archive is complete; after an error, what reached `out` is
/// a truncated archive that no ZIP reader takes for a whole one.
pub async fn write<W: Write + Send + 'static>(
    store: &dyn ExportStore,
    files: &FileStore,
    workspace_id: Uuid,
    out: W,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Counts> {
    let (tx, rx) = mpsc::channel(8);
    let zipper = tokio::task::spawn_blocking(move || zip_thread(rx, out));
    let read = pieces(store, files, workspace_id, &tx, progress).await;
    if read.is_ok() {
        // The zip thread has gone only if it failed, which its result says.
        let _ = tx.send(Piece::Done).await;
    }
    drop(tx);
    let zipped = zipper.await.context("the zip thread stopped")?;
    let counts = read?;
    zipped?;
    Ok(counts)
}

async fn pieces(
    store: &dyn ExportStore,
    files: &FileStore,
    workspace_id: Uuid,
    tx: &mpsc::Sender<Piece>,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Counts> {
    let send = |piece: Piece| async move {
        tx.send(piece)
            .await
            .map_err(|_| anyhow::anyhow!("the archive could not be written"))
    };

    let (name, created_at) = store
        .workspace(workspace_id)
        .await?
        .with_context(|| format!("workspace {workspace_id} not found"))?;
    let people = store.people(workspace_id).await?;
    let channels = store.channels(workspace_id).await?;
    let file_list = store.files(workspace_id).await?;
    let counts = Counts {
        people: people.len() as u64,
        channels: channels.len() as u64,
        messages: store.message_count(workspace_id).await?,
        files: file_list.len() as u64,
    };
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        exported_at: echo_domain::time::rfc3339(echo_domain::time::now_ms()),
        workspace: WorkspaceRecord {
            id: workspace_id,
            name,
            created_at: echo_domain::time::rfc3339(created_at),
        },
        counts,
    };
    let documents = [
        ("export.json", serde_json::to_vec_pretty(&manifest)?),
        ("people.json", serde_json::to_vec_pretty(&people)?),
        ("channels.json", serde_json::to_vec_pretty(&channels)?),
        ("files.json", serde_json::to_vec_pretty(&file_list)?),
    ];
    for (path, bytes) in documents {
        send(Piece::Entry {
            path: path.to_owned(),
            compress: true,
            large: false,
        })
        .await?;
        send(Piece::Bytes(bytes.into())).await?;
    }

    for channel in &channels {
        send(Piece::Entry {
            path: messages_path(channel.id),
            compress: true,
            large: true,
        })
        .await?;
        let mut after = None;
        loop {
            let page = store.messages(channel.id, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let mut lines = Vec::with_capacity(page.len() * 256);
            for message in &page {
                serde_json::to_writer(&mut lines, message)?;
                lines.push(b'\n');
            }
            send(Piece::Bytes(lines.into())).await?;
            progress(page.len() as u64);
            if page.len() < PAGE as usize {
                break;
            }
        }
    }

    for file in &file_list {
        let (mut bytes, _) = files
            .stream(&content_key(file.id), None)
            .await
            .with_context(|| format!("reading file {}", file.id))?;
        send(Piece::Entry {
            path: file.path.clone(),
            compress: false,
            large: file.size >= u64::from(u32::MAX),
        })
        .await?;
        while let Some(chunk) = bytes.next().await {
            send(Piece::Bytes(
                chunk.with_context(|| format!("reading file {}", file.id))?,
            ))
            .await?;
        }
    }
    Ok(counts)
}

fn zip_thread<W: Write + Send>(mut rx: mpsc::Receiver<Piece>, out: W) -> anyhow::Result<()> {
    let cut = Arc::new(AtomicBool::new(false));
    let mut zip = zip::ZipWriter::new_stream(Output {
        inner: std::io::BufWriter::with_capacity(64 * 1024, out),
        cut: cut.clone(),
    });
    let mut done = false;
    let written: anyhow::Result<()> = (|| {
        while let Some(piece) = rx.blocking_recv() {
            match piece {
                Piece::Entry {
                    path,
                    compress,
                    large,
                } => {
                    let method = if compress {
                        zip::CompressionMethod::Deflated
                    } else {
                        zip::CompressionMethod::Stored
                    };
                    let options = SimpleFileOptions::default()
                        .compression_method(method)
                        .large_file(large);
                    zip.start_file(path, options)?;
                }
                Piece::Bytes(bytes) => zip.write_all(&bytes)?,
                Piece::Done => {
                    done = true;
                    break;
                }
            }
        }
        Ok(())
    })();
    if written.is_err() || !done {
        // The zip writer closes the archive when dropped; an unfinished export must not end as
        // one that looks whole.
        cut.store(true, Ordering::Relaxed);
        drop(zip);
        return written.and(Err(anyhow::anyhow!("the export stopped before it was complete")));
    }
    let mut output = zip.finish().context("closing the archive")?.into_inner();
    output.inner.flush().context("writing the archive")?;
    Ok(())
}

/// The archive's destination; once cut, it takes and drops whatever else is written.
struct Output<W: Write> {
    inner: std::io::BufWriter<W>,
    cut: Arc<AtomicBool>,
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cut.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.cut.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.inner.flush()
    }
}
