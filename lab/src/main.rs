//! `lab`: the kafka-zk lab's command line.
//!
//! - `lab quickstart [--seed N]`: the seed course's walkthrough in one run.
//! - `lab shell [--seed N] [--trace FILE] [--strict] [--stopped]`: type the seed's commands.
//! - `lab run FILE --seed N` / `lab sweep FILE --seeds A..B`: scenarios and seed sweeps.
//! - `lab plot partition-log|spacetime|groups|zk|copy-path …` / `lab trace export --format perfetto …`: pictures of a run.
//! - `lab report FILE --seed N -o DIR`: a self-contained HTML page for a run.
//! - `lab trace-hash FILE`: the hash (XXH3-128) of a shell script's trace, for determinism checks.
//! - `lab bench zerocopy|host-zerocopy|throughput|sim-speed`: performance experiments (simulated, or
//!   real on this machine for `host-zerocopy`); `lab bench render`: wall time of drawing a run's pictures.
//! - `lab grade [NAME] [--json] [--reference]`: grades the exercises in `exercises/`.
//! - `lab lesson list | run ID [--lang en|zh] [--seed N]`: the guided lessons of `lessons/`.
//! - `lab stream wordcount …`: Spark Streaming's word count over the simulated Kafka.
//!
//! Everything inside runs in the deterministic simulation; this file is the only place that
//! touches the real terminal and real files.

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sim::shell::{Effect, Shell};
use sim::world::Sim;
use std::io::{IsTerminal, Write};
use std::time::Duration;

mod bench;
mod bench_host;
mod bench_sim_speed;
mod bench_throughput;
mod grade;
mod lesson;
mod plot;
mod quickstart;
mod report;
mod run;
mod scenario_file;
mod stream;
mod sweep;
mod terminal;

