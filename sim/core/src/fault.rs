//! Faults a lab injects, as typed values: what the shell's `lab …` commands, the scenario runner,
//! the nemesis, lessons and tests all inject, with one [`Fault::apply`] on the world. Typed config
//! edits ([`ConfigEdit`], `lab set`) live next to them.
//!
//! A fault prints as the shell line that injects it ([`std::fmt::Display`]), so a scenario's
//! transcript reads like a learner's session; nothing parses that line back.
//!
//! ```
//! use sim_core::fault::{Fault, Link, NetChange};
//! use std::time::Duration;
//! assert_eq!(Fault::Crash { host: "slave1".into() }.to_string(), "lab crash slave1");
//! assert_eq!(Fault::Net(NetChange::Latency(Duration::from_millis(50))).to_string(), "lab net latency 50ms");
//! assert_eq!(Fault::Pause { host: "slave1".into(), pid: 4242 }.to_string(), "ssh slave1 kill -STOP 4242");
//! let link = Link::between("master", "slave1");
//! let slow = Fault::NetLink { link, change: NetChange::Latency(Duration::from_millis(200)) };
//! assert_eq!(slow.to_string(), "lab net latency 200ms master slave1");
//! ```

pub use crate::fault_config::{shell_word, ConfigEdit, ConfigEditError, SET_USAGE};
pub use crate::fault_partition::{PartitionSpec, PARTITION_USAGE};
use crate::hw::LinkParams;
use crate::trace::{fields, kind};
use crate::world::{World, WorldError};
use std::fmt;
use std::time::Duration;

/// A change of the network model's parameters: on every link ([`Fault::Net`]) or on one
/// ([`Fault::NetLink`], whose settings then win over the network's).
#[derive(Debug, Clone, PartialEq)]
pub enum NetChange {
    /// Every message's latency becomes this (minimum and mean).
    Latency(Duration),
    /// The probability that a segment is lost (and resent after an RTO).
    Loss(f64),
    /// Every NIC's bandwidth in Mbit/s (on one link: a rate limit for that link's traffic).
    Bandwidth(u64),
    /// Back to the hardware profile's parameters and no link settings (on one link: the link
    /// follows the network's parameters again).
    Reset,
}

/// One link between two hosts: both directions, or only `a` → `b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// One end (the sender, for a one-way link).
    pub a: String,
    /// The other end.
    pub b: String,
    /// Only traffic from `a` to `b`.
    pub one_way: bool,
}

impl Link {
    /// Both directions between `a` and `b`.
    pub fn between(a: &str, b: &str) -> Self {
        Link { a: a.to_string(), b: b.to_string(), one_way: false }
    }

    /// Only what `from` sends to `to`.
    pub fn one_way(from: &str, to: &str) -> Self {
        Link { a: from.to_string(), b: to.to_string(), one_way: true }
    }

    /// The directed links this covers: (from, to).
    pub fn directions(&self) -> Vec<(String, String)> {
        let there = (self.a.clone(), self.b.clone());
        if self.one_way {
            vec![there]
        } else {
            vec![there, (self.b.clone(), self.a.clone())]
        }
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.one_way {
            write!(f, "{} -> {}", self.a, self.b)
        } else {
            write!(f, "{} {}", self.a, self.b)
        }
    }
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
    /// `kill -STOP PID`: the process stops where it stands (as in a long GC pause); peers hear
    /// silence from it.
    Pause {
        /// The host.
        host: String,
        /// The process.
        pid: u32,
    },
    /// `kill -CONT PID`: a stopped process goes on where it stood.
    Resume {
        /// The host.
        host: String,
        /// The process.
        pid: u32,
    },
    /// A network partition (two-way, one-way, or one service's port).
    Partition(PartitionSpec),
    /// Every partition healed.
    Heal,
    /// A change of the network model, on every link.
    Net(NetChange),
    /// A change of one link's settings (both directions unless one-way).
    NetLink {
        /// The link.
        link: Link,
        /// What changes on it.
        change: NetChange,
    },
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
    /// A partition or link names a host the world does not have.
    #[error("unknown host {0}")]
    UnknownHost(String),
    /// No such process on the host.
    #[error("({pid}) - No such process")]
    NoSuchProcess {
        /// The host.
        host: String,
        /// The pid.
        pid: u32,
    },
    /// A link from a host to itself (the loopback interface has no link settings).
    #[error("{0} to {0} is the loopback interface, not a link")]
    Loopback(String),
}

