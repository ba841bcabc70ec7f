-- Search by words instead of trigrams. `words` holds a message's searchable text as a tsvector
-- literal of the tokens search reads (echo_parse::search_words: lower-cased words, CJK runs as
-- pairs of characters), built by the service rather than by a text search parser, whose idea of
-- a letter depends on the server's locale; `scope` adds its channel and author as lexemes, so
-- `in:` and `from:` are looked up in the same index. An index version below
-- `search_index.version` is rebuilt from `body` when the service starts.
DROP INDEX message_search_trgm;
DROP INDEX message_search_tsv;
ALTER TABLE message_search DROP COLUMN tsv;
ALTER TABLE message_search ADD COLUMN words TEXT NOT NULL DEFAULT '';
ALTER TABLE message_search ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE message_search ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (CAST(words || ' ' || scope AS tsvector)) STORED;
CREATE INDEX message_search_words ON message_search USING GIN (tsv);

-- Every word indexed (of four characters and more), with a trigram index: a partial word from
-- inside a word (`bernet`) is looked up here first and searched as the words that contain it.
CREATE TABLE search_terms (term TEXT PRIMARY KEY);
CREATE INDEX search_terms_trgm ON search_terms USING GIN (term gin_trgm_ops);

CREATE TABLE search_index (version BIGINT NOT NULL);
INSERT INTO search_index (version) VALUES (0);
