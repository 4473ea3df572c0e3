//! The answers of "predict, then observe" questions: typed queries over what a run recorded.
//!
//! A question never carries its answer. It names a [`Query`], and the lesson evaluates it after
//! the step's commands ran, over the run's trace (or, for a scenario step, the scenario's trace
//! and the report its checkers computed from it; for a bench step, the counters the hardware model
//! measured). Change the seed or the fault and the observed answer changes with it.
//!
//! ```
//! use sim::lesson::{Observed, Query};
//! use sim::trace::{fields, Tracer};
//! let t = Tracer::new();
//! t.emit(10, "slave2", "QuorumPeer", "fle.settled", None, fields! { "leader" => 3, "state" => "LEADING" });
//! let events = t.events();
//! let answer = Query::ZkLeader.eval(&Observed::trace(&events)).unwrap();
//! assert_eq!(answer.shown, "slave2 (myid 3)");
//! assert!(answer.matches(" Slave2 ") && answer.matches("3"));
//! ```

use crate::scenario::Report;
use crate::trace::{kind, schema, Event};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a question asks about, evaluated over what the step's run recorded.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Query {
    /// The ZooKeeper server that leads now: the last `fle.settled` with state `LEADING`.
    ZkLeader,
    /// The broker that is the Kafka controller now: the last `kafka.controller_elected`.
    Controller,
    /// The broker that leads a partition now: the last `kafka.become_leader` (its host's broker,
    /// from `kafka.registered`) or `kafka.leader_election` naming no leader.
    PartitionLeader {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i64,
    },
    /// A partition's in-sync replicas now: the last ISR a leader election, a leader, an ISR
    /// shrink or an ISR expansion recorded.
    Isr {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i64,
    },
    /// The partition a producer's record with this value went to (`kafka.client.acked` or, with
    /// acks=0, `kafka.client.sent`).
    PartitionOf {
        /// Topic.
        topic: String,
        /// The record's value.
        value: String,
    },
    /// How many events of a kind match `where` (or the sum of a numeric field over them), among
    /// the events of the step (a shell step's lines, a scenario's whole run).
    Count {
        /// Event kind, exact (`kafka.client.consumed`).
        event: String,
        /// Field values the event must have (`host` and `proc` included).
        #[serde(default, rename = "where")]
        filter: BTreeMap<String, Value>,
        /// Sum this numeric field instead of counting events.
        #[serde(default)]
        sum: Option<String>,
    },
    /// How many distinct values a field takes over the step's matching events.
    Distinct {
        /// Event kind.
        event: String,
        /// Field whose values are counted.
        field: String,
        /// Field values the event must have.
        #[serde(default, rename = "where")]
        filter: BTreeMap<String, Value>,
    },
    /// A field of the last matching event.
    Last {
        /// Event kind.
        event: String,
        /// Field to report.
        field: String,
        /// Field values the event must have.
        #[serde(default, rename = "where")]
        filter: BTreeMap<String, Value>,
        /// A JSON pointer into the field's value (`/0/2`: the first item's third element).
        #[serde(default)]
        pointer: Option<String>,
    },
    /// Seconds from the last event matching `from` to the first event after it matching `to`
    /// (shown rounded to whole seconds; a prediction within one second counts).
    Elapsed {
        /// Start event kind.
        from: String,
        /// Field values the start event must have.
        #[serde(default)]
        from_where: BTreeMap<String, Value>,
        /// End event kind.
        to: String,
        /// Field values the end event must have.
        #[serde(default)]
        to_where: BTreeMap<String, Value>,
    },
    /// A metric of the scenario's report (read from its trace by the runner).
    Metric {
        /// Metric name (`messages_acked`, `leader_changes`, …).
        name: String,
        /// For a metric that is a map (`redelivered_by_group`), the entry to read.
        #[serde(default)]
        key: Option<String>,
    },
    /// A check's verdict in the scenario's report: `pass` or `fail`.
    Check {
        /// Checker name (`no_acked_loss`, …).
        name: String,
    },
    /// Which send path delivered more MB/s in the bench step: `sendfile`, `readwrite`, or `same`
    /// (within 5 %).
    FasterPath,
    /// Bytes the broker's CPU copied per message consumed, along one send path of the bench step.
    CopiedPerMessage {
        /// `sendfile` or `readwrite`.
        path: String,
    },
}

