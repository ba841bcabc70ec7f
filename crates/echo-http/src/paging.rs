//! Cursor paging as the contract defines it: `?limit=` (default 50, max 200) with `before`/`after`
//! cursors. Cursors are ids: every id is time-ordered, so "before id X" is a stable position that new
//! inserts cannot shift.

use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Return items older than this cursor.
    pub before: Option<String>,
    /// Return items newer than this cursor.
    pub after: Option<String>,
}

impl Paging {
    /// The page size asked for, checked against the contract's bounds.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n @ 1..=MAX_LIMIT) => Ok(n),
            Some(_) => Err(ApiError::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    pub fn before_id(&self) -> Result<Option<Uuid>, ApiError> {
        parse_cursor("before", self.before.as_deref())
    }

    pub fn after_id(&self) -> Result<Option<Uuid>, ApiError> {
        parse_cursor("after", self.after.as_deref())
    }
}

fn parse_cursor(field: &str, raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    raw.filter(|s| !s.is_empty())
        .map(|s| Uuid::parse_str(s).map_err(|_| ApiError::invalid_field(field, "is not a valid cursor")))
        .transpose()
}
