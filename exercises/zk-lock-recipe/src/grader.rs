//! The grader: five lock clients (`LockClient-1..5`, three on host `client`, two on
//! `client2`) contend for one lock under `/locks/resource` on the seed's three-server ensemble.
//! Each loops: `lock`, hold it a little, `unlock`, think a little. Meanwhile one client is
//! killed (`kill -9`: its session, and its node, live on until the session timeout) and later
//! restarted, and `client2` is cut off from the ensemble for longer than the session timeout
//! (its sessions expire). The harness, not your code, decides when a client holds the lock: from
//! `lock` returning until it calls `unlock`, or until its connection drops (then the lock may
//! already be someone else's, so the harness stops using it, closes that session and opens a
//! new one — as Curator does on SUSPENDED). Any error from `lock` also gets a new session.
//!
//! From the trace: no two clients hold the lock at once; every wake-up of a waiting client
//! (a watch notification delivered to it) follows one lock-node deletion — a release wakes only
//! the next client, not the herd; and every client that stays up keeps getting the lock.

use exercise_grading::{call_async, hidden_seeds, per_seed, Effort, Outcome, Witness};
use futures::FutureExt;
use madsim::rand::Rng;
use sim::fault::{Fault, PartitionSpec};
use sim::shell::Shell;
use sim::trace::{fields, kind, Event};
use sim::world::{HostSpec, ProcCtx, Sim, World};
use sim::zk::client::{KeeperState, ZooKeeper};
use sim::zk::txn::{CreateMode, ZkError};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The exercise's name.
pub const NAME: &str = "zk-lock-recipe";

/// A boxed future of a recipe step.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T, ZkError>> + Send + 'a>>;

/// `lock` and `unlock` of `learner.rs`, boxed.
#[derive(Clone, Copy)]
pub struct Recipe {
    /// `lock(zk, dir)`.
    pub lock: for<'a> fn(&'a mut ZooKeeper, &'a str) -> BoxFut<'a, String>,
    /// `unlock(zk, node)`.
    pub unlock: for<'a> fn(&'a mut ZooKeeper, &'a str) -> BoxFut<'a, ()>,
}

const DIR: &str = "/locks/resource";
const CLIENTS: usize = 5;
const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
const RUN: Duration = Duration::from_secs(40);

fn servers() -> Vec<(String, u16)> {
    ["master", "slave1", "slave2"].iter().map(|h| (h.to_string(), 2181)).collect()
}

fn host_of(i: usize) -> &'static str {
    if i < 3 {
        "client"
    } else {
        "client2"
    }
}

