//! `lab run FILE --seed N [--json] [--trace FILE]`: one scenario, one seed, one report.

use anyhow::{anyhow, Context, Result};
use sim::scenario::{Report, Scenario};

/// Reads and validates a scenario file; errors read `FILE:LINE:COL: message`.
pub fn load(file: &str) -> Result<Scenario> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    Scenario::parse_named(&text, file).map_err(|e| anyhow!("{file}:{e}"))
}

/// Runs the scenario and prints the report; the exit code is 0 iff every check met its expect.
pub fn run(file: &str, seed: u64, json: bool, trace: Option<String>) -> Result<i32> {
    let sc = load(file)?;
    let started = std::time::Instant::now();
    let (mut report, jsonl) = if trace.is_some() {
        let (r, t) = sim::scenario::run_traced(&sc, seed);
        (r, Some(t))
    } else {
        (sim::scenario::run(&sc, seed), None)
    };
    report.wall_ms = Some(started.elapsed().as_millis() as u64);
    if let (Some(path), Some(t)) = (&trace, jsonl) {
        std::fs::write(path, t).with_context(|| format!("writing {path}"))?;
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", human(&report, file));
    }
    Ok(if report.passed() { 0 } else { 1 })
}

/// The report as a person reads it.
pub fn human(r: &Report, file: &str) -> String {
    let mut out = format!(
        "scenario {} (seed {}): {:.1} s of virtual time in {} ms\n",
        r.scenario,
        r.seed,
        r.virtual_ms as f64 / 1000.0,
        r.wall_ms.unwrap_or(0)
    );
    for c in &r.checks {
        out.push_str(&format!(
            "{} (expected {}) {}: {}\n",
            if c.ok { "PASS" } else { "FAIL" },
            c.expect,
            c.name,
            c.detail
        ));
    }
    out.push_str("metrics:\n");
    for (k, v) in &r.metrics {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    out.push_str(&format!("trace hash: {}\n", r.trace_hash));
    let unmet = r.checks.iter().filter(|c| !c.met()).count();
    if unmet == 0 {
        out.push_str("every check met its expectation\n");
    } else {
        out.push_str(&format!("{unmet} check(s) did not meet their expectation; replay: lab run {file} --seed {}\n", r.seed));
    }
    out
}
