//! A ZooKeeper 3.4 ensemble, faithful to the reference facts.
//!
//! Names mirror the real source so a learner can hop across: [`quorum_peer`] (`QuorumPeerMain`) runs
//! `FastLeaderElection` ([`election`]) and then leads or follows with ZAB ([`zab`]);
//! [`data_tree::DataTree`] holds the znodes; [`persistence`] is `FileTxnSnapLog`;
//! [`client::ZooKeeper`] is the client handle; [`cli`] is `zkCli.sh`.

pub mod cli;
pub mod client;
pub mod config;
pub mod data_tree;
pub mod election;
pub mod install;
pub mod persistence;
pub mod proto;
pub mod quorum_peer;
pub mod server;
pub mod txn;
pub mod watch_manager;
pub mod zab;
