//! Scenarios: a cluster, workloads, timed shell steps, random faults and the invariants that
//! should (or should not) hold, in one TOML file (contract 2 of the design brief).
//!
//! [`Scenario::parse`] reads and validates a file; every error carries the line and column it
//! is about. [`run`] plays a scenario in one simulation and returns a [`Report`]: the checks'
//! verdicts against their `expect`, a few metrics, and the trace hash. A run is a pure function
//! of (scenario, seed).
//!
//! How a run goes (times in the file are measured from the end of set-up):
//! 1. set-up: ZooKeeper installed everywhere (the seed's zoo.cfg, or one listing the larger
//!    [`Scenario::ensemble`]) and started on `cluster.zookeepers` (`ssh H zkServer.sh start`),
//!    `broker_config` applied with `lab set`, brokers started
//!    with `kafka-server-start.sh -daemon`, topics created with `kafka-topics.sh --create`;
//!    the runner waits (in virtual time) for the quorum, the broker registrations and a leader
//!    for every partition;
//! 2. the scenario proper: workloads start and stop as processes (`ProducerPerf`,
//!    `ConsumerWorkload`), steps run at their times through the shell, the nemesis injects a
//!    fault every `every` and undoes the previous one;
//! 3. settle, after `run.duration`: heal the network, restore its parameters, boot every host,
//!    start every stopped ZooKeeper server and broker, wait `run.settle`, then a final consumer
//!    (client id `lab-checker`) reads every topic from the beginning;
//! 4. the checks read the trace.
//!
//! ```
//! let sc = sim::scenario::Scenario::parse(r#"
//! [[topic]]
//! name = "t"
//! [[check]]
//! name = "single_leader_per_epoch"
//! [run]
//! duration = "1s"
//! settle = "1s"
//! "#).unwrap();
//! let report = sim::scenario::run(&sc, 1);
//! assert!(report.passed(), "{:?}", report.checks);
//! ```
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! Contract 2 of the design brief. `parse.rs` reads a scenario TOML (`[cluster]`, `[[topic]]`,
//! `[[workload]]`, `[[step]]`, `[nemesis]`, `[[check]]`, `[run]`), denies unknown keys and reports
//! every error with its line and column. `runner.rs` drives one seeded run entirely through shell
//! lines (so the trace shows each action): set-up, producers and consumers as processes (a consumer with a `group` is a `KafkaConsumer` member,
//! its own named process, tracing `kafka.client.processed`), steps at
//! their virtual times, nemesis faults (one at a time, each lasting `duration`, undone by booting,
//! restarting services, healing, restoring the network or freeing the disk), a settle phase and a final read of every topic, then the
//! checks by name and a `Report` with metrics and the trace hash. `lab run` prints it; `lab sweep`
//! runs seeds on parallel threads (one madsim runtime each) and sorts the results by seed, so they
//! do not depend on `--jobs`.

mod parse;
mod runner;

pub use runner::{run, run_traced, run_with_hooks};

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Name shown in reports (the file's stem; `scenario` when parsed from text).
    pub name: String,
    /// The comment header: what the scenario teaches.
    pub about: String,
    /// Hosts, in order (the seed's master, slave1, slave2 first).
    pub hosts: Vec<String>,
    /// Hosts running a ZooKeeper server (started at set-up and after faults).
    pub zookeepers: Vec<String>,
    /// The ensemble in zoo.cfg, in host order: the seed's master, slave1, slave2 and every
    /// further host in `zookeepers` (`server.N`, N = position in `hosts` + 1). A three-host
    /// ensemble is the seed's zoo.cfg byte for byte; a larger one is installed on every host and
    /// the brokers' `zookeeper.connect` lists all of it.
    pub ensemble: Vec<String>,
    /// Hosts running a broker (broker.id = the host's index in the seed: 0, 1, 2).
    pub brokers: Vec<String>,
    /// Hardware profile name.
    pub profile: String,
    /// `server.properties` overrides applied on every broker before it starts.
    pub broker_config: Vec<(String, String)>,
    /// Topics created at set-up.
    pub topics: Vec<Topic>,
    /// Producers and consumers.
    pub workloads: Vec<Workload>,
    /// Shell lines at given times, in time order.
    pub steps: Vec<Step>,
    /// Random faults.
    pub nemesis: Option<Nemesis>,
    /// Invariants and their expected verdicts.
    pub checks: Vec<Check>,
    /// A Spark Streaming application reading a topic (`[stream]`).
    pub stream: Option<StreamSpec>,
    /// Virtual time of the scenario proper.
    pub duration: Duration,
    /// Virtual time to settle before the final read.
    pub settle: Duration,
}

/// A topic created at set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Name.
    pub name: String,
    /// Partitions.
    pub partitions: u32,
    /// Replication factor.
    pub replication_factor: u32,
    /// `--replica-assignment` (e.g. `0:1:2`), which fixes the preferred leader.
    pub replica_assignment: Option<String>,
}

