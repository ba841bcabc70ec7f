//! Full-text search over messages: a hand-written query language ([`query`]), its translation to
//! bound-parameter SQL for each backend ([`sql`]: FTS5 trigram on SQLite, `pg_trgm` and a `simple`
//! tsvector on PostgreSQL), HTML-safe highlighted snippets ([`highlight`]), the endpoint
//! ([`http`]), and the projection of display names that `from:@name` resolves against
//! ([`directory`]).
//!
//! What is searched is each live message's row in `message_search` (its text, its files' names and
//! the head of its text files), written in the same transactions that post, edit and delete
//! messages, so an edited-away or deleted text can never be found. Readability is decided inside
//! the query, before ordering and the limit.

pub mod directory;
pub mod highlight;
pub mod http;
pub use echo_parse::search_query as query;
pub mod sql;
