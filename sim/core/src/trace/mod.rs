//! Structured trace: one event per protocol step.
//!
//! Plots, checkers, graders and lessons read the trace, never the simulator's internals. An event
//! is `{"t_us","host","proc","kind","id","cause",…fields}`: the fixed fields come first in that
//! order, the protocol's own fields follow sorted by name, so the JSONL bytes are stable. `id` is a
//! sequence number; `cause` links an event to the one that caused it (a receive to its send).
//! Every kind, with the fields it carries, is declared once in [`schema`]; code names a kind by
//! its constant in [`kind`].
//!
//! ```
//! use sim_core::trace::{fields, kind, Tracer};
//! let t = Tracer::new();
//! let f = fields! { "to" => "slave1", "msg" => "fle.notification" };
//! let send = t.emit(1_000, "master", "QuorumPeer", kind::NET_SEND, None, f);
//! let f = fields! { "from" => "master", "msg" => "fle.notification" };
//! t.emit(1_150, "slave1", "QuorumPeer", kind::NET_RECV, Some(send), f);
//! assert_eq!(t.to_jsonl().lines().count(), 2);
//! assert_eq!(t.hash().len(), 32);
//! ```
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! `Tracer` collects `Event { t_us, host, proc, kind, id, cause, fields… }`. Fixed fields come first,
//! the protocol's fields follow sorted by name (serde_json's map is a BTreeMap), so the JSONL is
//! stable. `net.send`/`net.recv` events are linked by `cause`. `hash()` is the XXH3-128 of the JSONL
//! (a determinism fingerprint, fast enough to hash a long benchmark's trace as it is written). The
//! streaming path writes each line straight from the event's parts (`trace/jsonl.rs`, byte for byte
//! what serde_json writes, proptested). `fields!` builds a `Fields` (`trace/field_list.rs`): name/value
//! pairs with `&'static str` names, put in the map's order when written; only a kept event becomes a
//! `serde_json::Map`. Two value types stay as they are until written: `RecordTexts` (Kafka record
//! values as shared `Bytes`, written as the strings their lossy UTF-8 text makes) and a `Vec<u32>`
//! (the CRCs of appended records). A long benchmark may call `stream_into_hash()`: events are then hashed as they happen and not
//! kept (same hash, no history for checkers).

use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use xxhash_rust::xxh3::Xxh3;

mod field_list;
mod jsonl;
pub mod schema;

pub use field_list::{FieldData, FieldName, Fields, RecordTexts, SortedFields};
pub use schema::kind;

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

/// Builds an event's [`Fields`]: `fields! { "zxid" => 5, "to" => "slave1" }`.
///
/// Each value becomes what `serde_json::json!(value)` gives; an owned `String`, `Vec<String>` or
/// `Value` is moved in instead of being serialised into a copy, and [`RecordTexts`] and a
/// `Vec<u32>` stay as they are until written (see [`FieldValue`]). A name is a
/// `&'static str` (or a `String`), kept as given: no map is built unless the event is kept.
#[macro_export]
macro_rules! fields {
    () => { $crate::trace::Fields::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::trace::{FieldValueByMove as _, FieldValueBySerialize as _};
        let mut m = $crate::trace::Fields::with_capacity(<[&str]>::len(&[$(stringify!($k)),+]));
        $( m.insert_data($crate::trace::FieldName::from($k), (&$crate::trace::FieldValue::new($v)).field_value()); )+
        m
    }};
}
pub use fields;

/// A `fields!` value on its way into the map. The macro calls `(&FieldValue::new(v)).field_value()`:
/// method lookup tries [`FieldValueByMove`] (implemented on `FieldValue<T>` for a few owned types)
/// before auto-referencing to [`FieldValueBySerialize`] (on `&FieldValue<T>` for any `Serialize`),
/// so owned strings move into the map while everything else goes through `serde_json::to_value`,
/// as `json!` does. Both give the same `Value`.
#[doc(hidden)]
pub struct FieldValue<T>(std::cell::Cell<Option<T>>);

impl<T> FieldValue<T> {
    #[doc(hidden)]
    pub fn new(v: T) -> Self {
        Self(std::cell::Cell::new(Some(v)))
    }
}

/// `fields!` values that move into the map (see [`FieldValue`]).
#[doc(hidden)]
pub trait FieldValueByMove {
    fn field_value(&self) -> FieldData;
}

impl FieldValueByMove for FieldValue<String> {
    fn field_value(&self) -> FieldData {
        Value::String(self.0.take().unwrap_or_default()).into()
    }
}

impl FieldValueByMove for FieldValue<Vec<String>> {
    fn field_value(&self) -> FieldData {
        Value::Array(self.0.take().unwrap_or_default().into_iter().map(Value::String).collect())
            .into()
    }
}

impl FieldValueByMove for FieldValue<Value> {
    fn field_value(&self) -> FieldData {
        self.0.take().unwrap_or_default().into()
    }
}

