//! Bad input never panics the shell: arbitrary lines (and near-miss commands) get an error
//! message and an exit code, and the shell goes on serving the next line.

use proptest::prelude::*;
use sim::shell::Shell;
use sim::world::{Sim, WorldConfig};

fn near_miss() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "ssh", "master", "slave1", "nowhere", "zkServer.sh", "start", "stop", "status", "zkCli.sh", "-server",
        "master:2181", "slave1:99999", "create", "-e", "-s", "get", "set", "delete", "rmr", "ls", "stat", "/", "/a",
        "//b", "/a/", "x", "\"quoted", "'q'", "kill", "-9", "jps", "sleep", "5", "-1", "1e999", "lab", "crash",
        "boot", "partition", "|", "->", "heal", "net", "loss", "2", "latency", "set", "echo", ">", "cat", "&",
        "kafka-server-start.sh", "-daemon", "../config/server.properties", "kafka-server-stop.sh", "kafka-topics.sh",
        "--create", "--list", "--describe", "--zookeeper", "--topic", "t", "--partitions", "--replication-factor",
        "x1", "kafka-console-producer.sh", "--broker-list", "master:9092", "^D", "kafka-console-consumer.sh",
        "--from-beginning", "--max-messages", "--timeout-ms", "kafka-run-class.sh", "kafka.tools.DumpLogSegments",
        "--files", "$KAFKA_HOME", "-15", "kafka-consumer-groups.sh", "--group", "g", "--new-consumer",
        "--bootstrap-server", "--lab-format", "0.9", "--consumer.config",
    ]);
    prop::collection::vec(words, 0..8).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_line_gets_an_answer_not_a_panic(lines in prop::collection::vec(prop_oneof![near_miss(), any::<String>()], 1..6)) {
        Sim::new(WorldConfig::seeded(1)).run(|world| async move {
            let mut sh = Shell::new(world);
            sh.think_time = std::time::Duration::from_millis(10);
            sh.boot_cluster(true).await;
            for l in &lines {
                sh.exec_line(l).await;
                sh.take_output();
            }
            // Still a working shell afterwards (ending any program still reading the terminal).
            sh.exec_line("^D").await;
            sh.exec_line("lab heal").await;
            for h in ["master", "slave1", "slave2"] {
                sh.exec_line(&format!("lab boot {h}")).await;
            }
            assert_eq!(sh.exec_line("hostname").await, 0);
        });
    }
}
