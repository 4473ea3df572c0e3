//! `kill -STOP` / `kill -CONT` (`Fault::Pause` / `Fault::Resume`): a process stopped where it
//! stands, as in a long GC pause, is silence to its peers, so their own timeouts act on it; once
//! continued it goes on from where it stood and finds out what it missed.
//!
//! - a paused ZooKeeper follower falls out of the leader's quorum after the sync limit and is
//!   synced back in after it resumes;
//! - a paused ZooKeeper leader loses its followers, who elect a new one; resumed, the old leader
//!   gives up and follows;
//! - a paused broker's ZooKeeper session expires (the controller declares it dead); resumed, the
//!   broker finds its session expired and registers again;
//! - the shell's `kill -STOP`/`-CONT`, `pkill -STOP`, `jobs`, `bg` and `lab status` show it, and
//!   bad input is refused with an error.

use lab_tests::{booted_shell, client_world, dump_tree, in_process, run_script};
use sim::fault::Fault;
use sim::shell::Shell;
use sim::trace::{kind, lock, Event};
use sim::world::{Sim, World};
use sim::zk::client::ZooKeeper;
use sim::zk::txn::CreateMode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const HOSTS: [&str; 3] = ["master", "slave1", "slave2"];

async fn zk_modes(world: &World) -> Vec<Option<String>> {
    let mut m = Vec::new();
    for h in HOSTS {
        m.push(sim::zk::cli::status(world, h).await);
    }
    m
}

fn host_in_mode(modes: &[Option<String>], mode: &str) -> &'static str {
    HOSTS[modes.iter().position(|m| m.as_deref() == Some(mode)).expect(mode)]
}

fn pid_of(world: &World, host: &str, name: &str) -> u32 {
    world.processes(host).iter().find(|p| p.name == name).map(|p| p.pid).expect(name)
}

/// Events of `kind` after virtual time `t_us`.
fn after(world: &World, kind: &str, t_us: u64) -> Vec<Event> {
    world.tracer().of_kind(kind).into_iter().filter(|e| e.t_us > t_us).collect()
}

fn now_us(world: &World) -> u64 {
    world.elapsed().as_micros() as u64
}

