//! `kafka.server.ReplicaManager`: a broker's partitions, as leader or follower.
//!
//! As leader it appends produced records (`appendMessages`), answers fetches below the high
//! watermark (`fetchMessages`), records each follower's fetch position and applies the ISR and
//! HW rules of [`crate::partition`]: a caught-up follower rejoins the ISR, one that lags for
//! `replica.lag.time.max.ms` is shrunk out (`maybeShrinkIsr`, writing the state znode by
//! compare-and-set), and acks=all produces wait in the [`DelayedOperationPurgatory`] until the HW
//! passes them. As follower it truncates (to its HW, Kafka 0.9's rule, or by leader epoch) when
//! its leader changes and runs a [`ReplicaFetcherThread`] per leader. It applies the
//! controller's LeaderAndIsr, UpdateMetadata (into the [`MetadataCache`]) and StopReplica, and
//! checkpoints the HWs. Requests reach it through [`crate::kafka_apis::KafkaApis`]; where logs live
//! and how they are configured is the [`LogManager`]'s.

mod replica_fetcher_thread;

use super::config::{KafkaConfig, Truncation};
use super::leader_epoch::LeaderEpochCache;
use super::log::{view_message_set, Log, LogError, MessageView, Record};
use super::proto::{
    FetchPartition, FetchPartitionResponse, KafkaError, LeaderAndIsrRequest, PartitionState,
    ProducePartitionData, ProducePartitionResponse, ProduceResponse, Response, StopReplicaRequest,
    TopicAndPartition, UpdateMetadataRequest,
};
use super::zk_utils;
use crate::delayed_operation::DelayedOperationPurgatory;
use crate::hooks::HighWatermark;
use crate::log_manager::LogManager;
use crate::metadata_cache::MetadataCache;
pub use crate::partition::{Partition, PartitionInfo, TopicPartition};
use madsim::time::Instant;
use replica_fetcher_thread::ReplicaFetcherThread;
use sim_core::hw::send::{send_file_ranges, FileRange, SendSpec};
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zookeeper::client::ZooKeeper;

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
    pub(crate) ctx: ProcCtx,
    pub(crate) cfg: Arc<KafkaConfig>,
    partitions: Mutex<BTreeMap<TopicPartition, Arc<Partition>>>,
    /// Live brokers and partition states, from UpdateMetadata.
    pub metadata_cache: Mutex<MetadataCache>,
    /// Where the logs live and how each is configured.
    pub(crate) log_manager: LogManager,
    controller_epoch: Mutex<i32>,
    fetchers: Mutex<BTreeSet<i32>>,
    /// Delayed acks=all produces and long-poll fetches, woken on every append and HW change.
    purgatory: DelayedOperationPurgatory,
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
            log_manager: LogManager::new(ctx.clone(), cfg.clone()),
            high_watermark,
            broker_id: cfg.broker_id,
            ctx,
            cfg,
            partitions: Mutex::new(BTreeMap::new()),
            metadata_cache: Mutex::new(MetadataCache::default()),
            controller_epoch: Mutex::new(0),
            fetchers: Mutex::new(BTreeSet::new()),
            purgatory: DelayedOperationPurgatory::new(),
            zk: Mutex::new(zk),
            next_send_thread: AtomicUsize::new(0),
            topic_overrides: Mutex::new(BTreeMap::new()),
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
    pub(crate) fn unclean_leader_election_enable(&self, topic: &str) -> bool {
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
        let config = self.log_manager.topic_log_config(&overrides);
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

    /// Opens the logs found under `log.dirs` (`LogManager.loadLogs`), recovering torn tails.
    pub async fn load_logs(&self) {
        for (topic, p) in self.log_manager.log_dirs_on_disk() {
            let _ = self.get_or_create(&topic, p).await;
        }
    }

    /// Applies retention to every local log (`LogManager.cleanupLogs`).
    pub async fn cleanup_logs(&self) {
        self.log_manager.cleanup_logs(&self.all_partitions()).await;
    }

    /// Writes every partition's HW durably: temp file, fsync, rename (`OffsetCheckpoint.write`).
    pub async fn checkpoint_high_watermarks(&self) {
        let parts = self.all_partitions();
        let mut text = format!("0\n{}\n", parts.len());
        for p in &parts {
            text.push_str(&format!("{} {} {}\n", p.topic, p.partition, lock(&p.info).hw));
        }
        let path = self.log_manager.hw_checkpoint_path();
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
        let config = self.log_manager.topic_log_config(&overrides);
        if let Some(p) = lock(&self.partitions).get(&(topic.to_string(), partition)) {
            return Ok(p.clone());
        }
        lock(&self.topic_overrides).insert(topic.to_string(), overrides);
        let log = Log::open(
            self.ctx.disk(),
            &self.log_manager.log_dir(topic, partition),
            config,
            now_ms(&self.ctx),
        )
        .await
        .map_err(|_| KafkaError::UnknownTopicOrPartition)?;
        let hw = self
            .log_manager
            .read_hw_checkpoint()
            .get(&(topic.to_string(), partition))
            .copied()
            .unwrap_or(0);
        let epochs = match self.cfg.replica_truncation {
            Truncation::LeaderEpoch => LeaderEpochCache::load(
                &self.ctx.disk(),
                &self.log_manager.log_dir(topic, partition),
            ),
            Truncation::HighWatermark => LeaderEpochCache::default(),
        };
        let p = Arc::new(Partition::new(topic, partition, log, hw, epochs));
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

    pub(crate) fn stale(&self, controller_epoch: i32) -> bool {
        let mut e = lock(&self.controller_epoch);
        if controller_epoch < *e {
            return true;
        }
        *e = controller_epoch;
        false
    }

    /// `ReplicaManager.becomeLeaderOrFollower`: a LeaderAndIsr from a current controller makes
    /// this broker leader or follower of each partition whose leader epoch is newer.
    pub(crate) async fn become_leader_or_follower_request(
        self: &Arc<Self>,
        req: LeaderAndIsrRequest,
    ) -> KafkaError {
        let LeaderAndIsrRequest {
            controller_epoch,
            partition_states: partitions,
            live_leaders: leaders,
            ..
        } = req;
        if self.stale(controller_epoch) {
            return KafkaError::StaleControllerEpoch;
        }
        let known: Vec<i32> = leaders.iter().map(|b| b.id).collect();
        lock(&self.metadata_cache).add_brokers(leaders);
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
        KafkaError::None
    }

    /// `ReplicaManager.maybeUpdateMetadataCache`: an UpdateMetadata from a current controller.
    pub(crate) fn maybe_update_metadata_cache(&self, req: UpdateMetadataRequest) -> KafkaError {
        if self.stale(req.controller_epoch) {
            return KafkaError::StaleControllerEpoch;
        }
        lock(&self.metadata_cache).update_cache(req.live_brokers, req.partition_states);
        KafkaError::None
    }

    /// `ReplicaManager.stopReplicas`: forget partitions, deleting their logs if asked.
    pub(crate) async fn stop_replicas(&self, req: StopReplicaRequest) -> KafkaError {
        let StopReplicaRequest { controller_epoch, delete_partitions: delete, partitions } = req;
        if self.stale(controller_epoch) {
            return KafkaError::StaleControllerEpoch;
        }
        for TopicAndPartition { topic: t, partition: p } in partitions {
            let removed = lock(&self.partitions).remove(&(t.clone(), p));
            lock(&self.metadata_cache).remove_partition(&(t.clone(), p));
            if let (true, Some(part)) = (delete, removed) {
                let log = part.log.lock().await;
                for (_, path, _) in log.segments() {
                    let _ = self.ctx.disk().delete(&path).await;
                    let _ = self.ctx.disk().delete(&path.replace(".log", ".index")).await;
                }
            }
        }
        KafkaError::None
    }

    /// `makeLeader` / `makeFollower`.
    pub(crate) async fn become_leader_or_follower(self: &Arc<Self>, ps: PartitionState) {
        let Ok(part) = self.get_or_create(&ps.topic, ps.partition).await else { return };
        let me = self.broker_id;
        if ps.leader == me {
            let leo = *lock(&part.leo);
            {
                let mut info = lock(&part.info);
                info.make_leader(me, &ps, leo, Instant::now());
                self.ctx.trace(
                    kind::KAFKA_BECOME_LEADER,
                    None,
                    fields! { "topic" => ps.topic.as_str(), "partition" => ps.partition, "leader_epoch" => ps.leader_epoch, "isr" => ps.isr.clone(), "leo" => leo, "hw" => info.hw },
                );
            }
            // A leader's log is the reference: nothing left to ask anyone.
            *lock(&part.pending_epoch_truncation) = false;
            self.assign_epoch(&part, ps.leader_epoch, leo).await;
            self.maybe_advance_hw(&part);
        } else {
            let (hw, leader_changed) = {
                let mut info = lock(&part.info);
                let leader_changed = info.make_follower(&ps);
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
        self.purgatory.check_and_complete();
    }

    /// Cuts a local log back to `to` (if it is longer), with the epoch cache, and traces why.
    pub(crate) async fn truncate(
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
    pub(crate) async fn trim_epochs(&self, part: &Partition, to: Option<i64>) {
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
    pub(crate) async fn assign_epoch(&self, part: &Partition, epoch: i32, offset: i64) {
        if self.cfg.replica_truncation != Truncation::LeaderEpoch {
            return;
        }
        let changed = lock(&part.epochs).assign(epoch, offset);
        if changed {
            self.save_epochs(part).await;
        }
    }

    pub(crate) async fn save_epochs(&self, part: &Partition) {
        let cache = lock(&part.epochs).clone();
        if let Err(e) = cache
            .save(&self.ctx.disk(), &self.log_manager.log_dir(&part.topic, part.partition))
            .await
        {
            self.ctx.trace(kind::KAFKA_FATAL, None, fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "error" => e.to_string() });
            self.ctx.halt(1).await
        }
    }

    /// Leader: `maybeIncrementLeaderHW`, HW = min LEO over the ISR, never moving back. The rule
    /// itself is a plug-in point (crate::hooks::HighWatermark), built in by default; this
    /// gathers the replicas' LEOs (the leader first, then the assignment, then any ISR member
    /// outside it) and applies what the rule returns.
    fn maybe_advance_hw(&self, part: &Partition) -> bool {
        let leo = *lock(&part.leo);
        let mut info = lock(&part.info);
        let Some(old) =
            info.maybe_increment_leader_hw(self.broker_id, leo, self.high_watermark.as_ref())
        else {
            return false;
        };
        self.ctx.trace(kind::KAFKA_HW, None, fields! { "topic" => part.topic.as_str(), "partition" => part.partition, "from" => old, "to" => info.hw });
        true
    }

    /// `ReplicaManager.appendMessages`: a produce request, answered once acks are met.
    pub(crate) async fn append_messages(
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
                    self.purgatory.check_and_complete();
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
        let mut timer = self.purgatory.expiration(deadline);
        for (part, last) in wait_for {
            loop {
                let notified = self.purgatory.watch();
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

    /// `ReplicaManager.fetchMessages`: a fetch, long-polled up to its `max_wait_time`.
    pub(crate) async fn fetch_messages(
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
                        let leo = *lock(&part.leo);
                        let mut info = lock(&part.info);
                        if info.leader != self.broker_id {
                            continue;
                        }
                        info.update_replica_log_read_result(
                            replica_id,
                            *offset,
                            leo,
                            sim_core::hw::now(),
                        );
                        info.maybe_expand_isr(replica_id, *offset)
                    };
                    if let Some(isr) = expand {
                        self.expand_isr(&part, replica_id, isr).await;
                    }
                    if self.maybe_advance_hw(&part) {
                        self.purgatory.check_and_complete();
                    }
                }
            }
        }
        let deadline = sim_core::hw::now() + Duration::from_millis(max_wait_ms.max(0) as u64);
        let mut timer = self.purgatory.expiration(deadline);
        loop {
            let notified = self.purgatory.watch();
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
                notified = self.purgatory.watch();
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
                info.get_out_of_sync_replicas(
                    self.broker_id,
                    leo,
                    now,
                    lag_time,
                    self.cfg.replica_lag_max_messages,
                )
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
                    self.purgatory.check_and_complete();
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
    async fn expand_isr(&self, part: &Partition, replica: i32, isr: Vec<i32>) {
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
            ReplicaFetcherThread::new(rm.clone(), leader).run().await;
            lock(&rm.fetchers).remove(&leader);
        });
    }
}
