//! Your high-watermark rule. Edit this file (only this one), then run
//! `cargo run --release -p lab -- grade high-watermark`.

use sim::hooks::ReplicaLeo;

/// `Partition.maybeIncrementLeaderHW`: the partition leader calls this whenever its own log end
/// offset (LEO), a follower's LEO (reported by the follower's fetch) or the ISR changes.
///
/// - `current_hw`: the high watermark now. Consumers only see offsets below it, and an
///   `acks=all` produce request is answered once the HW has passed its records.
/// - `replicas`: every replica of the partition, the leader first: its broker id, its LEO, and
///   whether it is in the ISR (in-sync replicas).
///
/// Return the new high watermark. Whatever you return becomes the HW.
pub fn maybe_increment_hw(current_hw: i64, replicas: &[ReplicaLeo]) -> i64 {
    let _ = (current_hw, replicas);
    todo!(
        "maybeIncrementLeaderHW: the offset every in-sync replica has reached, and never move back"
    )
}
