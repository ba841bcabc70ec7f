//! Mentions in arbitrary text: never a panic (the parser slices strings by byte offsets), each
//! user once, and a mention written into the text is always found.
#![no_main]

use echo_parse::mentions::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u128)| {
    let (text, id) = input;
    let found = parse(text);
    let mut unique = found.user_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), found.user_ids.len(), "a user listed twice for {text:?}");

    let id = uuid::Uuid::from_u128(id);
    let with_mention = format!("{text} <@{id}>");
    assert!(parse(&with_mention).user_ids.contains(&id), "{with_mention:?} lost its mention");
});
