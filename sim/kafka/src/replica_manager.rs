//! `ReplicaManager`: a broker's partitions, as leader or follower.
//!
//! The leader appends produced records, answers fetches below the high watermark (HW), and
//! advances the HW to the smallest log-end offset (LEO) of its in-sync replicas as followers
//! fetch; acks=all produce requests wait for that. A follower truncates its log to its HW when it
//! becomes a follower (Kafka 0.9's rule) and a `ReplicaFetcherThread` per leader pulls records.
//! ISR shrinking by lag is the replication issue's; here a caught-up follower rejoins the ISR.

use super::config::{KafkaConfig, Truncation};
use super::leader_epoch::{LeaderEpochCache, UNDEFINED_EPOCH_OFFSET};
use super::log::{view_message_set, Log, LogConfig, LogError, MessageView, Record};
use super::proto::{
    BrokerEndPoint, ControlledShutdownResponse, EpochEndOffset, FetchPartition,
    FetchPartitionResponse, FetchRequest, FetchResponse, KafkaError, KafkaPacket,
    LeaderAndIsrRequest, ListOffsetsPartition, ListOffsetsPartitionResponse, ListOffsetsRequest,
    ListOffsetsResponse, MetadataResponse, OffsetsForLeaderEpochPartition,
    OffsetsForLeaderEpochRequest, OffsetsForLeaderEpochResponse, PartitionMetadata, PartitionState,
    ProducePartitionData, ProducePartitionResponse, ProduceResponse, Request, Response,
    StopReplicaRequest, TopicAndPartition, TopicMetadata, UpdateMetadataRequest,
};
use super::zk_utils;
use crate::hooks::{HighWatermark, ReplicaLeo};
use futures::lock::Mutex as AsyncMutex;
use madsim::time::Instant;
use sim_core::hw::send::{send_file_ranges, FileRange, SendSpec};
use sim_core::hw::NetError;
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use zookeeper::client::ZooKeeper;

/// A topic and partition.
pub type TopicPartition = (String, i32);

/// Leadership state of one local partition.
#[derive(Debug, Clone, Default)]
pub struct PartitionInfo {
    /// Current leader (−1 none).
    pub leader: i32,
    /// Leader epoch.
    pub leader_epoch: i32,
    /// In-sync replicas.
    pub isr: Vec<i32>,
    /// Assigned replicas.
    pub replicas: Vec<i32>,
    /// State znode version, for compare-and-set.
    pub zk_version: i32,
    /// High watermark.
    pub hw: i64,
    /// Leader only: followers' LEOs as their fetches report them.
    pub follower_leo: BTreeMap<i32, i64>,
    /// Leader only: when each follower last fetched up to the leader's LEO (`lastCaughtUpTimeMs`).
    pub caught_up_at: BTreeMap<i32, Instant>,
}

/// A local replica: its log and what the controller said about it.
pub struct Partition {
    /// Topic.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// The log (async: disk operations take virtual time).
    pub log: AsyncMutex<Log>,
    /// Leadership and HW.
    pub info: Mutex<PartitionInfo>,
    /// Cached LEO, readable without the log lock.
    pub leo: Mutex<i64>,
    /// `lab.replica.truncation=leader-epoch` only: the leader epoch cache (KIP-101).
    pub epochs: Mutex<LeaderEpochCache>,
    /// A follower whose leader changed and who must ask it where to truncate (KIP-101) before
    /// its next fetch.
    pub pending_epoch_truncation: Mutex<bool>,
}

/// How the leader appends a produced message set.
enum LeaderAppend {
    /// Every entry is stored as it came, offsets assigned in place: where the entries start,
    /// their largest timestamp, and where the last one ends.
    InPlace { positions: Vec<usize>, max_timestamp: Option<i64>, end: usize },
    /// The records are encoded again (a message the log would not store as sent).
    Encode(Vec<Record>),
}

/// Looks at a produced message set once: how a log writing `magic` appends it.
fn plan_leader_append(produced: &[u8], magic: u8) -> LeaderAppend {
    let (msgs, end) = view_message_set(produced);
    if msgs.iter().all(|m| m.encodes_as_stored(magic)) {
        LeaderAppend::InPlace {
            positions: msgs.iter().map(|m| m.position).collect(),
            max_timestamp: msgs.iter().filter_map(|m| m.timestamp).max(),
            end,
        }
    } else {
        LeaderAppend::Encode(msgs.iter().map(MessageView::to_record).collect())
    }
}

/// The broker's replica manager.
pub struct ReplicaManager {
    /// This broker.
    pub broker_id: i32,
    ctx: ProcCtx,
    cfg: Arc<KafkaConfig>,
    partitions: Mutex<BTreeMap<TopicPartition, Arc<Partition>>>,
    /// Live brokers and partition states, from UpdateMetadata.
    pub metadata: Mutex<(BTreeMap<i32, BrokerEndPoint>, BTreeMap<TopicPartition, PartitionState>)>,
    controller_epoch: Mutex<i32>,
    fetchers: Mutex<BTreeSet<i32>>,
    /// Woken on every append and HW change (long-poll fetches, acks=all).
    changed: Notify,
    /// `Partition.maybeIncrementLeaderHW`'s rule (a plug-in point, 0.9's by default).
    high_watermark: Arc<dyn HighWatermark>,
    /// The broker's ZooKeeper session; replaced when a session expires and the broker re-registers.
    zk: Mutex<Arc<ZooKeeper>>,
    /// Fetch responses are sent by `num.network.threads` threads, taken in turn.
    next_send_thread: AtomicUsize,
    /// Each local topic's overrides from `/config/topics/<t>` as last read.
    topic_overrides: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// The last `/config/changes/config_change_N` applied (`TopicConfigManager.lastExecutedChange`).
    last_config_change: Mutex<i64>,
    /// Delayed requests' timeouts (a fetch's `max_wait_ms`, an acks=all produce's `timeout`).
    timeouts: sim_core::hw::TimeoutTimer,
    clock: sim_core::hw::Clock,
}

fn now_ms(ctx: &ProcCtx) -> i64 {
    ctx.wall_ms()
}

impl ReplicaManager {
    /// A replica manager with no partitions yet.
    pub fn new(
        ctx: ProcCtx,
        cfg: Arc<KafkaConfig>,
        zk: Arc<ZooKeeper>,
        high_watermark: Arc<dyn HighWatermark>,
    ) -> Arc<Self> {
        Arc::new(ReplicaManager {
            high_watermark,
            broker_id: cfg.broker_id,
            ctx,
            cfg,
            partitions: Mutex::new(BTreeMap::new()),
            metadata: Mutex::new((BTreeMap::new(), BTreeMap::new())),
            controller_epoch: Mutex::new(0),
            fetchers: Mutex::new(BTreeSet::new()),
            changed: Notify::new(),
            zk: Mutex::new(zk),
            next_send_thread: AtomicUsize::new(0),
            topic_overrides: Mutex::new(BTreeMap::new()),
            timeouts: sim_core::hw::TimeoutTimer::default(),
            clock: sim_core::hw::Clock::current(),
            last_config_change: Mutex::new(-1),
        })
    }

    /// Switches to a new ZooKeeper session (after the old one expired).
    pub fn set_zk(&self, zk: Arc<ZooKeeper>) {
        *lock(&self.zk) = zk;
    }

