//! The old consumer of Kafka 0.8.2/0.9: `kafka.consumer.ZookeeperConsumerConnector`, the one
//! `kafka-console-consumer.sh --zookeeper` runs. Its group lives entirely in ZooKeeper:
//!
//! - **Registration.** The consumer id is `<group>_<hostname>-<start ms>-<8 hex digits of a UUID>`;
//!   the consumer registers it as the ephemeral `/consumers/<group>/ids/<id>` holding its
//!   subscription (`{"version":1,"subscription":{"t":1},"pattern":"white_list","timestamp":"…"}`).
//! - **Rebalance** (`ZKRebalancerListener.syncedRebalance`), run when a child of
//!   `/consumers/<group>/ids` comes or goes, when `/brokers/topics/<t>` changes, and after a new
//!   session: stop the fetchers and drop what they queued, commit the consumed offsets, delete this
//!   consumer's `/consumers/<group>/owners/<t>/<p>` nodes, compute the whole group's assignment
//!   (every member computes the same one: [`assignor`]), read the starting offsets from
//!   `/consumers/<group>/offsets/<t>/<p>`, then claim each partition with an ephemeral create of
//!   its owner node. A `NodeExists` means the previous owner has not let go yet: undo the claims,
//!   wait `rebalance.backoff.ms` (2 s) and try again, up to `rebalance.max.retries` (4) times,
//!   then give up with `ConsumerRebalanceFailedException`.
//! - **Fetching** (`ConsumerFetcherManager`): a leader-finder task asks a broker for the owned
//!   partitions' leaders, one `ConsumerFetcherThread` per leader long-polls Fetch requests and
//!   queues chunks (at most `queued.max.message.chunks`, 2) for the [`KafkaStream`] the
//!   application iterates. A partition without a committed offset starts where
//!   `auto.offset.reset` says: `largest` (the default) or `smallest`.
//! - **Offsets** are the *consumed* positions, written to `/consumers/<group>/offsets/<t>/<p>`
//!   every `auto.commit.interval.ms` (60 s) when `auto.commit.enable` (true), before every
//!   rebalance, and at shutdown. A consumer killed with `kill -9` commits nothing: its session
//!   expires after `zookeeper.session.timeout.ms` (6 s), its ids and owner nodes vanish, the others
//!   rebalance and start from the last commit, so records it printed since are delivered again.
//!
//! Every step is a trace event (`kafka.zkconsumer.*`): `registered`, `rebalance` (one per try),
//! `released`, `claim_conflict`, `owned` (the partitions a consumer owns from then on, with its
//! own rebalance count and the `cversion` of `/consumers/<group>/ids` it assigned from: the
//! membership "generation"), `rebalance_failed`, `fetcher_added`, `leader_lost`, `offset_reset`,
//! `commit`, `session_expired`, `shutdown`; each record handed to the application is a
//! `kafka.client.consumed`.
//!
//! Deviations: `offsets.storage=kafka` (0.9's offset manager) is refused; a ZooKeeper operation
//! that fails with `ConnectionLoss` fails the rebalance attempt instead of waiting for the
//! reconnect as `ZkClient.retryUntilConnected` does (the attempt is retried after the backoff).

pub mod assignor;

use self::assignor::{
    AssignmentContext, AssignmentStrategy, ConsumerThreadId, TopicCount, TopicFilter,
};
use super::config::parse_properties;
use super::log::{decode_message_set, Record};
use super::network_client::{NetworkClient, NetworkError, CONNECT_TIMEOUT};
use super::proto::{
    BrokerEndPoint, FetchPartition, FetchPartitionResponse, FetchRequest, KafkaError,
    ListOffsetsPartition, ListOffsetsRequest, MetadataRequest, MetadataResponse, Request, Response,
};
use super::zk_utils as zku;
use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt;
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use zookeeper::client::{KeeperState, WatchedEvent, ZooKeeper};
use zookeeper::txn::{CreateMode, ZkError};
use zookeeper::watch_manager::EventType;

/// `auto.offset.reset` with the old consumer's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoOffsetReset {
    /// `smallest`: the log start (`--from-beginning`).
    Smallest,
    /// `largest` (the default): the log end.
    Largest,
}

/// `kafka.consumer.ConsumerConfig`: the subset the lab models, with 0.9's defaults.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// `group.id` (required).
    pub group_id: String,
    /// `consumer.id` (for tests only; generated when absent).
    pub consumer_id: Option<String>,
    /// `zookeeper.connect` (required).
    pub zk_connect: String,
    /// `zookeeper.session.timeout.ms` (6000).
    pub zk_session_timeout_ms: u64,
    /// `zookeeper.connection.timeout.ms` (the session timeout).
    pub zk_connection_timeout_ms: u64,
    /// `auto.commit.enable` (true).
    pub auto_commit_enable: bool,
    /// `auto.commit.interval.ms` (60000).
    pub auto_commit_interval_ms: u64,
    /// `rebalance.max.retries` (4).
    pub rebalance_max_retries: u32,
    /// `rebalance.backoff.ms` (`zookeeper.sync.time.ms`, 2000).
    pub rebalance_backoff_ms: u64,
    /// `auto.offset.reset` (`largest`).
    pub auto_offset_reset: AutoOffsetReset,
    /// `consumer.timeout.ms` (−1: wait for ever).
    pub consumer_timeout_ms: i64,
    /// `partition.assignment.strategy` (`range`).
    pub partition_assignment_strategy: AssignmentStrategy,
    /// `fetch.message.max.bytes` (1 MiB).
    pub fetch_message_max_bytes: i32,
    /// `fetch.wait.max.ms` (100).
    pub fetch_wait_max_ms: i32,
    /// `fetch.min.bytes` (1).
    pub fetch_min_bytes: i32,
    /// `refresh.leader.backoff.ms` (200).
    pub refresh_leader_backoff_ms: u64,
    /// `queued.max.message.chunks` (2).
    pub queued_max_message_chunks: usize,
    /// `client.id` (the group id).
    pub client_id: String,
    /// `exclude.internal.topics` (true).
    pub exclude_internal_topics: bool,
}

/// An error as the JVM prints it: `<exception class>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConsumerError(pub String);

fn invalid_config(msg: String) -> ConsumerError {
    ConsumerError(format!("kafka.common.InvalidConfigException: {msg}"))
}