#[derive(Parser)]
#[command(name = "lab", version, about = "A deterministic ZooKeeper + Kafka cluster to learn on")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Grades the exercises in exercises/ (all of them, or NAME); exit 0 iff all pass.
    Grade {
        /// One exercise (range-assignor, murmur2-partitioner, fle-vote-order, high-watermark,
        /// controller-leader-election, zk-lock-recipe).
        name: Option<String>,
        /// One JSON object per exercise per line (JSONL): name, passed, score, failures, checks.
        #[arg(long)]
        json: bool,
        /// Grade the reference solutions instead of your code (for maintainers).
        #[arg(long)]
        reference: bool,
        /// Fewer seeds and cases (what the project's tests use).
        #[arg(long)]
        quick: bool,
        /// Grade harder: this many seeds per scenario (some scenarios run a multiple of it).
        #[arg(long)]
        seeds: Option<usize>,
    },
    /// Replays the seed course's install-and-verify walkthrough.
    Quickstart {
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Language of the narration.
        #[arg(long, default_value = "en", value_parser = ["en", "zh"])]
        lang: String,
    },
    /// An interactive (or piped) shell on the simulated cluster.
    Shell {
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write the trace (JSONL) here when the shell ends.
        #[arg(long)]
        trace: Option<String>,
        /// Stop at the first failing command with its exit code.
        #[arg(long)]
        strict: bool,
        /// Start with ZooKeeper installed but not running.
        #[arg(long)]
        stopped: bool,
        /// Virtual time that passes before each line (a person typing), e.g. 1s, 0, 250ms.
        #[arg(long, default_value = "1s")]
        think: String,
    },
    /// Runs a scenario file with one seed and reports its checks (exit 0 iff all meet `expect`).
    Run {
        /// Scenario file (TOML).
        file: String,
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print one JSON object instead of the human report.
        #[arg(long)]
        json: bool,
        /// Write the trace (JSONL) here.
        #[arg(long)]
        trace: Option<String>,
        /// Also write the run's pictures (spacetime, partition logs, groups, zk) as SVGs into this directory.
        #[arg(long)]
        svg: Option<String>,
    },
    /// Runs a scenario over a range of seeds in parallel and counts failing checks.
    Sweep {
        /// Scenario file (TOML).
        file: String,
        /// Seeds: `A..B` (B excluded) or `A..=B`.
        #[arg(long, default_value = "1..101")]
        seeds: String,
        /// Parallel runs (default: the number of CPUs).
        #[arg(long)]
        jobs: Option<usize>,
        /// Print one JSON object instead of the human summary.
        #[arg(long)]
        json: bool,
    },
    /// Draws a picture of a run from its trace (SVG).
    Plot {
        /// What to draw: partition-log (one partition's log on every replica, with losses) or
        /// spacetime (processes as lanes, messages as arrows, faults, leader bands),
        /// groups (partition ownership by member, generations, rebalances; records per member per
        /// second), zk (elections, zxids, sessions and ephemerals), copy-path (sendfile against
        /// read+write on a simulated broker, from the hardware model's counters; no trace needed) or
        /// stream-batches (a Spark Streaming run's offset ranges per batch and partition).
        #[arg(value_parser = ["partition-log", "spacetime", "groups", "zk", "copy-path", "stream-batches"])]
        kind: String,
        #[command(flatten)]
        src: SourceArgs,
        /// Topic (default: the first one written to).
        #[arg(long)]
        topic: Option<String>,
        /// Partition.
        #[arg(long, default_value_t = 0)]
        partition: i64,
        /// partition-log: offsets to show, `A..B` or `A..=B` (default: around the lost records).
        #[arg(long)]
        offsets: Option<String>,
        /// spacetime: time window in seconds, `A..B` (default: around the first fault).
        #[arg(long)]
        window: Option<String>,
        /// spacetime: message kinds to draw, comma-separated prefixes (e.g. `fle.,kafka.leader_and_isr`).
        #[arg(long)]
        kinds: Option<String>,
        /// groups: both (ownership above rates), ownership or rate.
        #[arg(long, default_value = "both")]
        view: String,
        /// copy-path: hardware profile (laptop-2024, commodity-2014, commodity-2011).
        #[arg(long, default_value = "commodity-2014")]
        profile: String,
        /// Output file.
        #[arg(short = 'o', long = "output")]
        out: String,
    },
    /// Runs a scenario and writes a self-contained HTML report (checks, metrics, figures,
    /// transcript) with the trace and its Perfetto export into a directory.
    Report {
        /// Scenario file (TOML).
        file: String,
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory.
        #[arg(short = 'o', long = "output")]
        dir: String,
    },
    /// Trace tools.
    Trace {
        #[command(subcommand)]
        cmd: TraceCmd,
    },
    /// Performance experiments: zero-copy (simulated and real) and Kafka's classic throughput runs.
    Bench {
        #[command(subcommand)]
        bench: BenchCmd,
    },
    /// Guided lessons: narrated steps on the simulated cluster, with questions answered from the trace.
    Lesson {
        #[command(subcommand)]
        cmd: LessonCmd,
    },
    /// Spark Streaming on the simulated Kafka: `lab stream wordcount`.
    Stream {
        #[command(subcommand)]
        cmd: StreamCmd,
    },
    /// Runs a shell script (file or `-` for stdin) and prints its trace's hash (XXH3-128).
    TraceHash {
        /// Script to run.
        script: String,
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// Where a picture's trace comes from.
#[derive(clap::Args)]
struct SourceArgs {
    /// Run this scenario file and use its trace.
    #[arg(long)]
    scenario: Option<String>,
    /// Seed for --scenario.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Or read this JSONL trace (from `lab run --trace` or the shell's `lab trace`).
    #[arg(long)]
    trace: Option<String>,
}

impl SourceArgs {
    fn source(self) -> plot::Source {
        plot::Source { scenario: self.scenario, seed: self.seed, trace: self.trace }
    }
}

#[derive(Subcommand)]
enum StreamCmd {
    /// The classic word count over a topic fed by a producer, printed batch by batch.
    Wordcount(stream::WordcountArgs),
}

#[derive(Subcommand)]
enum TraceCmd {
    /// Converts a run's trace for another viewer.
    Export {
        #[command(flatten)]
        src: SourceArgs,
        /// perfetto: Chrome trace-event JSON for ui.perfetto.dev or chrome://tracing.
        #[arg(long, default_value = "perfetto")]
        format: String,
        /// Output file.
        #[arg(short = 'o', long = "output")]
        out: String,
    },
}

#[derive(Subcommand)]
enum LessonCmd {
    /// Lists the lessons, in order.
    List {
        /// Language of the titles.
        #[arg(long, default_value = "en", value_parser = ["en", "zh"])]
        lang: String,
    },
    /// Runs one lesson (pauses and predictions only when stdin is a terminal).
    Run {
        /// Lesson id, as `lab lesson list` shows it.
        id: String,
        /// Language of the narration.
        #[arg(long, default_value = "en", value_parser = ["en", "zh"])]
        lang: String,
        /// Seed instead of the lesson's own.
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// The same fetch workload through sendfile and read+write on a simulated broker (virtual time).
    Zerocopy {
        /// Hardware profile: laptop-2024, commodity-2014, commodity-2011.
        #[arg(long, default_value = "commodity-2014")]
        profile: String,
        /// A small run (a few seconds): fewer cases, 4 MiB per partition.
        #[arg(long)]
        quick: bool,
        /// Message sizes, comma-separated (e.g. 100,1K,10K,100K); the first is used for every regime.
        #[arg(long)]
        sizes: Option<String>,
        /// Consumer counts, comma-separated (e.g. 1,4,16).
        #[arg(long)]
        consumers: Option<String>,
        /// Log data per partition, MiB.
        #[arg(long)]
        mib_per_partition: Option<u64>,
        /// NIC bandwidth of the CPU-bound regime (a what-if faster than the CPU), Gb/s.
        #[arg(long, default_value_t = 400)]
        fast_nic_gbps: u64,
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write a bar chart (SVG) here.
        #[arg(long)]
        svg: Option<String>,
        /// Print the results as JSON (every case's counters, the ratios per regime) instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// sendfile(2) against read(2)+write(2) for real on this machine (127.0.0.1, Linux only).
    HostZerocopy {
        /// File sizes, comma-separated, binary units (e.g. 64K,1M,16M).
        #[arg(long, default_value = "64K,1M,16M")]
        sizes: String,
        /// Most bytes sent per row, binary units.
        #[arg(long, default_value = "512M")]
        max_bytes: String,
        /// Most seconds per row.
        #[arg(long, default_value_t = 0.4)]
        max_secs: f64,
    },
    /// Jay Kreps' 2014 Kafka benchmark on a simulated cluster (virtual time).
    Throughput(bench_throughput::ThroughputArgs),
    /// Wall time of drawing every picture of a scenario run (target: under 2 s for a minute of
    /// virtual time).
    Render {
        /// Scenario file (TOML).
        #[arg(long, default_value = "scenarios/queue-vs-broadcast.toml")]
        scenario: String,
        /// Simulation seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Rounds of drawing (the best and the median are printed).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// How fast the simulator runs a loaded cluster: virtual seconds per wall second, messages
    /// per wall second, peak memory.
    SimSpeed(bench_sim_speed::SimSpeedArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lab: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<i32> {
    match cli.cmd {
        Cmd::Grade { name, json, reference, quick, seeds } => {
            grade::grade(name.as_deref(), json, reference, quick, seeds)
        }
        Cmd::Quickstart { seed, lang } => quickstart::run(seed, &lang),
        Cmd::Shell { seed, trace, strict, stopped, think } => {
            let think = sim::shell::lexer::parse_duration(&think).context("--think")?;
            let stdin = std::io::stdin();
            let input = if stdin.is_terminal() {
                ShellInput::Terminal(Box::new(terminal::Terminal::new()?))
            } else {
                ShellInput::Piped(terminal::LossyLines::new(stdin.lock()))
            };
            shell(seed, input, strict, stopped, think, trace)
        }
        Cmd::Run { file, seed, json, trace, svg } => run::run(&file, seed, json, trace, svg),
        Cmd::Sweep { file, seeds, jobs, json } => sweep::sweep(&file, &seeds, jobs, json),
        Cmd::Plot { kind, src, topic, partition, offsets, window, kinds, view, profile, out } => {
            match kind.as_str() {
                "spacetime" => {
                    plot::spacetime(&src.source(), window.as_deref(), kinds.as_deref(), &out)
                }
                "groups" => plot::groups(&src.source(), &view, &out),
                "zk" => plot::zk(&src.source(), &out),
                "copy-path" => plot::copy_path(&profile, src.seed, &out),
                "stream-batches" => plot::stream_batches(&src.source(), &out),
                _ => plot::partition_log(
                    &src.source(),
                    topic.as_deref(),
                    partition,
                    offsets.as_deref(),
                    &out,
                ),
            }
        }
        Cmd::Trace { cmd: TraceCmd::Export { src, format, out } } => {
            plot::export(&src.source(), &format, &out)
        }
        Cmd::Report { file, seed, dir } => report::report(&file, seed, &dir),
        Cmd::Stream { cmd: StreamCmd::Wordcount(args) } => stream::wordcount(&args),
        Cmd::Bench { bench } => match bench {
            BenchCmd::Zerocopy {
                profile,
                quick,
                sizes,
                consumers,
                mib_per_partition,
                fast_nic_gbps,
                seed,
                svg,
                json,
            } => bench::zerocopy(&bench::ZeroCopyOpts {
                profile,
                quick,
                sizes,
                consumers,
                mib_per_partition,
                fast_nic_gbps,
                seed,
                svg,
                json,
            }),
            BenchCmd::HostZerocopy { sizes, max_bytes, max_secs } => {
                let sizes = bench::parse_sizes(&sizes, true).context("--sizes")?;
                let max_bytes = bench::parse_sizes(&max_bytes, true)
                    .context("--max-bytes")?
                    .first()
                    .copied()
                    .unwrap_or(1) as u64;
                bench_host::host_zerocopy(&bench_host::HostOpts { sizes, max_bytes, max_secs })
            }
            BenchCmd::Throughput(args) => bench_throughput::run_cli(&args),
            BenchCmd::Render { scenario, seed, rounds } => {
                plot::bench_render(&scenario, seed, rounds)
            }
            BenchCmd::SimSpeed(args) => bench_sim_speed::run_cli(&args),
        },
        Cmd::Lesson { cmd: LessonCmd::List { lang } } => lesson::list(&lang),
        Cmd::Lesson { cmd: LessonCmd::Run { id, lang, seed } } => lesson::run(&id, &lang, seed),
        Cmd::TraceHash { script, seed } => {
            let text = if script == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&script).with_context(|| format!("reading {script}"))?
            };
            let hash = Sim::new(sim::seeded(seed)).run(|world| async move {
                let mut sh = Shell::new(world.clone());
                sh.boot_cluster(true).await;
                for line in text.lines() {
                    sh.exec_line(line).await;
                }
                world.tracer().hash()
            });
            println!("{hash}");
            Ok(0)
        }
    }
}

/// Where the shell's lines come from: a pipe or file, or a person at a terminal.
enum ShellInput {
    Piped(terminal::LossyLines<std::io::StdinLock<'static>>),
    Terminal(Box<terminal::Terminal>),
}

/// Runs the shell over `input`; output goes to stdout as each command finishes.
fn shell(
    seed: u64,
    input: ShellInput,
    strict: bool,
    stopped: bool,
    think: Duration,
    trace: Option<String>,
) -> Result<i32> {
    let mut input = input;
    Sim::new(sim::seeded(seed)).run(|world| async move {
        let mut sh = Shell::new(world.clone());
        sh.think_time = think;
        sh.boot_cluster(!stopped).await;
        let mut out = std::io::stdout().lock();
        let mut code = 0;
        loop {
            // Reading the next line blocks the simulation, not virtual time.
            let line = match &mut input {
                ShellInput::Piped(lines) => match lines.next() {
                    Some(line) => line?,
                    None => break,
                },
                ShellInput::Terminal(term) => {
                    out.flush()?;
                    match term.read(&sh)? {
                        terminal::Input::Line(line) => line,
                        terminal::Input::Exit => break,
                    }
                }
            };
            let c = sh.exec_line(&line).await;
            write!(out, "{}", sh.take_output())?;
            for effect in sh.take_effects() {
                match effect {
                    Effect::WriteTrace(path) => std::fs::write(&path, world.tracer().to_jsonl())
                        .with_context(|| format!("writing {path}"))?,
                }
            }
            if strict && c != 0 {
                code = c;
                break;
            }
        }
        if let Some(path) = trace {
            std::fs::write(&path, world.tracer().to_jsonl())
                .with_context(|| format!("writing {path}"))?;
        }
        Ok(code)
    })
}
