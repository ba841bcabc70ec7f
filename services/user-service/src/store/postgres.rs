//! [`UserStore`](super::UserStore) on PostgreSQL (scaled mode).

use sqlx::PgPool;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

super::sql::impl_user_store!(
    PostgresStore,
    sqlx::Postgres,
    echo_events::outbox::enqueue_postgres
);
