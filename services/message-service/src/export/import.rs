//! Importing an export (this module's layout) into a workspace, here or on another Echo.
//!
//! People are matched by email to members of the workspace, or are members already (an export
//! of this server); the others become placeholder members who cannot sign in. Channels are
//! matched by name, or created; DMs are opened for their people. Messages and files keep their
//! ids, times, threads, reactions and edit history (replayed in order, so search, notifications
//! and the AI index learn of them like of any other). Running it again adds only what is new.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use echo_domain::{MessageText, new_id};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    ChannelRecord, FORMAT, FileRecord, Manifest, MessageRecord, Person, VERSION, messages_path, parse_time,
};
use crate::files::store::{FileStore, content_key};
use crate::files::{thumbnail, upload};
use crate::integrations::import::placeholder_user;
use crate::integrations::store::IntegrationStore;
use crate::mentions;
use crate::model::{ChannelKind, Role};
use crate::store::{ChannelPatch, FileRow, MessageStore, NewChannel, NewDm, NewFile, NewMessage, Target};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub people_matched: usize,
    pub people_created: usize,
    pub channels_created: usize,
    pub messages_imported: usize,
    /// Already in the workspace (an earlier run).
    pub messages_skipped: usize,
    /// Not valid messages (empty, too long): left out, and said so.
    pub messages_rejected: usize,
    pub files_imported: usize,
}

/// Where an import writes.
pub struct Destination<'a> {
    pub store: &'a dyn MessageStore,
    pub integrations: &'a dyn IntegrationStore,
    pub files: &'a FileStore,
    pub thumbnail_px: u32,
    /// Files larger than this are left out, as an upload of them would be.
    pub max_file_bytes: u64,
    pub workspace_id: Uuid,
}

type Archive = Arc<Mutex<zip::ZipArchive<std::fs::File>>>;

/// Reads one entry whole, on a blocking thread.
async fn read_entry(archive: &Archive, path: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    let (archive, path) = (archive.clone(), path.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut zip = archive
            .lock()
            .map_err(|_| anyhow::anyhow!("the archive reader failed"))?;
        let entry = zip
            .by_name(&path)
            .with_context(|| format!("{path} is missing from the export"))?;
        let mut bytes = Vec::new();
        entry
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {path}"))?;
        if bytes.len() as u64 > limit {
            bail!("{path} is larger than {limit} bytes");
        }
        Ok(bytes)
    })
    .await?
}

async fn read_json<T: serde::de::DeserializeOwned>(archive: &Archive, path: &str) -> anyhow::Result<T> {
    let bytes = read_entry(archive, path, 1 << 30).await?;
    serde_json::from_slice(&bytes).with_context(|| format!("reading {path}"))
}

