//! The crate's one error type.

/// Everything that can go wrong talking to a bus, an outbox or a log.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The Redis server refused a command or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// SQLite or PostgreSQL refused a statement or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// An envelope could not be encoded or decoded.
    #[error("envelope encoding: {0}")]
    Encoding(#[from] serde_json::Error),
    /// A position string was not of the form `ms-seq`.
    #[error("invalid position {0:?}: expected \"ms-seq\"")]
    InvalidPosition(String),
    /// The bus URL names no backend this crate knows.
    #[error("unsupported bus url {0:?}: expected redis://… or sqlite://…")]
    UnsupportedUrl(String),
    /// The consumer group does not exist (for example after Redis lost its data).
    #[error("consumer group {0:?} does not exist")]
    NoGroup(String),
    /// A dead letter id named no dead letter.
    #[error("dead letter {0} not found")]
    DeadLetterNotFound(String),
    /// Redis answered with a shape this crate did not expect.
    #[error("unexpected reply from redis: {0}")]
    UnexpectedReply(String),
    /// The log directory could not be created.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
