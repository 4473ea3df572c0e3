//! The `ZooKeeper` client handle: one-shot watches, session expiry seen by the client, and
//! failover across the connection string.

use lab_tests::{booted_shell, client_world, zk_servers};
use sim::fault::{Fault, PartitionSpec};
use sim::shell::Shell;
use sim::world::{ProcCtx, Sim, World};
use sim::zk::client::{KeeperState, ZooKeeper};
use sim::zk::txn::{CreateMode, ZkError};
use sim::zk::watch_manager::EventType;
use std::time::Duration;

/// `lab partition client | master slave1 slave2`.
fn cut_client() -> PartitionSpec {
    let servers = ["master", "slave1", "slave2"].map(String::from).to_vec();
    PartitionSpec { a: vec!["client".into()], b: servers, one_way: false, port: None }
}

fn with_cluster<F, Fut>(seed: u64, f: F)
where
    F: FnOnce(World, Shell, ProcCtx) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    Sim::new(client_world(seed)).run(|world| async move {
        let sh = booted_shell(&world).await;
        // A process context on the client host, for handles driven from the test itself.
        let (tx, rx) = futures::channel::oneshot::channel();
        world
            .spawn("client", "Test", move |ctx| async move {
                let _ = tx.send(ctx);
                madsim::time::sleep(Duration::from_secs(100_000)).await;
            })
            .expect("spawn");
        let ctx = rx.await.expect("ctx");
        f(world, sh, ctx).await;
    });
}

async fn next_node_event(zk: &mut ZooKeeper) -> (EventType, String) {
    loop {
        let ev = madsim::time::timeout(Duration::from_secs(5), zk.next_event())
            .await
            .expect("an event in time")
            .expect("open");
        if ev.kind != EventType::None {
            return (ev.kind, ev.path.unwrap_or_default());
        }
    }
}

#[test]
fn watches_fire_once() {
    with_cluster(1, |_world, _sh, ctx| async move {
        let mut a = ZooKeeper::new(&ctx, vec![("slave1".into(), 2181)], Duration::from_secs(10));
        let b = ZooKeeper::new(&ctx, vec![("master".into(), 2181)], Duration::from_secs(10));
        assert_eq!(a.exists("/w", true).await, Ok(None));
        b.create("/w", b"1", CreateMode::Persistent).await.expect("create");
        assert_eq!(next_node_event(&mut a).await, (EventType::NodeCreated, "/w".into()));
        let (data, _) = a.get_data("/w", true).await.expect("get");
        assert_eq!(data, b"1");
        a.get_children("/w", true).await.expect("children");
        b.set_data("/w", b"2", -1).await.expect("set");
        assert_eq!(next_node_event(&mut a).await, (EventType::NodeDataChanged, "/w".into()));
        // One-shot: a second change without re-arming fires nothing.
        b.set_data("/w", b"3", -1).await.expect("set");
        b.create("/w/c", b"", CreateMode::Persistent).await.expect("child");
        assert_eq!(next_node_event(&mut a).await, (EventType::NodeChildrenChanged, "/w".into()));
        madsim::time::sleep(Duration::from_secs(1)).await;
        assert!(a.try_next_event().is_none(), "the data watch must not fire twice");
        let stat = b.set_data("/w", b"4", 3).await;
        assert_eq!(stat.err(), Some(ZkError::BadVersion));
    });
}

#[test]
fn a_client_cut_off_longer_than_its_timeout_sees_its_session_expire() {
    with_cluster(2, |_world, mut sh, ctx| async move {
        let mut zk = ZooKeeper::new(&ctx, zk_servers(), Duration::from_secs(4));
        zk.create("/mine", b"", CreateMode::Ephemeral).await.expect("create");
        let session = zk.session_id();
        assert_ne!(session, 0);
        assert_eq!(zk.session_timeout_ms(), 4000);
        sh.inject(&Fault::Partition(cut_client())).await;
        madsim::time::sleep(Duration::from_secs(10)).await;
        sh.inject(&Fault::Heal).await;
        let mut states = Vec::new();
        while let Ok(Some(ev)) =
            madsim::time::timeout(Duration::from_secs(10), zk.next_event()).await
        {
            states.push(ev.state);
            if ev.state == KeeperState::Expired {
                break;
            }
        }
        assert!(states.contains(&KeeperState::Disconnected), "{states:?}");
        assert_eq!(states.last(), Some(&KeeperState::Expired), "{states:?}");
        assert_eq!(zk.get_data("/mine", false).await.err(), Some(ZkError::SessionExpired));
        let other = ZooKeeper::new(&ctx, zk_servers(), Duration::from_secs(4));
        assert_eq!(
            other.exists("/mine", false).await,
            Ok(None),
            "the ephemeral died with the session"
        );
    });
}

#[test]
fn the_session_survives_a_server_crash_by_moving_to_another_server() {
    with_cluster(3, |_world, mut sh, ctx| async move {
        let zk = ZooKeeper::new(&ctx, zk_servers(), Duration::from_secs(10));
        zk.create("/eph", b"", CreateMode::Ephemeral).await.expect("create");
        let before = zk.current_server().expect("connected");
        let host = before.split(':').next().unwrap_or("").to_string();
        sh.inject(&Fault::Crash { host: host.clone() }).await;
        // Requests in flight fail with ConnectionLoss; the session moves on.
        let mut ok = false;
        for _ in 0..20 {
            madsim::time::sleep(Duration::from_millis(500)).await;
            if zk.exists("/eph", false).await.map(|s| s.is_some()) == Ok(true) {
                ok = true;
                break;
            }
        }
        assert!(ok, "the ephemeral (and so the session) survived the move");
        assert_ne!(zk.current_server(), Some(before));
    });
}
