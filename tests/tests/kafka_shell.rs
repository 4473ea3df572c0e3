//! Kafka 0.9 on the simulated cluster, told through `lab shell` as the seed's learner types it.

use lab_tests::run_script;
use sim::kafka::partitioner::{murmur2, to_positive};
use sim::trace::kind;

/// Starts the three brokers the way the seed does, then waits for them to register.
const START: &str = "cd $KAFKA_HOME/bin\n\
                     nohup ./kafka-server-start.sh ../config/server.properties &\n\
                     ssh slave1 nohup $KAFKA_HOME/bin/kafka-server-start.sh $KAFKA_HOME/config/server.properties &\n\
                     ssh slave2 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
                     sleep 3";

const ZK: &str = "master:2181,slave1:2181,slave2:2181";

fn script(body: &str) -> String {
    format!("{START}\n{body}")
}

fn stat_free(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with('{') || l.starts_with('[')).collect()
}

#[test]
fn the_seed_walkthrough_works_end_to_end() {
    let body = format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 1 --topic HelloKafka\n\
         kafka-console-producer.sh --broker-list master:9092,slave1:9092,slave2:9092 --topic HelloKafka\n\
         This is DT_Spark!\n\
         I'm Rocky!\n\
         Life is short, you need Spark!\n\
         ^D\n\
         kafka-console-consumer.sh --zookeeper {ZK} --from-beginning --topic HelloKafka\n\
         kafka-topics.sh --list --zookeeper {ZK}\n\
         kafka-topics.sh --describe --zookeeper {ZK} --topic HelloKafka"
    );
    for seed in 1..=3 {
        let run = run_script(seed, true, &script(&body));
        let out = |i: usize| run.steps[5 + i].1.as_str();
        assert_eq!(out(0), "Created topic \"HelloKafka\".\n", "seed {seed}: {}", run.output);
        assert_eq!(out(6), "This is DT_Spark!\nI'm Rocky!\nLife is short, you need Spark!\nProcessed a total of 3 messages\n", "seed {seed}");
        assert_eq!(out(7), "HelloKafka\n");
        let describe: Vec<&str> = out(8).lines().collect();
        assert_eq!(
            describe[0],
            "Topic:HelloKafka\tPartitionCount:1\tReplicationFactor:3\tConfigs:"
        );
        let fields: Vec<&str> = describe[1].split('\t').collect();
        assert_eq!(&fields[..3], ["", "Topic: HelloKafka", "Partition: 0"]);
        let leader: i32 = fields[3].trim_start_matches("Leader: ").parse().expect("a leader");
        assert!((0..3).contains(&leader));
        let mut replicas: Vec<i32> = fields[4]
            .trim_start_matches("Replicas: ")
            .split(',')
            .map(|x| x.parse().unwrap_or(-1))
            .collect();
        let isr = fields[5].trim_start_matches("Isr: ");
        assert_eq!(isr.split(',').count(), 3, "all three in sync: {}", describe[1]);
        assert_eq!(replicas[0], leader, "the first replica leads a new topic");
        replicas.sort();
        assert_eq!(replicas, [0, 1, 2]);
    }
}

#[test]
fn znodes_have_the_shapes_kafka_writes() {
    let run = run_script(
        1,
        true,
        &script(&format!(
            "zkCli.sh -server master:2181 ls /brokers/ids\n\
             zkCli.sh -server master:2181 get /brokers/ids/0\n\
             zkCli.sh -server master:2181 get /controller\n\
             kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 1 --topic HelloKafka\n\
             sleep 1\n\
             zkCli.sh -server master:2181 get /brokers/topics/HelloKafka/partitions/0/state\n\
             zkCli.sh -server master:2181 get /brokers/topics/HelloKafka\n\
             zkCli.sh -server master:2181 get /controller_epoch"
        )),
    );
    let out = |i: usize| stat_free(&run.steps[5 + i].1).join("\n");
    assert_eq!(out(0), "[0, 1, 2]");
    let b = out(1);
    assert!(b.starts_with("{\"jmx_port\":-1,\"timestamp\":\"14616576"), "{b}");
    assert!(b.ends_with("\",\"endpoints\":[\"PLAINTEXT://master:9092\"],\"host\":\"master\",\"version\":2,\"port\":9092}"), "{b}");
    assert!(run.steps[6].1.contains("ephemeralOwner = 0x1"), "a broker registration is ephemeral");
    let c = out(2);
    assert!(
        c.starts_with("{\"version\":1,\"brokerid\":") && c.contains(",\"timestamp\":\""),
        "{c}"
    );
    let state = out(5);
    let v: serde_json::Value = serde_json::from_str(&state).expect("json");
    assert_eq!(v["controller_epoch"], 1);
    assert_eq!(v["version"], 1);
    assert_eq!(v["leader_epoch"], 0);
    assert!(state.starts_with("{\"controller_epoch\":1,\"leader\":"), "field order: {state}");
    assert_eq!(v["isr"].as_array().map(Vec::len), Some(3));
    assert!(out(6).starts_with("{\"version\":1,\"partitions\":{\"0\":["));
    assert!(run.steps[12].1.contains("\n1\ncZxid"), "controller epoch 1: {}", run.steps[12].1);
}

