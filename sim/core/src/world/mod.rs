//! The world: named hosts, the processes on them, and the faults a lab can inject.
//!
//! A host (master, slave1, slave2 by default) owns a NIC in [`Net`], a [`HostDisk`] and a [`HostCpu`].
//! Each process is its own madsim node, so `kill -9` cancels every task the process spawned while
//! the host's other processes run on; a host crash kills all of them and loses the disk's page
//! cache. Starting a process again runs its start-up code again, as a real restart does.
//!
//! ```
//! use sim_core::world::{Sim, WorldConfig};
//! Sim::new(WorldConfig::seeded(1)).run(|world| async move {
//!     let pid = world.spawn("master", "Sleeper", |_ctx| async move {
//!         madsim::time::sleep(std::time::Duration::from_secs(60)).await;
//!     }).unwrap();
//!     assert_eq!(world.processes("master")[0].pid, pid);
//!     world.kill("master", pid);
//!     assert!(world.processes("master").is_empty());
//! });
//! ```
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! `Sim` owns the madsim runtime of one run; `World` holds the hosts. Each *process* is its own
//! madsim node, so `kill -9` (`World::kill`) cancels every task the process spawned, while the
//! host's other processes run on. `World::crash` is a power loss: the NIC goes dark first (peers hear
//! silence, not resets), every process dies, and the disk drops everything not fsynced. A process
//! whose main future returns exits and its remaining tasks are killed with it. PIDs are allocated per
//! host from the seeded RNG, so `jps` looks like the seed's terminal. The world keeps each ended
//! process's `ExitStatus` until the shell collects it (`take_exit_status`, like `waitpid`): the code
//! its main set (`ProcCtx::set_exit_code`), 128 + n after a SIGTERM/SIGINT (every program is a JVM,
//! whose `Terminator` exits that way), or SIGKILL.
//!
//! `kill -STOP` (`World::pause`) pauses the process's madsim node: none of its tasks is polled
//! until `kill -CONT` (`World::resume`), so its timers fire late and the data peers send waits in
//! its sockets (the kernel still accepts it), while peers hear silence, as from a JVM stuck in a
//! long GC pause. On resume every task goes on where it stood. As the kernel does for a stopped
//! process, a signal other than SIGKILL stays pending until it is continued.

pub mod program;

use crate::hw::{HardwareProfile, HostCpu, HostDisk, Net};
use crate::trace::{fields, kind, lock, EventId, Fields, Tracer};
use madsim::rand::Rng;
use madsim::runtime::{Handle, Runtime};
use madsim::task::NodeId;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A host of the default cluster: name and IP as in the seed's /etc/hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// Hostname.
    pub name: String,
    /// IPv4 address (shown by tools; routing is by name).
    pub ip: String,
}

/// How to build a world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// The seed: same seed and same inputs give the same run, byte for byte.
    pub seed: u64,
    /// Hosts, in order.
    pub hosts: Vec<HostSpec>,
    /// Hardware profile of every host.
    pub profile: HardwareProfile,
    /// Wall-clock time at virtual time zero, ms since the Unix epoch (what `date` and znode
    /// ctimes show). Defaults to the seed course's day, 2016-04-26 08:00:00 UTC.
    pub epoch_ms: i64,
    /// The programs on the hosts' `PATH`, with the exercise hooks their processes are built
    /// with (empty here: `sim::seeded` gives the lab's ZooKeeper and Kafka).
    pub programs: program::Registry,
}

impl WorldConfig {
    /// The seed's three hosts on the default profile.
    pub fn seeded(seed: u64) -> Self {
        WorldConfig {
            seed,
            hosts: [
                ("master", "192.168.1.100"),
                ("slave1", "192.168.1.101"),
                ("slave2", "192.168.1.102"),
            ]
            .iter()
            .map(|(n, ip)| HostSpec { name: n.to_string(), ip: ip.to_string() })
            .collect(),
            profile: HardwareProfile::default(),
            epoch_ms: 1_461_657_600_000,
            programs: program::Registry::default(),
        }
    }
}

