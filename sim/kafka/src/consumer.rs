//! `KafkaConsumer`, the new consumer of Kafka 0.9 (`org.apache.kafka.clients.consumer`), with
//! its `ConsumerCoordinator`: group membership through the broker-side
//! [`super::coordinator::GroupCoordinator`], offsets committed to `__consumer_offsets`.
//!
//! ```text
//! subscribe(["t"]) ─▶ poll(): find the coordinator (GroupCoordinator request to any broker)
//!                            join (JoinGroup; the leader runs the assignor, SyncGroup)
//!                            positions: committed offset (OffsetFetch), else auto.offset.reset
//!                            heartbeat every heartbeat.interval.ms, auto-commit every auto.commit.interval.ms
//!                            fetch from the partition leaders (PartitionFetcher)
//! ```
//!
//! Like the 0.9 client it is single-threaded: heartbeats are only sent from inside `poll`, so a
//! program that stops polling for `session.timeout.ms` is taken out of the group. A heartbeat
//! answered REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID makes the next poll
//! rejoin (committing first when auto-commit is on); NOT_COORDINATOR_FOR_GROUP, a dead connection
//! or no heartbeat answer for a session makes it look for the coordinator again.
//!
//! Deviations, each to keep a simulated run from hanging where the 0.9 client blocks forever:
//! `poll(timeout)` gives up looking for a coordinator at its timeout (0.9's
//! `ensureCoordinatorKnown` never does; a JoinGroup already sent is still waited for, up to
//! `request.timeout.ms`); `commit_sync` gives up after `request.timeout.ms`; `commit_async`
//! completes before it returns (its result is what 0.9 hands the callback). The default
//! `client.id` is `consumer-1` in every process (the JVM counter starts there).

use super::clients::{fetch_metadata, Cluster, ConsumerRecord, OffsetReset, PartitionFetcher};
use super::coordinator::assignor::{self, ConsumerProtocol, TopicPartition, PROTOCOL_TYPE};
use super::coordinator::protocol::{
    GroupProtocol, GroupRequest, GroupResponse, JoinGroupMember, OffsetCommitPartition,
    SyncGroupAssignment,
};
use super::network_client::{NetworkClient, NetworkError, CONNECT_TIMEOUT};
use super::proto::{BrokerEndPoint, KafkaError, TopicAndPartition};
use madsim::time::Instant;
use sim_core::trace::fields;
use sim_core::trace::kind;
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use thiserror::Error;

/// `auto.offset.reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoOffsetReset {
    /// `earliest`: the log start.
    Earliest,
    /// `latest` (the default): the log end.
    Latest,
    /// `none`: an error (`NoOffsetForPartitionException`).
    None,
}

/// What the consumer reports to its caller.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConsumerError {
    /// `NoOffsetForPartitionException` (auto.offset.reset=none and nothing committed).
    #[error("Undefined offset with no reset policy for partition: {0}-{1}")]
    NoOffsetForPartition(String, i32),
    /// `OffsetOutOfRangeException` with auto.offset.reset=none.
    #[error(
        "Offsets out of range with no configured reset policy for partitions: {{{0}-{1}={2}}}"
    )]
    OffsetOutOfRange(String, i32, i64),
    /// `CommitFailedException`.
    #[error("Commit cannot be completed due to group rebalance")]
    CommitFailed,
    /// `ConfigException`.
    #[error("{0}")]
    Config(String),
    /// A JoinGroup error the client does not retry (`INVALID_SESSION_TIMEOUT`, …).
    #[error("{0}")]
    Fatal(String),
    /// Gave up waiting (lab bound where 0.9 blocks forever).
    #[error("org.apache.kafka.common.errors.TimeoutException: Timed out waiting for the group coordinator")]
    Timeout,
}

impl ConsumerError {
    /// The exception line the JVM prints (`class: message`).
    pub fn java_line(&self) -> String {
        match self {
            ConsumerError::Fatal(s) => s.clone(),
            other => format!("{}: {other}", other.exception_class()),
        }
    }

    /// The Java exception class 0.9 throws for this error.
    pub fn exception_class(&self) -> &'static str {
        match self {
            ConsumerError::NoOffsetForPartition(..) => {
                "org.apache.kafka.clients.consumer.NoOffsetForPartitionException"
            }
            ConsumerError::OffsetOutOfRange(..) => {
                "org.apache.kafka.clients.consumer.OffsetOutOfRangeException"
            }
            ConsumerError::CommitFailed => {
                "org.apache.kafka.clients.consumer.CommitFailedException"
            }
            ConsumerError::Config(_) => "org.apache.kafka.common.config.ConfigException",
            ConsumerError::Fatal(_) => "org.apache.kafka.common.KafkaException",
            ConsumerError::Timeout => "org.apache.kafka.common.errors.TimeoutException",
        }
    }
}

/// `ConsumerConfig`: the settings the lab models, with 0.9's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// `bootstrap.servers`.
    pub bootstrap_servers: Vec<(String, u16)>,
    /// `group.id` (needed to subscribe).
    pub group_id: Option<String>,
    /// `client.id` (default `consumer-1`).
    pub client_id: String,
    /// `enable.auto.commit` (true).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (5000).
    pub auto_commit_interval_ms: u64,
    /// `auto.offset.reset` (latest).
    pub auto_offset_reset: AutoOffsetReset,
    /// `session.timeout.ms` (30000 in 0.9).
    pub session_timeout_ms: i32,
    /// `heartbeat.interval.ms` (3000).
    pub heartbeat_interval_ms: u64,
    /// `request.timeout.ms` (40000).
    pub request_timeout_ms: u64,
    /// `retry.backoff.ms` (100).
    pub retry_backoff_ms: u64,
    /// `fetch.max.wait.ms` (500).
    pub fetch_max_wait_ms: u64,
    /// `metadata.max.age.ms` (300000).
    pub metadata_max_age_ms: u64,
    /// `partition.assignment.strategy` as protocol names (`range` by default).
    pub assignors: Vec<String>,
}

impl ConsumerConfig {
    /// 0.9's defaults with these bootstrap servers.
    pub fn new(bootstrap_servers: Vec<(String, u16)>, group_id: Option<&str>) -> Self {
        ConsumerConfig {
            bootstrap_servers,
            group_id: group_id.map(String::from),
            client_id: "consumer-1".into(),
            enable_auto_commit: true,
            auto_commit_interval_ms: 5000,
            auto_offset_reset: AutoOffsetReset::Latest,
            session_timeout_ms: 30_000,
            heartbeat_interval_ms: 3000,
            request_timeout_ms: 40_000,
            retry_backoff_ms: 100,
            fetch_max_wait_ms: 500,
            metadata_max_age_ms: 300_000,
            assignors: vec!["range".into()],
        }
    }

