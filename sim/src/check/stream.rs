//! The streaming engine's promise, read from the trace: every record a producer got
//! acknowledged in a stream's input topic is counted in the output — once.
//!
//! The input records are the acknowledged ones (`kafka.client.acked`: topic, partition, first
//! offset, count) of the topics a `stream.context.start` names. The output is every applied
//! `stream.output.commit`, whose `ranges` say which input offsets the committed rows were
//! computed from. A record no commit covers is **lost**; a record covered by two commits is
//! **duplicated** (a recomputed batch written again). Offsets are the record's identity: a
//! producer retry that wrote a record twice gives two offsets, which is Kafka's duplicate, not
//! the stream's.
//!
//! - [`exactly_once_output`]: nothing lost, nothing duplicated;
//! - [`at_least_once_output`]: nothing lost (duplicates allowed: a receiver with a write-ahead
//!   log, an at-least-once output).

use super::CheckResult;
use crate::stream::offset_range::ranges_from_json;
use crate::trace::{kind, Event};
use std::collections::{BTreeMap, BTreeSet};

/// Lost and duplicated input records, as counted by [`count`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OutputCount {
    /// Acknowledged input records.
    pub acked: usize,
    /// Output commits.
    pub commits: usize,
    /// Acknowledged records in no commit, by (topic, partition).
    pub lost: BTreeMap<(String, i64), BTreeSet<i64>>,
    /// Records in more than one commit: (topic, partition) → offset → times.
    pub duplicated: BTreeMap<(String, i64), BTreeMap<i64, u64>>,
}

impl OutputCount {
    /// Lost records.
    pub fn lost_total(&self) -> usize {
        self.lost.values().map(BTreeSet::len).sum()
    }

    /// Records output more than once.
    pub fn duplicated_total(&self) -> usize {
        self.duplicated.values().map(BTreeMap::len).sum()
    }

