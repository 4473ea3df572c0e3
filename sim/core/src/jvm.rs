//! What every program in the lab shares because it is a JVM: Java's and log4j's time formats.

use chrono::{DateTime, Utc};

/// Java's `Date.toString()` in UTC: `Tue Apr 26 08:00:05 UTC 2016` (also what `date` prints).
pub fn java_date(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%a %b %d %H:%M:%S UTC %Y").to_string())
        .unwrap_or_default()
}

/// log4j's time stamp: `2016-04-26 08:00:05,123`.
pub fn log_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S,%3f").to_string())
        .unwrap_or_default()
}