/// Owns the madsim runtime of one run.
pub struct Sim {
    rt: Runtime,
    cfg: WorldConfig,
}

impl Sim {
    /// A simulation for this configuration.
    pub fn new(cfg: WorldConfig) -> Self {
        let rt = Runtime::with_seed_and_config(cfg.seed, madsim::Config::default());
        Sim { rt, cfg }
    }

    /// Builds the world inside the simulation and runs `f` to completion.
    pub fn run<F, Fut, T>(self, f: F) -> T
    where
        F: FnOnce(World) -> Fut,
        Fut: Future<Output = T>,
    {
        let cfg = self.cfg;
        self.rt.block_on(async move {
            let world = World::new(cfg);
            let out = f(world.clone()).await;
            world.end_stopped();
            out
        })
    }
}

/// A process as `ps`/`jps` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    /// Process id.
    pub pid: u32,
    /// Main class or program name (`QuorumPeerMain`, `Kafka`).
    pub name: String,
    /// Stopped by `kill -STOP` (state `T` in `ps`), until `kill -CONT`.
    pub stopped: bool,
}

struct ProcEntry {
    name: String,
    node: NodeId,
    /// Set once the process installs a signal handler ([`ProcCtx::signals`]).
    signals: Option<futures::channel::mpsc::UnboundedSender<Signal>>,
    /// The code its `main` asked to exit with ([`ProcCtx::set_exit_code`]).
    exit_code: Option<i32>,
    /// The last signal delivered to its handler.
    handled: Option<Signal>,
    /// Stopped by `kill -STOP` ([`World::pause`]).
    stopped: bool,
    /// Signals sent while it was stopped, delivered when it is continued.
    pending: Vec<Signal>,
}

/// Signals a process can handle; without a handler they terminate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM (15): please shut down.
    Term,
    /// SIGINT (2): Ctrl-C.
    Int,
}

impl Signal {
    /// The signal number.
    pub fn number(self) -> i32 {
        match self {
            Signal::Term => 15,
            Signal::Int => 2,
        }
    }
}

/// How a process ended, as `wait(2)` reports it to the shell that started it.
///
/// Every program in the lab is a JVM, and a JVM catches SIGTERM and SIGINT (`java.lang.Terminator`):
/// it runs its shutdown hooks and exits with 128 + the signal number, so bash reports `Exit 143`
/// for it, not `Terminated`. Only `kill -9` ends a process by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Exited(i32),
    /// A signal it could not catch ended it (9: `kill -9`).
    Signaled(i32),
}

struct HostState {
    spec: HostSpec,
    up: bool,
    disk: HostDisk,
    cpu: HostCpu,
    procs: BTreeMap<u32, ProcEntry>,
    /// Statuses of ended processes not yet collected ([`World::take_exit_status`]).
    exited: BTreeMap<u32, ExitStatus>,
    next_pid: u32,
}

struct WorldState {
    hosts: BTreeMap<String, HostState>,
}

/// Errors of world operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// No such host.
    #[error("ssh: Could not resolve hostname {0}: Name or service not known")]
    UnknownHost(String),
    /// The host is powered off.
    #[error("ssh: connect to host {0} port 22: No route to host")]
    HostDown(String),
}

/// The simulated cluster. Cheap to clone; only usable inside [`Sim::run`].
#[derive(Clone)]
pub struct World {
    state: Arc<Mutex<WorldState>>,
    net: Net,
    tracer: Tracer,
    cfg: Arc<WorldConfig>,
}

