//! Scenario files: the library parses, broker failover keeps acknowledged records, runs are
//! deterministic, and bad files are reported with line and column.

use sim::scenario::{run, run_traced, Expect, Scenario};
use sim::trace::kind;

fn library() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn load(name: &str) -> Scenario {
    let path = library().join(name);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    Scenario::parse_named(&text, name).unwrap_or_else(|e| panic!("{name}:{e}"))
}

/// The trace's events, as JSON objects.
fn events(trace: &str) -> Vec<serde_json::Value> {
    trace.lines().map(|l| serde_json::from_str(l).expect("JSONL")).collect()
}

fn kind<'a>(evs: &'a [serde_json::Value], k: &str) -> Vec<&'a serde_json::Value> {
    evs.iter().filter(|e| e["kind"] == k).collect()
}

fn t_us(e: &serde_json::Value) -> u64 {
    e["t_us"].as_u64().expect("t_us")
}

/// Virtual time of the shell line `line` (the runner's steps are traced as `shell.line`).
fn step_time(evs: &[serde_json::Value], line: &str) -> u64 {
    kind(evs, kind::SHELL_LINE)
        .into_iter()
        .find(|e| e["line"] == line)
        .map(t_us)
        .unwrap_or_else(|| panic!("step {line:?} ran"))
}

/// What the shell printed for the runner's line `line` (its first occurrence).
fn output_of(r: &sim::scenario::Report, line: &str) -> String {
    let marker = format!("] $ {line}\n");
    let Some(at) = r.transcript.find(&marker) else {
        panic!("{line:?} in the transcript:\n{}", r.transcript)
    };
    let rest = &r.transcript[at + marker.len()..];
    let end = rest.find("\n[").map_or(rest.len(), |i| i + 1);
    rest[..end].to_string()
}

fn check<'a>(r: &'a sim::scenario::Report, name: &str) -> &'a sim::scenario::CheckOutcome {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("check {name} in {:?}", r.checks))
}

fn metric(r: &sim::scenario::Report, k: &str) -> u64 {
    r.metrics
        .get(k)
        .and_then(|v| v.as_u64())
        .unwrap_or_else(|| panic!("metric {k} in {:?}", r.metrics))
}

/// Checks that did not meet their expectation, with their details.
fn unmet_real_checks(r: &sim::scenario::Report) -> Vec<String> {
    r.checks.iter().filter(|c| !c.met()).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

#[test]
fn every_library_file_parses_and_has_a_header() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(library()).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let sc = load(&name);
        assert!(sc.about.lines().count() >= 3, "{name}: the comment header says what it teaches");
        assert!(!sc.checks.is_empty(), "{name}");
        names.push(name);
    }
    for must in [
        "broker-failover.toml",
        "acks1-failover-loss.toml",
        "acks0-silent-loss.toml",
        "unclean-election-loss.toml",
        "unclean-election-safe-noelect.toml",
        "unclean-election-safe-mininsync.toml",
        "zk-leader-failover.toml",
        "zk-minority-partition.toml",
        "power-loss-unsynced.toml",
        "power-loss-fsync.toml",
    ] {
        assert!(names.iter().any(|n| n == must), "{must} in {names:?}");
    }
}

#[test]
fn broker_failover_keeps_every_acknowledged_record() {
    let sc = load("broker-failover.toml");
    let r = run(&sc, 1);
    assert_eq!(r.scenario, "broker-failover");
    assert!(unmet_real_checks(&r).is_empty(), "seed 1: {:?}\n{}", r.checks, r.transcript);
    assert!(r.passed(), "{:?}", r.checks);
    let acked = metric(&r, "messages_acked");
    assert!(acked > 300, "the producer wrote through the failover: {acked}");
    assert_eq!(
        metric(&r, "acked_missing_from_final_read"),
        0,
        "acks=all loses nothing acknowledged"
    );
    assert!(metric(&r, "final_read") >= acked);
    assert!(metric(&r, "messages_consumed") > 0, "the consumer workload read");
    assert!(metric(&r, "leader_changes") >= 1, "master's partition moved");
    let failover = metric(&r, "failover_ms");
    assert!(
        (1_000..20_000).contains(&failover),
        "failover takes about a ZooKeeper session timeout: {failover} ms"
    );
    assert!(r.virtual_ms >= 40_000, "duration + settle: {}", r.virtual_ms);
}

