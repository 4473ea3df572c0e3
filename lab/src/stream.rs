//! `lab stream wordcount`: the classic Spark Streaming word count over a Kafka topic, run in the
//! simulator and printed batch by batch (offset ranges, records, scheduling delay, processing
//! time, lag, word counts), then checked: the counts must sum to the words of the messages the
//! producer had acknowledged.
//!
//! The run is a scenario built from the flags (`[stream]` in a scenario file does the same), so
//! `--trace` writes the same JSONL `lab run` would.

use anyhow::{bail, Context, Result};
use sim::trace::kind;
use std::collections::BTreeMap;

/// The flags of `lab stream wordcount`.
#[derive(clap::Args, Debug)]
pub struct WordcountArgs {
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Batch interval in milliseconds of virtual time.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub batch_interval: u64,
    /// spark.streaming.kafka.maxRatePerPartition: records per second per partition (0: no cap).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_rate_per_partition: u64,
    /// Count over a window of this many batches (sliding by one batch).
    #[arg(long, value_name = "BATCHES", default_value_t = 1)]
    pub window: u32,
    /// direct (KafkaUtils.createDirectStream) or receiver (KafkaUtils.createStream).
    #[arg(long, default_value = "direct")]
    pub style: String,
    /// Receiver only: the write-ahead log (ReliableKafkaReceiver).
    #[arg(long)]
    pub wal: bool,
    /// How the result table commits: transactional (direct only) or at-least-once. Default:
    /// transactional for direct, at-least-once for receiver.
    #[arg(long)]
    pub commit: Option<String>,
    /// Sentences per second the producer writes.
    #[arg(long, default_value_t = 20)]
    pub rate: u32,
    /// Seconds the producer writes.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub duration: u64,
    /// Partitions of the input topic.
    #[arg(long, default_value_t = 3)]
    pub partitions: u32,
    /// Kill the driver (kill -9) at this second of the run; it restarts from its checkpoint 3 s later.
    #[arg(long, value_name = "SECONDS")]
    pub crash_at: Option<f64>,
    /// Write the trace (JSONL) here.
    #[arg(long)]
    pub trace: Option<String>,
}

/// The scenario the flags describe, validated.
pub fn scenario_text(a: &WordcountArgs) -> Result<String> {
    if a.batch_interval == 0 || a.batch_interval > 600_000 {
        bail!("--batch-interval must be between 1 and 600000 ms, not {}", a.batch_interval);
    }
    if a.max_rate_per_partition > 10_000_000 {
        bail!(
            "--max-rate-per-partition must be at most 10000000 records/s, not {}",
            a.max_rate_per_partition
        );
    }
    if a.window == 0 || a.window > 1000 {
        bail!("--window must be between 1 and 1000 batches, not {}", a.window);
    }
    if a.style != "direct" && a.style != "receiver" {
        bail!("--style must be direct or receiver, not {:?}", a.style);
    }
    if a.wal && a.style == "direct" {
        bail!("--wal is for --style receiver: the direct stream has no receiver (its offsets are in the checkpoint)");
    }
    let commit = a.commit.clone().unwrap_or_else(|| {
        if a.style == "direct" {
            "transactional".into()
        } else {
            "at-least-once".into()
        }
    });
    if commit != "transactional" && commit != "at-least-once" {
        bail!("--commit must be transactional or at-least-once, not {commit:?}");
    }
    if commit == "transactional" && a.style == "receiver" {
        bail!("--commit transactional needs --style direct: a receiver's offsets live in ZooKeeper, not in the result table");
    }
    if a.rate == 0 || a.rate > 10_000 {
        bail!("--rate must be between 1 and 10000 sentences/s, not {}", a.rate);
    }
    if a.duration == 0 || a.duration > 600 {
        bail!("--duration must be between 1 and 600 s, not {}", a.duration);
    }
    if a.partitions == 0 || a.partitions > 64 {
        bail!("--partitions must be between 1 and 64, not {}", a.partitions);
    }
    let produce_stop = 1 + a.duration;
    // Time to drain: a capped stream needs (records per partition) / cap seconds to catch up.
    let per_partition = (u64::from(a.rate) * a.duration).div_ceil(u64::from(a.partitions));
    let catch_up = per_partition.checked_div(a.max_rate_per_partition).unwrap_or(0);
    let stream_stop = produce_stop + 5 + (a.batch_interval / 1000) * 2;
    let run = stream_stop + 5;
    let settle = 20 + catch_up + (a.batch_interval / 1000) * 3;
    let crash = match a.crash_at {
        None => String::new(),
        Some(s) if !(s.is_finite() && s >= 2.0 && s < stream_stop as f64) => {
            bail!(
                "--crash-at must be between 2 and {} seconds (while the stream runs), not {s}",
                stream_stop
            )
        }
        Some(s) => format!("crash_at = \"{}ms\"\nrestart_after = \"3s\"\n", (s * 1000.0) as u64),
    };
    let receiver = if a.style == "receiver" { "auto_commit_interval = \"1s\"\n" } else { "" };
    Ok(format!(
        r#"# lab stream wordcount
[cluster]
hosts = ["master", "slave1", "slave2", "client"]
[cluster.broker_config]
"min.insync.replicas" = "2"
"unclean.leader.election.enable" = "false"
[[topic]]
name = "words"
partitions = {partitions}
replication_factor = 3
[[workload]]
kind = "producer"
topic = "words"
host = "client"
rate = {rate}
value = "sentences"
start = "1s"
stop = "{produce_stop}s"
acks = "all"
retries = 5
request_timeout = "5s"
[stream]
style = "{style}"
topic = "words"
host = "client"
start = "2s"
stop = "{stream_stop}s"
batch_interval = "{bi}ms"
max_rate_per_partition = {rate_cap}
window = {window}
wal = {wal}
output = "table"
commit = "{commit}"
{receiver}{crash}[[check]]
name = "exactly_once_output"
[[check]]
name = "at_least_once_output"
[run]
duration = "{run}s"
settle = "{settle}s"
"#,
        partitions = a.partitions,
        rate = a.rate,
        style = a.style,
        bi = a.batch_interval,
        rate_cap = a.max_rate_per_partition,
        window = a.window,
        wal = a.wal,
    ))
}

