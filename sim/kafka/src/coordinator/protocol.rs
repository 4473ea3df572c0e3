//! The group protocol on the wire (Kafka 0.9 ApiKeys 8–16): `GroupCoordinator` (10, later
//! called FindCoordinator), `JoinGroup` (11), `SyncGroup` (14), `Heartbeat` (12), `LeaveGroup`
//! (13), `OffsetCommit` (8, v2), `OffsetFetch` (9, v1), `DescribeGroups` (15), `ListGroups` (16).
//!
//! They travel inside [`super::super::proto::Request::Group`] so the broker's other protocol
//! stays as it was. Member metadata and assignments are opaque bytes to the broker, as in
//! Kafka: the consumer fills them with [`super::assignor::ConsumerProtocol`] encodings.

use crate::common::TopicAndPartition;
use crate::errors::{BrokerEndPoint, KafkaError};

/// A group request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRequest {
    /// ApiKey 10: which broker coordinates `group_id`?
    GroupCoordinator {
        /// Group.
        group_id: String,
    },
    /// ApiKey 11.
    JoinGroup {
        /// Group.
        group_id: String,
        /// `session.timeout.ms` of the member.
        session_timeout_ms: i32,
        /// Empty for a new member.
        member_id: String,
        /// `consumer` for consumers.
        protocol_type: String,
        /// Assignors with the member's subscription for each, in its preference order.
        group_protocols: Vec<GroupProtocol>,
    },
    /// ApiKey 14. The leader sends every member's assignment; followers send none.
    SyncGroup {
        /// Group.
        group_id: String,
        /// Generation the sender joined.
        generation_id: i32,
        /// Sender.
        member_id: String,
        /// Every member's assignment (the leader's request only).
        group_assignment: Vec<SyncGroupAssignment>,
    },
    /// ApiKey 12.
    Heartbeat {
        /// Group.
        group_id: String,
        /// Generation.
        generation_id: i32,
        /// Member.
        member_id: String,
    },
    /// ApiKey 13.
    LeaveGroup {
        /// Group.
        group_id: String,
        /// Member.
        member_id: String,
    },
    /// ApiKey 8 (v2): offsets are stored in `__consumer_offsets`.
    OffsetCommit {
        /// Group.
        group_id: String,
        /// −1 for a commit outside group management.
        generation_id: i32,
        /// Member ("" outside group management).
        member_id: String,
        /// −1: the broker's `offsets.retention.minutes`.
        retention_time_ms: i64,
        /// The offsets, one entry per partition.
        topics: Vec<OffsetCommitPartition>,
    },
    /// ApiKey 9 (v1): committed offsets from `__consumer_offsets`; empty = all of the group's.
    OffsetFetch {
        /// Group.
        group_id: String,
        /// The partitions (empty: all of the group's).
        topics: Vec<TopicAndPartition>,
    },
    /// ApiKey 16: groups this broker coordinates.
    ListGroups,
    /// ApiKey 15.
    DescribeGroups {
        /// Groups.
        group_ids: Vec<String>,
    },
}

/// One assignor a member supports, with its subscription (`group_protocols` of JoinGroup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupProtocol {
    /// Assignor name (`range`, `roundrobin`).
    pub protocol_name: String,
    /// Subscription bytes ([`super::assignor::ConsumerProtocol`]).
    pub protocol_metadata: Vec<u8>,
}

/// One member's assignment in the leader's SyncGroup (`group_assignment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupAssignment {
    /// Member.
    pub member_id: String,
    /// Assignment bytes.
    pub member_assignment: Vec<u8>,
}

/// One partition's offset in an OffsetCommit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The next offset to consume.
    pub offset: i64,
    /// Client metadata.
    pub metadata: String,
}

/// A member's subscription in the leader's JoinGroup response (`members`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupMember {
    /// Member.
    pub member_id: String,
    /// Subscription bytes.
    pub member_metadata: Vec<u8>,
}

/// One partition of an OffsetCommit response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitPartitionResponse {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Error.
    pub error_code: KafkaError,
}

/// One partition of an OffsetFetch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchPartitionResponse {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The committed offset, −1 for none.
    pub offset: i64,
    /// Its metadata.
    pub metadata: String,
    /// Error.
    pub error_code: KafkaError,
}

/// A group in a ListGroups response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    /// Group.
    pub group_id: String,
    /// `consumer` for consumers.
    pub protocol_type: String,
}

/// A member as `DescribeGroups` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// `<client.id>-<uuid>`.
    pub member_id: String,
    /// `client.id`.
    pub client_id: String,
    /// The client's address as the broker saw it (`/192.168.1.100`).
    pub client_host: String,
    /// Subscription bytes (empty unless the group is Stable).
    pub metadata: Vec<u8>,
    /// Assignment bytes (empty unless the group is Stable).
    pub assignment: Vec<u8>,
}

