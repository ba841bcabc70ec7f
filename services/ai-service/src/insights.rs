//! Channel insights: topics (TF-IDF keywords against the workspace), a lexicon-based sentiment
//! with simple negation, action items found by request and deadline patterns, and activity
//! (messages per day and per hour, top posters).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::index::Doc;
use crate::text;

#[derive(Debug, Serialize, ToSchema)]
pub struct Insights {
    pub topics: Vec<String>,
    pub sentiment: Sentiment,
    pub action_items: Vec<ActionItem>,
    pub activity: Activity,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sentiment {
    /// From -1 (all negative) to 1 (all positive).
    pub score: f32,
    /// `positive`, `neutral` or `negative`.
    pub label: String,
    pub positive_messages: usize,
    pub negative_messages: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionItem {
    pub text: String,
    pub message_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Activity {
    pub messages: usize,
    pub per_day: Vec<DayCount>,
    /// Messages per hour of the day (UTC), 24 entries.
    pub per_hour: Vec<usize>,
    pub top_posters: Vec<Poster>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    pub date: String,
    pub count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Poster {
    pub user_id: Uuid,
    pub messages: usize,
}

const POSITIVE: &str = "good great awesome excellent amazing love loved nice happy glad thanks thank appreciate appreciated \
    perfect fantastic brilliant cool fixed works working solved success successful win wins won congrats congratulations \
    well smooth fast easy helpful clean stable improved improvement excited exciting yay agree resolved shipped ready \
    impressive wonderful superb kudos";
const NEGATIVE: &str = "bad terrible awful hate broken broke break fail failed failing failure error errors bug bugs crash \
    crashed crashes slow issue issues problem problems wrong worse worst annoying angry sad sorry blocked blocker stuck \
    confusing confused outage down delay delayed late regression flaky timeout timeouts painful ugly frustrating \
    frustrated concern concerned worried risk leak leaking lost";
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "don't", "doesn't", "isn't", "wasn't", "aren't", "can't", "won't", "didn't",
    "without",
];

static POS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| POSITIVE.split_whitespace().collect());
static NEG: LazyLock<HashSet<&'static str>> = LazyLock::new(|| NEGATIVE.split_whitespace().collect());

/// Phrases that make a sentence a request or a commitment.
const REQUEST_PATTERNS: &[&str] = &[
    "can you",
    "could you",
    "would you",
    "will you",
    "can someone",
    "could someone",
    "can somebody",
    "please ",
    "todo",
    "to-do",
    "to do:",
    "action item",
    "need to",
    "needs to",
    "have to",
    "must ",
    "don't forget",
    "do not forget",
    "remember to",
    "make sure",
    "follow up",
    "follow-up",
    "i'll ",
    "i will ",
    "let's ",
    "assigned to",
    "deadline",
    "due ",
];
/// Deadlines ("by Friday", "by EOD", …).
const DEADLINES: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "tomorrow",
    "tonight",
    "eod",
    "end of day",
    "end of the day",
    "end of week",
    "end of the week",
    "next week",
    "noon",
    "the weekend",
    "the release",
    "the demo",
];

/// Sentiment of one text: positive minus negative lexicon hits, a negation flipping the next
/// two words.
fn polarity(text: &str) -> i32 {
    let words = text::words(text);
    let mut score = 0;
    for (i, w) in words.iter().enumerate() {
        let negated = words[i.saturating_sub(2)..i]
            .iter()
            .any(|p| NEGATIONS.contains(&p.as_str()));
        let value = if POS.contains(w.as_str()) {
            1
        } else if NEG.contains(w.as_str()) {
            -1
        } else {
            0
        };
        score += if negated { -value } else { value };
    }
    score
}

pub fn sentiment(docs: &[Doc]) -> Sentiment {
    let (mut positive, mut negative) = (0, 0);
    for d in docs {
        match polarity(&d.text).signum() {
            1 => positive += 1,
            -1 => negative += 1,
            _ => {}
        }
    }
    let score = if positive + negative == 0 {
        0.0
    } else {
        (positive as f32 - negative as f32) / (positive + negative) as f32
    };
    let label = if score > 0.15 {
        "positive"
    } else if score < -0.15 {
        "negative"
    } else {
        "neutral"
    };
    Sentiment {
        score,
        label: label.into(),
        positive_messages: positive,
        negative_messages: negative,
    }
}

/// Whether a sentence reads as a request, a to-do or a commitment with a deadline.
pub fn is_action(sentence: &str) -> bool {
    let lower = format!("{} ", sentence.to_lowercase());
    if REQUEST_PATTERNS
        .iter()
        .any(|p| lower.contains(p) || lower.starts_with(p.trim_end()))
    {
        return true;
    }
    DEADLINES
        .iter()
        .any(|d| lower.contains(&format!("by {d}")) || lower.contains(&format!("before {d}")))
}

pub fn action_items(docs: &[Doc]) -> Vec<ActionItem> {
    let mut items = Vec::new();
    for d in docs {
        for sentence in text::sentences(&d.text) {
            if is_action(&sentence) {
                items.push(ActionItem {
                    text: text::snippet(&sentence, 240),
                    message_id: d.id,
                });
            }
        }
    }
    // The most recent ones matter most; keep the list short.
    let start = items.len().saturating_sub(25);
    items.split_off(start)
}

pub fn activity(docs: &[Doc]) -> Activity {
    let mut per_day: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_hour = vec![0; 24];
    let mut posters: HashMap<Uuid, usize> = HashMap::new();
    for d in docs {
        let at = echo_domain::time::from_ms(d.created_at);
        *per_day.entry(at.format("%Y-%m-%d").to_string()).or_default() += 1;
        per_hour[chrono::Timelike::hour(&at) as usize] += 1;
        *posters.entry(d.author_id).or_default() += 1;
    }
    let mut top: Vec<Poster> = posters
        .into_iter()
        .map(|(user_id, messages)| Poster { user_id, messages })
        .collect();
    top.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.user_id.cmp(&b.user_id)));
    top.truncate(5);
    Activity {
        messages: docs.len(),
        per_day: per_day
            .into_iter()
            .map(|(date, count)| DayCount { date, count })
            .collect(),
        per_hour,
        top_posters: top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_deadlines_are_action_items() {
        assert!(is_action("Can you review the PR?"));
        assert!(is_action("TODO: rotate the keys"));
        assert!(is_action("Ship the report by Friday"));
        assert!(!is_action("The weather is nice today"));
    }

    #[test]
    fn negation_flips_polarity() {
        assert!(polarity("the deploy works great") > 0);
        assert!(polarity("the build is broken again") < 0);
        assert!(polarity("it is not good") < 0);
    }
}
