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
use crate::model::Message;

/// Raise this when the tokens change: the service then rebuilds every message's entry at start.
pub const VERSION: i64 = 2;

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

/// What a message's scope tokens say of it: where it is, who wrote it, and what the `has:` and
/// `mentions:` operators ask about. The tokens are the operators' only check, so they are written
/// with the message and rewritten whenever an edit changes its text or mentions.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub channel_id: Uuid,
    pub author_id: Uuid,
    pub text: &'a str,
    pub has_file: bool,
    pub mentioned: &'a [Uuid],
    /// `@channel` or `@here`: everyone is mentioned.
    pub mentions_everyone: bool,
}

impl<'a> From<&'a Message> for Facts<'a> {
    fn from(message: &'a Message) -> Facts<'a> {
        Facts {
            channel_id: message.channel_id,
            author_id: message.author_id,
            text: &message.text,
            has_file: !message.files.is_empty(),
            mentioned: &message.mentions,
            mentions_everyone: message.mentions_channel || message.mentions_here,
        }
    }
}

pub const FILE_TOKEN: &str = "file";
pub const LINK_TOKEN: &str = "link";
pub const EVERYONE_TOKEN: &str = "everyone";

pub fn mention_token(id: Uuid) -> String {
    format!("m{}", id.simple())
}

/// Whether `has:link` holds: the text carries a web address.
pub fn has_link(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    text.contains("http://") || text.contains("https://")
}

/// A message's scope tokens.
pub fn scope(dialect: Dialect, facts: &Facts) -> String {
    let mut tokens = vec![channel_token(facts.channel_id), author_token(facts.author_id)];
    tokens.extend(facts.mentioned.iter().map(|id| mention_token(*id)));
    for (holds, token) in [
        (facts.mentions_everyone, EVERYONE_TOKEN),
        (facts.has_file, FILE_TOKEN),
        (has_link(facts.text), LINK_TOKEN),
    ] {
        if holds {
            tokens.push(token.to_owned());
        }
    }
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
        let facts = Facts {
            channel_id: channel,
            author_id: author,
            text: "see HTTPS://example.test",
            has_file: false,
            mentioned: &[],
            mentions_everyone: false,
        };
        assert_eq!(
            scope(Dialect::Sqlite, &facts),
            format!("c{} a{} link", channel.simple(), author.simple())
        );
        let postgres = entry(Dialect::Postgres, "Deploy the deploy, 東京");
        assert_eq!(postgres.words, "'deploy':1,3 'the':2 '京':5 '東京':4");
        assert_eq!(postgres.terms, sqlite.terms);
        let facts = Facts {
            text: "no address",
            has_file: true,
            mentioned: &[author],
            mentions_everyone: true,
            ..facts
        };
        assert_eq!(
            scope(Dialect::Postgres, &facts),
            format!(
                "'#c{0}' '#a{1}' '#m{1}' '#everyone' '#file'",
                channel.simple(),
                author.simple()
            )
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
