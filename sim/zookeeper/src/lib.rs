//! A ZooKeeper 3.4 ensemble, faithful to the reference facts.
//!
//! Names mirror the real source so a learner can hop across: [`quorum_peer_main`]
//! (`QuorumPeerMain`) builds a [`quorum_peer::QuorumPeer`], which runs `FastLeaderElection`
//! ([`election`]) and then leads or follows with ZAB ([`zab`]); [`data_tree::DataTree`] holds the
//! znodes; [`persistence`] is `FileTxnSnapLog`; [`client::ZooKeeper`] is the client handle; [`cli`]
//! is `zkCli.sh`. [`programs`] is what the shell finds on the hosts.
//!
//! # How it works
//!
//! (Moved here from ARCHITECTURE.md, which keeps only the map.)
//!
//! ZooKeeper 3.4, with the real class names:
//!
//! - `config.rs` — `QuorumPeerConfig`: zoo.cfg (Java `Properties` syntax) and `myid`, with the real
//!   error messages and a clearer one for a myid that matches no `server.N` line.
//! - `txn.rs`, `data_tree.rs`, `watch_manager.rs` — `Txn`, `Stat`, `KeeperException` codes, the
//!   `DataTree` with persistent/ephemeral/sequential nodes, and one-shot watches.
//! - `persistence.rs` — `FileTxnSnapLog`: `version-2/log.<zxid>` and `snapshot.<zxid>` on the host's
//!   virtual disk, `currentEpoch`/`acceptedEpoch`; a record is a checksummed text line, recovery
//!   cuts a torn tail.
//! - `proto.rs` — the three wire protocols: election notifications (port 3888), `QuorumPacket`
//!   (2888), client packets and four-letter words (2181).
//! - `election.rs` — `QuorumCnxManager` and `FastLeaderElection.lookForLeader`.
//! - `vote_order.rs` — `VoteOrder`, the exercises' plug-in point for `totalOrderPredicate` and
//!   `containsQuorum`, and 3.4.6's `DefaultVoteOrder` (re-exported by `election`).
//! - `zab.rs` — `Leader` (with the `LearnerHandler` logic) and `Follower`: discovery, sync, broadcast,
//!   pings and the quorum check.
//! - `server.rs` — the serving side shared by all roles: `PeerState` (the database, sessions,
//!   watches, client connections) and `PeerState::apply`, the `FinalRequestProcessor` step.
//! - `server_cnxn.rs` — `NIOServerCnxn`: a client connection's handshake and its requests, in order.
//! - `quorum_peer.rs` — `QuorumPeer`, the handle every task of a peer shares: its `PeerState`
//!   behind one lock, its `VoteOrder`, and the real class's accessors (`get_peer_state`,
//!   `get_current_vote`, `set_current_epoch`, …).
//! - `quorum_peer_main.rs` — `QuorumPeerMain`: start-up and recovery, then `QuorumPeer::start` and
//!   its LOOKING → LEADING/FOLLOWING loop, `QuorumPeer::run`.
//! - `client.rs` — the `ZooKeeper` handle (`create`, `delete`, `exists`, `get_data`, `set_data`,
//!   `get_children`, watches through `next_event`); it re-arms its watches with `SetWatches` after
//!   moving to another server.
//! - `cli.rs` — `zkCli.sh` (`ZooKeeperMain`) and `zkServer.sh`, printing what 3.4.6 prints.
//! - `install.rs` — the seed's installation (zoo.cfg and myid on every host), and a larger ensemble
//!   for scenarios that run ZooKeeper on extra hosts (`server.N` = host position + 1 = `myid`).
//!
//! Deliberate simplifications, each small: write validation happens when a transaction is applied
//! (identically on every replica, and a failing write still takes a zxid, as ZooKeeper's ErrorTxn
//! does) rather than in a separate PrepRequestProcessor; a reconnecting session is revalidated
//! against the replicated session table rather than by a REVALIDATE round trip to the leader;
//! election uses one connection per direction instead of `QuorumCnxManager`'s "higher sid keeps the
//! connection" rule; log records are text, not jute.
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod config;
pub mod connect_string;
pub mod data_tree;
pub mod election;
pub mod install;
pub mod persistence;
pub mod proto;
pub mod quorum_peer;
pub mod quorum_peer_main;
pub mod server;
pub mod server_cnxn;
pub mod server_log;
pub mod txn;
pub mod vote_order;
pub mod watch_manager;
pub mod zab;

use sim_core::program::{Invocation, Launched, Program, Registry, StatusProbe};
use sim_core::term::Term;
use sim_core::world::World;
use std::sync::Arc;

/// What installing ZooKeeper 3.4.6 puts on the hosts: `zkServer.sh` (whose servers run
/// FastLeaderElection with `vote_order`) and `zkCli.sh` on the `PATH`, the seed's zoo.cfg and
/// myid files, `ZOOKEEPER_HOME`, a login in its `bin`, and the `ZK MODE` column of `lab status`.
pub fn programs(vote_order: Arc<dyn election::VoteOrder>) -> Registry {
    let mut reg = Registry::default();
    reg.add(
        "zkServer.sh",
        Program::script(false, move |world: World, host: String, inv: Invocation, term: Term| {
            let order = vote_order.clone();
            async move {
                let action = inv.args.first().map(String::as_str).unwrap_or("");
                Launched::Exited(cli::zk_server_sh(&world, &host, action, &term, &order).await)
            }
        }),
    )
    .add(
        "zkCli.sh",
        Program::process("ZooKeeperMain", false, |ctx, inv, term, _stdin| {
            cli::zk_cli(ctx, inv.args, term)
        }),
    )
    .main_class("QuorumPeerMain", "org.apache.zookeeper.server.quorum.QuorumPeerMain")
    .export("ZOOKEEPER_HOME", quorum_peer_main::ZK_HOME)
    .set_login_dir(&format!("{}/bin", quorum_peer_main::ZK_HOME))
    .installer(|world| {
        let _ = install::install_seed_ensemble(world);
    })
    .boot_command(&["zkServer.sh", "start"])
    .set_status_probe(StatusProbe {
        heading: "ZK MODE",
        process: "QuorumPeerMain",
        probe: Arc::new(|world, host| Box::pin(async move { cli::status(&world, &host).await })),
    });
    reg
}