    /// The broker's current ZooKeeper session.
    pub fn zk(&self) -> Arc<ZooKeeper> {
        lock(&self.zk).clone()
    }

    /// `LogConfig.fromProps(defaults, overrides)`: the broker's defaults with the topic's
    /// `/config/topics/<t>` overrides on top (values that do not parse keep the default).
    fn topic_log_config(&self, overrides: &BTreeMap<String, String>) -> LogConfig {
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

    /// `AdminUtils.fetchEntityConfig(zkUtils, Topic, topic)`: the topic's overrides (none when
    /// the znode is missing or unreadable).
    async fn fetch_topic_overrides(&self, topic: &str) -> BTreeMap<String, String> {
        let zk = self.zk();
        match zk.get_data(&format!("{}/{topic}", super::zk_utils::CONFIG_TOPICS), false).await {
            Ok((d, _)) => {
                super::zk_utils::topic_configs_in_describe_order(&d).into_iter().collect()
            }
            Err(_) => BTreeMap::new(),
        }
    }

    /// The topic's `min.insync.replicas` (override, else the broker's).
    fn min_insync_replicas(&self, topic: &str) -> i32 {
        lock(&self.topic_overrides)
            .get(topic)
            .and_then(|o| o.get("min.insync.replicas"))
            .and_then(|v| v.trim().parse::<i32>().ok())
            .unwrap_or(self.cfg.min_insync_replicas)
    }

    /// The topic's `unclean.leader.election.enable` (override, else the broker's).
    fn unclean_leader_election_enable(&self, topic: &str) -> bool {
        lock(&self.topic_overrides)
            .get(topic)
            .and_then(|o| o.get("unclean.leader.election.enable"))
            .map(|v| v.trim().eq_ignore_ascii_case("true"))
            .unwrap_or(self.cfg.unclean_leader_election_enable)
    }

    /// `/config/changes` changed (`TopicConfigManager.processConfigChanges`): each notification
    /// newer than the last applied names a topic whose overrides are re-read and put into its
    /// local logs (`log.config = …`). Re-arms the child watch.
    pub async fn process_config_changes(&self) {
        let zk = self.zk();
        let Ok(mut notes) = zk.get_children(super::zk_utils::CONFIG_CHANGES, true).await else {
            return;
        };
        notes.sort();
        for n in notes {
            let Some(seq) = n.strip_prefix("config_change_").and_then(|x| x.parse::<i64>().ok())
            else {
                continue;
            };
            if seq <= *lock(&self.last_config_change) {
                continue;
            }
            let path = format!("{}/{n}", super::zk_utils::CONFIG_CHANGES);
            if let Ok((data, _)) = zk.get_data(&path, false).await {
                let v: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
                if v["entity_type"] == "topics" {
                    if let Some(topic) = v["entity_name"].as_str() {
                        self.apply_topic_config(topic).await;
                    }
                }
            }
            *lock(&self.last_config_change) = seq;
        }
    }

    /// Re-reads a topic's overrides and applies them to its local logs.
    async fn apply_topic_config(&self, topic: &str) {
        let overrides = self.fetch_topic_overrides(topic).await;
        let config = self.topic_log_config(&overrides);
        let parts: Vec<Arc<Partition>> =
            self.all_partitions().into_iter().filter(|p| p.topic == topic).collect();
        if parts.is_empty() {
            return;
        }
        lock(&self.topic_overrides).insert(topic.to_string(), overrides.clone());
        for part in parts {
            part.log.lock().await.set_config(config.clone());
        }
        self.ctx.trace(
            kind::KAFKA_TOPIC_CONFIG_APPLIED,
            None,
            fields! { "broker" => self.broker_id, "topic" => topic, "overrides" => format!("{overrides:?}") },
        );
    }

    fn log_config(&self) -> LogConfig {
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

    fn log_dir(&self, topic: &str, partition: i32) -> String {
        let root = self.cfg.log_dirs.first().cloned().unwrap_or_else(|| "/tmp/kafka-logs".into());
        format!("{root}/{topic}-{partition}")
    }

    /// Opens the logs found under `log.dirs` (`LogManager.loadLogs`), recovering torn tails.
    pub async fn load_logs(&self) {
        let root = self.cfg.log_dirs.first().cloned().unwrap_or_else(|| "/tmp/kafka-logs".into());
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for f in self.ctx.disk().list(&root) {
            if let Some(rest) = f.strip_prefix(&format!("{root}/")) {
                if let Some((dir, _)) = rest.split_once('/') {
                    dirs.insert(dir.to_string());
                }
            }
        }
        for d in dirs {
            let Some((topic, p)) = d.rsplit_once('-') else { continue };
            let Ok(p) = p.parse::<i32>() else { continue };
            let _ = self.get_or_create(topic, p).await;
        }
    }

    fn checkpoint_path(&self) -> String {
        let root = self.cfg.log_dirs.first().cloned().unwrap_or_else(|| "/tmp/kafka-logs".into());
        format!("{root}/replication-offset-checkpoint")
    }

    /// High watermarks from `replication-offset-checkpoint` (`OffsetCheckpoint.read`).
    fn read_checkpoint(&self) -> BTreeMap<TopicPartition, i64> {
        let text = self
            .ctx
            .disk()
            .peek(&self.checkpoint_path())
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

    /// Writes every partition's HW durably: temp file, fsync, rename (`OffsetCheckpoint.write`).
    pub async fn checkpoint_high_watermarks(&self) {
        let parts = self.all_partitions();
        let mut text = format!("0\n{}\n", parts.len());
        for p in &parts {
            text.push_str(&format!("{} {} {}\n", p.topic, p.partition, lock(&p.info).hw));
        }
        let path = self.checkpoint_path();
        let tmp = format!("{path}.tmp");
        let disk = self.ctx.disk();
        let written = match disk.write_all(&tmp, text.as_bytes()).await {
            Ok(()) => disk.fsync(&tmp).await,
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => {
                let _ = disk.rename(&tmp, &path).await;
            }
            Err(e) => {
                // 0.9: "Error writing to highwatermark file" is fatal.
                self.ctx.trace(
                    kind::KAFKA_FATAL,
                    None,
                    fields! { "file" => path.as_str(), "error" => e.to_string() },
                );
                self.ctx.halt(1).await
            }
        }
    }

    async fn get_or_create(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<Arc<Partition>, KafkaError> {
        if let Some(p) = lock(&self.partitions).get(&(topic.to_string(), partition)) {
            return Ok(p.clone());
        }
        // Partition.getOrCreateReplica / LogManager: the broker's defaults overridden by the
        // topic's /config/topics/<t>. 0.9 reads the znode for every replica it creates; here the
        // first partition's read serves the topic's others (50 reads for __consumer_offsets would
        // delay every group's start), and TopicConfigManager keeps the copy current.
        let cached = lock(&self.topic_overrides).get(topic).cloned();
        let overrides = match cached {
            Some(o) => o,
            None => self.fetch_topic_overrides(topic).await,
        };
        let config = self.topic_log_config(&overrides);
        if let Some(p) = lock(&self.partitions).get(&(topic.to_string(), partition)) {
            return Ok(p.clone());
        }
        lock(&self.topic_overrides).insert(topic.to_string(), overrides);
        let log =
            Log::open(self.ctx.disk(), &self.log_dir(topic, partition), config, now_ms(&self.ctx))
                .await
                .map_err(|_| KafkaError::UnknownTopicOrPartition)?;
        let leo = log.log_end_offset();
        let hw = self
            .read_checkpoint()
            .get(&(topic.to_string(), partition))
            .copied()
            .unwrap_or(0)
            .min(leo);
        let p = Arc::new(Partition {
            topic: topic.to_string(),
            partition,
            log: AsyncMutex::new(log),
            // No leader epoch yet: the first LeaderAndIsr, of any epoch, is newer (0.9's
            // `LeaderAndIsr.initialLeaderEpoch - 1`).
            info: Mutex::new(PartitionInfo {
                leader: -1,
                leader_epoch: -1,
                hw,
                ..PartitionInfo::default()
            }),
            leo: Mutex::new(leo),
            epochs: Mutex::new(match self.cfg.replica_truncation {
                Truncation::LeaderEpoch => {
                    LeaderEpochCache::load(&self.ctx.disk(), &self.log_dir(topic, partition))
                }
                Truncation::HighWatermark => LeaderEpochCache::default(),
            }),
            pending_epoch_truncation: Mutex::new(false),
        });
        Ok(lock(&self.partitions).entry((topic.to_string(), partition)).or_insert(p).clone())
    }

    /// A local partition, if this broker has it.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<Arc<Partition>> {
        lock(&self.partitions).get(&(topic.to_string(), partition)).cloned()
    }

    /// Every local partition.
    pub fn all_partitions(&self) -> Vec<Arc<Partition>> {
        lock(&self.partitions).values().cloned().collect()
    }

    fn stale(&self, controller_epoch: i32) -> bool {
        let mut e = lock(&self.controller_epoch);
        if controller_epoch < *e {
            return true;
        }
        *e = controller_epoch;
        false
    }

    /// Handles one request and returns its response (`None` for acks=0 produces).
    pub async fn handle(self: &Arc<Self>, req: Request) -> Option<Response> {
        match req {
            Request::Metadata(r) => Some(self.metadata_response(r.topics).await),
            Request::Produce(r) => self.produce(r.acks, r.timeout, r.topic_data).await,
            Request::Fetch(r) => Some(Response::Fetch(FetchResponse {
                responses: self.fetch(r.replica_id, r.max_wait_time, r.min_bytes, r.topics).await,
            })),
            Request::ListOffsets(ListOffsetsRequest { replica_id, topics }) => {
                // KafkaApis.handleOffsetRequest: only a debugging client may ask a follower, and
                // an ordinary client's latest offset is the high watermark, not the log end.
                let mut out = Vec::new();
                for ListOffsetsPartition { topic, partition, timestamp } in topics {
                    let answer = |topic, error_code, offset| ListOffsetsPartitionResponse {
                        topic,
                        partition,
                        error_code,
                        offset,
                    };
                    match self.partition(&topic, partition) {
                        Some(part) => {
                            let (leader, hw) = {
                                let info = lock(&part.info);
                                (info.leader, info.hw)
                            };
                            if replica_id != -2 && leader != self.broker_id {
                                out.push(answer(topic, KafkaError::NotLeaderForPartition, -1));
                                continue;
                            }
                            let log = part.log.lock().await;
                            let off = match timestamp {
                                -2 => log.log_start_offset(),
                                _ if replica_id == -1 => log.log_end_offset().min(hw),
                                _ => log.log_end_offset(),
                            };
                            out.push(answer(topic, KafkaError::None, off));
                        }
                        None => out.push(answer(topic, KafkaError::UnknownTopicOrPartition, -1)),
                    }
                }
                Some(Response::ListOffsets(ListOffsetsResponse { responses: out }))
            }
            Request::OffsetsForLeaderEpoch(r) => {
                let mut out = Vec::new();
                for OffsetsForLeaderEpochPartition { topic, partition, leader_epoch } in r.topics {
                    let answer = |topic, error_code, end_offset| EpochEndOffset {
                        topic,
                        partition,
                        error_code,
                        end_offset,
                    };
                    let Some(part) = self.partition(&topic, partition) else {
                        out.push(answer(
                            topic,
                            KafkaError::UnknownTopicOrPartition,
                            UNDEFINED_EPOCH_OFFSET,
                        ));
                        continue;
                    };
                    if lock(&part.info).leader != self.broker_id {
                        out.push(answer(
                            topic,
                            KafkaError::NotLeaderForPartition,
                            UNDEFINED_EPOCH_OFFSET,
                        ));
                        continue;
                    }
                    let end = lock(&part.epochs).end_offset_for(leader_epoch, *lock(&part.leo));
                    out.push(answer(topic, KafkaError::None, end));
                }
                Some(Response::OffsetsForLeaderEpoch(OffsetsForLeaderEpochResponse { topics: out }))
            }
            Request::LeaderAndIsr(LeaderAndIsrRequest {
                controller_epoch,
                partition_states: partitions,
                live_leaders: leaders,
                ..
            }) => {
                if self.stale(controller_epoch) {
                    return Some(Response::Ack(KafkaError::StaleControllerEpoch));
                }
                let known: Vec<i32> = leaders.iter().map(|b| b.id).collect();
                {
                    let mut md = lock(&self.metadata);
                    for b in leaders {
                        md.0.insert(b.id, b);
                    }
                }
                for ps in partitions {
                    // makeFollowers: a leader missing from the request aborts this partition's move.
                    if ps.leader != self.broker_id && !known.contains(&ps.leader) {
                        continue;
                    }
                    // becomeLeaderOrFollower acts only on a newer leader epoch: a new controller
                    // re-sends every partition's state, and a leader that ran makeLeader again
                    // would give its followers a fresh lag window (a dead one would stay in the
                    // ISR another replica.lag.time.max.ms). 0.9 answers StaleLeaderEpochCode.
                    let current =
                        self.partition(&ps.topic, ps.partition).map(|p| lock(&p.info).leader_epoch);
                    if let Some(current) = current.filter(|e| *e >= ps.leader_epoch) {
                        self.ctx.trace(
                            kind::KAFKA_LEADER_AND_ISR_STALE,
                            None,
                            fields! { "topic" => ps.topic.as_str(), "partition" => ps.partition, "leader_epoch" => ps.leader_epoch, "current" => current },
                        );
                        continue;
                    }
                    self.become_leader_or_follower(ps).await;
                }
                Some(Response::Ack(KafkaError::None))
            }
            Request::UpdateMetadata(UpdateMetadataRequest {
                controller_epoch,
                partition_states: partitions,
                live_brokers: brokers,
                ..
            }) => {
                if self.stale(controller_epoch) {
                    return Some(Response::Ack(KafkaError::StaleControllerEpoch));
                }
                let mut md = lock(&self.metadata);
                md.0 = brokers.into_iter().map(|b| (b.id, b)).collect();
                for ps in partitions {
                    md.1.insert((ps.topic.clone(), ps.partition), ps);
                }
                Some(Response::Ack(KafkaError::None))
            }
            // Only the controller answers this; the socket server routes it there.
            Request::ControlledShutdown(_) => {
                Some(Response::ControlledShutdown(ControlledShutdownResponse {
                    error_code: KafkaError::NotLeaderForPartition,
                    partitions_remaining: Vec::new(),
                }))
            }
            // The group coordinator answers these; the socket server routes them there.
            Request::Group(_) => None,
            Request::StopReplica(StopReplicaRequest {
                controller_epoch,
                delete_partitions: delete,
                partitions,
            }) => {
                if self.stale(controller_epoch) {
                    return Some(Response::Ack(KafkaError::StaleControllerEpoch));
                }
                for TopicAndPartition { topic: t, partition: p } in partitions {
                    let removed = lock(&self.partitions).remove(&(t.clone(), p));
                    lock(&self.metadata).1.remove(&(t.clone(), p));
                    if let (true, Some(part)) = (delete, removed) {
                        let log = part.log.lock().await;
                        for (_, path, _) in log.segments() {
                            let _ = self.ctx.disk().delete(&path).await;
                            let _ = self.ctx.disk().delete(&path.replace(".log", ".index")).await;
                        }
                    }
                }
                Some(Response::Ack(KafkaError::None))
            }
        }
    }

    async fn metadata_response(&self, topics: Vec<String>) -> Response {
        let (brokers, states) = lock(&self.metadata).clone();
        let mut by_topic: BTreeMap<String, Vec<PartitionMetadata>> = BTreeMap::new();
        for ((t, _), ps) in &states {
            by_topic.entry(t.clone()).or_default().push(PartitionMetadata {
                error_code: if ps.leader >= 0 && brokers.contains_key(&ps.leader) {
                    KafkaError::None
                } else {
                    KafkaError::LeaderNotAvailable
                },
                partition: ps.partition,
                leader: ps.leader,
                replicas: ps.replicas.clone(),
                isr: ps.isr.clone(),
            });
        }
        let wanted: Vec<String> =
            if topics.is_empty() { by_topic.keys().cloned().collect() } else { topics };
        let mut out = Vec::new();
        for t in wanted {
            match by_topic.remove(&t) {
                Some(ps) => out.push(TopicMetadata {
                    error_code: KafkaError::None,
                    topic: t,
                    partition_metadata: ps,
                }),
                None => {
                    // auto.create.topics.enable: the first metadata request creates the topic.
                    // __consumer_offsets is created whatever that setting says, with its own
                    // partition count and replication factor (KafkaApis.getTopicMetadata).
                    let offsets_topic = t == super::coordinator::offsets::GROUP_METADATA_TOPIC_NAME;
                    let err = if offsets_topic {
                        let live: Vec<i32> = brokers.keys().copied().collect();
                        if super::coordinator::offsets::create_offsets_topic(
                            &self.ctx,
                            &self.cfg,
                            &self.zk(),
                            &live,
                        )
                        .await
                        {
                            KafkaError::LeaderNotAvailable
                        } else {
                            KafkaError::UnknownTopicOrPartition
                        }
                    } else if self.cfg.auto_create_topics_enable && self.auto_create(&t).await {
                        KafkaError::LeaderNotAvailable
                    } else {
                        KafkaError::UnknownTopicOrPartition
                    };
                    out.push(TopicMetadata {
                        error_code: err,
                        topic: t,
                        partition_metadata: Vec::new(),
                    });
                }
            }
        }
        Response::Metadata(MetadataResponse {
            brokers: brokers.into_values().collect(),
            topic_metadata: out,
        })
    }

    async fn auto_create(&self, topic: &str) -> bool {
        let brokers: Vec<i32> = lock(&self.metadata).0.keys().copied().collect();
        if brokers.is_empty() || super::admin::validate_topic(topic).is_err() {
            return false;
        }
        let rf = (self.cfg.default_replication_factor as usize).min(brokers.len()) as i32;
        let start =
            madsim::rand::Rng::gen_range(&mut madsim::rand::thread_rng(), 0..brokers.len() as i32);
        let shift =
            madsim::rand::Rng::gen_range(&mut madsim::rand::thread_rng(), 0..brokers.len() as i32);
        let Ok(assignment) = super::admin::assign_replicas_to_brokers(
            &brokers,
            self.cfg.num_partitions,
            rf,
            -1,
            -1,
            start,
            shift,
        ) else {
            return false;
        };
        let path = format!("{}/{topic}", zk_utils::BROKER_TOPICS);
        let json = zk_utils::topic_assignment_json(&assignment);
        let ok = zk_utils::create_with_parents(
            &self.zk(),
            &path,
            json.as_bytes(),
            zookeeper::txn::CreateMode::Persistent,
        )
        .await
        .is_ok();
        if ok {
            self.ctx.trace(kind::KAFKA_TOPIC_AUTO_CREATED, None, fields! { "topic" => topic });
        }
        ok
    }

    /// `makeLeader` / `makeFollower`.
    async fn become_leader_or_follower(self: &Arc<Self>, ps: PartitionState) {
        let Ok(part) = self.get_or_create(&ps.topic, ps.partition).await else { return };
        let me = self.broker_id;
        if ps.leader == me {
            let leo = *lock(&part.leo);
            {
                let mut info = lock(&part.info);
                let hw = info.hw.min(leo);
                *info = PartitionInfo {
                    leader: me,
                    leader_epoch: ps.leader_epoch,
                    isr: ps.isr.clone(),
                    replicas: ps.replicas.clone(),
                    zk_version: ps.zk_version,
                    hw,
                    follower_leo: BTreeMap::new(),
                    // A new leader gives every ISR member a full lag window from now.
                    caught_up_at: ps.isr.iter().map(|r| (*r, Instant::now())).collect(),
                };
                self.ctx.trace(
                    kind::KAFKA_BECOME_LEADER,
                    None,
                    fields! { "topic" => ps.topic.as_str(), "partition" => ps.partition, "leader_epoch" => ps.leader_epoch, "isr" => ps.isr.clone(), "leo" => leo, "hw" => hw },
                );
            }
            // A leader's log is the reference: nothing left to ask anyone.
            *lock(&part.pending_epoch_truncation) = false;
            self.assign_epoch(&part, ps.leader_epoch, leo).await;
            self.maybe_advance_hw(&part);
        } else {
            let (hw, leader_changed) = {
                let mut info = lock(&part.info);
                let leader_changed = info.leader != ps.leader;
                info.leader = ps.leader;
                info.leader_epoch = ps.leader_epoch;
                info.isr = ps.isr.clone();
                info.replicas = ps.replicas.clone();
                info.zk_version = ps.zk_version;
                info.follower_leo.clear();
                info.caught_up_at.clear();
                (info.hw, leader_changed)
            };
            // `Partition.makeFollower` is a no-op when the leader did not change (the
            // controller re-sent the state, or only the ISR moved): no truncation then.
            if leader_changed {
                match self.cfg.replica_truncation {
                    // Kafka 0.9: a new follower truncates to its high watermark before fetching.
                    Truncation::HighWatermark => {
                        self.truncate(&part, hw, "high_watermark", fields! {}).await
                    }
                    // KIP-101: ask the new leader first (in the fetcher).
                    Truncation::LeaderEpoch => *lock(&part.pending_epoch_truncation) = true,
                }
            }
            self.ctx.trace(
                kind::KAFKA_BECOME_FOLLOWER,
                None,
                fields! { "topic" => ps.topic.as_str(), "partition" => ps.partition, "leader" => ps.leader, "leader_epoch" => ps.leader_epoch },
            );
            if ps.leader >= 0 {
                self.ensure_fetcher(ps.leader);
            }
        }
        self.changed.notify_waiters();
    }

    /// Cuts a local log back to `to` (if it is longer), with the epoch cache, and traces why.
    async fn truncate(
        &self,
        part: &Partition,
        to: i64,
        by: &str,
        mut extra: sim_core::trace::Fields,
    ) {
        let mut log = part.log.lock().await;
        if log.log_end_offset() > to {
            let _ = log.truncate_to(to).await;
            let mut f = fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "to" => to, "by" => by };
            f.append(&mut extra);
            self.ctx.trace(kind::KAFKA_TRUNCATE, None, f);
        }
        *lock(&part.leo) = log.log_end_offset();
        drop(log);
        self.trim_epochs(part, Some(to)).await;
    }

    /// KIP-101 only: the log was cut at `to` (`None`: emptied and restarted), so the epoch
    /// cache forgets what no longer exists.
    async fn trim_epochs(&self, part: &Partition, to: Option<i64>) {
        if self.cfg.replica_truncation != Truncation::LeaderEpoch {
            return;
        }
        let changed = {
            let mut epochs = lock(&part.epochs);
            match to {
                Some(to) => epochs.truncate_from_end(to),
                None => {
                    let had = epochs.latest_epoch().is_some();
                    epochs.clear();
                    had
                }
            }
        };
        if changed {
            self.save_epochs(part).await;
        }
    }

    /// KIP-101 only: records that `epoch` starts at `offset` in this replica's log.
    async fn assign_epoch(&self, part: &Partition, epoch: i32, offset: i64) {
        if self.cfg.replica_truncation != Truncation::LeaderEpoch {
            return;
        }
        let changed = lock(&part.epochs).assign(epoch, offset);
        if changed {
            self.save_epochs(part).await;
        }
    }

    async fn save_epochs(&self, part: &Partition) {
        let cache = lock(&part.epochs).clone();
        if let Err(e) =
            cache.save(&self.ctx.disk(), &self.log_dir(&part.topic, part.partition)).await
        {
            self.ctx.trace(kind::KAFKA_FATAL, None, fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "error" => e.to_string() });
            self.ctx.halt(1).await
        }
    }

    /// The follower half of KIP-101: for partitions whose leader changed, ask the leader where
    /// this replica's latest epoch ends and truncate there (to the HW if the leader cannot say).
    async fn truncate_by_leader_epoch(
        &self,
        c: &sim_core::hw::Conn<KafkaPacket>,
        leader: i32,
        parts: &[Arc<Partition>],
        correlation: &mut i32,
    ) -> bool {
        let pending: Vec<&Arc<Partition>> =
            parts.iter().filter(|p| *lock(&p.pending_epoch_truncation)).collect();
        if pending.is_empty() {
            return true;
        }
        let asked: Vec<OffsetsForLeaderEpochPartition> = pending
            .iter()
            .map(|p| OffsetsForLeaderEpochPartition {
                topic: p.topic.clone(),
                partition: p.partition,
                leader_epoch: lock(&p.epochs).latest_epoch().unwrap_or(-1),
            })
            .collect();
        *correlation += 1;
        let req = KafkaPacket::Request {
            correlation_id: *correlation,
            client_id: format!("ReplicaFetcherThread-0-{leader}"),
            body: Request::OffsetsForLeaderEpoch(OffsetsForLeaderEpochRequest {
                topics: asked.clone(),
            }),
        };
        let answer = match c.send(req) {
            Ok(()) => {
                c.recv_timeout(Duration::from_millis(self.cfg.replica_socket_timeout_ms as u64))
                    .await
            }
            Err(e) => Err(e),
        };
        let Ok(KafkaPacket::Response { body: Response::OffsetsForLeaderEpoch(ends), .. }) = answer
        else {
            return false;
        };
        for (part, OffsetsForLeaderEpochPartition { leader_epoch: epoch, .. }) in
            pending.iter().zip(&asked)
        {
            let end = ends
                .topics
                .iter()
                .find(|e| e.topic == part.topic && e.partition == part.partition)
                .map(|e| (e.error_code, e.end_offset));
            match end {
                Some((KafkaError::None, end)) if end != UNDEFINED_EPOCH_OFFSET => {
                    let leo = *lock(&part.leo);
                    self.truncate(
                        part,
                        end.min(leo),
                        "leader_epoch",
                        fields! { "epoch" => *epoch, "leader_end" => end },
                    )
                    .await;
                }
                Some((KafkaError::None, _)) => {
                    let hw = lock(&part.info).hw;
                    self.truncate(
                        part,
                        hw,
                        "high_watermark",
                        fields! { "epoch" => *epoch, "leader_end" => UNDEFINED_EPOCH_OFFSET },
                    )
                    .await;
                }
                // Not the leader (any more): the next LeaderAndIsr will say who is.
                _ => continue,
            }
            *lock(&part.pending_epoch_truncation) = false;
        }
        true
    }

    /// Leader: `maybeIncrementLeaderHW`, HW = min LEO over the ISR, never moving back. The rule
    /// itself is a plug-in point (crate::hooks::HighWatermark), built in by default; this
    /// gathers the replicas' LEOs (the leader first, then the assignment, then any ISR member
    /// outside it) and applies what the rule returns.
    fn maybe_advance_hw(&self, part: &Partition) -> bool {
        let leo = *lock(&part.leo);
        let mut info = lock(&part.info);
        if info.leader != self.broker_id {
            return false;
        }
        let me = self.broker_id;
        let mut replicas = vec![ReplicaLeo { broker: me, leo, in_isr: true, is_leader: true }];
        for &r in info.replicas.iter().chain(info.isr.iter()) {
            if r != me && !replicas.iter().any(|x| x.broker == r) {
                let leo = info.follower_leo.get(&r).copied().unwrap_or(0);
                replicas.push(ReplicaLeo {
                    broker: r,
                    leo,
                    in_isr: info.isr.contains(&r),
                    is_leader: false,
                });
            }
        }
        let hw = self.high_watermark.maybe_increment_hw(info.hw, &replicas);
        if hw != info.hw {
            let old = info.hw;
            info.hw = hw;
            self.ctx.trace(kind::KAFKA_HW, None, fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "from" => old, "to" => hw });
            return true;
        }
        false
    }

