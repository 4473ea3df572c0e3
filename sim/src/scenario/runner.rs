//! Playing a scenario inside one simulation.

use super::{
    CheckOutcome, CommitMode, Consumer, DriverCrash, KeyPattern, NemesisKind, Producer, Report,
    Scenario, ValuePattern, Workload,
};
use crate::check;
use crate::fault::{ConfigEdit, Fault, NetChange, PartitionSpec};
use crate::hooks::Hooks;
use crate::kafka::clients::{
    bootstrap_consumer, KafkaProducer, OffsetReset, PartitionFetcher, ProducerConfig,
};
use crate::kafka::consumer::{AutoOffsetReset, ConsumerConfig, KafkaConsumer};
use crate::kafka::server::KAFKA_HOME;
use crate::shell::Shell;
use crate::trace::{fields, kind, Event};
use crate::world::{HostSpec, ProcCtx, Sim, World, WorldConfig};
use madsim::rand::Rng;
use madsim::time::{sleep, sleep_until, Instant};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Client id of the final reader.
const CHECKER: &str = "lab-checker";
/// Every broker listens here (the seed's server.properties).
const KAFKA_PORT: u16 = 9092;

/// Runs `sc` with `seed` and reports.
pub fn run(sc: &Scenario, seed: u64) -> Report {
    run_inner(sc, seed, false).0
}

/// Like [`run`], also returning the trace as JSONL.
pub fn run_traced(sc: &Scenario, seed: u64) -> (Report, String) {
    let (r, t) = run_inner(sc, seed, true);
    (r, t.unwrap_or_default())
}

/// Like [`run`] in a world whose protocol decisions come from `hooks` (a graded exercise's
/// code), also returning the trace's events for the grader's own checks.
pub fn run_with_hooks(sc: &Scenario, seed: u64, hooks: Hooks) -> (Report, Vec<Event>) {
    let (report, _, events) = run_in(sc, seed, hooks, false);
    (report, events)
}

fn world_config(sc: &Scenario, seed: u64, hooks: &Hooks) -> WorldConfig {
    let mut cfg = hooks.world_config(seed);
    for (i, h) in sc.hosts.iter().enumerate().skip(cfg.hosts.len()) {
        cfg.hosts.push(HostSpec { name: h.clone(), ip: format!("192.168.1.{}", 100 + i) });
    }
    // The parser accepted only known profiles; fall back to the default all the same.
    cfg.profile = crate::hw::HardwareProfile::named(&sc.profile).unwrap_or_default();
    cfg
}

fn run_inner(sc: &Scenario, seed: u64, keep_trace: bool) -> (Report, Option<String>) {
    let (report, trace, _) = run_in(sc, seed, Hooks::default(), keep_trace);
    (report, trace)
}

fn run_in(
    sc: &Scenario,
    seed: u64,
    hooks: Hooks,
    keep_trace: bool,
) -> (Report, Option<String>, Vec<Event>) {
    let cfg = world_config(sc, seed, &hooks);
    let sc = Arc::new(sc.clone());
    Sim::new(cfg).run(|world| async move {
        let mut r = Runner::new(world.clone(), sc.clone(), hooks);
        r.play().await;
        let events = world.tracer().events();
        let checks = sc
            .checks
            .iter()
            .map(|c| {
                let res = check::run(&c.name, &events).unwrap_or_else(|| {
                    check::CheckResult::new(&c.name, vec!["unknown check".into()], String::new())
                });
                CheckOutcome {
                    name: c.name.clone(),
                    ok: res.ok,
                    expect: c.expect,
                    detail: res.detail,
                }
            })
            .collect();
        let mut metrics = metrics(&events, r.t0_us);
        // From the hardware model rather than the trace: fsync calls on every host's disk since
        // the scenario proper began (ZooKeeper's transaction log, Kafka's flushes and checkpoints).
        metrics.insert(
            "disk_fsyncs".into(),
            json!(total_fsyncs(&world).saturating_sub(r.fsyncs_at_t0)),
        );
        let report = Report {
            scenario: sc.name.clone(),
            seed,
            virtual_ms: world.elapsed().as_millis() as u64,
            wall_ms: None,
            checks,
            metrics,
            trace_hash: world.tracer().hash(),
            transcript: std::mem::take(&mut r.transcript),
        };
        (report, keep_trace.then(|| world.tracer().to_jsonl()), events)
    })
}

/// What the runner does at a time of the scenario proper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// Start workload i.
    Workload(usize),
    /// Run step i.
    Step(usize),
    /// Undo the current fault.
    NemesisEnd,
    /// Undo the current fault (if any is left), inject a new one.
    Nemesis,
    /// Start the streaming application (its supervisor).
    StreamStart,
    /// `kill -9` the streaming driver.
    StreamCrash,
}

/// A fault the nemesis injected, to undo.
/// What the nemesis did, so it can be undone.
enum Injected {
    Crash(String),
    Kill(String),
    Pause(String, u32),
    Partition,
    Latency,
    DiskFull(String),
}

struct Runner {
    world: World,
    sc: Arc<Scenario>,
    sh: Shell,
    transcript: String,
    t0: Instant,
    t0_us: u64,
    fsyncs_at_t0: u64,
    net: crate::hw::NetParams,
    /// What the workloads' producers and consumers are built with.
    hooks: Hooks,
}

