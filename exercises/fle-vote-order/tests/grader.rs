//! The grader itself is tested: the reference passes, the starter fails with its todo!()
//! message, and plausible wrong election rules fail with a message that says what went wrong.

use exercise_grading::Effort;
use fle_vote_order::{grade, grade_learner, grade_reference, solution, Rules};
use sim::hooks::Vote;
use std::collections::BTreeSet;

#[test]
fn reference_passes() {
    grade_reference(Effort::QUICK).assert_reference_passes();
}

#[test]
fn starter_fails_with_its_todo() {
    grade_learner(Effort::QUICK)
        .assert_starter_fails_with("not implemented yet: totalOrderPredicate");
}

/// Mutant 1: zxid before epoch.
fn zxid_first(new: &Vote, cur: &Vote) -> bool {
    (new.zxid, new.peer_epoch, new.leader) > (cur.zxid, cur.peer_epoch, cur.leader)
}

/// Mutant 2: the lower server id wins ties.
fn lowest_id(new: &Vote, cur: &Vote) -> bool {
    (new.peer_epoch, new.zxid) > (cur.peer_epoch, cur.zxid)
        || ((new.peer_epoch, new.zxid) == (cur.peer_epoch, cur.zxid) && new.leader < cur.leader)
}

/// Mutant 3: half the ensemble is enough.
fn half_is_enough(ackers: &BTreeSet<u64>, n: usize) -> bool {
    ackers.len() >= n / 2
}

#[test]
fn mutants_fail_with_helpful_messages() {
    let o = grade(
        Rules { total_order_predicate: zxid_first, contains_quorum: solution::contains_quorum },
        Effort::QUICK,
    );
    assert!(!o.passed());
    assert!(o.failures().join("\n").contains("the higher epoch wins"), "{:?}", o.failures());

    // In the simulator too: a leader with a lower id than one of its followers. Only some
    // schedules elect such a leader before a better vote arrives: 24 seeds show it.
    let o = grade(
        Rules { total_order_predicate: lowest_id, contains_quorum: solution::contains_quorum },
        Effort { seeds: 6, ..Effort::QUICK },
    );
    assert!(!o.passed());
    let text = o.failures().join("\n");
    assert!(text.contains("the higher server id wins"), "{text}");
    assert!(text.contains("a better vote"), "{text}");

    let o = grade(
        Rules {
            total_order_predicate: solution::total_order_predicate,
            contains_quorum: half_is_enough,
        },
        Effort::QUICK,
    );
    assert!(!o.passed());
    let text = o.failures().join("\n");
    assert!(text.contains("is not a strict majority"), "{text}");
}
