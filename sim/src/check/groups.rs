//! The new consumer's group promises, read from the trace of `KafkaConsumer` members:
//! `kafka.group.assigned` / `.revoked` / `.leave` / `.committed` (each with group, member and
//! generation), `kafka.client.processed` (a record the application finished, with group, member,
//! generation) and `kafka.client.consumed` (the records a poll returned, with the group).
//!
//! A group's *deliveries* are its `kafka.client.processed` events when it has any (the scenario
//! runner's members), else its `kafka.client.consumed` events; the final reader `lab-checker`
//! is no group.
//!
//! - [`each_group_sees_all`]: one group is a queue, many groups are a broadcast — every group
//!   that read a topic was delivered every acknowledged record of it (groups are expected to
//!   start from the beginning);
//! - [`each_message_once_per_group`]: within a group a record (topic, partition, offset) is
//!   delivered once, except after a rebalance (a later generation) and only when its offset was
//!   not committed yet — what at-least-once allows;
//! - [`no_partition_owned_twice`]: within a group and generation no partition is assigned to two
//!   members, and over time a member's assignment never overlaps another's: the earlier owner
//!   must have revoked it (rebalance), left, or died (its process ended or its host crashed).

use super::CheckResult;
use crate::trace::{kind, Event};
use std::collections::{BTreeMap, BTreeSet};

const CHECKER: &str = "lab-checker";
const MAX_LISTED: usize = 10;

type Tp = (String, i64);

fn tp_name(tp: &Tp) -> String {
    format!("{}-{}", tp.0, tp.1)
}

/// `"topic-3"` → `("topic", 3)`.
fn parse_tp(s: &str) -> Option<Tp> {
    let (t, p) = s.rsplit_once('-')?;
    Some((t.to_string(), p.parse().ok()?))
}

fn partitions(e: &Event) -> Vec<Tp> {
    e.fields
        .get("partitions")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().and_then(parse_tp)).collect())
        .unwrap_or_default()
}

fn capped(mut v: Vec<String>) -> Vec<String> {
    if v.len() > MAX_LISTED {
        let more = v.len() - MAX_LISTED;
        v.truncate(MAX_LISTED);
        v.push(format!("… and {more} more"));
    }
    v
}

/// A delivery to a group: (group, member, generation, topic, partition, offset, value, t).
struct Delivery {
    group: String,
    member: String,
    generation: i64,
    tp: Tp,
    offset: i64,
    value: String,
}

