//! `lab bench host-zerocopy`: a real measurement on this machine, outside the simulation.
//!
//! The same temporary file (hot in the page cache) goes to a 127.0.0.1 socket through
//! `sendfile(2)` and through `read(2)` + `write(2)`; a receiver thread drains the socket. For each
//! file size both methods run back to back, bounded in bytes and in time, and the table shows
//! measured throughput, the sender thread's CPU time per GB (`getrusage(RUSAGE_THREAD)`) and the
//! ratio. Loopback only, Linux only.

use anyhow::{bail, Result};

/// Options of `lab bench host-zerocopy`.
pub struct HostOpts {
    /// File sizes to send.
    pub sizes: Vec<usize>,
    /// Most bytes sent per (size, method).
    pub max_bytes: u64,
    /// Most seconds per (size, method).
    pub max_secs: f64,
}

/// One measurement.
#[derive(Debug, Clone)]
pub struct HostRow {
    pub method: &'static str,
    pub bytes: u64,
    pub secs: f64,
    pub cpu_secs: f64,
    pub syscalls: u64,
}

impl HostRow {
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.secs.max(1e-9)
    }
    pub fn cpu_secs_per_gb(&self) -> f64 {
        self.cpu_secs / (self.bytes.max(1) as f64 / 1e9)
    }
}

#[cfg(not(target_os = "linux"))]
pub fn host_zerocopy(_o: &HostOpts) -> Result<i32> {
    bail!("lab bench host-zerocopy needs Linux (sendfile(2) and getrusage(RUSAGE_THREAD)); this is {}", std::env::consts::OS)
}

#[cfg(target_os = "linux")]
pub fn host_zerocopy(o: &HostOpts) -> Result<i32> {
    if o.sizes.is_empty() {
        bail!("no sizes given");
    }
    if o.max_bytes == 0 || !(o.max_secs > 0.0 && o.max_secs <= 10.0) {
        bail!("--max-bytes must be positive and --max-secs in (0, 10]");
    }
    if let Some(s) = o.sizes.iter().find(|&&s| s as u64 > 256 << 20) {
        bail!("file size {s} is over the 256 MiB limit of this bench");
    }
    println!(
        "lab bench host-zerocopy — REAL measurement on this machine (not simulated): 127.0.0.1, hot page cache, \
         ≤ {} MiB and ≤ {:.2} s per row",
        o.max_bytes >> 20,
        o.max_secs
    );
    println!();
    println!(
        "{:>9}  {:<10} {:>10} {:>8} {:>10} {:>12} {:>14} {:>10} {:>9}",
        "file",
        "method",
        "sent",
        "secs",
        "MB/s",
        "syscalls",
        "CPU s per GB",
        "MB/s ratio",
        "CPU ratio"
    );
    for &size in &o.sizes {
        let pair = linux::measure_size(size, o.max_bytes, o.max_secs)?;
        let ratio = pair[0].mb_per_sec() / pair[1].mb_per_sec().max(1e-9);
        // CPU time per GB can round to zero on tiny runs (the kernel accounts in ticks).
        let cpu_ratio = if pair[0].cpu_secs > 0.0 && pair[1].cpu_secs > 0.0 {
            format!("{:.2}x", pair[1].cpu_secs_per_gb() / pair[0].cpu_secs_per_gb())
        } else {
            "-".to_string()
        };
        for (i, r) in pair.iter().enumerate() {
            println!(
                "{:>9}  {:<10} {:>9.1}M {:>8.3} {:>10.0} {:>12} {:>14.3} {:>10} {:>9}",
                if i == 0 { human(size) } else { String::new() },
                r.method,
                r.bytes as f64 / 1e6,
                r.secs,
                r.mb_per_sec(),
                r.syscalls,
                r.cpu_secs_per_gb(),
                if i == 1 { format!("{ratio:.2}x") } else { String::new() },
                if i == 1 { cpu_ratio.clone() } else { String::new() }
            );
        }
    }
    println!();
    println!("MB/s ratio = sendfile MB/s ÷ read+write MB/s; CPU ratio = read+write CPU s per GB ÷ sendfile's, where CPU s per");
    println!("GB is the sending thread's user+system time (getrusage).");
    println!("The receiver copies every byte out of its socket in both rows, which bounds the gain on loopback.");
    Ok(0)
}