/// `lab stream wordcount`.
pub fn wordcount(a: &WordcountArgs) -> Result<i32> {
    let text = scenario_text(a)?;
    let sc = sim::scenario::Scenario::parse_named(&text, "stream-wordcount")
        .map_err(|e| anyhow::anyhow!("internal scenario: {e}"))?;
    let (report, trace) = sim::scenario::run_traced(&sc, a.seed);
    if let Some(path) = &a.trace {
        std::fs::write(path, &trace).with_context(|| format!("writing {path}"))?;
    }
    let events = viz::parse_jsonl(&trace)?;
    print!("{}", render(a, &events));
    let produced = words_produced(&events);
    let counted: i64 = events
        .iter()
        .filter(|e| e.kind == kind::STREAM_BATCH_COMPLETED && e.str("output") == Some("committed"))
        .filter_map(|e| e.i64("words"))
        .sum();
    let messages: usize = events
        .iter()
        .filter(|e| e.kind == kind::KAFKA_CLIENT_ACKED && e.str("topic") == Some("words"))
        .map(|e| e.i64("records").unwrap_or(0) as usize)
        .sum();
    println!();
    println!("messages produced (acknowledged): {messages}, words in them: {produced}");
    println!("words counted over the committed batches: {counted}");
    for c in &report.checks {
        println!("{} {}: {}", if c.ok { "PASS" } else { "FAIL" }, c.name, c.detail);
    }
    println!("trace hash: {}", report.trace_hash);
    if counted == produced {
        println!("the counts sum to the words produced");
        Ok(0)
    } else {
        println!(
            "the counts do NOT sum to the words produced ({} {})",
            (counted - produced).abs(),
            if counted < produced { "missing" } else { "too many" }
        );
        Ok(1)
    }
}

/// Words in the values the producer had acknowledged.
fn words_produced(events: &[viz::Event]) -> i64 {
    events
        .iter()
        .filter(|e| e.kind == kind::KAFKA_CLIENT_ACKED && e.str("topic") == Some("words"))
        .filter_map(|e| e.fields.get("values").and_then(|v| v.as_array()).cloned())
        .flatten()
        .map(|v| v.as_str().map_or(0, |s| s.split_whitespace().count() as i64))
        .sum()
}

