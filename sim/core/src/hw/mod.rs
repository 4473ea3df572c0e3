//! The hardware model: every cost a protocol pays comes from here.
//!
//! Protocol code (ZooKeeper, Kafka) talks to a virtual NIC ([`net`]), a virtual disk ([`disk`]) and
//! a CPU cost model ([`cpu`]). The parameters come from a named [`profile`] file, never from
//! constants in protocol code, so a lesson can switch profiles and see the effect.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! The hardware model; protocol code only calls it. Parameters come from a named profile
//! (`hw/profiles/*.toml`: `commodity-2014` by default, `commodity-2011`, `laptop-2024`), each number
//! with its source.
//!
//! - `net.rs`: `Net`, `Listener<T>`, `Conn<T>`. A message of type `T: Wire` is charged its
//!   `wire_size()` on the sender's NIC (bytes / bandwidth), flies one latency (minimum plus an
//!   exponential tail, plus an RTO when the RNG says a segment was lost), and is charged again on
//!   the receiver's NIC. Connections are ordered and reliable like TCP: a partition *holds* data until
//!   heal (or breaks the connection after `tcp_give_up_ms`), a dying process sends FIN, a crashed host
//!   is silent and its reboot answers old connections with RST. A partition may be scoped to one
//!   port (`block_port`, `lab partition A | B --port 9092`): a connection knows its server's
//!   listening port, and only connections to that port are held, in both directions — an iptables
//!   rule on one service. Every seed host runs both a ZooKeeper server and a broker, so this is how a
//!   scenario cuts Kafka's replication while ZooKeeper sessions stay alive. This is why ZooKeeper's own timeouts
//!   (`syncLimit`, session timeouts) decide what happens, as on real machines.
//! - `disk.rs`: `Disk` (a synchronous model returning costs) and `HostDisk` (shared by a host's
//!   processes, sleeping for the cost, one device queue). Page cache with LRU, write-back after
//!   `dirty_expire_ms`, fsync cost from seeks and dirty bytes, ENOSPC, and `crash()`.
//!   `content.rs` stores a file's bytes as shared `bytes::Bytes` pieces plus a small owned tail: the
//!   durable view shares the page cache's pieces, and a follower appending what it fetched
//!   (`Log::append_fetched`, `append_shared`) keeps the leader's buffer rather than a copy. This
//!   shares the *simulator's* memory only; every copy is still charged to each host.
//! - `cpu.rs`: `Cpu` (memcpy, syscalls with their two user/kernel mode switches, thread context
//!   switches, the kernel's TCP send work, TLS and CRC32 per byte, DMA bytes — all counted) and
//!   `HostCpu`, the host's cores as a queue: a job runs on the first free core, optionally on a
//!   *lane* (one thread, e.g. one of Kafka's `num.network.threads`) that runs one job at a time, so
//!   CPU saturation emerges from load.
//! - `send.rs`: the copy paths of zero-copy. `send_file_ranges` is what a broker calls to send log
//!   bytes to a socket along `SendPath::Sendfile` (page cache → NIC by DMA, one syscall per
//!   socket-buffer chunk) or `SendPath::ReadWrite` (two CPU copies, two syscalls per chunk); TLS and
//!   down-conversion force the second with their per-byte work. It consults the page cache
//!   (`Disk::cache_read`: hits, misses, device time on the disk queue), then charges the CPU.
//! - `mod.rs`: `sleep_until_exact` — madsim's `sleep` never sleeps under 1 ms, which would hide every
//!   microsecond cost, so the models use `Sleep::reset`. `Deadline`/`until` — madsim's
//!   `Sleep` adds a timer to its heap on every pending poll and never removes one, so waits that are
//!   woken often (a delayed fetch, a request timeout around a receive) register one timer per waker.
//!   `TimeoutTimer` goes further for successive timeouts of one owner (a connection's reads, a
//!   broker's delayed fetches and acks=all produces): a task's new wait relies on the timer it already
//!   has pending when that one goes off first, and arms its own only when it does, so a request
//!   answered in a millisecond no longer leaves its 30-second timer in the heap. Deadlines are exact.
//!   `Clock`/`now()` read virtual time from a kept madsim `TimeHandle` rather than through
//!   `Instant::now()` and madsim's `clock_gettime` hook (the same instant, a third of the work); the
//!   network, disks and CPUs each keep one.

