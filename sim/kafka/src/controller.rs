//! `KafkaController`: the one broker that decides leaders.
//!
//! Elected by creating the ephemeral `/controller` znode first; on taking office it bumps
//! `/controller_epoch` (so brokers can reject an older controller's requests), reads brokers,
//! topics and partition states from ZooKeeper, and watches `/brokers/ids` and `/brokers/topics`
//! (plus each `/brokers/topics/<t>`, whose added partitions come online like a new topic's).
//! A new topic's partitions get the first live replica as leader and every live replica in the
//! ISR; when a broker dies, each partition it led elects the first live replica of its
//! assignment that is in the ISR (or any live replica when `unclean.leader.election.enable`),
//! with `leader_epoch + 1`. Decisions are written to the state znodes with compare-and-set and
//! sent as LeaderAndIsr / UpdateMetadata requests (`ControllerChannelManager`).

use super::config::KafkaConfig;
use super::hooks::OfflinePartitionLeaderSelector;
use super::network_client::NetworkClient;
use super::proto::{
    BrokerEndPoint, LeaderAndIsrRequest, PartitionState, Request, StopReplicaRequest,
    TopicAndPartition, UpdateMetadataRequest,
};
use super::zk_utils as zku;
use futures::channel::mpsc;
use futures::StreamExt;
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zookeeper::client::ZooKeeper;
use zookeeper::txn::{CreateMode, ZkError};

/// What the controller knows (`ControllerContext`).
#[derive(Debug, Default)]
pub struct ControllerContext {
    /// The controller's epoch.
    pub epoch: i32,
    /// Live brokers.
    pub live: BTreeMap<i32, BrokerEndPoint>,
    /// Topic → partition → replicas.
    pub assignments: BTreeMap<String, BTreeMap<i32, Vec<i32>>>,
    /// Partition states as last written.
    pub states: BTreeMap<(String, i32), PartitionState>,
}

/// The controller of one term.
pub struct KafkaController {
    ctx: ProcCtx,
    cfg: Arc<KafkaConfig>,
    zk: Arc<ZooKeeper>,
    /// Its context.
    pub context: Mutex<ControllerContext>,
    channels: Mutex<BTreeMap<i32, RequestSendThread>>,
    /// The leader choice for offline partitions (a plug-in point, 0.9's by default).
    selector: Arc<dyn OfflinePartitionLeaderSelector>,
}

/// `ControllerChannelManager`'s per-broker queue and its `RequestSendThread`. Removing a broker
/// shuts the thread down and drops what is still queued: a request built from an older state
/// must never reach the broker's next incarnation (it would make a restarted broker lead a
/// partition whose leadership has moved on).
struct RequestSendThread {
    queue: mpsc::UnboundedSender<Request>,
    thread: madsim::task::AbortHandle,
}

impl Drop for RequestSendThread {
    fn drop(&mut self) {
        self.thread.abort();
    }
}

impl KafkaController {
    /// Takes office (`onControllerFailover`): bump the epoch, load the cluster state, watch,
    /// elect what needs electing, and tell every broker.
    pub async fn on_controller_failover(
        ctx: ProcCtx,
        cfg: Arc<KafkaConfig>,
        zk: Arc<ZooKeeper>,
        selector: Arc<dyn OfflinePartitionLeaderSelector>,
    ) -> Result<Arc<Self>, ZkError> {
        let epoch = increment_controller_epoch(&zk).await?;
        ctx.trace(
            kind::KAFKA_CONTROLLER_ELECTED,
            None,
            fields! { "broker" => cfg.broker_id, "epoch" => epoch },
        );
        let c = Arc::new(KafkaController {
            ctx,
            cfg,
            zk,
            context: Mutex::new(ControllerContext { epoch, ..ControllerContext::default() }),
            channels: Mutex::new(BTreeMap::new()),
            selector,
        });
        let _ = c.zk.get_children(zku::ISR_CHANGE, true).await;
        let _ = c.zk.exists(zku::PREFERRED_ELECTION, true).await;
        let live = c.watch_brokers().await?;
        let topics = c.watch_topics().await?;
        lock(&c.context).live = live;
        for (t, a) in topics {
            lock(&c.context).assignments.insert(t, a);
        }
        // Read every existing state; elect where there is no state or no live leader.
        let parts: Vec<(String, i32, Vec<i32>)> = {
            let cx = lock(&c.context);
            cx.assignments
                .iter()
                .flat_map(|(t, a)| a.iter().map(move |(p, r)| (t.clone(), *p, r.clone())))
                .collect()
        };
        for (t, p, replicas) in parts {
            c.load_state(&t, p, &replicas).await;
        }
        c.elect_offline(None).await;
        let brokers: Vec<i32> = lock(&c.context).live.keys().copied().collect();
        c.send_leader_and_isr_for_all(&brokers);
        c.send_update_metadata(&brokers);
        Ok(c)
    }

