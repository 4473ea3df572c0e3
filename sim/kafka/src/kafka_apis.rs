//! `kafka.server.KafkaApis`: the broker's request dispatch. The socket server hands each
//! request here; it goes to the replica manager (produce, fetch, LeaderAndIsr, UpdateMetadata,
//! StopReplica), the group coordinator (the group APIs), the controller (ControlledShutdown), or
//! is answered here from the metadata cache and the local logs (Metadata, ListOffsets,
//! OffsetsForLeaderEpoch).

use crate::controller::KafkaController;
use crate::coordinator::offsets::GROUP_METADATA_TOPIC_NAME;
use crate::coordinator::GroupCoordinator;
use crate::leader_epoch::UNDEFINED_EPOCH_OFFSET;
use crate::proto::{
    ControlledShutdownRequest, ControlledShutdownResponse, EpochEndOffset, FetchResponse,
    KafkaError, ListOffsetsPartition, ListOffsetsPartitionResponse, ListOffsetsRequest,
    ListOffsetsResponse, MetadataResponse, OffsetsForLeaderEpochPartition,
    OffsetsForLeaderEpochRequest, OffsetsForLeaderEpochResponse, Request, Response, TopicMetadata,
};
use crate::replica_manager::ReplicaManager;
use crate::zk_utils;
use sim_core::trace::{fields, kind, lock};
use std::sync::{Arc, Mutex};

/// A broker's request handler.
pub struct KafkaApis {
    replica_manager: Arc<ReplicaManager>,
    coordinator: Arc<GroupCoordinator>,
    /// The controller while this broker is it.
    controller: Arc<Mutex<Option<Arc<KafkaController>>>>,
}

impl KafkaApis {
    /// The handler of a broker with these parts.
    pub fn new(
        replica_manager: Arc<ReplicaManager>,
        coordinator: Arc<GroupCoordinator>,
        controller: Arc<Mutex<Option<Arc<KafkaController>>>>,
    ) -> Self {
        KafkaApis { replica_manager, coordinator, controller }
    }

    /// `KafkaApis.handle`: one request from `client_id` at `peer_host`, and its response
    /// (`None` for an acks=0 produce).
    pub async fn handle(&self, client_id: &str, peer_host: &str, req: Request) -> Option<Response> {
        let rm = &self.replica_manager;
        match req {
            Request::Group(req) => {
                Some(Response::Group(self.coordinator.handle(req, client_id, peer_host).await))
            }
            Request::ControlledShutdown(r) => {
                Some(self.handle_controlled_shutdown_request(r).await)
            }
            Request::Metadata(r) => Some(self.handle_topic_metadata_request(r.topics).await),
            Request::Produce(r) => rm.append_messages(r.acks, r.timeout, r.topic_data).await,
            Request::Fetch(r) => Some(Response::Fetch(FetchResponse {
                responses: rm
                    .fetch_messages(r.replica_id, r.max_wait_time, r.min_bytes, r.topics)
                    .await,
            })),
            Request::ListOffsets(r) => Some(self.handle_offset_request(r).await),
            Request::OffsetsForLeaderEpoch(r) => Some(self.handle_offsets_for_leader_epoch(r)),
            Request::LeaderAndIsr(r) => {
                // Moves of `__consumer_offsets` partitions make this broker a group coordinator
                // or stop it being one (`onLeadershipChange`).
                let offsets =
                    offsets_partitions(r.partition_states.iter().map(|p| (&p.topic, p.partition)));
                let error = rm.become_leader_or_follower_request(r).await;
                for p in offsets {
                    let leads = rm
                        .partition(GROUP_METADATA_TOPIC_NAME, p)
                        .is_some_and(|part| lock(&part.info).leader == rm.broker_id);
                    self.coordinator.on_leadership_change(p, leads);
                }
                Some(Response::Ack(error))
            }
            Request::UpdateMetadata(r) => Some(Response::Ack(rm.maybe_update_metadata_cache(r))),
            Request::StopReplica(r) => {
                let offsets =
                    offsets_partitions(r.partitions.iter().map(|p| (&p.topic, p.partition)));
                let error = rm.stop_replicas(r).await;
                for p in offsets {
                    self.coordinator.on_leadership_change(p, false);
                }
                Some(Response::Ack(error))
            }
        }
    }

    /// `KafkaApis.handleControlledShutdownRequest`: only the controller answers.
    async fn handle_controlled_shutdown_request(&self, r: ControlledShutdownRequest) -> Response {
        let current = lock(&self.controller).clone();
        Response::ControlledShutdown(match current {
            Some(c) => ControlledShutdownResponse {
                error_code: KafkaError::None,
                partitions_remaining: c.shutdown_broker(r.broker_id).await,
            },
            None => ControlledShutdownResponse {
                error_code: KafkaError::NotLeaderForPartition,
                partitions_remaining: Vec::new(),
            },
        })
    }

