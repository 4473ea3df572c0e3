//! Every plug-in point of the graded exercises in one place, and the world configuration that
//! hands them to the protocols.
//!
//! The traits live next to their protocol ([`zk::election::VoteOrder`](crate::zk::election),
//! [`kafka::hooks`](crate::kafka::hooks)); each is handed to the object that makes the decision
//! when it is built (a `QuorumPeer`, a broker's `ReplicaManager` and controller, a producer, a
//! consumer). [`Hooks`] gathers one of each and [`Hooks::registry`] builds the hosts' programs
//! with them, so a world that runs a learner's code is simply a world with other programs.
//!
//! | trait | what Kafka/ZooKeeper calls it | who is built with it |
//! |---|---|---|
//! | [`PartitionAssignor`] | `RangeAssignor.assign` | a consumer leading its group, protocol `range` |
//! | [`KeyPartitioner`] | `DefaultPartitioner.partition` for a keyed record | `KafkaProducer` |
//! | [`VoteOrder`] | `FastLeaderElection.totalOrderPredicate`, `QuorumMaj.containsQuorum` | `QuorumPeer` |
//! | [`HighWatermark`] | `Partition.maybeIncrementLeaderHW` | the broker's `ReplicaManager` |
//! | [`OfflinePartitionLeaderSelector`] | `OfflinePartitionLeaderSelector.selectLeader` | `KafkaController` |
//!
//! ```
//! use sim::hooks::{Hooks, KeyPartitioner};
//! use std::sync::Arc;
//! struct AlwaysZero;
//! impl KeyPartitioner for AlwaysZero {
//!     fn partition(&self, _key: &[u8], _num_partitions: i32) -> i32 { 0 }
//! }
//! let hooks = Hooks { partitioner: Arc::new(AlwaysZero), ..Hooks::default() };
//! let cfg = hooks.world_config(1);
//! assert!(cfg.programs.get("kafka-console-producer.sh").is_some());
//! assert_eq!(hooks.partitioner.partition(b"foobar", 3), 0);
//! assert_eq!(Hooks::default().partitioner.partition(b"foobar", 3), (-790332482i32 & 0x7fffffff) % 3);
//! ```
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! The plug-in points of the graded exercises. `Hooks` (in `WorldConfig`, built-in by default)
//! holds five small traits the simulator calls for its own decisions: `PartitionAssignor` (the group
//! leader's `range` assignor in `KafkaConsumer::perform_assignment`), `KeyPartitioner` (keyed
//! records in `KafkaProducer::send`), `VoteOrder` (`totalOrderPredicate` and `containsQuorum` in
//! `election::look_for_leader`), `HighWatermark` (`ReplicaManager::maybe_advance_hw`) and
//! `OfflinePartitionLeaderSelector` (`KafkaController::elect_offline`). `Builtin` implements each
//! exactly as the code did before, so a world with default hooks runs byte for byte as without
//! them; `scenario::run_with_hooks` plays a scenario with other hooks and returns its events.
//!
//! Each exercise is a crate `exercises/NAME/`: `src/learner.rs` (the starter, a `todo!()` at the
//! plug-in point), `solution/mod.rs` (the reference, compiled in as a hidden module, never chosen by
//! a cargo feature, which feature unification would leak into the learner's build), `src/grader.rs`
//! and `tests/grader.rs` (reference passes, starter fails, mutants fail with the expected message).
//! `exercises/grading` is what graders share: `Outcome` (named checks, score, JSON),
//! `hidden_seeds` (derived from names with SHA-256), `Witness` (wraps the learner's code inside a
//! hook: catches its panics before madsim would abort the run, answers the reference's decision so
//! the run winds down, and records every decision that differs from the reference), `call` and
//! `call_async` (panics → `not implemented yet: …`, silenced by a thread-local flag in the panic
//! hook), and `per_seed` (runs on parallel threads, one madsim runtime each). A grader first checks
//! the learner's function on generated inputs, then runs scenarios with it (the lock recipe's
//! grader drives its own world: five lock clients, a `kill -9`, a partition longer than the session
//! timeout) and judges them by `sim::check` checkers and trace-derived invariants (mutual exclusion
//! from `lock.*` events, herd effect from `zk.watch_event` deliveries per deletion, leader quality
//! from `fle.start`/`fle.settled`). `lab/src/grade.rs` lists the exercises and prints the results.

