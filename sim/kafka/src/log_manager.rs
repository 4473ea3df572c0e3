//! `kafka.log.LogManager`: where a broker's logs live, how each is configured, which exist on
//! disk at start-up, the high-watermark checkpoint file, and retention.
//!
//! The logs themselves belong to their [`Partition`]s; the replica manager asks this for a
//! partition's directory and configuration when it creates one, and runs [`LogManager::cleanup_logs`]
//! every `log.retention.check.interval.ms`.

use crate::config::KafkaConfig;
use crate::log::LogConfig;
use crate::partition::{Partition, TopicPartition};
use sim_core::trace::{fields, kind};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A broker's log manager.
pub struct LogManager {
    ctx: ProcCtx,
    cfg: Arc<KafkaConfig>,
}

impl LogManager {
    /// The log manager of the broker configured by `cfg`.
    pub fn new(ctx: ProcCtx, cfg: Arc<KafkaConfig>) -> Self {
        LogManager { ctx, cfg }
    }

    /// The first of `log.dirs` (the only one the lab uses).
    fn root(&self) -> String {
        self.cfg.log_dirs.first().cloned().unwrap_or_else(|| "/tmp/kafka-logs".into())
    }

    /// The partitions whose log directories exist under `log.dirs` (`LogManager.loadLogs`), in
    /// directory order; the caller opens each, recovering torn tails.
    pub fn log_dirs_on_disk(&self) -> Vec<TopicPartition> {
        let root = self.root();
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for f in self.ctx.disk().list(&root) {
            if let Some(rest) = f.strip_prefix(&format!("{root}/")) {
                if let Some((dir, _)) = rest.split_once('/') {
                    dirs.insert(dir.to_string());
                }
            }
        }
        dirs.into_iter()
            .filter_map(|d| {
                let (topic, p) = d.rsplit_once('-')?;
                Some((topic.to_string(), p.parse::<i32>().ok()?))
            })
            .collect()
    }

    /// `LogConfig.fromProps(defaults, overrides)`: the broker's defaults with the topic's
    /// `/config/topics/<t>` overrides on top (values that do not parse keep the default).
    pub fn topic_log_config(&self, overrides: &BTreeMap<String, String>) -> LogConfig {
        let mut c = self.log_config();
        let long = |k: &str| overrides.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        if let Some(v) = long("segment.bytes").filter(|v| *v > 0) {
            c.segment_bytes = v as u64;
        }
        if let Some(v) = long("retention.ms") {
            c.retention_ms = (v >= 0).then_some(v);
        }
        if let Some(v) = long("retention.bytes") {
            c.retention_bytes = (v >= 0).then_some(v);
        }
        if let Some(v) = long("index.interval.bytes").filter(|v| *v >= 0) {
            c.index_interval_bytes = v as u32;
        }
        if let Some(v) = long("flush.messages") {
            c.flush_interval_messages = (0..i64::MAX).contains(&v).then_some(v as u64);
        }
        c
    }

    /// The broker's defaults (`log.*` settings) as a log's configuration.
    pub fn log_config(&self) -> LogConfig {
        LogConfig {
            segment_bytes: self.cfg.log_segment_bytes as u64,
            retention_ms: (self.cfg.log_retention_ms >= 0).then_some(self.cfg.log_retention_ms),
            retention_bytes: (self.cfg.log_retention_bytes >= 0)
                .then_some(self.cfg.log_retention_bytes),
            index_interval_bytes: self.cfg.log_index_interval_bytes as u32,
            // `log.flush.interval.messages` (Long.MaxValue by default: never).
            flush_interval_messages: (self.cfg.log_flush_interval_messages < i64::MAX)
                .then_some(self.cfg.log_flush_interval_messages as u64),
            ..LogConfig::default()
        }
    }

    /// Where a partition's log lives: `<log.dirs>/<topic>-<partition>`.
    pub fn log_dir(&self, topic: &str, partition: i32) -> String {
        let root = self.root();
        format!("{root}/{topic}-{partition}")
    }

    /// The high-watermark checkpoint (`replication-offset-checkpoint`) in the first log dir.
    pub fn hw_checkpoint_path(&self) -> String {
        let root = self.root();
        format!("{root}/replication-offset-checkpoint")
    }

    /// High watermarks from `replication-offset-checkpoint` (`OffsetCheckpoint.read`).
    pub fn read_hw_checkpoint(&self) -> BTreeMap<TopicPartition, i64> {
        let text = self
            .ctx
            .disk()
            .peek(&self.hw_checkpoint_path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        text.lines()
            .skip(2)
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (t, p, hw) = (f.next()?, f.next()?.parse().ok()?, f.next()?.parse().ok()?);
                Some(((t.to_string(), p), hw))
            })
            .collect()
    }

    /// Applies retention to every local log (`LogManager.cleanupLogs`).
    pub async fn cleanup_logs(&self, parts: &[Arc<Partition>]) {
        for part in parts {
            let mut log = part.log.lock().await;
            let deleted = log.delete_old_segments(self.ctx.wall_ms()).await.unwrap_or_default();
            if !deleted.is_empty() {
                self.ctx.trace(
                    kind::KAFKA_RETENTION,
                    None,
                    fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "deleted_segments" => deleted, "log_start" => log.log_start_offset() },
                );
            }
        }
    }
}
