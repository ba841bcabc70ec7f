//! [`MessageStore`](super::MessageStore) on SQLite (embedded mode).

use sqlx::SqlitePool;

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

super::sql::impl_message_store!(
    SqliteStore,
    sqlx::Sqlite,
    sqlx::SqliteConnection,
    crate::search::sql::Dialect::Sqlite,
    echo_events::outbox::enqueue_sqlite
);
