//! Sending file bytes to a socket: the copy paths of zero-copy.
//!
//! A broker answering a fetch sends bytes of its log files to a socket. How it does so decides
//! who touches the bytes ([`SendPath`]):
//!
//! - **`sendfile`** (`FileChannel.transferTo`, Kafka's default): the kernel hands the NIC
//!   references to the page-cache pages; with a scatter-gather NIC (every server NIC since ~2008)
//!   the bytes go page cache → NIC by DMA. Per chunk: one system call (two user/kernel mode
//!   switches), the kernel's TCP work, no CPU copy.
//! - **`read+write`**: `read(2)` copies page cache → user buffer, `write(2)` copies user buffer →
//!   socket buffer, the NIC takes them by DMA. Per chunk: two system calls (four mode switches)
//!   and two CPU copies.
//!
//! Whatever the chosen path, a broker that must *change* the bytes loses zero-copy: TLS encrypts
//! them in user space (read, encrypt, write) and message-format down-conversion rewrites every
//! message (read, copy into a new buffer while recomputing CRCs, write). Both run the read+write
//! path plus their per-byte work.
//!
//! In both paths a page-cache miss makes the device load the page (DMA) while the thread blocks
//! (two thread context switches), and the NIC's time is charged by [`super::net`] when the
//! response is sent. Each chunk is at most the socket send buffer (Kafka's
//! `socket.send.buffer.bytes`): a non-blocking socket takes no more per call.
//!
//! ```
//! use sim_core::hw::send::{send_cost, SendPath, SendSpec};
//! use sim_core::hw::{Cpu, HardwareProfile};
//! let cpu_params = HardwareProfile::default().cpu;
//! let cost = |path| {
//!     let mut cpu = Cpu::new(cpu_params.clone());
//!     let spec = SendSpec { path, chunk_bytes: 102_400, ..SendSpec::default() };
//!     send_cost(&mut cpu, &spec, 0, &[(1_048_576, false)]);
//!     cpu.counters()
//! };
//! let (zero, rw) = (cost(SendPath::Sendfile), cost(SendPath::ReadWrite));
//! assert_eq!(zero.bytes_copied, 0);
//! assert_eq!(rw.bytes_copied, 2 * 1_048_576);
//! assert!(zero.busy_ns < rw.busy_ns);
//! ```
use super::cpu::Cpu;
use super::disk::{DiskError, HostDisk, IoCost};
use super::HostCpu;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How file bytes reach the socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SendPath {
    /// `sendfile(2)` (`FileChannel.transferTo`): page cache → NIC without CPU copies.
    #[default]
    Sendfile,
    /// `read(2)` into a user buffer, then `write(2)` to the socket: two CPU copies.
    ReadWrite,
}

impl SendPath {
    /// The name used in configs and tables.
    pub fn name(self) -> &'static str {
        match self {
            SendPath::Sendfile => "sendfile",
            SendPath::ReadWrite => "readwrite",
        }
    }
}

impl fmt::Display for SendPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A send path name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown send path `{0}` (expected sendfile or readwrite)")]
pub struct BadSendPath(pub String);

impl FromStr for SendPath {
    type Err = BadSendPath;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "sendfile" | "zerocopy" | "transferTo" => Ok(SendPath::Sendfile),
            "readwrite" | "read+write" | "read-write" => Ok(SendPath::ReadWrite),
            other => Err(BadSendPath(other.to_string())),
        }
    }
}

/// How one response is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSpec {
    /// The configured path.
    pub path: SendPath,
    /// The connection is TLS: bytes are encrypted in user space (zero-copy lost).
    pub tls: bool,
    /// The bytes are converted to an older message format first (zero-copy lost).
    pub down_convert: bool,
    /// Most bytes one system call moves (the socket send buffer).
    pub chunk_bytes: u64,
}

impl Default for SendSpec {
    fn default() -> Self {
        // Kafka 0.9's socket.send.buffer.bytes default.
        SendSpec { path: SendPath::Sendfile, tls: false, down_convert: false, chunk_bytes: 102_400 }
    }
}

impl SendSpec {
    /// The path actually taken: any transformation forces the bytes through user space.
    pub fn effective_path(&self) -> SendPath {
        if self.tls || self.down_convert {
            SendPath::ReadWrite
        } else {
            self.path
        }
    }
}

