//! Kafka invariant checkers. Like the ZooKeeper ones, each reads only the trace and says whether
//! a run kept one of Kafka's promises, with a detail naming the topic-partition, offsets and
//! values involved. A partition is written `topic-partition`, as Kafka's own logs do
//! (`HelloKafka-0`).
//!
//! The promises checked here:
//! - [`no_acked_loss`]: every record a producer was told is stored (an acknowledgment with
//!   `acks=1` or `acks=-1`) is later read by some consumer; `acks=0` sends promise nothing.
//! - [`no_duplicates`]: no consumer group reads the same value at two different offsets of one
//!   partition, which is what a producer retry that had in fact succeeded leaves behind.
//! - [`offsets_consistent`]: every offset below the partition's high watermark (the committed
//!   prefix) holds the same record on every broker, and no broker ever replaces a committed
//!   record by a different one.
//! - [`single_leader_per_epoch`]: for each partition, each leader epoch has at most one broker
//!   that became leader in it, and no broker becomes leader at an epoch older than one already led.
//! - [`monotonic_hw`]: a leader's high watermark never moves backwards while the broker process
//!   keeps running (a restart or a crash may start it lower).
//! - [`consumer_order_per_partition`]: a consumer receives a partition's offsets in strictly
//!   increasing order; it may go back only when the consumer process restarted.

use super::{str_array, CheckResult};
use crate::trace::{kind, Event};
use std::collections::{BTreeMap, BTreeSet};

/// How many items a detail lists before it says "…".
const MAX_LISTED: usize = 10;

/// A topic-partition, as the trace names it.
type Tp = (String, i64);

/// The event's topic-partition, if it has both fields.
fn tp(e: &Event) -> Option<Tp> {
    Some((e.str("topic")?.to_string(), e.i64("partition")?))
}

/// `topic-partition`, Kafka's way of naming a partition.
fn tp_name(tp: &Tp) -> String {
    format!("{}-{}", tp.0, tp.1)
}

/// The numeric values of an array field, keeping positions (a non-number becomes `None`).
fn u64_array(e: &Event, name: &str) -> Vec<Option<u64>> {
    e.fields
        .get(name)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().map(|v| v.as_u64()).collect())
        .unwrap_or_default()
}

/// Joins at most [`MAX_LISTED`] items with ", ", ending with "…" if some were left out.
fn listed(items: &[String]) -> String {
    let mut s = items.iter().take(MAX_LISTED).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > MAX_LISTED {
        s.push_str(", …");
    }
    s
}

/// Keeps the first [`MAX_LISTED`] violations and says how many more there were.
fn capped(mut v: Vec<String>) -> Vec<String> {
    if v.len() > MAX_LISTED {
        let more = v.len() - MAX_LISTED;
        v.truncate(MAX_LISTED);
        v.push(format!("… and {more} more"));
    }
    v
}

