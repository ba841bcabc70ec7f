-- Single-use tickets that let a browser open the WebSocket (it cannot set headers on one).
CREATE TABLE realtime_tickets (
    ticket_hash     BYTEA PRIMARY KEY,
    user_id         UUID NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX realtime_tickets_by_expiry ON realtime_tickets(expires_at);
