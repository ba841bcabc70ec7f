//! A [`SearchQuery`] as SQL for each backend. Every value from the query is a bound parameter;
//! the only text spliced into the statement is this module's own constants and placeholder
//! numbers. SQLite's FTS5 `MATCH` string is still a small query language of its own, so each term
//! goes into it as a quoted string with its quotes doubled.
//!
//! Matching is by substring on both backends, case-insensitively: FTS5's trigram index on SQLite
//! and `ILIKE` served by a `pg_trgm` GIN index on PostgreSQL. A trigram index cannot look up a term
//! shorter than three characters (common in CJK, e.g. 東京), so such terms are checked with `LIKE`
//! on the rows the rest of the query selects, the caller's readable channels at the very least.
//!
//! Ranking: text relevance (FTS5's bm25 on SQLite; `ts_rank` over the `simple` tsvector on
//! PostgreSQL, where whole-word matches rank above partial ones) multiplied by a recency factor
//! that halves over the first month; ties go to the newer message. Only the newest
//! [`CANDIDATES`] matches are ranked, so a query's cost is bounded however common its words.

use chrono::NaiveDate;
use uuid::Uuid;

use super::query::{SearchQuery, Term, UserRef};

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

/// A statement returning `(message id, score)` rows, best first.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sql: String,
    pub args: Vec<Arg>,
}

/// How many matches are ranked: the newest this many that pass every filter. Ranking every match
/// of a common word among a million messages takes seconds, and a word that frequent is one people
/// look for recent uses of; deeper pages than this end the results.
pub const CANDIDATES: i64 = 2000;

/// The shortest term a trigram index can look up.
pub const TRIGRAM_MIN_CHARS: usize = 3;

struct Builder {
    args: Vec<Arg>,
}

impl Builder {
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }
}

/// `%text%` for LIKE, with LIKE's own wildcards taken literally (`ESCAPE '\'`).
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// One FTS5 string literal: the term in double quotes, inner quotes doubled.
pub fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn day_start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0)
}

