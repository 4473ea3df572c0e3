//! `kafka.cluster.Partition`: one local replica of a partition, and the leader's ISR and high
//! watermark rules as pure functions over its state.
//!
//! The rules are Kafka 0.9's (`Partition.scala`):
//! - [`PartitionInfo::get_out_of_sync_replicas`]: a follower leaves the ISR when it has not
//!   caught up to the leader's log end for `replica.lag.time.max.ms`.
//! - [`PartitionInfo::maybe_expand_isr`]: an assigned follower outside the ISR rejoins once its
//!   fetch offset reaches the high watermark; it is appended at the end of the ISR list.
//! - [`PartitionInfo::maybe_increment_leader_hw`]: the HW is what the
//!   [`HighWatermark`] rule says (0.9's: the smallest log end of the ISR, never moving back).
//!
//! They take the time and the leader's log end as arguments, so they are unit-tested without a
//! broker; [`crate::replica_manager::ReplicaManager`] calls them and does the I/O (the state
//! znode's compare-and-set, the trace, waking delayed requests).

use crate::hooks::{HighWatermark, ReplicaLeo};
use crate::leader_epoch::LeaderEpochCache;
use crate::log::Log;
use crate::proto::PartitionState;
use futures::lock::Mutex as AsyncMutex;
use madsim::time::Instant;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

#[cfg(test)]
mod tests;

/// A topic and partition.
pub type TopicPartition = (String, i32);

/// Leadership state of one local partition.
#[derive(Debug, Clone, Default)]
pub struct PartitionInfo {
    /// Current leader (−1 none).
    pub leader: i32,
    /// Leader epoch.
    pub leader_epoch: i32,
    /// In-sync replicas.
    pub isr: Vec<i32>,
    /// Assigned replicas.
    pub replicas: Vec<i32>,
    /// State znode version, for compare-and-set.
    pub zk_version: i32,
    /// High watermark.
    pub hw: i64,
    /// Leader only: followers' LEOs as their fetches report them.
    pub follower_leo: BTreeMap<i32, i64>,
    /// Leader only: when each follower last fetched up to the leader's LEO (`lastCaughtUpTimeMs`).
    pub caught_up_at: BTreeMap<i32, Instant>,
}

impl PartitionInfo {
    /// `Partition.makeLeader`: this broker leads from now on. The HW is kept (capped at the
    /// local log end) and every ISR member gets a full lag window from `now`.
    pub fn make_leader(&mut self, me: i32, ps: &PartitionState, leo: i64, now: Instant) {
        let hw = self.hw.min(leo);
        *self = PartitionInfo {
            leader: me,
            leader_epoch: ps.leader_epoch,
            isr: ps.isr.clone(),
            replicas: ps.replicas.clone(),
            zk_version: ps.zk_version,
            hw,
            follower_leo: BTreeMap::new(),
            caught_up_at: ps.isr.iter().map(|r| (*r, now)).collect(),
        };
    }

    /// `Partition.makeFollower`: another broker leads. Returns whether the leader changed (the
    /// controller may re-send the same leader, or only move the ISR; then nothing else happens).
    pub fn make_follower(&mut self, ps: &PartitionState) -> bool {
        let leader_changed = self.leader != ps.leader;
        self.leader = ps.leader;
        self.leader_epoch = ps.leader_epoch;
        self.isr = ps.isr.clone();
        self.replicas = ps.replicas.clone();
        self.zk_version = ps.zk_version;
        self.follower_leo.clear();
        self.caught_up_at.clear();
        leader_changed
    }

    /// `Partition.updateReplicaLogReadResult` on the leader: a follower fetched from
    /// `fetch_offset`, which is its log end; if that is the leader's log end it is caught up now.
    pub fn update_replica_log_read_result(
        &mut self,
        replica: i32,
        fetch_offset: i64,
        leader_leo: i64,
        now: Instant,
    ) {
        self.follower_leo.insert(replica, fetch_offset);
        if fetch_offset >= leader_leo {
            self.caught_up_at.insert(replica, now);
        }
    }