/// Every acknowledged record was consumed: each value in a `kafka.client.acked` event (acks=1 or
/// acks=-1) appears in some `kafka.client.consumed` event of the same topic-partition, in any
/// group. `kafka.client.sent` (acks=0) records were never acknowledged and are not counted.
pub fn no_acked_loss(events: &[Event]) -> CheckResult {
    // (value, acked offset if known, acks) in acknowledgment order, per partition.
    let mut acked: BTreeMap<Tp, Vec<(String, Option<i64>, i64)>> = BTreeMap::new();
    let mut consumed: BTreeMap<Tp, BTreeSet<String>> = BTreeMap::new();
    for e in events {
        match e.kind.as_str() {
            kind::KAFKA_CLIENT_ACKED => {
                let Some(tp) = tp(e) else { continue };
                let acks = e.i64("acks").unwrap_or(1);
                if acks == 0 {
                    continue;
                }
                let first = e.i64("first").filter(|f| *f >= 0);
                let list = acked.entry(tp).or_default();
                for (i, v) in str_array(e, "values").into_iter().enumerate() {
                    list.push((v, first.map(|f| f + i as i64), acks));
                }
            }
            kind::KAFKA_CLIENT_CONSUMED => {
                let Some(tp) = tp(e) else { continue };
                consumed
                    .entry(tp)
                    .or_default()
                    .extend(super::consumed_records(e).map(|(_, v)| v.to_string()));
            }
            _ => {}
        }
    }
    let total: usize = acked.values().map(Vec::len).sum();
    if total == 0 {
        return CheckResult::new(
            "no_acked_loss",
            vec![],
            "no record was acknowledged, so none could be lost".into(),
        );
    }
    let mut lost = Vec::new();
    for (tp, list) in &acked {
        let seen = consumed.get(tp);
        for (v, off, acks) in list {
            if seen.is_some_and(|s| s.contains(v)) {
                continue;
            }
            let off = off.map_or("offset ?".to_string(), |o| format!("offset {o}"));
            lost.push(format!("{} '{v}' ({off}, acks={acks})", tp_name(tp)));
        }
    }
    let violations = if lost.is_empty() {
        vec![]
    } else {
        vec![format!(
            "lost {} of {total} acknowledged record{}: {} — acknowledged, yet no consumer ever read {}",
            lost.len(),
            if total == 1 { "" } else { "s" },
            listed(&lost),
            if lost.len() == 1 { "it" } else { "them" }
        )]
    };
    let parts = acked.len();
    CheckResult::new(
        "no_acked_loss",
        violations,
        format!(
            "all {total} acknowledged records in {parts} partition{} were consumed",
            if parts == 1 { "" } else { "s" }
        ),
    )
}

/// No log duplicates: within one consumer group, a value is never consumed at two different
/// offsets of the same topic-partition. Reading the same value at the same offset again (after a
/// consumer restart) is redelivery, not a duplicate in the log, and is not counted.
pub fn no_duplicates(events: &[Event]) -> CheckResult {
    // (group, partition) → value → offsets it was read at.
    let mut seen: BTreeMap<(String, Tp), BTreeMap<String, BTreeSet<i64>>> = BTreeMap::new();
    let mut reads = 0usize;
    for e in events.iter().filter(|e| e.kind == kind::KAFKA_CLIENT_CONSUMED) {
        let Some(tp) = tp(e) else { continue };
        let group = e.str("group").unwrap_or("").to_string();
        let values = seen.entry((group, tp)).or_default();
        for (off, v) in super::consumed_records(e) {
            values.entry(v.to_string()).or_default().insert(off);
            reads += 1;
        }
    }
    let mut violations = Vec::new();
    for ((group, tp), values) in &seen {
        for (v, offs) in values.iter().filter(|(_, o)| o.len() > 1) {
            let offs: Vec<String> = offs.iter().map(|o| o.to_string()).collect();
            violations.push(format!(
                "group '{group}' read '{v}' from {} at offsets {}",
                tp_name(tp),
                listed(&offs)
            ));
        }
    }
    let groups: BTreeSet<&String> = seen.keys().map(|(g, _)| g).collect();
    CheckResult::new(
        "no_duplicates",
        capped(violations),
        format!(
            "{reads} records consumed by {} group(s); no value sits at two offsets of a partition",
            groups.len()
        ),
    )
}