/// A channel's messages in batches, read on a blocking thread as they are taken.
fn message_batches(
    archive: &Archive,
    channel_id: Uuid,
) -> mpsc::Receiver<anyhow::Result<Vec<MessageRecord>>> {
    let (tx, rx) = mpsc::channel(2);
    let archive = archive.clone();
    tokio::task::spawn_blocking(move || {
        let path = messages_path(channel_id);
        let read = (|| -> anyhow::Result<()> {
            let mut zip = archive
                .lock()
                .map_err(|_| anyhow::anyhow!("the archive reader failed"))?;
            let Ok(entry) = zip.by_name(&path) else {
                return Ok(());
            };
            let mut batch = Vec::new();
            for (n, line) in std::io::BufReader::new(entry).lines().enumerate() {
                let line = line.with_context(|| format!("reading {path}"))?;
                if line.trim().is_empty() {
                    continue;
                }
                batch.push(serde_json::from_str(&line).with_context(|| format!("{path}, line {}", n + 1))?);
                if batch.len() == 500 && tx.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
                    return Ok(());
                }
            }
            if !batch.is_empty() {
                let _ = tx.blocking_send(Ok(batch));
            }
            Ok(())
        })();
        if let Err(e) = read {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// Imports the export at `path` into `target`'s workspace. `start` is told how many messages
/// the export holds, then `progress` how many more were looked at, as the import goes.
pub async fn import_export(
    target: &Destination<'_>,
    path: &Path,
    start: impl FnOnce(u64),
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Report> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let zip = zip::ZipArchive::new(file).context("reading the export (is it an Echo export zip?)")?;
    let archive: Archive = Arc::new(Mutex::new(zip));
    let manifest: Manifest = read_json(&archive, "export.json").await?;
    if manifest.format != FORMAT || manifest.version > VERSION {
        bail!(
            "this is a {} export of version {}; this Echo reads {FORMAT} up to version {VERSION}",
            manifest.format,
            manifest.version
        );
    }
    let people: Vec<Person> = read_json(&archive, "people.json").await?;
    let channels: Vec<ChannelRecord> = read_json(&archive, "channels.json").await?;
    let files: Vec<FileRecord> = read_json(&archive, "files.json").await?;

    check_visibility(target, &channels).await?;
    let members = target.store.members(target.workspace_id).await?;
    let owner = members
        .iter()
        .find(|m| m.role == Role::Owner)
        .map(|m| m.user_id)
        .with_context(|| format!("workspace {} not found", target.workspace_id))?;
    let mut importer = Importer {
        target,
        members: members.iter().map(|m| m.user_id).collect(),
        people: HashMap::new(),
        files: HashMap::new(),
        present: HashSet::new(),
        owner,
        report: Report::default(),
    };
    importer.map_people(&people).await?;
    for file in &files {
        importer.file(&archive, file).await?;
    }
    start(manifest.counts.messages);
    for channel in &channels {
        let Some(channel_id) = importer.channel(channel).await? else {
            continue;
        };
        let mut batches = message_batches(&archive, channel.id);
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            for message in &batch {
                importer.message(channel_id, message).await?;
            }
            progress(batch.len() as u64);
        }
        if channel.archived {
            let patch = ChannelPatch {
                name: None,
                topic: None,
                archived: Some(true),
            };
            target.store.update_channel(channel_id, &patch, owner).await?;
        }
    }
    Ok(importer.report)
}

/// Refuses, before anything is written, an export whose channel would land in a channel of the
/// same name here that is public where it was private (or the reverse): a private channel's
/// history must never become public.
async fn check_visibility(target: &Destination<'_>, channels: &[ChannelRecord]) -> anyhow::Result<()> {
    for channel in channels
        .iter()
        .filter(|c| matches!(c.kind, ChannelKind::Public | ChannelKind::Private))
    {
        let Ok(name) = echo_domain::ChannelName::parse(&channel.name) else {
            continue;
        };
        let Some(id) = target
            .integrations
            .channel_by_name(target.workspace_id, name.as_str())
            .await?
        else {
            continue;
        };
        let here = target.store.channel(id).await?.map(|c| c.kind);
        if here != Some(channel.kind) {
            bail!(
                "#{name} is {} here but {} in the export: rename one of them first",
                here.map_or("another kind of channel", ChannelKind::as_str),
                channel.kind.as_str(),
                name = name.as_str()
            );
        }
    }
    Ok(())
}

struct Importer<'a> {
    target: &'a Destination<'a>,
    /// The workspace's members, placeholders made by this import included.
    members: HashSet<Uuid>,
    /// Person of the export → user here.
    people: HashMap<Uuid, Uuid>,
    /// File of the export → file here.
    files: HashMap<Uuid, Uuid>,
    /// Messages of this workspace known to exist (thread roots for the replies that follow).
    present: HashSet<Uuid>,
    owner: Uuid,
    report: Report,
}

impl Importer<'_> {
    fn user(&self, id: Uuid) -> Option<Uuid> {
        self.people.get(&id).copied()
    }

    async fn map_people(&mut self, people: &[Person]) -> anyhow::Result<()> {
        let integrations = self.target.integrations;
        for person in people {
            let by_email = match person.email.as_deref().filter(|e| !e.is_empty()) {
                Some(email) => integrations
                    .user_by_email(email)
                    .await?
                    .filter(|id| self.members.contains(id)),
                None => None,
            };
            let here = by_email.or(Some(person.id).filter(|id| self.members.contains(id)));
            let user_id = match here {
                Some(id) => {
                    self.report.people_matched += 1;
                    id
                }
                None => {
                    let key = format!("echo:{}", person.id);
                    let (id, created) =
                        placeholder_user(integrations, self.target.workspace_id, &key, &person.display_name)
                            .await?;
                    if created {
                        self.report.people_created += 1;
                    }
                    self.members.insert(id);
                    id
                }
            };
            self.people.insert(person.id, user_id);
        }
        Ok(())
    }

    /// Stores a file's bytes and row, keeping its id; one already here is left as it is.
    async fn file(&mut self, archive: &Archive, file: &FileRecord) -> anyhow::Result<()> {
        let store = self.target.store;
        if let Some(existing) = store.file(file.id).await? {
            if existing.workspace_id != Some(self.target.workspace_id) {
                bail!(
                    "file {} of this export belongs to another workspace of this Echo",
                    file.id
                );
            }
            self.files.insert(file.id, file.id);
            return Ok(());
        }
        let Some(uploader_id) = self.user(file.uploader_id) else {
            return Ok(());
        };
        if file.size > self.target.max_file_bytes {
            tracing::warn!(file_id = %file.id, size = file.size, "a file larger than uploads may be is left out");
            return Ok(());
        }
        let bytes = read_entry(archive, &file.path, self.target.max_file_bytes).await?;
        let content_type = upload::sniff(&bytes[..bytes.len().min(upload::HEAD_BYTES)]);
        let text_content = upload::text_head(&content_type, &bytes);
        let size = bytes.len();
        self.target.files.put(&content_key(file.id), bytes.into()).await?;
        let has_thumbnail = thumbnail::is_raster_image(&content_type)
            && size as u64 <= thumbnail::MAX_SOURCE_BYTES
            && crate::files::store_thumbnail(self.target.files, file.id, self.target.thumbnail_px)
                .await
                .is_ok();
        let row = FileRow {
            id: file.id,
            workspace_id: Some(self.target.workspace_id),
            uploader_id,
            name: upload::sanitize_name(&file.name),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            content_type,
            has_thumbnail,
            purpose: "message".to_owned(),
            created_at: parse_time("files.json created_at", &file.created_at)?,
            detached_at: None,
        };
        store.create_file(&NewFile { row, text_content }).await?;
        self.files.insert(file.id, file.id);
        self.report.files_imported += 1;
        Ok(())
    }

    /// The channel here for an exported one: the workspace's of that name (or a new one), or
    /// the DM of the same people. None for a DM that would have fewer than two.
    async fn channel(&mut self, channel: &ChannelRecord) -> anyhow::Result<Option<Uuid>> {
        let store = self.target.store;
        let ws = self.target.workspace_id;
        let now = echo_domain::time::now_ms();
        let members: Vec<Uuid> = channel.members.iter().filter_map(|m| self.user(*m)).collect();
        let channel_id = match channel.kind {
            ChannelKind::Public | ChannelKind::Private => {
                let name = echo_domain::ChannelName::parse(&channel.name)
                    .with_context(|| format!("channels.json: {:?} is not a channel name", channel.name))?
                    .into_inner();
                match self.target.integrations.channel_by_name(ws, &name).await? {
                    Some(id) => id,
                    None => {
                        let new = NewChannel {
                            id: new_id(),
                            workspace_id: ws,
                            name,
                            kind: channel.kind,
                            topic: channel.topic.chars().take(250).collect(),
                            created_by: self.user(channel.created_by).unwrap_or(self.owner),
                            now: parse_time("channels.json created_at", &channel.created_at)?,
                        };
                        self.report.channels_created += 1;
                        store.create_channel(&new).await?.id
                    }
                }
            }
            ChannelKind::Dm | ChannelKind::GroupDm => {
                let mut member_ids = members.clone();
                member_ids.sort();
                member_ids.dedup();
                if member_ids.len() < 2 {
                    return Ok(None);
                }
                let new = NewDm {
                    id: new_id(),
                    workspace_id: ws,
                    created_by: member_ids[0],
                    member_ids,
                    now,
                };
                let (dm, created) = store.open_dm(&new).await?;
                if created {
                    self.report.channels_created += 1;
                }
                dm.id
            }
        };
        for member in members {
            store.join_channel(channel_id, member, now).await?;
        }
        Ok(Some(channel_id))
    }

    async fn message(&mut self, channel_id: Uuid, record: &MessageRecord) -> anyhow::Result<()> {
        let store = self.target.store;
        if let Some((_, ws)) = store.message(record.id).await? {
            if ws != self.target.workspace_id {
                bail!(
                    "message {} of this export belongs to another workspace of this Echo",
                    record.id
                );
            }
            self.present.insert(record.id);
            self.report.messages_skipped += 1;
            return Ok(());
        }
        let Some(author_id) = self.user(record.author_id) else {
            self.report.messages_rejected += 1;
            return Ok(());
        };
        // Every text the message had, oldest first, each with when it was written.
        let mut texts: Vec<(String, i64)> = Vec::with_capacity(record.edits.len() + 1);
        for edit in &record.edits {
            texts.push((
                self.text(&edit.text),
                parse_time("edits written_at", &edit.written_at)?,
            ));
        }
        let created_at = parse_time("messages created_at", &record.created_at)?;
        let edited_at = match &record.edited_at {
            Some(at) => parse_time("messages edited_at", at)?,
            None => created_at,
        };
        if record.deleted {
            // The tombstone's text is gone; a stand-in is posted and deleted at once.
            texts = vec![("(deleted)".to_owned(), created_at)];
        } else {
            texts.push((self.text(&record.text), edited_at));
        }
        if texts
            .iter()
            .any(|(text, _)| MessageText::parse(text, false).is_err())
        {
            self.report.messages_rejected += 1;
            return Ok(());
        }
        let members = &self.members;
        let mention = |text: &str| mentions::parse(text).retain_users(|u| members.contains(u));
        let (first, _) = &texts[0];
        let new = NewMessage {
            id: record.id,
            channel_id,
            workspace_id: self.target.workspace_id,
            author_id,
            text: first.clone(),
            thread_root_id: record.thread_root_id.filter(|root| self.present.contains(root)),
            client_msg_id: None,
            mentions: mention(first),
            file_ids: record
                .files
                .iter()
                .filter_map(|f| self.files.get(f))
                .copied()
                .collect(),
            now: created_at,
        };
        store.post_message(&new).await?;
        for (text, at) in &texts[1..] {
            store.edit_message(record.id, text, &mention(text), *at).await?;
        }
        if record.deleted {
            store.delete_message(record.id, created_at, author_id).await?;
        }
        let message = Target {
            workspace_id: self.target.workspace_id,
            channel_id,
            message_id: record.id,
        };
        for reaction in &record.reactions {
            let Ok(emoji) = echo_domain::EmojiName::parse(&reaction.emoji) else {
                continue;
            };
            for user in reaction.users.iter().filter_map(|u| self.user(*u)) {
                store
                    .set_reaction(&message, emoji.as_ref(), user, true, edited_at)
                    .await?;
            }
        }
        self.present.insert(record.id);
        self.report.messages_imported += 1;
        Ok(())
    }

    /// A text of the export with its mentions (`<@id>`) pointing at the people here.
    fn text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("<@") {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            let mapped = rest
                .get(2..38)
                .filter(|_| rest.as_bytes().get(38) == Some(&b'>'))
                .and_then(|id| Uuid::parse_str(id).ok())
                .and_then(|id| self.user(id));
            match mapped {
                Some(user) => {
                    out.push_str(&format!("<@{user}>"));
                    rest = &rest[39..];
                }
                None => {
                    out.push_str("<@");
                    rest = &rest[2..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}