/// The CPU cost of sending `header_bytes` from a user buffer and then file ranges given as
/// `(bytes, missed)`, where `missed` says the page cache did not hold all of the range (the
/// thread blocks while the device loads it). Every piece of work is counted on `cpu`.
pub fn send_cost(
    cpu: &mut Cpu,
    spec: &SendSpec,
    header_bytes: u64,
    ranges: &[(u64, bool)],
) -> Duration {
    let mut d = Duration::ZERO;
    if header_bytes > 0 {
        // The response header: one write(2) from a user buffer (the same in every path).
        d += cpu.syscall()
            + cpu.memcpy(header_bytes)
            + cpu.tcp_tx(header_bytes)
            + cpu.dma(header_bytes);
    }
    let chunk = spec.chunk_bytes.max(1);
    let path = spec.effective_path();
    for &(len, missed) in ranges {
        if missed {
            // The first call blocks on the device; the thread sleeps and is woken again.
            d += cpu.context_switch() + cpu.context_switch();
        }
        let mut left = len;
        while left > 0 {
            let n = left.min(chunk);
            left -= n;
            d += match path {
                SendPath::Sendfile => {
                    // sendfile: page references handed to the NIC, which gathers them by DMA.
                    cpu.syscall() + cpu.tcp_tx(n) + cpu.dma(n)
                }
                SendPath::ReadWrite => {
                    // read(2): page cache → user buffer.
                    let mut c = cpu.syscall() + cpu.memcpy(n);
                    if spec.down_convert {
                        // A new message set: every message copied and its CRC recomputed.
                        c += cpu.memcpy(n) + cpu.convert(n);
                    }
                    if spec.tls {
                        c += cpu.tls_encrypt(n);
                    }
                    // write(2): user buffer → socket buffer; the NIC takes it by DMA.
                    c + cpu.syscall() + cpu.memcpy(n) + cpu.tcp_tx(n) + cpu.dma(n)
                }
            };
        }
    }
    d
}

/// A byte range of a file to send (Kafka's `FileMessageSet` slice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRange {
    /// File path on the host's disk.
    pub path: String,
    /// First byte.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

/// What a send cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    /// File bytes sent.
    pub bytes: u64,
    /// Of those, found in the page cache.
    pub cache_hit_bytes: u64,
    /// Of those, loaded by the device.
    pub cache_miss_bytes: u64,
    /// Device time (queued on the host's disk).
    pub device: Duration,
    /// CPU time (queued on the host's cores).
    pub cpu: Duration,
}

