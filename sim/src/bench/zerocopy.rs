//! `lab bench zerocopy`: the same fetch workload through `sendfile` and `read+write`.
//!
//! One broker (on `master`) leads a topic; benchmark consumers on `slave1` and `slave2` read it
//! from the beginning, 1 MiB per fetch, all at once. Each case runs twice, once per send path
//! (`lab.fetch.send.path`), in a fresh world with the same seed, and reports throughput, the
//! broker host's CPU counters and how busy each resource was. Three regimes:
//!
//! - **CPU-bound**: the data is in the page cache and the network is taken out of the way (a
//!   what-if NIC much faster than the profile's), so the broker's network threads are the limit.
//! - **network-bound**: the same, on the profile's own NIC (1 GbE for the 2011/2014 profiles).
//! - **disk-bound**: the page cache is dropped after loading, and each consumer reads its own
//!   partition, so the disk seeks between them.
//!
//! ```no_run
//! use sim::bench::zerocopy::{run_case, Case, Regime, Settings};
//! use sim::hw::{HardwareProfile, SendPath};
//! let s = Settings::quick(HardwareProfile::default());
//! let r = run_case(&s, &Case { regime: Regime::CpuBound, path: SendPath::Sendfile, tls: false, message_bytes: 1000, consumers: 4 }).unwrap();
//! assert!(r.mb_per_sec() > 0.0);
//! ```
use super::{bulk_load, consume, start_cluster};
use crate::hw::{CpuCounters, HardwareProfile, SendPath};
use crate::world::{ProcCtx, Sim, WorldConfig};
use madsim::time::Instant;
use std::time::Duration;

/// Which resource the case is built to stress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Regime {
    /// Hot page cache, what-if fast network: the CPU limits.
    CpuBound,
    /// Hot page cache, the profile's NIC.
    NetworkBound,
    /// Cold page cache, one partition per consumer.
    DiskBound,
}

impl Regime {
    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Regime::CpuBound => "cpu-bound",
            Regime::NetworkBound => "network-bound",
            Regime::DiskBound => "disk-bound",
        }
    }
}

/// One measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// What the set-up stresses.
    pub regime: Regime,
    /// The broker's send path.
    pub path: SendPath,
    /// TLS on the fetch connections (`lab.fetch.tls`).
    pub tls: bool,
    /// Value size of each record.
    pub message_bytes: usize,
    /// Concurrent consumers.
    pub consumers: u32,
}

/// Settings shared by every case of a bench run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Hardware of every host.
    pub profile: HardwareProfile,
    /// Log bytes per partition.
    pub bytes_per_partition: u64,
    /// Bytes asked per fetch (`fetch.message.max.bytes`, 1 MiB by default).
    pub fetch_bytes: i32,
    /// NIC bandwidth of the CPU-bound regime (what-if), bits per second.
    pub fast_nic_bps: u64,
    /// Simulation seed.
    pub seed: u64,
}

impl Settings {
    /// The default: 32 MiB per partition, 1 MiB fetches, a 400 Gb/s what-if NIC.
    pub fn new(profile: HardwareProfile) -> Self {
        Settings { profile, bytes_per_partition: 32 << 20, fetch_bytes: 1 << 20, fast_nic_bps: 400_000_000_000, seed: 1 }
    }

    /// Small enough for a test: 4 MiB per partition.
    pub fn quick(profile: HardwareProfile) -> Self {
        Settings { bytes_per_partition: 4 << 20, ..Settings::new(profile) }
    }
}

/// What one case measured (broker host only, during the consuming phase).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// Virtual time from the first fetch to the last consumer's end.
    pub elapsed: Duration,
    /// Message-set bytes consumed, all consumers together.
    pub bytes: u64,
    /// Messages consumed, all consumers together.
    pub messages: u64,
    /// The broker host's CPU counters for the phase.
    pub cpu: CpuCounters,
    /// Cores of the broker host.
    pub cores: u32,
    /// `num.network.threads` of the broker (threads that send responses).
    pub network_threads: u32,
    /// Broker NIC: bytes sent in the phase.
    pub nic_bytes: u64,
    /// Broker NIC bandwidth during the phase, bits per second.
    pub nic_bps: u64,
    /// Broker disk: device busy time in the phase.
    pub disk_busy: Duration,
    /// Bytes the broker's disk read from the device in the phase.
    pub disk_read_bytes: u64,
}

impl CaseResult {
    fn secs(&self) -> f64 {
        self.elapsed.as_secs_f64().max(1e-9)
    }
    /// Consumed MB/s (10^6 bytes).
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.secs()
    }
    /// Consumed messages per second.
    pub fn msgs_per_sec(&self) -> f64 {
        self.messages as f64 / self.secs()
    }
    /// Share of all cores' time that was busy.
    pub fn cpu_util(&self) -> f64 {
        self.cpu.busy_ns as f64 / 1e9 / (self.secs() * f64::from(self.cores.max(1)))
    }
    /// Share of the network threads' time that was busy (they can use at most
    /// min(threads, cores) cores).
    pub fn thread_util(&self) -> f64 {
        let lanes = self.network_threads.min(self.cores).max(1);
        self.cpu.busy_ns as f64 / 1e9 / (self.secs() * f64::from(lanes))
    }
    /// Share of the NIC's capacity used.
    pub fn nic_util(&self) -> f64 {
        self.nic_bytes as f64 * 8.0 / self.nic_bps.max(1) as f64 / self.secs()
    }
    /// Share of the time the disk was busy.
    pub fn disk_util(&self) -> f64 {
        self.disk_busy.as_secs_f64() / self.secs()
    }
    /// Bytes copied by the CPU per message consumed.
    pub fn copied_per_msg(&self) -> f64 {
        self.cpu.bytes_copied as f64 / self.messages.max(1) as f64
    }
    /// The busiest resource and its utilisation.
    pub fn bottleneck(&self) -> (&'static str, f64) {
        let all = [("cpu", self.thread_util()), ("nic", self.nic_util()), ("disk", self.disk_util())];
        all.into_iter().fold(("none", 0.0), |best, x| if x.1 > best.1 { x } else { best })
    }
}