fn human(b: usize) -> String {
    if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
        format!("{}MiB", b >> 20)
    } else if b >= 1 << 10 && b.is_multiple_of(1 << 10) {
        format!("{}KiB", b >> 10)
    } else {
        format!("{b}B")
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::HostRow;
    use anyhow::{bail, Context, Result};
    use std::fs::File;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    /// The calling thread's user + system CPU time, seconds.
    fn thread_cpu() -> f64 {
        // SAFETY: getrusage writes into the struct we pass and reads nothing else.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
        if rc != 0 {
            return 0.0;
        }
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        tv(ru.ru_utime) + tv(ru.ru_stime)
    }

    /// A temporary file removed on drop.
    struct TempFile(std::path::PathBuf);
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// A receiver that drains one connection; returns the bytes it read when the sender closes.
    fn receiver() -> Result<(u16, std::thread::JoinHandle<u64>)> {
        let l = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1")?;
        let port = l.local_addr()?.port();
        let h = std::thread::spawn(move || {
            let Ok((mut s, _)) = l.accept() else { return 0 };
            let mut buf = vec![0u8; 256 << 10];
            let mut n = 0u64;
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return n,
                    Ok(k) => n += k as u64,
                }
            }
        });
        Ok((port, h))
    }

    fn send_sendfile(sock: &TcpStream, file: &File, size: usize) -> Result<u64> {
        let mut off: libc::off_t = 0;
        let mut calls = 0;
        while (off as usize) < size {
            // SAFETY: both descriptors are open for the duration of the call; `off` is ours.
            let n = unsafe {
                libc::sendfile(sock.as_raw_fd(), file.as_raw_fd(), &mut off, size - off as usize)
            };
            calls += 1;
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e).context("sendfile");
            }
            if n == 0 {
                break;
            }
        }
        Ok(calls)
    }

    fn send_read_write(sock: &mut TcpStream, file: &mut File, buf: &mut [u8]) -> Result<u64> {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))?;
        let mut calls = 0;
        loop {
            let n = file.read(buf).context("read")?;
            calls += 1;
            if n == 0 {
                return Ok(calls);
            }
            sock.write_all(&buf[..n]).context("write")?;
            calls += 1;
        }
    }

    /// Both methods for one file size: sendfile first, then read+write.
    pub fn measure_size(size: usize, max_bytes: u64, max_secs: f64) -> Result<[HostRow; 2]> {
        let path = std::env::temp_dir()
            .join(format!("lab-host-zerocopy-{}-{size}.dat", std::process::id()));
        let _guard = TempFile(path.clone());
        {
            let mut f =
                File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            let chunk: Vec<u8> = (0..(1 << 16)).map(|i| (i % 251) as u8).collect();
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len());
                f.write_all(&chunk[..n])?;
                left -= n;
            }
        }
        // Warm the page cache.
        let mut warm = Vec::with_capacity(size);
        File::open(&path)?.read_to_end(&mut warm)?;
        drop(warm);
        // The two methods alternate in rounds, so a burst of other load on the machine hits both.
        const ROUNDS: u32 = 4;
        let limit = Duration::from_secs_f64(max_secs / f64::from(ROUNDS));
        let round_bytes = (max_bytes / u64::from(ROUNDS)).max(1);
        let mut rows: Vec<HostRow> = ["sendfile", "read+write"]
            .into_iter()
            .map(|method| HostRow { method, bytes: 0, secs: 0.0, cpu_secs: 0.0, syscalls: 0 })
            .collect();
        let mut buf = vec![0u8; 128 << 10];
        for _ in 0..ROUNDS {
            for row in rows.iter_mut() {
                let (port, rx) = receiver()?;
                let mut sock =
                    TcpStream::connect(("127.0.0.1", port)).context("connecting to 127.0.0.1")?;
                let mut file = File::open(&path)?;
                let (mut sent, mut calls) = (0u64, 0u64);
                let cpu0 = thread_cpu();
                let t0 = Instant::now();
                // At least one whole file, then until the byte or time budget runs out.
                while sent == 0 || (sent + size as u64 <= round_bytes && t0.elapsed() < limit) {
                    calls += if row.method == "sendfile" {
                        send_sendfile(&sock, &file, size)?
                    } else {
                        send_read_write(&mut sock, &mut file, &mut buf)?
                    };
                    sent += size as u64;
                }
                sock.shutdown(std::net::Shutdown::Write)?;
                let cpu = thread_cpu() - cpu0;
                let got = rx.join().unwrap_or(0);
                let secs = t0.elapsed().as_secs_f64();
                if got != sent {
                    bail!("the receiver got {got} bytes of {sent}");
                }
                row.bytes += sent;
                row.secs += secs;
                row.cpu_secs += cpu;
                row.syscalls += calls;
            }
        }
        let mut it = rows.into_iter();
        match (it.next(), it.next()) {
            (Some(a), Some(b)) => Ok([a, b]),
            _ => bail!("measurement incomplete"),
        }
    }
}