    async fn produce(
        &self,
        acks: i16,
        timeout_ms: i32,
        data: Vec<ProducePartitionData>,
    ) -> Option<Response> {
        let mut results: Vec<ProducePartitionResponse> = Vec::new();
        let mut wait_for: Vec<(Arc<Partition>, i64)> = Vec::new();
        for ProducePartitionData { topic: t, partition: p, record_set: bytes, .. } in data {
            let answer = |topic, error_code, base_offset| ProducePartitionResponse {
                topic,
                partition: p,
                error_code,
                base_offset,
            };
            let Some(part) = self.partition(&t, p) else {
                results.push(answer(t, KafkaError::UnknownTopicOrPartition, -1));
                continue;
            };
            let (leader, isr_len) = {
                let i = lock(&part.info);
                (i.leader, i.isr.len())
            };
            if leader != self.broker_id {
                results.push(answer(t, KafkaError::NotLeaderForPartition, -1));
                continue;
            }
            if acks == -1 && (isr_len as i32) < self.min_insync_replicas(&t) {
                results.push(answer(t, KafkaError::NotEnoughReplicas, -1));
                continue;
            }
            let appended = {
                let mut log = part.log.lock().await;
                let r = match plan_leader_append(&bytes, log.config().magic) {
                    LeaderAppend::InPlace { positions, max_timestamp, end } => {
                        let mut bytes = bytes;
                        bytes.truncate(end);
                        log.append_assigning_offsets(
                            bytes,
                            &positions,
                            max_timestamp,
                            now_ms(&self.ctx),
                        )
                        .await
                    }
                    LeaderAppend::Encode(records) => {
                        log.append(records, true, now_ms(&self.ctx)).await
                    }
                };
                *lock(&part.leo) = log.log_end_offset();
                r
            };
            match appended {
                Ok(info) => {
                    self.ctx.trace(
                        kind::KAFKA_APPEND,
                        None,
                        fields! {
                            "topic" => t.as_str(), "partition" => p, "first" => info.first_offset, "last" => info.last_offset,
                            "acks" => acks, "leader_epoch" => lock(&part.info).leader_epoch, "crcs" => info.crcs
                        },
                    );
                    self.maybe_advance_hw(&part);
                    self.changed.notify_waiters();
                    if acks == -1 {
                        wait_for.push((part.clone(), info.last_offset));
                    }
                    results.push(answer(t, KafkaError::None, info.first_offset));
                }
                Err(LogError::Disk(e)) => {
                    // 0.9's appendToLocalLog: a KafkaStorageException is fatal.
                    self.ctx.trace(kind::KAFKA_FATAL, None, fields! { "topic" => t.as_str(), "partition" => p, "error" => e.to_string() });
                    self.ctx.halt(1).await
                }
                Err(_) => results.push(answer(t, KafkaError::MessageTooLarge, -1)),
            }
        }
        if acks == 0 {
            return None;
        }
        // acks=all: wait until every in-sync replica has the records (the HW passed them).
        let deadline = sim_core::hw::now() + Duration::from_millis(timeout_ms.max(0) as u64);
        let mut timer = self.timeouts.at(&self.clock, deadline);
        for (part, last) in wait_for {
            loop {
                let notified = self.changed.notified();
                let (hw, isr_len) = {
                    let i = lock(&part.info);
                    (i.hw, i.isr.len())
                };
                if hw > last {
                    // The ISR may have shrunk below min.insync.replicas while we waited.
                    if (isr_len as i32) < self.min_insync_replicas(&part.topic) {
                        if let Some(r) = results
                            .iter_mut()
                            .find(|r| r.topic == part.topic && r.partition == part.partition)
                        {
                            r.error_code = KafkaError::NotEnoughReplicasAfterAppend;
                        }
                    }
                    break;
                }
                if sim_core::hw::now() >= deadline
                    || sim_core::hw::until(&mut timer, notified).await.is_none()
                {
                    if let Some(r) = results
                        .iter_mut()
                        .find(|r| r.topic == part.topic && r.partition == part.partition)
                    {
                        r.error_code = KafkaError::RequestTimedOut;
                    }
                    break;
                }
            }
        }
        Some(Response::Produce(ProduceResponse { responses: results }))
    }

