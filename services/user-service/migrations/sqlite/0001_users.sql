CREATE TABLE users (
    id              BLOB PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    status_text     TEXT NOT NULL DEFAULT '',
    status_emoji    TEXT NOT NULL DEFAULT '',
    avatar_file_id  BLOB,
    preferences     TEXT NOT NULL DEFAULT '{}',
    is_bot          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE sessions (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_agent      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_revoked_at ON sessions(revoked_at) WHERE revoked_at IS NOT NULL;

-- Every refresh token a session was ever given, by hash; a rotated one presented again is a theft signal.
CREATE TABLE refresh_tokens (
    token_hash      BLOB PRIMARY KEY,
    session_id      BLOB NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    rotated_at      INTEGER
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    pkcs8           BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    retired_at      INTEGER
);

CREATE TABLE presence (
    user_id         BLOB PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Which workspaces each user is in, projected from message-service's events: profiles are visible
-- only to people who share a workspace.
CREATE TABLE workspace_members (
    workspace_id    BLOB NOT NULL,
    user_id         BLOB NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_by_user ON workspace_members(user_id);
