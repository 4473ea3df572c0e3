//! CPU cost model. STUB: replaced by the hw helper.
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
}

/// A host's CPU.
#[derive(Debug, Clone)]
pub struct Cpu {
    params: CpuParams,
    counters: CpuCounters,
}

impl Cpu {
    /// A CPU with these parameters.
    pub fn new(params: CpuParams) -> Self {
        Cpu { params, counters: CpuCounters::default() }
    }
    /// Cost of copying `bytes` with the CPU; counted.
    pub fn memcpy(&mut self, bytes: u64) -> Duration {
        let _ = &self.params;
        self.counters.bytes_copied += bytes;
        Duration::ZERO
    }
    /// Counters so far.
    pub fn counters(&self) -> CpuCounters {
        self.counters.clone()
    }
}