#[test]
fn acks1_loses_acknowledged_records_for_seed_1() {
    let r = run(&load("acks1-failover-loss.toml"), 1);
    assert!(metric(&r, "acked_missing_from_final_read") > 0, "{:?}", r.metrics);
    let c = r.checks.iter().find(|c| c.name == "no_acked_loss").expect("check");
    assert_eq!(c.expect, Expect::Fail);
    assert!(!c.ok);
}

#[test]
fn acks0_loses_silently() {
    let r = run(&load("acks0-silent-loss.toml"), 1);
    assert_eq!(metric(&r, "messages_acked"), 0);
    assert_eq!(metric(&r, "send_errors"), 0, "nothing reports the loss");
    assert!(metric(&r, "sent_missing_from_final_read") > 100, "{:?}", r.metrics);
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let sc = load("broker-failover.toml");
    let (a, ta) = run_traced(&sc, 7);
    let b = run(&sc, 7);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.metrics, b.metrics);
    assert_eq!(ta.lines().count(), ta.lines().filter(|l| l.starts_with("{\"t_us\":")).count());
    let c = run(&sc, 8);
    assert_ne!(a.trace_hash, c.trace_hash, "another seed, another run");
}

#[test]
fn a_nemesis_run_is_deterministic_and_settles() {
    let text = "# Random faults.\n\
        [[topic]]\nname = \"t\"\npartitions = 2\nreplication_factor = 3\n\
        [[workload]]\nkind = \"producer\"\ntopic = \"t\"\nrate = 20\nacks = \"all\"\nretries = 3\nrequest_timeout = \"3s\"\nhost = \"slave2\"\n\
        [nemesis]\nkinds = [\"crash\", \"kill\", \"partition\", \"latency\"]\nevery = \"4s\"\nstart = \"2s\"\nstop = \"18s\"\n\
        [[check]]\nname = \"single_leader_per_epoch\"\n\
        [run]\nduration = \"20s\"\nsettle = \"15s\"\n";
    let sc = Scenario::parse(text).expect("valid");
    let a = run(&sc, 3);
    let b = run(&sc, 3);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert!(a.passed(), "{:?}\n{}", a.checks, a.transcript);
    assert!(a.transcript.contains("lab "), "the nemesis acted:\n{}", a.transcript);
}

/// `kinds = ["pause"]`: the nemesis stops a broker (or ZooKeeper server) with `kill -STOP` and
/// continues it with `kill -CONT`; a step may stop one too (`pkill -STOP`), and the settle phase
/// continues it. Nothing acknowledged is lost.
#[test]
fn a_pause_nemesis_stops_and_continues_processes_and_loses_nothing() {
    let text = "# Stopped processes.\n\
        [[topic]]\nname = \"t\"\npartitions = 2\nreplication_factor = 3\n\
        [[workload]]\nkind = \"producer\"\ntopic = \"t\"\nrate = 20\nacks = \"all\"\nretries = 5\nrequest_timeout = \"5s\"\nhost = \"slave2\"\n\
        [[step]]\nat = \"21s\"\nrun = \"ssh slave1 pkill -STOP Kafka\"\n\
        [nemesis]\nkinds = [\"pause\"]\nevery = \"8s\"\nduration = \"7s\"\nstart = \"2s\"\nstop = \"20s\"\n\
        [[check]]\nname = \"no_acked_loss\"\n\
        [[check]]\nname = \"single_leader_per_epoch\"\n\
        [run]\nduration = \"25s\"\nsettle = \"30s\"\n";
    let sc = Scenario::parse(text).expect("valid");
    let a = run(&sc, 5);
    assert_eq!(a.trace_hash, run(&sc, 5).trace_hash);
    assert!(a.passed(), "{:?}\n{}", a.checks, a.transcript);
    let stops = a.transcript.matches(" kill -STOP ").count();
    let conts = a.transcript.matches(" kill -CONT ").count();
    assert!(stops >= 2, "the nemesis stopped processes:\n{}", a.transcript);
    // Each was continued, and the step's stopped broker by the settle phase.
    assert_eq!(conts, stops + 1, "{}", a.transcript);
    assert!(
        a.transcript.contains("$ lab heal\n(network parameters restored)\n["),
        "{}",
        a.transcript
    );
    assert!(a.transcript.contains("$ ssh slave1 pkill -STOP Kafka\n"), "{}", a.transcript);
}

