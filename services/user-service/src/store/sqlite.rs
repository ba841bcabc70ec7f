//! [`UserStore`](super::UserStore) on SQLite (embedded mode).

use sqlx::SqlitePool;

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

super::sql::impl_user_store!(SqliteStore, sqlx::Sqlite, echo_events::outbox::enqueue_sqlite);
