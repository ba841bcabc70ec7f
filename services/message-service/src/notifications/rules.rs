//! The rule table, as pure functions of what is known about a message and one person.
//!
//! A person is *addressed* by a message when they are mentioned (`<@id>`, or `@channel`, or
//! `@here` while online, as a member), it is in a DM they are in, it replies in a thread they
//! follow, or it contains one of their keywords (as a member). The author never is. An addressed
//! person is notified unless something holds it back: they cannot see the message, the channel
//! is muted for them, their level for the channel (or their default) excludes every kind that
//! addressed them, or they are in do-not-disturb (manual, scheduled, or their presence status).
//! Every reason that applies is kept, so explain can name all of them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dnd::Schedule;
use super::{Kind, Level};

/// What the rules need to know about the message.
#[derive(Debug, Clone)]
pub struct MessageFacts<'a> {
    pub author_id: Uuid,
    pub text: &'a str,
    /// People named by `<@id>` (members of the workspace only).
    pub mentions: &'a [Uuid],
    pub mentions_channel: bool,
    pub mentions_here: bool,
    /// The channel is a DM or group DM.
    pub direct: bool,
    /// The message is a reply in a thread.
    pub reply: bool,
}

/// A person's own preferences.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    pub level: Level,
    pub keywords: Vec<String>,
    /// Manual do-not-disturb until this instant (epoch ms).
    pub dnd_until: Option<i64>,
    pub schedule: Option<Schedule>,
    pub timezone: Tz,
    /// Email for mentions and DMs left unread.
    pub email: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            level: Level::All,
            keywords: Vec::new(),
            dnd_until: None,
            schedule: None,
            timezone: Tz::UTC,
            email: true,
        }
    }
}

/// What the rules need to know about one person.
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: Uuid,
    pub is_member: bool,
    /// They may read the channel (a member, or a non-guest of its workspace when public).
    pub can_see: bool,
    pub channel_level: Level,
    pub muted: bool,
    pub follows_thread: bool,
    /// Their presence is `online` (for `@here`).
    pub online: bool,
    /// Their presence is `dnd`.
    pub status_dnd: bool,
    pub prefs: Preferences,
}

/// Why a person was notified, or what held it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Named by `<@id>`.
    Mentioned,
    /// `@channel`, as a member.
    ChannelMention,
    /// `@here`, as a member who was online.
    HereMention,
    /// A message in a DM or group DM they are in.
    DirectMessage,
    /// A reply in a thread they follow.
    FollowedThread,
    /// One of their keywords.
    Keyword,
    /// Addressed only by `@here`, and not online.
    NotOnline,
    /// They cannot read the channel.
    CannotSeeMessage,
    /// They muted the channel.
    ChannelMuted,
    /// Their level for the channel (or their default) is `nothing`.
    LevelNothing,
    /// Their level is `mentions`, and only a thread reply addressed them.
    LevelMentions,
    /// Manual do-not-disturb.
    DoNotDisturb,
    /// Inside their do-not-disturb schedule, in their time zone.
    DndSchedule,
    /// Their presence status is `dnd`.
    StatusDnd,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Mentioned => "mentioned",
            Reason::ChannelMention => "channel_mention",
            Reason::HereMention => "here_mention",
            Reason::DirectMessage => "direct_message",
            Reason::FollowedThread => "followed_thread",
            Reason::Keyword => "keyword",
            Reason::NotOnline => "not_online",
            Reason::CannotSeeMessage => "cannot_see_message",
            Reason::ChannelMuted => "channel_muted",
            Reason::LevelNothing => "level_nothing",
            Reason::LevelMentions => "level_mentions",
            Reason::DoNotDisturb => "do_not_disturb",
            Reason::DndSchedule => "dnd_schedule",
            Reason::StatusDnd => "status_dnd",
        }
    }
}

/// The outcome for one addressed person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The strongest kind their level lets through (or, when none does, the strongest that
    /// addressed them).
    pub kind: Kind,
    pub notified: bool,
    /// Why they were notified when they were; otherwise every rule that held it back.
    pub reasons: Vec<Reason>,
}

