//! `lab run FILE --seed N [--json] [--trace FILE] [--svg DIR]`: one scenario, one seed, one report
//! (and, with `--svg`, its pictures).

use anyhow::{Context, Result};

pub use crate::scenario_file::load;

/// Runs the scenario and prints the report; the exit code is 0 iff every check met its expect.
pub fn run(
    file: &str,
    seed: u64,
    json: bool,
    trace: Option<String>,
    svg: Option<String>,
) -> Result<i32> {
    let sc = load(file)?;
    let started = std::time::Instant::now();
    let (mut report, jsonl) = if trace.is_some() || svg.is_some() {
        let (r, t) = sim::scenario::run_traced(&sc, seed);
        (r, Some(t))
    } else {
        (sim::scenario::run(&sc, seed), None)
    };
    report.wall_ms = Some(started.elapsed().as_millis() as u64);
    if let (Some(path), Some(t)) = (&trace, &jsonl) {
        std::fs::write(path, t).with_context(|| format!("writing {path}"))?;
    }
    // Pictures are drawn after the report's wall time is taken, and reported on stderr so the
    // report on stdout stays the same with or without them.
    if let (Some(dir), Some(t)) = (&svg, &jsonl) {
        let names = crate::plot::write_figures(&sc, t, dir)?;
        eprintln!("wrote {} figures to {dir}: {}", names.len(), names.join(", "));
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.human(file));
    }
    Ok(if report.passed() { 0 } else { 1 })
}
