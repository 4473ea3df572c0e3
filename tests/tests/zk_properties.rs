//! ZooKeeper under random faults, over many seeds: a writer creates znodes through the
//! connection string while a nemesis crashes hosts, kills servers and partitions the network.
//! After the faults stop and the ensemble recovers:
//! - at most one leader per epoch, and every server's committed history is a prefix of the
//!   longest (checkers over the trace);
//! - every write acknowledged to the client is readable;
//! - all servers hold the same tree.
//!
//! A failure prints the seed; `ZK_SEEDS=a..b` reruns a range.

use lab_tests::{booted_shell, client_world, dump_tree as dump, in_process, zk_servers};
use madsim::rand::Rng;
use sim::check;
use sim::fault::{Fault, PartitionSpec};
use sim::shell::Shell;
use sim::trace::lock;
use sim::world::{ProcCtx, Sim};
use sim::zk::client::ZooKeeper;
use sim::zk::txn::{CreateMode, ZkError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SERVERS: [&str; 3] = ["master", "slave1", "slave2"];

/// Creates `/w-N` znodes one after another, recording those acknowledged.
async fn writer(ctx: ProcCtx, acked: Arc<Mutex<Vec<String>>>, stop_at: Duration) {
    let mut zk = ZooKeeper::new(&ctx, zk_servers(), Duration::from_secs(6));
    let mut i = 0u32;
    while ctx.world().elapsed() < stop_at {
        let path = format!("/w-{i}");
        match zk.create(&path, b"v", CreateMode::Persistent).await {
            Ok(_) | Err(ZkError::NodeExists) => {
                // NodeExists: an earlier attempt whose answer was lost did commit.
                lock(&acked).push(path);
                i += 1;
            }
            Err(ZkError::SessionExpired) => {
                zk = ZooKeeper::new(&ctx, zk_servers(), Duration::from_secs(6))
            }
            Err(_) => madsim::time::sleep(Duration::from_millis(200)).await,
        }
        let pause = madsim::rand::thread_rng().gen_range(20..200);
        madsim::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// Random faults, injected as typed [`Fault`]s (and the operator's `zkServer.sh stop|start`).
async fn nemesis(sh: &mut Shell, until: Duration) {
    let world = sh.world().clone();
    while world.elapsed() < until {
        let wait = madsim::rand::thread_rng().gen_range(1000..5000);
        madsim::time::sleep(Duration::from_millis(wait)).await;
        let host = SERVERS[madsim::rand::thread_rng().gen_range(0..3)];
        let h = host.to_string();
        match madsim::rand::thread_rng().gen_range(0..6) {
            0 => {
                sh.inject(&Fault::Crash { host: h.clone() }).await;
                // Crashed hosts come back after a while, as an operator would bring them back.
                madsim::time::sleep(Duration::from_millis(2000)).await;
                sh.inject(&Fault::Boot { host: h }).await;
                sh.exec_line(&format!("ssh {host} zkServer.sh start")).await;
            }
            1 => {
                sh.inject(&Fault::Boot { host: h }).await;
            }
            2 => {
                sh.exec_line(&format!("ssh {host} zkServer.sh stop")).await;
            }
            3 => {
                sh.exec_line(&format!("ssh {host} zkServer.sh start")).await;
            }
            4 => {
                let mut others: Vec<String> =
                    SERVERS.iter().filter(|o| **o != host).map(|o| o.to_string()).collect();
                others.push("client".into());
                let spec = PartitionSpec { a: vec![h], b: others, one_way: false, port: None };
                sh.inject(&Fault::Partition(spec)).await;
            }
            _ => {
                sh.inject(&Fault::Heal).await;
            }
        }
        sh.take_output();
    }
}

fn run_seed(seed: u64) -> Result<usize, String> {
    Sim::new(client_world(seed)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        let acked = Arc::new(Mutex::new(Vec::new()));
        let faults_end = world.elapsed() + Duration::from_secs(40);
        let a = acked.clone();
        world
            .spawn("client", "Writer", move |ctx| writer(ctx, a, faults_end))
            .map_err(|e| e.to_string())?;
        nemesis(&mut sh, faults_end).await;
        // Recovery: heal, power on, start every server.
        sh.inject(&Fault::Heal).await;
        for h in SERVERS {
            sh.inject(&Fault::Boot { host: h.into() }).await;
            sh.exec_line(&format!("ssh {h} zkServer.sh start")).await;
        }
        sh.take_output();
        if !sh.wait_for_quorum(Duration::from_secs(120)).await {
            return Err(format!("seed {seed}: no quorum after recovery"));
        }
        madsim::time::sleep(Duration::from_secs(10)).await;
        let events = world.tracer().events();
        for r in [check::single_leader_per_epoch(&events), check::committed_logs_agree(&events)] {
            if !r.ok {
                return Err(format!("seed {seed}: {} failed: {}", r.name, r.detail));
            }
        }
        let acked: Vec<String> = lock(&acked).clone();
        let trees = in_process(&world, move |ctx| async move {
            let mut trees = Vec::new();
            for h in SERVERS {
                trees.push(dump(&ctx, h).await);
            }
            trees
        })
        .await
        .ok_or("checker died")?;
        let first = trees[0].as_ref().map_err(|e| format!("seed {seed}: reading master: {e}"))?;
        for (h, t) in SERVERS.iter().zip(&trees) {
            let t = t.as_ref().map_err(|e| format!("seed {seed}: reading {h}: {e}"))?;
            if t != first {
                return Err(format!(
                    "seed {seed}: {h}'s tree differs from master's ({} vs {} nodes)",
                    t.len(),
                    first.len()
                ));
            }
        }
        for p in &acked {
            if !first.iter().any(|(q, _)| q == p) {
                return Err(format!("seed {seed}: acknowledged write {p} lost"));
            }
        }
        Ok(acked.len())
    })
}

fn seeds() -> std::ops::Range<u64> {
    std::env::var("ZK_SEEDS")
        .ok()
        .and_then(|s| {
            let (a, b) = s.split_once("..")?;
            Some(a.parse().ok()?..b.parse().ok()?)
        })
        .unwrap_or(0..200)
}

#[test]
fn zookeeper_keeps_its_promises_under_random_faults() {
    let mut failures = Vec::new();
    let mut writes = 0;
    for seed in seeds() {
        match run_seed(seed) {
            Ok(n) => writes += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{} failing seeds:\n{}", failures.len(), failures.join("\n"));
    assert!(writes > 0, "the writer never got a write acknowledged");
    eprintln!("{writes} acknowledged writes survived");
}