    /// `Partition.maybeExpandIsr`'s test: an assigned replica outside the ISR whose log end has
    /// reached the high watermark is back in sync. The new ISR (the replica appended), if so.
    pub fn maybe_expand_isr(&self, replica: i32, replica_leo: i64) -> Option<Vec<i32>> {
        let joins = !self.isr.contains(&replica)
            && self.replicas.contains(&replica)
            && replica_leo >= self.hw;
        joins.then(|| self.isr.iter().copied().chain([replica]).collect())
    }

    /// `Partition.getOutOfSyncReplicas`: the followers in the ISR that have not caught up to the
    /// leader's log end for longer than `max_lag_time` (or have never fetched since this broker
    /// became leader and were given no window), and — as this simulator still checks — those
    /// more than `max_lag_messages` behind. The leader itself is never out of sync.
    pub fn get_out_of_sync_replicas(
        &self,
        leader: i32,
        leader_leo: i64,
        now: Instant,
        max_lag_time: Duration,
        max_lag_messages: i64,
    ) -> Vec<i32> {
        self.isr
            .iter()
            .copied()
            .filter(|r| *r != leader)
            .filter(|r| {
                let slow =
                    self.caught_up_at.get(r).is_none_or(|t| now.duration_since(*t) > max_lag_time);
                let behind =
                    leader_leo - self.follower_leo.get(r).copied().unwrap_or(0) > max_lag_messages;
                slow || behind
            })
            .collect()
    }

    /// Every replica's log end as the leader knows it: the leader first, then the assignment,
    /// then any ISR member outside it (0 for a follower that has not fetched since this broker
    /// became leader).
    pub fn replica_leos(&self, leader: i32, leader_leo: i64) -> Vec<ReplicaLeo> {
        let mut replicas =
            vec![ReplicaLeo { broker: leader, leo: leader_leo, in_isr: true, is_leader: true }];
        for &r in self.replicas.iter().chain(self.isr.iter()) {
            if r != leader && !replicas.iter().any(|x| x.broker == r) {
                replicas.push(ReplicaLeo {
                    broker: r,
                    leo: self.follower_leo.get(&r).copied().unwrap_or(0),
                    in_isr: self.isr.contains(&r),
                    is_leader: false,
                });
            }
        }
        replicas
    }

    /// `Partition.maybeIncrementLeaderHW`: on the leader `me`, sets the HW to what `rule` says
    /// over [`Self::replica_leos`]. The old HW if it changed; `None` if it did not, or if `me`
    /// does not lead.
    pub fn maybe_increment_leader_hw(
        &mut self,
        me: i32,
        leader_leo: i64,
        rule: &dyn HighWatermark,
    ) -> Option<i64> {
        if self.leader != me {
            return None;
        }
        let hw = rule.maybe_increment_hw(self.hw, &self.replica_leos(me, leader_leo));
        (hw != self.hw).then(|| std::mem::replace(&mut self.hw, hw))
    }
}

/// A local replica: its log and what the controller said about it.
pub struct Partition {
    /// Topic.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// The log (async: disk operations take virtual time).
    pub log: AsyncMutex<Log>,
    /// Leadership and HW.
    pub info: Mutex<PartitionInfo>,
    /// Cached LEO, readable without the log lock.
    pub leo: Mutex<i64>,
    /// `lab.replica.truncation=leader-epoch` only: the leader epoch cache (KIP-101).
    pub epochs: Mutex<LeaderEpochCache>,
    /// A follower whose leader changed and who must ask it where to truncate (KIP-101) before
    /// its next fetch.
    pub pending_epoch_truncation: Mutex<bool>,
}

impl Partition {
    /// A replica just opened: no leader epoch yet, so the first LeaderAndIsr, of any epoch, is
    /// newer (0.9's `LeaderAndIsr.initialLeaderEpoch - 1`); the HW is the checkpointed one.
    pub fn new(topic: &str, partition: i32, log: Log, hw: i64, epochs: LeaderEpochCache) -> Self {
        let leo = log.log_end_offset();
        Partition {
            topic: topic.to_string(),
            partition,
            log: AsyncMutex::new(log),
            info: Mutex::new(PartitionInfo {
                leader: -1,
                leader_epoch: -1,
                hw: hw.min(leo),
                ..PartitionInfo::default()
            }),
            leo: Mutex::new(leo),
            epochs: Mutex::new(epochs),
            pending_epoch_truncation: Mutex::new(false),
        }
    }
}
