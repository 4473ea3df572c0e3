//! A Spark Streaming 1.6-style micro-batch engine over the simulated Kafka: the lesson the seed
//! course promises after installing Kafka.
//!
//! A driver process (`SparkSubmit`, Spark's local mode: the executors' tasks and the receiver run
//! inside it) cuts the input into batches, one per batch interval of virtual time
//! (`JobGenerator` with its `RecurringTimer`), runs each batch as a job (`JobScheduler`, one job at
//! a time, so a slow batch delays the next: *scheduling delay*) through the user's
//! transformations ([`Pipeline`]: map, filter, flatMap, reduceByKey, a window over N batches) and
//! writes the result to an output ([`output`]: a result table on the driver host's disk, or a
//! Kafka topic). Both Kafka integrations of the era:
//!
//! - **direct** ([`direct`]: `DirectKafkaInputDStream`, `KafkaRDD`, `OffsetRange`,
//!   `KafkaCluster`): no receiver. At each batch time the driver asks the partition leaders for
//!   their latest offsets and gives the batch, per partition, the range from where the last batch
//!   stopped to there, capped by `maxRatePerPartition` × interval ([`offset_range`]). One task per
//!   partition fetches its range by offset from the leader (retrying, after
//!   `refresh.leader.backoff.ms`, against the new leader when the old one fails). The offsets live
//!   in the engine and its [`checkpoint`]; with a transactional output, in the result table too,
//!   committed with the results: exactly once.
//! - **receiver-based** ([`receiver`]: `ReceiverTracker`, `KafkaReceiver`,
//!   `ReliableKafkaReceiver`, `BlockGenerator`, `ReceivedBlockTracker`): a long-running receiver
//!   consumes with the old ZooKeeper-based high-level consumer
//!   ([`kafka::zk_consumer`]), cuts what it received into blocks every block interval, and
//!   each batch takes the blocks received since the last one. Without the write-ahead log the
//!   consumer auto-commits to ZooKeeper what it has *received*: blocks held in the driver's memory
//!   die with it, and the restarted receiver starts after them — lost. With the
//!   [`wal::WriteAheadLog`] (`ReliableKafkaReceiver`) a block is fsynced to the log before its
//!   offsets are committed, and a restarted driver recomputes unfinished batches from the log: at
//!   least once.
//!
//! A driver crash (`kill -9` of `SparkSubmit`) is survived by restarting it: it reads the newest
//! checkpoint (`StreamingContext.getOrCreate`) and re-runs the batches that were generated but not
//! completed, then the ones it missed while down. [`context::supervise`] restarts a driver that
//! died (`spark-submit --supervise`).
//!
//! Every step is a trace event: `stream.context.start`, `stream.batch.scheduled` (ranges or
//! blocks, lag), `.started` (scheduling delay), `.completed` (records, processing time, counts),
//! `stream.task.fetch_failed`, `stream.output.commit` / `.skipped`, `stream.checkpoint.write`,
//! `stream.receiver.block`, `.commit`, `stream.wal.write`, `stream.blocks.allocated`,
//! `stream.batch.recovered`, `stream.driver.crash`, `.restart`, `stream.context.stop`.
//! `check::stream::exactly_once_output` counts every acknowledged input record in the output.
//!
//! ```
//! use stream::Pipeline;
//! let wc = Pipeline::word_count();
//! let counts = wc.apply(&["to be or not".to_string(), "to be".to_string()]);
//! assert_eq!(counts["to"], 2);
//! assert_eq!(counts.values().sum::<i64>(), 6);
//! ```
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! A Spark Streaming 1.6-style micro-batch engine over the simulated Kafka, with Spark's class
//! names. The driver is one process (`SparkSubmit`, Spark's local mode: tasks and the receiver run
//! inside it, so they die with it). `context.rs` — `StreamingContext`: the `JobGenerator` task ticks
//! every batch interval of virtual time, cuts the batch's input, records it as pending and writes a
//! checkpoint; the driver's main loop is the `JobScheduler`, running one batch's job at a time
//! (hence scheduling delay), then marking it complete and checkpointing again; `supervise` is
//! `spark-submit --supervise`. `direct.rs` — `KafkaCluster` (leaders from Metadata, the latest
//! offset as the high watermark from a zero-byte Fetch, since 0.9's OffsetRequest answers a client
//! with the HW while the lab's ListOffsets gives the log end), `DirectKafkaInputDStream` and
//! `KafkaRDD` (one task per range, retried `spark.task.maxFailures` times against the leader found
//! anew). `offset_range.rs` — `OffsetRange`, `maxMessagesPerPartition` and the clamp, pure and
//! unit-tested. `receiver.rs` — `ReceiverTracker`, `KafkaReceiver`/`ReliableKafkaReceiver` on the
//! old consumer (`kafka::zk_consumer`), the `BlockGenerator` and the `ReceivedBlockTracker`.
//! `wal.rs` — `FileBasedWriteAheadLog` (checksummed record lines, fsynced). `checkpoint.rs` —
//! `Checkpoint` files written through a temp file, fsync and rename. `output.rs` — the result table
//! (one fsynced line per transaction; transactional commits check and store the offsets with the
//! rows) and output to a topic. Durability is the disk model's: the engine writes and fsyncs, a
//! crash keeps what the model kept. `check/stream.rs` counts every acknowledged input record in the
//! `stream.output.commit` events (`exactly_once_output`, `at_least_once_output`); a scenario's
//! `[stream]` section runs the word count under the runner, with a driver crash at a seeded time.

