-- Which message-service replica holds each connection, and when each replica last gave a sign of
-- life: the connections of a replica that went silent (crashed, never sent connection.closed)
-- are closed for it.
ALTER TABLE presence_connections ADD COLUMN replica_id TEXT;
CREATE INDEX presence_connections_by_replica ON presence_connections(replica_id);
CREATE TABLE presence_replicas (
    replica_id  TEXT PRIMARY KEY,
    seen_at     BIGINT NOT NULL
);