#[test]
fn topic_errors_print_0_9_wording_and_the_shell_goes_on() {
    let run = run_script(
        2,
        true,
        &script(&format!(
            "kafka-topics.sh --create --zookeeper {ZK} --replication-factor 4 --partitions 1 --topic t4\n\
             kafka-topics.sh --create --zookeeper {ZK} --replication-factor 1 --partitions 1 --topic dup\n\
             kafka-topics.sh --create --zookeeper {ZK} --replication-factor 1 --partitions 1 --topic dup\n\
             kafka-topics.sh --describe --zookeepermaster:2181,slave1:2181,slave2:2181 --topic dup\n\
             kafka-topics.sh --list --zookeeper {ZK}"
        )),
    );
    let s = |i: usize| &run.steps[5 + i];
    assert_eq!(s(0).1, "Error while executing topic command : replication factor: 4 larger than available brokers: 3\n");
    assert_eq!(s(0).2, 1);
    assert_eq!(s(1).1, "Created topic \"dup\".\n");
    assert_eq!(s(2).1, "Error while executing topic command : Topic \"dup\" already exists.\n");
    assert!(s(3).1.starts_with("Exception in thread \"main\" joptsimple.UnrecognizedOptionException: zookeepermaster:2181,slave1:2181,slave2:2181 is not a recognized option\n\tat joptsimple."), "{}", s(3).1);
    assert_eq!(s(4).1, "dup\n");
}

#[test]
fn keyed_records_land_in_the_partition_murmur2_picks() {
    let keys = ["21", "foobar", "abc", "a-little-bit-long-string", "k1", "k2", "k3"];
    let lines: Vec<String> = keys.iter().map(|k| format!("{k}:v-{k}")).collect();
    let body = format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replication-factor 2 --partitions 4 --topic keyed\n\
         kafka-console-producer.sh --broker-list master:9092 --topic keyed --property parse.key=true --property key.separator=: --request-required-acks 1\n\
         {}\n^D\n\
         kafka-console-consumer.sh --zookeeper {ZK} --topic keyed --from-beginning --max-messages {}",
        lines.join("\n"),
        keys.len()
    );
    let run = run_script(4, true, &script(&body));
    let trace: Vec<serde_json::Value> =
        run.trace.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    // Each acknowledged batch names its partition; every key's batch must be murmur2's choice.
    let acked: Vec<(i64, i64)> = trace
        .iter()
        .filter(|e| e["kind"] == kind::KAFKA_APPEND && e["topic"] == "keyed")
        .map(|e| {
            (
                e["partition"].as_i64().unwrap_or(-1),
                e["last"].as_i64().unwrap_or(-1) - e["first"].as_i64().unwrap_or(0) + 1,
            )
        })
        .collect();
    let mut expected = [0i64; 4];
    for k in keys {
        expected[(to_positive(murmur2(k.as_bytes())) % 4) as usize] += 1;
    }
    let mut got = [0i64; 4];
    for (p, n) in acked {
        got[p as usize] += n;
    }
    assert_eq!(got, expected, "records per partition");
    let consumed = &run.steps.last().expect("consumer").1;
    assert!(
        consumed.ends_with(&format!("Processed a total of {} messages\n", keys.len())),
        "{consumed}"
    );
    // The reference vectors, once more, through the crate the broker uses.
    assert_eq!(murmur2(b"21"), -973932308);
    assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
}