/// A group as `DescribeGroups` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group.
    pub group_id: String,
    /// Error for this group.
    pub error_code: KafkaError,
    /// `Stable`, `PreparingRebalance`, `AwaitingSync`, `Dead` ("" on error).
    pub state: String,
    /// `consumer`.
    pub protocol_type: String,
    /// Chosen assignor (only when Stable).
    pub protocol: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

/// A group response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupResponse {
    /// The coordinator's address.
    GroupCoordinator {
        /// Error.
        error_code: KafkaError,
        /// The coordinator (None with an error).
        coordinator: Option<BrokerEndPoint>,
    },
    /// JoinGroup.
    JoinGroup {
        /// Error.
        error_code: KafkaError,
        /// New generation.
        generation_id: i32,
        /// Chosen assignor.
        protocol: String,
        /// The leader's member id.
        leader_id: String,
        /// This member's id.
        member_id: String,
        /// Every member's subscription: only the leader gets it.
        members: Vec<JoinGroupMember>,
    },
    /// SyncGroup: this member's assignment.
    SyncGroup {
        /// Error.
        error_code: KafkaError,
        /// Assignment bytes.
        assignment: Vec<u8>,
    },
    /// Heartbeat.
    Heartbeat(KafkaError),
    /// LeaveGroup.
    LeaveGroup(KafkaError),
    /// OffsetCommit: one entry per partition.
    OffsetCommit(Vec<OffsetCommitPartitionResponse>),
    /// OffsetFetch: one entry per partition.
    OffsetFetch(Vec<OffsetFetchPartitionResponse>),
    /// ListGroups.
    ListGroups {
        /// Error.
        error_code: KafkaError,
        /// Groups.
        groups: Vec<ListedGroup>,
    },
    /// DescribeGroups.
    DescribeGroups(Vec<GroupDescription>),
}

fn s(x: &str) -> usize {
    2 + x.len()
}

fn b(x: &[u8]) -> usize {
    4 + x.len()
}

impl GroupRequest {
    /// Bytes of the request body on the wire (Kafka's encoding: int16-prefixed strings,
    /// int32-prefixed byte arrays and array counts).
    pub fn wire_size(&self) -> usize {
        match self {
            GroupRequest::GroupCoordinator { group_id } => s(group_id),
            GroupRequest::JoinGroup {
                group_id, member_id, protocol_type, group_protocols, ..
            } => {
                s(group_id)
                    + 4
                    + s(member_id)
                    + s(protocol_type)
                    + 4
                    + group_protocols
                        .iter()
                        .map(|p| s(&p.protocol_name) + b(&p.protocol_metadata))
                        .sum::<usize>()
            }
            GroupRequest::SyncGroup { group_id, member_id, group_assignment, .. } => {
                s(group_id)
                    + 4
                    + s(member_id)
                    + 4
                    + group_assignment
                        .iter()
                        .map(|a| s(&a.member_id) + b(&a.member_assignment))
                        .sum::<usize>()
            }
            GroupRequest::Heartbeat { group_id, member_id, .. } => s(group_id) + 4 + s(member_id),
            GroupRequest::LeaveGroup { group_id, member_id } => s(group_id) + s(member_id),
            GroupRequest::OffsetCommit { group_id, member_id, topics, .. } => {
                s(group_id)
                    + 4
                    + s(member_id)
                    + 8
                    + 4
                    + topics.iter().map(|o| s(&o.topic) + 4 + 4 + 8 + s(&o.metadata)).sum::<usize>()
            }
            GroupRequest::OffsetFetch { group_id, topics } => {
                s(group_id) + 4 + topics.iter().map(|p| s(&p.topic) + 8).sum::<usize>()
            }
            GroupRequest::ListGroups => 0,
            GroupRequest::DescribeGroups { group_ids } => {
                4 + group_ids.iter().map(|g| s(g)).sum::<usize>()
            }
        }
    }

    /// The trace kind of the request.
    pub fn kind(&self) -> &'static str {
        match self {
            GroupRequest::GroupCoordinator { .. } => "kafka.group_coordinator",
            GroupRequest::JoinGroup { .. } => "kafka.join_group",
            GroupRequest::SyncGroup { .. } => "kafka.sync_group",
            GroupRequest::Heartbeat { .. } => "kafka.heartbeat",
            GroupRequest::LeaveGroup { .. } => "kafka.leave_group",
            GroupRequest::OffsetCommit { .. } => "kafka.offset_commit",
            GroupRequest::OffsetFetch { .. } => "kafka.offset_fetch",
            GroupRequest::ListGroups => "kafka.list_groups",
            GroupRequest::DescribeGroups { .. } => "kafka.describe_groups",
        }
    }

    /// The group the request is about (ListGroups has none).
    pub fn group_id(&self) -> Option<&str> {
        match self {
            GroupRequest::GroupCoordinator { group_id }
            | GroupRequest::JoinGroup { group_id, .. }
            | GroupRequest::SyncGroup { group_id, .. }
            | GroupRequest::Heartbeat { group_id, .. }
            | GroupRequest::LeaveGroup { group_id, .. }
            | GroupRequest::OffsetCommit { group_id, .. }
            | GroupRequest::OffsetFetch { group_id, .. } => Some(group_id),
            GroupRequest::ListGroups | GroupRequest::DescribeGroups { .. } => None,
        }
    }
}