pub fn build(dialect: Dialect, query: &SearchQuery, scope: &Scope) -> Plan {
    let mut b = Builder { args: Vec::new() };
    let like = match dialect {
        Dialect::Sqlite => "LIKE",
        Dialect::Postgres => "ILIKE",
    };
    let mut conditions: Vec<String> = Vec::new();

    let ws = b.bind(Arg::Uuid(scope.workspace_id));
    let me = b.bind(Arg::Uuid(scope.user_id));
    let guest = b.bind(Arg::Bool(scope.guest));
    conditions.push(format!("m.workspace_id = {ws}"));
    conditions.push("m.deleted = FALSE".to_owned());
    conditions.push(format!(
        "m.channel_id IN (SELECT c.id FROM channels c WHERE c.workspace_id = {ws} AND (
            (c.kind = 'public' AND NOT {guest})
            OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = {me})))"
    ));

    // Terms the trigram index can serve, and those it cannot.
    let (indexed, short): (Vec<&Term>, Vec<&Term>) = query
        .terms
        .iter()
        .partition(|t| t.text().chars().count() >= TRIGRAM_MIN_CHARS);
    let fts_match = match dialect {
        Dialect::Sqlite if !indexed.is_empty() => {
            let expression = indexed
                .iter()
                .map(|t| fts_string(t.text()))
                .collect::<Vec<_>>()
                .join(" AND ");
            Some(b.bind(Arg::Text(expression)))
        }
        _ => None,
    };
    let like_terms: Vec<&Term> = match dialect {
        Dialect::Sqlite => short,
        Dialect::Postgres => query.terms.iter().collect(),
    };
    for term in like_terms {
        let p = b.bind(Arg::Text(like_pattern(term.text())));
        conditions.push(format!("s.body {like} {p} ESCAPE '\\'"));
    }
    for term in &query.excluded {
        let p = b.bind(Arg::Text(like_pattern(term.text())));
        conditions.push(format!("s.body NOT {like} {p} ESCAPE '\\'"));
    }
    if !query.from.is_empty() {
        let mut alternatives = Vec::new();
        for user in &query.from {
            alternatives.push(match user {
                UserRef::Me => format!("m.author_id = {me}"),
                UserRef::Id(id) => format!("m.author_id = {}", b.bind(Arg::Uuid(*id))),
                UserRef::Name(name) => format!(
                    "m.author_id IN (SELECT d.user_id FROM user_directory d WHERE d.name_key = {})",
                    b.bind(Arg::Text(name_key(name)))
                ),
            });
        }
        conditions.push(format!("({})", alternatives.join(" OR ")));
    }
    if !query.channels.is_empty() {
        let names: Vec<String> = query
            .channels
            .iter()
            .map(|n| b.bind(Arg::Text(n.to_lowercase())))
            .collect();
        conditions.push(format!(
            "m.channel_id IN (SELECT c2.id FROM channels c2 WHERE c2.workspace_id = {ws} AND LOWER(c2.name) IN ({}))",
            names.join(", ")
        ));
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
    if query.has_file {
        conditions.push("EXISTS (SELECT 1 FROM message_files mf WHERE mf.message_id = m.id)".to_owned());
    }
    if query.has_link {
        conditions.push(format!(
            "(m.text {like} '%http://%' OR m.text {like} '%https://%')"
        ));
    }
    if query.is_thread {
        conditions.push(
            "(m.thread_root_id IS NOT NULL OR EXISTS (SELECT 1 FROM messages r WHERE r.thread_root_id = m.id AND r.deleted = FALSE))"
                .to_owned(),
        );
    }
    if query.mentions_me {
        conditions.push(format!(
            "(m.mention_channel OR m.mention_here OR EXISTS (SELECT 1 FROM message_mentions mm WHERE mm.message_id = m.id AND mm.user_id = {me}))"
        ));
    }

    let (from, relevance) = match (dialect, &fts_match) {
        (Dialect::Sqlite, Some(expression)) => {
            conditions.insert(0, format!("message_fts MATCH {expression}"));
            (
                // CROSS JOIN fixes the loop order: the index lookup runs once and drives the
                // join; left to itself SQLite may scan messages and re-run MATCH for each row.
                "message_fts CROSS JOIN message_search s ON s.doc_id = message_fts.rowid CROSS JOIN messages m ON m.id = s.message_id",
                "(-bm25(message_fts))".to_owned(),
            )
        }
        (Dialect::Sqlite, None) => (
            "message_search s JOIN messages m ON m.id = s.message_id",
            "1.0".to_owned(),
        ),
        (Dialect::Postgres, _) if !query.terms.is_empty() => {
            let words = query
                .terms
                .iter()
                .map(|t| match t {
                    Term::Word(w) => w.replace('"', " "),
                    Term::Phrase(p) => format!("\"{}\"", p.replace('"', " ")),
                })
                .collect::<Vec<_>>()
                .join(" or ");
            let q = b.bind(Arg::Text(words));
            (
                "message_search s JOIN messages m ON m.id = s.message_id",
                format!("(0.05 + ts_rank(s.tsv, websearch_to_tsquery('simple', {q})))"),
            )
        }
        (Dialect::Postgres, _) => (
            "message_search s JOIN messages m ON m.id = s.message_id",
            "1.0".to_owned(),
        ),
    };
    // The index's own order is newest first on both: FTS5 rowids and UUIDv7 ids grow with time.
    let newest_first = match (dialect, &fts_match) {
        (Dialect::Sqlite, Some(_)) => "message_fts.rowid DESC",
        _ => "m.id DESC",
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

    #[test]
    fn query_values_are_bound_never_spliced() {
        let q = parse(r#"x'); DROP TABLE messages; -- "a""b" -'evil' from:@"Robert'); --" in:#x'y"#).unwrap();
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let plan = build(dialect, &q, &scope());
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
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn short_terms_fall_back_to_like_on_sqlite() {
        let plan = build(Dialect::Sqlite, &parse("東京 deploy").unwrap(), &scope());
        assert!(plan.sql.contains("MATCH"));
        assert!(plan.sql.contains("s.body LIKE"));
        assert!(plan.args.contains(&Arg::Text("%東京%".into())));
        assert!(plan.args.contains(&Arg::Text("\"deploy\"".into())));
    }
}