/// How a producer keys its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPattern {
    /// Null keys (round robin over partitions).
    None,
    /// The sequence number as the key (murmur2 spreads them).
    Seq,
}

/// A producer workload: records `"{topic}-{index}-{seq}"` at a fixed rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Producer {
    /// Index among the scenario's producers (part of every value).
    pub index: u32,
    /// Topic.
    pub topic: String,
    /// Host the producer runs on.
    pub host: String,
    /// Records per second (the producer waits for each send, so a slow cluster slows it).
    pub rate: u32,
    /// Start time.
    pub start: Duration,
    /// Stop time.
    pub stop: Duration,
    /// `acks`: −1 (all), 1 or 0.
    pub acks: i16,
    /// Keys.
    pub key: KeyPattern,
    /// `retries`.
    pub retries: u32,
    /// `request.timeout.ms`.
    pub request_timeout: Duration,
    /// Stop after this many records.
    pub count: Option<u64>,
    /// What the values are.
    pub value: ValuePattern,
}

/// What a producer's values look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValuePattern {
    /// `"{topic}-{index}-{seq}"`: unique, so value-based checkers can match them.
    Seq,
    /// A short sentence of words drawn by the seeded RNG (for word counts); not unique.
    Sentences,
}

/// When a group member commits its offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// `enable.auto.commit=true`: the consumer commits its positions every
    /// `auto.commit.interval.ms` from inside `poll` (and on close).
    Auto,
    /// `commitSync()` right after `poll`, before processing: a crash while processing loses the
    /// rest of the batch for the group (at most once).
    BeforeProcess,
    /// `commitSync()` after processing the batch: a crash while processing makes the next owner
    /// process the batch again (at least once).
    AfterProcess,
}

/// A consumer workload. With an explicit `group` it is a member of that consumer group (the
/// new consumer, `KafkaConsumer`: subscribe, poll, commits), a process of its own named
/// `process` that a step can kill (`ssh HOST pkill -9 NAME`); without, it fetches every
/// partition of the topic by itself (client id `lab-consumer-N`, no group, no commits).
#[derive(Debug, Clone, PartialEq)]
pub struct Consumer {
    /// Topic.
    pub topic: String,
    /// Group (for a groupless fetch consumer, its client id).
    pub group: String,
    /// A member of a consumer group (the file named a `group`).
    pub member: bool,
    /// Process name (`jps`, `pkill`): `name` from the file, numbered when `members` > 1.
    pub process: String,
    /// When offsets are committed (group members only).
    pub commit: CommitMode,
    /// Virtual time spent processing each record.
    pub process_time: Duration,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// Host the consumer runs on.
    pub host: String,
    /// Start time.
    pub start: Duration,
    /// Stop time.
    pub stop: Duration,
    /// Start at the log start rather than the end.
    pub from_beginning: bool,
    /// Stop after this many records.
    pub count: Option<u64>,
}

/// A workload.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// A producer.
    Producer(Producer),
    /// A consumer.
    Consumer(Consumer),
}

/// When the streaming driver is killed (`kill -9` of `SparkSubmit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverCrash {
    /// At this time.
    At(Duration),
    /// At a time drawn by the seeded RNG from `[a, b)`: a sweep crashes it everywhere.
    Between(Duration, Duration),
}

/// `[stream]`: a word count (`lines.flatMap(split).map((_, 1)).reduceByKey(_ + _)`) over a topic
/// by the [`crate::stream`] engine, its driver (`SparkSubmit`) on `host`, supervised: a driver
/// that dies is restarted after `restart_after` and recovers from its checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSpec {
    /// Direct or receiver-based.
    pub style: crate::stream::Style,
    /// Input topic.
    pub topic: String,
    /// Driver host.
    pub host: String,
    /// Start time.
    pub start: Duration,
    /// Graceful stop begins (input drained, then the driver exits).
    pub stop: Duration,
    /// Batch interval.
    pub batch_interval: Duration,
    /// Block interval (receiver).
    pub block_interval: Duration,
    /// `maxRatePerPartition` (0: none).
    pub max_rate_per_partition: u64,
    /// Window length in batches.
    pub window: u32,
    /// Write-ahead log (receiver).
    pub wal: bool,
    /// Output.
    pub sink: crate::stream::Sink,
    /// Table commit mode.
    pub commit: crate::stream::CommitMode,
    /// The receiver's `auto.commit.interval.ms`.
    pub auto_commit_interval: Duration,
    /// Consumer group (receiver).
    pub group: String,
    /// Driver crash.
    pub crash: Option<DriverCrash>,
    /// Delay before the supervisor restarts a dead driver.
    pub restart_after: Duration,
    /// `spark.task.maxFailures`.
    pub task_max_failures: u32,
}

/// A shell line run at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When.
    pub at: Duration,
    /// The line.
    pub run: String,
}

