//! The SQL of [`DeliveryStore`](super::delivery_store::DeliveryStore), written once for both backends.

macro_rules! impl_delivery_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::notifications::delivery_store::DeliveryStore for $store {
            #[tracing::instrument(skip_all, fields(user_id = %new.user_id))]
            async fn create_subscription(
                &self,
                new: &$crate::notifications::delivery_store::NewSubscription,
            ) -> $crate::store::StoreResult<$crate::notifications::delivery_store::SubscriptionRow> {
                Ok(sqlx::query_as(
                    "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (user_id, endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
                     RETURNING id, endpoint, created_at",
                )
                .bind(new.id)
                .bind(new.user_id)
                .bind(&new.endpoint)
                .bind(&new.p256dh)
                .bind(&new.auth)
                .bind(new.now)
                .fetch_one(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn subscriptions(
                &self,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::notifications::delivery_store::SubscriptionRow>> {
                Ok(sqlx::query_as("SELECT id, endpoint, created_at FROM push_subscriptions WHERE user_id = $1 ORDER BY id")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id, subscription_id = %id))]
            async fn delete_subscription(&self, id: uuid::Uuid, user_id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                let deleted = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(deleted.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn vapid_key(&self, generated: &str, now: i64) -> $crate::store::StoreResult<String> {
                sqlx::query("INSERT INTO vapid_keys (id, pkcs8, created_at) VALUES (1, $1, $2) ON CONFLICT DO NOTHING")
                    .bind(generated)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(sqlx::query_scalar("SELECT pkcs8 FROM vapid_keys WHERE id = 1").fetch_one(&self.pool).await?)
            }

            #[tracing::instrument(skip_all)]
            async fn due_pushes(
                &self,
                now: i64,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::notifications::delivery_store::PushJob>> {
                Ok(sqlx::query_as(
                    "SELECT d.notification_id, d.target, d.user_id, d.attempts, s.endpoint, s.p256dh, s.auth,
                            n.kind, n.message_id, n.channel_id, n.workspace_id, n.created_at, m.author_id, m.text, m.deleted
                     FROM notification_deliveries d
                     JOIN push_subscriptions s ON s.id = d.target
                     JOIN notifications n ON n.id = d.notification_id
                     JOIN messages m ON m.id = n.message_id
                     WHERE d.status = 'pending' AND d.channel = 'web_push' AND d.due_at <= $1
                     ORDER BY d.due_at LIMIT $2",
                )
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(notification_id = %key.notification_id))]
            async fn claim_push(
                &self,
                key: $crate::notifications::delivery_store::DeliveryKey,
                now: i64,
                lease_until: i64,
            ) -> $crate::store::StoreResult<bool> {
                let claimed = sqlx::query(
                    "UPDATE notification_deliveries SET due_at = $4, attempts = attempts + 1
                     WHERE notification_id = $1 AND channel = 'web_push' AND target = $2 AND status = 'pending' AND due_at <= $3",
                )
                .bind(key.notification_id)
                .bind(key.target)
                .bind(now)
                .bind(lease_until)
                .execute(&self.pool)
                .await?;
                Ok(claimed.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all, fields(notification_id = %key.notification_id))]
            async fn settle_push(
                &self,
                key: $crate::notifications::delivery_store::DeliveryKey,
                outcome: &$crate::notifications::delivery_store::Outcome,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                let (status, due_at, error, sent_at) = outcome.columns(now);
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                sqlx::query(
                    "UPDATE notification_deliveries SET status = $3, due_at = $4, last_error = $5, sent_at = $6
                     WHERE notification_id = $1 AND channel = 'web_push' AND target = $2",
                )
                .bind(key.notification_id)
                .bind(key.target)
                .bind(status)
                .bind(due_at)
                .bind(error)
                .bind(sent_at)
                .execute(&mut *tx)
                .await?;
                if status == "gone" {
                    // The browser unsubscribed or the subscription expired: stop pushing to it,
                    // and drop what else was queued for it.
                    sqlx::query(
                        "UPDATE notification_deliveries SET status = 'gone' WHERE channel = 'web_push' AND target = $1 AND status = 'pending'",
                    )
                    .bind(key.target)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(key.target).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn set_email_address(&self, user_id: uuid::Uuid, email: &str, now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO notification_emails (user_id, email, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(email)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn email_address(&self, user_id: uuid::Uuid) -> $crate::store::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT email FROM notification_emails WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn email_secret(&self, generated: &str, now: i64) -> $crate::store::StoreResult<String> {
                sqlx::query("INSERT INTO email_secrets (id, secret, created_at) VALUES (1, $1, $2) ON CONFLICT DO NOTHING")
                    .bind(generated)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(sqlx::query_scalar("SELECT secret FROM email_secrets WHERE id = 1").fetch_one(&self.pool).await?)
            }

            #[tracing::instrument(skip_all)]
            async fn due_email_recipients(&self, now: i64, limit: u32) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT target FROM notification_deliveries WHERE status = 'pending' AND channel = 'email' AND due_at <= $1
                     GROUP BY target ORDER BY MIN(due_at) LIMIT $2",
                )
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn claim_emails(
                &self,
                user_id: uuid::Uuid,
                now: i64,
                lease_until: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::notifications::delivery_store::EmailItem>> {
                // One email for everything pending once anything is due: rows not yet due join it
                // (attempts = 0), but not rows leased to another sender or waiting out a backoff
                // (attempts > 0, due later). The rows claimed are then those due at exactly this
                // lease's end.
                sqlx::query(
                    "UPDATE notification_deliveries SET due_at = $3, attempts = attempts + 1
                     WHERE channel = 'email' AND target = $1 AND status = 'pending' AND (due_at <= $2 OR attempts = 0)",
                )
                .bind(user_id)
                .bind(now)
                .bind(lease_until)
                .execute(&self.pool)
                .await?;
                Ok(sqlx::query_as(concat!(
                    "SELECT n.id AS notification_id, n.kind, n.message_id, n.channel_id, n.created_at, d.attempts,
                            c.name AS channel_name, c.kind AS channel_kind, u.display_name AS author_name, m.text, m.deleted,
                            (n.read_at IS NULL
                             AND NOT EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = n.channel_id
                                 AND cm.user_id = n.user_id AND m.thread_root_id IS NULL AND cm.last_read_id >= n.message_id)
                             AND NOT EXISTS (SELECT 1 FROM thread_follows f WHERE f.root_id = m.thread_root_id
                                 AND f.user_id = n.user_id AND f.last_read_id >= n.message_id)) AS unread,
                            ",
                    $crate::notifications::sql::visible_notification!(),
                    " AS visible
                     FROM notification_deliveries d
                     JOIN notifications n ON n.id = d.notification_id
                     JOIN messages m ON m.id = n.message_id
                     JOIN channels c ON c.id = n.channel_id
                     LEFT JOIN user_directory u ON u.user_id = m.author_id
                     WHERE d.channel = 'email' AND d.target = $1 AND d.status = 'pending' AND d.due_at = $2
                     ORDER BY n.id"
                ))
                .bind(user_id)
                .bind(lease_until)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all, fields(notification_id = %notification_id))]
            async fn settle_email(
                &self,
                notification_id: uuid::Uuid,
                user_id: uuid::Uuid,
                outcome: &$crate::notifications::delivery_store::Outcome,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                let (status, due_at, error, sent_at) = outcome.columns(now);
                sqlx::query(
                    "UPDATE notification_deliveries SET status = $3, due_at = $4, last_error = $5, sent_at = $6
                     WHERE notification_id = $1 AND channel = 'email' AND target = $2",
                )
                .bind(notification_id)
                .bind(user_id)
                .bind(status)
                .bind(due_at)
                .bind(error)
                .bind(sent_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(message_id = %message_id, user_id = %user_id))]
            async fn delivered_via(&self, message_id: uuid::Uuid, user_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT DISTINCT d.channel FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
                     WHERE n.message_id = $1 AND n.user_id = $2 AND d.status = 'sent' ORDER BY d.channel",
                )
                .bind(message_id)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

pub(crate) use impl_delivery_store;