/// The two send paths of a bench step, as far as questions need them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchFigures {
    /// MB/s with `sendfile`.
    pub sendfile_mb_s: f64,
    /// MB/s with `read`+`write`.
    pub readwrite_mb_s: f64,
    /// CPU-copied bytes per message with `sendfile`.
    pub sendfile_copied: f64,
    /// CPU-copied bytes per message with `read`+`write`.
    pub readwrite_copied: f64,
}

/// What a step's run left to be asked about.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Trace events of the run.
    pub events: &'a [Event],
    /// The scenario's report, for a scenario step.
    pub report: Option<&'a Report>,
    /// The bench's figures, for a bench step.
    pub bench: Option<&'a BenchFigures>,
    /// Index of the step's first event in `events` (counts read `events[step_start..]`).
    pub step_start: usize,
}

impl<'a> Observed<'a> {
    /// A run known by its trace alone.
    pub fn trace(events: &'a [Event]) -> Self {
        Observed { events, report: None, bench: None, step_start: 0 }
    }
}

/// An observed answer: how it is shown, and the predictions that count as right.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// As printed (`broker 1 (slave1)`).
    pub shown: String,
    /// Accepted spellings, lower case (`1`, `broker 1`, `slave1`).
    pub accepted: Vec<String>,
    /// For a measured quantity: the value and how far off a prediction may be.
    pub tolerance: Option<(f64, f64)>,
}

impl Answer {
    fn new(shown: impl Into<String>, accepted: impl IntoIterator<Item = String>) -> Self {
        let shown = shown.into();
        let mut acc: Vec<String> = accepted.into_iter().map(|a| norm(&a)).collect();
        acc.push(norm(&shown));
        acc.sort();
        acc.dedup();
        Answer { shown, accepted: acc, tolerance: None }
    }

    /// Whether a learner's prediction names this answer (case, spaces and a trailing full stop
    /// do not matter).
    pub fn matches(&self, prediction: &str) -> bool {
        let p = norm(prediction);
        if let (Some((value, within)), Ok(x)) =
            (self.tolerance, p.trim_end_matches(['s', '秒']).trim().parse::<f64>())
        {
            return (x - value).abs() <= within;
        }
        !p.is_empty() && self.accepted.contains(&p)
    }
}

fn norm(s: &str) -> String {
    let s = s.trim().trim_end_matches(['.', '。']).trim().to_lowercase();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why a query has no answer in a run (the lesson file asks about something that did not happen).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// A kind a query names must be declared in the trace schema, and so must the fields it names
/// (or be one of the fixed ones, `host` and `proc` above all).
fn declared(kind: &str, fields: &[&str]) -> Result<(), String> {
    let Some(spec) = schema::spec(kind) else {
        return Err(format!(
            "unknown event kind {kind:?} (sim/core/src/trace/schema.rs declares them)"
        ));
    };
    match fields.iter().find(|f| !spec.has_field(f) && !schema::FIXED_FIELDS.contains(f)) {
        Some(f) => Err(format!(
            "event kind {kind:?} has no field {f:?} (its fields: {})",
            spec.fields.join(", ")
        )),
        None => Ok(()),
    }
}

fn field_matches(e: &Event, name: &str, want: &Value) -> bool {
    let got = match name {
        "host" => Some(Value::String(e.host.clone())),
        "proc" => Some(Value::String(e.proc.clone())),
        _ => e.fields.get(name).cloned(),
    };
    match (got, want) {
        (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Some(g), w) => g == *w,
        (None, _) => false,
    }
}

fn matching<'e>(
    events: &'e [Event],
    kind: &'e str,
    filter: &'e BTreeMap<String, Value>,
) -> impl Iterator<Item = &'e Event> + 'e {
    events
        .iter()
        .filter(move |e| e.kind == kind && filter.iter().all(|(k, v)| field_matches(e, k, v)))
}

fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(show_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Broker id of each host, from the brokers' registrations.
fn broker_of_host(events: &[Event]) -> BTreeMap<String, i64> {
    events
        .iter()
        .filter(|e| e.kind == kind::KAFKA_REGISTERED)
        .filter_map(|e| Some((e.host.clone(), e.i64("broker")?)))
        .collect()
}

fn host_of_broker(events: &[Event], id: i64) -> Option<String> {
    broker_of_host(events).into_iter().find(|(_, b)| *b == id).map(|(h, _)| h)
}

fn broker_answer(events: &[Event], id: i64) -> Answer {
    if id < 0 {
        return Answer::new(
            "none",
            ["-1".to_string(), "no leader".into(), "offline".into(), "无".into()],
        );
    }
    match host_of_broker(events, id) {
        Some(h) => {
            Answer::new(format!("broker {id} ({h})"), [id.to_string(), format!("broker {id}"), h])
        }
        None => Answer::new(format!("broker {id}"), [id.to_string()]),
    }
}

fn is_partition(e: &Event, topic: &str, partition: i64) -> bool {
    e.str("topic") == Some(topic) && e.i64("partition") == Some(partition)
}

fn int_list(v: Option<&Value>) -> Option<Vec<i64>> {
    v?.as_array()?.iter().map(Value::as_i64).collect()
}

impl Query {
    /// Evaluates the query over a run.
    pub fn eval(&self, o: &Observed<'_>) -> Result<Answer, QueryError> {
        let events = o.events;
        let step = &o.events[o.step_start.min(o.events.len())..];
        let none = |what: &str| QueryError(format!("the run recorded no {what}"));
        match self {
            Query::ZkLeader => {
                let e = events
                    .iter()
                    .rev()
                    .find(|e| e.kind == kind::FLE_SETTLED && e.str("state") == Some("LEADING"))
                    .ok_or_else(|| none("ZooKeeper leader (fle.settled LEADING)"))?;
                let id = e.u64("leader").unwrap_or(0);
                Ok(Answer::new(
                    format!("{} (myid {id})", e.host),
                    [e.host.clone(), id.to_string(), format!("myid {id}"), format!("server.{id}")],
                ))
            }
            Query::Controller => {
                let e = events
                    .iter()
                    .rev()
                    .find(|e| e.kind == kind::KAFKA_CONTROLLER_ELECTED)
                    .ok_or_else(|| none("controller election"))?;
                Ok(broker_answer(events, e.i64("broker").unwrap_or(-1)))
            }
            Query::PartitionLeader { topic, partition } => {
                let hosts = broker_of_host(events);
                let e = events
                    .iter()
                    .rev()
                    .find(|e| {
                        is_partition(e, topic, *partition)
                            && (e.kind == kind::KAFKA_BECOME_LEADER
                                || (e.kind == kind::KAFKA_LEADER_ELECTION
                                    && e.i64("leader") == Some(-1)))
                    })
                    .ok_or_else(|| none(&format!("leader of {topic}-{partition}")))?;
                let id = if e.kind == kind::KAFKA_BECOME_LEADER {
                    hosts.get(&e.host).copied().unwrap_or(-1)
                } else {
                    -1
                };
                Ok(broker_answer(events, id))
            }
            Query::Isr { topic, partition } => {
                let e = events
                    .iter()
                    .rev()
                    .find(|e| {
                        is_partition(e, topic, *partition)
                            && matches!(
                                e.kind.as_str(),
                                kind::KAFKA_BECOME_LEADER
                                    | kind::KAFKA_LEADER_ELECTION
                                    | kind::KAFKA_ISR_SHRINK
                                    | kind::KAFKA_ISR_EXPAND
                            )
                            && e.fields.get("isr").is_some()
                    })
                    .ok_or_else(|| none(&format!("ISR of {topic}-{partition}")))?;
                let mut isr = int_list(e.fields.get("isr")).ok_or_else(|| {
                    QueryError(format!("{} has no list of brokers in `isr`", e.kind))
                })?;
                isr.sort_unstable();
                let shown = isr.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                let spaced = isr.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                let spaced2 = isr.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
                Ok(Answer::new(shown, [spaced, spaced2]))
            }
            Query::PartitionOf { topic, value } => {
                let e = events
                    .iter()
                    .find(|e| {
                        matches!(
                            e.kind.as_str(),
                            kind::KAFKA_CLIENT_ACKED | kind::KAFKA_CLIENT_SENT
                        ) && e.str("topic") == Some(topic)
                            && e.fields
                                .get("values")
                                .and_then(Value::as_array)
                                .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some(value)))
                    })
                    .ok_or_else(|| none(&format!("record {value:?} sent to {topic}")))?;
                let p = e.i64("partition").unwrap_or(-1);
                Ok(Answer::new(p.to_string(), [format!("partition {p}"), format!("{topic}-{p}")]))
            }
            Query::Count { event, filter, sum } => {
                let n: f64 = match sum {
                    None => matching(step, event, filter).count() as f64,
                    Some(f) => matching(step, event, filter)
                        .filter_map(|e| e.fields.get(f).and_then(Value::as_f64))
                        .sum(),
                };
                Ok(Answer::new(fmt_num(n), []))
            }
            Query::Distinct { event, field, filter } => {
                let set: BTreeSet<String> = matching(step, event, filter)
                    .filter_map(|e| e.fields.get(field).map(show_value))
                    .collect();
                Ok(Answer::new(set.len().to_string(), []))
            }
            Query::Last { event, field, filter, pointer } => {
                let e = matching(events, event, filter)
                    .last()
                    .ok_or_else(|| none(&format!("{event} event")))?;
                let mut v = match field.as_str() {
                    "host" => Value::String(e.host.clone()),
                    "proc" => Value::String(e.proc.clone()),
                    f => e
                        .fields
                        .get(f)
                        .cloned()
                        .ok_or_else(|| QueryError(format!("{event} has no field {f:?}")))?,
                };
                if let Some(p) = pointer {
                    v = v.pointer(p).cloned().ok_or_else(|| {
                        QueryError(format!("{event}.{field} has nothing at {p:?}: {v}"))
                    })?;
                }
                Ok(Answer::new(show_value(&v), []))
            }
            Query::Elapsed { from, from_where, to, to_where } => {
                let start = matching(events, from, from_where)
                    .last()
                    .ok_or_else(|| none(&format!("{from} event")))?;
                let end = matching(events, to, to_where)
                    .find(|e| e.id > start.id)
                    .ok_or_else(|| none(&format!("{to} event after the {from}")))?;
                let secs = (end.t_us.saturating_sub(start.t_us)) as f64 / 1e6;
                let mut a = Answer::new(format!("{} s", secs.round()), [secs.round().to_string()]);
                a.tolerance = Some((secs, 1.0));
                Ok(a)
            }
            Query::Metric { name, key } => {
                let r = o
                    .report
                    .ok_or_else(|| QueryError("a metric question needs a scenario step".into()))?;
                let mut v = r.metrics.get(name).ok_or_else(|| {
                    QueryError(format!("the scenario's report has no metric {name:?}"))
                })?;
                if let Some(k) = key {
                    // A map without the entry counts zero: the runner lists only groups with some.
                    v = v.get(k).unwrap_or(&Value::Null);
                    if v.is_null() {
                        return Ok(Answer::new("0", []));
                    }
                }
                Ok(Answer::new(show_value(v), []))
            }
            Query::Check { name } => {
                let r = o
                    .report
                    .ok_or_else(|| QueryError("a check question needs a scenario step".into()))?;
                let c = r
                    .checks
                    .iter()
                    .find(|c| c.name == *name)
                    .ok_or_else(|| QueryError(format!("the scenario has no check {name:?}")))?;
                Ok(if c.ok {
                    Answer::new(
                        "pass",
                        ["holds".to_string(), "yes".into(), "通过".into(), "成立".into()],
                    )
                } else {
                    Answer::new(
                        "fail",
                        ["violated".to_string(), "no".into(), "失败".into(), "不成立".into()],
                    )
                })
            }
            Query::FasterPath => {
                let b = o
                    .bench
                    .ok_or_else(|| QueryError("a send-path question needs a bench step".into()))?;
                let (s, r) = (b.sendfile_mb_s, b.readwrite_mb_s);
                Ok(if (s - r).abs() <= 0.05 * s.max(r) {
                    Answer::new(
                        "same",
                        [
                            "equal".to_string(),
                            "both".into(),
                            "neither".into(),
                            "一样".into(),
                            "相同".into(),
                        ],
                    )
                } else if s > r {
                    Answer::new("sendfile", ["zero-copy".to_string(), "transferto".into()])
                } else {
                    Answer::new("readwrite", ["read+write".to_string(), "read/write".into()])
                })
            }
            Query::CopiedPerMessage { path } => {
                let b = o
                    .bench
                    .ok_or_else(|| QueryError("a send-path question needs a bench step".into()))?;
                let v = match path.as_str() {
                    "sendfile" => b.sendfile_copied,
                    "readwrite" => b.readwrite_copied,
                    other => {
                        return Err(QueryError(format!(
                            "unknown send path {other:?} (sendfile, readwrite)"
                        )))
                    }
                };
                Ok(Answer::new(fmt_num(v.round()), []))
            }
        }
    }

    /// Checks what can be checked before a run: names that must be known.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Query::Check { name } if !crate::check::NAMES.contains(&name.as_str()) => {
                Err(format!("unknown check {name:?} (known: {})", crate::check::NAMES.join(", ")))
            }
            Query::CopiedPerMessage { path } if path != "sendfile" && path != "readwrite" => {
                Err(format!("unknown send path {path:?} (sendfile, readwrite)"))
            }
            Query::Count { event, .. }
            | Query::Distinct { event, .. }
            | Query::Last { event, .. }
            | Query::Elapsed { from: event, .. }
            | Query::Elapsed { to: event, .. }
                if event.trim().is_empty() =>
            {
                Err("`event` must name an event kind".into())
            }
            _ => self
                .events_named()
                .into_iter()
                .try_for_each(|(kind, fields)| declared(kind, &fields)),
        }
    }

    /// The event kinds the query reads, each with the fields it names (`where` keys, `field`,
    /// `sum`).
    fn events_named(&self) -> Vec<(&str, Vec<&str>)> {
        fn keys(f: &BTreeMap<String, Value>) -> Vec<&str> {
            f.keys().map(String::as_str).collect()
        }
        match self {
            Query::Count { event, filter, sum } => {
                let mut fields = keys(filter);
                fields.extend(sum.as_deref());
                vec![(event, fields)]
            }
            Query::Distinct { event, field, filter } | Query::Last { event, field, filter, .. } => {
                let mut fields = keys(filter);
                fields.push(field);
                vec![(event, fields)]
            }
            Query::Elapsed { from, from_where, to, to_where } => {
                vec![(from, keys(from_where)), (to, keys(to_where))]
            }
            _ => Vec::new(),
        }
    }

    /// What the step must run for the query to have something to read.
    pub fn needs(&self) -> Needs {
        match self {
            Query::Metric { .. } | Query::Check { .. } => Needs::Scenario,
            Query::FasterPath | Query::CopiedPerMessage { .. } => Needs::Bench,
            _ => Needs::Trace,
        }
    }
}

