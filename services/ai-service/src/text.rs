//! Text helpers shared by the lexical index, the extractive methods and insights: word
//! tokenisation with stop words removed, sentence splitting and snippets.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Common English function words: they carry no topic, so matching on them is noise.
const STOP_WORDS: &str = "a about above after again against all am an and any are aren't as at be because been before \
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each \
few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself \
his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of \
off on once only or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some \
such than that that's the their theirs them themselves then there there's these they they'd they'll they're they've this \
those through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where \
where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours yourself \
yourselves also just get got will im ive dont cant yeah yes ok okay hey hi thanks thank please lol one us let";

static STOPS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| STOP_WORDS.split_whitespace().collect());

pub fn is_stop_word(word: &str) -> bool {
    STOPS.contains(word)
}

/// Lower-cased words of `text` (letters, digits, inner apostrophes), mentions and URLs dropped.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split_whitespace() {
        if raw.starts_with("<@") || raw.starts_with("http://") || raw.starts_with("https://") {
            continue;
        }
        let mut word = String::new();
        for c in raw.chars() {
            if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
                word.extend(c.to_lowercase());
            } else if !word.is_empty() {
                out.push(std::mem::take(&mut word).trim_end_matches('\'').to_owned());
            }
        }
        if !word.is_empty() {
            out.push(word.trim_end_matches('\'').to_owned());
        }
    }
    out
}

/// The index terms of `text`: words without stop words, with a light suffix folding so that
/// "deploys", "deployed" and "deploying" meet (a keyword index, not a linguistic one).
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| w.len() > 1 && !is_stop_word(w))
        .map(|w| fold(&w))
        .collect()
}

/// The index term of one lower-cased word (see [`terms`]).
pub fn fold(word: &str) -> String {
    let word = word.strip_suffix("'s").unwrap_or(word);
    for suffix in ["ing", "ed", "s"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.chars().count() >= 3
            && !(suffix == "s" && (stem.ends_with('s') || stem.ends_with('u') || stem.ends_with('i')))
        {
            return stem.to_owned();
        }
    }
    word.to_owned()
}

/// Splits text into sentences at `.`, `!`, `?` followed by whitespace, and at line breaks.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut current = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            current.push(c);
            if matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace()) {
                push_sentence(&mut out, &mut current);
            }
        }
        push_sentence(&mut out, &mut current);
    }
    out
}

fn push_sentence(out: &mut Vec<String>, current: &mut String) {
    let sentence = current.trim();
    if sentence.chars().any(char::is_alphanumeric) {
        out.push(sentence.to_owned());
    }
    current.clear();
}

/// At most `max` characters of `text` on one line, cut at a word boundary with an ellipsis.
pub fn snippet(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = cut
        .rsplit_once(' ')
        .map_or(cut.as_str(), |(head, _)| head)
        .to_owned();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_drop_stop_words_and_fold_suffixes() {
        assert_eq!(
            terms("We deployed the deploys, deploying <@abc> https://x.y"),
            vec!["deploy", "deploy", "deploy"]
        );
        assert_eq!(terms("Alice's class"), vec!["alice", "class"]);
    }

    #[test]
    fn sentences_split_on_terminators_and_lines() {
        assert_eq!(
            sentences("One. Two! v1.2 is out?\nThree"),
            vec!["One.", "Two!", "v1.2 is out?", "Three"]
        );
    }

    #[test]
    fn snippets_cut_at_words() {
        assert_eq!(snippet("hello wonderful world", 12), "hello…");
        assert_eq!(snippet("short", 12), "short");
    }
}
