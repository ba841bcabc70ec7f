//! A [`SearchQuery`] as SQL for each backend. Every value from the query is a bound parameter;
//! the only text spliced into the statement is this module's own constants and placeholder
//! numbers. The index query (an FTS5 `MATCH` string, a PostgreSQL tsquery) is a small language of
//! its own and is bound whole; the words in it are tokens of [`echo_parse::search_words`], which
//! are letters and digits only, and are quoted all the same.
//!
//! Matching is by word ([`super::index`]): a word of the query matches the words it begins
//! (`upgra` finds `upgrade`), and, from three characters, the words of the vocabulary that
//! contain it further in (`bernet` finds `Kubernetes`, through [`Resolved::infixes`]); several
//! words in one term (`deploy-bot`) or a `"phrase"` match in sequence; CJK text matches as a
//! sequence of character pairs. `in:`, `from:`, `has:file`, `has:link` and `mentions:me` are index
//! lookups too (scope tokens); only `is:thread`, whose answer changes when a reply arrives, is
//! checked on each candidate.
//!
//! Ranking: text relevance (FTS5's bm25 on SQLite, `ts_rank` on PostgreSQL) multiplied by a
//! recency factor that halves over the first month; ties go to the newer message. Only the
//! newest [`CANDIDATES`] matches are ranked, so a query's cost is bounded however common its words.

use std::collections::HashMap;

use chrono::NaiveDate;
use echo_parse::search_words::{Segment, pairs, segments};
use uuid::Uuid;

use super::index::{
    EVERYONE_TOKEN, FILE_TOKEN, LINK_TOKEN, author_token, channel_token, mention_token, pg_literal,
    pg_scope_lexeme,
};
use super::query::{SearchQuery, Term};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Uuid(Uuid),
    Text(String),
    Int(i64),
    Bool(bool),
}

/// Who searches where, and which slice of the ranking they want.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    /// Guests read only the channels they were added to.
    pub guest: bool,
    /// The instant recency is measured from (kept in the cursor so pages agree).
    pub now: i64,
    pub offset: i64,
    pub limit: i64,
}

/// What the query's names and partial words stand for, looked up before the plan is built.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// For a one-word term, the vocabulary's words that contain it after their start.
    pub infixes: HashMap<String, Vec<String>>,
    /// The channels `in:` names, `None` when it names none.
    pub channels: Option<Vec<Uuid>>,
    /// The authors `from:` names, `None` when it names none.
    pub authors: Option<Vec<Uuid>>,
}

/// A statement returning `(message id, score)` rows, best first.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sql: String,
    pub args: Vec<Arg>,
}

/// How many matches are ranked: the newest this many that pass every filter. A word as common
/// as one message in sixty has 16,000 matches among a million messages; reading them all to rank
/// them costs tens of milliseconds, and a word that frequent is one people look for recent uses
/// of. Deeper pages than this end the results.
pub const CANDIDATES: i64 = 500;

/// The shortest word looked up inside other words.
pub const INFIX_MIN_CHARS: usize = 3;

/// How many vocabulary words a partial word inside words stands for, shortest first.
pub const INFIX_WORDS: i64 = 64;

/// What one term of the query matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Words starting with this one, or containing it (see [`Resolved::infixes`]).
    Word(String),
    /// These tokens in a row; the last may be the start of a word.
    Sequence { tokens: Vec<String>, prefix_last: bool },
}

/// A term as a pattern; `None` when it has no letters or digits to look for.
pub fn pattern(term: &Term) -> Option<Pattern> {
    let segments = segments(term.text());
    if let (Term::Word(_), [Segment::Word(word)]) = (term, segments.as_slice()) {
        return Some(Pattern::Word(word.clone()));
    }
    let prefix_last = match segments.last()? {
        Segment::Word(_) => matches!(term, Term::Word(_)),
        // One character alone is the start of the pair it begins.
        Segment::Cjk(run) => run.len() == 1,
    };
    let mut tokens = Vec::new();
    for segment in segments {
        match segment {
            Segment::Word(word) => tokens.push(word),
            Segment::Cjk(run) if run.len() == 1 => tokens.push(run[0].to_string()),
            Segment::Cjk(run) => tokens.extend(pairs(&run)),
        }
    }
    Some(Pattern::Sequence { tokens, prefix_last })
}

