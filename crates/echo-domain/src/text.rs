//! Text values that come from users. Each `parse` normalises (Unicode NFC, trimmed where leading and
//! trailing space carries no meaning) and then checks, returning an [`Invalid`] that names the field.

use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::common_passwords::is_common;

/// Why a value was refused, with the request field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

fn nfc(raw: &str) -> String {
    raw.nfc().collect()
}

/// Control characters have no place in single-line names (they spoof or break layouts).
fn reject_controls(field: &'static str, value: &str, allow_newlines: bool) -> Result<(), Invalid> {
    let bad = value.chars().any(|c| {
        let allowed_space = allow_newlines && matches!(c, '\n' | '\t' | '\r');
        (c.is_control() && !allowed_space) || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    });
    if bad {
        Err(Invalid::new(field, "must not contain control characters"))
    } else {
        Ok(())
    }
}

fn single_line(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let value = nfc(raw.trim());
    reject_controls(field, &value, false)?;
    let len = value.chars().count();
    if len < min {
        return Err(Invalid::new(
            field,
            if min == 1 {
                "must not be empty".into()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if len > max {
        return Err(Invalid::new(field, format!("must be at most {max} characters")));
    }
    Ok(value)
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// An email address, trimmed, NFC-normalised and lower-cased, so one mailbox is one account.
    Email
);
string_newtype!(
    /// A person's name as others see it: 1–80 characters on one line.
    DisplayName
);
string_newtype!(
    /// A workspace's name: 1–80 characters on one line.
    WorkspaceName
);
string_newtype!(
    /// A channel's name, Slack-style: lower case letters, digits, `-` and `_`, 1–80 characters.
    ChannelName
);
string_newtype!(
    /// A message body: up to 40,000 characters, newlines allowed.
    MessageText
);
string_newtype!(
    /// A reaction's emoji: a short name such as `thumbsup` or `+1`, or the emoji character itself.
    EmojiName
);
string_newtype!(
    /// Short optional free text (a title, a status, a topic): one line, bounded length, may be empty.
    ShortText
);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = nfc(raw.trim()).to_lowercase();
        let invalid = || Invalid::new("email", "must be a valid email address");
        if value.is_empty() || value.chars().count() > Self::MAX {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let plausible_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        let clean = !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'));
        if local.is_empty() || local.len() > 64 || !plausible_domain || !clean {
            return Err(invalid());
        }
        Ok(Self(value))
    }
}

impl DisplayName {
    pub const MAX: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        single_line("display_name", raw, 1, Self::MAX).map(Self)
    }
}

impl WorkspaceName {
    pub const MAX: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        single_line("name", raw, 1, Self::MAX).map(Self)
    }
}

impl ChannelName {
    pub const MAX: usize = 80;

    /// Lower-cases and turns spaces into `-`, as Slack does, then requires `[\p{L}\p{N}_-]+`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value: String = single_line("name", raw, 1, Self::MAX)?
            .to_lowercase()
            .chars()
            .map(|c| if c.is_whitespace() { '-' } else { c })
            .collect();
        if !value.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
            return Err(Invalid::new(
                "name",
                "may contain only letters, digits, '-' and '_'",
            ));
        }
        Ok(Self(value))
    }
}

impl MessageText {
    pub const MAX: usize = 40_000;

    /// `allow_empty` is for messages that carry files and no words.
    pub fn parse(raw: &str, allow_empty: bool) -> Result<Self, Invalid> {
        let value = nfc(raw);
        reject_controls("text", &value, true)?;
        if value.trim().is_empty() && !allow_empty {
            return Err(Invalid::new("text", "must not be empty"));
        }
        if value.chars().count() > Self::MAX {
            return Err(Invalid::new(
                "text",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        Ok(Self(value))
    }
}

impl EmojiName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = nfc(raw.trim());
        let invalid = || Invalid::new("emoji", "must be an emoji short name or an emoji character");
        let short_name = !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '+' | '-' | ':'));
        let emoji_char = !value.is_empty()
            && value.len() <= 32
            && value
                .chars()
                .all(|c| !c.is_ascii() && !c.is_whitespace() && !c.is_control());
        if short_name {
            Ok(Self(value.trim_matches(':').to_owned()))
                .and_then(|e| if e.0.is_empty() { Err(invalid()) } else { Ok(e) })
        } else if emoji_char {
            Ok(Self(value))
        } else {
            Err(invalid())
        }
    }
}

