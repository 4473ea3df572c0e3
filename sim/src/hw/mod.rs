//! The hardware model: every cost a protocol pays comes from here.
//!
//! Protocol code (ZooKeeper, Kafka) talks to a virtual NIC ([`net`]), a virtual disk ([`disk`]) and
//! a CPU cost model ([`cpu`]). The parameters come from a named [`profile`] file, never from
//! constants in protocol code, so a lesson can switch profiles and see the effect.

mod content;
pub mod cpu;
pub mod disk;
pub mod net;
pub mod profile;
pub mod send;

pub use cpu::{Cpu, CpuCounters, HostCpu};
pub use disk::{CacheRead, Disk, DiskCounters, DiskError, HostDisk};
pub use net::{Conn, Listener, Net, NetError, Wire};
pub use send::{SendPath, SendSpec};
pub use profile::{CpuParams, DiskParams, HardwareProfile, NetParams, ProfileError};

use madsim::time::{Instant, TimeHandle};

/// Sleeps until `deadline` exactly. `madsim::time::sleep_until` never sleeps less than 1 ms,
/// which would hide every microsecond cost of the model; `Sleep::reset` has no such floor.
pub async fn sleep_until_exact(deadline: Instant) {
    let time = TimeHandle::current();
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
