//! `GroupCoordinator` (Kafka 0.9, `kafka.coordinator`): consumer group membership and
//! committed offsets, run by every broker for the groups whose `__consumer_offsets` partition
//! it leads.
//!
//! - Which broker: the leader of partition `abs(groupId.hashCode) % 50` ([`offsets::partition_for`]).
//!   The first GroupCoordinator request of a cluster creates `__consumer_offsets`
//!   ([`offsets::create_offsets_topic`]) and is answered `GROUP_COORDINATOR_NOT_AVAILABLE` until
//!   that partition has a leader.
//! - Taking over: when a LeaderAndIsr makes this broker leader of a `__consumer_offsets`
//!   partition, the coordinator reads the partition's log up to the high watermark
//!   (`loadGroupsForPartition`) and answers `GROUP_LOAD_IN_PROGRESS` meanwhile; a loaded group is
//!   Stable with the members and generation of its last record, and each member gets a fresh
//!   session. Becoming a follower drops the partition's groups and offsets
//!   (`removeGroupsForPartition`); parked requests get `NOT_COORDINATOR_FOR_GROUP`.
//! - Membership ([`group_metadata`]): JoinGroup parks until every known member has rejoined or
//!   the rebalance timeout (the largest session timeout) passes; members that did not rejoin are
//!   removed. The first member to join leads and runs the assignor; its SyncGroup is stored in
//!   the log (acks = all) before anyone gets an assignment. A member whose heartbeats stop for
//!   `session.timeout.ms` is removed by a timer in virtual time (`DelayedHeartbeat`), which starts
//!   a rebalance.
//! - Offsets: a commit from the current generation is appended to the log with acks = all
//!   (`offsets.commit.required.acks = -1`, `offsets.commit.timeout.ms = 5000`) and cached once
//!   replicated; fetches read the cache.
//!
//! Simplifications: offsets never expire (0.9 deletes them a day after their commit); a
//! LeaderAndIsr for a partition this broker already leads does not reload it; a group's
//! tombstone is appended with acks = 0 (0.9 appends it to the leader without waiting, too).

pub mod assignor;
pub mod codec;
pub mod group_metadata;
pub mod offsets;
pub mod protocol;