    async fn watch_brokers(&self) -> Result<BTreeMap<i32, BrokerEndPoint>, ZkError> {
        self.zk.get_children(zku::BROKER_IDS, true).await?;
        zku::read_brokers(&self.zk).await
    }

    async fn watch_topics(&self) -> Result<BTreeMap<String, BTreeMap<i32, Vec<i32>>>, ZkError> {
        self.zk.get_children(zku::BROKER_TOPICS, true).await?;
        // Each topic's data watch is its PartitionModificationsListener (re-armed by each read).
        zku::read_all_topics_watched(&self.zk, true).await
    }

    async fn load_state(&self, topic: &str, p: i32, replicas: &[i32]) {
        if let Ok((data, stat)) =
            self.zk.get_data(&zku::partition_state_path(topic, p), false).await
        {
            if let Some((_, leader, leader_epoch, isr)) = zku::parse_partition_state(&data) {
                lock(&self.context).states.insert(
                    (topic.to_string(), p),
                    PartitionState {
                        topic: topic.into(),
                        partition: p,
                        leader,
                        leader_epoch,
                        isr,
                        zk_version: stat.version,
                        replicas: replicas.to_vec(),
                    },
                );
            }
        }
    }

    /// `/brokers/ids` changed (`BrokerChangeListener`).
    pub async fn on_broker_change(&self) {
        let Ok(now) = self.watch_brokers().await else { return };
        let (added, dead): (Vec<i32>, Vec<i32>) = {
            let mut cx = lock(&self.context);
            let old: BTreeSet<i32> = cx.live.keys().copied().collect();
            let new: BTreeSet<i32> = now.keys().copied().collect();
            cx.live = now;
            (new.difference(&old).copied().collect(), old.difference(&new).copied().collect())
        };
        if added.is_empty() && dead.is_empty() {
            return;
        }
        self.ctx.trace(
            kind::KAFKA_BROKER_CHANGE,
            None,
            fields! { "added" => added.clone(), "dead" => dead.clone() },
        );
        // ControllerChannelManager.removeBroker / addBroker: a fresh connection and queue per
        // incarnation, so nothing queued for a dead broker delays what its successor must hear.
        {
            let mut ch = lock(&self.channels);
            for b in dead.iter().chain(&added) {
                ch.remove(b);
            }
        }
        let all: Vec<i32> = lock(&self.context).live.keys().copied().collect();
        if !dead.is_empty() {
            // onBrokerFailure: new leaders where the leader died, dead replicas out of the ISR.
            let parts: Vec<(String, i32)> = lock(&self.context).states.keys().cloned().collect();
            for (t, p) in &parts {
                let replicas = lock(&self.context)
                    .assignments
                    .get(t)
                    .and_then(|a| a.get(p))
                    .cloned()
                    .unwrap_or_default();
                self.load_state(t, *p, &replicas).await;
            }
            self.elect_offline(Some(&dead)).await;
            for (t, p) in parts {
                let st = lock(&self.context).states.get(&(t.clone(), p)).cloned();
                if let Some(st) = st {
                    if st.isr.iter().any(|r| dead.contains(r)) && st.leader >= 0 {
                        let isr: Vec<i32> =
                            st.isr.iter().copied().filter(|r| !dead.contains(r)).collect();
                        self.write_state(
                            &t,
                            p,
                            st.leader,
                            st.leader_epoch + 1,
                            isr,
                            st.replicas.clone(),
                        )
                        .await;
                        let st = lock(&self.context).states.get(&(t.clone(), p)).cloned();
                        if let Some(st) = st {
                            self.send_leader_and_isr(&st);
                        }
                    }
                }
            }
        }
        // Offline partitions may have a leader again; then the newcomers learn their replicas'
        // leaders (onBrokerStartup).
        self.elect_offline(None).await;
        for b in &added {
            let mine: Vec<PartitionState> = lock(&self.context)
                .states
                .values()
                .filter(|s| s.replicas.contains(b))
                .cloned()
                .collect();
            if !mine.is_empty() {
                let req = leader_and_isr(&lock(&self.context), mine);
                self.send(*b, req);
            }
        }
        self.send_update_metadata(&all);
    }

