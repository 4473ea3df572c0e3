//! Your controller's leader choice. Edit this file (only this one), then run
//! `cargo run --release -p lab -- grade controller-leader-election`.

use sim::hooks::LeaderAndIsr;
use std::collections::BTreeSet;

/// `OfflinePartitionLeaderSelector.selectLeader`: the controller calls this for every partition
/// whose leader is gone (its broker died) or that never had one.
///
/// - `assigned`: the partition's replicas in assignment order (`/brokers/topics/<t>`); the
///   first is the preferred leader.
/// - `isr`: the in-sync replicas as last written to the partition's state znode.
/// - `live`: the brokers that are alive now (`/brokers/ids`).
/// - `unclean_leader_election_enable`: the broker setting of that name.
///
/// Return the new leader and the new ISR, or `None` when no replica may lead
/// (`NoReplicaOnlineException`: the partition stays offline).
pub fn select_leader(
    assigned: &[i32],
    isr: &[i32],
    live: &BTreeSet<i32>,
    unclean_leader_election_enable: bool,
) -> Option<LeaderAndIsr> {
    let _ = (assigned, isr, live, unclean_leader_election_enable);
    todo!("selectLeader: a live in-sync replica, first in assignment order; otherwise only if unclean election is enabled")
}
