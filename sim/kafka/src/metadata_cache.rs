//! `kafka.server.MetadataCache`: what a broker knows of the cluster from the controller's
//! UpdateMetadata (and the leaders named in LeaderAndIsr): the live brokers and every
//! partition's leader, ISR and replicas. Metadata requests and the group coordinator's lookup
//! are answered from it, never from ZooKeeper.

use crate::errors::{BrokerEndPoint, KafkaError};
use crate::partition::TopicPartition;
use crate::proto::{PartitionMetadata, PartitionState};
use std::collections::BTreeMap;

#[cfg(test)]
mod tests;

/// A broker's metadata cache.
#[derive(Debug, Clone, Default)]
pub struct MetadataCache {
    alive_brokers: BTreeMap<i32, BrokerEndPoint>,
    partition_states: BTreeMap<TopicPartition, PartitionState>,
}

impl MetadataCache {
    /// `MetadataCache.updateCache` for UpdateMetadata: the live brokers are replaced, the
    /// partition states named are set.
    pub fn update_cache(&mut self, live_brokers: Vec<BrokerEndPoint>, states: Vec<PartitionState>) {
        self.alive_brokers = live_brokers.into_iter().map(|b| (b.id, b)).collect();
        for ps in states {
            self.partition_states.insert((ps.topic.clone(), ps.partition), ps);
        }
    }

    /// The leaders a LeaderAndIsr names: known from now on (a follower can connect to them).
    pub fn add_brokers(&mut self, brokers: Vec<BrokerEndPoint>) {
        for b in brokers {
            self.alive_brokers.insert(b.id, b);
        }
    }

    /// StopReplica: the partition is forgotten.
    pub fn remove_partition(&mut self, tp: &TopicPartition) {
        self.partition_states.remove(tp);
    }

    /// A live broker's address.
    pub fn get_alive_broker(&self, id: i32) -> Option<BrokerEndPoint> {
        self.alive_brokers.get(&id).cloned()
    }

    /// The live brokers, by id.
    pub fn get_alive_brokers(&self) -> Vec<BrokerEndPoint> {
        self.alive_brokers.values().cloned().collect()
    }

    /// The live brokers' ids, ascending.
    pub fn alive_broker_ids(&self) -> Vec<i32> {
        self.alive_brokers.keys().copied().collect()
    }

    /// How many partitions of `topic` the cache knows (0: the topic does not exist).
    pub fn partition_count(&self, topic: &str) -> usize {
        self.partition_states.keys().filter(|(t, _)| t == topic).count()
    }

    /// A partition's state.
    pub fn get_partition_info(&self, topic: &str, partition: i32) -> Option<&PartitionState> {
        self.partition_states.get(&(topic.to_string(), partition))
    }

    /// Every known topic's partitions as a Metadata response describes them, by topic: a
    /// partition whose leader is not a live broker says `LeaderNotAvailable`.
    pub fn topic_metadata(&self) -> BTreeMap<String, Vec<PartitionMetadata>> {
        let mut by_topic: BTreeMap<String, Vec<PartitionMetadata>> = BTreeMap::new();
        for ((t, _), ps) in &self.partition_states {
            by_topic.entry(t.clone()).or_default().push(PartitionMetadata {
                error_code: if ps.leader >= 0 && self.alive_brokers.contains_key(&ps.leader) {
                    KafkaError::None
                } else {
                    KafkaError::LeaderNotAvailable
                },
                partition: ps.partition,
                leader: ps.leader,
                replicas: ps.replicas.clone(),
                isr: ps.isr.clone(),
            });
        }
        by_topic
    }
}