#[test]
fn losing_the_controller_moves_it_and_bumps_the_epoch() {
    let run = run_script(
        5,
        true,
        &script(
            "zkCli.sh -server slave1:2181 get /controller\n\
             lab status",
        ),
    );
    let first: serde_json::Value =
        serde_json::from_str(stat_free(&run.steps[5].1)[0]).expect("json");
    let controller = first["brokerid"].as_i64().expect("id");
    let host = ["master", "slave1", "slave2"][controller as usize];
    let other = if host == "slave1" { "slave2" } else { "slave1" };
    let after = run_script(
        5,
        true,
        &script(&format!(
            "ssh {other}\n\
             lab crash {host}\n\
             sleep 15\n\
             zkCli.sh -server {other}:2181 get /controller\n\
             zkCli.sh -server {other}:2181 get /controller_epoch\n\
             zkCli.sh -server {other}:2181 ls /brokers/ids"
        )),
    );
    let now: serde_json::Value =
        serde_json::from_str(stat_free(&after.steps[8].1).first().copied().unwrap_or("null"))
            .unwrap_or_default();
    let new_controller = now["brokerid"].as_i64();
    assert!(new_controller.is_some() && new_controller != Some(controller), "{}", after.output);
    assert!(after.steps[9].1.contains("\n2\ncZxid"), "epoch bumped: {}", after.steps[9].1);
    assert_eq!(stat_free(&after.steps[10].1).join(""), {
        let mut ids: Vec<String> =
            (0..3).filter(|i| *i != controller).map(|i| i.to_string()).collect();
        ids.sort();
        format!("[{}]", ids.join(", "))
    });
}