#[test]
fn toml_errors_give_line_and_column() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("[run]\nduration = \"forty\"\n", 2, 12, "not a duration"),
        ("[[check]]\nname = \"no_acked_los\"\n", 2, 8, "unknown check"),
        ("[cluster]\nbrokers = [\"master\", \"slave3\"]\n", 2, 22, "unknown host"),
        ("[[step]]\nat = \"1s\"\nrun = \"ssh\"\n", 3, 7, "missing host"),
        ("[run]\nduration = \"1s\"\nbogus = 1\n", 3, 1, "unknown field"),
        (
            "[[topic]]\nname = \"t\"\nreplication_factor = 4\n",
            3,
            22,
            "larger than available brokers",
        ),
    ];
    for (text, line, col, msg) in cases {
        let e = Scenario::parse(text).expect_err(text);
        assert_eq!((e.line, e.column), (*line, *col), "{text:?}: {e}");
        assert!(e.message.contains(msg), "{text:?}: {e}");
    }
}

const KAFKA_CUT: &str = "lab partition master | slave1 slave2 --port 9092";
const ISOLATE: &str = "lab partition master | slave1 slave2 client";

#[test]
fn unclean_election_loses_what_the_lone_leader_acknowledged() {
    let (r, trace) = run_traced(&load("unclean-election-loss.toml"), 1);
    assert!(r.passed(), "every check meets its expectation (lab run exits 0): {:?}", r.checks);
    let evs = events(&trace);
    let (cut, isolated, healed) =
        (step_time(&evs, KAFKA_CUT), step_time(&evs, ISOLATE), step_time(&evs, "lab heal"));

    // Phase 1: only port 9092 is cut, so master's broker keeps its ZooKeeper session while the
    // ISR shrinks to the leader alone.
    let blocks = kind(&evs, kind::NET_BLOCK);
    assert!(
        blocks.iter().filter(|e| t_us(e) == cut).all(|e| e["port"] == 9092),
        "the first cut is port-scoped"
    );
    let shrink = kind(&evs, kind::KAFKA_ISR_SHRINK)
        .into_iter()
        .find(|e| e["host"] == "master")
        .expect("isr shrink on master");
    assert_eq!(shrink["isr"], serde_json::json!([0]));
    let lag = t_us(shrink) - cut;
    assert!((10_000_000..20_000_000).contains(&lag), "after replica.lag.time.max.ms: {lag} us");
    assert!(t_us(shrink) < isolated);
    let first_expiry = kind(&evs, kind::ZK_SESSION_EXPIRE)
        .into_iter()
        .map(t_us)
        .min()
        .expect("master's session expires");
    assert!(first_expiry > isolated, "no session expired while only Kafka's port was cut");
    assert!(
        kind(&evs, kind::ZK_CLIENT_TIMEOUT).iter().all(|e| t_us(e) > isolated),
        "master's broker kept talking to ZooKeeper"
    );
    let lone_acks = kind(&evs, kind::KAFKA_CLIENT_ACKED)
        .into_iter()
        .filter(|e| t_us(e) > t_us(shrink) && t_us(e) < isolated)
        .count();
    assert!(
        lone_acks > 100,
        "the leader acknowledged acks=all writes with ISR = {{0}}: {lone_acks}"
    );

    // Phase 2: an out-of-ISR replica is elected.
    let election = kind(&evs, kind::KAFKA_LEADER_ELECTION)
        .into_iter()
        .find(|e| e["unclean"] == true)
        .expect("unclean election");
    assert!(t_us(election) > isolated && t_us(election) < healed);
    assert_eq!((election["old_leader"].as_i64(), election["leader"].as_i64()), (Some(0), Some(1)));

    // Phase 3: the old leader truncates after the heal, and the loss is named.
    let trunc = kind(&evs, kind::KAFKA_TRUNCATE)
        .into_iter()
        .find(|e| e["host"] == "master" && t_us(e) > healed)
        .expect("master truncates");
    assert!(trunc["to"].as_i64().expect("to") > 0);
    let c = check(&r, "no_acked_loss");
    assert_eq!((c.expect, c.ok), (Expect::Fail, false));
    let lone = kind(&evs, kind::KAFKA_CLIENT_ACKED)
        .into_iter()
        .find(|e| t_us(e) > t_us(shrink))
        .expect("a lone ack");
    let (value, offset) =
        (lone["values"][0].as_str().expect("value"), lone["first"].as_i64().expect("offset"));
    assert!(
        c.detail.contains(&format!("'{value}' (offset {offset}, acks=-1)")),
        "the detail names the lost offsets: {}",
        c.detail
    );
    let lost = metric(&r, "acked_missing_from_final_read");
    assert!(lost > 100, "hundreds of acknowledged records lost: {lost}");
    assert!(
        c.detail.starts_with(&format!("lost {lost} of {}", metric(&r, "messages_acked"))),
        "{}",
        c.detail
    );
    assert!(!check(&r, "offsets_consistent").ok, "pre-KIP-101 truncation leaves divergent logs");
    assert!(r.transcript.contains("Isr: 0\n"), "describe shows the shrunk ISR:\n{}", r.transcript);
    assert!(
        r.transcript.contains("Leader: 1\tReplicas: 0,1,2"),
        "describe shows the new leader:\n{}",
        r.transcript
    );
}