impl ConsumerConfig {
    /// Reads the properties as `new ConsumerConfig(props)` does, with its validation
    /// (`ConsumerConfig.validate`) and wording.
    pub fn new(props: &BTreeMap<String, String>) -> Result<Self, ConsumerError> {
        let required = |k: &str| {
            props.get(k).cloned().ok_or_else(|| ConsumerError(format!("java.lang.IllegalArgumentException: requirement failed: Missing required property '{k}'")))
        };
        let int = |k: &str, default: i64| -> Result<i64, ConsumerError> {
            match props.get(k) {
                None => Ok(default),
                Some(v) => v.parse::<i32>().map(i64::from).map_err(|_| {
                    ConsumerError(format!(
                        "java.lang.NumberFormatException: For input string: \"{v}\""
                    ))
                }),
            }
        };
        let boolean = |k: &str, default: bool| -> Result<bool, ConsumerError> {
            match props.get(k).map(String::as_str) {
                None => Ok(default),
                Some("true") => Ok(true),
                Some("false") => Ok(false),
                Some(_) => Err(ConsumerError(format!(
                    "java.lang.IllegalArgumentException: requirement failed: Unacceptable value for property '{k}', boolean values must be either 'true' or 'false"
                ))),
            }
        };
        let zk_connect = required("zookeeper.connect")?;
        let session = int("zookeeper.session.timeout.ms", 6000)?;
        let sync = int("zookeeper.sync.time.ms", 2000)?;
        let group_id = required("group.id")?;
        let client_id = props.get("client.id").cloned().unwrap_or_else(|| group_id.clone());
        for (k, v) in [("client.id", &client_id), ("group.id", &group_id)] {
            if !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
                return Err(invalid_config(format!("{k} {v} is illegal, contains a character other than ASCII alphanumerics, '.', '_' and '-'")));
            }
        }
        let auto_offset_reset = match props.get("auto.offset.reset").map(String::as_str).unwrap_or("largest") {
            "smallest" => AutoOffsetReset::Smallest,
            "largest" => AutoOffsetReset::Largest,
            other => {
                return Err(invalid_config(format!("Wrong value {other} of auto.offset.reset in ConsumerConfig; Valid values are smallest and largest")))
            }
        };
        match props.get("offsets.storage").map(|s| s.to_lowercase()).as_deref() {
            None | Some("zookeeper") => {}
            Some("kafka") => {
                return Err(ConsumerError(
                    "lab: offsets.storage=kafka (the 0.9 offset manager) is not modelled for the old consumer; use zookeeper".into(),
                ))
            }
            Some(other) => {
                return Err(invalid_config(format!("Wrong value {other} of offsets.storage in consumer config; Valid values are 'zookeeper' and 'kafka'")))
            }
        }
        let strategy = match props.get("partition.assignment.strategy").map(String::as_str).unwrap_or("range") {
            "range" => AssignmentStrategy::Range,
            "roundrobin" => AssignmentStrategy::RoundRobin,
            other => {
                return Err(invalid_config(format!(
                    "Wrong value {other} of partition.assignment.strategy in consumer config; Valid values are 'range' and 'roundrobin'"
                )))
            }
        };
        Ok(ConsumerConfig {
            consumer_id: props.get("consumer.id").cloned(),
            zk_session_timeout_ms: session.max(1) as u64,
            zk_connection_timeout_ms: int("zookeeper.connection.timeout.ms", session)?.max(1)
                as u64,
            auto_commit_enable: boolean("auto.commit.enable", true)?,
            auto_commit_interval_ms: int("auto.commit.interval.ms", 60_000)?.max(1) as u64,
            rebalance_max_retries: int("rebalance.max.retries", 4)?.max(0) as u32,
            rebalance_backoff_ms: int("rebalance.backoff.ms", sync)?.max(0) as u64,
            auto_offset_reset,
            consumer_timeout_ms: int("consumer.timeout.ms", -1)?,
            partition_assignment_strategy: strategy,
            fetch_message_max_bytes: int("fetch.message.max.bytes", 1024 * 1024)?.max(1) as i32,
            fetch_wait_max_ms: int("fetch.wait.max.ms", 100)?.max(0) as i32,
            fetch_min_bytes: int("fetch.min.bytes", 1)?.max(0) as i32,
            refresh_leader_backoff_ms: int("refresh.leader.backoff.ms", 200)?.max(1) as u64,
            queued_max_message_chunks: int("queued.max.message.chunks", 2)?.max(1) as usize,
            exclude_internal_topics: boolean("exclude.internal.topics", true)?,
            client_id,
            group_id,
            zk_connect,
        })
    }

    /// A configuration from a properties file's text (`Utils.loadProps`) plus overrides.
    pub fn from_text(text: &str, overrides: &[(&str, String)]) -> Result<Self, ConsumerError> {
        let mut props = parse_properties(text);
        for (k, v) in overrides {
            props.insert(k.to_string(), v.clone());
        }
        Self::new(&props)
    }
}

/// `ZKGroupDirs` / `ZKGroupTopicDirs`.
fn ids_dir(group: &str) -> String {
    format!("{}/{group}/ids", zku::CONSUMERS)
}

fn owner_path(group: &str, topic: &str, partition: i32) -> String {
    format!("{}/{group}/owners/{topic}/{partition}", zku::CONSUMERS)
}

fn offset_path(group: &str, topic: &str, partition: i32) -> String {
    format!("{}/{group}/offsets/{topic}/{partition}", zku::CONSUMERS)
}

/// `PartitionTopicInfo`: an owned partition's consumed and fetched positions.
#[derive(Debug)]
pub struct PartitionTopicInfo {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    consumed: AtomicI64,
    fetched: AtomicI64,
}

impl PartitionTopicInfo {
    fn new(topic: &str, partition: i32, offset: i64) -> Arc<Self> {
        Arc::new(PartitionTopicInfo {
            topic: topic.into(),
            partition,
            consumed: AtomicI64::new(offset),
            fetched: AtomicI64::new(offset),
        })
    }

    /// The next offset the application will be given.
    pub fn consumed(&self) -> i64 {
        self.consumed.load(Ordering::SeqCst)
    }

    fn fetched(&self) -> i64 {
        self.fetched.load(Ordering::SeqCst)
    }

    fn key(&self) -> (String, i32) {
        (self.topic.clone(), self.partition)
    }
}

enum Chunk {
    Data {
        info: Arc<PartitionTopicInfo>,
        records: Vec<Record>,
        fetch_offset: i64,
    },
    /// `ZookeeperConsumerConnector.shutdownCommand`.
    Shutdown,
}

/// The `LinkedBlockingQueue[FetchedDataChunk]` between the fetchers and the stream.
struct ChunkQueue {
    chunks: Mutex<VecDeque<Chunk>>,
    capacity: usize,
    /// Bumped by `clear`, so the stream drops the chunk it is iterating too.
    epoch: AtomicU64,
    changed: Notify,
}

impl ChunkQueue {
    async fn put(&self, chunk: Chunk) {
        loop {
            let changed = self.changed.notified();
            {
                let mut q = lock(&self.chunks);
                if q.len() < self.capacity {
                    q.push_back(chunk);
                    drop(q);
                    self.changed.notify_waiters();
                    return;
                }
            }
            changed.await;
        }
    }

