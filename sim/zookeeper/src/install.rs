//! Installs ZooKeeper on the hosts the way the seed course does: `zoo.cfg` copied to every host
//! with `scp`, and `dataDir/myid` edited by hand on each.
//!
//! The seed's ensemble is its three hosts (`server.1=master`, `server.2=slave1`,
//! `server.3=slave2`). A scenario may run ZooKeeper on more hosts ([`install_ensemble`]): every
//! host then gets a `zoo.cfg` with one `server.N` line per ensemble member, N being the host's
//! position in the cluster plus one, which is also what its `myid` says — so a five-host
//! cluster gets `server.1` … `server.5`, and the three-host install stays byte for byte the
//! seed's.

use super::config::QuorumPeerConfig;
use sim_core::world::{World, WorldError};

/// Where the seed installs ZooKeeper.
pub const ZK_HOME: &str = "/usr/local/spark/zookeeper-3.4.6";

/// The configuration file `zkServer.sh` uses.
pub fn zoo_cfg_path() -> String {
    format!("{ZK_HOME}/conf/zoo.cfg")
}

/// The seed's quorum and election ports.
const QUORUM_PORT: u16 = 2888;
const ELECTION_PORT: u16 = 3888;

/// The seed's `zoo.cfg` settings with one `server.N=host:2888:3888` line per `(N, host)`.
/// For the seed's three hosts this is exactly [`QuorumPeerConfig::seed_default`].
pub fn zoo_cfg(servers: &[(usize, &str)]) -> String {
    let seed = QuorumPeerConfig::seed_default();
    let mut out: String =
        seed.lines().filter(|l| !l.starts_with("server.")).map(|l| format!("{l}\n")).collect();
    for (id, host) in servers {
        out.push_str(&format!("server.{id}={host}:{QUORUM_PORT}:{ELECTION_PORT}\n"));
    }
    out
}

/// Writes the seed's `zoo.cfg` on every host, and `myid` = 1, 2, 3… in host order (matching
/// `server.1=master`, `server.2=slave1`, `server.3=slave2`).
pub fn install_seed_ensemble(world: &World) -> Result<(), WorldError> {
    install(world, QuorumPeerConfig::seed_default())
}

/// Writes, on every host, a `zoo.cfg` whose ensemble is `ensemble` (host names, each
/// `server.N` with N = the host's position in the cluster + 1), and `myid` = position + 1.
/// An unknown host is an error and nothing is written.
pub fn install_ensemble(world: &World, ensemble: &[String]) -> Result<(), WorldError> {
    let hosts = world.host_names();
    let mut servers = Vec::new();
    for h in ensemble {
        let pos =
            hosts.iter().position(|x| x == h).ok_or_else(|| WorldError::UnknownHost(h.clone()))?;
        servers.push((pos + 1, h.as_str()));
    }
    servers.sort();
    install(world, &zoo_cfg(&servers))
}

fn install(world: &World, cfg: &str) -> Result<(), WorldError> {
    let data_dir = QuorumPeerConfig::parse(cfg).map(|c| c.data_dir.clone()).unwrap_or_default();
    for (i, host) in world.host_names().iter().enumerate() {
        let disk = world.disk(host)?;
        disk.install(&zoo_cfg_path(), cfg.as_bytes());
        disk.install(&format!("{data_dir}/myid"), format!("{}\n", i + 1).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::world::{HostSpec, Sim, WorldConfig};

    #[test]
    fn the_seed_ensemble_is_byte_identical() {
        assert_eq!(
            zoo_cfg(&[(1, "master"), (2, "slave1"), (3, "slave2")]),
            QuorumPeerConfig::seed_default()
        );
    }

    #[test]
    fn a_five_server_ensemble_lists_every_host_with_matching_myids() {
        let mut cfg = WorldConfig::seeded(1);
        for (i, h) in ["slave3", "slave4"].iter().enumerate() {
            cfg.hosts.push(HostSpec { name: h.to_string(), ip: format!("192.168.1.{}", 103 + i) });
        }
        Sim::new(cfg).run(|world| async move {
            let all = world.host_names();
            install_ensemble(&world, &all).expect("known hosts");
            let text =
                String::from_utf8(world.disk("slave4").unwrap().peek(&zoo_cfg_path()).unwrap())
                    .unwrap();
            let parsed = QuorumPeerConfig::parse(&text).expect("valid zoo.cfg");
            assert_eq!(parsed.servers.len(), 5);
            assert_eq!(parsed.quorum_size(), 3);
            assert!(
                text.ends_with("server.4=slave3:2888:3888\nserver.5=slave4:2888:3888\n"),
                "{text}"
            );
            for (i, h) in all.iter().enumerate() {
                let myid =
                    world.disk(h).unwrap().peek(&format!("{}/myid", parsed.data_dir)).unwrap();
                assert_eq!(String::from_utf8(myid).unwrap(), format!("{}\n", i + 1));
                assert_eq!(
                    parsed.servers.get(&(i as u64 + 1)).map(|s| s.host.as_str()),
                    Some(h.as_str())
                );
            }
            assert_eq!(
                install_ensemble(&world, &["nowhere".to_string()]),
                Err(WorldError::UnknownHost("nowhere".into()))
            );
        });
    }
}