/// One lock client's life.
async fn client(ctx: ProcCtx, recipe: Recipe, w: Witness, until: madsim::time::Instant) {
    let mut zk = ZooKeeper::new(&ctx, servers(), SESSION_TIMEOUT);
    while madsim::time::Instant::now() < until {
        let got = call_async((recipe.lock)(&mut zk, DIR)).await;
        let node = match got {
            Err(panic) => {
                w.record_panic(panic);
                return;
            }
            Ok(Err(e)) => {
                ctx.trace(
                    kind::LOCK_ERROR,
                    None,
                    fields! { "op" => "lock", "error" => format!("{e:?}") },
                );
                zk.close().await;
                zk = ZooKeeper::new(&ctx, servers(), SESSION_TIMEOUT);
                madsim::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Ok(Ok(node)) => node,
        };
        ctx.trace(kind::LOCK_ACQUIRED, None, fields! { "node" => node.as_str() });
        let hold = Duration::from_millis(madsim::rand::thread_rng().gen_range(20..150));
        let deadline = madsim::time::Instant::now() + hold;
        // Hold the lock, unless the connection drops: then it may no longer be ours.
        let mut lost = None;
        while lost.is_none() {
            futures::select! {
                _ = madsim::time::sleep_until(deadline).fuse() => break,
                ev = zk.next_event().fuse() => match ev {
                    Some(ev) if ev.state != KeeperState::SyncConnected => lost = Some(ev.state.name()),
                    Some(_) => {}
                    None => lost = Some("closed"),
                },
            }
        }
        if let Some(why) = lost {
            ctx.trace(kind::LOCK_LOST, None, fields! { "node" => node.as_str(), "why" => why });
            zk.close().await;
            zk = ZooKeeper::new(&ctx, servers(), SESSION_TIMEOUT);
            continue;
        }
        ctx.trace(kind::LOCK_RELEASED, None, fields! { "node" => node.as_str() });
        match call_async((recipe.unlock)(&mut zk, &node)).await {
            Err(panic) => {
                w.record_panic(panic);
                return;
            }
            Ok(Err(e)) => {
                ctx.trace(
                    kind::LOCK_ERROR,
                    None,
                    fields! { "op" => "unlock", "error" => format!("{e:?}") },
                );
                zk.close().await;
                zk = ZooKeeper::new(&ctx, servers(), SESSION_TIMEOUT);
            }
            Ok(Ok(())) => {}
        }
        madsim::time::sleep(Duration::from_millis(madsim::rand::thread_rng().gen_range(0..60)))
            .await;
    }
    zk.close().await;
}

fn spawn_client(
    world: &World,
    i: usize,
    recipe: Recipe,
    w: &Witness,
    until: madsim::time::Instant,
) -> Option<u32> {
    let w = w.clone();
    world
        .spawn(host_of(i), &format!("LockClient-{}", i + 1), move |ctx| {
            client(ctx, recipe, w, until)
        })
        .ok()
}

/// One seeded run; returns the trace.
fn run(recipe: Recipe, seed: u64, w: &Witness) -> Vec<Event> {
    let mut cfg = sim::seeded(seed);
    cfg.hosts.push(HostSpec { name: "client".into(), ip: "192.168.1.110".into() });
    cfg.hosts.push(HostSpec { name: "client2".into(), ip: "192.168.1.111".into() });
    let w = w.clone();
    Sim::new(cfg).run(|world| async move {
        let mut sh = Shell::new(world.clone());
        sh.think_time = Duration::ZERO;
        sh.boot_cluster(true).await;
        // The lock's parent, made by a set-up client.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d = done.clone();
        let _ = world.spawn("client", "LockSetup", move |ctx| async move {
            let zk = ZooKeeper::new(&ctx, servers(), SESSION_TIMEOUT);
            for path in ["/locks", DIR] {
                let _ = zk.create(path, b"", CreateMode::Persistent).await;
            }
            zk.close().await;
            d.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            madsim::time::sleep(Duration::from_millis(50)).await;
        }
        let t0 = madsim::time::Instant::now();
        let until = t0 + RUN;
        world.trace("lab", "grader", kind::LOCK_START, None, fields! {});
        let mut pids: Vec<Option<u32>> =
            (0..CLIENTS).map(|i| spawn_client(&world, i, recipe, &w, until)).collect();
        let (victim, kill_at, part_at) = {
            let mut r = madsim::rand::thread_rng();
            (r.gen_range(0..CLIENTS), r.gen_range(4_000..9_000u64), r.gen_range(18_000..24_000u64))
        };
        // kill -9 one client; restart it 8 s later.
        madsim::time::sleep_until(t0 + Duration::from_millis(kill_at)).await;
        if let Some(pid) = pids[victim] {
            world.trace(
                "lab",
                "grader",
                kind::LOCK_CRASH,
                None,
                fields! { "client" => format!("LockClient-{}", victim + 1) },
            );
            world.kill(host_of(victim), pid);
        }
        madsim::time::sleep(Duration::from_secs(8)).await;
        pids[victim] = spawn_client(&world, victim, recipe, &w, until);
        // Cut client2 off for longer than the session timeout.
        madsim::time::sleep_until(t0 + Duration::from_millis(part_at)).await;
        let rest = ["master", "slave1", "slave2", "client"].map(String::from).to_vec();
        let cut = PartitionSpec { a: vec!["client2".into()], b: rest, one_way: false, port: None };
        sh.inject(&Fault::Partition(cut)).await;
        madsim::time::sleep(SESSION_TIMEOUT + Duration::from_secs(3)).await;
        sh.inject(&Fault::Heal).await;
        madsim::time::sleep_until(until + Duration::from_secs(3)).await;
        world.tracer().events()
    })
}

/// Two clients holding the lock at once: one message per violation.
pub fn overlaps(events: &[Event]) -> Vec<String> {
    let mut holders: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        match e.kind.as_str() {
            kind::LOCK_ACQUIRED => {
                let node = e.str("node").unwrap_or_default().to_string();
                for (other, (since, their)) in holders.iter().filter(|(p, _)| **p != e.proc) {
                    out.push(format!(
                        "at {:.3} s {} got the lock (node {node}) while {other} held it since {:.3} s (node {their})",
                        e.t_us as f64 / 1e6,
                        e.proc,
                        *since as f64 / 1e6
                    ));
                }
                holders.insert(e.proc.clone(), (e.t_us, node));
            }
            kind::LOCK_RELEASED | kind::LOCK_LOST => {
                holders.remove(&e.proc);
            }
            kind::LOCK_CRASH => {
                holders.remove(e.str("client").unwrap_or_default());
            }
            _ => {}
        }
    }
    out
}

/// (wake-ups of lock clients by watch notifications, lock-node deletions).
pub fn wakeups_and_deletions(events: &[Event]) -> (usize, usize) {
    let wakeups = events
        .iter()
        .filter(|e| {
            e.kind == kind::NET_RECV
                && e.proc.starts_with("LockClient-")
                && e.str("msg") == Some("zk.watch_event")
        })
        .count();
    let deletes = events
        .iter()
        .filter(|e| {
            e.kind == kind::ZK_REQUEST
                && e.str("op") == Some("delete")
                && e.str("path").is_some_and(|p| p.starts_with(DIR))
        })
        .count();
    let expired = events.iter().filter(|e| e.kind == kind::ZK_SESSION_EXPIRE).count();
    let closed = events
        .iter()
        .filter(|e| e.kind == kind::ZK_REQUEST && e.str("op") == Some("closeSession"))
        .count();
    (wakeups, deletes + expired + closed)
}

/// Grades `recipe`.
pub fn grade(recipe: Recipe, effort: Effort) -> Outcome {
    exercise_grading::quiet_panics();
    let mut out = Outcome::new(NAME);
    let seeds = hidden_seeds(NAME, "contention", effort.seeds);
    let runs = per_seed(&seeds, exercise_grading::jobs(), |seed| {
        let w = Witness::new();
        let events = run(recipe, seed, &w);
        (seed, w, events)
    });
    let (mut exclusion, mut herd, mut progress) = (Vec::new(), Vec::new(), Vec::new());
    for (seed, w, events) in &runs {
        if let Some(p) = w.panic() {
            out.panicked(p);
            return out;
        }
        let o = overlaps(events);
        if let Some(first) = o.first() {
            exclusion.push(format!(
                "seed {seed}: {first}{}",
                if o.len() > 1 { format!(" ({} times in all)", o.len()) } else { String::new() }
            ));
        }
        let (wakeups, deletions) = wakeups_and_deletions(events);
        if wakeups > deletions + 2 {
            herd.push(format!(
                "seed {seed}: waiting clients were woken {wakeups} times by watches for {deletions} lock-node deletions — a release should wake only the next client (watch your predecessor with exists, not the parent's children or the lowest node)"
            ));
        }
        // Progress in the last 7 s, after every fault is over: each client got the lock again.
        let start = events.iter().find(|e| e.kind == kind::LOCK_START).map_or(0, |e| e.t_us);
        let late = start + (RUN - Duration::from_secs(7)).as_micros() as u64;
        let mut per: BTreeMap<&str, usize> = BTreeMap::new();
        for e in events.iter().filter(|e| e.kind == kind::LOCK_ACQUIRED && e.t_us >= late) {
            *per.entry(e.proc.as_str()).or_default() += 1;
        }
        let starved: Vec<String> = (1..=CLIENTS)
            .map(|i| format!("LockClient-{i}"))
            .filter(|c| !per.contains_key(c.as_str()))
            .collect();
        let total = events.iter().filter(|e| e.kind == kind::LOCK_ACQUIRED).count();
        if !starved.is_empty() {
            let errors = events.iter().filter(|e| e.kind == kind::LOCK_ERROR).count();
            progress.push(format!(
                "seed {seed}: {} never got the lock in the last 7 s, after the faults were over ({total} acquisitions in the whole run, {errors} errors from lock/unlock) — is a crashed client's node left behind (not EPHEMERAL), or is a wake-up missed?",
                starved.join(", ")
            ));
        }
    }
    out.check(
        &format!(
            "mutual exclusion ({} seeds with a client crash and a session expiry)",
            seeds.len()
        ),
        exclusion.is_empty(),
        || exclusion.join("; "),
    );
    out.check("no herd effect: a release wakes only the next client", herd.is_empty(), || {
        herd.join("; ")
    });
    out.check("every client keeps getting the lock", progress.is_empty(), || progress.join("; "));
    out
}