    /// Reads `ConsumerConfig` properties, with `ConfigDef`'s error wording. Unknown keys are
    /// ignored (0.9 logs "The configuration X = Y was supplied but isn't a known config").
    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<Self, ConsumerError> {
        let bad = |k: &str, v: &str, why: &str| {
            ConsumerError::Config(format!("Invalid value {v} for configuration {k}: {why}"))
        };
        let Some(servers) = props.get("bootstrap.servers") else {
            return Err(ConsumerError::Config(
                "Missing required configuration \"bootstrap.servers\" which has no default value."
                    .into(),
            ));
        };
        let mut bootstrap = Vec::new();
        for s in servers.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let parsed = s
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                .filter(|(h, _)| !h.is_empty());
            match parsed {
                Some(hp) => bootstrap.push(hp),
                None => {
                    return Err(ConsumerError::Config(format!(
                        "Invalid url in bootstrap.servers: {s}"
                    )))
                }
            }
        }
        let mut c = ConsumerConfig::new(
            bootstrap,
            props.get("group.id").map(String::as_str).filter(|g| !g.is_empty()),
        );
        let int = |k: &str, d: i64| -> Result<i64, ConsumerError> {
            match props.get(k) {
                None => Ok(d),
                Some(v) => v
                    .trim()
                    .parse::<i32>()
                    .map(i64::from)
                    .map_err(|_| bad(k, v, "Not a number of type INT")),
            }
        };
        let long = |k: &str, d: i64| -> Result<i64, ConsumerError> {
            match props.get(k) {
                None => Ok(d),
                Some(v) => {
                    v.trim().parse::<i64>().map_err(|_| bad(k, v, "Not a number of type LONG"))
                }
            }
        };
        if let Some(id) = props.get("client.id") {
            c.client_id = id.clone();
        }
        if let Some(v) = props.get("enable.auto.commit") {
            c.enable_auto_commit = match v.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(bad(
                        "enable.auto.commit",
                        v,
                        "Expected value to be either true or false",
                    ))
                }
            };
        }
        if let Some(v) = props.get("auto.offset.reset") {
            c.auto_offset_reset = match v.trim() {
                "earliest" => AutoOffsetReset::Earliest,
                "latest" => AutoOffsetReset::Latest,
                "none" => AutoOffsetReset::None,
                _ => {
                    return Err(bad(
                        "auto.offset.reset",
                        v,
                        "String must be one of: latest, earliest, none",
                    ))
                }
            };
        }
        c.auto_commit_interval_ms = long("auto.commit.interval.ms", 5000)?.max(0) as u64;
        c.session_timeout_ms = int("session.timeout.ms", 30_000)? as i32;
        c.heartbeat_interval_ms = int("heartbeat.interval.ms", 3000)?.max(0) as u64;
        c.request_timeout_ms = int("request.timeout.ms", 40_000)?.max(0) as u64;
        c.retry_backoff_ms = long("retry.backoff.ms", 100)?.max(0) as u64;
        c.fetch_max_wait_ms = int("fetch.max.wait.ms", 500)?.max(0) as u64;
        c.metadata_max_age_ms = long("metadata.max.age.ms", 300_000)?.max(0) as u64;
        if let Some(v) = props.get("partition.assignment.strategy") {
            let mut names = Vec::new();
            for class in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match assignor::assignor_for_class(class) {
                    Some(a) => names.push(a.name().to_string()),
                    None => {
                        return Err(bad(
                            "partition.assignment.strategy",
                            v,
                            &format!("Class {class} could not be found."),
                        ))
                    }
                }
            }
            c.assignors = names;
        }
        if c.heartbeat_interval_ms as i64 >= c.session_timeout_ms as i64 {
            return Err(ConsumerError::Config(
                "Heartbeat must be set lower than the session timeout".into(),
            ));
        }
        if c.request_timeout_ms as i64 <= c.session_timeout_ms as i64
            || c.request_timeout_ms <= c.fetch_max_wait_ms
        {
            return Err(ConsumerError::Config("request.timeout.ms should be greater than session.timeout.ms and fetch.max.wait.ms".into()));
        }
        Ok(c)
    }
}

/// `Heartbeat`: when to send the next one and when the session is lost.
#[derive(Debug, Clone)]
struct Heartbeat {
    timeout: i64,
    interval: i64,
    last_send: i64,
    last_receive: i64,
    last_reset: i64,
}

impl Heartbeat {
    fn time_to_next(&self, now: i64) -> i64 {
        let since = now - self.last_send.max(self.last_reset);
        if since > self.interval {
            0
        } else {
            self.interval - since
        }
    }
    fn session_expired(&self, now: i64) -> bool {
        now - self.last_reset.max(self.last_receive) > self.timeout
    }
}

fn tp_names(parts: &BTreeSet<TopicPartition>) -> Vec<String> {
    parts.iter().map(|(t, p)| format!("{t}-{p}")).collect()
}

/// `KafkaConsumer` with group management.
pub struct KafkaConsumer {
    ctx: ProcCtx,
    cfg: ConsumerConfig,
    group: String,
    subscription: Vec<String>,
    cluster: Cluster,
    metadata_at: Option<Instant>,
    metadata_stale: bool,
    /// Partition counts of the subscribed topics when the assignment was made.
    snapshot: BTreeMap<String, usize>,
    coordinator: Option<(BrokerEndPoint, NetworkClient)>,
    next_broker: usize,
    member_id: String,
    generation: i32,
    rejoin_needed: bool,
    needs_join_prepare: bool,
    assigned: BTreeSet<TopicPartition>,
    committed: BTreeMap<TopicPartition, i64>,
    need_refresh_commits: bool,
    fetcher: PartitionFetcher,
    heartbeat: Heartbeat,
    next_auto_commit: Option<Instant>,
    range_assignor: std::sync::Arc<dyn assignor::PartitionAssignor>,
}

impl KafkaConsumer {
    /// A consumer; nothing is sent until the first `poll`.
    pub fn new(ctx: &ProcCtx, cfg: ConsumerConfig) -> Self {
        let group = cfg.group_id.clone().unwrap_or_default();
        let now = ctx.wall_ms();
        let heartbeat = Heartbeat {
            timeout: cfg.session_timeout_ms as i64,
            interval: cfg.heartbeat_interval_ms as i64,
            last_send: 0,
            last_receive: 0,
            last_reset: now,
        };
        KafkaConsumer {
            ctx: ctx.clone(),
            fetcher: PartitionFetcher::for_group(ctx, &group, BTreeMap::new()),
            group,
            cfg,
            subscription: Vec::new(),
            cluster: Cluster::default(),
            metadata_at: None,
            metadata_stale: true,
            snapshot: BTreeMap::new(),
            coordinator: None,
            next_broker: 0,
            member_id: String::new(),
            generation: -1,
            rejoin_needed: true,
            needs_join_prepare: true,
            assigned: BTreeSet::new(),
            committed: BTreeMap::new(),
            need_refresh_commits: true,
            heartbeat,
            next_auto_commit: None,
            range_assignor: std::sync::Arc::new(assignor::RangeAssignor),
        }
    }

