//! Ids are UUIDv7: unique across the whole system and ordered by creation time, so a list ordered by
//! id is ordered by time and a cursor can simply be the last id seen.

use uuid::Uuid;

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
