//! `GroupMetadataManager`'s storage side: which partition of `__consumer_offsets` holds a group,
//! the records written there (Kafka 0.9's formats, byte for byte), and the topic's creation.
//!
//! A group lives in partition `Utils.abs(groupId.hashCode) % offsets.topic.num.partitions`
//! (Java's `String.hashCode` over UTF-16 code units, and Kafka's `abs` is `x & 0x7fffffff`).
//! Every commit appends one record per partition keyed `(group, topic, partition)`; every
//! completed rebalance appends the group's metadata keyed `group`; a group that dies gets a
//! tombstone. The coordinator rebuilds its caches from these records when it takes over.
//!
//! ```text
//! key version 0/1: [group, topic, partition]   value version 1: [offset, metadata, commit_timestamp, expire_timestamp]
//! key version 2:   [group]                     value version 0: [protocol_type, generation, protocol, leader, members]
//! ```

use super::super::admin;
use super::super::config::KafkaConfig;
use super::super::zk_utils as zku;
use super::codec::{DecodeError, Reader, Writer};
use sim_core::trace::fields;
use sim_core::trace::kind;
use sim_core::world::ProcCtx;
use zookeeper::client::ZooKeeper;
use zookeeper::txn::{CreateMode, ZkError};

/// `GroupCoordinator.GroupMetadataTopicName`.
pub const GROUP_METADATA_TOPIC_NAME: &str = "__consumer_offsets";

/// `offsets.topic.segment.bytes` (0.9 default, 100 MiB).
pub const OFFSETS_TOPIC_SEGMENT_BYTES: i64 = 100 * 1024 * 1024;
/// `offsets.retention.minutes` (0.9 default, one day) in ms.
pub const OFFSETS_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// `offsets.commit.timeout.ms` (0.9 default).
pub const OFFSET_COMMIT_TIMEOUT_MS: i32 = 5000;
/// `offsets.commit.required.acks` (0.9 default: all in-sync replicas).
pub const OFFSET_COMMIT_REQUIRED_ACKS: i16 = -1;
/// `offsets.load.buffer.size` (0.9 default, 5 MiB): how much one read of a load takes.
pub const OFFSETS_LOAD_BUFFER_SIZE: i32 = 5 * 1024 * 1024;
/// `offset.metadata.max.bytes` (0.9 default).
pub const OFFSET_METADATA_MAX_BYTES: usize = 4096;

/// Java's `String.hashCode` (the partitioner's, under the name the group code uses).
pub use crate::partitioner::java_string_hash as java_string_hash_code;

/// Kafka's `Utils.abs`: `n & 0x7fffffff` (so `Integer.MIN_VALUE` maps to 0, not to itself).
pub fn utils_abs(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// `GroupMetadataManager.partitionFor`: the `__consumer_offsets` partition of a group.
pub fn partition_for(group_id: &str, partitions: i32) -> i32 {
    utils_abs(java_string_hash_code(group_id)) % partitions.max(1)
}

/// A committed offset (`OffsetAndMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// Free text from the client.
    pub metadata: String,
    /// When it was committed (wall ms).
    pub commit_timestamp: i64,
    /// When it expires (wall ms).
    pub expire_timestamp: i64,
}

impl std::fmt::Display for OffsetAndMetadata {
    /// `[OffsetMetadata[5,NO_METADATA],CommitTime 1461657600000,ExpirationTime 1461744000000]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let md = if self.metadata.is_empty() { "NO_METADATA" } else { &self.metadata };
        write!(
            f,
            "[OffsetMetadata[{},{md}],CommitTime {},ExpirationTime {}]",
            self.offset, self.commit_timestamp, self.expire_timestamp
        )
    }
}

/// The key of a `__consumer_offsets` record (`BaseKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseKey {
    /// `OffsetKey`: a committed offset of (group, topic, partition).
    Offset {
        /// Group.
        group: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
    },
    /// `GroupMetadataKey`: a group's membership.
    GroupMetadata {
        /// Group.
        group: String,
    },
}

/// A member inside a stored group record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMember {
    /// Member id.
    pub member_id: String,
    /// `client.id`.
    pub client_id: String,
    /// Client address.
    pub client_host: String,
    /// Session timeout.
    pub session_timeout_ms: i32,
    /// Subscription bytes for the group's protocol.
    pub subscription: Vec<u8>,
    /// Assignment bytes.
    pub assignment: Vec<u8>,
}

/// A stored group record (value version 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredGroup {
    /// `consumer`.
    pub protocol_type: String,
    /// Generation.
    pub generation: i32,
    /// Chosen protocol.
    pub protocol: String,
    /// Leader member id.
    pub leader: String,
    /// Members.
    pub members: Vec<StoredMember>,
}

