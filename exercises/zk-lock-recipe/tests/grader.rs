//! The grader itself is tested: the reference passes, the starter fails with its todo!()
//! message, and plausible wrong lock recipes fail with a message that says what went wrong.

use exercise_grading::Effort;
use sim::zk::client::ZooKeeper;
use sim::zk::txn::{CreateMode, ZkError};
use sim::zk::watch_manager::EventType;
use zk_lock_recipe::{grade, grade_learner, grade_reference, BoxFut, Recipe};

#[test]
fn reference_passes() {
    grade_reference(Effort::QUICK).assert_reference_passes();
}

#[test]
fn starter_fails_with_its_todo() {
    grade_learner(Effort::QUICK).assert_starter_fails_with("not implemented yet: lock");
}

async fn my_node(
    zk: &mut ZooKeeper,
    dir: &str,
    mode: CreateMode,
) -> Result<(String, String), ZkError> {
    let me = zk.create(&format!("{dir}/lock-"), b"", mode).await?;
    let name = me.rsplit('/').next().unwrap_or_default().to_string();
    Ok((me, name))
}

/// Mutant 1 (herd effect): every waiter watches the parent's children.
async fn herd(zk: &mut ZooKeeper, dir: &str) -> Result<String, ZkError> {
    let (me, name) = my_node(zk, dir, CreateMode::EphemeralSequential).await?;
    loop {
        let mut children = zk.get_children(dir, true).await?;
        children.sort();
        if children.first() == Some(&name) {
            return Ok(me);
        }
        if zk.next_event().await.is_none() {
            return Err(ZkError::ConnectionLoss);
        }
    }
}

/// Mutant 2 (no re-check): after the predecessor goes, assumes the lock is ours — wrong when
/// the predecessor was a waiter that crashed.
async fn no_recheck(zk: &mut ZooKeeper, dir: &str) -> Result<String, ZkError> {
    let (me, name) = my_node(zk, dir, CreateMode::EphemeralSequential).await?;
    let mut children = zk.get_children(dir, false).await?;
    children.sort();
    let pos = children.iter().position(|c| *c == name).unwrap_or(0);
    if pos == 0 {
        return Ok(me);
    }
    let pred = format!("{dir}/{}", children[pos - 1]);
    if zk.exists(&pred, true).await?.is_some() {
        while let Some(ev) = zk.next_event().await {
            if ev.kind == EventType::NodeDeleted {
                break;
            }
        }
    }
    Ok(me)
}

/// Mutant 3 (persistent nodes): a crashed client's node stays forever.
async fn persistent(zk: &mut ZooKeeper, dir: &str) -> Result<String, ZkError> {
    let (me, name) = my_node(zk, dir, CreateMode::PersistentSequential).await?;
    loop {
        let mut children = zk.get_children(dir, false).await?;
        children.sort();
        let pos = children.iter().position(|c| *c == name).unwrap_or(0);
        if pos == 0 {
            return Ok(me);
        }
        let pred = format!("{dir}/{}", children[pos - 1]);
        if zk.exists(&pred, true).await?.is_none() {
            continue;
        }
        while let Some(ev) = zk.next_event().await {
            if ev.kind != EventType::NodeDataChanged {
                break;
            }
        }
    }
}

fn unlock<'a>(zk: &'a mut ZooKeeper, node: &'a str) -> BoxFut<'a, ()> {
    Box::pin(async move { zk.delete(node, -1).await })
}

fn herd_lock<'a>(zk: &'a mut ZooKeeper, dir: &'a str) -> BoxFut<'a, String> {
    Box::pin(herd(zk, dir))
}

fn no_recheck_lock<'a>(zk: &'a mut ZooKeeper, dir: &'a str) -> BoxFut<'a, String> {
    Box::pin(no_recheck(zk, dir))
}

fn persistent_lock<'a>(zk: &'a mut ZooKeeper, dir: &'a str) -> BoxFut<'a, String> {
    Box::pin(persistent(zk, dir))
}

#[test]
fn herd_effect_fails() {
    let o = grade(Recipe { lock: herd_lock, unlock }, Effort::QUICK);
    assert!(!o.passed());
    assert!(
        o.failures().join("\n").contains("a release should wake only the next client"),
        "{:?}",
        o.failures()
    );
}

#[test]
fn no_recheck_breaks_mutual_exclusion() {
    let o = grade(Recipe { lock: no_recheck_lock, unlock }, Effort::QUICK);
    assert!(!o.passed());
    assert!(o.failures().join("\n").contains("while LockClient-"), "{:?}", o.failures());
}

#[test]
fn persistent_nodes_starve_everyone() {
    let o = grade(Recipe { lock: persistent_lock, unlock }, Effort::QUICK);
    assert!(!o.passed());
    assert!(o.failures().join("\n").contains("not EPHEMERAL"), "{:?}", o.failures());
}