impl GroupResponse {
    /// Bytes of the response body on the wire.
    pub fn wire_size(&self) -> usize {
        match self {
            GroupResponse::GroupCoordinator { coordinator, .. } => {
                2 + 4 + coordinator.as_ref().map_or(2, |c| s(&c.host)) + 4
            }
            GroupResponse::JoinGroup { protocol, leader_id, member_id, members, .. } => {
                2 + 4
                    + s(protocol)
                    + s(leader_id)
                    + s(member_id)
                    + 4
                    + members.iter().map(|m| s(&m.member_id) + b(&m.member_metadata)).sum::<usize>()
            }
            GroupResponse::SyncGroup { assignment, .. } => 2 + b(assignment),
            GroupResponse::Heartbeat(_) | GroupResponse::LeaveGroup(_) => 2,
            GroupResponse::OffsetCommit(v) => {
                4 + v.iter().map(|r| s(&r.topic) + 4 + 4 + 2).sum::<usize>()
            }
            GroupResponse::OffsetFetch(v) => {
                4 + v.iter().map(|r| s(&r.topic) + 4 + 4 + 8 + s(&r.metadata) + 2).sum::<usize>()
            }
            GroupResponse::ListGroups { groups, .. } => {
                2 + 4 + groups.iter().map(|g| s(&g.group_id) + s(&g.protocol_type)).sum::<usize>()
            }
            GroupResponse::DescribeGroups(v) => {
                4 + v
                    .iter()
                    .map(|g| {
                        2 + s(&g.group_id)
                            + s(&g.state)
                            + s(&g.protocol_type)
                            + s(&g.protocol)
                            + 4
                            + g.members
                                .iter()
                                .map(|m| {
                                    s(&m.member_id)
                                        + s(&m.client_id)
                                        + s(&m.client_host)
                                        + b(&m.metadata)
                                        + b(&m.assignment)
                                })
                                .sum::<usize>()
                    })
                    .sum::<usize>()
            }
        }
    }

    /// The trace kind of the response.
    pub fn kind(&self) -> &'static str {
        match self {
            GroupResponse::GroupCoordinator { .. } => "kafka.group_coordinator_response",
            GroupResponse::JoinGroup { .. } => "kafka.join_group_response",
            GroupResponse::SyncGroup { .. } => "kafka.sync_group_response",
            GroupResponse::Heartbeat(_) => "kafka.heartbeat_response",
            GroupResponse::LeaveGroup(_) => "kafka.leave_group_response",
            GroupResponse::OffsetCommit(_) => "kafka.offset_commit_response",
            GroupResponse::OffsetFetch(_) => "kafka.offset_fetch_response",
            GroupResponse::ListGroups { .. } => "kafka.list_groups_response",
            GroupResponse::DescribeGroups(_) => "kafka.describe_groups_response",
        }
    }
}

/// The message of the exception 0.9's `Errors` attaches to a group error code.
pub fn error_message(e: KafkaError) -> &'static str {
    match e {
        KafkaError::None => "",
        KafkaError::GroupLoadInProgress => "The coordinator is loading and hence can't process requests for this group.",
        KafkaError::GroupCoordinatorNotAvailable => "The group coordinator is not available.",
        KafkaError::NotCoordinatorForGroup => "This is not the correct coordinator for this group.",
        KafkaError::IllegalGeneration => "Specified group generation id is not valid.",
        KafkaError::InconsistentGroupProtocol => "The group member's supported protocols are incompatible with those of existing members.",
        KafkaError::InvalidGroupId => "The configured groupId is invalid",
        KafkaError::UnknownMemberId => "The coordinator is not aware of this member.",
        KafkaError::InvalidSessionTimeout => "The session timeout is not within an acceptable range.",
        KafkaError::RebalanceInProgress => "The group is rebalancing, so a rejoin is needed.",
        KafkaError::RequestTimedOut => "The request timed out.",
        KafkaError::UnknownTopicOrPartition => "This server does not host this topic-partition.",
        KafkaError::LeaderNotAvailable => "There is no leader for this topic-partition as we are in the middle of a leadership election.",
        KafkaError::NotLeaderForPartition => "This server is not the leader for that topic-partition.",
        KafkaError::OffsetOutOfRange => "The requested offset is not within the range of offsets maintained by the server.",
        KafkaError::MessageTooLarge => "The request included a message larger than the max message size the server will accept.",
        KafkaError::StaleControllerEpoch => "The controller moved to another broker.",
        KafkaError::NotEnoughReplicas => "Messages are rejected since there are fewer in-sync replicas than required.",
        KafkaError::NotEnoughReplicasAfterAppend => "Messages are written to the log, but to fewer in-sync replicas than required.",
        KafkaError::Unknown => "The server experienced an unexpected error when processing the request",
    }
}
