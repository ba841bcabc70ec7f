//! The SQL of [`MessageStore`](super::MessageStore), written once for both backends.
//!
//! Write transactions start with a write, so SQLite takes its write lock up front (a deferred
//! transaction that reads first can fail to upgrade under contention) and PostgreSQL locks the
//! rows that decide the outcome before reading them. Rules that span rows (the last owner) lock
//! the workspace row first with a no-op update, which serializes them on both backends.

macro_rules! message_columns {
    () => {
        "m.id, m.channel_id, m.workspace_id, m.author_id, m.text, m.thread_root_id, m.client_msg_id,
         m.mention_channel, m.mention_here, m.created_at, m.edited_at, m.deleted,
         (SELECT COUNT(*) FROM messages r WHERE r.thread_root_id = m.id AND r.deleted = FALSE) AS reply_count"
    };
}

macro_rules! file_columns {
    () => {
        "f.id, f.workspace_id, f.uploader_id, f.name, f.size, f.content_type, f.has_thumbnail, f.purpose, f.created_at, f.detached_at"
    };
}

macro_rules! channel_columns {
    () => {
        "c.id, c.workspace_id, c.name, c.kind, c.topic, c.archived, c.created_by, c.created_at, c.dm_key"
    };
}

macro_rules! impl_message_store {
    ($store:ty, $db:ty, $conn:ty, $dialect:expr, $enqueue:path) => {
        use std::collections::{BTreeSet, HashMap, HashSet};

        use echo_events::Envelope;
        use uuid::Uuid;

        use $crate::events;
        use $crate::mentions::Mentions;
        use $crate::model::{Channel, ChannelKind, ChannelListItem, ChannelMember, FileObject, Member, Message, Pin, Reaction, Role, Version, Workspace};
        use $crate::search::index;
        use $crate::search::query::{SearchQuery, UserRef};
        use $crate::search::sql::{Arg, Dialect, Plan, Resolved};
        use $crate::store::sql::{channel_columns, file_columns, message_columns};
        use $crate::store::*;

        impl $store {
            async fn enqueue(conn: &mut $conn, events: &[Envelope]) -> StoreResult<()> {
                $enqueue(conn, events).await?;
                Ok(())
            }

            async fn load_channel(conn: &mut $conn, id: Uuid) -> StoreResult<Option<Channel>> {
                let row: Option<ChannelRow> = sqlx::query_as(concat!("SELECT ", channel_columns!(), " FROM channels c WHERE c.id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(row.map(Channel::from))
            }

            async fn load_member(conn: &mut $conn, workspace_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>> {
                let row: Option<MemberRow> =
                    sqlx::query_as("SELECT user_id, role, joined_at FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
                        .bind(workspace_id)
                        .bind(user_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                Ok(row.map(Member::from))
            }

            async fn load_workspace(conn: &mut $conn, workspace_id: Uuid, user_id: Uuid) -> StoreResult<Option<Workspace>> {
                let row: Option<WorkspaceRow> = sqlx::query_as(
                    "SELECT w.id, w.name, w.created_at, m.role FROM workspaces w
                     JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = $2 WHERE w.id = $1",
                )
                .bind(workspace_id)
                .bind(user_id)
                .fetch_optional(&mut *conn)
                .await?;
                Ok(row.map(Workspace::from))
            }

            async fn load_message(conn: &mut $conn, id: Uuid) -> StoreResult<Option<(Message, Uuid)>> {
                let row: Option<MessageRow> = sqlx::query_as(concat!("SELECT ", message_columns!(), " FROM messages m WHERE m.id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let workspace_id = row.workspace_id;
                let mut hydrated = Self::hydrate(conn, vec![row]).await?;
                Ok(hydrated.pop().map(|m| (m, workspace_id)))
            }

            /// Attaches reactions and mentions to message rows, keeping their order.
            async fn hydrate(conn: &mut $conn, rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
                let live: Vec<Uuid> = rows.iter().filter(|r| !r.deleted).map(|r| r.id).collect();
                let mut reactions: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
                let mut mentions: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
                let mut files: HashMap<Uuid, Vec<FileObject>> = HashMap::new();
                if !live.is_empty() {
                    let mut query = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT mf.message_id, ", file_columns!(), " FROM message_files mf JOIN files f ON f.id = mf.file_id WHERE mf.message_id IN ("
                    ));
                    let mut list = query.separated(", ");
                    for id in &live {
                        list.push_bind(*id);
                    }
                    list.push_unseparated(") ORDER BY mf.message_id, mf.position");
                    let found: Vec<AttachedFileRow> = query.build_query_as().fetch_all(&mut *conn).await?;
                    for attached in found {
                        files.entry(attached.message_id).or_default().push(attached.file.to_object());
                    }

                    let mut query = sqlx::QueryBuilder::<$db>::new("SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN (");
                    let mut list = query.separated(", ");
                    for id in &live {
                        list.push_bind(*id);
                    }
                    list.push_unseparated(") ORDER BY created_at, user_id");
                    let found: Vec<(Uuid, String, Uuid)> = query.build_query_as().fetch_all(&mut *conn).await?;
                    for (message_id, emoji, user_id) in found {
                        let list = reactions.entry(message_id).or_default();
                        match list.iter_mut().find(|r| r.emoji == emoji) {
                            Some(reaction) => {
                                reaction.count += 1;
                                reaction.user_ids.push(user_id);
                            }
                            None => list.push(Reaction { emoji, count: 1, user_ids: vec![user_id] }),
                        }
                    }

                    let mut query = sqlx::QueryBuilder::<$db>::new("SELECT message_id, user_id FROM message_mentions WHERE message_id IN (");
                    let mut list = query.separated(", ");
                    for id in &live {
                        list.push_bind(*id);
                    }
                    list.push_unseparated(")");
                    let found: Vec<(Uuid, Uuid)> = query.build_query_as().fetch_all(&mut *conn).await?;
                    for (message_id, user_id) in found {
                        mentions.entry(message_id).or_default().push(user_id);
                    }
                }
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let id = row.id;
                        row.into_message(
                            reactions.remove(&id).unwrap_or_default(),
                            mentions.remove(&id).unwrap_or_default(),
                            files.remove(&id).unwrap_or_default(),
                        )
                    })
                    .collect())
            }

            /// What search sees of a message: its text, then its files' names and text heads.
            async fn search_body(conn: &mut $conn, message_id: Uuid, text: &str) -> StoreResult<String> {
                let files: Vec<(String, String)> = sqlx::query_as(
                    "SELECT f.name, f.text_content FROM message_files mf JOIN files f ON f.id = mf.file_id
                     WHERE mf.message_id = $1 ORDER BY mf.position",
                )
                .bind(message_id)
                .fetch_all(&mut *conn)
                .await?;
                let mut body = text.to_owned();
                for (name, content) in files {
                    body.push('\n');
                    body.push_str(&name);
                    if !content.is_empty() {
                        body.push('\n');
                        body.push_str(&content);
                    }
                }
                Ok(body)
            }

            /// Adds words to the vocabulary that partial words are looked up in.
            async fn add_search_terms(conn: &mut $conn, terms: &[String]) -> StoreResult<()> {
                for chunk in terms.chunks(ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new("INSERT INTO search_terms (term) ");
                    insert.push_values(chunk, |mut row, term| {
                        row.push_bind(term);
                    });
                    insert.push(" ON CONFLICT DO NOTHING");
                    insert.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Records who messages mention: (message, user) pairs.
            async fn insert_mentions(conn: &mut $conn, mentions: &[(Uuid, Uuid)]) -> StoreResult<()> {
                for chunk in mentions.chunks(ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new("INSERT INTO message_mentions (message_id, user_id) ");
                    insert.push_values(chunk, |mut row, (message_id, user_id)| {
                        row.push_bind(*message_id).push_bind(*user_id);
                    });
                    insert.push(" ON CONFLICT DO NOTHING");
                    insert.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// The message a resend repeats: the author's first with the same `client_msg_id`.
            async fn first_of_resend(&self, new: &NewMessage) -> StoreResult<Message> {
                let first: Uuid = sqlx::query_scalar("SELECT id FROM messages WHERE author_id = $1 AND client_msg_id = $2")
                    .bind(new.author_id)
                    .bind(&new.client_msg_id)
                    .fetch_one(&self.pool)
                    .await?;
                let (first, _) = self.message(first).await?.ok_or(sqlx::Error::RowNotFound)?;
                Ok(first)
            }

            /// A reply's thread follows: the replier follows it (again, if they had unfollowed it) and
            /// has read it up to the reply; the root's author and the people mentioned follow it from
            /// here on unless they unfollowed it.
            async fn follow_thread(conn: &mut $conn, root_id: Uuid, reply: &NewMessage) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO thread_follows (root_id, user_id, last_read_id) VALUES ($1, $2, $3)
                     ON CONFLICT (root_id, user_id) DO UPDATE SET last_read_id = excluded.last_read_id, following = TRUE",
                )
                .bind(root_id)
                .bind(reply.author_id)
                .bind(reply.id)
                .execute(&mut *conn)
                .await?;
                let root_author: Option<Uuid> = sqlx::query_scalar("SELECT author_id FROM messages WHERE id = $1")
                    .bind(root_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                for user_id in root_author.iter().chain(reply.mentions.user_ids.iter()) {
                    sqlx::query("INSERT INTO thread_follows (root_id, user_id, last_read_id) VALUES ($1, $2, NULL) ON CONFLICT DO NOTHING")
                        .bind(root_id)
                        .bind(user_id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Adds a channel member with the read marker at the newest message.
            async fn add_channel_member(conn: &mut $conn, channel_id: Uuid, user_id: Uuid, now: i64) -> StoreResult<bool> {
                let added = sqlx::query(
                    "INSERT INTO channel_members (channel_id, user_id, joined_at, last_read_id)
                     VALUES ($1, $2, $3, (SELECT id FROM messages WHERE channel_id = $1 AND thread_root_id IS NULL ORDER BY id DESC LIMIT 1))
                     ON CONFLICT DO NOTHING",
                )
                .bind(channel_id)
                .bind(user_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(added.rows_affected() == 1)
            }

            /// Serializes rules that span several rows of one workspace (see the module doc).
            async fn lock_workspace(conn: &mut $conn, workspace_id: Uuid) -> StoreResult<()> {
                sqlx::query("UPDATE workspaces SET name = name WHERE id = $1").bind(workspace_id).execute(&mut *conn).await?;
                Ok(())
            }

            async fn owner_count(conn: &mut $conn, workspace_id: Uuid) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM workspace_members WHERE workspace_id = $1 AND role = 'owner'")
                    .bind(workspace_id)
                    .fetch_one(&mut *conn)
                    .await?)
            }

            /// A page of messages matching `filter` (a condition on `m` with `$1` bound to `key`).
            async fn page(&self, filter: &str, key: Uuid, page: &Page, oldest_first: bool) -> StoreResult<(Vec<Message>, bool)> {
                // Walk away from the cursor: backwards from `before`, forwards from `after`; with no
                // cursor, from the natural start of the listing.
                let ascending = if page.before.is_some() { false } else if page.after.is_some() { true } else { oldest_first };
                let sql = format!(
                    "SELECT {} FROM messages m WHERE {filter} AND m.id < $2 AND m.id > $3
                     ORDER BY m.id {} LIMIT $4",
                    message_columns!(),
                    if ascending { "ASC" } else { "DESC" }
                );
                // Built only from constants of this module: `filter` is one of two literals.
                let mut rows: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(key)
                    // Absent cursors become the widest bounds rather than `$2 IS NULL OR …`, which
                    // would stop the planner from seeking the (channel, id) index: a page deep in a
                    // long channel then scanned every newer message.
                    .bind(page.before.unwrap_or(Uuid::max()))
                    .bind(page.after.unwrap_or(Uuid::nil()))
                    .bind(i64::from(page.limit) + 1)
                    .fetch_all(&self.pool)
                    .await?;
                let has_more = rows.len() > page.limit as usize;
                rows.truncate(page.limit as usize);
                if ascending != oldest_first {
                    rows.reverse();
                }
                let mut conn = self.pool.acquire().await?;
                Ok((Self::hydrate(&mut conn, rows).await?, has_more))
            }
        }

        #[async_trait::async_trait]
        impl MessageStore for $store {
            #[tracing::instrument(skip_all, fields(workspace_id = %new.id))]
            async fn create_workspace(&self, new: &NewWorkspace) -> StoreResult<Workspace> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query("INSERT INTO workspaces (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(new.id)
                    .bind(&new.name)
                    .bind(new.owner_id)
                    .bind(new.now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)")
                    .bind(new.id)
                    .bind(new.owner_id)
                    .bind(new.now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO channels (id, workspace_id, name, kind, topic, created_by, created_at)
                     VALUES ($1, $2, 'general', 'public', '', $3, $4)",
                )
                .bind(new.general_id)
                .bind(new.id)
                .bind(new.owner_id)
                .bind(new.now)
                .execute(&mut *tx)
                .await?;
                Self::add_channel_member(&mut tx, new.general_id, new.owner_id, new.now).await?;
                let workspace = Workspace {
                    id: new.id,
                    name: new.name.clone(),
                    created_at: echo_domain::time::rfc3339(new.now),
                    role: Role::Owner,
                };
                let member = Member { user_id: new.owner_id, role: Role::Owner, joined_at: workspace.created_at.clone() };
                let general = Self::load_channel(&mut tx, new.general_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Self::enqueue(
                    &mut tx,
                    &[
                        events::workspace_created(&workspace),
                        events::workspace_member("member_joined", new.id, &member),
                        events::channel_created(&general),
                        events::channel_member(true, &general, new.owner_id),
                    ],
                )
                .await?;
                tx.commit().await?;
                Ok(workspace)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn workspace(&self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<Option<Workspace>> {
                let mut conn = self.pool.acquire().await?;
                Self::load_workspace(&mut conn, workspace_id, user_id).await
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn workspaces_of(&self, user_id: Uuid) -> StoreResult<Vec<Workspace>> {
                let rows: Vec<WorkspaceRow> = sqlx::query_as(
                    "SELECT w.id, w.name, w.created_at, m.role FROM workspaces w
                     JOIN workspace_members m ON m.workspace_id = w.id WHERE m.user_id = $1 ORDER BY w.id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Workspace::from).collect())
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn member(&self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>> {
                let mut conn = self.pool.acquire().await?;
                Self::load_member(&mut conn, workspace_id, user_id).await
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn members(&self, workspace_id: Uuid) -> StoreResult<Vec<Member>> {
                let rows: Vec<MemberRow> = sqlx::query_as(
                    "SELECT user_id, role, joined_at FROM workspace_members WHERE workspace_id = $1 ORDER BY joined_at, user_id",
                )
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Member::from).collect())
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, user_id = %user_id))]
            async fn set_role(&self, workspace_id: Uuid, user_id: Uuid, role: Role, actor: Uuid) -> StoreResult<Option<Member>> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                Self::lock_workspace(&mut tx, workspace_id).await?;
                let updated = sqlx::query("UPDATE workspace_members SET role = $3 WHERE workspace_id = $1 AND user_id = $2")
                    .bind(workspace_id)
                    .bind(user_id)
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() == 0 {
                    return Ok(None);
                }
                if Self::owner_count(&mut tx, workspace_id).await? == 0 {
                    return Err(StoreError::LastOwner);
                }
                let member = Self::load_member(&mut tx, workspace_id, user_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Self::enqueue(&mut tx, &[events::by(actor, events::workspace_member("member_updated", workspace_id, &member))]).await?;
                tx.commit().await?;
                Ok(Some(member))
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, user_id = %user_id))]
            async fn remove_member(&self, workspace_id: Uuid, user_id: Uuid, actor: Uuid) -> StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                Self::lock_workspace(&mut tx, workspace_id).await?;
                let Some(member) = Self::load_member(&mut tx, workspace_id, user_id).await? else { return Ok(false) };
                let left: Vec<Uuid> = sqlx::query_scalar(
                    "DELETE FROM channel_members WHERE user_id = $2
                     AND channel_id IN (SELECT id FROM channels WHERE workspace_id = $1) RETURNING channel_id",
                )
                .bind(workspace_id)
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
                    .bind(workspace_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                if member.role == Role::Owner && Self::owner_count(&mut tx, workspace_id).await? == 0 {
                    return Err(StoreError::LastOwner);
                }
                let mut out = Vec::with_capacity(left.len() + 1);
                for channel_id in left {
                    if let Some(channel) = Self::load_channel(&mut tx, channel_id).await? {
                        out.push(events::channel_member(false, &channel, user_id));
                    }
                }
                out.push(events::by(actor, events::workspace_member("member_left", workspace_id, &member)));
                Self::enqueue(&mut tx, &out).await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %invite.workspace_id))]
            async fn create_invite(&self, invite: &NewInvite) -> StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO invites (code_hash, code_hint, workspace_id, created_by, created_at, expires_at, max_uses)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&invite.code_hash)
                .bind(&invite.code_hint)
                .bind(invite.workspace_id)
                .bind(invite.created_by)
                .bind(invite.now)
                .bind(invite.expires_at)
                .bind(invite.max_uses)
                .execute(&mut *tx)
                .await?;
                Self::enqueue(&mut tx, &[events::invite_created(invite.workspace_id, &invite.code_hint, invite.created_by)]).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn invite(&self, code_hash: &str) -> StoreResult<Option<InviteRow>> {
                Ok(sqlx::query_as(
                    "SELECT i.code_hash, i.code_hint, i.workspace_id, w.name AS workspace_name, i.created_by, i.created_at,
                            i.expires_at, i.max_uses, i.uses
                     FROM invites i JOIN workspaces w ON w.id = i.workspace_id WHERE i.code_hash = $1",
                )
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn accept_invite(&self, code_hash: &str, user_id: Uuid, now: i64) -> StoreResult<Option<Workspace>> {
                let Some(invite) = self.invite(code_hash).await? else { return Ok(None) };
                if let Some(workspace) = self.workspace(invite.workspace_id, user_id).await? {
                    return Ok(Some(workspace));
                }
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                // Compare-and-set on the use count: concurrent accepts never exceed max_uses.
                let used = sqlx::query(
                    "UPDATE invites SET uses = uses + 1
                     WHERE code_hash = $1 AND expires_at > $2 AND (max_uses IS NULL OR uses < max_uses)",
                )
                .bind(code_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if used.rows_affected() == 0 {
                    return Ok(None);
                }
                let joined = sqlx::query(
                    "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(invite.workspace_id)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if joined.rows_affected() == 0 {
                    // Joined concurrently by another request: keep the use unspent.
                    drop(tx);
                    return self.workspace(invite.workspace_id, user_id).await;
                }
                let general: Option<Uuid> =
                    sqlx::query_scalar("SELECT id FROM channels WHERE workspace_id = $1 AND name = 'general' AND kind = 'public'")
                        .bind(invite.workspace_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let member = Self::load_member(&mut tx, invite.workspace_id, user_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let mut out = vec![events::workspace_member("member_joined", invite.workspace_id, &member)];
                if let Some(general) = general {
                    if Self::add_channel_member(&mut tx, general, user_id, now).await? {
                        if let Some(channel) = Self::load_channel(&mut tx, general).await? {
                            out.push(events::channel_member(true, &channel, user_id));
                        }
                    }
                }
                let workspace = Self::load_workspace(&mut tx, invite.workspace_id, user_id).await?;
                Self::enqueue(&mut tx, &out).await?;
                tx.commit().await?;
                Ok(workspace)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %new.workspace_id, channel_id = %new.id))]
            async fn create_channel(&self, new: &NewChannel) -> StoreResult<Channel> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let inserted = sqlx::query(
                    "INSERT INTO channels (id, workspace_id, name, kind, topic, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new.id)
                .bind(new.workspace_id)
                .bind(&new.name)
                .bind(new.kind.as_str())
                .bind(&new.topic)
                .bind(new.created_by)
                .bind(new.now)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if echo_db::is_unique_violation(&e) => return Err(StoreError::NameTaken),
                    other => other?,
                };
                Self::add_channel_member(&mut tx, new.id, new.created_by, new.now).await?;
                let channel = Self::load_channel(&mut tx, new.id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Self::enqueue(&mut tx, &[events::channel_created(&channel), events::channel_member(true, &channel, new.created_by)])
                    .await?;
                tx.commit().await?;
                Ok(channel)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %new.workspace_id))]
            async fn open_dm(&self, new: &NewDm) -> StoreResult<(Channel, bool)> {
                let key = &new.key();
                let find = || async move {
                    let row: Option<ChannelRow> =
                        sqlx::query_as(concat!("SELECT ", channel_columns!(), " FROM channels c WHERE c.workspace_id = $1 AND c.dm_key = $2"))
                            .bind(new.workspace_id)
                            .bind(&key)
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok::<_, StoreError>(row.map(Channel::from))
                };
                if let Some(existing) = find().await? {
                    return Ok((existing, false));
                }
                let kind = if new.member_ids.len() > 2 { ChannelKind::GroupDm } else { ChannelKind::Dm };
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let inserted = sqlx::query(
                    "INSERT INTO channels (id, workspace_id, name, kind, topic, created_by, created_at, dm_key)
                     VALUES ($1, $2, NULL, $3, '', $4, $5, $6)",
                )
                .bind(new.id)
                .bind(new.workspace_id)
                .bind(kind.as_str())
                .bind(new.created_by)
                .bind(new.now)
                .bind(&key)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if echo_db::is_unique_violation(&e) => {
                        // The same people opened it concurrently: theirs is the one.
                        drop(tx);
                        let existing = find().await?.ok_or(sqlx::Error::RowNotFound)?;
                        return Ok((existing, false));
                    }
                    other => other?,
                };
                for user_id in &new.member_ids {
                    Self::add_channel_member(&mut tx, new.id, *user_id, new.now).await?;
                }
                let channel = Self::load_channel(&mut tx, new.id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let mut out = vec![events::channel_created(&channel)];
                out.extend(new.member_ids.iter().map(|u| events::channel_member(true, &channel, *u)));
                Self::enqueue(&mut tx, &out).await?;
                tx.commit().await?;
                Ok((channel, true))
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn channel(&self, channel_id: Uuid) -> StoreResult<Option<Channel>> {
                let mut conn = self.pool.acquire().await?;
                Self::load_channel(&mut conn, channel_id).await
            }

            #[tracing::instrument(skip_all, fields(count = wanted.len()))]
            async fn channel_standings(&self, wanted: &[(Uuid, Uuid)]) -> StoreResult<Vec<(Uuid, ChannelStanding)>> {
                let mut found = Vec::with_capacity(wanted.len());
                for chunk in wanted.chunks(ROWS_PER_STATEMENT) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT w.column2 AS user_id, ", channel_columns!(), ", wm.role, cm.user_id IS NOT NULL AS is_member FROM ("
                    ));
                    query.push_values(chunk, |mut row, (channel_id, user_id)| {
                        row.push_bind(*channel_id).push_bind(*user_id);
                    });
                    query.push(
                        ") AS w
                         JOIN channels c ON c.id = w.column1
                         JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = w.column2
                         LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = w.column2",
                    );
                    let rows: Vec<UserStandingRow> = query.build_query_as().fetch_all(&self.pool).await?;
                    found.extend(rows.into_iter().map(|row| (row.user_id, ChannelStanding::from(row.standing))));
                }
                Ok(found)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, user_id = %user_id))]
            async fn channel_list(&self, workspace_id: Uuid, user_id: Uuid, include_public: bool) -> StoreResult<Vec<ChannelListItem>> {
                // Unread: channel messages (not replies, not deleted, not one's own) past the marker.
                // Mentions: those of them naming the user or the whole channel; in a DM, all of them.
                let rows: Vec<ChannelListRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    channel_columns!(),
                    ", (cm.user_id IS NOT NULL) AS is_member, cm.last_read_id,
                     CASE WHEN cm.user_id IS NULL THEN 0 ELSE (
                        SELECT COUNT(*) FROM messages m WHERE m.channel_id = c.id AND m.thread_root_id IS NULL
                          AND m.deleted = FALSE AND m.author_id <> $2
                          AND (cm.last_read_id IS NULL OR m.id > cm.last_read_id)) END AS unread_count,
                     CASE WHEN cm.user_id IS NULL THEN 0 ELSE (
                        SELECT COUNT(*) FROM messages m WHERE m.channel_id = c.id AND m.thread_root_id IS NULL
                          AND m.deleted = FALSE AND m.author_id <> $2
                          AND (cm.last_read_id IS NULL OR m.id > cm.last_read_id)
                          AND (c.kind IN ('dm', 'group_dm') OR m.mention_channel OR m.mention_here
                               OR EXISTS (SELECT 1 FROM message_mentions mm WHERE mm.message_id = m.id AND mm.user_id = $2))) END
                       AS mention_count
                     FROM channels c LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $2
                     WHERE c.workspace_id = $1 AND (cm.user_id IS NOT NULL OR (c.kind = 'public' AND $3))
                     ORDER BY c.id"
                ))
                .bind(workspace_id)
                .bind(user_id)
                .bind(include_public)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| ChannelListItem {
                        channel: Channel::from(row.channel),
                        is_member: row.is_member,
                        unread_count: row.unread_count,
                        mention_count: row.mention_count,
                        last_read_message_id: row.last_read_id,
                    })
                    .collect())
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn update_channel(&self, channel_id: Uuid, patch: &ChannelPatch, actor: Uuid) -> StoreResult<Option<Channel>> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let updated = sqlx::query(
                    "UPDATE channels SET name = COALESCE($2, name), topic = COALESCE($3, topic), archived = COALESCE($4, archived)
                     WHERE id = $1",
                )
                .bind(channel_id)
                .bind(&patch.name)
                .bind(&patch.topic)
                .bind(patch.archived)
                .execute(&mut *tx)
                .await;
                let updated = match updated {
                    Err(e) if echo_db::is_unique_violation(&e) => return Err(StoreError::NameTaken),
                    other => other?,
                };
                if updated.rows_affected() == 0 {
                    return Ok(None);
                }
                let channel = Self::load_channel(&mut tx, channel_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Self::enqueue(&mut tx, &[events::by(actor, events::channel_updated(&channel, patch))]).await?;
                tx.commit().await?;
                Ok(Some(channel))
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user_id))]
            async fn join_channel(&self, channel_id: Uuid, user_id: Uuid, now: i64) -> StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                if !Self::add_channel_member(&mut tx, channel_id, user_id, now).await? {
                    return Ok(false);
                }
                let channel = Self::load_channel(&mut tx, channel_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Self::enqueue(&mut tx, &[events::channel_member(true, &channel, user_id)]).await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user_id))]
            async fn leave_channel(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let left = sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
                    .bind(channel_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                if left.rows_affected() == 0 {
                    return Ok(false);
                }
                let channel = Self::load_channel(&mut tx, channel_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Self::enqueue(&mut tx, &[events::channel_member(false, &channel, user_id)]).await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user_id))]
            async fn channel_membership(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<Option<ChannelMembership>> {
                Ok(sqlx::query_as("SELECT joined_at, last_read_id FROM channel_members WHERE channel_id = $1 AND user_id = $2")
                    .bind(channel_id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn channel_members(&self, channel_id: Uuid) -> StoreResult<Vec<ChannelMember>> {
                let rows: Vec<(Uuid, i64)> =
                    sqlx::query_as("SELECT user_id, joined_at FROM channel_members WHERE channel_id = $1 ORDER BY joined_at, user_id")
                        .bind(channel_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(user_id, joined_at)| ChannelMember { user_id, joined_at: echo_domain::time::rfc3339(joined_at) })
                    .collect())
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user_id))]
            async fn mark_read(&self, channel_id: Uuid, user_id: Uuid, message_id: Uuid) -> StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let moved = sqlx::query(
                    "UPDATE channel_members SET last_read_id = $3
                     WHERE channel_id = $1 AND user_id = $2 AND (last_read_id IS NULL OR last_read_id < $3)",
                )
                .bind(channel_id)
                .bind(user_id)
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() == 0 {
                    return Ok(false);
                }
                let workspace_id: Uuid = sqlx::query_scalar("SELECT workspace_id FROM channels WHERE id = $1")
                    .bind(channel_id)
                    .fetch_one(&mut *tx)
                    .await?;
                Self::enqueue(&mut tx, &[events::read_marker_updated(workspace_id, channel_id, message_id, user_id)]).await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(count = batch.len()))]
            async fn post_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<(Message, bool)>> {
                // One transaction for the whole batch, and one multi-row statement per table where
                // the rows allow it: a commit and a statement cost the same for one post or fifty.
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                // A resend is caught by the unique index on (author, client_msg_id) rather than
                // looked up first: resends are rare, and every post would pay for the look-up.
                let mut created: HashSet<Uuid> = HashSet::new();
                for chunk in batch.chunks(ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO messages (id, channel_id, workspace_id, author_id, text, thread_root_id, client_msg_id,
                                               mention_channel, mention_here, created_at) ",
                    );
                    insert.push_values(chunk, |mut row, new| {
                        row.push_bind(new.id)
                            .push_bind(new.channel_id)
                            .push_bind(new.workspace_id)
                            .push_bind(new.author_id)
                            .push_bind(&new.text)
                            .push_bind(new.thread_root_id)
                            .push_bind(&new.client_msg_id)
                            .push_bind(new.mentions.channel)
                            .push_bind(new.mentions.here)
                            .push_bind(new.now);
                    });
                    insert.push(" ON CONFLICT DO NOTHING RETURNING id");
                    let ids: Vec<Uuid> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
                    created.extend(ids);
                }
                let posted: Vec<&NewMessage> = batch.iter().filter(|new| created.contains(&new.id)).collect();

                let mentions: Vec<(Uuid, Uuid)> =
                    posted.iter().flat_map(|new| new.mentions.user_ids.iter().map(|user_id| (new.id, *user_id))).collect();
                Self::insert_mentions(&mut tx, &mentions).await?;
                let files: Vec<(Uuid, Uuid, i32)> = posted
                    .iter()
                    .flat_map(|new| new.file_ids.iter().enumerate().map(|(position, file_id)| (new.id, *file_id, position as i32)))
                    .collect();
                for chunk in files.chunks(ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new("INSERT INTO message_files (message_id, file_id, position) ");
                    insert.push_values(chunk, |mut row, (message_id, file_id, position)| {
                        row.push_bind(*message_id).push_bind(*file_id).push_bind(*position);
                    });
                    insert.push(" ON CONFLICT DO NOTHING");
                    insert.build().execute(&mut *tx).await?;
                }

                let mut search = Vec::with_capacity(posted.len());
                let mut terms = BTreeSet::new();
                for new in &posted {
                    let body = if new.file_ids.is_empty() {
                        new.text.clone()
                    } else {
                        Self::search_body(&mut tx, new.id, &new.text).await?
                    };
                    let entry = index::entry($dialect, &body);
                    let facts = index::Facts {
                        channel_id: new.channel_id,
                        author_id: new.author_id,
                        text: &new.text,
                        has_file: !new.file_ids.is_empty(),
                        mentioned: &new.mentions.user_ids,
                        mentions_everyone: new.mentions.channel || new.mentions.here,
                    };
                    terms.extend(entry.terms);
                    search.push((new.id, body, entry.words, index::scope($dialect, &facts)));
                }
                for chunk in search.chunks(ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new("INSERT INTO message_search (message_id, body, words, scope) ");
                    insert.push_values(chunk, |mut row, (message_id, body, words, scope)| {
                        row.push_bind(*message_id).push_bind(body).push_bind(words).push_bind(scope);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                Self::add_search_terms(&mut tx, &terms.into_iter().collect::<Vec<_>>()).await?;

                let mut out: Vec<Envelope> = Vec::with_capacity(posted.len() + 1);
                let mut messages: HashMap<Uuid, Message> = HashMap::with_capacity(posted.len());
                for new in &posted {
                    if let Some(root_id) = new.thread_root_id {
                        Self::follow_thread(&mut tx, root_id, new).await?;
                    }
                    // Without files everything the message shows is in hand; files are read back for their objects.
                    let message = if new.file_ids.is_empty() {
                        new.posted()
                    } else {
                        Self::load_message(&mut tx, new.id).await?.ok_or(sqlx::Error::RowNotFound)?.0
                    };
                    out.push(events::message_created(new.workspace_id, &message));
                    messages.insert(new.id, message);
                }
                // One's own message is never unread: posting in a channel moves one's marker past it.
                let mut markers: HashMap<(Uuid, Uuid), (Uuid, Uuid)> = HashMap::new();
                for new in posted.iter().filter(|new| new.thread_root_id.is_none()) {
                    let newest = markers.entry((new.channel_id, new.author_id)).or_insert((new.id, new.workspace_id));
                    newest.0 = newest.0.max(new.id);
                }
                let markers: Vec<_> = markers.into_iter().collect();
                for chunk in markers.chunks(ROWS_PER_STATEMENT) {
                    let mut update = sqlx::QueryBuilder::<$db>::new("UPDATE channel_members SET last_read_id = v.column3 FROM (");
                    update.push_values(chunk, |mut row, ((channel_id, user_id), (message_id, _))| {
                        row.push_bind(*channel_id).push_bind(*user_id).push_bind(*message_id);
                    });
                    update.push(
                        ") AS v WHERE channel_members.channel_id = v.column1 AND channel_members.user_id = v.column2
                           AND (channel_members.last_read_id IS NULL OR channel_members.last_read_id < v.column3)
                         RETURNING channel_members.channel_id, channel_members.user_id",
                    );
                    let moved: Vec<(Uuid, Uuid)> = update.build_query_as().fetch_all(&mut *tx).await?;
                    for ((channel_id, user_id), (message_id, workspace_id)) in chunk {
                        if moved.contains(&(*channel_id, *user_id)) {
                            out.push(events::read_marker_updated(*workspace_id, *channel_id, *message_id, *user_id));
                        }
                    }
                }
                Self::enqueue(&mut tx, &out).await?;
                tx.commit().await?;

                let mut results = Vec::with_capacity(batch.len());
                for new in batch {
                    match messages.remove(&new.id) {
                        Some(message) => results.push((message, true)),
                        None => results.push((self.first_of_resend(new).await?, false)),
                    }
                }
                Ok(results)
            }


            #[tracing::instrument(skip_all, fields(message_id = %message_id))]
            async fn message(&self, message_id: Uuid) -> StoreResult<Option<(Message, Uuid)>> {
                let mut conn = self.pool.acquire().await?;
                Self::load_message(&mut conn, message_id).await
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn history(&self, channel_id: Uuid, page: &Page) -> StoreResult<(Vec<Message>, bool)> {
                self.page("m.channel_id = $1 AND m.thread_root_id IS NULL", channel_id, page, false).await
            }

            #[tracing::instrument(skip_all, fields(root_id = %root_id))]
            async fn replies(&self, root_id: Uuid, page: &Page) -> StoreResult<(Vec<Message>, bool)> {
                self.page("m.thread_root_id = $1", root_id, page, true).await
            }

            #[tracing::instrument(skip_all, fields(message_id = %message_id))]
            async fn edit_message(&self, message_id: Uuid, text: &str, mentions: &Mentions, now: i64) -> StoreResult<Option<Message>> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let kept = sqlx::query(
                    "INSERT INTO message_versions (message_id, version, text, written_at)
                     SELECT m.id, (SELECT COUNT(*) FROM message_versions v WHERE v.message_id = m.id), m.text,
                            COALESCE(m.edited_at, m.created_at)
                     FROM messages m WHERE m.id = $1 AND m.deleted = FALSE",
                )
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
                if kept.rows_affected() == 0 {
                    return Ok(None);
                }
                sqlx::query("UPDATE messages SET text = $2, edited_at = $3, mention_channel = $4, mention_here = $5 WHERE id = $1")
                    .bind(message_id)
                    .bind(text)
                    .bind(now)
                    .bind(mentions.channel)
                    .bind(mentions.here)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM message_mentions WHERE message_id = $1").bind(message_id).execute(&mut *tx).await?;
                let pairs: Vec<(Uuid, Uuid)> = mentions.user_ids.iter().map(|user_id| (message_id, *user_id)).collect();
                Self::insert_mentions(&mut tx, &pairs).await?;
                let (message, workspace_id) = Self::load_message(&mut tx, message_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                // The old text leaves the index in the same transaction, so it is never found again.
                let body = Self::search_body(&mut tx, message_id, text).await?;
                let entry = index::entry($dialect, &body);
                sqlx::query("UPDATE message_search SET body = $2, words = $3, scope = $4 WHERE message_id = $1")
                    .bind(message_id)
                    .bind(&body)
                    .bind(&entry.words)
                    .bind(index::scope($dialect, &index::Facts::from(&message)))
                    .execute(&mut *tx)
                    .await?;
                Self::add_search_terms(&mut tx, &entry.terms).await?;
                Self::enqueue(&mut tx, &[events::message_updated(workspace_id, &message)]).await?;
                tx.commit().await?;
                Ok(Some(message))
            }

            #[tracing::instrument(skip_all, fields(message_id = %message_id))]
            async fn versions(&self, message_id: Uuid) -> StoreResult<Vec<Version>> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("SELECT text, written_at FROM message_versions WHERE message_id = $1 ORDER BY version")
                        .bind(message_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(text, at)| Version { text, edited_at: echo_domain::time::rfc3339(at) }).collect())
            }

            #[tracing::instrument(skip_all, fields(message_id = %message_id))]
            async fn delete_message(&self, message_id: Uuid, now: i64, actor: Uuid) -> StoreResult<Option<DeletedMessage>> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                // The text leaves the row and every earlier version, so nothing can find it later.
                let erased = sqlx::query(
                    "UPDATE messages SET text = '', deleted = TRUE, mention_channel = FALSE, mention_here = FALSE, edited_at = $2
                     WHERE id = $1 AND deleted = FALSE",
                )
                .bind(message_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if erased.rows_affected() == 0 {
                    return Ok(None);
                }
                for sql in [
                    "DELETE FROM message_versions WHERE message_id = $1",
                    "DELETE FROM message_mentions WHERE message_id = $1",
                    "DELETE FROM reactions WHERE message_id = $1",
                    "DELETE FROM pins WHERE message_id = $1",
                    "DELETE FROM message_search WHERE message_id = $1",
                ] {
                    sqlx::query(sql).bind(message_id).execute(&mut *tx).await?;
                }
                // A file this message was the last to show is freed with it.
                let attached: Vec<Uuid> = sqlx::query_scalar("DELETE FROM message_files WHERE message_id = $1 RETURNING file_id")
                    .bind(message_id)
                    .fetch_all(&mut *tx)
                    .await?;
                let mut freed_files = Vec::new();
                for file_id in attached {
                    let freed = sqlx::query(
                        "DELETE FROM files WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = $1)",
                    )
                    .bind(file_id)
                    .execute(&mut *tx)
                    .await?;
                    if freed.rows_affected() == 1 {
                        freed_files.push(file_id);
                    }
                }
                let (tombstone, workspace_id) = Self::load_message(&mut tx, message_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Self::enqueue(&mut tx, &[events::by(actor, events::message_deleted(workspace_id, &tombstone))]).await?;
                tx.commit().await?;
                Ok(Some(DeletedMessage { tombstone, freed_files }))
            }

            #[tracing::instrument(skip_all, fields(message_id = %target.message_id, on))]
            async fn set_reaction(&self, target: &Target, emoji: &str, user_id: Uuid, on: bool, now: i64) -> StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let changed = if on {
                    sqlx::query(
                        "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(target.message_id)
                    .bind(emoji)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                } else {
                    sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
                        .bind(target.message_id)
                        .bind(emoji)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?
                };
                if changed.rows_affected() == 0 {
                    return Ok(false);
                }
                let event = events::reaction(on, target.workspace_id, target.channel_id, target.message_id, emoji, user_id);
                Self::enqueue(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(message_id = %target.message_id, on))]
            async fn set_pin(&self, target: &Target, user_id: Uuid, on: bool, now: i64) -> StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let changed = if on {
                    sqlx::query(
                        "INSERT INTO pins (channel_id, message_id, pinned_by, pinned_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(target.channel_id)
                    .bind(target.message_id)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                } else {
                    sqlx::query("DELETE FROM pins WHERE channel_id = $1 AND message_id = $2")
                        .bind(target.channel_id)
                        .bind(target.message_id)
                        .execute(&mut *tx)
                        .await?
                };
                if changed.rows_affected() == 0 {
                    return Ok(false);
                }
                Self::enqueue(&mut tx, &[events::pin(on, target.workspace_id, target.channel_id, target.message_id, user_id)]).await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn pins(&self, channel_id: Uuid) -> StoreResult<Vec<Pin>> {
                let pinned: Vec<(Uuid, Uuid, i64)> = sqlx::query_as(
                    "SELECT message_id, pinned_by, pinned_at FROM pins WHERE channel_id = $1 ORDER BY pinned_at DESC, message_id DESC",
                )
                .bind(channel_id)
                .fetch_all(&self.pool)
                .await?;
                let mut conn = self.pool.acquire().await?;
                let mut out = Vec::with_capacity(pinned.len());
                for (message_id, pinned_by, pinned_at) in pinned {
                    if let Some((message, _)) = Self::load_message(&mut conn, message_id).await? {
                        out.push(Pin { message, pinned_by, pinned_at: echo_domain::time::rfc3339(pinned_at) });
                    }
                }
                Ok(out)
            }

            #[tracing::instrument(skip_all, fields(root_id = %root_id, user_id = %user_id))]
            async fn thread_unread(&self, root_id: Uuid, user_id: Uuid) -> StoreResult<Option<(i64, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT
                        (SELECT COUNT(*) FROM messages r WHERE r.thread_root_id = f.root_id AND r.deleted = FALSE
                           AND r.author_id <> f.user_id AND (f.last_read_id IS NULL OR r.id > f.last_read_id)),
                        (SELECT COUNT(*) FROM messages r JOIN channels c ON c.id = r.channel_id
                          WHERE r.thread_root_id = f.root_id AND r.deleted = FALSE
                           AND r.author_id <> f.user_id AND (f.last_read_id IS NULL OR r.id > f.last_read_id)
                           AND (c.kind IN ('dm', 'group_dm') OR r.mention_channel OR r.mention_here
                                OR EXISTS (SELECT 1 FROM message_mentions mm WHERE mm.message_id = r.id AND mm.user_id = f.user_id)))
                     FROM thread_follows f WHERE f.root_id = $1 AND f.user_id = $2 AND f.following",
                )
                .bind(root_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(root_id = %root_id, user_id = %user_id))]
            async fn mark_thread_read(&self, root_id: Uuid, user_id: Uuid, message_id: Uuid) -> StoreResult<bool> {
                let moved = sqlx::query(
                    "UPDATE thread_follows SET last_read_id = $3
                     WHERE root_id = $1 AND user_id = $2 AND (last_read_id IS NULL OR last_read_id < $3)",
                )
                .bind(root_id)
                .bind(user_id)
                .bind(message_id)
                .execute(&self.pool)
                .await?;
                Ok(moved.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn memberships(&self, user_id: Uuid) -> StoreResult<(Vec<Uuid>, Vec<Uuid>)> {
                let workspaces: Vec<Uuid> = sqlx::query_scalar("SELECT workspace_id FROM workspace_members WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                let channels: Vec<Uuid> = sqlx::query_scalar("SELECT channel_id FROM channel_members WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                Ok((workspaces, channels))
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn channel_member_ids(&self, channel_id: Uuid) -> StoreResult<Vec<Uuid>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM channel_members WHERE channel_id = $1")
                    .bind(channel_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn workspace_member_ids(&self, workspace_id: Uuid) -> StoreResult<Vec<Uuid>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM workspace_members WHERE workspace_id = $1")
                    .bind(workspace_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id, channel_id = %channel_id))]
            async fn can_read_channel(&self, user_id: Uuid, channel_id: Uuid) -> StoreResult<bool> {
                let found: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2
                     UNION ALL
                     SELECT 1 FROM channels c JOIN workspace_members w ON w.workspace_id = c.workspace_id
                     WHERE c.id = $1 AND c.kind = 'public' AND w.user_id = $2 AND w.role <> 'guest'
                     LIMIT 1",
                )
                .bind(channel_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.is_some())
            }

            #[tracing::instrument(skip_all, fields(file_id = %new.row.id))]
            async fn create_file(&self, new: &NewFile) -> StoreResult<()> {
                let row = &new.row;
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO files (id, workspace_id, uploader_id, name, size, content_type, has_thumbnail, purpose,
                                        text_content, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(row.id)
                .bind(row.workspace_id)
                .bind(row.uploader_id)
                .bind(&row.name)
                .bind(row.size)
                .bind(&row.content_type)
                .bind(row.has_thumbnail)
                .bind(&row.purpose)
                .bind(&new.text_content)
                .bind(row.created_at)
                .execute(&mut *tx)
                .await?;
                Self::enqueue(&mut tx, &[events::file_uploaded(&row.to_object())]).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(file_id = %file_id))]
            async fn file(&self, file_id: Uuid) -> StoreResult<Option<FileRow>> {
                Ok(sqlx::query_as(concat!("SELECT ", file_columns!(), " FROM files f WHERE f.id = $1"))
                    .bind(file_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(file_id = %file_id, user_id = %user_id))]
            async fn readable_file(&self, file_id: Uuid, user_id: Uuid) -> StoreResult<Option<FileRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", file_columns!(), " FROM files f WHERE f.id = $1 AND (
                        (f.uploader_id = $2 AND f.detached_at IS NULL)
                        OR (f.purpose = 'avatar' AND EXISTS (
                            SELECT 1 FROM workspace_members a JOIN workspace_members b ON b.workspace_id = a.workspace_id
                            WHERE a.user_id = f.uploader_id AND b.user_id = $2))
                        OR EXISTS (
                            SELECT 1 FROM message_files mf JOIN messages m ON m.id = mf.message_id JOIN channels c ON c.id = m.channel_id
                            WHERE mf.file_id = f.id AND m.deleted = FALSE AND (
                                EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $2)
                                OR (c.kind = 'public' AND EXISTS (
                                    SELECT 1 FROM workspace_members w
                                    WHERE w.workspace_id = c.workspace_id AND w.user_id = $2 AND w.role <> 'guest')))))"
                ))
                .bind(file_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(uploader_id = %uploader_id))]
            async fn files_of(&self, uploader_id: Uuid, workspace_id: Option<Uuid>, limit: u32) -> StoreResult<Vec<FileRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", file_columns!(), " FROM files f
                     WHERE f.uploader_id = $1 AND f.detached_at IS NULL AND ($2 IS NULL OR f.workspace_id = $2)
                     ORDER BY f.id DESC LIMIT $3"
                ))
                .bind(uploader_id)
                .bind(workspace_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(file_id = %file_id))]
            async fn delete_file(&self, file_id: Uuid, uploader_id: Uuid) -> StoreResult<FileDeletion> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let freed = sqlx::query(
                    "DELETE FROM files WHERE id = $1 AND uploader_id = $2 AND detached_at IS NULL
                     AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = $1)",
                )
                .bind(file_id)
                .bind(uploader_id)
                .execute(&mut *tx)
                .await?;
                if freed.rows_affected() == 1 {
                    tx.commit().await?;
                    return Ok(FileDeletion::Freed);
                }
                let detached = sqlx::query(
                    "UPDATE files SET detached_at = $3 WHERE id = $1 AND uploader_id = $2 AND detached_at IS NULL",
                )
                .bind(file_id)
                .bind(uploader_id)
                .bind(echo_domain::time::now_ms())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(if detached.rows_affected() == 1 { FileDeletion::Detached } else { FileDeletion::NotFound })
            }

            fn dialect(&self) -> Dialect {
                $dialect
            }

            #[tracing::instrument(skip_all)]
            async fn resolve_search(&self, workspace_id: Uuid, user_id: Uuid, query: &SearchQuery) -> StoreResult<Resolved> {
                let mut resolved = Resolved::default();
                let infix_sql = match $dialect {
                    Dialect::Sqlite => "SELECT term FROM search_term_trigrams WHERE term LIKE $1 AND term NOT LIKE $2 ORDER BY length(term), term LIMIT $3",
                    Dialect::Postgres => "SELECT term FROM search_terms WHERE term LIKE $1 AND term NOT LIKE $2 ORDER BY length(term), term LIMIT $3",
                };
                for word in $crate::search::sql::infix_lookups(query) {
                    // Words are letters and digits only: nothing in them is a LIKE wildcard.
                    let words: Vec<String> = sqlx::query_scalar(infix_sql)
                        .bind(format!("%{word}%"))
                        .bind(format!("{word}%"))
                        .bind($crate::search::sql::INFIX_WORDS)
                        .fetch_all(&self.pool)
                        .await?;
                    resolved.infixes.insert(word, words);
                }
                if !query.channels.is_empty() {
                    let mut ids = Vec::new();
                    for name in &query.channels {
                        let found: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM channels WHERE workspace_id = $1 AND LOWER(name) = $2")
                            .bind(workspace_id)
                            .bind(name.to_lowercase())
                            .fetch_all(&self.pool)
                            .await?;
                        ids.extend(found);
                    }
                    resolved.channels = Some(ids);
                }
                if !query.from.is_empty() {
                    let mut ids = Vec::new();
                    for user in &query.from {
                        match user {
                            UserRef::Me => ids.push(user_id),
                            UserRef::Id(id) => ids.push(*id),
                            UserRef::Name(name) => {
                                let found: Vec<Uuid> = sqlx::query_scalar("SELECT user_id FROM user_directory WHERE name_key = $1")
                                    .bind($crate::search::sql::name_key(name))
                                    .fetch_all(&self.pool)
                                    .await?;
                                ids.extend(found);
                            }
                        }
                    }
                    resolved.authors = Some(ids);
                }
                Ok(resolved)
            }

            #[tracing::instrument(skip_all)]
            async fn rebuild_search_index(&self) -> StoreResult<u64> {
                let version: i64 = sqlx::query_scalar("SELECT version FROM search_index").fetch_one(&self.pool).await?;
                if version >= index::VERSION {
                    return Ok(0);
                }
                let mut rebuilt = 0u64;
                let mut after = Uuid::nil();
                loop {
                    let rows: Vec<(Uuid, String, Uuid, Uuid, String, bool, bool, bool)> = sqlx::query_as(
                        "SELECT s.message_id, s.body, m.channel_id, m.author_id, m.text, m.mention_channel, m.mention_here,
                                EXISTS (SELECT 1 FROM message_files mf WHERE mf.message_id = m.id)
                         FROM message_search s JOIN messages m ON m.id = s.message_id
                         WHERE s.message_id > $1 ORDER BY s.message_id LIMIT 500",
                    )
                    .bind(after)
                    .fetch_all(&self.pool)
                    .await?;
                    let Some(last) = rows.last() else { break };
                    after = last.0;
                    let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                    for (message_id, body, channel_id, author_id, text, mention_channel, mention_here, has_file) in &rows {
                        let mentioned: Vec<Uuid> = sqlx::query_scalar("SELECT user_id FROM message_mentions WHERE message_id = $1")
                            .bind(message_id)
                            .fetch_all(&mut *tx)
                            .await?;
                        let facts = index::Facts {
                            channel_id: *channel_id,
                            author_id: *author_id,
                            text,
                            has_file: *has_file,
                            mentioned: &mentioned,
                            mentions_everyone: *mention_channel || *mention_here,
                        };
                        let entry = index::entry($dialect, body);
                        // Unless an edit got there first, with an entry of its own.
                        sqlx::query("UPDATE message_search SET words = $2, scope = $3 WHERE message_id = $1 AND body = $4")
                            .bind(message_id)
                            .bind(&entry.words)
                            .bind(index::scope($dialect, &facts))
                            .bind(body)
                            .execute(&mut *tx)
                            .await?;
                        Self::add_search_terms(&mut tx, &entry.terms).await?;
                    }
                    tx.commit().await?;
                    rebuilt += rows.len() as u64;
                    if rebuilt % 50_000 == 0 {
                        tracing::info!(rebuilt, "rebuilding the search index");
                    }
                }
                sqlx::query("UPDATE search_index SET version = $1").bind(index::VERSION).execute(&self.pool).await?;
                Ok(rebuilt)
            }

            #[tracing::instrument(skip_all)]
            async fn search(&self, plan: &Plan) -> StoreResult<Vec<SearchHit>> {
                // The plan's text is built only from constants of the search module; every value
                // from the query is one of `plan.args`. Not a cached prepared statement: PostgreSQL
                // then plans with the values at hand, where a generic plan (its choice after a few
                // runs) cannot tell a rare word from a common one and may walk every message.
                let mut query = sqlx::query_as::<_, (Uuid, f64)>(sqlx::AssertSqlSafe(plan.sql.clone())).persistent(false);
                for arg in &plan.args {
                    query = match arg {
                        Arg::Uuid(v) => query.bind(*v),
                        Arg::Text(v) => query.bind(v.clone()),
                        Arg::Int(v) => query.bind(*v),
                        Arg::Bool(v) => query.bind(*v),
                    };
                }
                let ranked = query.fetch_all(&self.pool).await?;
                if ranked.is_empty() {
                    return Ok(Vec::new());
                }
                let mut conn = self.pool.acquire().await?;
                let mut rows_query = sqlx::QueryBuilder::<$db>::new(concat!(
                    "SELECT ", message_columns!(), ", s.body FROM messages m JOIN message_search s ON s.message_id = m.id WHERE m.id IN ("
                ));
                let mut list = rows_query.separated(", ");
                for (id, _) in &ranked {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                let found: Vec<SearchRow> = rows_query.build_query_as().fetch_all(&mut *conn).await?;
                let mut bodies: HashMap<Uuid, String> = HashMap::new();
                let mut by_id: HashMap<Uuid, MessageRow> = HashMap::new();
                for row in found {
                    bodies.insert(row.message.id, row.body);
                    by_id.insert(row.message.id, row.message);
                }
                let rows: Vec<MessageRow> = ranked.iter().filter_map(|(id, _)| by_id.remove(id)).collect();
                let messages = Self::hydrate(&mut conn, rows).await?;
                Ok(messages
                    .into_iter()
                    .map(|message| {
                        let body = bodies.remove(&message.id).unwrap_or_default();
                        SearchHit { message, body }
                    })
                    .collect())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn upsert_user_name(&self, user_id: Uuid, display_name: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO user_directory (user_id, display_name, name_key) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, name_key = excluded.name_key",
                )
                .bind(user_id)
                .bind(display_name)
                .bind($crate::search::sql::name_key(display_name))
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use {channel_columns, file_columns, impl_message_store, message_columns};
