//! Importing a Slack export (the zip of `users.json`, `channels.json`, `groups.json`, `dms.json`,
//! `mpims.json` and one folder of daily JSON files per conversation) into a workspace.
//!
//! People are matched by email to members of the workspace; the others (and bots) become
//! placeholder users of the workspace that cannot sign in, remembered in `slack_import_users`.
//! Channels are matched by name, or created; DMs are opened for their members. Messages keep
//! their Slack `ts` (so links and threads still resolve), their threads, reactions and
//! mentions (`<@U…>` rewritten to the Echo user). Running the same import again changes nothing:
//! a message whose ts is already in its channel is skipped.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use echo_domain::new_id;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::slack::ts;
use super::store::IntegrationStore;
use crate::mentions;
use crate::model::{ChannelKind, Member, Role};
use crate::store::{ChannelPatch, MessageStore, NewChannel, NewDm, NewMessage, Target};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub users_matched: usize,
    pub users_created: usize,
    pub channels_created: usize,
    pub messages_imported: usize,
    pub messages_skipped: usize,
}

#[derive(Debug, Deserialize)]
struct SlackUser {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    profile: Profile,
}

#[derive(Debug, Default, Deserialize)]
struct Profile {
    email: Option<String>,
    real_name: Option<String>,
    display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Conversation {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    creator: Option<String>,
    #[serde(default)]
    is_archived: bool,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    topic: Option<Topic>,
}

#[derive(Debug, Deserialize)]
struct Topic {
    #[serde(default)]
    value: String,
}

#[derive(Debug, Deserialize)]
struct SlackMessage {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    text: String,
    ts: String,
    #[serde(default)]
    thread_ts: Option<String>,
    #[serde(default)]
    reactions: Vec<SlackReaction>,
    #[serde(default)]
    files: Vec<SlackFile>,
}

#[derive(Debug, Deserialize)]
struct SlackReaction {
    name: String,
    #[serde(default)]
    users: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct SlackFile {
    #[serde(default)]
    name: Option<String>,
}

/// Subtypes that are content; the others (joins, topic changes, …) are Slack's own notices.
fn is_content(subtype: Option<&str>) -> bool {
    matches!(
        subtype,
        None | Some("bot_message" | "thread_broadcast" | "file_share" | "me_message")
    )
}

/// The export's files, by path.
struct Export {
    files: BTreeMap<String, Vec<u8>>,
}

impl Export {
    fn open(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut zip = zip::ZipArchive::new(file).context("reading the export (is it a Slack export zip?)")?;
        let mut files = BTreeMap::new();
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i)?;
            let name = entry.name()?.trim_start_matches("./").to_owned();
            if !entry.is_file() || !name.ends_with(".json") {
                continue;
            }
            let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading {name}"))?;
            files.insert(name, bytes);
        }
        Ok(Self { files })
    }

    fn list<T: serde::de::DeserializeOwned>(&self, name: &str) -> anyhow::Result<Vec<T>> {
        match self.files.get(name) {
            Some(bytes) => serde_json::from_slice(bytes).with_context(|| format!("reading {name}")),
            None => Ok(Vec::new()),
        }
    }

    /// A conversation's messages, oldest first.
    fn messages(&self, folder: &str) -> anyhow::Result<Vec<SlackMessage>> {
        let prefix = format!("{folder}/");
        let mut out: Vec<SlackMessage> = Vec::new();
        for (name, bytes) in self.files.range(prefix.clone()..) {
            if !name.starts_with(&prefix) {
                break;
            }
            if name[prefix.len()..].contains('/') {
                continue;
            }
            let day: Vec<SlackMessage> =
                serde_json::from_slice(bytes).with_context(|| format!("reading {name}"))?;
            out.extend(day);
        }
        out.retain(|m| ts::parse(&m.ts).is_some());
        out.sort_by_key(|m| ts::parse(&m.ts).unwrap_or(0));
        Ok(out)
    }
}

