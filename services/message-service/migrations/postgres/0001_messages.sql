CREATE TABLE workspaces (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    created_by      UUID NOT NULL,
    created_at      BIGINT NOT NULL
);

-- role: owner | admin | member | guest
CREATE TABLE workspace_members (
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id         UUID NOT NULL,
    role            TEXT NOT NULL,
    joined_at       BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_by_user ON workspace_members(user_id);

-- Only a hash of the code is kept: the code itself is a bearer secret.
CREATE TABLE invites (
    code_hash       TEXT PRIMARY KEY,
    code_hint       TEXT NOT NULL,
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by      UUID NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    max_uses        BIGINT,
    uses            BIGINT NOT NULL DEFAULT 0
);

-- kind: public | private | dm | group_dm. DMs have no name and a dm_key (the sorted member ids),
-- so the same set of people always lands in the same channel.
CREATE TABLE channels (
    id              UUID PRIMARY KEY,
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name            TEXT,
    kind            TEXT NOT NULL,
    topic           TEXT NOT NULL DEFAULT '',
    archived        BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      UUID NOT NULL,
    created_at      BIGINT NOT NULL,
    dm_key          TEXT
);
CREATE UNIQUE INDEX channels_name_per_workspace ON channels(workspace_id, name);
CREATE UNIQUE INDEX channels_dm_key_per_workspace ON channels(workspace_id, dm_key);

-- last_read_id: the newest channel message (not reply) the member has read; NULL = none.
CREATE TABLE channel_members (
    channel_id      UUID NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id         UUID NOT NULL,
    joined_at       BIGINT NOT NULL,
    last_read_id    UUID,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_by_user ON channel_members(user_id);

-- Deleted messages keep their row as a tombstone with empty text.
CREATE TABLE messages (
    id              UUID PRIMARY KEY,
    channel_id      UUID NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    workspace_id    UUID NOT NULL,
    author_id       UUID NOT NULL,
    text            TEXT NOT NULL,
    thread_root_id  UUID REFERENCES messages(id),
    client_msg_id   TEXT,
    mention_channel BOOLEAN NOT NULL DEFAULT FALSE,
    mention_here    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    edited_at       BIGINT,
    deleted         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX messages_by_channel ON messages(channel_id, id);
CREATE INDEX messages_by_thread ON messages(thread_root_id, id);
CREATE UNIQUE INDEX messages_client_msg_id ON messages(author_id, client_msg_id);

-- Earlier versions of edited messages; emptied when the message is deleted.
CREATE TABLE message_versions (
    message_id      UUID NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    version         BIGINT NOT NULL,
    text            TEXT NOT NULL,
    written_at      BIGINT NOT NULL,
    PRIMARY KEY (message_id, version)
);

-- Users mentioned by <@id> in a message's current text (workspace members only).
CREATE TABLE message_mentions (
    message_id      UUID NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id         UUID NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_mentions_by_user ON message_mentions(user_id, message_id);

CREATE TABLE reactions (
    message_id      UUID NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji           TEXT NOT NULL,
    user_id         UUID NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE pins (
    channel_id      UUID NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    message_id      UUID NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    pinned_by       UUID NOT NULL,
    pinned_at       BIGINT NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);

-- Threads a user follows (root author, repliers, people mentioned in a reply), with a read marker
-- over the replies: the per-thread unread model.
CREATE TABLE thread_follows (
    root_id         UUID NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id         UUID NOT NULL,
    last_read_id    UUID,
    PRIMARY KEY (root_id, user_id)
);
CREATE INDEX thread_follows_by_user ON thread_follows(user_id);
