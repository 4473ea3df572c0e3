//! Structured trace: one event per protocol step.
//!
//! Plots, checkers, graders and lessons read the trace, never the simulator's internals. An event
//! is `{"t_us","host","proc","kind","id","cause",…fields}`: the fixed fields come first in that
//! order, the protocol's own fields follow sorted by name, so the JSONL bytes are stable. `id` is a
//! sequence number; `cause` links an event to the one that caused it (a receive to its send).
//!
//! ```
//! use sim::trace::{Tracer, fields};
//! let t = Tracer::new();
//! let send = t.emit(1_000, "master", "QuorumPeer", "fle.notification", None, fields! { "to" => 2 });
//! t.emit(1_150, "slave1", "QuorumPeer", "fle.recv", Some(send), fields! {});
//! assert_eq!(t.to_jsonl().lines().count(), 2);
//! assert_eq!(t.hash().len(), 64);
//! ```

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// A trace event's sequence number, unique within one run.
pub type EventId = u64;

/// One protocol step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Virtual time in microseconds since the simulation started.
    pub t_us: u64,
    /// Host the step happened on (`"lab"` for the simulator itself).
    pub host: String,
    /// Process (`QuorumPeer`, `zkCli`, `Kafka`, …).
    pub proc: String,
    /// What happened, dotted by layer: `fle.vote`, `zab.proposal`, `net.partition`, …
    pub kind: String,
    /// Sequence number.
    pub id: EventId,
    /// The event that caused this one, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<EventId>,
    /// Kind-specific fields, sorted by name (serde_json's map is a BTreeMap here).
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Event {
    /// A field as a u64, if present and numeric.
    pub fn u64(&self, name: &str) -> Option<u64> {
        self.fields.get(name).and_then(Value::as_u64)
    }
    /// A field as an i64, if present and numeric.
    pub fn i64(&self, name: &str) -> Option<i64> {
        self.fields.get(name).and_then(Value::as_i64)
    }
    /// A field as a string, if present.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }
}

/// Builds a field map: `fields! { "zxid" => 5, "to" => "slave1" }`.
#[macro_export]
macro_rules! fields {
    () => { ::serde_json::Map::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut m = ::serde_json::Map::new();
        $( m.insert(($k).to_string(), ::serde_json::json!($v)); )+
        m
    }};
}
pub use fields;

/// The run's event log, shared by every process in the world.
///
/// By default every event is kept (checkers, plots and reports read them). A long benchmark run
/// can switch to *streaming* ([`Tracer::stream_into_hash`]): each event is then serialised and fed
/// to the SHA-256 as it happens and not kept, so memory does not grow with the run while the hash
/// stays the one the kept trace would have.
#[derive(Debug, Clone, Default)]
pub struct Tracer {
    events: Arc<Mutex<TraceLog>>,
}

#[derive(Debug, Default)]
struct TraceLog {
    /// Events kept (all of them unless streaming).
    kept: Vec<Event>,
    /// Events so far, kept or not: the next event's id.
    count: u64,
    /// Streaming: the hash of every event so far.
    streamed: Option<Sha256>,
    /// Streaming: the line being hashed (kept to reuse its allocation).
    line: Vec<u8>,
}

fn push_line(hasher: &mut Sha256, line: &mut Vec<u8>, e: &Event) {
    line.clear();
    // Serialising our own plain structs cannot fail.
    let _ = serde_json::to_writer(&mut *line, e);
    line.push(b'\n');
    hasher.update(&line[..]);
}

impl Tracer {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one event and returns its id.
    pub fn emit(
        &self,
        t_us: u64,
        host: &str,
        proc: &str,
        kind: &str,
        cause: Option<EventId>,
        fields: Map<String, Value>,
    ) -> EventId {
        let mut log = lock(&self.events);
        let id = log.count;
        log.count += 1;
        let e = Event { t_us, host: host.to_string(), proc: proc.to_string(), kind: kind.to_string(), id, cause, fields };
        let TraceLog { kept, streamed, line, .. } = &mut *log;
        match streamed {
            Some(h) => push_line(h, line, &e),
            None => kept.push(e),
        }
        id
    }

