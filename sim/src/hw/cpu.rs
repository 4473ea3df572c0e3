//! CPU cost model: what copying bytes, entering the kernel and switching threads cost a host.
//!
//! Pure arithmetic over [`CpuParams`]; each call returns the cost for the caller to sleep (or add
//! to a larger cost) and is counted, so a lesson can show where the CPU time went.
use super::profile::CpuParams;
use std::time::Duration;

/// Per-host CPU counters.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CpuCounters {
    /// Bytes copied by the CPU.
    pub bytes_copied: u64,
    /// System calls.
    pub syscalls: u64,
    /// Context switches.
    pub context_switches: u64,
    /// Total CPU time charged so far, ns.
    pub busy_ns: u64,
}

/// A host's CPU.
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

    /// Cost of one system call; counted.
    pub fn syscall(&mut self) -> Duration {
        self.counters.syscalls += 1;
        self.charge(Duration::from_nanos(self.params.syscall_ns))
    }

    /// Cost of one context switch; counted.
    pub fn context_switch(&mut self) -> Duration {
        self.counters.context_switches += 1;
        self.charge(Duration::from_nanos(self.params.context_switch_ns))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> CpuParams {
        CpuParams {
            cores: 6,
            ghz: 2.5,
            memcpy_bytes_per_sec: 5_000_000_000,
            syscall_ns: 100,
            context_switch_ns: 3_000,
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
    }

    #[test]
    fn counters_accumulate() {
        let mut cpu = Cpu::new(params());
        cpu.memcpy(1_000_000);
        cpu.memcpy(4_000_000);
        cpu.syscall();
        cpu.syscall();
        cpu.context_switch();
        let c = cpu.counters();
        assert_eq!(c.bytes_copied, 5_000_000);
        assert_eq!(c.syscalls, 2);
        assert_eq!(c.context_switches, 1);
        assert_eq!(c.busy_ns, 1_000_000 + 200 + 3_000);
    }

    #[test]
    fn zero_rate_does_not_panic() {
        let mut cpu = Cpu::new(CpuParams { memcpy_bytes_per_sec: 0, ..params() });
        assert_eq!(cpu.memcpy(2), Duration::from_secs(2));
    }
}
