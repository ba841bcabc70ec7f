-- When each membership began and ended (milliseconds; 0 for memberships from before this change),
-- so a sign-in is filed under the workspaces its user was in when it happened, even when the
-- services' events reach the log in another order than they happened.
ALTER TABLE audit_members ADD COLUMN joined_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_members ADD COLUMN left_at BIGINT;