    async fn take(&self) -> Chunk {
        loop {
            let changed = self.changed.notified();
            let next = lock(&self.chunks).pop_front();
            if let Some(c) = next {
                self.changed.notify_waiters();
                return c;
            }
            changed.await;
        }
    }

    fn clear(&self) {
        lock(&self.chunks).clear();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    fn shutdown(&self) {
        self.clear();
        lock(&self.chunks).push_back(Chunk::Shutdown);
        self.changed.notify_waiters();
    }
}

/// A record handed to the application (`MessageAndMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAndMetadata {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub value: Option<Vec<u8>>,
}

/// Why [`KafkaStream::next`] returned no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// `ConsumerTimeoutException`: nothing arrived within `consumer.timeout.ms`.
    Timeout,
    /// `StreamEndException`: the connector shut down.
    End,
}

/// `KafkaStream` and its `ConsumerIterator`.
pub struct KafkaStream {
    ctx: ProcCtx,
    queue: Arc<ChunkQueue>,
    current: Option<(Arc<PartitionTopicInfo>, VecDeque<Record>, u64)>,
    timeout: Option<Duration>,
    group: String,
    consumer: String,
    ended: bool,
}

impl KafkaStream {
    /// The next record (`ConsumerIterator.next`): skips what was already consumed and moves the
    /// partition's consumed offset past the record it returns.
    pub async fn next(&mut self) -> Result<MessageAndMetadata, StreamError> {
        loop {
            if self.ended {
                return Err(StreamError::End);
            }
            if let Some((info, records, epoch)) = &mut self.current {
                if *epoch == self.queue.epoch.load(Ordering::SeqCst) {
                    while let Some(r) = records.pop_front() {
                        if r.offset < info.consumed() {
                            continue;
                        }
                        info.consumed.store(r.offset + 1, Ordering::SeqCst);
                        // The iterator hands out one record at a time: a run of one.
                        let value = super::clients::value_text(r.value.as_deref());
                        self.ctx.trace(
                            kind::KAFKA_CLIENT_CONSUMED,
                            None,
                            fields! { "topic" => info.topic.as_str(), "partition" => info.partition, "first" => r.offset, "records" => 1, "values" => [value], "group" => self.group.as_str(), "consumer" => self.consumer.as_str() },
                        );
                        return Ok(MessageAndMetadata {
                            topic: info.topic.clone(),
                            partition: info.partition,
                            offset: r.offset,
                            key: r.key,
                            value: r.value,
                        });
                    }
                }
                self.current = None;
            }
            let chunk = match self.timeout {
                Some(t) => madsim::time::timeout(t, self.queue.take())
                    .await
                    .map_err(|_| StreamError::Timeout)?,
                None => self.queue.take().await,
            };
            match chunk {
                Chunk::Shutdown => self.ended = true,
                Chunk::Data { info, records, fetch_offset } => {
                    // "consumed offset doesn't match fetch offset": move up to the fetch position.
                    if info.consumed() < fetch_offset {
                        info.consumed.store(fetch_offset, Ordering::SeqCst);
                    }
                    self.current =
                        Some((info, records.into(), self.queue.epoch.load(Ordering::SeqCst)));
                }
            }
        }
    }
}

/// What the fetcher tasks share (`ConsumerFetcherManager`'s maps).
#[derive(Default)]
struct FetcherState {
    /// `noLeaderPartitionSet`.
    no_leader: BTreeMap<(String, i32), Arc<PartitionTopicInfo>>,
    /// Partitions per leader broker, each served by one `ConsumerFetcherThread`.
    by_broker: BTreeMap<i32, BTreeMap<(String, i32), Arc<PartitionTopicInfo>>>,
    threads: BTreeMap<i32, madsim::task::JoinHandle<()>>,
}

/// `ConsumerFetcherManager`: a leader finder and one fetcher thread per leader.
struct ConsumerFetcherManager {
    state: Arc<Mutex<FetcherState>>,
    finder: madsim::task::JoinHandle<()>,
}

struct FetchCtx {
    ctx: ProcCtx,
    config: ConsumerConfig,
    consumer: String,
    zk: Arc<ZooKeeper>,
    queue: Arc<ChunkQueue>,
    state: Arc<Mutex<FetcherState>>,
    wake_finder: Notify,
}

impl ConsumerFetcherManager {
    /// `startConnections`: every partition starts leaderless; the finder places them.
    fn start(
        ctx: &ProcCtx,
        config: &ConsumerConfig,
        consumer: &str,
        zk: Arc<ZooKeeper>,
        queue: Arc<ChunkQueue>,
        infos: Vec<Arc<PartitionTopicInfo>>,
    ) -> Self {
        let state = Arc::new(Mutex::new(FetcherState {
            no_leader: infos.into_iter().map(|i| (i.key(), i)).collect(),
            ..FetcherState::default()
        }));
        let fc = Arc::new(FetchCtx {
            ctx: ctx.clone(),
            config: config.clone(),
            consumer: consumer.into(),
            zk,
            queue,
            state: state.clone(),
            wake_finder: Notify::new(),
        });
        let finder = madsim::task::spawn(leader_finder(fc));
        ConsumerFetcherManager { state, finder }
    }

    /// `stopConnections`.
    fn stop(self) {
        self.finder.abort();
        for (_, t) in std::mem::take(&mut lock(&self.state).threads) {
            t.abort();
        }
    }
}

/// A connection to a broker (`SimpleConsumer`'s `BlockingChannel`).
async fn connect(fc: &FetchCtx, b: &BrokerEndPoint) -> Result<NetworkClient, NetworkError> {
    NetworkClient::connect(&fc.ctx, b, &fc.config.client_id, CONNECT_TIMEOUT).await
}

