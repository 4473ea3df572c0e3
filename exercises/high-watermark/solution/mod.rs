//! Reference solution (for maintainers and `lab grade --reference`). Try the exercise before
//! reading it.

use sim::hooks::ReplicaLeo;

/// Kafka 0.9's `maybeIncrementLeaderHW`: the smallest LEO among the in-sync replicas, if that
/// is above the current HW (the HW never moves back).
pub fn maybe_increment_hw(current_hw: i64, replicas: &[ReplicaLeo]) -> i64 {
    let new = replicas
        .iter()
        .filter(|r| r.in_isr || r.is_leader)
        .map(|r| r.leo)
        .min()
        .unwrap_or(current_hw);
    new.max(current_hw)
}
