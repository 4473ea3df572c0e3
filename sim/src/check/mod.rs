//! Invariant checkers. Each reads only the trace — never the simulator's internals — and says
//! whether a run kept a promise of the protocol, with a detail a learner can follow.
//!
//! ZooKeeper's promises checked here:
//! - [`single_leader_per_epoch`]: no two servers established the same epoch as leader;
//! - [`committed_logs_agree`]: every server that applied a zxid applied the same transaction, and
//!   each server incarnation applied zxids in increasing order, so every server's committed
//!   history is a prefix of the longest one.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! Checkers read only the trace and return `CheckResult { name, ok, detail }`; `check::run(name)`
//! finds them by the names scenario files use. ZooKeeper: `single_leader_per_epoch`,
//! `committed_logs_agree`. Kafka (`check/kafka.rs`): `no_acked_loss`, `no_duplicates`,
//! `offsets_consistent`, `kafka_single_leader_per_epoch`, `monotonic_hw`,
//! `consumer_order_per_partition`; old consumer (`check/zk_consumer.rs`):
//! `zk_consumer_exclusive_ownership` (no partition owned by two living consumers of a group at
//! once, from the `kafka.zkconsumer.*` events); new consumer (`check/groups.rs`):
//! `each_group_sees_all`, `each_message_once_per_group` (redelivery only after a rebalance and
//! above the committed offset), `no_partition_owned_twice` (per generation and over time, from
//! `kafka.group.assigned`/`.revoked`/`.leave` and process deaths); streams (`check/stream.rs`):
//! `exactly_once_output`, `at_least_once_output`. Each has a unit test showing it
//! fails on a violating trace. Kafka steps are traced too (`kafka.append`, `kafka.replicate`,
//! `kafka.hw`, `kafka.leader_election`, `kafka.client.acked`, …) for the replication issue's checkers.
//! Groups: the coordinator traces `kafka.group.member_added`, `.member_removed` (with the reason:
//! leave, session timeout, rebalance timeout), `.state`, `.generation`, `.stored`,
//! `.offset_commit`, `.loaded`, `.unloaded`; consumers trace `kafka.group.join`,
//! `kafka.group.assigned` and `.revoked` (group, member, generation, partitions),
//! `kafka.group.committed`, `kafka.consumer.position`, and `kafka.client.consumed` with the group —
//! enough for per-generation ownership and once-per-group checkers. A `kafka.client.consumed` is what
//! one poll returned from one partition (`first` offset, `records`, `values`), as a `kafka.client.acked`
//! is one produce request's batch; the old consumer's iterator hands out runs of one. Checkers expand
//! it with `check::consumed_records`. `report` turns a trace into the quickstart's "what happened inside".

pub mod groups;
pub mod kafka;
pub mod stream;
pub mod zk_consumer;

use crate::trace::{kind, Event};
use serde::Serialize;
use std::collections::BTreeMap;