/// Sends `header_bytes` and the file `ranges` to a socket along `spec`: the page cache is
/// consulted (misses wait for the device), then the CPU work runs on the host's cores (on `lane`,
/// the sending thread, if given). Returns when the bytes are in the socket; the NIC's time is
/// charged when the message carrying them is sent.
pub async fn send_file_ranges(
    disk: &HostDisk,
    cpu: &HostCpu,
    lane: Option<&str>,
    spec: &SendSpec,
    header_bytes: u64,
    ranges: &[FileRange],
) -> Result<SendReport, DiskError> {
    let mut report = SendReport::default();
    let mut split = Vec::with_capacity(ranges.len());
    let mut device_bytes = 0;
    disk.with_disk(|d, now| -> Result<(), DiskError> {
        for r in ranges {
            let c = d.cache_read(now, &r.path, r.offset, r.len)?;
            report.bytes += c.hit_bytes + c.miss_bytes;
            report.cache_hit_bytes += c.hit_bytes;
            report.cache_miss_bytes += c.miss_bytes;
            report.device += c.device;
            device_bytes += c.device_bytes;
            split.push((c.hit_bytes + c.miss_bytes, c.miss_bytes > 0));
        }
        Ok(())
    })?;
    if !report.device.is_zero() {
        disk.occupy(IoCost { device: report.device, copy: Duration::ZERO }).await;
    }
    cpu.run(lane, |c| {
        // The device's DMA into the page cache.
        c.dma(device_bytes);
        report.cpu = send_cost(c, spec, header_bytes, &split);
        report.cpu
    })
    .await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::{CpuCounters, HardwareProfile};

    fn counters(spec: &SendSpec, ranges: &[(u64, bool)]) -> (Duration, CpuCounters) {
        let mut cpu = Cpu::new(HardwareProfile::default().cpu);
        let d = send_cost(&mut cpu, spec, 64, ranges);
        (d, cpu.counters())
    }

    const MB: u64 = 1 << 20;

    #[test]
    fn sendfile_copies_less_and_switches_less_than_read_write() {
        let zc = SendSpec { path: SendPath::Sendfile, ..SendSpec::default() };
        let rw = SendSpec { path: SendPath::ReadWrite, ..SendSpec::default() };
        let (dz, z) = counters(&zc, &[(MB, false)]);
        let (dr, r) = counters(&rw, &[(MB, false)]);
        // Only the 64-byte header is copied by the CPU with sendfile; read+write copies every
        // byte twice.
        assert_eq!(z.bytes_copied, 64);
        assert_eq!(r.bytes_copied, 64 + 2 * MB);
        // 1 MiB in 100 KiB chunks = 11 chunks: 1 + 11 syscalls against 1 + 22.
        assert_eq!((z.syscalls, r.syscalls), (12, 23));
        assert_eq!((z.mode_switches, r.mode_switches), (24, 46));
        // The NIC's DMA is the same; the data bytes go through the kernel's TCP path once in both.
        assert_eq!(z.dma_bytes, r.dma_bytes);
        assert_eq!(z.tcp_tx_bytes, r.tcp_tx_bytes);
        assert!(dz < dr, "{dz:?} < {dr:?}");
        // With the default profile the CPU time per byte differs by more than 2x.
        assert!(dr.as_nanos() > 2 * dz.as_nanos(), "{dz:?} vs {dr:?}");
    }

    #[test]
    fn tls_removes_the_advantage() {
        let zc = SendSpec { path: SendPath::Sendfile, tls: true, ..SendSpec::default() };
        let rw = SendSpec { path: SendPath::ReadWrite, tls: true, ..SendSpec::default() };
        let (dz, z) = counters(&zc, &[(MB, false)]);
        let (dr, r) = counters(&rw, &[(MB, false)]);
        assert_eq!(dz, dr);
        assert_eq!(z, r);
        assert_eq!(z.tls_bytes, MB);
        // And it costs more than plain read+write.
        let (plain, _) = counters(
            &SendSpec { path: SendPath::ReadWrite, ..SendSpec::default() },
            &[(MB, false)],
        );
        assert!(dr > plain);
    }

    #[test]
    fn down_conversion_forces_read_write_and_an_extra_copy() {
        let spec = SendSpec { path: SendPath::Sendfile, down_convert: true, ..SendSpec::default() };
        assert_eq!(spec.effective_path(), SendPath::ReadWrite);
        let (_, c) = counters(&spec, &[(MB, false)]);
        assert_eq!(c.bytes_copied, 64 + 3 * MB);
        assert_eq!(c.converted_bytes, MB);
    }

    #[test]
    fn a_cache_miss_blocks_the_thread_in_both_paths() {
        for path in [SendPath::Sendfile, SendPath::ReadWrite] {
            let spec = SendSpec { path, ..SendSpec::default() };
            let (_, hot) = counters(&spec, &[(MB, false)]);
            let (_, cold) = counters(&spec, &[(MB, true)]);
            assert_eq!((hot.context_switches, cold.context_switches), (0, 2), "{path}");
        }
    }

    #[test]
    fn path_names_parse() {
        assert_eq!("sendfile".parse(), Ok(SendPath::Sendfile));
        assert_eq!("read+write".parse(), Ok(SendPath::ReadWrite));
        assert_eq!("readwrite".parse(), Ok(SendPath::ReadWrite));
        assert!("mmap".parse::<SendPath>().is_err());
        assert_eq!(SendPath::ReadWrite.to_string(), "readwrite");
    }

    #[test]
    fn sending_reads_the_page_cache_and_queues_on_the_cpu() {
        let rt = madsim::runtime::Runtime::new();
        rt.block_on(async {
            let p = HardwareProfile::default();
            let disk = HostDisk::from_profile(&p);
            let cpu = HostCpu::new(p.cpu.clone());
            disk.install("/log", &vec![7u8; MB as usize]);
            let r = [FileRange { path: "/log".into(), offset: 0, len: MB }];
            let spec = SendSpec::default();
            let t0 = madsim::time::Instant::now();
            // Installed files are not cached: the first send reads from the device.
            let cold = send_file_ranges(&disk, &cpu, None, &spec, 0, &r).await.expect("send");
            assert_eq!((cold.cache_hit_bytes, cold.cache_miss_bytes), (0, MB));
            assert!(cold.device > Duration::ZERO);
            let hot = send_file_ranges(&disk, &cpu, None, &spec, 0, &r).await.expect("send");
            assert_eq!((hot.cache_hit_bytes, hot.cache_miss_bytes), (MB, 0));
            assert_eq!(hot.device, Duration::ZERO);
            // madsim advances its clock by a few ns per poll.
            let took = madsim::time::Instant::now() - t0;
            let want = cold.device + cold.cpu + hot.cpu;
            assert!(took >= want && took < want + Duration::from_micros(1), "{took:?} vs {want:?}");
            assert_eq!(cpu.counters().dma_bytes, 3 * MB);
            // A missing file is an error, not a panic.
            let bad = [FileRange { path: "/nope".into(), offset: 0, len: 1 }];
            assert!(send_file_ranges(&disk, &cpu, None, &spec, 0, &bad).await.is_err());
        });
    }
}
