//! Installs ZooKeeper on the hosts the way the seed course does: `zoo.cfg` copied to every host
//! with `scp`, and `dataDir/myid` edited by hand on each.

use super::config::QuorumPeerConfig;
use super::quorum_peer::zoo_cfg_path;
use crate::world::{World, WorldError};

/// Writes the seed's `zoo.cfg` on every host, and `myid` = 1, 2, 3… in host order (matching
/// `server.1=master`, `server.2=slave1`, `server.3=slave2`).
pub fn install_seed_ensemble(world: &World) -> Result<(), WorldError> {
    let cfg = QuorumPeerConfig::seed_default();
    let data_dir = QuorumPeerConfig::parse(cfg).map(|c| c.data_dir.clone()).unwrap_or_default();
    for (i, host) in world.host_names().iter().enumerate() {
        let disk = world.disk(host)?;
        disk.install(&zoo_cfg_path(), cfg.as_bytes());
        disk.install(&format!("{data_dir}/myid"), format!("{}\n", i + 1).as_bytes());
    }
    Ok(())
}