    /// The same consumer with `assignor` as the group protocol `range` when it leads its group
    /// (a graded exercise's [`PartitionAssignor`](assignor::PartitionAssignor); 0.9's
    /// RangeAssignor by default).
    pub fn with_range_assignor(
        mut self,
        assignor: std::sync::Arc<dyn assignor::PartitionAssignor>,
    ) -> Self {
        self.range_assignor = assignor;
        self
    }

    /// `subscribe(topics)`: the group will assign partitions of these topics.
    pub fn subscribe(&mut self, topics: &[&str]) {
        let mut t: Vec<String> = topics.iter().map(|s| s.to_string()).collect();
        t.sort();
        t.dedup();
        if t != self.subscription {
            self.subscription = t;
            self.rejoin_needed = true;
            self.metadata_stale = true;
        }
    }

    /// The partitions assigned in the current generation.
    pub fn assignment(&self) -> BTreeSet<TopicPartition> {
        self.assigned.clone()
    }

    /// The generation this member joined (−1 before the first join).
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// The member id the coordinator gave (empty before the first join).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The last committed offset this consumer knows for a partition.
    pub fn committed(&self, topic: &str, partition: i32) -> Option<i64> {
        self.committed.get(&(topic.to_string(), partition)).copied()
    }

    fn group_fields(&self) -> sim_core::trace::Fields {
        fields! { "group" => self.group.as_str(), "member" => self.member_id.as_str(), "generation" => self.generation }
    }

    fn trace(&self, kind: &str, extra: sim_core::trace::Fields) {
        let mut f = self.group_fields();
        f.extend(extra);
        self.ctx.trace(kind, None, f);
    }

    /// A connection to a broker for the coordinator's requests.
    async fn connect(&self, b: &BrokerEndPoint) -> Result<NetworkClient, NetworkError> {
        NetworkClient::connect(&self.ctx, b, &self.cfg.client_id, CONNECT_TIMEOUT).await
    }

    fn now_ms(&self) -> i64 {
        self.ctx.wall_ms()
    }

    fn coordinator_dead(&mut self, reason: &str) {
        if let Some((b, _)) = self.coordinator.take() {
            self.trace(
                kind::KAFKA_GROUP_COORDINATOR_DEAD,
                fields! { "coordinator" => b.id, "reason" => reason },
            );
        }
    }

    /// Brokers to ask about the coordinator: the known cluster, else the bootstrap list.
    fn any_broker(&mut self) -> Option<BrokerEndPoint> {
        let known: Vec<BrokerEndPoint> = if self.cluster.brokers.is_empty() {
            self.cfg
                .bootstrap_servers
                .iter()
                .map(|(h, p)| BrokerEndPoint { id: -1, host: h.clone(), port: *p })
                .collect()
        } else {
            self.cluster.brokers.values().cloned().collect()
        };
        if known.is_empty() {
            return None;
        }
        self.next_broker = self.next_broker.wrapping_add(1);
        known.get(self.next_broker % known.len()).cloned()
    }

