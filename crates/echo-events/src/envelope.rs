//! The versioned envelope every event travels in.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::position::Position;

/// One event: what happened (`kind` + `version` say how to read `payload`), when, and who said so.
///
/// `id` is a UUIDv7, unique per event and stable across redeliveries and outbox retries, so
/// consumers deduplicate on it (delivery is at least once).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    pub id: uuid::Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u16,
    pub occurred_at: DateTime<Utc>,
    pub producer: String,
    pub payload: serde_json::Value,
}

impl Envelope {
    /// A new envelope with a fresh UUIDv7 and the current time.
    ///
    /// A payload that cannot become JSON (a map with non-string keys, a failing `Serialize`) is a
    /// programming error; it is logged and stored as `null` rather than panicking in a request
    /// path. Use [`Envelope::try_new`] to handle it.
    pub fn new(kind: &str, version: u16, producer: &str, payload: impl Serialize) -> Self {
        let payload = serde_json::to_value(payload).unwrap_or_else(|error| {
            tracing::error!(%error, kind, "event payload is not representable as JSON");
            serde_json::Value::Null
        });
        Self::with_value(kind, version, producer, payload)
    }

    /// Like [`Envelope::new`], but reports a payload that cannot be serialized.
    pub fn try_new(
        kind: &str,
        version: u16,
        producer: &str,
        payload: impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self::with_value(
            kind,
            version,
            producer,
            serde_json::to_value(payload)?,
        ))
    }

    fn with_value(kind: &str, version: u16, producer: &str, payload: serde_json::Value) -> Self {
        Self {
            id: uuid::Uuid::now_v7(),
            kind: kind.to_owned(),
            version,
            occurred_at: Utc::now(),
            producer: producer.to_owned(),
            payload,
        }
    }

    /// Reads the payload as `T`; consumers pick `T` from `kind` and `version`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }
}

/// An envelope together with where it sits in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logged {
    pub position: Position,
    pub envelope: Envelope,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_serializes_kind_as_type_and_round_trips() {
        let e = Envelope::new(
            "message.created",
            2,
            "message-service",
            serde_json::json!({"a": 1}),
        );
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains("\"type\":\"message.created\""));
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), e);
        assert_eq!(e.id.get_version_num(), 7);
    }
}
