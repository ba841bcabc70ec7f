-- Integrations: bots, API tokens, incoming webhooks, Slack-compatible timestamps, Slack-style
-- uploads and the outgoing event deliveries of bots.

-- A bot is a user of its own (its user_id) in one workspace. Its signing secret signs the events
-- sent to its request URL.
CREATE TABLE bots (
    id              UUID PRIMARY KEY,
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id         UUID NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    avatar_url      TEXT NOT NULL DEFAULT '',
    scopes          TEXT NOT NULL,
    request_url     TEXT,
    signing_secret  TEXT NOT NULL,
    created_by      UUID NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX bots_by_workspace ON bots(workspace_id);

-- Bot tokens (xoxb-) and personal access tokens (xoxp-). Only a SHA-256 of the token is kept;
-- hint is its last characters, to tell tokens apart in lists.
CREATE TABLE api_tokens (
    id              UUID PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    hint            TEXT NOT NULL,
    user_id         UUID NOT NULL,
    bot_id          UUID REFERENCES bots(id) ON DELETE CASCADE,
    workspace_id    UUID,
    name            TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);

-- Incoming webhooks: a secret URL that posts into one channel as the webhook's own bot user.
CREATE TABLE webhooks (
    id              UUID PRIMARY KEY,
    secret_hash     TEXT NOT NULL UNIQUE,
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id      UUID NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id         UUID NOT NULL,
    name            TEXT NOT NULL,
    created_by      UUID NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX webhooks_by_workspace ON webhooks(workspace_id);

-- The Slack `ts` of a message: "seconds.micros" of its creation, unique per channel, assigned on
-- first use and never changed.
CREATE TABLE slack_ts (
    message_id      UUID PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    channel_id      UUID NOT NULL,
    ts              TEXT NOT NULL
);
CREATE UNIQUE INDEX slack_ts_by_channel ON slack_ts(channel_id, ts);

-- Slack's two-step uploads: the URL handed out, then the bytes (kept in the file store under
-- the file's id), then completion into a channel.
CREATE TABLE slack_uploads (
    id              UUID PRIMARY KEY,
    secret_hash     TEXT NOT NULL,
    user_id         UUID NOT NULL,
    name            TEXT NOT NULL,
    length          BIGINT NOT NULL,
    content_type    TEXT,
    size            BIGINT,
    text_content    TEXT,
    created_at      BIGINT NOT NULL,
    uploaded_at     BIGINT
);

-- Events API deliveries to bots' request URLs: status pending | sent | failed | skipped.
CREATE TABLE bot_event_deliveries (
    bot_id          UUID NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    due_at          BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    PRIMARY KEY (bot_id, event_id)
);
CREATE INDEX bot_event_deliveries_due ON bot_event_deliveries(status, due_at);