impl ShortText {
    pub fn parse(field: &'static str, raw: &str, max: usize) -> Result<Self, Invalid> {
        if raw.trim().is_empty() {
            return Ok(Self(String::new()));
        }
        single_line(field, raw, 0, max).map(Self)
    }
}

/// A password as typed. Never stored or logged; only its Argon2id hash is kept.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    /// Checks a new password. Login does not call this: an old password must still be accepted
    /// there even if the rules have since grown stricter.
    pub fn parse_new(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(Invalid::new(
                "password",
                format!("must be at least {} characters", Self::MIN),
            ));
        }
        if len > Self::MAX {
            return Err(Invalid::new(
                "password",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        if is_common(raw) {
            return Err(Invalid::new(
                "password",
                "is too common; choose a less guessable password",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a password given at login, bounded so a huge input cannot cost a huge hash.
    pub fn for_login(raw: &str) -> Result<Self, Invalid> {
        if raw.is_empty() || raw.chars().count() > Self::MAX {
            return Err(Invalid::new("password", "is missing or too long"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn emails_are_normalised_to_one_form() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords_must_be_long_enough_and_uncommon() {
        assert_eq!(Password::parse_new("short").unwrap_err().field, "password");
        assert!(Password::parse_new("password123").is_err());
        assert!(Password::parse_new(&"x".repeat(257)).is_err());
        assert!(Password::parse_new("correct horse battery").is_ok());
    }

    #[test]
    fn channel_names_follow_slack_rules() {
        assert_eq!(
            ChannelName::parse(" Team Updates ").unwrap().as_str(),
            "team-updates"
        );
        assert_eq!(ChannelName::parse("프로젝트").unwrap().as_str(), "프로젝트");
        assert!(ChannelName::parse("bad/name").is_err());
        assert!(ChannelName::parse("").is_err());
    }

    #[test]
    fn names_refuse_control_and_bidi_characters() {
        assert!(DisplayName::parse("Eve\u{202E}gnp.exe").is_err());
        assert!(DisplayName::parse("Eve\u{0007}").is_err());
        assert_eq!(DisplayName::parse("  Zoë  ").unwrap().as_str(), "Zoë");
    }

    #[test]
    fn message_text_allows_newlines_and_enforces_the_limit() {
        assert!(MessageText::parse("line one\nline two\ttab", false).is_ok());
        assert!(MessageText::parse("   ", false).is_err());
        assert!(MessageText::parse("", true).is_ok());
        assert!(MessageText::parse(&"a".repeat(40_000), false).is_ok());
        assert!(MessageText::parse(&"a".repeat(40_001), false).is_err());
    }

    #[test]
    fn emoji_accepts_short_names_and_characters() {
        assert_eq!(EmojiName::parse(":thumbsup:").unwrap().as_str(), "thumbsup");
        assert_eq!(EmojiName::parse("+1").unwrap().as_str(), "+1");
        assert!(EmojiName::parse("🎉").is_ok());
        assert!(EmojiName::parse("<script>").is_err());
        assert!(EmojiName::parse("::").is_err());
    }

    proptest! {
        #[test]
        fn parsed_display_names_never_hold_controls(raw in "\\PC{0,100}") {
            if let Ok(name) = DisplayName::parse(&raw) {
                prop_assert!(!name.as_str().chars().any(char::is_control));
                prop_assert!(name.as_str().chars().count() <= DisplayName::MAX);
            }
        }

        #[test]
        fn email_parsing_is_idempotent(raw in "[a-zA-Z0-9.]{1,10}@[a-z]{1,8}\\.[a-z]{2,4}") {
            let once = Email::parse(&raw).unwrap();
            prop_assert_eq!(Email::parse(once.as_str()).unwrap(), once);
        }
    }
}
