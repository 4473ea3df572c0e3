//! `lab bench throughput`: prints Jay Kreps' 2014 experiments run on the simulated cluster.

use anyhow::{bail, Context, Result};
use sim::bench::throughput::{experiments, run, ProducerSpec};
use sim::hw::HardwareProfile;
use std::time::Instant;

/// Flags, in the style of `kafka-producer-perf-test.sh`.
#[derive(clap::Args)]
pub struct ThroughputArgs {
    /// Hardware profile: laptop-2024, commodity-2014 (the post's machines), commodity-2011.
    #[arg(long, default_value = "commodity-2014")]
    pub profile: String,
    /// Records per producer.
    #[arg(long, default_value_t = 100_000)]
    pub num_records: u64,
    /// Bytes per record value.
    #[arg(long, default_value_t = 100)]
    pub record_size: usize,
    /// Records per second per producer (-1: as fast as possible).
    #[arg(long, default_value_t = -1.0, allow_negative_numbers = true)]
    pub throughput: f64,
    /// Producer properties: acks=0|1|all|-1, batch.num.messages=N (records per partition per
    /// request), batch.size=BYTES, max.in.flight.requests.per.connection=N.
    #[arg(long, num_args = 1.., value_delimiter = ' ')]
    pub producer_props: Vec<String>,
    /// Record sizes of the size sweep (batch 1 and the configured batch), e.g. 10,100,1K,10K,100K;
    /// `none` to skip it.
    #[arg(long, default_value = "10,100,1K,10K,100K")]
    pub sizes: String,
    /// Only experiments whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Applies `--producer-props` to the defaults.
pub fn producer_spec(a: &ThroughputArgs) -> Result<ProducerSpec> {
    if a.num_records == 0 || a.num_records > 10_000_000 {
        bail!("--num-records must be 1..=10000000");
    }
    if a.record_size == 0 || a.record_size > 1_000_000 {
        bail!("--record-size must be 1..=1000000 (message.max.bytes)");
    }
    let mut p = ProducerSpec {
        num_records: a.num_records,
        record_size: a.record_size,
        ..ProducerSpec::default()
    };
    if a.throughput > 0.0 {
        p.throughput = Some(a.throughput);
    } else if a.throughput != -1.0 {
        bail!("--throughput must be positive or -1");
    }
    for kv in &a.producer_props {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--producer-props: expected KEY=VALUE, got `{kv}`")
        };
        let num = |v: &str| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .with_context(|| format!("--producer-props: bad value `{v}` for {k}"))
        };
        match k.trim() {
            "acks" => {
                p.acks = match v.trim() {
                    "0" => 0,
                    "1" => 1,
                    "all" | "-1" => -1,
                    other => bail!("--producer-props: acks must be 0, 1, all or -1, got `{other}`"),
                }
            }
            "batch.num.messages" => p.batch = num(v)?.min(100_000),
            "batch.size" => p.batch = (num(v)? / sim::bench::throughput::record_bytes(a.record_size) as u64).clamp(1, 100_000),
            "max.in.flight.requests.per.connection" => p.max_in_flight = num(v)?.min(100) as usize,
            other => bail!("--producer-props: unsupported property `{other}` (acks, batch.num.messages, batch.size, max.in.flight.requests.per.connection)"),
        }
    }
    Ok(p)
}

pub fn run_cli(a: &ThroughputArgs) -> Result<i32> {
    let profile = HardwareProfile::named(&a.profile)?;
    let spec = producer_spec(a)?;
    let sizes = if a.sizes.trim() == "none" {
        Vec::new()
    } else {
        crate::bench::parse_sizes(&a.sizes, false).context("--sizes")?
    };
    let mut list = experiments(&spec, &sizes);
    if let Some(f) = &a.only {
        list.retain(|e| e.name.contains(f.as_str()));
        if list.is_empty() {
            bail!("--only {f}: no experiment has that in its name");
        }
    }
    println!(
        "lab bench throughput — Kreps 2014 on simulated {} (3 brokers + 3 client hosts, topic of 6 partitions), virtual time",
        profile.name
    );
    println!(
        "producer: {} records of {} B per producer, {} records per partition per request, acks={}, {} in flight{}",
        spec.num_records,
        spec.record_size,
        spec.batch,
        if spec.acks == -1 { "all".to_string() } else { spec.acks.to_string() },
        spec.max_in_flight,
        spec.throughput.map_or(String::new(), |t| format!(", limited to {t:.0} records/s"))
    );
    println!();
    println!(
        "{:<32} {:>12} {:>9}  {:>12} {:>9}  {:>7}  published 2014 (6 cores, 1 GbE, 6 SATA)",
        "experiment", "prod rec/s", "MB/s", "cons rec/s", "MB/s", "wall"
    );
    for e in &list {
        let t = Instant::now();
        let o =
            run(&profile, a.seed, e).map_err(anyhow::Error::msg).with_context(|| e.name.clone())?;
        let wall = t.elapsed().as_secs_f64();
        let (pr, pm) = if e.latency {
            (String::new(), String::new())
        } else {
            (format!("{:.0}", o.produce_rate()), format!("{:.1}", o.produce_mb()))
        };
        let (cr, cm) = if e.consumers == 0 || e.latency {
            (String::new(), String::new())
        } else {
            (
                format!("{:.0}", o.consume_rate()),
                format!("{:.1}", o.consume_rate() * e.producer.record_size as f64 / 1e6),
            )
        };
        let published = e.published.unwrap_or("");
        if e.latency {
            let ms = |p: f64| {
                o.percentile(p)
                    .map_or("-".to_string(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
            };
            println!(
                "{:<32} {:>44}  {:>6.2}s  {}",
                e.name,
                format!("p50 {}, p99 {}, p99.9 {}", ms(50.0), ms(99.0), ms(99.9)),
                wall,
                published
            );
        } else {
            println!(
                "{:<32} {:>12} {:>9}  {:>12} {:>9}  {:>6.2}s  {}",
                e.name, pr, pm, cr, cm, wall, published
            );
        }
    }
    println!();
    println!("MB/s = 10^6 bytes of record values per second (as the post counts them). The model charges");
    println!("NICs, disks, page cache and the brokers' fetch path but no per-record CPU in clients or request handling: rates");
    println!(
        "with small records are upper bounds set by the network and round trips, not by a JVM."
    );
    Ok(0)
}
