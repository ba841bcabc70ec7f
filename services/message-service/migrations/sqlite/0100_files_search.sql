-- Uploaded files. purpose: message | avatar (avatars are readable by anyone sharing a workspace
-- with the uploader). detached_at: the uploader deleted it while messages still showed it; it is
-- kept until the last of them is deleted. text_content: the head of a text file, for search.
CREATE TABLE files (
    id              BLOB PRIMARY KEY,
    workspace_id    BLOB,
    uploader_id     BLOB NOT NULL,
    name            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    content_type    TEXT NOT NULL,
    has_thumbnail   BOOLEAN NOT NULL DEFAULT FALSE,
    purpose         TEXT NOT NULL,
    text_content    TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    detached_at     INTEGER
);
CREATE INDEX files_by_uploader ON files(uploader_id, id);

CREATE TABLE message_files (
    message_id      BLOB NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    file_id         BLOB NOT NULL REFERENCES files(id),
    position        INTEGER NOT NULL,
    PRIMARY KEY (message_id, file_id)
);
CREATE INDEX message_files_by_file ON message_files(file_id);

-- Display names from user-service's events, for `from:@name` in search.
CREATE TABLE user_directory (
    user_id         BLOB PRIMARY KEY,
    display_name    TEXT NOT NULL,
    name_key        TEXT NOT NULL
);
CREATE INDEX user_directory_by_name ON user_directory(name_key);

-- What search finds of a live message: its text, its files' names and the head of text files.
-- Kept in the transactions that post, edit and delete messages; the FTS5 index (trigram, so any
-- substring of 3+ characters in any script matches) follows this table through triggers.
CREATE TABLE message_search (
    doc_id          INTEGER PRIMARY KEY,
    message_id      BLOB NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    body            TEXT NOT NULL
);
CREATE VIRTUAL TABLE message_fts USING fts5(
    body, content = 'message_search', content_rowid = 'doc_id', tokenize = 'trigram'
);
CREATE TRIGGER message_search_ai AFTER INSERT ON message_search BEGIN
    INSERT INTO message_fts (rowid, body) VALUES (new.doc_id, new.body);
END;
CREATE TRIGGER message_search_ad AFTER DELETE ON message_search BEGIN
    INSERT INTO message_fts (message_fts, rowid, body) VALUES ('delete', old.doc_id, old.body);
END;
CREATE TRIGGER message_search_au AFTER UPDATE ON message_search BEGIN
    INSERT INTO message_fts (message_fts, rowid, body) VALUES ('delete', old.doc_id, old.body);
    INSERT INTO message_fts (rowid, body) VALUES (new.doc_id, new.body);
END;
INSERT INTO message_search (message_id, body) SELECT id, text FROM messages WHERE deleted = FALSE;
