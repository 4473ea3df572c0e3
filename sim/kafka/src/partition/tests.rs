//! The leader's ISR and HW rules, without a broker.

use super::*;
use crate::hooks::MinIsrLeo;

const LAG: Duration = Duration::from_millis(10_000);
const NO_MESSAGE_LAG: i64 = i64::MAX;

fn state(leader: i32, isr: &[i32], replicas: &[i32]) -> PartitionState {
    PartitionState {
        topic: "t".into(),
        partition: 0,
        leader,
        leader_epoch: 3,
        isr: isr.to_vec(),
        zk_version: 7,
        replicas: replicas.to_vec(),
    }
}

/// Broker 1 leads `t-0` with ISR [1, 2, 3] and log end 10, from `now`.
fn leading(now: Instant) -> PartitionInfo {
    let mut info = PartitionInfo::default();
    info.make_leader(1, &state(1, &[1, 2, 3], &[1, 2, 3]), 10, now);
    info
}

#[madsim::test]
async fn make_leader_gives_every_isr_member_a_full_window() {
    let now = Instant::now();
    let info = leading(now);
    assert_eq!((info.leader, info.leader_epoch, info.zk_version), (1, 3, 7));
    assert_eq!(info.caught_up_at.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(info.get_out_of_sync_replicas(1, 10, now + LAG, LAG, NO_MESSAGE_LAG).is_empty());
    let late = now + LAG + Duration::from_millis(1);
    assert_eq!(info.get_out_of_sync_replicas(1, 10, late, LAG, NO_MESSAGE_LAG), vec![2, 3]);
}

#[madsim::test]
async fn a_follower_that_reaches_the_log_end_stays_in_sync() {
    let t0 = Instant::now();
    let mut info = leading(t0);
    let t1 = t0 + Duration::from_millis(8_000);
    // Replica 2 fetches from the leader's log end; replica 3 stays behind.
    info.update_replica_log_read_result(2, 10, 10, t1);
    info.update_replica_log_read_result(3, 9, 10, t1);
    let t2 = t0 + Duration::from_millis(12_000);
    assert_eq!(info.get_out_of_sync_replicas(1, 10, t2, LAG, NO_MESSAGE_LAG), vec![3]);
    assert_eq!(info.follower_leo.get(&3), Some(&9));
}

#[madsim::test]
async fn the_message_lag_check_is_separate_from_the_time_check() {
    let now = Instant::now();
    let mut info = leading(now);
    info.update_replica_log_read_result(2, 10, 10, now);
    info.update_replica_log_read_result(3, 4, 10, now);
    assert_eq!(info.get_out_of_sync_replicas(1, 10, now, LAG, 5), vec![3]);
    assert!(info.get_out_of_sync_replicas(1, 10, now, LAG, 6).is_empty());
}

#[madsim::test]
async fn a_replica_rejoins_at_the_high_watermark_at_the_end_of_the_isr() {
    let mut info = leading(Instant::now());
    info.isr = vec![3, 1];
    info.hw = 8;
    assert_eq!(info.maybe_expand_isr(2, 7), None, "below the HW");
    assert_eq!(info.maybe_expand_isr(2, 8), Some(vec![3, 1, 2]));
    assert_eq!(info.maybe_expand_isr(3, 10), None, "already in the ISR");
    assert_eq!(info.maybe_expand_isr(4, 10), None, "not an assigned replica");
}

#[madsim::test]
async fn the_hw_is_the_smallest_isr_log_end_and_never_moves_back() {
    let now = Instant::now();
    let mut info = leading(now);
    info.hw = 2;
    info.update_replica_log_read_result(2, 6, 10, now);
    info.update_replica_log_read_result(3, 4, 10, now);
    assert_eq!(info.maybe_increment_leader_hw(1, 10, &MinIsrLeo), Some(2));
    assert_eq!(info.hw, 4);
    // Replica 3 leaves the ISR: the HW moves to replica 2's log end.
    info.isr = vec![1, 2];
    assert_eq!(info.maybe_increment_leader_hw(1, 10, &MinIsrLeo), Some(4));
    assert_eq!(info.hw, 6);
    // A follower that reports less (it truncated) does not move the HW back.
    info.update_replica_log_read_result(2, 3, 10, now);
    assert_eq!(info.maybe_increment_leader_hw(1, 10, &MinIsrLeo), None);
    assert_eq!(info.hw, 6);
    // Not the leader: nothing changes.
    assert_eq!(info.maybe_increment_leader_hw(2, 10, &MinIsrLeo), None);
}

#[madsim::test]
async fn replica_leos_list_the_leader_first_and_an_isr_member_outside_the_assignment() {
    let mut info = leading(Instant::now());
    info.replicas = vec![2, 1];
    info.isr = vec![1, 2, 5];
    info.follower_leo.insert(5, 9);
    let leos: Vec<(i32, i64, bool, bool)> =
        info.replica_leos(1, 10).iter().map(|r| (r.broker, r.leo, r.in_isr, r.is_leader)).collect();
    assert_eq!(leos, vec![(1, 10, true, true), (2, 0, true, false), (5, 9, true, false)]);
}

#[madsim::test]
async fn make_follower_reports_whether_the_leader_changed() {
    let mut info = leading(Instant::now());
    assert!(info.make_follower(&state(2, &[2, 3], &[1, 2, 3])));
    assert!(info.follower_leo.is_empty() && info.caught_up_at.is_empty());
    assert!(!info.make_follower(&state(2, &[2], &[1, 2, 3])), "same leader, ISR moved");
    assert_eq!(info.isr, vec![2]);
}