/// Committed offsets agree across brokers. Each broker's log is replayed from `kafka.append`
/// (leader), `kafka.replicate` (follower) and `kafka.truncate`; the committed prefix of a
/// partition is every offset below the highest high watermark (`kafka.hw`) it ever reached. At the
/// end of the trace no two brokers may hold different records (CRCs) at a committed offset, and
/// during the run no broker may write a record different from the committed one at an offset
/// below the high watermark of that moment.
pub fn offsets_consistent(events: &[Event]) -> CheckResult {
    // partition → host → offset → crc: each broker's current log.
    let mut logs: BTreeMap<Tp, BTreeMap<String, BTreeMap<i64, u64>>> = BTreeMap::new();
    // partition → offset → crc ever written by each host (survives truncation).
    let mut history: BTreeMap<Tp, BTreeMap<String, BTreeMap<i64, u64>>> = BTreeMap::new();
    // partition → offset → (crc, host): the record the leader held when the HW passed it.
    let mut committed: BTreeMap<Tp, BTreeMap<i64, (u64, String)>> = BTreeMap::new();
    let mut hw: BTreeMap<Tp, i64> = BTreeMap::new();
    let mut violations = Vec::new();
    let mut flagged: BTreeSet<(Tp, i64)> = BTreeSet::new();
    for e in events {
        match e.kind.as_str() {
            kind::KAFKA_APPEND | kind::KAFKA_REPLICATE => {
                let (Some(tp), Some(first)) = (tp(e), e.i64("first")) else { continue };
                let crcs = u64_array(e, "crcs");
                let hw_now = hw.get(&tp).copied().unwrap_or(0);
                for (i, crc) in crcs.into_iter().enumerate() {
                    let Some(crc) = crc else { continue };
                    let off = first + i as i64;
                    if off < hw_now {
                        let before =
                            committed.get(&tp).and_then(|c| c.get(&off)).cloned().or_else(|| {
                                let h = history.get(&tp)?.get(&e.host)?.get(&off)?;
                                Some((*h, e.host.clone()))
                            });
                        if let Some((old, who)) = before {
                            if old != crc && flagged.insert((tp.clone(), off)) {
                                violations.push(format!(
                                    "{} overwrote committed offset {off} of {} (below HW {hw_now}): crc {old} (on {who}) became {crc}",
                                    e.host,
                                    tp_name(&tp)
                                ));
                            }
                        }
                    }
                    logs.entry(tp.clone())
                        .or_default()
                        .entry(e.host.clone())
                        .or_default()
                        .insert(off, crc);
                    history
                        .entry(tp.clone())
                        .or_default()
                        .entry(e.host.clone())
                        .or_default()
                        .insert(off, crc);
                }
            }
            kind::KAFKA_TRUNCATE => {
                let (Some(tp), Some(to)) = (tp(e), e.i64("to")) else { continue };
                if let Some(log) = logs.get_mut(&tp).and_then(|l| l.get_mut(&e.host)) {
                    log.split_off(&to);
                }
            }
            kind::KAFKA_HW => {
                let (Some(tp), Some(to)) = (tp(e), e.i64("to")) else { continue };
                let prev = hw.get(&tp).copied().unwrap_or(0);
                // The leader's records below its new HW are committed from now on.
                if let Some(log) = logs.get(&tp).and_then(|l| l.get(&e.host)) {
                    let c = committed.entry(tp.clone()).or_default();
                    for (&off, &crc) in log.range(..to) {
                        match c.get(&off) {
                            None => {
                                c.insert(off, (crc, e.host.clone()));
                            }
                            Some((old, who))
                                if *old != crc && flagged.insert((tp.clone(), off)) =>
                            {
                                violations.push(format!(
                                    "offset {off} of {} was committed twice with different records: crc {old} (on {who}), then crc {crc} (on {})",
                                    tp_name(&tp),
                                    e.host
                                ));
                            }
                            Some(_) => {}
                        }
                    }
                }
                if to > prev {
                    hw.insert(tp, to);
                }
            }
            _ => {}
        }
    }
    // At the end: every committed offset holds one record across the brokers that have it.
    let mut checked = 0usize;
    for (tp, hosts) in &logs {
        let limit = hw.get(tp).copied().unwrap_or(0);
        let mut by_off: BTreeMap<i64, BTreeMap<u64, Vec<&str>>> = BTreeMap::new();
        for (host, log) in hosts {
            for (&off, &crc) in log.range(..limit) {
                by_off.entry(off).or_default().entry(crc).or_default().push(host);
            }
        }
        checked += by_off.len();
        for (off, crcs) in by_off.iter().filter(|(_, c)| c.len() > 1) {
            let holders: Vec<String> = crcs
                .iter()
                .map(|(crc, h)| {
                    format!(
                        "{} hold{} crc {crc}",
                        h.join(" and "),
                        if h.len() == 1 { "s" } else { "" }
                    )
                })
                .collect();
            violations.push(format!(
                "brokers disagree at committed offset {off} of {} (HW {limit}): {}",
                tp_name(tp),
                holders.join(", ")
            ));
        }
    }
    CheckResult::new(
        "offsets_consistent",
        capped(violations),
        format!(
            "{checked} committed offsets in {} partition(s) hold the same record on every broker",
            hw.len()
        ),
    )
}

