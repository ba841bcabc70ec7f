//! The search query parser on arbitrary input: it must never panic, a parsed query written back
//! must parse to itself, and the SQL built from it must carry every value as a bound parameter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use message_service::search::{query, sql};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = query::parse(input) else { return };
    let written = parsed.to_string();
    assert_eq!(query::parse(&written).ok(), Some(parsed.clone()), "round trip of {input:?}");
    let scope = sql::Scope {
        workspace_id: uuid_nil(),
        user_id: uuid_nil(),
        guest: false,
        now: 0,
        offset: 0,
        limit: 10,
    };
    for dialect in [sql::Dialect::Sqlite, sql::Dialect::Postgres] {
        let plan = sql::build(dialect, &parsed, &scope);
        for term in parsed.terms.iter().chain(&parsed.excluded) {
            // A term long enough to be recognisable must never appear in the statement itself.
            if term.text().len() > 12 && term.text().chars().all(|c| c.is_alphanumeric()) {
                assert!(!plan.sql.contains(term.text()), "{input:?} spliced into SQL");
            }
        }
    }
});

fn uuid_nil() -> uuid::Uuid {
    uuid::Uuid::nil()
}