/// The string values of an array field (non-strings are skipped).
pub(crate) fn str_array(e: &Event, name: &str) -> Vec<String> {
    e.fields
        .get(name)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// The records of one `kafka.client.consumed` event as `(offset, value)`: a consumer's poll
/// returns a partition's records in one event (`first` offset, `records`, `values`), as
/// `kafka.client.acked` does for a produce request, so a checker expands it here.
pub fn consumed_records(e: &Event) -> impl Iterator<Item = (i64, &str)> {
    let first = e.i64("first").unwrap_or(0);
    let values =
        e.fields.get("values").and_then(|v| v.as_array()).map(Vec::as_slice).unwrap_or_default();
    values.iter().enumerate().map(move |(i, v)| (first + i as i64, v.as_str().unwrap_or("")))
}

/// Every checker a scenario's `[[check]]` can name.
pub const NAMES: &[&str] = &[
    "single_leader_per_epoch",
    "committed_logs_agree",
    "no_acked_loss",
    "no_duplicates",
    "offsets_consistent",
    "kafka_single_leader_per_epoch",
    "monotonic_hw",
    "consumer_order_per_partition",
    "zk_consumer_exclusive_ownership",
    "each_group_sees_all",
    "each_message_once_per_group",
    "no_partition_owned_twice",
    "exactly_once_output",
    "at_least_once_output",
];

/// Runs the checker called `name` over a trace; `None` for an unknown name.
pub fn run(name: &str, events: &[Event]) -> Option<CheckResult> {
    Some(match name {
        "single_leader_per_epoch" => single_leader_per_epoch(events),
        "committed_logs_agree" => committed_logs_agree(events),
        "no_acked_loss" => kafka::no_acked_loss(events),
        "no_duplicates" => kafka::no_duplicates(events),
        "offsets_consistent" => kafka::offsets_consistent(events),
        "kafka_single_leader_per_epoch" => kafka::single_leader_per_epoch(events),
        "monotonic_hw" => kafka::monotonic_hw(events),
        "consumer_order_per_partition" => kafka::consumer_order_per_partition(events),
        "zk_consumer_exclusive_ownership" => zk_consumer::exclusive_ownership(events),
        "each_group_sees_all" => groups::each_group_sees_all(events),
        "each_message_once_per_group" => groups::each_message_once_per_group(events),
        "no_partition_owned_twice" => groups::no_partition_owned_twice(events),
        "exactly_once_output" => stream::exactly_once_output(events),
        "at_least_once_output" => stream::at_least_once_output(events),
        _ => return None,
    })
}

/// A checker's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Checker name.
    pub name: String,
    /// Whether the invariant held.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

impl CheckResult {
    /// A verdict: ok when there are no violations; the detail lists them (or says what held).
    pub fn new(name: &str, violations: Vec<String>, fine: String) -> Self {
        CheckResult {
            name: name.to_string(),
            ok: violations.is_empty(),
            detail: if violations.is_empty() { fine } else { violations.join("; ") },
        }
    }
}

/// At most one leader per ZooKeeper epoch (`zab.established` events).
pub fn single_leader_per_epoch(events: &[Event]) -> CheckResult {
    let mut leaders: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == kind::ZAB_ESTABLISHED) {
        let v = leaders.entry(e.u64("epoch").unwrap_or(0)).or_default();
        if !v.contains(&e.host) {
            v.push(e.host.clone());
        }
    }
    let violations = leaders
        .iter()
        .filter(|(_, h)| h.len() > 1)
        .map(|(ep, h)| format!("epoch {ep} led by {}", h.join(" and ")))
        .collect();
    CheckResult::new(
        "single_leader_per_epoch",
        violations,
        format!("{} epochs, one leader each", leaders.len()),
    )
}

/// A txn result as a learner reads it: `OK` or the error's name (`BadVersion`).
fn result_name(code: i64) -> String {
    if code == 0 {
        return "OK".to_string();
    }
    match i32::try_from(code).ok().and_then(crate::zk::txn::ZkError::from_code) {
        Some(e) => e.keeper_error_code_name().to_string(),
        None => format!("error {code}"),
    }
}