/// `LeaderFinderThread`: asks a broker (from `/brokers/ids`, shuffled, as `ClientUtils` does) for
/// the leaders of the leaderless partitions and hands each to its leader's fetcher thread.
async fn leader_finder(fc: Arc<FetchCtx>) {
    loop {
        let wake = fc.wake_finder.notified();
        let wanted: BTreeSet<String> =
            lock(&fc.state).no_leader.keys().map(|(t, _)| t.clone()).collect();
        if wanted.is_empty() {
            wake.await;
            continue;
        }
        let mut brokers: Vec<BrokerEndPoint> =
            zku::read_brokers(&fc.zk).await.map(|b| b.into_values().collect()).unwrap_or_default();
        madsim::rand::seq::SliceRandom::shuffle(
            brokers.as_mut_slice(),
            &mut madsim::rand::thread_rng(),
        );
        let mut leaders: BTreeMap<(String, i32), BrokerEndPoint> = BTreeMap::new();
        for b in &brokers {
            let Ok(mut ch) = connect(&fc, b).await else { continue };
            let req =
                Request::Metadata(MetadataRequest { topics: wanted.iter().cloned().collect() });
            if let Ok(Response::Metadata(MetadataResponse { brokers: live, topic_metadata })) =
                ch.request(req, Duration::from_secs(30)).await
            {
                let addr: BTreeMap<i32, BrokerEndPoint> =
                    live.into_iter().map(|b| (b.id, b)).collect();
                for t in topic_metadata {
                    for p in t
                        .partition_metadata
                        .into_iter()
                        .filter(|p| p.error_code == KafkaError::None && p.leader >= 0)
                    {
                        if let Some(a) = addr.get(&p.leader) {
                            leaders.insert((t.topic.clone(), p.partition), a.clone());
                        }
                    }
                }
                break;
            }
        }
        let mut added: BTreeMap<i32, Vec<(String, i32)>> = BTreeMap::new();
        {
            let mut st = lock(&fc.state);
            for (key, leader) in leaders {
                let Some(info) = st.no_leader.remove(&key) else { continue };
                added.entry(leader.id).or_default().push(key.clone());
                st.by_broker.entry(leader.id).or_default().insert(key, info);
                st.threads.entry(leader.id).or_insert_with(|| {
                    madsim::task::spawn(fetcher_thread(fc.clone(), leader.clone()))
                });
            }
        }
        for (broker, partitions) in added {
            // "Added fetcher for partitions …".
            fc.ctx.trace(
                kind::KAFKA_ZKCONSUMER_FETCHER_ADDED,
                None,
                fields! { "group" => fc.config.group_id.as_str(), "consumer" => fc.consumer.as_str(), "broker" => broker, "partitions" => partitions },
            );
        }
        madsim::time::sleep(Duration::from_millis(fc.config.refresh_leader_backoff_ms)).await;
    }
}

/// Gives partitions back to the leader finder (`addPartitionsWithError`).
fn lose_leader(fc: &FetchCtx, broker: i32, keys: &[(String, i32)]) {
    fc.ctx.trace(
        kind::KAFKA_ZKCONSUMER_LEADER_LOST,
        None,
        fields! { "group" => fc.config.group_id.as_str(), "consumer" => fc.consumer.as_str(), "broker" => broker, "partitions" => keys.to_vec() },
    );
    {
        let mut st = lock(&fc.state);
        for k in keys {
            if let Some(info) = st.by_broker.get_mut(&broker).and_then(|m| m.remove(k)) {
                st.no_leader.insert(k.clone(), info);
            }
        }
    }
    fc.wake_finder.notify_waiters();
}