    /// Leaders changed ISRs (`IsrChangeNotificationListener`): re-read those partitions' state,
    /// tell every broker, and delete the notifications.
    pub async fn on_isr_change(&self) {
        let Ok(mut notes) = self.zk.get_children(zku::ISR_CHANGE, true).await else { return };
        notes.sort();
        let mut changed = Vec::new();
        for n in notes {
            let path = format!("{}/{n}", zku::ISR_CHANGE);
            if let Ok((data, _)) = self.zk.get_data(&path, false).await {
                changed.extend(zku::parse_partition_list(&data));
            }
            let _ = self.zk.delete(&path, -1).await;
        }
        changed.sort();
        changed.dedup();
        for (t, p) in &changed {
            let replicas = lock(&self.context)
                .assignments
                .get(t)
                .and_then(|a| a.get(p))
                .cloned()
                .unwrap_or_default();
            self.load_state(t, *p, &replicas).await;
        }
        if !changed.is_empty() {
            self.ctx.trace(kind::KAFKA_ISR_CHANGE_SEEN, None, fields! { "partitions" => changed.iter().map(|(t, p)| format!("{t}-{p}")).collect::<Vec<_>>() });
            let all: Vec<i32> = lock(&self.context).live.keys().copied().collect();
            self.send_update_metadata(&all);
        }
    }

