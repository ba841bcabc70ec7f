//! [`MessageStore`](super::MessageStore) on PostgreSQL (scaled mode).

use sqlx::PgPool;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

super::sql::impl_message_store!(
    PostgresStore,
    sqlx::Postgres,
    sqlx::PgConnection,
    crate::search::sql::Dialect::Postgres,
    echo_events::outbox::enqueue_postgres
);
