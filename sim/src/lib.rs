//! The simulated world of the kafka-zk lab.
//!
//! Everything here runs inside a [madsim] simulation: time is virtual, randomness comes from the
//! simulation's seed, and the network and disks are models ([`hw`]). The same seed and the same
//! inputs give a byte-identical [`trace`].
//!
//! - [`world`]: hosts (master, slave1, slave2 by default), processes on them, faults.
//! - [`hw`]: the hardware model: virtual NIC and links, disks with a page cache, CPU costs.
//! - [`trace`]: one structured event per protocol step, written as JSONL.
//! - [`zk`]: a ZooKeeper 3.4 ensemble (`QuorumPeer`, FastLeaderElection, ZAB, DataTree, sessions,
//!   watches) and its client handle.
//! - [`shell`]: the operator's shell language (`ssh`, `zkServer.sh`, `zkCli.sh`, `lab …`).
//! - [`check`]: invariant checkers over the trace.
//! - [`hooks`]: the plug-in points the graded exercises replace (built-in by default).
//! - [`report`]: human summaries of a run, read from the trace.
//! - [`lesson`]: guided lessons (`lessons/*.toml`): narrated shell steps, scenarios and "predict,
//!   then observe" questions answered from the trace.
//! - [`scenario`]: scenario files (cluster, workloads, timed steps, faults, expected checks), run
//!   in one simulation into a report.
//! - [`stream`]: a Spark Streaming-style micro-batch engine over the simulated Kafka (direct and
//!   receiver-based), with checkpoints, a write-ahead log and a result table.
#![warn(missing_docs)]

pub mod bench;
pub mod check;
pub mod hooks;
pub mod hw;
pub mod kafka;
pub mod lesson;
pub mod report;
pub mod scenario;
pub mod shell;
pub mod stream;
pub mod trace;
pub mod world;
pub mod zk;
