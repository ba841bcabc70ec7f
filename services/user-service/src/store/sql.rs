//! The SQL of [`UserStore`](super::UserStore), written once for both backends.

macro_rules! impl_user_store {
    ($store:ty, $db:ty, $enqueue:path) => {
        #[async_trait::async_trait]
        impl $crate::store::UserStore for $store {
            #[tracing::instrument(skip_all, fields(user_id = %user.id))]
            async fn create_user(
                &self,
                user: &$crate::store::NewUser,
                events: &[echo_events::Envelope],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let inserted = sqlx::query(
                    "INSERT INTO users (id, email, password_hash, display_name, is_bot, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(user.id)
                .bind(&user.email)
                .bind(&user.password_hash)
                .bind(&user.display_name)
                .bind(user.is_bot)
                .bind(user.now)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if echo_db::is_unique_violation(&e) => return Err($crate::store::StoreError::EmailTaken),
                    other => other?,
                };
                sqlx::query("INSERT INTO presence (user_id, status, updated_at) VALUES ($1, 'online', $2)")
                    .bind(user.id)
                    .bind(user.now)
                    .execute(&mut *tx)
                    .await?;
                $enqueue(&mut *tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn user(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::store::UserRow>> {
                Ok(sqlx::query_as(concat!("SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(count = ids.len()))]
            async fn users(&self, ids: &[uuid::Uuid]) -> $crate::store::StoreResult<Vec<$crate::store::UserRow>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE id IN ("));
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                Ok(query.build_query_as().fetch_all(&self.pool).await?)
            }

            #[tracing::instrument(skip_all)]
            async fn credentials(&self, email: &str) -> $crate::store::StoreResult<Option<(uuid::Uuid, String)>> {
                Ok(sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND is_bot = FALSE")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %id))]
            async fn update_profile(
                &self,
                id: uuid::Uuid,
                patch: &$crate::store::ProfilePatch,
                now: i64,
                event_of: $crate::store::EventOf<'_>,
            ) -> $crate::store::StoreResult<Option<$crate::store::UserRow>> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let row: Option<$crate::store::UserRow> = sqlx::query_as(concat!(
                    "UPDATE users SET
                        display_name = COALESCE($2, display_name),
                        title = COALESCE($3, title),
                        timezone = COALESCE($4, timezone),
                        status_text = COALESCE($5, status_text),
                        status_emoji = COALESCE($6, status_emoji),
                        avatar_file_id = CASE WHEN $7 THEN $8 ELSE avatar_file_id END,
                        updated_at = $9
                     WHERE id = $1 RETURNING ",
                    $crate::store::sql::user_columns!()
                ))
                .bind(id)
                .bind(&patch.display_name)
                .bind(&patch.title)
                .bind(&patch.timezone)
                .bind(&patch.status_text)
                .bind(&patch.status_emoji)
                .bind(patch.avatar_file_id.is_some())
                .bind(patch.avatar_file_id.flatten())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = &row {
                    $enqueue(&mut *tx, &[event_of(row)]).await?;
                }
                tx.commit().await?;
                Ok(row)
            }

            #[tracing::instrument(skip_all, fields(user_id = %id))]
            async fn preferences(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT preferences FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %id))]
            async fn set_preferences(&self, id: uuid::Uuid, json: &str, now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE users SET preferences = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(json)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(session_id = %session.id))]
            async fn create_session(
                &self,
                session: &$crate::store::NewSession,
                events: &[echo_events::Envelope],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, user_agent, created_at, last_used_at, expires_at)
                     VALUES ($1, $2, $3, $4, $4, $5)",
                )
                .bind(session.id)
                .bind(session.user_id)
                .bind(&session.user_agent)
                .bind(session.now)
                .bind(session.expires_at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)")
                    .bind(&session.refresh_hash)
                    .bind(session.id)
                    .bind(session.now)
                    .execute(&mut *tx)
                    .await?;
                $enqueue(&mut *tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(session_id = %id))]
            async fn session(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::store::SessionRow>> {
                Ok(sqlx::query_as(concat!("SELECT ", $crate::store::sql::session_columns!(), " FROM sessions WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn live_sessions(
                &self,
                user_id: uuid::Uuid,
                now: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::SessionRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::sql::session_columns!(),
                    " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC"
                ))
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn rotate_refresh(
                &self,
                old_hash: &[u8],
                new_hash: &[u8],
                now: i64,
                expires_at: i64,
            ) -> $crate::store::StoreResult<$crate::store::Rotation> {
                use $crate::store::Rotation;
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let found: Option<(uuid::Uuid, Option<i64>)> =
                    sqlx::query_as("SELECT session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1")
                        .bind(old_hash)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some((session_id, rotated_at)) = found else {
                    tx.rollback().await?;
                    return Ok(Rotation::Rejected);
                };
                // Compare-and-set: of two concurrent uses of one token, exactly one rotates it.
                let claimed = rotated_at.is_none()
                    && sqlx::query("UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL")
                        .bind(old_hash)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                        == 1;
                if !claimed {
                    // Reuse of a rotated token: the session dies with it, in this same transaction.
                    let revoked: Option<uuid::Uuid> = sqlx::query_scalar(
                        "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING user_id",
                    )
                    .bind(session_id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(user_id) = revoked {
                        let why = $crate::sign_ins::Revocation::RefreshTokenReused;
                        $enqueue(&mut *tx, &[$crate::sign_ins::session_revoked(user_id, session_id, why)]).await?;
                    }
                    tx.commit().await?;
                    return Ok(Rotation::Reused { session_id });
                }
                let session: Option<$crate::store::SessionRow> =
                    sqlx::query_as(concat!("SELECT ", $crate::store::sql::session_columns!(), " FROM sessions WHERE id = $1"))
                        .bind(session_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(session) = session.filter(|s| s.is_live(now)) else {
                    tx.rollback().await?;
                    return Ok(Rotation::Rejected);
                };
                sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)")
                    .bind(new_hash)
                    .bind(session_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE sessions SET last_used_at = $2, expires_at = $3 WHERE id = $1")
                    .bind(session_id)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Rotation::Rotated($crate::store::SessionRow { last_used_at: now, expires_at, ..session }))
            }

            #[tracing::instrument(skip_all, fields(session_id = %id))]
            async fn revoke_session(
                &self,
                id: uuid::Uuid,
                now: i64,
                events: &[echo_events::Envelope],
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let done = sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let revoked = done.rows_affected() == 1;
                if revoked {
                    $enqueue(&mut *tx, events).await?;
                }
                tx.commit().await?;
                Ok(revoked)
            }

            #[tracing::instrument(skip_all)]
            async fn record(&self, events: &[echo_events::Envelope]) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                $enqueue(&mut *tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn revoked_since(&self, since: i64) -> $crate::store::StoreResult<Vec<(uuid::Uuid, i64)>> {
                Ok(sqlx::query_as("SELECT id, revoked_at FROM sessions WHERE revoked_at >= $1")
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn signing_keys(&self, retired_after: i64) -> $crate::store::StoreResult<Vec<$crate::store::KeyRow>> {
                Ok(sqlx::query_as(
                    "SELECT kid, pkcs8, created_at, retired_at FROM signing_keys
                     WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid DESC",
                )
                .bind(retired_after)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(kid))]
            async fn add_signing_key(&self, kid: &str, pkcs8: &[u8], now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("INSERT INTO signing_keys (kid, pkcs8, created_at) VALUES ($1, $2, $3) ON CONFLICT (kid) DO NOTHING")
                    .bind(kid)
                    .bind(pkcs8)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(keep))]
            async fn retire_signing_keys_except(&self, keep: &str, now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL")
                    .bind(keep)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id, status))]
            async fn set_presence(&self, user_id: uuid::Uuid, status: &str, now: i64) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO presence (user_id, status, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(status)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let connections: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM presence_connections WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let seen = $crate::presence::seen_by_others(status, connections);
                $enqueue(&mut *tx, &[$crate::presence::changed_event(user_id, seen)]).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn open_connection(
                &self,
                connection_id: &str,
                user_id: uuid::Uuid,
                replica: Option<&str>,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let added = sqlx::query(
                    "INSERT INTO presence_connections (connection_id, user_id, opened_at, replica_id) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (connection_id) DO NOTHING",
                )
                .bind(connection_id)
                .bind(user_id)
                .bind(now)
                .bind(replica)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                self.after_connection_change(&mut tx, user_id, added == 1, 1).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn replica_seen(&self, replica: &str, at: i64) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO presence_replicas (replica_id, seen_at) VALUES ($1, $2)
                     ON CONFLICT (replica_id) DO UPDATE SET seen_at = excluded.seen_at
                     WHERE presence_replicas.seen_at < excluded.seen_at",
                )
                .bind(replica)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn close_silent_replicas(&self, timeout_ms: i64, now: i64) -> $crate::store::StoreResult<usize> {
                let silent: Vec<String> = sqlx::query_scalar(
                    "SELECT replica_id FROM presence_replicas
                     WHERE seen_at < (SELECT MAX(seen_at) FROM presence_replicas) - $1",
                )
                .bind(timeout_ms)
                .fetch_all(&self.pool)
                .await?;
                let mut closed = 0;
                for replica in silent {
                    let connections: Vec<String> =
                        sqlx::query_scalar("SELECT connection_id FROM presence_connections WHERE replica_id = $1")
                            .bind(&replica)
                            .fetch_all(&self.pool)
                            .await?;
                    for connection in &connections {
                        $crate::store::UserStore::close_connection(self, connection, now).await?;
                    }
                    closed += connections.len();
                    sqlx::query("DELETE FROM presence_replicas WHERE replica_id = $1").bind(&replica).execute(&self.pool).await?;
                }
                Ok(closed)
            }

            #[tracing::instrument(skip_all)]
            async fn close_connection(&self, connection_id: &str, _now: i64) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let user_id: Option<uuid::Uuid> =
                    sqlx::query_scalar("DELETE FROM presence_connections WHERE connection_id = $1 RETURNING user_id")
                        .bind(connection_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(user_id) = user_id {
                    self.after_connection_change(&mut tx, user_id, true, 0).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(count = ids.len()))]
            async fn presence(&self, ids: &[uuid::Uuid]) -> $crate::store::StoreResult<Vec<(uuid::Uuid, String, i64)>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT p.user_id, p.status, (SELECT COUNT(*) FROM presence_connections c WHERE c.user_id = p.user_id)
                     FROM presence p WHERE p.user_id IN (",
                );
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                Ok(query.build_query_as().fetch_all(&self.pool).await?)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, user_id = %user_id, member))]
            async fn set_workspace_member(
                &self,
                workspace_id: uuid::Uuid,
                user_id: uuid::Uuid,
                member: bool,
            ) -> $crate::store::StoreResult<()> {
                let sql = if member {
                    "INSERT INTO workspace_members (workspace_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                } else {
                    "DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2"
                };
                sqlx::query(sql).bind(workspace_id).bind(user_id).execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn shares_workspace(&self, a: uuid::Uuid, b: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                let shared: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM workspace_members x JOIN workspace_members y ON x.workspace_id = y.workspace_id
                     WHERE x.user_id = $1 AND y.user_id = $2 LIMIT 1",
                )
                .bind(a)
                .bind(b)
                .fetch_optional(&self.pool)
                .await?;
                Ok(shared.is_some())
            }
        }

        impl $store {
            /// After a connection came or went: when the user's count of connections reached
            /// `edge` (1 = first one opened, 0 = last one closed), their presence changed.
            async fn after_connection_change(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                user_id: uuid::Uuid,
                changed: bool,
                edge: i64,
            ) -> $crate::store::StoreResult<()> {
                if !changed {
                    return Ok(());
                }
                let connections: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM presence_connections WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(&mut **tx)
                    .await?;
                if connections != edge {
                    return Ok(());
                }
                let status: Option<String> = sqlx::query_scalar("SELECT status FROM presence WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                let seen = $crate::presence::seen_by_others(status.as_deref().unwrap_or("online"), connections);
                $enqueue(&mut **tx, &[$crate::presence::changed_event(user_id, seen)]).await?;
                Ok(())
            }
        }
    };
}

macro_rules! user_columns {
    () => {
        "id, email, display_name, title, timezone, status_text, status_emoji, avatar_file_id, is_bot, created_at"
    };
}

macro_rules! session_columns {
    () => {
        "id, user_id, user_agent, created_at, last_used_at, expires_at, revoked_at"
    };
}

pub(crate) use {impl_user_store, session_columns, user_columns};
