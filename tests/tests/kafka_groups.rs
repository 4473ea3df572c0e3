//! Consumer groups of the new consumer (Kafka 0.9): the group coordinator, partition assignment,
//! session timeouts, offsets in `__consumer_offsets` surviving a coordinator crash, and
//! `kafka-consumer-groups.sh`.

use lab_tests::{booted_shell, client_world, run_script};
use sim::fault::Fault;
use sim::kafka::clients::ConsumerRecord;
use sim::kafka::consumer::{ConsumerConfig, KafkaConsumer};
use sim::shell::Shell;
use sim::trace::{kind, lock};
use sim::world::{Sim, World};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ZK: &str = "master:2181,slave1:2181,slave2:2181";
const HOSTS: [&str; 3] = ["master", "slave1", "slave2"];

/// Starts the three brokers and waits for them to register.
async fn start_brokers(sh: &mut Shell) {
    for h in HOSTS {
        sh.exec_line(&format!(
            "ssh {h} kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties"
        ))
        .await;
    }
    madsim::time::sleep(Duration::from_secs(3)).await;
    sh.take_output();
}

/// Runs a shell line and returns its output.
async fn run(sh: &mut Shell, line: &str) -> String {
    sh.exec_line(line).await;
    sh.take_output()
}

/// Produces `n` records `v0…` with acks=all.
async fn produce(sh: &mut Shell, topic: &str, prefix: &str, n: usize) {
    sh.exec_line(&format!("kafka-console-producer.sh --broker-list master:9092,slave1:9092 --topic {topic} --request-required-acks -1")).await;
    for i in 0..n {
        sh.exec_line(&format!("{prefix}{i}")).await;
    }
    sh.exec_line("^D").await;
    sh.take_output();
}

/// What a consumer process saw.
#[derive(Default)]
struct Seen {
    assignment: BTreeSet<(String, i32)>,
    generation: i32,
    member: String,
    records: Vec<ConsumerRecord>,
}

/// A consumer process on `client`: subscribes `group` to `topic` and polls until killed (or,
/// with `commit_after`, commits synchronously once it has that many records and stops).
fn spawn_consumer(
    world: &World,
    group: &str,
    topic: &str,
    props: &[(&str, &str)],
) -> (u32, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    let mut p: std::collections::BTreeMap<String, String> =
        [("bootstrap.servers", "master:9092,slave1:9092,slave2:9092"), ("group.id", group)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    for (k, v) in props {
        p.insert(k.to_string(), v.to_string());
    }
    let topic = topic.to_string();
    let pid = world
        .spawn("client", "ConsumerApp", move |ctx| async move {
            let cfg = ConsumerConfig::from_properties(&p).expect("valid config");
            let mut c = KafkaConsumer::new(&ctx, cfg);
            c.subscribe(&[topic.as_str()]);
            loop {
                let batch = c.poll(100).await.expect("poll");
                let mut s = lock(&s);
                s.records.extend(batch);
                s.assignment = c.assignment();
                s.generation = c.generation();
                s.member = c.member_id().to_string();
            }
        })
        .expect("consumer");
    (pid, seen)
}

fn trace_kinds(world: &World, kind: &str) -> Vec<sim::trace::Event> {
    world.tracer().of_kind(kind)
}

#[test]
fn two_consumers_in_one_group_get_one_partition_each() {
    Sim::new(client_world(21)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic t")).await;
        produce(&mut sh, "t", "v", 10).await;
        let (_, a) = spawn_consumer(&world, "g", "t", &[("auto.offset.reset", "earliest")]);
        let (_, b) = spawn_consumer(&world, "g", "t", &[("auto.offset.reset", "earliest")]);
        madsim::time::sleep(Duration::from_secs(20)).await;
        // (The consumers keep running: no lock may be held across an await below.)
        let (a, b) = (std::mem::take(&mut *lock(&a)), std::mem::take(&mut *lock(&b)));
        assert_eq!(a.assignment.len(), 1, "a: {:?}", a.assignment);
        assert_eq!(b.assignment.len(), 1, "b: {:?}", b.assignment);
        assert!(a.assignment.is_disjoint(&b.assignment));
        assert_eq!(a.generation, b.generation, "same generation");
        assert!(a.member.starts_with("consumer-1-") && a.member.len() == "consumer-1-".len() + 36, "{}", a.member);
        // Every record read exactly once by the group.
        let mut values: Vec<String> = a.records.iter().chain(b.records.iter()).map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned()).collect();
        values.sort();
        let mut want: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
        want.sort();
        assert_eq!(values, want);
        // The trace tells the same story: per generation, no partition owned twice.
        let assigned = trace_kinds(&world, kind::KAFKA_GROUP_ASSIGNED);
        let last_gen = assigned.iter().filter_map(|e| e.i64("generation")).max().expect("assignments");
        let mut owned = BTreeSet::new();
        for e in assigned.iter().filter(|e| e.i64("generation") == Some(last_gen)) {
            for p in e.fields["partitions"].as_array().cloned().unwrap_or_default() {
                assert!(owned.insert(p.as_str().unwrap_or_default().to_string()), "{p} owned twice in generation {last_gen}");
            }
        }
        assert_eq!(owned, ["t-0", "t-1"].iter().map(|s| s.to_string()).collect());
        // The offsets topic exists now, with 0.9's layout, and kafka-topics.sh lists it.
        let list = run(&mut sh, &format!("kafka-topics.sh --list --zookeeper {ZK}")).await;
        assert_eq!(list, "__consumer_offsets\nt\n");
        let describe = run(&mut sh, &format!("kafka-topics.sh --describe --zookeeper {ZK} --topic __consumer_offsets")).await;
        let first = describe.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            "Topic:__consumer_offsets\tPartitionCount:50\tReplicationFactor:3\tConfigs:segment.bytes=104857600,cleanup.policy=compact,compression.type=uncompressed"
        );
        assert_eq!(describe.lines().count(), 51);
    });
}

