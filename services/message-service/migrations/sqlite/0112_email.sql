-- Email notifications: where to write to, and the key that signs unsubscribe links.

-- Addresses from user-service's `user.registered` events (user-service owns accounts).
CREATE TABLE notification_emails (
    user_id         BLOB PRIMARY KEY,
    email           TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- The HMAC key of unsubscribe links, made once and shared by every replica.
CREATE TABLE email_secrets (
    id              INTEGER PRIMARY KEY,
    secret          TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
