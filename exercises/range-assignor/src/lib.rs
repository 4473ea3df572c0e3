//! Exercise `range-assignor`: Kafka's `RangeAssignor`. See README.md.
//!
//! You edit [`learner`]; [`grade`] plugs a function of that shape into the simulator's
//! consumer groups ([`sim::hooks::PartitionAssignor`]) and judges it.

pub mod learner;

#[doc(hidden)]
#[path = "../solution/mod.rs"]
pub mod solution;

mod grader;

pub use grader::{grade, AssignFn, NAME};

/// Grades your code in `src/learner.rs`.
pub fn grade_learner(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(learner::assign, effort)
}

/// Grades the reference solution.
pub fn grade_reference(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(solution::assign, effort)
}
