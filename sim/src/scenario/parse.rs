//! Reading a scenario file: serde structs that mirror the TOML (unknown keys denied, values
//! carrying their spans), then validation into [`Scenario`] with a line and column for every
//! error.

use super::{
    Check, CommitMode, Consumer, DriverCrash, Expect, KeyPattern, Nemesis, NemesisKind, Producer,
    Scenario, ScenarioError, Step, StreamSpec, Topic, ValuePattern, Workload,
};
use crate::check;
use crate::shell::lexer::{parse_duration, parse_line};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    cluster: Option<RawCluster>,
    #[serde(default)]
    topic: Vec<RawTopic>,
    #[serde(default)]
    workload: Vec<S<RawWorkload>>,
    #[serde(default)]
    step: Vec<RawStep>,
    nemesis: Option<RawNemesis>,
    #[serde(default)]
    check: Vec<RawCheck>,
    run: Option<RawRun>,
    stream: Option<S<RawStream>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStream {
    style: Option<S<String>>,
    topic: S<String>,
    host: Option<S<String>>,
    start: Option<S<String>>,
    stop: Option<S<String>>,
    batch_interval: Option<S<String>>,
    block_interval: Option<S<String>>,
    max_rate_per_partition: Option<S<i64>>,
    window: Option<S<i64>>,
    wal: Option<S<bool>>,
    output: Option<S<String>>,
    commit: Option<S<String>>,
    auto_commit_interval: Option<S<String>>,
    group: Option<S<String>>,
    crash_at: Option<S<String>>,
    crash_between: Option<S<Vec<S<String>>>>,
    restart_after: Option<S<String>>,
    task_max_failures: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    hosts: Option<S<Vec<S<String>>>>,
    zookeepers: Option<S<Vec<S<String>>>>,
    brokers: Option<S<Vec<S<String>>>>,
    profile: Option<S<String>>,
    broker_config: Option<BTreeMap<S<String>, S<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    name: S<String>,
    partitions: Option<S<i64>>,
    replication_factor: Option<S<i64>>,
    replica_assignment: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    kind: S<String>,
    topic: S<String>,
    host: Option<S<String>>,
    start: Option<S<String>>,
    stop: Option<S<String>>,
    count: Option<S<i64>>,
    // producer
    rate: Option<S<i64>>,
    acks: Option<S<String>>,
    key: Option<S<String>>,
    retries: Option<S<i64>>,
    request_timeout: Option<S<String>>,
    value: Option<S<String>>,
    // consumer
    group: Option<S<String>>,
    from_beginning: Option<S<bool>>,
    name: Option<S<String>>,
    members: Option<S<i64>>,
    commit: Option<S<String>>,
    process_time: Option<S<String>>,
    session_timeout: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: S<String>,
    run: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNemesis {
    kinds: S<Vec<S<String>>>,
    every: S<String>,
    duration: Option<S<String>>,
    start: Option<S<String>>,
    stop: Option<S<String>>,
    hosts: Option<S<Vec<S<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: S<String>,
    expect: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    duration: Option<S<String>>,
    settle: Option<S<String>>,
}

/// The seed's hosts, in order; the brokers' server.properties are installed on these three, and
/// ZooKeeper's zoo.cfg lists them (plus any further host in `cluster.zookeepers`).
const SEED_HOSTS: [&str; 3] = ["master", "slave1", "slave2"];

struct Cx<'a> {
    text: &'a str,
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.text, span.start, message)
    }

    fn duration(&self, v: &S<String>, what: &str) -> Result<Duration, ScenarioError> {
        parse_duration(v.get_ref()).map_err(|_| {
            self.err(
                v.span(),
                format!("{what}: '{}' is not a duration (e.g. 500ms, 10s, 2m)", v.get_ref()),
            )
        })
    }

    fn opt_duration(
        &self,
        v: &Option<S<String>>,
        what: &str,
        default: Duration,
    ) -> Result<Duration, ScenarioError> {
        match v {
            Some(v) => self.duration(v, what),
            None => Ok(default),
        }
    }

    fn host(&self, hosts: &[String], v: &S<String>, what: &str) -> Result<String, ScenarioError> {
        if hosts.iter().any(|h| h == v.get_ref()) {
            Ok(v.get_ref().clone())
        } else {
            Err(self.err(
                v.span(),
                format!("{what}: unknown host '{}' (hosts: {})", v.get_ref(), hosts.join(", ")),
            ))
        }
    }

    fn hosts(
        &self,
        hosts: &[String],
        v: &S<Vec<S<String>>>,
        what: &str,
    ) -> Result<Vec<String>, ScenarioError> {
        let mut out: Vec<String> = Vec::new();
        for h in v.get_ref() {
            let name = self.host(hosts, h, what)?;
            if out.contains(&name) {
                return Err(self.err(h.span(), format!("{what}: '{name}' is listed twice")));
            }
            out.push(name);
        }
        Ok(out)
    }

    fn count(&self, v: &S<i64>, what: &str, min: i64, max: i64) -> Result<i64, ScenarioError> {
        let n = *v.get_ref();
        if n < min || n > max {
            return Err(
                self.err(v.span(), format!("{what} must be between {min} and {max}, not {n}"))
            );
        }
        Ok(n)
    }
}

