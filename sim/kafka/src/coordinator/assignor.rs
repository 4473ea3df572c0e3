//! Client-side partition assignment, as in `org.apache.kafka.clients.consumer` 0.9: the group
//! leader runs the assignor named by the coordinator over every member's subscription.
//!
//! - [`RangeAssignor`] (`range`, the 0.9 default): per topic, members sorted by id; with
//!   `n = partitions / members` and `extra = partitions % members`, member `i` gets the
//!   `n (+1 for the first extra members)` partitions starting at `n·i + min(i, extra)`.
//! - [`RoundRobinAssignor`] (`roundrobin`): every subscribed topic-partition sorted by topic
//!   then partition, dealt in turn to the sorted members, skipping members not subscribed to
//!   the partition's topic.
//!
//! [`ConsumerProtocol`] is the byte format of subscriptions and assignments inside JoinGroup and
//! SyncGroup (and inside the group records of `__consumer_offsets`).
//!
//! Kafka builds these maps as `HashMap`s, so the order of partitions *within* one member's list
//! can differ from Java's; the set each member gets is the same. Here everything is sorted.

use super::codec::{DecodeError, Reader, Writer};
use std::collections::{BTreeMap, BTreeSet};

/// A topic and partition.
pub type TopicPartition = (String, i32);

/// `PartitionAssignor`.
pub trait PartitionAssignor: Send + Sync {
    /// The protocol name members announce (`range`, `roundrobin`).
    fn name(&self) -> &'static str;
    /// member → partitions, given each topic's partition count and each member's topics.
    /// Topics without a partition count are skipped (0.9 logs "Skipping assignment for topic").
    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, Vec<TopicPartition>>;
}

/// `org.apache.kafka.clients.consumer.RangeAssignor`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RangeAssignor;

/// `org.apache.kafka.clients.consumer.RoundRobinAssignor`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundRobinAssignor;

impl PartitionAssignor for RangeAssignor {
    fn name(&self) -> &'static str {
        "range"
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, Vec<TopicPartition>> {
        let mut consumers_per_topic: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (member, topics) in subscriptions {
            for t in topics {
                consumers_per_topic.entry(t).or_default().push(member);
            }
        }
        let mut assignment: BTreeMap<String, Vec<TopicPartition>> =
            subscriptions.keys().map(|m| (m.clone(), Vec::new())).collect();
        for (topic, mut consumers) in consumers_per_topic {
            let Some(&n_partitions) = partitions_per_topic.get(topic) else { continue };
            consumers.sort();
            consumers.dedup();
            let n = consumers.len() as i32;
            let per = n_partitions.max(0) / n;
            let extra = n_partitions.max(0) % n;
            for (i, c) in consumers.iter().enumerate() {
                let i = i as i32;
                let start = per * i + i.min(extra);
                let len = per + if i + 1 > extra { 0 } else { 1 };
                if let Some(list) = assignment.get_mut(*c) {
                    list.extend((start..start + len).map(|p| (topic.to_string(), p)));
                }
            }
        }
        assignment
    }
}

impl PartitionAssignor for RoundRobinAssignor {
    fn name(&self) -> &'static str {
        "roundrobin"
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, Vec<TopicPartition>> {
        let mut assignment: BTreeMap<String, Vec<TopicPartition>> =
            subscriptions.keys().map(|m| (m.clone(), Vec::new())).collect();
        let members: Vec<&String> = subscriptions.keys().collect();
        if members.is_empty() {
            return assignment;
        }
        let topics: BTreeSet<&String> = subscriptions.values().flatten().collect();
        // CircularIterator over the sorted members.
        let mut next = 0usize;
        for topic in topics {
            let Some(&n) = partitions_per_topic.get(topic.as_str()) else { continue };
            for p in 0..n.max(0) {
                // Some member subscribes to this topic (it came from a subscription), so this ends.
                while !subscriptions[members[next % members.len()]].contains(topic) {
                    next += 1;
                }
                let m = members[next % members.len()];
                next += 1;
                if let Some(list) = assignment.get_mut(m) {
                    list.push((topic.clone(), p));
                }
            }
        }
        assignment
    }
}