/// fsync calls on every host's disk so far.
fn total_fsyncs(world: &World) -> u64 {
    world.host_names().iter().filter_map(|h| world.disk(h).ok()).map(|d| d.counters().fsyncs).sum()
}

impl Runner {
    fn new(world: World, sc: Arc<Scenario>, hooks: Hooks) -> Self {
        let mut sh = Shell::new(world.clone());
        sh.think_time = Duration::ZERO;
        let net = world.net().params();
        Runner {
            world,
            sc,
            sh,
            transcript: String::new(),
            t0: Instant::now(),
            t0_us: 0,
            fsyncs_at_t0: 0,
            net,
            hooks,
        }
    }

    fn bootstrap(&self) -> Vec<(String, u16)> {
        self.sc.brokers.iter().map(|b| (b.clone(), KAFKA_PORT)).collect()
    }

    /// Runs a line through the shell, keeping it and its output in the transcript.
    async fn exec(&mut self, line: &str) -> i32 {
        let t = self.world.elapsed().as_millis();
        let code = self.sh.exec_line(line).await;
        self.record(t, line, code);
        code
    }

    /// Injects a fault through the shell, keeping its line in the transcript.
    async fn inject_fault(&mut self, fault: Fault) -> i32 {
        let t = self.world.elapsed().as_millis();
        let code = self.sh.inject(&fault).await;
        self.record(t, &fault.to_string(), code);
        code
    }

    /// Edits a config file through the shell, keeping its `lab set` line in the transcript.
    async fn edit_config(&mut self, edit: ConfigEdit) -> i32 {
        let t = self.world.elapsed().as_millis();
        let code = self.sh.edit(&edit).await;
        self.record(t, &edit.to_string(), code);
        code
    }

    /// A transcript entry: the line at virtual time `t_ms`, what it printed, its exit code.
    fn record(&mut self, t_ms: u128, line: &str, code: i32) {
        let out = self.sh.take_output();
        self.transcript.push_str(&format!("[{:>6}.{:03}s] $ {line}\n", t_ms / 1000, t_ms % 1000));
        self.transcript.push_str(&out);
        if code != 0 {
            self.transcript.push_str(&format!("(exit {code})\n"));
        }
    }

    fn events_of(&self, kind: &str) -> Vec<Event> {
        self.world.tracer().of_kind(kind)
    }