impl Fault {
    /// Applies the fault to `world`.
    pub fn apply(&self, world: &World) -> Result<(), FaultError> {
        match self {
            Fault::Crash { host } => world.crash(host)?,
            Fault::Boot { host } => world.boot(host)?,
            Fault::Kill { host, pid }
            | Fault::Pause { host, pid }
            | Fault::Resume { host, pid } => {
                world.host(host)?;
                let done = match self {
                    Fault::Kill { .. } => world.kill(host, *pid),
                    Fault::Pause { .. } => world.pause(host, *pid),
                    _ => world.resume(host, *pid),
                };
                if !done {
                    return Err(FaultError::NoSuchProcess { host: host.clone(), pid: *pid });
                }
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
                    NetChange::Reset => {
                        p = world.config().profile.net.clone();
                        world.net().clear_links();
                    }
                }
                world.net().set_params(p);
            }
            Fault::NetLink { link, change } => {
                if let Some(h) = [&link.a, &link.b].into_iter().find(|h| world.host(h).is_err()) {
                    return Err(FaultError::UnknownHost(h.clone()));
                }
                if link.a == link.b {
                    return Err(FaultError::Loopback(link.a.clone()));
                }
                for (from, to) in link.directions() {
                    world.net().set_link(&from, &to, |l| match *change {
                        NetChange::Latency(d) => l.latency = Some(d),
                        NetChange::Loss(x) => l.loss = Some(x),
                        NetChange::Bandwidth(mbit) => l.bandwidth_bps = Some(mbit * 1_000_000),
                        NetChange::Reset => *l = LinkParams::default(),
                    });
                }
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
            Fault::Pause { host, pid } => write!(f, "ssh {host} kill -STOP {pid}"),
            Fault::Resume { host, pid } => write!(f, "ssh {host} kill -CONT {pid}"),
            Fault::Partition(s) => {
                let sep = if s.one_way { "->" } else { "|" };
                write!(f, "lab partition {} {sep} {}", s.a.join(" "), s.b.join(" "))?;
                match s.port {
                    Some(p) => write!(f, " --port {p}"),
                    None => Ok(()),
                }
            }
            Fault::Heal => write!(f, "lab heal"),
            Fault::Net(change) => write!(f, "lab net {change}"),
            Fault::NetLink { link, change } => write!(f, "lab net {change} {link}"),
            Fault::DiskFull { host } => write!(f, "lab disk {host} full"),
            Fault::DiskFree { host } => write!(f, "lab disk {host} free"),
        }
    }
}

impl fmt::Display for NetChange {
    /// The words after `lab net`: `latency 50ms`, `loss 0.01`, `bandwidth 100`, `reset`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetChange::Latency(d) if d.subsec_nanos() % 1_000_000 == 0 => {
                write!(f, "latency {}ms", d.as_millis())
            }
            NetChange::Latency(d) if d.subsec_nanos() % 1_000 == 0 => {
                write!(f, "latency {}us", d.as_micros())
            }
            NetChange::Latency(d) => write!(f, "latency {}ns", d.as_nanos()),
            NetChange::Loss(x) => write!(f, "loss {x}"),
            NetChange::Bandwidth(m) => write!(f, "bandwidth {m}"),
            NetChange::Reset => write!(f, "reset"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Sim, WorldConfig};

    #[test]
    fn faults_print_as_the_lines_that_inject_them() {
        let h = |s: &str| s.to_string();
        for (f, line) in [
            (Fault::Pause { host: h("slave1"), pid: 4242 }, "ssh slave1 kill -STOP 4242"),
            (Fault::Resume { host: h("slave1"), pid: 4242 }, "ssh slave1 kill -CONT 4242"),
            (Fault::Net(NetChange::Reset), "lab net reset"),
            (Fault::Net(NetChange::Latency(Duration::from_micros(1500))), "lab net latency 1500us"),
            (Fault::Net(NetChange::Latency(Duration::from_nanos(1500))), "lab net latency 1500ns"),
            (
                Fault::NetLink {
                    link: Link::one_way("master", "slave2"),
                    change: NetChange::Loss(0.25),
                },
                "lab net loss 0.25 master -> slave2",
            ),
            (
                Fault::NetLink {
                    link: Link::between("master", "slave2"),
                    change: NetChange::Bandwidth(10),
                },
                "lab net bandwidth 10 master slave2",
            ),
            (
                Fault::NetLink { link: Link::between("a", "b"), change: NetChange::Reset },
                "lab net reset a b",
            ),
        ] {
            assert_eq!(f.to_string(), line);
        }
    }

    #[test]
    fn bad_targets_are_errors_not_panics() {
        Sim::new(WorldConfig::seeded(1)).run(|world| async move {
            let e = Fault::Pause { host: "slave1".into(), pid: 99999 }.apply(&world);
            assert_eq!(e, Err(FaultError::NoSuchProcess { host: "slave1".into(), pid: 99999 }));
            assert_eq!(e.unwrap_err().to_string(), "(99999) - No such process");
            let e = Fault::Resume { host: "mars".into(), pid: 1 }.apply(&world);
            assert!(matches!(e, Err(FaultError::World(WorldError::UnknownHost(_)))), "{e:?}");
            let slow = NetChange::Latency(Duration::from_millis(5));
            let e = Fault::NetLink { link: Link::between("master", "mars"), change: slow.clone() };
            assert_eq!(e.apply(&world), Err(FaultError::UnknownHost("mars".into())));
            let e = Fault::NetLink { link: Link::between("master", "master"), change: slow };
            assert_eq!(e.apply(&world), Err(FaultError::Loopback("master".into())));
        });
    }

    #[test]
    fn a_link_change_sets_both_directions_and_reset_undoes_it() {
        Sim::new(WorldConfig::seeded(1)).run(|world| async move {
            let d = Duration::from_millis(200);
            let link = Link::between("master", "slave1");
            Fault::NetLink { link: link.clone(), change: NetChange::Latency(d) }
                .apply(&world)
                .unwrap();
            assert_eq!(world.net().link("master", "slave1").latency, Some(d));
            assert_eq!(world.net().link("slave1", "master").latency, Some(d));
            assert_eq!(world.net().link("master", "slave2").latency, None);
            Fault::NetLink { link: Link::one_way("slave1", "master"), change: NetChange::Reset }
                .apply(&world)
                .unwrap();
            assert_eq!(world.net().link("slave1", "master").latency, None);
            assert_eq!(world.net().link("master", "slave1").latency, Some(d));
            Fault::Net(NetChange::Loss(0.5)).apply(&world).unwrap();
            Fault::Net(NetChange::Reset).apply(&world).unwrap();
            assert_eq!(world.net().link("master", "slave1"), LinkParams::default());
            assert_eq!(world.net().params(), world.config().profile.net);
        });
    }
}