/// `offsetCommitKey` (key version 1).
pub fn offset_commit_key(group: &str, topic: &str, partition: i32) -> Vec<u8> {
    Writer::new().i16(1).string(group).string(topic).i32(partition).finish()
}

/// `offsetCommitValue` (value version 1).
pub fn offset_commit_value(o: &OffsetAndMetadata) -> Vec<u8> {
    Writer::new()
        .i16(1)
        .i64(o.offset)
        .string(&o.metadata)
        .i64(o.commit_timestamp)
        .i64(o.expire_timestamp)
        .finish()
}

/// `groupMetadataKey` (key version 2).
pub fn group_metadata_key(group: &str) -> Vec<u8> {
    Writer::new().i16(2).string(group).finish()
}

/// `groupMetadataValue` (value version 0).
pub fn group_metadata_value(g: &StoredGroup) -> Vec<u8> {
    let mut w = Writer::new();
    w.i16(0)
        .string(&g.protocol_type)
        .i32(g.generation)
        .string(&g.protocol)
        .string(&g.leader)
        .i32(g.members.len() as i32);
    for m in &g.members {
        w.string(&m.member_id)
            .string(&m.client_id)
            .string(&m.client_host)
            .i32(m.session_timeout_ms)
            .bytes(&m.subscription)
            .bytes(&m.assignment);
    }
    w.finish()
}

/// `readMessageKey`.
pub fn read_message_key(bytes: &[u8]) -> Result<BaseKey, DecodeError> {
    let mut r = Reader::new(bytes);
    match r.i16()? {
        0 | 1 => {
            Ok(BaseKey::Offset { group: r.string()?, topic: r.string()?, partition: r.i32()? })
        }
        2 => Ok(BaseKey::GroupMetadata { group: r.string()? }),
        v => Err(DecodeError::UnknownVersion(v)),
    }
}

/// `readOffsetMessageValue` (version 0 has one timestamp; its expiry is commit + retention).
pub fn read_offset_message_value(bytes: &[u8]) -> Result<OffsetAndMetadata, DecodeError> {
    let mut r = Reader::new(bytes);
    match r.i16()? {
        0 => {
            let (offset, metadata, ts) = (r.i64()?, r.string()?, r.i64()?);
            Ok(OffsetAndMetadata {
                offset,
                metadata,
                commit_timestamp: ts,
                expire_timestamp: ts + OFFSETS_RETENTION_MS,
            })
        }
        1 => Ok(OffsetAndMetadata {
            offset: r.i64()?,
            metadata: r.string()?,
            commit_timestamp: r.i64()?,
            expire_timestamp: r.i64()?,
        }),
        v => Err(DecodeError::UnknownVersion(v)),
    }
}

/// `readGroupMessageValue`.
pub fn read_group_message_value(bytes: &[u8]) -> Result<StoredGroup, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = r.i16()?;
    if v != 0 {
        return Err(DecodeError::UnknownVersion(v));
    }
    let (protocol_type, generation, protocol, leader) =
        (r.string()?, r.i32()?, r.string()?, r.string()?);
    let n = r.count()?;
    let mut members = Vec::with_capacity(n);
    for _ in 0..n {
        members.push(StoredMember {
            member_id: r.string()?,
            client_id: r.string()?,
            client_host: r.string()?,
            session_timeout_ms: r.i32()?,
            subscription: r.bytes()?,
            assignment: r.bytes()?,
        });
    }
    Ok(StoredGroup { protocol_type, generation, protocol, leader, members })
}

/// `OffsetsMessageFormatter.writeTo`: `[group,topic,partition]::[OffsetMetadata[…],CommitTime …,ExpirationTime …]`
/// for offset records, nothing for group records (as `--formatter
/// "kafka.coordinator.GroupMetadataManager\$OffsetsMessageFormatter"` prints them).
pub fn format_offsets_message(key: Option<&[u8]>, value: Option<&[u8]>) -> Option<String> {
    let Ok(BaseKey::Offset { group, topic, partition }) = read_message_key(key?) else {
        return None;
    };
    let v = match value {
        None => "NULL".to_string(),
        Some(v) => {
            read_offset_message_value(v).map(|o| o.to_string()).unwrap_or_else(|e| e.to_string())
        }
    };
    Some(format!("[{group},{topic},{partition}]::{v}"))
}

/// `/config/topics/__consumer_offsets` as 0.9 writes it: the `Properties` of
/// `GroupCoordinator.offsetsTopicConfigs` in `Hashtable` order.
pub fn offsets_topic_config_json() -> String {
    format!(
        "{{\"version\":1,\"config\":{{\"segment.bytes\":\"{OFFSETS_TOPIC_SEGMENT_BYTES}\",\"compression.type\":\"uncompressed\",\"cleanup.policy\":\"compact\"}}}}"
    )
}

