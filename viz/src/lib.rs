//! Pictures from a run's trace, and nothing else: every function here takes the JSONL a run
//! wrote (contract 4 of the design brief) and never reaches into the simulator, so a figure
//! shows what happened, not what the code believes happened.
//!
//! - [`perfetto`]: the trace as Chrome/Perfetto JSON (one track per host and process, messages
//!   as flow arrows, faults as global instants) for ui.perfetto.dev or chrome://tracing.
//! - [`partition_log`]: one partition's log on every replica as rows of offsets — committed,
//!   uncommitted, truncated away — with LEO and HW marks and ISR membership over time (SVG).
//! - [`spacetime`]: the space-time (Lamport) diagram of a stretch of the run: processes as lanes,
//!   messages as arrows, faults as marks, partition leadership as bands (SVG).
//! - [`groups`]: consumer groups — partitions over time coloured by owning member, generations
//!   and rebalances — and records received per member per second (SVG).
//! - [`zk`]: ZooKeeper — election rounds and votes, zxid progression per server, sessions and
//!   ephemerals per client (SVG).
//! - [`copy_path`]: the zero-copy copy paths with the hardware model's counters from a benchmark
//!   run (the one picture fed by measurements instead of a trace) and the throughputs (SVG).
//! - [`stream_batches`]: a Spark Streaming run's offset ranges per batch and partition, with the
//!   driver's crash and restart (SVG).
//!
//! Output is deterministic: the same trace gives byte-identical files.

pub mod copy_path;
pub mod event;
pub mod groups;
pub mod partition_log;
pub mod perfetto;
pub mod spacetime;
pub mod stream_batches;
pub mod zk;

pub use event::{parse_jsonl, Event, VizError};
