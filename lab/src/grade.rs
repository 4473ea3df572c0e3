//! `lab grade [NAME] [--json] [--reference] [--quick] [--seeds N]`: grades the exercises in
//! `exercises/`.
//!
//! Each exercise crate exposes `grade_learner` (your code in its `src/learner.rs`) and
//! `grade_reference` (the reference solution, for maintainers). The human output lists every
//! check with ✓/✗ and the first failure's message; `--json` prints one JSON object per
//! exercise per line (JSONL): `{"name","passed","score","failures":[…],"checks":[…]}`. The
//! exit code is 0 only if every graded exercise passed, 1 otherwise, 2 for bad usage.

use anyhow::{bail, Result};
use exercise_grading::{Effort, Outcome};
use std::time::Instant;

/// One exercise: its name, the lesson it goes with, and its two graders.
pub struct Exercise {
    /// Directory and crate name under `exercises/`.
    pub name: &'static str,
    /// The lesson to do first (`lab lesson run ID`).
    pub lesson: &'static str,
    /// The file to edit.
    pub file: &'static str,
    learner: fn(Effort) -> Outcome,
    reference: fn(Effort) -> Outcome,
}

/// The exercises, in the order of the course.
pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: fle_vote_order::NAME,
        lesson: "zk-install",
        file: "exercises/fle-vote-order/src/learner.rs",
        learner: fle_vote_order::grade_learner,
        reference: fle_vote_order::grade_reference,
    },
    Exercise {
        name: zk_lock_recipe::NAME,
        lesson: "zk-data-model",
        file: "exercises/zk-lock-recipe/src/learner.rs",
        learner: zk_lock_recipe::grade_learner,
        reference: zk_lock_recipe::grade_reference,
    },
    Exercise {
        name: murmur2_partitioner::NAME,
        lesson: "partitions-keys",
        file: "exercises/murmur2-partitioner/src/learner.rs",
        learner: murmur2_partitioner::grade_learner,
        reference: murmur2_partitioner::grade_reference,
    },
    Exercise {
        name: high_watermark::NAME,
        lesson: "replication-acks",
        file: "exercises/high-watermark/src/learner.rs",
        learner: high_watermark::grade_learner,
        reference: high_watermark::grade_reference,
    },
    Exercise {
        name: controller_leader_election::NAME,
        lesson: "failover-unclean",
        file: "exercises/controller-leader-election/src/learner.rs",
        learner: controller_leader_election::grade_learner,
        reference: controller_leader_election::grade_reference,
    },
    Exercise {
        name: range_assignor::NAME,
        lesson: "consumer-groups",
        file: "exercises/range-assignor/src/learner.rs",
        learner: range_assignor::grade_learner,
        reference: range_assignor::grade_reference,
    },
];

/// Grades one exercise or all of them; returns the exit code.
pub fn grade(
    name: Option<&str>,
    json: bool,
    reference: bool,
    quick: bool,
    seeds: Option<usize>,
) -> Result<i32> {
    let chosen: Vec<&Exercise> = match name {
        Some(n) => match EXERCISES.iter().find(|e| e.name == n) {
            Some(e) => vec![e],
            None => bail!(
                "no exercise named '{n}'; the exercises are: {}",
                EXERCISES.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
            ),
        },
        None => EXERCISES.iter().collect(),
    };
    let mut effort = if quick { Effort::QUICK } else { Effort::FULL };
    if let Some(n) = seeds {
        if n == 0 {
            bail!("--seeds must be at least 1");
        }
        effort.seeds = n;
    }
    let mut all = true;
    for e in chosen {
        let started = Instant::now();
        let outcome = if reference { (e.reference)(effort) } else { (e.learner)(effort) };
        all &= outcome.passed();
        if json {
            println!("{}", outcome.to_json());
        } else {
            print_human(e, &outcome, started.elapsed().as_secs_f64());
        }
    }
    Ok(if all { 0 } else { 1 })
}

fn print_human(e: &Exercise, o: &Outcome, secs: f64) {
    let verdict = if o.passed() { "PASSED" } else { "FAILED" };
    println!("{} — {verdict} (score {}/100, {secs:.1} s)", e.name, o.score());
    if let Some(msg) = &o.not_implemented {
        println!("  ✗ {msg}");
        println!("    edit {} (see exercises/{}/README.md)", e.file, e.name);
        return;
    }
    for c in &o.checks {
        if c.ok {
            println!("  ✓ {}", c.name);
        } else {
            println!("  ✗ {}", c.name);
            println!("    {}", c.message);
        }
    }
    if !o.passed() {
        println!(
            "    edit {} (see exercises/{}/README.md; lesson: lab lesson run {})",
            e.file, e.name, e.lesson
        );
    }
}
