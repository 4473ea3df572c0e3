//! The hardware model: every cost a protocol pays comes from here.
//!
//! Protocol code (ZooKeeper, Kafka) talks to a virtual NIC ([`net`]), a virtual disk ([`disk`]) and
//! a CPU cost model ([`cpu`]). The parameters come from a named [`profile`] file, never from
//! constants in protocol code, so a lesson can switch profiles and see the effect.

pub mod cpu;
pub mod disk;
pub mod net;
pub mod profile;

pub use cpu::{Cpu, CpuCounters};
pub use disk::{Disk, DiskCounters, DiskError, HostDisk};
pub use net::{Conn, Listener, Net, NetError, Wire};
pub use profile::{CpuParams, DiskParams, HardwareProfile, NetParams, ProfileError};