use super::config::KafkaConfig;
use super::log::{encode_message_set, Record};
use super::proto::{KafkaError, ProducePartitionData, Response, TopicAndPartition};
use super::replica_manager::ReplicaManager;
use crate::errors::BrokerEndPoint;
use futures::channel::oneshot;
use group_metadata::{GroupMetadata, GroupState, MemberMetadata};
use offsets::{OffsetAndMetadata, GROUP_METADATA_TOPIC_NAME as OFFSETS_TOPIC};
use protocol::{
    GroupDescription, GroupRequest, GroupResponse, ListedGroup, OffsetCommitPartition,
    OffsetCommitPartitionResponse, OffsetFetchPartitionResponse,
};
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A random UUID (`UUID.randomUUID().toString()`), drawn from the simulation's RNG.
pub fn random_uuid() -> String {
    let mut b: [u8; 16] = madsim::rand::Rng::gen(&mut madsim::rand::thread_rng());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn join_error(member_id: &str, error: KafkaError) -> GroupResponse {
    GroupResponse::JoinGroup {
        error_code: error,
        generation_id: 0,
        protocol: String::new(),
        leader_id: String::new(),
        member_id: member_id.into(),
        members: Vec::new(),
    }
}

fn sync_error(error: KafkaError) -> GroupResponse {
    GroupResponse::SyncGroup { error_code: error, assignment: Vec::new() }
}

/// What a log append error means to a group store (`prepareStoreGroup`'s mapping).
fn store_group_error(e: KafkaError) -> KafkaError {
    match e {
        KafkaError::UnknownTopicOrPartition => KafkaError::GroupCoordinatorNotAvailable,
        KafkaError::NotLeaderForPartition => KafkaError::NotCoordinatorForGroup,
        KafkaError::RequestTimedOut => KafkaError::RebalanceInProgress,
        KafkaError::MessageTooLarge => KafkaError::Unknown,
        other => other,
    }
}

/// What a log append error means to an offset commit (`prepareStoreOffsets`'s mapping).
fn store_offsets_error(e: KafkaError) -> KafkaError {
    match e {
        KafkaError::UnknownTopicOrPartition => KafkaError::GroupCoordinatorNotAvailable,
        KafkaError::NotLeaderForPartition => KafkaError::NotCoordinatorForGroup,
        KafkaError::MessageTooLarge => KafkaError::Unknown,
        other => other,
    }
}

/// The coordinator's caches (`GroupMetadataManager`'s `groupsCache`, `offsetsCache`,
/// `ownedPartitions`, `loadingPartitions`).
#[derive(Default)]
struct State {
    groups: BTreeMap<String, GroupMetadata>,
    offsets: BTreeMap<(String, String, i32), OffsetAndMetadata>,
    owned: BTreeSet<i32>,
    loading: BTreeSet<i32>,
    next_rebalance_id: u64,
}

/// A group store waiting for its log append (the leader's SyncGroup).
struct PendingStore {
    generation: i32,
    record: Record,
}

/// The broker's group coordinator.
pub struct GroupCoordinator {
    ctx: ProcCtx,
    cfg: Arc<KafkaConfig>,
    rm: Arc<ReplicaManager>,
    state: Mutex<State>,
}

impl GroupCoordinator {
    /// A coordinator owning no partitions yet (`GroupCoordinator.startup`).
    pub fn new(ctx: ProcCtx, cfg: Arc<KafkaConfig>, rm: Arc<ReplicaManager>) -> Arc<Self> {
        Arc::new(GroupCoordinator { ctx, cfg, rm, state: Mutex::new(State::default()) })
    }

    fn now(&self) -> i64 {
        self.ctx.wall_ms()
    }

    fn broker_id(&self) -> i32 {
        self.cfg.broker_id
    }

    /// Partitions of `__consumer_offsets`: as the topic exists, else the configured count.
    pub fn offsets_partitions(&self) -> i32 {
        let n = lock(&self.rm.metadata_cache).partition_count(OFFSETS_TOPIC) as i32;
        if n > 0 {
            n
        } else {
            self.cfg.offsets_topic_num_partitions
        }
    }

    /// `partitionFor(groupId)`.
    pub fn partition_for(&self, group_id: &str) -> i32 {
        offsets::partition_for(group_id, self.offsets_partitions())
    }

    /// The address of a client as Kafka reports it (`/192.168.1.100`).
    fn client_address(&self, host: &str) -> String {
        match self.ctx.world().host(host) {
            Ok(spec) => format!("/{}", spec.ip),
            Err(_) => format!("/{host}"),
        }
    }

    /// Checks shared by most requests: coordinator for the group, and not loading it.
    fn check_group(&self, st: &State, group_id: &str) -> Result<(), KafkaError> {
        let p = self.partition_for(group_id);
        if !st.owned.contains(&p) && !st.loading.contains(&p) {
            return Err(KafkaError::NotCoordinatorForGroup);
        }
        if st.loading.contains(&p) {
            return Err(KafkaError::GroupLoadInProgress);
        }
        Ok(())
    }

    /// Handles one group request from `client_id` on `peer_host`.
    pub async fn handle(
        self: &Arc<Self>,
        req: GroupRequest,
        client_id: &str,
        peer_host: &str,
    ) -> GroupResponse {
        match req {
            GroupRequest::GroupCoordinator { group_id } => {
                self.handle_group_coordinator(&group_id).await
            }
            GroupRequest::JoinGroup {
                group_id,
                session_timeout_ms,
                member_id,
                protocol_type,
                group_protocols,
            } => {
                let host = self.client_address(peer_host);
                // MemberMetadata keeps (protocol name, metadata) pairs, as Kafka's does.
                let protocols = group_protocols
                    .into_iter()
                    .map(|p| (p.protocol_name, p.protocol_metadata))
                    .collect();
                self.handle_join_group(
                    &group_id,
                    &member_id,
                    client_id,
                    &host,
                    session_timeout_ms,
                    &protocol_type,
                    protocols,
                )
                .await
            }
            GroupRequest::SyncGroup { group_id, generation_id, member_id, group_assignment } => {
                let assignments = group_assignment
                    .into_iter()
                    .map(|a| (a.member_id, a.member_assignment))
                    .collect();
                self.handle_sync_group(&group_id, generation_id, &member_id, assignments).await
            }
            GroupRequest::Heartbeat { group_id, generation_id, member_id } => {
                GroupResponse::Heartbeat(self.handle_heartbeat(
                    &group_id,
                    &member_id,
                    generation_id,
                ))
            }
            GroupRequest::LeaveGroup { group_id, member_id } => {
                GroupResponse::LeaveGroup(self.handle_leave_group(&group_id, &member_id))
            }
            GroupRequest::OffsetCommit {
                group_id,
                generation_id,
                member_id,
                retention_time_ms,
                topics,
            } => GroupResponse::OffsetCommit(
                self.handle_commit_offsets(
                    &group_id,
                    &member_id,
                    generation_id,
                    retention_time_ms,
                    topics,
                )
                .await,
            ),
            GroupRequest::OffsetFetch { group_id, topics } => {
                GroupResponse::OffsetFetch(self.handle_fetch_offsets(&group_id, topics))
            }
            GroupRequest::ListGroups => {
                let st = lock(&self.state);
                let error = if st.loading.is_empty() {
                    KafkaError::None
                } else {
                    KafkaError::GroupLoadInProgress
                };
                GroupResponse::ListGroups {
                    error_code: error,
                    groups: st
                        .groups
                        .values()
                        .map(|g| ListedGroup {
                            group_id: g.group_id.clone(),
                            protocol_type: g.protocol_type.clone(),
                        })
                        .collect(),
                }
            }
            GroupRequest::DescribeGroups { group_ids } => {
                let st = lock(&self.state);
                GroupResponse::DescribeGroups(
                    group_ids
                        .iter()
                        .map(|g| match self.check_group(&st, g) {
                            Err(error) => GroupDescription {
                                group_id: g.clone(),
                                error_code: error,
                                state: String::new(),
                                protocol_type: String::new(),
                                protocol: String::new(),
                                members: Vec::new(),
                            },
                            Ok(()) => st
                                .groups
                                .get(g)
                                .map(GroupMetadata::summary)
                                .unwrap_or_else(|| GroupMetadata::dead_summary(g)),
                        })
                        .collect(),
                )
            }
        }
    }

    /// `KafkaApis.handleGroupCoordinatorRequest`: the leader of the group's partition, creating
    /// `__consumer_offsets` first if it does not exist.
    async fn handle_group_coordinator(self: &Arc<Self>, group_id: &str) -> GroupResponse {
        let (brokers, leader, exists) = {
            let md = lock(&self.rm.metadata_cache);
            let count = md.partition_count(OFFSETS_TOPIC);
            let exists = count > 0;
            let p = offsets::partition_for(
                group_id,
                if exists { count as i32 } else { self.cfg.offsets_topic_num_partitions },
            );
            let leader =
                md.get_partition_info(OFFSETS_TOPIC, p).map(|s| s.leader).filter(|l| *l >= 0);
            let brokers: BTreeMap<i32, BrokerEndPoint> =
                md.get_alive_brokers().into_iter().map(|b| (b.id, b)).collect();
            (brokers, leader, exists)
        };
        if !exists {
            let live: Vec<i32> = brokers.keys().copied().collect();
            offsets::create_offsets_topic(&self.ctx, &self.cfg, &self.rm.zk(), &live).await;
        }
        match leader.and_then(|l| brokers.get(&l).cloned()) {
            Some(b) => GroupResponse::GroupCoordinator {
                error_code: KafkaError::None,
                coordinator: Some(b),
            },
            None => GroupResponse::GroupCoordinator {
                error_code: KafkaError::GroupCoordinatorNotAvailable,
                coordinator: None,
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn handle_join_group(
        self: &Arc<Self>,
        group_id: &str,
        member_id: &str,
        client_id: &str,
        client_host: &str,
        session_timeout_ms: i32,
        protocol_type: &str,
        protocols: Vec<(String, Vec<u8>)>,
    ) -> GroupResponse {
        if group_id.is_empty() {
            return join_error(member_id, KafkaError::InvalidGroupId);
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut st = lock(&self.state);
            if let Err(e) = self.check_group(&st, group_id) {
                return join_error(member_id, e);
            }
            if session_timeout_ms < self.cfg.group_min_session_timeout_ms
                || session_timeout_ms > self.cfg.group_max_session_timeout_ms
            {
                return join_error(member_id, KafkaError::InvalidSessionTimeout);
            }
            if !st.groups.contains_key(group_id) {
                if !member_id.is_empty() {
                    return join_error(member_id, KafkaError::UnknownMemberId);
                }
                st.groups.insert(group_id.to_string(), GroupMetadata::new(group_id, protocol_type));
            }
            self.do_join_group(
                &mut st,
                group_id,
                member_id,
                client_id,
                client_host,
                session_timeout_ms,
                protocol_type,
                protocols,
                tx,
            );
        }
        rx.await.unwrap_or_else(|_| join_error(member_id, KafkaError::NotCoordinatorForGroup))
    }

    #[allow(clippy::too_many_arguments)]
    fn do_join_group(
        self: &Arc<Self>,
        st: &mut State,
        group_id: &str,
        member_id: &str,
        client_id: &str,
        client_host: &str,
        session_timeout_ms: i32,
        protocol_type: &str,
        protocols: Vec<(String, Vec<u8>)>,
        tx: oneshot::Sender<GroupResponse>,
    ) {
        let Some(g) = st.groups.get_mut(group_id) else {
            let _ = tx.send(join_error(member_id, KafkaError::UnknownMemberId));
            return;
        };
        let names: BTreeSet<String> = protocols.iter().map(|(n, _)| n.clone()).collect();
        if g.protocol_type != protocol_type || !g.supports_protocols(&names) {
            let _ = tx.send(join_error(member_id, KafkaError::InconsistentGroupProtocol));
            return;
        }
        if !member_id.is_empty() && !g.has(member_id) {
            let _ = tx.send(join_error(member_id, KafkaError::UnknownMemberId));
            return;
        }
        let current_generation =
            |g: &GroupMetadata, member_id: &str, with_members: bool| GroupResponse::JoinGroup {
                error_code: KafkaError::None,
                generation_id: g.generation_id,
                protocol: g.protocol.clone().unwrap_or_default(),
                leader_id: g.leader_id.clone().unwrap_or_default(),
                member_id: member_id.to_string(),
                members: if with_members { g.current_member_metadata() } else { Vec::new() },
            };
        match g.state() {
            GroupState::Dead => {
                let _ = tx.send(join_error(member_id, KafkaError::UnknownMemberId));
            }
            GroupState::PreparingRebalance => {
                if member_id.is_empty() {
                    self.add_member_and_rebalance(
                        st,
                        group_id,
                        client_id,
                        client_host,
                        session_timeout_ms,
                        protocols,
                        tx,
                    );
                } else {
                    self.update_member_and_rebalance(st, group_id, member_id, protocols, tx);
                }
            }
            GroupState::AwaitingSync => {
                if member_id.is_empty() {
                    self.add_member_and_rebalance(
                        st,
                        group_id,
                        client_id,
                        client_host,
                        session_timeout_ms,
                        protocols,
                        tx,
                    );
                } else if g.members.get(member_id).is_some_and(|m| m.matches(&protocols)) {
                    // The member missed the JoinGroup answer: give it the current generation again.
                    let leader = g.leader_id.as_deref() == Some(member_id);
                    let _ = tx.send(current_generation(g, member_id, leader));
                } else {
                    self.update_member_and_rebalance(st, group_id, member_id, protocols, tx);
                }
            }
            GroupState::Stable => {
                if member_id.is_empty() {
                    self.add_member_and_rebalance(
                        st,
                        group_id,
                        client_id,
                        client_host,
                        session_timeout_ms,
                        protocols,
                        tx,
                    );
                } else if g.leader_id.as_deref() == Some(member_id)
                    || !g.members.get(member_id).is_some_and(|m| m.matches(&protocols))
                {
                    // The leader's JoinGroup (or changed metadata) forces a rebalance.
                    self.update_member_and_rebalance(st, group_id, member_id, protocols, tx);
                } else {
                    let _ = tx.send(current_generation(g, member_id, false));
                }
            }
        }
        if st.groups.get(group_id).is_some_and(|g| g.is(GroupState::PreparingRebalance)) {
            self.try_complete_join(st, group_id);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_member_and_rebalance(
        self: &Arc<Self>,
        st: &mut State,
        group_id: &str,
        client_id: &str,
        client_host: &str,
        session_timeout_ms: i32,
        protocols: Vec<(String, Vec<u8>)>,
        tx: oneshot::Sender<GroupResponse>,
    ) {
        let Some(g) = st.groups.get_mut(group_id) else { return };
        let member_id = format!("{client_id}-{}", random_uuid());
        let mut m = MemberMetadata::new(
            &member_id,
            group_id,
            client_id,
            client_host,
            session_timeout_ms,
            protocols,
        );
        m.awaiting_join = Some(tx);
        m.latest_heartbeat_ms = self.now();
        g.add(m);
        self.ctx.trace(
            kind::KAFKA_GROUP_MEMBER_ADDED,
            None,
            fields! { "group" => group_id, "member" => member_id.as_str(), "client_id" => client_id, "client_host" => client_host, "session_timeout_ms" => session_timeout_ms },
        );
        self.maybe_prepare_rebalance(st, group_id);
    }

    fn update_member_and_rebalance(
        self: &Arc<Self>,
        st: &mut State,
        group_id: &str,
        member_id: &str,
        protocols: Vec<(String, Vec<u8>)>,
        tx: oneshot::Sender<GroupResponse>,
    ) {
        if let Some(m) = st.groups.get_mut(group_id).and_then(|g| g.members.get_mut(member_id)) {
            m.protocols = protocols;
            m.awaiting_join = Some(tx);
        }
        self.maybe_prepare_rebalance(st, group_id);
    }

    fn trace_state(&self, g: &GroupMetadata, from: GroupState) {
        self.ctx.trace(
            kind::KAFKA_GROUP_STATE,
            None,
            fields! { "group" => g.group_id.as_str(), "from" => from.to_string(), "to" => g.state().to_string(), "generation" => g.generation_id },
        );
    }

    fn maybe_prepare_rebalance(self: &Arc<Self>, st: &mut State, group_id: &str) {
        if !st.groups.get(group_id).is_some_and(GroupMetadata::can_rebalance) {
            return;
        }
        // Members waiting for an assignment are told to rejoin.
        if st.groups.get(group_id).is_some_and(|g| g.is(GroupState::AwaitingSync)) {
            self.reset_and_propagate_assignment_error(
                st,
                group_id,
                KafkaError::RebalanceInProgress,
            );
        }
        st.next_rebalance_id += 1;
        let id = st.next_rebalance_id;
        let Some(g) = st.groups.get_mut(group_id) else { return };
        let Ok(from) = g.transition_to(GroupState::PreparingRebalance) else { return };
        g.rebalance_id = id;
        self.trace_state(g, from);
        let timeout = g.rebalance_timeout_ms().max(0) as u64;
        let me = self.clone();
        let gid = group_id.to_string();
        // DelayedJoin: completes early when everyone has rejoined, else at the timeout.
        madsim::task::spawn(async move {
            madsim::time::sleep(Duration::from_millis(timeout)).await;
            let mut st = lock(&me.state);
            if st
                .groups
                .get(&gid)
                .is_some_and(|g| g.is(GroupState::PreparingRebalance) && g.rebalance_id == id)
            {
                me.on_complete_join(&mut st, &gid);
            }
        });
        self.try_complete_join(st, group_id);
    }

    fn try_complete_join(self: &Arc<Self>, st: &mut State, group_id: &str) {
        if st.groups.get(group_id).is_some_and(|g| {
            g.is(GroupState::PreparingRebalance) && g.not_yet_rejoined_members().is_empty()
        }) {
            self.on_complete_join(st, group_id);
        }
    }

    /// `onCompleteJoin`: members that did not rejoin are dropped; an empty group dies; otherwise
    /// a new generation starts and every parked JoinGroup is answered.
    fn on_complete_join(self: &Arc<Self>, st: &mut State, group_id: &str) {
        let Some(g) = st.groups.get_mut(group_id) else { return };
        for failed in g.not_yet_rejoined_members() {
            g.remove(&failed);
            self.ctx.trace(kind::KAFKA_GROUP_MEMBER_REMOVED, None, fields! { "group" => group_id, "member" => failed.as_str(), "reason" => "rebalance timeout" });
        }
        if g.is_empty() {
            self.remove_group(st, group_id);
            return;
        }
        let from = g.state();
        if g.init_next_generation().is_err() {
            return;
        }
        self.trace_state(g, from);
        let members: Vec<String> = g.members.keys().cloned().collect();
        self.ctx.trace(
            kind::KAFKA_GROUP_GENERATION,
            None,
            fields! {
                "group" => group_id, "generation" => g.generation_id, "protocol" => g.protocol.clone().unwrap_or_default(),
                "leader" => g.leader_id.clone().unwrap_or_default(), "members" => members.clone()
            },
        );
        for mid in members {
            let leader = g.leader_id.as_deref() == Some(mid.as_str());
            let resp = GroupResponse::JoinGroup {
                error_code: KafkaError::None,
                generation_id: g.generation_id,
                protocol: g.protocol.clone().unwrap_or_default(),
                leader_id: g.leader_id.clone().unwrap_or_default(),
                member_id: mid.clone(),
                members: if leader { g.current_member_metadata() } else { Vec::new() },
            };
            if let Some(tx) = g.members.get_mut(&mid).and_then(|m| m.awaiting_join.take()) {
                let _ = tx.send(resp);
            }
            self.complete_and_schedule_next_heartbeat_expiration(g, &mid);
        }
    }

    /// Dead and gone: the group leaves the cache and a tombstone goes to its partition.
    fn remove_group(self: &Arc<Self>, st: &mut State, group_id: &str) {
        let Some(mut g) = st.groups.remove(group_id) else { return };
        let from = g.state();
        if g.transition_to(GroupState::Dead).is_ok() {
            self.trace_state(&g, from);
        }
        let p = self.partition_for(group_id);
        let me = self.clone();
        let key = offsets::group_metadata_key(group_id);
        madsim::task::spawn(async move {
            let tombstone = Record { offset: 0, timestamp: None, key: Some(key), value: None };
            me.append(p, vec![tombstone], 0).await;
        });
    }

    /// `completeAndScheduleNextHeartbeatExpiration`: a new session deadline for the member.
    fn complete_and_schedule_next_heartbeat_expiration(
        self: &Arc<Self>,
        g: &mut GroupMetadata,
        member_id: &str,
    ) {
        let now = self.now();
        let Some(m) = g.members.get_mut(member_id) else { return };
        m.latest_heartbeat_ms = now;
        let deadline = now + m.session_timeout_ms as i64;
        let (me, gid, mid) = (self.clone(), g.group_id.clone(), member_id.to_string());
        let wait = Duration::from_millis(m.session_timeout_ms.max(0) as u64);
        madsim::task::spawn(async move {
            madsim::time::sleep(wait).await;
            me.on_expire_heartbeat(&gid, &mid, deadline);
        });
    }

    /// `onExpireHeartbeat`: no heartbeat for a whole session, and nothing parked: the member fails.
    fn on_expire_heartbeat(self: &Arc<Self>, group_id: &str, member_id: &str, deadline: i64) {
        let mut st = lock(&self.state);
        let expired = st
            .groups
            .get(group_id)
            .and_then(|g| g.members.get(member_id))
            .is_some_and(|m| !m.should_keep_alive(deadline) && !m.is_leaving);
        if expired {
            self.ctx.trace(kind::KAFKA_GROUP_MEMBER_REMOVED, None, fields! { "group" => group_id, "member" => member_id, "reason" => "session timeout" });
            self.on_member_failure(&mut st, group_id, member_id);
        }
    }

    fn on_member_failure(self: &Arc<Self>, st: &mut State, group_id: &str, member_id: &str) {
        let Some(g) = st.groups.get_mut(group_id) else { return };
        g.remove(member_id);
        match g.state() {
            GroupState::Dead => {}
            GroupState::Stable | GroupState::AwaitingSync => {
                self.maybe_prepare_rebalance(st, group_id)
            }
            GroupState::PreparingRebalance => self.try_complete_join(st, group_id),
        }
    }

    fn reset_and_propagate_assignment_error(
        self: &Arc<Self>,
        st: &mut State,
        group_id: &str,
        error: KafkaError,
    ) {
        if let Some(g) = st.groups.get_mut(group_id) {
            for m in g.members.values_mut() {
                m.assignment.clear();
            }
        }
        self.propagate_assignment(st, group_id, error);
    }

    fn propagate_assignment(self: &Arc<Self>, st: &mut State, group_id: &str, error: KafkaError) {
        let Some(g) = st.groups.get_mut(group_id) else { return };
        let waiting: Vec<String> = g
            .members
            .values()
            .filter(|m| m.awaiting_sync.is_some())
            .map(|m| m.member_id.clone())
            .collect();
        for mid in waiting {
            if let Some(m) = g.members.get_mut(&mid) {
                if let Some(tx) = m.awaiting_sync.take() {
                    let _ = tx.send(GroupResponse::SyncGroup {
                        error_code: error,
                        assignment: m.assignment.clone(),
                    });
                }
            }
            self.complete_and_schedule_next_heartbeat_expiration(g, &mid);
        }
    }

    async fn handle_sync_group(
        self: &Arc<Self>,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        assignments: Vec<(String, Vec<u8>)>,
    ) -> GroupResponse {
        let (tx, rx) = oneshot::channel();
        let store = {
            let mut st = lock(&self.state);
            let p = self.partition_for(group_id);
            if !st.owned.contains(&p) && !st.loading.contains(&p) {
                return sync_error(KafkaError::NotCoordinatorForGroup);
            }
            let Some(g) = st.groups.get_mut(group_id) else {
                return sync_error(KafkaError::UnknownMemberId);
            };
            if !g.has(member_id) {
                return sync_error(KafkaError::UnknownMemberId);
            }
            if generation_id != g.generation_id {
                return sync_error(KafkaError::IllegalGeneration);
            }
            match g.state() {
                GroupState::Dead => return sync_error(KafkaError::UnknownMemberId),
                GroupState::PreparingRebalance => {
                    return sync_error(KafkaError::RebalanceInProgress)
                }
                GroupState::Stable => {
                    let assignment =
                        g.members.get(member_id).map(|m| m.assignment.clone()).unwrap_or_default();
                    self.complete_and_schedule_next_heartbeat_expiration(g, member_id);
                    return GroupResponse::SyncGroup { error_code: KafkaError::None, assignment };
                }
                GroupState::AwaitingSync => {
                    if let Some(m) = g.members.get_mut(member_id) {
                        m.awaiting_sync = Some(tx);
                    }
                    self.complete_and_schedule_next_heartbeat_expiration(g, member_id);
                    if g.leader_id.as_deref() == Some(member_id) {
                        // Members the leader left out get an empty assignment.
                        let mut given: BTreeMap<String, Vec<u8>> =
                            assignments.into_iter().collect();
                        for m in g.members.values_mut() {
                            m.assignment = given.remove(&m.member_id).unwrap_or_default();
                        }
                        let protocol = g.protocol.clone().unwrap_or_default();
                        let stored = offsets::StoredGroup {
                            protocol_type: g.protocol_type.clone(),
                            generation: g.generation_id,
                            protocol: protocol.clone(),
                            leader: g.leader_id.clone().unwrap_or_default(),
                            members: g
                                .members
                                .values()
                                .map(|m| offsets::StoredMember {
                                    member_id: m.member_id.clone(),
                                    client_id: m.client_id.clone(),
                                    client_host: m.client_host.clone(),
                                    session_timeout_ms: m.session_timeout_ms,
                                    subscription: m.metadata(&protocol),
                                    assignment: m.assignment.clone(),
                                })
                                .collect(),
                        };
                        let record = Record {
                            offset: 0,
                            timestamp: None,
                            key: Some(offsets::group_metadata_key(group_id)),
                            value: Some(offsets::group_metadata_value(&stored)),
                        };
                        Some(PendingStore { generation: g.generation_id, record })
                    } else {
                        None
                    }
                }
            }
        };
        if let Some(store) = store {
            let p = self.partition_for(group_id);
            let error = store_group_error(
                self.append(p, vec![store.record], offsets::OFFSET_COMMIT_REQUIRED_ACKS).await,
            );
            let mut st = lock(&self.state);
            self.ctx.trace(kind::KAFKA_GROUP_STORED, None, fields! { "group" => group_id, "generation" => store.generation, "partition" => p, "error" => format!("{error:?}") });
            if st.groups.get(group_id).is_some_and(|g| {
                g.is(GroupState::AwaitingSync) && g.generation_id == store.generation
            }) {
                if error != KafkaError::None {
                    self.reset_and_propagate_assignment_error(&mut st, group_id, error);
                    self.maybe_prepare_rebalance(&mut st, group_id);
                } else {
                    self.propagate_assignment(&mut st, group_id, KafkaError::None);
                    if let Some(g) = st.groups.get_mut(group_id) {
                        if let Ok(from) = g.transition_to(GroupState::Stable) {
                            self.trace_state(g, from);
                        }
                    }
                }
            }
        }
        rx.await.unwrap_or_else(|_| sync_error(KafkaError::NotCoordinatorForGroup))
    }

    fn handle_heartbeat(
        self: &Arc<Self>,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
    ) -> KafkaError {
        let mut st = lock(&self.state);
        match self.check_group(&st, group_id) {
            Err(KafkaError::GroupLoadInProgress) => return KafkaError::None, // "respond just blindly"
            Err(e) => return e,
            Ok(()) => {}
        }
        let Some(g) = st.groups.get_mut(group_id) else { return KafkaError::UnknownMemberId };
        if g.is(GroupState::Dead) {
            KafkaError::UnknownMemberId
        } else if !g.is(GroupState::Stable) {
            KafkaError::RebalanceInProgress
        } else if !g.has(member_id) {
            KafkaError::UnknownMemberId
        } else if generation_id != g.generation_id {
            KafkaError::IllegalGeneration
        } else {
            self.complete_and_schedule_next_heartbeat_expiration(g, member_id);
            KafkaError::None
        }
    }

    fn handle_leave_group(self: &Arc<Self>, group_id: &str, member_id: &str) -> KafkaError {
        let mut st = lock(&self.state);
        if let Err(e) = self.check_group(&st, group_id) {
            return e;
        }
        let Some(g) = st.groups.get_mut(group_id) else { return KafkaError::UnknownMemberId };
        if g.is(GroupState::Dead) || !g.has(member_id) {
            return KafkaError::UnknownMemberId;
        }
        if let Some(m) = g.members.get_mut(member_id) {
            m.is_leaving = true;
        }
        self.ctx.trace(
            kind::KAFKA_GROUP_MEMBER_REMOVED,
            None,
            fields! { "group" => group_id, "member" => member_id, "reason" => "leave group" },
        );
        self.on_member_failure(&mut st, group_id, member_id);
        KafkaError::None
    }

    async fn handle_commit_offsets(
        self: &Arc<Self>,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
        retention_time_ms: i64,
        offsets: Vec<OffsetCommitPartition>,
    ) -> Vec<OffsetCommitPartitionResponse> {
        let answer = |o: &OffsetCommitPartition, error_code| OffsetCommitPartitionResponse {
            topic: o.topic.clone(),
            partition: o.partition,
            error_code,
        };
        let all = |e: KafkaError| offsets.iter().map(|o| answer(o, e)).collect::<Vec<_>>();
        {
            let st = lock(&self.state);
            if let Err(e) = self.check_group(&st, group_id) {
                return all(e);
            }
            match st.groups.get(group_id) {
                // Not managed by Kafka (a generation of −1): allowed. Otherwise a stale commit.
                None if generation_id < 0 => {}
                None => return all(KafkaError::IllegalGeneration),
                Some(g) if g.is(GroupState::Dead) => return all(KafkaError::UnknownMemberId),
                Some(g) if g.is(GroupState::AwaitingSync) => {
                    return all(KafkaError::RebalanceInProgress)
                }
                Some(g) if !g.has(member_id) => return all(KafkaError::UnknownMemberId),
                Some(g) if g.generation_id != generation_id => {
                    return all(KafkaError::IllegalGeneration)
                }
                Some(_) => {}
            }
        }
        let now = self.now();
        let retention =
            if retention_time_ms < 0 { offsets::OFFSETS_RETENTION_MS } else { retention_time_ms };
        let stored: Vec<(String, i32, OffsetAndMetadata)> = offsets
            .iter()
            .filter(|o| o.metadata.len() <= offsets::OFFSET_METADATA_MAX_BYTES)
            .map(|o| {
                (
                    o.topic.clone(),
                    o.partition,
                    OffsetAndMetadata {
                        offset: o.offset,
                        metadata: o.metadata.clone(),
                        commit_timestamp: now,
                        expire_timestamp: now + retention,
                    },
                )
            })
            .collect();
        let records: Vec<Record> = stored
            .iter()
            .map(|(t, p, o)| Record {
                offset: 0,
                timestamp: None,
                key: Some(offsets::offset_commit_key(group_id, t, *p)),
                value: Some(offsets::offset_commit_value(o)),
            })
            .collect();
        let partition = self.partition_for(group_id);
        let error = if records.is_empty() {
            KafkaError::None
        } else {
            store_offsets_error(
                self.append(partition, records, offsets::OFFSET_COMMIT_REQUIRED_ACKS).await,
            )
        };
        if error == KafkaError::None {
            let mut st = lock(&self.state);
            for (t, p, o) in &stored {
                st.offsets.insert((group_id.to_string(), t.clone(), *p), o.clone());
            }
        }
        let list: Vec<(String, i32, i64)> =
            stored.iter().map(|(t, p, o)| (t.clone(), *p, o.offset)).collect();
        self.ctx.trace(
            kind::KAFKA_GROUP_OFFSET_COMMIT,
            None,
            fields! { "group" => group_id, "member" => member_id, "generation" => generation_id, "partition" => partition, "offsets" => list, "error" => format!("{error:?}") },
        );
        offsets
            .iter()
            .map(|o| {
                let too_large = o.metadata.len() > offsets::OFFSET_METADATA_MAX_BYTES;
                answer(o, if too_large { KafkaError::Unknown } else { error })
            })
            .collect()
    }

    fn handle_fetch_offsets(
        &self,
        group_id: &str,
        partitions: Vec<TopicAndPartition>,
    ) -> Vec<OffsetFetchPartitionResponse> {
        let answer = |topic, partition, offset, metadata, error_code| {
            OffsetFetchPartitionResponse { topic, partition, offset, metadata, error_code }
        };
        let st = lock(&self.state);
        if let Err(e) = self.check_group(&st, group_id) {
            return partitions
                .into_iter()
                .map(|tp| answer(tp.topic, tp.partition, -1, String::new(), e))
                .collect();
        }
        if partitions.is_empty() {
            return st
                .offsets
                .iter()
                .filter(|((g, ..), _)| g == group_id)
                .map(|((_, t, p), o)| {
                    answer(t.clone(), *p, o.offset, o.metadata.clone(), KafkaError::None)
                })
                .collect();
        }
        partitions
            .into_iter()
            .map(|TopicAndPartition { topic: t, partition: p }| {
                match st.offsets.get(&(group_id.to_string(), t.clone(), p)) {
                    Some(o) => answer(t, p, o.offset, o.metadata.clone(), KafkaError::None),
                    None => answer(t, p, -1, String::new(), KafkaError::None),
                }
            })
            .collect()
    }

    /// Appends records to a `__consumer_offsets` partition through the replica manager, as
    /// `ReplicaManager.appendMessages` with `internalTopicsAllowed` does. The answer is the
    /// partition's produce error (after the ISR has the records, for acks = −1).
    async fn append(&self, partition: i32, records: Vec<Record>, acks: i16) -> KafkaError {
        let n = records.len();
        let bytes = encode_message_set(&records, 0);
        // GroupMetadataManager.store: ReplicaManager.appendMessages on the local leader.
        let data = vec![ProducePartitionData {
            topic: OFFSETS_TOPIC.to_string(),
            partition,
            record_set: bytes,
            record_count: n,
        }];
        match self.rm.append_messages(acks, offsets::OFFSET_COMMIT_TIMEOUT_MS, data).await {
            None => KafkaError::None,
            Some(Response::Produce(r)) => {
                r.responses.first().map_or(KafkaError::Unknown, |r| r.error_code)
            }
            Some(_) => KafkaError::Unknown,
        }
    }

    /// After a LeaderAndIsr or StopReplica touched partition `partition` of
    /// `__consumer_offsets`: load it if this broker now leads it (`handleGroupImmigration`),
    /// drop it otherwise (`handleGroupEmigration`).
    pub fn on_leadership_change(self: &Arc<Self>, partition: i32, leader: bool) {
        if leader {
            {
                let mut st = lock(&self.state);
                if st.owned.contains(&partition) || !st.loading.insert(partition) {
                    return;
                }
            }
            madsim::task::spawn(self.clone().load_groups_for_partition(partition));
        } else {
            self.remove_groups_for_partition(partition);
        }
    }

    /// Whether this broker leads partition `partition` of `__consumer_offsets` now.
    fn leads(&self, partition: i32) -> bool {
        self.rm
            .partition(OFFSETS_TOPIC, partition)
            .is_some_and(|p| lock(&p.info).leader == self.broker_id())
    }

    /// `loadGroupsForPartition`: reads the partition from its start to the high watermark,
    /// keeping the last offset per (group, topic, partition) and the last record per group.
    async fn load_groups_for_partition(self: Arc<Self>, partition: i32) {
        let started = self.now();
        let mut loaded_offsets: BTreeMap<(String, String, i32), Option<OffsetAndMetadata>> =
            BTreeMap::new();
        let mut loaded_groups: BTreeMap<String, Option<offsets::StoredGroup>> = BTreeMap::new();
        let mut next = 0;
        if let Some(part) = self.rm.partition(OFFSETS_TOPIC, partition) {
            next = part.log.lock().await.log_start_offset();
            loop {
                let (leader, hw) = {
                    let i = lock(&part.info);
                    (i.leader, i.hw)
                };
                if leader != self.broker_id() || next >= hw {
                    break;
                }
                let read = part
                    .log
                    .lock()
                    .await
                    .read(next, offsets::OFFSETS_LOAD_BUFFER_SIZE as u64, Some(hw))
                    .await;
                let Ok(data) = read else { break };
                if data.records.is_empty() {
                    break;
                }
                for r in data.records {
                    next = r.offset + 1;
                    let Some(key) = r.key.as_deref() else { continue };
                    match offsets::read_message_key(key) {
                        Ok(offsets::BaseKey::Offset { group, topic, partition }) => {
                            let v = r
                                .value
                                .as_deref()
                                .and_then(|v| offsets::read_offset_message_value(v).ok());
                            loaded_offsets.insert((group, topic, partition), v);
                        }
                        Ok(offsets::BaseKey::GroupMetadata { group }) => {
                            let v = r
                                .value
                                .as_deref()
                                .and_then(|v| offsets::read_group_message_value(v).ok());
                            loaded_groups.insert(group, v);
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        let mut st = lock(&self.state);
        if !st.loading.remove(&partition) {
            return; // emigrated while loading
        }
        if !self.leads(partition) {
            return;
        }
        st.owned.insert(partition);
        let mut n_offsets = 0;
        for (k, v) in loaded_offsets {
            match v {
                Some(o) => {
                    st.offsets.insert(k, o);
                    n_offsets += 1;
                }
                None => {
                    st.offsets.remove(&k);
                }
            }
        }
        let mut groups = Vec::new();
        for (gid, stored) in loaded_groups {
            let Some(sg) = stored else { continue };
            if st.groups.contains_key(&gid) {
                continue;
            }
            // onGroupLoaded: Stable, as stored, every member with a fresh session.
            let mut g = GroupMetadata::new(&gid, &sg.protocol_type);
            g.generation_id = sg.generation;
            g.protocol = Some(sg.protocol.clone());
            for m in sg.members {
                let mut mm = MemberMetadata::new(
                    &m.member_id,
                    &gid,
                    &m.client_id,
                    &m.client_host,
                    m.session_timeout_ms,
                    vec![(sg.protocol.clone(), m.subscription)],
                );
                mm.assignment = m.assignment;
                g.add(mm);
            }
            g.leader_id = Some(sg.leader.clone())
                .filter(|l| g.has(l))
                .or_else(|| g.members.keys().next().cloned());
            let members: Vec<String> = g.members.keys().cloned().collect();
            for mid in &members {
                self.complete_and_schedule_next_heartbeat_expiration(&mut g, mid);
            }
            groups.push(gid.clone());
            st.groups.insert(gid, g);
        }
        self.ctx.trace(
            kind::KAFKA_GROUP_LOADED,
            None,
            fields! { "partition" => partition, "groups" => groups, "offsets" => n_offsets, "log_end" => next, "ms" => self.now() - started },
        );
    }

    /// `removeGroupsForPartition`: this broker no longer coordinates the partition's groups.
    fn remove_groups_for_partition(self: &Arc<Self>, partition: i32) {
        let mut st = lock(&self.state);
        let was = st.owned.remove(&partition) | st.loading.remove(&partition);
        if !was {
            return;
        }
        let n = self.offsets_partitions();
        let before = st.offsets.len();
        st.offsets.retain(|(g, ..), _| offsets::partition_for(g, n) != partition);
        let removed_offsets = before - st.offsets.len();
        let gone: Vec<String> = st
            .groups
            .keys()
            .filter(|g| offsets::partition_for(g, n) == partition)
            .cloned()
            .collect();
        for gid in &gone {
            let Some(mut g) = st.groups.remove(gid) else { continue };
            // onGroupUnloaded: parked requests are told to find the new coordinator.
            let from = g.state();
            for m in g.members.values_mut() {
                if let Some(tx) = m.awaiting_join.take() {
                    let _ = tx.send(join_error(&m.member_id, KafkaError::NotCoordinatorForGroup));
                }
                if let Some(tx) = m.awaiting_sync.take() {
                    let _ = tx.send(sync_error(KafkaError::NotCoordinatorForGroup));
                }
            }
            if g.transition_to(GroupState::Dead).is_ok() {
                self.trace_state(&g, from);
            }
        }
        self.ctx.trace(
            kind::KAFKA_GROUP_UNLOADED,
            None,
            fields! { "partition" => partition, "groups" => gone, "offsets" => removed_offsets },
        );
    }
}