#[test]
fn a_dead_members_partition_moves_after_the_session_timeout() {
    Sim::new(client_world(22)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic t")).await;
        let (pa, a) = spawn_consumer(&world, "g", "t", &[]);
        let (_, b) = spawn_consumer(&world, "g", "t", &[]);
        madsim::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(lock(&a).assignment.len(), 1);
        assert_eq!(lock(&b).assignment.len(), 1);
        let gen_before = lock(&b).generation;
        let killed_at = world.elapsed();
        assert!(world.kill("client", pa), "kill -9 the first consumer");
        // Well within the 30 s session: nothing changes yet.
        madsim::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(lock(&b).assignment.len(), 1, "still one partition before the session times out");
        madsim::time::sleep(Duration::from_secs(20)).await;
        let b = std::mem::take(&mut *lock(&b));
        assert_eq!(b.assignment, [("t".to_string(), 0), ("t".to_string(), 1)].into_iter().collect(), "the survivor owns both");
        assert!(b.generation > gen_before);
        let removed = trace_kinds(&world, kind::KAFKA_GROUP_MEMBER_REMOVED);
        let expiry = removed.iter().find(|e| e.str("reason") == Some("session timeout")).expect("a session expiry");
        let after = Duration::from_micros(expiry.t_us) - killed_at;
        assert!(after >= Duration::from_secs(27) && after <= Duration::from_secs(31), "expired {after:?} after the kill");
    });
}