fn parse_zxid(s: &str) -> Option<i64> {
    i64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// Committed histories agree (`zk.apply` events): same zxid ⇒ same transaction with the same
/// result everywhere (a replicated state machine: a `setData` that is BadVersion on one server
/// and OK on another means their trees differ), and increasing zxids within each server
/// incarnation (a restart, TRUNC or SNAP starts a new one).
pub fn committed_logs_agree(events: &[Event]) -> CheckResult {
    let mut by_zxid: BTreeMap<i64, (u64, i64, String)> = BTreeMap::new();
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    let mut violations = Vec::new();
    for e in events {
        match e.kind.as_str() {
            kind::ZK_LOADED | kind::ZAB_TRUNCATED | kind::ZAB_SNAP_LOADED => {
                last.remove(&e.host);
            }
            kind::ZK_APPLY => {
                let Some(z) = e.str("zxid").and_then(parse_zxid) else { continue };
                let crc = e.u64("crc").unwrap_or(0);
                let err = e.i64("err").unwrap_or(0);
                match by_zxid.get(&z) {
                    Some((c, _, h)) if *c != crc => {
                        violations.push(format!("zxid 0x{z:x} differs between {h} and {}", e.host))
                    }
                    Some((_, r, h)) if *r != err => violations.push(format!(
                        "zxid 0x{z:x} {} on {h} but {} on {}: their trees differ",
                        result_name(*r),
                        result_name(err),
                        e.host
                    )),
                    Some(_) => {}
                    None => {
                        by_zxid.insert(z, (crc, err, e.host.clone()));
                    }
                }
                if let Some(prev) = last.get(&e.host) {
                    if z <= *prev {
                        violations.push(format!("{} applied 0x{z:x} after 0x{prev:x}", e.host));
                    }
                }
                last.insert(e.host.clone(), z);
            }
            _ => {}
        }
    }
    violations.truncate(10);
    CheckResult::new(
        "committed_logs_agree",
        violations,
        format!("{} committed transactions agree on every server", by_zxid.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{fields, Tracer};

    #[test]
    fn two_leaders_in_one_epoch_fail() {
        let t = Tracer::new();
        t.emit(
            1,
            "master",
            "QuorumPeerMain",
            kind::ZAB_ESTABLISHED,
            None,
            fields! { "epoch" => 1 },
        );
        t.emit(
            2,
            "slave1",
            "QuorumPeerMain",
            kind::ZAB_ESTABLISHED,
            None,
            fields! { "epoch" => 2 },
        );
        assert!(single_leader_per_epoch(&t.events()).ok);
        t.emit(
            3,
            "slave2",
            "QuorumPeerMain",
            kind::ZAB_ESTABLISHED,
            None,
            fields! { "epoch" => 2 },
        );
        let r = single_leader_per_epoch(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("epoch 2"), "{}", r.detail);
    }

    #[test]
    fn divergent_or_reordered_applies_fail() {
        let t = Tracer::new();
        t.emit(
            1,
            "master",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x100000001", "crc" => 7 },
        );
        t.emit(
            2,
            "slave1",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x100000001", "crc" => 7 },
        );
        assert!(committed_logs_agree(&t.events()).ok);
        t.emit(
            3,
            "slave2",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x100000001", "crc" => 8 },
        );
        assert!(!committed_logs_agree(&t.events()).ok);

        let t = Tracer::new();
        t.emit(
            1,
            "master",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x100000002", "crc" => 1 },
        );
        t.emit(
            2,
            "master",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x100000001", "crc" => 2 },
        );
        assert!(!committed_logs_agree(&t.events()).ok);
        // A restart starts a new incarnation.
        let t2 = Tracer::new();
        t2.emit(
            1,
            "master",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x100000002", "crc" => 1 },
        );
        t2.emit(2, "master", "Q", kind::ZK_LOADED, None, fields! {});
        t2.emit(
            3,
            "master",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x100000001", "crc" => 2 },
        );
        assert!(committed_logs_agree(&t2.events()).ok);
    }

    #[test]
    fn one_txn_with_two_results_fails() {
        let t = Tracer::new();
        t.emit(
            1,
            "master",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x200000015", "crc" => 7, "err" => 0 },
        );
        t.emit(
            2,
            "slave1",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x200000015", "crc" => 7, "err" => 0 },
        );
        assert!(committed_logs_agree(&t.events()).ok);
        t.emit(
            3,
            "slave2",
            "Q",
            kind::ZK_APPLY,
            None,
            fields! { "zxid" => "0x200000015", "crc" => 7, "err" => -103 },
        );
        let r = committed_logs_agree(&t.events());
        assert!(!r.ok);
        assert_eq!(
            r.detail,
            "zxid 0x200000015 OK on master but BadVersion on slave2: their trees differ"
        );
    }
}
