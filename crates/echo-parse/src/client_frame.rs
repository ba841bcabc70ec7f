//! The frames a WebSocket client may send: `{"type":"ping"}`, `{"type":"typing","channel_id":…}`
//! and `{"type":"presence_subscribe","user_ids":[…]}`. Anything else is ignored by the
//! connection, not an error.

use serde::Deserialize;
use uuid::Uuid;

/// The most people one connection can watch the presence of; their ids fit one 16 KiB frame.
pub const MAX_PRESENCE_SUBSCRIPTIONS: usize = 400;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Ping,
    Typing {
        channel_id: Uuid,
    },
    /// The people whose presence the client shows; replaces the previous list.
    PresenceSubscribe {
        user_ids: Vec<Uuid>,
    },
}

/// Reads a text frame (the connection bounds its size first); `None` for anything unknown, and
/// for a presence subscription longer than [`MAX_PRESENCE_SUBSCRIPTIONS`].
pub fn decode(text: &str) -> Option<ClientFrame> {
    match serde_json::from_str(text).ok()? {
        ClientFrame::PresenceSubscribe { user_ids } if user_ids.len() > MAX_PRESENCE_SUBSCRIPTIONS => None,
        frame => Some(frame),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_frames_and_nothing_else() {
        let id = Uuid::nil();
        assert_eq!(decode(r#"{"type":"ping"}"#), Some(ClientFrame::Ping));
        assert_eq!(
            decode(&format!(r#"{{"type":"typing","channel_id":"{id}"}}"#)),
            Some(ClientFrame::Typing { channel_id: id })
        );
        assert_eq!(
            decode(&format!(r#"{{"type":"presence_subscribe","user_ids":["{id}"]}}"#)),
            Some(ClientFrame::PresenceSubscribe { user_ids: vec![id] })
        );
        assert_eq!(
            decode(r#"{"type":"presence_subscribe","user_ids":[]}"#),
            Some(ClientFrame::PresenceSubscribe { user_ids: vec![] })
        );
        for other in [
            r#"{"type":"typing"}"#,
            r#"{"type":"shout"}"#,
            r#"{"type":"presence_subscribe"}"#,
            r#"{"type":"presence_subscribe","user_ids":["not an id"]}"#,
            "ping",
            "",
            "[]",
            r#"{"type":"ping""#,
        ] {
            assert_eq!(decode(other), None, "{other}");
        }
    }

    #[test]
    fn a_presence_subscription_is_bounded() {
        let ids = |n: usize| {
            let list: Vec<String> = (0..n)
                .map(|i| format!("\"{}\"", Uuid::from_u128(i as u128)))
                .collect();
            format!(
                r#"{{"type":"presence_subscribe","user_ids":[{}]}}"#,
                list.join(",")
            )
        };
        let largest = ids(MAX_PRESENCE_SUBSCRIPTIONS);
        assert!(
            largest.len() <= 16 * 1024,
            "the largest subscription fits a frame"
        );
        assert!(decode(&largest).is_some());
        assert_eq!(decode(&ids(MAX_PRESENCE_SUBSCRIPTIONS + 1)), None);
    }
}