#[test]
fn committed_offsets_survive_a_coordinator_crash() {
    Sim::new(client_world(23)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic t")).await;
        produce(&mut sh, "t", "v", 10).await;
        // A consumer reads everything, commits and leaves.
        let done = Arc::new(Mutex::new(None));
        let d = done.clone();
        world
            .spawn("client", "ConsumerApp", move |ctx| async move {
                let mut p = std::collections::BTreeMap::new();
                p.insert("bootstrap.servers".to_string(), "master:9092".to_string());
                p.insert("group.id".to_string(), "keep".to_string());
                p.insert("enable.auto.commit".to_string(), "false".to_string());
                p.insert("auto.offset.reset".to_string(), "earliest".to_string());
                let mut c = KafkaConsumer::new(&ctx, ConsumerConfig::from_properties(&p).expect("config"));
                c.subscribe(&["t"]);
                let mut n = 0;
                while n < 10 {
                    n += c.poll(500).await.expect("poll").len();
                }
                c.commit_sync().await.expect("commit");
                let committed = (c.committed("t", 0), c.committed("t", 1));
                c.close().await;
                *lock(&d) = Some(committed);
            })
            .expect("consumer");
        madsim::time::sleep(Duration::from_secs(20)).await;
        let (c0, c1) = lock(&done).expect("the consumer finished");
        assert_eq!(c0.unwrap_or(0) + c1.unwrap_or(0), 10, "{c0:?} {c1:?}");
        // Which broker coordinates "keep"? Crash it.
        let found = trace_kinds(&world, kind::KAFKA_GROUP_COORDINATOR_FOUND);
        let coordinator = found.last().and_then(|e| e.i64("coordinator")).expect("a coordinator") as usize;
        let host = HOSTS[coordinator];
        let other = HOSTS.iter().find(|h| **h != host).copied().unwrap_or("master");
        sh.inject(&Fault::Crash { host: host.into() }).await;
        // Its ZooKeeper session must expire (and, when it also led ZooKeeper, a new quorum form)
        // before the controller moves its partitions.
        madsim::time::sleep(Duration::from_secs(30)).await;
        sh.take_output();
        // The new leader of the group's partition reloaded the offsets from its log.
        let loaded = trace_kinds(&world, kind::KAFKA_GROUP_LOADED);
        assert!(loaded.iter().any(|e| e.host != host && e.i64("offsets").unwrap_or(0) >= 2), "reloaded elsewhere: {loaded:?}");
        let out = run(&mut sh, &format!("kafka-consumer-groups.sh --zookeeper {other}:2181 --list")).await;
        assert!(!out.contains("keep"), "not an old-consumer group: {out}");
        // A new member of the group starts where the old one committed: nothing to read.
        let (_, again) = spawn_consumer(&world, "keep", "t", &[("bootstrap.servers", &format!("{other}:9092")), ("auto.offset.reset", "earliest")]);
        madsim::time::sleep(Duration::from_secs(15)).await;
        let again = std::mem::take(&mut *lock(&again));
        assert_eq!(again.assignment.len(), 2, "{:?}", again.assignment);
        assert!(again.records.is_empty(), "committed offsets were lost: re-read {} records", again.records.len());
        let positions = trace_kinds(&world, kind::KAFKA_CONSUMER_POSITION);
        let last_two: Vec<&str> = positions.iter().rev().take(2).filter_map(|e| e.str("from")).collect();
        assert_eq!(last_two, ["committed", "committed"]);
    });
}

