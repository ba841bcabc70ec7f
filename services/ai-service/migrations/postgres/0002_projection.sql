-- ai-service's projection of message-service's events: who may read what, and the messages
-- with their embeddings (f32 little-endian BLOBs of 384 floats). Instants are epoch milliseconds.
CREATE TABLE ai_workspace_members (
    workspace_id UUID NOT NULL,
    user_id      UUID NOT NULL,
    role         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE TABLE ai_channels (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    archived     BOOLEAN NOT NULL
);

CREATE TABLE ai_channel_members (
    channel_id UUID NOT NULL,
    user_id    UUID NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE ai_read_markers (
    channel_id UUID NOT NULL,
    user_id    UUID NOT NULL,
    message_id UUID NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

-- A deleted message stays as a tombstone (no text, no vector) so that a replayed
-- `message.created` cannot bring it back.
CREATE TABLE ai_messages (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL,
    channel_id     UUID NOT NULL,
    author_id      UUID NOT NULL,
    thread_root_id UUID,
    text           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    deleted        BOOLEAN NOT NULL,
    embedding      BYTEA,
    embedder       TEXT
);
CREATE INDEX ai_messages_channel ON ai_messages (channel_id, created_at);
