//! CPU cost model: what copying bytes, entering the kernel and switching threads cost a host.
//!
//! [`Cpu`] is pure arithmetic over [`CpuParams`]: each call returns the cost of one kind of work
//! and counts it, so a lesson can show where the CPU time went. [`HostCpu`] is the async handle a
//! host's processes share: a job (the sum of such costs) runs on the first free core, optionally
//! on a named *lane* (one thread, e.g. one of Kafka's network threads) that runs one job at a time,
//! and the caller sleeps until it is done. With more work than cores, jobs queue: CPU saturation is
//! not a parameter, it emerges.
//!
//! ```
//! use sim_core::hw::{HardwareProfile, HostCpu};
//! let rt = madsim::runtime::Runtime::new();
//! rt.block_on(async {
//!     let cpu = HostCpu::new(HardwareProfile::default().cpu);
//!     // read(2) + write(2) of 64 KiB: two system calls and two copies by the CPU.
//!     cpu.run(None, |c| c.syscall() + c.memcpy(65_536) + c.syscall() + c.memcpy(65_536)).await;
//!     let n = cpu.counters();
//!     assert_eq!((n.syscalls, n.mode_switches, n.bytes_copied), (2, 4, 131_072));
//! });
//! ```
use super::profile::CpuParams;
use madsim::time::Instant;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Per-host CPU counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CpuCounters {
    /// Bytes copied by the CPU (memcpy, copy_to_user, copy_from_user).
    pub bytes_copied: u64,
    /// Bytes moved by DMA engines (disk controller into the page cache, memory to the NIC): no
    /// CPU time, counted to show where the bytes went.
    pub dma_bytes: u64,
    /// System calls.
    pub syscalls: u64,
    /// User/kernel mode switches: two per system call (in and out). This is what the zero-copy
    /// literature calls "context switches" (read+write: 4, sendfile: 2).
    pub mode_switches: u64,
    /// Thread context switches (a thread blocks, e.g. on a disk read, and is woken later).
    pub context_switches: u64,
    /// Bytes pushed through the kernel's TCP transmit path.
    pub tcp_tx_bytes: u64,
    /// Bytes encrypted for TLS.
    pub tls_bytes: u64,
    /// Bytes converted to another message format (checksums recomputed).
    pub converted_bytes: u64,
    /// Total CPU time charged so far, ns.
    pub busy_ns: u64,
}

/// A host's CPU: the cost arithmetic and its counters.
#[derive(Debug, Clone)]
pub struct Cpu {
    params: CpuParams,
    counters: CpuCounters,
}

