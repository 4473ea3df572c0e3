//! What every Kafka protocol message shares: the error codes and a broker's address.

/// Kafka error codes (`org.apache.kafka.common.protocol.Errors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaError {
    /// 0
    None,
    /// 1
    OffsetOutOfRange,
    /// 3
    UnknownTopicOrPartition,
    /// 5
    LeaderNotAvailable,
    /// 6
    NotLeaderForPartition,
    /// 7
    RequestTimedOut,
    /// 10
    MessageTooLarge,
    /// 11
    StaleControllerEpoch,
    /// 19
    NotEnoughReplicas,
    /// 20
    NotEnoughReplicasAfterAppend,
    /// 14 (`GROUP_LOAD_IN_PROGRESS`)
    GroupLoadInProgress,
    /// 15 (`GROUP_COORDINATOR_NOT_AVAILABLE`)
    GroupCoordinatorNotAvailable,
    /// 16 (`NOT_COORDINATOR_FOR_GROUP`)
    NotCoordinatorForGroup,
    /// 22 (`ILLEGAL_GENERATION`)
    IllegalGeneration,
    /// 23 (`INCONSISTENT_GROUP_PROTOCOL`)
    InconsistentGroupProtocol,
    /// 24 (`INVALID_GROUP_ID`)
    InvalidGroupId,
    /// 25 (`UNKNOWN_MEMBER_ID`)
    UnknownMemberId,
    /// 26 (`INVALID_SESSION_TIMEOUT`)
    InvalidSessionTimeout,
    /// 27 (`REBALANCE_IN_PROGRESS`)
    RebalanceInProgress,
    /// −1 (`UNKNOWN`): an unexpected server error.
    Unknown,
}

impl KafkaError {
    /// The numeric code.
    pub fn code(self) -> i16 {
        match self {
            KafkaError::None => 0,
            KafkaError::OffsetOutOfRange => 1,
            KafkaError::UnknownTopicOrPartition => 3,
            KafkaError::LeaderNotAvailable => 5,
            KafkaError::NotLeaderForPartition => 6,
            KafkaError::RequestTimedOut => 7,
            KafkaError::MessageTooLarge => 10,
            KafkaError::StaleControllerEpoch => 11,
            KafkaError::NotEnoughReplicas => 19,
            KafkaError::NotEnoughReplicasAfterAppend => 20,
            KafkaError::GroupLoadInProgress => 14,
            KafkaError::GroupCoordinatorNotAvailable => 15,
            KafkaError::NotCoordinatorForGroup => 16,
            KafkaError::IllegalGeneration => 22,
            KafkaError::InconsistentGroupProtocol => 23,
            KafkaError::InvalidGroupId => 24,
            KafkaError::UnknownMemberId => 25,
            KafkaError::InvalidSessionTimeout => 26,
            KafkaError::RebalanceInProgress => 27,
            KafkaError::Unknown => -1,
        }
    }

    /// The Java exception name clients log.
    pub fn exception(self) -> &'static str {
        match self {
            KafkaError::None => "",
            KafkaError::OffsetOutOfRange => {
                "org.apache.kafka.common.errors.OffsetOutOfRangeException"
            }
            KafkaError::UnknownTopicOrPartition => {
                "org.apache.kafka.common.errors.UnknownTopicOrPartitionException"
            }
            KafkaError::LeaderNotAvailable => {
                "org.apache.kafka.common.errors.LeaderNotAvailableException"
            }
            KafkaError::NotLeaderForPartition => {
                "org.apache.kafka.common.errors.NotLeaderForPartitionException"
            }
            KafkaError::RequestTimedOut => "org.apache.kafka.common.errors.TimeoutException",
            KafkaError::MessageTooLarge => "org.apache.kafka.common.errors.RecordTooLargeException",
            KafkaError::StaleControllerEpoch => "kafka.common.ControllerMovedException",
            KafkaError::NotEnoughReplicas => {
                "org.apache.kafka.common.errors.NotEnoughReplicasException"
            }
            KafkaError::NotEnoughReplicasAfterAppend => {
                "org.apache.kafka.common.errors.NotEnoughReplicasAfterAppendException"
            }
            KafkaError::GroupLoadInProgress => {
                "org.apache.kafka.common.errors.GroupLoadInProgressException"
            }
            KafkaError::GroupCoordinatorNotAvailable => {
                "org.apache.kafka.common.errors.GroupCoordinatorNotAvailableException"
            }
            KafkaError::NotCoordinatorForGroup => {
                "org.apache.kafka.common.errors.NotCoordinatorForGroupException"
            }
            KafkaError::IllegalGeneration => {
                "org.apache.kafka.common.errors.IllegalGenerationException"
            }
            KafkaError::InconsistentGroupProtocol => "org.apache.kafka.common.errors.ApiException",
            KafkaError::InvalidGroupId => "org.apache.kafka.common.errors.ApiException",
            KafkaError::UnknownMemberId => {
                "org.apache.kafka.common.errors.UnknownMemberIdException"
            }
            KafkaError::InvalidSessionTimeout => "org.apache.kafka.common.errors.ApiException",
            KafkaError::RebalanceInProgress => {
                "org.apache.kafka.common.errors.RebalanceInProgressException"
            }
            KafkaError::Unknown => "org.apache.kafka.common.errors.UnknownServerException",
        }
    }

    /// Whether a client should refresh metadata and retry.
    pub fn retriable(self) -> bool {
        matches!(
            self,
            KafkaError::UnknownTopicOrPartition
                | KafkaError::LeaderNotAvailable
                | KafkaError::NotLeaderForPartition
                | KafkaError::RequestTimedOut
                | KafkaError::NotEnoughReplicas
                | KafkaError::NotEnoughReplicasAfterAppend
                | KafkaError::GroupLoadInProgress
                | KafkaError::GroupCoordinatorNotAvailable
                | KafkaError::NotCoordinatorForGroup
        )
    }
}

/// A broker's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerEndPoint {
    /// Broker id.
    pub id: i32,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
}
