//! The trace as a Chrome trace-event JSON file, which ui.perfetto.dev and chrome://tracing open.
//!
//! Each host is a process track and each program on it a thread track (`Kafka`, `QuorumPeerMain`,
//! a console consumer, …). Every event is a 1 µs slice named by its kind (a message's kind for
//! sends and receives) with its fields as arguments; a receive is tied to its send by a flow
//! arrow; faults and repairs (power loss, boot, kill, partitions, a full disk) are global
//! instants, so they cut across every track.

use crate::event::Event;
use serde_json::{json, Value};
use sim_core::trace::kind;
use std::collections::BTreeMap;

/// Event kinds drawn as global instants.
const FAULTS: &[&str] = &[
    kind::HOST_CRASH,
    kind::HOST_BOOT,
    kind::PROC_KILL,
    kind::PROC_HALT,
    kind::NET_BLOCK,
    kind::NET_HEAL,
    kind::DISK_FILL,
    kind::ZK_SESSION_EXPIRE,
];

/// Converts events to the trace-event JSON object (`{"traceEvents": [...], ...}`).
pub fn export(events: &[Event]) -> Value {
    // Tracks in order of first appearance: deterministic because the trace is.
    let mut pids: BTreeMap<&str, u64> = BTreeMap::new();
    let mut tids: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        let next_pid = pids.len() as u64 + 1;
        let pid = *pids.entry(e.host.as_str()).or_insert_with(|| {
            out.push(json!({"name": "process_name", "ph": "M", "pid": next_pid, "tid": 0, "args": {"name": e.host}}));
            next_pid
        });
        let next_tid = tids.len() as u64 + 1;
        let tid = *tids.entry((e.host.as_str(), e.proc_name.as_str())).or_insert_with(|| {
            out.push(json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": next_tid, "args": {"name": e.proc_name}}));
            next_tid
        });
        let name = match (e.kind.as_str(), e.str("msg")) {
            (kind::NET_SEND, Some(m)) => format!("send {m}"),
            (kind::NET_RECV, Some(m)) => format!("recv {m}"),
            _ => e.kind.clone(),
        };
        let mut args = e.fields.clone();
        args.insert("id".into(), json!(e.id));
        if let Some(c) = e.cause {
            args.insert("cause".into(), json!(c));
        }
        if FAULTS.contains(&e.kind.as_str()) {
            out.push(json!({"name": name, "cat": "fault", "ph": "i", "s": "g", "ts": e.t_us, "pid": pid, "tid": tid, "args": args}));
            continue;
        }
        let cat = e.kind.split('.').next().unwrap_or("");
        out.push(json!({"name": name, "cat": cat, "ph": "X", "ts": e.t_us, "dur": 1, "pid": pid, "tid": tid, "args": args}));
        match e.kind.as_str() {
            kind::NET_SEND => out.push(json!({"name": "msg", "cat": "flow", "ph": "s", "id": e.id, "ts": e.t_us, "pid": pid, "tid": tid})),
            kind::NET_RECV => {
                if let Some(c) = e.cause {
                    out.push(json!({"name": "msg", "cat": "flow", "ph": "f", "bp": "e", "id": c, "ts": e.t_us, "pid": pid, "tid": tid}));
                }
            }
            _ => {}
        }
    }
    json!({"traceEvents": out, "displayTimeUnit": "ms", "otherData": {"source": "kafka-zk lab trace"}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_jsonl;

    const TRACE: &str = r#"{"t_us":10,"host":"master","proc":"Kafka","kind":"net.send","id":1,"msg":"kafka.fetch","to":"slave1"}
{"t_us":250,"host":"slave1","proc":"Kafka","kind":"net.recv","id":2,"cause":1,"msg":"kafka.fetch","from":"master"}
{"t_us":900,"host":"lab","proc":"world","kind":"host.crash","id":3,"host_name":"slave1"}
"#;

    #[test]
    fn tracks_flows_and_faults() {
        let v = export(&parse_jsonl(TRACE).expect("trace"));
        let evs = v["traceEvents"].as_array().expect("array");
        let names: Vec<&str> = evs
            .iter()
            .filter(|e| e["ph"] == "M")
            .map(|e| e["args"]["name"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(names, ["master", "Kafka", "slave1", "Kafka", "lab", "world"]);
        let flow: Vec<(&str, u64)> = evs
            .iter()
            .filter(|e| e["cat"] == "flow")
            .map(|e| (e["ph"].as_str().unwrap_or(""), e["id"].as_u64().unwrap_or(0)))
            .collect();
        assert_eq!(flow, [("s", 1), ("f", 1)], "the receive points back at its send");
        let crash = evs.iter().find(|e| e["name"] == kind::HOST_CRASH).expect("crash");
        assert_eq!((crash["ph"].as_str(), crash["s"].as_str()), (Some("i"), Some("g")));
        assert_eq!(
            evs.iter().find(|e| e["name"] == "send kafka.fetch").map(|e| e["ts"].as_u64()),
            Some(Some(10))
        );
        assert_eq!(export(&parse_jsonl(TRACE).expect("trace")), v, "deterministic");
    }
}