    /// `KafkaController.shutdownBroker`: moves every leadership of `broker` to another in-sync
    /// replica (`ControlledShutdownLeaderSelector`), takes it out of the ISRs it follows in, and
    /// returns the partitions it still leads (those with no other replica in sync).
    pub async fn shutdown_broker(&self, broker: i32) -> Vec<TopicAndPartition> {
        self.ctx.trace(kind::KAFKA_CONTROLLED_SHUTDOWN, None, fields! { "broker" => broker });
        let parts: Vec<PartitionState> = lock(&self.context)
            .states
            .values()
            .filter(|s| s.replicas.contains(&broker))
            .cloned()
            .collect();
        let mut remaining = Vec::new();
        let mut stop = Vec::new();
        for st in parts {
            let isr: Vec<i32> = {
                let cx = lock(&self.context);
                st.isr.iter().copied().filter(|r| *r != broker && cx.live.contains_key(r)).collect()
            };
            if st.leader == broker {
                let Some(new_leader) = st.replicas.iter().copied().find(|r| isr.contains(r)) else {
                    remaining.push(TopicAndPartition::new(st.topic.clone(), st.partition));
                    continue;
                };
                self.ctx.trace(
                    kind::KAFKA_LEADER_ELECTION,
                    None,
                    fields! {
                        "topic" => st.topic.as_str(), "partition" => st.partition, "old_leader" => broker, "leader" => new_leader,
                        "leader_epoch" => st.leader_epoch + 1, "isr" => isr.clone(), "unclean" => false, "dead" => Vec::<i32>::new(),
                        "reason" => "controlled shutdown"
                    },
                );
                self.write_state(
                    &st.topic,
                    st.partition,
                    new_leader,
                    st.leader_epoch + 1,
                    isr,
                    st.replicas.clone(),
                )
                .await;
            } else if st.isr.contains(&broker) && st.leader >= 0 {
                self.write_state(
                    &st.topic,
                    st.partition,
                    st.leader,
                    st.leader_epoch + 1,
                    isr,
                    st.replicas.clone(),
                )
                .await;
            } else {
                continue;
            }
            stop.push(TopicAndPartition::new(st.topic.clone(), st.partition));
            let st = lock(&self.context).states.get(&(st.topic.clone(), st.partition)).cloned();
            if let Some(st) = st {
                // ControlledShutdownLeaderSelector: the leaving broker is not told to follow.
                self.send_leader_and_isr_to(&st, |r| r != broker);
            }
        }
        // The leaving broker stops fetching, so it does not slip back into the ISRs.
        if !stop.is_empty() {
            let epoch = lock(&self.context).epoch;
            self.send(
                broker,
                Request::StopReplica(StopReplicaRequest {
                    controller_epoch: epoch,
                    delete_partitions: false,
                    partitions: stop,
                }),
            );
        }
        let all: Vec<i32> = lock(&self.context).live.keys().copied().collect();
        self.send_update_metadata(&all);
        remaining
    }

    /// `/admin/preferred_replica_election` appeared (`PreferredReplicaElectionListener`): each
    /// listed partition whose first assigned replica is alive and in sync gets it back as leader.
    pub async fn on_preferred_replica_election(&self) {
        let data = match self.zk.get_data(zku::PREFERRED_ELECTION, false).await {
            Ok((d, _)) => d,
            Err(_) => {
                let _ = self.zk.exists(zku::PREFERRED_ELECTION, true).await;
                return;
            }
        };
        for (t, p) in zku::parse_partition_list(&data) {
            let st = lock(&self.context).states.get(&(t.clone(), p)).cloned();
            let Some(st) = st else { continue };
            let Some(&preferred) = st.replicas.first() else { continue };
            let alive = lock(&self.context).live.contains_key(&preferred);
            if st.leader == preferred || !alive || !st.isr.contains(&preferred) {
                continue;
            }
            self.ctx.trace(
                kind::KAFKA_LEADER_ELECTION,
                None,
                fields! {
                    "topic" => t.as_str(), "partition" => p, "old_leader" => st.leader, "leader" => preferred,
                    "leader_epoch" => st.leader_epoch + 1, "isr" => st.isr.clone(), "unclean" => false, "dead" => Vec::<i32>::new(),
                    "reason" => "preferred replica"
                },
            );
            self.write_state(
                &t,
                p,
                preferred,
                st.leader_epoch + 1,
                st.isr.clone(),
                st.replicas.clone(),
            )
            .await;
            let st = lock(&self.context).states.get(&(t.clone(), p)).cloned();
            if let Some(st) = st {
                self.send_leader_and_isr(&st);
            }
        }
        let all: Vec<i32> = lock(&self.context).live.keys().copied().collect();
        self.send_update_metadata(&all);
        // The election is over: the admin path goes, and the watch is armed for the next one.
        let _ = self.zk.delete(zku::PREFERRED_ELECTION, -1).await;
        let _ = self.zk.exists(zku::PREFERRED_ELECTION, true).await;
    }

