//! Full-text search over messages: a hand-written query language ([`query`]), what the index
//! holds of a message ([`index`]: its words, its channel and author, on SQLite in FTS5 and on
//! PostgreSQL in a tsvector GIN index), the query as bound-parameter SQL for each backend
//! ([`sql`]), HTML-safe highlighted snippets ([`highlight`]), the endpoint ([`http`]), and the
//! projection of display names that `from:@name` resolves against ([`directory`]).
//!
//! What is searched is each live message's row in `message_search` (its text, its files' names and
//! the head of its text files), written in the same transactions that post, edit and delete
//! messages, so an edited-away or deleted text can never be found. Readability is decided inside
//! the query, before ordering and the limit.

pub mod directory;
pub mod highlight;
pub mod http;
pub mod index;
pub use echo_parse::search_query as query;
pub mod sql;