#[test]
fn a_live_group_outlives_its_coordinator() {
    Sim::new(client_world(27)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic t")).await;
        let props = [("auto.offset.reset", "earliest"), ("auto.commit.interval.ms", "1000")];
        let (_, a) = spawn_consumer(&world, "live", "t", &props);
        let (_, b) = spawn_consumer(&world, "live", "t", &props);
        madsim::time::sleep(Duration::from_secs(15)).await;
        produce(&mut sh, "t", "before-", 6).await;
        madsim::time::sleep(Duration::from_secs(5)).await;
        let generation = lock(&a).generation;
        let found = trace_kinds(&world, kind::KAFKA_GROUP_COORDINATOR_FOUND);
        let coordinator = found.iter().rev().find(|e| e.str("group") == Some("live")).and_then(|e| e.i64("coordinator")).expect("a coordinator") as usize;
        let host = HOSTS[coordinator];
        let producer_host = HOSTS.iter().find(|h| **h != host).copied().unwrap_or("master");
        sh.exec_line(&format!("ssh {producer_host}")).await;
        sh.inject(&Fault::Crash { host: host.into() }).await;
        madsim::time::sleep(Duration::from_secs(45)).await;
        sh.take_output();
        sh.exec_line(&format!("kafka-console-producer.sh --broker-list {producer_host}:9092 --topic t --request-required-acks -1")).await;
        for i in 0..6 {
            sh.exec_line(&format!("after-{i}")).await;
        }
        sh.exec_line("^D").await;
        sh.take_output();
        madsim::time::sleep(Duration::from_secs(10)).await;
        let (a, b) = (std::mem::take(&mut *lock(&a)), std::mem::take(&mut *lock(&b)));
        let mut values: Vec<String> = a.records.iter().chain(b.records.iter()).map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned()).collect();
        values.sort();
        let mut want: Vec<String> = (0..6).flat_map(|i| [format!("before-{i}"), format!("after-{i}")]).collect();
        want.sort();
        assert_eq!(values, want, "every record once, across the coordinator's crash");
        // The members find the new coordinator, which reloads the group from __consumer_offsets;
        // depending on how long that takes against their heartbeats, the group goes on in its
        // generation or rebalances once — never more, and never losing or repeating a record.
        assert!(a.generation == b.generation && a.generation <= generation + 1, "generations {} and {} after {generation}", a.generation, b.generation);
        let found = trace_kinds(&world, kind::KAFKA_GROUP_COORDINATOR_FOUND);
        if std::env::var("DEBUG_GROUPS").is_ok() {
            for e in world.tracer().events().iter().filter(|e| e.kind.starts_with("kafka.group") && !e.kind.ends_with("loaded") || e.kind == kind::HOST_CRASH) {
                eprintln!("{} {} {} {:?}", e.t_us, e.host, e.kind, e.fields);
            }
        }
        assert!(found.iter().any(|e| e.str("group") == Some("live") && e.i64("coordinator") != Some(coordinator as i64)), "a new coordinator was found");
    });
}

#[test]
fn consumer_groups_describe_shows_offsets_and_lag() {
    Sim::new(client_world(24)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic t")).await;
        // The consumer commits after 4 records, then stops polling new ones.
        let (_, seen) = spawn_consumer(&world, "lag", "t", &[("auto.offset.reset", "earliest"), ("auto.commit.interval.ms", "1000")]);
        madsim::time::sleep(Duration::from_secs(10)).await;
        produce(&mut sh, "t", "v", 12).await;
        madsim::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(lock(&seen).records.len(), 12);
        let out = run(&mut sh, "kafka-consumer-groups.sh --new-consumer --bootstrap-server master:9092 --list").await;
        assert_eq!(out, "lag\n");
        let out = run(&mut sh, "kafka-consumer-groups.sh --new-consumer --bootstrap-server master:9092 --describe --group lag").await;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "", "{out}");
        assert!(lines[1].starts_with("TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID"), "{out}");
        assert!(lines[1].ends_with("HOST            CLIENT-ID"), "{out}");
        let mut total_end = 0;
        for row in &lines[2..] {
            let f: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(f[0], "t");
            let (cur, end, lag): (i64, i64, i64) = (f[2].parse().expect("offset"), f[3].parse().expect("leo"), f[4].parse().expect("lag"));
            assert_eq!(cur, end, "all consumed and committed: {row}");
            assert_eq!(lag, 0);
            assert!(f[5].starts_with("consumer-1-"));
            assert_eq!(f[6], "/192.168.1.200");
            assert_eq!(f[7], "consumer-1");
            total_end += end;
        }
        assert_eq!(lines.len(), 4, "{out}");
        assert_eq!(total_end, 12);
        let out = run(&mut sh, "kafka-consumer-groups.sh --bootstrap-server master:9092 --describe --group lag --lab-format 0.9").await;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Kafka 0.9 needs --new-consumer together with --bootstrap-server");
        assert_eq!(lines[1], "GROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END OFFSET, LAG, OWNER");
        assert!(lines[2].starts_with("lag, t, 0, ") && lines[2].ends_with(", 0, consumer-1_/192.168.1.200"), "{out}");
        // Errors, in the tool's words.
        let out = run(&mut sh, "kafka-consumer-groups.sh --new-consumer --bootstrap-server master:9092 --describe").await;
        assert_eq!(out, "Missing required argument \"[group]\"\n");
        assert_eq!(sh.last_exit, 1);
        let out = run(&mut sh, "kafka-consumer-groups.sh --new-consumer --bootstrap-server master:9092 --describe --group nosuch").await;
        assert_eq!(out, "Error: Consumer group 'nosuch' does not exist.\n");
        assert_eq!(sh.last_exit, 1);
        let out = run(&mut sh, "kafka-consumer-groups.sh --new-consumer --bootstrap-server master:9092 --describe --group nosuch --lab-format 0.9").await;
        assert_eq!(out, "Consumer group `nosuch` does not exist or is rebalancing.\n");
        assert_eq!(sh.last_exit, 1);
    });
}