/// The leader keeps committing with the other follower while one is stopped; the stopped one is
/// out of the quorum (no commit counts its ack). Continued, it reads what the leader sent it
/// meanwhile and ends with the leader's tree. (ZooKeeper 3.4.6's `LearnerHandler` would also
/// drop it after `syncLimit` ticks of silence, its socket read timeout, and sync it again on
/// reconnect; the lab's leader keeps the connection, as it does across a short partition.)
#[test]
fn a_paused_follower_falls_out_of_the_quorum_and_catches_up_after_resume() {
    Sim::new(client_world(11)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        let modes = zk_modes(&world).await;
        let (leader, follower) = (host_in_mode(&modes, "leader"), host_in_mode(&modes, "follower"));
        let sid = HOSTS.iter().position(|h| *h == follower).expect("host") as i64 + 1;
        let pid = pid_of(&world, follower, "QuorumPeerMain");
        let done = Arc::new(Mutex::new(0u32));
        let d = done.clone();
        world
            .spawn("client", "Writer", move |ctx| async move {
                let zk =
                    ZooKeeper::new(&ctx, vec![(leader.to_string(), 2181)], Duration::from_secs(10));
                for i in 0..200 {
                    if zk.create(&format!("/p{i}"), b"x", CreateMode::Persistent).await.is_ok() {
                        *lock(&d) += 1;
                    }
                    madsim::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .expect("writer");
        madsim::time::sleep(Duration::from_secs(2)).await;
        let paused_at = now_us(&world);
        assert_eq!(sh.inject(&Fault::Pause { host: follower.into(), pid }).await, 0);
        assert!(world.is_paused(follower, pid));
        madsim::time::sleep(Duration::from_secs(15)).await;
        let written = *lock(&done);
        assert!(written >= 150, "writes went on while it was stopped: {written}");
        let resumed_at = now_us(&world);
        let commits: Vec<Event> = after(&world, kind::ZAB_COMMIT, paused_at)
            .into_iter()
            .filter(|e| e.t_us < resumed_at)
            .collect();
        assert!(commits.len() >= 100, "{} commits while it was stopped", commits.len());
        let acked_by = |e: &Event| {
            e.fields
                .get("acks")
                .and_then(|a| a.as_array())
                .is_some_and(|a| a.iter().any(|s| s.as_i64() == Some(sid)))
        };
        // The ack of the first commit may have been on its way when it stopped.
        assert!(!commits.iter().skip(1).any(acked_by), "a stopped server acked nothing");
        assert!(
            after(&world, kind::PROC_START, paused_at).iter().all(|e| e.host != follower),
            "nothing restarted the stopped server"
        );
        assert_eq!(
            sim::zk::cli::status(&world, follower).await,
            None,
            "a stopped server answers nothing"
        );
        assert_eq!(sim::zk::cli::status(&world, leader).await.as_deref(), Some("leader"));
        assert_eq!(sh.inject(&Fault::Resume { host: follower.into(), pid }).await, 0);
        madsim::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(pid_of(&world, follower, "QuorumPeerMain"), pid, "the same process");
        assert_eq!(sim::zk::cli::status(&world, follower).await.as_deref(), Some("follower"));
        let (l, f) = (leader.to_string(), follower.to_string());
        let (a, b) = in_process(&world, move |ctx| async move {
            (dump_tree(&ctx, &l).await, dump_tree(&ctx, &f).await)
        })
        .await
        .expect("checker");
        let (a, b) = (a.expect("leader tree"), b.expect("follower tree"));
        assert!(a.len() > 150, "{} nodes", a.len());
        assert_eq!(a, b, "it caught up with what was written while it was stopped");
    });
}

#[test]
fn a_paused_leader_loses_its_followers_and_follows_after_resume() {
    Sim::new(client_world(4)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        let leader = host_in_mode(&zk_modes(&world).await, "leader");
        let pid = pid_of(&world, leader, "QuorumPeerMain");
        let paused_at = now_us(&world);
        assert_eq!(sh.inject(&Fault::Pause { host: leader.into(), pid }).await, 0);
        madsim::time::sleep(Duration::from_secs(20)).await;
        // The two followers heard nothing for the sync limit and elected one of themselves.
        let settled = after(&world, kind::ZAB_LEADING, paused_at);
        let new_leader = settled.iter().map(|e| e.host.clone()).find(|h| h != leader);
        let new_leader = new_leader.expect("a new leader while the old one is stopped");
        assert_eq!(sim::zk::cli::status(&world, &new_leader).await.as_deref(), Some("leader"));
        let resumed_at = now_us(&world);
        assert_eq!(sh.inject(&Fault::Resume { host: leader.into(), pid }).await, 0);
        madsim::time::sleep(Duration::from_secs(20)).await;
        let shut = after(&world, kind::ZAB_LEADER_SHUTDOWN, resumed_at);
        assert!(shut.iter().any(|e| e.host == leader), "the old leader gave up: {shut:?}");
        assert_eq!(sim::zk::cli::status(&world, leader).await.as_deref(), Some("follower"));
        assert_eq!(pid_of(&world, leader, "QuorumPeerMain"), pid, "the same process");
        let events = world.tracer().events();
        let r = sim::check::single_leader_per_epoch(&events);
        assert!(r.ok, "{}", r.detail);
    });
}

async fn start_brokers(sh: &mut Shell) {
    for h in HOSTS {
        sh.exec_line(&format!(
            "ssh {h} kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties"
        ))
        .await;
    }
    madsim::time::sleep(Duration::from_secs(5)).await;
    sh.take_output();
}

#[test]
fn a_paused_broker_loses_its_session_and_registers_again_after_resume() {
    Sim::new(client_world(8)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        let controller = world.tracer().of_kind(kind::KAFKA_CONTROLLER_ELECTED);
        let controller = controller.last().and_then(|e| e.i64("broker")).expect("a controller");
        // A broker that is not the controller: broker ids are 0, 1, 2 on master, slave1, slave2.
        let id = (controller + 1) % 3;
        let host = HOSTS[id as usize];
        let pid = pid_of(&world, host, "Kafka");
        let paused_at = now_us(&world);
        sh.exec_line(&format!("ssh {host} kill -STOP {pid}")).await;
        assert_eq!(sh.last_exit, 0, "{}", sh.take_output());
        // zookeeper.session.timeout.ms is 6 s: the session expires, the controller sees it go.
        madsim::time::sleep(Duration::from_secs(15)).await;
        let changes = after(&world, kind::KAFKA_BROKER_CHANGE, paused_at);
        assert!(
            changes.iter().any(|e| e
                .fields
                .get("dead")
                .and_then(|d| d.as_array())
                .is_some_and(|d| d.iter().any(|b| b.as_i64() == Some(id)))),
            "the controller saw broker {id} die: {changes:?}"
        );
        assert!(after(&world, kind::KAFKA_REGISTERED, paused_at).is_empty(), "nothing ran on it");
        sh.exec_line(&format!("ssh {host} kill -CONT {pid}")).await;
        assert_eq!(sh.last_exit, 0, "{}", sh.take_output());
        madsim::time::sleep(Duration::from_secs(10)).await;
        let expired = after(&world, kind::KAFKA_SESSION_EXPIRED, paused_at);
        assert!(
            expired.iter().any(|e| e.host == host),
            "it found its session expired: {expired:?}"
        );
        let registered = after(&world, kind::KAFKA_REGISTERED, paused_at);
        assert!(registered.iter().any(|e| e.host == host), "it registered again: {registered:?}");
        assert_eq!(pid_of(&world, host, "Kafka"), pid, "the same process");
    });
}