/// Time to move `bytes` at `bytes_per_sec`, rounded up to the nanosecond so that no work is free.
pub(crate) fn transfer_time(bytes: u64, bytes_per_sec: u64) -> Duration {
    if bytes == 0 {
        return Duration::ZERO;
    }
    // A zero rate in a hand-written profile would divide by zero; treat it as 1 byte/s (very slow)
    // rather than panic.
    let rate = u128::from(bytes_per_sec.max(1));
    let ns = (u128::from(bytes) * 1_000_000_000).div_ceil(rate);
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

impl Cpu {
    /// A CPU with these parameters.
    pub fn new(params: CpuParams) -> Self {
        Cpu { params, counters: CpuCounters::default() }
    }

    /// The parameters.
    pub fn params(&self) -> &CpuParams {
        &self.params
    }

    /// Cost of copying `bytes` with the CPU (`bytes / memcpy_bytes_per_sec`); counted.
    pub fn memcpy(&mut self, bytes: u64) -> Duration {
        let d = transfer_time(bytes, self.params.memcpy_bytes_per_sec);
        self.counters.bytes_copied += bytes;
        self.charge(d)
    }

    /// Bytes moved by a DMA engine: free for the CPU, counted.
    pub fn dma(&mut self, bytes: u64) -> Duration {
        self.counters.dma_bytes += bytes;
        Duration::ZERO
    }

    /// Cost of one system call (two mode switches); counted.
    pub fn syscall(&mut self) -> Duration {
        self.counters.syscalls += 1;
        self.counters.mode_switches += 2;
        self.charge(Duration::from_nanos(self.params.syscall_ns))
    }

    /// Cost of one thread context switch; counted.
    pub fn context_switch(&mut self) -> Duration {
        self.counters.context_switches += 1;
        self.charge(Duration::from_nanos(self.params.context_switch_ns))
    }

    /// Cost of the kernel's TCP transmit work for `bytes` that are not copied (page references,
    /// segmentation, ACKs); counted.
    pub fn tcp_tx(&mut self, bytes: u64) -> Duration {
        self.counters.tcp_tx_bytes += bytes;
        let d = transfer_time(bytes, self.params.tcp_tx_bytes_per_sec);
        self.charge(d)
    }

    /// Cost of encrypting `bytes` for TLS; counted.
    pub fn tls_encrypt(&mut self, bytes: u64) -> Duration {
        self.counters.tls_bytes += bytes;
        let d = transfer_time(bytes, self.params.tls_bytes_per_sec);
        self.charge(d)
    }

    /// Cost of converting `bytes` of messages to another format: the CRC32 of every message is
    /// recomputed (the copy into the new buffer is charged separately with [`Cpu::memcpy`]).
    pub fn convert(&mut self, bytes: u64) -> Duration {
        self.counters.converted_bytes += bytes;
        let d = transfer_time(bytes, self.params.crc32_bytes_per_sec);
        self.charge(d)
    }

    /// Counters so far.
    pub fn counters(&self) -> CpuCounters {
        self.counters.clone()
    }

    fn charge(&mut self, d: Duration) -> Duration {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counters.busy_ns = self.counters.busy_ns.saturating_add(ns);
        d
    }
}

#[derive(Debug)]
struct CpuState {
    cpu: Cpu,
    /// When each core finishes the work already given to it.
    cores: Vec<Option<Instant>>,
    /// When each lane (thread) finishes its current job.
    lanes: BTreeMap<String, Instant>,
}

/// A host's CPU shared by its processes: jobs run on `cores` cores, in the order they arrive.
#[derive(Debug, Clone)]
pub struct HostCpu {
    inner: Arc<Mutex<CpuState>>,
    /// Virtual time, read on every job.
    clock: super::Clock,
}

impl HostCpu {
    /// An idle CPU.
    pub fn new(params: CpuParams) -> Self {
        let cores = vec![None; params.cores.max(1) as usize];
        HostCpu {
            inner: Arc::new(Mutex::new(CpuState {
                cpu: Cpu::new(params),
                cores,
                lanes: BTreeMap::new(),
            })),
            clock: super::Clock::current(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CpuState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The parameters.
    pub fn params(&self) -> CpuParams {
        self.lock().cpu.params().clone()
    }

    /// Counters so far.
    pub fn counters(&self) -> CpuCounters {
        self.lock().cpu.counters()
    }

    /// Number of cores.
    pub fn cores(&self) -> usize {
        self.lock().cores.len()
    }

    /// Reserves a job costing what `cost` returns on the first free core (and after the lane's
    /// previous job, if a lane is named); returns when it will be done. No sleeping: for callers
    /// that combine it with other waits.
    pub fn reserve(&self, lane: Option<&str>, cost: impl FnOnce(&mut Cpu) -> Duration) -> Instant {
        let now = self.clock.now();
        let mut st = self.lock();
        let d = cost(&mut st.cpu);
        if d.is_zero() {
            return now;
        }
        let lane_free = lane.and_then(|l| st.lanes.get(l).copied()).unwrap_or(now).max(now);
        // The core that frees up first (ties: the lowest number, so the choice is deterministic).
        let (idx, core_free) = st
            .cores
            .iter()
            .enumerate()
            .map(|(i, f)| (i, f.map_or(now, |t| t.max(now))))
            .min_by_key(|&(i, t)| (t, i))
            .unwrap_or((0, now));
        let start = lane_free.max(core_free);
        let done = start + d;
        if let Some(c) = st.cores.get_mut(idx) {
            *c = Some(done);
        }
        if let Some(l) = lane {
            // No new key (an allocation) for a lane seen before.
            match st.lanes.get_mut(l) {
                Some(t) => *t = done,
                None => {
                    st.lanes.insert(l.to_string(), done);
                }
            }
        }
        done
    }

    /// Runs a job costing what `cost` returns (see [`HostCpu::reserve`]) and sleeps until it is done.
    pub async fn run(&self, lane: Option<&str>, cost: impl FnOnce(&mut Cpu) -> Duration) {
        let done = self.reserve(lane, cost);
        self.clock.sleep_until_exact(done).await;
    }

    /// A power loss: queued work vanishes with the processes (counters are kept).
    pub fn reset(&self) {
        let mut st = self.lock();
        st.cores.iter_mut().for_each(|c| *c = None);
        st.lanes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn params() -> CpuParams {
        CpuParams {
            cores: 6,
            ghz: 2.5,
            memcpy_bytes_per_sec: 5_000_000_000,
            syscall_ns: 100,
            context_switch_ns: 3_000,
            tcp_tx_bytes_per_sec: 4_000_000_000,
            tls_bytes_per_sec: 400_000_000,
            crc32_bytes_per_sec: 2_000_000_000,
        }
    }

    #[test]
    fn memcpy_is_bytes_over_bandwidth() {
        let mut cpu = Cpu::new(params());
        assert_eq!(cpu.memcpy(5_000_000_000), Duration::from_secs(1));
        assert_eq!(cpu.memcpy(1_000_000), Duration::from_micros(200));
        assert_eq!(cpu.memcpy(0), Duration::ZERO);
        // Rounded up: one byte is never free.
        assert_eq!(cpu.memcpy(1), Duration::from_nanos(1));
    }

    #[test]
    fn syscall_and_context_switch_costs() {
        let mut cpu = Cpu::new(params());
        assert_eq!(cpu.syscall(), Duration::from_nanos(100));
        assert_eq!(cpu.context_switch(), Duration::from_micros(3));
        let c = cpu.counters();
        assert_eq!((c.syscalls, c.mode_switches, c.context_switches), (1, 2, 1));
    }

    #[test]
    fn counters_accumulate() {
        let mut cpu = Cpu::new(params());
        cpu.memcpy(1_000_000);
        cpu.memcpy(4_000_000);
        cpu.syscall();
        cpu.syscall();
        cpu.context_switch();
        assert_eq!(cpu.dma(7), Duration::ZERO);
        let c = cpu.counters();
        assert_eq!(c.bytes_copied, 5_000_000);
        assert_eq!(c.dma_bytes, 7);
        assert_eq!(c.syscalls, 2);
        assert_eq!(c.context_switches, 1);
        assert_eq!(c.busy_ns, 1_000_000 + 200 + 3_000);
    }

    #[test]
    fn tls_and_conversion_are_per_byte() {
        let mut cpu = Cpu::new(params());
        assert_eq!(cpu.tls_encrypt(400_000_000), Duration::from_secs(1));
        assert_eq!(cpu.convert(2_000_000), Duration::from_millis(1));
        assert_eq!(cpu.tcp_tx(4_000_000), Duration::from_millis(1));
    }

    #[test]
    fn zero_rate_does_not_panic() {
        let mut cpu = Cpu::new(CpuParams { memcpy_bytes_per_sec: 0, ..params() });
        assert_eq!(cpu.memcpy(2), Duration::from_secs(2));
    }

    #[test]
    fn jobs_queue_when_cores_are_busy() {
        let rt = madsim::runtime::Runtime::new();
        rt.block_on(async {
            let cpu = HostCpu::new(CpuParams { cores: 2, ..params() });
            let t0 = Instant::now();
            let ms = Duration::from_millis(1);
            // Three 1 ms jobs on two cores: the third waits for a core.
            let done: Vec<Duration> = (0..3).map(|_| cpu.reserve(None, |_| ms) - t0).collect();
            assert_eq!(done, [ms, ms, 2 * ms]);
            // A lane runs one job at a time even with free cores.
            let cpu = HostCpu::new(CpuParams { cores: 4, ..params() });
            let done: Vec<Duration> =
                (0..3).map(|_| cpu.reserve(Some("net-0"), |_| ms) - t0).collect();
            assert_eq!(done, [ms, 2 * ms, 3 * ms]);
            cpu.run(None, |_| ms).await;
            // madsim advances its clock by a few ns per poll, so "exactly" means within a µs.
            let took = Instant::now() - t0;
            assert!(took >= ms && took < ms + Duration::from_micros(1), "{took:?}");
        });
    }
}