    fn examples_lost(&self) -> String {
        self.lost
            .iter()
            .map(|((t, p), s)| format!("{t}-{p} offsets {}", spans(s)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn examples_dup(&self) -> String {
        self.duplicated
            .iter()
            .map(|((t, p), m)| format!("{t}-{p} offsets {}", spans(&m.keys().copied().collect())))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `3,4,5,9` → `3-5, 9` (at most five spans shown).
fn spans(s: &BTreeSet<i64>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut it = s.iter().copied().peekable();
    while let Some(a) = it.next() {
        let mut b = a;
        while it.peek() == Some(&(b + 1)) {
            b += 1;
            it.next();
        }
        out.push(if a == b { a.to_string() } else { format!("{a}-{b}") });
    }
    let n = out.len();
    if n > 5 {
        out.truncate(5);
        out.push(format!("… ({} spans)", n));
    }
    out.join(" ")
}

/// Counts each acknowledged input record in the output commits.
pub fn count(events: &[Event]) -> Option<OutputCount> {
    let topics: BTreeSet<String> = events
        .iter()
        .filter(|e| e.kind == kind::STREAM_CONTEXT_START)
        .filter_map(|e| e.str("topic").map(str::to_string))
        .collect();
    if topics.is_empty() {
        return None;
    }
    let mut c = OutputCount::default();
    let mut acked: BTreeSet<(String, i64, i64)> = BTreeSet::new();
    let mut seen: BTreeMap<(String, i64, i64), u64> = BTreeMap::new();
    for e in events {
        match e.kind.as_str() {
            kind::KAFKA_CLIENT_ACKED => {
                let Some(t) = e.str("topic").filter(|t| topics.contains(*t)) else { continue };
                let (p, first, n) = (
                    e.i64("partition").unwrap_or(-1),
                    e.i64("first").unwrap_or(-1),
                    e.i64("records").unwrap_or(0),
                );
                if first < 0 {
                    continue;
                }
                for o in first..first + n {
                    acked.insert((t.to_string(), p, o));
                }
            }
            kind::STREAM_OUTPUT_COMMIT => {
                c.commits += 1;
                for r in ranges_from_json(e.fields.get("ranges")) {
                    for o in r.from_offset..r.until_offset {
                        *seen.entry((r.topic.clone(), i64::from(r.partition), o)).or_default() += 1;
                    }
                }
            }
            _ => {}
        }
    }
    c.acked = acked.len();
    for (t, p, o) in &acked {
        if !seen.contains_key(&(t.clone(), *p, *o)) {
            c.lost.entry((t.clone(), *p)).or_default().insert(*o);
        }
    }
    for ((t, p, o), n) in seen {
        if n > 1 {
            c.duplicated.entry((t, p)).or_default().insert(o, n);
        }
    }
    Some(c)
}

/// Every acknowledged input record counted exactly once in the output.
pub fn exactly_once_output(events: &[Event]) -> CheckResult {
    let name = "exactly_once_output";
    let Some(c) = count(events) else {
        return CheckResult::new(
            name,
            vec!["no stream ran (no stream.context.start)".into()],
            String::new(),
        );
    };
    let mut v = Vec::new();
    if c.lost_total() > 0 {
        v.push(format!(
            "{} of {} acknowledged records lost: {}",
            c.lost_total(),
            c.acked,
            c.examples_lost()
        ));
    }
    if c.duplicated_total() > 0 {
        v.push(format!(
            "{} records counted more than once: {}",
            c.duplicated_total(),
            c.examples_dup()
        ));
    }
    CheckResult::new(name, v, format!("{} acknowledged records, each counted once in {} output commits (0 lost, 0 duplicated)", c.acked, c.commits))
}

/// Every acknowledged input record counted at least once in the output.
pub fn at_least_once_output(events: &[Event]) -> CheckResult {
    let name = "at_least_once_output";
    let Some(c) = count(events) else {
        return CheckResult::new(
            name,
            vec!["no stream ran (no stream.context.start)".into()],
            String::new(),
        );
    };
    let v = if c.lost_total() > 0 {
        vec![format!(
            "{} of {} acknowledged records lost: {}",
            c.lost_total(),
            c.acked,
            c.examples_lost()
        )]
    } else {
        Vec::new()
    };
    CheckResult::new(
        name,
        v,
        format!(
            "{} acknowledged records all in the output ({} counted more than once)",
            c.acked,
            c.duplicated_total()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{fields, Tracer};
    use serde_json::json;

    fn trace(commits: &[serde_json::Value]) -> Vec<Event> {
        let t = Tracer::new();
        t.emit(
            1,
            "client",
            "SparkSubmit",
            kind::STREAM_CONTEXT_START,
            None,
            fields! { "topic" => "words" },
        );
        t.emit(
            2,
            "client",
            "P",
            kind::KAFKA_CLIENT_ACKED,
            None,
            fields! { "topic" => "words", "partition" => 0, "first" => 0, "records" => 10 },
        );
        t.emit(
            3,
            "client",
            "P",
            kind::KAFKA_CLIENT_ACKED,
            None,
            fields! { "topic" => "other", "partition" => 0, "first" => 0, "records" => 5 },
        );
        for (i, r) in commits.iter().enumerate() {
            t.emit(
                10 + i as u64,
                "client",
                "SparkSubmit",
                kind::STREAM_OUTPUT_COMMIT,
                None,
                fields! { "ranges" => r.clone() },
            );
        }
        t.events()
    }

    #[test]
    fn each_record_once_passes() {
        let ev = trace(&[json!([["words", 0, 0, 4]]), json!([["words", 0, 4, 10]])]);
        let r = exactly_once_output(&ev);
        assert!(r.ok, "{}", r.detail);
        assert!(r.detail.contains("10 acknowledged records"), "{}", r.detail);
    }

    #[test]
    fn a_gap_is_lost_and_an_overlap_is_duplicated() {
        let ev = trace(&[json!([["words", 0, 0, 4]]), json!([["words", 0, 6, 10]])]);
        let r = exactly_once_output(&ev);
        assert!(
            !r.ok && r.detail.contains("2 of 10 acknowledged records lost: words-0 offsets 4-5"),
            "{}",
            r.detail
        );
        assert!(!at_least_once_output(&ev).ok);
        let ev = trace(&[json!([["words", 0, 0, 6]]), json!([["words", 0, 4, 10]])]);
        let r = exactly_once_output(&ev);
        assert!(
            !r.ok && r.detail.contains("2 records counted more than once: words-0 offsets 4-5"),
            "{}",
            r.detail
        );
        let r = at_least_once_output(&ev);
        assert!(r.ok && r.detail.contains("2 counted more than once"), "{}", r.detail);
    }

    #[test]
    fn without_a_stream_the_checks_fail() {
        assert!(!exactly_once_output(&Tracer::new().events()).ok);
    }
}