/// The committed offset of each partition, from `--describe`'s table.
fn current_offsets(describe: &str) -> Vec<(String, i64, i64)> {
    describe
        .lines()
        .skip(2)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                format!("{}-{}", f.first()?, f.get(1)?),
                f.get(2)?.parse().ok()?,
                f.get(3)?.parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn reset_offsets_rewinds_an_inactive_group_and_refuses_an_active_one() {
    Sim::new(client_world(26)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic t")).await;
        let props = [("auto.offset.reset", "earliest"), ("auto.commit.interval.ms", "1000")];
        let (pid, seen) = spawn_consumer(&world, "replay", "t", &props);
        madsim::time::sleep(Duration::from_secs(10)).await;
        produce(&mut sh, "t", "v", 12).await;
        madsim::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(lock(&seen).records.len(), 12);
        const RESET: &str = "kafka-consumer-groups.sh --bootstrap-server master:9092 --group replay --reset-offsets";
        // A live member: the tool refuses, nothing changes.
        let out = run(&mut sh, &format!("{RESET} --topic t --to-earliest --execute")).await;
        assert_eq!(out, "Error: Assignments can only be reset if the group 'replay' is inactive, but the current state is Stable.\n");
        assert_eq!(sh.last_exit, 1);
        // Kill the member (no LeaveGroup): after the session timeout the group is empty (Dead in 0.9).
        assert!(world.kill("client", pid));
        madsim::time::sleep(Duration::from_secs(40)).await;
        let describe = "kafka-consumer-groups.sh --bootstrap-server master:9092 --describe --group replay";
        // A dry run prints the plan and commits nothing.
        let out = run(&mut sh, &format!("{RESET} --topic t --to-earliest")).await;
        assert!(out.starts_with("WARN: No action will be performed as the --execute option is missing."), "{out}");
        assert!(out.ends_with("\nTOPIC                          PARTITION  NEW-OFFSET\nt                              0          0\nt                              1          0\n"), "{out}");
        assert_eq!(sh.last_exit, 0);
        let out = run(&mut sh, &format!("{RESET} --topic nosuch --to-latest --execute")).await;
        assert_eq!(out, "Error while executing consumer group command Topic nosuch does not exist\n");
        assert_eq!(sh.last_exit, 1);
        // (The group is gone from the coordinator's cache of members, but its offsets stay.)
        let before = run(&mut sh, "kafka-consumer-groups.sh --bootstrap-server master:9092 --reset-offsets --group replay --all-topics --to-current --dry-run").await;
        let committed: Vec<i64> = before.lines().skip(2).filter_map(|l| l.split_whitespace().nth(2)?.parse().ok()).collect();
        assert_eq!(committed.iter().sum::<i64>(), 12, "all 12 records were committed: {before}");
        // Shift back by 2 per partition, for real this time.
        let out = run(&mut sh, &format!("{RESET} --topic t --shift-by -2 --execute")).await;
        let shifted: Vec<i64> = out.lines().skip(2).filter_map(|l| l.split_whitespace().nth(2)?.parse().ok()).collect();
        assert_eq!(shifted.iter().zip(&committed).map(|(s, c)| c - s).collect::<Vec<_>>(), vec![2, 2], "{out}");
        // A new member of the group starts from the reset offsets: it re-reads exactly 4 records.
        let (_, again) = spawn_consumer(&world, "replay", "t", &props);
        madsim::time::sleep(Duration::from_secs(10)).await;
        let reread: Vec<String> = lock(&again).records.iter().map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned()).collect();
        assert_eq!(reread.len(), 4, "{reread:?}");
        let rows = current_offsets(&run(&mut sh, describe).await);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|(_, cur, end)| cur == end), "the new member committed its way to the end: {rows:?}");
        // Errors in the tool's words.
        let out = run(&mut sh, &format!("{RESET} --topic t --to-earliest --to-latest")).await;
        assert_eq!(out, "Option \"[to-earliest]\" can't be used with option\"[to-latest]\"\n");
        assert_eq!(sh.last_exit, 1);
        let out = run(&mut sh, &format!("{RESET} --to-earliest")).await;
        assert_eq!(out, "One of the reset scopes should be defined: --all-topics, --topic.\n");
        let out = run(&mut sh, &format!("{RESET} --topic t --to-offset x")).await;
        assert!(out.starts_with("Exception in thread \"main\" joptsimple.OptionArgumentConversionException: Cannot parse argument 'x' of option ['to-offset']"), "{out}");
    });
}

