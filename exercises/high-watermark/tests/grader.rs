//! The grader itself is tested: the reference passes, the starter fails with its todo!()
//! message, and plausible wrong HW rules fail with a message that says what went wrong.

use exercise_grading::Effort;
use high_watermark::{grade, grade_learner, grade_reference};
use sim::hooks::ReplicaLeo;

#[test]
fn reference_passes() {
    grade_reference(Effort::QUICK).assert_reference_passes();
}

#[test]
fn starter_fails_with_its_todo() {
    grade_learner(Effort::QUICK)
        .assert_starter_fails_with("not implemented yet: maybeIncrementLeaderHW");
}

/// Mutant 1: the HW follows the leader's own LEO (advances too early: acks=all means nothing).
fn leader_leo(_hw: i64, rs: &[ReplicaLeo]) -> i64 {
    rs[0].leo
}

/// Mutant 2: the minimum over every assigned replica, in the ISR or not.
fn all_replicas(hw: i64, rs: &[ReplicaLeo]) -> i64 {
    rs.iter().map(|r| r.leo).min().unwrap_or(hw).max(hw)
}

/// Mutant 3: the ISR minimum, but allowed to move back.
fn may_move_back(hw: i64, rs: &[ReplicaLeo]) -> i64 {
    rs.iter().filter(|r| r.in_isr).map(|r| r.leo).min().unwrap_or(hw)
}

#[test]
fn an_hw_that_advances_too_early_loses_acknowledged_records() {
    let o = grade(leader_leo, Effort::QUICK);
    assert!(!o.passed());
    let text = o.failures().join("\n");
    assert!(text.contains("an in-sync replica has only"), "{text}");
    // Not only the comparison with Kafka's rule: the runs themselves lose acknowledged records.
    assert!(text.contains("no_acked_loss expected pass, got fail"), "{text}");
}

#[test]
fn other_mutants_fail_with_helpful_messages() {
    let text = grade(all_replicas, Effort::QUICK).failures().join("\n");
    assert!(
        text.contains("a replica outside the ISR must not hold the high watermark back"),
        "{text}"
    );
    let text = grade(may_move_back, Effort::QUICK).failures().join("\n");
    assert!(text.contains("the high watermark moved back"), "{text}");
}
