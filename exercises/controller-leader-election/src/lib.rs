//! Exercise `controller-leader-election`: the controller's `OfflinePartitionLeaderSelector`.
//! See README.md.
//!
//! You edit [`learner`]; [`grade`] compares your choice with Kafka's on random partition
//! states, then makes it the controller's ([`sim::hooks::OfflinePartitionLeaderSelector`]) in
//! failover scenarios with unclean election off and on.

pub mod learner;

#[doc(hidden)]
#[path = "../solution/mod.rs"]
pub mod solution;

mod grader;

pub use grader::{grade, SelectFn, NAME};

/// Grades your code in `src/learner.rs`.
pub fn grade_learner(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(learner::select_leader, effort)
}

/// Grades the reference solution.
pub fn grade_reference(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(solution::select_leader, effort)
}
