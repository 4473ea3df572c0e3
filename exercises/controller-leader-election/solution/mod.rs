//! Reference solution (for maintainers and `lab grade --reference`). Try the exercise before
//! reading it.

use sim::hooks::LeaderAndIsr;
use std::collections::BTreeSet;

/// Kafka 0.9's `OfflinePartitionLeaderSelector.selectLeader`.
pub fn select_leader(
    assigned: &[i32],
    isr: &[i32],
    live: &BTreeSet<i32>,
    unclean: bool,
) -> Option<LeaderAndIsr> {
    let live_isr: Vec<i32> = isr.iter().copied().filter(|r| live.contains(r)).collect();
    if live_isr.is_empty() {
        // No in-sync replica is alive: only an unclean election can bring the partition back,
        // at the price of the records only the old ISR had.
        if !unclean {
            return None;
        }
        let leader = assigned.iter().copied().find(|r| live.contains(r))?;
        return Some(LeaderAndIsr { leader, isr: vec![leader] });
    }
    // The first live assigned replica that is in the ISR; the ISR loses the dead.
    let leader = assigned.iter().copied().find(|r| live_isr.contains(r))?;
    Some(LeaderAndIsr { leader, isr: live_isr })
}
