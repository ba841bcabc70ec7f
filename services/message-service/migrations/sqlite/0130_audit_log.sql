-- The audit log, written only by its bus consumer. Keyed by workspace and event, so a redelivered
-- event is recorded once, and a sign-in once in each of its user's workspaces; event ids are
-- UUIDv7, so the key is also the newest-first order.
CREATE TABLE audit_log (
    workspace_id    BLOB NOT NULL,
    event_id        BLOB NOT NULL,
    action          TEXT NOT NULL,
    actor_id        BLOB,
    target_type     TEXT,
    target_id       BLOB,
    ip              TEXT,
    details         TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, event_id)
);

-- Who is in which workspace, as of the audit consumer's position in the event log: sign-ins are
-- recorded in the workspaces their user was in when they happened, whatever changed since.
CREATE TABLE audit_members (
    workspace_id    BLOB NOT NULL,
    user_id         BLOB NOT NULL,
    PRIMARY KEY (user_id, workspace_id)
);
INSERT INTO audit_members (workspace_id, user_id) SELECT workspace_id, user_id FROM workspace_members;