/// The deliveries of every group, in trace order, plus the group's commits interleaved as
/// `Err((group, tp, offset))` so a reader can replay both in order.
fn deliveries(events: &[Event]) -> Vec<Result<Delivery, (String, Tp, i64)>> {
    let processed: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.kind == kind::KAFKA_CLIENT_PROCESSED)
        .filter_map(|e| e.str("group"))
        .collect();
    // (host, proc) → (member, generation) from the member's own group events.
    let mut who: BTreeMap<(String, String), (String, i64)> = BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        let Some(group) = e.str("group") else { continue };
        if group == CHECKER {
            continue;
        }
        match e.kind.as_str() {
            kind::KAFKA_GROUP_JOIN | kind::KAFKA_GROUP_ASSIGNED => {
                who.insert(
                    (e.host.clone(), e.proc.clone()),
                    (e.str("member").unwrap_or("").to_string(), e.i64("generation").unwrap_or(-1)),
                );
            }
            kind::KAFKA_GROUP_COMMITTED => {
                for o in e.fields.get("offsets").and_then(|v| v.as_array()).into_iter().flatten() {
                    let (Some(t), Some(p), Some(off)) = (
                        o.get(0).and_then(|v| v.as_str()),
                        o.get(1).and_then(|v| v.as_i64()),
                        o.get(2).and_then(|v| v.as_i64()),
                    ) else {
                        continue;
                    };
                    out.push(Err((group.to_string(), (t.to_string(), p), off)));
                }
            }
            k @ (kind::KAFKA_CLIENT_PROCESSED | kind::KAFKA_CLIENT_CONSUMED) => {
                if (k == kind::KAFKA_CLIENT_PROCESSED) != processed.contains(group) {
                    continue;
                }
                let (Some(t), Some(p)) = (e.str("topic"), e.i64("partition")) else { continue };
                let (member, generation) = match (e.str("member"), e.i64("generation")) {
                    (Some(m), Some(g)) => (m.to_string(), g),
                    _ => who
                        .get(&(e.host.clone(), e.proc.clone()))
                        .cloned()
                        .unwrap_or_else(|| (format!("{}/{}", e.host, e.proc), -1)),
                };
                // A processed event is one record; a consumed event is a poll's run of them.
                let records: Vec<(i64, &str)> = if k == kind::KAFKA_CLIENT_PROCESSED {
                    let Some(off) = e.i64("offset") else { continue };
                    vec![(off, e.str("value").unwrap_or(""))]
                } else {
                    super::consumed_records(e).collect()
                };
                for (offset, value) in records {
                    out.push(Ok(Delivery {
                        group: group.to_string(),
                        member: member.clone(),
                        generation,
                        tp: (t.to_string(), p),
                        offset,
                        value: value.to_string(),
                    }));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every group that read a topic was delivered every acknowledged record of that topic.
pub fn each_group_sees_all(events: &[Event]) -> CheckResult {
    // topic → acknowledged values.
    let mut acked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in
        events.iter().filter(|e| e.kind == kind::KAFKA_CLIENT_ACKED && e.i64("acks") != Some(0))
    {
        let Some(t) = e.str("topic") else { continue };
        acked.entry(t.to_string()).or_default().extend(super::str_array(e, "values"));
    }
    // (group, topic) → values delivered.
    let mut seen: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for d in deliveries(events).into_iter().flatten() {
        seen.entry((d.group, d.tp.0)).or_default().insert(d.value);
    }
    let mut violations = Vec::new();
    let mut summary = Vec::new();
    for ((group, topic), got) in &seen {
        let want = acked.get(topic).map(BTreeSet::len).unwrap_or(0);
        let missing: Vec<&String> =
            acked.get(topic).into_iter().flatten().filter(|v| !got.contains(*v)).collect();
        if missing.is_empty() {
            summary.push(format!("'{group}' {want}/{want}"));
        } else {
            let first: Vec<&str> = missing.iter().take(5).map(|s| s.as_str()).collect();
            violations.push(format!(
                "group '{group}' never got {} of {want} acknowledged records of '{topic}' (e.g. {}{})",
                missing.len(),
                first.join(", "),
                if missing.len() > 5 { ", …" } else { "" }
            ));
        }
    }
    CheckResult::new(
        "each_group_sees_all",
        capped(violations),
        if seen.is_empty() {
            "no group read anything".into()
        } else {
            format!("every group got every acknowledged record: {}", summary.join(", "))
        },
    )
}

/// Within a group, no record is delivered twice except after a rebalance, and then only if its
/// offset had not been committed.
pub fn each_message_once_per_group(events: &[Event]) -> CheckResult {
    // (group, tp, offset) → (member, generation) of the last delivery.
    let mut first: BTreeMap<(String, Tp, i64), (String, i64)> = BTreeMap::new();
    let mut committed: BTreeMap<(String, Tp), i64> = BTreeMap::new();
    let mut violations = Vec::new();
    let mut total = 0usize;
    let mut redelivered = 0usize;
    for d in deliveries(events) {
        let d = match d {
            Err((g, tp, off)) => {
                committed.insert((g, tp), off);
                continue;
            }
            Ok(d) => d,
        };
        total += 1;
        let key = (d.group.clone(), d.tp.clone(), d.offset);
        if let Some((m, gen)) = first.get(&key) {
            let c = committed.get(&(d.group.clone(), d.tp.clone())).copied();
            let what = format!("group '{}' got {} offset {} twice ({m} in generation {gen}, then {} in generation {})", d.group, tp_name(&d.tp), d.offset, d.member, d.generation);
            // A rebalance gives a new generation, or a new member id (a member dropped by the
            // coordinator rejoins under a new id; a group whose last member went is forgotten
            // (Dead in 0.9) and starts again at generation 1).
            if d.member == *m && d.generation == *gen {
                violations.push(format!("{what} with no rebalance between"));
            } else if let Some(c) = c.filter(|c| d.offset < *c) {
                violations.push(format!("{what} although offset {c} was committed"));
            } else {
                redelivered += 1;
            }
        }
        first.insert(key, (d.member, d.generation));
    }
    CheckResult::new(
        "each_message_once_per_group",
        capped(violations),
        format!("{total} deliveries; {redelivered} redelivered after a rebalance (offsets not yet committed), none otherwise"),
    )
}

/// No partition has two owners in a group: not within a generation, and not over time.
pub fn no_partition_owned_twice(events: &[Event]) -> CheckResult {
    // (group, generation) → tp → member.
    let mut by_gen: BTreeMap<(String, i64), BTreeMap<Tp, String>> = BTreeMap::new();
    // (group, tp) → (member, host, proc) holding it now.
    let mut holder: BTreeMap<(String, Tp), (String, String, String)> = BTreeMap::new();
    let mut violations = Vec::new();
    let mut assignments = 0usize;
    let mut seen_gens: BTreeSet<(String, i64)> = BTreeSet::new();
    let release =
        |holder: &mut BTreeMap<(String, Tp), (String, String, String)>,
         f: &dyn Fn(&(String, String, String)) -> bool| holder.retain(|_, h| !f(h));
    for e in events {
        match e.kind.as_str() {
            kind::KAFKA_GROUP_ASSIGNED => {
                let (Some(group), Some(member)) = (e.str("group"), e.str("member")) else {
                    continue;
                };
                let gen = e.i64("generation").unwrap_or(-1);
                // One process is one member: a new member id (after being dropped) replaces the old.
                release(&mut holder, &|h| h.0 == member || (h.1 == e.host && h.2 == e.proc));
                seen_gens.insert((group.to_string(), gen));
                let owners = by_gen.entry((group.to_string(), gen)).or_default();
                for tp in partitions(e) {
                    assignments += 1;
                    if let Some(other) = owners.get(&tp).filter(|o| o.as_str() != member) {
                        violations.push(format!(
                            "group '{group}' generation {gen}: {} assigned to {other} and {member}",
                            tp_name(&tp)
                        ));
                    }
                    owners.insert(tp.clone(), member.to_string());
                    let key = (group.to_string(), tp.clone());
                    if let Some((other, h, p)) = holder.get(&key).filter(|h| h.0 != member) {
                        violations.push(format!(
                            "group '{group}': {} assigned to {member} ({}/{}, generation {gen}) at {} µs while {other} ({h}/{p}) still held it",
                            tp_name(&tp),
                            e.host,
                            e.proc,
                            e.t_us
                        ));
                    }
                    holder.insert(key, (member.to_string(), e.host.clone(), e.proc.clone()));
                }
            }
            // A group whose last member left is forgotten (0.9's Dead) and restarts at
            // generation 1: its generation numbers begin again.
            kind::KAFKA_GROUP_STATE if e.str("to") == Some("Dead") => {
                let Some(group) = e.str("group") else { continue };
                by_gen.retain(|(g, _), _| g != group);
            }
            kind::KAFKA_GROUP_REVOKED | kind::KAFKA_GROUP_LEAVE => {
                let Some(member) = e.str("member") else { continue };
                release(&mut holder, &|h| h.0 == member);
            }
            kind::PROC_KILL | kind::PROC_EXIT | kind::PROC_HALT => {
                release(&mut holder, &|h| h.1 == e.host && h.2 == e.proc)
            }
            kind::HOST_CRASH => {
                let host = e.str("host").unwrap_or(&e.host).to_string();
                release(&mut holder, &|h| h.1 == host);
            }
            _ => {}
        }
    }
    let groups: BTreeSet<&String> = seen_gens.iter().map(|(g, _)| g).collect();
    CheckResult::new(
        "no_partition_owned_twice",
        capped(violations),
        format!(
            "{assignments} partition assignments in {} group(s); never two owners at once",
            groups.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{fields, Tracer};

    fn assigned(t: &Tracer, at: u64, host: &str, m: &str, gen: i64, parts: &[&str]) {
        let parts: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        t.emit(
            at,
            host,
            &format!("C{m}"),
            kind::KAFKA_GROUP_ASSIGNED,
            None,
            fields! { "group" => "g", "member" => m, "generation" => gen, "partitions" => parts },
        );
    }
    fn revoked(t: &Tracer, at: u64, host: &str, m: &str, gen: i64) {
        t.emit(at, host, &format!("C{m}"), kind::KAFKA_GROUP_REVOKED, None, fields! { "group" => "g", "member" => m, "generation" => gen, "partitions" => Vec::<String>::new() });
    }
    #[allow(clippy::too_many_arguments)] // one event's fields, named as in the trace
    fn processed(t: &Tracer, at: u64, group: &str, m: &str, gen: i64, p: i64, off: i64, v: &str) {
        t.emit(at, "slave1", &format!("C{m}"), kind::KAFKA_CLIENT_PROCESSED, None, fields! { "group" => group, "member" => m, "generation" => gen, "topic" => "t", "partition" => p, "offset" => off, "value" => v });
    }
    fn acked(t: &Tracer, at: u64, values: &[&str]) {
        let v: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        t.emit(
            at,
            "slave2",
            "P",
            kind::KAFKA_CLIENT_ACKED,
            None,
            fields! { "topic" => "t", "partition" => 0, "acks" => -1, "values" => v },
        );
    }

    #[test]
    fn owners_overlapping_fail_and_handovers_pass() {
        // a has t-0 and t-1 in generation 1; a revokes, then b gets t-1 in generation 2: fine.
        let t = Tracer::new();
        assigned(&t, 1, "master", "a", 1, &["t-0", "t-1"]);
        revoked(&t, 2, "master", "a", 1);
        assigned(&t, 3, "master", "a", 2, &["t-0"]);
        assigned(&t, 4, "slave1", "b", 2, &["t-1"]);
        // a dies; b takes everything in generation 3.
        t.emit(5, "master", "Ca", kind::PROC_KILL, None, fields! { "pid" => 7 });
        assigned(&t, 6, "slave1", "b", 3, &["t-0", "t-1"]);
        let r = no_partition_owned_twice(&t.events());
        assert!(r.ok, "{}", r.detail);
        // Same generation, two members.
        let t = Tracer::new();
        assigned(&t, 1, "master", "a", 1, &["t-0"]);
        assigned(&t, 2, "slave1", "b", 1, &["t-0"]);
        let r = no_partition_owned_twice(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("generation 1: t-0 assigned to a and b"), "{}", r.detail);
        // A forgotten (Dead) group starts again at generation 1: not two owners.
        let t = Tracer::new();
        assigned(&t, 1, "master", "a", 1, &["t-0"]);
        t.emit(2, "master", "Ca", kind::PROC_KILL, None, fields! { "pid" => 7 });
        t.emit(
            3,
            "slave2",
            "Kafka",
            kind::KAFKA_GROUP_STATE,
            None,
            fields! { "group" => "g", "from" => "Stable", "to" => "Dead", "generation" => 1 },
        );
        assigned(&t, 4, "slave1", "b", 1, &["t-0"]);
        let r = no_partition_owned_twice(&t.events());
        assert!(r.ok, "{}", r.detail);
        // Across generations without revocation: a still holds t-0 when b gets it.
        let t = Tracer::new();
        assigned(&t, 1, "master", "a", 1, &["t-0"]);
        assigned(&t, 2, "slave1", "b", 2, &["t-0"]);
        let r = no_partition_owned_twice(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("while a (master/Ca) still held it"), "{}", r.detail);
    }

    #[test]
    fn a_group_missing_a_record_fails() {
        let t = Tracer::new();
        acked(&t, 1, &["x", "y"]);
        processed(&t, 2, "A", "a", 1, 0, 0, "x");
        processed(&t, 3, "A", "b", 1, 0, 1, "y");
        processed(&t, 4, "B", "c", 1, 0, 0, "x");
        processed(&t, 5, "B", "c", 1, 0, 1, "y");
        let r = each_group_sees_all(&t.events());
        assert!(r.ok, "{}", r.detail);
        let t = Tracer::new();
        acked(&t, 1, &["x", "y"]);
        processed(&t, 2, "A", "a", 1, 0, 0, "x");
        processed(&t, 3, "A", "a", 1, 0, 1, "y");
        processed(&t, 4, "B", "c", 1, 0, 0, "x");
        let r = each_group_sees_all(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("group 'B' never got 1 of 2"), "{}", r.detail);
    }

    fn committed(t: &Tracer, at: u64, m: &str, gen: i64, off: i64) {
        t.emit(at, "slave1", &format!("C{m}"), kind::KAFKA_GROUP_COMMITTED, None, fields! { "group" => "A", "member" => m, "generation" => gen, "offsets" => vec![("t".to_string(), 0, off)] });
    }

    #[test]
    fn redelivery_only_after_a_rebalance_and_only_uncommitted() {
        // a processes 0 and 1, commits 1 (offset 0 done); crashes; b in generation 2 redoes 1.
        let t = Tracer::new();
        processed(&t, 1, "A", "a", 1, 0, 0, "x");
        committed(&t, 2, "a", 1, 1);
        processed(&t, 3, "A", "a", 1, 0, 1, "y");
        processed(&t, 4, "A", "b", 2, 0, 1, "y");
        processed(&t, 5, "B", "c", 1, 0, 1, "y");
        let r = each_message_once_per_group(&t.events());
        assert!(r.ok, "{}", r.detail);
        assert!(r.detail.contains("1 redelivered"), "{}", r.detail);
        // Twice in one generation.
        let t = Tracer::new();
        processed(&t, 1, "A", "a", 1, 0, 0, "x");
        processed(&t, 2, "A", "a", 1, 0, 0, "x");
        let r = each_message_once_per_group(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("no rebalance between"), "{}", r.detail);
        // After a rebalance, but the offset had been committed.
        let t = Tracer::new();
        processed(&t, 1, "A", "a", 1, 0, 0, "x");
        committed(&t, 2, "a", 1, 1);
        processed(&t, 3, "A", "b", 2, 0, 0, "x");
        let r = each_message_once_per_group(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("although offset 1 was committed"), "{}", r.detail);
    }
}