    /// Stops keeping events: those kept so far and every later one go into the hash only
    /// ([`Tracer::hash`] is unchanged by this; [`Tracer::events`] and [`Tracer::to_jsonl`] return
    /// nothing from then on). For benchmarks whose trace would not fit in memory.
    pub fn stream_into_hash(&self) {
        let mut log = lock(&self.events);
        if log.streamed.is_some() {
            return;
        }
        let mut h = Sha256::new();
        let mut line = Vec::new();
        for e in std::mem::take(&mut log.kept) {
            push_line(&mut h, &mut line, &e);
        }
        log.line = line;
        log.streamed = Some(h);
    }

    /// Number of events so far (kept or streamed).
    pub fn len(&self) -> usize {
        lock(&self.events).count as usize
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every event, in order.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.events).kept.clone()
    }

    /// Events of one kind (exact match), in order.
    pub fn of_kind(&self, kind: &str) -> Vec<Event> {
        lock(&self.events).kept.iter().filter(|e| e.kind == kind).cloned().collect()
    }

    /// The trace as JSONL: one event per line, stable field order.
    pub fn to_jsonl(&self) -> String {
        let log = lock(&self.events);
        let mut out = String::with_capacity(log.kept.len() * 128);
        for e in log.kept.iter() {
            // Serialising our own plain structs cannot fail.
            let line = serde_json::to_string(e).unwrap_or_default();
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// SHA-256 of the JSONL bytes, as lowercase hex: equal hashes mean identical runs.
    pub fn hash(&self) -> String {
        let streamed = lock(&self.events).streamed.clone();
        let digest = match streamed {
            Some(h) => h.finalize(),
            None => Sha256::digest(self.to_jsonl().as_bytes()),
        };
        let mut hex = String::with_capacity(64);
        for b in digest {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

/// Locks a mutex, ignoring poisoning: the simulation is single-threaded, and a panic already
/// ends the run.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_order_is_stable() {
        let t = Tracer::new();
        t.emit(5, "master", "QuorumPeer", "zab.commit", Some(0), fields! { "zxid" => 7, "a" => "x" });
        assert_eq!(
            t.to_jsonl(),
            "{\"t_us\":5,\"host\":\"master\",\"proc\":\"QuorumPeer\",\"kind\":\"zab.commit\",\"id\":0,\"cause\":0,\"a\":\"x\",\"zxid\":7}\n"
        );
    }

    #[test]
    fn streaming_gives_the_kept_trace_hash_without_keeping_events() {
        let kept = Tracer::new();
        let streamed = Tracer::new();
        for (i, t) in [&kept, &streamed].into_iter().enumerate() {
            t.emit(1, "master", "Kafka", "kafka.append", None, fields! { "first" => 0, "crcs" => vec![1u32, 2] });
            if i == 1 {
                t.stream_into_hash();
            }
            let id = t.emit(2, "slave1", "Kafka", "kafka.replicate", Some(0), fields! { "first" => 0 });
            assert_eq!(id, 1);
        }
        assert_eq!(kept.hash(), streamed.hash());
        assert_eq!((kept.len(), streamed.len()), (2, 2));
        assert_eq!(streamed.events(), Vec::new());
        // The streamed hash moves on with further events, as the kept one does.
        let before = streamed.hash();
        streamed.emit(3, "slave2", "Kafka", "kafka.hw", None, fields! {});
        assert_ne!(before, streamed.hash());
    }

    #[test]
    fn hash_changes_with_content() {
        let a = Tracer::new();
        let b = Tracer::new();
        a.emit(1, "h", "p", "k", None, fields! {});
        b.emit(2, "h", "p", "k", None, fields! {});
        assert_ne!(a.hash(), b.hash());
    }
}