impl FieldValueByMove for FieldValue<Vec<u32>> {
    fn field_value(&self) -> FieldData {
        FieldData::U32s(self.0.take().unwrap_or_default())
    }
}

impl FieldValueByMove for FieldValue<RecordTexts> {
    fn field_value(&self) -> FieldData {
        FieldData::Texts(self.0.take().unwrap_or_default())
    }
}

/// `fields!` values serialised into the map, as `json!` does (see [`FieldValue`]).
#[doc(hidden)]
pub trait FieldValueBySerialize {
    fn field_value(&self) -> FieldData;
}

impl<T: Serialize> FieldValueBySerialize for &FieldValue<T> {
    fn field_value(&self) -> FieldData {
        // `json!(v)` is `to_value(&v).unwrap()`: a value that cannot be a JSON value (a map with
        // non-string keys) is a bug at the call site, reported the same way.
        FieldData::Json(
            self.0.take().map(|v| serde_json::to_value(&v).unwrap()).unwrap_or_default(),
        )
    }
}

/// The run's event log, shared by every process in the world.
///
/// By default every event is kept (checkers, plots and reports read them). A long benchmark run
/// can switch to *streaming* ([`Tracer::stream_into_hash`]): each event is then serialised and fed
/// to the hash as it happens and not kept, so memory does not grow with the run while the hash
/// stays the one the kept trace would have.
#[derive(Debug, Clone, Default)]
pub struct Tracer {
    events: Arc<Mutex<TraceLog>>,
}

#[derive(Default)]
struct TraceLog {
    /// Events kept (all of them unless streaming).
    kept: Vec<Event>,
    /// Events so far, kept or not: the next event's id.
    count: u64,
    /// Streaming: the hash of every event so far.
    streamed: Option<Box<Xxh3>>,
    /// Streaming: lines written but not yet hashed. They go to the hash a batch at a time (the
    /// digest of a stream does not depend on how it is cut): one small `update` per line cost
    /// more than the hashing itself.
    line: Vec<u8>,
}

impl std::fmt::Debug for TraceLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceLog")
            .field("kept", &self.kept.len())
            .field("count", &self.count)
            .field("streaming", &self.streamed.is_some())
            .finish()
    }
}

/// Bytes of pending lines that make [`TraceLog::line`] go to the hash.
const HASH_BATCH: usize = 16 * 1024;

/// Hashes the pending lines once there are enough of them (`all`: whatever is pending).
fn feed(hasher: &mut Xxh3, line: &mut Vec<u8>, all: bool) {
    if line.len() >= HASH_BATCH || all {
        hasher.update(&line[..]);
        line.clear();
    }
}

