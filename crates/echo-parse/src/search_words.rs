//! How search reads text: as words, lower-cased and with Latin accents folded (`Café` is `cafe`),
//! except for scripts written without spaces (Chinese, Japanese, Korean), whose runs are read as
//! overlapping pairs of characters, the way CJK search engines index them: `東京タワー` is
//! `東京 京タ タワ ワー`, so any two or more consecutive characters are a phrase of pairs.
//!
//! Documents and queries go through the same functions, so both sides always agree.

use unicode_normalization::char::decompose_canonical;

/// Longer words are cut to this many characters (on both sides, so they still match).
pub const MAX_WORD_CHARS: usize = 64;

/// A stretch of word characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A word of a spaced script, normalized.
    Word(String),
    /// A run of CJK characters.
    Cjk(Vec<char>),
}

/// Characters of scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}'   // Hangul Jamo
        | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3130}'..='\u{318F}' // Hangul compatibility Jamo
        | '\u{31F0}'..='\u{31FF}' // Katakana extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}' // half-width Katakana
        | '\u{20000}'..='\u{3134F}' // CJK extensions B–G
    )
}

/// `é` as `e`: a Latin letter with marks becomes its base letter.
fn fold_latin(c: char) -> char {
    if !matches!(c, '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}') {
        return c;
    }
    let mut base = None;
    decompose_canonical(c, |d| {
        base.get_or_insert(d);
    });
    base.filter(char::is_ascii_alphabetic).unwrap_or(c)
}

/// The word and CJK stretches of `text`, in order; everything else separates them.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush = |word: &mut String, run: &mut Vec<char>, out: &mut Vec<Segment>| {
        if !word.is_empty() {
            out.push(Segment::Word(std::mem::take(word)));
        }
        if !run.is_empty() {
            out.push(Segment::Cjk(std::mem::take(run)));
        }
    };
    for c in text.chars() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut run, &mut out);
        } else if is_cjk(c) {
            if !word.is_empty() {
                flush(&mut word, &mut Vec::new(), &mut out);
            }
            run.push(c);
        } else {
            if !run.is_empty() {
                flush(&mut String::new(), &mut run, &mut out);
            }
            for lower in c.to_lowercase().filter(|l| l.is_alphanumeric()) {
                if word.chars().count() < MAX_WORD_CHARS {
                    word.push(fold_latin(lower));
                }
            }
        }
    }
    flush(&mut word, &mut run, &mut out);
    out
}

/// A CJK run's overlapping pairs.
pub fn pairs(run: &[char]) -> impl Iterator<Item = String> + '_ {
    run.windows(2).map(|w| w.iter().collect())
}

/// The tokens a document is indexed under, in order. A CJK run gives its pairs and then its last
/// character alone, so that every character of the run begins some token (a one-character
/// search is a prefix search).
pub fn index_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for segment in segments(text) {
        match segment {
            Segment::Word(word) => out.push(word),
            Segment::Cjk(run) => {
                out.extend(pairs(&run));
                if let Some(last) = run.last() {
                    out.push(last.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_latin_accents_folded() {
        assert_eq!(
            index_tokens("Café crème, NAÏVE-user_42 straße Việt"),
            ["cafe", "creme", "naive", "user", "42", "straße", "viet"]
        );
    }

    #[test]
    fn cjk_runs_become_overlapping_pairs_and_their_last_character() {
        assert_eq!(index_tokens("明日は東京"), ["明日", "日は", "は東", "東京", "京"]);
        assert_eq!(
            index_tokens("go to 東京 soon"),
            ["go", "to", "東京", "京", "soon"]
        );
        assert_eq!(index_tokens("Tokyo東"), ["tokyo", "東"]);
        assert_eq!(index_tokens("東・京"), ["東", "京"]);
    }

    #[test]
    fn long_words_are_cut() {
        let long = "a".repeat(200);
        assert_eq!(index_tokens(&long), ["a".repeat(MAX_WORD_CHARS)]);
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_tokens_of_word_characters(text in ".*") {
            for token in index_tokens(&text) {
                proptest::prop_assert!(!token.is_empty());
                proptest::prop_assert!(token.chars().count() <= MAX_WORD_CHARS);
                proptest::prop_assert!(token.chars().all(|c| c.is_alphanumeric() || is_cjk(c)));
            }
        }
    }
}
