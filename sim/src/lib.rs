//! The kafka-zk lab's course layer, and the front door to the whole simulator.
//!
//! The simulator is a stack of crates, each depending only on those below it:
//!
//! ```text
//! sim (this crate: scenario, check, lesson, bench, report, hooks)
//!  ├── shell      the operator's shell: finds programs only through the registry
//!  ├── stream     Spark Streaming-style micro-batches over Kafka
//!  │    └── kafka      Kafka 0.9: brokers, controller, logs, clients, tools
//!  │         └── zookeeper  ZooKeeper 3.4.6: QuorumPeer, FLE, ZAB, DataTree, client, zkCli
//!  └────────────── sim-core   world, hw, trace, term, program registry, jvm
//! ```
//!
//! This crate re-exports them under the names the rest of the workspace uses (`sim::world`,
//! `sim::zk`, `sim::kafka`, …) and adds what needs all of them:
//!
//! - [`hooks`]: the plug-in points the graded exercises replace, gathered into one [`Hooks`]
//!   that builds the hosts' programs ([`Hooks::registry`]); [`seeded`] is a world configuration
//!   with the built-in ones.
//! - [`check`]: invariant checkers over the trace.
//! - [`report`]: human summaries of a run, read from the trace.
//! - [`lesson`]: guided lessons (`lessons/*.toml`): narrated shell steps, scenarios and "predict,
//!   then observe" questions answered from the trace.
//! - [`scenario`]: scenario files (cluster, workloads, timed steps, faults, expected checks), run
//!   in one simulation into a report.
//! - [`bench`]: the simulator's benchmarks.
#![warn(missing_docs)]

pub use ::kafka;
pub use ::shell;
pub use ::stream;
pub use sim_core::{fault, hw, jvm, program, term, trace, world};
pub use zookeeper as zk;

pub mod bench;
pub mod check;
pub mod hooks;
pub mod lesson;
pub mod report;
pub mod scenario;

pub use hooks::{seeded, Hooks};