    /// Waits, polling every 100 ms of virtual time, until `done` or `limit` passes.
    async fn wait_until(&self, limit: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            sleep(Duration::from_millis(100)).await;
        }
        done(self)
    }

    fn running(&self, host: &str, name: &str) -> bool {
        self.world.processes(host).iter().any(|p| p.name == name)
    }

    /// Starts ZooKeeper and the broker on `host` where the scenario has them and they are not running.
    async fn start_services(&mut self, host: &str) {
        if !self.world.is_up(host) {
            return;
        }
        if self.sc.zookeepers.iter().any(|z| z == host) && !self.running(host, "QuorumPeerMain") {
            self.exec(&format!("ssh {host} zkServer.sh start")).await;
        }
        if self.sc.brokers.iter().any(|b| b == host) && !self.running(host, "Kafka") {
            self.exec(&format!(
                "ssh {host} kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties"
            ))
            .await;
        }
    }

    async fn setup(&mut self) {
        self.sh.boot_cluster(false).await;
        let sc = self.sc.clone();
        // The ensemble always holds the seed's three hosts: more means a zoo.cfg of our own.
        if sc.ensemble.len() > 3 {
            // A larger ensemble: zoo.cfg with one server line per member on every host, and the
            // brokers told about all of it.
            match crate::zk::install::install_ensemble(&self.world, &sc.ensemble) {
                Ok(()) => {
                    self.world.trace(
                        "lab",
                        "scenario",
                        kind::SCENARIO_ZK_INSTALLED,
                        None,
                        fields! { "ensemble" => sc.ensemble.clone() },
                    );
                    self.transcript.push_str(&format!(
                        "(zoo.cfg installed on every host with {} servers: {})\n",
                        sc.ensemble.len(),
                        sc.ensemble.join(", ")
                    ));
                }
                Err(e) => self.transcript.push_str(&format!("zoo.cfg not installed: {e}\n")),
            }
            let connect =
                sc.ensemble.iter().map(|z| format!("{z}:2181")).collect::<Vec<_>>().join(",");
            for b in &sc.brokers {
                self.edit_config(ConfigEdit::new(
                    b,
                    &server_properties(),
                    "zookeeper.connect",
                    &connect,
                ))
                .await;
            }
        }
        for z in &sc.zookeepers {
            self.exec(&format!("ssh {z} zkServer.sh start")).await;
        }
        if !sc.zookeepers.is_empty() {
            self.sh.wait_for_quorum(Duration::from_secs(60)).await;
        }
        for b in &sc.brokers {
            for (k, v) in &sc.broker_config {
                self.edit_config(ConfigEdit::new(b, &server_properties(), k, v)).await;
            }
        }
        for b in &sc.brokers {
            self.exec(&format!(
                "ssh {b} kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties"
            ))
            .await;
        }
        let want: BTreeSet<String> = sc.brokers.iter().cloned().collect();
        self.wait_until(Duration::from_secs(30), |r| {
            let got: BTreeSet<String> =
                r.events_of(kind::KAFKA_REGISTERED).into_iter().map(|e| e.host).collect();
            want.is_subset(&got) && !r.events_of(kind::KAFKA_CONTROLLER_ELECTED).is_empty()
        })
        .await;
        let zk = sc.zookeepers.iter().map(|z| format!("{z}:2181")).collect::<Vec<_>>().join(",");
        for t in &sc.topics {
            let shape = match &t.replica_assignment {
                Some(a) => format!("--replica-assignment {a}"),
                None => format!(
                    "--partitions {} --replication-factor {}",
                    t.partitions, t.replication_factor
                ),
            };
            self.exec(&format!(
                "kafka-topics.sh --create --zookeeper {zk} --topic {} {shape}",
                t.name
            ))
            .await;
        }
        let total: usize = sc.topics.iter().map(|t| t.partitions as usize).sum();
        self.wait_until(Duration::from_secs(30), |r| {
            let led: BTreeSet<(String, i64)> = r
                .events_of(kind::KAFKA_BECOME_LEADER)
                .into_iter()
                .map(|e| {
                    (e.str("topic").unwrap_or("").to_string(), e.i64("partition").unwrap_or(-1))
                })
                .collect();
            led.len() >= total
        })
        .await;
        // Followers start fetching right after the leaders: give them a moment to join.
        sleep(Duration::from_millis(500)).await;
    }

    async fn play(&mut self) {
        self.setup().await;
        self.t0 = Instant::now();
        self.t0_us = self.world.elapsed().as_micros() as u64;
        self.fsyncs_at_t0 = total_fsyncs(&self.world);
        self.world.trace(
            "lab",
            "scenario",
            kind::SCENARIO_START,
            None,
            fields! { "name" => self.sc.name.as_str() },
        );
        let sc = self.sc.clone();

        let mut timeline: Vec<(Duration, Action)> = Vec::new();
        for (i, w) in sc.workloads.iter().enumerate() {
            let start = match w {
                Workload::Producer(p) => p.start,
                Workload::Consumer(c) => c.start,
            };
            timeline.push((start, Action::Workload(i)));
        }
        for (i, s) in sc.steps.iter().enumerate() {
            timeline.push((s.at, Action::Step(i)));
        }
        if let Some(n) = &sc.nemesis {
            let mut t = n.start;
            while t < n.stop {
                timeline.push((t, Action::Nemesis));
                timeline.push(((t + n.duration).min(n.stop), Action::NemesisEnd));
                t += n.every;
            }
        }
        if let Some(st) = &sc.stream {
            timeline.push((st.start, Action::StreamStart));
            match st.crash {
                Some(DriverCrash::At(t)) => timeline.push((t, Action::StreamCrash)),
                Some(DriverCrash::Between(a, b)) => {
                    // Drawn from the run's seeded RNG: a sweep crashes the driver everywhere.
                    let span = (b - a).as_millis() as u64;
                    let off = madsim::rand::thread_rng().gen_range(0..span.max(1));
                    timeline.push((a + Duration::from_millis(off), Action::StreamCrash));
                }
                None => {}
            }
        }
        timeline.sort();

        let mut fault: Option<Injected> = None;
        for (at, action) in timeline {
            // Actions due at the same time run at the same virtual instant (madsim's sleep
            // would take at least a millisecond even for a deadline already reached).
            if Instant::now() < self.t0 + at {
                sleep_until(self.t0 + at).await;
            }
            match action {
                Action::Workload(i) => self.start_workload(i),
                Action::Step(i) => {
                    let line = sc.steps[i].run.clone();
                    self.exec(&line).await;
                }
                Action::Nemesis => {
                    if let Some(f) = fault.take() {
                        self.undo(f).await;
                    }
                    fault = self.inject().await;
                }
                Action::NemesisEnd => {
                    if let Some(f) = fault.take() {
                        self.undo(f).await;
                    }
                }
                Action::StreamStart => self.start_stream(),
                Action::StreamCrash => self.crash_driver().await,
            }
        }
        sleep_until(self.t0 + sc.duration).await;
        self.settle().await;
    }

    fn start_workload(&mut self, i: usize) {
        let bootstrap = self.bootstrap();
        let (host, name) = match &self.sc.workloads[i] {
            Workload::Producer(p) => (p.host.clone(), "ProducerPerformance".to_string()),
            Workload::Consumer(c) => (c.host.clone(), c.process.clone()),
        };
        let w = self.sc.workloads[i].clone();
        let t0 = self.t0;
        let hooks = self.hooks.clone();
        let spawned = self.world.spawn(&host, &name, move |ctx| async move {
            match w {
                Workload::Producer(p) => producer(ctx, p, bootstrap, t0, &hooks).await,
                Workload::Consumer(c) if c.member => {
                    group_member(ctx, c, bootstrap, t0, &hooks).await
                }
                Workload::Consumer(c) => consumer(ctx, c, bootstrap, t0).await,
            }
        });
        if let Err(e) = spawned {
            self.transcript.push_str(&format!("workload {i} on {host} did not start: {e}\n"));
            self.world.trace(
                "lab",
                "scenario",
                kind::SCENARIO_WORKLOAD_NOT_STARTED,
                None,
                fields! { "workload" => i, "host" => host.as_str() },
            );
        }
    }

    /// The `[stream]` application: a word count whose driver a supervisor keeps running.
    fn start_stream(&mut self) {
        let Some(st) = self.sc.stream.clone() else { return };
        let zk =
            self.sc.zookeepers.iter().map(|z| format!("{z}:2181")).collect::<Vec<_>>().join(",");
        let mut cfg = crate::stream::StreamConfig::new(
            "wordcount",
            st.style,
            &st.topic,
            self.bootstrap(),
            &zk,
        );
        cfg.group = st.group.clone();
        cfg.batch_interval_ms = st.batch_interval.as_millis() as u64;
        cfg.block_interval_ms = st.block_interval.as_millis() as u64;
        cfg.max_rate_per_partition = st.max_rate_per_partition;
        cfg.window_batches = st.window;
        cfg.wal = st.wal;
        cfg.sink = st.sink.clone();
        cfg.commit = st.commit;
        cfg.auto_commit_interval_ms = st.auto_commit_interval.as_millis() as u64;
        cfg.task_max_failures = st.task_max_failures;
        let t0_ms = self.t0_us / 1000;
        cfg.stop_at_ms = t0_ms + st.stop.as_millis() as u64;
        cfg.drain_limit_ms =
            (self.sc.duration.saturating_sub(st.stop) + self.sc.settle / 2).as_millis() as u64;
        let give_up = t0_ms + (self.sc.duration + self.sc.settle).as_millis() as u64;
        self.world.trace(
            "lab",
            "scenario",
            kind::SCENARIO_STREAM_START,
            None,
            fields! { "host" => st.host.as_str(), "style" => st.style.name() },
        );
        self.transcript.push_str(&format!(
            "(spark-submit --supervise: {} word count of {} on {})\n",
            st.style.name(),
            st.topic,
            st.host
        ));
        madsim::task::spawn(crate::stream::supervise(
            self.world.clone(),
            st.host.clone(),
            cfg,
            crate::stream::Pipeline::word_count(),
            st.restart_after,
            give_up,
        ));
    }

    /// `kill -9` of the driver, typed through the shell so the transcript shows it.
    async fn crash_driver(&mut self) {
        let Some(st) = self.sc.stream.clone() else { return };
        let pid = self
            .world
            .processes(&st.host)
            .iter()
            .find(|p| p.name == crate::stream::DRIVER)
            .map(|p| p.pid);
        match pid {
            Some(pid) => {
                self.world.trace(
                    "lab",
                    "scenario",
                    kind::STREAM_DRIVER_CRASH,
                    None,
                    fields! { "host" => st.host.as_str(), "pid" => pid },
                );
                self.inject_fault(Fault::Kill { host: st.host.clone(), pid }).await;
            }
            None => {
                self.world.trace(
                    "lab",
                    "scenario",
                    kind::STREAM_DRIVER_CRASH_SKIPPED,
                    None,
                    fields! { "host" => st.host.as_str() },
                );
                self.transcript.push_str("(no driver running to crash)\n");
            }
        }
    }

    async fn inject(&mut self) -> Option<Injected> {
        let n = self.sc.nemesis.clone()?;
        let (kind, host, latency_ms) = {
            let mut rng = madsim::rand::thread_rng();
            let kind = n.kinds[rng.gen_range(0..n.kinds.len())];
            let host = n.hosts[rng.gen_range(0..n.hosts.len())].clone();
            (kind, host, rng.gen_range(20..=200u32))
        };
        match kind {
            NemesisKind::Crash => {
                self.inject_fault(Fault::Crash { host: host.clone() }).await;
                Some(Injected::Crash(host))
            }
            NemesisKind::Kill | NemesisKind::Pause => {
                let procs = self.world.processes(&host);
                let target = procs
                    .iter()
                    .find(|p| p.name == "Kafka")
                    .or_else(|| procs.iter().find(|p| p.name == "QuorumPeerMain"));
                match target {
                    Some(p) if self.world.is_up(&host) && kind == NemesisKind::Kill => {
                        let pid = p.pid;
                        self.inject_fault(Fault::Kill { host: host.clone(), pid }).await;
                        Some(Injected::Kill(host))
                    }
                    Some(p) if self.world.is_up(&host) && !p.stopped => {
                        let pid = p.pid;
                        self.inject_fault(Fault::Pause { host: host.clone(), pid }).await;
                        Some(Injected::Pause(host, pid))
                    }
                    _ => None,
                }
            }
            NemesisKind::Partition => {
                let rest: Vec<String> =
                    self.sc.hosts.iter().filter(|h| **h != host).cloned().collect();
                let spec = PartitionSpec { a: vec![host], b: rest, one_way: false, port: None };
                self.inject_fault(Fault::Partition(spec)).await;
                Some(Injected::Partition)
            }
            NemesisKind::Latency => {
                let latency = Duration::from_millis(latency_ms.into());
                self.inject_fault(Fault::Net(NetChange::Latency(latency))).await;
                Some(Injected::Latency)
            }
            NemesisKind::DiskFull => {
                self.inject_fault(Fault::DiskFull { host: host.clone() }).await;
                Some(Injected::DiskFull(host))
            }
        }
    }

    async fn undo(&mut self, f: Injected) {
        match f {
            Injected::Crash(h) => {
                self.inject_fault(Fault::Boot { host: h.clone() }).await;
                self.start_services(&h).await;
            }
            Injected::Kill(h) => self.start_services(&h).await,
            Injected::Pause(host, pid) => {
                // It may have died meanwhile (its host crashed in a step).
                if self.world.is_paused(&host, pid) {
                    self.inject_fault(Fault::Resume { host, pid }).await;
                }
            }
            Injected::Partition => {
                self.inject_fault(Fault::Heal).await;
            }
            Injected::Latency => self.restore_net(),
            Injected::DiskFull(h) => {
                self.inject_fault(Fault::DiskFree { host: h.clone() }).await;
                self.start_services(&h).await;
            }
        }
    }

    fn restore_net(&mut self) {
        self.world.net().set_params(self.net.clone());
        // Links a step gave settings of their own follow the network again.
        self.world.net().clear_links();
        self.world.trace("lab", "scenario", kind::SCENARIO_NET_RESTORED, None, fields! {});
        self.transcript.push_str("(network parameters restored)\n");
    }

    async fn settle(&mut self) {
        self.world.trace("lab", "scenario", kind::SCENARIO_SETTLE, None, fields! {});
        self.inject_fault(Fault::Heal).await;
        self.restore_net();
        let sc = self.sc.clone();
        // Processes a step stopped (`kill -STOP`) go on.
        for h in &sc.hosts {
            for p in self.world.processes(h).into_iter().filter(|p| p.stopped) {
                self.inject_fault(Fault::Resume { host: h.clone(), pid: p.pid }).await;
            }
        }
        for h in &sc.hosts {
            if !self.world.is_up(h) {
                self.inject_fault(Fault::Boot { host: h.clone() }).await;
            }
        }
        for h in &sc.hosts {
            self.start_services(h).await;
        }
        let settle_end = Instant::now() + sc.settle;
        sleep_until(settle_end).await;
        self.world.trace("lab", "scenario", kind::SCENARIO_FINAL_READ, None, fields! {});
        // The final reader: every topic from the beginning, on the first host.
        let host = sc.hosts[0].clone();
        for t in &sc.topics {
            let (tx, rx) = futures::channel::oneshot::channel();
            let bootstrap = self.bootstrap();
            let topic = t.name.clone();
            let partitions = t.partitions as usize;
            let spawned = self.world.spawn(&host, "ConsoleConsumer", move |ctx| async move {
                let n = final_read(&ctx, &bootstrap, &topic, partitions).await;
                let _ = tx.send(n);
            });
            match spawned {
                Ok(_) => {
                    let n = rx.await.unwrap_or(0);
                    self.transcript.push_str(&format!("(final read of {}: {n} records)\n", t.name));
                }
                Err(e) => self
                    .transcript
                    .push_str(&format!("final read of {} did not start: {e}\n", t.name)),
            }
        }
    }
}