/// The one-word terms (kept or excluded) to look up inside the vocabulary's words.
pub fn infix_lookups(query: &SearchQuery) -> Vec<String> {
    let mut out: Vec<String> = query
        .terms
        .iter()
        .chain(&query.excluded)
        .filter_map(pattern)
        .filter_map(|p| match p {
            Pattern::Word(word) if word.chars().count() >= INFIX_MIN_CHARS => Some(word),
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// One FTS5 string literal: the term in double quotes, inner quotes doubled.
pub fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn fts_pattern(pattern: &Pattern, resolved: &Resolved) -> String {
    match pattern {
        Pattern::Word(word) => {
            let mut alternatives = vec![format!("{}*", fts_string(word))];
            for infix in resolved.infixes.get(word).into_iter().flatten() {
                alternatives.push(fts_string(infix));
            }
            format!("words : ({})", alternatives.join(" OR "))
        }
        Pattern::Sequence { tokens, prefix_last } => {
            format!(
                "words : {}{}",
                fts_string(&tokens.join(" ")),
                if *prefix_last { "*" } else { "" }
            )
        }
    }
}

fn pg_pattern(pattern: &Pattern, resolved: &Resolved) -> String {
    match pattern {
        Pattern::Word(word) => {
            let mut alternatives = vec![format!("{}:*", pg_literal(word))];
            for infix in resolved.infixes.get(word).into_iter().flatten() {
                alternatives.push(pg_literal(infix));
            }
            format!("({})", alternatives.join(" | "))
        }
        Pattern::Sequence { tokens, prefix_last } => {
            let mut lexemes: Vec<String> = tokens.iter().map(|t| pg_literal(t)).collect();
            if let (Some(last), true) = (lexemes.last_mut(), *prefix_last) {
                last.push_str(":*");
            }
            format!("({})", lexemes.join(" <-> "))
        }
    }
}

/// The index query: what must match (words, then scope), and what must not.
struct IndexQuery {
    required: Vec<String>,
    excluded: Vec<String>,
}

impl IndexQuery {
    fn new(dialect: Dialect, query: &SearchQuery, me: Uuid, resolved: &Resolved) -> IndexQuery {
        let text = |term: &Term| {
            pattern(term).map(|p| match dialect {
                Dialect::Sqlite => fts_pattern(&p, resolved),
                Dialect::Postgres => pg_pattern(&p, resolved),
            })
        };
        let mut required: Vec<String> = query.terms.iter().filter_map(text).collect();
        // Each entry: any one of these scope tokens.
        let scopes = [
            resolved
                .channels
                .as_ref()
                .map(|ids| ids.iter().map(|id| channel_token(*id)).collect::<Vec<_>>()),
            resolved
                .authors
                .as_ref()
                .map(|ids| ids.iter().map(|id| author_token(*id)).collect::<Vec<_>>()),
            query.has_file.then(|| vec![FILE_TOKEN.to_owned()]),
            query.has_link.then(|| vec![LINK_TOKEN.to_owned()]),
            query
                .mentions_me
                .then(|| vec![mention_token(me), EVERYONE_TOKEN.to_owned()]),
        ];
        for tokens in scopes.into_iter().flatten().filter(|t| !t.is_empty()) {
            required.push(match dialect {
                Dialect::Sqlite => {
                    let tokens: Vec<String> = tokens.iter().map(|t| fts_string(t)).collect();
                    format!("scope : ({})", tokens.join(" OR "))
                }
                Dialect::Postgres => {
                    let lexemes: Vec<String> = tokens.iter().map(|t| pg_scope_lexeme(t)).collect();
                    format!("({})", lexemes.join(" | "))
                }
            });
        }
        IndexQuery {
            required,
            excluded: query.excluded.iter().filter_map(text).collect(),
        }
    }
}

struct Builder {
    args: Vec<Arg>,
}

impl Builder {
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }
}

fn day_start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0)
}