#[test]
fn segments_roll_by_size_and_retention_deletes_the_oldest() {
    let set = |k: &str, v: &str| -> String {
        ["master", "slave1", "slave2"]
            .iter()
            .map(|h| {
                format!(
                    "lab set {h} /usr/local/kafka_2.10-0.9.0.1/config/server.properties {k}={v}"
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let early: Vec<String> = (0..6).map(|i| format!("early-{i}")).collect();
    let late: Vec<String> = (0..6).map(|i| format!("late-{i}")).collect();
    let body = format!(
        "{}\n{}\n{}\n{START}\n\
         kafka-topics.sh --create --zookeeper {ZK} --replica-assignment 0 --topic roll\n\
         kafka-console-producer.sh --broker-list master:9092 --topic roll --request-required-acks 1 --timeout 0\n\
         {}\n^D\n\
         sleep 40\n\
         kafka-console-producer.sh --broker-list master:9092 --topic roll --request-required-acks 1 --timeout 0\n\
         {}\n^D\n\
         ls /tmp/kafka-logs/roll-0\n\
         sleep 25\n\
         ls /tmp/kafka-logs/roll-0\n\
         kafka-console-consumer.sh --zookeeper {ZK} --topic roll --from-beginning",
        set("log.segment.bytes", "120"),
        set("log.retention.ms", "60000"),
        set("log.retention.check.interval.ms", "1000"),
        early.join("\n"),
        late.join("\n")
    );
    let run = run_script(6, true, &body.replace("\n\n", "\n"));
    // The topic is created as asked (one partition on broker 0), not auto-created by the producer.
    let created = run.output_of(
        &format!("kafka-topics.sh --create --zookeeper {ZK} --replica-assignment 0 --topic roll"),
        0,
    );
    assert!(created.contains("Created topic \"roll\"."), "{created}");
    let listing = |nth: usize| run.output_of("ls /tmp/kafka-logs/roll-0", nth).to_string();
    let before = listing(0);
    let names: Vec<&str> = before.split_whitespace().filter(|n| n.ends_with(".log")).collect();
    assert!(names.len() >= 4, "small segments roll: {before}");
    for n in &names {
        assert_eq!(n.len(), 24, "20-digit base offsets: {n}");
        assert!(n[..20].chars().all(|c| c.is_ascii_digit()));
    }
    assert_eq!(names[0], "00000000000000000000.log");
    let after = listing(1);
    assert!(!after.contains("00000000000000000000.log"), "the oldest segment is gone: {after}");
    let consumed = run.steps.last().map(|s| s.1.clone()).unwrap_or_default();
    assert!(!consumed.contains("early-0"), "{consumed}");
    assert!(consumed.contains("late-5\n"), "{consumed}");
    let trace_has_retention = run.trace.contains("\"kind\":\"kafka.retention\"");
    assert!(trace_has_retention);
}

#[test]
fn the_kafka_walkthrough_is_deterministic() {
    let body = script(&format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic d\n\
         kafka-console-producer.sh --broker-list master:9092 --topic d\nx\ny\n^D\n\
         kafka-console-consumer.sh --zookeeper {ZK} --topic d --from-beginning"
    ));
    let a = run_script(9, true, &body);
    let b = run_script(9, true, &body);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.output, b.output);
}

#[test]
fn a_restarted_broker_keeps_its_records_and_high_watermark() {
    // The broker must not truncate to an in-memory HW of 0 when it comes back: the HW survives in
    // replication-offset-checkpoint, and a LeaderAndIsr naming no live leader is ignored. (Its
    // controlled shutdown cannot move a single replica's leadership: 3 tries, 5 s apart, first.)
    let body = format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replica-assignment 2 --topic solo\n\
         kafka-console-producer.sh --broker-list master:9092 --topic solo --request-required-acks -1\n\
         one\ntwo\n^D\n\
         ssh slave2 kafka-server-stop.sh\n\
         sleep 20\n\
         kafka-topics.sh --describe --zookeeper {ZK} --topic solo\n\
         ssh slave2 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
         sleep 5\n\
         kafka-console-consumer.sh --bootstrap-server slave2:9092 --new-consumer --topic solo --from-beginning --max-messages 2"
    );
    let run = run_script(7, true, &script(&body));
    let describe =
        run.output_of(&format!("kafka-topics.sh --describe --zookeeper {ZK} --topic solo"), 0);
    assert!(describe.contains("Leader: none"), "its only replica stopped: {describe}");
    let consumed = &run.steps.last().expect("consumer").1;
    assert_eq!(consumed, "one\ntwo\nProcessed a total of 2 messages\n", "{}", run.output);
}

#[test]
fn a_controlled_shutdown_moves_leadership_before_the_broker_leaves() {
    let body = format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replica-assignment 0:1:2 --topic cs\n\
         kafka-console-producer.sh --broker-list master:9092 --topic cs --request-required-acks -1\n\
         a\nb\n^D\n\
         kafka-server-stop.sh\n\
         sleep 1\n\
         kafka-topics.sh --describe --zookeeper slave1:2181 --topic cs\n\
         ssh slave1 kafka-console-consumer.sh --bootstrap-server slave1:9092 --new-consumer --topic cs --from-beginning --max-messages 2"
    );
    let run = run_script(8, true, &script(&body));
    let describe =
        run.output_of("kafka-topics.sh --describe --zookeeper slave1:2181 --topic cs", 0);
    assert!(describe.ends_with("Leader: 1\tReplicas: 0,1,2\tIsr: 1,2\n"), "{describe}");
    assert!(
        run.trace.contains("\"reason\":\"controlled shutdown\""),
        "the controller moved the leadership"
    );
    assert!(
        run.output.contains("Controlled shutdown succeeded")
            || run.trace.contains("\"kind\":\"kafka.controlled_shutdown\"")
    );
    assert_eq!(
        run.steps.last().map(|s| s.1.as_str()),
        Some("a\nb\nProcessed a total of 2 messages\n")
    );
}

#[test]
fn preferred_replica_election_gives_the_leadership_back() {
    let body = format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replica-assignment 1:2:0 --topic pr\n\
         ssh slave1 kafka-server-stop.sh\n\
         sleep 2\n\
         ssh slave1 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
         sleep 5\n\
         kafka-topics.sh --describe --zookeeper {ZK} --topic pr\n\
         kafka-preferred-replica-election.sh --zookeeper {ZK}\n\
         sleep 1\n\
         kafka-topics.sh --describe --zookeeper {ZK} --topic pr\n\
         zkCli.sh -server master:2181 ls /admin"
    );
    let run = run_script(10, true, &script(&body));
    let describe = |n| {
        run.output_of(&format!("kafka-topics.sh --describe --zookeeper {ZK} --topic pr"), n)
            .to_string()
    };
    assert!(
        describe(0).contains("Leader: 2\tReplicas: 1,2,0"),
        "broker 1 handed its leadership over: {}",
        describe(0)
    );
    let election =
        run.output_of(&format!("kafka-preferred-replica-election.sh --zookeeper {ZK}"), 0);
    assert!(
        election.ends_with(
            "Successfully started preferred replica election for partitions Set([pr,0])\n"
        ),
        "{election}"
    );
    assert!(
        describe(1).contains("Leader: 1\tReplicas: 1,2,0"),
        "the preferred replica leads again: {}",
        describe(1)
    );
    assert!(
        run.steps.last().is_some_and(|s| s.1.ends_with("[delete_topics]\n")),
        "the admin path is gone after the election"
    );
}

