//! Exercise `zk-lock-recipe`: a distributed lock on ZooKeeper. See README.md.
//!
//! You edit [`learner`]; [`grade`] runs five lock clients with your `lock`/`unlock` against the
//! simulated ensemble while clients crash and a client host is cut off long enough for its
//! sessions to expire, and judges the trace: mutual exclusion, no herd effect, progress.

pub mod learner;

#[doc(hidden)]
#[path = "../solution/mod.rs"]
pub mod solution;

mod grader;

pub use grader::{grade, BoxFut, Recipe, NAME};

fn learner_lock<'a>(zk: &'a mut sim::zk::client::ZooKeeper, dir: &'a str) -> BoxFut<'a, String> {
    Box::pin(learner::lock(zk, dir))
}

fn learner_unlock<'a>(zk: &'a mut sim::zk::client::ZooKeeper, node: &'a str) -> BoxFut<'a, ()> {
    Box::pin(learner::unlock(zk, node))
}

fn solution_lock<'a>(zk: &'a mut sim::zk::client::ZooKeeper, dir: &'a str) -> BoxFut<'a, String> {
    Box::pin(solution::lock(zk, dir))
}

fn solution_unlock<'a>(zk: &'a mut sim::zk::client::ZooKeeper, node: &'a str) -> BoxFut<'a, ()> {
    Box::pin(solution::unlock(zk, node))
}

/// Your recipe in `src/learner.rs`.
pub const LEARNER: Recipe = Recipe { lock: learner_lock, unlock: learner_unlock };

/// The reference recipe.
pub const REFERENCE: Recipe = Recipe { lock: solution_lock, unlock: solution_unlock };

/// Grades your code in `src/learner.rs`.
pub fn grade_learner(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(LEARNER, effort)
}

/// Grades the reference solution.
pub fn grade_reference(effort: exercise_grading::Effort) -> exercise_grading::Outcome {
    grade(REFERENCE, effort)
}