#[test]
fn the_console_consumer_joins_a_group_and_the_old_groups_show_up_in_zookeeper() {
    let script = format!(
        "ssh master kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
         ssh slave1 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
         ssh slave2 kafka-server-start.sh -daemon $KAFKA_HOME/config/server.properties\n\
         sleep 3\n\
         kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 2 --topic c\n\
         kafka-console-producer.sh --broker-list master:9092 --topic c --request-required-acks 1\n\
         one\ntwo\nthree\n^D\n\
         kafka-console-consumer.sh --new-consumer --bootstrap-server master:9092 --topic c --from-beginning\n\
         echo group.id=mine > /root/consumer.properties\n\
         kafka-console-consumer.sh --new-consumer --bootstrap-server slave1:9092 --topic c --from-beginning --consumer.config /root/consumer.properties --max-messages 2\n\
         kafka-console-consumer.sh --new-consumer --bootstrap-server slave1:9092 --topic c --from-beginning --consumer.config /root/consumer.properties --timeout-ms 2000\n\
         kafka-console-consumer.sh --new-consumer --bootstrap-server slave1:9092 --topic __consumer_offsets --from-beginning --formatter kafka.coordinator.GroupMetadataManager$OffsetsMessageFormatter\n\
         kafka-consumer-groups.sh --zookeeper {ZK} --describe --group nobody --lab-format 0.9\n\
         echo session.timeout.ms=5000 > /root/short.properties\n\
         kafka-console-consumer.sh --new-consumer --bootstrap-server master:9092 --topic c --consumer.config /root/short.properties"
    );
    let run = run_script(25, true, &script);
    let out = |l: &str| {
        run.steps.iter().find(|s| s.0.starts_with(l)).map(|s| s.1.clone()).unwrap_or_default()
    };
    let first = out("kafka-console-consumer.sh --new-consumer --bootstrap-server master:9092");
    let mut got: Vec<&str> = first.lines().collect();
    assert_eq!(got.pop(), Some("Processed a total of 3 messages"), "{}", run.output);
    got.sort();
    assert_eq!(got, ["one", "three", "two"]);
    let joins: Vec<String> = run
        .trace
        .lines()
        .filter(|l| l.contains("\"kind\":\"kafka.group.join\""))
        .map(String::from)
        .collect();
    assert!(joins[0].contains("\"group\":\"console-consumer-"), "a made-up group: {}", joins[0]);
    let second = out("kafka-console-consumer.sh --new-consumer --bootstrap-server slave1:9092 --topic c --from-beginning --consumer.config /root/consumer.properties --max-messages 2");
    assert!(second.ends_with("Processed a total of 2 messages\n"), "{second}");
    assert!(run.trace.contains("\"group\":\"mine\""));
    // The group committed its position on close: the same group goes on from there (with at
    // most one record left).
    let third = out("kafka-console-consumer.sh --new-consumer --bootstrap-server slave1:9092 --topic c --from-beginning --consumer.config /root/consumer.properties --timeout-ms 2000");
    assert!(
        third.contains("ERROR Error processing message, terminating consumer process:"),
        "{third}"
    );
    assert!(third.contains("kafka.consumer.ConsumerTimeoutException"));
    assert!(third.lines().filter(|l| ["one", "two", "three"].contains(l)).count() <= 1, "{third}");
    let offsets = out("kafka-console-consumer.sh --new-consumer --bootstrap-server slave1:9092 --topic __consumer_offsets");
    assert!(
        offsets.lines().any(|l| l.starts_with("[mine,c,") && l.contains("]::[OffsetMetadata[")),
        "{offsets}"
    );
    let zk = out(&format!("kafka-consumer-groups.sh --zookeeper {ZK} --describe --group nobody"));
    assert_eq!(zk, "No topic available for consumer group provided\nGROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END OFFSET, LAG, OWNER\n");
    // group.min.session.timeout.ms is 6000: the broker refuses the join, the tool exits 1.
    let short = run.steps.last().expect("last step");
    assert_eq!(short.2, 1);
    assert!(short.1.ends_with("ERROR Unknown error when running consumer:  (kafka.tools.ConsoleConsumer$)\norg.apache.kafka.common.errors.ApiException: The session timeout is not within an acceptable range.\n"), "{}", short.1);
    assert_eq!(
        run.trace_hash,
        run_script(25, true, &script).trace_hash,
        "the same seed and lines give the same trace"
    );
}

