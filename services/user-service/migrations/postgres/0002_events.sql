-- Events leave through this outbox, written in the transaction of their change (echo-events).
CREATE TABLE IF NOT EXISTS event_outbox (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   UUID NOT NULL,
    envelope   JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Live WebSocket connections as message-service reports them (one row each, so a repeated report
-- changes nothing); a user with none is offline.
CREATE TABLE presence_connections (
    connection_id   TEXT PRIMARY KEY,
    user_id         UUID NOT NULL,
    opened_at       BIGINT NOT NULL
);
CREATE INDEX presence_connections_by_user ON presence_connections(user_id);
