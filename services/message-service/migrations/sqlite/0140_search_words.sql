-- Search by words instead of trigrams. `words` holds a message's searchable text as the tokens
-- search reads (echo_parse::search_words: lower-cased words, CJK runs as pairs of characters) and
-- `scope` its channel and author as tokens, so `in:` and `from:` are looked up in the same index.
-- Both are written by the service; an index version below `search_index.version` is rebuilt from
-- `body` when the service starts.
DROP TRIGGER message_search_ai;
DROP TRIGGER message_search_ad;
DROP TRIGGER message_search_au;
DROP TABLE message_fts;
ALTER TABLE message_search ADD COLUMN words TEXT NOT NULL DEFAULT '';
ALTER TABLE message_search ADD COLUMN scope TEXT NOT NULL DEFAULT '';
-- Prefix indexes make two- and three-letter partial words as fast as whole ones.
CREATE VIRTUAL TABLE message_words USING fts5(
    words, scope, content = 'message_search', content_rowid = 'doc_id',
    tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3'
);
CREATE TRIGGER message_search_ai AFTER INSERT ON message_search BEGIN
    INSERT INTO message_words (rowid, words, scope) VALUES (new.doc_id, new.words, new.scope);
END;
CREATE TRIGGER message_search_ad AFTER DELETE ON message_search BEGIN
    INSERT INTO message_words (message_words, rowid, words, scope) VALUES ('delete', old.doc_id, old.words, old.scope);
END;
CREATE TRIGGER message_search_au AFTER UPDATE ON message_search BEGIN
    INSERT INTO message_words (message_words, rowid, words, scope) VALUES ('delete', old.doc_id, old.words, old.scope);
    INSERT INTO message_words (rowid, words, scope) VALUES (new.doc_id, new.words, new.scope);
END;

-- Every word indexed (of four characters and more), with a trigram index: a partial word from
-- inside a word (`bernet`) is looked up here first and searched as the words that contain it.
CREATE TABLE search_terms (term TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE search_term_trigrams USING fts5(
    term, content = 'search_terms', tokenize = 'trigram', detail = 'none'
);
CREATE TRIGGER search_terms_ai AFTER INSERT ON search_terms BEGIN
    INSERT INTO search_term_trigrams (rowid, term) VALUES (new.rowid, new.term);
END;

CREATE TABLE search_index (version INTEGER NOT NULL);
INSERT INTO search_index (version) VALUES (0);
