//! The simulated world's core: hosts and processes, the hardware model, virtual time, the trace,
//! a terminal and the program registry. Every other crate of the lab builds on this one; it
//! knows neither ZooKeeper nor Kafka.
//!
//! - [`world`]: hosts (master, slave1, slave2 by default), processes on them.
//! - [`fault`]: the faults a lab injects and the config edits it makes, typed, each with one
//!   way to apply it.
//! - [`hw`]: the hardware model: virtual NIC and links, disks with a page cache, CPU costs.
//! - [`trace`]: one structured event per protocol step, written as JSONL.
//! - [`term`]: a terminal's output as programs write it.
//! - [`program`]: the programs on the hosts' `PATH`, found by name.
//! - [`jvm`]: Java's and log4j's time formats, shared by every program.
#![warn(missing_docs)]

pub mod fault;
mod fault_config;
mod fault_partition;
pub mod hw;
pub mod jvm;
pub mod term;
pub mod trace;
pub mod world;

pub use world::program;
