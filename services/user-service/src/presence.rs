//! How presence looks to others: the status a user chose, shown only while they have a live
//! connection, and `invisible` never shown.

use echo_events::Envelope;
use serde_json::json;
use uuid::Uuid;

pub const PRODUCER: &str = "user-service";

/// The status others see.
pub fn seen_by_others(chosen: &str, connections: i64) -> &str {
    if connections > 0 && chosen != "invisible" {
        chosen
    } else {
        "offline"
    }
}

pub fn changed_event(user_id: Uuid, seen: &str) -> Envelope {
    Envelope::new(
        "presence.changed",
        1,
        PRODUCER,
        json!({"user_id": user_id, "status": seen}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn others_see_the_chosen_status_only_while_connected_and_never_invisible() {
        assert_eq!(seen_by_others("away", 2), "away");
        assert_eq!(seen_by_others("away", 0), "offline");
        assert_eq!(seen_by_others("invisible", 3), "offline");
    }
}