    /// `KafkaApis.handleOffsetRequest`: only a debugging client may ask a follower, and an
    /// ordinary client's latest offset is the high watermark, not the log end.
    async fn handle_offset_request(&self, req: ListOffsetsRequest) -> Response {
        let rm = &self.replica_manager;
        let ListOffsetsRequest { replica_id, topics } = req;
        let mut out = Vec::new();
        for ListOffsetsPartition { topic, partition, timestamp } in topics {
            let answer = |topic, error_code, offset| ListOffsetsPartitionResponse {
                topic,
                partition,
                error_code,
                offset,
            };
            match rm.partition(&topic, partition) {
                Some(part) => {
                    let (leader, hw) = {
                        let info = lock(&part.info);
                        (info.leader, info.hw)
                    };
                    if replica_id != -2 && leader != rm.broker_id {
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
        Response::ListOffsets(ListOffsetsResponse { responses: out })
    }

    /// `OffsetsForLeaderEpoch` (KIP-101): where each asked leader epoch ends in this leader's log.
    fn handle_offsets_for_leader_epoch(&self, req: OffsetsForLeaderEpochRequest) -> Response {
        let rm = &self.replica_manager;
        let mut out = Vec::new();
        for OffsetsForLeaderEpochPartition { topic, partition, leader_epoch } in req.topics {
            let answer = |topic, error_code, end_offset| EpochEndOffset {
                topic,
                partition,
                error_code,
                end_offset,
            };
            let Some(part) = rm.partition(&topic, partition) else {
                out.push(answer(
                    topic,
                    KafkaError::UnknownTopicOrPartition,
                    UNDEFINED_EPOCH_OFFSET,
                ));
                continue;
            };
            if lock(&part.info).leader != rm.broker_id {
                out.push(answer(topic, KafkaError::NotLeaderForPartition, UNDEFINED_EPOCH_OFFSET));
                continue;
            }
            let end = lock(&part.epochs).end_offset_for(leader_epoch, *lock(&part.leo));
            out.push(answer(topic, KafkaError::None, end));
        }
        Response::OffsetsForLeaderEpoch(OffsetsForLeaderEpochResponse { topics: out })
    }

    /// `KafkaApis.handleTopicMetadataRequest`: the cached metadata of the topics asked for (all
    /// when none), creating a missing topic when `auto.create.topics.enable` says so (and
    /// `__consumer_offsets` always).
    async fn handle_topic_metadata_request(&self, topics: Vec<String>) -> Response {
        let rm = &self.replica_manager;
        let (brokers, mut by_topic) = {
            let cache = lock(&rm.metadata_cache);
            (cache.get_alive_brokers(), cache.topic_metadata())
        };
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
                    let offsets_topic = t == crate::coordinator::offsets::GROUP_METADATA_TOPIC_NAME;
                    let err = if offsets_topic {
                        let live: Vec<i32> = brokers.iter().map(|b| b.id).collect();
                        if crate::coordinator::offsets::create_offsets_topic(
                            &rm.ctx,
                            &rm.cfg,
                            &rm.zk(),
                            &live,
                        )
                        .await
                        {
                            KafkaError::LeaderNotAvailable
                        } else {
                            KafkaError::UnknownTopicOrPartition
                        }
                    } else if rm.cfg.auto_create_topics_enable && self.auto_create(&t).await {
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
        Response::Metadata(MetadataResponse { brokers, topic_metadata: out })
    }

    /// `AdminUtils.createTopic` with the broker's defaults (`num.partitions`,
    /// `default.replication.factor`), as `KafkaApis.getTopicMetadata` does for a missing topic.
    async fn auto_create(&self, topic: &str) -> bool {
        let rm = &self.replica_manager;
        let brokers: Vec<i32> = lock(&rm.metadata_cache).alive_broker_ids();
        if brokers.is_empty() || crate::admin::validate_topic(topic).is_err() {
            return false;
        }
        let rf = (rm.cfg.default_replication_factor as usize).min(brokers.len()) as i32;
        let Ok(assignment) =
            crate::admin::assign_replicas_randomly(&brokers, rm.cfg.num_partitions, rf)
        else {
            return false;
        };
        let path = format!("{}/{topic}", zk_utils::BROKER_TOPICS);
        let json = zk_utils::topic_assignment_json(&assignment);
        let ok = zk_utils::create_with_parents(
            &rm.zk(),
            &path,
            json.as_bytes(),
            zookeeper::txn::CreateMode::Persistent,
        )
        .await
        .is_ok();
        if ok {
            rm.ctx.trace(kind::KAFKA_TOPIC_AUTO_CREATED, None, fields! { "topic" => topic });
        }
        ok
    }
}

/// The `__consumer_offsets` partitions among `partitions`.
fn offsets_partitions<'a>(partitions: impl Iterator<Item = (&'a String, i32)>) -> Vec<i32> {
    partitions.filter(|(t, _)| *t == GROUP_METADATA_TOPIC_NAME).map(|(_, p)| p).collect()
}
