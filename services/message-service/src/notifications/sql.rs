//! The SQL of [`NotificationStore`](super::store::NotificationStore), written once for both
//! backends (see [`crate::store`] for why the text can be shared).

/// The rows of `notifications` a person may still see: in channels they are a member of, or
/// public channels of a workspace they are a non-guest member of.
macro_rules! visible_notification {
    () => {
        "(EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = n.channel_id AND cm.user_id = n.user_id)
          OR EXISTS (SELECT 1 FROM channels c JOIN workspace_members w ON w.workspace_id = c.workspace_id
                     WHERE c.id = n.channel_id AND c.kind = 'public' AND w.user_id = n.user_id AND w.role <> 'guest'))"
    };
}

macro_rules! impl_notification_store {
    ($store:ty, $db:ty, $conn:ty, $enqueue:path) => {
        use uuid::Uuid;

        use $crate::notifications::Level;
        use $crate::notifications::store::*;
        use $crate::store::StoreResult;

        #[async_trait::async_trait]
        impl NotificationStore for $store {
            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn preferences(&self, user_id: Uuid) -> StoreResult<Option<PreferencesRow>> {
                Ok(sqlx::query_as(
                    "SELECT level, keywords, dnd_until, dnd_start, dnd_end, timezone, email
                     FROM notification_preferences WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn put_preferences(&self, user_id: Uuid, row: &PreferencesRow, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO notification_preferences
                        (user_id, level, keywords, dnd_until, dnd_start, dnd_end, timezone, email, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (user_id) DO UPDATE SET level = excluded.level, keywords = excluded.keywords,
                        dnd_until = excluded.dnd_until, dnd_start = excluded.dnd_start, dnd_end = excluded.dnd_end,
                        timezone = excluded.timezone, email = excluded.email, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(&row.level)
                .bind(&row.keywords)
                .bind(row.dnd_until)
                .bind(row.dnd_start)
                .bind(row.dnd_end)
                .bind(&row.timezone)
                .bind(row.email)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user_id))]
            async fn channel_settings(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<Option<(String, bool)>> {
                Ok(sqlx::query_as("SELECT notify_level, muted FROM channel_members WHERE channel_id = $1 AND user_id = $2")
                    .bind(channel_id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user_id))]
            async fn set_channel_settings(
                &self,
                channel_id: Uuid,
                user_id: Uuid,
                level: Option<Level>,
                muted: Option<bool>,
            ) -> StoreResult<bool> {
                let updated = sqlx::query(
                    "UPDATE channel_members SET notify_level = COALESCE($3, notify_level), muted = COALESCE($4, muted)
                     WHERE channel_id = $1 AND user_id = $2",
                )
                .bind(channel_id)
                .bind(user_id)
                .bind(level.map(Level::as_str))
                .bind(muted)
                .execute(&self.pool)
                .await?;
                Ok(updated.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id, workspace_id = %workspace_id))]
            async fn followed_threads(
                &self,
                user_id: Uuid,
                workspace_id: Uuid,
                unread_only: bool,
                limit: u32,
            ) -> StoreResult<Vec<(Uuid, i64)>> {
                let rows: Vec<(Uuid, i64, Option<Uuid>)> = sqlx::query_as(
                    "SELECT t.root_id, t.unread, t.last_reply_id FROM (
                        SELECT f.root_id,
                           (SELECT COUNT(*) FROM messages r WHERE r.thread_root_id = f.root_id AND r.deleted = FALSE
                              AND r.author_id <> f.user_id AND (f.last_read_id IS NULL OR r.id > f.last_read_id)) AS unread,
                           (SELECT r.id FROM messages r WHERE r.thread_root_id = f.root_id ORDER BY r.id DESC LIMIT 1) AS last_reply_id
                        FROM thread_follows f JOIN messages m ON m.id = f.root_id JOIN channels c ON c.id = m.channel_id
                        WHERE f.user_id = $1 AND f.following AND m.workspace_id = $2
                          AND (EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $1)
                               OR (c.kind = 'public' AND EXISTS (SELECT 1 FROM workspace_members w
                                   WHERE w.workspace_id = c.workspace_id AND w.user_id = $1 AND w.role <> 'guest')))
                     ) t
                     WHERE t.last_reply_id IS NOT NULL AND (NOT $3 OR t.unread > 0)
                     ORDER BY t.last_reply_id DESC LIMIT $4",
                )
                .bind(user_id)
                .bind(workspace_id)
                .bind(unread_only)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(root, unread, _)| (root, unread)).collect())
            }

            #[tracing::instrument(skip_all, fields(root_id = %root_id, user_id = %user_id))]
            async fn following(&self, root_id: Uuid, user_id: Uuid) -> StoreResult<bool> {
                let found: Option<bool> = sqlx::query_scalar("SELECT following FROM thread_follows WHERE root_id = $1 AND user_id = $2")
                    .bind(root_id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(found.unwrap_or(false))
            }

            #[tracing::instrument(skip_all, fields(root_id = %root_id, user_id = %user_id, on))]
            async fn set_following(&self, root_id: Uuid, user_id: Uuid, on: bool) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO thread_follows (root_id, user_id, last_read_id, following) VALUES ($1, $2, NULL, $3)
                     ON CONFLICT (root_id, user_id) DO UPDATE SET following = excluded.following",
                )
                .bind(root_id)
                .bind(user_id)
                .bind(on)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn set_presence(&self, user_id: Uuid, status: &str, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO notification_presence (user_id, status, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(status)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn open_connection(&self, connection_id: &str, user_id: Uuid, now: i64) -> StoreResult<()> {
                sqlx::query("INSERT INTO live_connections (connection_id, user_id, opened_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(connection_id)
                    .bind(user_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn close_connection(&self, connection_id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM live_connections WHERE connection_id = $1").bind(connection_id).execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(message_id = %message_id))]
            async fn decided(&self, message_id: Uuid) -> StoreResult<bool> {
                let found: Option<i64> = sqlx::query_scalar("SELECT decided_at FROM notification_runs WHERE message_id = $1")
                    .bind(message_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(found.is_some())
            }

            #[tracing::instrument(skip_all, fields(message_id = %query.message_id))]
            async fn candidates(&self, query: &CandidateQuery) -> StoreResult<Vec<CandidateRow>> {
                // Members matter for a plain message only through their keywords: skipping the
                // others keeps a message in a large channel cheap, and where nobody watches for
                // keywords the members are not read at all. A deleted message has none.
                Ok(sqlx::query_as(
                    "WITH candidates AS (
                        SELECT cm.user_id FROM channel_members cm WHERE ($4 OR $6) AND cm.channel_id = $1 AND ($4 OR EXISTS (
                            SELECT 1 FROM notification_preferences p WHERE p.user_id = cm.user_id AND p.keywords <> '[]'))
                        UNION SELECT f.user_id FROM thread_follows f WHERE f.root_id = $2 AND f.following
                        UNION SELECT mm.user_id FROM message_mentions mm WHERE mm.message_id = $5
                     )
                     SELECT c.user_id, (cm.user_id IS NOT NULL) AS is_member,
                        COALESCE(cm.notify_level, 'default') AS notify_level, COALESCE(cm.muted, FALSE) AS muted,
                        w.role,
                        EXISTS (SELECT 1 FROM thread_follows f WHERE f.root_id = $2 AND f.user_id = c.user_id AND f.following) AS follows,
                        p.level, p.keywords, p.dnd_until, p.dnd_start, p.dnd_end, p.timezone, p.email,
                        pr.status AS presence,
                        EXISTS (SELECT 1 FROM live_connections l WHERE l.user_id = c.user_id) AS live
                     FROM candidates c
                     LEFT JOIN channel_members cm ON cm.channel_id = $1 AND cm.user_id = c.user_id
                     LEFT JOIN workspace_members w ON w.workspace_id = $3 AND w.user_id = c.user_id
                     LEFT JOIN notification_preferences p ON p.user_id = c.user_id
                     LEFT JOIN notification_presence pr ON pr.user_id = c.user_id
                     WHERE EXISTS (SELECT 1 FROM messages m WHERE m.id = $5 AND m.deleted = FALSE)
                     ORDER BY c.user_id",
                )
                .bind(query.channel_id)
                .bind(query.thread_root_id)
                .bind(query.workspace_id)
                .bind(query.broadcast)
                .bind(query.message_id)
                .bind(query.keyword_watchers)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn keyword_watchers(&self, channel_id: Uuid) -> StoreResult<bool> {
                Ok(sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM channel_members cm JOIN notification_preferences p ON p.user_id = cm.user_id
                                    WHERE cm.channel_id = $1 AND p.keywords <> '[]')",
                )
                .bind(channel_id)
                .fetch_one(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(runs = runs.len()))]
            async fn record(&self, runs: &[Run]) -> StoreResult<Vec<Notification>> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                // The run row is the idempotency key: whoever inserts it decides, once.
                let mut first = std::collections::HashSet::new();
                for chunk in runs.chunks($crate::store::ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new("INSERT INTO notification_runs (message_id, decided_at) ");
                    insert.push_values(chunk, |mut row, run| {
                        row.push_bind(run.message_id).push_bind(run.now);
                    });
                    insert.push(" ON CONFLICT DO NOTHING RETURNING message_id");
                    let inserted: Vec<Uuid> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
                    first.extend(inserted);
                }
                let mut created = Vec::new();
                let mut events = Vec::new();
                for run in runs.iter().filter(|run| first.contains(&run.message_id)) {
                    for decided in &run.decisions {
                        let (user_id, decision) = (&decided.user_id, &decided.decision);
                        let reasons: Vec<&str> = decision.reasons.iter().map(|r| r.as_str()).collect();
                        sqlx::query(
                            "INSERT INTO notification_decisions (message_id, user_id, notified, kind, reasons, via, decided_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                        )
                        .bind(run.message_id)
                        .bind(user_id)
                        .bind(decision.notified)
                        .bind(decision.kind.as_str())
                        .bind(serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into()))
                        .bind(serde_json::to_string(&decided.via()).unwrap_or_else(|_| "[]".into()))
                        .bind(run.now)
                        .execute(&mut *tx)
                        .await?;
                        if !decision.notified {
                            continue;
                        }
                        let id = echo_domain::new_id();
                        let inserted = sqlx::query(
                            "INSERT INTO notifications (id, user_id, message_id, kind, channel_id, workspace_id, created_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                        )
                        .bind(id)
                        .bind(user_id)
                        .bind(run.message_id)
                        .bind(decision.kind.as_str())
                        .bind(run.channel_id)
                        .bind(run.workspace_id)
                        .bind(run.now)
                        .execute(&mut *tx)
                        .await?;
                        if inserted.rows_affected() == 0 {
                            continue;
                        }
                        let notification = NotificationRow {
                            id,
                            message_id: run.message_id,
                            kind: decision.kind.as_str().to_owned(),
                            channel_id: run.channel_id,
                            workspace_id: run.workspace_id,
                            created_at: run.now,
                            read_at: None,
                        }
                        .into_notification();
                        if !decided.live {
                            // Nobody will see the live event: push to the person's browsers instead.
                            sqlx::query(
                                "INSERT INTO notification_deliveries (notification_id, channel, target, user_id, status, attempts, due_at)
                                 SELECT $1, 'web_push', s.id, s.user_id, 'pending', 0, $3 FROM push_subscriptions s WHERE s.user_id = $2
                                 ON CONFLICT DO NOTHING",
                            )
                            .bind(id)
                            .bind(user_id)
                            .bind(run.now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        if let Some(due_at) = decided.email_due_at {
                            sqlx::query(
                                "INSERT INTO notification_deliveries (notification_id, channel, target, user_id, status, attempts, due_at)
                                 VALUES ($1, 'email', $2, $2, 'pending', 0, $3) ON CONFLICT DO NOTHING",
                            )
                            .bind(id)
                            .bind(user_id)
                            .bind(due_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                        events.push(notification_event(*user_id, &notification, run.author_id, &run.preview));
                        created.push(notification);
                    }
                }
                $enqueue(&mut *tx, &events).await?;
                tx.commit().await?;
                Ok(created)
            }

            #[tracing::instrument(skip_all, fields(message_id = %message_id, user_id = %user_id))]
            async fn decision(&self, message_id: Uuid, user_id: Uuid) -> StoreResult<Option<DecisionRow>> {
                Ok(sqlx::query_as(
                    "SELECT notified, kind, reasons, via, decided_at FROM notification_decisions WHERE message_id = $1 AND user_id = $2",
                )
                .bind(message_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn list(&self, user_id: Uuid, unread_only: bool, before: Option<Uuid>, limit: u32) -> StoreResult<(Vec<Notification>, bool)> {
                let mut rows: Vec<NotificationRow> = sqlx::query_as(concat!(
                    "SELECT n.id, n.message_id, n.kind, n.channel_id, n.workspace_id, n.created_at, n.read_at
                     FROM notifications n
                     WHERE n.user_id = $1 AND n.id < $2 AND (NOT $3 OR n.read_at IS NULL) AND ",
                    $crate::notifications::sql::visible_notification!(),
                    " ORDER BY n.id DESC LIMIT $4"
                ))
                .bind(user_id)
                // No cursor is the widest bound, so the (user, id) index is always sought.
                .bind(before.unwrap_or(Uuid::max()))
                .bind(unread_only)
                .bind(i64::from(limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                let has_more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                Ok((rows.into_iter().map(NotificationRow::into_notification).collect(), has_more))
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id, ids = ids.len()))]
            async fn mark_read(&self, user_id: Uuid, ids: &[Uuid], now: i64) -> StoreResult<bool> {
                let mut distinct = ids.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                if distinct.is_empty() {
                    return Ok(true);
                }
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                // Update first (SQLite takes its write lock up front), then check every id was
                // the person's and roll back if one was not.
                let mut update = sqlx::QueryBuilder::<$db>::new("UPDATE notifications SET read_at = COALESCE(read_at, ");
                update.push_bind(now).push(") WHERE user_id = ").push_bind(user_id).push(" AND id IN (");
                let mut list = update.separated(", ");
                for id in &distinct {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                let touched = update.build().execute(&mut *tx).await?;
                if touched.rows_affected() != distinct.len() as u64 {
                    return Ok(false);
                }
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn mark_all_read(&self, user_id: Uuid, now: i64) -> StoreResult<()> {
                sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
                    .bind(user_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use {impl_notification_store, visible_notification};
