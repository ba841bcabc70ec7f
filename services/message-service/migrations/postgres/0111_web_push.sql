-- Web Push: browsers' subscriptions, this deployment's VAPID key, and the delivery log.

-- One subscription per person and browser endpoint; the keys come from PushSubscription.getKey().
CREATE TABLE push_subscriptions (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    endpoint        TEXT NOT NULL,
    p256dh          TEXT NOT NULL,
    auth            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_once ON push_subscriptions(user_id, endpoint);

-- The VAPID signing key (PKCS#8, base64url) when none is configured: made once, shared by every
-- replica, so subscriptions keep working across restarts.
CREATE TABLE vapid_keys (
    id              BIGINT PRIMARY KEY,
    pkcs8           TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- The delivery log: one row per notification, channel (web_push | email) and target (the push
-- subscription, or the recipient for email). A sender claims a row by moving due_at past a lease
-- (compare-and-set on the row, so replicas never share one) and marks it sent after the send; a
-- restart finds sent rows sent and pending ones due. status: pending | sent | failed | gone |
-- skipped.
CREATE TABLE notification_deliveries (
    notification_id UUID NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    target          UUID NOT NULL,
    user_id         UUID NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    due_at          BIGINT NOT NULL,
    last_error      TEXT,
    sent_at         BIGINT,
    PRIMARY KEY (notification_id, channel, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(status, channel, due_at);