/// The comment lines at the top of the file, without their `#`.
fn header(text: &str) -> String {
    let mut lines = Vec::new();
    for l in text.lines() {
        let t = l.trim();
        if let Some(c) = t.strip_prefix('#') {
            lines.push(c.strip_prefix(' ').unwrap_or(c).trim_end().to_string());
        } else if t.is_empty() && lines.is_empty() {
            continue;
        } else {
            break;
        }
    }
    lines.join("\n").trim().to_string()
}

/// A broker-config value as a properties file spells it.
fn prop_value(cx: &Cx, v: &S<toml::Value>) -> Result<String, ScenarioError> {
    Ok(match v.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Float(f) => f.to_string(),
        _ => {
            return Err(
                cx.err(v.span(), "a broker_config value must be a string, number or boolean")
            )
        }
    })
}

pub(super) fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        ScenarioError::at(text, at, e.message().trim_end().to_string())
    })?;
    let cx = Cx { text };

    // [run] first: other defaults depend on the duration.
    let (duration, settle) = match &raw.run {
        Some(r) => (
            cx.opt_duration(&r.duration, "run.duration", Duration::from_secs(30))?,
            cx.opt_duration(&r.settle, "run.settle", Duration::from_secs(10))?,
        ),
        None => (Duration::from_secs(30), Duration::from_secs(10)),
    };
    if duration.is_zero() {
        if let Some(d) = raw.run.as_ref().and_then(|r| r.duration.as_ref()) {
            return Err(cx.err(d.span(), "run.duration must be more than 0"));
        }
    }

    // [cluster]
    let seed: Vec<String> = SEED_HOSTS.iter().map(|h| h.to_string()).collect();
    let mut sc = Scenario {
        name: "scenario".into(),
        about: header(text),
        hosts: seed.clone(),
        zookeepers: seed.clone(),
        ensemble: seed.clone(),
        brokers: seed.clone(),
        profile: "commodity-2014".into(),
        broker_config: Vec::new(),
        topics: Vec::new(),
        workloads: Vec::new(),
        steps: Vec::new(),
        nemesis: None,
        checks: Vec::new(),
        stream: None,
        duration,
        settle,
    };
    if let Some(c) = &raw.cluster {
        if let Some(hs) = &c.hosts {
            let mut hosts: Vec<String> = Vec::new();
            for h in hs.get_ref() {
                let name = h.get_ref();
                let valid = !name.is_empty()
                    && name.len() <= 63
                    && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                    && !name.starts_with('-')
                    && name != "lab";
                if !valid {
                    return Err(cx.err(
                        h.span(),
                        format!("'{name}' is not a host name (letters, digits and '-')"),
                    ));
                }
                if hosts.contains(name) {
                    return Err(cx.err(h.span(), format!("host '{name}' is listed twice")));
                }
                hosts.push(name.clone());
            }
            if hosts.len() < 3 || hosts[..3] != seed[..] {
                return Err(cx.err(
                    hs.span(),
                    "hosts must start with the seed's master, slave1, slave2 (ZooKeeper and Kafka are installed on those three); more may follow",
                ));
            }
            if hosts.len() > 16 {
                return Err(cx.err(hs.span(), "at most 16 hosts"));
            }
            sc.hosts = hosts;
        }
        if let Some(z) = &c.zookeepers {
            sc.zookeepers = cx.hosts(&sc.hosts, z, "cluster.zookeepers")?;
            // zoo.cfg lists the seed's three and every further host that runs ZooKeeper.
            sc.ensemble = sc
                .hosts
                .iter()
                .filter(|h| seed.contains(h) || sc.zookeepers.contains(h))
                .cloned()
                .collect();
        }
        if let Some(b) = &c.brokers {
            sc.brokers = cx.hosts(
                &seed,
                b,
                "cluster.brokers (server.properties is installed on master, slave1, slave2)",
            )?;
        }
        if let Some(p) = &c.profile {
            if crate::hw::HardwareProfile::named(p.get_ref()).is_err() {
                return Err(cx.err(
                    p.span(),
                    format!(
                        "unknown hardware profile '{}' (known: {})",
                        p.get_ref(),
                        crate::hw::HardwareProfile::names().join(", ")
                    ),
                ));
            }
            sc.profile = p.get_ref().clone();
        }
        if let Some(cfg) = &c.broker_config {
            for (k, v) in cfg {
                let key = k.get_ref();
                if key.is_empty()
                    || key
                        .chars()
                        .any(|ch| ch == '=' || ch.is_whitespace() || ch.is_control() || ch == '#')
                {
                    return Err(cx.err(k.span(), format!("'{key}' is not a properties key")));
                }
                if key == "broker.id" || key == "port" || key == "zookeeper.connect" {
                    return Err(
                        cx.err(k.span(), format!("'{key}' is set by the lab for each host"))
                    );
                }
                let value = prop_value(&cx, v)?;
                if value.chars().any(|ch| ch.is_control()) {
                    return Err(cx.err(v.span(), "a broker_config value must be one line"));
                }
                sc.broker_config.push((key.clone(), value));
            }
        }
    }
    let broker_ids: Vec<i32> = sc
        .brokers
        .iter()
        .filter_map(|b| sc.hosts.iter().position(|h| h == b))
        .map(|i| i as i32)
        .collect();

    // [[topic]]
    for t in &raw.topic {
        let name = t.name.get_ref();
        let legal = !name.is_empty()
            && name.len() <= 249
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' || ch == '-');
        if !legal || name == "." || name == ".." {
            return Err(cx.err(
                t.name.span(),
                format!(
                    "'{name}' is not a legal topic name (ASCII letters, digits, '.', '_', '-')"
                ),
            ));
        }
        if sc.topics.iter().any(|x: &Topic| &x.name == name) {
            return Err(cx.err(t.name.span(), format!("topic '{name}' is declared twice")));
        }
        let topic = match &t.replica_assignment {
            Some(a) => {
                if let Some(p) = t.partitions.as_ref().or(t.replication_factor.as_ref()) {
                    return Err(cx.err(p.span(), "replica_assignment decides partitions and replication_factor: leave them out"));
                }
                let parsed = crate::kafka::admin::parse_replica_assignment(a.get_ref())
                    .map_err(|e| cx.err(a.span(), format!("replica_assignment: {e}")))?;
                let rf = parsed.values().next().map(Vec::len).unwrap_or(0);
                if parsed.is_empty() || parsed.values().any(|r| r.len() != rf || r.is_empty()) {
                    return Err(cx.err(a.span(), "replica_assignment: every partition needs the same, non-zero number of replicas"));
                }
                if let Some(bad) = parsed.values().flatten().find(|b| !broker_ids.contains(b)) {
                    return Err(cx.err(a.span(), format!("replica_assignment: broker {bad} is not one of the brokers ({broker_ids:?})")));
                }
                Topic {
                    name: name.clone(),
                    partitions: parsed.len() as u32,
                    replication_factor: rf as u32,
                    replica_assignment: Some(a.get_ref().clone()),
                }
            }
            None => {
                let partitions = match &t.partitions {
                    Some(p) => cx.count(p, "partitions", 1, 1000)? as u32,
                    None => 1,
                };
                let rf = match &t.replication_factor {
                    Some(r) => {
                        let n = cx.count(r, "replication_factor", 1, 16)?;
                        if n as usize > sc.brokers.len() {
                            return Err(cx.err(
                                r.span(),
                                format!(
                                    "replication factor: {n} larger than available brokers: {}",
                                    sc.brokers.len()
                                ),
                            ));
                        }
                        n as u32
                    }
                    None => 1,
                };
                Topic {
                    name: name.clone(),
                    partitions,
                    replication_factor: rf,
                    replica_assignment: None,
                }
            }
        };
        sc.topics.push(topic);
    }

    // [[workload]]
    let mut producers = 0u32;
    for w in &raw.workload {
        let span = w.span();
        let w = w.get_ref();
        let topic = w.topic.get_ref();
        if !sc.topics.iter().any(|t| &t.name == topic) {
            return Err(cx.err(
                w.topic.span(),
                format!("unknown topic '{topic}': declare it in a [[topic]] table"),
            ));
        }
        let host = match &w.host {
            Some(h) => cx.host(&sc.hosts, h, "workload.host")?,
            None => sc.hosts[0].clone(),
        };
        let start = cx.opt_duration(&w.start, "workload.start", Duration::ZERO)?;
        let stop = cx.opt_duration(&w.stop, "workload.stop", duration)?;
        if stop <= start {
            let s = w.stop.as_ref().map(|s| s.span()).unwrap_or(span.clone());
            return Err(cx.err(s, "workload.stop must come after workload.start"));
        }
        let count = match &w.count {
            Some(c) => Some(cx.count(c, "count", 1, 100_000_000)? as u64),
            None => None,
        };
        let reject = |name: &str,
                      present: Option<Range<usize>>,
                      kind: &str|
         -> Result<(), ScenarioError> {
            match present {
                Some(s) => Err(cx.err(s, format!("'{name}' does not apply to a {kind} workload"))),
                None => Ok(()),
            }
        };
        match w.kind.get_ref().as_str() {
            "producer" => {
                reject("group", w.group.as_ref().map(|x| x.span()), "producer")?;
                for (name, s) in [
                    ("from_beginning", w.from_beginning.as_ref().map(|x| x.span())),
                    ("name", w.name.as_ref().map(|x| x.span())),
                    ("members", w.members.as_ref().map(|x| x.span())),
                    ("commit", w.commit.as_ref().map(|x| x.span())),
                    ("process_time", w.process_time.as_ref().map(|x| x.span())),
                    ("session_timeout", w.session_timeout.as_ref().map(|x| x.span())),
                ] {
                    reject(name, s, "producer")?;
                }
                let Some(rate) = &w.rate else {
                    return Err(
                        cx.err(span, "a producer workload needs a rate (records per second)")
                    );
                };
                let rate = cx.count(rate, "rate", 1, 100_000)? as u32;
                let acks = match &w.acks {
                    None => 1,
                    Some(a) => match a.get_ref().as_str() {
                        "all" | "-1" => -1,
                        "1" => 1,
                        "0" => 0,
                        other => {
                            return Err(cx.err(
                                a.span(),
                                format!("acks must be \"all\", \"1\" or \"0\", not \"{other}\""),
                            ))
                        }
                    },
                };
                let key = match &w.key {
                    None => KeyPattern::None,
                    Some(k) => match k.get_ref().as_str() {
                        "none" => KeyPattern::None,
                        "seq" => KeyPattern::Seq,
                        other => {
                            return Err(cx.err(
                                k.span(),
                                format!("key must be \"none\" or \"seq\", not \"{other}\""),
                            ))
                        }
                    },
                };
                let retries = match &w.retries {
                    Some(r) => cx.count(r, "retries", 0, 1000)? as u32,
                    None => 0,
                };
                let request_timeout = cx.opt_duration(
                    &w.request_timeout,
                    "request_timeout",
                    Duration::from_secs(30),
                )?;
                if request_timeout < Duration::from_millis(1) {
                    if let Some(r) = &w.request_timeout {
                        return Err(cx.err(r.span(), "request_timeout must be at least 1ms"));
                    }
                }
                let value = match &w.value {
                    None => ValuePattern::Seq,
                    Some(v) => match v.get_ref().as_str() {
                        "seq" => ValuePattern::Seq,
                        "sentences" => ValuePattern::Sentences,
                        other => {
                            return Err(cx.err(
                                v.span(),
                                format!("value must be \"seq\" or \"sentences\", not \"{other}\""),
                            ))
                        }
                    },
                };
                sc.workloads.push(Workload::Producer(Producer {
                    value,
                    index: producers,
                    topic: topic.clone(),
                    host,
                    rate,
                    start,
                    stop,
                    acks,
                    key,
                    retries,
                    request_timeout,
                    count,
                }));
                producers += 1;
            }
            "consumer" => {
                for (name, s) in [
                    ("rate", w.rate.as_ref().map(|x| x.span())),
                    ("acks", w.acks.as_ref().map(|x| x.span())),
                    ("key", w.key.as_ref().map(|x| x.span())),
                    ("retries", w.retries.as_ref().map(|x| x.span())),
                    ("request_timeout", w.request_timeout.as_ref().map(|x| x.span())),
                    ("value", w.value.as_ref().map(|x| x.span())),
                ] {
                    reject(name, s, "consumer")?;
                }
                let group = match &w.group {
                    Some(g) => {
                        if g.get_ref().is_empty() || g.get_ref() == "lab-checker" {
                            return Err(cx.err(
                                g.span(),
                                "group must be non-empty and not the final reader's 'lab-checker'",
                            ));
                        }
                        g.get_ref().clone()
                    }
                    None => format!("lab-consumer-{}", sc.workloads.len()),
                };
                let member = w.group.is_some();
                if !member {
                    for (name, s) in [
                        ("name", w.name.as_ref().map(|x| x.span())),
                        ("members", w.members.as_ref().map(|x| x.span())),
                        ("commit", w.commit.as_ref().map(|x| x.span())),
                        ("process_time", w.process_time.as_ref().map(|x| x.span())),
                        ("session_timeout", w.session_timeout.as_ref().map(|x| x.span())),
                    ] {
                        if let Some(s) = s {
                            return Err(cx.err(s, format!("'{name}' applies to a consumer group member: give the workload a group")));
                        }
                    }
                }
                let members = match &w.members {
                    Some(m) => cx.count(m, "members", 1, 64)? as usize,
                    None => 1,
                };
                let commit = match &w.commit {
                    None => CommitMode::Auto,
                    Some(c) => match c.get_ref().as_str() {
                        "auto" => CommitMode::Auto,
                        "before-process" => CommitMode::BeforeProcess,
                        "after-process" => CommitMode::AfterProcess,
                        other => {
                            return Err(cx.err(c.span(), format!("commit must be \"auto\", \"before-process\" or \"after-process\", not \"{other}\"")))
                        }
                    },
                };
                let process_time =
                    cx.opt_duration(&w.process_time, "process_time", Duration::ZERO)?;
                if process_time > Duration::from_secs(10) {
                    if let Some(p) = &w.process_time {
                        return Err(cx.err(p.span(), "process_time must be at most 10s per record"));
                    }
                }
                let session_timeout = cx.opt_duration(
                    &w.session_timeout,
                    "session_timeout",
                    Duration::from_secs(30),
                )?;
                if session_timeout < Duration::from_millis(600)
                    || session_timeout > Duration::from_secs(300)
                {
                    if let Some(s) = &w.session_timeout {
                        return Err(
                            cx.err(s.span(), "session_timeout must be between 600ms and 300s")
                        );
                    }
                }
                let base = match &w.name {
                    Some(n) => {
                        let v = n.get_ref();
                        if v.is_empty()
                            || v.len() > 64
                            || !v.chars().all(|ch| {
                                ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.'
                            })
                        {
                            return Err(cx.err(n.span(), format!("'{v}' is not a process name (ASCII letters, digits, '_', '-', '.')")));
                        }
                        Some(v.clone())
                    }
                    None => None,
                };
                for k in 1..=members {
                    let process = if !member {
                        "ConsumerPerformance".to_string()
                    } else {
                        match &base {
                            Some(b) if members == 1 => b.clone(),
                            Some(b) => format!("{b}{k}"),
                            None => {
                                let n = sc.workloads.iter().filter(|x| matches!(x, Workload::Consumer(c) if c.member && c.group == group)).count();
                                format!("Consumer-{group}-{}", n + 1)
                            }
                        }
                    };
                    if member && sc.workloads.iter().any(|x| matches!(x, Workload::Consumer(c) if c.member && c.process == process)) {
                        let s = w.name.as_ref().map(|n| n.span()).unwrap_or(span.clone());
                        return Err(cx.err(s, format!("two consumer workloads would both be named '{process}'")));
                    }
                    sc.workloads.push(Workload::Consumer(Consumer {
                        topic: topic.clone(),
                        group: group.clone(),
                        member,
                        process,
                        commit,
                        process_time,
                        session_timeout,
                        host: host.clone(),
                        start,
                        stop,
                        from_beginning: w
                            .from_beginning
                            .as_ref()
                            .map(|b| *b.get_ref())
                            .unwrap_or(false),
                        count,
                    }));
                }
            }
            other => {
                return Err(cx.err(
                    w.kind.span(),
                    format!("workload kind must be \"producer\" or \"consumer\", not \"{other}\""),
                ))
            }
        }
    }

    // [[step]]
    for s in &raw.step {
        let at = cx.duration(&s.at, "step.at")?;
        if at > duration {
            return Err(
                cx.err(s.at.span(), format!("step.at {} is after run.duration", s.at.get_ref()))
            );
        }
        let line = s.run.get_ref();
        if line.contains('\n') || line.contains('\r') {
            return Err(cx.err(s.run.span(), "step.run must be one shell line"));
        }
        match parse_line(line) {
            Err(e) => return Err(cx.err(s.run.span(), format!("step.run: {e}"))),
            Ok(None) => return Err(cx.err(s.run.span(), "step.run is empty")),
            Ok(Some(p)) => {
                if let Some(h) = &p.host {
                    if !sc.hosts.contains(h) {
                        return Err(cx.err(
                            s.run.span(),
                            format!(
                                "step.run: unknown host '{h}' (hosts: {})",
                                sc.hosts.join(", ")
                            ),
                        ));
                    }
                }
                if p.words.first().map(String::as_str) == Some("kafka-console-producer.sh") {
                    return Err(cx.err(s.run.span(), "step.run: the console producer reads lines until ^D; use a producer [[workload]] instead"));
                }
            }
        }
        sc.steps.push(Step { at, run: line.clone() });
    }
    // Steps run in time order; equal times keep file order.
    sc.steps.sort_by_key(|s| s.at);

    // [nemesis]
    if let Some(n) = &raw.nemesis {
        let mut kinds = Vec::new();
        for k in n.kinds.get_ref() {
            kinds.push(match k.get_ref().as_str() {
                "crash" => NemesisKind::Crash,
                "kill" => NemesisKind::Kill,
                "partition" => NemesisKind::Partition,
                "latency" => NemesisKind::Latency,
                "disk_full" => NemesisKind::DiskFull,
                "pause" => NemesisKind::Pause,
                other => {
                    return Err(cx.err(k.span(), format!("nemesis kind must be crash, kill, partition, latency, disk_full or pause, not \"{other}\"")))
                }
            });
        }
        if kinds.is_empty() {
            return Err(cx.err(n.kinds.span(), "nemesis.kinds is empty"));
        }
        let every = cx.duration(&n.every, "nemesis.every")?;
        if every < Duration::from_millis(100) {
            return Err(cx.err(n.every.span(), "nemesis.every must be at least 100ms"));
        }
        let lasts = cx.opt_duration(&n.duration, "nemesis.duration", every)?;
        if lasts > every || lasts.is_zero() {
            let s = n.duration.as_ref().map(|s| s.span()).unwrap_or(n.every.span());
            return Err(cx.err(s, "nemesis.duration must be more than 0 and at most nemesis.every"));
        }
        let start = cx.opt_duration(&n.start, "nemesis.start", Duration::ZERO)?;
        let stop = cx.opt_duration(&n.stop, "nemesis.stop", duration)?;
        if stop <= start {
            let s = n.stop.as_ref().map(|s| s.span()).unwrap_or(n.every.span());
            return Err(cx.err(s, "nemesis.stop must come after nemesis.start"));
        }
        if stop > duration {
            if let Some(s) = &n.stop {
                return Err(cx.err(s.span(), "nemesis.stop is after run.duration"));
            }
        }
        let hosts = match &n.hosts {
            Some(h) => {
                let v = cx.hosts(&sc.hosts, h, "nemesis.hosts")?;
                if v.is_empty() {
                    return Err(cx.err(h.span(), "nemesis.hosts is empty"));
                }
                v
            }
            None => sc.hosts.clone(),
        };
        sc.nemesis = Some(Nemesis { kinds, every, duration: lasts, start, stop, hosts });
    }

    // [[check]]
    for c in &raw.check {
        let name = c.name.get_ref();
        if !check::NAMES.contains(&name.as_str()) {
            return Err(cx.err(
                c.name.span(),
                format!("unknown check '{name}' (known: {})", check::NAMES.join(", ")),
            ));
        }
        if sc.checks.iter().any(|x: &Check| &x.name == name) {
            return Err(cx.err(c.name.span(), format!("check '{name}' is listed twice")));
        }
        let expect = match &c.expect {
            None => Expect::Pass,
            Some(e) => match e.get_ref().as_str() {
                "pass" => Expect::Pass,
                "fail" => Expect::Fail,
                other => {
                    return Err(cx.err(
                        e.span(),
                        format!("expect must be \"pass\" or \"fail\", not \"{other}\""),
                    ))
                }
            },
        };
        sc.checks.push(Check { name: name.clone(), expect });
    }

    // [stream]
    if let Some(st) = &raw.stream {
        sc.stream = Some(parse_stream(&cx, &sc, st)?);
    }
    Ok(sc)
}

