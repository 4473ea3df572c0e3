//! Plug-in points: the few protocol decisions a learner can replace with their own code.
//!
//! Each is a small trait that the simulator itself calls for its built-in behaviour, carried in
//! [`Hooks`] inside the [`WorldConfig`](crate::world::WorldConfig). The default `Hooks` holds the
//! built-in implementations ([`Builtin`]), so a run that does not replace anything is the same
//! run, byte for byte, as before these traits existed. The graded exercises (`exercises/`) put a
//! learner's implementation here and play scenarios against it.
//!
//! | trait | what Kafka/ZooKeeper calls it | who calls it here |
//! |---|---|---|
//! | [`PartitionAssignor`] | `RangeAssignor.assign` | the group leader's `performAssignment` for protocol `range` |
//! | [`KeyPartitioner`] | `DefaultPartitioner.partition` for a keyed record | `KafkaProducer::send` |
//! | [`VoteOrder`] | `FastLeaderElection.totalOrderPredicate`, `QuorumMaj.containsQuorum` | `look_for_leader` |
//! | [`HighWatermark`] | `Partition.maybeIncrementLeaderHW` | the leader's `ReplicaManager` |
//! | [`OfflinePartitionLeaderSelector`] | `OfflinePartitionLeaderSelector.selectLeader` | `KafkaController` |
//!
//! ```
//! use sim::hooks::{Hooks, KeyPartitioner};
//! use std::sync::Arc;
//! struct AlwaysZero;
//! impl KeyPartitioner for AlwaysZero {
//!     fn partition(&self, _key: &[u8], _num_partitions: i32) -> i32 { 0 }
//! }
//! let mut cfg = sim::world::WorldConfig::seeded(1);
//! cfg.hooks.partitioner = Arc::new(AlwaysZero);
//! assert_eq!(cfg.hooks.partitioner.partition(b"foobar", 3), 0);
//! assert_eq!(Hooks::default().partitioner.partition(b"foobar", 3), (-790332482i32 & 0x7fffffff) % 3);
//! ```

pub use crate::kafka::coordinator::assignor::{PartitionAssignor, RangeAssignor};
use crate::kafka::partitioner::{murmur2, to_positive};
pub use crate::zk::proto::Vote;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The key part of `DefaultPartitioner.partition`: which partition a record with this key goes
/// to. Records without a key are spread round robin by the producer itself and never get here.
pub trait KeyPartitioner: Send + Sync {
    /// A partition in `0..num_partitions` (`num_partitions` ≥ 1).
    fn partition(&self, key: &[u8], num_partitions: i32) -> i32;
}

/// FastLeaderElection's two decisions.
pub trait VoteOrder: Send + Sync {
    /// `totalOrderPredicate`: does the received vote `new` beat the current proposal `cur`?
    fn total_order_predicate(&self, new: &Vote, cur: &Vote) -> bool;
    /// `QuorumMaj.containsQuorum`: do the servers in `ackers` (those whose votes agree) form a
    /// quorum of an ensemble of `voting_members` servers?
    fn contains_quorum(&self, ackers: &BTreeSet<u64>, voting_members: usize) -> bool;
}

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

/// The simulator's own implementations of every hook.
#[derive(Debug, Clone, Copy, Default)]
pub struct Builtin;

impl KeyPartitioner for Builtin {
    fn partition(&self, key: &[u8], num_partitions: i32) -> i32 {
        to_positive(murmur2(key)) % num_partitions.max(1)
    }
}

impl VoteOrder for Builtin {
    fn total_order_predicate(&self, new: &Vote, cur: &Vote) -> bool {
        crate::zk::election::total_order_predicate(new, cur)
    }

    fn contains_quorum(&self, ackers: &BTreeSet<u64>, voting_members: usize) -> bool {
        ackers.len() > voting_members / 2
    }
}

impl HighWatermark for Builtin {
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

impl OfflinePartitionLeaderSelector for Builtin {
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

/// The implementations a world runs with.
#[derive(Clone)]
pub struct Hooks {
    /// The `range` assignor of new-consumer groups.
    pub range_assignor: Arc<dyn PartitionAssignor>,
    /// The producer's keyed partitioner.
    pub partitioner: Arc<dyn KeyPartitioner>,
    /// FastLeaderElection's vote order and quorum check.
    pub vote_order: Arc<dyn VoteOrder>,
    /// The partition leader's high-watermark rule.
    pub high_watermark: Arc<dyn HighWatermark>,
    /// The controller's leader choice for offline partitions.
    pub leader_selector: Arc<dyn OfflinePartitionLeaderSelector>,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            range_assignor: Arc::new(RangeAssignor),
            partitioner: Arc::new(Builtin),
            vote_order: Arc::new(Builtin),
            high_watermark: Arc::new(Builtin),
            leader_selector: Arc::new(Builtin),
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_selector_follows_kafka() {
        let live: BTreeSet<i32> = [1, 2].into_iter().collect();
        let s = Builtin;
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
    fn builtin_hw_is_min_isr_leo_and_never_moves_back() {
        let r = |broker, leo, in_isr| ReplicaLeo { broker, leo, in_isr, is_leader: broker == 0 };
        assert_eq!(
            Builtin.maybe_increment_hw(3, &[r(0, 10, true), r(1, 7, true), r(2, 1, false)]),
            7
        );
        assert_eq!(Builtin.maybe_increment_hw(8, &[r(0, 10, true), r(1, 7, true)]), 8);
        assert!(Builtin.contains_quorum(&[1, 2].into_iter().collect(), 3));
        assert!(!Builtin.contains_quorum(&[1, 2].into_iter().collect(), 4));
    }
}