#[test]
fn old_consumer_groups_are_described_from_zookeeper() {
    Sim::new(client_world(26)).run(|world| async move {
        let mut sh = booted_shell(&world).await;
        start_brokers(&mut sh).await;
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 3 --partitions 1 --topic z")).await;
        produce(&mut sh, "z", "v", 5).await;
        // An old consumer's znodes, as ZookeeperConsumerConnector leaves them.
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old ''").await;
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old/owners ''").await;
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old/owners/z ''").await;
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old/owners/z/0 old_client-1-0").await;
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old/offsets ''").await;
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old/offsets/z ''").await;
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old/offsets/z/0 3").await;
        // A second topic it subscribes to but has neither read nor claimed.
        run(&mut sh, &format!("kafka-topics.sh --create --zookeeper {ZK} --replication-factor 1 --partitions 1 --topic z2")).await;
        run(&mut sh, "zkCli.sh -server master:2181 create /consumers/old/owners/z2 ''").await;
        madsim::time::sleep(Duration::from_secs(2)).await;
        let list = run(&mut sh, &format!("kafka-consumer-groups.sh --zookeeper {ZK} --list")).await;
        assert_eq!(list, "old\n");
        let out = run(&mut sh, &format!("kafka-consumer-groups.sh --zookeeper {ZK} --describe --group old --lab-format 0.9")).await;
        assert_eq!(
            out,
            "GROUP, TOPIC, PARTITION, CURRENT OFFSET, LOG END OFFSET, LAG, OWNER\n\
             old, z, 0, 3, 5, 2, old_client-1-0\n\
             Could not fetch offset from zookeeper for group old partition [z2,0] due to missing offset data in zookeeper.\n\
             old, z2, 0, unknown, 0, unknown, none\n"
        );
        let out = run(&mut sh, &format!("kafka-consumer-groups.sh --zookeeper {ZK} --describe --group old")).await;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "TOPIC                          PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG        CONSUMER-ID");
        assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["z", "0", "3", "5", "2", "old_client-1"]);
        assert_eq!(lines[3].split_whitespace().collect::<Vec<_>>(), ["z2", "0", "-", "0", "-", "-"]);
        let out = run(&mut sh, &format!("kafka-consumer-groups.sh --zookeeper {ZK} --delete --group old")).await;
        assert_eq!(out, "Deleted all consumer group information for group old in zookeeper.\n");
        let list = run(&mut sh, &format!("kafka-consumer-groups.sh --zookeeper {ZK} --list")).await;
        assert_eq!(list, "");
    });
}
