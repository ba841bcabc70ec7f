CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Uploaded files. purpose: message | avatar (avatars are readable by anyone sharing a workspace
-- with the uploader). detached_at: the uploader deleted it while messages still showed it; it is
-- kept until the last of them is deleted. text_content: the head of a text file, for search.
CREATE TABLE files (
    id              UUID PRIMARY KEY,
    workspace_id    UUID,
    uploader_id     UUID NOT NULL,
    name            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    content_type    TEXT NOT NULL,
    has_thumbnail   BOOLEAN NOT NULL DEFAULT FALSE,
    purpose         TEXT NOT NULL,
    text_content    TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    detached_at     BIGINT
);
CREATE INDEX files_by_uploader ON files(uploader_id, id);

CREATE TABLE message_files (
    message_id      UUID NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    file_id         UUID NOT NULL REFERENCES files(id),
    position        INTEGER NOT NULL,
    PRIMARY KEY (message_id, file_id)
);
CREATE INDEX message_files_by_file ON message_files(file_id);

-- Display names from user-service's events, for `from:@name` in search.
CREATE TABLE user_directory (
    user_id         UUID PRIMARY KEY,
    display_name    TEXT NOT NULL,
    name_key        TEXT NOT NULL
);
CREATE INDEX user_directory_by_name ON user_directory(name_key);

-- What search finds of a live message: its text, its files' names and the head of text files.
-- Kept in the transactions that post, edit and delete messages. Words rank through the `simple`
-- tsvector; the trigram index serves substring matching (ILIKE '%…%') in any script.
CREATE TABLE message_search (
    message_id      UUID PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    body            TEXT NOT NULL,
    tsv             tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
);
CREATE INDEX message_search_tsv ON message_search USING GIN (tsv);
CREATE INDEX message_search_trgm ON message_search USING GIN (body gin_trgm_ops);
INSERT INTO message_search (message_id, body) SELECT id, text FROM messages WHERE deleted = FALSE;
