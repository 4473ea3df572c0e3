//! `kafka.common`: small value types both protocols share.

/// A topic and a partition (`kafka.common.TopicAndPartition`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicAndPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
}

impl TopicAndPartition {
    /// `topic`'s partition `partition`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicAndPartition { topic: topic.into(), partition }
    }
}