fn parse_stream(cx: &Cx, sc: &Scenario, st: &S<RawStream>) -> Result<StreamSpec, ScenarioError> {
    use crate::stream::{CommitMode as Out, Sink, Style};
    let span = st.span();
    let st = st.get_ref();
    let topic = st.topic.get_ref();
    if !sc.topics.iter().any(|t| &t.name == topic) {
        return Err(cx.err(
            st.topic.span(),
            format!("stream.topic: unknown topic '{topic}': declare it in a [[topic]] table"),
        ));
    }
    let style = match &st.style {
        None => Style::Direct,
        Some(s) => match s.get_ref().as_str() {
            "direct" => Style::Direct,
            "receiver" => Style::Receiver,
            other => {
                return Err(cx.err(
                    s.span(),
                    format!("stream.style must be \"direct\" or \"receiver\", not \"{other}\""),
                ))
            }
        },
    };
    let host = match &st.host {
        Some(h) => cx.host(&sc.hosts, h, "stream.host")?,
        None => sc.hosts[0].clone(),
    };
    let start = cx.opt_duration(&st.start, "stream.start", Duration::ZERO)?;
    let stop = cx.opt_duration(&st.stop, "stream.stop", sc.duration)?;
    if stop <= start {
        return Err(cx.err(
            st.stop.as_ref().map(|s| s.span()).unwrap_or(span),
            "stream.stop must come after stream.start",
        ));
    }
    if stop > sc.duration {
        if let Some(s) = &st.stop {
            return Err(cx.err(s.span(), "stream.stop is after run.duration"));
        }
    }
    let batch_interval =
        cx.opt_duration(&st.batch_interval, "stream.batch_interval", Duration::from_secs(2))?;
    if batch_interval < Duration::from_millis(1) || batch_interval > Duration::from_secs(600) {
        if let Some(b) = &st.batch_interval {
            return Err(cx.err(b.span(), "stream.batch_interval must be between 1ms and 10m"));
        }
    }
    let block_interval = cx.opt_duration(
        &st.block_interval,
        "stream.block_interval",
        Duration::from_millis(200).min(batch_interval),
    )?;
    if block_interval.is_zero() || block_interval > batch_interval {
        if let Some(b) = &st.block_interval {
            return Err(cx.err(
                b.span(),
                "stream.block_interval must be more than 0 and at most the batch interval",
            ));
        }
    }
    let max_rate_per_partition = match &st.max_rate_per_partition {
        Some(r) => cx.count(r, "stream.max_rate_per_partition", 0, 10_000_000)? as u64,
        None => 0,
    };
    let window = match &st.window {
        Some(w) => cx.count(w, "stream.window", 1, 1000)? as u32,
        None => 1,
    };
    let wal = st.wal.as_ref().map(|w| *w.get_ref()).unwrap_or(false);
    if wal && style == Style::Direct {
        let s = st.wal.as_ref().map(|w| w.span()).unwrap_or(span.clone());
        return Err(cx.err(s, "stream.wal is for the receiver-based stream: the direct stream has no receiver (its offsets are in the checkpoint)"));
    }
    let sink = match &st.output {
        None => Sink::Table,
        Some(o) => match o.get_ref().as_str() {
            "table" => Sink::Table,
            other => match other.strip_prefix("topic:") {
                Some(t) if sc.topics.iter().any(|x| x.name == t) && t != topic => {
                    Sink::Topic(t.to_string())
                }
                Some(t) if t == topic => {
                    return Err(cx.err(
                        o.span(),
                        "stream.output: the output topic must not be the input topic",
                    ))
                }
                Some(t) => {
                    return Err(cx.err(
                        o.span(),
                        format!(
                            "stream.output: unknown topic '{t}': declare it in a [[topic]] table"
                        ),
                    ))
                }
                None => {
                    return Err(cx.err(
                        o.span(),
                        format!(
                            "stream.output must be \"table\" or \"topic:NAME\", not \"{other}\""
                        ),
                    ))
                }
            },
        },
    };
    let commit = match &st.commit {
        None => Out::AtLeastOnce,
        Some(c) => match c.get_ref().as_str() {
            "transactional" => Out::Transactional,
            "at-least-once" => Out::AtLeastOnce,
            other => {
                return Err(cx.err(
                    c.span(),
                    format!(
                    "stream.commit must be \"transactional\" or \"at-least-once\", not \"{other}\""
                ),
                ))
            }
        },
    };
    if commit == Out::Transactional {
        let s = st.commit.as_ref().map(|c| c.span()).unwrap_or(span.clone());
        if style == Style::Receiver {
            return Err(cx.err(s, "stream.commit = \"transactional\" needs style = \"direct\": a receiver's offsets live in ZooKeeper, not in the result store"));
        }
        if matches!(sink, Sink::Topic(_)) {
            return Err(cx.err(s, "stream.commit = \"transactional\" needs output = \"table\": Kafka 0.9 has no transactions"));
        }
    }
    let auto_commit_interval = cx.opt_duration(
        &st.auto_commit_interval,
        "stream.auto_commit_interval",
        Duration::from_secs(60),
    )?;
    if auto_commit_interval < Duration::from_millis(1) {
        if let Some(a) = &st.auto_commit_interval {
            return Err(cx.err(a.span(), "stream.auto_commit_interval must be at least 1ms"));
        }
    }
    if style == Style::Direct {
        for (name, s) in [
            ("auto_commit_interval", st.auto_commit_interval.as_ref().map(|x| x.span())),
            ("block_interval", st.block_interval.as_ref().map(|x| x.span())),
        ] {
            if let Some(s) = s {
                return Err(
                    cx.err(s, format!("stream.{name} applies to the receiver-based stream"))
                );
            }
        }
    }
    let group = match &st.group {
        Some(g) => {
            let v = g.get_ref();
            if v.is_empty()
                || !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(cx.err(
                    g.span(),
                    format!("stream.group '{v}' is illegal (ASCII letters, digits, '.', '_', '-')"),
                ));
            }
            v.clone()
        }
        None => "wordcount".to_string(),
    };
    let crash = match (&st.crash_at, &st.crash_between) {
        (Some(a), Some(_)) => {
            return Err(cx.err(a.span(), "give stream.crash_at or stream.crash_between, not both"))
        }
        (Some(a), None) => Some(DriverCrash::At(cx.duration(a, "stream.crash_at")?)),
        (None, Some(b)) => {
            let v = b.get_ref();
            if v.len() != 2 {
                return Err(cx.err(
                    b.span(),
                    "stream.crash_between takes two times, e.g. [\"10s\", \"30s\"]",
                ));
            }
            let (x, y) = (
                cx.duration(&v[0], "stream.crash_between")?,
                cx.duration(&v[1], "stream.crash_between")?,
            );
            if y <= x {
                return Err(cx.err(
                    b.span(),
                    "stream.crash_between: the second time must come after the first",
                ));
            }
            Some(DriverCrash::Between(x, y))
        }
        (None, None) => None,
    };
    if let Some(c) = crash {
        let (x, y) = match c {
            DriverCrash::At(a) => (a, a + Duration::from_millis(1)),
            DriverCrash::Between(a, b) => (a, b),
        };
        if x < start || y > stop {
            let s = st
                .crash_at
                .as_ref()
                .map(|a| a.span())
                .or(st.crash_between.as_ref().map(|b| b.span()))
                .unwrap_or(span.clone());
            return Err(
                cx.err(s, "the driver crash must fall between stream.start and stream.stop")
            );
        }
    }
    let restart_after =
        cx.opt_duration(&st.restart_after, "stream.restart_after", Duration::from_secs(3))?;
    let task_max_failures = match &st.task_max_failures {
        Some(t) => cx.count(t, "stream.task_max_failures", 1, 100)? as u32,
        None => 4,
    };
    Ok(StreamSpec {
        style,
        topic: topic.clone(),
        host,
        start,
        stop,
        batch_interval,
        block_interval,
        max_rate_per_partition,
        window,
        wal,
        sink,
        commit,
        auto_commit_interval,
        group,
        crash,
        restart_after,
        task_max_failures,
    })
}