/// At most one leader per partition and leader epoch: no two brokers emitted
/// `kafka.become_leader` for the same topic-partition and `leader_epoch`; and leadership never
/// goes back to an older epoch — a broker that becomes leader at an epoch below one already led
/// is a zombie acting on a stale LeaderAndIsr (a topic created anew starts again at 0).
pub fn single_leader_per_epoch(events: &[Event]) -> CheckResult {
    let mut leaders: BTreeMap<(Tp, i64), Vec<String>> = BTreeMap::new();
    // Highest epoch led so far per partition, and by whom.
    let mut newest: BTreeMap<Tp, (i64, String)> = BTreeMap::new();
    let mut violations = Vec::new();
    for e in events {
        match e.kind.as_str() {
            kind::KAFKA_NEW_TOPIC => {
                let Some(t) = e.str("topic") else { continue };
                newest.retain(|(topic, _), _| topic != t);
                leaders.retain(|((topic, _), _), _| topic != t);
            }
            kind::KAFKA_BECOME_LEADER => {
                let (Some(tp), Some(epoch)) = (tp(e), e.i64("leader_epoch")) else { continue };
                match newest.get(&tp) {
                    Some((top, by)) if epoch < *top => violations.push(format!(
                        "{} became leader of {} at leader epoch {epoch} after {by} had led epoch {top}",
                        e.host,
                        tp_name(&tp)
                    )),
                    Some((top, _)) if epoch == *top => {}
                    _ => {
                        newest.insert(tp.clone(), (epoch, e.host.clone()));
                    }
                }
                let v = leaders.entry((tp, epoch)).or_default();
                if !v.contains(&e.host) {
                    v.push(e.host.clone());
                }
            }
            _ => {}
        }
    }
    violations.extend(leaders.iter().filter(|(_, h)| h.len() > 1).map(|((tp, ep), h)| {
        format!("{} leader epoch {ep} led by {}", tp_name(tp), h.join(" and "))
    }));
    CheckResult::new(
        "kafka_single_leader_per_epoch",
        capped(violations),
        format!("{} (partition, leader epoch) pairs, one leader each", leaders.len()),
    )
}

/// The high watermark never goes back: per broker and topic-partition, each `kafka.hw` has
/// `to ≥ from` and `to` ≥ the previous `to`, within one process incarnation (a `proc.start` of
/// `Kafka` on that host, or a `host.crash` of it, starts a new one).
pub fn monotonic_hw(events: &[Event]) -> CheckResult {
    let mut last: BTreeMap<(String, Tp), i64> = BTreeMap::new();
    let mut moves = 0usize;
    let mut violations = Vec::new();
    for e in events {
        match e.kind.as_str() {
            kind::PROC_START if e.proc == "Kafka" => last.retain(|(h, _), _| *h != e.host),
            kind::HOST_CRASH => {
                if let Some(h) = e.str("host") {
                    last.retain(|(host, _), _| host != h);
                }
            }
            kind::KAFKA_HW => {
                let (Some(tp), Some(to)) = (tp(e), e.i64("to")) else { continue };
                moves += 1;
                if let Some(from) = e.i64("from") {
                    if to < from {
                        violations.push(format!(
                            "{} moved the HW of {} back from {from} to {to}",
                            e.host,
                            tp_name(&tp)
                        ));
                    }
                }
                let key = (e.host.clone(), tp);
                if let Some(&prev) = last.get(&key) {
                    if to < prev {
                        violations.push(format!(
                            "{} set the HW of {} to {to} after it had reached {prev} (same process)",
                            e.host,
                            tp_name(&key.1)
                        ));
                    }
                }
                let top = last.get(&key).map_or(to, |p| (*p).max(to));
                last.insert(key, top);
            }
            _ => {}
        }
    }
    CheckResult::new(
        "monotonic_hw",
        capped(violations),
        format!("{moves} high-watermark moves, none backwards"),
    )
}