/// The kind of step a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Shell lines or a scenario (both leave a trace).
    Trace,
    /// A scenario (its report).
    Scenario,
    /// A bench step.
    Bench,
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{fields, Tracer};

    fn kafka_trace() -> Vec<Event> {
        let t = Tracer::new();
        for (h, id) in [("master", 0), ("slave1", 1), ("slave2", 2)] {
            t.emit(
                1,
                h,
                "Kafka",
                kind::KAFKA_REGISTERED,
                None,
                fields! { "broker" => id, "host" => h, "port" => 9092 },
            );
        }
        t.emit(
            2,
            "master",
            "Kafka",
            kind::KAFKA_CONTROLLER_ELECTED,
            None,
            fields! { "broker" => 0, "epoch" => 1 },
        );
        t.emit(
            3,
            "slave1",
            "Kafka",
            kind::KAFKA_BECOME_LEADER,
            None,
            fields! { "topic" => "t", "partition" => 0, "leader_epoch" => 0, "isr" => [1, 2, 0] },
        );
        t.emit(
            4,
            "slave2",
            "Kafka",
            kind::KAFKA_BECOME_LEADER,
            None,
            fields! { "topic" => "t", "partition" => 1, "leader_epoch" => 0, "isr" => [2, 0, 1] },
        );
        t.emit(
            5,
            "slave1",
            "Kafka",
            kind::KAFKA_ISR_SHRINK,
            None,
            fields! { "topic" => "t", "partition" => 0, "removed" => [0], "isr" => [2, 1] },
        );
        t.emit(6, "master", "ConsoleProducer", kind::KAFKA_CLIENT_ACKED, None, fields! { "topic" => "t", "partition" => 1, "first" => 0, "records" => 2, "values" => ["a", "b"] });
        // Each poll's records of a partition are one event: group A reads two then one, B two.
        for (i, (g, first, values)) in
            [("A", 0, vec!["a", "b"]), ("A", 2, vec!["c"]), ("B", 0, vec!["a", "b"])]
                .into_iter()
                .enumerate()
        {
            let records = values.len();
            t.emit(7 + i as u64, "master", "ConsoleConsumer", kind::KAFKA_CLIENT_CONSUMED, None, fields! { "topic" => "t", "partition" => 1, "first" => first, "records" => records, "values" => values, "group" => g });
        }
        t.emit(
            10,
            "master",
            "Kafka",
            kind::KAFKA_LEADER_ELECTION,
            None,
            fields! { "topic" => "t", "partition" => 1, "leader" => -1, "isr" => [2] },
        );
        t.events()
    }

    fn eval(q: Query) -> Answer {
        q.eval(&Observed::trace(&kafka_trace())).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn kafka_queries_read_the_last_relevant_event() {
        assert_eq!(eval(Query::Controller).shown, "broker 0 (master)");
        let l = eval(Query::PartitionLeader { topic: "t".into(), partition: 0 });
        assert_eq!(l.shown, "broker 1 (slave1)");
        assert!(
            l.matches("1")
                && l.matches("Broker 1")
                && l.matches("slave1")
                && !l.matches("2")
                && !l.matches("")
        );
        // The election that found no live in-sync replica comes after slave2 became leader.
        assert_eq!(eval(Query::PartitionLeader { topic: "t".into(), partition: 1 }).shown, "none");
        assert_eq!(eval(Query::Isr { topic: "t".into(), partition: 0 }).shown, "1,2");
        assert!(eval(Query::Isr { topic: "t".into(), partition: 0 }).matches("1, 2"));
        assert_eq!(eval(Query::PartitionOf { topic: "t".into(), value: "b".into() }).shown, "1");
    }

    #[test]
    fn counts_filter_on_fields_and_sum() {
        let count = |filter: &[(&str, Value)], sum: Option<&str>| {
            eval(Query::Count {
                event: kind::KAFKA_CLIENT_CONSUMED.into(),
                filter: filter.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
                sum: sum.map(str::to_string),
            })
            .shown
        };
        assert_eq!(count(&[], None), "3");
        assert_eq!(count(&[("group", Value::from("A"))], None), "2");
        assert_eq!(count(&[("group", Value::from("C"))], None), "0");
        assert_eq!(
            count(
                &[("host", Value::from("master")), ("partition", Value::from(1))],
                Some("records")
            ),
            "5"
        );
        assert_eq!(count(&[("group", Value::from("A"))], Some("records")), "3");
        let d = eval(Query::Distinct {
            event: kind::KAFKA_CLIENT_CONSUMED.into(),
            field: "group".into(),
            filter: BTreeMap::new(),
        });
        assert_eq!(d.shown, "2");
        let last = eval(Query::Last {
            event: kind::KAFKA_CLIENT_CONSUMED.into(),
            field: "group".into(),
            filter: BTreeMap::new(),
            pointer: None,
        });
        assert_eq!(last.shown, "B");
        let values = |pointer: &str| {
            Query::Last {
                event: kind::KAFKA_CLIENT_ACKED.into(),
                field: "values".into(),
                filter: BTreeMap::new(),
                pointer: Some(pointer.into()),
            }
            .eval(&Observed::trace(&kafka_trace()))
            .map(|a| a.shown)
        };
        assert_eq!(values("/1"), Ok("b".into()));
        assert!(values("/7").is_err());
    }

    #[test]
    fn missing_events_are_errors_not_guesses() {
        let empty: Vec<Event> = Vec::new();
        assert!(Query::ZkLeader.eval(&Observed::trace(&empty)).is_err());
        assert!(Query::Metric { name: "x".into(), key: None }
            .eval(&Observed::trace(&empty))
            .is_err());
        assert!(Query::FasterPath.eval(&Observed::trace(&empty)).is_err());
        assert!(Query::Check { name: "nope".into() }.validate().is_err());
        assert!(Query::Check { name: "no_acked_loss".into() }.validate().is_ok());
    }

    #[test]
    fn elapsed_and_step_scoped_counts() {
        let events = kafka_trace();
        let q = Query::Elapsed {
            from: kind::KAFKA_BECOME_LEADER.into(),
            from_where: [("partition".to_string(), Value::from(0))].into_iter().collect(),
            to: kind::KAFKA_LEADER_ELECTION.into(),
            to_where: BTreeMap::new(),
        };
        let mut shifted = events.clone();
        shifted.last_mut().expect("events").t_us = 3_400_000;
        let a = q.eval(&Observed::trace(&shifted)).expect("elapsed");
        assert_eq!(a.shown, "3 s");
        assert!(a.matches("3") && a.matches("4 s") && a.matches("2.5") && !a.matches("5"));
        // Counting reads only the step's events.
        let count = Query::Count {
            event: kind::KAFKA_CLIENT_CONSUMED.into(),
            filter: BTreeMap::new(),
            sum: None,
        };
        let step = Observed { events: &events, report: None, bench: None, step_start: 10 };
        assert_eq!(count.eval(&step).map(|a| a.shown), Ok("1".into()));
    }

    #[test]
    fn the_faster_path_is_computed_from_the_figures() {
        let b = |s: f64, r: f64| BenchFigures {
            sendfile_mb_s: s,
            readwrite_mb_s: r,
            sendfile_copied: 0.0,
            readwrite_copied: 1000.0,
        };
        let ask = |f: BenchFigures| {
            Query::FasterPath
                .eval(&Observed { events: &[], report: None, bench: Some(&f), step_start: 0 })
                .map(|a| a.shown)
        };
        assert_eq!(ask(b(300.0, 100.0)), Ok("sendfile".into()));
        assert_eq!(ask(b(117.0, 116.0)), Ok("same".into()));
        assert_eq!(ask(b(10.0, 100.0)), Ok("readwrite".into()));
    }
}