    async fn read_once(
        &self,
        replica_id: i32,
        partitions: &[FetchPartition],
    ) -> (Vec<FetchPartitionResponse>, usize, Vec<FileRange>) {
        let mut out = Vec::new();
        let mut total = 0;
        let mut files = Vec::new();
        for FetchPartition { topic: t, partition: p, fetch_offset: offset, max_bytes } in partitions
        {
            let answer = |error_code, high_watermark, record_set| FetchPartitionResponse {
                topic: t.clone(),
                partition: *p,
                error_code,
                high_watermark,
                record_set,
            };
            let Some(part) = self.partition(t, *p) else {
                out.push(answer(KafkaError::UnknownTopicOrPartition, -1, bytes::Bytes::new()));
                continue;
            };
            let (leader, hw) = {
                let i = lock(&part.info);
                (i.leader, i.hw)
            };
            if leader != self.broker_id {
                out.push(answer(KafkaError::NotLeaderForPartition, -1, bytes::Bytes::new()));
                continue;
            }
            // Consumers see only what every in-sync replica has; followers read to the LEO.
            let max_offset = (replica_id < 0).then_some(hw);
            let read = part
                .log
                .lock()
                .await
                .read_slice(*offset, (*max_bytes).max(0) as u64, max_offset)
                .await;
            match read {
                Ok(data) => {
                    total += data.bytes.len();
                    files.extend(data.file);
                    out.push(answer(KafkaError::None, hw, data.bytes));
                }
                Err(_) => out.push(answer(KafkaError::OffsetOutOfRange, hw, bytes::Bytes::new())),
            }
        }
        (out, total, files)
    }

