//! Bad input never panics the shell: arbitrary lines (and near-miss commands) get an error
//! message and an exit code, and the shell goes on serving the next line.

use proptest::prelude::*;
use sim::fault::Fault;
use sim::shell::Shell;
use sim::world::Sim;

fn near_miss() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "ssh",
        "master",
        "slave1",
        "nowhere",
        "zkServer.sh",
        "start",
        "stop",
        "status",
        "zkCli.sh",
        "-server",
        "master:2181",
        "slave1:99999",
        "create",
        "-e",
        "-s",
        "get",
        "set",
        "delete",
        "rmr",
        "ls",
        "stat",
        "/",
        "/a",
        "//b",
        "/a/",
        "x",
        "\"quoted",
        "'q'",
        "kill",
        "-9",
        "jps",
        "sleep",
        "5",
        "-1",
        "1e999",
        "lab",
        "crash",
        "boot",
        "partition",
        "|",
        "->",
        "heal",
        "net",
        "loss",
        "2",
        "latency",
        "set",
        "echo",
        ">",
        "cat",
        "&",
        "kafka-server-start.sh",
        "-daemon",
        "../config/server.properties",
        "kafka-server-stop.sh",
        "kafka-topics.sh",
        "--create",
        "--list",
        "--describe",
        "--zookeeper",
        "--topic",
        "t",
        "--partitions",
        "--replication-factor",
        "x1",
        "kafka-console-producer.sh",
        "--broker-list",
        "master:9092",
        "^D",
        "kafka-console-consumer.sh",
        "--from-beginning",
        "--max-messages",
        "--timeout-ms",
        "kafka-run-class.sh",
        "kafka.tools.DumpLogSegments",
        "--files",
        "$KAFKA_HOME",
        "-15",
        "%1",
        "%%",
        "%-",
        "jobs",
        "fg",
        "bg",
        "wait",
        "help",
        "--files",
        "$KAFKA_HOME",
        "-15",
        "kafka-consumer-groups.sh",
        "--group",
        "g",
        "--new-consumer",
        "--bootstrap-server",
        "--lab-format",
        "0.9",
        "--consumer.config",
    ]);
    prop::collection::vec(words, 0..8).prop_map(|w| w.join(" "))
}

/// Lines built around job control: programs and builtins with `&`, jobspecs, `jobs`, `kill`.
fn job_line() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "kafka-console-consumer.sh",
        "--zookeeper",
        "master:2181",
        "--topic",
        "t",
        "--consumer.config",
        "/root/g.properties",
        "--group",
        "g",
        "--from-beginning",
        "kafka-console-producer.sh",
        "--broker-list",
        "master:9092",
        "zkCli.sh",
        "-server",
        "ls",
        "/",
        "sleep",
        "1",
        "5",
        "echo",
        "hi",
        "cd",
        "/tmp",
        "jobs",
        "-l",
        "-p",
        "-r",
        "-s",
        "-x",
        "kill",
        "-9",
        "-TERM",
        "-s",
        "-n",
        "INT",
        "HUP",
        "-FOO",
        "%",
        "%%",
        "%+",
        "%-",
        "%1",
        "%2",
        "%9",
        "%?t",
        "%k",
        "%?",
        "fg",
        "bg",
        "wait",
        "ssh",
        "slave1",
        "nohup",
        "&",
        "&&",
        "a&",
        "\\&",
        "'&'",
        "\"%1\"",
        "4000",
        "-1",
        "x",
        "^D",
    ]);
    (prop::collection::vec(words, 0..7), any::<bool>()).prop_map(|(w, amp)| {
        let line = w.join(" ");
        if amp {
            format!("{line} &")
        } else {
            line
        }
    })
}

/// Characters that stress the lexer's `&` handling.
fn amp_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["&", "%", " ", "\t", "'", "\"", "\\", "a", "1", "ssh", "h", "#"]),
        0..16,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_line_parser_never_panics_on_amp_and_percent_forms(line in prop_oneof![amp_soup(), job_line()]) {
        if let Ok(Some(p)) = sim::shell::lexer::parse_line(&line) {
            // No `&` in the line, no background; a background line names a command.
            prop_assert!(line.contains('&') || !p.background, "{line:?} -> {p:?}");
            prop_assert!(!p.background || !p.words.is_empty() || p.host.is_some(), "{line:?} -> {p:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn job_control_lines_get_an_answer_not_a_panic(lines in prop::collection::vec(job_line(), 1..8)) {
        Sim::new(sim::seeded(2)).run(|world| async move {
            let mut sh = Shell::new(world);
            sh.think_time = std::time::Duration::from_millis(300);
            sh.boot_cluster(true).await;
            for l in &lines {
                sh.exec_line(l).await;
                sh.take_output();
            }
            sh.exec_line("^D").await;
            // Whatever is left in the table can be listed and ended.
            sh.exec_line("jobs -l").await;
            for _ in 0..10 {
                sh.exec_line("kill -9 %%").await;
            }
            sh.take_output();
            assert_eq!(sh.exec_line("jobs").await, 0);
            assert_eq!(sh.take_output(), "", "every job ended");
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_line_gets_an_answer_not_a_panic(lines in prop::collection::vec(prop_oneof![near_miss(), any::<String>()], 1..6)) {
        Sim::new(sim::seeded(1)).run(|world| async move {
            let mut sh = Shell::new(world);
            sh.think_time = std::time::Duration::from_millis(10);
            sh.boot_cluster(true).await;
            for l in &lines {
                sh.exec_line(l).await;
                sh.take_output();
            }
            // Still a working shell afterwards (ending any program still reading the terminal).
            sh.exec_line("^D").await;
            sh.inject(&Fault::Heal).await;
            for h in ["master", "slave1", "slave2"] {
                sh.inject(&Fault::Boot { host: h.into() }).await;
            }
            assert_eq!(sh.exec_line("hostname").await, 0);
        });
    }
}
