//! `lab bench sim-speed`: times the simulator on a loaded cluster (virtual seconds per wall
//! second, simulated messages per wall second) and reads the process's peak memory after a run of
//! one million records. The wall clock and `/proc/self/status` are read here, outside the
//! simulation; the run itself is `sim::bench::sim_speed`.

use anyhow::{bail, Context, Result};
use sim::bench::sim_speed::{run, Outcome, Settings};
use sim::hw::HardwareProfile;
use std::time::{Duration, Instant};

/// Flags.
#[derive(clap::Args)]
pub struct SimSpeedArgs {
    /// Hardware profile of the simulated hosts.
    #[arg(long, default_value = "commodity-2014")]
    pub profile: String,
    /// Virtual seconds the producer runs in the speed run.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Records per second of the producer.
    #[arg(long, default_value_t = 10_000)]
    pub rate: u64,
    /// Bytes per record value.
    #[arg(long, default_value_t = 100)]
    pub record_size: usize,
    /// Consumers, each reading the whole topic.
    #[arg(long, default_value_t = 2)]
    pub consumers: u32,
    /// Records of the memory run (at the same rate); 0 skips it.
    #[arg(long, default_value_t = 1_000_000)]
    pub memory_records: u64,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
}

/// The process's peak resident set size in bytes (`VmHWM`), and the current one (`VmRSS`).
pub fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|k| k * 1024)
    };
    Some((kb("VmHWM:")?, kb("VmRSS:")?))
}

/// CPU time (user + system) this process has used so far, from getrusage(2). On a shared machine
/// wall time includes waiting for a core; CPU time is what the simulation itself cost.
fn cpu_time() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getrusage only writes the struct we hand it.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
            return None;
        }
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        Some(tv(u.ru_utime) + tv(u.ru_stime))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

struct Timed {
    outcome: Outcome,
    wall: Duration,
    cpu: Option<Duration>,
}

