//! The Kafka protocol over the virtual network: requests, responses and their error codes.
//!
//! One connection carries [`KafkaPacket`]s; like Kafka's `SocketServer`, a broker handles one
//! request per connection at a time, so responses come back in order. Record data travels as the
//! raw message-set bytes of the on-disk format, so the NIC is charged what Kafka would send.

use sim_core::hw::Wire;

pub use crate::common::TopicAndPartition;
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

/// ApiKey 3 (`MetadataRequest` v0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// Topics wanted (empty: all).
    pub topics: Vec<String>,
}

/// ApiKey 0 (`ProduceRequest` v0): `acks timeout [topic_data]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest {
    /// 0, 1 or −1 (all).
    pub acks: i16,
    /// How long the broker may wait for acks=all, in ms.
    pub timeout: i32,
    /// The records, one entry per partition.
    pub topic_data: Vec<ProducePartitionData>,
}

/// One partition's records in a [`ProduceRequest`]. Kafka groups partitions under their topic;
/// here each entry names its topic (the wire size charges the name per partition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducePartitionData {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Message-set bytes.
    pub record_set: Vec<u8>,
    /// How many records `record_set` holds (not on Kafka's wire; the client knows it).
    pub record_count: usize,
}

/// ApiKey 1 (`FetchRequest` v0/v1): `replica_id max_wait_time min_bytes [topics]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// −1 for consumers, the broker id for followers.
    pub replica_id: i32,
    /// Longest wait in ms when there is less than `min_bytes`.
    pub max_wait_time: i32,
    /// Bytes wanted before answering.
    pub min_bytes: i32,
    /// Where to read, one entry per partition.
    pub topics: Vec<FetchPartition>,
}

/// One partition of a [`FetchRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// First offset wanted.
    pub fetch_offset: i64,
    /// Most bytes to return for this partition.
    pub max_bytes: i32,
}

/// ApiKey 2 (`ListOffsetRequest`): the earliest (−2) or latest (−1) offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsRequest {
    /// −1 for an ordinary client (answered by the leader, latest = the high watermark), −2 for a
    /// debugging client (any replica, its log end), a broker id for a follower.
    pub replica_id: i32,
    /// One entry per partition.
    pub topics: Vec<ListOffsetsPartition>,
}

/// One partition of a [`ListOffsetsRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// −1 latest, −2 earliest.
    pub timestamp: i64,
}

/// ApiKey 4 (`LeaderAndIsrRequest` v0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderAndIsrRequest {
    /// Sender.
    pub controller_id: i32,
    /// Sender's epoch.
    pub controller_epoch: i32,
    /// Decisions.
    pub partition_states: Vec<PartitionState>,
    /// Leaders' addresses.
    pub live_leaders: Vec<BrokerEndPoint>,
}

/// ApiKey 6 (`UpdateMetadataRequest` v0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateMetadataRequest {
    /// Sender.
    pub controller_id: i32,
    /// Sender's epoch.
    pub controller_epoch: i32,
    /// Every partition's state.
    pub partition_states: Vec<PartitionState>,
    /// Live brokers.
    pub live_brokers: Vec<BrokerEndPoint>,
}

/// ApiKey 7 (`ControlledShutdownRequest`): a broker about to stop asks the controller to move
/// its leaderships away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlledShutdownRequest {
    /// The broker shutting down.
    pub broker_id: i32,
}

/// ApiKey 23 (`OffsetsForLeaderEpochRequest`, Kafka 0.11, KIP-101; only with
/// `lab.replica.truncation=leader-epoch`): where does each of these leader epochs end on the
/// leader?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetsForLeaderEpochRequest {
    /// One entry per partition.
    pub topics: Vec<OffsetsForLeaderEpochPartition>,
}

/// One partition of an [`OffsetsForLeaderEpochRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetsForLeaderEpochPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The follower's latest leader epoch.
    pub leader_epoch: i32,
}

/// ApiKey 5 (`StopReplicaRequest`): stop serving (and optionally delete) partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReplicaRequest {
    /// Sender's epoch.
    pub controller_epoch: i32,
    /// Delete the logs too.
    pub delete_partitions: bool,
    /// Partitions.
    pub partitions: Vec<TopicAndPartition>,
}