/// The broker config file on every host.
fn server_properties() -> String {
    format!("{KAFKA_HOME}/config/server.properties")
}

async fn producer(
    ctx: ProcCtx,
    p: Producer,
    bootstrap: Vec<(String, u16)>,
    t0: Instant,
    hooks: &Hooks,
) {
    let cfg = ProducerConfig {
        bootstrap,
        acks: p.acks,
        linger_ms: 0,
        batch_size: 16384,
        retries: p.retries,
        retry_backoff_ms: 100,
        request_timeout_ms: p.request_timeout.as_millis() as u64,
        client_id: format!("producer-{}", p.index),
    };
    let mut producer = KafkaProducer::new(&ctx, cfg).with_partitioner(hooks.partitioner.clone());
    let stop = t0 + p.stop;
    let interval = Duration::from_nanos(1_000_000_000 / u64::from(p.rate.max(1)));
    let mut next = Instant::now();
    let mut seq: u64 = 0;
    while Instant::now() < stop && !matches!(p.count, Some(c) if seq >= c) {
        let value = match p.value {
            ValuePattern::Seq => format!("{}-{}-{seq}", p.topic, p.index),
            ValuePattern::Sentences => sentence(),
        };
        let key = match p.key {
            KeyPattern::None => None,
            KeyPattern::Seq => Some(seq.to_string().into_bytes()),
        };
        producer.send(&p.topic, key, value.into_bytes()).await;
        seq += 1;
        next += interval;
        let now = Instant::now();
        if next > now {
            sleep_until(next).await;
        } else {
            // A slow send does not turn into a burst afterwards.
            next = now;
        }
    }
    let (completed, errors) = producer.close().await;
    // The exceptions the application saw, by class (`NotEnoughReplicasException`, …).
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for e in &errors {
        *kinds.entry(e.message.clone()).or_default() += 1;
    }
    ctx.trace(
        kind::SCENARIO_PRODUCER_DONE,
        None,
        fields! { "producer" => p.index, "attempted" => seq, "completed" => completed, "errors" => errors.len(), "error_kinds" => kinds },
    );
}

