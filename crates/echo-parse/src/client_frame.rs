//! The frames a WebSocket client may send: `{"type":"ping"}` and
//! `{"type":"typing","channel_id":…}`. Anything else is ignored by the connection, not an error.

use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Ping,
    Typing { channel_id: Uuid },
}

/// Reads a text frame (the connection bounds its size first); `None` for anything unknown.
pub fn decode(text: &str) -> Option<ClientFrame> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_two_frames_and_nothing_else() {
        let id = Uuid::nil();
        assert_eq!(decode(r#"{"type":"ping"}"#), Some(ClientFrame::Ping));
        assert_eq!(
            decode(&format!(r#"{{"type":"typing","channel_id":"{id}"}}"#)),
            Some(ClientFrame::Typing { channel_id: id })
        );
        for other in [
            r#"{"type":"typing"}"#,
            r#"{"type":"shout"}"#,
            "ping",
            "",
            "[]",
            r#"{"type":"ping""#,
        ] {
            assert_eq!(decode(other), None, "{other}");
        }
    }
}