#[test]
fn alter_partitions_adds_partitions_the_controller_brings_online() {
    // A key murmur2 sends to partition 3 of 4, a partition that only exists since --alter.
    let key = (0..100)
        .map(|i| format!("k{i}"))
        .find(|k| to_positive(murmur2(k.as_bytes())) % 4 == 3)
        .expect("a key");
    let body = format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replication-factor 2 --partitions 2 --topic grow\n\
         kafka-topics.sh --alter --zookeeper {ZK} --topic grow --partitions 2\n\
         kafka-topics.sh --alter --zookeeper {ZK} --topic grow --partitions 4\n\
         sleep 2\n\
         kafka-topics.sh --describe --zookeeper {ZK} --topic grow\n\
         kafka-console-producer.sh --broker-list master:9092 --topic grow --property parse.key=true --property key.separator=: --request-required-acks 1\n\
         {key}:to-three\n^D\n\
         kafka-console-consumer.sh --zookeeper {ZK} --topic grow --from-beginning --max-messages 1"
    );
    let run = run_script(5, true, &script(&body));
    let out = |i: usize| run.steps[5 + i].1.as_str();
    assert_eq!(
        out(1),
        "WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected\n\
         Error while executing topic command : The number of partitions for a topic can only be increased\n"
    );
    assert_eq!(
        out(2),
        "WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected\nAdding partitions succeeded!\n"
    );
    let describe: Vec<&str> = out(4).lines().collect();
    assert!(
        describe[0].starts_with("Topic:grow\tPartitionCount:4\tReplicationFactor:2"),
        "{}",
        out(4)
    );
    assert_eq!(describe.len(), 5, "{}", out(4));
    for (p, line) in describe[1..].iter().enumerate() {
        assert!(line.contains(&format!("Partition: {p}\t")), "{line}");
        assert!(!line.contains("Leader: none"), "every partition has a leader: {line}");
        let isr = line.rsplit("Isr: ").next().unwrap_or("");
        assert_eq!(isr.split(',').count(), 2, "{line}");
    }
    let trace: Vec<serde_json::Value> =
        run.trace.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        trace.iter().any(|e| e["kind"] == kind::KAFKA_APPEND
            && e["topic"] == "grow"
            && e["partition"] == 3),
        "the record lands in the new partition"
    );
    assert_eq!(
        run.steps.last().expect("consumer").1,
        "to-three\nProcessed a total of 1 messages\n"
    );
}