#[test]
fn the_shell_stops_and_continues_processes_and_jobs() {
    let run = run_script(
        2,
        true,
        "ssh slave1 kafka-server-start.sh $KAFKA_HOME/config/server.properties &\n\
         sleep 3\n\
         ssh slave1 pkill -STOP Kafka\n\
         jobs\n\
         lab status\n\
         ssh slave1 pkill -CONT Kafka\n\
         jobs\n\
         kill -STOP %1\n\
         bg %1\n\
         jobs\n\
         lab status\n\
         sleep 100 &\n\
         kill -STOP %2\n\
         kill -CONT %2\n\
         jobs\n\
         kill -STOP 99999\n\
         kill -CONT 99999\n\
         kill -HUP %1\n\
         ssh nowhere kill -STOP 1\n\
         kill %1\n\
         sleep 5\n\
         kill -9 %2",
    );
    let code = |line: &str| run.steps.iter().find(|(l, _, _)| l == line).map(|(_, _, c)| *c);
    let cmd = "ssh slave1 kafka-server-start.sh $KAFKA_HOME/config/server.properties";
    // bash reports the stop before the next prompt and lists the job as stopped.
    assert_eq!(
        run.output_of("ssh slave1 pkill -STOP Kafka", 0),
        format!("[1]+  Stopped                 {cmd}\n")
    );
    assert_eq!(run.output_of("jobs", 0), format!("[1]+  Stopped                 {cmd}\n"));
    let status = run.output_of("lab status", 0);
    let slave1 = status.lines().find(|l| l.starts_with("slave1")).expect("slave1 row");
    assert!(slave1.contains("Kafka (stopped)"), "{status}");
    // Continued: running again, and bash prints nothing for it.
    assert_eq!(run.output_of("ssh slave1 pkill -CONT Kafka", 0), "");
    assert_eq!(run.output_of("jobs", 1), format!("[1]+  Running                 {cmd} &\n"));
    // kill -STOP %1, then bg continues it.
    assert_eq!(run.output_of("kill -STOP %1", 0), format!("[1]+  Stopped                 {cmd}\n"));
    assert_eq!(run.output_of("bg %1", 0), format!("[1]+ {cmd} &\n"));
    assert_eq!(run.output_of("jobs", 2), format!("[1]+  Running                 {cmd} &\n"));
    assert!(!run.output_of("lab status", 1).contains("(stopped)"));
    // A stopped sleep is Stopped until continued.
    assert_eq!(run.output_of("kill -STOP %2", 0), "[2]+  Stopped                 sleep 100\n");
    assert!(run.output_of("jobs", 3).contains("[2]+  Running                 sleep 100 &"));
    // Bad input: errors and non-zero exits, never a panic.
    assert_eq!(run.output_of("kill -STOP 99999", 0), "bash: kill: (99999) - No such process\n");
    assert_eq!(code("kill -STOP 99999"), Some(1));
    assert_eq!(code("kill -CONT 99999"), Some(1));
    assert!(run.output_of("kill -HUP %1", 0).contains("not modelled"));
    assert_eq!(code("kill -HUP %1"), Some(1));
    assert_eq!(code("ssh nowhere kill -STOP 1"), Some(255));
    // kill %1: SIGTERM, a clean shutdown.
    assert!(run.output_of("sleep 5", 0).contains("Exit 143"), "{}", run.output_of("sleep 5", 0));
    assert_eq!(code("kill -9 %2"), Some(0));
}

/// A signal sent to a stopped process waits until it is continued, as the kernel keeps it
/// pending: `kafka-server-stop.sh` (SIGTERM) does nothing to a stopped broker until `kill -CONT`.
#[test]
fn a_signal_to_a_stopped_broker_waits_for_cont() {
    let run = run_script(
        3,
        true,
        "ssh slave2 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
         sleep 3\n\
         ssh slave2 pkill -STOP Kafka\n\
         ssh slave2 kafka-server-stop.sh\n\
         sleep 5\n\
         ssh slave2 jps\n\
         ssh slave2 pkill -CONT Kafka\n\
         sleep 30\n\
         ssh slave2 jps",
    );
    let jps = |n| run.output_of("ssh slave2 jps", n).to_string();
    assert!(jps(0).contains(" Kafka\n"), "a stopped broker is still listed: {}", jps(0));
    assert!(!jps(1).contains(" Kafka\n"), "continued, it shut down: {}", jps(1));
    let t = |k: &str| {
        run.trace
            .lines()
            .find(|l| l.contains(&format!(r#""kind":"{k}""#)) && l.contains(r#""host":"slave2""#))
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|v| v["t_us"].as_u64())
    };
    let (cont, signal) = (t(kind::PROC_CONT), t(kind::PROC_SIGNAL));
    assert!(cont.is_some() && cont == signal, "SIGTERM delivered on SIGCONT: {cont:?} {signal:?}");
    assert!(t(kind::KAFKA_SHUTDOWN) >= cont, "the shutdown began once continued");
}
