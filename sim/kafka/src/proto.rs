//! The Kafka protocol over the virtual network: requests, responses and their error codes.
//!
//! One connection carries [`KafkaPacket`]s; like Kafka's `SocketServer`, a broker handles one
//! request per connection at a time, so responses come back in order. Record data travels as the
//! raw message-set bytes of the on-disk format, so the NIC is charged what Kafka would send.

use sim_core::hw::Wire;

pub use crate::errors::{BrokerEndPoint, KafkaError};

/// A partition's leadership as the controller decides it (`LeaderIsrAndControllerEpoch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Leader broker, −1 for none.
    pub leader: i32,
    /// Incremented on every leader change.
    pub leader_epoch: i32,
    /// In-sync replicas.
    pub isr: Vec<i32>,
    /// Version of the state znode (for compare-and-set).
    pub zk_version: i32,
    /// Assigned replicas.
    pub replicas: Vec<i32>,
}

/// Requests (`ApiKeys`).
#[derive(Debug, Clone)]
pub enum Request {
    /// ApiKey 3.
    Metadata {
        /// Topics wanted (empty: all).
        topics: Vec<String>,
    },
    /// ApiKey 0.
    Produce {
        /// 0, 1 or −1 (all).
        acks: i16,
        /// How long the broker may wait for acks=all.
        timeout_ms: i32,
        /// (topic, partition, message-set bytes, number of records).
        data: Vec<(String, i32, Vec<u8>, usize)>,
    },
    /// ApiKey 1.
    Fetch {
        /// −1 for consumers, the broker id for followers.
        replica_id: i32,
        /// Longest wait when there is less than `min_bytes`.
        max_wait_ms: i32,
        /// Bytes wanted before answering.
        min_bytes: i32,
        /// (topic, partition, offset, max bytes).
        partitions: Vec<(String, i32, i64, i32)>,
    },
    /// ApiKey 2: the earliest (−2) or latest (−1) offset.
    ListOffsets {
        /// −1 for an ordinary client (answered by the leader, latest = the high watermark), −2 for a
        /// debugging client (any replica, its log end), a broker id for a follower.
        replica_id: i32,
        /// (topic, partition, time).
        partitions: Vec<(String, i32, i64)>,
    },
    /// ApiKey 4.
    LeaderAndIsr {
        /// Sender.
        controller_id: i32,
        /// Sender's epoch.
        controller_epoch: i32,
        /// Decisions.
        partitions: Vec<PartitionState>,
        /// Leaders' addresses.
        leaders: Vec<BrokerEndPoint>,
    },
    /// ApiKey 6.
    UpdateMetadata {
        /// Sender.
        controller_id: i32,
        /// Sender's epoch.
        controller_epoch: i32,
        /// Every partition's state.
        partitions: Vec<PartitionState>,
        /// Live brokers.
        brokers: Vec<BrokerEndPoint>,
    },
    /// ApiKey 7: a broker about to stop asks the controller to move its leaderships away.
    ControlledShutdown {
        /// The broker shutting down.
        broker_id: i32,
    },
    /// ApiKey 23 (Kafka 0.11, KIP-101; only with `lab.replica.truncation=leader-epoch`): where
    /// does each of these leader epochs end on the leader?
    OffsetsForLeaderEpoch {
        /// (topic, partition, leader epoch).
        partitions: Vec<(String, i32, i32)>,
    },
    /// ApiKey 5: stop serving (and optionally delete) partitions.
    StopReplica {
        /// Sender's epoch.
        controller_epoch: i32,
        /// Delete the logs too.
        delete: bool,
        /// Partitions.
        partitions: Vec<(String, i32)>,
    },
    /// ApiKeys 8–16: the group coordinator's requests (see [`super::coordinator::protocol`]).
    Group(super::coordinator::protocol::GroupRequest),
}

/// Per-partition metadata in a Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// Error for this partition.
    pub error: KafkaError,
    /// Partition.
    pub partition: i32,
    /// Leader (−1 none).
    pub leader: i32,
    /// Replicas.
    pub replicas: Vec<i32>,
    /// ISR.
    pub isr: Vec<i32>,
}

/// Responses.
#[derive(Debug, Clone)]
pub enum Response {
    /// Metadata.
    Metadata {
        /// Live brokers.
        brokers: Vec<BrokerEndPoint>,
        /// (topic, error, partitions).
        topics: Vec<(String, KafkaError, Vec<PartitionMetadata>)>,
    },
    /// Produce: (topic, partition, error, base offset).
    Produce(Vec<(String, i32, KafkaError, i64)>),
    /// Fetch: (topic, partition, error, high watermark, message-set bytes).
    /// The bytes are shared with the leader's log when they can be (see `hw::content`).
    Fetch(Vec<(String, i32, KafkaError, i64, bytes::Bytes)>),
    /// ListOffsets: (topic, partition, error, offset).
    ListOffsets(Vec<(String, i32, KafkaError, i64)>),
    /// OffsetsForLeaderEpoch: (topic, partition, error, end offset or −1 if undefined).
    OffsetsForLeaderEpoch(Vec<(String, i32, KafkaError, i64)>),
    /// LeaderAndIsr / UpdateMetadata / StopReplica: an error code.
    Ack(KafkaError),
    /// ControlledShutdown: an error code and the partitions this broker still leads.
    ControlledShutdown(KafkaError, Vec<(String, i32)>),
    /// The group coordinator's responses.
    Group(super::coordinator::protocol::GroupResponse),
}

