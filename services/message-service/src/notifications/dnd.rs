//! Do-not-disturb schedules: a daily window of local time in the person's IANA time zone, which
//! may run past midnight (22:00–08:00).

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A daily window, `start` inclusive, `end` exclusive, in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub start: u16,
    pub end: u16,
}

/// A schedule as the API shows it: `"HH:MM"` local times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleBody {
    /// Local time the quiet hours start, `HH:MM`.
    pub start: String,
    /// Local time they end, `HH:MM`; earlier than `start` for a window across midnight.
    pub end: String,
}

const DAY: u16 = 24 * 60;

impl Schedule {
    /// From stored minutes; None unless both ends are within a day and differ.
    pub fn from_minutes(start: i64, end: i64) -> Option<Self> {
        let valid = |m: i64| (0..i64::from(DAY)).contains(&m);
        (valid(start) && valid(end) && start != end).then_some(Schedule {
            start: start as u16,
            end: end as u16,
        })
    }

    /// Parses `HH:MM` ends; the error names what is wrong.
    pub fn parse(body: &ScheduleBody) -> Result<Self, &'static str> {
        let start = parse_hhmm(&body.start).ok_or("start must be HH:MM")?;
        let end = parse_hhmm(&body.end).ok_or("end must be HH:MM")?;
        Schedule::from_minutes(i64::from(start), i64::from(end)).ok_or("start and end must differ")
    }

    pub fn to_body(self) -> ScheduleBody {
        let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        ScheduleBody {
            start: hhmm(self.start),
            end: hhmm(self.end),
        }
    }

    /// Whether `at` falls in the window, read in `tz`.
    pub fn covers(self, at: DateTime<Utc>, tz: Tz) -> bool {
        let local = at.with_timezone(&tz);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

fn parse_hhmm(raw: &str) -> Option<u16> {
    let (h, m) = raw.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && raw.trim().len() == 5).then_some(h * 60 + m)
}

/// A stored zone name, UTC when it is not one chrono-tz knows.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 15, h, m, 0).unwrap()
    }

    #[test]
    fn a_window_across_midnight_covers_both_sides_of_it() {
        let night = Schedule::parse(&ScheduleBody {
            start: "22:00".into(),
            end: "08:00".into(),
        })
        .unwrap();
        assert!(night.covers(at(23, 30), Tz::UTC));
        assert!(night.covers(at(7, 59), Tz::UTC));
        assert!(!night.covers(at(8, 0), Tz::UTC));
        assert!(!night.covers(at(12, 0), Tz::UTC));
    }

    #[test]
    fn the_window_is_read_in_the_persons_time_zone() {
        let lunch = Schedule::parse(&ScheduleBody {
            start: "12:00".into(),
            end: "13:00".into(),
        })
        .unwrap();
        // 11:30 UTC is 12:30 in Paris in January (UTC+1), and 06:30 in New York.
        assert!(lunch.covers(at(11, 30), zone("Europe/Paris")));
        assert!(!lunch.covers(at(11, 30), zone("America/New_York")));
        assert_eq!(zone("Not/AZone"), Tz::UTC);
    }

    #[test]
    fn malformed_times_are_refused() {
        for (start, end) in [
            ("25:00", "08:00"),
            ("22:00", "8:00"),
            ("22:00", "22:00"),
            ("x", "08:00"),
        ] {
            assert!(
                Schedule::parse(&ScheduleBody {
                    start: start.into(),
                    end: end.into()
                })
                .is_err(),
                "{start}-{end}"
            );
        }
        let s = Schedule::parse(&ScheduleBody {
            start: "09:05".into(),
            end: "17:30".into(),
        })
        .unwrap();
        assert_eq!(
            s.to_body(),
            ScheduleBody {
                start: "09:05".into(),
                end: "17:30".into()
            }
        );
    }
}
