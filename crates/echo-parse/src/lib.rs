//! Parsers of what arrives from outside: mentions in message text ([`mentions`]), the search query
//! language ([`search_query`]), the words search reads in text ([`search_words`]) and the frames
//! WebSocket clients send ([`client_frame`]). Pure functions with few dependencies, so that fuzzing
//! them (`fuzz/`) builds quickly; each is total: any input gives a value or an error, never a panic.

pub mod client_frame;
pub mod mentions;
pub mod search_query;
pub mod search_words;