#[test]
fn without_unclean_election_the_partition_goes_offline_instead() {
    let (r, trace) = run_traced(&load("unclean-election-safe-noelect.toml"), 1);
    assert!(r.passed(), "{:?}", r.checks);
    assert!(check(&r, "no_acked_loss").ok);
    assert_eq!(metric(&r, "acked_missing_from_final_read"), 0);
    let evs = events(&trace);
    assert!(
        kind(&evs, kind::KAFKA_ISR_SHRINK).iter().any(|e| e["isr"] == serde_json::json!([0])),
        "the trap is set as before"
    );
    let elections = kind(&evs, kind::KAFKA_LEADER_ELECTION);
    assert!(elections.iter().all(|e| e["unclean"] == false), "no unclean election");
    assert_eq!(elections.first().map(|e| e["leader"].as_i64()), Some(Some(-1)), "offline first");
    assert_eq!(
        elections.last().map(|e| e["leader"].as_i64()),
        Some(Some(0)),
        "then broker 0, with its records"
    );
    assert_eq!(metric(&r, "leader_changes"), 2);
    assert!(r.transcript.contains("Leader: none"), "{}", r.transcript);
    assert!(metric(&r, "messages_acked") > 500, "the lone leader's acks survive: {:?}", r.metrics);
}

#[test]
fn min_insync_replicas_turns_the_loss_into_errors() {
    let (r, trace) = run_traced(&load("unclean-election-safe-mininsync.toml"), 1);
    assert!(r.passed(), "{:?}", r.checks);
    assert!(check(&r, "no_acked_loss").ok);
    assert_eq!(metric(&r, "acked_missing_from_final_read"), 0);
    let by_exception = &r.metrics["send_errors_by_exception"];
    assert!(
        by_exception["NotEnoughReplicasException"].as_u64().unwrap_or(0) > 0,
        "{:?}",
        r.metrics
    );
    let evs = events(&trace);
    let shrink = kind(&evs, kind::KAFKA_ISR_SHRINK)
        .into_iter()
        .find(|e| e["isr"] == serde_json::json!([0]))
        .expect("shrink");
    let isolated = step_time(&evs, ISOLATE);
    let lone_acks = kind(&evs, kind::KAFKA_CLIENT_ACKED)
        .into_iter()
        .filter(|e| t_us(e) > t_us(shrink) && t_us(e) < isolated)
        .count();
    assert_eq!(lone_acks, 0, "nothing is acknowledged with one in-sync replica");
    assert!(
        kind(&evs, kind::KAFKA_LEADER_ELECTION).iter().any(|e| e["unclean"] == true),
        "the unclean election still happens"
    );
}

