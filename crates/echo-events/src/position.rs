//! A point in an event log.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::BusError;

/// A point in the log, totally ordered, with the same text form (`"ms-seq"`) on both backends.
///
/// On Redis it is the stream entry id (`ms` is the append time in milliseconds). The SQLite log
/// uses `(rowid, 0)`, so its positions read `"42-0"`. Positions are opaque to clients (they are
/// the WebSocket `cursor`), but they compare correctly within one backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub ms: u64,
    pub seq: u64,
}

impl Position {
    /// The smallest position; every real entry is after it.
    pub const ZERO: Position = Position { ms: 0, seq: 0 };

    pub const fn new(ms: u64, seq: u64) -> Self {
        Self { ms, seq }
    }

    /// The greatest position strictly before this one, so that "after `p.before()`" includes `p`.
    /// Used to replay from a position inclusively.
    pub fn before(self) -> Position {
        match (self.ms, self.seq) {
            (0, 0) => Position::ZERO,
            (ms, 0) => Position::new(ms - 1, u64::MAX),
            (ms, seq) => Position::new(ms, seq - 1),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for Position {
    type Err = BusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || BusError::InvalidPosition(s.to_owned());
        let (ms, seq) = s.split_once('-').ok_or_else(invalid)?;
        Ok(Position {
            ms: ms.parse().map_err(|_| invalid())?,
            seq: seq.parse().map_err(|_| invalid())?,
        })
    }
}

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_orders_numerically() {
        let a: Position = "9-5".parse().unwrap();
        let b: Position = "10-0".parse().unwrap();
        assert!(a < b);
        assert_eq!(b.to_string(), "10-0");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"9-5\"");
        assert_eq!(serde_json::from_str::<Position>("\"9-5\"").unwrap(), a);
        assert!("10".parse::<Position>().is_err());
        assert!("x-1".parse::<Position>().is_err());
    }

    #[test]
    fn before_is_the_immediate_predecessor() {
        assert_eq!(Position::new(5, 2).before(), Position::new(5, 1));
        assert_eq!(Position::new(5, 0).before(), Position::new(4, u64::MAX));
        assert!(Position::new(5, 0).before() < Position::new(5, 0));
        assert!(Position::new(4, 0) < Position::new(5, 0).before());
    }
}
