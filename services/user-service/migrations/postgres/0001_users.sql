CREATE TABLE users (
    id              UUID PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    status_text     TEXT NOT NULL DEFAULT '',
    status_emoji    TEXT NOT NULL DEFAULT '',
    avatar_file_id  UUID,
    preferences     TEXT NOT NULL DEFAULT '{}',
    is_bot          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_agent      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_revoked_at ON sessions(revoked_at) WHERE revoked_at IS NOT NULL;

-- Every refresh token a session was ever given, by hash; a rotated one presented again is a theft signal.
CREATE TABLE refresh_tokens (
    token_hash      BYTEA PRIMARY KEY,
    session_id      UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    rotated_at      BIGINT
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    pkcs8           BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT
);

CREATE TABLE presence (
    user_id         UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Which workspaces each user is in, projected from message-service's events: profiles are visible
-- only to people who share a workspace.
CREATE TABLE workspace_members (
    workspace_id    UUID NOT NULL,
    user_id         UUID NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_by_user ON workspace_members(user_id);