    /// Sends a fetch response's log slices to the socket the way this broker is configured to
    /// (`lab.fetch.send.path`, TLS, down-conversion) on one of its `num.network.threads` network
    /// threads; the hardware model charges the page cache, the copies and the system calls.
    async fn send_fetch_response(
        &self,
        replica_id: i32,
        out: &[FetchPartitionResponse],
        files: &[FileRange],
    ) {
        // Replica fetches travel on the inter-broker listener.
        let inter_broker_tls =
            replica_id >= 0 && self.cfg.security_inter_broker_protocol.ends_with("SSL");
        let spec = SendSpec {
            path: self.cfg.lab_fetch_send_path,
            tls: self.cfg.lab_fetch_tls || inter_broker_tls,
            down_convert: self.cfg.lab_fetch_down_convert,
            chunk_bytes: u64::try_from(self.cfg.socket_send_buffer_bytes).unwrap_or(0).max(1),
        };
        // Response header, topic and partition headers (FetchResponse v0/v1 layout).
        let header = 12 + out.iter().map(|r| 2 + r.topic.len() as u64 + 22).sum::<u64>();
        let threads = usize::try_from(self.cfg.num_network_threads).unwrap_or(1).max(1);
        let n = self.next_send_thread.fetch_add(1, Ordering::Relaxed) % threads;
        let lane = format!("kafka-network-thread-{}-{n}", self.broker_id);
        // A segment deleted by retention meanwhile: nothing left to charge.
        let _ =
            send_file_ranges(&self.ctx.disk(), &self.ctx.cpu(), Some(&lane), &spec, header, files)
                .await;
    }

