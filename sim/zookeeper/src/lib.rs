//! A ZooKeeper 3.4 ensemble, faithful to the reference facts.
//!
//! Names mirror the real source so a learner can hop across: [`quorum_peer`] (`QuorumPeerMain`) runs
//! `FastLeaderElection` ([`election`]) and then leads or follows with ZAB ([`zab`]);
//! [`data_tree::DataTree`] holds the znodes; [`persistence`] is `FileTxnSnapLog`;
//! [`client::ZooKeeper`] is the client handle; [`cli`] is `zkCli.sh`. [`programs`] is what the
//! shell finds on the hosts.
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
pub mod server;
pub mod server_log;
pub mod txn;
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
    .export("ZOOKEEPER_HOME", quorum_peer::ZK_HOME)
    .set_login_dir(&format!("{}/bin", quorum_peer::ZK_HOME))
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
