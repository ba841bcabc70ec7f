-- What the AI service has consumed from the bus, so a restart resumes without re-reading the log.
CREATE TABLE consumer_state (
    name        TEXT PRIMARY KEY,
    position    TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