impl World {
    fn new(cfg: WorldConfig) -> Self {
        let tracer = Tracer::new();
        let net = Net::new(cfg.profile.net.clone(), tracer.clone());
        let mut hosts = BTreeMap::new();
        for spec in &cfg.hosts {
            net.add_host(&spec.name);
            // PIDs start where a freshly booted Ubuntu 14.04 box would have them.
            let next_pid = 3000 + madsim::rand::thread_rng().gen_range(0..1000);
            hosts.insert(
                spec.name.clone(),
                HostState {
                    spec: spec.clone(),
                    up: true,
                    disk: HostDisk::from_profile(&cfg.profile),
                    cpu: HostCpu::new(cfg.profile.cpu.clone()),
                    procs: BTreeMap::new(),
                    exited: BTreeMap::new(),
                    next_pid,
                },
            );
        }
        let world = World {
            state: Arc::new(Mutex::new(WorldState { hosts })),
            net,
            tracer,
            cfg: Arc::new(cfg),
        };
        world.trace("lab", "world", kind::WORLD_START, None, fields! { "seed" => world.cfg.seed });
        world
    }

    /// The world's configuration.
    pub fn config(&self) -> &WorldConfig {
        &self.cfg
    }

    /// The network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The trace.
    pub fn tracer(&self) -> &Tracer {
        &self.tracer
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        madsim::time::TimeHandle::current().elapsed()
    }

    /// Wall-clock milliseconds since the Unix epoch, as hosts' clocks show them.
    pub fn wall_ms(&self) -> i64 {
        self.cfg.epoch_ms + self.elapsed().as_millis() as i64
    }

    /// Records a trace event at the current virtual time.
    pub fn trace(
        &self,
        host: &str,
        proc: &str,
        kind: &str,
        cause: Option<EventId>,
        f: impl Into<Fields>,
    ) -> EventId {
        self.tracer.emit(self.elapsed().as_micros() as u64, host, proc, kind, cause, f)
    }

    /// Host names, in configuration order.
    pub fn host_names(&self) -> Vec<String> {
        self.cfg.hosts.iter().map(|h| h.name.clone()).collect()
    }

    /// The spec of a host.
    pub fn host(&self, host: &str) -> Result<HostSpec, WorldError> {
        lock(&self.state)
            .hosts
            .get(host)
            .map(|h| h.spec.clone())
            .ok_or_else(|| WorldError::UnknownHost(host.into()))
    }

    /// Whether a host is powered on.
    pub fn is_up(&self, host: &str) -> bool {
        lock(&self.state).hosts.get(host).is_some_and(|h| h.up)
    }

    /// A host's disk.
    pub fn disk(&self, host: &str) -> Result<HostDisk, WorldError> {
        lock(&self.state)
            .hosts
            .get(host)
            .map(|h| h.disk.clone())
            .ok_or_else(|| WorldError::UnknownHost(host.into()))
    }

    /// A host's CPU model.
    pub fn cpu(&self, host: &str) -> Result<HostCpu, WorldError> {
        lock(&self.state)
            .hosts
            .get(host)
            .map(|h| h.cpu.clone())
            .ok_or_else(|| WorldError::UnknownHost(host.into()))
    }

    /// Allocates a pid on a host, as the kernel would for any new process.
    pub fn alloc_pid(&self, host: &str) -> Result<u32, WorldError> {
        let mut st = lock(&self.state);
        let h = st.hosts.get_mut(host).ok_or_else(|| WorldError::UnknownHost(host.into()))?;
        let pid = h.next_pid;
        // Other processes (cron, sshd children, the JVM's helpers) take pids in between.
        h.next_pid += madsim::rand::thread_rng().gen_range(1..400);
        Ok(pid)
    }