mod content;
pub mod cpu;
pub mod disk;
pub mod net;
pub mod profile;
pub mod send;

pub use cpu::{Cpu, CpuCounters, HostCpu};
pub use disk::{CacheRead, Disk, DiskCounters, DiskError, HostDisk};
pub use net::{Conn, LinkParams, Listener, Net, NetError, Wire};
pub use profile::{CpuParams, DiskParams, HardwareProfile, NetParams, ProfileError};
pub use send::{SendPath, SendSpec};

use madsim::time::{Instant, TimeHandle};

/// The virtual clock, read through a handle kept by a long-lived object (the network, a disk).
///
/// `Instant::now()` under madsim goes through its `clock_gettime` hook: a thread-local lookup, two
/// reference-count round trips and a timespec conversion on every call. A kept handle reads the
/// same clock directly. Made outside a runtime, it falls back to the runtime current at each call.
#[derive(Clone)]
pub struct Clock {
    time: Option<TimeHandle>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").finish_non_exhaustive()
    }
}

impl Clock {
    /// The clock of the runtime current now (if any).
    pub fn current() -> Self {
        Clock { time: TimeHandle::try_current() }
    }

    /// Virtual now, as `Instant::now()` reads it.
    pub fn now(&self) -> Instant {
        self.time.as_ref().map_or_else(now, TimeHandle::now_instant)
    }

    /// Virtual time since the simulation started (zero outside a runtime).
    pub fn elapsed(&self) -> std::time::Duration {
        match &self.time {
            Some(t) => t.elapsed(),
            None => TimeHandle::try_current().map_or(std::time::Duration::ZERO, |h| h.elapsed()),
        }
    }

    /// [`sleep_until_exact`] on this clock.
    pub async fn sleep_until_exact(&self, deadline: Instant) {
        match &self.time {
            Some(t) => sleep_until_exact_on(t, deadline).await,
            None => sleep_until_exact(deadline).await,
        }
    }
}

/// Virtual now: what `Instant::now()` returns inside a runtime, without going through madsim's
/// `clock_gettime` hook and its timespec conversions (about a third of the instructions). Code that
/// keeps a [`Net`] or a [`Clock`] reads it cheaper still with [`Net::now`] / [`Clock::now`].
pub fn now() -> Instant {
    match TimeHandle::try_current() {
        Some(t) => t.now_instant(),
        None => Instant::now(),
    }
}

/// Sleeps until `deadline` exactly. `madsim::time::sleep_until` never sleeps less than 1 ms,
/// which would hide every microsecond cost of the model; `Sleep::reset` has no such floor.
pub async fn sleep_until_exact(deadline: Instant) {
    sleep_until_exact_on(&TimeHandle::current(), deadline).await;
}

async fn sleep_until_exact_on(time: &TimeHandle, deadline: Instant) {
    if time.now_instant() >= deadline {
        return;
    }
    let mut s = time.sleep_until(deadline);
    std::pin::Pin::new(&mut s).reset(deadline);
    s.await;
}

/// Sleeps for `d` exactly (see [`sleep_until_exact`]).
pub async fn sleep_exact(d: std::time::Duration) {
    sleep_until_exact(TimeHandle::current().now_instant() + d).await;
}

/// A wait until an instant that puts one timer into madsim's timer heap however often it is
/// polled. madsim's `Sleep` adds a timer on every pending poll and never removes one, so a long
/// wait that is polled on every wake-up of its task (a delayed fetch woken by each append, a
/// request timeout around a receive woken by each network hop) would pile timers up; this one
/// polls its `Sleep` again only when the task's waker changes.
pub struct Deadline {
    /// `Sleep` is `Unpin` (a handle and an instant): no box needed.
    sleep: madsim::time::Sleep,
    registered: Option<std::task::Waker>,
}

impl Deadline {
    /// Elapses at `at`, or 1 ms from now if that is later (`madsim::time::timeout`'s floor).
    pub fn at(at: Instant) -> Self {
        let (_, sleep) = floored_sleep(&TimeHandle::current(), at);
        Deadline { sleep, registered: None }
    }
}

