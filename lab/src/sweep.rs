//! `lab sweep FILE --seeds A..B [--jobs N] [--json]`: one scenario over many seeds, each seed in
//! its own simulation on a worker thread. Results are collected and sorted by seed, so the
//! summary does not depend on `--jobs`.

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim::scenario::{Report, Scenario};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// `A..B` (B excluded) or `A..=B`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>> {
    let bad = || anyhow::anyhow!("--seeds: '{s}' is not a range like 1..101 or 1..=100");
    let (a, b, inclusive) = if let Some((a, b)) = s.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = s.split_once("..") {
        (a, b, false)
    } else {
        return Err(bad());
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = if inclusive { b.checked_add(1).ok_or_else(bad)? } else { b };
    if end <= a {
        bail!("--seeds: '{s}' is empty");
    }
    if end - a > 1_000_000 {
        bail!("--seeds: '{s}' has more than a million seeds");
    }
    Ok((a..end).collect())
}

/// What one seed gave: a report, or the panic message of a simulation that crashed.
type Outcome = std::result::Result<Report, String>;

fn run_one(sc: &Scenario, seed: u64) -> Outcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim::scenario::run(sc, seed))).map_err(
        |p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into())
        },
    )
}

/// Runs every seed on `jobs` threads; results in seed order.
pub fn run_seeds(
    sc: &Scenario,
    seeds: &[u64],
    jobs: usize,
    bar: &ProgressBar,
) -> Vec<(u64, Outcome)> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(u64, Outcome)>> = Mutex::new(Vec::with_capacity(seeds.len()));
    let sc = Arc::new(sc.clone());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, seeds.len().max(1)) {
            let sc = sc.clone();
            let (next, results) = (&next, &results);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(i) else { break };
                let outcome = run_one(&sc, seed);
                results.lock().unwrap_or_else(|e| e.into_inner()).push((seed, outcome));
                bar.inc(1);
            });
        }
    });
    let mut v = results.into_inner().unwrap_or_else(|e| e.into_inner());
    v.sort_by_key(|(seed, _)| *seed);
    v
}

/// Per check: how many seeds did not meet its expect, and the smallest such seed. A seed whose
/// simulation panicked counts under `panic`.
pub fn summarize(
    sc: &Scenario,
    results: &[(u64, Outcome)],
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut failures: BTreeMap<String, u64> =
        sc.checks.iter().map(|c| (c.name.clone(), 0)).collect();
    let mut first: BTreeMap<String, u64> = BTreeMap::new();
    for (seed, outcome) in results {
        let unmet: Vec<String> = match outcome {
            Ok(r) => r.checks.iter().filter(|c| !c.met()).map(|c| c.name.clone()).collect(),
            Err(_) => vec!["panic".into()],
        };
        for name in unmet {
            *failures.entry(name.clone()).or_insert(0) += 1;
            first.entry(name).or_insert(*seed);
        }
    }
    (failures, first)
}

/// Runs the sweep and prints its summary; exit 0 iff every seed met every expectation.
pub fn sweep(file: &str, seeds: &str, jobs: Option<usize>, json: bool) -> Result<i32> {
    let sc = crate::run::load(file)?;
    let seeds = parse_seeds(seeds)?;
    let jobs =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    if jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(seeds.len() as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} seeds, {elapsed} (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(sc.name.clone());
    let started = std::time::Instant::now();
    let results = run_seeds(&sc, &seeds, jobs, &bar);
    bar.finish_and_clear();
    let (failures, first) = summarize(&sc, &results);
    let (lo, hi) = (seeds[0], seeds[seeds.len() - 1]);
    let failed_seeds = results.iter().filter(|(_, o)| !matches!(o, Ok(r) if r.passed())).count();
    if json {
        let v = serde_json::json!({
            "scenario": sc.name,
            "seeds": seeds.len(),
            "range": format!("{lo}..={hi}"),
            "failed_seeds": failed_seeds,
            "failures": failures,
            "first_failing_seed": first,
        });
        println!("{v}");
    } else {
        println!(
            "scenario {}: {} seeds ({lo}..={hi}) in {:.1} s with {jobs} job(s); {} seed(s) met every expectation",
            sc.name,
            seeds.len(),
            started.elapsed().as_secs_f64(),
            seeds.len() - failed_seeds
        );
        let expects: BTreeMap<&str, String> =
            sc.checks.iter().map(|c| (c.name.as_str(), c.expect.to_string())).collect();
        for (name, n) in &failures {
            let expect = expects.get(name.as_str()).map(String::as_str).unwrap_or("-");
            let met = seeds.len() as u64 - n;
            match first.get(name) {
                Some(seed) => println!("  {name} (expect {expect}): met {met}, not met {n}; smallest failing seed {seed}: lab run {file} --seed {seed}"),
                None => println!("  {name} (expect {expect}): met {met}, not met 0"),
            }
        }
        for (seed, o) in &results {
            if let Err(msg) = o {
                println!("  seed {seed} panicked: {msg}");
            }
        }
    }
    Ok(if failed_seeds == 0 { 0 } else { 1 })
}
