//! Human summaries of a run, read from its trace (and the hardware counters): the "what happened
//! inside" part of the quickstart and of lessons.

use crate::trace::kind;
use crate::world::World;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Who leads ZooKeeper, how the election went, what was committed, what the hardware did.
pub fn zk_summary(world: &World) -> String {
    let events = world.tracer().events();
    let mut out = String::new();
    let settled: Vec<_> = events.iter().filter(|e| e.kind == kind::FLE_SETTLED).collect();
    if let Some(lead) = settled.iter().rev().find(|e| e.str("state") == Some("LEADING")) {
        let _ = writeln!(
            out,
            "ZooKeeper leader: {} (myid {}), elected in round {} at t = {:.3} s after {} votes were exchanged",
            lead.host,
            lead.u64("leader").unwrap_or(0),
            lead.u64("round").unwrap_or(0),
            lead.t_us as f64 / 1e6,
            events.iter().filter(|e| e.kind == kind::FLE_VOTE && e.t_us <= lead.t_us).count()
        );
    }
    let mut followers: Vec<&str> = settled
        .iter()
        .filter(|e| e.str("state") == Some("FOLLOWING"))
        .map(|e| e.host.as_str())
        .collect();
    followers.sort();
    followers.dedup();
    if !followers.is_empty() {
        let _ = writeln!(out, "Followers: {}", followers.join(", "));
    }
    let commits: Vec<_> = events.iter().filter(|e| e.kind == kind::ZAB_COMMIT).collect();
    let _ = writeln!(
        out,
        "Transactions committed through ZAB: {} (sessions and znodes), last zxid {}",
        commits.len(),
        commits.last().and_then(|e| e.str("zxid")).unwrap_or("0x0")
    );
    let mut msgs: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == kind::NET_SEND) {
        let m = msgs.entry(e.str("msg").unwrap_or("?")).or_default();
        m.0 += 1;
        m.1 += e.u64("bytes").unwrap_or(0);
    }
    let listed: Vec<String> = msgs.iter().map(|(k, (n, b))| format!("{k} ×{n} ({b} B)")).collect();
    let _ = writeln!(out, "Messages on the network: {}", listed.join(", "));
    for h in world.host_names() {
        if let Ok(d) = world.disk(&h) {
            let c = d.counters();
            let _ = writeln!(
                out,
                "Disk of {h}: {} B written to the page cache, {} B made durable by {} fsyncs",
                c.bytes_written, c.bytes_durable_written, c.fsyncs
            );
        }
    }
    let _ = writeln!(out, "Virtual time elapsed: {:.3} s", world.elapsed().as_secs_f64());
    out
}

/// Which broker controls, who leads each partition, how many records moved.
pub fn kafka_summary(world: &World) -> String {
    let events = world.tracer().events();
    let mut out = String::new();
    if let Some(c) = events.iter().rev().find(|e| e.kind == kind::KAFKA_CONTROLLER_ELECTED) {
        let _ = writeln!(
            out,
            "Kafka controller: broker {} on {} (controller epoch {})",
            c.i64("broker").unwrap_or(-1),
            c.host,
            c.i64("epoch").unwrap_or(0)
        );
    }
    let mut leaders: BTreeMap<String, (String, i64)> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == kind::KAFKA_BECOME_LEADER) {
        let tp = format!("{}-{}", e.str("topic").unwrap_or("?"), e.i64("partition").unwrap_or(0));
        leaders.insert(tp, (e.host.clone(), e.i64("leader_epoch").unwrap_or(0)));
    }
    for (tp, (host, epoch)) in &leaders {
        let _ = writeln!(out, "Partition {tp}: leader on {host} (leader epoch {epoch})");
    }
    let count = |kind: &str| -> i64 {
        events
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.i64("last").unwrap_or(0) - e.i64("first").unwrap_or(0) + 1)
            .sum()
    };
    if !leaders.is_empty() {
        let _ = writeln!(
            out,
            "Records appended by leaders: {}; copied by followers: {}",
            count(kind::KAFKA_APPEND),
            count(kind::KAFKA_REPLICATE)
        );
    }
    let created = events
        .iter()
        .filter(|e| {
            e.kind == kind::ZK_APPLY && e.str("op") == Some("create") && e.i64("err") == Some(0)
        })
        .count();
    let _ = writeln!(out, "Znodes created in ZooKeeper: {created}");
    out
}
