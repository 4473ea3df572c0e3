//! Replication under faults: 0.9's high-watermark truncation against KIP-101's leader epochs,
//! acks=1 under a random nemesis, a full disk halting a broker, the nemesis keeping
//! broker-failover's promise, and a broker ignoring a LeaderAndIsr that is not newer.

use lab_tests::run_script;
use sim::scenario::{run, run_traced, Expect, Scenario};
use sim::trace::kind;

fn load(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    Scenario::parse_named(&text, name).unwrap_or_else(|e| panic!("{name}:{e}"))
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

#[test]
fn hw_truncation_loses_an_acked_record_and_leader_epochs_keep_it() {
    let loss = run(&load("hw-truncation-loss.toml"), 1);
    assert!(loss.passed(), "the loss is the expected outcome: {:?}", loss.checks);
    let lost = check(&loss, "no_acked_loss");
    assert_eq!(lost.expect, Expect::Fail);
    assert!(!lost.ok, "0.9 truncation loses the record");
    assert!(
        lost.detail.contains("offset 199"),
        "the detail names the lost offset: {}",
        lost.detail
    );
    assert!(
        !check(&loss, "offsets_consistent").ok,
        "slave2 wrote a different record at a committed offset"
    );
    assert_eq!(metric(&loss, "acked_missing_from_final_read"), 1);

    let (kept, trace) = run_traced(&load("hw-truncation-kip101.toml"), 1);
    assert!(kept.passed(), "{:?}", kept.checks);
    assert!(
        check(&kept, "no_acked_loss").ok && check(&kept, "offsets_consistent").ok,
        "{:?}",
        kept.checks
    );
    assert_eq!(metric(&kept, "acked_missing_from_final_read"), 0);
    // Same faults, same acknowledgements: only the truncation rule differs.
    assert_eq!(metric(&kept, "messages_acked"), metric(&loss, "messages_acked"));
    assert!(
        trace.contains("\"msg\":\"kafka.offsets_for_leader_epoch\""),
        "followers asked their new leader"
    );
    assert!(
        !trace.contains("\"by\":\"high_watermark\",\"partition\":0,\"to\":199"),
        "no HW cut at the acked record"
    );
}

#[test]
fn acks1_under_a_nemesis_loses_acked_records_and_the_replay_is_byte_identical() {
    let sc = load("acks1-nemesis.toml");
    let first = run(&sc, 3);
    let lost = check(&first, "no_acked_loss");
    assert!(!lost.ok, "seed 3 loses acknowledged records: {}", lost.detail);
    assert!(lost.detail.contains("acks=1"));
    let again = run(&sc, 3);
    assert_eq!(first.trace_hash, again.trace_hash, "replaying the seed replays the loss");
    assert_eq!(lost.detail, check(&again, "no_acked_loss").detail);
}

#[test]
fn broker_failover_survives_its_nemesis_on_several_seeds() {
    let sc = load("broker-failover.toml");
    assert!(sc.nemesis.as_ref().is_some_and(|n| n.kinds.len() == 5 && n.duration.as_secs() == 7));
    for seed in 1..=4 {
        let r = run(&sc, seed);
        assert!(r.passed(), "seed {seed}: {:?}", r.checks);
        assert!(
            r.transcript.contains("lab "),
            "seed {seed}: the nemesis ran lab commands:\n{}",
            r.transcript
        );
    }
}

#[test]
fn a_broker_halts_and_its_zookeeper_server_exits_when_the_disk_is_full() {
    let script = "cd $KAFKA_HOME/bin\n\
                  ssh master kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
                  ssh slave1 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
                  ssh slave2 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
                  sleep 3\n\
                  kafka-topics.sh --create --zookeeper master:2181 --replica-assignment 0 --topic full\n\
                  sleep 1\n\
                  lab disk master full\n\
                  kafka-console-producer.sh --broker-list master:9092 --topic full --request-required-acks 1\n\
                  one\n\
                  ^D\n\
                  jps\n\
                  lab disk master free\n\
                  lab disk master sideways\n\
                  lab disk mars full";
    let run = run_script(1, true, script);
    let jps = run.output_of("jps", 0);
    assert!(!jps.contains(" Kafka"), "the broker halted on ENOSPC:\n{jps}");
    assert!(
        run.trace.contains("\"kind\":\"kafka.fatal\"")
            && run.trace.contains("No space left on device")
    );
    // Its ZooKeeper session expires 6 s later; logging that closeSession is the ZooKeeper
    // server's first write on the full disk, and it exits too (SyncRequestProcessor, status 11).
    assert!(!jps.contains("QuorumPeerMain"), "the ZooKeeper server exited on ENOSPC:\n{jps}");
    assert!(run.trace.contains("\"kind\":\"zk.fatal\"") && run.trace.contains("\"status\":11"));
    let code = |l: &str| run.steps.iter().find(|s| s.0 == l).map(|s| s.2);
    assert_eq!(code("lab disk master free"), Some(0));
    assert_eq!(code("lab disk master sideways"), Some(2));
    assert_eq!(code("lab disk mars full"), Some(2));
}

#[test]
fn pkill_signals_by_name_and_reports_no_match() {
    let script = "ssh slave1 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
                  sleep 2\n\
                  ssh slave1 pkill -9 -f kafka.Kafka\n\
                  ssh slave1 jps\n\
                  ssh slave1 pkill -9 Kafka\n\
                  pkill -x";
    let run = run_script(1, true, script);
    let code = |i: usize| run.steps[i].2;
    assert_eq!(code(2), 0);
    assert!(!run.steps[3].1.contains("Kafka"), "{}", run.steps[3].1);
    assert_eq!(code(4), 1, "nothing left to match");
    assert_eq!(code(5), 2);
}

#[test]
fn nemesis_duration_must_fit_its_interval() {
    let text = "[nemesis]\nkinds = [\"kill\"]\nevery = \"5s\"\nduration = \"6s\"\n[[check]]\nname = \"no_acked_loss\"\n";
    let err = Scenario::parse_named(text, "x.toml").expect_err("duration > every");
    assert!(err.to_string().contains("nemesis.duration"), "{err}");
    assert!(err.to_string().contains("4:"), "line and column: {err}");
}

/// A new controller re-sends every partition's state with the leader epoch it already had. A 0.9
/// broker acts only on a newer epoch (StaleLeaderEpochCode): running makeLeader again would give
/// every follower a fresh lag window, and a dead one would stay in the ISR, holding acks=all back,
/// for another replica.lag.time.max.ms. Seed 2 has controller moves while brokers keep running.
#[test]
fn a_broker_makes_itself_leader_once_per_leader_epoch() {
    let (report, trace) = run_traced(&load("broker-failover.toml"), 2);
    assert!(report.passed(), "{:?}", report.checks);
    let mut became: std::collections::BTreeMap<(String, String, i64, i64), usize> =
        std::collections::BTreeMap::new();
    let mut stale = 0;
    for line in trace.lines() {
        let e: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let host = e["host"].as_str().unwrap_or_default().to_string();
        match e["kind"].as_str().unwrap_or_default() {
            // A restarted broker starts with no leader epochs.
            kind::PROC_START if e["proc"] == "Kafka" => became.retain(|k, _| k.0 != host),
            kind::KAFKA_BECOME_LEADER => {
                let key = (
                    host,
                    e["topic"].as_str().unwrap_or_default().to_string(),
                    e["partition"].as_i64().unwrap_or(-1),
                    e["leader_epoch"].as_i64().unwrap_or(-1),
                );
                *became.entry(key).or_default() += 1;
            }
            kind::KAFKA_LEADER_AND_ISR_STALE => stale += 1,
            _ => {}
        }
    }
    assert!(stale > 0, "a new controller re-sent states this run: some were stale");
    let twice: Vec<_> = became.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "made leader twice in one leader epoch: {twice:?}");
}
