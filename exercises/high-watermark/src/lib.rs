//! Exercise `high-watermark`: the partition leader's high-watermark rule. See README.md.
//!
//! You edit [`learner`]; [`grade`] compares your rule with Kafka's on random replica states,
//! then makes it every leader's rule ([`sim::hooks::HighWatermark`]) in acks=all runs under a
//! random nemesis, judged by `no_acked_loss` and `monotonic_hw`.

pub mod learner;

#[doc(hidden)]
#[path = "../solution/mod.rs"]
pub mod solution;

mod grader;

pub use grader::{grade, HwFn, NAME};

/// Grades your code in `src/learner.rs`.
pub fn grade_learner(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(learner::maybe_increment_hw, effort)
}

/// Grades the reference solution.
pub fn grade_reference(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(solution::maybe_increment_hw, effort)
}
