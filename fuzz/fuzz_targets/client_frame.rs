//! WebSocket client frames on arbitrary text: never a panic, and a frame that decodes re-encodes
//! to one that decodes the same.
#![no_main]

use echo_parse::client_frame::{ClientFrame, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Some(frame) = decode(text) else { return };
    let again = match &frame {
        ClientFrame::Ping => r#"{"type":"ping"}"#.to_owned(),
        ClientFrame::Typing { channel_id } => format!(r#"{{"type":"typing","channel_id":"{channel_id}"}}"#),
        ClientFrame::PresenceSubscribe { user_ids } => {
            let ids: Vec<String> = user_ids.iter().map(|id| format!("\"{id}\"")).collect();
            format!(r#"{{"type":"presence_subscribe","user_ids":[{}]}}"#, ids.join(","))
        }
    };
    assert_eq!(decode(&again), Some(frame));
});