    /// Starts a process on a host; its code gets a [`ProcCtx`]. Returns the pid.
    pub fn spawn<F, Fut>(&self, host: &str, name: &str, f: F) -> Result<u32, WorldError>
    where
        F: FnOnce(ProcCtx) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        if !self.is_up(host) {
            return Err(WorldError::HostDown(host.into()));
        }
        let pid = self.alloc_pid(host)?;
        let node = Handle::current().create_node().name(format!("{host}/{name}/{pid}")).build();
        let ctx =
            ProcCtx { world: self.clone(), host: host.to_string(), name: name.to_string(), pid };
        lock(&self.state)
            .hosts
            .get_mut(host)
            .ok_or_else(|| WorldError::UnknownHost(host.into()))?
            .procs
            .insert(
                pid,
                ProcEntry {
                    name: name.to_string(),
                    node: node.id(),
                    signals: None,
                    exit_code: None,
                    handled: None,
                    stopped: false,
                    pending: Vec::new(),
                },
            );
        self.trace(host, name, kind::PROC_START, None, fields! { "pid" => pid });
        let fut = f(ctx);
        let world = self.clone();
        let host_s = host.to_string();
        let name_s = name.to_string();
        let node_id = node.id();
        node.spawn(async move {
            fut.await;
            // The process returned from main: it exits, and every thread it started ends with it.
            let removed = {
                let mut st = lock(&world.state);
                st.hosts.get_mut(&host_s).and_then(|h| {
                    let p = h.procs.remove(&pid)?;
                    let code = p.handled.map_or(p.exit_code.unwrap_or(0), |s| 128 + s.number());
                    h.exited.insert(pid, ExitStatus::Exited(code));
                    Some(())
                })
            }
            .is_some();
            if removed {
                world.trace(&host_s, &name_s, kind::PROC_EXIT, None, fields! { "pid" => pid });
            }
            Handle::current().kill(node_id);
        });
        Ok(pid)
    }

    /// Processes running on a host, by pid.
    pub fn processes(&self, host: &str) -> Vec<ProcInfo> {
        lock(&self.state)
            .hosts
            .get(host)
            .map(|h| {
                h.procs
                    .iter()
                    .map(|(pid, p)| ProcInfo {
                        pid: *pid,
                        name: p.name.clone(),
                        stopped: p.stopped,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `kill -9`: the process and all its tasks end at once; its sockets close.
    pub fn kill(&self, host: &str, pid: u32) -> bool {
        self.end(host, pid, ExitStatus::Signaled(9))
    }

    /// Ends a process at once with `status`.
    fn end(&self, host: &str, pid: u32, status: ExitStatus) -> bool {
        let entry = lock(&self.state).hosts.get_mut(host).and_then(|h| {
            let p = h.procs.remove(&pid)?;
            h.exited.insert(pid, status);
            Some(p)
        });
        match entry {
            Some(p) => {
                Handle::current().kill(p.node);
                self.trace(host, &p.name, kind::PROC_KILL, None, fields! { "pid" => pid });
                true
            }
            None => false,
        }
    }

    /// Delivers a signal: to the process's handler if it installed one, else it terminates
    /// the process (the default action of SIGTERM and SIGINT). False if there is no such process.
    /// A stopped process gets it when it is continued ([`World::resume`]), as from the kernel.
    pub fn signal(&self, host: &str, pid: u32, sig: Signal) -> bool {
        let pending = {
            let mut st = lock(&self.state);
            match st.hosts.get_mut(host).and_then(|h| h.procs.get_mut(&pid)) {
                None => return false,
                Some(p) if p.stopped => {
                    p.pending.push(sig);
                    true
                }
                Some(_) => false,
            }
        };
        if pending {
            return true;
        }
        self.deliver(host, pid, sig)
    }

    fn deliver(&self, host: &str, pid: u32, sig: Signal) -> bool {
        let handler = match lock(&self.state).hosts.get(host).and_then(|h| h.procs.get(&pid)) {
            None => return false,
            Some(p) => p.signals.clone(),
        };
        self.trace(
            host,
            "kernel",
            kind::PROC_SIGNAL,
            None,
            fields! { "pid" => pid, "signal" => format!("{sig:?}") },
        );
        match handler {
            Some(tx) if tx.unbounded_send(sig).is_ok() => {
                if let Some(p) =
                    lock(&self.state).hosts.get_mut(host).and_then(|h| h.procs.get_mut(&pid))
                {
                    p.handled = Some(sig);
                }
                true
            }
            // The JVM's own handler: no shutdown hooks to run, exit 128 + n at once.
            _ => self.end(host, pid, ExitStatus::Exited(128 + sig.number())),
        }
    }

    /// `kill -STOP`: none of the process's tasks runs until [`World::resume`]; its timers and
    /// sockets wait, and peers hear nothing from it. False if there is no such process; stopping
    /// a stopped process changes nothing.
    pub fn pause(&self, host: &str, pid: u32) -> bool {
        let entry = {
            let mut st = lock(&self.state);
            match st.hosts.get_mut(host).and_then(|h| h.procs.get_mut(&pid)) {
                None => return false,
                Some(p) if p.stopped => return true,
                Some(p) => {
                    p.stopped = true;
                    (p.node, p.name.clone())
                }
            }
        };
        Handle::current().pause(entry.0);
        self.trace(host, &entry.1, kind::PROC_STOP, None, fields! { "pid" => pid });
        true
    }

    /// `kill -CONT`: a stopped process runs on where it stood, and the signals sent to it while
    /// it was stopped are delivered. False if there is no such process; continuing a running
    /// process changes nothing.
    pub fn resume(&self, host: &str, pid: u32) -> bool {
        let (node, name, pending) = {
            let mut st = lock(&self.state);
            match st.hosts.get_mut(host).and_then(|h| h.procs.get_mut(&pid)) {
                None => return false,
                Some(p) if !p.stopped => return true,
                Some(p) => {
                    p.stopped = false;
                    (p.node, p.name.clone(), std::mem::take(&mut p.pending))
                }
            }
        };
        Handle::current().resume(node);
        self.trace(host, &name, kind::PROC_CONT, None, fields! { "pid" => pid });
        for sig in pending {
            self.deliver(host, pid, sig);
        }
        true
    }

    /// Ends every process still stopped when the run is over. madsim keeps a paused node's
    /// tasks outside its run queue; ended here, inside the runtime, they are dropped while the
    /// runtime still exists, not when it is torn down.
    fn end_stopped(&self) {
        let nodes: Vec<NodeId> = lock(&self.state)
            .hosts
            .values()
            .flat_map(|h| h.procs.values().filter(|p| p.stopped).map(|p| p.node))
            .collect();
        for node in nodes {
            Handle::current().kill(node);
        }
    }

    /// Whether a process is stopped (`kill -STOP`); false if there is no such process.
    pub fn is_paused(&self, host: &str, pid: u32) -> bool {
        lock(&self.state).hosts.get(host).and_then(|h| h.procs.get(&pid)).is_some_and(|p| p.stopped)
    }

    /// Collects how a process ended (once, like `waitpid`); `None` while it runs, or if it died
    /// with its host.
    pub fn take_exit_status(&self, host: &str, pid: u32) -> Option<ExitStatus> {
        lock(&self.state).hosts.get_mut(host).and_then(|h| h.exited.remove(&pid))
    }

    /// Power loss: every process dies without closing its sockets, the page cache is lost.
    pub fn crash(&self, host: &str) -> Result<(), WorldError> {
        let procs = {
            let mut st = lock(&self.state);
            let h = st.hosts.get_mut(host).ok_or_else(|| WorldError::UnknownHost(host.into()))?;
            h.up = false;
            h.disk.crash();
            h.cpu.reset();
            std::mem::take(&mut h.procs)
        };
        // The NIC goes dark before the processes' sockets are torn down, so peers hear nothing.
        self.net.set_host_up(host, false);
        for p in procs.values() {
            Handle::current().kill(p.node);
        }
        self.trace("lab", "world", kind::HOST_CRASH, None, fields! { "host" => host });
        Ok(())
    }

    /// Powers a host back on (no process starts by itself).
    pub fn boot(&self, host: &str) -> Result<(), WorldError> {
        {
            let mut st = lock(&self.state);
            let h = st.hosts.get_mut(host).ok_or_else(|| WorldError::UnknownHost(host.into()))?;
            h.up = true;
        }
        self.net.set_host_up(host, true);
        self.trace("lab", "world", kind::HOST_BOOT, None, fields! { "host" => host });
        Ok(())
    }
}

/// What a process's code gets: its identity and the hardware of its host.
#[derive(Clone)]
pub struct ProcCtx {
    world: World,
    /// Host the process runs on.
    pub host: String,
    /// Process name (`QuorumPeerMain`).
    pub name: String,
    /// Process id.
    pub pid: u32,
}

impl ProcCtx {
    /// `Runtime.getRuntime.halt`: the process ends now, with no shutdown hooks (its sockets
    /// close as on `kill -9`). Never returns.
    pub async fn halt(&self, status: i32) -> ! {
        self.trace(kind::PROC_HALT, None, fields! { "pid" => self.pid, "status" => status });
        self.world.end(&self.host, self.pid, ExitStatus::Exited(status));
        std::future::pending::<()>().await;
        unreachable!("a halted process runs no more")
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The network.
    pub fn net(&self) -> &Net {
        self.world.net()
    }

    /// This host's disk.
    pub fn disk(&self) -> HostDisk {
        // A running process's host exists.
        self.world
            .disk(&self.host)
            .unwrap_or_else(|_| HostDisk::new(self.world.cfg.profile.disk.clone()))
    }

    /// This host's CPU.
    pub fn cpu(&self) -> HostCpu {
        // A running process's host exists.
        self.world
            .cpu(&self.host)
            .unwrap_or_else(|_| HostCpu::new(self.world.cfg.profile.cpu.clone()))
    }

    /// Records a trace event from this process.
    pub fn trace(&self, kind: &str, cause: Option<EventId>, f: impl Into<Fields>) -> EventId {
        self.world.trace(&self.host, &self.name, kind, cause, f)
    }

    /// This host's wall clock, ms since the Unix epoch.
    pub fn wall_ms(&self) -> i64 {
        self.world.wall_ms()
    }

    /// Sets the code the process exits with when its `main` returns (0 by default; a handled
    /// SIGTERM or SIGINT overrides it with 128 + n, as the JVM does).
    pub fn set_exit_code(&self, code: i32) {
        if let Some(p) = lock(&self.world.state)
            .hosts
            .get_mut(&self.host)
            .and_then(|h| h.procs.get_mut(&self.pid))
        {
            p.exit_code = Some(code);
        }
    }

    /// Installs a signal handler: signals sent to this process arrive here instead of killing it.
    pub fn signals(&self) -> futures::channel::mpsc::UnboundedReceiver<Signal> {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        if let Some(p) = lock(&self.world.state)
            .hosts
            .get_mut(&self.host)
            .and_then(|h| h.procs.get_mut(&self.pid))
        {
            p.signals = Some(tx);
        }
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A process that counts ticks of 100 ms.
    fn ticker(world: &World, host: &str) -> (u32, Arc<AtomicU64>) {
        let ticks = Arc::new(AtomicU64::new(0));
        let t = ticks.clone();
        let pid = world
            .spawn(host, "Ticker", move |_ctx| async move {
                loop {
                    madsim::time::sleep(Duration::from_millis(100)).await;
                    t.fetch_add(1, Ordering::Relaxed);
                }
            })
            .expect("spawned");
        (pid, ticks)
    }

    #[test]
    fn a_paused_process_makes_no_progress_and_goes_on_after_resume() {
        Sim::new(WorldConfig::seeded(3)).run(|world| async move {
            let (pid, ticks) = ticker(&world, "slave1");
            let (_, other) = ticker(&world, "slave1");
            madsim::time::sleep(Duration::from_millis(1050)).await;
            assert_eq!(ticks.load(Ordering::Relaxed), 10);
            assert!(world.pause("slave1", pid));
            assert!(world.pause("slave1", pid), "stopping a stopped process is no error");
            assert!(world.is_paused("slave1", pid));
            assert!(world.processes("slave1").iter().any(|p| p.pid == pid && p.stopped));
            madsim::time::sleep(Duration::from_secs(5)).await;
            assert_eq!(ticks.load(Ordering::Relaxed), 10, "no tick while stopped");
            assert_eq!(other.load(Ordering::Relaxed), 60, "the host's other process runs on");
            assert!(world.resume("slave1", pid));
            assert!(!world.is_paused("slave1", pid));
            // The overdue timer fires at once, then ticks go on every 100 ms.
            madsim::time::sleep(Duration::from_millis(1020)).await;
            assert_eq!(ticks.load(Ordering::Relaxed), 21);
            let kinds: Vec<String> = world
                .tracer()
                .events()
                .into_iter()
                .filter(|e| e.kind.starts_with("proc.") && e.i64("pid") == Some(pid.into()))
                .map(|e| e.kind)
                .collect();
            assert_eq!(kinds, [kind::PROC_START, kind::PROC_STOP, kind::PROC_CONT]);
            assert!(!world.pause("slave1", 1), "no such process");
            assert!(!world.resume("nowhere", pid), "no such host");
        });
    }

    #[derive(Debug)]
    struct Ping;
    impl crate::hw::Wire for Ping {
        fn wire_size(&self) -> usize {
            64
        }
        fn kind(&self) -> &'static str {
            "ping"
        }
    }

    /// A run may end while a process is stopped: its tasks (a connection here, whose drop sends
    /// a FIN) are ended inside the runtime, not dropped after it.
    #[test]
    fn a_run_can_end_with_a_process_stopped() {
        let ended = Sim::new(WorldConfig::seeded(5)).run(|world| async move {
            let _listener = world.net().listen::<Ping>("slave2", "server", 7).expect("listen");
            let pid = world
                .spawn("slave1", "Client", |ctx| async move {
                    let net = ctx.net().clone();
                    let c = net.connect::<Ping>(
                        "slave1",
                        "client",
                        "slave2",
                        7,
                        Duration::from_secs(1),
                    );
                    let conn = c.await.expect("connect");
                    let _ = conn.recv().await;
                })
                .expect("spawned");
            madsim::time::sleep(Duration::from_secs(1)).await;
            assert!(world.pause("slave1", pid));
            madsim::time::sleep(Duration::from_secs(1)).await;
            true
        });
        assert!(ended);
    }

    #[test]
    fn a_signal_to_a_stopped_process_waits_for_cont_but_sigkill_does_not() {
        Sim::new(WorldConfig::seeded(4)).run(|world| async move {
            let (pid, _) = ticker(&world, "master");
            assert!(world.pause("master", pid));
            assert!(world.signal("master", pid, Signal::Term), "pending");
            madsim::time::sleep(Duration::from_secs(1)).await;
            assert!(world.processes("master").iter().any(|p| p.pid == pid), "still there");
            assert!(world.resume("master", pid));
            assert!(world.processes("master").is_empty(), "SIGTERM delivered on SIGCONT");
            assert_eq!(world.take_exit_status("master", pid), Some(ExitStatus::Exited(143)));

            let (pid, _) = ticker(&world, "master");
            assert!(world.pause("master", pid));
            assert!(world.kill("master", pid), "kill -9 ends a stopped process");
            assert!(world.processes("master").is_empty());
            let (pid, ticks) = ticker(&world, "master");
            assert!(world.pause("master", pid));
            world.crash("master").expect("crash");
            world.boot("master").expect("boot");
            madsim::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(ticks.load(Ordering::Relaxed), 0, "a crash ends it stopped");
        });
    }
}
