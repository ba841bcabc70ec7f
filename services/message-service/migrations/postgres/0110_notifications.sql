-- Notifications: who is told about a message, how, and why (or why not).

-- Per-membership settings: level 'default' follows the member's own default level.
ALTER TABLE channel_members ADD COLUMN notify_level TEXT NOT NULL DEFAULT 'default';
ALTER TABLE channel_members ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;
-- Unfollowing keeps the row (following = FALSE), so a later reply does not make the root's
-- author or a mentioned person follow again; replying does.
ALTER TABLE thread_follows ADD COLUMN following BOOLEAN NOT NULL DEFAULT TRUE;

-- A user's own notification preferences. level: all | mentions | nothing. keywords: a JSON array.
-- dnd_until: manual do-not-disturb (epoch ms). dnd_start/dnd_end: a daily schedule in minutes after
-- local midnight in `timezone` (IANA); NULL when there is none.
CREATE TABLE notification_preferences (
    user_id         UUID PRIMARY KEY,
    level           TEXT NOT NULL,
    keywords        TEXT NOT NULL,
    dnd_until       BIGINT,
    dnd_start       BIGINT,
    dnd_end         BIGINT,
    timezone        TEXT NOT NULL,
    email           BOOLEAN NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Presence as user-service reports it (`presence.changed`), for `@here`.
CREATE TABLE notification_presence (
    user_id         UUID PRIMARY KEY,
    status          TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- WebSocket connections live on any replica (`connection.opened` / `connection.closed`).
CREATE TABLE live_connections (
    connection_id   TEXT PRIMARY KEY,
    user_id         UUID NOT NULL,
    opened_at       BIGINT NOT NULL
);
CREATE INDEX live_connections_by_user ON live_connections(user_id);

-- Messages whose notifications were decided: a redelivered or replayed event finds its row and
-- changes nothing.
CREATE TABLE notification_runs (
    message_id      UUID PRIMARY KEY,
    decided_at      BIGINT NOT NULL
);

-- For each person a message addressed: notified or not, as which kind, the reasons (a JSON array:
-- why they were notified, or what held it back) and the channels it went by (a JSON array, e.g.
-- ["inbox", "websocket"]). What explain answers from.
CREATE TABLE notification_decisions (
    message_id      UUID NOT NULL,
    user_id         UUID NOT NULL,
    notified        BOOLEAN NOT NULL,
    kind            TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    via             TEXT NOT NULL,
    decided_at      BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);

-- The inbox. One notification per person and message (its kind is the strongest rule that
-- applied), which is stricter than one per (person, message, kind).
CREATE TABLE notifications (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    message_id      UUID NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    channel_id      UUID NOT NULL,
    workspace_id    UUID NOT NULL,
    created_at      BIGINT NOT NULL,
    read_at         BIGINT
);
CREATE UNIQUE INDEX notifications_once ON notifications(user_id, message_id);
CREATE INDEX notifications_by_user ON notifications(user_id, id);
