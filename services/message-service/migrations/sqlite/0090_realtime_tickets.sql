-- Single-use tickets that let a browser open the WebSocket (it cannot set headers on one).
CREATE TABLE realtime_tickets (
    ticket_hash     BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX realtime_tickets_by_expiry ON realtime_tickets(expires_at);