/// The assignor for a protocol name.
pub fn assignor_named(name: &str) -> Option<Box<dyn PartitionAssignor>> {
    match name {
        "range" => Some(Box::new(RangeAssignor)),
        "roundrobin" => Some(Box::new(RoundRobinAssignor)),
        _ => None,
    }
}

/// The assignor for a `partition.assignment.strategy` class name.
pub fn assignor_for_class(class: &str) -> Option<Box<dyn PartitionAssignor>> {
    match class.trim() {
        "org.apache.kafka.clients.consumer.RangeAssignor" => Some(Box::new(RangeAssignor)),
        "org.apache.kafka.clients.consumer.RoundRobinAssignor" => {
            Some(Box::new(RoundRobinAssignor))
        }
        _ => None,
    }
}

/// `ConsumerProtocol.PROTOCOL_TYPE`.
pub const PROTOCOL_TYPE: &str = "consumer";

/// `ConsumerProtocol`: version 0 subscriptions and assignments.
pub struct ConsumerProtocol;

impl ConsumerProtocol {
    /// `serializeSubscription`: version, topics, user data.
    pub fn serialize_subscription(topics: &[String]) -> Vec<u8> {
        let mut w = Writer::new();
        w.i16(0).i32(topics.len() as i32);
        for t in topics {
            w.string(t);
        }
        w.bytes(&[]).finish()
    }

    /// `deserializeSubscription`: the topics.
    pub fn deserialize_subscription(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.i16()?;
        if version < 0 {
            return Err(DecodeError::UnknownVersion(version));
        }
        let n = r.count()?;
        (0..n).map(|_| r.string()).collect()
    }

    /// `serializeAssignment`: version, (topic, partitions) grouped by topic, user data.
    pub fn serialize_assignment(partitions: &[TopicPartition]) -> Vec<u8> {
        let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for (t, p) in partitions {
            by_topic.entry(t).or_default().push(*p);
        }
        let mut w = Writer::new();
        w.i16(0).i32(by_topic.len() as i32);
        for (t, ps) in by_topic {
            w.string(t).i32(ps.len() as i32);
            for p in ps {
                w.i32(p);
            }
        }
        w.bytes(&[]).finish()
    }