    async fn fetch(
        &self,
        replica_id: i32,
        max_wait_ms: i32,
        min_bytes: i32,
        partitions: Vec<FetchPartition>,
    ) -> Vec<FetchPartitionResponse> {
        if replica_id >= 0 {
            // A follower's fetch offset is its LEO: it may move the HW and let acks=all answer.
            for FetchPartition { topic: t, partition: p, fetch_offset: offset, .. } in &partitions {
                if let Some(part) = self.partition(t, *p) {
                    let expand = {
                        let mut info = lock(&part.info);
                        if info.leader != self.broker_id {
                            continue;
                        }
                        info.follower_leo.insert(replica_id, *offset);
                        if *offset >= *lock(&part.leo) {
                            info.caught_up_at.insert(replica_id, sim_core::hw::now());
                        }
                        // maybeExpandIsr: an assigned replica that has reached the HW is back in sync.
                        !info.isr.contains(&replica_id)
                            && info.replicas.contains(&replica_id)
                            && *offset >= info.hw
                    };
                    if expand {
                        self.expand_isr(&part, replica_id).await;
                    }
                    if self.maybe_advance_hw(&part) {
                        self.changed.notify_waiters();
                    }
                }
            }
        }
        let deadline = sim_core::hw::now() + Duration::from_millis(max_wait_ms.max(0) as u64);
        let mut timer = self.timeouts.at(&self.clock, deadline);
        loop {
            let notified = self.changed.notified();
            let (out, total, files) = self.read_once(replica_id, &partitions).await;
            if total as i32 >= min_bytes || sim_core::hw::now() >= deadline {
                self.send_fetch_response(replica_id, &out, &files).await;
                return out;
            }
            // DelayedFetch in the fetch purgatory: every append or HW change anywhere on the
            // broker wakes it, but it reads the log again only once an end offset it fetches
            // from has moved (or leadership changed), as `DelayedFetch.tryComplete` checks.
            let mut notified = notified;
            loop {
                if sim_core::hw::until(&mut timer, notified).await.is_none() {
                    let (out, _, files) = self.read_once(replica_id, &partitions).await;
                    self.send_fetch_response(replica_id, &out, &files).await;
                    return out;
                }
                notified = self.changed.notified();
                if self.fetch_may_complete(replica_id, &partitions)
                    || sim_core::hw::now() >= deadline
                {
                    break;
                }
            }
        }
    }