pub fn build(dialect: Dialect, query: &SearchQuery, scope: &Scope, resolved: &Resolved) -> Plan {
    let mut b = Builder { args: Vec::new() };
    let mut conditions: Vec<String> = Vec::new();

    let ws = b.bind(Arg::Uuid(scope.workspace_id));
    let me = b.bind(Arg::Uuid(scope.user_id));
    let guest = b.bind(Arg::Bool(scope.guest));
    conditions.push(format!("m.workspace_id = {ws}"));
    conditions.push("m.deleted = FALSE".to_owned());
    // SQLite would otherwise probe the channel index once per readable channel for every
    // candidate; the unary `+` makes it look the message up by id and test the channel once.
    let unindexed = match dialect {
        Dialect::Sqlite => "+",
        Dialect::Postgres => "",
    };
    conditions.push(format!(
        "{unindexed}m.channel_id IN (SELECT c.id FROM channels c WHERE c.workspace_id = {ws} AND (
            (c.kind = 'public' AND NOT {guest})
            OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = {me})))"
    ));
    // Nothing can match a term without letters or digits, nor a channel or person that isn't there.
    let unmatchable = (!query.terms.is_empty() && query.terms.iter().all(|t| pattern(t).is_none()))
        || resolved.channels.as_ref().is_some_and(Vec::is_empty)
        || resolved.authors.as_ref().is_some_and(Vec::is_empty);
    if unmatchable {
        conditions.push("1 = 0".to_owned());
    }

    if let Some(day) = query.before {
        conditions.push(format!("m.created_at < {}", b.bind(Arg::Int(day_start_ms(day)))));
    }
    if let Some(day) = query.after {
        let next = day.succ_opt().unwrap_or(day);
        conditions.push(format!(
            "m.created_at >= {}",
            b.bind(Arg::Int(day_start_ms(next)))
        ));
    }
    if query.is_thread {
        conditions.push(
            "(m.thread_root_id IS NOT NULL OR EXISTS (SELECT 1 FROM messages r WHERE r.thread_root_id = m.id AND r.deleted = FALSE))"
                .to_owned(),
        );
    }

    let index = IndexQuery::new(dialect, query, scope.user_id, resolved);
    // The index's own order is newest first: FTS5 rowids and UUIDv7 ids grow with time.
    let (from, relevance, newest_first) = match dialect {
        Dialect::Sqlite if !index.required.is_empty() => {
            let mut expression = format!("({})", index.required.join(") AND ("));
            for excluded in &index.excluded {
                expression.push_str(&format!(" NOT ({excluded})"));
            }
            conditions.insert(
                0,
                format!("message_words MATCH {}", b.bind(Arg::Text(expression))),
            );
            (
                // CROSS JOIN fixes the loop order: the index lookup runs once and drives the
                // join; left to itself SQLite may scan messages and re-run MATCH for each row.
                "message_words CROSS JOIN message_search s ON s.doc_id = message_words.rowid CROSS JOIN messages m ON m.id = s.message_id",
                "(-bm25(message_words, 1.0, 0.0))".to_owned(),
                "message_words.rowid DESC",
            )
        }
        Dialect::Sqlite => {
            if !index.excluded.is_empty() {
                let expression = format!("({})", index.excluded.join(") OR ("));
                conditions.push(format!(
                    "s.doc_id NOT IN (SELECT rowid FROM message_words WHERE message_words MATCH {})",
                    b.bind(Arg::Text(expression))
                ));
            }
            (
                "message_search s JOIN messages m ON m.id = s.message_id",
                "1.0".to_owned(),
                "m.id DESC",
            )
        }
        Dialect::Postgres if !(index.required.is_empty() && index.excluded.is_empty()) => {
            let mut parts = index.required.clone();
            parts.extend(index.excluded.iter().map(|e| format!("!{e}")));
            let tsquery = format!("CAST({} AS tsquery)", b.bind(Arg::Text(parts.join(" & "))));
            conditions.insert(0, format!("s.tsv @@ {tsquery}"));
            (
                "message_search s JOIN messages m ON m.id = s.message_id",
                format!("(0.05 + ts_rank(s.tsv, {tsquery}))"),
                "s.message_id DESC",
            )
        }
        Dialect::Postgres => (
            "message_search s JOIN messages m ON m.id = s.message_id",
            "1.0".to_owned(),
            "m.id DESC",
        ),
    };
    let candidates = b.bind(Arg::Int(CANDIDATES));
    let now = b.bind(Arg::Int(scope.now));
    let recency = format!("(1.0 + 30.0 / (30.0 + ({now} - c.created_at) / 86400000.0))");
    let limit = b.bind(Arg::Int(scope.limit));
    let offset = b.bind(Arg::Int(scope.offset));
    let score_type = match dialect {
        Dialect::Sqlite => "REAL",
        Dialect::Postgres => "DOUBLE PRECISION",
    };
    let sql = format!(
        "SELECT c.id, c.relevance * CAST({recency} AS {score_type}) AS score FROM (
           SELECT m.id, m.created_at, CAST({relevance} AS {score_type}) AS relevance FROM {from}
           WHERE {}
           ORDER BY {newest_first} LIMIT {candidates}) c
         ORDER BY score DESC, c.id DESC LIMIT {limit} OFFSET {offset}",
        conditions.join("\n AND ")
    );
    Plan { sql, args: b.args }
}