    /// `deserializeAssignment`: the partitions (an empty buffer is an empty assignment).
    pub fn deserialize_assignment(bytes: &[u8]) -> Result<Vec<TopicPartition>, DecodeError> {
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        let mut r = Reader::new(bytes);
        let version = r.i16()?;
        if version < 0 {
            return Err(DecodeError::UnknownVersion(version));
        }
        let mut out = Vec::new();
        for _ in 0..r.count()? {
            let t = r.string()?;
            for _ in 0..r.count()? {
                out.push((t.clone(), r.i32()?));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(v: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        v.iter()
            .map(|(m, ts)| (m.to_string(), ts.iter().map(|t| t.to_string()).collect()))
            .collect()
    }
    fn counts(v: &[(&str, i32)]) -> BTreeMap<String, i32> {
        v.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }
    fn tps(v: &[(&str, i32)]) -> Vec<TopicPartition> {
        v.iter().map(|(t, p)| (t.to_string(), *p)).collect()
    }

    #[test]
    fn range_of_seven_partitions_over_three_consumers() {
        let a = RangeAssignor
            .assign(&counts(&[("t", 7)]), &subs(&[("c3", &["t"]), ("c1", &["t"]), ("c2", &["t"])]));
        assert_eq!(a["c1"], tps(&[("t", 0), ("t", 1), ("t", 2)]));
        assert_eq!(a["c2"], tps(&[("t", 3), ("t", 4)]));
        assert_eq!(a["c3"], tps(&[("t", 5), ("t", 6)]));
    }

    #[test]
    fn range_matches_kafka_0_9_tests() {
        // RangeAssignorTest.testTwoConsumersTwoTopicsSixPartitions
        let both: &[&str] = &["topic1", "topic2"];
        let a = RangeAssignor.assign(
            &counts(&[("topic1", 3), ("topic2", 3)]),
            &subs(&[("consumer1", both), ("consumer2", both)]),
        );
        assert_eq!(
            a["consumer1"],
            tps(&[("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)])
        );
        assert_eq!(a["consumer2"], tps(&[("topic1", 2), ("topic2", 2)]));
        // testMultipleConsumersMixedTopics
        let a = RangeAssignor.assign(
            &counts(&[("topic1", 3), ("topic2", 2)]),
            &subs(&[("consumer1", &["topic1"]), ("consumer2", both), ("consumer3", &["topic1"])]),
        );
        assert_eq!(a["consumer1"], tps(&[("topic1", 0)]));
        assert_eq!(a["consumer2"], tps(&[("topic1", 1), ("topic2", 0), ("topic2", 1)]));
        assert_eq!(a["consumer3"], tps(&[("topic1", 2)]));
        // More consumers than partitions: the last ones sit idle.
        let a = RangeAssignor.assign(&counts(&[("t", 1)]), &subs(&[("a", &["t"]), ("b", &["t"])]));
        assert_eq!(a["a"], tps(&[("t", 0)]));
        assert!(a["b"].is_empty());
        // A topic without metadata is skipped.
        let a = RangeAssignor.assign(&counts(&[]), &subs(&[("a", &["nope"])]));
        assert!(a["a"].is_empty());
    }

    #[test]
    fn round_robin_matches_kafka_0_9_tests() {
        // RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions
        let both: &[&str] = &["topic1", "topic2"];
        let a = RoundRobinAssignor.assign(
            &counts(&[("topic1", 3), ("topic2", 3)]),
            &subs(&[("consumer1", both), ("consumer2", both)]),
        );
        assert_eq!(a["consumer1"], tps(&[("topic1", 0), ("topic1", 2), ("topic2", 1)]));
        assert_eq!(a["consumer2"], tps(&[("topic1", 1), ("topic2", 0), ("topic2", 2)]));
        // testMultipleConsumersMixedTopics
        let a = RoundRobinAssignor.assign(
            &counts(&[("topic1", 3), ("topic2", 2)]),
            &subs(&[("consumer1", &["topic1"]), ("consumer2", both), ("consumer3", &["topic1"])]),
        );
        assert_eq!(a["consumer1"], tps(&[("topic1", 0)]));
        assert_eq!(a["consumer2"], tps(&[("topic1", 1), ("topic2", 0), ("topic2", 1)]));
        assert_eq!(a["consumer3"], tps(&[("topic1", 2)]));
    }

    #[test]
    fn consumer_protocol_round_trips_and_rejects_garbage() {
        let topics = vec!["a".to_string(), "b".to_string()];
        let bytes = ConsumerProtocol::serialize_subscription(&topics);
        // version 0, 2 topics, "a", "b", empty user data
        assert_eq!(bytes, vec![0, 0, 0, 0, 0, 2, 0, 1, b'a', 0, 1, b'b', 0, 0, 0, 0]);
        assert_eq!(ConsumerProtocol::deserialize_subscription(&bytes), Ok(topics));
        let parts = tps(&[("a", 0), ("a", 2), ("b", 1)]);
        let bytes = ConsumerProtocol::serialize_assignment(&parts);
        assert_eq!(ConsumerProtocol::deserialize_assignment(&bytes), Ok(parts));
        assert_eq!(ConsumerProtocol::deserialize_assignment(&[]), Ok(vec![]));
        assert!(ConsumerProtocol::deserialize_assignment(&[0, 0, 0x7f, 0, 0, 0]).is_err());
        assert!(ConsumerProtocol::deserialize_subscription(&[0xff, 0xff]).is_err());
        assert_eq!(assignor_named("range").map(|a| a.name()), Some("range"));
        assert_eq!(
            assignor_for_class("org.apache.kafka.clients.consumer.RoundRobinAssignor")
                .map(|a| a.name()),
            Some("roundrobin")
        );
        assert!(assignor_for_class("x.Y").is_none());
    }
}