pub mod checkpoint;
pub mod context;
pub mod direct;
pub mod offset_range;
pub mod output;
pub mod receiver;
pub mod wal;

pub use context::{run_driver, supervise, DRIVER};
pub use offset_range::OffsetRange;
pub use output::CommitMode;

use std::collections::BTreeMap;
use std::sync::Arc;

/// Which Kafka integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `KafkaUtils.createDirectStream`.
    Direct,
    /// `KafkaUtils.createStream` (a receiver on the old consumer).
    Receiver,
}

impl Style {
    /// The name scenario files and flags use.
    pub fn name(self) -> &'static str {
        match self {
            Style::Direct => "direct",
            Style::Receiver => "receiver",
        }
    }
}

/// Where results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// The result table on the driver host's disk.
    Table,
    /// A Kafka topic.
    Topic(String),
}

/// A streaming application's settings (Spark's `SparkConf` keys in the comments).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConfig {
    /// Application name (directory names).
    pub app: String,
    /// Integration style.
    pub style: Style,
    /// Input topic.
    pub topic: String,
    /// `metadata.broker.list`.
    pub bootstrap: Vec<(String, u16)>,
    /// `zookeeper.connect` (receiver).
    pub zk_connect: String,
    /// `group.id` (receiver).
    pub group: String,
    /// The `StreamingContext`'s batch duration, ms.
    pub batch_interval_ms: u64,
    /// `spark.streaming.blockInterval` (200 ms), receiver.
    pub block_interval_ms: u64,
    /// `spark.streaming.kafka.maxRatePerPartition` (0: no cap), direct stream only; the
    /// receiver's `spark.streaming.receiver.maxRate` is not modelled.
    pub max_rate_per_partition: u64,
    /// `window(N × interval, interval)`; 1 = no window.
    pub window_batches: u32,
    /// `spark.streaming.receiver.writeAheadLog.enable`.
    pub wal: bool,
    /// Output.
    pub sink: Sink,
    /// How a table output commits.
    pub commit: CommitMode,
    /// The checkpoint directory on the driver host.
    pub checkpoint_dir: String,
    /// The old consumer's `auto.commit.interval.ms` (receiver without WAL).
    pub auto_commit_interval_ms: u64,
    /// `spark.task.maxFailures` (4).
    pub task_max_failures: u32,
    /// `refresh.leader.backoff.ms` (200).
    pub refresh_leader_backoff_ms: u64,
    /// `spark.streaming.kafka.maxRetries` (1): leader-offset lookups retried before a batch
    /// cannot be generated.
    pub max_retries: u32,
    /// Virtual time (since the simulation started) at which the application stops gracefully:
    /// it stops taking input and finishes what it has.
    pub stop_at_ms: u64,
    /// After `stop_at_ms`, the longest the graceful stop may take.
    pub drain_limit_ms: u64,
}