/// Creates `__consumer_offsets` the way `KafkaApis.getTopicMetadata` does when it is first
/// asked for (by a GroupCoordinator request or by metadata): `offsets.topic.num.partitions`
/// partitions, `offsets.topic.replication.factor` replicas capped at the live brokers. Returns
/// false if it could not (no brokers, or ZooKeeper said no); another broker winning the race
/// (`NodeExists`) counts as done.
pub async fn create_offsets_topic(
    ctx: &ProcCtx,
    cfg: &KafkaConfig,
    zk: &ZooKeeper,
    live_brokers: &[i32],
) -> bool {
    let mut brokers = live_brokers.to_vec();
    brokers.sort();
    let rf = if brokers.is_empty() {
        cfg.offsets_topic_replication_factor
    } else {
        cfg.offsets_topic_replication_factor.min(brokers.len() as i32)
    };
    let Ok(assignment) =
        admin::assign_replicas_randomly(&brokers, cfg.offsets_topic_num_partitions, rf)
    else {
        return false;
    };
    let topic = GROUP_METADATA_TOPIC_NAME;
    match zku::create_with_parents(
        zk,
        &format!("{}/{topic}", zku::CONFIG_TOPICS),
        offsets_topic_config_json().as_bytes(),
        CreateMode::Persistent,
    )
    .await
    {
        Ok(_) | Err(ZkError::NodeExists) => {}
        Err(_) => return false,
    }
    let json = zku::topic_assignment_json(&assignment);
    match zku::create_with_parents(
        zk,
        &format!("{}/{topic}", zku::BROKER_TOPICS),
        json.as_bytes(),
        CreateMode::Persistent,
    )
    .await
    {
        Ok(_) => {
            ctx.trace(
                kind::KAFKA_TOPIC_AUTO_CREATED,
                None,
                fields! { "topic" => topic, "partitions" => cfg.offsets_topic_num_partitions, "replication_factor" => rf },
            );
            true
        }
        Err(ZkError::NodeExists) => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_code_matches_java() {
        // Computed with OpenJDK 17: "s".hashCode() and (h & 0x7fffffff) % 50.
        for (s, h, p) in [
            ("console-consumer-12345", 158455506, 6),
            ("g1", 3242, 42),
            ("test-group", 627841412, 12),
            ("", 0, 0),
            ("my-group", -1906497762, 36),
            ("console-consumer-99999", 166058136, 36),
            ("groupé", -1237460406, 42),
            ("\u{1F600}g", 54959972, 22),
            ("polygenelubricants", i32::MIN, 0),
        ] {
            assert_eq!(java_string_hash_code(s), h, "{s}");
            assert_eq!(partition_for(s, 50), p, "{s}");
        }
        assert_eq!(utils_abs(-1), i32::MAX);
    }

    #[test]
    fn records_round_trip_in_0_9_formats() {
        let key = offset_commit_key("g", "t", 3);
        assert_eq!(key, vec![0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 3]);
        assert_eq!(
            read_message_key(&key),
            Ok(BaseKey::Offset { group: "g".into(), topic: "t".into(), partition: 3 })
        );
        let o = OffsetAndMetadata {
            offset: 42,
            metadata: String::new(),
            commit_timestamp: 1_461_657_600_000,
            expire_timestamp: 1_461_744_000_000,
        };
        let v = offset_commit_value(&o);
        assert_eq!(v.len(), 2 + 8 + 2 + 8 + 8);
        assert_eq!(read_offset_message_value(&v), Ok(o.clone()));
        assert_eq!(o.to_string(), "[OffsetMetadata[42,NO_METADATA],CommitTime 1461657600000,ExpirationTime 1461744000000]");
        assert_eq!(
            format_offsets_message(Some(&key), Some(&v)).as_deref(),
            Some("[g,t,3]::[OffsetMetadata[42,NO_METADATA],CommitTime 1461657600000,ExpirationTime 1461744000000]")
        );
        let gk = group_metadata_key("g");
        assert_eq!(read_message_key(&gk), Ok(BaseKey::GroupMetadata { group: "g".into() }));
        assert_eq!(format_offsets_message(Some(&gk), None), None, "group records are not offsets");
        let g = StoredGroup {
            protocol_type: "consumer".into(),
            generation: 2,
            protocol: "range".into(),
            leader: "consumer-1-x".into(),
            members: vec![StoredMember {
                member_id: "consumer-1-x".into(),
                client_id: "consumer-1".into(),
                client_host: "/192.168.1.100".into(),
                session_timeout_ms: 30_000,
                subscription: vec![1, 2],
                assignment: vec![],
            }],
        };
        assert_eq!(read_group_message_value(&group_metadata_value(&g)), Ok(g));
        assert!(read_message_key(&[0, 9]).is_err());
        assert!(read_group_message_value(&[0, 0, 0]).is_err());
        assert!(read_offset_message_value(&[]).is_err());
    }
}
