-- Web Push: browsers' subscriptions, this deployment's VAPID key, and the delivery log.

-- One subscription per person and browser endpoint; the keys come from PushSubscription.getKey().
CREATE TABLE push_subscriptions (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL,
    endpoint        TEXT NOT NULL,
    p256dh          TEXT NOT NULL,
    auth            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_once ON push_subscriptions(user_id, endpoint);

-- The VAPID signing key (PKCS#8, base64url) when none is configured: made once, shared by every
-- replica, so subscriptions keep working across restarts.
CREATE TABLE vapid_keys (
    id              INTEGER PRIMARY KEY,
    pkcs8           TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- The delivery log: one row per notification, channel (web_push | email) and target (the push
-- subscription, or the recipient for email). A sender claims a row by moving due_at past a lease
-- (compare-and-set on the row, so replicas never share one) and marks it sent after the send; a
-- restart finds sent rows sent and pending ones due. status: pending | sent | failed | gone |
-- skipped.
CREATE TABLE notification_deliveries (
    notification_id BLOB NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    target          BLOB NOT NULL,
    user_id         BLOB NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL,
    last_error      TEXT,
    sent_at         INTEGER,
    PRIMARY KEY (notification_id, channel, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(status, channel, due_at);