    /// `ensureCoordinatorKnown`, bounded by `deadline`.
    async fn ensure_coordinator_known(&mut self, deadline: Instant) {
        while self.coordinator.is_none() {
            if let Some(b) = self.any_broker() {
                if let Ok(mut ch) = self.connect(&b).await {
                    let req = GroupRequest::GroupCoordinator { group_id: self.group.clone() };
                    if let Ok(GroupResponse::GroupCoordinator { error_code: error, coordinator }) =
                        ch.group_request(req, Duration::from_millis(self.cfg.request_timeout_ms))
                            .await
                    {
                        match (error, coordinator) {
                            (KafkaError::None, Some(c)) => {
                                let same = c.host == b.host && c.port == b.port;
                                let channel =
                                    if same { Some(ch) } else { self.connect(&c).await.ok() };
                                if let Some(channel) = channel {
                                    self.trace(kind::KAFKA_GROUP_COORDINATOR_FOUND, fields! { "coordinator" => c.id, "host" => c.host.as_str() });
                                    self.coordinator = Some((c, channel));
                                    if self.generation > 0 {
                                        self.heartbeat.last_reset = self.now_ms();
                                    }
                                    return;
                                }
                            }
                            (e, _) => self.trace(
                                kind::KAFKA_GROUP_COORDINATOR_LOOKUP_FAILED,
                                fields! { "error" => format!("{e:?}") },
                            ),
                        }
                    }
                }
            }
            if Instant::now() >= deadline {
                return;
            }
            let wait = Duration::from_millis(self.cfg.retry_backoff_ms.max(1)).min(
                deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)),
            );
            madsim::time::sleep(wait).await;
        }
    }

    async fn refresh_metadata(&mut self) {
        if self.subscription.is_empty() {
            return;
        }
        let mut servers: Vec<(String, u16)> =
            self.cluster.brokers.values().map(|b| (b.host.clone(), b.port)).collect();
        servers.extend(self.cfg.bootstrap_servers.iter().cloned());
        if let Some((cl, _)) =
            fetch_metadata(&self.ctx, &servers, &self.subscription, &self.cfg.client_id).await
        {
            self.cluster = cl;
            self.metadata_at = Some(Instant::now());
            self.metadata_stale = false;
            self.fetcher.set_brokers(self.cluster.brokers.clone());
            // Leaders may have moved.
            for ((t, p), (leader, _)) in self.fetcher.positions.iter_mut() {
                if let Some(l) = self.cluster.leaders.get(t).and_then(|m| m.get(p)) {
                    *leader = *l;
                }
            }
            // MetadataSnapshot: a subscribed topic's partition count changed → rebalance.
            if self.generation > 0 && !self.rejoin_needed {
                let now: BTreeMap<String, usize> = self
                    .subscription
                    .iter()
                    .map(|t| (t.clone(), self.cluster.leaders.get(t).map_or(0, BTreeMap::len)))
                    .collect();
                if now != self.snapshot {
                    self.rejoin_needed = true;
                    self.trace(
                        kind::KAFKA_GROUP_REJOIN,
                        fields! { "reason" => "metadata changed" },
                    );
                }
            }
        }
    }

    fn metadata_due(&self) -> bool {
        let missing = self
            .subscription
            .iter()
            .any(|t| self.cluster.leaders.get(t).is_none_or(BTreeMap::is_empty));
        let age = self.metadata_at.map(|t| Instant::now().duration_since(t));
        self.metadata_stale
            || age.is_none()
            || age.is_some_and(|a| a >= Duration::from_millis(self.cfg.metadata_max_age_ms))
            || (missing && age.is_some_and(|a| a >= Duration::from_millis(1000)))
    }

    /// `onJoinPrepare`: commit (auto-commit) and give the partitions up.
    async fn on_join_prepare(&mut self) {
        if self.cfg.enable_auto_commit && self.generation > 0 {
            self.next_auto_commit = None;
            let _ = self.commit_sync().await;
        }
        if !self.assigned.is_empty() {
            self.trace(
                kind::KAFKA_GROUP_REVOKED,
                fields! { "partitions" => tp_names(&self.assigned) },
            );
        }
        self.assigned.clear();
        self.fetcher.positions.clear();
    }

    /// `ensureActiveGroup`: (re)join until assigned, a fatal error, or (with no coordinator)
    /// the deadline.
    async fn ensure_active_group(&mut self, deadline: Instant) -> Result<(), ConsumerError> {
        if self.subscription.is_empty() || !self.rejoin_needed {
            return Ok(());
        }
        if self.group.is_empty() {
            return Err(ConsumerError::Fatal(
                "org.apache.kafka.common.errors.ApiException: The configured groupId is invalid"
                    .into(),
            ));
        }
        if self.needs_join_prepare {
            self.on_join_prepare().await;
            self.needs_join_prepare = false;
        }
        while self.rejoin_needed {
            self.ensure_coordinator_known(deadline).await;
            if self.coordinator.is_none() {
                return Ok(());
            }
            match self.perform_group_join().await {
                Ok(Some(assignment)) => {
                    self.on_join_complete(&assignment);
                    self.needs_join_prepare = true;
                    let now = self.now_ms();
                    self.heartbeat.last_reset = now;
                    self.heartbeat.last_send = now;
                }
                Ok(None) => {}
                Err(Ok(backoff)) => {
                    if Instant::now() >= deadline {
                        return Ok(());
                    }
                    if backoff {
                        madsim::time::sleep(Duration::from_millis(
                            self.cfg.retry_backoff_ms.max(1),
                        ))
                        .await;
                    }
                }
                Err(Err(e)) => return Err(e),
            }
        }
        Ok(())
    }

    /// One JoinGroup + SyncGroup round. `Ok(Some(assignment))` on success; `Err(Ok(backoff))`
    /// to retry (after `retry.backoff.ms` if `backoff`); `Err(Err(e))` for a fatal error.
    async fn perform_group_join(&mut self) -> Result<Option<Vec<u8>>, Result<bool, ConsumerError>> {
        let timeout = Duration::from_millis(self.cfg.request_timeout_ms);
        let subscription = ConsumerProtocol::serialize_subscription(&self.subscription);
        let req = GroupRequest::JoinGroup {
            group_id: self.group.clone(),
            session_timeout_ms: self.cfg.session_timeout_ms,
            member_id: self.member_id.clone(),
            protocol_type: PROTOCOL_TYPE.into(),
            group_protocols: self
                .cfg
                .assignors
                .iter()
                .map(|a| GroupProtocol {
                    protocol_name: a.clone(),
                    protocol_metadata: subscription.clone(),
                })
                .collect(),
        };
        let Some((_, ch)) = self.coordinator.as_mut() else { return Err(Ok(true)) };
        let Some(resp) = ch.group_request(req, timeout).await.ok() else {
            self.coordinator_dead("join group: no answer");
            return Err(Ok(true));
        };
        let GroupResponse::JoinGroup {
            error_code: error,
            generation_id,
            protocol,
            leader_id,
            member_id,
            members,
        } = resp
        else {
            return Err(Ok(true));
        };
        match error {
            KafkaError::None => {}
            KafkaError::GroupLoadInProgress => return Err(Ok(true)),
            KafkaError::UnknownMemberId => {
                self.member_id.clear();
                return Err(Ok(false));
            }
            KafkaError::GroupCoordinatorNotAvailable | KafkaError::NotCoordinatorForGroup => {
                self.coordinator_dead("join group: not coordinator");
                return Err(Ok(true));
            }
            KafkaError::InconsistentGroupProtocol | KafkaError::InvalidSessionTimeout | KafkaError::InvalidGroupId => {
                let e = ConsumerError::Fatal(format!("{}: {}", error.exception(), super::coordinator::protocol::error_message(error)));
                return Err(Err(e));
            }
            other => return Err(Err(ConsumerError::Fatal(format!("org.apache.kafka.common.KafkaException: Unexpected error in join group response: {other:?}")))),
        }
        self.member_id = member_id;
        self.generation = generation_id;
        self.rejoin_needed = false;
        let is_leader = leader_id == self.member_id;
        self.trace(kind::KAFKA_GROUP_JOIN, fields! { "leader" => leader_id.as_str(), "is_leader" => is_leader, "protocol" => protocol.as_str() });
        let assignments = if is_leader {
            match self.perform_assignment(&protocol, &members).await {
                Ok(a) => a,
                Err(e) => return Err(Err(e)),
            }
        } else {
            Vec::new()
        };
        let req = GroupRequest::SyncGroup {
            group_id: self.group.clone(),
            generation_id,
            member_id: self.member_id.clone(),
            group_assignment: assignments
                .into_iter()
                .map(|(member_id, member_assignment)| SyncGroupAssignment {
                    member_id,
                    member_assignment,
                })
                .collect(),
        };
        let Some((_, ch)) = self.coordinator.as_mut() else {
            self.rejoin_needed = true;
            return Err(Ok(true));
        };
        let Some(GroupResponse::SyncGroup { error_code: error, assignment }) =
            ch.group_request(req, timeout).await.ok()
        else {
            self.rejoin_needed = true;
            self.coordinator_dead("sync group: no answer");
            return Err(Ok(true));
        };
        if error == KafkaError::None {
            return Ok(Some(assignment));
        }
        self.rejoin_needed = true;
        self.trace(
            kind::KAFKA_GROUP_REJOIN,
            fields! { "reason" => format!("sync group: {error:?}") },
        );
        match error {
            KafkaError::RebalanceInProgress => Err(Ok(false)),
            KafkaError::UnknownMemberId | KafkaError::IllegalGeneration => {
                self.member_id.clear();
                Err(Ok(false))
            }
            KafkaError::GroupCoordinatorNotAvailable | KafkaError::NotCoordinatorForGroup => {
                self.coordinator_dead("sync group: not coordinator");
                Err(Ok(true))
            }
            _ => Err(Ok(true)),
        }
    }

    /// `performAssignment` (the leader): the chosen assignor over every member's subscription
    /// and fresh metadata of all their topics.
    async fn perform_assignment(
        &mut self,
        protocol: &str,
        members: &[JoinGroupMember],
    ) -> Result<Vec<(String, Vec<u8>)>, ConsumerError> {
        let Some(mut assignor) = assignor::assignor_named(protocol)
            .filter(|_| self.cfg.assignors.iter().any(|a| a == protocol))
        else {
            return Err(ConsumerError::Fatal(format!("java.lang.IllegalStateException: Coordinator selected invalid assignment protocol: {protocol}")));
        };
        // `range` is a plug-in point (crate::hooks): RangeAssignor unless a grader gave another.
        if protocol == "range" {
            assignor = Box::new(HookedAssignor(self.range_assignor.clone()));
        }
        let mut subscriptions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in members {
            subscriptions.insert(
                m.member_id.clone(),
                ConsumerProtocol::deserialize_subscription(&m.member_metadata).unwrap_or_default(),
            );
        }
        let topics: BTreeSet<String> = subscriptions.values().flatten().cloned().collect();
        let topics: Vec<String> = topics.into_iter().collect();
        let mut servers: Vec<(String, u16)> =
            self.cluster.brokers.values().map(|b| (b.host.clone(), b.port)).collect();
        servers.extend(self.cfg.bootstrap_servers.iter().cloned());
        let mut counts: BTreeMap<String, i32> = BTreeMap::new();
        if let Some((cl, _)) =
            fetch_metadata(&self.ctx, &servers, &topics, &self.cfg.client_id).await
        {
            for (t, ps) in &cl.leaders {
                if !ps.is_empty() {
                    counts.insert(t.clone(), ps.len() as i32);
                }
            }
            self.cluster.brokers = cl.brokers.clone();
            for (t, ps) in cl.leaders {
                self.cluster.leaders.insert(t, ps);
            }
            self.fetcher.set_brokers(self.cluster.brokers.clone());
            self.metadata_at = Some(Instant::now());
        }
        let raw = assignor.assign(&counts, &subscriptions);
        let summary: Vec<String> = raw
            .iter()
            .map(|(m, ps)| {
                format!(
                    "{m}={}",
                    ps.iter().map(|(t, p)| format!("{t}-{p}")).collect::<Vec<_>>().join(",")
                )
            })
            .collect();
        self.trace(
            kind::KAFKA_GROUP_ASSIGNMENT_COMPUTED,
            fields! { "assignor" => assignor.name(), "assignment" => summary },
        );
        Ok(raw
            .into_iter()
            .map(|(m, ps)| (m, ConsumerProtocol::serialize_assignment(&ps)))
            .collect())
    }

    /// `onJoinComplete`: take the assignment; committed offsets will be fetched.
    fn on_join_complete(&mut self, assignment: &[u8]) {
        self.assigned = ConsumerProtocol::deserialize_assignment(assignment)
            .unwrap_or_default()
            .into_iter()
            .collect();
        self.fetcher.positions.retain(|k, _| self.assigned.contains(k));
        self.committed.clear();
        self.need_refresh_commits = true;
        self.snapshot = self
            .subscription
            .iter()
            .map(|t| (t.clone(), self.cluster.leaders.get(t).map_or(0, BTreeMap::len)))
            .collect();
        self.trace(
            kind::KAFKA_GROUP_ASSIGNED,
            fields! { "partitions" => tp_names(&self.assigned) },
        );
        if self.cfg.enable_auto_commit {
            self.next_auto_commit =
                Some(Instant::now() + Duration::from_millis(self.cfg.auto_commit_interval_ms));
        }
    }

    /// `updateFetchPositions`: committed offsets first, `auto.offset.reset` for the rest.
    async fn update_fetch_positions(&mut self) -> Result<(), ConsumerError> {
        let missing: Vec<TopicPartition> = self
            .assigned
            .iter()
            .filter(|tp| !self.fetcher.positions.contains_key(*tp))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if self.need_refresh_commits {
            let req = GroupRequest::OffsetFetch {
                group_id: self.group.clone(),
                topics: self
                    .assigned
                    .iter()
                    .map(|(t, p)| TopicAndPartition::new(t.clone(), *p))
                    .collect(),
            };
            let Some((_, ch)) = self.coordinator.as_mut() else { return Ok(()) };
            match ch
                .group_request(req, Duration::from_millis(self.cfg.request_timeout_ms))
                .await
                .ok()
            {
                Some(GroupResponse::OffsetFetch(v)) => {
                    if let Some(e) = v.iter().map(|r| r.error_code).find(|e| *e != KafkaError::None)
                    {
                        if matches!(
                            e,
                            KafkaError::NotCoordinatorForGroup
                                | KafkaError::GroupCoordinatorNotAvailable
                        ) {
                            self.coordinator_dead("offset fetch: not coordinator");
                        }
                        return Ok(());
                    }
                    for r in v {
                        if r.offset >= 0 {
                            self.committed.insert((r.topic, r.partition), r.offset);
                        }
                    }
                    self.need_refresh_commits = false;
                }
                _ => {
                    self.coordinator_dead("offset fetch: no answer");
                    return Ok(());
                }
            }
        }
        if missing
            .iter()
            .any(|(t, p)| self.cluster.leaders.get(t).and_then(|m| m.get(p)).is_none_or(|l| *l < 0))
        {
            self.refresh_metadata().await;
        }
        for (t, p) in missing {
            let Some(&leader) =
                self.cluster.leaders.get(&t).and_then(|m| m.get(&p)).filter(|l| **l >= 0)
            else {
                self.metadata_stale = true;
                continue;
            };
            let (offset, from) = match self.committed.get(&(t.clone(), p)) {
                Some(o) => (Some(*o), "committed"),
                None => match self.cfg.auto_offset_reset {
                    AutoOffsetReset::Earliest => (
                        self.fetcher.list_offset(leader, &t, p, OffsetReset::Earliest).await,
                        "earliest",
                    ),
                    AutoOffsetReset::Latest => (
                        self.fetcher.list_offset(leader, &t, p, OffsetReset::Latest).await,
                        "latest",
                    ),
                    AutoOffsetReset::None => return Err(ConsumerError::NoOffsetForPartition(t, p)),
                },
            };
            match offset {
                Some(o) => {
                    self.trace(kind::KAFKA_CONSUMER_POSITION, fields! { "topic" => t.as_str(), "partition" => p, "offset" => o, "from" => from });
                    self.fetcher.positions.insert((t, p), (leader, o));
                }
                None => self.metadata_stale = true,
            }
        }
        Ok(())
    }

    /// The heartbeat task: one heartbeat when due; its answer may ask for a rejoin.
    async fn maybe_heartbeat(&mut self) {
        if self.generation <= 0 || self.rejoin_needed || self.coordinator.is_none() {
            return;
        }
        let now = self.now_ms();
        if self.heartbeat.session_expired(now) {
            self.coordinator_dead("no heartbeat answer for a session");
            return;
        }
        if self.heartbeat.time_to_next(now) > 0 {
            return;
        }
        self.heartbeat.last_send = now;
        let req = GroupRequest::Heartbeat {
            group_id: self.group.clone(),
            generation_id: self.generation,
            member_id: self.member_id.clone(),
        };
        let wait = self.coordinator_wait();
        let Some((_, ch)) = self.coordinator.as_mut() else { return };
        let answer = ch.group_request(req, wait).await.ok();
        match answer {
            Some(GroupResponse::Heartbeat(KafkaError::None)) => {
                self.heartbeat.last_receive = self.now_ms()
            }
            Some(GroupResponse::Heartbeat(
                e @ (KafkaError::RebalanceInProgress | KafkaError::IllegalGeneration),
            )) => {
                self.rejoin_needed = true;
                self.trace(
                    kind::KAFKA_GROUP_REJOIN,
                    fields! { "reason" => format!("heartbeat: {e:?}") },
                );
            }
            Some(GroupResponse::Heartbeat(KafkaError::UnknownMemberId)) => {
                self.trace(
                    kind::KAFKA_GROUP_REJOIN,
                    fields! { "reason" => "heartbeat: UnknownMemberId" },
                );
                self.member_id.clear();
                self.rejoin_needed = true;
            }
            Some(GroupResponse::Heartbeat(
                KafkaError::NotCoordinatorForGroup | KafkaError::GroupCoordinatorNotAvailable,
            )) => {
                self.coordinator_dead("heartbeat: not coordinator");
            }
            Some(_) => {}
            None => self.coordinator_dead("heartbeat: no answer"),
        }
    }

    /// How long to wait for a heartbeat or commit answer. 0.9 sends them without blocking,
    /// keeps fetching, and gives the coordinator up when a session passes without a heartbeat
    /// answer; this client waits for each answer, so it waits no longer than the session left.
    fn coordinator_wait(&self) -> Duration {
        let now = self.now_ms();
        let left = self.heartbeat.timeout
            - (now - self.heartbeat.last_reset.max(self.heartbeat.last_receive));
        Duration::from_millis((left.max(1) as u64).min(self.cfg.request_timeout_ms))
    }

    /// Current positions of the assigned partitions (`subscriptions.allConsumed()`).
    fn all_consumed(&self) -> Vec<(String, i32, i64, String)> {
        self.fetcher
            .positions
            .iter()
            .filter(|(k, _)| self.assigned.contains(*k))
            .map(|((t, p), (_, o))| (t.clone(), *p, *o, String::new()))
            .collect()
    }

    /// One OffsetCommit. `Ok(())`, `Err(Ok(()))` to retry, `Err(Err(e))` not to.
    async fn send_commit(
        &mut self,
        offsets: &[(String, i32, i64, String)],
    ) -> Result<(), Result<(), ConsumerError>> {
        if offsets.is_empty() {
            return Ok(());
        }
        let req = GroupRequest::OffsetCommit {
            group_id: self.group.clone(),
            generation_id: self.generation,
            member_id: self.member_id.clone(),
            retention_time_ms: -1,
            topics: offsets
                .iter()
                .map(|(t, p, o, m)| OffsetCommitPartition {
                    topic: t.clone(),
                    partition: *p,
                    offset: *o,
                    metadata: m.clone(),
                })
                .collect(),
        };
        let wait = self.coordinator_wait();
        let Some((_, ch)) = self.coordinator.as_mut() else { return Err(Ok(())) };
        let Some(GroupResponse::OffsetCommit(results)) = ch.group_request(req, wait).await.ok()
        else {
            self.coordinator_dead("offset commit: no answer");
            return Err(Ok(()));
        };
        let error = results
            .iter()
            .map(|r| r.error_code)
            .find(|e| *e != KafkaError::None)
            .unwrap_or(KafkaError::None);
        match error {
            KafkaError::None => {
                for (t, p, o, _) in offsets {
                    if self.assigned.contains(&(t.clone(), *p)) {
                        self.committed.insert((t.clone(), *p), *o);
                    }
                }
                let list: Vec<(String, i32, i64)> =
                    offsets.iter().map(|(t, p, o, _)| (t.clone(), *p, *o)).collect();
                self.trace(kind::KAFKA_GROUP_COMMITTED, fields! { "offsets" => list });
                Ok(())
            }
            KafkaError::GroupLoadInProgress => Err(Ok(())),
            KafkaError::GroupCoordinatorNotAvailable
            | KafkaError::NotCoordinatorForGroup
            | KafkaError::RequestTimedOut => {
                self.coordinator_dead("offset commit: not coordinator");
                Err(Ok(()))
            }
            KafkaError::UnknownMemberId
            | KafkaError::IllegalGeneration
            | KafkaError::RebalanceInProgress => {
                self.rejoin_needed = true;
                self.trace(
                    kind::KAFKA_GROUP_REJOIN,
                    fields! { "reason" => format!("offset commit: {error:?}") },
                );
                Err(Err(ConsumerError::CommitFailed))
            }
            other => Err(Err(ConsumerError::Fatal(format!(
                "org.apache.kafka.common.KafkaException: Unexpected error in commit: {}",
                other.exception()
            )))),
        }
    }

    /// `commitSync()`: commits the current positions, retrying retriable errors (up to
    /// `request.timeout.ms`).
    pub async fn commit_sync(&mut self) -> Result<(), ConsumerError> {
        let offsets = self.all_consumed();
        if offsets.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_millis(self.cfg.request_timeout_ms);
        loop {
            self.ensure_coordinator_known(deadline).await;
            match self.send_commit(&offsets).await {
                Ok(()) => return Ok(()),
                Err(Err(e)) => return Err(e),
                Err(Ok(())) => {
                    if Instant::now() >= deadline {
                        return Err(ConsumerError::Timeout);
                    }
                    madsim::time::sleep(Duration::from_millis(self.cfg.retry_backoff_ms.max(1)))
                        .await;
                }
            }
        }
    }

    /// `commitAsync()`: one attempt, no retries; the result is what the callback would get.
    pub async fn commit_async(&mut self) -> Result<(), ConsumerError> {
        let offsets = self.all_consumed();
        match self.send_commit(&offsets).await {
            Ok(()) => Ok(()),
            Err(Err(e)) => Err(e),
            Err(Ok(())) => Err(ConsumerError::Fatal(
                "org.apache.kafka.clients.consumer.internals.SendFailedException".into(),
            )),
        }
    }

    /// The auto-commit task: every `auto.commit.interval.ms`, an async commit.
    async fn maybe_auto_commit(&mut self) {
        let Some(at) = self.next_auto_commit else { return };
        if Instant::now() < at || self.rejoin_needed || self.generation <= 0 {
            return;
        }
        if self.coordinator.is_none() {
            self.next_auto_commit =
                Some(Instant::now() + Duration::from_millis(self.cfg.retry_backoff_ms.max(1)));
            return;
        }
        let _ = self.commit_async().await;
        self.next_auto_commit =
            Some(Instant::now() + Duration::from_millis(self.cfg.auto_commit_interval_ms));
    }

    /// `position(tp)`: the offset of the next record to fetch.
    pub async fn position(
        &mut self,
        topic: &str,
        partition: i32,
    ) -> Result<Option<i64>, ConsumerError> {
        let key = (topic.to_string(), partition);
        if !self.assigned.contains(&key) {
            return Ok(None);
        }
        self.update_fetch_positions().await?;
        Ok(self.fetcher.positions.get(&key).map(|(_, o)| *o))
    }

    /// Reacts to failed fetches: metadata refresh for lost leaders, `auto.offset.reset` for
    /// offsets out of range.
    async fn handle_fetch_errors(&mut self) -> Result<(), ConsumerError> {
        let errors = std::mem::take(&mut self.fetcher.errors);
        for ((t, p), e) in errors {
            if e == KafkaError::OffsetOutOfRange {
                let Some(&(leader, old)) = self.fetcher.positions.get(&(t.clone(), p)) else {
                    continue;
                };
                let reset = match self.cfg.auto_offset_reset {
                    AutoOffsetReset::Earliest => OffsetReset::Earliest,
                    AutoOffsetReset::Latest => OffsetReset::Latest,
                    AutoOffsetReset::None => {
                        return Err(ConsumerError::OffsetOutOfRange(t, p, old))
                    }
                };
                if let Some(o) = self.fetcher.list_offset(leader, &t, p, reset).await {
                    self.trace(kind::KAFKA_CONSUMER_POSITION, fields! { "topic" => t.as_str(), "partition" => p, "offset" => o, "from" => "offset out of range" });
                    self.fetcher.positions.insert((t, p), (leader, o));
                }
            } else {
                self.metadata_stale = true;
            }
        }
        Ok(())
    }

    /// `poll(timeout)`: group work, then records from the assigned partitions (empty if none
    /// arrived within `timeout_ms` of virtual time).
    pub async fn poll(&mut self, timeout_ms: u64) -> Result<Vec<ConsumerRecord>, ConsumerError> {
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        loop {
            if self.metadata_due() {
                self.refresh_metadata().await;
            }
            // KafkaConsumer.pollOnce: the coordinator first, whatever else is going on.
            if !self.subscription.is_empty() && !self.group.is_empty() {
                self.ensure_coordinator_known(deadline).await;
            }
            self.ensure_active_group(deadline).await?;
            if !self.rejoin_needed {
                self.update_fetch_positions().await?;
            }
            self.maybe_heartbeat().await;
            self.maybe_auto_commit().await;
            let now = Instant::now();
            let left = deadline.saturating_duration_since(now);
            let mut wait = left.min(Duration::from_millis(self.cfg.fetch_max_wait_ms));
            if self.generation > 0 && !self.rejoin_needed {
                wait = wait.min(Duration::from_millis(
                    self.heartbeat.time_to_next(self.now_ms()).max(0) as u64,
                ));
            }
            let records = if self.rejoin_needed && self.coordinator.is_some() {
                Vec::new()
            } else {
                self.fetcher.poll(wait.as_millis() as i32).await
            };
            self.handle_fetch_errors().await?;
            if !records.is_empty() || Instant::now() >= deadline {
                return Ok(records);
            }
        }
    }

    /// `close()`: a last commit (auto-commit) and LeaveGroup, so the group rebalances at once
    /// instead of after a session timeout.
    pub async fn close(mut self) {
        if self.cfg.enable_auto_commit && self.generation > 0 && !self.rejoin_needed {
            let _ = self.commit_sync().await;
        }
        if self.generation > 0 {
            let req = GroupRequest::LeaveGroup {
                group_id: self.group.clone(),
                member_id: self.member_id.clone(),
            };
            if let Some((_, ch)) = self.coordinator.as_mut() {
                let answer = ch.group_request(req, Duration::from_millis(1000)).await.ok();
                let error = match answer {
                    Some(GroupResponse::LeaveGroup(e)) => format!("{e:?}"),
                    _ => "no answer".into(),
                };
                self.trace(kind::KAFKA_GROUP_LEAVE, fields! { "error" => error });
            }
        }
        self.generation = -1;
        self.member_id.clear();
    }
}

