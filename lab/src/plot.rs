//! `lab plot KIND` and `lab trace export`: pictures of a run, drawn from its trace only.
//!
//! The trace comes from a scenario run (`--scenario FILE --seed N`) or from a JSONL file a run
//! wrote (`--trace FILE`, from `lab run --trace` or the shell's `lab trace FILE`).

use anyhow::{anyhow, bail, Context, Result};

/// Where the trace comes from.
pub struct Source {
    /// A scenario file to run.
    pub scenario: Option<String>,
    /// Its seed.
    pub seed: u64,
    /// Or a JSONL trace file.
    pub trace: Option<String>,
}

impl Source {
    fn events(&self) -> Result<Vec<viz::Event>> {
        let text = match (&self.scenario, &self.trace) {
            (Some(file), None) => sim::scenario::run_traced(&crate::run::load(file)?, self.seed).1,
            (None, Some(t)) => std::fs::read_to_string(t).with_context(|| format!("reading {t}"))?,
            _ => bail!("give either --scenario FILE [--seed N] or --trace FILE"),
        };
        Ok(viz::parse_jsonl(&text)?)
    }
}

/// `lab plot partition-log`: one partition's log on every replica, with losses.
pub fn partition_log(src: &Source, topic: Option<&str>, partition: i64, offsets: Option<&str>, out: &str) -> Result<i32> {
    let events = src.events()?;
    let topic = match topic {
        Some(t) => t.to_string(),
        None => events
            .iter()
            .find(|e| e.kind == "kafka.append")
            .and_then(|e| e.str("topic"))
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the trace has no appended records; name the topic with --topic"))?,
    };
    let h = viz::partition_log::PartitionHistory::from_events(&events, &topic, partition)?;
    let windows = match offsets {
        Some(s) => vec![parse_range(s).with_context(|| format!("--offsets {s}"))?],
        None => h.default_windows(),
    };
    let svg = viz::partition_log::render_svg(&h, &windows)?;
    std::fs::write(out, svg).with_context(|| format!("writing {out}"))?;
    let lost = ranges(&h.lost_offsets());
    println!(
        "wrote {out}: {topic}-{partition}, offsets {}, {} replicas, lost offsets: {}",
        windows.iter().map(|w| format!("{}..{}", w.0, w.1)).collect::<Vec<_>>().join(" "),
        h.replicas.len(),
        if lost.is_empty() { "none".to_string() } else { lost }
    );
    Ok(0)
}

/// `lab plot stream-batches`: a Spark Streaming run's offset ranges per batch and partition.
pub fn stream_batches(src: &Source, out: &str) -> Result<i32> {
    let events = src.events()?;
    let s = viz::stream_batches::StreamBatches::from_events(&events)?;
    let svg = viz::stream_batches::render_svg(&s)?;
    std::fs::write(out, svg).with_context(|| format!("writing {out}"))?;
    let batches: std::collections::BTreeSet<i64> = s.ranges.iter().map(|r| r.batch_ms).collect();
    println!("wrote {out}: {} batches of {}, {} driver crash(es), {} restart(s)", batches.len(), s.topic, s.crashes.len(), s.restarts.len());
    Ok(0)
}

/// `1,2,3,7` → `1-3,7`.
fn ranges(offsets: &std::collections::BTreeSet<i64>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut it = offsets.iter().copied().peekable();
    while let Some(a) = it.next() {
        let mut b = a;
        while it.peek() == Some(&(b + 1)) {
            b += 1;
            it.next();
        }
        out.push(if a == b { a.to_string() } else { format!("{a}-{b}") });
    }
    out.join(",")
}

/// `lab plot spacetime`: a stretch of the run as a space-time diagram.
pub fn spacetime(src: &Source, window: Option<&str>, kinds: Option<&str>, out: &str) -> Result<i32> {
    let events = src.events()?;
    let mut opts = viz::spacetime::Options::default();
    if let Some(w) = window {
        let (a, b) = w.split_once("..").ok_or_else(|| anyhow!("--window: expected A..B in seconds, e.g. 8..20"))?;
        let secs = |s: &str| -> Result<u64> {
            let v: f64 = s.trim().parse().with_context(|| format!("--window: {s:?} is not a number of seconds"))?;
            if !(v.is_finite() && v >= 0.0) {
                bail!("--window: {s:?} is not a time");
            }
            Ok((v * 1e6) as u64)
        };
        opts.window = Some((secs(a)?, secs(b)?));
    }
    if let Some(k) = kinds {
        opts.kinds = k.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    }
    let svg = viz::spacetime::render_svg(&events, &opts)?;
    std::fs::write(out, svg).with_context(|| format!("writing {out}"))?;
    let (a, b) = opts.window.unwrap_or_else(|| viz::spacetime::default_window(&events));
    println!("wrote {out}: {:.3} s to {:.3} s", a as f64 / 1e6, b as f64 / 1e6);
    Ok(0)
}

/// `lab trace export --format perfetto`.
pub fn export(src: &Source, format: &str, out: &str) -> Result<i32> {
    if format != "perfetto" && format != "chrome" {
        bail!("--format must be perfetto (or chrome, the same JSON), not {format:?}");
    }
    let v = viz::perfetto::export(&src.events()?);
    std::fs::write(out, serde_json::to_string(&v)?).with_context(|| format!("writing {out}"))?;
    println!("wrote {out}: open it in https://ui.perfetto.dev or chrome://tracing");
    Ok(0)
}

/// `A..B` (B excluded) or `A..=B`.
fn parse_range(s: &str) -> Result<(i64, i64)> {
    let (a, b, inclusive) = match s.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => {
            let (a, b) = s.split_once("..").ok_or_else(|| anyhow!("expected A..B"))?;
            (a, b, false)
        }
    };
    let a: i64 = a.trim().parse().context("start")?;
    let b: i64 = b.trim().parse::<i64>().context("end")? + i64::from(inclusive);
    if a < 0 || b <= a {
        bail!("empty or negative range");
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::{parse_range, ranges};

    #[test]
    fn offset_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10].into_iter().collect()), "1-3,7,9-10");
        assert_eq!(ranges(&Default::default()), "");
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("3..7").ok(), Some((3, 7)));
        assert_eq!(parse_range("3..=7").ok(), Some((3, 8)));
        for bad in ["7..3", "x..2", "3", "-1..2", "2..2"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }
}