/// The per-batch report, Spark's `print()` header style.
pub fn render(a: &WordcountArgs, events: &[viz::Event]) -> String {
    let mut out = String::new();
    let cap = if a.max_rate_per_partition == 0 {
        "no cap".to_string()
    } else {
        format!("{} records/s per partition", a.max_rate_per_partition)
    };
    out.push_str(&format!(
        "lab stream wordcount (seed {}): {} stream{}, batch interval {} ms, maxRatePerPartition: {}, window {} batch{}\n",
        a.seed,
        a.style,
        if a.wal { " with write-ahead log" } else { "" },
        a.batch_interval,
        cap,
        a.window,
        if a.window == 1 { "" } else { "es" }
    ));
    for e in events {
        match e.kind.as_str() {
            kind::STREAM_CONTEXT_START => out.push_str(&format!(
                "[{:>8.3}s] driver {} on {}{}\n",
                e.t_us as f64 / 1e6,
                if e.fields.get("recovered").and_then(|v| v.as_bool()) == Some(true) {
                    "restarted from checkpoint"
                } else {
                    "started"
                },
                e.host,
                e.str("checkpoint")
                    .filter(|c| !c.is_empty())
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            )),
            kind::STREAM_DRIVER_CRASH => {
                out.push_str(&format!("[{:>8.3}s] driver killed (kill -9)\n", e.t_us as f64 / 1e6))
            }
            kind::STREAM_OUTPUT_SKIPPED => out.push_str(&format!(
                "[{:>8.3}s] batch {} ms: already in the result table, not applied again\n",
                e.t_us as f64 / 1e6,
                e.i64("batch").unwrap_or(0)
            )),
            kind::STREAM_BLOCKS_LOST => out.push_str(&format!(
                "[{:>8.3}s] batch {} ms: {} blocks ({} records) died with the driver\n",
                e.t_us as f64 / 1e6,
                e.i64("batch").unwrap_or(0),
                e.i64("blocks").unwrap_or(0),
                e.i64("records").unwrap_or(0)
            )),
            kind::STREAM_BATCH_COMPLETED => {
                out.push_str("-------------------------------------------\n");
                out.push_str(&format!("Time: {} ms\n", e.i64("batch_wall_ms").unwrap_or(0)));
                out.push_str("-------------------------------------------\n");
                let ranges = sim::stream::offset_range::ranges_from_json(e.fields.get("ranges"));
                let mut by_p: BTreeMap<i32, Vec<String>> = BTreeMap::new();
                for r in &ranges {
                    by_p.entry(r.partition)
                        .or_default()
                        .push(format!("[{}, {})", r.from_offset, r.until_offset));
                }
                let shown = if by_p.is_empty() {
                    "none".to_string()
                } else {
                    by_p.iter()
                        .map(|(p, v)| format!("{}-{p} {}", "words", v.join(" ")))
                        .collect::<Vec<_>>()
                        .join("  ")
                };
                out.push_str(&format!("offset ranges: {shown}\n"));
                out.push_str(&format!(
                    "records {}, scheduling delay {} ms, processing time {} ms, lag {}, output: {}\n",
                    e.i64("records").unwrap_or(0),
                    e.i64("scheduling_delay_ms").unwrap_or(0),
                    e.i64("processing_ms").unwrap_or(0),
                    e.i64("lag").unwrap_or(0),
                    e.str("output").unwrap_or("")
                ));
                if let Some(c) = e.fields.get("counts").and_then(|v| v.as_object()) {
                    let words: Vec<String> = c
                        .iter()
                        .map(|(w, n)| format!("({w},{})", n.as_i64().unwrap_or(0)))
                        .collect();
                    if !words.is_empty() {
                        out.push_str(&words.join(" "));
                        out.push('\n');
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        a: WordcountArgs,
    }

    fn args(extra: &[&str]) -> WordcountArgs {
        let mut v = vec!["wordcount"];
        v.extend_from_slice(extra);
        Cli::try_parse_from(v).expect("flags parse").a
    }

    #[test]
    fn bad_flag_values_get_clear_errors() {
        let e = |extra: &[&str]| scenario_text(&args(extra)).unwrap_err().to_string();
        assert!(e(&["--batch-interval", "0"])
            .contains("--batch-interval must be between 1 and 600000 ms"));
        assert!(e(&["--window", "0"]).contains("--window must be between 1 and 1000"));
        assert!(e(&["--style", "spark"]).contains("--style must be direct or receiver"));
        assert!(e(&["--wal"]).contains("--wal is for --style receiver"));
        assert!(e(&["--style", "receiver", "--commit", "transactional"]).contains("ZooKeeper"));
        assert!(e(&["--crash-at", "1"]).contains("--crash-at must be between 2"));
        assert!(
            Cli::try_parse_from(["wordcount", "--batch-interval", "abc"]).is_err(),
            "not a number"
        );
        assert!(
            Cli::try_parse_from(["wordcount", "--max-rate-per-partition", "-3"]).is_err(),
            "not negative"
        );
    }

    #[test]
    fn the_counts_of_seed_1_sum_to_the_words_produced() {
        let a = args(&["--seed", "1"]);
        let sc = sim::scenario::Scenario::parse(&scenario_text(&a).expect("valid flags"))
            .expect("valid scenario");
        let (r, trace) = sim::scenario::run_traced(&sc, 1);
        let events = viz::parse_jsonl(&trace).expect("trace");
        let counted: i64 = events
            .iter()
            .filter(|e| {
                e.kind == kind::STREAM_BATCH_COMPLETED && e.str("output") == Some("committed")
            })
            .filter_map(|e| e.i64("words"))
            .sum();
        assert!(counted > 1000, "{counted} words");
        assert_eq!(counted, words_produced(&events));
        assert!(r.passed(), "{:?}", r.checks);
        let out = render(&a, &events);
        assert!(
            out.contains("offset ranges: words-0 [0, ") && out.contains("scheduling delay"),
            "{out}"
        );
    }
}
