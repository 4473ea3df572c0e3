//! The grader itself is tested: the reference passes, the starter fails with its todo!()
//! message, and plausible wrong selectors fail with a message that says what went wrong.

use controller_leader_election::{grade, grade_learner, grade_reference};
use exercise_grading::Effort;
use sim::hooks::LeaderAndIsr;
use std::collections::BTreeSet;

#[test]
fn reference_passes() {
    grade_reference(Effort::QUICK).assert_reference_passes();
}

#[test]
fn starter_fails_with_its_todo() {
    grade_learner(Effort::QUICK).assert_starter_fails_with("not implemented yet: selectLeader");
}

/// Mutant 1: any live replica, ISR or not (always unclean).
fn any_live(
    assigned: &[i32],
    _isr: &[i32],
    live: &BTreeSet<i32>,
    _unclean: bool,
) -> Option<LeaderAndIsr> {
    let leader = assigned.iter().copied().find(|r| live.contains(r))?;
    Some(LeaderAndIsr { leader, isr: vec![leader] })
}

/// Mutant 2: ignores unclean.leader.election.enable (never elects outside the ISR).
fn never_unclean(
    assigned: &[i32],
    isr: &[i32],
    live: &BTreeSet<i32>,
    _unclean: bool,
) -> Option<LeaderAndIsr> {
    controller_leader_election::solution::select_leader(assigned, isr, live, false)
}

/// Mutant 3: the first live member in ISR order, not assignment order.
fn isr_order(
    _assigned: &[i32],
    isr: &[i32],
    live: &BTreeSet<i32>,
    unclean: bool,
) -> Option<LeaderAndIsr> {
    let live_isr: Vec<i32> = isr.iter().copied().filter(|r| live.contains(r)).collect();
    match live_isr.first() {
        Some(&leader) => Some(LeaderAndIsr { leader, isr: live_isr }),
        None if unclean => {
            controller_leader_election::solution::select_leader(_assigned, isr, live, true)
        }
        None => None,
    }
}

#[test]
fn mutants_fail_with_helpful_messages() {
    let text = grade(any_live, Effort::QUICK).failures().join("\n");
    assert!(text.contains("that is an unclean election"), "{text}");
    let o = grade(never_unclean, Effort::QUICK);
    let text = o.failures().join("\n");
    assert!(text.contains("a live replica could lead"), "{text}");
    assert!(text.contains("a live out-of-sync replica should have become leader"), "{text}");
    let text = grade(isr_order, Effort::QUICK).failures().join("\n");
    assert!(text.contains("the first in assignment order"), "{text}");
}
