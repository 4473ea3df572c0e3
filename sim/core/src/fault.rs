//! Faults a lab injects, as typed values: what the shell's `lab …` commands, the scenario runner,
//! the nemesis, lessons and tests all inject, with one [`Fault::apply`] on the world.
//!
//! A fault prints as the shell line that injects it ([`std::fmt::Display`]), so a scenario's
//! transcript reads like a learner's session; nothing parses that line back.
//!
//! ```
//! use sim_core::fault::{Fault, NetChange};
//! use std::time::Duration;
//! assert_eq!(Fault::Crash { host: "slave1".into() }.to_string(), "lab crash slave1");
//! assert_eq!(Fault::Net(NetChange::Latency(Duration::from_millis(50))).to_string(), "lab net latency 50ms");
//! ```

pub use crate::fault_partition::{PartitionSpec, PARTITION_USAGE};
use crate::trace::{fields, kind};
use crate::world::{World, WorldError};
use std::fmt;
use std::time::Duration;

/// A change of the network model's parameters (every link).
#[derive(Debug, Clone, PartialEq)]
pub enum NetChange {
    /// Every message's latency becomes this (minimum and mean).
    Latency(Duration),
    /// The probability that a segment is lost (and resent after an RTO).
    Loss(f64),
    /// Every NIC's bandwidth in Mbit/s.
    Bandwidth(u64),
}

/// One fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Power loss: every process dies, the page cache's unsynced data is gone.
    Crash {
        /// The host.
        host: String,
    },
    /// Power back on (nothing is started).
    Boot {
        /// The host.
        host: String,
    },
    /// `kill -9 PID` of one process.
    Kill {
        /// The host.
        host: String,
        /// The process.
        pid: u32,
    },
    /// A network partition (two-way, one-way, or one service's port).
    Partition(PartitionSpec),
    /// Every partition healed.
    Heal,
    /// A change of the network model.
    Net(NetChange),
    /// The disk fills up (writes fail with ENOSPC).
    DiskFull {
        /// The host.
        host: String,
    },
    /// The disk's fill is released.
    DiskFree {
        /// The host.
        host: String,
    },
}

/// Why a fault could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// The world refused it (an unknown host).
    #[error("{0}")]
    World(#[from] WorldError),
    /// A partition names a host the world does not have.
    #[error("unknown host {0}")]
    UnknownHost(String),
}

impl Fault {
    /// Applies the fault to `world`.
    pub fn apply(&self, world: &World) -> Result<(), FaultError> {
        match self {
            Fault::Crash { host } => world.crash(host)?,
            Fault::Boot { host } => world.boot(host)?,
            Fault::Kill { host, pid } => {
                world.host(host)?;
                world.kill(host, *pid);
            }
            Fault::Partition(spec) => {
                if let Some(h) = spec.a.iter().chain(&spec.b).find(|h| world.host(h).is_err()) {
                    return Err(FaultError::UnknownHost(h.clone()));
                }
                let net = world.net();
                match (spec.one_way, spec.port) {
                    (false, None) => net.partition(&spec.a, &spec.b),
                    (false, Some(port)) => net.partition_port(&spec.a, &spec.b, port),
                    (true, port) => {
                        for f in &spec.a {
                            for t in &spec.b {
                                match port {
                                    None => net.block(f, t),
                                    Some(port) => net.block_port(f, t, port),
                                }
                            }
                        }
                    }
                }
            }
            Fault::Heal => world.net().heal(),
            Fault::Net(change) => {
                let mut p = world.net().params();
                match *change {
                    NetChange::Latency(d) => {
                        p.latency_min_us = d.as_micros() as u64;
                        p.latency_mean_us = d.as_micros() as u64;
                    }
                    NetChange::Loss(x) => p.loss = x,
                    NetChange::Bandwidth(mbit) => p.bandwidth_bps = mbit * 1_000_000,
                }
                world.net().set_params(p);
            }
            Fault::DiskFull { host } | Fault::DiskFree { host } => {
                let disk = world.disk(host)?;
                let state = if matches!(self, Fault::DiskFull { .. }) {
                    disk.fill_up();
                    "full"
                } else {
                    disk.release_fill();
                    "free"
                };
                world.trace(
                    "lab",
                    "disk",
                    kind::DISK_FILL,
                    None,
                    fields! { "host" => host.as_str(), "state" => state },
                );
            }
        }
        Ok(())
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash { host } => write!(f, "lab crash {host}"),
            Fault::Boot { host } => write!(f, "lab boot {host}"),
            Fault::Kill { host, pid } => write!(f, "ssh {host} kill -9 {pid}"),
            Fault::Partition(s) => {
                let sep = if s.one_way { "->" } else { "|" };
                write!(f, "lab partition {} {sep} {}", s.a.join(" "), s.b.join(" "))?;
                match s.port {
                    Some(p) => write!(f, " --port {p}"),
                    None => Ok(()),
                }
            }
            Fault::Heal => write!(f, "lab heal"),
            Fault::Net(NetChange::Latency(d)) if d.subsec_nanos() % 1_000_000 == 0 => {
                write!(f, "lab net latency {}ms", d.as_millis())
            }
            Fault::Net(NetChange::Latency(d)) => write!(f, "lab net latency {}us", d.as_micros()),
            Fault::Net(NetChange::Loss(x)) => write!(f, "lab net loss {x}"),
            Fault::Net(NetChange::Bandwidth(m)) => write!(f, "lab net bandwidth {m}"),
            Fault::DiskFull { host } => write!(f, "lab disk {host} full"),
            Fault::DiskFree { host } => write!(f, "lab disk {host} free"),
        }
    }
}