/// madsim's `Sleep` until `at`, or 1 ms from now if that is later (`sleep_until`'s floor, as
/// `madsim::time::timeout` has it), and the instant it elapses.
fn floored_sleep(time: &TimeHandle, at: Instant) -> (Instant, madsim::time::Sleep) {
    let at = at.max(time.now_instant() + std::time::Duration::from_millis(1));
    (at, time.sleep_until(at))
}

impl std::future::Future for Deadline {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.sleep.is_elapsed() {
            return std::task::Poll::Ready(());
        }
        if !self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            if std::pin::Pin::new(&mut self.sleep).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
            self.registered = Some(cx.waker().clone());
        }
        std::task::Poll::Pending
    }
}

/// The timers behind the successive timeouts of one owner (a connection's reads, a broker's
/// delayed requests): a timeout relies on the timer its task already has pending when that one
/// goes off first, instead of adding its own.
///
/// Request timeouts rarely elapse, and madsim never removes a timer: one per request (30 s for a
/// replica fetch or a produce) kept tens of thousands in its heap, each paying a push, a pop deep
/// in the heap and a wake-up of its task long after the request was answered. With this, a task
/// has about one pending per owner: when it goes off before the current wait's deadline, that wait
/// finds its deadline not reached and arms one timer for it. Timeouts still elapse exactly at
/// their deadlines.
#[derive(Default)]
pub struct TimeoutTimer {
    /// The last timer armed for each task waiting here: when it goes off and whom it wakes.
    armed: std::sync::Mutex<Vec<(Instant, std::task::Waker)>>,
}

impl std::fmt::Debug for TimeoutTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutTimer").finish_non_exhaustive()
    }
}

impl TimeoutTimer {
    /// Tasks remembered at most (a task beyond them just arms its own timers).
    const TASKS: usize = 32;

    /// A wait until `at` (at least 1 ms from now, as [`Deadline::at`]) on `clock`.
    pub fn at<'a>(&'a self, clock: &'a Clock, at: Instant) -> TimeoutAt<'a> {
        let time = clock.time.clone().unwrap_or_else(TimeHandle::current);
        let (at, sleep) = floored_sleep(&time, at);
        TimeoutAt { timer: self, clock, at, sleep }
    }
}

/// [`TimeoutTimer::at`]: elapses at its deadline.
pub struct TimeoutAt<'a> {
    timer: &'a TimeoutTimer,
    clock: &'a Clock,
    at: Instant,
    /// Polled only to arm a timer (madsim's `Sleep` adds one on every pending poll).
    sleep: madsim::time::Sleep,
}

impl std::future::Future for TimeoutAt<'_> {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let now = self.clock.now();
        if now >= self.at {
            return std::task::Poll::Ready(());
        }
        let this = &mut *self;
        let mut armed = crate::trace::lock(&this.timer.armed);
        // A pending timer of this task that goes off no later than the deadline will do: this
        // poll then comes again and arms the deadline's own.
        if let Some(i) = armed.iter().position(|(_, w)| w.will_wake(cx.waker())) {
            if now < armed[i].0 && armed[i].0 <= this.at {
                return std::task::Poll::Pending;
            }
            armed.swap_remove(i);
        }
        // Not elapsed (checked above on the same clock): this adds the timer, nothing else.
        let _ = std::pin::Pin::new(&mut this.sleep).poll(cx);
        if armed.len() >= TimeoutTimer::TASKS {
            armed.remove(0);
        }
        armed.push((this.at, cx.waker().clone()));
        std::task::Poll::Pending
    }
}

/// Runs `f` until `deadline`: `None` if the deadline came first (the future is checked first, as
/// `madsim::time::timeout` does).
pub async fn until<F: std::future::Future>(
    deadline: impl std::future::Future<Output = ()> + Unpin,
    f: F,
) -> Option<F::Output> {
    let f = std::pin::pin!(f);
    match futures::future::select(f, deadline).await {
        futures::future::Either::Left((v, _)) => Some(v),
        futures::future::Either::Right(_) => None,
    }
}