/// Requests (`ApiKeys`).
#[derive(Debug, Clone)]
pub enum Request {
    /// ApiKey 3.
    Metadata(MetadataRequest),
    /// ApiKey 0.
    Produce(ProduceRequest),
    /// ApiKey 1.
    Fetch(FetchRequest),
    /// ApiKey 2.
    ListOffsets(ListOffsetsRequest),
    /// ApiKey 4.
    LeaderAndIsr(LeaderAndIsrRequest),
    /// ApiKey 6.
    UpdateMetadata(UpdateMetadataRequest),
    /// ApiKey 7.
    ControlledShutdown(ControlledShutdownRequest),
    /// ApiKey 23 (KIP-101).
    OffsetsForLeaderEpoch(OffsetsForLeaderEpochRequest),
    /// ApiKey 5.
    StopReplica(StopReplicaRequest),
    /// ApiKeys 8–16: the group coordinator's requests (see [`super::coordinator::protocol`]).
    Group(super::coordinator::protocol::GroupRequest),
}

/// Per-partition metadata in a Metadata response (`partition_metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// Error for this partition.
    pub error_code: KafkaError,
    /// Partition.
    pub partition: i32,
    /// Leader (−1 none).
    pub leader: i32,
    /// Replicas.
    pub replicas: Vec<i32>,
    /// ISR.
    pub isr: Vec<i32>,
}

/// One topic of a Metadata response (`topic_metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    /// Error for this topic.
    pub error_code: KafkaError,
    /// Topic.
    pub topic: String,
    /// Its partitions (empty with an error).
    pub partition_metadata: Vec<PartitionMetadata>,
}

/// `MetadataResponse` v0: `[brokers] [topic_metadata]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Live brokers.
    pub brokers: Vec<BrokerEndPoint>,
    /// The topics asked for (all, if none was).
    pub topic_metadata: Vec<TopicMetadata>,
}

/// One partition of a [`ProduceResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducePartitionResponse {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Error.
    pub error_code: KafkaError,
    /// Offset of the first appended record (−1 on error).
    pub base_offset: i64,
}

/// `ProduceResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceResponse {
    /// One entry per partition of the request.
    pub responses: Vec<ProducePartitionResponse>,
}

/// One partition of a [`FetchResponse`]: `partition error_code high_watermark record_set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPartitionResponse {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Error.
    pub error_code: KafkaError,
    /// The leader's high watermark (−1 when it is not the leader).
    pub high_watermark: i64,
    /// Message-set bytes, shared with the leader's log when they can be (see `hw::content`).
    pub record_set: bytes::Bytes,
}

/// `FetchResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    /// One entry per partition of the request.
    pub responses: Vec<FetchPartitionResponse>,
}

/// One partition of a [`ListOffsetsResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsPartitionResponse {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Error.
    pub error_code: KafkaError,
    /// The offset (−1 on error). Kafka v0 answers a list of offsets; the lab asks for one.
    pub offset: i64,
}

/// `ListOffsetResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsResponse {
    /// One entry per partition of the request.
    pub responses: Vec<ListOffsetsPartitionResponse>,
}

/// One partition of an [`OffsetsForLeaderEpochResponse`] (Kafka's `EpochEndOffset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochEndOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Error.
    pub error_code: KafkaError,
    /// Where the epoch ends on the leader, −1 if undefined.
    pub end_offset: i64,
}

/// `OffsetsForLeaderEpochResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetsForLeaderEpochResponse {
    /// One entry per partition of the request.
    pub topics: Vec<EpochEndOffset>,
}

/// `ControlledShutdownResponse`: `error_code [partitions_remaining]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlledShutdownResponse {
    /// Error.
    pub error_code: KafkaError,
    /// The partitions this broker still leads.
    pub partitions_remaining: Vec<TopicAndPartition>,
}

