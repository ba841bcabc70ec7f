//! Slack's message ids: `ts`, "seconds.micros" of the message's creation, unique per channel.
//!
//! A message's ts comes from its UUIDv7 (whose first 48 bits are its creation in milliseconds)
//! plus three digits taken from its random bits, and is stored the first time it is shown
//! (`slack_ts`); a message whose preferred ts is taken in its channel gets the next free
//! microsecond. So a ts never changes once seen, and maps back to exactly one message.

use uuid::Uuid;

use crate::integrations::store::IntegrationStore;
use crate::store::StoreResult;

pub fn format(micros: i64) -> String {
    format!(
        "{}.{:06}",
        micros.div_euclid(1_000_000),
        micros.rem_euclid(1_000_000)
    )
}

/// Microseconds since the epoch, from "seconds.micros" (fewer fraction digits are padded).
pub fn parse(ts: &str) -> Option<i64> {
    let (secs, frac) = ts.trim().split_once('.').unwrap_or((ts.trim(), ""));
    if secs.is_empty()
        || frac.len() > 6
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    secs.checked_mul(1_000_000)?.checked_add(frac)
}

/// The creation instant a UUIDv7 carries, in milliseconds.
pub fn id_millis(id: Uuid) -> i64 {
    let b = id.as_bytes();
    i64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

/// The ts a message would like: its millisecond, and three digits from its random bits.
pub fn preferred(id: Uuid) -> i64 {
    let b = id.as_bytes();
    let spread = i64::from(u16::from_be_bytes([b[14], b[15]]) % 1000);
    id_millis(id) * 1000 + spread
}

/// The smallest and largest UUIDs of one millisecond (ids compare bytewise on both backends).
pub fn id_bounds(millis: i64) -> (Uuid, Uuid) {
    let ms = millis.to_be_bytes();
    let mut lo = [0_u8; 16];
    let mut hi = [0xff_u8; 16];
    lo[..6].copy_from_slice(&ms[2..]);
    hi[..6].copy_from_slice(&ms[2..]);
    (Uuid::from_bytes(lo), Uuid::from_bytes(hi))
}

/// A fresh UUIDv7 of a given instant (for messages imported with their original time).
pub fn id_at(millis: i64) -> Uuid {
    let millis = u64::try_from(millis).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        millis / 1000,
        u32::try_from(millis % 1000).unwrap_or(0) * 1_000_000,
    );
    Uuid::new_v7(ts)
}

/// The instant a ts names, as a lower bound on message ids (for `oldest`/`latest`).
pub fn lower_id(ts: &str) -> Option<Uuid> {
    parse(ts).map(|micros| id_bounds(micros.div_euclid(1000)).0)
}

/// The ts of a message, assigned on first use.
pub async fn of(store: &dyn IntegrationStore, message_id: Uuid, channel_id: Uuid) -> StoreResult<String> {
    store.ts_of(message_id, channel_id, preferred(message_id)).await
}

/// The message a ts names in a channel: one it was assigned to, else one created in that
/// millisecond whose ts (assigned now) it is.
pub async fn resolve(store: &dyn IntegrationStore, channel_id: Uuid, ts: &str) -> StoreResult<Option<Uuid>> {
    let Some(micros) = parse(ts) else { return Ok(None) };
    let canonical = format(micros);
    if let Some(id) = store.message_by_ts(channel_id, &canonical).await? {
        return Ok(Some(id));
    }
    let (lo, hi) = id_bounds(micros.div_euclid(1000));
    for id in store.messages_between(channel_id, lo, hi).await? {
        if of(store, id, channel_id).await? == canonical {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_round_trips_and_pads() {
        assert_eq!(format(1_700_000_000_123_456), "1700000000.123456");
        assert_eq!(parse("1700000000.123456"), Some(1_700_000_000_123_456));
        assert_eq!(parse("1700000000.1"), Some(1_700_000_000_100_000));
        assert_eq!(parse("1700000000"), Some(1_700_000_000_000_000));
        assert_eq!(parse("abc"), None);
        assert_eq!(parse("1.1234567"), None);
    }

    #[test]
    fn the_preferred_ts_lies_in_the_messages_millisecond() {
        let id = Uuid::now_v7();
        let ms = id_millis(id);
        assert_eq!(preferred(id) / 1000, ms);
        let (lo, hi) = id_bounds(ms);
        assert!(lo <= id && id <= hi);
    }
}