#[test]
fn a_background_new_consumer_runs_until_killed_and_sigterm_closes_it_cleanly() {
    let cc = "kafka-console-consumer.sh --new-consumer --bootstrap-server master:9092 --topic bg --from-beginning";
    let body = format!(
        "kafka-topics.sh --create --zookeeper {ZK} --replication-factor 1 --partitions 1 --topic bg\n\
         {cc} &\n\
         sleep 8\n\
         kafka-console-producer.sh --broker-list master:9092 --topic bg --request-required-acks 1\n\
         a\nb\nc\n^D\n\
         sleep 3\n\
         jobs\n\
         kill %3\n\
         sleep 2\n\
         {cc} &\n\
         sleep 8\n\
         kill -9 %3\n\
         sleep 2"
    );
    let run = run_script(7, true, &script(&body));
    // No idle second ends a background consumer: it is still running 11 s later.
    // Jobs 1 and 2 are the brokers START put in the background.
    assert!(
        run.output_of("jobs", 0).contains(&format!("[3]+  Running                 {cc} &\n")),
        "{}",
        run.output
    );
    // SIGTERM: the shutdown hook ends the loop, the count is printed, the JVM exits 143.
    let after_term = format!("{}{}", run.output_of("kill %3", 0), run.output_of("sleep 2", 0));
    assert!(after_term.contains("Processed a total of 3 messages\n"), "{after_term}");
    assert!(after_term.contains(&format!("[3]+  Exit 143                {cc}\n")), "{after_term}");
    // kill -9 is abrupt: no count.
    let after_kill = format!("{}{}", run.output_of("kill -9 %3", 0), run.output_of("sleep 2", 1));
    assert!(!after_kill.contains("Processed a total"), "{after_kill}");
    assert!(after_kill.contains(&format!("[3]+  Killed                  {cc}\n")), "{after_kill}");
    // close(): a synchronous commit of offset 3, then LeaveGroup; only the SIGTERM'd member leaves.
    let trace: Vec<serde_json::Value> =
        run.trace.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let leaves: Vec<usize> = trace
        .iter()
        .enumerate()
        .filter(|(_, e)| e["kind"] == kind::KAFKA_GROUP_LEAVE)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(leaves.len(), 1, "one LeaveGroup");
    let last_commit = trace[..leaves[0]]
        .iter()
        .rev()
        .find(|e| e["kind"] == kind::KAFKA_GROUP_COMMITTED)
        .expect("a commit before leaving");
    assert!(last_commit["offsets"].to_string().contains('3'), "{last_commit}");
}

#[test]
fn topic_config_overrides_reach_the_log_at_creation_and_on_alter() {
    let set = |k: &str, v: &str| -> String {
        ["master", "slave1", "slave2"]
            .iter()
            .map(|h| {
                format!(
                    "lab set {h} /usr/local/kafka_2.10-0.9.0.1/config/server.properties {k}={v}"
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let produce = |topic: &str, prefix: &str| -> String {
        let lines: Vec<String> = (0..6).map(|i| format!("{prefix}-{i}")).collect();
        format!("kafka-console-producer.sh --broker-list master:9092 --topic {topic} --request-required-acks 1 --timeout 0\n{}\n^D", lines.join("\n"))
    };
    let body = format!(
        "{}\n{}\n{START}\n\
         kafka-topics.sh --create --zookeeper {ZK} --replica-assignment 0 --topic short --config retention.ms=60000\n\
         kafka-topics.sh --create --zookeeper {ZK} --replica-assignment 0 --topic long\n\
         {}\n{}\n\
         sleep 40\n\
         {}\n{}\n\
         sleep 25\n\
         ls /tmp/kafka-logs/short-0\n\
         ls /tmp/kafka-logs/long-0\n\
         kafka-topics.sh --alter --zookeeper {ZK} --topic long --config retention.ms=60000\n\
         sleep 3\n\
         ls /tmp/kafka-logs/long-0\n\
         kafka-topics.sh --describe --zookeeper {ZK} --topic long",
        set("log.segment.bytes", "120"),
        set("log.retention.check.interval.ms", "1000"),
        produce("short", "early"),
        produce("long", "early"),
        produce("short", "late"),
        produce("long", "late")
    );
    let run = run_script(6, true, &body);
    let first = "00000000000000000000.log";
    let short = run.output_of("ls /tmp/kafka-logs/short-0", 0);
    let long = run.output_of("ls /tmp/kafka-logs/long-0", 0);
    assert!(long.contains(first), "the broker default (7 days) keeps the old segments: {long}");
    assert!(!short.contains(first), "retention.ms=60000 deletes them: {short}");
    assert_eq!(
        run.output_of(&format!("kafka-topics.sh --alter --zookeeper {ZK} --topic long --config retention.ms=60000"), 0),
        "WARNING: Altering topic configuration from this script has been deprecated and may be removed in future releases.\n         Going forward, please use kafka-configs.sh for this functionality\nUpdated config for topic \"long\".\n"
    );
    let altered = run.output_of("ls /tmp/kafka-logs/long-0", 1);
    assert!(
        !altered.contains(first),
        "the change notification reaches the broker's log: {altered}"
    );
    assert!(run
        .output_of(&format!("kafka-topics.sh --describe --zookeeper {ZK} --topic long"), 0)
        .contains("Configs:retention.ms=60000"));
}