    /// `DelayedFetch.tryComplete`'s test, without reading the log: some partition is gone or led
    /// elsewhere now, or its end offset (the HW for a consumer, the LEO for a follower) is no
    /// longer the fetch offset. While none is, a read finds nothing new.
    fn fetch_may_complete(&self, replica_id: i32, partitions: &[FetchPartition]) -> bool {
        partitions.iter().any(|f| {
            let Some(part) = self.partition(&f.topic, f.partition) else { return true };
            let (leader, hw) = {
                let i = lock(&part.info);
                (i.leader, i.hw)
            };
            let end = if replica_id < 0 { hw } else { *lock(&part.leo) };
            leader != self.broker_id || end != f.fetch_offset
        })
    }

    /// `maybeShrinkIsr`, run every `replica.lag.time.max.ms / 2`: a follower that has not caught
    /// up to the leader's LEO for `replica.lag.time.max.ms` (or, as 0.9 still checks, lags more
    /// than `replica.lag.max.messages`) leaves the ISR.
    pub async fn maybe_shrink_isr(&self) {
        let lag_time = Duration::from_millis(self.cfg.replica_lag_time_max_ms.max(0) as u64);
        let now = Instant::now();
        for part in self.all_partitions() {
            let leo = *lock(&part.leo);
            let out: Vec<i32> = {
                let info = lock(&part.info);
                if info.leader != self.broker_id {
                    continue;
                }
                info.isr
                    .iter()
                    .copied()
                    .filter(|r| *r != self.broker_id)
                    .filter(|r| {
                        let slow = info
                            .caught_up_at
                            .get(r)
                            .is_none_or(|t| now.duration_since(*t) > lag_time);
                        let behind = leo - info.follower_leo.get(r).copied().unwrap_or(0)
                            > self.cfg.replica_lag_max_messages;
                        slow || behind
                    })
                    .collect()
            };
            if out.is_empty() {
                continue;
            }
            let isr: Vec<i32> =
                lock(&part.info).isr.iter().copied().filter(|r| !out.contains(r)).collect();
            if self.update_isr(&part, isr.clone()).await {
                self.ctx.trace(kind::KAFKA_ISR_SHRINK, None, fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "removed" => out, "isr" => isr });
                // A smaller ISR may let the HW (and waiting acks=all requests) move on.
                if self.maybe_advance_hw(&part) {
                    self.changed.notify_waiters();
                }
            }
        }
    }

    /// Writes a new ISR to the state znode by compare-and-set and announces it to the
    /// controller through `/isr_change_notification`. False if the znode changed under us.
    async fn update_isr(&self, part: &Partition, isr: Vec<i32>) -> bool {
        let (leader_epoch, zk_version) = {
            let i = lock(&part.info);
            (i.leader_epoch, i.zk_version)
        };
        let epoch = *lock(&self.controller_epoch);
        let json = zk_utils::partition_state_json(epoch, self.broker_id, leader_epoch, &isr);
        let path = zk_utils::partition_state_path(&part.topic, part.partition);
        let zk = self.zk();
        let Ok(stat) = zk.set_data(&path, json.as_bytes(), zk_version).await else { return false };
        {
            let mut i = lock(&part.info);
            i.isr = isr;
            i.zk_version = stat.version;
        }
        let note = zk_utils::partition_list_json(&[(part.topic.clone(), part.partition)]);
        let _ = zk
            .create(
                &format!("{}/isr_change_", zk_utils::ISR_CHANGE),
                note.as_bytes(),
                zookeeper::txn::CreateMode::PersistentSequential,
            )
            .await;
        true
    }

    /// A caught-up follower rejoins the ISR (`maybeExpandIsr`).
    async fn expand_isr(&self, part: &Partition, replica: i32) {
        let mut isr = lock(&part.info).isr.clone();
        isr.push(replica);
        if self.update_isr(part, isr.clone()).await {
            lock(&part.info).caught_up_at.insert(replica, Instant::now());
            self.ctx.trace(kind::KAFKA_ISR_EXPAND, None, fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "isr" => isr });
        }
    }

    fn ensure_fetcher(self: &Arc<Self>, leader: i32) {
        if !lock(&self.fetchers).insert(leader) {
            return;
        }
        let rm = self.clone();
        madsim::task::spawn(async move {
            rm.replica_fetcher(leader).await;
            lock(&rm.fetchers).remove(&leader);
        });
    }

    /// `ReplicaFetcherThread`: pulls from one leader every partition this broker follows there.
    async fn replica_fetcher(self: &Arc<Self>, leader: i32) {
        let mut conn = None;
        let mut correlation = 0;
        loop {
            let followed: Vec<Arc<Partition>> = self
                .all_partitions()
                .into_iter()
                .filter(|p| lock(&p.info).leader == leader && leader != self.broker_id)
                .collect();
            if followed.is_empty() {
                return;
            }
            let Some(addr) = lock(&self.metadata).0.get(&leader).cloned() else {
                madsim::time::sleep(Duration::from_millis(
                    self.cfg.replica_fetch_backoff_ms() as u64
                ))
                .await;
                continue;
            };
            if conn.is_none() {
                match self
                    .ctx
                    .net()
                    .connect::<KafkaPacket>(
                        &self.ctx.host,
                        &self.ctx.name,
                        &addr.host,
                        addr.port,
                        Duration::from_millis(self.cfg.replica_socket_timeout_ms as u64),
                    )
                    .await
                {
                    Ok(c) => conn = Some(c),
                    Err(_) => {
                        madsim::time::sleep(Duration::from_millis(
                            self.cfg.replica_fetch_backoff_ms() as u64,
                        ))
                        .await;
                        continue;
                    }
                }
            }
            let Some(c) = &conn else { continue };
            if !self.truncate_by_leader_epoch(c, leader, &followed, &mut correlation).await {
                conn = None;
                madsim::time::sleep(Duration::from_millis(
                    self.cfg.replica_fetch_backoff_ms() as u64
                ))
                .await;
                continue;
            }
            let followed: Vec<Arc<Partition>> =
                followed.into_iter().filter(|p| !*lock(&p.pending_epoch_truncation)).collect();
            if followed.is_empty() {
                madsim::time::sleep(Duration::from_millis(
                    self.cfg.replica_fetch_backoff_ms() as u64
                ))
                .await;
                continue;
            }
            let wanted: Vec<FetchPartition> = followed
                .iter()
                .map(|p| FetchPartition {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    fetch_offset: *lock(&p.leo),
                    max_bytes: self.cfg.replica_fetch_max_bytes,
                })
                .collect();
            let fetch_offsets = wanted.clone();
            correlation += 1;
            let req = KafkaPacket::Request {
                correlation_id: correlation,
                client_id: format!("ReplicaFetcherThread-0-{leader}"),
                body: Request::Fetch(FetchRequest {
                    replica_id: self.broker_id,
                    max_wait_time: self.cfg.replica_fetch_wait_max_ms,
                    min_bytes: self.cfg.replica_fetch_min_bytes,
                    topics: fetch_offsets,
                }),
            };
            let answer: Result<KafkaPacket, NetError> = match c.send(req) {
                Ok(()) => {
                    c.recv_timeout(Duration::from_millis(self.cfg.replica_socket_timeout_ms as u64))
                        .await
                }
                Err(e) => Err(e),
            };
            let Ok(KafkaPacket::Response { body: Response::Fetch(parts), .. }) = answer else {
                conn = None;
                madsim::time::sleep(Duration::from_millis(
                    self.cfg.replica_fetch_backoff_ms() as u64
                ))
                .await;
                continue;
            };
            for r in parts.responses {
                let FetchPartitionResponse {
                    topic: t,
                    partition: p,
                    error_code: err,
                    high_watermark: leader_hw,
                    record_set: bytes,
                } = r;
                let Some(part) = self.partition(&t, p) else { continue };
                if lock(&part.info).leader != leader {
                    continue;
                }
                // The partition may have been truncated (a new LeaderAndIsr) while this fetch was
                // in flight: like AbstractFetcherThread, drop a response for an offset that is no
                // longer where the log ends, or it would be appended at the wrong offsets.
                let fetched_at = wanted
                    .iter()
                    .find(|w| w.topic == t && w.partition == p)
                    .map(|w| w.fetch_offset);
                match err {
                    KafkaError::None => {
                        let (msgs, end) = view_message_set(&bytes);
                        // Intact messages are stored as fetched: the follower's file shares the
                        // leader's bytes (simulator memory only; every cost is still charged).
                        let intact = msgs.iter().all(|m| m.valid && m.magic == 0);
                        let mut log = part.log.lock().await;
                        if fetched_at != Some(log.log_end_offset()) {
                            continue;
                        }
                        if let (Some(first), Some(last)) =
                            (msgs.first().map(|m| m.offset), msgs.last().map(|m| m.offset))
                        {
                            let appended = if intact {
                                log.append_fetched(&msgs, bytes.slice(..end), now_ms(&self.ctx))
                                    .await
                            } else {
                                log.append(
                                    msgs.iter().map(MessageView::to_record).collect(),
                                    false,
                                    now_ms(&self.ctx),
                                )
                                .await
                            };
                            match appended {
                                Ok(info) => {
                                    let epoch = lock(&part.info).leader_epoch;
                                    drop(log);
                                    self.assign_epoch(&part, epoch, first).await;
                                    log = part.log.lock().await;
                                    self.ctx.trace(
                                        kind::KAFKA_REPLICATE,
                                        None,
                                        fields! { "topic" => t.as_str(), "partition" => p, "first" => first, "last" => last, "leader" => leader, "crcs" => info.crcs },
                                    );
                                }
                                Err(LogError::Disk(e)) => {
                                    // AbstractFetcherThread: "Disk error while replicating data" halts.
                                    self.ctx.trace(kind::KAFKA_FATAL, None, fields! { "topic" => t.as_str(), "partition" => p, "error" => e.to_string() });
                                    self.ctx.halt(1).await
                                }
                                Err(_) => {}
                            }
                        }
                        let leo = log.log_end_offset();
                        *lock(&part.leo) = leo;
                        let mut info = lock(&part.info);
                        let hw = leader_hw.min(leo);
                        if hw > info.hw {
                            info.hw = hw;
                        }
                    }
                    KafkaError::OffsetOutOfRange => {
                        // handleOffsetOutOfRange: ask the leader for its log end (and start).
                        // Ahead of it (an unclean election, a leader that lost its page cache):
                        // truncate to its end. Behind its start (retention): start over there.
                        let (Some(end), Some(start)) = (
                            self.leader_offset(c, leader, &t, p, -1, &mut correlation).await,
                            self.leader_offset(c, leader, &t, p, -2, &mut correlation).await,
                        ) else {
                            continue;
                        };
                        let mut log = part.log.lock().await;
                        if log.log_end_offset() > end && !self.unclean_leader_election_enable(&t) {
                            // 0.9 refuses to lose data it was told must not be lost: a leader
                            // behind this replica can only come from an unclean election or a
                            // leader that lost its page cache.
                            let (mine, topic) = (log.log_end_offset(), t.as_str());
                            let error = format!(
                                "Halting because log truncation is not allowed for topic {topic}, Current leader {leader}'s latest offset {end} is less than replica {}'s latest offset {mine}",
                                self.broker_id
                            );
                            self.ctx.trace(
                                kind::KAFKA_FATAL,
                                None,
                                fields! { "topic" => topic, "partition" => p, "error" => error },
                            );
                            self.ctx.halt(1).await
                        }
                        let cut = if log.log_end_offset() > end {
                            let _ = log.truncate_to(end).await;
                            self.ctx.trace(
                                kind::KAFKA_TRUNCATE,
                                None,
                                fields! { "topic" => t.as_str(), "partition" => p, "to" => end },
                            );
                            Some(Some(end))
                        } else if log.log_end_offset() < start {
                            let _ = log.truncate_fully_and_start_at(start).await;
                            self.ctx.trace(kind::KAFKA_TRUNCATE, None, fields! { "topic" => t.as_str(), "partition" => p, "to" => start, "fully" => true });
                            Some(None)
                        } else {
                            None
                        };
                        *lock(&part.leo) = log.log_end_offset();
                        drop(log);
                        if let Some(to) = cut {
                            self.trim_epochs(&part, to).await;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The leader's latest (−1) or earliest (−2) offset of a partition, over the fetcher's connection.
    async fn leader_offset(
        &self,
        c: &sim_core::hw::Conn<KafkaPacket>,
        leader: i32,
        topic: &str,
        p: i32,
        time: i64,
        correlation: &mut i32,
    ) -> Option<i64> {
        *correlation += 1;
        let req = KafkaPacket::Request {
            correlation_id: *correlation,
            client_id: format!("ReplicaFetcherThread-0-{leader}"),
            body: Request::ListOffsets(ListOffsetsRequest {
                replica_id: self.broker_id,
                topics: vec![ListOffsetsPartition {
                    topic: topic.to_string(),
                    partition: p,
                    timestamp: time,
                }],
            }),
        };
        c.send(req).ok()?;
        match c
            .recv_timeout(Duration::from_millis(self.cfg.replica_socket_timeout_ms.max(1) as u64))
            .await
            .ok()?
        {
            KafkaPacket::Response { body: Response::ListOffsets(v), .. } => {
                v.responses.first().filter(|r| r.error_code == KafkaError::None).map(|r| r.offset)
            }
            _ => None,
        }
    }

    /// Applies retention to every local log (`LogManager.cleanupLogs`).
    pub async fn cleanup_logs(&self) {
        for part in self.all_partitions() {
            let mut log = part.log.lock().await;
            let deleted = log.delete_old_segments(now_ms(&self.ctx)).await.unwrap_or_default();
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