    /// `/brokers/topics` changed (`TopicChangeListener`): new topics come online.
    pub async fn on_topic_change(&self) {
        let Ok(topics) = self.watch_topics().await else { return };
        let new: Vec<(String, BTreeMap<i32, Vec<i32>>)> = {
            let cx = lock(&self.context);
            topics.into_iter().filter(|(t, _)| !cx.assignments.contains_key(t)).collect()
        };
        if new.is_empty() {
            return;
        }
        for (t, a) in &new {
            self.ctx.trace(
                kind::KAFKA_NEW_TOPIC,
                None,
                fields! { "topic" => t.as_str(), "partitions" => a.len() },
            );
            lock(&self.context).assignments.insert(t.clone(), a.clone());
            self.on_new_partition_creation(t, a).await;
        }
        let all: Vec<i32> = lock(&self.context).live.keys().copied().collect();
        self.send_update_metadata(&all);
    }

    /// `/brokers/topics/<t>` changed (`PartitionModificationsListener`, e.g. after
    /// `kafka-topics.sh --alter --partitions`): partitions not yet known come online
    /// (`onNewPartitionCreation`); the read re-arms the watch.
    pub async fn on_partition_modification(&self, topic: &str) {
        let Ok((data, _)) =
            self.zk.get_data(&format!("{}/{topic}", zku::BROKER_TOPICS), true).await
        else {
            return;
        };
        let Some(now) = zku::parse_topic_assignment(&data) else { return };
        let added: BTreeMap<i32, Vec<i32>> = {
            let cx = lock(&self.context);
            let Some(known) = cx.assignments.get(topic) else { return };
            now.into_iter().filter(|(p, _)| !known.contains_key(p)).collect()
        };
        if added.is_empty() {
            return;
        }
        self.ctx.trace(kind::KAFKA_NEW_PARTITIONS, None, fields! { "topic" => topic, "partitions" => added.keys().copied().collect::<Vec<i32>>() });
        lock(&self.context).assignments.entry(topic.to_string()).or_default().extend(added.clone());
        self.on_new_partition_creation(topic, &added).await;
        let all: Vec<i32> = lock(&self.context).live.keys().copied().collect();
        self.send_update_metadata(&all);
    }

    /// `onNewPartitionCreation`: NewPartition -> OnlinePartition for each partition.
    async fn on_new_partition_creation(&self, t: &str, a: &BTreeMap<i32, Vec<i32>>) {
        {
            for (p, replicas) in a {
                // NewPartition -> OnlinePartition: first live replica leads, live replicas are the ISR.
                let live: Vec<i32> = {
                    let cx = lock(&self.context);
                    replicas.iter().copied().filter(|r| cx.live.contains_key(r)).collect()
                };
                let leader = live.first().copied().unwrap_or(-1);
                self.write_state(t, *p, leader, 0, live, replicas.clone()).await;
                let st = lock(&self.context).states.get(&(t.to_string(), *p)).cloned();
                if let Some(st) = st {
                    self.send_leader_and_isr(&st);
                }
            }
        }
    }

    /// Elects leaders for partitions without a live leader (`OfflinePartitionLeaderSelector`).
    async fn elect_offline(&self, dead: Option<&[i32]>) {
        let offline: Vec<PartitionState> = {
            let cx = lock(&self.context);
            cx.states
                .values()
                .filter(|s| s.leader < 0 || !cx.live.contains_key(&s.leader))
                .cloned()
                .collect()
        };
        // The choice itself is a plug-in point (crate::hooks), built in by default.
        let selector = self.selector.clone();
        for st in offline {
            let live: BTreeSet<i32> = lock(&self.context).live.keys().copied().collect();
            // OfflinePartitionLeaderSelector reads the topic's override only when no ISR is alive.
            let no_live_isr = !st.isr.iter().any(|r| live.contains(r) && st.replicas.contains(r));
            let any_live = st.replicas.iter().any(|r| live.contains(r));
            let unclean_enabled = no_live_isr && any_live && self.unclean_enabled(&st.topic).await;
            let (leader, isr, unclean) =
                match selector.select_leader(&st.replicas, &st.isr, &live, unclean_enabled) {
                    Some(sel) => (sel.leader, sel.isr, !st.isr.contains(&sel.leader)),
                    None => (-1, st.isr.clone(), false),
                };
            if leader == st.leader {
                continue;
            }
            self.ctx.trace(
                kind::KAFKA_LEADER_ELECTION,
                None,
                fields! {
                    "topic" => st.topic.as_str(), "partition" => st.partition, "old_leader" => st.leader, "leader" => leader,
                    "leader_epoch" => st.leader_epoch + 1, "isr" => isr.clone(), "unclean" => unclean,
                    "dead" => dead.map(|d| d.to_vec()).unwrap_or_default()
                },
            );
            self.write_state(
                &st.topic,
                st.partition,
                leader,
                st.leader_epoch + 1,
                isr,
                st.replicas.clone(),
            )
            .await;
            let st = lock(&self.context).states.get(&(st.topic.clone(), st.partition)).cloned();
            if let Some(st) = st {
                self.send_leader_and_isr(&st);
            }
        }
    }