impl StreamConfig {
    /// Defaults for an application reading `topic` (Spark 1.6 and Kafka 0.9 defaults).
    pub fn new(
        app: &str,
        style: Style,
        topic: &str,
        bootstrap: Vec<(String, u16)>,
        zk_connect: &str,
    ) -> Self {
        StreamConfig {
            app: app.to_string(),
            style,
            topic: topic.to_string(),
            bootstrap,
            zk_connect: zk_connect.to_string(),
            group: app.to_string(),
            batch_interval_ms: 2000,
            block_interval_ms: 200,
            max_rate_per_partition: 0,
            window_batches: 1,
            wal: false,
            sink: Sink::Table,
            commit: CommitMode::AtLeastOnce,
            checkpoint_dir: format!("/usr/local/spark/checkpoint/{app}"),
            auto_commit_interval_ms: 60_000,
            task_max_failures: 4,
            refresh_leader_backoff_ms: 200,
            max_retries: 1,
            stop_at_ms: u64::MAX,
            drain_limit_ms: 60_000,
        }
    }

    /// Checks the combination, with the reason a learner needs.
    pub fn validate(&self) -> Result<(), StreamError> {
        let bad = |m: &str| Err(StreamError::Config(m.to_string()));
        if self.batch_interval_ms == 0 || self.batch_interval_ms > 600_000 {
            return bad("the batch interval must be between 1 ms and 10 minutes");
        }
        if self.block_interval_ms == 0 || self.block_interval_ms > self.batch_interval_ms {
            return bad(
                "spark.streaming.blockInterval must be more than 0 and at most the batch interval",
            );
        }
        if self.window_batches == 0 || self.window_batches > 1000 {
            return bad("the window must be between 1 and 1000 batches");
        }
        if self.wal && self.style == Style::Direct {
            return bad("the write-ahead log is for receivers: the direct stream has none (its offsets are in the checkpoint)");
        }
        if self.commit == CommitMode::Transactional && self.style == Style::Receiver {
            return bad("transactional output needs the direct stream: a receiver's offsets live in ZooKeeper, not in the result store");
        }
        if self.commit == CommitMode::Transactional && matches!(self.sink, Sink::Topic(_)) {
            return bad("Kafka 0.9 has no transactions: output to a topic is at least once");
        }
        if self.task_max_failures == 0 {
            return bad("spark.task.maxFailures must be at least 1");
        }
        Ok(())
    }
}

/// Errors of the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A bad setting.
    #[error("{0}")]
    Config(String),
    /// A job failed (`SparkException: Job aborted due to stage failure`).
    #[error("org.apache.spark.SparkException: {0}")]
    Job(String),
}

type MapFn = Arc<dyn Fn(&str) -> String + Send + Sync>;
type FilterFn = Arc<dyn Fn(&str) -> bool + Send + Sync>;
type FlatMapFn = Arc<dyn Fn(&str) -> Vec<String> + Send + Sync>;
type PairFn = Arc<dyn Fn(&str) -> (String, i64) + Send + Sync>;
type ReduceFn = Arc<dyn Fn(i64, i64) -> i64 + Send + Sync>;

/// One narrow transformation on the records' values.
#[derive(Clone)]
pub enum Transform {
    /// `map`.
    Map(MapFn),
    /// `filter`.
    Filter(FilterFn),
    /// `flatMap`.
    FlatMap(FlatMapFn),
}

/// The user's DStream program: narrow transformations on each value, then `mapToPair` and
/// `reduceByKey` (combined per partition before the shuffle, as Spark does), optionally over a
/// window of the last N batches.
#[derive(Clone)]
pub struct Pipeline {
    transforms: Vec<Transform>,
    pair: PairFn,
    reduce: ReduceFn,
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline::new()
    }
}

impl Pipeline {
    /// Values counted as they are.
    pub fn new() -> Self {
        Pipeline {
            transforms: Vec::new(),
            pair: Arc::new(|s| (s.to_string(), 1)),
            reduce: Arc::new(|a, b| a + b),
        }
    }

    /// `map`.
    pub fn map(mut self, f: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.transforms.push(Transform::Map(Arc::new(f)));
        self
    }

    /// `filter`.
    pub fn filter(mut self, f: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.transforms.push(Transform::Filter(Arc::new(f)));
        self
    }