/// Words of the lesson's sentences.
const WORDS: [&str; 12] = [
    "hello",
    "kafka",
    "spark",
    "zookeeper",
    "stream",
    "batch",
    "offset",
    "broker",
    "topic",
    "partition",
    "leader",
    "replica",
];

/// Two to six words drawn by the seeded RNG.
fn sentence() -> String {
    let mut rng = madsim::rand::thread_rng();
    let n = rng.gen_range(2..=6);
    (0..n).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

async fn consumer(ctx: ProcCtx, c: Consumer, bootstrap: Vec<(String, u16)>, t0: Instant) {
    let stop = t0 + c.stop;
    let reset = if c.from_beginning { OffsetReset::Earliest } else { OffsetReset::Latest };
    let mut fetcher: Option<PartitionFetcher> = None;
    let mut got: u64 = 0;
    let mut empty = 0;
    let mut attempt = 0;
    while Instant::now() < stop && !matches!(c.count, Some(n) if got >= n) {
        let Some(f) = fetcher.as_mut() else {
            attempt += 1;
            match bootstrap_consumer(
                &ctx,
                &rotated(&bootstrap, attempt - 1),
                &c.topic,
                reset,
                &c.group,
            )
            .await
            {
                Ok(f) => fetcher = Some(f),
                Err(_) => sleep(Duration::from_secs(1)).await,
            }
            continue;
        };
        let recs = f.poll(500).await;
        if !recs.is_empty() {
            got += recs.len() as u64;
            empty = 0;
            continue;
        }
        empty += 1;
        if empty >= 4 {
            // No data for a while: perhaps the leader moved. Ask for metadata again, keep positions.
            empty = 0;
            let old = f.positions.clone();
            attempt += 1;
            if let Ok(mut nf) =
                bootstrap_consumer(&ctx, &rotated(&bootstrap, attempt), &c.topic, reset, &c.group)
                    .await
            {
                for (k, (_, off)) in nf.positions.iter_mut() {
                    if let Some((_, o)) = old.get(k) {
                        *off = *o;
                    }
                }
                fetcher = Some(nf);
            }
        }
    }
}

/// A member of a consumer group: `KafkaConsumer` subscribed to the topic, polling until its stop
/// time, processing each record (`process_time` of virtual time, then a
/// `kafka.client.processed` event with the group, member and generation) and committing as its
/// `commit` mode says; at its stop time it closes (a last commit with auto-commit, LeaveGroup).
async fn group_member(
    ctx: ProcCtx,
    c: Consumer,
    bootstrap: Vec<(String, u16)>,
    t0: Instant,
    hooks: &Hooks,
) {
    let stop = t0 + c.stop;
    let mut cfg = ConsumerConfig::new(bootstrap, Some(&c.group));
    cfg.client_id = c.process.clone();
    cfg.auto_offset_reset =
        if c.from_beginning { AutoOffsetReset::Earliest } else { AutoOffsetReset::Latest };
    cfg.enable_auto_commit = c.commit == CommitMode::Auto;
    cfg.session_timeout_ms = c.session_timeout.as_millis().min(i32::MAX as u128) as i32;
    cfg.heartbeat_interval_ms = (c.session_timeout.as_millis() as u64 / 3).clamp(1, 3000);
    let mut k = KafkaConsumer::new(&ctx, cfg).with_range_assignor(hooks.range_assignor.clone());
    k.subscribe(&[c.topic.as_str()]);
    let mut got: u64 = 0;
    while Instant::now() < stop && !matches!(c.count, Some(n) if got >= n) {
        let left = stop.saturating_duration_since(Instant::now()).as_millis() as u64;
        let recs = match k.poll(left.clamp(1, 500)).await {
            Ok(r) => r,
            Err(_) => {
                sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if recs.is_empty() {
            continue;
        }
        if c.commit == CommitMode::BeforeProcess {
            let _ = k.commit_sync().await;
        }
        for r in &recs {
            if !c.process_time.is_zero() {
                sleep(c.process_time).await;
            }
            let value = crate::kafka::clients::value_text(r.value.as_deref());
            ctx.trace(
                kind::KAFKA_CLIENT_PROCESSED,
                None,
                fields! {
                    "topic" => &*r.topic, "partition" => r.partition, "offset" => r.offset, "value" => value,
                    "group" => c.group.as_str(), "member" => k.member_id(), "generation" => k.generation()
                },
            );
            got += 1;
        }
        if c.commit == CommitMode::AfterProcess {
            let _ = k.commit_sync().await;
        }
    }
    k.close().await;
}

/// `bootstrap` starting at entry `i`: a client that failed with one broker asks the next first.
fn rotated(bootstrap: &[(String, u16)], i: usize) -> Vec<(String, u16)> {
    let mut v = bootstrap.to_vec();
    if !v.is_empty() {
        let n = i % v.len();
        v.rotate_left(n);
    }
    v
}

/// Reads a topic from the beginning until three polls in a row bring nothing. Waits (up to a
/// minute) for metadata naming a leader for each of the topic's `partitions`, asking each broker
/// in turn: a broker that just restarted may not know the leaders yet.
async fn final_read(
    ctx: &ProcCtx,
    bootstrap: &[(String, u16)],
    topic: &str,
    partitions: usize,
) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut best: Option<PartitionFetcher> = None;
    let mut attempt = 0;
    while Instant::now() < deadline {
        if let Ok(f) = bootstrap_consumer(
            ctx,
            &rotated(bootstrap, attempt),
            topic,
            OffsetReset::Earliest,
            CHECKER,
        )
        .await
        {
            let complete = f.positions.len() >= partitions;
            if best.as_ref().map_or(0, |b| b.positions.len()) < f.positions.len() || best.is_none()
            {
                best = Some(f);
            }
            if complete {
                break;
            }
        }
        attempt += 1;
        sleep(Duration::from_millis(500)).await;
    }
    let Some(mut fetcher) = best else { return 0 };
    let mut n = 0;
    let mut empty = 0;
    while empty < 3 {
        let recs = fetcher.poll(200).await;
        if recs.is_empty() {
            empty += 1;
        } else {
            empty = 0;
            n += recs.len() as u64;
        }
    }
    n
}

/// Consumer-group metrics, when some workload was a group member: records processed per group
/// and per member (`group/process`), records processed more than once per group (redelivered),
/// acknowledged records a group never processed, and the generations each group went through.
fn group_metrics(events: &[Event], acked: &[String], m: &mut BTreeMap<String, Value>) {
    let mut by_group: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_member: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen: BTreeMap<String, BTreeMap<(String, i64, i64), u64>> = BTreeMap::new();
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut generations: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for e in events {
        match e.kind.as_str() {
            kind::KAFKA_CLIENT_PROCESSED => {
                let g = e.str("group").unwrap_or("").to_string();
                *by_group.entry(g.clone()).or_default() += 1;
                *by_member.entry(format!("{g}/{}", e.proc)).or_default() += 1;
                let key = (
                    e.str("topic").unwrap_or("").to_string(),
                    e.i64("partition").unwrap_or(-1),
                    e.i64("offset").unwrap_or(-1),
                );
                *seen.entry(g.clone()).or_default().entry(key).or_default() += 1;
                values.entry(g).or_default().insert(e.str("value").unwrap_or("").to_string());
            }
            kind::KAFKA_GROUP_ASSIGNED => {
                if let (Some(g), Some(n)) = (e.str("group"), e.i64("generation")) {
                    generations.entry(g.to_string()).or_default().insert(n);
                }
            }
            _ => {}
        }
    }
    if by_group.is_empty() {
        return;
    }
    let redelivered: BTreeMap<&String, u64> =
        seen.iter().map(|(g, s)| (g, s.values().map(|n| n - 1).sum())).collect();
    let missing: BTreeMap<&String, usize> =
        values.iter().map(|(g, v)| (g, acked.iter().filter(|a| !v.contains(*a)).count())).collect();
    let gens: BTreeMap<&String, usize> = generations.iter().map(|(g, v)| (g, v.len())).collect();
    m.insert("processed_by_group".into(), json!(by_group));
    m.insert("processed_by_member".into(), json!(by_member));
    m.insert("redelivered_by_group".into(), json!(redelivered));
    m.insert("acked_not_processed_by_group".into(), json!(missing));
    m.insert("generations_by_group".into(), json!(gens));
}

/// Streaming metrics, when a `[stream]` ran: batches, records, delays, driver restarts, records
/// lost with a crashed driver's blocks, and the output's lost and duplicated input records.
fn stream_metrics(events: &[Event], m: &mut BTreeMap<String, Value>) {
    let Some(c) = check::stream::count(events) else { return };
    let completed: Vec<&Event> =
        events.iter().filter(|e| e.kind == kind::STREAM_BATCH_COMPLETED).collect();
    let max = |k: &str| completed.iter().filter_map(|e| e.u64(k)).max().unwrap_or(0);
    let committed_words: i64 = completed
        .iter()
        .filter(|e| e.str("output") == Some("committed"))
        .filter_map(|e| e.i64("words"))
        .sum();
    m.insert("stream_batches".into(), json!(completed.len()));
    m.insert(
        "stream_records".into(),
        json!(completed.iter().filter_map(|e| e.u64("records")).sum::<u64>()),
    );
    m.insert("stream_words_committed".into(), json!(committed_words));
    m.insert("stream_max_scheduling_delay_ms".into(), json!(max("scheduling_delay_ms")));
    m.insert("stream_max_processing_ms".into(), json!(max("processing_ms")));
    m.insert(
        "stream_driver_restarts".into(),
        json!(events.iter().filter(|e| e.kind == kind::STREAM_DRIVER_RESTART).count()),
    );
    m.insert(
        "stream_task_fetch_failures".into(),
        json!(events.iter().filter(|e| e.kind == kind::STREAM_TASK_FETCH_FAILED).count()),
    );
    m.insert(
        "stream_block_records_lost".into(),
        json!(events
            .iter()
            .filter(|e| e.kind == kind::STREAM_BLOCKS_LOST)
            .filter_map(|e| e.u64("records"))
            .sum::<u64>()),
    );
    m.insert("stream_output_commits".into(), json!(c.commits));
    m.insert("output_lost".into(), json!(c.lost_total()));
    m.insert("output_duplicated".into(), json!(c.duplicated_total()));
}

/// Metrics read from the trace; `t0_us` is the start of the scenario proper.
fn metrics(events: &[Event], t0_us: u64) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    let mut acked: Vec<String> = Vec::new();
    let mut sent0: Vec<String> = Vec::new();
    let mut consumed = 0u64;
    let mut final_values: BTreeSet<String> = BTreeSet::new();
    let mut final_read = 0u64;
    let mut attempted = 0u64;
    let mut send_errors = 0u64;
    let mut error_kinds: BTreeMap<String, u64> = BTreeMap::new();
    let values = |e: &Event| crate::check::str_array(e, "values");
    for e in events {
        match e.kind.as_str() {
            kind::KAFKA_CLIENT_ACKED => acked.extend(values(e)),
            kind::KAFKA_CLIENT_SENT => sent0.extend(values(e)),
            kind::KAFKA_CLIENT_CONSUMED if e.str("group") == Some(CHECKER) => {
                for (_, v) in crate::check::consumed_records(e) {
                    final_read += 1;
                    final_values.insert(v.to_string());
                }
            }
            kind::KAFKA_CLIENT_CONSUMED => {
                consumed += crate::check::consumed_records(e).count() as u64
            }
            kind::SCENARIO_PRODUCER_DONE => {
                attempted += e.u64("attempted").unwrap_or(0);
                send_errors += e.u64("errors").unwrap_or(0);
                if let Some(k) = e.fields.get("error_kinds").and_then(Value::as_object) {
                    for (name, n) in k {
                        *error_kinds.entry(name.clone()).or_default() += n.as_u64().unwrap_or(0);
                    }
                }
            }
            _ => {}
        }
    }
    let lost_acked = acked.iter().filter(|v| !final_values.contains(*v)).count();
    let lost_sent = sent0.iter().filter(|v| !final_values.contains(*v)).count();
    m.insert("setup_ms".into(), json!(t0_us / 1000));
    m.insert("messages_attempted".into(), json!(attempted));
    m.insert("messages_acked".into(), json!(acked.len()));
    m.insert("messages_sent_acks0".into(), json!(sent0.len()));
    m.insert("send_errors".into(), json!(send_errors));
    m.insert("send_errors_by_exception".into(), json!(error_kinds));
    m.insert("messages_consumed".into(), json!(consumed));
    m.insert("final_read".into(), json!(final_read));
    m.insert("acked_missing_from_final_read".into(), json!(lost_acked));
    m.insert("sent_missing_from_final_read".into(), json!(lost_sent));
    // The longest wait between two acknowledgements: how long producers saw the cluster stall.
    let acked_at: Vec<u64> = events
        .iter()
        .filter(|e| e.t_us >= t0_us && e.kind == kind::KAFKA_CLIENT_ACKED)
        .map(|e| e.t_us)
        .collect();
    if let Some(gap) = acked_at.windows(2).map(|w| w[1] - w[0]).max() {
        m.insert("max_ack_gap_ms".into(), json!(gap / 1000));
    }
    // A leader's decision to expire a session counts once its closeSession is committed (applied
    // somewhere): a leader cut off in a minority decides in vain.
    let mut expiring: BTreeSet<String> = BTreeSet::new();
    let mut expired: BTreeSet<String> = BTreeSet::new();
    for e in events.iter().filter(|e| e.t_us >= t0_us) {
        match (e.kind.as_str(), e.str("session")) {
            (kind::ZK_SESSION_EXPIRE, Some(s)) => {
                expiring.insert(s.to_string());
            }
            (kind::ZK_APPLY, Some(s))
                if e.str("op") == Some("closeSession") && expiring.contains(s) =>
            {
                expired.insert(s.to_string());
            }
            _ => {}
        }
    }
    m.insert("zk_sessions_expired".into(), json!(expired.len()));
    m.insert(
        "kafka_sessions_expired".into(),
        json!(events
            .iter()
            .filter(|e| e.t_us >= t0_us && e.kind == kind::KAFKA_SESSION_EXPIRED)
            .count()),
    );
    group_metrics(events, &acked, &mut m);
    stream_metrics(events, &mut m);
    m.insert(
        "leader_changes".into(),
        json!(events.iter().filter(|e| e.kind == kind::KAFKA_LEADER_ELECTION).count()),
    );
    let fault = events.iter().find(|e| {
        e.t_us >= t0_us
            && (e.kind == kind::HOST_CRASH
                || e.kind == kind::KAFKA_SHUTDOWN
                || (e.kind == kind::PROC_KILL && e.proc == "Kafka"))
    });
    if let Some(f) = fault {
        if let Some(l) = events.iter().find(|e| e.id > f.id && e.kind == kind::KAFKA_BECOME_LEADER)
        {
            m.insert("failover_ms".into(), json!((l.t_us - f.t_us) / 1000));
        }
    }
    m
}