#[test]
fn a_zookeeper_minority_of_five_stops_serving_and_the_majority_elects() {
    let (r, trace) = run_traced(&load("zk-minority-partition.toml"), 1);
    assert!(r.passed(), "{:?}", r.checks);
    let evs = events(&trace);
    let installed = kind(&evs, kind::SCENARIO_ZK_INSTALLED);
    assert_eq!(
        installed.first().map(|e| e["ensemble"].as_array().map_or(0, Vec::len)),
        Some(5),
        "zoo.cfg lists five servers"
    );
    assert!(
        output_of(&r, "ssh slave4 zkServer.sh status").contains("Mode: leader"),
        "myid 5 leads first"
    );
    let cut = step_time(&evs, "lab partition master slave4 | slave1 slave2 slave3");
    let healed = step_time(&evs, "lab heal");
    // The minority (master, slave4) stops serving; the majority elects slave3 (myid 4) in epoch 2.
    for h in ["master", "slave4"] {
        assert!(
            kind(&evs, kind::ZK_SERVING).iter().any(|e| e["host"] == h
                && e["serving"] == false
                && t_us(e) > cut
                && t_us(e) < healed),
            "{h} stops serving"
        );
    }
    assert!(
        kind(&evs, kind::ZAB_LEADER_SHUTDOWN).iter().any(|e| e["host"] == "slave4"),
        "the old leader gives up without a quorum"
    );
    let est = kind(&evs, kind::ZAB_ESTABLISHED)
        .into_iter()
        .find(|e| t_us(e) > cut)
        .expect("a new leader on the majority side");
    assert_eq!(
        (est["epoch"].as_u64(), est["leader"].as_u64(), est["host"].as_str()),
        (Some(2), Some(4), Some("slave3"))
    );
    assert!(t_us(est) < healed);
    // What an operator sees on each side.
    let minority_status = r
        .transcript
        .split("] $ ")
        .filter(|s| s.starts_with("ssh slave4 zkServer.sh status"))
        .nth(1)
        .expect("second status");
    assert!(
        minority_status.contains("Error contacting service. It is probably not running.\n(exit 1)"),
        "{minority_status}"
    );
    let minority_write =
        output_of(&r, "ssh master zkCli.sh -server master:2181 create /minority written");
    assert!(
        minority_write.contains("ConnectionLossException") && minority_write.contains("(exit 1)"),
        "{minority_write}"
    );
    assert!(output_of(&r, "ssh slave3 zkServer.sh status").contains("Mode: leader"));
    assert!(output_of(&r, "ssh slave3 zkCli.sh -server slave3:2181 create /majority written")
        .contains("Created /majority"));
    assert!(output_of(&r, "ssh slave4 zkCli.sh -server slave4:2181 get /majority")
        .starts_with("Connecting to slave4:2181"));
    assert!(
        output_of(&r, "ssh slave4 zkCli.sh -server slave4:2181 get /majority")
            .contains("\nwritten\n"),
        "the old leader caught up"
    );
    assert!(
        kind(&evs, kind::ZAB_SYNC)
            .iter()
            .any(|e| e["mode"].as_str().is_some_and(|m| m.starts_with("TRUNC"))),
        "unacked proposals truncated"
    );
    // Kafka: nothing acknowledged lost; master's broker lost its session.
    assert_eq!(metric(&r, "acked_missing_from_final_read"), 0);
    assert!(metric(&r, "messages_acked") > 300, "{:?}", r.metrics);
    assert_eq!(
        metric(&r, "kafka_sessions_expired"),
        1,
        "master's broker, cut off with the minority"
    );
}

#[test]
fn killing_the_zookeeper_leader_does_not_disturb_kafka() {
    let (r, trace) = run_traced(&load("zk-leader-failover.toml"), 1);
    assert!(r.passed(), "{:?}", r.checks);
    assert!(output_of(&r, "ssh slave2 zkServer.sh status").contains("Mode: leader"));
    let evs = events(&trace);
    let stop = step_time(&evs, "ssh slave2 zkServer.sh stop");
    let killed = kind(&evs, kind::PROC_KILL)
        .into_iter()
        .find(|e| t_us(e) >= stop)
        .expect("a process killed");
    assert_eq!(
        (killed["host"].as_str(), killed["proc"].as_str()),
        (Some("slave2"), Some("QuorumPeerMain")),
        "only ZooKeeper dies"
    );
    assert!(kind(&evs, kind::HOST_CRASH).is_empty());
    let est = kind(&evs, kind::ZAB_ESTABLISHED)
        .into_iter()
        .find(|e| t_us(e) > stop)
        .expect("a new leader");
    assert_eq!(est["epoch"].as_u64(), Some(2));
    assert_ne!(est["host"].as_str(), Some("slave2"));
    let took = t_us(est) - stop;
    assert!(took < 3_000_000, "a new ZooKeeper leader within seconds: {took} us");
    let reconnected = kind(&evs, kind::ZK_SESSION_CONNECTED)
        .into_iter()
        .filter(|e| t_us(e) > stop && t_us(e) < stop + 6_000_000)
        .count();
    assert!(reconnected >= 3, "the brokers reconnected: {reconnected}");
    assert_eq!(metric(&r, "kafka_sessions_expired"), 0, "no broker lost its session");
    assert!(kind(&evs, kind::KAFKA_SESSION_EXPIRED).is_empty());
    assert_eq!(metric(&r, "leader_changes"), 0, "no partition moved");
    let gap = metric(&r, "max_ack_gap_ms");
    assert!(gap < 200, "the producer never stalled: {gap} ms");
    assert_eq!(metric(&r, "acked_missing_from_final_read"), 0);
    assert!(output_of(&r, "ssh slave2 zkServer.sh start").contains("STARTED"));
    assert!(
        output_of(&r, "ssh slave2 zkServer.sh status").contains("Mode: leader"),
        "first status"
    );
    let last_status =
        r.transcript.rsplit("] $ ssh slave2 zkServer.sh status\n").next().unwrap_or("");
    assert!(last_status.contains("Mode: follower"), "slave2 rejoins as a follower: {last_status}");
}