fn sub(a: &CpuCounters, b: &CpuCounters) -> CpuCounters {
    CpuCounters {
        bytes_copied: a.bytes_copied - b.bytes_copied,
        dma_bytes: a.dma_bytes - b.dma_bytes,
        syscalls: a.syscalls - b.syscalls,
        mode_switches: a.mode_switches - b.mode_switches,
        context_switches: a.context_switches - b.context_switches,
        tcp_tx_bytes: a.tcp_tx_bytes - b.tcp_tx_bytes,
        tls_bytes: a.tls_bytes - b.tls_bytes,
        converted_bytes: a.converted_bytes - b.converted_bytes,
        busy_ns: a.busy_ns - b.busy_ns,
    }
}

/// Runs one case in a fresh simulated world.
pub fn run_case(s: &Settings, case: &Case) -> Result<CaseResult, String> {
    let mut cfg = WorldConfig::seeded(s.seed);
    cfg.profile = s.profile.clone();
    let s = s.clone();
    let case = *case;
    Sim::new(cfg).run(|world| async move {
        let partitions = if case.regime == Regime::DiskBound { case.consumers.max(1) } else { 1 };
        let props = vec![
            ("lab.fetch.send.path".to_string(), case.path.name().to_string()),
            ("lab.fetch.tls".to_string(), case.tls.to_string()),
        ];
        let leaders = start_cluster(&world, &["master"], &props, "bench", partitions, 1).await?;
        let per_partition = bulk_load(&world, "slave1", "bench", &leaders, case.message_bytes, s.bytes_per_partition).await?;
        let disk = world.disk("master").map_err(|e| e.to_string())?;
        let cpu = world.cpu("master").map_err(|e| e.to_string())?;
        if case.regime == Regime::DiskBound {
            disk.drop_caches();
        }
        if case.regime == Regime::CpuBound {
            let mut p = world.net().params();
            p.bandwidth_bps = s.fast_nic_bps;
            world.net().set_params(p);
        }
        // Let the follower-free broker settle (HW checkpoint etc.) before measuring.
        madsim::time::sleep(Duration::from_millis(100)).await;
        let (cpu0, disk0, nic0) = (cpu.counters(), disk.counters(), world.net().nic_bytes("master").0);
        let t0 = Instant::now();
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        for i in 0..case.consumers {
            let host = if i % 2 == 0 { "slave1" } else { "slave2" };
            let p = (i % partitions) as i32;
            let leader = leaders.get(&p).cloned().unwrap_or_else(|| "master".into());
            let tx = tx.clone();
            let fetch = s.fetch_bytes;
            world
                .spawn(host, "ConsumerPerformance", move |ctx: ProcCtx| async move {
                    let r = consume(&ctx, &leader, "bench", p, per_partition as i64, fetch).await;
                    let _ = tx.unbounded_send(r.map(|x| (x, Instant::now())));
                })
                .map_err(|e| e.to_string())?;
        }
        drop(tx);
        let (mut bytes, mut messages, mut end) = (0, 0, t0);
        use futures::StreamExt;
        while let Some(r) = rx.next().await {
            let ((b, m), t) = r?;
            bytes += b;
            messages += m;
            end = end.max(t);
        }
        let cpu1 = cpu.counters();
        let disk1 = disk.counters();
        let threads = 3; // num.network.threads, the 0.9 default the bench leaves alone
        Ok(CaseResult {
            case,
            elapsed: end - t0,
            bytes,
            messages,
            cpu: sub(&cpu1, &cpu0),
            cores: s.profile.cpu.cores,
            network_threads: threads,
            nic_bytes: world.net().nic_bytes("master").0 - nic0,
            nic_bps: world.net().params().bandwidth_bps,
            disk_busy: Duration::from_nanos(disk1.device_busy_ns - disk0.device_busy_ns),
            disk_read_bytes: disk1.reads_from_disk_bytes - disk0.reads_from_disk_bytes,
        })
    })
}

/// The cases of a bench run: each (regime, consumers, size, tls) once per send path.
pub fn plan(quick: bool, sizes: &[usize], consumers: &[u32]) -> Vec<Case> {
    let mut v = Vec::new();
    let mut push = |regime, tls, message_bytes, consumers| {
        for path in [SendPath::Sendfile, SendPath::ReadWrite] {
            v.push(Case { regime, path, tls, message_bytes, consumers });
        }
    };
    let most = consumers.iter().copied().max().unwrap_or(1);
    let size0 = sizes.first().copied().unwrap_or(1000);
    for &c in consumers {
        push(Regime::CpuBound, false, size0, c);
    }
    for &m in sizes.iter().skip(1) {
        push(Regime::CpuBound, false, m, most);
    }
    push(Regime::CpuBound, true, size0, most);
    for &c in consumers {
        push(Regime::NetworkBound, false, size0, c);
    }
    let cold: Vec<u32> = if quick { vec![most.min(4)] } else { consumers.iter().copied().filter(|&c| c <= 8).collect() };
    for c in cold {
        push(Regime::DiskBound, false, size0, c);
    }
    v
}