/// The decision for one person; None when the message does not address them at all.
pub fn decide(message: &MessageFacts<'_>, person: &Person, now: DateTime<Utc>) -> Option<Decision> {
    if person.user_id == message.author_id {
        return None;
    }
    let mut addressed: Vec<(Kind, Reason)> = Vec::new();
    if message.mentions.contains(&person.user_id) {
        addressed.push((Kind::Mention, Reason::Mentioned));
    }
    if person.is_member && message.mentions_channel {
        addressed.push((Kind::Mention, Reason::ChannelMention));
    }
    let here_offline = person.is_member && message.mentions_here && !person.online;
    if person.is_member && message.mentions_here && person.online {
        addressed.push((Kind::Mention, Reason::HereMention));
    }
    if person.is_member && message.direct {
        addressed.push((Kind::Dm, Reason::DirectMessage));
    }
    if message.reply && person.follows_thread {
        addressed.push((Kind::ThreadReply, Reason::FollowedThread));
    }
    if person.is_member
        && person
            .prefs
            .keywords
            .iter()
            .any(|k| contains_keyword(message.text, k))
    {
        addressed.push((Kind::Keyword, Reason::Keyword));
    }
    if addressed.is_empty() {
        return here_offline.then(|| Decision {
            kind: Kind::Mention,
            notified: false,
            reasons: vec![Reason::NotOnline],
        });
    }

    let mut held = Vec::new();
    if !person.can_see {
        held.push(Reason::CannotSeeMessage);
    }
    if person.muted {
        held.push(Reason::ChannelMuted);
    }
    let level = if person.channel_level == Level::Default {
        person.prefs.level
    } else {
        person.channel_level
    };
    let strongest = addressed.iter().map(|(kind, _)| *kind).min();
    let allowed = addressed
        .iter()
        .map(|(kind, _)| *kind)
        .filter(|kind| level.allows(*kind))
        .min();
    if allowed.is_none() {
        held.push(if level == Level::Nothing {
            Reason::LevelNothing
        } else {
            Reason::LevelMentions
        });
    }
    if person
        .prefs
        .dnd_until
        .is_some_and(|until| until > now.timestamp_millis())
    {
        held.push(Reason::DoNotDisturb);
    }
    if person
        .prefs
        .schedule
        .is_some_and(|s| s.covers(now, person.prefs.timezone))
    {
        held.push(Reason::DndSchedule);
    }
    if person.status_dnd {
        held.push(Reason::StatusDnd);
    }
    let kind = allowed.or(strongest).unwrap_or(Kind::Mention);
    Some(if held.is_empty() {
        let mut reasons: Vec<Reason> = addressed.into_iter().map(|(_, reason)| reason).collect();
        reasons.dedup();
        Decision {
            kind,
            notified: true,
            reasons,
        }
    } else {
        Decision {
            kind,
            notified: false,
            reasons: held,
        }
    })
}

