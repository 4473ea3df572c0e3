//! The `lab` binary as a user runs it: piped shell transcripts, strict mode, quickstart.

use std::io::Write;
use std::process::{Command, Stdio};

fn lab(args: &[&str], stdin: &str) -> (String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lab runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("lab ends");
    (
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn piped_status_prints_one_leader_and_two_followers_without_prompts() {
    let (out, code) = lab(&["shell", "--seed", "1"], "ssh master zkServer.sh status\nssh slave1 zkServer.sh status\nssh slave2 zkServer.sh status\n");
    assert_eq!(code, 0);
    assert_eq!(out.matches("Mode: leader").count(), 1, "{out}");
    assert_eq!(out.matches("Mode: follower").count(), 2, "{out}");
    assert!(!out.contains("root@"), "no prompt when stdin is not a terminal: {out}");
}

#[test]
fn strict_mode_stops_at_the_first_failure_with_its_code() {
    let (out, code) = lab(&["shell", "--strict"], "hostname\nnosuchcommand\nhostname\n");
    assert_eq!(code, 127);
    assert_eq!(out, "master\nnosuchcommand: command not found\n");
}

#[test]
fn trace_file_is_written_and_stable() {
    let dir = std::env::temp_dir();
    let a = dir.join(format!("lab-trace-a-{}.jsonl", std::process::id()));
    let b = dir.join(format!("lab-trace-b-{}.jsonl", std::process::id()));
    for p in [&a, &b] {
        let (_, code) = lab(
            &["shell", "--seed", "3", "--trace", p.to_str().expect("path")],
            "zkCli.sh -server slave1:2181 create /t x\n",
        );
        assert_eq!(code, 0);
    }
    let (ta, tb) = (std::fs::read(&a).expect("trace a"), std::fs::read(&b).expect("trace b"));
    assert_eq!(ta, tb);
    let first = String::from_utf8_lossy(&ta).lines().next().unwrap_or("").to_string();
    assert!(
        first.starts_with(
            "{\"t_us\":0,\"host\":\"lab\",\"proc\":\"world\",\"kind\":\"world.start\""
        ),
        "{first}"
    );
    let _ = (std::fs::remove_file(a), std::fs::remove_file(b));
}

#[test]
fn quickstart_shows_the_seed_walkthrough() {
    let (out, code) = lab(&["quickstart", "--seed", "1"], "");
    assert_eq!(code, 0);
    assert!(out.contains("root@master:/usr/local/spark/zookeeper-3.4.6/bin# zkServer.sh start\nJMX enabled by default\n"));
    assert_eq!(out.matches("Mode: leader").count(), 1, "{out}");
    assert_eq!(out.matches("Mode: follower").count(), 2, "{out}");
    assert!(out.contains("\nhello\ncZxid = 0x"));
    assert!(out.contains("ZooKeeper leader: "));
    // The Kafka half, as the seed prints it.
    assert!(out.contains("\nCreated topic \"HelloKafka\".\n"), "{out}");
    assert!(out.contains("--from-beginning --topic HelloKafka\nThis is DT_Spark!\nI'm Rocky!\nLife is short, you need Spark!\nProcessed a total of 3 messages\n"), "{out}");
    assert!(out.contains(
        "kafka-topics.sh --list --zookeeper master:2181,slave1:2181,slave2:2181\nHelloKafka\n"
    ));
    assert!(out.contains("Topic:HelloKafka\tPartitionCount:1\tReplicationFactor:3\tConfigs:\n\tTopic: HelloKafka\tPartition: 0\tLeader: "));
    assert!(out.contains("Kafka controller: broker "));
}

#[test]
fn quickstart_is_deterministic_and_reports_its_wall_time() {
    let (a, _) = lab(&["quickstart", "--seed", "4"], "");
    let (b, _) = lab(&["quickstart", "--seed", "4"], "");
    let strip =
        |s: &str| s.lines().filter(|l| !l.starts_with("Wall time")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&a), strip(&b));
    // How long it took is measured by `lab bench sim-speed`, never asserted here: a busy
    // 2-core machine would make such a test flake.
    let ms: Option<u64> = a
        .lines()
        .find_map(|l| l.strip_prefix("Wall time: "))
        .and_then(|l| l.trim_end_matches(" ms").parse().ok());
    assert!(ms.is_some(), "the summary gives the wall time in ms: {a}");
}

#[test]
fn bad_flags_are_clear_errors() {
    let (out, code) = lab(&["shell", "--think", "soon"], "");
    assert_eq!(code, 2);
    assert!(out.contains("invalid time interval"), "{out}");
    let (_, code) = lab(&["quickstart", "--lang", "fr"], "");
    assert_eq!(code, 2);
}
