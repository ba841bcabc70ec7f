//! Highlighted snippets: plain text in which every match is wrapped in `<mark>`…`</mark>` and
//! everything else is HTML-escaped, so a client may split on the two tags and insert the rest as
//! text (or insert the whole as HTML) without ever running what a message contained.

/// The longest snippet, in characters, before the ellipses.
pub const SNIPPET_CHARS: usize = 240;
/// How much text to show before the first match when the snippet must be cut.
const LEAD_CHARS: usize = 60;

fn fold(c: char) -> char {
    // One char for one char keeps positions aligned; the few characters whose lower case is
    // longer compare by their first lower-case char, which is close enough for highlighting.
    c.to_lowercase().next().unwrap_or(c)
}

/// Char ranges of `text` where any of `needles` occurs, case-insensitively, merged and sorted.
pub fn match_ranges(text: &[char], needles: &[&str]) -> Vec<(usize, usize)> {
    let folded: Vec<char> = text.iter().map(|c| fold(*c)).collect();
    let mut ranges = Vec::new();
    for needle in needles {
        let needle: Vec<char> = needle.chars().map(fold).collect();
        if needle.is_empty() || needle.len() > folded.len() {
            continue;
        }
        let mut i = 0;
        while i + needle.len() <= folded.len() {
            if folded[i..i + needle.len()] == needle[..] {
                ranges.push((i, i + needle.len()));
                i += needle.len();
            } else {
                i += 1;
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

fn escape_into(out: &mut String, chars: &[char]) {
    for c in chars {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(*c),
        }
    }
}

/// The snippet of `text` around its first match (the start of the text when nothing matches).
pub fn highlight(text: &str, needles: &[&str]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let ranges = match_ranges(&chars, needles);
    let (start, end) = if chars.len() <= SNIPPET_CHARS {
        (0, chars.len())
    } else {
        let first = ranges.first().map_or(0, |r| r.0);
        let start = first.saturating_sub(LEAD_CHARS);
        let end = (start + SNIPPET_CHARS).min(chars.len());
        (end.saturating_sub(SNIPPET_CHARS).min(start), end)
    };
    let mut out = String::with_capacity((end - start) + 32);
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for &(s, e) in &ranges {
        if e <= start || s >= end {
            continue;
        }
        let (s, e) = (s.max(start), e.min(end));
        escape_into(&mut out, &chars[at..s]);
        out.push_str("<mark>");
        escape_into(&mut out, &chars[s..e]);
        out.push_str("</mark>");
        at = e;
    }
    escape_into(&mut out, &chars[at..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// Whether any needle occurs in `text`.
pub fn matches(text: &str, needles: &[&str]) -> bool {
    let chars: Vec<char> = text.chars().collect();
    !match_ranges(&chars, needles).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_case_insensitively() {
        assert_eq!(
            highlight("Deploy the DEPLOYMENT", &["deploy"]),
            "<mark>Deploy</mark> the <mark>DEPLOY</mark>MENT"
        );
    }

    #[test]
    fn everything_else_is_escaped() {
        assert_eq!(
            highlight("<script>alert('x')</script> hello", &["hello", "script"]),
            "&lt;<mark>script</mark>&gt;alert(&#39;x&#39;)&lt;/<mark>script</mark>&gt; <mark>hello</mark>"
        );
    }

    #[test]
    fn long_text_is_cut_around_the_first_match() {
        let text = format!("{} needle {}", "a ".repeat(300), "b ".repeat(300));
        let snippet = highlight(&text, &["needle"]);
        assert!(snippet.starts_with('…') && snippet.ends_with('…'));
        assert!(snippet.contains("<mark>needle</mark>"));
        assert!(snippet.chars().count() < SNIPPET_CHARS + 20);
    }

    #[test]
    fn overlapping_needles_make_one_mark() {
        assert_eq!(
            highlight("東京タワー", &["東京", "京タ"]),
            "<mark>東京タ</mark>ワー"
        );
    }
}
