//! What the search index holds for one message, in each backend's form: its tokens
//! ([`echo_parse::search_words`]), its scope (channel and author, as tokens of their own, so that
//! `in:` and `from:` are index lookups too) and the words it adds to the vocabulary that partial
//! words are looked up in.
//!
//! SQLite's FTS5 reads `words` and `scope` as space-separated tokens; PostgreSQL reads them as
//! tsvector literals (tokens with their positions), so no text search parser and no server locale
//! decide what a word is.

use std::collections::BTreeMap;

use echo_parse::search_words::{index_tokens, is_cjk};
use uuid::Uuid;

use super::sql::Dialect;

/// Raise this when the tokens change: the service then rebuilds every message's entry at start.
pub const VERSION: i64 = 1;

/// Vocabulary words are this long: a shorter partial word is found as a prefix anyway, and
/// longer words are mostly identifiers and hashes.
pub const TERM_CHARS: std::ops::RangeInclusive<usize> = 4..=32;

/// PostgreSQL's limits for a tsvector: positions up to 16,383 and 256 of them per lexeme.
const PG_MAX_POSITION: usize = 16_383;
const PG_MAX_POSITIONS_PER_LEXEME: usize = 256;

/// What the index holds of a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub words: String,
    /// Its words for the vocabulary, sorted (so concurrent writers take their locks in one order).
    pub terms: Vec<String>,
}

/// The scope token of a channel (`in:`) or an author (`from:`).
pub fn channel_token(id: Uuid) -> String {
    format!("c{}", id.simple())
}

pub fn author_token(id: Uuid) -> String {
    format!("a{}", id.simple())
}

/// A lexeme (or a scope token) as a tsvector or tsquery literal. Tokens are letters and digits
/// only, so quoting is for certainty, not need.
pub fn pg_literal(token: &str) -> String {
    format!("'{}'", token.replace('\\', "\\\\").replace('\'', "''"))
}

/// Scope tokens are namespaced in PostgreSQL, where they share one tsvector with the words
/// (FTS5 keeps them in a column of their own).
pub fn pg_scope_lexeme(token: &str) -> String {
    pg_literal(&format!("#{token}"))
}

pub fn entry(dialect: Dialect, body: &str) -> Entry {
    let tokens = index_tokens(body);
    let mut terms: Vec<String> = tokens
        .iter()
        .filter(|t| TERM_CHARS.contains(&t.chars().count()) && !t.chars().any(is_cjk))
        .cloned()
        .collect();
    terms.sort_unstable();
    terms.dedup();
    let words = match dialect {
        Dialect::Sqlite => tokens.join(" "),
        Dialect::Postgres => {
            let mut positions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, token) in tokens.iter().enumerate() {
                let list = positions.entry(token).or_default();
                if list.len() < PG_MAX_POSITIONS_PER_LEXEME {
                    list.push((i + 1).min(PG_MAX_POSITION));
                }
            }
            let lexemes: Vec<String> = positions
                .iter()
                .map(|(token, at)| {
                    let at: Vec<String> = at.iter().map(usize::to_string).collect();
                    format!("{}:{}", pg_literal(token), at.join(","))
                })
                .collect();
            lexemes.join(" ")
        }
    };
    Entry { words, terms }
}

/// A message's scope: its channel and its author.
pub fn scope(dialect: Dialect, channel_id: Uuid, author_id: Uuid) -> String {
    let tokens = [channel_token(channel_id), author_token(author_id)];
    match dialect {
        Dialect::Sqlite => tokens.join(" "),
        Dialect::Postgres => tokens
            .iter()
            .map(|t| pg_scope_lexeme(t))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_entries_are_tokens_and_postgres_entries_tsvector_literals() {
        let (channel, author) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let sqlite = entry(Dialect::Sqlite, "Deploy the deploy, 東京");
        assert_eq!(sqlite.words, "deploy the deploy 東京 京");
        assert_eq!(sqlite.terms, ["deploy"]);
        assert_eq!(
            scope(Dialect::Sqlite, channel, author),
            format!("c{} a{}", channel.simple(), author.simple())
        );
        let postgres = entry(Dialect::Postgres, "Deploy the deploy, 東京");
        assert_eq!(postgres.words, "'deploy':1,3 'the':2 '京':5 '東京':4");
        assert_eq!(postgres.terms, sqlite.terms);
        assert_eq!(
            scope(Dialect::Postgres, channel, author),
            format!("'#c{}' '#a{}'", channel.simple(), author.simple())
        );
    }

    #[test]
    fn postgres_positions_stay_within_tsvector_limits() {
        let body = "word ".repeat(20_000);
        let postgres = entry(Dialect::Postgres, &body);
        assert_eq!(
            postgres.words.matches(',').count(),
            PG_MAX_POSITIONS_PER_LEXEME - 1
        );
    }
}
