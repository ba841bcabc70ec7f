//! The SQL of [`IntegrationStore`](super::store::IntegrationStore), written once for both backends.

macro_rules! impl_integration_store {
    ($store:ty, $enqueue:path) => {
        #[async_trait::async_trait]
        impl $crate::integrations::store::IntegrationStore for $store {
            #[tracing::instrument(skip_all, fields(bot_id = %bot.id))]
            async fn create_bot(
                &self,
                bot: &$crate::integrations::store::BotRow,
                token: &$crate::integrations::store::NewToken,
                events: &[echo_events::Envelope],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO bots (id, workspace_id, user_id, name, avatar_url, scopes, request_url, signing_secret, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(bot.id)
                .bind(bot.workspace_id)
                .bind(bot.user_id)
                .bind(&bot.name)
                .bind(&bot.avatar_url)
                .bind(&bot.scopes)
                .bind(&bot.request_url)
                .bind(&bot.signing_secret)
                .bind(bot.created_by)
                .bind(bot.created_at)
                .execute(&mut *tx)
                .await?;
                Self::insert_token(&mut tx, token).await?;
                Self::add_user(&mut tx, bot.workspace_id, bot.user_id, &bot.name, bot.created_at).await?;
                $enqueue(&mut *tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(bot_id = %id))]
            async fn bot(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::integrations::store::BotRow>> {
                Ok(sqlx::query_as(concat!("SELECT ", $crate::integrations::sql::bot_columns!(), " FROM bots WHERE id = $1 AND revoked_at IS NULL"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn bot_by_user(
                &self,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::integrations::store::BotRow>> {
                Ok(sqlx::query_as(concat!("SELECT ", $crate::integrations::sql::bot_columns!(), " FROM bots WHERE user_id = $1 AND revoked_at IS NULL"))
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn bots(
                &self,
                workspace_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::integrations::store::BotRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::integrations::sql::bot_columns!(), " FROM bots WHERE workspace_id = $1 AND revoked_at IS NULL ORDER BY id"
                ))
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(bot_id = %id))]
            async fn set_request_url(&self, id: uuid::Uuid, url: Option<&str>) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query("UPDATE bots SET request_url = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(url)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(bot_id = %id))]
            async fn revoke_bot(&self, workspace_id: uuid::Uuid, id: uuid::Uuid, now: i64) -> $crate::store::StoreResult<bool> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let done = sqlx::query(
                    "UPDATE bots SET revoked_at = $3 WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(workspace_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE bot_id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE bot_event_deliveries SET status = 'skipped' WHERE bot_id = $1 AND status = 'pending'")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all, fields(user_id = %new.user_id))]
            async fn create_token(&self, new: &$crate::integrations::store::NewToken) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                Self::insert_token(&mut tx, new).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn token_by_hash(
                &self,
                hash: &str,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::integrations::store::TokenRow>> {
                let row: Option<$crate::integrations::store::TokenRow> = sqlx::query_as(concat!(
                    "SELECT ", $crate::integrations::sql::token_columns!(), " FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
                ))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
                // Last use is kept to the minute: one write per token per minute at most.
                if let Some(row) = &row
                    && row.last_used_at.is_none_or(|t| now - t > 60_000)
                {
                    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                        .bind(row.id)
                        .bind(now)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(row)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn tokens_of(
                &self,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::integrations::store::TokenRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::integrations::sql::token_columns!(),
                    " FROM api_tokens WHERE user_id = $1 AND bot_id IS NULL AND revoked_at IS NULL ORDER BY id"
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id, token_id = %id))]
            async fn revoke_token(&self, id: uuid::Uuid, user_id: uuid::Uuid, now: i64) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $3
                     WHERE id = $1 AND user_id = $2 AND bot_id IS NULL AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(user_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(webhook_id = %row.id))]
            async fn create_webhook(
                &self,
                row: &$crate::integrations::store::WebhookRow,
                secret_hash: &str,
                events: &[echo_events::Envelope],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO webhooks (id, secret_hash, workspace_id, channel_id, user_id, name, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(row.id)
                .bind(secret_hash)
                .bind(row.workspace_id)
                .bind(row.channel_id)
                .bind(row.user_id)
                .bind(&row.name)
                .bind(row.created_by)
                .bind(row.created_at)
                .execute(&mut *tx)
                .await?;
                Self::add_user(&mut tx, row.workspace_id, row.user_id, &row.name, row.created_at).await?;
                sqlx::query(
                    "INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(row.channel_id)
                .bind(row.user_id)
                .bind(row.created_at)
                .execute(&mut *tx)
                .await?;
                $enqueue(&mut *tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn webhook_by_secret(
                &self,
                secret_hash: &str,
            ) -> $crate::store::StoreResult<Option<$crate::integrations::store::WebhookRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::integrations::sql::webhook_columns!(), " FROM webhooks WHERE secret_hash = $1 AND revoked_at IS NULL"
                ))
                .bind(secret_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn webhooks(
                &self,
                workspace_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::integrations::store::WebhookRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::integrations::sql::webhook_columns!(), " FROM webhooks WHERE workspace_id = $1 AND revoked_at IS NULL ORDER BY id"
                ))
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(webhook_id = %id))]
            async fn revoke_webhook(&self, workspace_id: uuid::Uuid, id: uuid::Uuid, now: i64) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhooks SET revoked_at = $3 WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(workspace_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(message_id = %message_id))]
            async fn ts_of(
                &self,
                message_id: uuid::Uuid,
                channel_id: uuid::Uuid,
                preferred_micros: i64,
            ) -> $crate::store::StoreResult<String> {
                let mut micros = preferred_micros;
                // Another message of the channel may hold the preferred ts (same microsecond, or
                // an imported one): the next free microsecond is taken. The loop is bounded by
                // the messages sharing that millisecond.
                for _ in 0..10_000 {
                    let existing: Option<String> = sqlx::query_scalar("SELECT ts FROM slack_ts WHERE message_id = $1")
                        .bind(message_id)
                        .fetch_optional(&self.pool)
                        .await?;
                    if let Some(ts) = existing {
                        return Ok(ts);
                    }
                    let ts = $crate::integrations::slack::ts::format(micros);
                    let inserted = sqlx::query(
                        "INSERT INTO slack_ts (message_id, channel_id, ts) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(message_id)
                    .bind(channel_id)
                    .bind(&ts)
                    .execute(&self.pool)
                    .await?;
                    if inserted.rows_affected() == 1 {
                        return Ok(ts);
                    }
                    micros += 1;
                }
                Err(sqlx::Error::Protocol("no free Slack timestamp".into()).into())
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn message_by_ts(&self, channel_id: uuid::Uuid, ts: &str) -> $crate::store::StoreResult<Option<uuid::Uuid>> {
                Ok(sqlx::query_scalar("SELECT message_id FROM slack_ts WHERE channel_id = $1 AND ts = $2")
                    .bind(channel_id)
                    .bind(ts)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn messages_between(
                &self,
                channel_id: uuid::Uuid,
                lo: uuid::Uuid,
                hi: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT id FROM messages WHERE channel_id = $1 AND id >= $2 AND id <= $3 ORDER BY id LIMIT 1000",
                )
                .bind(channel_id)
                .bind(lo)
                .bind(hi)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn user_name(&self, user_id: uuid::Uuid) -> $crate::store::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT display_name FROM user_directory WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn user_email(&self, user_id: uuid::Uuid) -> $crate::store::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT email FROM notification_emails WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn user_by_email(&self, email: &str) -> $crate::store::StoreResult<Option<uuid::Uuid>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM notification_emails WHERE LOWER(email) = LOWER($1) LIMIT 1")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(upload_id = %row.id))]
            async fn create_upload(&self, row: &$crate::integrations::store::UploadRow) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO slack_uploads (id, secret_hash, user_id, name, length, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(row.id)
                .bind(&row.secret_hash)
                .bind(row.user_id)
                .bind(&row.name)
                .bind(row.length)
                .bind(row.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(upload_id = %id))]
            async fn upload(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::integrations::store::UploadRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, secret_hash, user_id, name, length, content_type, size, text_content, created_at, uploaded_at
                     FROM slack_uploads WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(upload_id = %id))]
            async fn finish_upload(
                &self,
                id: uuid::Uuid,
                content_type: &str,
                size: i64,
                text: &str,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE slack_uploads SET content_type = $2, size = $3, text_content = $4, uploaded_at = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(content_type)
                .bind(size)
                .bind(text)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(upload_id = %id))]
            async fn delete_upload(&self, id: uuid::Uuid) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM slack_uploads WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn import_user(&self, workspace_id: uuid::Uuid, slack_key: &str) -> $crate::store::StoreResult<Option<uuid::Uuid>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM slack_import_users WHERE workspace_id = $1 AND slack_key = $2")
                    .bind(workspace_id)
                    .bind(slack_key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, user_id = %user_id))]
            async fn create_import_user(
                &self,
                workspace_id: uuid::Uuid,
                slack_key: &str,
                user_id: uuid::Uuid,
                name: &str,
                now: i64,
                events: &[echo_events::Envelope],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query("INSERT INTO slack_import_users (workspace_id, slack_key, user_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(workspace_id)
                    .bind(slack_key)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Self::add_user(&mut tx, workspace_id, user_id, name, now).await?;
                $enqueue(&mut *tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn channel_by_name(&self, workspace_id: uuid::Uuid, name: &str) -> $crate::store::StoreResult<Option<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT id FROM channels WHERE workspace_id = $1 AND name = $2 AND kind IN ('public', 'private')",
                )
                .bind(workspace_id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn subscribed_bots(
                &self,
                workspace_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::integrations::store::BotRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::integrations::sql::bot_columns!(),
                    " FROM bots WHERE workspace_id = $1 AND revoked_at IS NULL AND request_url IS NOT NULL ORDER BY id"
                ))
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(count = deliveries.len()))]
            async fn enqueue_deliveries(
                &self,
                deliveries: &[$crate::integrations::store::NewDelivery],
                now: i64,
            ) -> $crate::store::StoreResult<usize> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let mut added = 0;
                for d in deliveries {
                    let done = sqlx::query(
                        "INSERT INTO bot_event_deliveries (bot_id, event_id, body, status, attempts, due_at, created_at)
                         VALUES ($1, $2, $3, 'pending', 0, $4, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(d.bot_id)
                    .bind(&d.event_id)
                    .bind(&d.body)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    added += done.rows_affected() as usize;
                }
                tx.commit().await?;
                Ok(added)
            }

            #[tracing::instrument(skip_all)]
            async fn due_deliveries(
                &self,
                now: i64,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::integrations::store::EventJob>> {
                Ok(sqlx::query_as(
                    "SELECT d.bot_id, d.event_id, d.body, d.attempts, b.request_url, b.signing_secret
                     FROM bot_event_deliveries d JOIN bots b ON b.id = d.bot_id
                     WHERE d.status = 'pending' AND d.due_at <= $1
                     ORDER BY d.due_at, d.created_at LIMIT $2",
                )
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(bot_id = %bot_id))]
            async fn claim_delivery(
                &self,
                bot_id: uuid::Uuid,
                event_id: &str,
                now: i64,
                lease_until: i64,
            ) -> $crate::store::StoreResult<bool> {
                let claimed = sqlx::query(
                    "UPDATE bot_event_deliveries SET due_at = $4, attempts = attempts + 1
                     WHERE bot_id = $1 AND event_id = $2 AND status = 'pending' AND due_at <= $3",
                )
                .bind(bot_id)
                .bind(event_id)
                .bind(now)
                .bind(lease_until)
                .execute(&self.pool)
                .await?;
                Ok(claimed.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(bot_id = %bot_id))]
            async fn settle_delivery(
                &self,
                bot_id: uuid::Uuid,
                event_id: &str,
                outcome: &$crate::notifications::delivery_store::Outcome,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                let (status, due_at, error, sent_at) = outcome.columns(now);
                sqlx::query(
                    "UPDATE bot_event_deliveries SET status = $3, due_at = $4, last_error = $5, sent_at = $6
                     WHERE bot_id = $1 AND event_id = $2",
                )
                .bind(bot_id)
                .bind(event_id)
                .bind(status)
                .bind(due_at)
                .bind(error)
                .bind(sent_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(bot_id = %bot_id))]
            async fn delivery_status(
                &self,
                bot_id: uuid::Uuid,
                event_id: &str,
            ) -> $crate::store::StoreResult<Option<(String, i64)>> {
                Ok(sqlx::query_as("SELECT status, attempts FROM bot_event_deliveries WHERE bot_id = $1 AND event_id = $2")
                    .bind(bot_id)
                    .bind(event_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }
        }

        impl $store {
            async fn insert_token(
                tx: &mut sqlx::Transaction<'_, <Self as $crate::integrations::sql::HasDb>::Db>,
                token: &$crate::integrations::store::NewToken,
            ) -> sqlx::Result<()> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, token_hash, hint, user_id, bot_id, workspace_id, name, scopes, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(token.id)
                .bind(&token.token_hash)
                .bind(&token.hint)
                .bind(token.user_id)
                .bind(token.bot_id)
                .bind(token.workspace_id)
                .bind(&token.name)
                .bind(&token.scopes)
                .bind(token.created_at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Makes an integration's user a member of the workspace and gives it its name.
            async fn add_user(
                tx: &mut sqlx::Transaction<'_, <Self as $crate::integrations::sql::HasDb>::Db>,
                workspace_id: uuid::Uuid,
                user_id: uuid::Uuid,
                name: &str,
                now: i64,
            ) -> sqlx::Result<()> {
                sqlx::query(
                    "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(workspace_id)
                .bind(user_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO user_directory (user_id, display_name, name_key) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, name_key = excluded.name_key",
                )
                .bind(user_id)
                .bind(name)
                .bind($crate::search::sql::name_key(name))
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }
    };
}

macro_rules! bot_columns {
    () => {
        "id, workspace_id, user_id, name, avatar_url, scopes, request_url, signing_secret, created_by, created_at"
    };
}

macro_rules! token_columns {
    () => {
        "id, user_id, bot_id, workspace_id, name, scopes, hint, created_at, last_used_at"
    };
}

macro_rules! webhook_columns {
    () => {
        "id, workspace_id, channel_id, user_id, name, created_by, created_at"
    };
}

/// The database type of each store, for the helpers that take a transaction.
pub trait HasDb {
    type Db: sqlx::Database;
}

impl HasDb for super::store::SqliteIntegrations {
    type Db = sqlx::Sqlite;
}

impl HasDb for super::store::PostgresIntegrations {
    type Db = sqlx::Postgres;
}

pub(crate) use {bot_columns, impl_integration_store, token_columns, webhook_columns};
