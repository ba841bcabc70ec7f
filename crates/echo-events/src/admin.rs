//! Operations behind `echo-server events …`: they return data and print nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bus::{DeadLetter, EventBus, GroupInfo, Redrive};
use crate::error::BusError;
use crate::position::Position;

/// `events dlq list [--group G] [--limit N]`: dead letters, oldest first.
pub async fn dlq_list(
    bus: &dyn EventBus,
    group: Option<&str>,
    limit: usize,
) -> Result<Vec<DeadLetter>, BusError> {
    bus.dead_letters(group, limit).await
}

/// The outcome of re-driving one dead letter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedriveReport {
    pub dead_letter: Position,
    pub group: String,
    pub position: Position,
    pub outcome: Redrive,
}

/// `events dlq retry ID…`: re-drives the given dead letters to their groups.
pub async fn dlq_retry(bus: &dyn EventBus, ids: &[Position]) -> Result<Vec<RedriveReport>, BusError> {
    let all = bus.dead_letters(None, usize::MAX).await?;
    let mut reports = Vec::with_capacity(ids.len());
    for id in ids {
        let letter = all
            .iter()
            .find(|l| l.id == *id)
            .ok_or_else(|| BusError::DeadLetterNotFound(id.to_string()))?;
        let outcome = bus.redrive(*id).await?;
        reports.push(RedriveReport {
            dead_letter: *id,
            group: letter.group.clone(),
            position: letter.position,
            outcome,
        });
    }
    Ok(reports)
}

/// `events dlq retry --all [--group G]`: re-drives every dead letter (of one group).
pub async fn dlq_retry_all(bus: &dyn EventBus, group: Option<&str>) -> Result<Vec<RedriveReport>, BusError> {
    let letters = bus.dead_letters(group, usize::MAX).await?;
    let mut reports = Vec::with_capacity(letters.len());
    for letter in letters {
        let outcome = bus.redrive(letter.id).await?;
        reports.push(RedriveReport {
            dead_letter: letter.id,
            group: letter.group,
            position: letter.position,
            outcome,
        });
    }
    Ok(reports)
}

/// Where a replay starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayFrom {
    /// From this position, inclusive.
    Position(Position),
    /// From the first event appended at or after this time.
    Time(DateTime<Utc>),
    /// From the oldest retained event.
    Oldest,
}

/// What a replay did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplayReport {
    pub group: String,
    /// The first event the group will receive again, `None` if nothing is at or after the start.
    pub first: Option<Position>,
    /// The newest position when the replay was set up (the replay runs up to it and beyond).
    pub newest: Option<Position>,
}

/// `events replay --group G --from POS | --since TIME`: moves the group back (or forward) so its
/// consumers receive everything from that point again. Consumers must be idempotent (they are,
/// by contract) since they see events a second time.
pub async fn replay(bus: &dyn EventBus, group: &str, from: ReplayFrom) -> Result<ReplayReport, BusError> {
    let (oldest, newest) = bus.bounds().await?;
    let first = match from {
        ReplayFrom::Position(p) => bus
            .read_after(Some(p.before()), 1)
            .await?
            .first()
            .map(|l| l.position),
        ReplayFrom::Time(at) => bus.position_at(at).await?,
        ReplayFrom::Oldest => oldest,
    };
    let after = match first {
        Some(first) => Some(first.before()),
        // Nothing to replay: park the group at the end rather than at the start.
        None => newest,
    };
    match after {
        Some(after) => bus.reset_group(group, Some(after)).await?,
        None => bus.reset_group(group, None).await?,
    }
    Ok(ReplayReport {
        group: group.to_owned(),
        first,
        newest,
    })
}

/// `events groups`: every consumer group with its position and pending count.
pub async fn groups(bus: &dyn EventBus) -> Result<Vec<GroupInfo>, BusError> {
    bus.groups().await
}