fn push_line(hasher: &mut Xxh3, line: &mut Vec<u8>, e: &Event) {
    jsonl::write_kept_event(line, e);
    feed(hasher, line, false);
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
        fields: impl Into<Fields>,
    ) -> EventId {
        self.emit_fields(t_us, host, proc, kind, cause, fields.into())
    }

    /// [`Tracer::emit`], compiled once rather than per argument type.
    fn emit_fields(
        &self,
        t_us: u64,
        host: &str,
        proc: &str,
        kind: &str,
        cause: Option<EventId>,
        fields: Fields,
    ) -> EventId {
        let mut log = lock(&self.events);
        let id = log.count;
        log.count += 1;
        let TraceLog { kept, streamed, line, .. } = &mut *log;
        match streamed {
            // Streaming writes the line straight from the parts: no `Event`, no map, no copies of
            // the names.
            Some(h) => {
                jsonl::write_event(line, t_us, host, proc, kind, id, cause, fields.sorted());
                feed(h, line, false);
            }
            None => {
                let fields = fields.into_map();
                let e = Event {
                    t_us,
                    host: host.to_string(),
                    proc: proc.to_string(),
                    kind: kind.to_string(),
                    id,
                    cause,
                    fields,
                };
                kept.push(e);
            }
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
        let mut h = Box::new(Xxh3::new());
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
        let mut out = Vec::with_capacity(log.kept.len() * 128);
        for e in log.kept.iter() {
            jsonl::write_kept_event(&mut out, e);
        }
        // The writer copies whole `&str`s and ASCII punctuation, so the bytes are UTF-8.
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// XXH3-128 of the JSONL bytes, as 32 lowercase hex digits: equal hashes mean identical runs.
    /// A fingerprint for determinism checks, not a cryptographic digest: it is hashed as fast as
    /// the trace is written (SHA-256 cost a long benchmark a tenth of its time).
    pub fn hash(&self) -> String {
        let streamed = {
            let mut log = lock(&self.events);
            let TraceLog { streamed, line, .. } = &mut *log;
            streamed.as_mut().map(|h| {
                feed(h, line, true);
                h.digest128()
            })
        };
        let digest =
            streamed.unwrap_or_else(|| xxhash_rust::xxh3::xxh3_128(self.to_jsonl().as_bytes()));
        format!("{digest:032x}")
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
        t.emit(
            5,
            "master",
            "QuorumPeer",
            kind::ZAB_COMMIT,
            Some(0),
            fields! { "zxid" => 7, "a" => "x" },
        );
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
            t.emit(
                1,
                "master",
                "Kafka",
                kind::KAFKA_APPEND,
                None,
                fields! { "first" => 0, "crcs" => vec![1u32, 2] },
            );
            if i == 1 {
                t.stream_into_hash();
            }
            let id = t.emit(
                2,
                "slave1",
                "Kafka",
                kind::KAFKA_REPLICATE,
                Some(0),
                fields! { "first" => 0 },
            );
            assert_eq!(id, 1);
        }
        assert_eq!(kept.hash(), streamed.hash());
        assert_eq!((kept.len(), streamed.len()), (2, 2));
        assert_eq!(streamed.events(), Vec::new());
        // The streamed hash moves on with further events, as the kept one does.
        let before = streamed.hash();
        streamed.emit(3, "slave2", "Kafka", kind::KAFKA_HW, None, fields! {});
        assert_ne!(before, streamed.hash());
    }

    #[test]
    fn fields_gives_what_json_gives() {
        let s = String::from("a\"b");
        let strings = vec![String::from("x"), String::from("y")];
        let value = serde_json::json!({ "k": [1, 2.5, null] });
        let expected: Map<String, Value> = [
            ("owned", serde_json::json!(s.clone())),
            ("borrowed", serde_json::json!(&s)),
            ("str", serde_json::json!(s.as_str())),
            ("strings", serde_json::json!(strings.clone())),
            ("value", serde_json::json!(value.clone())),
            ("pairs", serde_json::json!(vec![("t", 0)])),
            ("none", serde_json::json!(None::<u32>)),
            ("neg", serde_json::json!(-3)),
            ("float", serde_json::json!(0.1f32)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let got = fields! {
            "owned" => s.clone(),
            "borrowed" => &s,
            "str" => s.as_str(),
            "strings" => strings,
            "value" => value,
            "pairs" => vec![("t", 0)],
            "none" => None::<u32>,
            "neg" => -3,
            "float" => 0.1f32,
        };
        assert_eq!(got.into_map(), expected);
        // A repeated name keeps the last value, as `Map::insert` does.
        assert_eq!(fields! { "a" => 1, "a" => String::from("b") }, fields! { "a" => "b" });
        assert_eq!(
            fields! { "a" => 1, "a" => String::from("b") }.into_map(),
            fields! { "a" => "b" }.into_map()
        );
    }

    /// Streaming writes `Fields` without a map: names out of order, a repeated name (its last
    /// value wins), a map passed where fields are expected, and fields extended and appended
    /// must give the line the kept event's map gives.
    #[test]
    fn streamed_fields_give_the_kept_maps_lines() {
        let emit_all = |t: &Tracer| {
            t.emit(
                1,
                "h",
                "p",
                "k",
                None,
                fields! { "zxid" => 1, "b" => "x", "a" => 2, "b" => vec!["y"], "ab" => 3 },
            );
            t.emit(
                2,
                "h",
                "p",
                "k",
                Some(0),
                fields! { "z" => String::from("q\"uote"), "" => 0, "Z" => -1, "é" => 0.5 },
            );
            let mut m = Map::new();
            m.insert("to".into(), 2.into());
            m.insert("from".into(), 1.into());
            t.emit(3, "h", "p", "k", None, m);
            let mut f = fields! { "topic" => "t", "partition" => 0 };
            f.extend(fields! { "first" => 5, "topic" => "u" });
            f.append(&mut fields! { "partition" => 1, "last" => 9 });
            f.insert("crcs".into(), serde_json::json!([1, 2]));
            t.emit(4, "h", "p", "k", None, f);
            t.emit(5, "h", "p", "k", None, fields! {});
        };
        let kept = Tracer::new();
        emit_all(&kept);
        let streamed = Tracer::new();
        streamed.stream_into_hash();
        emit_all(&streamed);
        assert_eq!(kept.hash(), streamed.hash());
        let lines: Vec<String> = kept.to_jsonl().lines().map(str::to_string).collect();
        assert_eq!(
            lines[0],
            r#"{"t_us":1,"host":"h","proc":"p","kind":"k","id":0,"a":2,"ab":3,"b":["y"],"zxid":1}"#
        );
        assert_eq!(
            lines[3],
            r#"{"t_us":4,"host":"h","proc":"p","kind":"k","id":3,"crcs":[1,2],"first":5,"last":9,"partition":1,"topic":"u"}"#
        );
    }

    /// Cost of one streamed emit of a typical consumer event, against the old path (`json!` into
    /// the map, an `Event`, `serde_json::to_writer`): `cargo test -p sim --release --lib
    /// emit_timing -- --ignored --nocapture`.
    #[test]
    fn hash_changes_with_content() {
        let a = Tracer::new();
        let b = Tracer::new();
        a.emit(1, "h", "p", "k", None, fields! {});
        b.emit(2, "h", "p", "k", None, fields! {});
        assert_ne!(a.hash(), b.hash());
    }
}
