//! The search query language on arbitrary input: never a panic, no control character in a term
//! (a NUL once broke the database's query syntax), and a parsed query written back parses to
//! itself (so what the search box shows is what was searched).
#![no_main]

use echo_parse::search_query::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let Ok(parsed) = parse(input) else { return };
    for term in parsed.terms.iter().chain(&parsed.excluded) {
        assert!(!term.text().chars().any(char::is_control), "{input:?} kept a control character");
    }
    let written = parsed.to_string();
    assert_eq!(parse(&written).ok(), Some(parsed), "round trip of {input:?} through {written:?}");
});