/// What travels on a connection to port 9092.
#[derive(Debug, Clone)]
pub enum KafkaPacket {
    /// A request.
    Request {
        /// Matches the response.
        correlation_id: i32,
        /// `client.id`.
        client_id: String,
        /// The request.
        body: Request,
    },
    /// A response.
    Response {
        /// The request's correlation id.
        correlation_id: i32,
        /// The response.
        body: Response,
    },
}

fn topics_size<'a>(it: impl Iterator<Item = &'a String>) -> usize {
    it.map(|t| 2 + t.len() + 4).sum()
}

impl Wire for KafkaPacket {
    fn wire_size(&self) -> usize {
        // size + api key + version + correlation id (+ client id) headers, then the body.
        match self {
            KafkaPacket::Request { client_id, body, .. } => {
                14 + client_id.len()
                    + match body {
                        Request::Metadata { topics } => 4 + topics_size(topics.iter()),
                        Request::Produce { data, .. } => {
                            10 + data
                                .iter()
                                .map(|(t, _, b, _)| 2 + t.len() + 12 + b.len())
                                .sum::<usize>()
                        }
                        Request::Fetch { partitions, .. } => {
                            16 + partitions.iter().map(|(t, ..)| 2 + t.len() + 20).sum::<usize>()
                        }
                        Request::ListOffsets { partitions, .. } => {
                            8 + partitions.iter().map(|(t, ..)| 2 + t.len() + 20).sum::<usize>()
                        }
                        Request::OffsetsForLeaderEpoch { partitions } => {
                            8 + partitions.iter().map(|(t, ..)| 2 + t.len() + 8).sum::<usize>()
                        }
                        Request::LeaderAndIsr { partitions, leaders, .. }
                        | Request::UpdateMetadata { partitions, brokers: leaders, .. } => {
                            12 + partitions
                                .iter()
                                .map(|p| {
                                    2 + p.topic.len() + 24 + 4 * (p.isr.len() + p.replicas.len())
                                })
                                .sum::<usize>()
                                + leaders.iter().map(|b| 10 + b.host.len()).sum::<usize>()
                        }
                        Request::StopReplica { partitions, .. } => {
                            12 + partitions.iter().map(|(t, _)| 2 + t.len() + 4).sum::<usize>()
                        }
                        Request::ControlledShutdown { .. } => 4,
                        Request::Group(g) => g.wire_size(),
                    }
            }
            KafkaPacket::Response { body, .. } => {
                8 + match body {
                    Response::Metadata { brokers, topics } => {
                        brokers.iter().map(|b| 10 + b.host.len()).sum::<usize>()
                            + topics
                                .iter()
                                .map(|(t, _, ps)| {
                                    6 + t.len()
                                        + ps.iter()
                                            .map(|p| 18 + 4 * (p.replicas.len() + p.isr.len()))
                                            .sum::<usize>()
                                })
                                .sum::<usize>()
                    }
                    Response::Produce(v) => v.iter().map(|(t, ..)| 2 + t.len() + 18).sum(),
                    Response::Fetch(v) => {
                        v.iter().map(|(t, _, _, _, b)| 2 + t.len() + 18 + b.len()).sum()
                    }
                    Response::ListOffsets(v) | Response::OffsetsForLeaderEpoch(v) => {
                        v.iter().map(|(t, ..)| 2 + t.len() + 18).sum()
                    }
                    Response::Ack(_) => 2,
                    Response::ControlledShutdown(_, v) => {
                        6 + v.iter().map(|(t, _)| 2 + t.len() + 4).sum::<usize>()
                    }
                    Response::Group(g) => g.wire_size(),
                }
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            KafkaPacket::Request { body, .. } => match body {
                Request::Metadata { .. } => "kafka.metadata",
                Request::Produce { .. } => "kafka.produce",
                Request::Fetch { replica_id, .. } if *replica_id >= 0 => "kafka.replica_fetch",
                Request::Fetch { .. } => "kafka.fetch",
                Request::ListOffsets { .. } => "kafka.list_offsets",
                Request::OffsetsForLeaderEpoch { .. } => "kafka.offsets_for_leader_epoch",
                Request::LeaderAndIsr { .. } => "kafka.leader_and_isr",
                Request::UpdateMetadata { .. } => "kafka.update_metadata",
                Request::StopReplica { .. } => "kafka.stop_replica",
                Request::ControlledShutdown { .. } => "kafka.controlled_shutdown",
                Request::Group(g) => g.kind(),
            },
            KafkaPacket::Response { body, .. } => match body {
                Response::Metadata { .. } => "kafka.metadata_response",
                Response::Produce(_) => "kafka.produce_response",
                Response::Fetch(_) => "kafka.fetch_response",
                Response::ListOffsets(_) => "kafka.list_offsets_response",
                Response::OffsetsForLeaderEpoch(_) => "kafka.offsets_for_leader_epoch_response",
                Response::Ack(_) => "kafka.ack",
                Response::ControlledShutdown(..) => "kafka.controlled_shutdown_response",
                Response::Group(g) => g.kind(),
            },
        }
    }

    fn traced(&self) -> bool {
        // Empty long-poll fetches would flood the trace; data-carrying ones are traced.
        match self {
            KafkaPacket::Request { body: Request::Fetch { .. }, .. } => false,
            KafkaPacket::Response { body: Response::Fetch(v), .. } => {
                v.iter().any(|(.., b)| !b.is_empty())
            }
            _ => true,
        }
    }
}