    /// `unclean.leader.election.enable` for a topic: its `/config/topics/<t>` override, else the
    /// broker's setting.
    async fn unclean_enabled(&self, topic: &str) -> bool {
        let overrides =
            match self.zk.get_data(&format!("{}/{topic}", zku::CONFIG_TOPICS), false).await {
                Ok((d, _)) => zku::topic_configs_in_describe_order(&d),
                Err(_) => Vec::new(),
            };
        overrides
            .iter()
            .find(|(k, _)| k == "unclean.leader.election.enable")
            .map(|(_, v)| v.trim().eq_ignore_ascii_case("true"))
            .unwrap_or(self.cfg.unclean_leader_election_enable)
    }

    /// Writes a state znode (create, or compare-and-set on its version) and records it.
    async fn write_state(
        &self,
        topic: &str,
        p: i32,
        leader: i32,
        leader_epoch: i32,
        isr: Vec<i32>,
        replicas: Vec<i32>,
    ) {
        let epoch = lock(&self.context).epoch;
        let json = zku::partition_state_json(epoch, leader, leader_epoch, &isr);
        let path = zku::partition_state_path(topic, p);
        let known = lock(&self.context).states.get(&(topic.to_string(), p)).map(|s| s.zk_version);
        let version = match known {
            Some(v) => self.zk.set_data(&path, json.as_bytes(), v).await.map(|s| s.version),
            None => match zku::create_with_parents(
                &self.zk,
                &path,
                json.as_bytes(),
                CreateMode::Persistent,
            )
            .await
            {
                Ok(_) => Ok(0),
                Err(ZkError::NodeExists) => {
                    self.zk.set_data(&path, json.as_bytes(), -1).await.map(|s| s.version)
                }
                Err(e) => Err(e),
            },
        };
        if let Ok(v) = version {
            lock(&self.context).states.insert(
                (topic.to_string(), p),
                PartitionState {
                    topic: topic.into(),
                    partition: p,
                    leader,
                    leader_epoch,
                    isr,
                    zk_version: v,
                    replicas,
                },
            );
        }
    }

    fn send_leader_and_isr(&self, st: &PartitionState) {
        self.send_leader_and_isr_to(st, |_| true);
    }

    /// LeaderAndIsr to the live replicas that `wanted` accepts.
    fn send_leader_and_isr_to(&self, st: &PartitionState, wanted: impl Fn(i32) -> bool) {
        let targets: Vec<i32> = {
            let cx = lock(&self.context);
            st.replicas.iter().copied().filter(|r| cx.live.contains_key(r) && wanted(*r)).collect()
        };
        for b in targets {
            let req = leader_and_isr(&lock(&self.context), vec![st.clone()]);
            self.send(b, req);
        }
    }

