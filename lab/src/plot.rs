//! `lab plot KIND` and `lab trace export`: pictures of a run, drawn from its trace only.
//!
//! The trace comes from a scenario run (`--scenario FILE --seed N`) or from a JSONL file a run
//! wrote (`--trace FILE`, from `lab run --trace` or the shell's `lab trace FILE`).

use anyhow::{anyhow, bail, Context, Result};
use sim::trace::kind;

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
            (Some(file), None) => {
                sim::scenario::run_traced(&crate::scenario_file::load(file)?, self.seed).1
            }
            (None, Some(t)) => {
                std::fs::read_to_string(t).with_context(|| format!("reading {t}"))?
            }
            _ => bail!("give either --scenario FILE [--seed N] or --trace FILE"),
        };
        Ok(viz::parse_jsonl(&text)?)
    }
}

/// `lab plot partition-log`: one partition's log on every replica, with losses.
pub fn partition_log(
    src: &Source,
    topic: Option<&str>,
    partition: i64,
    offsets: Option<&str>,
    out: &str,
) -> Result<i32> {
    let events = src.events()?;
    let topic = match topic {
        Some(t) => t.to_string(),
        None => events
            .iter()
            .find(|e| e.kind == kind::KAFKA_APPEND)
            .and_then(|e| e.str("topic"))
            .map(str::to_string)
            .ok_or_else(|| {
                anyhow!("the trace has no appended records; name the topic with --topic")
            })?,
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
    println!(
        "wrote {out}: {} batches of {}, {} driver crash(es), {} restart(s)",
        batches.len(),
        s.topic,
        s.crashes.len(),
        s.restarts.len()
    );
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
pub fn spacetime(
    src: &Source,
    window: Option<&str>,
    kinds: Option<&str>,
    out: &str,
) -> Result<i32> {
    let events = src.events()?;
    let mut opts = viz::spacetime::Options::default();
    if let Some(w) = window {
        let (a, b) = w
            .split_once("..")
            .ok_or_else(|| anyhow!("--window: expected A..B in seconds, e.g. 8..20"))?;
        let secs = |s: &str| -> Result<u64> {
            let v: f64 = s
                .trim()
                .parse()
                .with_context(|| format!("--window: {s:?} is not a number of seconds"))?;
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

/// `lab plot groups`: consumer groups' partition ownership over time and records per member per
/// second. `view` is `both` (one SVG, ownership above the rates), `ownership` or `rate`.
pub fn groups(src: &Source, view: &str, out: &str) -> Result<i32> {
    let events = src.events()?;
    let h = viz::groups::GroupsHistory::from_events(&events)?;
    let svg = match view {
        "ownership" => viz::groups::render_ownership_svg(&h)?,
        "rate" => viz::groups::render_rate_svg(&h)?,
        "both" => {
            stack(&[viz::groups::render_ownership_svg(&h)?, viz::groups::render_rate_svg(&h)?])
        }
        v => bail!("--view must be both, ownership or rate, not {v:?}"),
    };
    std::fs::write(out, svg).with_context(|| format!("writing {out}"))?;
    let summary: Vec<String> = h
        .groups
        .iter()
        .map(|(g, x)| {
            format!(
                "group {g}: {} members, {} generations, {} rebalances",
                x.members.len(),
                x.generations.len(),
                x.rebalances.len()
            )
        })
        .collect();
    println!("wrote {out}: {}", summary.join("; "));
    Ok(0)
}

/// `lab plot zk`: elections, zxids, sessions and ephemerals.
pub fn zk(src: &Source, out: &str) -> Result<i32> {
    let events = src.events()?;
    let h = viz::zk::ZkHistory::from_events(&events)?;
    std::fs::write(out, viz::zk::render_svg(&h)?).with_context(|| format!("writing {out}"))?;
    let leaders: Vec<String> = h
        .elections
        .iter()
        .filter_map(|e| e.leader())
        .map(|(l, r)| format!("{l} (round {r})"))
        .collect();
    println!(
        "wrote {out}: {} elections (leaders: {}), {} clients with sessions",
        h.elections.len(),
        if leaders.is_empty() { "none".to_string() } else { leaders.join(", ") },
        h.clients.len()
    );
    Ok(0)
}

/// The counters of one zero-copy bench case, as the copy-path diagram reads them.
fn path_counters(r: &sim::bench::zerocopy::CaseResult) -> viz::copy_path::PathCounters {
    viz::copy_path::PathCounters {
        path: path_name(r.case.path).into(),
        bytes: r.bytes,
        cpu_copied: r.cpu.bytes_copied,
        // Every DMA that is not the NIC taking sent bytes (counted with the kernel's TCP work) is
        // the disk loading the page cache.
        disk_dma: r.cpu.dma_bytes.saturating_sub(r.cpu.tcp_tx_bytes),
        dma: r.cpu.dma_bytes,
        syscalls: r.cpu.syscalls,
        mode_switches: r.cpu.mode_switches,
        context_switches: r.cpu.context_switches,
        busy_ns: r.cpu.busy_ns,
        mb_per_sec: r.mb_per_sec(),
    }
}

fn path_name(p: sim::hw::SendPath) -> &'static str {
    match p {
        sim::hw::SendPath::Sendfile => "sendfile",
        sim::hw::SendPath::ReadWrite => "read+write",
    }
}

/// Runs the zero-copy bench's three regimes through both send paths (4 consumers, 1000-byte
/// messages, 4 MiB per partition) and gathers what the copy-path diagram shows; the hops are
/// counted in the disk-bound run, the only one where every hop (disk → page cache too) moves bytes.
pub fn copy_path_data(profile: &str, seed: u64) -> Result<viz::copy_path::CopyPath> {
    use sim::bench::zerocopy::{run_case, Case, Regime, Settings};
    let hw = sim::hw::HardwareProfile::named(profile)?;
    let mut s = Settings::quick(hw.clone());
    s.seed = seed;
    let mut data = viz::copy_path::CopyPath { profile: hw.name.clone(), ..Default::default() };
    for regime in [Regime::CpuBound, Regime::NetworkBound, Regime::DiskBound] {
        for path in [sim::hw::SendPath::Sendfile, sim::hw::SendPath::ReadWrite] {
            let case = Case { regime, path, tls: false, message_bytes: 1000, consumers: 4 };
            let r = run_case(&s, &case)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{} {} case", regime.name(), path.name()))?;
            data.bars.push(viz::copy_path::Bar {
                regime: regime.name().into(),
                path: path_name(path).into(),
                mb_per_sec: r.mb_per_sec(),
                bottleneck: r.bottleneck().0.into(),
            });
            if regime == Regime::DiskBound {
                data.paths.push(path_counters(&r));
                data.counted_run = format!(
                    "disk-bound (cold page cache, 4 consumers, 1000-byte messages, seed {seed})"
                );
            }
        }
    }
    Ok(data)
}

/// `lab plot copy-path`: the zero-copy copy paths with the model's counters and the throughputs.
pub fn copy_path(profile: &str, seed: u64, out: &str) -> Result<i32> {
    let data = copy_path_data(profile, seed)?;
    std::fs::write(out, viz::copy_path::render_svg(&data)?)
        .with_context(|| format!("writing {out}"))?;
    let about: Vec<String> = data
        .paths
        .iter()
        .map(|p| {
            format!(
                "{}: {} copies ({} by the CPU)",
                p.path,
                p.cpu_copies() + p.dma_copies(),
                p.cpu_copies()
            )
        })
        .collect();
    println!("wrote {out}: {}", about.join(", "));
    Ok(0)
}

/// SVG documents one above the other, as one SVG.
fn stack(svgs: &[String]) -> String {
    let size = |s: &str, attr: &str| -> u32 {
        let head = &s[s.find("<svg").unwrap_or(0)..];
        let head = &head[..head.find('>').unwrap_or(head.len())];
        head.split(&format!("{attr}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let width = svgs.iter().map(|s| size(s, "width")).max().unwrap_or(0);
    let height: u32 = svgs.iter().map(|s| size(s, "height")).sum();
    let mut out = format!("<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\n");
    let mut y = 0;
    for s in svgs {
        let body = s.find("<svg").map_or(s.as_str(), |i| &s[i..]);
        out.push_str(&format!("<g transform=\"translate(0,{y})\">\n{body}</g>\n"));
        y += size(s, "height");
    }
    out.push_str("</svg>\n");
    out
}

/// Every picture that applies to a scenario run, drawn from its trace: (title, file name, SVG).
/// The space-time diagram around the first fault, each partition's log, the group views when
/// the run has consumer groups and the ZooKeeper view when it has an ensemble.
pub fn scenario_figures(
    sc: &sim::scenario::Scenario,
    events: &[viz::Event],
) -> Vec<(String, String, String)> {
    let mut figures = Vec::new();
    if let Ok(svg) = viz::spacetime::render_svg(events, &viz::spacetime::Options::default()) {
        figures.push((
            "Space-time diagram around the first fault".to_string(),
            "spacetime.svg".to_string(),
            svg,
        ));
    }
    for t in &sc.topics {
        for p in 0..i64::from(t.partitions) {
            if let Ok(h) = viz::partition_log::PartitionHistory::from_events(events, &t.name, p) {
                if let Ok(svg) = viz::partition_log::render_svg(&h, &h.default_windows()) {
                    figures.push((
                        format!("Partition log: {}-{p}", t.name),
                        format!("partition-log-{}-{p}.svg", t.name),
                        svg,
                    ));
                }
            }
        }
    }
    if let Ok(h) = viz::groups::GroupsHistory::from_events(events) {
        if let Ok(svg) = viz::groups::render_ownership_svg(&h) {
            figures.push((
                "Consumer groups: partition ownership".to_string(),
                "groups.svg".to_string(),
                svg,
            ));
        }
        if let Ok(svg) = viz::groups::render_rate_svg(&h) {
            figures.push((
                "Consumer groups: records per member per second".to_string(),
                "groups-rate.svg".to_string(),
                svg,
            ));
        }
    }
    if let Ok(h) = viz::zk::ZkHistory::from_events(events) {
        if let Ok(svg) = viz::zk::render_svg(&h) {
            figures.push((
                "ZooKeeper: elections, zxids, sessions and ephemerals".to_string(),
                "zk.svg".to_string(),
                svg,
            ));
        }
    }
    figures
}

/// `lab run … --svg DIR`: writes every figure of the run into `DIR`.
pub fn write_figures(sc: &sim::scenario::Scenario, trace: &str, dir: &str) -> Result<Vec<String>> {
    let events = viz::parse_jsonl(trace)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {dir}"))?;
    let mut names = Vec::new();
    for (_, name, svg) in scenario_figures(sc, &events) {
        let path = std::path::Path::new(dir).join(&name);
        std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
        names.push(name);
    }
    Ok(names)
}

/// `lab bench render`: how long drawing a run's pictures takes, in wall time. The scenario runs
/// once (its time is printed apart); then, `rounds` times, the trace is parsed and every figure
/// of [`scenario_figures`] drawn (the total the < 2 s target is about), and the Perfetto export
/// is timed apart (a data export, not a diagram). Prints each step's best time and the best and
/// median totals; exits 1 when the median of the diagrams misses the target.
pub fn bench_render(file: &str, seed: u64, rounds: usize) -> Result<i32> {
    use std::time::{Duration, Instant};
    if rounds == 0 || rounds > 1000 {
        bail!("--rounds must be 1..=1000");
    }
    let sc = crate::scenario_file::load(file)?;
    let t = Instant::now();
    let (report, trace) = sim::scenario::run_traced(&sc, seed);
    let sim_wall = t.elapsed();
    println!(
        "lab bench render — {file} seed {seed}: {:.1} s of virtual time, {} trace events ({:.1} MB), simulated in {:.2} s",
        report.virtual_ms as f64 / 1000.0,
        trace.lines().count(),
        trace.len() as f64 / 1e6,
        sim_wall.as_secs_f64()
    );
    let mut totals: Vec<Duration> = Vec::new();
    let mut best: Vec<(String, Duration, usize)> = Vec::new();
    for _ in 0..rounds {
        // The diagrams, as `lab report` draws them: parse, then every figure.
        let start = Instant::now();
        let events = viz::parse_jsonl(&trace)?;
        let parsed = start.elapsed();
        let figures = scenario_figures(&sc, &events);
        totals.push(start.elapsed());
        // Then each figure again on its own, for the per-figure rows.
        let mut times = vec![("parse trace".to_string(), parsed, trace.len())];
        for (title, name, svg) in &figures {
            let t1 = Instant::now();
            let again = scenario_figures_one(&sc, &events, name);
            times.push((title.clone(), t1.elapsed(), again.map_or(svg.len(), |s| s.len())));
        }
        let t0 = Instant::now();
        let perfetto = serde_json::to_string(&viz::perfetto::export(&events))?;
        times.push((
            "(apart) Perfetto export, JSON text".to_string(),
            t0.elapsed(),
            perfetto.len(),
        ));
        if best.is_empty() {
            best = times;
        } else {
            for (b, t) in best.iter_mut().zip(times) {
                b.1 = b.1.min(t.1);
            }
        }
    }
    println!("{:<55} {:>10} {:>10}", "step (best of the rounds)", "wall ms", "bytes");
    for (name, d, bytes) in &best {
        println!("{name:<55} {:>10.1} {bytes:>10}", d.as_secs_f64() * 1e3);
    }
    totals.sort();
    let median = totals[totals.len() / 2];
    println!(
        "all diagrams of the run (parse the trace, draw every figure): best {:.3} s, median {:.3} s over {rounds} rounds — target < 2 s",
        totals[0].as_secs_f64(),
        median.as_secs_f64()
    );
    Ok(if median.as_secs_f64() < 2.0 { 0 } else { 1 })
}

/// One figure of [`scenario_figures`] by file name, drawn alone.
fn scenario_figures_one(
    sc: &sim::scenario::Scenario,
    events: &[viz::Event],
    name: &str,
) -> Option<String> {
    let svg = match name {
        "spacetime.svg" => {
            viz::spacetime::render_svg(events, &viz::spacetime::Options::default()).ok()?
        }
        "groups.svg" => viz::groups::render_ownership_svg(
            &viz::groups::GroupsHistory::from_events(events).ok()?,
        )
        .ok()?,
        "groups-rate.svg" => {
            viz::groups::render_rate_svg(&viz::groups::GroupsHistory::from_events(events).ok()?)
                .ok()?
        }
        "zk.svg" => viz::zk::render_svg(&viz::zk::ZkHistory::from_events(events).ok()?).ok()?,
        n => {
            let rest = n.strip_prefix("partition-log-")?.strip_suffix(".svg")?;
            let (topic, p) = rest.rsplit_once('-')?;
            let p: i64 = p.parse().ok()?;
            sc.topics.iter().find(|t| t.name == topic)?;
            let h = viz::partition_log::PartitionHistory::from_events(events, topic, p).ok()?;
            viz::partition_log::render_svg(&h, &h.default_windows()).ok()?
        }
    };
    Some(svg)
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