/// Consumers read in order: per (group, topic, partition), the offsets received strictly increase
/// within one consumer process incarnation. Going back (or re-reading) is allowed only after the
/// consumer process restarted — a `proc.start` of the same process name on the same host, or a
/// `host.crash` of that host — or when the records arrive from a different host or process.
pub fn consumer_order_per_partition(events: &[Event]) -> CheckResult {
    // (host, proc) → incarnation number, bumped by proc.start / host.crash.
    let mut incarnation: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut crashes: BTreeMap<String, u64> = BTreeMap::new();
    // A consumer run: (host, proc, incarnation, crashes of the host so far).
    type Run = (String, String, u64, u64);
    // (group, partition) → the run that read it last, and the last offset it read.
    let mut last: BTreeMap<(String, Tp), (Run, i64)> = BTreeMap::new();
    let mut reads = 0usize;
    let mut violations = Vec::new();
    for e in events {
        match e.kind.as_str() {
            kind::PROC_START => {
                *incarnation.entry((e.host.clone(), e.proc.clone())).or_default() += 1
            }
            kind::HOST_CRASH => {
                if let Some(h) = e.str("host") {
                    *crashes.entry(h.to_string()).or_default() += 1;
                }
            }
            kind::KAFKA_CLIENT_CONSUMED => {
                let Some(tp) = tp(e) else { continue };
                let group = e.str("group").unwrap_or("").to_string();
                let inc = incarnation.get(&(e.host.clone(), e.proc.clone())).copied().unwrap_or(0);
                let crash = crashes.get(&e.host).copied().unwrap_or(0);
                let key = (group, tp);
                let run: Run = (e.host.clone(), e.proc.clone(), inc, crash);
                for (off, _) in super::consumed_records(e) {
                    reads += 1;
                    if let Some((prev_run, prev)) = last.get(&key) {
                        if *prev_run == run && off <= *prev {
                            violations.push(format!(
                                "group '{}' on {}/{} read offset {off} of {} after offset {prev} without restarting",
                                key.0,
                                e.host,
                                e.proc,
                                tp_name(&key.1)
                            ));
                        }
                    }
                    last.insert(key.clone(), (run.clone(), off));
                }
            }
            _ => {}
        }
    }
    CheckResult::new(
        "consumer_order_per_partition",
        capped(violations),
        format!(
            "{reads} records consumed, in increasing offset order per partition and consumer run"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{fields, Tracer};

    const K: &str = "Kafka";

    fn acked(t: &Tracer, first: i64, values: &[&str], acks: i64) {
        t.emit(
            1,
            "c",
            "producer",
            kind::KAFKA_CLIENT_ACKED,
            None,
            fields! {
                "topic" => "t", "partition" => 0, "first" => first, "records" => values.len(), "acks" => acks, "values" => values
            },
        );
    }

    fn consumed(t: &Tracer, host: &str, proc: &str, group: &str, offset: i64, value: &str) {
        t.emit(
            2,
            host,
            proc,
            kind::KAFKA_CLIENT_CONSUMED,
            None,
            fields! {
                "topic" => "t", "partition" => 0, "first" => offset, "records" => 1, "values" => [value], "group" => group
            },
        );
    }

    fn write(t: &Tracer, host: &str, kind: &str, first: i64, crcs: Vec<u32>) {
        let last = first + crcs.len() as i64 - 1;
        t.emit(
            3,
            host,
            K,
            kind,
            None,
            fields! { "topic" => "t", "partition" => 0, "first" => first, "last" => last, "crcs" => crcs },
        );
    }

    fn hw(t: &Tracer, host: &str, from: i64, to: i64) {
        t.emit(
            4,
            host,
            K,
            kind::KAFKA_HW,
            None,
            fields! { "topic" => "t", "partition" => 0, "from" => from, "to" => to },
        );
    }

    fn truncate(t: &Tracer, host: &str, to: i64) {
        t.emit(
            5,
            host,
            K,
            kind::KAFKA_TRUNCATE,
            None,
            fields! { "topic" => "t", "partition" => 0, "to" => to },
        );
    }

    #[test]
    fn empty_trace_is_ok_everywhere() {
        for f in [
            no_acked_loss,
            no_duplicates,
            offsets_consistent,
            single_leader_per_epoch,
            monotonic_hw,
            consumer_order_per_partition,
        ] {
            let r = f(&[]);
            assert!(r.ok, "{r:?}");
        }
        assert!(no_acked_loss(&[]).detail.contains("no record was acknowledged"));
    }

    #[test]
    fn acked_but_never_consumed_is_lost() {
        let t = Tracer::new();
        acked(&t, 0, &["m-0", "m-1"], -1);
        consumed(&t, "c", "consumer", "g", 0, "m-0");
        consumed(&t, "c", "consumer", "g", 1, "m-1");
        assert!(no_acked_loss(&t.events()).ok);
        acked(&t, 2, &["m-2", "m-3"], 1);
        consumed(&t, "c", "consumer", "g", 2, "m-2");
        let r = no_acked_loss(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("lost 1 of 4"), "{}", r.detail);
        assert!(r.detail.contains("t-0 'm-3' (offset 3, acks=1)"), "{}", r.detail);
    }

    #[test]
    fn acks_zero_sends_are_not_acknowledged() {
        let t = Tracer::new();
        t.emit(
            1,
            "c",
            "producer",
            kind::KAFKA_CLIENT_SENT,
            None,
            fields! {
                "topic" => "t", "partition" => 0, "records" => 1, "acks" => 0, "values" => vec!["m-0"]
            },
        );
        let r = no_acked_loss(&t.events());
        assert!(r.ok && r.detail.contains("no record was acknowledged"), "{r:?}");
    }

    #[test]
    fn long_loss_lists_are_truncated() {
        let t = Tracer::new();
        let vals: Vec<String> = (0..25).map(|i| format!("m-{i}")).collect();
        let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
        acked(&t, 0, &refs, -1);
        let r = no_acked_loss(&t.events());
        assert!(!r.ok);
        assert!(
            r.detail.contains("lost 25 of 25")
                && r.detail.contains("'m-9'")
                && !r.detail.contains("'m-10'"),
            "{}",
            r.detail
        );
        assert!(r.detail.contains("…"), "{}", r.detail);
    }

    #[test]
    fn a_value_at_two_offsets_is_a_duplicate() {
        let t = Tracer::new();
        consumed(&t, "c", "consumer", "g", 0, "m-0");
        consumed(&t, "c", "consumer", "g", 1, "m-1");
        // Redelivery at the same offset, and another group reading it too: both fine.
        consumed(&t, "c", "consumer", "g", 1, "m-1");
        consumed(&t, "c", "consumer2", "h", 1, "m-1");
        assert!(no_duplicates(&t.events()).ok);
        consumed(&t, "c", "consumer", "g", 2, "m-1");
        let r = no_duplicates(&t.events());
        assert!(!r.ok);
        assert!(
            r.detail.contains("'m-1'")
                && r.detail.contains("offsets 1, 2")
                && r.detail.contains("t-0"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn a_poll_of_several_records_is_read_record_by_record() {
        let t = Tracer::new();
        acked(&t, 0, &["m-0", "m-1", "m-2"], 1);
        let poll = |first: i64, values: &[&str]| {
            let records = values.len();
            t.emit(2, "c", "consumer", kind::KAFKA_CLIENT_CONSUMED, None, fields! { "topic" => "t", "partition" => 0, "first" => first, "records" => records, "values" => values, "group" => "g" });
        };
        poll(0, &["m-0", "m-1"]);
        assert!(!no_acked_loss(&t.events()).ok, "m-2 not read yet");
        poll(2, &["m-2"]);
        assert!(no_acked_loss(&t.events()).ok);
        assert!(no_duplicates(&t.events()).ok && consumer_order_per_partition(&t.events()).ok);
        // One poll that hands out m-1 again at offset 3, then goes back to offset 1.
        poll(3, &["m-1"]);
        poll(1, &["m-1", "m-2"]);
        let dup = no_duplicates(&t.events());
        assert!(
            dup.detail.contains("'m-1'") && dup.detail.contains("offsets 1, 3"),
            "{}",
            dup.detail
        );
        let order = consumer_order_per_partition(&t.events());
        assert!(order.detail.contains("read offset 1 of t-0 after offset 3"), "{}", order.detail);
    }

    #[test]
    fn committed_offsets_agree_across_brokers() {
        let t = Tracer::new();
        write(&t, "b1", kind::KAFKA_APPEND, 0, vec![10, 11]);
        write(&t, "b2", kind::KAFKA_REPLICATE, 0, vec![10, 11]);
        hw(&t, "b1", 0, 2);
        // An uncommitted tail may differ.
        write(&t, "b1", kind::KAFKA_APPEND, 2, vec![12]);
        write(&t, "b3", kind::KAFKA_REPLICATE, 0, vec![10, 11, 99]);
        assert!(offsets_consistent(&t.events()).ok, "{:?}", offsets_consistent(&t.events()));
        // A divergent record below the HW on one broker.
        let t = Tracer::new();
        write(&t, "b1", kind::KAFKA_APPEND, 0, vec![10, 11]);
        write(&t, "b2", kind::KAFKA_REPLICATE, 0, vec![10, 77]);
        hw(&t, "b1", 0, 2);
        let r = offsets_consistent(&t.events());
        assert!(!r.ok);
        assert!(
            r.detail.contains("offset 1 of t-0")
                && r.detail.contains("b1 holds crc 11")
                && r.detail.contains("b2 holds crc 77"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn rewriting_above_hw_is_fine_below_hw_is_not() {
        let t = Tracer::new();
        write(&t, "b1", kind::KAFKA_APPEND, 0, vec![10, 11]);
        hw(&t, "b1", 0, 1);
        truncate(&t, "b1", 1);
        write(&t, "b1", kind::KAFKA_APPEND, 1, vec![21]);
        write(&t, "b2", kind::KAFKA_REPLICATE, 0, vec![10, 21]);
        hw(&t, "b1", 1, 2);
        assert!(offsets_consistent(&t.events()).ok, "{:?}", offsets_consistent(&t.events()));

        let t = Tracer::new();
        write(&t, "b1", kind::KAFKA_APPEND, 0, vec![10, 11]);
        hw(&t, "b1", 0, 2);
        truncate(&t, "b1", 1);
        write(&t, "b1", kind::KAFKA_APPEND, 1, vec![21]);
        let r = offsets_consistent(&t.events());
        assert!(!r.ok);
        assert!(
            r.detail.contains("b1 overwrote committed offset 1 of t-0 (below HW 2): crc 11"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn two_kafka_leaders_in_one_epoch_fail() {
        let t = Tracer::new();
        let bl = |host: &str, epoch: i64| {
            t.emit(
                1,
                host,
                K,
                kind::KAFKA_BECOME_LEADER,
                None,
                fields! {
                    "topic" => "t", "partition" => 0, "leader_epoch" => epoch, "isr" => vec![1, 2], "leo" => 0, "hw" => 0
                },
            );
        };
        bl("b1", 0);
        bl("b2", 1);
        bl("b2", 1);
        assert!(single_leader_per_epoch(&t.events()).ok);
        bl("b3", 1);
        let r = single_leader_per_epoch(&t.events());
        assert!(!r.ok);
        assert_eq!(r.name, "kafka_single_leader_per_epoch");
        assert!(r.detail.contains("t-0 leader epoch 1 led by b2 and b3"), "{}", r.detail);
        // A restarted broker handed a stale LeaderAndIsr leads an epoch already superseded.
        let stale = Tracer::new();
        for (host, epoch) in [("b1", 0), ("b2", 1), ("b1", 0)] {
            stale.emit(
                1,
                host,
                K,
                kind::KAFKA_BECOME_LEADER,
                None,
                fields! { "topic" => "t", "partition" => 0, "leader_epoch" => epoch },
            );
        }
        let r = single_leader_per_epoch(&stale.events());
        assert!(
            r.detail.contains("b1 became leader of t-0 at leader epoch 0 after b2 had led epoch 1"),
            "{}",
            r.detail
        );
        // The same topic created anew starts its epochs again.
        let t2 = Tracer::new();
        t2.emit(
            0,
            "b2",
            K,
            kind::KAFKA_BECOME_LEADER,
            None,
            fields! { "topic" => "t", "partition" => 0, "leader_epoch" => 3 },
        );
        t2.emit(
            1,
            "b2",
            K,
            kind::KAFKA_NEW_TOPIC,
            None,
            fields! { "topic" => "t", "partitions" => 1 },
        );
        t2.emit(
            2,
            "b1",
            K,
            kind::KAFKA_BECOME_LEADER,
            None,
            fields! { "topic" => "t", "partition" => 0, "leader_epoch" => 0 },
        );
        assert!(
            single_leader_per_epoch(&t2.events()).ok,
            "{:?}",
            single_leader_per_epoch(&t2.events())
        );
    }

    #[test]
    fn hw_going_back_fails_unless_the_broker_restarted() {
        let t = Tracer::new();
        hw(&t, "b1", 0, 5);
        t.emit(5, "lab", "world", kind::HOST_CRASH, None, fields! { "host" => "b1" });
        hw(&t, "b1", 0, 3);
        t.emit(6, "b1", K, kind::PROC_START, None, fields! { "pid" => 7 });
        hw(&t, "b1", 0, 2);
        hw(&t, "b2", 0, 9);
        assert!(monotonic_hw(&t.events()).ok, "{:?}", monotonic_hw(&t.events()));
        hw(&t, "b1", 2, 1);
        let r = monotonic_hw(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("b1 moved the HW of t-0 back from 2 to 1"), "{}", r.detail);
        assert!(r.detail.contains("to 1 after it had reached 2"), "{}", r.detail);
    }

    #[test]
    fn consumer_going_back_needs_a_restart() {
        let t = Tracer::new();
        consumed(&t, "c", "consumer", "g", 0, "m-0");
        consumed(&t, "c", "consumer", "g", 1, "m-1");
        t.emit(6, "c", "consumer", kind::PROC_START, None, fields! { "pid" => 9 });
        consumed(&t, "c", "consumer", "g", 1, "m-1");
        consumed(&t, "c", "consumer", "g", 2, "m-2");
        // Another group has its own order.
        consumed(&t, "c", "consumer2", "h", 0, "m-0");
        assert!(
            consumer_order_per_partition(&t.events()).ok,
            "{:?}",
            consumer_order_per_partition(&t.events())
        );
        consumed(&t, "c", "consumer", "g", 0, "m-0");
        let r = consumer_order_per_partition(&t.events());
        assert!(!r.ok);
        assert!(
            r.detail.contains("group 'g' on c/consumer read offset 0 of t-0 after offset 2"),
            "{}",
            r.detail
        );
    }
}
