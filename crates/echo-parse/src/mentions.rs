//! Mentions in message text: `<@USER_ID>` names a person, `@channel` and `@here` address everyone
//! in the channel. Pure functions; the store keeps the result so unread and mention counts are
//! plain indexed queries.

use uuid::Uuid;

/// What a message text mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Users named by `<@id>`, each once, in order of first appearance.
    pub user_ids: Vec<Uuid>,
    /// `@channel` appears as a word.
    pub channel: bool,
    /// `@here` appears as a word.
    pub here: bool,
}

impl Mentions {
    /// Keeps only the users `is_member` accepts (mentions of outsiders do nothing).
    pub fn retain_users(mut self, is_member: impl Fn(&Uuid) -> bool) -> Self {
        self.user_ids.retain(|id| is_member(id));
        self
    }
}

/// Parses the mentions of a text.
pub fn parse(text: &str) -> Mentions {
    let mut found = Mentions::default();
    for (at, _) in text.match_indices("<@") {
        let rest = &text[at + 2..];
        let Some(end) = rest.find('>') else { continue };
        // Only the hyphenated 36-character form is a mention, as the client writes it.
        if end != 36 {
            continue;
        }
        if let Ok(id) = Uuid::parse_str(&rest[..end])
            && !found.user_ids.contains(&id)
        {
            found.user_ids.push(id);
        }
    }
    found.channel = has_keyword(text, "@channel");
    found.here = has_keyword(text, "@here");
    found
}

/// Whether `keyword` occurs as a whole word: not glued to a letter, digit or `_` on either side
/// (so `foo@channel.com` and `@channels` are not broadcasts).
fn has_keyword(text: &str, keyword: &str) -> bool {
    text.match_indices(keyword).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + keyword.len()..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !glued(before) && !glued(after)
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn user_mentions_are_found_once_in_order() {
        let (a, b) = (id(1), id(2));
        let text = format!("hi <@{b}> and <@{a}>, again <@{b}>");
        assert_eq!(parse(&text).user_ids, vec![b, a]);
    }

    #[test]
    fn malformed_user_mentions_are_ignored() {
        let text = "<@not-an-id> <@> <@0190f0a0-0000-7000-8000-00000000000 <@";
        assert_eq!(parse(text), Mentions::default());
    }

    #[test]
    fn broadcasts_must_be_whole_words() {
        assert!(parse("@channel please look").channel);
        assert!(parse("hey, @here!").here);
        assert!(parse("(@channel)").channel);
        assert!(!parse("mail me@channel.com").channel);
        assert!(!parse("@channels are fun").channel);
        assert!(!parse("@hereafter").here);
        assert!(!parse("nothing here").here);
    }

    #[test]
    fn retain_users_drops_outsiders() {
        let text = format!("<@{}> <@{}>", id(1), id(2));
        let kept = parse(&text).retain_users(|u| *u == id(2));
        assert_eq!(kept.user_ids, vec![id(2)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_embedded_mention_is_found(ids in proptest::collection::vec(any::<u128>(), 0..6), filler in "[a-z @<>.,]{0,20}") {
            let mut text = String::new();
            for n in &ids {
                text.push_str(&filler);
                text.push_str(&format!("<@{}>", id(*n)));
            }
            let parsed = parse(&text);
            let mut expected: Vec<Uuid> = Vec::new();
            for n in &ids {
                if !expected.contains(&id(*n)) {
                    expected.push(id(*n));
                }
            }
            prop_assert_eq!(parsed.user_ids, expected);
        }

        #[test]
        fn parsing_never_panics_and_finds_only_present_ids(text in "\\PC{0,200}") {
            let parsed = parse(&text);
            for user in parsed.user_ids {
                let needle = format!("<@{user}>");
                prop_assert!(text.to_lowercase().contains(&needle));
            }
        }
    }
}
