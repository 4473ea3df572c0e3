//! Exercise `murmur2-partitioner`: the producer's keyed partitioning. See README.md.
//!
//! You edit [`learner`]; [`grade`] checks your `murmur2` against Kafka's test vectors and the
//! reference on random keys, then makes your `partition` the simulator's key partitioner
//! ([`sim::hooks::KeyPartitioner`]) for a keyed producer.

pub mod learner;

#[doc(hidden)]
#[path = "../solution/mod.rs"]
pub mod solution;

mod grader;

pub use grader::{grade, Partitioner, NAME};

/// Grades your code in `src/learner.rs`.
pub fn grade_learner(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(Partitioner { murmur2: learner::murmur2, partition: learner::partition }, effort)
}

/// Grades the reference solution.
pub fn grade_reference(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(Partitioner { murmur2: solution::murmur2, partition: solution::partition }, effort)
}