/// The formatter class that prints `__consumer_offsets` commits.
const OFFSETS_FORMATTER: &str = "kafka.coordinator.GroupMetadataManager$OffsetsMessageFormatter";

/// Virtual time the console consumer waits for its first assignment before it gives up (the
/// learner's Ctrl-C; 0.9 would wait forever).
const CONSOLE_JOIN_LIMIT: Duration = Duration::from_secs(60);

/// `kafka-console-consumer.sh --new-consumer --bootstrap-server …` (0.9 `NewShinyConsumer`):
/// joins the group from `--consumer.config`'s `group.id`, or a made-up
/// `console-consumer-<0..99999>`, and prints values until `--max-messages`, or until no record
/// came for `--timeout-ms` (1 s of virtual time by default, standing in for Ctrl-C) after it got
/// its partitions. `auto.offset.reset` is `earliest` with `--from-beginning`, else `latest`
/// (the tool overrides the config file, as 0.9 does).
///
/// In the background (`&`) without `--timeout-ms` it runs until killed. SIGTERM/SIGINT
/// (`kill %1`) run the shutdown hook: the loop stops, `KafkaConsumer.close` commits (auto-commit)
/// and leaves the group, the count is printed, and the JVM exits with 128 + n. The signal is
/// noticed between polls (0.9's `wakeup()` would also cut a blocked poll short); `kill -9` stays
/// abrupt.
pub async fn console_consumer(
    ctx: &ProcCtx,
    opts: &super::admin::ConsoleConsumerOptions,
    topic: &str,
    term: &sim_core::term::Term,
    background: bool,
    range_assignor: &std::sync::Arc<dyn assignor::PartitionAssignor>,
) -> i32 {
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    if let Some(file) = &opts.consumer_config {
        let Some(bytes) = ctx.disk().peek(file) else {
            term.err(&format!("Exception in thread \"main\" java.io.FileNotFoundException: {file} (No such file or directory)"));
            return 1;
        };
        props = super::config::parse_properties(&String::from_utf8_lossy(&bytes));
    }
    if let Some(g) = &opts.group {
        props.insert("group.id".into(), g.clone());
    }
    if !props.contains_key("group.id") {
        let n = madsim::rand::Rng::gen_range(&mut madsim::rand::thread_rng(), 0..100_000);
        props.insert("group.id".into(), format!("console-consumer-{n}"));
    }
    props.insert(
        "auto.offset.reset".into(),
        if opts.from_beginning { "earliest" } else { "latest" }.into(),
    );
    props.insert("bootstrap.servers".into(), opts.bootstrap_server.clone().unwrap_or_default());
    let cfg = match ConsumerConfig::from_properties(&props) {
        Ok(c) => c,
        Err(e) => {
            term.err(&format!("Exception in thread \"main\" {}", e.java_line()));
            return 1;
        }
    };
    let mut consumer = KafkaConsumer::new(ctx, cfg).with_range_assignor(range_assignor.clone());
    consumer.subscribe(&[topic]);
    // addShutdownHook
    let mut signals = ctx.signals();
    let mut signalled: Option<sim_core::world::Signal> = None;
    // Without --timeout-ms, only the foreground run has the idle second standing in for Ctrl-C.
    let endless = background && opts.timeout_ms.is_none();
    let idle = Duration::from_millis(opts.timeout_ms.unwrap_or(1000).max(0) as u64);
    let started = Instant::now();
    let mut last: Option<Instant> = None;
    let mut count = 0u64;
    let offsets_formatter =
        opts.formatter.as_deref().is_some_and(|f| f.replace('\\', "") == OFFSETS_FORMATTER);
    let log_time = || sim_core::jvm::log_time(ctx.wall_ms());
    'outer: loop {
        if let Ok(sig) = signals.try_recv() {
            signalled = Some(sig);
            break;
        }
        let batch = match consumer.poll(100).await {
            Ok(b) => b,
            // NewShinyConsumer's constructor polls until the group is joined: an error there
            // escapes ConsoleConsumer.run, and main logs it and exits 1 without a count.
            Err(e) if last.is_none() => {
                term.err(&format!("[{}] ERROR Unknown error when running consumer:  (kafka.tools.ConsoleConsumer$)", log_time()));
                term.err(&e.java_line());
                return 1;
            }
            Err(e) => {
                term.err(&format!("[{}] ERROR Error processing message, terminating consumer process:  (kafka.tools.ConsoleConsumer$)", log_time()));
                term.err(&e.java_line());
                break;
            }
        };
        if consumer.generation() > 0 && last.is_none() {
            last = Some(Instant::now());
        }
        if !batch.is_empty() {
            last = Some(Instant::now());
        }
        for r in batch {
            // Every record counts, printed or not (a formatter may print nothing for it).
            count += 1;
            let line = if offsets_formatter {
                super::coordinator::offsets::format_offsets_message(
                    r.key.as_deref(),
                    r.value.as_deref(),
                )
            } else {
                let value = r
                    .value
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_else(|| "null".into());
                Some(if opts.print_key() {
                    let key = r
                        .key
                        .as_deref()
                        .map(String::from_utf8_lossy)
                        .unwrap_or_else(|| "null".into());
                    format!("{key}\t{value}")
                } else {
                    value.into_owned()
                })
            };
            if let Some(line) = line {
                term.out(&line);
            }
            if opts.max_messages.is_some_and(|m| count >= m.max(0) as u64) {
                break 'outer;
            }
        }
        let now = Instant::now();
        if endless {
            continue;
        }
        match last {
            Some(t) if now.duration_since(t) >= idle => {
                if opts.timeout_ms.is_some() {
                    // NewShinyConsumer.receive throws; ConsoleConsumer.process logs it.
                    term.err(&format!("[{}] ERROR Error processing message, terminating consumer process:  (kafka.tools.ConsoleConsumer$)", log_time()));
                    term.err("kafka.consumer.ConsumerTimeoutException");
                }
                break;
            }
            None if now.duration_since(started) >= CONSOLE_JOIN_LIMIT.max(idle) => break,
            _ => {}
        }
    }
    consumer.close().await;
    term.err(&format!("Processed a total of {count} messages"));
    signalled.map_or(0, |s| 128 + s.number())
}

