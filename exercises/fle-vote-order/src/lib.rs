//! Exercise `fle-vote-order`: FastLeaderElection's vote comparison and quorum check. See
//! README.md.
//!
//! You edit [`learner`]; [`grade`] compares your two functions with ZooKeeper's on random
//! votes, then runs ZooKeeper ensembles whose every server elects with them
//! ([`sim::hooks::VoteOrder`]) while a nemesis kills and crashes servers.

pub mod learner;

#[doc(hidden)]
#[path = "../solution/mod.rs"]
pub mod solution;

mod grader;

pub use grader::{grade, Rules, NAME};

/// Grades your code in `src/learner.rs`.
pub fn grade_learner(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(
        Rules {
            total_order_predicate: learner::total_order_predicate,
            contains_quorum: learner::contains_quorum,
        },
        effort,
    )
}

/// Grades the reference solution.
pub fn grade_reference(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(
        Rules {
            total_order_predicate: solution::total_order_predicate,
            contains_quorum: solution::contains_quorum,
        },
        effort,
    )
}
