//! The old consumer's promise: within a group, a partition has one owner at a time.
//!
//! `zk_consumer_exclusive_ownership` replays the `kafka.zkconsumer.*` events. A consumer holds the
//! partitions of its last `owned` event until it `released` them, saw its session expire
//! (`session_expired`: it forgets them), shut down, or its process ended (`proc.kill`, `proc.exit`
//! with its pid, or a `host.crash` of its host). An `owned` event naming a partition that another
//! living consumer of the group still holds is a violation: both would fetch and hand out the same
//! records. ZooKeeper's ephemeral owner nodes prevent it as long as sessions behave; a consumer
//! whose session expired without its noticing yet (cut off from ZooKeeper, not from the brokers)
//! is the known way around it.

use super::CheckResult;
use crate::trace::{kind, Event};
use std::collections::BTreeMap;

type Key = (String, String, i64);

/// See the module documentation.
pub fn exclusive_ownership(events: &[Event]) -> CheckResult {
    // (group, topic, partition) → consumer holding it.
    let mut holder: BTreeMap<Key, String> = BTreeMap::new();
    // consumer → (host, pid).
    let mut procs: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut violations = Vec::new();
    let mut claims = 0usize;
    let drop_consumer = |holder: &mut BTreeMap<Key, String>, c: &str| holder.retain(|_, h| h != c);
    for e in events {
        let consumer = e.str("consumer").unwrap_or("").to_string();
        match e.kind.as_str() {
            kind::KAFKA_ZKCONSUMER_OWNED => {
                let group = e.str("group").unwrap_or("").to_string();
                if let Some(pid) = e.u64("pid") {
                    procs.insert(consumer.clone(), (e.host.clone(), pid));
                }
                drop_consumer(&mut holder, &consumer);
                let parts = e
                    .fields
                    .get("partitions")
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default();
                for p in parts {
                    let (Some(t), Some(n)) =
                        (p.get(0).and_then(|v| v.as_str()), p.get(1).and_then(|v| v.as_i64()))
                    else {
                        continue;
                    };
                    claims += 1;
                    let key = (group.clone(), t.to_string(), n);
                    if let Some(other) = holder.get(&key).filter(|o| **o != consumer) {
                        violations.push(format!(
                            "group '{group}': {t}-{n} owned by {other} and {consumer} at {} µs",
                            e.t_us
                        ));
                    }
                    holder.insert(key, consumer.clone());
                }
            }
            kind::KAFKA_ZKCONSUMER_RELEASED
            | kind::KAFKA_ZKCONSUMER_SESSION_EXPIRED
            | kind::KAFKA_ZKCONSUMER_SHUTDOWN => drop_consumer(&mut holder, &consumer),
            kind::PROC_KILL | kind::PROC_EXIT => {
                let pid = e.u64("pid");
                let dead: Vec<String> = procs
                    .iter()
                    .filter(|(_, (h, p))| *h == e.host && Some(*p) == pid)
                    .map(|(c, _)| c.clone())
                    .collect();
                for c in dead {
                    drop_consumer(&mut holder, &c);
                    procs.remove(&c);
                }
            }
            kind::HOST_CRASH => {
                let host = e.str("host").unwrap_or("");
                let dead: Vec<String> =
                    procs.iter().filter(|(_, (h, _))| h == host).map(|(c, _)| c.clone()).collect();
                for c in dead {
                    drop_consumer(&mut holder, &c);
                    procs.remove(&c);
                }
            }
            _ => {}
        }
    }
    violations.truncate(20);
    CheckResult::new(
        "zk_consumer_exclusive_ownership",
        violations,
        format!("{claims} partition claims by old consumers; never two owners of one partition at a time"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{fields, Tracer};

    fn owned(t: &Tracer, at: u64, host: &str, pid: u32, c: &str, parts: Vec<(&str, i32)>) {
        t.emit(
            at,
            host,
            "ConsoleConsumer",
            kind::KAFKA_ZKCONSUMER_OWNED,
            None,
            fields! { "group" => "g", "consumer" => c, "pid" => pid, "partitions" => parts },
        );
    }

    #[test]
    fn a_handover_after_release_or_death_is_fine() {
        let t = Tracer::new();
        owned(&t, 1, "master", 10, "a", vec![("t", 0), ("t", 1)]);
        t.emit(
            2,
            "master",
            "ConsoleConsumer",
            kind::KAFKA_ZKCONSUMER_RELEASED,
            None,
            fields! { "group" => "g", "consumer" => "a", "pid" => 10 },
        );
        owned(&t, 3, "master", 10, "a", vec![("t", 0)]);
        owned(&t, 4, "slave1", 20, "b", vec![("t", 1)]);
        t.emit(5, "master", "ConsoleConsumer", kind::PROC_KILL, None, fields! { "pid" => 10 });
        owned(&t, 6, "slave1", 20, "b", vec![("t", 0), ("t", 1)]);
        let r = exclusive_ownership(&t.events());
        assert!(r.ok, "{}", r.detail);
    }

    #[test]
    fn two_owners_at_once_fail() {
        let t = Tracer::new();
        owned(&t, 1, "master", 10, "a", vec![("t", 0)]);
        owned(&t, 2, "slave1", 20, "b", vec![("t", 0)]);
        let r = exclusive_ownership(&t.events());
        assert!(!r.ok);
        assert!(r.detail.contains("t-0 owned by a and b"), "{}", r.detail);
        // Another group may own the same partition.
        let t = Tracer::new();
        owned(&t, 1, "master", 10, "a", vec![("t", 0)]);
        t.emit(2, "slave1", "ConsoleConsumer", kind::KAFKA_ZKCONSUMER_OWNED, None, fields! { "group" => "h", "consumer" => "b", "pid" => 20, "partitions" => vec![("t", 0)] });
        assert!(exclusive_ownership(&t.events()).ok);
    }
}