/// The three hosts lost power at one virtual instant; returns it.
fn crashed_together(evs: &[serde_json::Value]) -> u64 {
    let crashes = kind(evs, kind::HOST_CRASH);
    assert_eq!(crashes.len(), 3, "three power losses");
    let at = t_us(crashes[0]);
    assert!(crashes.iter().all(|e| t_us(e) == at), "at the same virtual time");
    at
}

#[test]
fn a_power_loss_of_every_replica_loses_unsynced_acknowledged_records() {
    let (r, trace) = run_traced(&load("power-loss-unsynced.toml"), 1);
    assert!(r.passed(), "{:?}", r.checks);
    let evs = events(&trace);
    let crash = crashed_together(&evs);
    let c = check(&r, "no_acked_loss");
    assert_eq!((c.expect, c.ok), (Expect::Fail, false));
    let lost = metric(&r, "acked_missing_from_final_read");
    assert!((200..2000).contains(&lost), "the records since the last write-back: {lost}");
    // What was lost had been acknowledged with acks=all, in the seconds before the crash; what
    // the kernel had written back (older than 30 s) survived.
    let acked: Vec<_> =
        kind(&evs, kind::KAFKA_CLIENT_ACKED).into_iter().filter(|e| t_us(e) < crash).collect();
    assert!(acked.iter().all(|e| e["acks"] == -1));
    let first_lost = acked
        .iter()
        .map(|e| e["first"].as_i64().unwrap_or(0))
        .find(|o| c.detail.contains(&format!("(offset {o}, acks=-1)")));
    let first_lost = first_lost.expect("the detail names a lost offset");
    assert!(
        first_lost > 500,
        "older records survived the power loss: first lost offset {first_lost}"
    );
    assert!(metric(&r, "final_read") >= first_lost as u64, "the survivors are read");
    assert!(
        !check(&r, "offsets_consistent").ok,
        "lost offsets were written again with other records"
    );
    assert!(
        check(&r, "committed_logs_agree").ok,
        "ZooKeeper fsyncs before it acks: nothing lost there"
    );
    assert!(
        kind(&evs, kind::KAFKA_REGISTERED).iter().filter(|e| t_us(e) > crash).count() >= 3,
        "every broker came back"
    );
}

#[test]
fn a_power_loss_with_fsync_per_message_loses_nothing_acknowledged() {
    let (r, trace) = run_traced(&load("power-loss-fsync.toml"), 1);
    assert!(r.passed(), "{:?}", r.checks);
    crashed_together(&events(&trace));
    assert!(check(&r, "no_acked_loss").ok);
    assert_eq!(metric(&r, "acked_missing_from_final_read"), 0);
    let acked = metric(&r, "messages_acked");
    assert!(acked > 2000, "{acked}");
    // The setting is honoured: at least one fsync per record on each of the three replicas.
    let unsynced = run(&load("power-loss-unsynced.toml"), 1);
    let (with, without) = (metric(&r, "disk_fsyncs"), metric(&unsynced, "disk_fsyncs"));
    assert!(
        with > 3 * acked && without < acked / 2,
        "fsyncs with log.flush.interval.messages=1: {with}, without: {without}"
    );
}