    /// `flatMap`.
    pub fn flat_map(mut self, f: impl Fn(&str) -> Vec<String> + Send + Sync + 'static) -> Self {
        self.transforms.push(Transform::FlatMap(Arc::new(f)));
        self
    }

    /// `mapToPair`: the key and value each remaining item contributes.
    pub fn map_to_pair(
        mut self,
        f: impl Fn(&str) -> (String, i64) + Send + Sync + 'static,
    ) -> Self {
        self.pair = Arc::new(f);
        self
    }

    /// `reduceByKey`.
    pub fn reduce_by_key(mut self, f: impl Fn(i64, i64) -> i64 + Send + Sync + 'static) -> Self {
        self.reduce = Arc::new(f);
        self
    }

    /// The classic: `lines.flatMap(_.split(" ")).map((_, 1)).reduceByKey(_ + _)`.
    pub fn word_count() -> Self {
        Pipeline::new()
            .flat_map(|l| l.split_whitespace().map(str::to_string).collect())
            .filter(|w| !w.is_empty())
            .map_to_pair(|w| (w.to_string(), 1))
            .reduce_by_key(|a, b| a + b)
    }

    /// Runs the program over some values: key → reduced value.
    pub fn apply(&self, values: &[String]) -> BTreeMap<String, i64> {
        let mut items: Vec<String> = values.to_vec();
        for t in &self.transforms {
            items = match t {
                Transform::Map(f) => items.iter().map(|s| f(s)).collect(),
                Transform::Filter(f) => items.into_iter().filter(|s| f(s)).collect(),
                Transform::FlatMap(f) => items.iter().flat_map(|s| f(s)).collect(),
            };
        }
        let mut out: BTreeMap<String, i64> = BTreeMap::new();
        for s in &items {
            let (k, v) = (self.pair)(s);
            let merged = match out.get(&k) {
                Some(old) => (self.reduce)(*old, v),
                None => v,
            };
            out.insert(k, merged);
        }
        out
    }

    /// Merges per-partition (or per-batch) results with the reduce function.
    pub fn merge(&self, parts: &[BTreeMap<String, i64>]) -> BTreeMap<String, i64> {
        let mut out: BTreeMap<String, i64> = BTreeMap::new();
        for p in parts {
            for (k, v) in p {
                let merged = match out.get(k) {
                    Some(old) => (self.reduce)(*old, *v),
                    None => *v,
                };
                out.insert(k.clone(), merged);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transformations_apply_in_order_and_reduce_by_key() {
        let p = Pipeline::new()
            .flat_map(|l| l.split(',').map(str::to_string).collect())
            .map(|s| s.trim().to_lowercase())
            .filter(|s| s != "the")
            .map_to_pair(|s| (s.to_string(), 2))
            .reduce_by_key(|a, b| a.max(b) + 1);
        let out = p.apply(&["The, Kafka, kafka".to_string(), "spark".to_string()]);
        assert_eq!(out, BTreeMap::from([("kafka".to_string(), 3), ("spark".to_string(), 2)]));
        let merged = Pipeline::word_count().merge(&[
            BTreeMap::from([("a".to_string(), 2)]),
            BTreeMap::from([("a".to_string(), 3), ("b".to_string(), 1)]),
        ]);
        assert_eq!(merged, BTreeMap::from([("a".to_string(), 5), ("b".to_string(), 1)]));
    }

    #[test]
    fn bad_combinations_are_refused_with_a_reason() {
        let base = StreamConfig::new("wc", Style::Direct, "t", vec![], "m:2181");
        assert!(base.validate().is_ok());
        let mut c = base.clone();
        c.wal = true;
        assert!(c.validate().unwrap_err().to_string().contains("the direct stream has none"));
        let mut c = base.clone();
        c.style = Style::Receiver;
        c.commit = CommitMode::Transactional;
        assert!(c.validate().unwrap_err().to_string().contains("ZooKeeper"));
        let mut c = base.clone();
        c.batch_interval_ms = 0;
        assert!(c.validate().is_err());
        let mut c = base;
        c.sink = Sink::Topic("out".into());
        c.commit = CommitMode::Transactional;
        assert!(c.validate().unwrap_err().to_string().contains("no transactions"));
    }
}