pub use crate::kafka::hooks::{
    BrokerHooks, HighWatermark, KafkaHooks, KeyPartitioner, LeaderAndIsr,
    OfflinePartitionLeaderSelector, PartitionAssignor, RangeAssignor, ReplicaLeo,
};
use crate::kafka::hooks::{DefaultLeaderSelector, MinIsrLeo, Murmur2Partitioner};
use crate::program::Registry;
use crate::world::WorldConfig;
use crate::zk::election::DefaultVoteOrder;
pub use crate::zk::election::VoteOrder;
pub use crate::zk::proto::Vote;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The built-in behaviour of every hook (0.9.0.1's and 3.4.6's), as one value a grader can
/// compare a learner's answers with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Builtin;

impl KeyPartitioner for Builtin {
    fn partition(&self, key: &[u8], num_partitions: i32) -> i32 {
        Murmur2Partitioner.partition(key, num_partitions)
    }
}

impl VoteOrder for Builtin {
    fn total_order_predicate(&self, new: &Vote, cur: &Vote) -> bool {
        DefaultVoteOrder.total_order_predicate(new, cur)
    }

    fn contains_quorum(&self, ackers: &BTreeSet<u64>, voting_members: usize) -> bool {
        DefaultVoteOrder.contains_quorum(ackers, voting_members)
    }
}

impl HighWatermark for Builtin {
    fn maybe_increment_hw(&self, current_hw: i64, replicas: &[ReplicaLeo]) -> i64 {
        MinIsrLeo.maybe_increment_hw(current_hw, replicas)
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
        DefaultLeaderSelector.select_leader(assigned, isr, live, unclean)
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
    /// The protocols' own defaults: 3.4.6's vote order and what [`KafkaHooks::default`] holds.
    fn default() -> Self {
        let KafkaHooks { broker, partitioner, range_assignor } = KafkaHooks::default();
        Hooks {
            range_assignor,
            partitioner,
            vote_order: Arc::new(DefaultVoteOrder),
            high_watermark: broker.high_watermark,
            leader_selector: broker.leader_selector,
        }
    }
}

impl Hooks {
    /// The Kafka part.
    pub fn kafka(&self) -> KafkaHooks {
        KafkaHooks {
            broker: BrokerHooks {
                high_watermark: self.high_watermark.clone(),
                leader_selector: self.leader_selector.clone(),
            },
            partitioner: self.partitioner.clone(),
            range_assignor: self.range_assignor.clone(),
        }
    }

    /// The hosts' programs: ZooKeeper 3.4.6 and Kafka 0.9.0.1 as the seed installs them, built
    /// with these hooks.
    pub fn registry(&self) -> Registry {
        let mut reg = crate::zk::programs(self.vote_order.clone());
        reg.extend(crate::kafka::programs(self.kafka()));
        reg
    }

    /// The seed's three hosts on the default profile, running programs built with these hooks.
    pub fn world_config(&self, seed: u64) -> WorldConfig {
        let mut cfg = WorldConfig::seeded(seed);
        cfg.programs = self.registry();
        cfg
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").finish_non_exhaustive()
    }
}

/// The seed's three hosts with ZooKeeper and Kafka installed and the built-in hooks: what every
/// run of the lab starts from.
pub fn seeded(seed: u64) -> WorldConfig {
    Hooks::default().world_config(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_agrees_with_the_protocols_defaults() {
        let live: BTreeSet<i32> = [1, 2].into_iter().collect();
        assert_eq!(
            Builtin.select_leader(&[0, 1, 2], &[0, 2, 1], &live, false),
            Some(LeaderAndIsr { leader: 1, isr: vec![1, 2] })
        );
        let r = |broker, leo, in_isr| ReplicaLeo { broker, leo, in_isr, is_leader: broker == 0 };
        assert_eq!(Builtin.maybe_increment_hw(3, &[r(0, 10, true), r(1, 7, true)]), 7);
        assert!(Builtin.contains_quorum(&[1, 2].into_iter().collect(), 3));
        assert!(!Builtin.contains_quorum(&[1, 2].into_iter().collect(), 4));
    }

    #[test]
    fn the_registry_holds_the_seeds_programs() {
        let reg = Hooks::default().registry();
        let names: Vec<&str> = reg.names().collect();
        for p in ["zkServer.sh", "zkCli.sh", "kafka-server-start.sh", "kafka-topics.sh"] {
            assert!(names.contains(&p), "{p} missing from {names:?}");
        }
        assert_eq!(reg.full_main_class("Kafka"), Some("kafka.Kafka"));
        assert!(reg.login_dir().ends_with("zookeeper-3.4.6/bin"));
    }
}
