//! A follower that loses power mid-traffic rejoins through DIFF or SNAP and ends with the
//! leader's tree; the same seed and script give a byte-identical trace.

use lab_tests::{booted_shell, client_world, dump_tree, in_process, run_script};
use sim::trace::lock;
use sim::world::Sim;
use sim::zk::client::ZooKeeper;
use sim::zk::txn::CreateMode;
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
        let leader = hosts[modes.iter().position(|m| m.as_deref() == Some("leader")).expect("leader")];
        let follower = hosts[modes.iter().position(|m| m.as_deref() == Some("follower")).expect("follower")];
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
        sh.exec_line(&format!("lab crash {follower}")).await;
        madsim::time::sleep(Duration::from_secs(2)).await;
        sh.exec_line(&format!("lab boot {follower}")).await;
        sh.exec_line(&format!("ssh {follower} zkServer.sh start")).await;
        madsim::time::sleep(Duration::from_secs(10)).await;
        assert!(*lock(&done) >= 250, "writes kept flowing: {}", *lock(&done));
        let events = world.tracer().events();
        let syncs: Vec<_> = events.iter().filter(|e| e.kind == "zab.sync" && e.host == leader).collect();
        let last = syncs.last().expect("the leader synced the follower");
        assert!(matches!(last.str("mode"), Some("DIFF") | Some("SNAP") | Some("TRUNC+DIFF")), "{last:?}");
        let (l, f) = (leader.to_string(), follower.to_string());
        let (a, b) = in_process(&world, move |ctx| async move { (dump_tree(&ctx, &l).await, dump_tree(&ctx, &f).await) })
            .await
            .expect("checker");
        let (a, b) = (a.expect("leader tree"), b.expect("follower tree"));
        assert!(a.len() > 250, "{} nodes", a.len());
        assert_eq!(a, b, "the rejoined follower's tree differs from the leader's");
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
