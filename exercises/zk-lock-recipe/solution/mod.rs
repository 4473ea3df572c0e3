//! Reference solution (for maintainers and `lab grade --reference`). Try the exercise before
//! reading it.
//!
//! The ZooKeeper recipe ("Locks" in the ZooKeeper docs): every contender creates an
//! ephemeral sequential node; the lowest holds the lock; each other contender watches only the
//! node just below its own, so a release wakes one client (no herd effect), and a crashed
//! contender's node vanishes with its session.

use sim::zk::client::ZooKeeper;
use sim::zk::txn::{CreateMode, ZkError};
use sim::zk::watch_manager::EventType;

/// Takes the lock.
pub async fn lock(zk: &mut ZooKeeper, dir: &str) -> Result<String, ZkError> {
    let me = zk.create(&format!("{dir}/lock-"), b"", CreateMode::EphemeralSequential).await?;
    let my_name = me.rsplit('/').next().unwrap_or_default().to_string();
    loop {
        let mut children = zk.get_children(dir, false).await?;
        children.sort(); // the 10-digit suffix sorts as text
        let Some(pos) = children.iter().position(|c| *c == my_name) else {
            // Our node is gone (our session expired): the lock cannot be ours.
            return Err(ZkError::SessionExpired);
        };
        if pos == 0 {
            return Ok(me);
        }
        let predecessor = format!("{dir}/{}", children[pos - 1]);
        // exists + watch: if the predecessor vanished in between, look again at once.
        if zk.exists(&predecessor, true).await?.is_none() {
            continue;
        }
        // Wait for that node's deletion (other events: look again, the recipe re-checks).
        while let Some(ev) = zk.next_event().await {
            if ev.kind == EventType::NodeDeleted && ev.path.as_deref() == Some(predecessor.as_str())
            {
                break;
            }
            if ev.kind == EventType::None {
                break; // a connection state change: re-check from the children
            }
        }
    }
}

/// Releases the lock.
pub async fn unlock(zk: &mut ZooKeeper, node: &str) -> Result<(), ZkError> {
    zk.delete(node, -1).await
}