/// `ConsumerFetcherThread`: long-polls its leader for its partitions and queues what comes back.
async fn fetcher_thread(fc: Arc<FetchCtx>, broker: BrokerEndPoint) {
    let backoff = Duration::from_millis(fc.config.refresh_leader_backoff_ms);
    let mut channel: Option<NetworkClient> = None;
    loop {
        let infos: Vec<Arc<PartitionTopicInfo>> = lock(&fc.state)
            .by_broker
            .get(&broker.id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        if infos.is_empty() {
            madsim::time::sleep(backoff).await;
            continue;
        }
        if channel.is_none() {
            channel = connect(&fc, &broker).await.ok();
        }
        let Some(ch) = channel.as_mut() else {
            lose_leader(&fc, broker.id, &infos.iter().map(|i| i.key()).collect::<Vec<_>>());
            madsim::time::sleep(backoff).await;
            continue;
        };
        // A partition with no valid offset starts where auto.offset.reset says; if this broker
        // cannot say, it is probably no longer the leader.
        let mut unknown = Vec::new();
        for info in infos.iter().filter(|i| i.fetched() < 0) {
            let Some(off) = list_offset(ch, &fc.config, info).await else {
                unknown.push(info.key());
                continue;
            };
            info.fetched.store(off, Ordering::SeqCst);
            info.consumed.store(off, Ordering::SeqCst);
            let reset = if fc.config.auto_offset_reset == AutoOffsetReset::Smallest {
                "smallest"
            } else {
                "largest"
            };
            fc.ctx.trace(
                kind::KAFKA_ZKCONSUMER_OFFSET_RESET,
                None,
                fields! { "group" => fc.config.group_id.as_str(), "consumer" => fc.consumer.as_str(), "topic" => info.topic.as_str(), "partition" => info.partition, "offset" => off, "reset" => reset },
            );
        }
        if !unknown.is_empty() {
            lose_leader(&fc, broker.id, &unknown);
        }
        let wanted: Vec<Arc<PartitionTopicInfo>> =
            infos.into_iter().filter(|i| i.fetched() >= 0).collect();
        if wanted.is_empty() {
            channel = None;
            madsim::time::sleep(backoff).await;
            continue;
        }
        let req = Request::Fetch(FetchRequest {
            replica_id: -1,
            max_wait_time: fc.config.fetch_wait_max_ms,
            min_bytes: fc.config.fetch_min_bytes,
            topics: wanted
                .iter()
                .map(|i| FetchPartition {
                    topic: i.topic.clone(),
                    partition: i.partition,
                    fetch_offset: i.fetched(),
                    max_bytes: fc.config.fetch_message_max_bytes,
                })
                .collect(),
        });
        let timeout = Duration::from_millis(fc.config.fetch_wait_max_ms.max(0) as u64 + 30_000);
        let Some(Response::Fetch(results)) = ch.request(req, timeout).await.ok() else {
            channel = None;
            lose_leader(&fc, broker.id, &wanted.iter().map(|i| i.key()).collect::<Vec<_>>());
            madsim::time::sleep(backoff).await;
            continue;
        };
        let mut lost = Vec::new();
        for r in results.responses {
            let FetchPartitionResponse {
                topic: t,
                partition: p,
                error_code: err,
                record_set: bytes,
                ..
            } = r;
            let Some(info) = wanted.iter().find(|i| i.topic == t && i.partition == p).cloned()
            else {
                continue;
            };
            match err {
                KafkaError::None => {
                    let fetch_offset = info.fetched();
                    let records: Vec<Record> = decode_message_set(&bytes)
                        .0
                        .into_iter()
                        .map(|m| m.record)
                        .filter(|r| r.offset >= fetch_offset)
                        .collect();
                    if let Some(last) = records.last() {
                        info.fetched.store(last.offset + 1, Ordering::SeqCst);
                        fc.queue.put(Chunk::Data { info, records, fetch_offset }).await;
                    }
                }
                KafkaError::OffsetOutOfRange => {
                    // handleOffsetOutOfRange: the next round resets it.
                    info.fetched.store(-1, Ordering::SeqCst);
                }
                _ => lost.push(info.key()),
            }
        }
        if !lost.is_empty() {
            lose_leader(&fc, broker.id, &lost);
        }
    }
}

/// `earliestOrLatestOffset` as `auto.offset.reset` says.
async fn list_offset(
    ch: &mut NetworkClient,
    config: &ConsumerConfig,
    info: &PartitionTopicInfo,
) -> Option<i64> {
    let time = if config.auto_offset_reset == AutoOffsetReset::Smallest { -2 } else { -1 };
    let req = Request::ListOffsets(ListOffsetsRequest {
        replica_id: -1,
        topics: vec![ListOffsetsPartition {
            topic: info.topic.clone(),
            partition: info.partition,
            timestamp: time,
        }],
    });
    match ch.request(req, Duration::from_secs(30)).await.ok()? {
        Response::ListOffsets(r) => {
            r.responses.first().filter(|r| r.error_code == KafkaError::None).map(|r| r.offset)
        }
        _ => None,
    }
}

/// Opens a session and waits for it as `ZkClient`'s constructor does.
async fn connect_zk(
    ctx: &ProcCtx,
    config: &ConsumerConfig,
) -> Result<(Arc<ZooKeeper>, UnboundedReceiver<WatchedEvent>), ConsumerError> {
    let servers = zookeeper::connect_string::parse_connect_string(&config.zk_connect, 2181)
        .map(|(s, _)| s)
        .unwrap_or_default();
    let mut zk = ZooKeeper::new(ctx, servers, Duration::from_millis(config.zk_session_timeout_ms));
    let events = zk.take_events();
    let deadline =
        madsim::time::Instant::now() + Duration::from_millis(config.zk_connection_timeout_ms);
    while !zk.is_connected() && madsim::time::Instant::now() < deadline {
        madsim::time::sleep(Duration::from_millis(50)).await;
    }
    if !zk.is_connected() {
        zk.close().await;
        return Err(ConsumerError(format!(
            "org.I0Itec.zkclient.exception.ZkTimeoutException: Unable to connect to zookeeper server within timeout: {}",
            config.zk_connection_timeout_ms
        )));
    }
    Ok((Arc::new(zk), events))
}

/// `getChildrenParentMayNotExist`.
async fn children(zk: &ZooKeeper, path: &str, watch: bool) -> Result<Vec<String>, ZkError> {
    match zk.get_children(path, watch).await {
        Ok(mut c) => {
            c.sort();
            Ok(c)
        }
        Err(ZkError::NoNode) => {
            if watch {
                // Watch for the parent to appear (ZkClient's watchForChilds uses exists).
                let _ = zk.exists(path, true).await;
            }
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// `createEphemeralPathExpectConflict`: create, creating the parents when they are missing.
async fn create_ephemeral(zk: &ZooKeeper, path: &str, data: &[u8]) -> Result<(), ZkError> {
    match zk.create(path, data, CreateMode::Ephemeral).await {
        Err(ZkError::NoNode) => {
            zku::create_with_parents(zk, path, data, CreateMode::Ephemeral).await.map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// `updatePersistentPath`.
async fn update_persistent(zk: &ZooKeeper, path: &str, data: &[u8]) -> Result<(), ZkError> {
    match zk.set_data(path, data, -1).await {
        Err(ZkError::NoNode) => {
            match zku::create_with_parents(zk, path, data, CreateMode::Persistent).await {
                Err(ZkError::NodeExists) => zk.set_data(path, data, -1).await.map(|_| ()),
                other => other.map(|_| ()),
            }
        }
        other => other.map(|_| ()),
    }
}

struct Inner {
    ctx: ProcCtx,
    config: ConsumerConfig,
    consumer_id: String,
    zk: Mutex<Arc<ZooKeeper>>,
    topic_count: Mutex<Option<TopicCount>>,
    /// `topicRegistry`: the partitions this consumer owns.
    registry: Mutex<BTreeMap<(String, i32), Arc<PartitionTopicInfo>>>,
    /// `checkpointedZkOffsets`.
    checkpointed: Mutex<BTreeMap<(String, i32), i64>>,
    /// `rebalanceLock`.
    rebalance_lock: futures::lock::Mutex<()>,
    queue: Arc<ChunkQueue>,
    fetcher: Mutex<Option<ConsumerFetcherManager>>,
    shutting_down: AtomicBool,
    rebalances: AtomicU64,
}

/// `ZookeeperConsumerConnector`.
pub struct ZookeeperConsumerConnector {
    inner: Arc<Inner>,
    tasks: Vec<madsim::task::JoinHandle<()>>,
    events: Option<UnboundedReceiver<WatchedEvent>>,
}

impl ZookeeperConsumerConnector {
    /// `Consumer.create(config)`: names the consumer, connects to ZooKeeper (waiting up to
    /// `zookeeper.connection.timeout.ms`) and starts the auto-committer.
    pub async fn new(ctx: &ProcCtx, config: ConsumerConfig) -> Result<Self, ConsumerError> {
        let consumer_id = match &config.consumer_id {
            Some(id) => format!("{}_{id}", config.group_id),
            None => {
                // UUID.randomUUID().getMostSignificantBits().toHexString.substring(0, 8).
                let msb: u64 = madsim::rand::Rng::gen(&mut madsim::rand::thread_rng());
                let hex = format!("{msb:x}");
                format!(
                    "{}_{}-{}-{}",
                    config.group_id,
                    ctx.host,
                    ctx.wall_ms(),
                    &hex[..hex.len().min(8)]
                )
            }
        };
        let (zk, events) = connect_zk(ctx, &config).await?;
        let inner = Arc::new(Inner {
            ctx: ctx.clone(),
            queue: Arc::new(ChunkQueue {
                chunks: Mutex::new(VecDeque::new()),
                capacity: config.queued_max_message_chunks,
                epoch: AtomicU64::new(0),
                changed: Notify::new(),
            }),
            config,
            consumer_id,
            zk: Mutex::new(zk),
            topic_count: Mutex::new(None),
            registry: Mutex::new(BTreeMap::new()),
            checkpointed: Mutex::new(BTreeMap::new()),
            rebalance_lock: futures::lock::Mutex::new(()),
            fetcher: Mutex::new(None),
            shutting_down: AtomicBool::new(false),
            rebalances: AtomicU64::new(0),
        });
        let mut tasks = Vec::new();
        if inner.config.auto_commit_enable {
            let i = inner.clone();
            tasks.push(madsim::task::spawn(async move {
                let every = Duration::from_millis(i.config.auto_commit_interval_ms);
                loop {
                    madsim::time::sleep(every).await;
                    i.commit_offsets().await;
                }
            }));
        }
        Ok(ZookeeperConsumerConnector { inner, tasks, events: Some(events) })
    }

    /// `<group>_<host>-<timestamp>-<uuid8>`.
    pub fn consumer_id(&self) -> &str {
        &self.inner.consumer_id
    }

    /// The partitions this consumer owns now.
    pub fn owned_partitions(&self) -> Vec<(String, i32)> {
        lock(&self.inner.registry).keys().cloned().collect()
    }

    /// `createMessageStreamsByFilter(filter, 1)`: one stream over every topic the filter allows.
    pub async fn create_message_streams_by_filter(
        &mut self,
        filter: TopicFilter,
    ) -> Result<KafkaStream, ConsumerError> {
        self.consume(TopicCount::Wildcard { filter, num_streams: 1 }).await
    }

    /// `createMessageStreams(Map(topic -> 1))`.
    pub async fn create_message_streams(
        &mut self,
        topic: &str,
    ) -> Result<KafkaStream, ConsumerError> {
        self.consume(TopicCount::Static([(topic.to_string(), 1)].into())).await
    }

    /// `consume` + `reinitializeConsumer`: registers in ZooKeeper, subscribes to the group's and
    /// the topics' changes and runs the first rebalance.
    async fn consume(&mut self, tc: TopicCount) -> Result<KafkaStream, ConsumerError> {
        let Some(events) = self.events.take() else {
            return Err(ConsumerError(format!("kafka.common.MessageStreamsExistException: {} can create message streams at most once", "ZookeeperConsumerConnector")));
        };
        *lock(&self.inner.topic_count) = Some(tc);
        self.inner.register().await.map_err(|e| {
            ConsumerError(format!("org.I0Itec.zkclient.exception.ZkException: {e}"))
        })?;
        self.inner.subscribe().await;
        let i = self.inner.clone();
        self.tasks.push(madsim::task::spawn(watcher_executor(i, events)));
        self.inner.synced_rebalance().await?;
        let timeout = (self.inner.config.consumer_timeout_ms >= 0)
            .then(|| Duration::from_millis(self.inner.config.consumer_timeout_ms as u64));
        Ok(KafkaStream {
            ctx: self.inner.ctx.clone(),
            queue: self.inner.queue.clone(),
            current: None,
            timeout,
            group: self.inner.config.group_id.clone(),
            consumer: self.inner.consumer_id.clone(),
            ended: false,
        })
    }

    /// `commitOffsets`: the consumed offsets to `/consumers/<group>/offsets/<t>/<p>`.
    pub async fn commit_offsets(&self) {
        self.inner.commit_offsets().await;
    }

    /// `shutdown`: waits for a rebalance in progress, stops the fetchers, ends the streams,
    /// commits (with `auto.commit.enable`) and closes the session, which deletes the ids and owner
    /// nodes at once.
    pub async fn shutdown(&mut self) {
        let inner = &self.inner;
        if inner.shutting_down.swap(true, Ordering::SeqCst) {
            return;
        }
        let _guard = inner.rebalance_lock.lock().await;
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(f) = lock(&inner.fetcher).take() {
            f.stop();
        }
        inner.queue.shutdown();
        if inner.config.auto_commit_enable {
            inner.commit_offsets().await;
        }
        inner.trace(kind::KAFKA_ZKCONSUMER_SHUTDOWN, fields! {});
        inner.zk().close().await;
    }
}

impl Drop for ZookeeperConsumerConnector {
    fn drop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(f) = lock(&self.inner.fetcher).take() {
            f.stop();
        }
    }
}

/// The `<consumerId>_watcher_executor` thread: ZooKeeper events in, rebalances out. Events that
/// arrive together cause one rebalance, as the `isWatcherTriggered` flag does.
async fn watcher_executor(inner: Arc<Inner>, mut events: UnboundedReceiver<WatchedEvent>) {
    loop {
        let Some(first) = events.next().await else { return };
        let mut batch = vec![first];
        while let Ok(e) = events.try_recv() {
            batch.push(e);
        }
        let mut triggered = false;
        for ev in batch {
            if ev.state == KeeperState::Expired {
                // ZKSessionExpireListener.handleNewSession.
                inner.trace(kind::KAFKA_ZKCONSUMER_SESSION_EXPIRED, fields! {});
                let (zk, evs) = loop {
                    match connect_zk(&inner.ctx, &inner.config).await {
                        Ok(x) => break x,
                        Err(_) => madsim::time::sleep(Duration::from_millis(1000)).await,
                    }
                };
                *lock(&inner.zk) = zk;
                events = evs;
                lock(&inner.registry).clear();
                if inner.register().await.is_ok() {
                    inner.subscribe().await;
                }
                triggered = true;
                break;
            }
            triggered |= inner.is_relevant(&ev).await;
        }
        if triggered && !inner.shutting_down.load(Ordering::SeqCst) {
            if let Err(e) = inner.synced_rebalance().await {
                inner.trace(kind::KAFKA_ZKCONSUMER_ERROR, fields! { "error" => e.0 });
            }
        }
    }
}

impl Inner {
    fn zk(&self) -> Arc<ZooKeeper> {
        lock(&self.zk).clone()
    }

    fn group(&self) -> &str {
        &self.config.group_id
    }

    fn trace(&self, kind: &str, mut f: sim_core::trace::Fields) {
        f.insert("group".into(), self.config.group_id.clone().into());
        f.insert("consumer".into(), self.consumer_id.clone().into());
        f.insert("pid".into(), self.ctx.pid.into());
        self.ctx.trace(kind, None, f);
    }

    /// `registerConsumerInZK`.
    async fn register(&self) -> Result<(), ZkError> {
        let Some(tc) = lock(&self.topic_count).clone() else { return Ok(()) };
        let json = tc.registration_json(self.ctx.wall_ms());
        let path = format!("{}/{}", ids_dir(self.group()), self.consumer_id);
        create_ephemeral(&self.zk(), &path, json.as_bytes()).await?;
        self.trace(kind::KAFKA_ZKCONSUMER_REGISTERED, fields! { "subscription" => json });
        Ok(())
    }

    /// The watches `reinitializeConsumer` subscribes (and a `WildcardTopicCount`'s topic watcher).
    async fn subscribe(&self) {
        let zk = self.zk();
        let _ = children(&zk, &ids_dir(self.group()), true).await;
        let topics = children(&zk, zku::BROKER_TOPICS, true).await.unwrap_or_default();
        for t in self.my_topics(&topics) {
            let _ = zk.exists(&format!("{}/{t}", zku::BROKER_TOPICS), true).await;
        }
    }

    fn my_topics(&self, all: &[String]) -> Vec<String> {
        let tc = lock(&self.topic_count).clone();
        tc.map(|tc| {
            tc.thread_ids_per_topic(&self.consumer_id, all, self.config.exclude_internal_topics)
                .into_keys()
                .collect()
        })
        .unwrap_or_default()
    }

    /// Whether an event asks for a rebalance; re-arms the one-shot watch it used, as ZkClient does.
    async fn is_relevant(&self, ev: &WatchedEvent) -> bool {
        let Some(path) = ev.path.as_deref() else { return false };
        let zk = self.zk();
        if path == ids_dir(self.group()) || path == zku::BROKER_IDS {
            let _ = children(&zk, path, true).await;
            return ev.kind == EventType::NodeChildrenChanged || ev.kind == EventType::NodeCreated;
        }
        if path == zku::BROKER_TOPICS {
            // ZookeeperTopicEventWatcher: a new topic may match the filter.
            let topics = children(&zk, path, true).await.unwrap_or_default();
            for t in self.my_topics(&topics) {
                let _ = zk.exists(&format!("{}/{t}", zku::BROKER_TOPICS), true).await;
            }
            return true;
        }
        if let Some(topic) = path.strip_prefix(&format!("{}/", zku::BROKER_TOPICS)) {
            let _ = zk.exists(path, true).await;
            // ZKTopicPartitionChangeListener: data changes rebalance; a deletion is only logged.
            return !topic.contains('/')
                && matches!(ev.kind, EventType::NodeDataChanged | EventType::NodeCreated);
        }
        false
    }

    /// `syncedRebalance`: up to `rebalance.max.retries` tries, `rebalance.backoff.ms` apart.
    async fn synced_rebalance(&self) -> Result<(), ConsumerError> {
        let _guard = self.rebalance_lock.lock().await;
        for attempt in 0..self.config.rebalance_max_retries {
            if self.shutting_down.load(Ordering::SeqCst) {
                return Ok(());
            }
            self.trace(kind::KAFKA_ZKCONSUMER_REBALANCE, fields! { "try" => attempt });
            let done = match self.rebalance().await {
                Ok(d) => d,
                Err(e) => {
                    self.trace(kind::KAFKA_ZKCONSUMER_REBALANCE_ERROR, fields! { "error" => e });
                    false
                }
            };
            if done {
                return Ok(());
            }
            // Stop the fetchers and clear the queues to avoid duplicates while we wait.
            self.close_fetchers().await;
            madsim::time::sleep(Duration::from_millis(self.config.rebalance_backoff_ms)).await;
        }
        self.trace(
            kind::KAFKA_ZKCONSUMER_REBALANCE_FAILED,
            fields! { "retries" => self.config.rebalance_max_retries },
        );
        Err(ConsumerError(format!(
            "kafka.common.ConsumerRebalanceFailedException: {} can't rebalance after {} retries",
            self.consumer_id, self.config.rebalance_max_retries
        )))
    }

    /// One try (`rebalance(cluster)`); `Ok(false)` when another consumer still owns a partition
    /// this one was given.
    async fn rebalance(&self) -> Result<bool, String> {
        let zk = self.zk();
        let brokers = children(&zk, zku::BROKER_IDS, false).await.map_err(|e| e.to_string())?;
        if brokers.is_empty() {
            // No broker yet: watch /brokers/ids and rebalance when one registers.
            let _ = children(&zk, zku::BROKER_IDS, true).await;
            self.trace(kind::KAFKA_ZKCONSUMER_NO_BROKERS, fields! {});
            return Ok(true);
        }
        self.close_fetchers().await;
        self.release_partition_ownership(&zk).await;
        let (ctx, generation) = self.assignment_context(&zk).await?;
        let global = self.config.partition_assignment_strategy.assign(&ctx)?;
        let mine = global.get(&self.consumer_id).cloned().unwrap_or_default();
        // fetchOffsets: the committed offsets, −1 where there is none.
        let mut infos = Vec::new();
        for (t, p) in mine.keys() {
            let offset = match zk.get_data(&offset_path(self.group(), t, *p), false).await {
                Ok((d, _)) => String::from_utf8_lossy(&d).trim().parse::<i64>().unwrap_or(-1),
                Err(ZkError::NoNode) => -1,
                Err(e) => return Err(e.to_string()),
            };
            infos.push(PartitionTopicInfo::new(t, *p, offset));
        }
        if self.shutting_down.load(Ordering::SeqCst) {
            return Ok(false);
        }
        if !self.reflect_partition_ownership_decision(&zk, &mine).await {
            return Ok(false);
        }
        {
            let mut cp = lock(&self.checkpointed);
            for i in &infos {
                cp.insert(i.key(), i.consumed());
            }
        }
        *lock(&self.registry) = infos.iter().map(|i| (i.key(), i.clone())).collect();
        let n = self.rebalances.fetch_add(1, Ordering::SeqCst) + 1;
        let owned: Vec<(String, i32)> = mine.keys().cloned().collect();
        let threads: Vec<String> = ctx
            .consumers_for_topic
            .values()
            .flatten()
            .map(|t| t.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        self.trace(
            kind::KAFKA_ZKCONSUMER_OWNED,
            fields! { "partitions" => owned, "rebalance" => n, "generation" => generation, "threads" => threads, "strategy" => format!("{:?}", self.config.partition_assignment_strategy).to_lowercase() },
        );
        // updateFetcher.
        let f = ConsumerFetcherManager::start(
            &self.ctx,
            &self.config,
            &self.consumer_id,
            zk.clone(),
            self.queue.clone(),
            infos,
        );
        *lock(&self.fetcher) = Some(f);
        Ok(true)
    }

    /// `AssignmentContext` read from ZooKeeper, with the `cversion` of the ids node.
    async fn assignment_context(&self, zk: &ZooKeeper) -> Result<(AssignmentContext, i32), String> {
        let group = self.group().to_string();
        let mine = zk
            .get_data(&format!("{}/{}", ids_dir(&group), self.consumer_id), false)
            .await
            .map_err(|e| e.to_string())?;
        let my_tc = TopicCount::parse(&mine.0)?;
        let all_topics =
            children(zk, zku::BROKER_TOPICS, false).await.map_err(|e| e.to_string())?;
        let exclude = self.config.exclude_internal_topics;
        let my_topic_thread_ids =
            my_tc.thread_ids_per_topic(&self.consumer_id, &all_topics, exclude);
        let mut partitions_for_topic = BTreeMap::new();
        for t in my_topic_thread_ids.keys() {
            let parts = match zk.get_data(&format!("{}/{t}", zku::BROKER_TOPICS), false).await {
                Ok((d, _)) => zku::parse_topic_assignment(&d)
                    .map(|a| a.into_keys().collect())
                    .unwrap_or_default(),
                Err(ZkError::NoNode) => Vec::new(),
                Err(e) => return Err(e.to_string()),
            };
            partitions_for_topic.insert(t.clone(), parts);
        }
        let consumers = children(zk, &ids_dir(&group), true).await.map_err(|e| e.to_string())?;
        let generation =
            zk.exists(&ids_dir(&group), false).await.ok().flatten().map_or(-1, |s| s.cversion);
        let mut consumers_for_topic: BTreeMap<String, Vec<ConsumerThreadId>> = BTreeMap::new();
        for c in &consumers {
            let (data, _) = zk
                .get_data(&format!("{}/{c}", ids_dir(&group)), false)
                .await
                .map_err(|e| format!("{e} for {}/{c}", ids_dir(&group)))?;
            let tc = TopicCount::parse(&data)?;
            for (t, threads) in tc.thread_ids_per_topic(c, &all_topics, exclude) {
                consumers_for_topic.entry(t).or_default().extend(threads);
            }
        }
        for v in consumers_for_topic.values_mut() {
            v.sort();
        }
        Ok((
            AssignmentContext {
                consumer_id: self.consumer_id.clone(),
                my_topic_thread_ids,
                partitions_for_topic,
                consumers_for_topic,
                consumers,
            },
            generation,
        ))
    }

    /// `reflectPartitionOwnershipDecision`: ephemeral owner nodes for every partition; if any
    /// exists already, delete the ones just made and report failure.
    async fn reflect_partition_ownership_decision(
        &self,
        zk: &ZooKeeper,
        mine: &BTreeMap<(String, i32), ConsumerThreadId>,
    ) -> bool {
        let mut made = Vec::new();
        let mut ok = true;
        for ((t, p), thread) in mine {
            match create_ephemeral(
                zk,
                &owner_path(self.group(), t, *p),
                thread.to_string().as_bytes(),
            )
            .await
            {
                Ok(()) => made.push((t.clone(), *p)),
                Err(e) => {
                    ok = false;
                    let claim = if e == ZkError::NodeExists {
                        kind::KAFKA_ZKCONSUMER_CLAIM_CONFLICT
                    } else {
                        kind::KAFKA_ZKCONSUMER_CLAIM_ERROR
                    };
                    self.trace(claim, fields! { "topic" => t.as_str(), "partition" => *p, "error" => e.to_string() });
                }
            }
        }
        if !ok {
            for (t, p) in made {
                let _ = zk.delete(&owner_path(self.group(), &t, p), -1).await;
            }
        }
        ok
    }

    /// `releasePartitionOwnership`: delete this consumer's owner nodes, forget the partitions.
    async fn release_partition_ownership(&self, zk: &ZooKeeper) {
        let owned: Vec<(String, i32)> =
            std::mem::take(&mut *lock(&self.registry)).into_keys().collect();
        if owned.is_empty() {
            return;
        }
        for (t, p) in &owned {
            let _ = zk.delete(&owner_path(self.group(), t, *p), -1).await;
        }
        self.trace(kind::KAFKA_ZKCONSUMER_RELEASED, fields! { "partitions" => owned });
    }

    /// `closeFetchersForQueues`: stop the fetchers, drop what they queued (the stream drops its
    /// current chunk too), and commit what the application consumed, still as the owner.
    async fn close_fetchers(&self) {
        let f = lock(&self.fetcher).take();
        if let Some(f) = f {
            f.stop();
            self.queue.clear();
            if self.config.auto_commit_enable {
                self.commit_offsets().await;
            }
        }
    }

    /// `commitOffsets` to ZooKeeper, skipping partitions whose offset is already written.
    async fn commit_offsets(&self) {
        let infos: Vec<Arc<PartitionTopicInfo>> = lock(&self.registry).values().cloned().collect();
        let zk = self.zk();
        let mut written = Vec::new();
        for info in infos {
            let off = info.consumed();
            if lock(&self.checkpointed).get(&info.key()) == Some(&off) {
                continue;
            }
            if update_persistent(
                &zk,
                &offset_path(self.group(), &info.topic, info.partition),
                off.to_string().as_bytes(),
            )
            .await
            .is_ok()
            {
                lock(&self.checkpointed).insert(info.key(), off);
                written.push((info.topic.clone(), info.partition, off));
            }
        }
        if !written.is_empty() {
            self.trace(kind::KAFKA_ZKCONSUMER_COMMIT, fields! { "offsets" => written });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_0_9s() {
        let c =
            ConsumerConfig::new(&props(&[("group.id", "g"), ("zookeeper.connect", "master:2181")]))
                .unwrap();
        assert_eq!((c.zk_session_timeout_ms, c.zk_connection_timeout_ms), (6000, 6000));
        assert_eq!((c.auto_commit_enable, c.auto_commit_interval_ms), (true, 60_000));
        assert_eq!((c.rebalance_max_retries, c.rebalance_backoff_ms), (4, 2000));
        assert_eq!(c.auto_offset_reset, AutoOffsetReset::Largest);
        assert_eq!(c.partition_assignment_strategy, AssignmentStrategy::Range);
        assert_eq!(c.client_id, "g");
        let c = ConsumerConfig::new(&props(&[
            ("group.id", "g"),
            ("zookeeper.connect", "m"),
            ("zookeeper.sync.time.ms", "500"),
        ]))
        .unwrap();
        assert_eq!(
            c.rebalance_backoff_ms, 500,
            "rebalance.backoff.ms defaults to zookeeper.sync.time.ms"
        );
    }

    #[test]
    fn bad_configs_get_the_java_exceptions() {
        let e = |kv: &[(&str, &str)]| ConsumerConfig::new(&props(kv)).unwrap_err().0;
        assert_eq!(e(&[("zookeeper.connect", "m")]), "java.lang.IllegalArgumentException: requirement failed: Missing required property 'group.id'");
        assert_eq!(
            e(&[("zookeeper.connect", "m"), ("group.id", "g"), ("auto.offset.reset", "earliest")]),
            "kafka.common.InvalidConfigException: Wrong value earliest of auto.offset.reset in ConsumerConfig; Valid values are smallest and largest"
        );
        // client.id defaults to the group id and is validated first, as in 0.9.
        assert_eq!(
            e(&[("zookeeper.connect", "m"), ("group.id", "a b")]),
            "kafka.common.InvalidConfigException: client.id a b is illegal, contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        );
        assert!(e(&[("zookeeper.connect", "m"), ("group.id", "a b"), ("client.id", "c")])
            .starts_with("kafka.common.InvalidConfigException: group.id a b"));
        assert_eq!(
            e(&[("zookeeper.connect", "m"), ("group.id", "g"), ("rebalance.max.retries", "x")]),
            "java.lang.NumberFormatException: For input string: \"x\""
        );
        assert!(e(&[
            ("zookeeper.connect", "m"),
            ("group.id", "g"),
            ("partition.assignment.strategy", "sticky")
        ])
        .contains("Valid values are 'range' and 'roundrobin'"));
        assert!(e(&[("zookeeper.connect", "m"), ("group.id", "g"), ("auto.commit.enable", "yes")])
            .contains("boolean values must be either 'true' or 'false"));
    }
}
