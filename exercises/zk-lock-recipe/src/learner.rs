//! Your distributed lock. Edit this file (only this one), then run
//! `cargo run --release -p lab -- grade zk-lock-recipe`.
//!
//! The client API is the simulator's ZooKeeper handle (`sim::zk::client::ZooKeeper`), shaped
//! like the Java one: `create(path, data, mode)` returns the created path (with the 10-digit
//! sequence suffix for sequential modes), `get_children(path, watch)`, `exists(path, watch)`
//! (`Ok(None)` when the node does not exist; with `watch = true` a one-shot watch is set either
//! way), `delete(path, version)` (-1 = any version), and `next_event()` for watch and
//! connection-state events (`WatchedEvent { state, kind, path }`).

use sim::zk::client::ZooKeeper;
#[allow(unused_imports)]
use sim::zk::txn::{CreateMode, ZkError};

/// Takes the lock whose znodes live under `dir` (which exists) and returns the path of your
/// lock node once you hold it. Wait without polling, and wake up only when it may be your turn.
pub async fn lock(zk: &mut ZooKeeper, dir: &str) -> Result<String, ZkError> {
    let _ = (zk, dir);
    todo!("lock: create an EPHEMERAL_SEQUENTIAL child of dir, then wait until it is the lowest, watching only your predecessor")
}

/// Releases the lock held through `node` (what [`lock`] returned).
pub async fn unlock(zk: &mut ZooKeeper, node: &str) -> Result<(), ZkError> {
    let _ = (zk, node);
    todo!("unlock: delete your lock node")
}