/// Responses.
#[derive(Debug, Clone)]
pub enum Response {
    /// Metadata.
    Metadata(MetadataResponse),
    /// Produce.
    Produce(ProduceResponse),
    /// Fetch.
    Fetch(FetchResponse),
    /// ListOffsets.
    ListOffsets(ListOffsetsResponse),
    /// OffsetsForLeaderEpoch.
    OffsetsForLeaderEpoch(OffsetsForLeaderEpochResponse),
    /// LeaderAndIsr / UpdateMetadata / StopReplica: an error code.
    Ack(KafkaError),
    /// ControlledShutdown.
    ControlledShutdown(ControlledShutdownResponse),
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
                        Request::Metadata(r) => 4 + topics_size(r.topics.iter()),
                        Request::Produce(r) => {
                            10 + r
                                .topic_data
                                .iter()
                                .map(|d| 2 + d.topic.len() + 12 + d.record_set.len())
                                .sum::<usize>()
                        }
                        Request::Fetch(r) => {
                            16 + r.topics.iter().map(|p| 2 + p.topic.len() + 20).sum::<usize>()
                        }
                        Request::ListOffsets(r) => {
                            8 + r.topics.iter().map(|p| 2 + p.topic.len() + 20).sum::<usize>()
                        }
                        Request::OffsetsForLeaderEpoch(r) => {
                            8 + r.topics.iter().map(|p| 2 + p.topic.len() + 8).sum::<usize>()
                        }
                        Request::LeaderAndIsr(LeaderAndIsrRequest {
                            partition_states,
                            live_leaders: brokers,
                            ..
                        })
                        | Request::UpdateMetadata(UpdateMetadataRequest {
                            partition_states,
                            live_brokers: brokers,
                            ..
                        }) => {
                            12 + partition_states
                                .iter()
                                .map(|p| {
                                    2 + p.topic.len() + 24 + 4 * (p.isr.len() + p.replicas.len())
                                })
                                .sum::<usize>()
                                + brokers.iter().map(|b| 10 + b.host.len()).sum::<usize>()
                        }
                        Request::StopReplica(r) => {
                            12 + r.partitions.iter().map(|p| 2 + p.topic.len() + 4).sum::<usize>()
                        }
                        Request::ControlledShutdown(_) => 4,
                        Request::Group(g) => g.wire_size(),
                    }
            }
            KafkaPacket::Response { body, .. } => {
                8 + match body {
                    Response::Metadata(r) => {
                        r.brokers.iter().map(|b| 10 + b.host.len()).sum::<usize>()
                            + r.topic_metadata
                                .iter()
                                .map(|t| {
                                    6 + t.topic.len()
                                        + t.partition_metadata
                                            .iter()
                                            .map(|p| 18 + 4 * (p.replicas.len() + p.isr.len()))
                                            .sum::<usize>()
                                })
                                .sum::<usize>()
                    }
                    Response::Produce(r) => {
                        r.responses.iter().map(|p| 2 + p.topic.len() + 18).sum()
                    }
                    Response::Fetch(r) => r
                        .responses
                        .iter()
                        .map(|p| 2 + p.topic.len() + 18 + p.record_set.len())
                        .sum(),
                    Response::ListOffsets(r) => {
                        r.responses.iter().map(|p| 2 + p.topic.len() + 18).sum()
                    }
                    Response::OffsetsForLeaderEpoch(r) => {
                        r.topics.iter().map(|p| 2 + p.topic.len() + 18).sum()
                    }
                    Response::Ack(_) => 2,
                    Response::ControlledShutdown(r) => {
                        6 + r
                            .partitions_remaining
                            .iter()
                            .map(|p| 2 + p.topic.len() + 4)
                            .sum::<usize>()
                    }
                    Response::Group(g) => g.wire_size(),
                }
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            KafkaPacket::Request { body, .. } => match body {
                Request::Metadata(_) => "kafka.metadata",
                Request::Produce(_) => "kafka.produce",
                Request::Fetch(r) if r.replica_id >= 0 => "kafka.replica_fetch",
                Request::Fetch(_) => "kafka.fetch",
                Request::ListOffsets(_) => "kafka.list_offsets",
                Request::OffsetsForLeaderEpoch(_) => "kafka.offsets_for_leader_epoch",
                Request::LeaderAndIsr(_) => "kafka.leader_and_isr",
                Request::UpdateMetadata(_) => "kafka.update_metadata",
                Request::StopReplica(_) => "kafka.stop_replica",
                Request::ControlledShutdown(_) => "kafka.controlled_shutdown",
                Request::Group(g) => g.kind(),
            },
            KafkaPacket::Response { body, .. } => match body {
                Response::Metadata(_) => "kafka.metadata_response",
                Response::Produce(_) => "kafka.produce_response",
                Response::Fetch(_) => "kafka.fetch_response",
                Response::ListOffsets(_) => "kafka.list_offsets_response",
                Response::OffsetsForLeaderEpoch(_) => "kafka.offsets_for_leader_epoch_response",
                Response::Ack(_) => "kafka.ack",
                Response::ControlledShutdown(_) => "kafka.controlled_shutdown_response",
                Response::Group(g) => g.kind(),
            },
        }
    }

    fn traced(&self) -> bool {
        // Empty long-poll fetches would flood the trace; data-carrying ones are traced.
        match self {
            KafkaPacket::Request { body: Request::Fetch(_), .. } => false,
            KafkaPacket::Response { body: Response::Fetch(r), .. } => {
                r.responses.iter().any(|p| !p.record_set.is_empty())
            }
            _ => true,
        }
    }
}