/// The import's view of the workspace and what it has mapped so far.
struct Importer<'a> {
    store: &'a dyn MessageStore,
    integrations: &'a dyn IntegrationStore,
    workspace_id: Uuid,
    /// Slack user (or `bot:` id) → Echo user.
    users: HashMap<String, Uuid>,
    members: Vec<Uuid>,
    /// The first owner: creator of channels whose creator is unknown.
    owner: Uuid,
    report: Report,
}

impl Importer<'_> {
    async fn placeholder(&mut self, key: &str, name: &str) -> anyhow::Result<Uuid> {
        if let Some(id) = self.users.get(key) {
            return Ok(*id);
        }
        let (user_id, created) = placeholder_user(self.integrations, self.workspace_id, key, name).await?;
        self.users.insert(key.to_owned(), user_id);
        if created {
            self.members.push(user_id);
            self.report.users_created += 1;
        }
        Ok(user_id)
    }

    async fn map_users(&mut self, users: &[SlackUser]) -> anyhow::Result<()> {
        for user in users {
            let email = user.profile.email.as_deref().filter(|e| !e.is_empty());
            if let Some(email) = email
                && let Some(id) = self.integrations.user_by_email(email).await?
                && self.members.contains(&id)
            {
                self.users.insert(user.id.clone(), id);
                self.report.users_matched += 1;
                continue;
            }
            let name = user
                .profile
                .real_name
                .clone()
                .or_else(|| user.real_name.clone())
                .or_else(|| user.profile.display_name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| user.name.clone());
            self.placeholder(&user.id, &name).await?;
        }
        Ok(())
    }

    async fn author(&mut self, m: &SlackMessage) -> anyhow::Result<Uuid> {
        match (&m.user, &m.bot_id) {
            (Some(user), _) => match self.users.get(user) {
                Some(id) => Ok(*id),
                None => {
                    self.placeholder(user, m.username.as_deref().unwrap_or(user))
                        .await
                }
            },
            (None, Some(bot)) => {
                self.placeholder(
                    &format!("bot:{bot}"),
                    m.username.as_deref().unwrap_or("Slack bot"),
                )
                .await
            }
            (None, None) => self.placeholder("unknown", "Slack user").await,
        }
    }

    /// The channel of a public or private Slack channel: the workspace's of that name, or a new one.
    async fn channel(&mut self, c: &Conversation, kind: ChannelKind) -> anyhow::Result<Option<Uuid>> {
        let Some(name) = c.name.as_deref().filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        let channel_id = match self.integrations.channel_by_name(self.workspace_id, name).await? {
            Some(id) => id,
            None => {
                let created_by = c
                    .creator
                    .as_ref()
                    .and_then(|u| self.users.get(u))
                    .copied()
                    .unwrap_or(self.owner);
                let new = NewChannel {
                    id: new_id(),
                    workspace_id: self.workspace_id,
                    name: name.to_owned(),
                    kind,
                    topic: c
                        .topic
                        .as_ref()
                        .map(|t| t.value.chars().take(250).collect())
                        .unwrap_or_default(),
                    created_by,
                    now: echo_domain::time::now_ms(),
                };
                self.report.channels_created += 1;
                self.store.create_channel(&new).await?.id
            }
        };
        for member in &c.members {
            if let Some(user) = self.users.get(member) {
                self.store
                    .join_channel(channel_id, *user, echo_domain::time::now_ms())
                    .await?;
            }
        }
        Ok(Some(channel_id))
    }

    async fn dm(&mut self, c: &Conversation) -> anyhow::Result<Option<Uuid>> {
        let mut member_ids: Vec<Uuid> = c
            .members
            .iter()
            .filter_map(|m| self.users.get(m))
            .copied()
            .collect();
        member_ids.sort();
        member_ids.dedup();
        if member_ids.len() < 2 || member_ids.len() > 9 {
            return Ok(None);
        }
        let new = NewDm {
            id: new_id(),
            workspace_id: self.workspace_id,
            created_by: member_ids[0],
            member_ids,
            now: echo_domain::time::now_ms(),
        };
        Ok(Some(self.store.open_dm(&new).await?.0.id))
    }

    /// Rewrites Slack's references: `<@U…>` to the Echo user, `<#C…|name>` to `#name`.
    fn text(&self, m: &SlackMessage) -> String {
        let mut out = String::with_capacity(m.text.len());
        let mut rest = m.text.as_str();
        while let Some(start) = rest.find('<') {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('>') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let inner = &rest[start + 1..start + end];
            let (target, label) = inner.split_once('|').unwrap_or((inner, ""));
            if let Some(user) = target.strip_prefix('@') {
                match self.users.get(user) {
                    Some(id) => out.push_str(&format!("<@{id}>")),
                    None => out.push_str(&format!("@{}", if label.is_empty() { user } else { label })),
                }
            } else if target.starts_with("#C") || target.starts_with("#G") {
                out.push('#');
                out.push_str(label);
            } else if target.starts_with('!') {
                out.push('@');
                out.push_str(target.trim_start_matches('!'));
            } else {
                out.push_str(&rest[start..=start + end]);
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        let files: Vec<String> = m
            .files
            .iter()
            .filter_map(|f| f.name.clone())
            .map(|n| format!("[file: {n}]"))
            .collect();
        match (out.trim().is_empty(), files.is_empty()) {
            (_, true) => out,
            (true, false) => files.join(" "),
            (false, false) => format!("{out}\n{}", files.join(" ")),
        }
    }

    async fn messages(
        &mut self,
        channel_id: Uuid,
        messages: &[SlackMessage],
        progress: &(dyn Fn(u64) + Sync),
    ) -> anyhow::Result<()> {
        for m in messages {
            progress(1);
            if m.kind != "message" || !is_content(m.subtype.as_deref()) {
                continue;
            }
            let Some(micros) = ts::parse(&m.ts) else { continue };
            let canonical = ts::format(micros);
            if self
                .integrations
                .message_by_ts(channel_id, &canonical)
                .await?
                .is_some()
            {
                self.report.messages_skipped += 1;
                continue;
            }
            let text = self.text(m);
            if text.trim().is_empty() {
                continue;
            }
            let text: String = text.chars().take(echo_domain::MessageText::MAX).collect();
            let Ok(text) =
                echo_domain::MessageText::parse(&text, false).map(echo_domain::MessageText::into_inner)
            else {
                continue;
            };
            let author_id = self.author(m).await?;
            let thread_root_id = match m.thread_ts.as_deref().filter(|t| *t != m.ts) {
                Some(root) => ts::resolve(self.integrations, channel_id, root).await?,
                None => None,
            };
            let millis = micros.div_euclid(1000);
            let id = ts::id_at(millis);
            let members = &self.members;
            let mentions = mentions::parse(&text).retain_users(|u| members.contains(u));
            let new = NewMessage {
                id,
                channel_id,
                workspace_id: self.workspace_id,
                author_id,
                text,
                thread_root_id,
                client_msg_id: None,
                mentions,
                file_ids: Vec::new(),
                now: millis,
            };
            let (message, _) = self.store.post_message(&new).await?;
            self.integrations.ts_of(message.id, channel_id, micros).await?;
            for reaction in &m.reactions {
                let target = Target {
                    workspace_id: self.workspace_id,
                    channel_id,
                    message_id: message.id,
                };
                for user in &reaction.users {
                    if let Some(user_id) = self.users.get(user) {
                        self.store
                            .set_reaction(&target, reaction.name.trim_matches(':'), *user_id, true, millis)
                            .await?;
                    }
                }
            }
            self.report.messages_imported += 1;
        }
        Ok(())
    }
}

/// The user an import made (or makes now) for someone of another system known by `key`: a
/// member of the workspace who cannot sign in, shown under `name`. True if made now.
pub(crate) async fn placeholder_user(
    integrations: &dyn IntegrationStore,
    workspace_id: Uuid,
    key: &str,
    name: &str,
) -> anyhow::Result<(Uuid, bool)> {
    if let Some(id) = integrations.import_user(workspace_id, key).await? {
        return Ok((id, false));
    }
    let user_id = new_id();
    let now = echo_domain::time::now_ms();
    let name = if name.trim().is_empty() {
        "Imported user"
    } else {
        name.trim()
    };
    let name: String = name.chars().take(80).collect();
    let member = Member {
        user_id,
        role: Role::Member,
        joined_at: echo_domain::time::rfc3339(now),
    };
    let events = [
        crate::events::workspace_member("member_joined", workspace_id, &member),
        echo_events::Envelope::new(
            "bot.created",
            crate::events::VERSION,
            crate::events::PRODUCER,
            json!({"kind": "imported", "bot_id": user_id, "user_id": user_id, "workspace_id": workspace_id,
                   "name": name, "avatar_url": ""}),
        ),
    ];
    integrations
        .create_import_user(workspace_id, key, user_id, &name, now, &events)
        .await?;
    Ok((user_id, true))
}

/// Imports a Slack export into a workspace. `start` is told how many messages the export holds,
/// then `progress` how many more were looked at, as the import goes.
pub async fn import_slack(
    store: Arc<dyn MessageStore>,
    integrations: Arc<dyn IntegrationStore>,
    path: &Path,
    workspace_id: Uuid,
    start: impl FnOnce(u64),
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Report> {
    let export = Export::open(path)?;
    let members = store.members(workspace_id).await?;
    let owner = members
        .iter()
        .find(|m| m.role == Role::Owner)
        .map(|m| m.user_id)
        .with_context(|| format!("workspace {workspace_id} not found"))?;
    let mut importer = Importer {
        store: store.as_ref(),
        integrations: integrations.as_ref(),
        workspace_id,
        users: HashMap::new(),
        members: members.iter().map(|m| m.user_id).collect(),
        owner,
        report: Report::default(),
    };
    let users: Vec<SlackUser> = export.list("users.json")?;
    importer.map_users(&users).await?;

    let public: Vec<Conversation> = export.list("channels.json")?;
    let private: Vec<Conversation> = export.list("groups.json")?;
    let dms: Vec<Conversation> = export.list("dms.json")?;
    let mpims: Vec<Conversation> = export.list("mpims.json")?;
    let mut plan: Vec<(ChannelKind, &Conversation, Vec<SlackMessage>)> = Vec::new();
    for (kind, list) in [
        (ChannelKind::Public, &public),
        (ChannelKind::Private, &private),
        (ChannelKind::Dm, &dms),
        (ChannelKind::GroupDm, &mpims),
    ] {
        for c in list {
            let folder = if kind == ChannelKind::Dm {
                c.id.as_str()
            } else {
                c.name.as_deref().unwrap_or(&c.id)
            };
            plan.push((kind, c, export.messages(folder)?));
        }
    }
    start(plan.iter().map(|(_, _, m)| m.len() as u64).sum());
    for (kind, c, messages) in &plan {
        let channel = match kind {
            ChannelKind::Public | ChannelKind::Private => importer.channel(c, *kind).await?,
            ChannelKind::Dm | ChannelKind::GroupDm => importer.dm(c).await?,
        };
        let Some(channel_id) = channel else {
            progress(messages.len() as u64);
            continue;
        };
        importer.messages(channel_id, messages, progress).await?;
        if c.is_archived {
            let patch = ChannelPatch {
                name: None,
                topic: None,
                archived: Some(true),
            };
            store.update_channel(channel_id, &patch, owner).await?;
        }
    }
    Ok(importer.report)
}
