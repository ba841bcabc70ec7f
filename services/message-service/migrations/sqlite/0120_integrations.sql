-- Integrations: bots, API tokens, incoming webhooks, Slack-compatible timestamps, Slack-style
-- uploads and the outgoing event deliveries of bots.

-- A bot is a user of its own (its user_id) in one workspace. Its signing secret signs the events
-- sent to its request URL.
CREATE TABLE bots (
    id              BLOB PRIMARY KEY,
    workspace_id    BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    avatar_url      TEXT NOT NULL DEFAULT '',
    scopes          TEXT NOT NULL,
    request_url     TEXT,
    signing_secret  TEXT NOT NULL,
    created_by      BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE INDEX bots_by_workspace ON bots(workspace_id);

-- Bot tokens (xoxb-) and personal access tokens (xoxp-). Only a SHA-256 of the token is kept;
-- hint is its last characters, to tell tokens apart in lists.
CREATE TABLE api_tokens (
    id              BLOB PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    hint            TEXT NOT NULL,
    user_id         BLOB NOT NULL,
    bot_id          BLOB REFERENCES bots(id) ON DELETE CASCADE,
    workspace_id    BLOB,
    name            TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    revoked_at      INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);

-- Incoming webhooks: a secret URL that posts into one channel as the webhook's own bot user.
CREATE TABLE webhooks (
    id              BLOB PRIMARY KEY,
    secret_hash     TEXT NOT NULL UNIQUE,
    workspace_id    BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id      BLOB NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL,
    name            TEXT NOT NULL,
    created_by      BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE INDEX webhooks_by_workspace ON webhooks(workspace_id);

-- The Slack `ts` of a message: "seconds.micros" of its creation, unique per channel, assigned on
-- first use and never changed.
CREATE TABLE slack_ts (
    message_id      BLOB PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    channel_id      BLOB NOT NULL,
    ts              TEXT NOT NULL
);
CREATE UNIQUE INDEX slack_ts_by_channel ON slack_ts(channel_id, ts);

-- Slack's two-step uploads: the URL handed out, then the bytes (kept in the file store under
-- the file's id), then completion into a channel.
CREATE TABLE slack_uploads (
    id              BLOB PRIMARY KEY,
    secret_hash     TEXT NOT NULL,
    user_id         BLOB NOT NULL,
    name            TEXT NOT NULL,
    length          INTEGER NOT NULL,
    content_type    TEXT,
    size            INTEGER,
    text_content    TEXT,
    created_at      INTEGER NOT NULL,
    uploaded_at     INTEGER
);

-- Events API deliveries to bots' request URLs: status pending | sent | failed | skipped.
CREATE TABLE bot_event_deliveries (
    bot_id          BLOB NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    PRIMARY KEY (bot_id, event_id)
);
CREATE INDEX bot_event_deliveries_due ON bot_event_deliveries(status, due_at);