    fn send_leader_and_isr_for_all(&self, brokers: &[i32]) {
        for b in brokers {
            let mine: Vec<PartitionState> = lock(&self.context)
                .states
                .values()
                .filter(|s| s.replicas.contains(b))
                .cloned()
                .collect();
            if !mine.is_empty() {
                let req = leader_and_isr(&lock(&self.context), mine);
                self.send(*b, req);
            }
        }
    }

    fn send_update_metadata(&self, brokers: &[i32]) {
        for b in brokers {
            let req = {
                let cx = lock(&self.context);
                Request::UpdateMetadata(UpdateMetadataRequest {
                    controller_id: self.cfg.broker_id,
                    controller_epoch: cx.epoch,
                    partition_states: cx.states.values().cloned().collect(),
                    live_brokers: cx.live.values().cloned().collect(),
                })
            };
            self.send(*b, req);
        }
    }

    /// Queues a request for a broker; one sender task per broker keeps them in order.
    fn send(&self, broker: i32, req: Request) {
        let mut ch = lock(&self.channels);
        let sender = ch.entry(broker).or_insert_with(|| {
            let (queue, rx) = mpsc::unbounded();
            let addr = lock(&self.context).live.get(&broker).cloned();
            let thread =
                madsim::task::spawn(request_sender(self.ctx.clone(), self.cfg.clone(), addr, rx))
                    .abort_handle();
            RequestSendThread { queue, thread }
        });
        let _ = sender.queue.unbounded_send(req);
    }

    /// Stops the sender tasks and drops their queues (resignation).
    pub fn shutdown(&self) {
        lock(&self.channels).clear();
    }
}

fn leader_and_isr(cx: &ControllerContext, partitions: Vec<PartitionState>) -> Request {
    let leaders: Vec<BrokerEndPoint> =
        partitions.iter().filter_map(|p| cx.live.get(&p.leader).cloned()).collect();
    Request::LeaderAndIsr(LeaderAndIsrRequest {
        controller_id: -1,
        controller_epoch: cx.epoch,
        partition_states: partitions,
        live_leaders: leaders,
    })
}

/// `RequestSendThread`: connects to one broker and sends its requests one by one, over a
/// [`NetworkClient`] with one request in flight (as 0.9's), reconnecting after a failure.
async fn request_sender(
    ctx: ProcCtx,
    cfg: Arc<KafkaConfig>,
    addr: Option<BrokerEndPoint>,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    let Some(addr) = addr else { return };
    let timeout = Duration::from_millis(cfg.controller_socket_timeout_ms as u64);
    let mut client =
        NetworkClient::new(&ctx, addr, cfg.broker_id.to_string()).with_max_in_flight(1);
    while let Some(mut req) = rx.next().await {
        if let Request::LeaderAndIsr(r) = &mut req {
            r.controller_id = cfg.broker_id;
        }
        for _attempt in 0..5 {
            if client.ready(timeout).await.is_err() {
                madsim::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            // Any answer completes the request, StaleControllerEpoch included.
            if client.request(req.clone(), timeout).await.is_ok() {
                break;
            }
            client.close();
            madsim::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Reads, increments and writes `/controller_epoch` with compare-and-set.
async fn increment_controller_epoch(zk: &ZooKeeper) -> Result<i32, ZkError> {
    loop {
        match zk.get_data(zku::CONTROLLER_EPOCH, false).await {
            Ok((data, stat)) => {
                let cur: i32 = String::from_utf8_lossy(&data).trim().parse().unwrap_or(0);
                match zk
                    .set_data(zku::CONTROLLER_EPOCH, (cur + 1).to_string().as_bytes(), stat.version)
                    .await
                {
                    Ok(_) => return Ok(cur + 1),
                    Err(ZkError::BadVersion) => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(ZkError::NoNode) => {
                match zk.create(zku::CONTROLLER_EPOCH, b"1", CreateMode::Persistent).await {
                    Ok(_) => return Ok(1),
                    Err(ZkError::NodeExists) => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
}