impl Timed {
    fn compression(&self) -> f64 {
        self.outcome.virtual_time().as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }
    /// Virtual seconds per CPU second.
    fn cpu_compression(&self) -> Option<f64> {
        self.cpu.map(|c| self.outcome.virtual_time().as_secs_f64() / c.as_secs_f64().max(1e-9))
    }
    fn messages_per_wall_sec(&self) -> f64 {
        self.outcome.messages() as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

fn timed(s: &Settings) -> Result<Timed> {
    let (t, c0) = (Instant::now(), cpu_time());
    let outcome = run(s).map_err(anyhow::Error::msg)?;
    let cpu = cpu_time().zip(c0).map(|(b, a)| b.saturating_sub(a));
    Ok(Timed { outcome, wall: t.elapsed(), cpu })
}

/// Compression a release build must reach (virtual seconds per wall second).
pub const TARGET_COMPRESSION: f64 = 100.0;
/// Peak RSS a release build must stay under, as a multiple of the memory run's payload.
pub const TARGET_RSS_PER_PAYLOAD: f64 = 3.0;

pub fn run_cli(a: &SimSpeedArgs) -> Result<i32> {
    let profile = HardwareProfile::named(&a.profile)?;
    if a.seconds == 0 || a.seconds > 3600 {
        bail!("--seconds must be 1..=3600");
    }
    if a.rate == 0 || a.rate > 1_000_000 {
        bail!("--rate must be 1..=1000000");
    }
    if a.record_size == 0 || a.record_size > 1_000_000 {
        bail!("--record-size must be 1..=1000000");
    }
    if a.consumers > 16 {
        bail!("--consumers must be 0..=16");
    }
    if a.memory_records > 100_000_000 {
        bail!("--memory-records must be at most 100000000");
    }
    let base = Settings {
        profile: profile.clone(),
        seed: a.seed,
        rate: a.rate,
        record_size: a.record_size,
        consumers: a.consumers,
        ..Settings::default()
    };
    let before = rss();
    // The memory run goes first, in a fresh process, so the peak it reports is its own (memory a
    // finished run frees is not always reusable by the next one).
    let memory = if a.memory_records > 0 {
        let duration = Duration::from_secs_f64(a.memory_records as f64 / a.rate as f64);
        let m = timed(&Settings { duration, ..base.clone() }).context("memory run")?;
        Some((m, rss()))
    } else {
        None
    };
    let speed = timed(&Settings { duration: Duration::from_secs(a.seconds), ..base.clone() })
        .context("speed run")?;
    let payload = a.memory_records as f64 * a.record_size as f64;
    let optimised = !cfg!(debug_assertions);
    if a.json {
        let run_json = |t: &Timed| {
            serde_json::json!({
                "virtual_secs": t.outcome.virtual_time().as_secs_f64(),
                "setup_virtual_secs": t.outcome.setup.as_secs_f64(),
                "measured_virtual_secs": t.outcome.measured.as_secs_f64(),
                "wall_secs": t.wall.as_secs_f64(),
                "compression": t.compression(),
                "cpu_secs": t.cpu.map(|c| c.as_secs_f64()),
                "cpu_compression": t.cpu_compression(),
                "records_sent": t.outcome.sent,
                "records_acked": t.outcome.acked,
                "records_consumed": t.outcome.consumed,
                "messages": t.outcome.messages(),
                "messages_per_wall_sec": t.messages_per_wall_sec(),
                "trace_events": t.outcome.trace_events,
                "trace_hash": t.outcome.trace_hash,
            })
        };
        let mut j = serde_json::json!({
            "profile": profile.name,
            "seed": a.seed,
            "rate": a.rate,
            "record_size": a.record_size,
            "consumers": a.consumers,
            "release_build": optimised,
            "speed": run_json(&speed),
            "rss_before_bytes": before.map(|r| r.1),
        });
        if let Some((m, r)) = &memory {
            j["memory"] = run_json(m);
            j["memory"]["payload_bytes"] = serde_json::json!(payload as u64);
            j["memory"]["peak_rss_bytes"] = serde_json::json!(r.map(|r| r.0));
            j["memory"]["peak_rss_per_payload"] =
                serde_json::json!(r.map(|r| r.0 as f64 / payload.max(1.0)));
        }
        println!("{}", serde_json::to_string_pretty(&j)?);
        return Ok(0);
    }
    println!(
        "lab bench sim-speed — simulated {}, seed {}: ZooKeeper on 3 hosts, 3 brokers, topic of 3 partitions x 3 replicas,",
        profile.name, a.seed
    );
    println!(
        "1 producer at {} records/s of {} B (KafkaProducer, acks=1, linger.ms=10), {} consumer(s) reading everything.",
        a.rate, a.record_size, a.consumers
    );
    if !optimised {
        println!("(debug build: the targets are for `cargo build --release -p lab`)");
    }
    println!();
    let show = |title: &str, t: &Timed| {
        let o = &t.outcome;
        println!("{title}");
        println!(
            "  virtual time   {:>10.1} s   (cluster start-up {:.1} s + producing and consuming {:.1} s)",
            o.virtual_time().as_secs_f64(),
            o.setup.as_secs_f64(),
            o.measured.as_secs_f64()
        );
        match t.cpu {
            Some(c) => println!("  wall time      {:>10.2} s   (CPU time {:.2} s: {:.0} virtual seconds per CPU second)", t.wall.as_secs_f64(), c.as_secs_f64(), t.cpu_compression().unwrap_or(0.0)),
            None => println!("  wall time      {:>10.2} s", t.wall.as_secs_f64()),
        }
        println!(
            "  compression    {:>10.0}x  virtual seconds per wall second (target >= {TARGET_COMPRESSION:.0}x: {})",
            t.compression(),
            if t.compression() >= TARGET_COMPRESSION { "met" } else { "MISSED" }
        );
        println!(
            "  messages       {:>10}    ({} acknowledged + {} consumed) = {:.0} simulated messages per wall second",
            o.messages(),
            o.acked,
            o.consumed.iter().map(u64::to_string).collect::<Vec<_>>().join(" + "),
            t.messages_per_wall_sec()
        );
        println!(
            "  trace          {:>10}    events, streamed into hash {}",
            o.trace_events,
            &o.trace_hash[..16.min(o.trace_hash.len())]
        );
    };
    show(&format!("Speed run: {} virtual seconds of producing", a.seconds), &speed);
    if let Some((m, r)) = &memory {
        println!();
        show(
            &format!(
                "Memory run: {} records of {} B ({:.0} MB of payload)",
                a.memory_records,
                a.record_size,
                payload / 1e6
            ),
            m,
        );
        match r {
            Some((hwm, _)) => {
                let ratio = *hwm as f64 / payload.max(1.0);
                println!(
                    "  peak RSS       {:>10.0} MB  (VmHWM after this run, the first of the process; {:.2}x the payload, target < {TARGET_RSS_PER_PAYLOAD:.0}x: {})",
                    *hwm as f64 / 1e6,
                    ratio,
                    if ratio < TARGET_RSS_PER_PAYLOAD { "met" } else { "MISSED" }
                );
                if let Some((_, rss0)) = before {
                    println!(
                        "                              (resident before the runs: {:.0} MB)",
                        rss0 as f64 / 1e6
                    );
                }
            }
            None => println!("  peak RSS       unavailable (no /proc/self/status on this system)"),
        }
    }
    Ok(0)
}