/// How display names are compared: trimmed and lower-cased.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    fn scope() -> Scope {
        Scope {
            workspace_id: Uuid::nil(),
            user_id: Uuid::nil(),
            guest: false,
            now: 0,
            offset: 0,
            limit: 10,
        }
    }

    fn plan(dialect: Dialect, q: &str) -> Plan {
        build(dialect, &parse(q).unwrap(), &scope(), &Resolved::default())
    }

    #[test]
    fn query_values_are_bound_never_spliced() {
        let q = parse(r#"x'); DROP TABLE messages; -- "a""b" -'evil' from:@"Robert'); --" in:#x'y"#).unwrap();
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let plan = build(dialect, &q, &scope(), &Resolved::default());
            assert!(!plan.sql.contains("DROP"), "{}", plan.sql);
            assert!(!plan.sql.contains("evil"), "{}", plan.sql);
            assert!(!plan.sql.contains("Robert"), "{}", plan.sql);
        }
    }

    #[test]
    fn fts_strings_double_their_quotes() {
        assert_eq!(fts_string(r#"say "hi""#), r#""say ""hi""""#);
    }

    #[test]
    fn terms_become_words_sequences_and_character_pairs() {
        assert_eq!(
            pattern(&Term::Word("Deploy".into())),
            Some(Pattern::Word("deploy".into()))
        );
        assert_eq!(
            pattern(&Term::Word("deploy-bot".into())),
            Some(Pattern::Sequence {
                tokens: vec!["deploy".into(), "bot".into()],
                prefix_last: true
            })
        );
        assert_eq!(
            pattern(&Term::Phrase("went fine".into())),
            Some(Pattern::Sequence {
                tokens: vec!["went".into(), "fine".into()],
                prefix_last: false
            })
        );
        assert_eq!(
            pattern(&Term::Word("東京タワー".into())),
            Some(Pattern::Sequence {
                tokens: vec!["東京".into(), "京タ".into(), "タワ".into(), "ワー".into()],
                prefix_last: false
            })
        );
        assert_eq!(
            pattern(&Term::Word("東".into())),
            Some(Pattern::Sequence {
                tokens: vec!["東".into()],
                prefix_last: true
            })
        );
        assert_eq!(pattern(&Term::Word("+++".into())), None);
    }

    #[test]
    fn partial_words_are_looked_up_inside_words_from_three_characters() {
        let q = parse("bernet go -ails \"went fine\"").unwrap();
        assert_eq!(infix_lookups(&q), ["ails", "bernet"]);
        let resolved = Resolved {
            infixes: HashMap::from([("bernet".to_owned(), vec!["kubernetes".to_owned()])]),
            ..Resolved::default()
        };
        let sqlite = build(Dialect::Sqlite, &q, &scope(), &resolved);
        assert!(sqlite.args.contains(&Arg::Text(
            r#"(words : ("bernet"* OR "kubernetes")) AND (words : ("go"*)) AND (words : "went fine") NOT (words : ("ails"*))"#.into()
        )));
        let postgres = build(Dialect::Postgres, &q, &scope(), &resolved);
        assert!(postgres.args.contains(&Arg::Text(
            "('bernet':* | 'kubernetes') & ('go':*) & ('went' <-> 'fine') & !('ails':*)".into()
        )));
    }

    #[test]
    fn channels_and_authors_are_scope_tokens() {
        let (channel, author) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let resolved = Resolved {
            channels: Some(vec![channel]),
            authors: Some(vec![author]),
            ..Resolved::default()
        };
        let plan = build(
            Dialect::Sqlite,
            &parse("in:#x from:@y").unwrap(),
            &scope(),
            &resolved,
        );
        assert!(plan.args.contains(&Arg::Text(format!(
            r#"(scope : ("c{}")) AND (scope : ("a{}"))"#,
            channel.simple(),
            author.simple()
        ))));
    }

    #[test]
    fn nothing_matches_a_term_without_words_or_a_missing_channel() {
        assert!(plan(Dialect::Sqlite, "+++").sql.contains("1 = 0"));
        let resolved = Resolved {
            channels: Some(Vec::new()),
            ..Resolved::default()
        };
        let q = parse("deploy in:#nowhere").unwrap();
        assert!(
            build(Dialect::Postgres, &q, &scope(), &resolved)
                .sql
                .contains("1 = 0")
        );
        assert!(!plan(Dialect::Sqlite, "deploy +++").sql.contains("1 = 0"));
    }
}