/// The world's `range` assignor behind the `Box<dyn PartitionAssignor>` the leader uses.
struct HookedAssignor(std::sync::Arc<dyn assignor::PartitionAssignor>);

impl assignor::PartitionAssignor for HookedAssignor {
    fn name(&self) -> &'static str {
        "range"
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, Vec<assignor::TopicPartition>> {
        self.0.assign(partitions_per_topic, subscriptions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(v: &[(&str, &str)]) -> BTreeMap<String, String> {
        v.iter().map(|(k, x)| (k.to_string(), x.to_string())).collect()
    }

    #[test]
    fn config_has_0_9_defaults_and_wording() {
        let c = ConsumerConfig::from_properties(&props(&[
            ("bootstrap.servers", "master:9092, slave1:9092"),
            ("group.id", "g"),
        ]))
        .expect("valid");
        assert_eq!(
            c.bootstrap_servers,
            vec![("master".to_string(), 9092), ("slave1".to_string(), 9092)]
        );
        assert_eq!(
            (c.session_timeout_ms, c.heartbeat_interval_ms, c.auto_commit_interval_ms),
            (30_000, 3000, 5000)
        );
        assert!(c.enable_auto_commit);
        assert_eq!(c.auto_offset_reset, AutoOffsetReset::Latest);
        assert_eq!(c.assignors, vec!["range".to_string()]);
        assert_eq!(c.client_id, "consumer-1");
        let c = ConsumerConfig::from_properties(&props(&[
            ("bootstrap.servers", "m:1"),
            ("partition.assignment.strategy", "org.apache.kafka.clients.consumer.RoundRobinAssignor,org.apache.kafka.clients.consumer.RangeAssignor"),
            ("auto.offset.reset", "none"),
        ]))
        .expect("valid");
        assert_eq!(c.assignors, vec!["roundrobin".to_string(), "range".to_string()]);
        assert_eq!(c.auto_offset_reset, AutoOffsetReset::None);
        assert_eq!(c.group_id, None);
        let e = |v: &[(&str, &str)]| {
            ConsumerConfig::from_properties(&props(v)).unwrap_err().java_line()
        };
        assert_eq!(e(&[]), "org.apache.kafka.common.config.ConfigException: Missing required configuration \"bootstrap.servers\" which has no default value.");
        assert_eq!(
            e(&[("bootstrap.servers", "m:1"), ("auto.offset.reset", "smallest")]),
            "org.apache.kafka.common.config.ConfigException: Invalid value smallest for configuration auto.offset.reset: String must be one of: latest, earliest, none"
        );
        assert_eq!(
            e(&[("bootstrap.servers", "m:1"), ("session.timeout.ms", "abc")]),
            "org.apache.kafka.common.config.ConfigException: Invalid value abc for configuration session.timeout.ms: Not a number of type INT"
        );
        assert_eq!(
            e(&[("bootstrap.servers", "m:1"), ("enable.auto.commit", "yes")]),
            "org.apache.kafka.common.config.ConfigException: Invalid value yes for configuration enable.auto.commit: Expected value to be either true or false"
        );
        assert!(e(&[
            ("bootstrap.servers", "m:1"),
            ("partition.assignment.strategy", "com.Sticky")
        ])
        .ends_with("Class com.Sticky could not be found."));
        assert!(e(&[("bootstrap.servers", "nohostport")])
            .contains("Invalid url in bootstrap.servers: nohostport"));
        assert!(e(&[("bootstrap.servers", "m:1"), ("session.timeout.ms", "50000")])
            .contains("request.timeout.ms should be greater than session.timeout.ms"));
        assert_eq!(
            ConsumerError::NoOffsetForPartition("t".into(), 3).to_string(),
            "Undefined offset with no reset policy for partition: t-3"
        );
    }

    #[test]
    fn heartbeats_are_due_every_interval_and_sessions_expire() {
        let mut h = Heartbeat {
            timeout: 30_000,
            interval: 3000,
            last_send: 0,
            last_receive: 0,
            last_reset: 1000,
        };
        assert_eq!(h.time_to_next(1000), 3000);
        assert_eq!(h.time_to_next(4001), 0);
        h.last_send = 4001;
        assert_eq!(h.time_to_next(5001), 2000);
        assert!(!h.session_expired(31_000));
        assert!(h.session_expired(31_001));
        h.last_receive = 30_000;
        assert!(!h.session_expired(31_001));
    }
}
