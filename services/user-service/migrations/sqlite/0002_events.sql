-- Events leave through this outbox, written in the transaction of their change (echo-events).
CREATE TABLE IF NOT EXISTS event_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL,
    envelope   TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Live WebSocket connections as message-service reports them (one row each, so a repeated report
-- changes nothing); a user with none is offline.
CREATE TABLE presence_connections (
    connection_id   TEXT PRIMARY KEY,
    user_id         BLOB NOT NULL,
    opened_at       INTEGER NOT NULL
);
CREATE INDEX presence_connections_by_user ON presence_connections(user_id);
