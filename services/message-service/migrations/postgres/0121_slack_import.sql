-- The users a Slack import made for Slack people (and bots) it could not match to members, so
-- that importing again reuses them.
CREATE TABLE slack_import_users (
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slack_key       TEXT NOT NULL,
    user_id         UUID NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, slack_key)
);