/// Whether `keyword` occurs in `text` as a whole word, ignoring case: not glued to a letter,
/// digit or `_` on either side (`deploy` matches "Deploy!" but not "redeployed").
pub fn contains_keyword(text: &str, keyword: &str) -> bool {
    let keyword = keyword.trim().to_lowercase();
    if keyword.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(&keyword).any(|(at, _)| {
        !word(text[..at].chars().next_back()) && !word(text[at + keyword.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 15, 12, 0, 0).unwrap()
    }

    fn member(user_id: Uuid) -> Person {
        Person {
            user_id,
            is_member: true,
            can_see: true,
            channel_level: Level::Default,
            muted: false,
            follows_thread: false,
            online: true,
            status_dnd: false,
            prefs: Preferences::default(),
        }
    }

    fn message<'a>(author: Uuid, text: &'a str, mentions: &'a [Uuid]) -> MessageFacts<'a> {
        MessageFacts {
            author_id: author,
            text,
            mentions,
            mentions_channel: false,
            mentions_here: false,
            direct: false,
            reply: false,
        }
    }

    #[test]
    fn a_plain_message_addresses_nobody_and_the_author_never_is() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mentions = [author];
        assert_eq!(decide(&message(author, "hello", &[]), &member(bob), now()), None);
        assert_eq!(
            decide(&message(author, "hi me", &mentions), &member(author), now()),
            None
        );
    }

    #[test]
    fn each_addressing_rule_alone_notifies_with_its_kind() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mentions = [bob];
        let cases: Vec<(MessageFacts<'_>, Person, Kind, Reason)> = vec![
            (
                message(author, "hey", &mentions),
                member(bob),
                Kind::Mention,
                Reason::Mentioned,
            ),
            (
                MessageFacts {
                    mentions_channel: true,
                    ..message(author, "@channel", &[])
                },
                member(bob),
                Kind::Mention,
                Reason::ChannelMention,
            ),
            (
                MessageFacts {
                    mentions_here: true,
                    ..message(author, "@here", &[])
                },
                member(bob),
                Kind::Mention,
                Reason::HereMention,
            ),
            (
                MessageFacts {
                    direct: true,
                    ..message(author, "psst", &[])
                },
                member(bob),
                Kind::Dm,
                Reason::DirectMessage,
            ),
            (
                MessageFacts {
                    reply: true,
                    ..message(author, "re", &[])
                },
                Person {
                    follows_thread: true,
                    ..member(bob)
                },
                Kind::ThreadReply,
                Reason::FollowedThread,
            ),
            (
                message(author, "the Deploy is done", &[]),
                Person {
                    prefs: Preferences {
                        keywords: vec!["deploy".into()],
                        ..Preferences::default()
                    },
                    ..member(bob)
                },
                Kind::Keyword,
                Reason::Keyword,
            ),
        ];
        for (facts, person, kind, reason) in cases {
            let decision = decide(&facts, &person, now()).unwrap_or_else(|| panic!("{reason:?} addresses"));
            assert_eq!(
                decision,
                Decision {
                    kind,
                    notified: true,
                    reasons: vec![reason]
                }
            );
        }
    }

    #[test]
    fn broadcasts_and_keywords_need_membership_but_a_mention_does_not() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let outsider = Person {
            is_member: false,
            prefs: Preferences {
                keywords: vec!["x".into()],
                ..Preferences::default()
            },
            ..member(bob)
        };
        let broadcast = MessageFacts {
            mentions_channel: true,
            mentions_here: true,
            direct: true,
            ..message(author, "x", &[])
        };
        assert_eq!(decide(&broadcast, &outsider, now()), None);
        let mentions = [bob];
        assert!(decide(&message(author, "hey", &mentions), &outsider, now()).is_some_and(|d| d.notified));
    }

    #[test]
    fn here_reaches_only_those_online() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let here = MessageFacts {
            mentions_here: true,
            ..message(author, "@here", &[])
        };
        let offline = Person {
            online: false,
            ..member(bob)
        };
        assert_eq!(
            decide(&here, &offline, now()),
            Some(Decision {
                kind: Kind::Mention,
                notified: false,
                reasons: vec![Reason::NotOnline]
            })
        );
        let mentions = [bob];
        let here_and_named = MessageFacts {
            mentions_here: true,
            ..message(author, "@here", &mentions)
        };
        assert!(
            decide(&here_and_named, &offline, now()).is_some_and(|d| d.notified),
            "a direct mention still counts"
        );
    }

    #[test]
    fn each_holding_rule_alone_holds_back_with_its_reason() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mentions = [bob];
        let mention = message(author, "hey", &mentions);
        let later = now().timestamp_millis() + 60_000;
        let night = Schedule::from_minutes(11 * 60, 13 * 60);
        let cases = [
            (
                Person {
                    can_see: false,
                    is_member: false,
                    ..member(bob)
                },
                Reason::CannotSeeMessage,
            ),
            (
                Person {
                    muted: true,
                    ..member(bob)
                },
                Reason::ChannelMuted,
            ),
            (
                Person {
                    channel_level: Level::Nothing,
                    ..member(bob)
                },
                Reason::LevelNothing,
            ),
            (
                Person {
                    prefs: Preferences {
                        level: Level::Nothing,
                        ..Preferences::default()
                    },
                    ..member(bob)
                },
                Reason::LevelNothing,
            ),
            (
                Person {
                    prefs: Preferences {
                        dnd_until: Some(later),
                        ..Preferences::default()
                    },
                    ..member(bob)
                },
                Reason::DoNotDisturb,
            ),
            (
                Person {
                    prefs: Preferences {
                        schedule: night,
                        ..Preferences::default()
                    },
                    ..member(bob)
                },
                Reason::DndSchedule,
            ),
            (
                Person {
                    status_dnd: true,
                    ..member(bob)
                },
                Reason::StatusDnd,
            ),
        ];
        for (person, reason) in cases {
            assert_eq!(
                decide(&mention, &person, now()),
                Some(Decision {
                    kind: Kind::Mention,
                    notified: false,
                    reasons: vec![reason]
                })
            );
        }
    }

    #[test]
    fn an_expired_manual_dnd_and_a_schedule_elsewhere_in_the_day_hold_nothing_back() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mentions = [bob];
        let earlier = now().timestamp_millis() - 1;
        let prefs = Preferences {
            dnd_until: Some(earlier),
            schedule: Schedule::from_minutes(22 * 60, 8 * 60),
            ..Preferences::default()
        };
        let decision = decide(
            &message(author, "hey", &mentions),
            &Person { prefs, ..member(bob) },
            now(),
        );
        assert!(decision.is_some_and(|d| d.notified));
    }

    #[test]
    fn the_mentions_level_drops_thread_replies_but_keeps_mentions_dms_and_keywords() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let follower = Person {
            follows_thread: true,
            channel_level: Level::Mentions,
            ..member(bob)
        };
        let reply = MessageFacts {
            reply: true,
            ..message(author, "re", &[])
        };
        assert_eq!(
            decide(&reply, &follower, now()),
            Some(Decision {
                kind: Kind::ThreadReply,
                notified: false,
                reasons: vec![Reason::LevelMentions]
            })
        );
        let mentions = [bob];
        let named_reply = MessageFacts {
            reply: true,
            ..message(author, "re", &mentions)
        };
        assert_eq!(
            decide(&named_reply, &follower, now()),
            Some(Decision {
                kind: Kind::Mention,
                notified: true,
                reasons: vec![Reason::Mentioned, Reason::FollowedThread]
            })
        );
        let dm = MessageFacts {
            direct: true,
            ..message(author, "psst", &[])
        };
        assert!(decide(&dm, &follower, now()).is_some_and(|d| d.notified && d.kind == Kind::Dm));
    }

    #[test]
    fn a_channel_level_overrides_the_default_either_way() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let reply = MessageFacts {
            reply: true,
            ..message(author, "re", &[])
        };
        let quiet_default = Preferences {
            level: Level::Nothing,
            ..Preferences::default()
        };
        let loud_here = Person {
            follows_thread: true,
            channel_level: Level::All,
            prefs: quiet_default,
            ..member(bob)
        };
        assert!(decide(&reply, &loud_here, now()).is_some_and(|d| d.notified));
    }

    #[test]
    fn combined_rules_name_every_reason_and_pick_the_strongest_kind() {
        let (author, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mentions = [bob];
        let dm_mention = MessageFacts {
            direct: true,
            reply: true,
            ..message(author, "hey", &mentions)
        };
        let person = Person {
            follows_thread: true,
            ..member(bob)
        };
        assert_eq!(
            decide(&dm_mention, &person, now()),
            Some(Decision {
                kind: Kind::Mention,
                notified: true,
                reasons: vec![Reason::Mentioned, Reason::DirectMessage, Reason::FollowedThread]
            })
        );
        let later = now().timestamp_millis() + 1;
        let held = Person {
            muted: true,
            channel_level: Level::Nothing,
            prefs: Preferences {
                dnd_until: Some(later),
                ..Preferences::default()
            },
            ..person
        };
        assert_eq!(
            decide(&dm_mention, &held, now()),
            Some(Decision {
                kind: Kind::Mention,
                notified: false,
                reasons: vec![Reason::ChannelMuted, Reason::LevelNothing, Reason::DoNotDisturb]
            })
        );
    }

    #[test]
    fn keywords_match_whole_words_ignoring_case() {
        assert!(contains_keyword("Deploy done", "deploy"));
        assert!(contains_keyword("ship it: DEPLOY!", " Deploy "));
        assert!(contains_keyword("la réunion commence", "RÉUNION"));
        assert!(!contains_keyword("redeployed", "deploy"));
        assert!(!contains_keyword("deploy_bot", "deploy"));
        assert!(!contains_keyword("anything", ""));
    }
}
