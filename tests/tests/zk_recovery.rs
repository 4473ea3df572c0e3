//! A follower that loses power mid-traffic rejoins through DIFF or SNAP and ends with the
//! leader's tree; a leader that cannot write its log exits instead of serving ahead of its disk;
//! the same seed and script give a byte-identical trace.

use lab_tests::{booted_shell, client_world, dump_tree, in_process, run_script};
use sim::fault::Fault;
use sim::trace::{kind, lock};
use sim::world::Sim;
use sim::zk::client::ZooKeeper;
use sim::zk::txn::{CreateMode, ZkError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn a_crashed_follower_rejoins_and_matches_the_leader() {
    Sim::new(client_world(11)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        let modes: Vec<Option<String>> = {
            let mut m = Vec::new();
            for h in ["master", "slave1", "slave2"] {
                m.push(sim::zk::cli::status(&world, h).await);
            }
            m
        };
        let hosts = ["master", "slave1", "slave2"];
        let leader =
            hosts[modes.iter().position(|m| m.as_deref() == Some("leader")).expect("leader")];
        let follower =
            hosts[modes.iter().position(|m| m.as_deref() == Some("follower")).expect("follower")];
        // Traffic through the leader while the follower loses power.
        let done = Arc::new(Mutex::new(0u32));
        let d = done.clone();
        let leader_s = leader.to_string();
        world
            .spawn("client", "Writer", move |ctx| async move {
                let zk = ZooKeeper::new(&ctx, vec![(leader_s, 2181)], Duration::from_secs(10));
                for i in 0..300 {
                    if zk.create(&format!("/n{i}"), b"x", CreateMode::Persistent).await.is_ok() {
                        *lock(&d) += 1;
                    }
                    madsim::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .expect("writer");
        madsim::time::sleep(Duration::from_secs(2)).await;
        sh.inject(&Fault::Crash { host: follower.into() }).await;
        madsim::time::sleep(Duration::from_secs(2)).await;
        sh.inject(&Fault::Boot { host: follower.into() }).await;
        sh.exec_line(&format!("ssh {follower} zkServer.sh start")).await;
        madsim::time::sleep(Duration::from_secs(10)).await;
        assert!(*lock(&done) >= 250, "writes kept flowing: {}", *lock(&done));
        let events = world.tracer().events();
        let syncs: Vec<_> =
            events.iter().filter(|e| e.kind == kind::ZAB_SYNC && e.host == leader).collect();
        let last = syncs.last().expect("the leader synced the follower");
        assert!(
            matches!(last.str("mode"), Some("DIFF") | Some("SNAP") | Some("TRUNC+DIFF")),
            "{last:?}"
        );
        let (l, f) = (leader.to_string(), follower.to_string());
        let (a, b) = in_process(&world, move |ctx| async move {
            (dump_tree(&ctx, &l).await, dump_tree(&ctx, &f).await)
        })
        .await
        .expect("checker");
        let (a, b) = (a.expect("leader tree"), b.expect("follower tree"));
        assert!(a.len() > 250, "{} nodes", a.len());
        assert_eq!(a, b, "the rejoined follower's tree differs from the leader's");
    });
}

/// A leader whose disk fills cannot log proposals. ZooKeeper exits (`SyncRequestProcessor`:
/// "Severe unrecoverable error, exiting", status 11) rather than go on committing what it never
/// logged: a server that did would recover a history with a hole in it after its next restart,
/// and then answer the same txn differently from the others (two Kafka controllers followed).
#[test]
fn a_leader_that_cannot_log_exits_and_rejoins_with_the_same_history() {
    Sim::new(client_world(5)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        let hosts = ["master", "slave1", "slave2"];
        let mut leader = None;
        for h in hosts {
            if sim::zk::cli::status(&world, h).await.as_deref() == Some("leader") {
                leader = Some(h);
            }
        }
        let leader = leader.expect("a leader");
        let other = hosts.iter().copied().find(|h| *h != leader).expect("a follower");
        let writes = |from: usize, to: usize| {
            let other = other.to_string();
            in_process(&world, move |ctx| async move {
                let zk = ZooKeeper::new(&ctx, vec![(other, 2181)], Duration::from_secs(10));
                let mut ok = 0;
                for i in from..to {
                    // A request in flight when its server loses the leader fails with
                    // ConnectionLoss: retry, and take NodeExists as "it did happen".
                    for _ in 0..20 {
                        match zk.create(&format!("/n{i}"), b"x", CreateMode::Persistent).await {
                            Ok(_) | Err(ZkError::NodeExists) => {
                                ok += 1;
                                break;
                            }
                            Err(_) => madsim::time::sleep(Duration::from_millis(500)).await,
                        }
                    }
                }
                zk.close().await;
                ok
            })
        };
        assert_eq!(writes(0, 10).await, Some(10));
        sh.inject(&Fault::DiskFull { host: leader.into() }).await;
        // The first proposal the leader cannot log ends it; the others elect a new leader and
        // the client's retries carry on there.
        assert_eq!(writes(10, 20).await, Some(10), "writes go on without the full disk");
        let events = world.tracer().events();
        let halt = events
            .iter()
            .find(|e| e.kind == kind::PROC_HALT && e.host == leader && e.proc == "QuorumPeerMain");
        assert_eq!(
            halt.and_then(|e| e.i64("status")),
            Some(11),
            "the leader exited with status 11"
        );
        assert!(
            events.iter().any(|e| e.kind == kind::ZK_FATAL
                && e.host == leader
                && e.str("error") == Some("No space left on device")),
            "the reason is traced"
        );
        sh.inject(&Fault::DiskFree { host: leader.into() }).await;
        sh.exec_line(&format!("ssh {leader} zkServer.sh start")).await;
        madsim::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(writes(20, 30).await, Some(10));
        // Each tree, read through its own server, is the same; so is every txn's result.
        let trees = in_process(&world, move |ctx| async move {
            let mut v = Vec::new();
            for h in hosts {
                v.push(dump_tree(&ctx, h).await.expect("tree"));
            }
            v
        })
        .await
        .expect("checker");
        assert!(trees[0].len() > 30, "{} nodes", trees[0].len());
        assert!(trees.iter().all(|t| *t == trees[0]), "the servers' trees differ");
        let agree = sim::check::committed_logs_agree(&world.tracer().events());
        assert!(agree.ok, "{}", agree.detail);
    });
}

const SCRIPT: &str = "zkCli.sh -server master:2181 create /a 1\n\
                      ssh slave2 zkServer.sh stop\n\
                      sleep 5\n\
                      lab partition master | slave1\n\
                      sleep 3\n\
                      lab heal\n\
                      ssh slave2 zkServer.sh start\n\
                      sleep 5\n\
                      zkCli.sh -server slave2:2181 get /a";

#[test]
fn same_seed_same_script_same_trace() {
    let a = run_script(7, true, SCRIPT);
    let b = run_script(7, true, SCRIPT);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.output, b.output);
    let c = run_script(8, true, SCRIPT);
    assert_ne!(a.trace_hash, c.trace_hash, "a different seed must give a different run");
    assert!(a.trace.lines().count() > 100);
}