/// Kinds of random fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NemesisKind {
    /// Power loss of a host (`lab crash`), booted and its services restarted when the fault ends.
    Crash,
    /// `kill -9` of the host's broker (or ZooKeeper server), restarted when the fault ends.
    Kill,
    /// The host cut off from every other (`lab partition H | rest`), healed when the fault ends.
    Partition,
    /// Network latency raised to 20–200 ms (`lab net latency`), restored when the fault ends.
    Latency,
    /// The host's disk filled up (`lab disk HOST full`): a 0.9 broker halts on the I/O error
    /// of its next append; freed and the broker restarted when the fault ends.
    DiskFull,
    /// The host's broker (or ZooKeeper server) stopped where it stands (`kill -STOP`), as in a
    /// long GC pause: its ZooKeeper session and its followers time out. Continued (`kill -CONT`)
    /// when the fault ends.
    Pause,
}

/// Random faults, one every `every` between `start` and `stop`, each undone after `duration`
/// (by default at the next tick), so `every - duration` is the cluster's time to recover.
#[derive(Debug, Clone, PartialEq)]
pub struct Nemesis {
    /// Kinds to choose from.
    pub kinds: Vec<NemesisKind>,
    /// Interval.
    pub every: Duration,
    /// How long each fault lasts.
    pub duration: Duration,
    /// First fault.
    pub start: Duration,
    /// Last undo.
    pub stop: Duration,
    /// Hosts to choose from.
    pub hosts: Vec<String>,
}

/// What a check is expected to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// The invariant holds.
    Pass,
    /// The invariant is violated (the scenario demonstrates a loss).
    Fail,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expect::Pass => "pass",
            Expect::Fail => "fail",
        })
    }
}

/// A named invariant ([`crate::check::NAMES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Checker name.
    pub name: String,
    /// Expected verdict.
    pub expect: Expect,
}

/// A scenario file that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ScenarioError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ScenarioError {
    /// An error at byte offset `at` of `text`.
    pub fn at(text: &str, at: usize, message: impl Into<String>) -> Self {
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        ScenarioError { line, column, message: message.into() }
    }
}

impl Scenario {
    /// Reads and validates a scenario file's text.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        parse::parse(text)
    }

    /// Like [`Scenario::parse`], naming the scenario after the file's stem.
    pub fn parse_named(text: &str, path: &str) -> Result<Scenario, ScenarioError> {
        let mut sc = parse::parse(text)?;
        let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
        sc.name = file.strip_suffix(".toml").unwrap_or(file).to_string();
        Ok(sc)
    }
}

/// A check's verdict next to what the scenario expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutcome {
    /// Checker name.
    pub name: String,
    /// Whether the invariant held.
    pub ok: bool,
    /// What the scenario expected.
    pub expect: Expect,
    /// The checker's detail.
    pub detail: String,
}

impl CheckOutcome {
    /// The verdict is the expected one.
    pub fn met(&self) -> bool {
        self.ok == (self.expect == Expect::Pass)
    }
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Virtual time of the whole run (set-up, scenario, settle, final read), ms.
    pub virtual_ms: u64,
    /// Wall-clock time, ms: filled in by the caller (the simulation never reads the wall clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_ms: Option<u64>,
    /// Checks, in file order.
    pub checks: Vec<CheckOutcome>,
    /// Metrics read from the trace: `messages_acked`, `messages_consumed`, `leader_changes`,
    /// `failover_ms` (when there was a fault and a new leader after it), and more.
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// Hash (XXH3-128) of the trace's JSONL.
    pub trace_hash: String,
    /// What the runner typed and what the shell printed, with virtual times (not in the JSON).
    #[serde(skip)]
    pub transcript: String,
}

impl Report {
    /// Every check met its `expect`.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(CheckOutcome::met)
    }

    /// The report as `lab run` prints it for a person; `file` goes into the replay line. The
    /// wall time appears only when the caller measured it (the book's copies leave it out).
    pub fn human(&self, file: &str) -> String {
        let mut out = format!(
            "scenario {} (seed {}): {:.1} s of virtual time",
            self.scenario,
            self.seed,
            self.virtual_ms as f64 / 1000.0
        );
        match self.wall_ms {
            Some(ms) => out.push_str(&format!(" in {ms} ms\n")),
            None => out.push('\n'),
        }
        for c in &self.checks {
            out.push_str(&format!(
                "{} (expected {}) {}: {}\n",
                if c.ok { "PASS" } else { "FAIL" },
                c.expect,
                c.name,
                c.detail
            ));
        }
        out.push_str("metrics:\n");
        for (k, v) in &self.metrics {
            out.push_str(&format!("  {k}: {v}\n"));
        }
        out.push_str(&format!("trace hash: {}\n", self.trace_hash));
        let unmet = self.checks.iter().filter(|c| !c.met()).count();
        if unmet == 0 {
            out.push_str("every check met its expectation\n");
        } else {
            out.push_str(&format!("{unmet} check(s) did not meet their expectation; replay: lab run {file} --seed {}\n", self.seed));
        }
        out
    }
}

#[cfg(test)]
mod tests;
