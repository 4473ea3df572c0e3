//! Kafka's plug-in points: the protocol decisions a graded exercise replaces with a learner's
//! code. Each is handed to the object that makes the decision when it is built, never looked up:
//!
//! | trait | what Kafka calls it | handed to |
//! |---|---|---|
//! | [`PartitionAssignor`] | `RangeAssignor.assign` | [`KafkaConsumer::with_range_assignor`](crate::consumer::KafkaConsumer::with_range_assignor) |
//! | [`KeyPartitioner`] | `DefaultPartitioner.partition` for a keyed record | [`KafkaProducer::with_partitioner`](crate::clients::KafkaProducer::with_partitioner) |
//! | [`HighWatermark`] | `Partition.maybeIncrementLeaderHW` | the broker's `ReplicaManager` |
//! | [`OfflinePartitionLeaderSelector`] | `OfflinePartitionLeaderSelector.selectLeader` | the broker's `KafkaController` |
//!
//! [`KafkaHooks`] gathers them; its default is 0.9.0.1's behaviour, and [`crate::programs`]
//! builds the tools and brokers with it.

pub use crate::coordinator::assignor::{PartitionAssignor, RangeAssignor};
pub use crate::partitioner::{KeyPartitioner, Murmur2Partitioner};
use std::collections::BTreeSet;
use std::sync::Arc;

/// One replica of a partition as its leader sees it when it recomputes the high watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaLeo {
    /// Broker id.
    pub broker: i32,
    /// Its log end offset: the leader's own, or what the follower's last fetch said (0 when
    /// the follower has not fetched since this broker became leader).
    pub leo: i64,
    /// In the ISR (the leader always is).
    pub in_isr: bool,
    /// This is the leader itself.
    pub is_leader: bool,
}

/// `Partition.maybeIncrementLeaderHW`: the leader's high watermark after a change of its LEO,
/// a follower's LEO or the ISR.
pub trait HighWatermark: Send + Sync {
    /// The new HW given the current one and every replica (the leader first). Whatever is
    /// returned becomes the HW, so returning a smaller value moves the HW back.
    fn maybe_increment_hw(&self, current_hw: i64, replicas: &[ReplicaLeo]) -> i64;
}

/// 0.9's rule: the smallest LEO of the ISR, never moving back.
#[derive(Debug, Clone, Copy, Default)]
pub struct MinIsrLeo;

impl HighWatermark for MinIsrLeo {
    fn maybe_increment_hw(&self, current_hw: i64, replicas: &[ReplicaLeo]) -> i64 {
        let min = replicas
            .iter()
            .filter(|r| r.in_isr || r.is_leader)
            .map(|r| r.leo)
            .min()
            .unwrap_or(current_hw);
        current_hw.max(min)
    }
}

/// A new leader and ISR for a partition (`LeaderAndIsr`, without the epochs the controller adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderAndIsr {
    /// The new leader's broker id.
    pub leader: i32,
    /// The new ISR.
    pub isr: Vec<i32>,
}

/// `OfflinePartitionLeaderSelector.selectLeader`: a new leader for a partition whose leader is
/// gone, or `None` (`NoReplicaOnlineException`: the partition stays offline).
pub trait OfflinePartitionLeaderSelector: Send + Sync {
    /// `assigned`: the replica assignment in order; `isr`: the ISR as last written; `live`:
    /// the live brokers; `unclean_leader_election_enable`: the broker config of that name.
    fn select_leader(
        &self,
        assigned: &[i32],
        isr: &[i32],
        live: &BTreeSet<i32>,
        unclean_leader_election_enable: bool,
    ) -> Option<LeaderAndIsr>;
}

/// 0.9's selector: the first live replica of the ISR in assignment order; else, only when
/// unclean leader election is enabled, the first live assigned replica.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultLeaderSelector;

impl OfflinePartitionLeaderSelector for DefaultLeaderSelector {
    fn select_leader(
        &self,
        assigned: &[i32],
        isr: &[i32],
        live: &BTreeSet<i32>,
        unclean: bool,
    ) -> Option<LeaderAndIsr> {
        let live_isr: Vec<i32> =
            assigned.iter().copied().filter(|r| isr.contains(r) && live.contains(r)).collect();
        if let Some(&leader) = live_isr.first() {
            return Some(LeaderAndIsr { leader, isr: live_isr });
        }
        let leader = assigned.iter().copied().find(|r| live.contains(r)).filter(|_| unclean)?;
        Some(LeaderAndIsr { leader, isr: vec![leader] })
    }
}

/// The hooks a broker is built with.
#[derive(Clone)]
pub struct BrokerHooks {
    /// The partition leader's high-watermark rule.
    pub high_watermark: Arc<dyn HighWatermark>,
    /// The controller's leader choice for offline partitions.
    pub leader_selector: Arc<dyn OfflinePartitionLeaderSelector>,
}

impl Default for BrokerHooks {
    fn default() -> Self {
        BrokerHooks {
            high_watermark: Arc::new(MinIsrLeo),
            leader_selector: Arc::new(DefaultLeaderSelector),
        }
    }
}

/// Every Kafka hook: the brokers' and the clients'.
#[derive(Clone)]
pub struct KafkaHooks {
    /// What brokers are built with.
    pub broker: BrokerHooks,
    /// The producer's keyed partitioner.
    pub partitioner: Arc<dyn KeyPartitioner>,
    /// The `range` assignor of new-consumer groups.
    pub range_assignor: Arc<dyn PartitionAssignor>,
}

impl Default for KafkaHooks {
    fn default() -> Self {
        KafkaHooks {
            broker: BrokerHooks::default(),
            partitioner: Arc::new(Murmur2Partitioner),
            range_assignor: Arc::new(RangeAssignor),
        }
    }
}

impl std::fmt::Debug for KafkaHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaHooks").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BrokerHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerHooks").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_selector_follows_kafka() {
        let live: BTreeSet<i32> = [1, 2].into_iter().collect();
        let s = DefaultLeaderSelector;
        assert_eq!(
            s.select_leader(&[0, 1, 2], &[0, 2, 1], &live, false),
            Some(LeaderAndIsr { leader: 1, isr: vec![1, 2] })
        );
        assert_eq!(s.select_leader(&[0, 1, 2], &[0], &live, false), None);
        assert_eq!(
            s.select_leader(&[0, 1, 2], &[0], &live, true),
            Some(LeaderAndIsr { leader: 1, isr: vec![1] })
        );
        assert_eq!(s.select_leader(&[0], &[0], &live, true), None);
    }

    #[test]
    fn min_isr_leo_never_moves_back() {
        let r = |broker, leo, in_isr| ReplicaLeo { broker, leo, in_isr, is_leader: broker == 0 };
        assert_eq!(
            MinIsrLeo.maybe_increment_hw(3, &[r(0, 10, true), r(1, 7, true), r(2, 1, false)]),
            7
        );
        assert_eq!(MinIsrLeo.maybe_increment_hw(8, &[r(0, 10, true), r(1, 7, true)]), 8);
    }
}
